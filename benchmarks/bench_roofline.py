"""The roofline of a reproduction: how many FLOPs its runs did, the floor they set on this machine, and how far
each reproduction's wall time and each method's training were from it (issue: a reproduction near the machine's
limit). Reads finished reproductions' run folders (``runs/cpu/<folder>``: the run cache and ``timings.csv``);
without one, counts the FLOPs of a profile's workload (its first-seed runs: the edge seeds depend on verdicts).

    floor = Σ_runs FLOPs / (cores × peak)      peak: one core's batched products of AMID's step shape, measured now
                                               (or --peak: the figure a reproduction recorded)

    python benchmarks/bench_roofline.py --run runs/cpu/20261207-112011 [--run OTHER ...] [--label old --label new]
                                        [--peak 79] [--out benchmarks/RESULTS_roofline.md]
    python benchmarks/bench_roofline.py --profile cpu
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
from pathlib import Path

from amidlib.core.files import atomic_write_text
from amidlib.repro import profiles, roofline
from amidlib.repro.reproduce import WORKLOAD
from amidlib.repro.reproduction_files import core_speed, machine_line


def reproduction_wall(folder: Path) -> tuple[float | None, float | None]:
    """(the whole reproduction's wall seconds, its workload step's) from a run folder's ``timings.csv``."""
    path = folder / "timings.csv"
    if not path.is_file():
        return None, None
    rows = {r["notebook"]: r for r in csv.DictReader(path.open())}
    total, workload = rows.get("TOTAL"), rows.get(WORKLOAD)
    return (float(total["seconds"]) if total else None), (float(workload["seconds"]) if workload else None)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", action="append", default=[], help="a finished reproduction's run folder (repeatable)")
    ap.add_argument("--label", action="append", default=[], help="a name for each --run, in order")
    ap.add_argument("--profile", default="cpu", help="without --run: count this profile's workload")
    ap.add_argument("--peak", type=float, default=None, help="GFLOP/s per core (default: measured now)")
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--out", default=None, help="write the report here (Markdown)")
    args = ap.parse_args()
    peak = args.peak or core_speed(1.0)
    lines = [f"# Roofline of the reproduction ({machine_line()})", "",
             f"Measured by `python benchmarks/bench_roofline.py` on {dt.date.today()}: one core's batched products "
             f"of AMID's step shape at **{peak:.0f} GFLOP/s** ({'given' if args.peak else 'measured now'}); the floor "
             f"is every run's FLOPs over {args.cores} cores at that rate. Per method: the share of one core's peak "
             "its runs reached while training (FLOPs / (CPU s × peak)).", ""]
    if not args.run:
        from amidlib.paper.workload import reproduction_cells

        prof = profiles.load_profile(args.profile)
        frame = roofline.workload_frame(c.spec for c in reproduction_cells(prof))
        summary = roofline.summarize(frame, peak, args.cores)
        lines += [f"Profile {args.profile}, first seeds only (no edge seeds): " + roofline.summary_lines(summary)[0]]
    else:
        lines += ["| reproduction | runs | TFLOP | floor (s) | wall (s) | × floor | workload (s) | × floor | "
                  "training CPU-s | share of peak by method |", "|---" * 10 + "|"]
        for i, folder in enumerate(map(Path, args.run)):
            label = args.label[i] if i < len(args.label) else folder.name
            frame = roofline.cache_frame(folder / "cache")
            wall, workload = reproduction_wall(folder)
            summary = roofline.summarize(frame, peak, args.cores)
            if wall:
                summary = roofline.with_wall(summary, wall, workload)
            shares = ", ".join(f"{m} {100 * v['of_peak']:.0f} %" for m, v in summary["per_method"].items()
                               if v["of_peak"] is not None)
            nan = float("nan")
            lines.append(f"| {label} | {summary['runs']} | {summary['tflop']:.2f} | {summary['floor_s']:.0f} | "
                         f"{wall or nan:.0f} | {summary.get('times_floor') or nan:.1f} | {workload or nan:.0f} | "
                         f"{summary.get('workload_times_floor') or nan:.1f} | {summary['train_cpu_s']:.0f} | "
                         f"{shares} |")
            print("\n".join(f"{label}: {line}" for line in roofline.summary_lines(summary)), flush=True)
    text = "\n".join(lines) + "\n"
    print(text)
    if args.out:
        atomic_write_text(Path(args.out), text)


if __name__ == "__main__":
    main()
