"""``torchrun --nproc_per_node N -m amidlib.repro.torchrun``: one embedded run split across N ranks
(:mod:`amidlib.core.distributed`); rank 0 writes the record, whose config has ``world_size``."""
from __future__ import annotations

import torch.distributed as dist

from amidlib.core.distributed import init_from_env, is_main_process, world_size
from amidlib.core.experiment import run
from amidlib.data.arrays import load_embedded

__all__ = ["main"]


def main(argv=None) -> int:
    """``torchrun --nproc_per_node N -m amidlib.repro.torchrun --method amid --out DIR``: one run on the
    embedded data split across N ranks; rank 0 saves the record (config.json has ``world_size``)."""
    import argparse
    import time

    p = argparse.ArgumentParser(prog="torchrun --nproc_per_node N -m amidlib.repro.torchrun", description=main.__doc__)
    p.add_argument("--method", default="amid")
    p.add_argument("--preset", default="embedded")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--target", nargs="+", default=["fou"])
    p.add_argument("--auxiliary", nargs="+", default=["fac"])
    p.add_argument("--device", default="cpu", help="cpu (gloo) or cuda (NCCL, one GPU per rank)")
    p.add_argument("--out", required=True, help="folder for the run record (written by rank 0; must not hold one)")
    args = p.parse_args(argv)
    device = init_from_env(args.device)
    try:
        train_ds, test_ds = load_embedded(target=args.target, auxiliary=args.auxiliary)
        extra = {"epochs": args.epochs} if args.epochs else {}
        started = time.perf_counter()
        res = run(args.method, train_ds, test_ds, seed=args.seed, preset=args.preset, device=device, progress=False, **extra)
        if is_main_process():
            res.save(args.out)
            print(f"{args.method} on {world_size()} rank(s), global batch {res.config['batch_size']}: student top-1 "
                  f"{res.metrics['student_top1']:.1f}, {time.perf_counter() - started:.1f} s; record in {args.out}", flush=True)
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
