"""The package's layering, checked from the source (docs/design.md, "Layers").

    core (0) <- data (1) <- repro (2) <- paper (3) <- notebook.py (4)

A module may import its own layer and the layers below it, never one above. Every ``import`` and
``from ... import`` statement counts, function-local ones included (they are imports all the
same, only later), relative imports resolved, plus ``importlib.import_module("amidlib...")`` calls
with a literal name. Special cases:

- ``amidlib.testing`` (generators of miniature data trees) is imported only by tests/ and
  scripts/; inside the package only ``amidlib.testing`` itself may import it, and it may import
  only ``core`` and ``data`` (and itself).
- The stable public paths ``amidlib/__init__.py``, ``amidlib/losses.py``, ``amidlib/metrics.py`` and
  ``amidlib/experiment.py`` are thin aliases: they count as layer 0 for their importers and may
  import only from ``amidlib.core``.
- Every module belongs to a layer: no stray top-level module, and no ``utils.py``.
- No import cycle between amidlib modules, counting every import: module-level ones and those
  hidden inside functions alike (a function-local import back is a circle all the same, only
  deferred: the two modules cannot be understood, tested or moved apart). Only ``if TYPE_CHECKING:``
  blocks do not count (they never run). A cycle may be allowed only in :data:`ALLOWED_CYCLES`, with
  who removes it.

The checker works on any folder holding an ``amidlib`` package, so the tests at the end run it on
a fake tree with known violations too: it can fail.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = "amidlib"

#: top-level subpackage (or module) -> layer
LAYERS = {"core": 0, "data": 1, "repro": 2, "paper": 3, "notebook": 4}
LAYER_NAMES = {v: k for k, v in LAYERS.items()}
TESTING = "testing"
#: the thin alias modules (stable public import paths): layer 0 for importers, import only core
ALIASES = {"amidlib", "amidlib.losses", "amidlib.metrics", "amidlib.experiment"}
#: what amidlib.testing may import (besides itself)
TESTING_MAY_IMPORT = {"core", "data"}


# --------------------------------------------------------------------------- reading the source
@dataclass(frozen=True)
class Import:
    """One imported amidlib module: where (file, line), what (statement text), at import time or not."""

    file: str          # path relative to the root, e.g. "amidlib/core/losses.py"
    line: int
    statement: str     # the statement as written (ast.unparse)
    target: str        # the imported module, e.g. "amidlib.paper.tables"
    module_level: bool  # runs when the importing module is imported (not inside a function)
    type_checking: bool = False  # inside ``if TYPE_CHECKING:``: never runs

    def where(self) -> str:
        return f"{self.file}:{self.line}: `{self.statement}`"


def discover(root: Path) -> dict[str, Path]:
    """Module name -> file, for every .py file of the ``amidlib`` package under ``root``."""
    modules = {}
    for path in sorted((root / PACKAGE).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def _is_package(path: Path) -> bool:
    return path.name == "__init__.py"


def _resolve_relative(module: str, is_package: bool, level: int, name: str | None) -> str:
    """The absolute name of ``from <level dots><name> import ...`` written in ``module``."""
    parts = module.split(".") if is_package else module.split(".")[:-1]
    if level - 1 > len(parts):
        raise ImportError(f"relative import beyond the top-level package in {module}")
    base = parts[: len(parts) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def _targets(node: ast.AST, module: str, is_package: bool, known: set[str]) -> list[str]:
    """The amidlib modules an import statement (or import_module call) loads."""
    out = []
    if isinstance(node, ast.Import):
        out = [alias.name for alias in node.names]
    elif isinstance(node, ast.ImportFrom):
        base = node.module or ""
        if node.level:
            base = _resolve_relative(module, is_package, node.level, node.module)
        for alias in node.names:
            # `from amidlib.core import losses` loads the submodule amidlib.core.losses
            sub = f"{base}.{alias.name}"
            out.append(sub if sub in known else base)
    elif isinstance(node, ast.Call):
        out = [node.args[0].value]
    return [t for t in dict.fromkeys(out) if t == PACKAGE or t.startswith(PACKAGE + ".")]


def _is_import_module_call(node: ast.AST) -> bool:
    if not (isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)):
        return False
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in ("import_module", "__import__")


def _is_type_checking(test: ast.AST) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def imports_of(path: Path, module: str, root: Path, known: set[str]) -> list[Import]:
    """Every amidlib import in one file, with whether it runs at import time."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    rel = path.relative_to(root).as_posix()
    found: list[Import] = []

    def visit(node: ast.AST, module_level: bool, type_checking: bool) -> None:
        if isinstance(node, (ast.Import, ast.ImportFrom)) or _is_import_module_call(node):
            # an import_module call runs when its enclosing code runs; treat it as deferred
            at_import = module_level and not isinstance(node, ast.Call)
            for target in _targets(node, module, _is_package(path), known):
                found.append(Import(rel, node.lineno, ast.unparse(node), target, at_import, type_checking))
        for child in ast.iter_child_nodes(node):
            deferred = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
            unrun = isinstance(node, ast.If) and _is_type_checking(node.test) and child in node.body
            visit(child, module_level and not deferred and not unrun, type_checking or unrun)

    visit(tree, True, False)
    return found


def all_imports(root: Path) -> tuple[dict[str, Path], dict[str, list[Import]]]:
    modules = discover(root)
    known = set(modules)
    return modules, {name: imports_of(path, name, root, known) for name, path in modules.items()}


# --------------------------------------------------------------------------- the rules
def layer_of(module: str) -> str | None:
    """"core", "data", ..., "testing", "alias", or None for a module outside every layer."""
    if module in ALIASES:
        return "alias"
    parts = module.split(".")
    top = parts[1] if len(parts) > 1 else ""
    if top in LAYERS or top == TESTING:
        return top
    return None


def layer_rank(module: str) -> int | None:
    kind = layer_of(module)
    if kind == "alias":
        return 0
    return LAYERS.get(kind)


def layer_violations(root: Path) -> list[str]:
    """Every upward import, misuse of amidlib.testing, alias importing beyond core, stray module."""
    modules, imports = all_imports(root)
    problems = []
    for module, path in modules.items():
        rel = path.relative_to(root).as_posix()
        kind = layer_of(module)
        if kind is None:
            problems.append(f"{rel}: module {module} belongs to no layer (core, data, repro, paper, notebook.py, "
                            f"testing, or one of the aliases {sorted(ALIASES)})")
            continue
        for imp in imports[module]:
            target_kind = layer_of(imp.target)
            if kind == "alias":
                if target_kind != "core":
                    problems.append(f"{imp.where()} — the alias module {module} may import only from amidlib.core, "
                                    f"not {imp.target}")
            elif kind == TESTING:
                if target_kind not in TESTING_MAY_IMPORT | {TESTING, "alias"}:
                    problems.append(f"{imp.where()} — amidlib.testing may import only core and data, not {imp.target}")
            elif target_kind == TESTING:
                problems.append(f"{imp.where()} — {module} imports amidlib.testing, which only tests/ and scripts/ "
                                f"may import")
            elif target_kind is None:
                problems.append(f"{imp.where()} — {module} imports {imp.target}, which belongs to no layer")
            elif layer_rank(imp.target) > LAYERS[kind]:
                problems.append(f"{imp.where()} — upward import: {module} ({kind}, layer {LAYERS[kind]}) imports "
                                f"{imp.target} ({target_kind}, layer {layer_rank(imp.target)})")
    return problems


#: import cycles tolerated for now, each as the sorted set of its modules -> who removes it (empty: none)
ALLOWED_CYCLES: dict[frozenset[str], str] = {}


def _counts(imp: Import, module_level_only: bool) -> bool:
    return not imp.type_checking and (imp.module_level or not module_level_only)


def import_cycles(root: Path, module_level_only: bool = False) -> list[list[str]]:
    """Cycles of the import graph between amidlib modules (each cycle once): every import that can run,
    function-local ones included (``module_level_only``: those that run at import time only)."""
    modules, imports = all_imports(root)
    graph = {m: sorted({i.target for i in imports[m] if _counts(i, module_level_only) and i.target in modules
                        and i.target != m}) for m in modules}
    cycles, seen = [], set()
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    stack: list[str] = []

    def dfs(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in graph[node]:
            if state.get(nxt) == 1:
                cycle = stack[stack.index(nxt):]
                key = frozenset(cycle)
                if key not in seen:
                    seen.add(key)
                    cycles.append(cycle + [nxt])
            elif nxt not in state:
                dfs(nxt)
        stack.pop()
        state[node] = 2

    for m in sorted(graph):
        if m not in state:
            dfs(m)
    return cycles


def cycle_messages(root: Path, module_level_only: bool = False, allowed=None) -> list[str]:
    """One line per cycle not in ``allowed`` (default :data:`ALLOWED_CYCLES`), each edge with the file and line
    of its import (``(in a function)`` when it is function-local)."""
    allowed = ALLOWED_CYCLES if allowed is None else allowed
    modules, imports = all_imports(root)
    out = []
    for cycle in import_cycles(root, module_level_only):
        if frozenset(cycle) in allowed:
            continue
        edges = []
        for a, b in zip(cycle, cycle[1:], strict=False):
            # the module-level import where there is one: it is the edge that runs first
            imp = min((i for i in imports[a] if i.target == b and _counts(i, module_level_only)),
                      key=lambda i: (not i.module_level, i.line))
            edges.append(f"{imp.where()}{'' if imp.module_level else ' (in a function)'} -> {b}")
        out.append("import cycle: " + " ; ".join(edges))
    return out


def utils_modules(root: Path) -> list[str]:
    """Files or packages named utils: a name that says nothing about what is inside."""
    pkg = root / PACKAGE
    found = [p for p in pkg.rglob("utils.py")] + [p for p in pkg.rglob("utils") if p.is_dir()]
    return sorted(p.relative_to(root).as_posix() for p in found)


# --------------------------------------------------------------------------- the real tree
def test_no_upward_import():
    problems = layer_violations(REPO)
    assert not problems, "layering violations (docs/design.md, \"Layers\"):\n" + "\n".join(problems)


def test_no_import_cycle():
    """Not at import time, and not through imports hidden inside functions either."""
    problems = cycle_messages(REPO)
    assert not problems, "\n".join(problems)


def test_allowed_cycles_are_still_cycles():
    """An entry of ALLOWED_CYCLES whose cycle is gone must go too (else it would hide a new cycle)."""
    found = {frozenset(c) for c in import_cycles(REPO)}
    assert set(ALLOWED_CYCLES) <= found, f"fixed, remove from ALLOWED_CYCLES: {set(ALLOWED_CYCLES) - found}"


def test_no_utils_module():
    assert not utils_modules(REPO), f"name modules by what they hold, not 'utils': {utils_modules(REPO)}"


def test_every_layer_exists_and_the_tree_is_read():
    modules = discover(REPO)
    for layer in ("core", "data", "repro", "paper", TESTING):
        assert any(layer_of(m) == layer for m in modules), f"no module in amidlib.{layer}"
    # the checker sees function-local imports too (the dataset modules import their loaders lazily)
    _, imports = all_imports(REPO)
    assert any(not i.module_level for i in imports["amidlib.data.datasets.ucf51"])


def test_public_paths_are_aliases_of_core():
    import amidlib.core.experiment
    import amidlib.core.losses
    import amidlib.core.metrics
    from amidlib import experiment, losses, metrics

    assert losses is amidlib.core.losses
    assert metrics is amidlib.core.metrics
    assert experiment is amidlib.core.experiment
    from amidlib.data import MultimodalArrays, load_embedded  # noqa: F401
    from amidlib.experiment import Result, run  # noqa: F401


# --------------------------------------------------------------------------- the checker can fail
def _write(root: Path, rel: str, text: str = "") -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.fixture
def fake_tree(tmp_path: Path) -> Path:
    """A miniature amidlib with one violation of each kind, at known lines."""
    for pkg in ("amidlib", "amidlib/core", "amidlib/core/methods", "amidlib/data", "amidlib/repro",
                "amidlib/paper", "amidlib/testing"):
        _write(tmp_path, f"{pkg}/__init__.py", '"""doc"""\n')
    _write(tmp_path, "amidlib/core/losses.py", "import torch\n\nfrom amidlib.paper import tables\n")
    _write(tmp_path, "amidlib/core/methods/amid.py",
           '"""doc"""\nfrom ..losses import jsd\nfrom ...repro.runs import Study\n')
    _write(tmp_path, "amidlib/data/arrays.py",
           "from amidlib.core import losses\n\n\ndef f():\n    from amidlib.testing.gen import make\n    return make\n")
    _write(tmp_path, "amidlib/data/cache.py", "import importlib\nmod = importlib.import_module('amidlib.repro.runs')\n")
    _write(tmp_path, "amidlib/repro/runs.py", "from amidlib.data import arrays\n")
    _write(tmp_path, "amidlib/paper/tables.py", "from amidlib.repro.runs import x\nfrom amidlib.core import losses\n")
    _write(tmp_path, "amidlib/testing/gen.py",
           "from amidlib.data.arrays import y\nfrom amidlib.paper.tables import z\n")
    _write(tmp_path, "amidlib/losses.py", "import sys\nfrom amidlib.data import arrays as _module\n")
    _write(tmp_path, "amidlib/metrics.py", "import sys\nfrom amidlib.core import losses as _module\n")
    _write(tmp_path, "amidlib/stray.py", "")
    _write(tmp_path, "amidlib/data/utils.py", "")
    return tmp_path


def test_checker_reports_every_kind_of_violation(fake_tree):
    problems = "\n".join(layer_violations(fake_tree))
    expected = [
        ("amidlib/core/losses.py:3: `from amidlib.paper import tables`", "upward import"),
        ("amidlib/core/methods/amid.py:3: `from ...repro.runs import Study`", "amidlib.repro.runs (repro, layer 2)"),
        ("amidlib/data/arrays.py:5: `from amidlib.testing.gen import make`", "only tests/ and scripts/"),
        ("amidlib/data/cache.py:2: `importlib.import_module('amidlib.repro.runs')`", "upward import"),
        ("amidlib/testing/gen.py:2: `from amidlib.paper.tables import z`", "only core and data"),
        ("amidlib/losses.py:2: `from amidlib.data import arrays as _module`", "only from amidlib.core"),
        ("amidlib/stray.py: module amidlib.stray belongs to no layer", ""),
    ]
    for where, why in expected:
        line = next((p for p in problems.splitlines() if p.startswith(where)), None)
        assert line is not None, f"not reported: {where}\n{problems}"
        assert why in line, line
    # allowed: same layer, downward, relative within core, testing -> data, alias -> core
    for ok in ("amidlib/core/methods/amid.py:2", "amidlib/data/arrays.py:1", "amidlib/repro/runs.py",
               "amidlib/paper/tables.py", "amidlib/testing/gen.py:1", "amidlib/metrics.py"):
        assert not any(p.startswith(ok) for p in problems.splitlines()), f"false report for {ok}:\n{problems}"
    assert utils_modules(fake_tree) == ["amidlib/data/utils.py"]


def test_checker_finds_cycles_at_module_level_and_inside_functions(tmp_path):
    _write(tmp_path, "amidlib/__init__.py")
    _write(tmp_path, "amidlib/core/__init__.py")
    _write(tmp_path, "amidlib/core/a.py", "from amidlib.core import b\n")
    _write(tmp_path, "amidlib/core/b.py", "import os\nfrom amidlib.core.c import f\n")
    _write(tmp_path, "amidlib/core/c.py", "from . import a\n")
    # a lazy import back (as repro/executors.py <-> repro/runs.py were): a cycle hidden inside a function
    _write(tmp_path, "amidlib/core/d.py", "from amidlib.core import e\n")
    _write(tmp_path, "amidlib/core/e.py", "import os\n\n\ndef g():\n    from amidlib.core.d import h\n    return h\n")
    # one under TYPE_CHECKING never runs: not a cycle
    _write(tmp_path, "amidlib/core/f.py", "from amidlib.core import g\n")
    _write(tmp_path, "amidlib/core/g.py", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                          "    from amidlib.core import f\n")
    cycles = sorted(sorted(set(c)) for c in import_cycles(tmp_path))
    assert cycles == [["amidlib.core.a", "amidlib.core.b", "amidlib.core.c"], ["amidlib.core.d", "amidlib.core.e"]]
    message = "\n".join(cycle_messages(tmp_path))
    assert "amidlib/core/b.py:2: `from amidlib.core.c import f` -> amidlib.core.c" in message
    assert "amidlib/core/e.py:5: `from amidlib.core.d import h` (in a function) -> amidlib.core.d" in message
    # at import time only, the hidden one is not seen: the reason the check counts function-local imports
    assert [sorted(set(c)) for c in import_cycles(tmp_path, module_level_only=True)] == [
        ["amidlib.core.a", "amidlib.core.b", "amidlib.core.c"]]
    # an allowed cycle is not reported, the others are
    allowed = {frozenset({"amidlib.core.d", "amidlib.core.e"}): "the helper who fixes it"}
    assert len(cycle_messages(tmp_path, allowed=allowed)) == 1


def test_relative_imports_resolve():
    assert _resolve_relative("amidlib.core.methods.amid", False, 1, "base") == "amidlib.core.methods.base"
    assert _resolve_relative("amidlib.core.methods.amid", False, 2, "losses") == "amidlib.core.losses"
    assert _resolve_relative("amidlib.core.methods", True, 1, "amid") == "amidlib.core.methods.amid"
    assert _resolve_relative("amidlib.core.methods", True, 2, None) == "amidlib.core"
