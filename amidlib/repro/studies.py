"""Runs over methods × seeds (× settings) and their mean ± std summaries.

The tables of the paper are built from these long-format frames: one row per run, the columns
``method``, ``setting``, ``seed`` and every scalar metric.
"""
from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Iterable

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from amidlib.core.experiment import Result, run

SCALAR_METRICS = ["student_top1", "teacher_top1", "student_r1", "student_r5", "wa", "ua"]


def run_grid(
    runs: Iterable[tuple[str, str, dict]],
    train_ds,
    test_ds,
    seeds: Iterable[int],
    preset: str | None = "embedded",
    keep: list | None = None,
    n_jobs: int = 1,
    **common,
) -> pd.DataFrame:
    """Run each ``(label, method, overrides)`` for every seed; one row per run.

    ``keep``: if a list is given, every :class:`Result` is appended to it (for curves and plots).
    ``n_jobs``: runs in parallel worker processes (``spawn``, so it works from notebooks and on
    every OS); rows and kept results come back in the same order as with ``n_jobs=1``, and a run
    gives the same numbers in a worker as in the main process (each run seeds itself).
    """
    runs, seeds = list(runs), list(seeds)
    jobs = [(label, method, seed, {**common, **overrides}) for label, method, overrides in runs for seed in seeds]
    rows: list[dict] = []
    with tqdm(total=len(jobs), desc="runs") as bar:
        if n_jobs is None or n_jobs <= 1 or len(jobs) <= 1:
            results = []
            for label, method, seed, overrides in jobs:
                bar.set_postfix_str(f"{label} seed {seed}")
                results.append(_grid_worker(method, train_ds, test_ds, seed, preset, overrides))
                bar.update()
        else:
            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=min(n_jobs, len(jobs)), mp_context=ctx) as pool:
                futures = [pool.submit(_grid_worker, method, train_ds, test_ds, seed, preset, overrides)
                           for _label, method, seed, overrides in jobs]
                for fut in futures:
                    fut.add_done_callback(lambda _f: bar.update())
                results = [f.result() for f in futures]  # submission order: deterministic
    for (label, _method, _seed, _overrides), res in zip(jobs, results):
        rows.append(result_row(res, label=label))
        if keep is not None:
            keep.append(res)
    return pd.DataFrame(rows)


def _grid_worker(method: str, train_ds, test_ds, seed: int, preset: str | None, overrides: dict) -> Result:
    """One run (a top-level function, so ``spawn`` workers can import it)."""
    overrides = {"progress": False, **overrides}
    return run(method, train_ds, test_ds, seed=seed, preset=preset, **overrides)


def result_row(res: Result, **extra) -> dict:
    """The scalar metrics of one run, with its method and seed."""
    row = {"method": res.method, "seed": res.config["seed"], **extra}
    row.update({k: res.metrics.get(k, np.nan) for k in SCALAR_METRICS})
    row["wall_seconds"] = res.config.get("wall_seconds", np.nan)
    return row


def compare_methods(methods: Iterable[str], train_ds, test_ds, seeds: Iterable[int], preset: str | None = "embedded",
                    n_jobs: int = 1, **common) -> pd.DataFrame:
    """Every method with its defaults over the seeds (Table 1/2 style); ``label`` = method name."""
    return run_grid(((m, m, {}) for m in methods), train_ds, test_ds, seeds, preset=preset, n_jobs=n_jobs, **common)
