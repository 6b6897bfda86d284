"""``torchrun --nproc_per_node N -m amidlib.repro.torchrun``: one run split across N ranks
(:mod:`amidlib.core.distributed`); rank 0 writes the record, whose config has ``world_size``.

The data: any registered dataset (:mod:`amidlib.data.datasets`) on its default split and views: the embedded
UCI views (default), or a video dataset of the paper profile (``--dataset ucf51 --data-root /data --cache-dir
runs/paper/features``; ``activitynet``; ``av_tier``, the generated tier), whose loader decodes on each rank only
that rank's share of every global batch."""
from __future__ import annotations

import json
from pathlib import Path

import torch.distributed as dist

from amidlib.core.distributed import init_from_env, is_main_process, world, world_size
from amidlib.core.experiment import run
from amidlib.data import datasets
from amidlib.data.splits import run_data

__all__ = ["main"]


def _value(text: str):
    """A ``--set`` value: JSON where it parses (numbers, true/false, lists), else the string."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _options(ds: datasets.Dataset, args) -> dict:
    """The loader options: where the files are (a dataset kept with the package has none)."""
    return {"root": args.data_root, "cache": args.cache_dir} if _needs_files(ds) else {}


def _needs_files(ds: datasets.Dataset) -> bool:
    return bool(ds.location(None, Path(".")))


def _data(args):
    """(train, test, run() arguments) of the run: the dataset's default split (the embedded data: the
    holdout split of ``load_embedded``). Rank 0 loads first (a first load writes the feature cache, or
    generates the tier); the other ranks then read what it wrote."""
    ds = datasets.get(args.dataset)
    target, auxiliary = ds.views
    target, auxiliary = tuple(args.target or target), tuple(args.auxiliary or auxiliary)
    first = world() is None or world().rank == 0
    if not first:
        dist.barrier()
    data = run_data(ds.name, target, auxiliary, ds.default_split(0.8, 0), _options(ds, args))
    if first and world() is not None:
        dist.barrier()
    return data.train, data.test, data.run_args


def main(argv=None) -> int:
    """``torchrun --nproc_per_node N -m amidlib.repro.torchrun --method amid --out DIR``: one run split across
    N ranks; rank 0 saves the record (config.json has ``world_size``)."""
    import argparse
    import time

    p = argparse.ArgumentParser(prog="torchrun --nproc_per_node N -m amidlib.repro.torchrun", description=main.__doc__)
    p.add_argument("--method", default="amid")
    p.add_argument("--dataset", default=datasets.DEFAULT, choices=datasets.names(),
                   help="uci_mfeat: the embedded views (--target, --auxiliary); a video dataset: --data-root")
    p.add_argument("--data-root", default="", help="the paper's data root (ucf51, activitynet) or the tier's folder")
    p.add_argument("--cache-dir", default=None, help="the frozen extractors' feature cache (video datasets)")
    p.add_argument("--preset", default=None, help="default: the dataset's (embedded for uci_mfeat, paper_video for a "
                   "video dataset)")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--target", nargs="+", default=None, help="default: the dataset's (uci_mfeat: fou)")
    p.add_argument("--auxiliary", nargs="+", default=None, help="default: the dataset's (uci_mfeat: fac)")
    p.add_argument("--set", nargs=2, action="append", default=[], metavar=("KEY", "VALUE"),
                   help="a config value, e.g. --set num_workers 4 --set checkpoint_dir runs/x (repeatable)")
    p.add_argument("--device", default="cpu", help="cpu (gloo) or cuda (NCCL, one GPU per rank)")
    p.add_argument("--out", required=True, help="folder for the run record (written by rank 0; must not hold one)")
    args = p.parse_args(argv)
    dataset = datasets.get(args.dataset)
    if _needs_files(dataset) and not args.data_root:
        p.error(f"--dataset {args.dataset} needs --data-root")
    preset = args.preset or dataset.preset
    device = init_from_env(args.device)
    try:
        train_ds, test_ds, run_args = _data(args)
        extra = {"epochs": args.epochs} if args.epochs else {}
        extra.update({key: _value(value) for key, value in args.set})
        started = time.perf_counter()
        res = run(args.method, train_ds, test_ds, seed=args.seed, preset=preset, device=device, progress=False,
                  **run_args, **extra)
        if is_main_process():
            res.save(args.out)
            print(f"{args.method} on {world_size()} rank(s), global batch {res.config['batch_size']}: student top-1 "
                  f"{res.metrics['student_top1']:.1f}, {time.perf_counter() - started:.1f} s; record in {args.out}",
                  flush=True)
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
