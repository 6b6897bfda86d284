"""Runs over methods × seeds (× settings) and their mean ± std summaries.

The tables of the paper are built from these long-format frames: one row per run, the columns
``method``, ``setting``, ``seed`` and every scalar metric.
"""
from __future__ import annotations

from typing import Iterable

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .experiment import Result, run

SCALAR_METRICS = ["student_top1", "teacher_top1", "student_r1", "student_r5", "wa", "ua", "train_seconds"]


def run_grid(
    runs: Iterable[tuple[str, str, dict]],
    train_ds,
    test_ds,
    seeds: Iterable[int],
    preset: str | None = "cpu",
    keep: list | None = None,
    **common,
) -> pd.DataFrame:
    """Run each ``(label, method, overrides)`` for every seed; one row per run.

    ``keep``: if a list is given, every :class:`Result` is appended to it (for curves and plots).
    """
    runs, seeds = list(runs), list(seeds)
    rows = []
    with tqdm(total=len(runs) * len(seeds), desc="runs") as bar:
        for label, method, overrides in runs:
            for seed in seeds:
                bar.set_postfix_str(f"{label} seed {seed}")
                res = run(method, train_ds, test_ds, seed=seed, preset=preset, progress=False, **{**common, **overrides})
                rows.append(result_row(res, label=label))
                if keep is not None:
                    keep.append(res)
                bar.update()
    return pd.DataFrame(rows)


def result_row(res: Result, **extra) -> dict:
    """The scalar metrics of one run, with its method and seed."""
    row = {"method": res.method, "seed": res.config["seed"], **extra}
    row.update({k: res.metrics.get(k, np.nan) for k in SCALAR_METRICS})
    return row


def compare_methods(methods: Iterable[str], train_ds, test_ds, seeds: Iterable[int], preset: str | None = "cpu", **common) -> pd.DataFrame:
    """Every method with its defaults over the seeds (Table 1/2 style); ``label`` = method name."""
    return run_grid(((m, m, {}) for m in methods), train_ds, test_ds, seeds, preset=preset, **common)


def mean_std(runs: pd.DataFrame, by: str | list[str] = "label", metrics: Iterable[str] = ("student_top1", "teacher_top1")) -> pd.DataFrame:
    """Mean, std (ddof=1; 0 for a single seed) and n over seeds, keeping the order of first appearance."""
    by = [by] if isinstance(by, str) else list(by)
    metrics = list(metrics)
    grouped = runs.groupby(by, sort=False)[metrics]
    out = grouped.mean().add_suffix("_mean").join(grouped.std(ddof=1).fillna(0.0).add_suffix("_std"))
    out["n_seeds"] = grouped.size()
    return out.reset_index()


def fmt(mean: float, std: float) -> str:
    """"73.8 ± 0.4"; "—" for a value the method does not have (e.g. the teacher of the student alone)."""
    if mean is None or (isinstance(mean, float) and np.isnan(mean)):
        return "—"
    return f"{mean:.1f} ± {std:.1f}"


def format_table(summary: pd.DataFrame, by: str = "label", metrics: Iterable[str] = ("student_top1", "teacher_top1")) -> pd.DataFrame:
    """Human-readable mean ± std columns."""
    table = pd.DataFrame({by: summary[by]})
    for m in metrics:
        table[m] = [fmt(a, b) for a, b in zip(summary[f"{m}_mean"], summary[f"{m}_std"])]
    table["n_seeds"] = summary["n_seeds"]
    return table
