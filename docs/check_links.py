"""Every relative link a reader can follow resolves: the README, docs/, the notebooks, their executed copies and
the built site (``make test`` runs it; ``tests/test_links.py``).

    python docs/check_links.py                    # the repository's Markdown, notebooks and executed copies
    python docs/check_links.py docs/_build/html   # and a built site

A link is checked when it is relative (no scheme such as ``https:``, no ``mailto:``): its file must exist, relative
to the file that holds it, and its anchor (``file.md#section``, ``#section``) must be a heading of the target (GitHub's
slugs for Markdown, ``id`` attributes for HTML). Links are read from Markdown (``[text](target)``, ``<img src>``,
``<a href>``), from the Markdown cells and HTML outputs of notebooks, and from HTML pages. Exit status 1 and one line
per dead link, naming the file that holds it.
"""
from __future__ import annotations

import json
import re
import sys
import unicodedata
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
#: what a reader opens in the repository (the built site is checked when named)
SOURCES = ("README.md", "CITATION.cff", "docs/*.md", "notebooks/*.ipynb", "docs/executed/*.ipynb",
           "figures/*.md", "benchmarks/*.md")

_MD_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HTML_LINK = re.compile(r"""\b(?:href|src)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_HTML_ID = re.compile(r"""\b(?:id|name)\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_CODE = re.compile(r"```.*?```|`[^`\n]*`", re.DOTALL)
_FENCE = re.compile(r"```.*?```", re.DOTALL)


def slug(heading: str) -> str:
    """GitHub's anchor of a Markdown heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"`|\*\*?|__?|\[([^\]]*)\]\([^)]*\)", r"\1", heading.strip()).lower()
    text = "".join(ch for ch in text if ch in " -_" or unicodedata.category(ch)[0] in "LN")
    return text.replace(" ", "-")


def _notebook_texts(path: Path) -> tuple[list[str], list[str]]:
    """(markdown, html) texts of a notebook: its Markdown cells, and its outputs' text/html and text/markdown."""
    nb = json.loads(path.read_text())
    markdown, html = [], []
    for cell in nb.get("cells", []):
        source = "".join(cell.get("source", []))
        if cell.get("cell_type") == "markdown":
            markdown.append(source)
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            markdown.append("".join(data.get("text/markdown", [])))
            html.append("".join(data.get("text/html", [])))
    return markdown, html


def _texts(path: Path) -> tuple[list[str], list[str]]:
    """(markdown, html) texts of ``path``: a notebook's cells and outputs, an HTML page, or a Markdown file."""
    if path.suffix == ".ipynb":
        return _notebook_texts(path)
    if path.suffix in (".html", ".htm"):
        return [], [path.read_text(errors="replace")]
    return [path.read_text(errors="replace")], []


def _links(path: Path) -> list[str]:
    """Every link target in ``path`` (Markdown, notebook or HTML)."""
    markdown, html = _texts(path)
    out = []
    for text in markdown:
        text = _CODE.sub("", text)
        out += _MD_LINK.findall(text) + _HTML_LINK.findall(text)
    for text in html:
        out += _HTML_LINK.findall(text)
    return out


def _anchors(path: Path) -> set[str]:
    """The anchors ``path`` defines: heading slugs (Markdown, notebooks' Markdown cells) and HTML ids."""
    markdown, html = _texts(path)
    found: set[str] = set()
    for text in markdown:
        found |= {slug(h) for h in _HEADING.findall(_FENCE.sub("", text))}
        found |= set(_HTML_ID.findall(text))
    for text in html:
        found |= set(_HTML_ID.findall(text))
    return found


def dead_links(files: list[Path], root: Path = ROOT) -> list[str]:
    """One line per relative link in ``files`` whose file or anchor does not exist."""
    problems, anchors = [], {}
    for path in files:
        for target in _links(path):
            parts = urlsplit(target)
            if parts.scheme or parts.netloc or target.startswith(("mailto:", "data:", "javascript:")):
                continue
            where = path if not parts.path else (path.parent / unquote(parts.path))
            name = path.relative_to(root) if path.is_relative_to(root) else path
            if not where.exists():
                problems.append(f"{name}: dead link {target!r} (no {where.resolve()})")
                continue
            if parts.fragment and where.is_file() and where.suffix in (".md", ".ipynb", ".html", ".htm"):
                if where not in anchors:
                    anchors[where] = _anchors(where)
                if not {parts.fragment, unquote(parts.fragment)} & anchors[where]:  # (a browser tries both)
                    problems.append(f"{name}: dead anchor {target!r} (no heading #{parts.fragment} in {where.name})")
    return problems


def repository_files(root: Path = ROOT) -> list[Path]:
    """The files of :data:`SOURCES` in ``root``."""
    return sorted({p for pattern in SOURCES for p in root.glob(pattern)})


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    files = repository_files()
    for site in argv:
        files += sorted(Path(site).resolve().rglob("*.html"))
    problems = dead_links(files)
    print("\n".join(problems) or f"{len(files)} files: every relative link resolves")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
