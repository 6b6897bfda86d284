"""The teaching view (notebook 07): a small AMID on synthetic data in about half a second on a CPU.

:func:`teaching_run` trains one; :func:`plot_teaching` draws its representations M, S, A in one 2-D
PCA with a class legend and its per-epoch curves; :func:`plot_runs` overlays the curves of several
runs; :func:`runs_table` puts runs side by side; :func:`seed_effect` repeats settings over seeds;
:func:`teaching_widget` is the instructor's panel (sliders, switches, *train*, the last runs pinned).

The data (:func:`amidlib.data.arrays.make_synthetic`): six classes in three pairs
(:data:`CLASS_PAIRS`) that share a mean in the target view and differ in the auxiliary view, so the
student S (target only) confuses each pair and the teacher M (target + auxiliary) need not.
"""
from __future__ import annotations

import time
from typing import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from sklearn.decomposition import PCA

from amidlib.core.config import make_config
from amidlib.core.experiment import run
from amidlib.core.methods import METHODS
from amidlib.core.training import TensorData
from amidlib.data.arrays import make_synthetic, stratified_split

__all__ = ["CLASS_PAIRS", "SETTINGS", "teaching_run", "pair_confusion", "plot_teaching", "plot_runs", "runs_table",
           "seed_effect", "teaching_widget", "settings_text"]

#: make_synthetic's classes (2g, 2g+1) share a target-view mean: the pairs the student confuses
CLASS_PAIRS = ((0, 1), (2, 3), (4, 5))
#: the settings the panel exposes (Eq 17's weights, Eq 7's temperature, a switch per term) and their defaults
SETTINGS = {"alpha1": 4.0, "alpha2": 1.6, "alpha3": 1.0, "tau": 0.5, "use_mi_s": True, "use_mi_a": True, "use_adv": True}
_CLASS_COLOURS = ["#0072b2", "#56b4e9", "#d55e00", "#e69f00", "#009e73", "#8fd694"]  # a pair: two shades of one hue
_SYMBOLS = {"alpha1": "α1", "alpha2": "α2", "alpha3": "α3", "tau": "τ", "use_mi_s": "L_MI_s", "use_mi_a": "L_MI_a",
            "use_adv": "L_adv"}


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
    fig = plt.figure(figsize=(11.5, 7.2))
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


def plot_runs(outs: Sequence[dict], names: Sequence[str] | None = None):
    """The per-epoch curves of several runs overlaid (one colour per run; the last run drawn last)."""
    palette = ["#999999", "#e69f00", "#56b4e9", "#009e73", "#cc79a7", "#0072b2", "#d55e00"]
    colours = [palette[i % len(palette)] for i in range(len(outs))]
    names = list(names or [settings_text(o["settings"]) for o in outs])
    fig, axes = plt.subplots(1, 5, figsize=(11.5, 3.0))
    _curves(axes, outs, colours, names)
    axes[0].set_ylabel("value")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=min(len(outs), 3), fontsize=8,
               bbox_to_anchor=(0.5, -0.12 - 0.06 * ((len(outs) - 1) // 3)), frameon=False)
    fig.suptitle("The runs side by side, per epoch (grey = the last run's warm-up)", fontsize=11)
    fig.tight_layout()
    return fig


def runs_table(outs: Sequence[dict], names: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per run: its settings and final test numbers."""
    names = list(names or [f"run {i + 1}" for i in range(len(outs))])
    rows = []
    for name, o in zip(names, outs):
        rows.append({"run": name, "settings": settings_text(o["settings"]), "teacher top-1 %": round(o["teacher_top1"], 1),
                     "student top-1 %": round(o["student_top1"], 1), "gap (points)": round(o["teacher_top1"] - o["student_top1"], 1),
                     "S's most confused pair": pair_confusion(o["y"], o["s_pred"]).iloc[0]["pair"],
                     "seconds": round(o["seconds"], 2)})
    return pd.DataFrame(rows).set_index("run")


def seed_effect(settings: dict[str, dict], seeds: Sequence[int], epochs: int = 12, device: str = "cpu") -> pd.DataFrame:
    """Every named setting (overrides of :data:`SETTINGS`) over ``seeds``: one row per (setting, seed)
    with the teacher's and the student's test top-1."""
    rows = []
    for name, kw in settings.items():
        for seed in seeds:
            o = teaching_run(**(SETTINGS | kw), epochs=epochs, seed=seed, device=device)
            rows.append({"setting": name, "seed": seed, "teacher_top1": o["teacher_top1"], "student_top1": o["student_top1"]})
    return pd.DataFrame(rows)


def teaching_widget(defaults: dict | None = None, epochs: int = 12, device: str = "cpu", keep: int = 3,
                    train_now: bool = True):
    """The instructor's panel: a slider for α1, α2, α3, τ, a switch per term and a *train* button.

    Each press trains one run (about half a second) and shows, in the output area: a line with the
    teacher's and the student's test accuracy, this run's picture (:func:`plot_teaching`), and the
    last ``keep`` runs pinned side by side (:func:`plot_runs`, :func:`runs_table`). Returns the panel
    (an ``ipywidgets.VBox``; ``panel.runs`` holds every run so far). ``train_now``: train the
    defaults once at once, so the first comparison has a reference.
    """
    import ipywidgets as w
    from IPython.display import display

    values = SETTINGS | (defaults or {})
    sliders = {
        "alpha1": w.FloatSlider(value=values["alpha1"], min=0.0, max=8.0, step=0.1, description="α1 (L_MI_s)"),
        "alpha2": w.FloatSlider(value=values["alpha2"], min=0.0, max=4.0, step=0.1, description="α2 (L_MI_a)"),
        "alpha3": w.FloatSlider(value=values["alpha3"], min=0.0, max=3.0, step=0.1, description="α3 (L_adv)"),
        "tau": w.FloatSlider(value=values["tau"], min=0.05, max=2.0, step=0.05, description="τ (Eq 7)"),
    }
    for name, s in sliders.items():
        s.add_class(f"amid-teach-{name}")
    boxes = {name: w.Checkbox(value=bool(values[name]), description=_SYMBOLS[name] + " on", indent=False)
             for name in ("use_mi_s", "use_mi_a", "use_adv")}
    button = w.Button(description="train", button_style="primary", tooltip="train one run with these settings")
    button.add_class("amid-teach-train")
    output = w.Output()
    output.add_class("amid-teach-output")
    panel = w.VBox([w.HBox([w.VBox(list(sliders.values())), w.VBox(list(boxes.values()) + [button])]), output])
    panel.runs = []

    def train(_=None):
        button.disabled = True
        try:
            kw = {k: s.value for k, s in sliders.items()} | {k: b.value for k, b in boxes.items()}
            out = teaching_run(epochs=epochs, device=device, **kw)
            panel.runs.append(out)
            shown = panel.runs[-keep:]
            first = len(panel.runs) - len(shown) + 1
            names = [f"run {first + i}: {settings_text(o['settings'])}" for i, o in enumerate(shown)]
            with output:
                output.clear_output(wait=True)
                print(f"run {len(panel.runs)} ({settings_text(out['settings'])}) trained in {out['seconds']:.1f} s: "
                      f"teacher {out['teacher_top1']:.1f} %, student {out['student_top1']:.1f} %")
                fig = plot_teaching(out)
                display(fig)
                plt.close(fig)
                if len(shown) > 1:
                    fig = plot_runs(shown, names)
                    display(fig)
                    plt.close(fig)
                display(runs_table(shown, [f"run {first + i}" for i in range(len(shown))]))
        finally:
            button.disabled = False

    button.on_click(train)
    panel.train = train
    if train_now:
        train()
    return panel
