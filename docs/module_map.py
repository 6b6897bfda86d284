"""docs/design.md's module map, written from the source: every module of amidlib with its line count and the first
sentence of its docstring, folder by folder, and the functions over 80 lines. Hand-kept sizes went stale (a module
listed at 453 lines had 517); this map cannot: ``tests/test_sizes.py`` fails when the committed map differs from
what this script writes, when a module passes :data:`MAX_MODULE_LINES`, or when a function passes
:data:`MAX_FUNCTION_LINES` without its reason in design.md.

    python docs/module_map.py           # rewrite the map in docs/design.md
    python docs/module_map.py --check   # exit 1 if it is not current
"""
from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DESIGN = ROOT / "docs" / "design.md"
BEGIN, END = "<!-- module-map:begin (python docs/module_map.py writes it) -->", "<!-- module-map:end -->"
#: a module longer than this is split where it holds two concerns
MAX_MODULE_LINES = 500
#: a function longer than this needs its reason in design.md ("Functions over 80 lines, and why")
MAX_FUNCTION_LINES = 80
DESCRIPTION_CHARS = 84


def modules(package: Path = ROOT / "amidlib") -> list[Path]:
    return sorted(p for p in package.rglob("*.py") if "__pycache__" not in p.parts)


def lines_of(path: Path) -> int:
    return len(path.read_text().splitlines())


def first_sentence(path: Path) -> str:
    """The first sentence of the module's docstring (its first paragraph up to a full stop), clipped."""
    doc = ast.get_docstring(ast.parse(path.read_text())) or ""
    text = " ".join(doc.split("\n\n")[0].split())
    match = re.search(r"^(.*?[.])(\s|$)", text)
    text = (match.group(1) if match else text).rstrip(":")
    return text if len(text) <= DESCRIPTION_CHARS else text[: DESCRIPTION_CHARS - 1].rsplit(" ", 1)[0] + " …"


def long_functions(paths: list[Path]) -> dict[tuple[str, str], int]:
    """``(path relative to the repository, function name) -> lines`` of every function over the limit."""
    out = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = node.end_lineno - node.lineno + 1
                if n > MAX_FUNCTION_LINES:
                    out[(path.relative_to(ROOT).as_posix(), node.name)] = n
    return out


def module_map() -> str:
    """The map: one line per module, indented by folder, ``name (lines)  description``."""
    out = ["```"]
    seen: set[Path] = set()
    for path in modules():
        rel = path.relative_to(ROOT)
        for depth, folder in enumerate(rel.parents[:-1][::-1]):
            if folder not in seen:
                seen.add(folder)
                out.append(f"{'  ' * depth}{folder.name}/")
        name = f"{'  ' * (len(rel.parts) - 1)}{rel.name} ({lines_of(path)})"
        out.append(f"{name:<36} {first_sentence(path)}".rstrip())
    largest = max(modules(), key=lines_of)
    out += ["```", "", f"Over {MAX_MODULE_LINES} lines: "
            + (", ".join(p.relative_to(ROOT).as_posix() for p in modules() if lines_of(p) > MAX_MODULE_LINES)
               or f"none (the largest: `{largest.relative_to(ROOT / 'amidlib').as_posix()}`, {lines_of(largest)})")
            + f". Functions over {MAX_FUNCTION_LINES} lines: "
            + ", ".join(f"`{p}` `{f}` ({n})" for (p, f), n in sorted(long_functions(modules()).items()))
            + " (why: below)."]
    return "\n".join(out)


def written(text: str) -> str:
    """``text`` (design.md) with its map replaced by the current one."""
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[:start] + "\n" + module_map() + "\n" + text[end:]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if docs/design.md's map is not current")
    args = ap.parse_args(argv)
    text = DESIGN.read_text()
    new = written(text)
    if args.check:
        if new != text:
            print("docs/design.md's module map is not current: python docs/module_map.py", file=sys.stderr)
            return 1
        return 0
    if new != text:
        tmp = DESIGN.with_name(".design.md.tmp")
        tmp.write_text(new)
        tmp.replace(DESIGN)
    print(f"{DESIGN}: module map of {len(modules())} modules")
    return 0


if __name__ == "__main__":
    sys.exit(main())
