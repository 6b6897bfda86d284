"""Command line: every method on the embedded real dataset, mean ± std over seeds.

    python -m amidlib.paper.compare --preset embedded --seeds 0 1 2 [--target fou --auxiliary fac] [--out runs/compare]

The runs go through the one run engine, :class:`amidlib.repro.runs.Study`, under the ``cpu`` profile
(its 400 / 1,600 split of UCI Multiple Features, its worker processes) with the chosen views, preset
and seeds. Each method keeps its own defaults: the profile's per-method overrides (fewer CRD/CRCD
negatives) are not applied. Runs are cached under ``runs/compare/cache`` (``--cache-dir``), so a
second call with the same arguments trains nothing.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from amidlib.core.files import atomic_write_text
from amidlib.core.methods import METHODS
from amidlib.paper.tables import format_table, mean_std
from amidlib.repro.profiles import Pairing, Profile, load_profile
from amidlib.repro.runs import Cell, Study, load_split, make_spec

METRICS = ["student_top1", "teacher_top1", "student_r1", "student_r5"]


def compare_profile(preset: str, seeds, target, auxiliary, epochs: int | None = None,
                    cache_dir: str | Path | None = None, n_jobs: int | None = None) -> Profile:
    """The ``cpu`` profile with one pairing (``target`` → ``auxiliary``), ``preset``, ``seeds`` and no
    per-method overrides; its run cache in ``cache_dir`` (default ``runs/compare/cache``)."""
    prof = load_profile("cpu", seeds=list(seeds), epochs=epochs, n_jobs=n_jobs, out_dir="runs/compare/figures",
                        cache_dir=cache_dir or "runs/compare/cache")  # (its own folders: never the committed figures)
    pairing = Pairing(tuple(target), tuple(auxiliary), "compare")
    return prof.replace(preset=preset, pairings=(pairing, pairing), config={"per_method": {}})


def compare_cells(prof: Profile, methods) -> list[Cell]:
    """One cell per method and seed (methods in the given order) on the profile's main pairing."""
    pairing = prof.main
    return [Cell("compare", pairing.key, pairing.paper, m, make_spec(prof, pairing, m, seed))
            for m in methods for seed in prof.seeds]


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--preset", default="embedded", help="tiny | embedded (default) | paper_video | paper_iemocap")
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS))
    p.add_argument("--target", nargs="+", default=["fou"], help="target view(s) of UCI Multiple Features")
    p.add_argument("--auxiliary", nargs="+", default=["fac"], help="auxiliary view(s)")
    p.add_argument("--epochs", type=int, default=None)
    p.add_argument("--n-jobs", type=int, default=None, help="worker processes (default: the cpu profile's)")
    p.add_argument("--cache-dir", type=Path, default=None, help="the run cache (default runs/compare/cache)")
    p.add_argument("--out", type=Path, default=None, help="folder for runs.csv and table.md (must not exist)")
    args = p.parse_args(argv)
    if args.out is not None and args.out.exists():  # refused before anything trains
        p.error(f"--out {args.out} exists; choose a new folder")

    prof = compare_profile(args.preset, args.seeds, args.target, args.auxiliary, args.epochs, args.cache_dir,
                           args.n_jobs)
    cells = compare_cells(prof, args.methods)
    train, test = load_split(cells[0].spec)
    print(f"UCI Multiple Features: target {args.target} → auxiliary {args.auxiliary}; {len(train)} train / "
          f"{len(test)} test; run cache {prof.paths.cache_dir}")
    started = time.perf_counter()
    study = Study(prof)
    runs = study.runs(cells)
    table = format_table(mean_std(runs, "method", METRICS), "method", METRICS)
    text = table.to_markdown(index=False)
    print(text)
    print(f"\n{len(runs)} runs ({study.trained} trained, {len(runs) - study.trained} from the cache) in "
          f"{time.perf_counter() - started:.0f} s (preset {args.preset}, seeds {args.seeds})")
    if args.out:
        args.out.mkdir(parents=True, exist_ok=False)
        atomic_write_text(args.out / "runs.csv", runs.to_csv(index=False))
        atomic_write_text(args.out / "table.md", text + "\n")


if __name__ == "__main__":
    main()
