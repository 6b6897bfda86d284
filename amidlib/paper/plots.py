"""Figures: the paper's Figs 3-5, the Fig 1 diagnostic, the warm-up view and the teaching view.

Every figure function takes tidy frames (so the numbers behind a figure can be written beside it
as a csv) and returns a matplotlib Figure; :func:`save` writes it atomically. One fixed seaborn
style (:func:`set_style`), labelled axes, and titles that say which data the figure shows.

Run labels (``row``) follow data_manifests/paper_results.csv (``mi_s``, ``mi_s+mi_a``, ``amid``,
``no_d2``, ``ccl``, …); each row has one legend label and one colour in every figure, both from
the registry of names (:mod:`amidlib.paper.names`): ``mi_s+mi_a`` is "AMID w/o L_adv (L_MI_s +
L_MI_a)" in Figs 1, 4 and 5 alike.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Sequence

import matplotlib

if not os.environ.get("MPLBACKEND") and "ipykernel" not in __import__("sys").modules:
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from amidlib.paper import names  # noqa: E402

__all__ = [
    "set_style", "save", "LABELS", "PALETTE", "history_long", "plot_fig1_diagnostic", "plot_fig3", "plot_fig4",
    "plot_fig5", "plot_warmup", "distill_means",
]

def __getattr__(attr: str):
    """``LABELS`` (row -> legend label) and ``PALETTE`` (legend label -> colour) for every row of
    :mod:`amidlib.paper.names`, read when asked (a method registered later is in them)."""
    if attr == "LABELS":
        return {name: r.legend for name, r in names.rows().items()}
    if attr == "PALETTE":
        return names.palette()
    raise AttributeError(f"module {__name__!r} has no attribute {attr!r}")


def _palette(labels) -> dict[str, str]:
    """legend label -> colour for the labels shown: the registry's colours; a row it does not name
    gets a colour of the style's cycle that no named row uses."""
    pal = names.palette()
    spare = [c for c in sns.color_palette("colorblind").as_hex() if c not in set(pal.values())] or ["#7f7f7f"]
    out = {}
    for i, label in enumerate(dict.fromkeys(labels)):
        out[label] = pal.get(label) or spare[i % len(spare)]
    return out


def set_style() -> None:
    """The one style of every figure."""
    sns.set_theme(context="notebook", style="whitegrid", palette="colorblind", font_scale=1.0)
    plt.rcParams.update({"figure.dpi": 100, "savefig.dpi": 150, "axes.titlesize": 11, "axes.labelsize": 10,
                         "legend.fontsize": 9, "figure.titlesize": 12})


def save(fig, path: str | os.PathLike) -> Path:
    """Write ``fig`` as a png through a temporary file and a rename (never half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".png.tmp")
    os.close(fd)
    try:
        fig.savefig(tmp, format="png", bbox_inches="tight")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def history_long(hist: pd.DataFrame, columns: Sequence[str], rename: dict | None = None) -> pd.DataFrame:
    """Histories (Study.histories) -> long: row, label, seed, epoch, phase, variable, value."""
    keep = ["row", "seed", "epoch", "phase"] + [c for c in columns if c in hist.columns]
    long = hist[keep].melt(id_vars=["row", "seed", "epoch", "phase"], var_name="variable", value_name="value")
    long["label"] = long["row"].map(lambda r: (rename or {}).get(r) or names.legend(r))
    return long


def distill_means(hist: pd.DataFrame, column: str) -> pd.DataFrame:
    """Per run (row, seed): the mean of ``column`` over the distillation epochs (after warm-up)."""
    d = hist[hist["phase"] == "distill"]
    if d.empty:
        d = hist
    return d.groupby(["row", "seed"], sort=False)[column].mean().reset_index()


def _warmup_line(ax, warmup: int | None) -> None:
    if warmup:
        ax.axvspan(0.5, warmup + 0.5, color="0.85", alpha=0.6, lw=0)
        ax.axvline(warmup + 0.5, color="0.4", lw=1, ls="--")


def _seeds_text(hist: pd.DataFrame) -> str:
    n = hist.groupby("row")["seed"].nunique()
    return f"{n.min()} seed{'s' if n.min() > 1 else ''}" if n.min() == n.max() else f"{n.min()}-{n.max()} seeds"


def plot_fig1_diagnostic(hist: pd.DataFrame, data: str, warmup: int | None = None):
    """The weak-teacher shortcut made measurable (paper Fig 1).

    Per epoch: the teacher's test top-1, and the two MI losses L_MI_s, L_MI_a (Eq 8, 9) for
    L_MI_s alone, L_MI_s + L_MI_a and AMID. The bound on I(M;S) is log(N/k) − L_MI_s in spirit, so
    a *lower* loss is a *higher* bound. L_MI_a is logged even where it is not trained.
    """
    long = history_long(hist, ["test_teacher_top1", "mi_s_value", "mi_a_value"])
    panels = [("test_teacher_top1", "teacher test top-1 (%)", "the teacher M"),
              ("mi_s_value", r"$L_{MI_s}$ (lower = higher bound on $I(M;S)$)", r"$I(M;S)$ bound"),
              ("mi_a_value", r"$L_{MI_a}$ (lower = higher bound on $I(M;A)$)", r"$I(M;A)$ bound")]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    for ax, (var, ylabel, title) in zip(axes, panels):
        sns.lineplot(data=long[long.variable == var], x="epoch", y="value", hue="label", errorbar="sd",
                     ax=ax, palette=_palette(long["label"]), legend=ax is axes[0])
        _warmup_line(ax, warmup)
        ax.set(xlabel="epoch", ylabel=ylabel, title=title)
    if axes[0].get_legend():
        axes[0].get_legend().set_title(None)
    fig.suptitle(f"Fig 1 diagnostic: does maximising I(M;S) alone weaken the teacher? {data}; mean ± sd over "
                 f"{_seeds_text(hist)}; grey = warm-up")
    fig.tight_layout()
    return fig


def plot_fig3(per_class: pd.DataFrame, data: str):
    """Per-class top-1 of AMID vs CCL (paper Fig 3): ``per_class`` has row, seed, class_name, top1."""
    df = per_class.assign(label=per_class["row"].map(names.legend))
    fig, ax = plt.subplots(figsize=(10, 4))
    sns.barplot(data=df, x="class_name", y="top1", hue="label", errorbar="sd", ax=ax,
                palette=_palette(df["label"]), saturation=1, capsize=0.1)  # the registry's colours, as in the line plots
    ax.set(xlabel="class (handwritten digit)", ylabel="student test top-1 (%)",
           ylim=(max(0, df["top1"].min() - 15), 100))
    ax.legend(title=None, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncol=2, frameon=False)
    n = df.groupby("row")["seed"].nunique().min()
    ax.set_title(f"Fig 3 analogue: per-class top-1, AMID vs CCL. {data}; mean ± sd over {n} seed(s)")
    fig.tight_layout()
    return fig


def plot_fig4(hist: pd.DataFrame, data: str, warmup: int | None = None):
    """Teacher − student test accuracy gap per epoch, L_MI_s + L_MI_a vs AMID (paper Fig 4)."""
    long = history_long(hist, ["test_gap"])
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    sns.lineplot(data=long, x="epoch", y="value", hue="label", errorbar="sd", ax=ax, palette=_palette(long["label"]))
    _warmup_line(ax, warmup)
    ax.axhline(0, color="0.3", lw=0.8)
    ax.set(xlabel="epoch", ylabel="teacher − student test top-1 (points)")
    ax.legend(title=None)
    ax.set_title(f"Fig 4 analogue: teacher–student accuracy gap (test).\n{data}; mean ± sd over {_seeds_text(hist)}; grey = warm-up")
    fig.tight_layout()
    return fig


def plot_fig5(hist: pd.DataFrame, data: str, warmup: int | None = None):
    """Within-class teacher–student cosine Φ(M_v, S_j), j ≠ v, per epoch, train (left) and test
    (right): AMID vs w/o D2 vs w/o L_adv (paper Fig 5)."""
    long = history_long(hist, ["train_cos_same_class", "test_cos_same_class"])
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.2), sharey=True)
    for ax, split in zip(axes, ["train", "test"]):
        sns.lineplot(data=long[long.variable == f"{split}_cos_same_class"], x="epoch", y="value", hue="label",
                     errorbar="sd", ax=ax, palette=_palette(long["label"]), legend=split == "train")
        _warmup_line(ax, warmup)
        ax.set(xlabel="epoch", ylabel="mean cosine, same class, other sample", title=f"{split} split")
    axes[0].legend(title=None)
    fig.suptitle(f"Fig 5 analogue: within-class teacher–student cosine. {data}; mean ± sd over {_seeds_text(hist)}; grey = warm-up")
    fig.tight_layout()
    return fig


def plot_warmup(hist: pd.DataFrame, data: str, warmup: int, extra_epochs: int = 5):
    """The warm-up stage (L_cls + L_JSD only) and the first epochs after it.

    Left: AMID's teacher–student cosines (same sample, same class); right: test accuracies of
    AMID (solid) and, when ``hist`` has them, of AMID without warm-up (dashed).
    """
    h = hist[hist["epoch"] <= warmup + extra_epochs]
    long = history_long(h, ["train_cos_same_sample", "train_cos_same_class", "test_cos_same_sample",
                            "test_cos_same_class", "test_student_top1", "test_teacher_top1"])
    names = {"train_cos_same_sample": "train, same sample", "train_cos_same_class": "train, same class",
             "test_cos_same_sample": "test, same sample", "test_cos_same_class": "test, same class",
             "test_student_top1": "student", "test_teacher_top1": "teacher"}
    long["what"] = long["variable"].map(names)
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.2))
    cos = long[long.variable.str.contains("cos") & (long.row == "amid")]
    acc = long[long.variable.str.contains("top1")].rename(columns={"label": "run"})
    sns.lineplot(data=cos, x="epoch", y="value", hue="what", errorbar="sd", ax=axes[0])
    sns.lineplot(data=acc, x="epoch", y="value", hue="what", style="run", errorbar="sd", ax=axes[1],
                 palette={"student": "#009e73", "teacher": "#0072b2"})
    for ax in axes:
        _warmup_line(ax, warmup)
        ax.legend(title=None, fontsize=8)
    axes[0].set(xlabel="epoch", ylabel="cosine Φ(M, S)", title="AMID: teacher–student alignment")
    axes[1].set(xlabel="epoch", ylabel="test top-1 (%)", title="test accuracies")
    fig.suptitle(f"Warm-up ({warmup} epochs of L_cls + L_JSD, grey), then distillation. {data}; mean ± sd over {_seeds_text(hist)}")
    fig.tight_layout()
    return fig
