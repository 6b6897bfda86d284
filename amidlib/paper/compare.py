"""Command line: every method on the embedded real dataset, mean ± std over seeds.

    python -m amidlib.paper.compare --preset embedded --seeds 0 1 2 [--target fou --auxiliary fac] [--out runs/compare]
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from amidlib.data.arrays import load_embedded
from amidlib.core.experiment import atomic_write_text
from amidlib.core.methods import METHODS
from amidlib.paper.tables import format_table, mean_std
from amidlib.repro.studies import compare_methods

ORDER = ["baseline", "teacher", "crd", "gmc", "crcd", "ccl", "amid"]


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="embedded", help="tiny | embedded (default) | paper_video | paper_iemocap")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--methods", nargs="+", default=[m for m in ORDER if m in METHODS], choices=sorted(METHODS))
    p.add_argument("--target", nargs="+", default=["fou"], help="target view(s) of UCI Multiple Features")
    p.add_argument("--auxiliary", nargs="+", default=["fac"], help="auxiliary view(s)")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--out", type=Path, default=None, help="folder for runs.csv and table.md (must not exist)")
    args = p.parse_args(argv)

    train, test = load_embedded(target=args.target, auxiliary=args.auxiliary)
    print(f"UCI Multiple Features: target {args.target} → auxiliary {args.auxiliary}; {len(train)} train / {len(test)} test")
    extra = {"epochs": args.epochs} if args.epochs else {}
    started = time.perf_counter()
    runs = compare_methods(args.methods, train, test, args.seeds, preset=args.preset, **extra)
    metrics = ["student_top1", "teacher_top1", "student_r1", "student_r5"]
    table = format_table(mean_std(runs, "label", metrics), "label", metrics).rename(columns={"label": "method"})
    text = table.to_markdown(index=False)
    print(text)
    print(f"\n{len(runs)} runs in {time.perf_counter() - started:.0f} s (preset {args.preset}, seeds {args.seeds})")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=False)
        atomic_write_text(args.out / "runs.csv", runs.to_csv(index=False))
        atomic_write_text(args.out / "table.md", text + "\n")


if __name__ == "__main__":
    main()
