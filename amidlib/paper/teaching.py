"""The teaching view (notebook 07): a small AMID on synthetic data, its representations M, S, A
drawn in one 2-D PCA, in seconds on a CPU."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import torch
from sklearn.decomposition import PCA

from amidlib.core.config import make_config
from amidlib.core.experiment import run
from amidlib.core.methods import METHODS
from amidlib.core.training import TensorData
from amidlib.data.arrays import make_synthetic, stratified_split

__all__ = ["teaching_run", "plot_teaching"]


def teaching_run(alpha1: float = 4.0, alpha2: float = 1.6, alpha3: float = 1.0, tau: float = 0.5,
                 use_mi_s: bool = True, use_mi_a: bool = True, use_adv: bool = True, epochs: int = 12,
                 warmup_epochs: int = 3, seed: int = 0, n_samples: int = 600, device: str = "cpu") -> dict:
    """Train a small AMID on :func:`amidlib.data.make_synthetic` and return its test
    representations M, S, A, labels, accuracies and history (seconds on a CPU).

    :func:`amidlib.core.experiment.run` with ``keep_model=True``; the test split is standardized
    with the training statistics, as ``run`` does, before the trained model embeds it.
    """
    train_ds, test_ds = stratified_split(make_synthetic(n_samples=n_samples, seed=seed), test_size=0.5, seed=seed)
    overrides = dict(alpha1=alpha1, alpha2=alpha2, alpha3=alpha3, tau=tau, use_mi_s=use_mi_s, use_mi_a=use_mi_a,
                     use_adv=use_adv, epochs=epochs, warmup_epochs=min(warmup_epochs, epochs - 1), progress=False,
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
        "student_top1": float(last["test_student_top1"]), "teacher_top1": float(last["test_teacher_top1"]),
        "cos_same_sample": float(last["test_cos_same_sample"]), "cos_same_class": float(last["test_cos_same_class"]),
        "history": res.history, "config": dict(cfg),
    }


def plot_teaching(out: dict, title: str = ""):
    """M, S, A of the test set in one 2-D PCA (fit on the three together, unit-normalised rows),
    coloured by class; and the accuracies."""
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
