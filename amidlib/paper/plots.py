"""Figures: the paper's Figs 3-5, the Fig 1 diagnostic, the warm-up view and the teaching view.

Every figure function takes tidy frames (so the numbers behind a figure can be written beside it
as a csv) and returns a matplotlib Figure; :func:`save` writes it atomically. One fixed seaborn
style (:func:`set_style`), labelled axes with one unit word ("points" for accuracy differences),
short titles that fit the panel, and a caption (``fig.caption``, :func:`caption`) that says what the
figure shows, on which data and seeds; :func:`save` writes the caption into the png and the pdf
(:func:`read_caption` reads it back, for a notebook to print under the figure). The style, the captions
and the files live in :mod:`amidlib.paper.plot_style`; their names keep their paths here.

Run labels (``row``) follow data_manifests/paper_results.csv (``mi_s``, ``mi_s+mi_a``, ``amid``,
``no_d2``, ``ccl``, …); each row has one legend label, one colour, one line style and one marker in
every figure, all from the registry of names (:mod:`amidlib.paper.names`, :func:`draw_row`):
``mi_s+mi_a`` is "AMID w/o L_adv (L_MI_s + L_MI_a)" in Figs 1, 4 and 5 alike. A run's teacher and
student curves differ in the marker's fill only (teacher filled, student open). Figs 4 and 5 add a
panel of AMID's paired difference to each other arm per epoch, with its 95 % t interval.
"""
from __future__ import annotations

import os
from collections.abc import Sequence

import matplotlib

if not os.environ.get("MPLBACKEND") and "ipykernel" not in __import__("sys").modules:
    matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from amidlib.paper import names  # noqa: E402

# the style, captions and files of every figure live in plot_style; imported here, they keep their paths
from amidlib.paper.plot_style import (  # noqa: E402
    COLUMN,
    PAGE,
    caption,
    draw_row,
    read_caption,
    save,
    set_caption,
    set_style,
    show,
)

__all__ = [
    "set_style", "save", "history_long", "plot_fig1_diagnostic", "plot_fig3", "plot_fig4", "plot_fig5", "plot_warmup",
    "distill_means", "plot_table1", "plot_table6", "paired_class_differences", "COLUMN", "PAGE",
    "paired_epoch_differences", "caption", "read_caption", "set_caption", "draw_row", "show",
]


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
    """The warm-up epochs as a grey band, named in the panel (no legend needs to carry it)."""
    if warmup:
        ax.axvspan(0.5, warmup + 0.5, color="0.85", alpha=0.6, lw=0)
        ax.axvline(warmup + 0.5, color="0.4", lw=1, ls="--")
        ax.text((warmup + 1) / 2, 0.02, "warm-up", transform=ax.get_xaxis_transform(), ha="center", va="bottom",
                fontsize=6, color="0.35")


def _setting_title(setting: str, paper: str) -> str:
    """A Table 1 column's panel title: our data in words and the paper's setting it stands for
    ("UCI digit pairs (…), fou → fac — for the paper's UCF51")."""
    from amidlib.data import datasets as registry

    dataset, _, views = setting.rpartition(":")
    dataset, found = dataset or registry.DEFAULT, registry.registered()
    title = found[dataset].title.split(" (")[0] if dataset in found else dataset
    return f"{title}, {views.replace('→', ' → ')}\n(for the paper's {paper})"


def _seeds_text(hist: pd.DataFrame) -> str:
    n = hist.groupby("row")["seed"].nunique()
    return f"{n.min()} seed{'s' if n.min() > 1 else ''}" if n.min() == n.max() else f"{n.min()}-{n.max()} seeds"


def _lines(ax, long: pd.DataFrame, part: str | None = None) -> None:
    """One curve per row (mean over seeds, a band of ± sd) in the row's style (:func:`draw_row`)."""
    for row, grp in long.groupby("row", sort=False):
        stats = grp.groupby("epoch")["value"].agg(["mean", "std"]).reset_index()
        sd = stats["std"].fillna(0)
        draw_row(ax, stats["epoch"], stats["mean"], row, part, label=grp["label"].iloc[0],
                 band=(stats["mean"] - sd, stats["mean"] + sd) if stats["std"].notna().any() else None)


def paired_epoch_differences(hist: pd.DataFrame, column: str, a: str = "amid", b: str = "mi_s+mi_a",
                             confidence: float = 0.95) -> pd.DataFrame:
    """Per epoch: ``column`` of row ``a`` minus that of row ``b``, paired by seed; the mean over seeds with
    its Student-t interval (:func:`amidlib.paper.stats.paired_effect`; none with one seed). Columns: epoch,
    n, diff, ci_low, ci_high."""
    from amidlib.paper.stats import paired_effect

    wide = hist[hist["row"].isin([a, b])].pivot_table(index=["epoch", "seed"], columns="row", values=column)
    out = []
    for epoch, grp in wide.groupby(level="epoch"):
        grp = grp.dropna()
        e = paired_effect(grp[a], grp[b], confidence) if a in grp and b in grp else paired_effect([], [])
        out.append({"epoch": epoch, "n": e.n, "diff": e.effect, "ci_low": e.ci_low, "ci_high": e.ci_high})
    return pd.DataFrame(out, columns=["epoch", "n", "diff", "ci_low", "ci_high"])


def _difference_panel(ax, hist: pd.DataFrame, column: str, a: str, others: Sequence[str], warmup: int | None) -> None:
    """AMID − each of ``others`` per epoch (paired by seed, 95 % t interval as a band), each in the style of
    the arm compared with, with 0 drawn."""
    for b in others:
        d = paired_epoch_differences(hist, column, a, b)
        if d.empty:
            continue
        band = (d["ci_low"], d["ci_high"]) if d["ci_low"].notna().any() else None
        draw_row(ax, d["epoch"], d["diff"], b, label=f"{names.legend(a)} − {names.legend(b)}", band=band)
    ax.axhline(0, color="0.2", lw=0.8)
    _warmup_line(ax, warmup)


def _figure_legend(fig, axes, ncol: int = 3, y: float = 0.0) -> None:
    """One legend under the figure, of every distinct label the axes draw."""
    seen = {}
    for ax in np.ravel(axes):
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            seen.setdefault(label, handle)
    if seen:
        fig.legend(list(seen.values()), list(seen), loc="lower center", ncol=min(ncol, len(seen)), frameon=False,
                   bbox_to_anchor=(0.5, y))


def _band_text(hist: pd.DataFrame, warmup: int | None) -> str:
    return f"mean ± sd over {_seeds_text(hist)}" + ("; grey band: the warm-up epochs" if warmup else "")


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
    panels = [("test_teacher_top1", "teacher test top-1 (%)", "teacher M", "teacher"),
              ("mi_s_value", r"$L_{MI_s}$ (lower: higher bound)", r"$I(M;S)$ bound", None),
              ("mi_a_value", r"$L_{MI_a}$ (lower: higher bound)", r"$I(M;A)$ bound", None)]
    fig, axes = plt.subplots(1, 3, figsize=(PAGE, 2.5))
    for ax, (var, ylabel, title, part) in zip(axes, panels, strict=True):
        _lines(ax, long[long.variable == var], part)
        _warmup_line(ax, warmup)
        ax.set(xlabel="epoch", ylabel=ylabel, title=title)
    if teacher_alone is not None and len(teacher_alone):
        st = names.style("teacher_alone")
        m, sd = float(np.mean(teacher_alone)), float(np.std(teacher_alone, ddof=1)) if len(teacher_alone) > 1 else 0.0
        axes[0].axhline(m, color=st["color"], lw=1, ls=st["linestyle"], label=f"{st['label']} (final, {m:.1f})")
        if sd:
            axes[0].axhspan(m - sd, m + sd, color=st["color"], alpha=0.1, lw=0)
    _figure_legend(fig, axes, ncol=4)
    fig.suptitle("Fig 1 diagnostic: teacher accuracy and MI bounds")
    fig.tight_layout(rect=(0, 0.08, 1, 1))
    return set_caption(fig, f"Fig 1 diagnostic: does maximising I(M;S) alone weaken the teacher? Per epoch, the "
                       f"teacher's test top-1 (left; flat line: the teacher trained alone, its final top-1, band ± sd) "
                       f"and the MI losses L_MI_s, L_MI_a (middle, right; a lower loss is a higher bound on the MI) "
                       f"for L_MI_s alone, L_MI_s + L_MI_a and AMID. {data}; {_band_text(hist, warmup)}.")


def paired_class_differences(per_class: pd.DataFrame, a: str = "amid", b: str = "ccl") -> pd.DataFrame:
    """Per class: the mean over seeds of top-1(a) − top-1(b) (paired by seed) with its Student-t 95 %
    interval (none with one seed)."""
    from scipy import stats as st

    wide = per_class.pivot_table(index=["class_index", "class_name", "seed"], columns="row",
                                 values="top1").reset_index()
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


def plot_fig3(per_class: pd.DataFrame, data: str, references: Sequence[str] | None = None, class_noun: str = ""):
    """Per-class top-1 of AMID vs CCL (paper Fig 3) as the paired difference AMID − CCL per class:
    bars from 0 in AMID's colour where AMID is ahead, CCL's where CCL is, with the 95 % interval of
    the per-seed differences; ``per_class`` has row, seed, class_name, top1. A legend names the colours.

    Reference rows (``references``; default: :func:`amidlib.paper.names.figure_references` of fig3, e.g.
    Hinton KD, not in the paper) that ``per_class`` holds are drawn as markers of their own mean
    difference to CCL per class, in their colour and marker, so AMID's bar can be read against them.
    ``class_noun``: what a class is, from the dataset (``Dataset.class_noun``), for the x label."""
    from matplotlib.patches import Patch

    diff = paired_class_differences(per_class)
    present = set(per_class["row"])
    refs = [r for r in (names.figure_references("fig3") if references is None else references) if r in present]
    many = len(diff) > 20  # e.g. the 55 digit pairs: a page wide, labels turned
    fig, ax = plt.subplots(figsize=(PAGE if many else COLUMN + 0.6, 2.9 if many else 2.8))
    amid, ccl = names.legend("amid"), names.legend("ccl")
    colours = [names.colour("amid") if v >= 0 else names.colour("ccl") for v in diff["diff"].fillna(0)]
    x = np.arange(len(diff))
    ax.bar(x, diff["diff"], color=colours, width=0.7)
    handles = [Patch(color=names.colour("amid"), label=f"{amid} − {ccl} > 0 ({amid} ahead)"),
               Patch(color=names.colour("ccl"), label=f"{amid} − {ccl} < 0 ({ccl} ahead)")]
    if diff["ci_low"].notna().any():
        ax.errorbar(x, diff["diff"], yerr=[diff["diff"] - diff["ci_low"], diff["ci_high"] - diff["diff"]],
                    fmt="none", ecolor="0.2", elinewidth=0.8, capsize=2)
        handles.append(plt.Line2D([], [], color="0.2", lw=0.8, marker="_", ms=4, label="95 % interval over seeds"))
    for ref in refs:  # the same classes in the same order (paired_class_differences sorts by class)
        ref_diff = paired_class_differences(per_class, ref, "ccl")
        st = names.style(ref)
        line, = ax.plot(x, ref_diff["diff"], ls="none", marker=st["marker"], ms=3.5, mec="white", mew=0.4,
                        color=st["color"], label=f"{st['label']} − {ccl}")
        handles.append(line)
    ax.axhline(0, color="0.2", lw=0.8)
    ax.set_xticks(x, diff["class_name"].astype(str), rotation=90 if many else 0, fontsize=5 if many else None)
    ax.set(xlabel=f"class ({class_noun})" if class_noun else "class", ylabel=f"top-1 − {ccl}'s (points)")
    n = int(diff["n"].min()) if len(diff) else 0
    ahead = int((diff["diff"] > 0).sum())
    ax.set_title(f"Fig 3: per-class {amid} − {ccl}")
    fig.legend(handles=handles, loc="lower center", ncol=2, frameon=False, fontsize=6, bbox_to_anchor=(0.5, 0.0))
    rows = (len(handles) + 1) // 2
    fig.tight_layout(rect=(0, 0.035 * rows + (0.0 if many else 0.02), 1, 1))
    return set_caption(fig, f"Fig 3 analogue: per class, the student top-1 of {amid} minus that of {ccl}, paired by "
                       f"seed ({amid} ahead on {ahead} of {len(diff)} classes); "
                       + (f"bars: mean over {n} seeds, whiskers: 95 % t interval" if n > 1 else "1 seed (no interval)")
                       + (f"; markers: {', '.join(names.legend(r) for r in refs)} − {ccl}, the same way"
                          if refs else "")
                       + f". {data}.")


def _compared(hist: pd.DataFrame, a: str = "amid") -> list[str]:
    return [r for r in dict.fromkeys(hist["row"]) if r != a]


def plot_fig4(hist: pd.DataFrame, data: str, warmup: int | None = None):
    """Teacher − student test accuracy gap per epoch, L_MI_s + L_MI_a vs AMID (paper Fig 4): the curves
    (left) and their paired difference AMID − L_MI_s + L_MI_a per epoch with its 95 % interval (right)."""
    long = history_long(hist, ["test_gap"])
    fig, axes = plt.subplots(1, 2, figsize=(PAGE, 2.7))
    _lines(axes[0], long)
    _warmup_line(axes[0], warmup)
    axes[0].axhline(0, color="0.3", lw=0.8)
    axes[0].set(xlabel="epoch", ylabel="teacher − student top-1 (points)", title="test gap")
    others = _compared(hist)
    _difference_panel(axes[1], hist, "test_gap", "amid", others, warmup)
    axes[1].set(xlabel="epoch", ylabel=f"{names.legend('amid')} − other (points)",
                title=f"paired difference ({names.legend('amid')} − other)")
    _figure_legend(fig, axes, ncol=2)
    fig.tight_layout(rect=(0, 0.12, 1, 1))
    return set_caption(fig, "Fig 4 analogue: the teacher − student test top-1 gap per epoch "
                       f"(left: {_band_text(hist, warmup)}) "
                       f"and, right, {names.legend('amid')}'s gap minus that of "
                       f"{', '.join(names.legend(o) for o in others)}, paired by seed: mean and 95 % t interval per "
                       f"epoch (below 0: {names.legend('amid')}'s gap is smaller, as the paper says). {data}.")


def plot_fig5(hist: pd.DataFrame, data: str, warmup: int | None = None):
    """Within-class teacher–student cosine Φ(M_v, S_j), j ≠ v, per epoch, train (left) and test
    (right): AMID vs w/o D2 vs w/o L_adv (paper Fig 5); below, AMID minus each of the others per epoch,
    paired by seed, with the 95 % interval."""
    long = history_long(hist, ["train_cos_same_class", "test_cos_same_class"])
    fig, axes = plt.subplots(2, 2, figsize=(PAGE, 4.6), sharex=True)
    others = _compared(hist)
    for j, split in enumerate(["train", "test"]):
        col = f"{split}_cos_same_class"
        _lines(axes[0, j], long[long.variable == col])
        _warmup_line(axes[0, j], warmup)
        axes[0, j].set(title=f"{split} split")
        _difference_panel(axes[1, j], hist, col, "amid", others, warmup)
        axes[1, j].set(xlabel="epoch", title=f"{split}: paired difference")
    axes[0, 1].sharey(axes[0, 0])
    axes[1, 1].sharey(axes[1, 0])
    axes[0, 0].set_ylabel("cosine, same class")
    axes[1, 0].set_ylabel(f"{names.legend('amid')} − other (cosine)")
    _figure_legend(fig, axes, ncol=3)
    fig.tight_layout(rect=(0, 0.09, 1, 1))
    return set_caption(fig, f"Fig 5 analogue: within-class teacher–student cosine Φ(M_v, S_j), j ≠ v, per epoch on "
                       f"train (left) and test (right), top: {_band_text(hist, warmup)}; bottom: "
                       f"{names.legend('amid')} minus each other arm, paired by seed, mean and 95 % t interval per "
                       f"epoch (above 0: {names.legend('amid')} is higher, as the paper says). {data}.")


#: warm-up view: the cosines drawn, with their marker (same sample: circle, same class: square) and
#: line alpha (train: faint, test: full); every cosine curve is AMID's colour and line style
_COSINES = {"train_cos_same_sample": ("train, same sample", "o", 0.5),
            "train_cos_same_class": ("train, same class", "s", 0.5),
            "test_cos_same_sample": ("test, same sample", "o", 1.0),
            "test_cos_same_class": ("test, same class", "s", 1.0)}


def plot_warmup(hist: pd.DataFrame, data: str, warmup: int, extra_epochs: int = 5):
    """The warm-up stage (L_cls + L_JSD only) and the first epochs after it.

    Left: AMID's teacher–student cosines (same sample, same class); middle: AMID's test accuracies
    (teacher: filled markers, student: open, in AMID's style); right, when ``hist`` has them: the same for
    AMID without warm-up, in its style. The grey band marks the warm-up epochs and is drawn only on the
    panels of a run that had them.
    """
    h = hist[hist["epoch"] <= warmup + extra_epochs]
    acc = {"test_teacher_top1": "teacher", "test_student_top1": "student"}
    long = history_long(h, [*_COSINES, *acc])
    rows = [r for r in ("amid", "no_warmup") if r in set(long["row"])]
    fig, axes = plt.subplots(1, 1 + len(rows), figsize=(PAGE, 2.9))

    def stats(frame, var):
        return frame[frame.variable == var].groupby("epoch")["value"].agg(["mean", "std"]).reset_index()

    amid = long[long.row == "amid"]
    for var, (label, mk, alpha) in _COSINES.items():
        s = stats(amid, var)
        if s.empty:
            continue
        sd = s["std"].fillna(0)
        draw_row(axes[0], s["epoch"], s["mean"], "amid", label=label, band=(s["mean"] - sd, s["mean"] + sd),
                 marker=mk, alpha=alpha)
    axes[0].set(xlabel="epoch", ylabel="cosine Φ(M, S)", title=f"{names.legend('amid')}: alignment")
    axes[0].legend(title=None, fontsize=6)
    for ax, row in zip(axes[1:], rows, strict=True):
        run = long[long.row == row]
        for var, part in acc.items():
            s = stats(run, var)
            if s.empty:
                continue
            sd = s["std"].fillna(0)
            draw_row(ax, s["epoch"], s["mean"], row, part, label=f"{names.legend(row)}: {part}",
                     band=(s["mean"] - sd, s["mean"] + sd))
        warm = int((hist[(hist.row == row) & (hist.seed == hist.seed.min())]["phase"] == "warmup").sum())
        ax.set(xlabel="epoch", ylabel="test top-1 (%)", title=names.legend(row) + ("" if warm else " (no warm-up)"))
        _warmup_line(ax, warm)
        ax.legend(title=None, fontsize=6)
    _warmup_line(axes[0], warmup)
    if len(axes) > 2:
        axes[2].sharey(axes[1])
    fig.tight_layout()
    last = int(h["epoch"].max()) if len(h) else warmup + extra_epochs
    total = int(hist["epoch"].max()) if len(hist) else last
    return set_caption(fig, f"Warm-up ({warmup} epochs of L_cls + L_JSD, grey band), then distillation: epochs "
                       f"1-{last} of {total}, the warm-up and the {extra_epochs} epochs after it (the whole "
                       f"training is in Fig 4 and Fig 5). Left: "
                       f"{names.legend('amid')}'s teacher–student cosines (circles: same sample, squares: same class; "
                       f"faint: train, full: test); right: test top-1 of the teacher (filled markers) and the student "
                       f"(open markers) of each run, in the run's colour. {data}; mean ± sd over {_seeds_text(hist)}.")


def plot_table1(table1: pd.DataFrame):
    """Table 1 as a picture: per method, the paper's number and ours (mean ± sd over seeds), one
    panel per setting (the main metric), every panel on the same axis range; each method's colour from
    the registry."""
    t = table1[table1["metric"] == table1["metric"].iloc[0]] if "metric" in table1 else table1
    settings = list(dict.fromkeys(t["setting"]))
    orders = [list(t[t.setting == s]["row"]) for s in settings]
    same_rows = all(o == orders[0] for o in orders)
    fig, axes = plt.subplots(1, len(settings), figsize=(COLUMN + 1 if len(settings) == 1 else PAGE, 2.8), squeeze=False,
                             sharey=same_rows)
    sd_all = t["std"].fillna(0)
    lo = float(np.nanmin(np.r_[t["mean"] - sd_all, t["paper"]]))
    hi = float(np.nanmax(np.r_[t["mean"] + sd_all, t["paper"]]))
    xlim = (0, 100) if lo < 40 else (lo - 10, min(100, hi + 3))  # one range for every panel
    for k, (ax, setting) in enumerate(zip(axes[0], settings, strict=True)):
        d = t[t.setting == setting].reset_index(drop=True)
        y = np.arange(len(d))[::-1]
        colours = [names.colour(r) or "0.5" for r in d["row"]]
        ax.barh(y + 0.2, d["mean"], height=0.38, color=colours, xerr=d["std"].fillna(0), error_kw={"lw": 0.8},
                label="ours (solid, mean ± sd)")
        ax.barh(y - 0.2, d["paper"], height=0.38, color=colours, alpha=0.35, hatch="////", edgecolor="0.3", lw=0,
                label="paper (hatched)")
        if k == 0 or not same_rows:
            ax.set_yticks(y, [names.legend(r) for r in d["row"]])
        ax.set_xlim(*xlim)
        metric = d["metric"].iloc[0] if "metric" in d else "student_top1"
        ax.set(xlabel=f"student {names.METRIC_NAMES.get(metric, metric)} (%)",
               title=_setting_title(setting, d["paper_setting"].iloc[0]) if "paper_setting" in d else setting)
    from matplotlib.patches import Patch

    keys = [Patch(facecolor="0.45", label="ours (solid, mean ± sd)"),
            Patch(facecolor="0.45", alpha=0.35, hatch="////", edgecolor="0.3", lw=0, label="paper (hatched)")]
    fig.legend(handles=keys, loc="lower center", ncol=2, frameon=False, fontsize=6.5, bbox_to_anchor=(0.5, 0.0))
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    pairs = dict.fromkeys(zip(t["setting"], t["paper_setting"], strict=True))
    where = "; ".join(f"{s} (paper: {p})" for s, p in pairs) \
        if "paper_setting" in t else "; ".join(settings)
    return set_caption(fig, "Table 1 as a picture: per method, the paper's student top-1 (hatched) and ours (solid, "
                       "mean ± sd over seeds), one panel per setting, every panel on the same axis"
                       + (f" (from {xlim[0]:.0f}, not 0)" if xlim[0] > 0 else "") + f". Settings: {where}.")


#: AMID's weighted terms (Eq 17) in the order the loss-share figure stacks them, with their labels
LOSS_TERMS = {"cls": r"$L_{cls}$", "jsd": r"$L_{JSD}$", "mi_s": r"$\alpha_1 L_{MI_s}$", "mi_a": r"$\alpha_2 L_{MI_a}$",
              "adv": r"$\alpha_3 L_{adv}$"}


def plot_loss_shares(shares: pd.DataFrame):
    """Each AMID arm's objective split into its weighted terms (share of the total over the distillation
    epochs, mean over seeds): one stacked bar per arm (``shares``: columns row, label and share_<term>).
    The terms' colours are not arms' (a grey-free sequential set): they name the terms only."""
    fig, ax = plt.subplots(figsize=(COLUMN + 0.6, 0.32 * len(shares) + 1.3))
    y = np.arange(len(shares))[::-1]
    left = np.zeros(len(shares))
    colours = plt.get_cmap("Set2").colors
    for k, (term, label) in enumerate(LOSS_TERMS.items()):
        v = 100 * shares.get(f"share_{term}", pd.Series(np.nan, index=shares.index)).fillna(0).to_numpy()
        ax.barh(y, v, left=left, color=colours[k], label=label, height=0.6, edgecolor="white", lw=0.4)
        left += v
    ax.set_yticks(y, shares["label"], fontsize=7)
    ax.set(xlim=(0, 100), xlabel="share of the objective (%)")
    ax.legend(fontsize=6.5, ncol=5, loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    fig.tight_layout()
    return set_caption(fig, "What each AMID arm of Tables 4 and 5 optimises: the share of each weighted term of Eq 17 "
                       "(α as configured) in its objective, over the distillation epochs, mean over seeds. A term of "
                       "a few percent barely moves training.")


def _default_alpha(alpha: str) -> float | None:
    from amidlib.core.methods import METHODS

    try:
        return float(dict(METHODS["amid"].defaults)[alpha])
    except (KeyError, TypeError, ValueError):
        return None


def plot_table6(table6: pd.DataFrame):
    """Table 6 (the α sweep) as heatmaps: per α (rows of a panel: its values), ours and the paper's top-1
    side by side, the number in every cell. The colour is each cell's difference (points) to the same
    column's value at the default α (AMID's: 4, 1.6, 1; the column's median where the sweep lacks it), on
    one diverging scale shared by every cell of every panel, with one colour bar: the paper and we differ in
    level, so the pattern over α is what the colours compare."""
    alphas = list(dict.fromkeys(table6["setting"]))
    grids, deltas = [], []
    for alpha in alphas:
        d = table6[table6.setting == alpha]
        grid = d.set_index("row")[["mean", "paper"]].rename(columns={"mean": "ours", "paper": "paper"})
        values = pd.to_numeric(pd.Series(grid.index, index=grid.index), errors="coerce")
        default = _default_alpha(alpha)
        at = values.index[np.isclose(values.to_numpy(float), default)] if default is not None else []
        ref = grid.loc[at[0]] if len(at) else grid.median()
        grids.append(grid)
        deltas.append(grid - ref)
    bound = max([float(np.nanmax(np.abs(dl.to_numpy(float)))) for dl in deltas if dl.size] + [0.1])
    fig, axes = plt.subplots(1, len(alphas), figsize=(PAGE, 3.0), squeeze=False)
    for _k, (ax, alpha, grid, delta) in enumerate(zip(axes[0], alphas, grids, deltas, strict=True)):
        sns.heatmap(delta, annot=grid.round(1), fmt="", cmap="RdBu", center=0, vmin=-bound, vmax=bound, cbar=False,
                    ax=ax, annot_kws={"fontsize": 6.5}, linewidths=0.5, linecolor="white")
        sym = {"alpha1": "α1", "alpha2": "α2", "alpha3": "α3"}.get(alpha, alpha)
        ax.set(title=f"{sym}", xlabel="", ylabel=f"{sym} value")
        ax.tick_params(axis="y", rotation=0)
    fig.tight_layout(rect=(0, 0, 0.9, 1))
    cax = fig.add_axes((0.915, 0.2, 0.015, 0.65))
    fig.colorbar(axes[0][-1].collections[0], cax=cax, label="top-1 − top-1 at default α (points)")
    n = (f"{int(table6['n'].min())}" if table6['n'].min() == table6['n'].max()
         else f"{int(table6['n'].min())}-{int(table6['n'].max())}")
    return set_caption(fig, "Table 6 as heatmaps: the student's top-1 (%) over each α, varied alone (numbers in the "
                       f"cells; ours: mean over {n} seed(s)). Colour: the cell's difference to the same column at the "
                       "default α (4, 1.6, 1), in points, on one scale shared by every column and panel (colour bar).")
