"""Facts about the code's size that cannot go stale: docs/design.md's module map is the one docs/module_map.py writes
from the source, no module of amidlib passes 500 lines, and no function passes 80 without its reason in design.md.
(Before, the map was kept by hand: it listed a module at 453 lines that had 517.)"""
from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("amid_module_map", ROOT / "docs" / "module_map.py")
module_map = importlib.util.module_from_spec(_spec)
sys.modules["amid_module_map"] = module_map
_spec.loader.exec_module(module_map)


def test_the_module_map_in_design_md_is_the_one_the_source_gives():
    text = module_map.DESIGN.read_text()
    assert module_map.written(text) == text, "docs/design.md's module map is stale: run python docs/module_map.py"


def test_no_module_passes_500_lines():
    over = {p.relative_to(ROOT).as_posix(): module_map.lines_of(p) for p in module_map.modules()
            if module_map.lines_of(p) > module_map.MAX_MODULE_LINES}
    assert not over, f"split these where they hold two concerns: {over}"


def _reasons() -> set[tuple[str, str]]:
    """The functions design.md gives a reason for: "- `path` `function`: why" under its heading."""
    section = module_map.DESIGN.read_text().split("Functions over 80 lines, and why:", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^- (?:[^`\n]*?)`([\w/.]+\.py)` `(\w+)`", section, re.M))


def test_every_function_over_80_lines_has_its_reason_in_design_md():
    paths = module_map.modules() + sorted((ROOT / "scripts").glob("*.py"))
    long = module_map.long_functions(paths)
    missing = sorted(set(long) - _reasons())
    assert not missing, f"functions over {module_map.MAX_FUNCTION_LINES} lines with no reason in docs/design.md: " \
                        f"{[(p, f, long[(p, f)]) for p, f in missing]}"


def test_the_checks_can_fail(tmp_path, monkeypatch):
    """A module of 501 lines holding a function of 90: the map changes and names both; neither has a reason."""
    big = ROOT / "amidlib" / "planted_module_for_the_size_test.py"  # (never written: modules() is patched)
    body = "def planted():\n" + "    x = 1\n" * 89 + "\n" * 411
    real_lines = module_map.lines_of
    real_read = Path.read_text
    monkeypatch.setattr(module_map, "modules", lambda package=None: [*sorted((ROOT / "amidlib").rglob("*.py")), big])
    monkeypatch.setattr(module_map, "lines_of", lambda p: 501 if p == big else real_lines(p))
    monkeypatch.setattr(Path, "read_text", lambda self, *a, **k: body if self == big else real_read(self, *a, **k))
    text = module_map.DESIGN.read_text()
    new = module_map.written(text)
    assert new != text and "Over 500 lines: amidlib/planted_module_for_the_size_test.py" in new
    assert ("amidlib/planted_module_for_the_size_test.py", "planted") in module_map.long_functions([big])
    assert ("amidlib/planted_module_for_the_size_test.py", "planted") not in _reasons()
