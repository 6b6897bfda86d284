"""Figures: the paper's Figs 3-5, the Fig 1 diagnostic, the warm-up view and the teaching view.

Every figure function takes tidy frames (so the numbers behind a figure can be written beside it
as a csv) and returns a matplotlib Figure; :func:`save` writes it atomically. One fixed seaborn
style (:func:`set_style`), labelled axes, and titles that say which data the figure shows.

Run labels (``row``) follow data_manifests/paper_results.csv: ``mi_s`` (L_MI_s alone),
``mi_s+mi_a`` (L_MI_s + L_MI_a, i.e. AMID w/o L_adv), ``amid``, ``no_d2``, ``ccl``.
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

__all__ = [
    "set_style", "save", "LABELS", "history_long", "plot_fig1_diagnostic", "plot_fig3", "plot_fig4",
    "plot_fig5", "plot_warmup", "teaching_run", "plot_teaching", "distill_means",
]

#: Legend labels of the runs.
LABELS = {
    "mi_s": r"$L_{MI_s}$ alone",
    "mi_s+mi_a": r"$L_{MI_s} + L_{MI_a}$",
    "amid": "AMID",
    "no_d2": r"AMID w/o $D_2$",
    "no_adv": r"AMID w/o $L_{adv}$",
    "ccl": "CCL",
    "no_warmup": "AMID w/o warm-up",
    "teacher_alone": "teacher alone",
}
PALETTE = {LABELS["mi_s"]: "#d55e00", LABELS["mi_s+mi_a"]: "#0072b2", LABELS["amid"]: "#009e73",
           LABELS["no_d2"]: "#cc79a7", LABELS["no_adv"]: "#0072b2", LABELS["ccl"]: "#e69f00",
           LABELS["no_warmup"]: "#999999", LABELS["teacher_alone"]: "#555555"}


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
    long["label"] = long["row"].map(lambda r: (rename or {}).get(r, LABELS.get(r, r)))
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
                     ax=ax, palette=PALETTE, legend=ax is axes[0])
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
    df = per_class.assign(label=per_class["row"].map(lambda r: LABELS.get(r, r)))
    fig, ax = plt.subplots(figsize=(10, 4))
    sns.barplot(data=df, x="class_name", y="top1", hue="label", errorbar="sd", ax=ax,
                palette=PALETTE, capsize=0.1)
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
    sns.lineplot(data=long, x="epoch", y="value", hue="label", errorbar="sd", ax=ax, palette=PALETTE)
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
    rename = {"mi_s+mi_a": LABELS["no_adv"]}
    long = history_long(hist, ["train_cos_same_class", "test_cos_same_class"], rename)
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.2), sharey=True)
    for ax, split in zip(axes, ["train", "test"]):
        sns.lineplot(data=long[long.variable == f"{split}_cos_same_class"], x="epoch", y="value", hue="label",
                     errorbar="sd", ax=ax, palette=PALETTE, legend=split == "train")
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


# --------------------------------------------------------------------------- teaching
def teaching_run(alpha1: float = 4.0, alpha2: float = 1.6, alpha3: float = 1.0, tau: float = 0.5,
                 use_mi_s: bool = True, use_mi_a: bool = True, use_adv: bool = True, epochs: int = 12,
                 warmup_epochs: int = 3, seed: int = 0, n_samples: int = 600, device: str = "cpu") -> dict:
    """Train a small AMID on :func:`amidlib.data.make_synthetic` and return its test
    representations M, S, A, labels, accuracies and history (seconds on a CPU).

    The same steps as :func:`amidlib.experiment.run`, keeping the trained model so its
    representations can be drawn.
    """
    import torch

    from .config import make_config
    from .data import make_synthetic, stratified_split
    from .methods import METHODS
    from .models import build_nets
    from .training import TensorData, seed_everything, train

    train_ds, test_ds = stratified_split(make_synthetic(n_samples=n_samples, seed=seed), test_size=0.5, seed=seed)
    cfg = make_config(METHODS["amid"].defaults, preset="ci", alpha1=alpha1, alpha2=alpha2, alpha3=alpha3, tau=tau,
                      use_mi_s=use_mi_s, use_mi_a=use_mi_a, use_adv=use_adv, epochs=epochs,
                      warmup_epochs=min(warmup_epochs, epochs - 1), progress=False, device=device)
    torch.set_num_threads(cfg.num_threads or 1)
    train_ds, stats = train_ds.standardized()
    test_ds, _ = test_ds.standardized(stats)
    n_classes = train_ds.n_classes
    tr, te = TensorData(train_ds, device), TensorData(test_ds, device)
    seed_everything(seed)
    nets = build_nets(train_ds.target_dim, train_ds.aux_dim, n_classes, cfg.dim, cfg.hidden, cfg.dropout)
    model = METHODS["amid"](nets, cfg, n_classes, tr.n).to(device)
    history = train(model, tr, te, cfg, seed)
    model.eval()
    with torch.no_grad():
        reps = model.embed(te.x_target, te.x_aux)
    last = history.iloc[-1]
    return {
        "m": reps.m.cpu().numpy(), "s": reps.s.cpu().numpy(), "a": reps.a.cpu().numpy(), "y": te.y.cpu().numpy(),
        "student_top1": float(last["test_student_top1"]), "teacher_top1": float(last["test_teacher_top1"]),
        "cos_same_sample": float(last["test_cos_same_sample"]), "cos_same_class": float(last["test_cos_same_class"]),
        "history": history, "config": dict(cfg),
    }


def plot_teaching(out: dict, title: str = ""):
    """M, S, A of the test set in one 2-D PCA (fit on the three together, unit-normalised rows),
    coloured by class; and the accuracies."""
    from sklearn.decomposition import PCA

    def unit(x):
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)

    reps = {"M (teacher)": unit(out["m"]), "S (student)": unit(out["s"]), "A (auxiliary)": unit(out["a"])}
    pca = PCA(n_components=2, random_state=0).fit(np.concatenate(list(reps.values())))
    fig, axes = plt.subplots(1, 4, figsize=(17, 4.2), gridspec_kw={"width_ratios": [1, 1, 1, 0.8]})
    colors = sns.color_palette("tab10", int(out["y"].max()) + 1)
    lims = None
    for ax, (name, x) in zip(axes[:3], reps.items()):
        z = pca.transform(x)
        ax.scatter(z[:, 0], z[:, 1], c=[colors[c] for c in out["y"]], s=9, alpha=0.75, lw=0)
        ax.set(title=name, xlabel="PC 1", ylabel="PC 2")
        if lims is None:
            allz = pca.transform(np.concatenate(list(reps.values())))
            pad = 0.1
            lims = (allz[:, 0].min() - pad, allz[:, 0].max() + pad), (allz[:, 1].min() - pad, allz[:, 1].max() + pad)
        ax.set_xlim(*lims[0])
        ax.set_ylim(*lims[1])
    bars = pd.DataFrame({"what": ["student top-1", "teacher top-1"],
                         "value": [out["student_top1"], out["teacher_top1"]]})
    sns.barplot(data=bars, x="what", y="value", ax=axes[3], hue="what", palette=["#009e73", "#0072b2"], legend=False)
    for i, v in enumerate(bars["value"]):
        axes[3].text(i, v + 1, f"{v:.1f}", ha="center")
    axes[3].set(ylim=(0, 105), xlabel="", ylabel="test accuracy (%)",
                title=f"cos same sample {out['cos_same_sample']:.2f}\ncos same class {out['cos_same_class']:.2f}")
    fig.suptitle(title or "Synthetic data (make_synthetic): the three representations in one PCA, colour = class")
    fig.tight_layout()
    return fig
