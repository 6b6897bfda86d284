"""The one style, captions and files of every figure (:mod:`amidlib.paper.plots` draws the figures).

:func:`set_style`: one fixed seaborn style sized for a paper column (:data:`COLUMN`, :data:`PAGE` wide);
:func:`set_caption` / :func:`caption`: a figure's caption (what it shows, on which data and seeds);
:func:`save`: the png and the pdf, each written atomically with the caption in its metadata, which
:func:`read_caption` reads back; :func:`show`: the figure with its caption under it in a notebook;
:func:`draw_row`: a row's curve in its registered style (:mod:`amidlib.paper.names`).
"""
from __future__ import annotations

import os
from pathlib import Path

import matplotlib

if not os.environ.get("MPLBACKEND") and "ipykernel" not in __import__("sys").modules:
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import seaborn as sns  # noqa: E402

from amidlib.core.files import atomic_path  # noqa: E402
from amidlib.paper import names  # noqa: E402

__all__ = ["COLUMN", "PAGE", "set_style", "set_caption", "caption", "read_caption", "show", "save", "draw_row"]

# Each row's legend label, colour, line style and marker: amidlib.paper.names (legend, colour, linestyle,
# marker, style), read when a figure is drawn, so a method declared later is in it. A run's teacher curve has
# its row's marker filled, its student curve the marker open (names.TEACHER_FILL, names.STUDENT_FILL).
#
# Titles are short (they fit the panel at the 700 px the report shows a figure at); what a figure shows, on
# which data and seeds, is its *caption*: ``fig.caption`` (:func:`caption`), written into the png ("Description")
# and the pdf ("Subject") by :func:`save` and read back by :func:`read_caption`, for a notebook to print under it.


#: figure widths (inches) of a two-column paper: one column, both columns
COLUMN, PAGE = 3.4, 7.0


def set_style() -> None:
    """The one style of every figure: sized for a paper column (:data:`COLUMN`, :data:`PAGE` wide)
    with 7-8 pt text, so a figure placed at its own size reads as the paper's do."""
    sns.set_theme(context="paper", style="whitegrid", palette="colorblind", font_scale=1.0)
    plt.rcParams.update({"figure.dpi": 150, "savefig.dpi": 300, "font.size": 8, "axes.titlesize": 8,
                         "axes.labelsize": 8, "xtick.labelsize": 7, "ytick.labelsize": 7, "legend.fontsize": 7,
                         "figure.titlesize": 8.5, "lines.linewidth": 1.3, "pdf.fonttype": 42, "ps.fonttype": 42})


def set_caption(fig, text: str):
    """Attach ``text`` as the caption of ``fig`` (``fig.caption``; :func:`save` writes it into the files)."""
    fig.caption = " ".join(str(text).split())
    return fig


def caption(fig) -> str:
    """The caption of ``fig`` ("" when it has none)."""
    return getattr(fig, "caption", "") or ""


def read_caption(path: str | os.PathLike) -> str:
    """The caption :func:`save` wrote into ``<path>.png`` ("" for a png without one, e.g. one saved before
    captions were written)."""
    from PIL import Image

    with Image.open(Path(path).with_suffix(".png")) as im:
        return str(im.info.get("Description", ""))


def show(fig) -> None:
    """Show ``fig`` with its caption under it (in a notebook: the figure, then the caption in italics; else the
    caption printed), and close it so the notebook does not draw it a second time at the end of the cell."""
    text = caption(fig)
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display

        if get_ipython() is None:
            raise ImportError
    except ImportError:
        print(text)
    else:
        display(fig)
        if text:
            display(Markdown(f"*{text}*"))
    plt.close(fig)


def _atomic_savefig(fig, path: Path, fmt: str) -> None:
    text = caption(fig)
    meta = {"png": {"Description": text} if text else {},
            # no creation date in the pdf: the same numbers give the same bytes, so a rerun leaves git clean
            "pdf": {"CreationDate": None, **({"Subject": text} if text else {})}}.get(fmt, {})
    with atomic_path(path, suffix=f".{fmt}.tmp") as tmp:
        fig.savefig(tmp, format=fmt, bbox_inches="tight", **({"metadata": meta} if meta else {}))


def save(fig, path: str | os.PathLike) -> Path:
    """Write ``fig`` as ``<path>.png`` and a vector ``<path>.pdf`` beside it, each through a temporary
    file and a rename (never half a file), with its caption (:func:`caption`) in each file's metadata.
    Returns the png's path."""
    path = Path(path).with_suffix(".png")
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_savefig(fig, path, "png")
    _atomic_savefig(fig, path.with_suffix(".pdf"), "pdf")
    return path


def _markevery(n_points: int) -> int:
    """About eight markers on a curve, whatever its number of epochs."""
    return max(1, int(round(n_points / 8)))


def draw_row(ax, x, y, row: str, part: str | None = None, label: str | None = None, band=None, **kw):
    """Draw row ``row``'s curve as every figure does (:func:`amidlib.paper.names.style`: its colour, line
    style and marker; ``part`` "student": marker open, "teacher" or None: filled), with an optional band
    ``(low, high)``; ``label`` replaces the legend label."""
    st = names.style(row, part)
    if label is not None:
        st["label"] = label
    x = np.asarray(x)
    st.update({"markevery": _markevery(len(x)), "ms": 3.5, "lw": 1.3, **kw})
    line, = ax.plot(x, y, **st)
    if band is not None:
        ax.fill_between(x, band[0], band[1], color=st["color"], alpha=0.15, lw=0)
    return line
