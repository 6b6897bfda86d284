"""`make docs`: the executed notebooks of a reproduction as a static HTML site, readable without running.

    python docs/build_site.py                       # the last reproduction (newest runs/<profile>/<time>/)
    python docs/build_site.py --run runs/ci/2026…   # a given one
    python docs/build_site.py --out docs/_build/html

Each executed notebook becomes one page (nbconvert, tables and figures inline, the cells tagged
``checks`` left out); ``index.html`` shows Table 1 and Fig 1 of that reproduction (from its
figures folder, recorded in ``command.txt``) and links every page. Every file is written through a
temporary file and a rename.
"""
from __future__ import annotations

import argparse
import base64
import html
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def last_run(runs_dir: Path = ROOT / "runs") -> Path:
    """The newest reproduction folder (``runs/<profile>/<timestamp>/`` holding executed notebooks)."""
    found = [p.parent for p in runs_dir.glob("*/*/timings.csv") if any(p.parent.glob("[0-9][0-9]_*.ipynb"))]
    if not found:
        raise SystemExit(f"no reproduction with executed notebooks under {runs_dir}: run `make reproduce` "
                         f"(or `make reproduce PROFILE=ci`) first, or pass --run FOLDER")
    return max(found, key=lambda p: p.stat().st_mtime)


def figures_dir(run: Path) -> Path:
    """Where that reproduction wrote its tables and figures: its profile's out_dir (command.txt)."""
    profile = run.parent.name
    cmd = run / "command.txt"
    if cmd.is_file():
        for line in cmd.read_text().splitlines():
            if line.startswith("profile="):
                profile = line.split("=", 1)[1].strip()
    return ROOT / "figures" if profile == "cpu" else ROOT / "figures" / profile


def render_notebook(path: Path) -> str:
    """One executed notebook as a full HTML page, cells tagged ``checks`` removed."""
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor
    from traitlets.config import Config

    c = Config()
    c.TagRemovePreprocessor.remove_cell_tags = ("checks",)
    c.TagRemovePreprocessor.enabled = True
    exporter = HTMLExporter(config=c, template_name="lab")
    exporter.register_preprocessor(TagRemovePreprocessor(config=c), enabled=True)
    body, _ = exporter.from_notebook_node(nbformat.read(path, as_version=4))
    return body


def _img(path: Path, alt: str) -> str:
    if not path.is_file():
        return f"<p><em>{html.escape(path.name)} is missing from {html.escape(str(path.parent))}</em></p>"
    data = base64.b64encode(path.read_bytes()).decode()
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}" style="max-width:100%">'


def index_page(run: Path, figs: Path, pages: list[tuple[str, str]]) -> str:
    import mistune

    table1 = figs / "table1.md"
    table_html = mistune.html(table1.read_text()) if table1.is_file() else f"<p><em>no table1.md in {figs}</em></p>"
    links = "\n".join(f'<li><a href="{html.escape(href)}">{html.escape(name)}</a></li>' for name, href in pages)
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>amid-repro: the executed notebooks</title>
<style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.45}}
table{{border-collapse:collapse;font-size:.9rem}}td,th{{border:1px solid #ccc;padding:.2rem .5rem}}</style></head>
<body>
<h1>amid-repro: "Enhanced Multimodal Representation Learning with Cross-modal KD" (AMID), reproduced</h1>
<p>The executed notebooks of the reproduction <code>{html.escape(run.name)}</code> (profile
<code>{html.escape(run.parent.name)}</code>), rendered without their check cells.</p>
<h2 id="table1">Table 1</h2>
{table_html}
<h2 id="fig1">Fig 1: does maximising I(M;S) alone weaken the teacher?</h2>
{_img(figs / "fig1_diagnostic.png", "Fig 1 diagnostic")}
<h2>The notebooks</h2>
<ol>
{links}
</ol>
</body></html>
"""


def build(run: Path, out: Path, figs: Path | None = None) -> Path:
    """Render every executed notebook of ``run`` into ``out`` and write ``out/index.html``; returns it."""
    notebooks = sorted(run.glob("[0-9][0-9]_*.ipynb"))
    if not notebooks:
        raise SystemExit(f"no executed notebooks (NN_name.ipynb) in {run}")
    pages = []
    for i, nb in enumerate(notebooks, 1):
        print(f"rendering notebook {i} of {len(notebooks)}: {nb.name}", flush=True)
        _write(out / f"{nb.stem}.html", render_notebook(nb))
        pages.append((nb.stem, f"{nb.stem}.html"))
    index = out / "index.html"
    _write(index, index_page(run, figs or figures_dir(run), pages))
    return index


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", type=Path, help="a reproduction folder (default: the newest under runs/)")
    p.add_argument("--figures", type=Path, help="its tables and figures (default: its profile's out_dir)")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "_build" / "html")
    args = p.parse_args(argv)
    run = (args.run or last_run()).resolve()
    index = build(run, args.out.resolve(), args.figures)
    print(f"site: {index}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
