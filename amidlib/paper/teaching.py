"""The teaching view (notebook 07): a small AMID on synthetic data in about half a second on a CPU.

:func:`plot_architecture` draws the paper's Fig 2 (views, extractors, S, M, A, the shared
classifier, the loss terms, the discriminators D1, D2); :func:`teaching_run` trains one small AMID;
:func:`plot_teaching` draws its representations M, S, A in one 2-D PCA with a class legend and its
per-epoch curves; :func:`train_seeds` trains one setting over several seeds and summarises it with
95 % intervals; :func:`seed_effect` repeats settings over seeds (:data:`TABLE4_ROWS`: Table 4's
ablation rows); :func:`compare_settings` turns that into paired effects and verdicts;
:func:`plot_seed_points` draws per-seed results as points; :func:`plot_runs` overlays per-epoch
curves; :func:`runs_table` puts trained settings side by side; :func:`teaching_widget` is the
instructor's panel (sliders, switches, seeds, epochs, *train*, the last settings pinned).

The figures are made outside pyplot's registry: :func:`show` displays one (:func:`_figure` says why).

The data (:func:`amidlib.data.arrays.make_synthetic`): six classes in three pairs
(:data:`CLASS_PAIRS`) that share a mean in the target view and differ in the auxiliary view, so the
student S (target only) confuses each pair and the teacher M (target + auxiliary) need not.
"""
from __future__ import annotations

import io
import time
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from sklearn.decomposition import PCA

from amidlib.core.config import make_config
from amidlib.core.experiment import run
from amidlib.core.methods import METHODS
from amidlib.core.training import TensorData
from amidlib.data.arrays import make_synthetic, stratified_split
from amidlib.paper import names, stats

__all__ = ["CLASS_PAIRS", "SETTINGS", "TABLE4_ROWS", "ARCHITECTURE", "ARCHITECTURE_EDGES", "plot_architecture", "show",
           "teaching_run", "pair_confusion", "plot_teaching", "plot_runs", "runs_table", "train_seeds", "mean_interval",
           "seed_effect", "table4_settings", "compare_settings", "plot_seed_points", "teaching_widget", "settings_text",
           "seeds_text"]

#: make_synthetic's classes (2g, 2g+1) share a target-view mean: the pairs the student confuses
CLASS_PAIRS = ((0, 1), (2, 3), (4, 5))
#: the settings the panel exposes (Eq 17's weights, Eq 7's temperature, a switch per term) and their defaults
SETTINGS = {"alpha1": 4.0, "alpha2": 1.6, "alpha3": 1.0, "tau": 0.5,
            "use_mi_s": True, "use_mi_a": True, "use_adv": True}
_CLASS_COLOURS = ["#0072b2", "#56b4e9", "#d55e00", "#e69f00", "#009e73", "#8fd694"]  # a pair: two shades of one hue
_SYMBOLS = {"alpha1": "α1", "alpha2": "α2", "alpha3": "α3", "tau": "τ", "use_mi_s": "L_MI_s", "use_mi_a": "L_MI_a",
            "use_adv": "L_adv"}


def _figure(**kwargs) -> Figure:
    """A figure outside pyplot's registry: :func:`show` displays it. The panel draws its figures in a
    widget callback; JupyterLab sends widget messages to a kernel subshell, whose handling runs IPython's
    post-execute hooks in another thread, and pyplot's draw-all-if-interactive hook there would draw a
    registered figure at the same time as the callback (the picture came out blank or garbled)."""
    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    return fig


def show(fig: Figure) -> None:
    """Display ``fig`` (one of this module's figures) as a PNG in the notebook or the panel's output,
    whatever matplotlib backend the kernel has."""
    from IPython.display import Image, display

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    display(Image(data=buffer.getvalue(), format="png"))

#: Table 4's ablation rows that the teaching data repeats (amidlib.paper.names holds their labels and switches)
TABLE4_ROWS = ("cls_jsd", "mi_s", "mi_s+mi_a", "amid")

_BLUE, _RED, _GREEN, _GREY, _PURPLE, _BLACK = "#0072b2", "#d55e00", "#009e73", "#555555", "#cc79a7", "#000000"
#: the paper's Fig 2 as :func:`plot_architecture` draws it: component -> (label, x, y, width, height, colour)
ARCHITECTURE = {
    "target_view": ("target view\n$x_t$", 1.3, 7.6, 2.0, 1.1, _BLUE),
    "aux_view": ("auxiliary view\n$x_a$", 1.3, 2.4, 2.0, 1.1, _GREEN),
    "target_extractor": ("target extractor\n(trained)", 4.5, 7.6, 2.9, 1.1, _BLUE),
    "aux_extractor": ("auxiliary extractor\n(pre-trained, frozen)", 4.5, 2.4, 2.9, 1.1, _GREEN),
    "S": ("S: student\n(target view only)", 8.2, 8.9, 2.8, 1.1, _BLUE),
    "M": ("M: teacher\n(both views)", 8.2, 5.0, 2.8, 1.1, _RED),
    "A": ("A: auxiliary model\n(auxiliary view)", 8.2, 1.1, 2.8, 1.1, _GREEN),
    "classifier": ("classifier C\n(shared by S and M)", 12.0, 9.0, 2.9, 1.0, _GREY),
    "L_MI_s": ("$\\mathcal{L}_{MI_s}$ (Eq 7–8)\nbound on I(M;S)", 12.0, 7.2, 2.7, 1.0, _GREY),
    "D1": ("$D_1$ (Eq 12–13)\nevery sample", 11.2, 5.0, 2.2, 1.0, _PURPLE),
    "D2": ("$D_2$ (Eq 12–13)\nsame-class pairs", 13.7, 5.0, 2.4, 1.0, _PURPLE),
    "L_MI_a": ("$\\mathcal{L}_{MI_a}$ (Eq 9)\nbound on I(M;A)", 12.0, 1.6, 2.7, 1.0, _GREY),
    "L_cls": ("$\\mathcal{L}_{cls}$ (Eq 15)", 15.8, 9.6, 2.2, 0.7, _GREY),
    "L_JSD": ("$\\mathcal{L}_{JSD}$ (Eq 16)", 15.8, 8.5, 2.2, 0.7, _GREY),
    "L_adv": ("$\\mathcal{L}_{adv}$ (Eq 11–12)", 16.6, 5.0, 2.4, 0.8, _PURPLE),
    "lambda": ("λ1, λ2 (Eq 14)\nfrom cos(M, S)", 14.3, 3.3, 2.3, 1.0, _PURPLE),
    "L": ("$\\mathcal{L}$ (Eq 17)", 20.1, 5.0, 1.5, 0.9, _BLACK),
}
#: its arrows: (from, to, colour, label on the arrow, curvature)
ARCHITECTURE_EDGES = [
    ("target_view", "target_extractor", _BLUE, "", 0), ("aux_view", "aux_extractor", _GREEN, "", 0),
    ("target_extractor", "S", _BLUE, "", 0), ("target_extractor", "M", _BLUE, "", 0),
    ("aux_extractor", "M", _GREEN, "", 0), ("aux_extractor", "A", _GREEN, "", 0),
    ("S", "classifier", _BLUE, "", 0), ("M", "classifier", _RED, "", 0),
    ("S", "L_MI_s", _BLUE, "", 0), ("M", "L_MI_s", _RED, "", 0),
    ("S", "D1", _BLUE, "", 0), ("M", "D1", _RED, "", 0), ("S", "D2", _BLUE, "", 0), ("M", "D2", _RED, "", 0.25),
    ("M", "L_MI_a", _RED, "", 0), ("A", "L_MI_a", _GREEN, "", 0),
    ("classifier", "L_cls", _GREY, "", 0), ("classifier", "L_JSD", _GREY, "", 0),
    ("D1", "L_adv", _PURPLE, "", -0.35), ("D2", "L_adv", _PURPLE, "", 0), ("lambda", "L_adv", _PURPLE, "", 0),
    ("L_cls", "L", _GREY, "", 0), ("L_JSD", "L", _GREY, "", 0), ("L_MI_s", "L", _GREY, "× α1", 0),
    ("L_adv", "L", _PURPLE, "× α3", 0), ("L_MI_a", "L", _GREY, "× α2", 0),
]


def plot_architecture():
    """The paper's Fig 2 drawn with boxes and arrows (:data:`ARCHITECTURE`): the two views, their
    extractors, the student S, the teacher M and the auxiliary model A; the classifier shared by S and M
    with L_cls and L_JSD; the MI bounds L_MI_s (M, S) and L_MI_a (M, A); the discriminators D1, D2 with
    their weights λ and L_adv; every term into the total loss L of Eq 17 with its weight α. Arrow colour:
    blue from the target view and S, vermillion from M, green from the auxiliary view and A, purple the
    adversarial part. Returns the figure."""
    fig = _figure(figsize=(11.5, 5.4))
    ax = fig.subplots()
    ax.set(xlim=(0, 21.0), ylim=(0.4, 10.1))
    ax.axis("off")
    boxes = {}
    for key, (label, x, y, w, h, colour) in ARCHITECTURE.items():
        box = FancyBboxPatch((x - w / 2, y - h / 2), w, h, boxstyle="round,pad=0,rounding_size=0.15",
                             fc="#eeeeee" if colour == _BLACK else colour + "22", ec=colour,
                             lw=1.6 if key == "L" else 1.1)
        ax.add_patch(box)
        boxes[key] = box
        ax.text(x, y, label, ha="center", va="center", fontsize=8.5, gid=key)
    for a, b, colour, label, rad in ARCHITECTURE_EDGES:
        (_, xa, ya, *_), (_, xb, yb, *_) = ARCHITECTURE[a], ARCHITECTURE[b]
        ax.add_patch(FancyArrowPatch((xa, ya), (xb, yb), patchA=boxes[a], patchB=boxes[b], arrowstyle="-|>",
                                     mutation_scale=9, color=colour, lw=1.0, shrinkA=1, shrinkB=1,
                                     connectionstyle=f"arc3,rad={rad}"))
        if label:
            below = 0.3 if ya == yb else 0.0  # on a horizontal arrow: under it
            ax.text((xa + xb) / 2, (ya + yb) / 2 - below, label, fontsize=8, ha="center", va="center",
                    bbox=dict(fc="white", ec="none", pad=0.4))
    ax.set_title("AMID (the paper's Fig 2): three models, the terms of Eq 17 and where each one acts", fontsize=10)
    fig.text(0.5, 0.015, "blue: the target view and S · vermillion: M · green: the auxiliary view and A · purple: "
             "the adversarial part (D1, D2 are trained by L_D, Eq 13, on detached M and S; L_adv moves S only)",
             ha="center", fontsize=8)
    return fig


def seeds_text(seeds: Sequence[int]) -> str:
    """``seed 3``, ``seeds 0–4`` (consecutive) or ``seeds 0, 2, 7``."""
    seeds = [int(s) for s in seeds]
    if len(seeds) == 1:
        return f"seed {seeds[0]}"
    if seeds == list(range(seeds[0], seeds[0] + len(seeds))):
        return f"seeds {seeds[0]}–{seeds[-1]}"
    return "seeds " + ", ".join(map(str, seeds))


def settings_text(settings: dict) -> str:
    """``α1=4 α2=1.6 α3=1 τ=0.5, off: L_MI_a`` (the switches that are off)."""
    nums = " ".join(f"{_SYMBOLS[k]}={settings[k]:g}" for k in ("alpha1", "alpha2", "alpha3", "tau") if k in settings)
    off = [_SYMBOLS[k] for k in ("use_mi_s", "use_mi_a", "use_adv") if k in settings and not settings[k]]
    return nums + (f", off: {' '.join(off)}" if off else "")


def teaching_run(alpha1: float = 4.0, alpha2: float = 1.6, alpha3: float = 1.0, tau: float = 0.5,
                 use_mi_s: bool = True, use_mi_a: bool = True, use_adv: bool = True, epochs: int = 12,
                 warmup_epochs: int = 3, seed: int = 0, n_samples: int = 600, device: str = "cpu") -> dict:
    """Train a small AMID on :func:`amidlib.data.make_synthetic` and return its test
    representations M, S, A, labels, both models' test predictions, accuracies, history, settings
    and the seconds it took.

    :func:`amidlib.core.experiment.run` with ``keep_model=True``; the test split is standardized
    with the training statistics, as ``run`` does, before the trained model embeds it.
    """
    start = time.perf_counter()
    settings = dict(alpha1=float(alpha1), alpha2=float(alpha2), alpha3=float(alpha3), tau=float(tau),
                    use_mi_s=bool(use_mi_s), use_mi_a=bool(use_mi_a), use_adv=bool(use_adv))
    train_ds, test_ds = stratified_split(make_synthetic(n_samples=n_samples, seed=seed), test_size=0.5, seed=seed)
    overrides = dict(settings, epochs=epochs, warmup_epochs=min(warmup_epochs, epochs - 1), progress=False,
                     device=device)
    cfg = make_config(METHODS["amid"].defaults, preset="tiny", **overrides)
    torch.set_num_threads(cfg.num_threads or 1)
    res = run("amid", train_ds, test_ds, seed=seed, preset="tiny", keep_model=True, **overrides)
    if cfg.standardize:
        _, stats = train_ds.standardized()
        test_ds, _ = test_ds.standardized(stats)
    te = TensorData(test_ds, device)
    res.model.eval()
    with torch.no_grad():
        reps = res.model.embed(te.x_target, te.x_aux)
    last = res.history.iloc[-1]
    return {
        "m": reps.m.cpu().numpy(), "s": reps.s.cpu().numpy(), "a": reps.a.cpu().numpy(), "y": te.y.cpu().numpy(),
        "s_pred": reps.student_logits.argmax(1).cpu().numpy(), "m_pred": reps.teacher_logits.argmax(1).cpu().numpy(),
        "student_top1": float(last["test_student_top1"]), "teacher_top1": float(last["test_teacher_top1"]),
        "cos_same_sample": float(last["test_cos_same_sample"]), "cos_same_class": float(last["test_cos_same_class"]),
        "history": res.history, "config": dict(cfg), "settings": settings, "seed": seed, "epochs": epochs,
        "seconds": time.perf_counter() - start,
    }


def pair_confusion(y: np.ndarray, pred: np.ndarray) -> pd.DataFrame:
    """Per class pair (i, j): the share (%) of the two classes' test items predicted as the other
    class of the pair; sorted, most confused first."""
    rows = []
    classes = np.unique(y)
    for a in classes:
        for b in classes[classes > a]:
            n = int(((y == a) | (y == b)).sum())
            swapped = int(((y == a) & (pred == b)).sum() + ((y == b) & (pred == a)).sum())
            rows.append({"pair": f"{a}–{b}", "a": int(a), "b": int(b), "confused_pct": 100.0 * swapped / max(n, 1)})
    return pd.DataFrame(rows).sort_values("confused_pct", ascending=False, kind="stable").reset_index(drop=True)


def _unit(x):
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


_CURVES = [("test_teacher_top1", "teacher M\ntest top-1 (%)"), ("test_student_top1", "student S\ntest top-1 (%)"),
           ("mi_s_value", "L_MI_s (Eq 8)\nlower = more I(M;S)"), ("mi_a_value", "L_MI_a (Eq 9)\nlower = more I(M;A)"),
           ("test_gap", "gap: teacher − student\n(points)")]


def _curves(axes, outs: Sequence[dict], colours: Sequence[str], labels: Sequence[str]) -> None:
    for ax, (col, title) in zip(axes, _CURVES):
        for out, c, lab in zip(outs, colours, labels):
            h = out["history"]
            ax.plot(h["epoch"], h[col], color=c, lw=1.6, label=lab)
            warm = int((h["phase"] == "warmup").sum())
            if warm and out is outs[-1]:
                ax.axvspan(0.5, warm + 0.5, color="0.88", lw=0, zorder=0)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("epoch")


def plot_teaching(out: dict, title: str = ""):
    """Top: M, S, A of the test set in one 2-D PCA (fit on the three together, unit-normalised rows),
    coloured by class, with a class legend and each model's most confused pair named. Bottom: the
    run's per-epoch curves (test top-1 of teacher and student, L_MI_s, L_MI_a, gap; grey = warm-up)."""
    reps = {"M, teacher (target + auxiliary)": _unit(out["m"]), "S, student (target only)": _unit(out["s"]),
            "A, auxiliary model": _unit(out["a"])}
    pca = PCA(n_components=2, random_state=0).fit(np.concatenate(list(reps.values())))
    allz = pca.transform(np.concatenate(list(reps.values())))
    lims = [(allz[:, i].min() - 0.1, allz[:, i].max() + 0.1) for i in (0, 1)]
    fig = _figure(figsize=(11.5, 7.2))
    grid = fig.add_gridspec(2, 15, height_ratios=[1.25, 1], hspace=0.5, wspace=1.6)
    top = [fig.add_subplot(grid[0, 5 * i:5 * i + 5]) for i in range(3)]
    bottom = [fig.add_subplot(grid[1, 3 * i:3 * i + 3]) for i in range(5)]
    conf = {"M": pair_confusion(out["y"], out["m_pred"]), "S": pair_confusion(out["y"], out["s_pred"])}
    for ax, (name, x) in zip(top, reps.items()):
        z = pca.transform(x)
        for c in np.unique(out["y"]):
            k = out["y"] == c
            ax.scatter(z[k, 0], z[k, 1], color=_CLASS_COLOURS[int(c) % len(_CLASS_COLOURS)], s=9, alpha=0.75, lw=0,
                       label=f"class {c}")
        key = name[0]
        sub = ""
        if key in conf:
            acc = out["teacher_top1"] if key == "M" else out["student_top1"]
            worst = conf[key].iloc[0]
            sub = f"\ntest top-1 {acc:.1f} %; pair {worst.pair} confused {worst.confused_pct:.0f} %"
        ax.set(title=name + sub, xlabel="PC 1", ylabel="PC 2" if ax is top[0] else "", xlim=lims[0], ylim=lims[1])
        ax.title.set_fontsize(10)
    top[2].legend(loc="upper left", ncol=3, fontsize=7, markerscale=2, handletextpad=0.1, columnspacing=0.6,
                  title="class (pairs 0–1, 2–3, 4–5 look alike to the target view)", title_fontsize=7)
    _curves(bottom, [out], ["#333333"], ["this run"])
    bottom[0].set_ylabel("value")
    fig.suptitle(title or f"One run ({settings_text(out['settings'])}): the three representations in one PCA, "
                 f"colour = class; below, per epoch (grey = warm-up)", fontsize=11)
    return fig


def _mean_history(outs: Sequence[dict]) -> pd.DataFrame:
    """The per-epoch history averaged over the runs (seeds) of one setting; ``phase`` from the first."""
    first = outs[0]["history"]
    if len(outs) == 1:
        return first
    numeric = pd.concat([o["history"] for o in outs]).select_dtypes("number").groupby("epoch", sort=True).mean()
    return numeric.reset_index().assign(phase=first["phase"].to_numpy()[:len(numeric)])


def plot_runs(outs: Sequence[dict], labels: Sequence[str] | None = None):
    """The per-epoch curves of several runs overlaid (one colour per run; the last run drawn last). A
    run may be one trained setting over seeds (:func:`train_seeds`): its curves are the seeds' mean."""
    palette = ["#999999", "#e69f00", "#56b4e9", "#009e73", "#cc79a7", "#0072b2", "#d55e00"]
    colours = [palette[i % len(palette)] for i in range(len(outs))]
    labels = list(labels or [settings_text(o["settings"]) for o in outs])
    fig = _figure(figsize=(11.5, 3.0))
    axes = fig.subplots(1, 5)
    _curves(axes, outs, colours, labels)
    axes[0].set_ylabel("value")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=min(len(outs), 3), fontsize=8,
               bbox_to_anchor=(0.5, -0.12 - 0.06 * ((len(outs) - 1) // 3)), frameon=False)
    fig.suptitle("The runs side by side, per epoch (mean over each run's seeds; grey = the last run's warm-up)",
                 fontsize=11)
    fig.tight_layout()
    return fig


def mean_interval(values: Sequence[float], confidence: float = 0.95) -> stats.Effect:
    """The mean of ``values`` (one per seed) with its Student-t interval (none with one value):
    :func:`amidlib.paper.stats.paired_effect` of the values against 0."""
    values = np.asarray(values, float)
    return stats.paired_effect(values, np.zeros_like(values), confidence)


def _interval_text(effect: stats.Effect, unit: str = " %") -> str:
    if effect.n < 2:
        return f"{effect.effect:.1f}{unit} (one seed: no interval)"
    return f"{effect.effect:.1f}{unit} (95 % interval {effect.ci_low:.1f} to {effect.ci_high:.1f})"


def train_seeds(settings: dict, seeds: Sequence[int], epochs: int = 12, device: str = "cpu") -> dict:
    """One setting (overrides of :data:`SETTINGS`) trained with every seed of ``seeds``: the runs
    (``outs``, one :func:`teaching_run` each), the teacher's and the student's mean test top-1 with
    their 95 % intervals over the seeds (``teacher``, ``student``: :class:`~amidlib.paper.stats.Effect`),
    the per-epoch history averaged over the seeds and the seconds it took."""
    start = time.perf_counter()
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("train_seeds needs at least one seed")
    outs = [teaching_run(**(SETTINGS | settings), epochs=epochs, seed=seed, device=device) for seed in seeds]
    teacher = mean_interval([o["teacher_top1"] for o in outs])
    student = mean_interval([o["student_top1"] for o in outs])
    return {"settings": outs[0]["settings"], "seeds": seeds, "epochs": int(epochs), "outs": outs,
            "teacher": teacher, "student": student, "teacher_top1": teacher.effect, "student_top1": student.effect,
            "history": _mean_history(outs), "seconds": time.perf_counter() - start}


def runs_table(entries: Sequence[dict], labels: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per trained setting (:func:`train_seeds`): its settings, seeds, epochs, and the
    teacher's and student's mean test top-1 with the 95 % interval over the seeds."""
    labels = list(labels or [f"run {i + 1}" for i in range(len(entries))])

    def interval(e: stats.Effect) -> str:
        return "—" if e.n < 2 else f"{e.ci_low:.1f} to {e.ci_high:.1f}"

    rows = []
    for label, e in zip(labels, entries):
        rows.append({"run": label, "settings": settings_text(e["settings"]), "seeds": seeds_text(e["seeds"]),
                     "epochs": e["epochs"], "teacher top-1 %": round(e["teacher"].effect, 1),
                     "teacher 95 % interval": interval(e["teacher"]), "student top-1 %": round(e["student"].effect, 1),
                     "student 95 % interval": interval(e["student"]),
                     "gap (points)": round(e["teacher"].effect - e["student"].effect, 1),
                     "seconds": round(e["seconds"], 2)})
    return pd.DataFrame(rows).set_index("run")


def table4_settings(rows: Sequence[str] = TABLE4_ROWS) -> dict[str, dict]:
    """Table 4's ablation rows as teaching settings: row name -> its switches (overrides of :data:`SETTINGS`,
    from :mod:`amidlib.paper.names`)."""
    out = {}
    for name in rows:
        row = names.row(name)
        if row is None or row.method != "amid":
            raise ValueError(f"{name!r} is not an AMID row of amidlib.paper.names")
        extra = sorted(set(row.config) - set(SETTINGS))
        if extra:
            raise ValueError(f"row {name!r} sets {extra}, which the teaching runs do not expose")
        out[name] = row.config
    return out


def seed_effect(settings: dict[str, dict], seeds: Sequence[int], epochs: int = 12, device: str = "cpu") -> pd.DataFrame:
    """Every named setting (overrides of :data:`SETTINGS`) over ``seeds``: one row per (setting, seed)
    with the teacher's and the student's test top-1 and the two MI losses (Eq 8, 9: ``mi_s_warmup``,
    ``mi_a_warmup`` at the last warm-up epoch, ``mi_s_final``, ``mi_a_final`` at the last epoch)."""
    rows = []
    for name, kw in settings.items():
        for seed in seeds:
            o = teaching_run(**(SETTINGS | kw), epochs=epochs, seed=seed, device=device)
            h = o["history"]
            warm = h[h["phase"] == "warmup"]
            end_warm = warm.iloc[-1] if len(warm) else h.iloc[0]
            rows.append({"setting": name, "seed": seed, "teacher_top1": o["teacher_top1"],
                         "student_top1": o["student_top1"],
                         "mi_s_warmup": float(end_warm["mi_s_value"]), "mi_s_final": float(h["mi_s_value"].iloc[-1]),
                         "mi_a_warmup": float(end_warm["mi_a_value"]), "mi_a_final": float(h["mi_a_value"].iloc[-1])})
    return pd.DataFrame(rows)


def compare_settings(effect: pd.DataFrame, comparisons: Sequence[tuple[str, str, str]], metric: str) -> pd.DataFrame:
    """Paired comparisons of settings of :func:`seed_effect` over their shared seeds: for each
    ``(a, op, b)`` (op one of ``>``, ``<``) the mean of ``metric``(a) − ``metric``(b) per seed, its 95 %
    interval, on how many seeds a − b > 0, and the verdict on "a op b" (:func:`amidlib.paper.stats.verdict`:
    supported / contradicted / inconclusive, decided from the interval)."""
    wide = effect.pivot(index="seed", columns="setting", values=metric)
    rows = []
    for a, op, b in comparisons:
        both = wide[[a, b]].dropna()
        e = stats.paired_effect(both[a], both[b])
        d = both[a] - both[b]
        rows.append({"a": a, "op": op, "b": b, "metric": metric, "n": e.n, "mean a − b": e.effect,
                     "ci_low": e.ci_low, "ci_high": e.ci_high, "seeds a > b": int((d > 0).sum()),
                     "seeds a < b": int((d < 0).sum()), "verdict": stats.verdict(e, op)})
    return pd.DataFrame(rows)


def plot_seed_points(effect: pd.DataFrame, order: Sequence[str] | None = None,
                     metrics: Sequence[tuple[str, str]] = (("teacher_top1", "teacher M: test top-1 (%)"),
                                                           ("student_top1", "student S: test top-1 (%)")),
                     labels: dict[str, str] | None = None, title: str = ""):
    """Per setting (x) one point per seed (coloured by seed, not joined: seeds are separate runs), the
    mean (black bar) and its 95 % Student-t interval (black line); one panel per metric.
    ``effect``: :func:`seed_effect`'s rows (columns setting, seed and the metrics)."""
    order = list(order or dict.fromkeys(effect["setting"]))
    labels = labels or {}
    seeds = sorted(effect["seed"].unique())
    cmap = plt.get_cmap("tab10")
    colour = {s: cmap(i % 10) for i, s in enumerate(seeds)}
    width = min(12.0, (1.4 + 1.3 * len(order)) * len(metrics) + 1.2)
    fig = _figure(figsize=(width, 3.3))
    axes = fig.subplots(1, len(metrics), squeeze=False)
    offsets = np.linspace(-0.18, 0.18, len(seeds)) if len(seeds) > 1 else np.zeros(1)
    for ax, (metric, ylabel) in zip(axes[0], metrics):
        seen = set()
        for x, setting in enumerate(order):
            sub = effect[effect["setting"] == setting].set_index("seed")[metric]
            for off, s in zip(offsets, seeds):
                if s in sub.index:
                    ax.scatter(x + off, sub[s], color=colour[s], s=22, zorder=5, lw=0.4, ec="white",
                               label=None if s in seen else f"seed {s}")
                    seen.add(s)
            e = mean_interval(sub.to_numpy())
            ax.hlines(e.effect, x - 0.3, x + 0.3, color="black", lw=2, zorder=4)
            if e.n > 1:
                ax.vlines(x + 0.32, e.ci_low, e.ci_high, color="black", lw=1.2, zorder=4)
        ax.set_xticks(range(len(order)), [labels.get(s, s) for s in order], fontsize=8)
        ax.set_xlim(-0.6, len(order) - 0.4)
        ax.set_ylabel(ylabel)
    handles, legend_labels = axes[0][0].get_legend_handles_labels()
    by_seed = sorted(zip(legend_labels, handles), key=lambda hl: int(hl[0].split()[-1]))
    fig.legend([h for _, h in by_seed], [lab for lab, _ in by_seed], loc="center right", fontsize=7, frameon=False,
               title="point: one seed", title_fontsize=7)
    fig.suptitle(title or "Per seed (points), mean (bar) and 95 % interval (line beside the bar)", fontsize=10)
    fig.tight_layout(rect=(0, 0, 0.9, 1))
    return fig


def _seeds_effect_frame(entries: Sequence[dict], labels: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame([{"setting": label, "seed": o["seed"], "teacher_top1": o["teacher_top1"],
                          "student_top1": o["student_top1"]} for label, e in zip(labels, entries) for o in e["outs"]])


def _report(runs: Sequence[dict], keep: int) -> None:
    """What the panel shows after a press: a line on the last trained setting (means and intervals), its
    first seed's picture, and the last ``keep`` settings pinned: per-seed points, seed-mean curves, table."""
    from IPython.display import display

    entry, shown = runs[-1], runs[-keep:]
    labels = [f"run {len(runs) - len(shown) + 1 + i}" for i in range(len(shown))]
    print(f"run {len(runs)} ({settings_text(entry['settings'])}; {seeds_text(entry['seeds'])}; {entry['epochs']} "
          f"epochs) trained in {entry['seconds']:.1f} s: teacher {_interval_text(entry['teacher'])}, student "
          f"{_interval_text(entry['student'])}")
    show(plot_teaching(entry["outs"][0], title=f"run {len(runs)}, {seeds_text(entry['seeds'][:1])} "
                       f"({settings_text(entry['settings'])}; {entry['epochs']} epochs): M, S, A in one PCA, "
                       "colour = class; below, per epoch (grey = warm-up)"))
    show(plot_seed_points(_seeds_effect_frame(shown, labels), labels, title="The pinned runs: one point per seed, "
                          "mean (bar), 95 % interval (line); a single seed has no interval"))
    if len(shown) > 1:
        show(plot_runs([{"history": e["history"], "settings": e["settings"]} for e in shown],
                       [f"{label}: {settings_text(e['settings'])}" for label, e in zip(labels, shown)]))
    display(runs_table(shown, labels))


def teaching_widget(defaults: dict | None = None, epochs: int = 12, device: str = "cpu", keep: int = 3,
                    n_seeds: int = 5, first_seed: int = 0, train_now: bool = True):
    """The instructor's panel: a slider for α1, α2, α3, τ and the number of epochs, a switch per term,
    the seeds (one, or five with the 95 % interval, from a first seed) and a *train* button.

    Each press trains the setting once per seed (about half a second a run) and shows, in the output
    area: a line with the teacher's and the student's mean test accuracy and interval, the first seed's
    picture (:func:`plot_teaching`), and the last ``keep`` settings pinned side by side: their per-seed
    results as points (:func:`plot_seed_points`), their seed-mean curves (:func:`plot_runs`) and a table
    (:func:`runs_table`). Returns the panel (an ``ipywidgets.VBox``): ``panel.runs`` holds every trained
    setting so far (:func:`train_seeds`), ``panel.controls`` the widgets by name, ``panel.train()`` presses
    *train*. ``train_now``: train the defaults once at once, so the first comparison has a reference.
    """
    import ipywidgets as w

    values = SETTINGS | (defaults or {})
    sliders = {
        "alpha1": w.FloatSlider(value=values["alpha1"], min=0.0, max=8.0, step=0.1, description="α1 (L_MI_s)"),
        "alpha2": w.FloatSlider(value=values["alpha2"], min=0.0, max=4.0, step=0.1, description="α2 (L_MI_a)"),
        "alpha3": w.FloatSlider(value=values["alpha3"], min=0.0, max=3.0, step=0.1, description="α3 (L_adv)"),
        "tau": w.FloatSlider(value=values["tau"], min=0.05, max=2.0, step=0.05, description="τ (Eq 7)"),
    }
    epochs_slider = w.IntSlider(value=int(epochs), min=4, max=40, step=1, description="epochs")
    boxes = {name: w.Checkbox(value=bool(values[name]), description=_SYMBOLS[name] + " on", indent=False)
             for name in ("use_mi_s", "use_mi_a", "use_adv")}
    n_seeds_buttons = w.ToggleButtons(options=[("1 seed", 1), ("5 seeds", 5)], value=int(n_seeds), description="seeds",
                                      tooltips=["one run: no interval", "five runs: the mean and its 95 % interval"],
                                      style={"button_width": "84px"})
    first = w.BoundedIntText(value=int(first_seed), min=0, max=999, step=1, description="first seed",
                             layout=w.Layout(width="170px"))
    button = w.Button(description="train", button_style="primary", tooltip="train this setting once per seed")
    controls = dict(sliders, epochs=epochs_slider, **boxes, n_seeds=n_seeds_buttons, first_seed=first, train=button)
    for name, c in controls.items():
        c.add_class(f"amid-teach-{name.replace('_', '-')}")
    output = w.Output()
    output.add_class("amid-teach-output")
    panel = w.VBox([w.HBox([w.VBox(list(sliders.values()) + [epochs_slider]),
                            w.VBox(list(boxes.values()) + [n_seeds_buttons, first, button])]), output])
    panel.runs = []
    panel.controls = controls

    def train(_=None):
        button.disabled = True
        try:
            kw = {k: s.value for k, s in sliders.items()} | {k: b.value for k, b in boxes.items()}
            seeds = list(range(first.value, first.value + n_seeds_buttons.value))
            panel.runs.append(train_seeds(kw, seeds, epochs=epochs_slider.value, device=device))
            with output:
                output.clear_output(wait=True)
                _report(panel.runs, keep)
        finally:
            button.disabled = False

    button.on_click(train)
    panel.train = train
    if train_now:
        train()
    return panel
