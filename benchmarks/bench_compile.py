"""A compiled training step against the eager one: does ``torch.compile`` (inductor, CPU) make the batched AMID
step faster on this machine, compile time counted? (issue: a reproduction near the machine's limit)

Both arms train the same 10-seed AMID task on the digit pairs (preset embedded_pairs, one thread) in this process,
one after the other and then again in the other order. The compiled arm compiles the batched step's forward pass
(``vmap`` of the method's step; AOTAutograd compiles its backward with it) once per phase (warm-up, distillation)
with ``torch.compile(dynamic=False)``; the optimizer is the fused Adam in both. Reported: each arm's wall time,
the compiled arm's first task (compiling) and second (compiled already), and the ratio.

    python benchmarks/bench_compile.py [--seeds 10] [--epochs 24] [--out benchmarks/RESULTS_compile.md]
"""
from __future__ import annotations

import argparse
import datetime as dt
import time
from pathlib import Path

import torch
from torch.func import vmap

from amidlib.core import batched
from amidlib.core.experiment import run_seeds
from amidlib.core.files import atomic_write_text
from amidlib.data.digit_pairs import load_uci_pairs
from amidlib.repro.reproduction_files import core_speed, machine_line


class CompiledSteps:
    """Stands in for ``torch.func.vmap`` inside the batched engine: the step of each phase compiled once, as two
    graphs, because the engine runs two backward passes (the main terms' into the main optimizer's parameters, the
    discriminators' into theirs) and AOTAutograd gives one compiled graph one backward: the main terms, and the
    discriminators' loss (Eq 13), which recomputes the representations it reads (a forward pass more than the
    eager step does: the compiled arm is charged for it)."""

    def __init__(self):
        self.compiled: dict = {}

    def __call__(self, fn, *args, **kwargs):
        if not fn.__qualname__.startswith("_step"):  # evaluation's embed stays eager
            return vmap(fn, *args, **kwargs)
        cells = dict(zip(fn.__code__.co_freevars, (cell.cell_contents for cell in fn.__closure__), strict=True))
        warm = cells["calls"].method.in_warmup(cells["epoch"])
        if warm not in self.compiled:  # the phase's first step: compiled with its closure (its has_d list)
            main = torch.compile(vmap(lambda *a: fn(*a)[:3], *args, **kwargs), dynamic=False)
            disc = torch.compile(vmap(lambda *a: fn(*a)[3], *args, **kwargs), dynamic=False)
            self.compiled[warm] = (main, disc, cells["has_d"])
        main, disc, traced_has_d = self.compiled[warm]

        def run(*inputs):
            total, terms, logs = main(*inputs)
            cells["has_d"][:] = traced_has_d  # (the compiled step writes the list it was traced with)
            d_loss = disc(*inputs) if traced_has_d[0] else total.new_zeros(total.shape)
            return total, terms, logs, d_loss

        return run


def timed(train, test, seeds, epochs, compiled: bool) -> tuple[float, list[float]]:
    batched.vmap = CompiledSteps() if compiled else vmap
    try:
        started = time.perf_counter()
        res = run_seeds("amid", train, test, seeds=seeds, preset="embedded_pairs", progress=False, epochs=epochs,
                        eval_every=0)
        return time.perf_counter() - started, [r.metrics["student_top1"] for r in res]
    finally:
        batched.vmap = vmap


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--epochs", type=int, default=24)
    ap.add_argument("--out", default=str(Path(__file__).with_name("RESULTS_compile.md")))
    args = ap.parse_args()
    torch.set_num_threads(1)
    train, test = load_uci_pairs()
    seeds = list(range(args.seeds))
    peak = core_speed()
    eager1, top_eager = timed(train, test, seeds, args.epochs, compiled=False)
    torch._dynamo.reset()
    first, top_compiled = timed(train, test, seeds, args.epochs, compiled=True)   # compiles (a fresh process's cost)
    second, _ = timed(train, test, seeds, args.epochs, compiled=True)             # (a new CompiledSteps: recompiles?)
    eager2, _ = timed(train, test, seeds, args.epochs, compiled=False)
    eager = (eager1 + eager2) / 2
    diff = max(abs(a - b) for a, b in zip(top_eager, top_compiled, strict=True))
    lines = [f"# A compiled training step (torch.compile, inductor, CPU) against the eager one ({machine_line()})", "",
             f"Measured by `python benchmarks/bench_compile.py` on {dt.date.today()}, torch {torch.__version__}: one "
             f"AMID task of {args.seeds} seeds × {args.epochs} epochs on the digit pairs (batch 16), one thread; one "
             f"core's batched products at {peak:.0f} GFLOP/s.", "",
             "| arm | wall (s) |", "|---|---|",
             f"| eager (before and after the compiled arm) | {eager1:.1f}, {eager2:.1f} |",
             f"| compiled, first task (compiles both phases' steps) | {first:.1f} |",
             f"| compiled, second task (Dynamo's cache warm in this process) | {second:.1f} |", "",
             f"Ratio eager / compiled: {eager / first:.2f}× with the compile time, {eager / second:.2f}× without it. "
             f"Largest difference of a seed's final student top-1 between the arms: {diff:.2f} points (float "
             "rounding of fused kernels, compounded over training)."]
    text = "\n".join(lines) + "\n"
    print(text)
    atomic_write_text(Path(args.out), text)


if __name__ == "__main__":
    main()
