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
from pathlib import Path
from typing import Sequence

import matplotlib

if not os.environ.get("MPLBACKEND") and "ipykernel" not in __import__("sys").modules:
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from amidlib.core.files import atomic_path
from amidlib.paper import names  # noqa: E402

__all__ = [
    "set_style", "save", "history_long", "plot_fig1_diagnostic", "plot_fig3", "plot_fig4",
    "plot_fig5", "plot_warmup", "distill_means", "plot_table1", "plot_table6", "paired_class_differences", "COLUMN", "PAGE",
]

# Each row's legend label and colour: amidlib.paper.names (legend, legends, colour, palette), read when a
# figure is drawn, so a method declared later is in it.


def _palette(labels) -> dict[str, str]:
    """legend label -> colour for the labels shown: the registry's colours; a row it does not name
    gets a colour of the style's cycle that no named row uses."""
    pal = names.palette()
    spare = [c for c in sns.color_palette("colorblind").as_hex() if c not in set(pal.values())] or ["#7f7f7f"]
    out = {}
    for i, label in enumerate(dict.fromkeys(labels)):
        out[label] = pal.get(label) or spare[i % len(spare)]
    return out


#: figure widths (inches) of a two-column paper: one column, both columns
COLUMN, PAGE = 3.4, 7.0


def set_style() -> None:
    """The one style of every figure: sized for a paper column (:data:`COLUMN`, :data:`PAGE` wide)
    with 7-8 pt text, so a figure placed at its own size reads as the paper's do."""
    sns.set_theme(context="paper", style="whitegrid", palette="colorblind", font_scale=1.0)
    plt.rcParams.update({"figure.dpi": 150, "savefig.dpi": 300, "font.size": 8, "axes.titlesize": 8,
                         "axes.labelsize": 8, "xtick.labelsize": 7, "ytick.labelsize": 7, "legend.fontsize": 7,
                         "figure.titlesize": 8.5, "lines.linewidth": 1.3, "pdf.fonttype": 42, "ps.fonttype": 42})


def _atomic_savefig(fig, path: Path, fmt: str) -> None:
    with atomic_path(path, suffix=f".{fmt}.tmp") as tmp:
        # no creation date in the pdf: the same numbers give the same bytes, so a rerun leaves git clean
        fig.savefig(tmp, format=fmt, bbox_inches="tight", **({"metadata": {"CreationDate": None}} if fmt == "pdf" else {}))


def save(fig, path: str | os.PathLike) -> Path:
    """Write ``fig`` as ``<path>.png`` and a vector ``<path>.pdf`` beside it, each through a temporary
    file and a rename (never half a file). Returns the png's path."""
    path = Path(path).with_suffix(".png")
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_savefig(fig, path, "png")
    _atomic_savefig(fig, path.with_suffix(".pdf"), "pdf")
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


_DASHES = ["", (4, 1.5), (1, 1.2), (5, 1.5, 1, 1.5), (2, 2)]


def _lines(ax, long: pd.DataFrame, legend: bool = False) -> None:
    """One line per label (mean over seeds, a band of ± sd), the registry's colour, a dash per label so
    a curve under another still shows."""
    pal = _palette(long["label"])
    for i, (label, grp) in enumerate(long.groupby("label", sort=False)):
        stats = grp.groupby("epoch")["value"].agg(["mean", "std"]).reset_index()
        line, = ax.plot(stats["epoch"], stats["mean"], color=pal[label], label=label, dashes=_DASHES[i % len(_DASHES)],
                        lw=1.4 - 0.15 * i)
        if stats["std"].notna().any():
            ax.fill_between(stats["epoch"], stats["mean"] - stats["std"].fillna(0), stats["mean"] + stats["std"].fillna(0),
                            color=pal[label], alpha=0.15, lw=0)


def plot_fig1_diagnostic(hist: pd.DataFrame, data: str, warmup: int | None = None,
                         teacher_alone: pd.Series | None = None):
    """The weak-teacher shortcut made measurable (paper Fig 1).

    Per epoch: the teacher's test top-1, and the two MI losses L_MI_s, L_MI_a (Eq 8, 9) for
    L_MI_s alone, L_MI_s + L_MI_a and AMID. The bound on I(M;S) is log(N/k) − L_MI_s in spirit, so
    a *lower* loss is a *higher* bound. L_MI_a is logged even where it is not trained.
    ``teacher_alone``: the final test top-1 of the teacher trained alone (one value per seed), drawn
    as the reference line (mean, band ± sd) the claim compares against.
    """
    long = history_long(hist, ["test_teacher_top1", "mi_s_value", "mi_a_value"])
    panels = [("test_teacher_top1", "teacher test top-1 (%)", "the teacher M"),
              ("mi_s_value", r"$L_{MI_s}$", r"$I(M;S)$ bound (lower $L_{MI_s}$: higher)"),
              ("mi_a_value", r"$L_{MI_a}$", r"$I(M;A)$ bound (lower $L_{MI_a}$: higher)")]
    fig, axes = plt.subplots(1, 3, figsize=(PAGE, 2.5))
    for ax, (var, ylabel, title) in zip(axes, panels):
        _lines(ax, long[long.variable == var])
        _warmup_line(ax, warmup)
        ax.set(xlabel="epoch", ylabel=ylabel, title=title)
    if teacher_alone is not None and len(teacher_alone):
        ref = names.colour("teacher_alone") or "0.2"
        m, sd = float(np.mean(teacher_alone)), float(np.std(teacher_alone, ddof=1)) if len(teacher_alone) > 1 else 0.0
        axes[0].axhline(m, color=ref, lw=1, ls=(0, (1, 1)), label=f"{names.legend('teacher_alone')} (final, {m:.1f})")
        if sd:
            axes[0].axhspan(m - sd, m + sd, color=ref, alpha=0.1, lw=0)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), 4), frameon=False, bbox_to_anchor=(0.5, -0.08))
    fig.suptitle(f"Fig 1 diagnostic: does maximising I(M;S) alone weaken the teacher? {data}; mean ± sd over "
                 f"{_seeds_text(hist)}" + ("; grey = warm-up" if warmup else ""))
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def paired_class_differences(per_class: pd.DataFrame, a: str = "amid", b: str = "ccl") -> pd.DataFrame:
    """Per class: the mean over seeds of top-1(a) − top-1(b) (paired by seed) with its Student-t 95 %
    interval (none with one seed)."""
    from scipy import stats as st

    wide = per_class.pivot_table(index=["class_index", "class_name", "seed"], columns="row", values="top1").reset_index()
    wide["diff"] = wide[a] - wide[b]
    out = []
    for (idx, name), grp in wide.groupby(["class_index", "class_name"], sort=True):
        d = grp["diff"].dropna().to_numpy(float)
        n = len(d)
        mean = float(d.mean()) if n else np.nan
        half = float(st.t.ppf(0.975, n - 1) * d.std(ddof=1) / np.sqrt(n)) if n > 1 else np.nan
        out.append({"class_index": idx, "class_name": name, "n": n, "diff": mean, "ci_low": mean - half,
                    "ci_high": mean + half})
    return pd.DataFrame(out)


def plot_fig3(per_class: pd.DataFrame, data: str, references: Sequence[str] | None = None):
    """Per-class top-1 of AMID vs CCL (paper Fig 3) as the paired difference AMID − CCL per class:
    bars from 0 in AMID's colour where AMID is ahead, CCL's where CCL is, with the 95 % interval of
    the per-seed differences; ``per_class`` has row, seed, class_name, top1.

    Reference rows (``references``; default: :func:`amidlib.paper.names.figure_references` of fig3, e.g.
    Hinton KD, not in the paper) that ``per_class`` holds are drawn as markers of their own mean
    difference to CCL per class, in their colour, so AMID's bar can be read against them."""
    diff = paired_class_differences(per_class)
    present = set(per_class["row"])
    refs = [r for r in (names.figure_references("fig3") if references is None else references) if r in present]
    many = len(diff) > 20  # e.g. the 55 digit pairs: a page wide, labels turned
    fig, ax = plt.subplots(figsize=(PAGE if many else COLUMN, 2.6 if many else 2.4))
    colours = [names.colour("amid") if v >= 0 else names.colour("ccl") for v in diff["diff"].fillna(0)]
    x = np.arange(len(diff))
    ax.bar(x, diff["diff"], color=colours, width=0.7, label=f"{names.legend('amid')} − {names.legend('ccl')}")
    if diff["ci_low"].notna().any():
        ax.errorbar(x, diff["diff"], yerr=[diff["diff"] - diff["ci_low"], diff["ci_high"] - diff["diff"]],
                    fmt="none", ecolor="0.2", elinewidth=0.8, capsize=2)
    for ref in refs:  # the same classes in the same order (paired_class_differences sorts by class)
        ref_diff = paired_class_differences(per_class, ref, "ccl")
        ax.plot(x, ref_diff["diff"], ls="none", marker="D", ms=3, mec="white", mew=0.4, color=names.colour(ref),
                label=f"{names.legend(ref)} − {names.legend('ccl')}")
    ax.axhline(0, color="0.2", lw=0.8)
    ax.set_xticks(x, diff["class_name"].astype(str), rotation=90 if many else 0, fontsize=5 if many else None)
    ax.set(xlabel="class (handwritten digit pair)" if many else "class (handwritten digit)",
           ylabel="top-1 − CCL's (points)" if refs else "AMID − CCL, top-1 (points)")
    n = int(diff["n"].min()) if len(diff) else 0
    ahead = int((diff["diff"] > 0).sum())
    ax.set_title(f"Fig 3 analogue: per-class difference AMID − CCL ({ahead} of {len(diff)} classes ahead)\n{data}; "
                 + (f"mean over {n} seeds, 95 % interval" if n > 1 else "1 seed (no interval)"), fontsize=7.5)
    if refs:  # below the axes: the bars and intervals fill the panel
        fig.legend(*ax.get_legend_handles_labels(), loc="lower center", ncol=2, frameon=False, fontsize=6,
                   bbox_to_anchor=(0.5, 0.0))
    fig.tight_layout(rect=(0, 0.07 if refs else 0, 1, 1))
    return fig


def plot_fig4(hist: pd.DataFrame, data: str, warmup: int | None = None):
    """Teacher − student test accuracy gap per epoch, L_MI_s + L_MI_a vs AMID (paper Fig 4)."""
    long = history_long(hist, ["test_gap"])
    fig, ax = plt.subplots(figsize=(COLUMN, 2.6))
    _lines(ax, long)
    _warmup_line(ax, warmup)
    ax.axhline(0, color="0.3", lw=0.8)
    ax.set(xlabel="epoch", ylabel="teacher − student test top-1 (points)")
    ax.legend(title=None)
    ax.set_title(f"Fig 4 analogue: teacher–student accuracy gap (test)\n{data}; mean ± sd over {_seeds_text(hist)}"
                 + ("; grey = warm-up" if warmup else ""), fontsize=7.5)
    fig.tight_layout()
    return fig


def plot_fig5(hist: pd.DataFrame, data: str, warmup: int | None = None):
    """Within-class teacher–student cosine Φ(M_v, S_j), j ≠ v, per epoch, train (left) and test
    (right): AMID vs w/o D2 vs w/o L_adv (paper Fig 5)."""
    long = history_long(hist, ["train_cos_same_class", "test_cos_same_class"])
    fig, axes = plt.subplots(1, 2, figsize=(PAGE, 2.6), sharey=True)
    for ax, split in zip(axes, ["train", "test"]):
        _lines(ax, long[long.variable == f"{split}_cos_same_class"])
        _warmup_line(ax, warmup)
        ax.set(xlabel="epoch", ylabel="mean cosine, same class, other sample", title=f"{split} split")
    axes[0].legend(title=None)
    fig.suptitle(f"Fig 5 analogue: within-class teacher–student cosine. {data}; mean ± sd over {_seeds_text(hist)}"
                 + ("; grey = warm-up" if warmup else ""))
    fig.tight_layout()
    return fig


def plot_warmup(hist: pd.DataFrame, data: str, warmup: int, extra_epochs: int = 5):
    """The warm-up stage (L_cls + L_JSD only) and the first epochs after it.

    Left: AMID's teacher–student cosines (same sample, same class); middle: AMID's test accuracies
    (teacher, student); right, when ``hist`` has them: the same for AMID without warm-up. The grey
    band marks the warm-up epochs and is drawn only on the panels of a run that had them.
    """
    h = hist[hist["epoch"] <= warmup + extra_epochs]
    what = {"train_cos_same_sample": "train, same sample", "train_cos_same_class": "train, same class",
            "test_cos_same_sample": "test, same sample", "test_cos_same_class": "test, same class",
            "test_teacher_top1": "teacher", "test_student_top1": "student"}
    long = history_long(h, list(what))
    long["what"] = long["variable"].map(what)
    rows = [r for r in ("amid", "no_warmup") if r in set(long["row"])]
    fig, axes = plt.subplots(1, 1 + len(rows), figsize=(PAGE, 2.5))
    cos_colours = dict(zip(list(what)[:4], ["#0072b2", "#56b4e9", "#d55e00", "#e69f00"]))
    acc_colours = {"test_teacher_top1": "#0072b2", "test_student_top1": "#009e73"}

    def draw(ax, frame, colours):
        for var, colour in colours.items():
            stats = frame[frame.variable == var].groupby("epoch")["value"].agg(["mean", "std"]).reset_index()
            if stats.empty:
                continue
            ax.plot(stats["epoch"], stats["mean"], color=colour, label=what[var])
            ax.fill_between(stats["epoch"], stats["mean"] - stats["std"].fillna(0), stats["mean"] + stats["std"].fillna(0),
                            color=colour, alpha=0.15, lw=0)

    amid = long[long.row == "amid"]
    draw(axes[0], amid, cos_colours)
    axes[0].set(xlabel="epoch", ylabel="cosine Φ(M, S)", title=f"{names.legend('amid')}: teacher–student alignment")
    for ax, row in zip(axes[1:], rows):
        run = long[long.row == row]
        draw(ax, run, acc_colours)
        warm = int((hist[(hist.row == row) & (hist.seed == hist.seed.min())]["phase"] == "warmup").sum())
        ax.set(xlabel="epoch", ylabel="test top-1 (%)",
               title=f"{names.legend(row)}: test accuracy" + ("" if warm else " (no warm-up)"))
        _warmup_line(ax, warm)
    _warmup_line(axes[0], warmup)
    if len(axes) > 2:
        axes[2].sharey(axes[1])
    for ax in axes:
        ax.legend(title=None, fontsize=6.5)
    fig.suptitle(f"Warm-up ({warmup} epochs of L_cls + L_JSD, grey), then distillation. {data}; mean ± sd over "
                 f"{_seeds_text(hist)}")
    fig.tight_layout()
    return fig


def plot_table1(table1: pd.DataFrame):
    """Table 1 as a picture: per method, the paper's number and ours (mean ± sd over seeds), one
    panel per setting (the main metric); each method's colour from the registry."""
    t = table1[table1["metric"] == table1["metric"].iloc[0]] if "metric" in table1 else table1
    settings = list(dict.fromkeys(t["setting"]))
    fig, axes = plt.subplots(1, len(settings), figsize=(COLUMN if len(settings) == 1 else PAGE, 2.6), squeeze=False)
    for ax, setting in zip(axes[0], settings):
        d = t[t.setting == setting].reset_index(drop=True)
        y = np.arange(len(d))[::-1]
        colours = [names.colour(r) or "0.5" for r in d["row"]]
        ax.barh(y + 0.2, d["mean"], height=0.38, color=colours, xerr=d["std"].fillna(0), error_kw={"lw": 0.8},
                label="ours (mean ± sd)")
        ax.barh(y - 0.2, d["paper"], height=0.38, color=colours, alpha=0.35, hatch="////", edgecolor="0.3", lw=0,
                label="paper")
        ax.set_yticks(y, [names.legend(r) for r in d["row"]])
        lo = np.nanmin(np.r_[d["mean"] - d["std"].fillna(0), d["paper"]])
        ax.set_xlim(0, 100) if lo < 40 else ax.set_xlim(lo - 10, min(100, np.nanmax(np.r_[d["mean"] + d["std"].fillna(0), d["paper"]]) + 3))
        metric = d["metric"].iloc[0] if "metric" in d else "student_top1"
        ax.set(xlabel=f"student {names.METRIC_NAMES.get(metric, metric)} (%)",
               title=f"{setting} (paper: {d['paper_setting'].iloc[0]})" if "paper_setting" in d else setting)
        if lo >= 40:
            ax.text(0.01, -0.2, "x-axis does not start at 0", transform=ax.transAxes, fontsize=6, color="0.4")
    fig.legend(*axes[0][0].get_legend_handles_labels(), loc="lower center", ncol=2, frameon=False, fontsize=6.5,
               bbox_to_anchor=(0.5, -0.04))
    fig.suptitle("Table 1: the paper's number (hatched) and ours (solid, mean ± sd over seeds) per method")
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return fig


#: AMID's weighted terms (Eq 17) in the order the loss-share figure stacks them, with their labels
LOSS_TERMS = {"cls": r"$L_{cls}$", "jsd": r"$L_{JSD}$", "mi_s": r"$\alpha_1 L_{MI_s}$", "mi_a": r"$\alpha_2 L_{MI_a}$",
              "adv": r"$\alpha_3 L_{adv}$"}


def plot_loss_shares(shares: pd.DataFrame):
    """Each AMID arm's objective split into its weighted terms (share of the total over the distillation
    epochs, mean over seeds): one stacked bar per arm (``shares``: columns row, label and share_<term>)."""
    fig, ax = plt.subplots(figsize=(COLUMN, 0.32 * len(shares) + 1.3))
    y = np.arange(len(shares))[::-1]
    left = np.zeros(len(shares))
    colours = plt.get_cmap("tab10").colors
    for k, (term, label) in enumerate(LOSS_TERMS.items()):
        v = 100 * shares.get(f"share_{term}", pd.Series(np.nan, index=shares.index)).fillna(0).to_numpy()
        ax.barh(y, v, left=left, color=colours[k], label=label, height=0.6)
        left += v
    ax.set_yticks(y, shares["label"], fontsize=7)
    ax.set(xlim=(0, 100), xlabel="share of the objective (%), distillation epochs")
    ax.legend(fontsize=6.5, ncol=5, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    fig.tight_layout()
    return fig


def plot_table6(table6: pd.DataFrame):
    """Table 6 (the α sweep) as heatmaps: per α (rows of a panel: its values), ours and the paper's
    top-1 side by side, the number in every cell."""
    alphas = list(dict.fromkeys(table6["setting"]))
    fig, axes = plt.subplots(1, len(alphas), figsize=(PAGE, 2.8), squeeze=False)
    for ax, alpha in zip(axes[0], alphas):
        d = table6[table6.setting == alpha]
        grid = d.set_index("row")[["mean", "paper"]].rename(columns={"mean": "ours", "paper": "paper"})
        # each column on its own scale: the paper and we differ in level; the pattern is what to compare
        scaled = (grid - grid.min()) / (grid.max() - grid.min()).replace(0, 1)
        sns.heatmap(scaled, annot=grid.round(1), fmt="", cmap="viridis", cbar=False, ax=ax, annot_kws={"fontsize": 6.5},
                    linewidths=0.5, linecolor="white")
        sym = {"alpha1": "α1", "alpha2": "α2", "alpha3": "α3"}.get(alpha, alpha)
        ax.set(title=f"{sym} ({len(grid)} values)", xlabel="", ylabel=sym)
        ax.tick_params(axis="y", rotation=0)
    fig.suptitle(f"Table 6: student top-1 (%) over each α (colour: within each column, low to high); ours: mean over "
                 + (f"{int(table6['n'].min())}" if table6['n'].min() == table6['n'].max()
                    else f"{int(table6['n'].min())}-{int(table6['n'].max())}") + " seed(s)")
    fig.tight_layout()
    return fig
