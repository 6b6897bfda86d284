"""The teaching runs behind notebook 07's view (:mod:`amidlib.paper.teaching` draws them): a small AMID
on synthetic data trained in about half a second on a CPU, and the statistics over seeds.

:func:`teaching_run` trains one small AMID and returns its test representations and curves;
:func:`train_seeds` trains one setting over several seeds and summarises it with 95 % intervals;
:func:`seed_effect` repeats settings over seeds (:data:`TABLE4_ROWS`: Table 4's ablation rows, their switches
from :func:`table4_settings`); :func:`compare_settings` turns that into paired effects and verdicts;
:func:`runs_table` puts trained settings side by side; :func:`pair_confusion` says which class pairs a model
confuses; :func:`settings_text` and :func:`seeds_text` name a setting and its seeds.

The data (:func:`amidlib.data.arrays.make_synthetic`): six classes in three pairs (:data:`CLASS_PAIRS`) that
share a mean in the target view and differ in the auxiliary view, so the student S (target only) confuses each
pair and the teacher M (target + auxiliary) need not.
"""
from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import pandas as pd
import torch

from amidlib.core.config import make_config
from amidlib.core.experiment import run
from amidlib.core.methods import METHODS
from amidlib.core.training import TensorData
from amidlib.data.arrays import make_synthetic, stratified_split
from amidlib.paper import names, stats

__all__ = ["CLASS_PAIRS", "SETTINGS", "TABLE4_ROWS", "teaching_run", "pair_confusion", "runs_table", "train_seeds",
           "mean_interval", "seed_effect", "table4_settings", "compare_settings", "settings_text", "seeds_text"]

#: make_synthetic's classes (2g, 2g+1) share a target-view mean: the pairs the student confuses
CLASS_PAIRS = ((0, 1), (2, 3), (4, 5))
#: the settings the panel exposes (Eq 17's weights, Eq 7's temperature, a switch per term) and their defaults
SETTINGS = {"alpha1": 4.0, "alpha2": 1.6, "alpha3": 1.0, "tau": 0.5,
            "use_mi_s": True, "use_mi_a": True, "use_adv": True}
_SYMBOLS = {"alpha1": "α1", "alpha2": "α2", "alpha3": "α3", "tau": "τ", "use_mi_s": "L_MI_s", "use_mi_a": "L_MI_a",
            "use_adv": "L_adv"}
#: Table 4's ablation rows that the teaching data repeats (amidlib.paper.names holds their labels and switches)
TABLE4_ROWS = ("cls_jsd", "mi_s", "mi_s+mi_a", "amid")


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


def _mean_history(outs: Sequence[dict]) -> pd.DataFrame:
    """The per-epoch history averaged over the runs (seeds) of one setting; ``phase`` from the first."""
    first = outs[0]["history"]
    if len(outs) == 1:
        return first
    numeric = pd.concat([o["history"] for o in outs]).select_dtypes("number").groupby("epoch", sort=True).mean()
    return numeric.reset_index().assign(phase=first["phase"].to_numpy()[:len(numeric)])


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
    for label, e in zip(labels, entries, strict=True):
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


def _seeds_effect_frame(entries: Sequence[dict], labels: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame([{"setting": label, "seed": o["seed"], "teacher_top1": o["teacher_top1"],
                          "student_top1": o["student_top1"]}
                         for label, e in zip(labels, entries, strict=True) for o in e["outs"]])
