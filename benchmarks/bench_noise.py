"""How much of a run's noise is the test set's sampling, and how much the training's? (issue: verdicts that do not
depend on the CPU, item 4)

The digit pairs are combinatorial: a test split holds 1,100 pairs (20 per class) drawn from the test digits, and ten
times as many cost only their evaluation. The training split's stream is its own, so the same seed trains the *same*
model whatever the test size (checked: the training histories are equal). Each method is trained over the seeds on
the main pairing of profile cpu (uci_pairs fou→fac, preset embedded_pairs, one thread, batched seeds), once with the
profile's test set and once with 10× the test pairs; reported per method: the between-seed sd of student top-1 at
each size and the binomial sd of one test set of that size (√(p(1−p)/n)); and for AMID − baseline paired by seed, the
sd of the differences and the 95 % half-width at each size.

    python benchmarks/bench_noise.py [--seeds 10] [--scale 10] [--out benchmarks/RESULTS_noise.md]
"""
from __future__ import annotations

import argparse
import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy import stats

from amidlib.core.experiment import run_seeds
from amidlib.core.files import atomic_write_text
from amidlib.data.digit_pairs import TEST_PER_CLASS, load_uci_pairs
from amidlib.repro.reproduction_files import machine_line

METHODS = ("baseline", "amid", "ccl")


def train(method: str, seeds: list[int], test_per_class: int) -> tuple[np.ndarray, list[pd.DataFrame]]:
    splits = [load_uci_pairs(split_seed=s, test_per_class=test_per_class) for s in seeds]
    res = run_seeds(method, [tr for tr, _ in splits], [te for _, te in splits], seeds=seeds, preset="embedded_pairs",
                    progress=False, eval_every=0)
    return np.array([r.metrics["student_top1"] for r in res]), [r.history for r in res]


def half_width(d: np.ndarray) -> float:
    return float(stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / math.sqrt(len(d)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--scale", type=int, default=10)
    ap.add_argument("--out", default=str(Path(__file__).with_name("RESULTS_noise.md")))
    args = ap.parse_args()
    torch.set_num_threads(1)
    seeds = list(range(args.seeds))
    sizes = {"profile": TEST_PER_CLASS, f"{args.scale}×": TEST_PER_CLASS * args.scale}
    top1, rows = {}, []
    for method in METHODS:
        hist = {}
        for name, per_class in sizes.items():
            top1[method, name], hist[name] = train(method, seeds, per_class)
            print(f"{method} at {per_class * 55} test pairs: {np.round(top1[method, name], 1)}", flush=True)
        loss = [np.concatenate([h["loss_total"].to_numpy() for h in per_seed]) for per_seed in hist.values()]
        same_model = bool(np.array_equal(loss[0], loss[1]))  # the same training at both test sizes
        for name, per_class in sizes.items():
            v, n = top1[method, name], per_class * 55
            p = v.mean() / 100
            rows.append({"method": method, "test pairs": n, "mean top-1": f"{v.mean():.2f}",
                         "between-seed sd": f"{v.std(ddof=1):.2f}",
                         "one test set's binomial sd": f"{100 * math.sqrt(p * (1 - p) / n):.2f}",
                         "same model at both sizes": "yes" if same_model else "NO"})
    paired = []
    for other in ("baseline", "ccl"):
        for name, per_class in sizes.items():
            d = top1["amid", name] - top1[other, name]
            paired.append({"AMID −": other, "test pairs": per_class * 55, "mean": f"{d.mean():+.2f}",
                           "sd of the differences": f"{d.std(ddof=1):.2f}", "95 % half-width": f"{half_width(d):.2f}"})
    text = [f"# How much of a run's noise is the test set's sampling ({machine_line()})", "",
            f"Measured by `python benchmarks/bench_noise.py` on {dt.date.today().isoformat()}: {args.seeds} seeds "
            "per method on uci_pairs fou→fac (preset embedded_pairs), each trained once with the profile's test set "
            f"and once with {args.scale}× the test pairs drawn from the same test digits; the training split and the "
            "model are the same at both sizes (the training histories are equal: last column).", "",
            pd.DataFrame(rows).to_markdown(index=False), "", "Paired by seed:", "",
            pd.DataFrame(paired).to_markdown(index=False), ""]
    atomic_write_text(Path(args.out), "\n".join(text))
    print("\n".join(text))


if __name__ == "__main__":
    main()
