"""Benchmark (not a test): training-step time of every method as a ratio to the student-alone step,
measured in one process on the same batches, and the wall time of a full ``run("amid", ...)`` on the
embedded default.

    python benchmarks/bench_methods.py [--preset embedded] [--steps 200] [--no-full-run]

Ratios, not absolute times, are what carry over between machines. Record the output in
benchmarks/RESULTS.md.
"""
from __future__ import annotations

import argparse
import platform
import time

import torch

from amidlib.core.config import make_config
from amidlib.core.experiment import run
from amidlib.core.methods import METHODS
from amidlib.core.models import build_nets
from amidlib.core.training import TensorData, seed_everything
from amidlib.data.arrays import load_embedded


def time_steps(method_name: str, train_ds, preset: str, steps: int, warmup_steps: int = 20) -> float:
    """Median seconds of one full training step (forward, backward, optimizer; AMID: + discriminators)."""
    cls = METHODS[method_name]
    cfg = make_config(cls.defaults, preset=preset, warmup_epochs=0)
    torch.set_num_threads(cfg.num_threads or torch.get_num_threads())
    data = TensorData(train_ds, "cpu")
    generator = seed_everything(0)
    model = cls(build_nets(train_ds.target_dim, train_ds.aux_dim, train_ds.n_classes, cfg.dim, cfg.hidden, cfg.dropout),
                cfg, train_ds.n_classes, data.n)
    d_params = model.discriminator_parameters()
    d_ids = {id(p) for p in d_params}
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad and id(p) not in d_ids], lr=cfg.lr)
    d_opt = torch.optim.Adam(d_params, lr=cfg.d_lr) if d_params else None
    batches = []
    while len(batches) < steps + warmup_steps:
        batches.extend(data.batches(cfg.batch_size, generator, drop_last=True))
    times = []
    model.train()
    for i, batch in enumerate(batches[: steps + warmup_steps]):
        t0 = time.perf_counter()
        out = model(batch, epoch=1)
        loss = sum(out.losses.values())
        opt.zero_grad()
        loss.backward()
        opt.step()
        d_loss = model.discriminator_loss(out, batch, epoch=1)
        if d_loss is not None:
            d_opt.zero_grad()
            d_loss.backward()
            d_opt.step()
        if i >= warmup_steps:
            times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="embedded")
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--no-full-run", action="store_true")
    args = p.parse_args()
    torch.set_flush_denormal(True)
    train, test = load_embedded()
    print(f"machine: {platform.processor() or platform.machine()}, torch {torch.__version__}, preset {args.preset}")
    base = None
    print(f"{'method':<10} {'ms/step':>8} {'ratio':>6}")
    for name in METHODS:  # every registered method (one file each in amidlib/core/methods/), in registry order
        t = time_steps(name, train, args.preset, args.steps)
        base = base or t
        print(f"{name:<10} {1000 * t:8.2f} {t / base:6.2f}")
    if not args.no_full_run:
        t0 = time.perf_counter()
        res = run("amid", train, test, seed=0, preset=args.preset, progress=False)
        print(f"full run('amid') on the embedded default, preset {args.preset}: {time.perf_counter() - t0:.1f} s "
              f"({res.config['epochs']} epochs, student {res.metrics['student_top1']:.1f}, teacher "
              f"{res.metrics['teacher_top1']:.1f})")


if __name__ == "__main__":
    main()
