"""The teaching view (notebook 07): a small AMID on synthetic data in about half a second on a CPU.

:func:`plot_architecture` draws the paper's Fig 2 (views, extractors, S, M, A, the shared
classifier, the loss terms, the discriminators D1, D2); :func:`plot_teaching` draws one run's
representations M, S, A in one 2-D PCA with a class legend and its per-epoch curves;
:func:`plot_seed_points` draws per-seed results as points; :func:`plot_runs` overlays per-epoch
curves; :func:`teaching_widget` is the instructor's panel (sliders, switches, seeds, epochs, *train*,
the last settings pinned).

The runs and their statistics live in :mod:`amidlib.paper.teaching_runs` and keep their paths here:
:func:`teaching_run` trains one small AMID; :func:`train_seeds` trains one setting over several seeds
and summarises it with 95 % intervals; :func:`seed_effect` repeats settings over seeds
(:data:`TABLE4_ROWS`: Table 4's ablation rows); :func:`compare_settings` turns that into paired
effects and verdicts; :func:`runs_table` puts trained settings side by side.

The figures are made outside pyplot's registry: :func:`show` displays one (:func:`_figure` says why).

The data (:func:`amidlib.data.arrays.make_synthetic`): six classes in three pairs
(:data:`CLASS_PAIRS`) that share a mean in the target view and differ in the auxiliary view, so the
student S (target only) confuses each pair and the teacher M (target + auxiliary) need not.
"""
from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from sklearn.decomposition import PCA

# the runs and their statistics live in teaching_runs; imported here, they keep this module's public paths
from amidlib.paper.teaching_runs import (
    _SYMBOLS,
    CLASS_PAIRS,
    SETTINGS,
    TABLE4_ROWS,
    _interval_text,
    _seeds_effect_frame,
    compare_settings,
    mean_interval,
    pair_confusion,
    runs_table,
    seed_effect,
    seeds_text,
    settings_text,
    table4_settings,
    teaching_run,
    train_seeds,
)

__all__ = ["CLASS_PAIRS", "SETTINGS", "TABLE4_ROWS", "ARCHITECTURE", "ARCHITECTURE_EDGES", "plot_architecture", "show",
           "teaching_run", "pair_confusion", "plot_teaching", "plot_runs", "runs_table", "train_seeds", "mean_interval",
           "seed_effect", "table4_settings", "compare_settings", "plot_seed_points", "teaching_widget", "settings_text",
           "seeds_text"]

_CLASS_COLOURS = ["#0072b2", "#56b4e9", "#d55e00", "#e69f00", "#009e73", "#8fd694"]  # a pair: two shades of one hue


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


def _unit(x):
    return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)


_CURVES = [("test_teacher_top1", "teacher M\ntest top-1 (%)"), ("test_student_top1", "student S\ntest top-1 (%)"),
           ("mi_s_value", "L_MI_s (Eq 8)\nlower = more I(M;S)"), ("mi_a_value", "L_MI_a (Eq 9)\nlower = more I(M;A)"),
           ("test_gap", "gap: teacher − student\n(points)")]


def _curves(axes, outs: Sequence[dict], colours: Sequence[str], labels: Sequence[str]) -> None:
    for ax, (col, title) in zip(axes, _CURVES, strict=True):
        for out, c, lab in zip(outs, colours, labels, strict=True):
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
    for ax, (name, x) in zip(top, reps.items(), strict=True):
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
    for ax, (metric, ylabel) in zip(axes[0], metrics, strict=True):
        seen = set()
        for x, setting in enumerate(order):
            sub = effect[effect["setting"] == setting].set_index("seed")[metric]
            for off, s in zip(offsets, seeds, strict=True):
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
    by_seed = sorted(zip(legend_labels, handles, strict=True), key=lambda hl: int(hl[0].split()[-1]))
    fig.legend([h for _, h in by_seed], [lab for lab, _ in by_seed], loc="center right", fontsize=7, frameon=False,
               title="point: one seed", title_fontsize=7)
    fig.suptitle(title or "Per seed (points), mean (bar) and 95 % interval (line beside the bar)", fontsize=10)
    fig.tight_layout(rect=(0, 0, 0.9, 1))
    return fig


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
                       [f"{label}: {settings_text(e['settings'])}" for label, e in zip(labels, shown, strict=True)]))
    display(runs_table(shown, labels))


def panel_snapshot_html(panel) -> str:
    """The panel's last setting as a picture (its first seed, :func:`plot_teaching`), folded in a ``<details>``: what
    a reader of the executed copy, with no live kernel to draw the widget, sees of the panel; a live class can leave
    it closed."""
    import base64
    import html

    if not getattr(panel, "runs", None):
        return ""
    entry = panel.runs[-1]
    title = (f"the panel's run {len(panel.runs)} ({settings_text(entry['settings'])}; {entry['epochs']} epochs), "
             "first seed")
    fig = plot_teaching(entry["outs"][0], title=title)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    data = base64.b64encode(buffer.getvalue()).decode()
    return (f"<details><summary>The panel's output as a picture (for a reader without a live kernel: "
            f"{html.escape(settings_text(entry['settings']))}; {len(entry['seeds'])} seed(s), "
            f"{entry['seconds']:.1f} s)</summary><img alt=\"the instructor's panel, first seed\" "
            f"src=\"data:image/png;base64,{data}\" width=\"800\"></details>")


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
