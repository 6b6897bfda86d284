"""A reproduction's whole workload: every run that a table, figure or claim of the notebooks reads, trained
in one pool before the notebooks run.

A notebook trains what each cell needs when the cell runs, which keeps a notebook opened in JupyterLab
readable from top to bottom. Across a whole reproduction that wastes the machine: a cell whose runs are
one batched task leaves every other worker idle until it ends. ``python -m amidlib.repro`` (a full
reproduction) therefore first trains :func:`reproduction_cells` here, all at once, longest tasks first,
in ``n_jobs`` processes (or on Ray), then the edge seeds the first seeds' verdicts call for
(:mod:`amidlib.paper.edge`); the notebooks then find every run in the run cache and only compute,
write and draw. A run the notebooks need beyond this list is still trained by them (the driver says how
many there were), so the list can only cost time, never change a number.

    python -m amidlib.paper.workload --profile cpu --cache-dir runs/cpu/cache [--params '{"seeds": [0, 1]}']
                                     [--roofline runs/cpu/roofline.json]

With ``--roofline`` it ends with the workload's roofline (:mod:`amidlib.repro.roofline`): every run's FLOPs,
the floor they set on this machine and how close each method's training came to one core's peak, written
as JSON for ``python -m amidlib.repro`` to print and record beside the wall time.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from amidlib.core.files import atomic_write_text
from amidlib.paper.edge import edge_cells, first_runs
from amidlib.paper.plans import CURVE_ROWS, PLANS, figure_cells
from amidlib.paper.regime import regime_cells
from amidlib.paper.sensitivity import sensitivity_cells
from amidlib.repro import lifetime, profiles, roofline
from amidlib.repro.profiles import COMMON_PARAMETERS, Profile
from amidlib.repro.reproduction_files import core_speed
from amidlib.repro.runs import Cell, Study

__all__ = ["reproduction_cells", "train_workload", "main"]


def reproduction_cells(prof: Profile) -> list[Cell]:
    """Every cell the notebooks 01–06 read under ``prof``: Tables 1–6, the figures' rows (the curve rows
    and the teacher alone of Fig 1) and fig_regime's sweep. Cells share runs; the Study trains each once."""
    cells: list[Cell] = []
    for plan in PLANS.values():
        cells += plan(prof)
    cells += figure_cells(prof, (*CURVE_ROWS, "teacher_alone"))
    if prof.sweeps.batch_sizes:
        cells += regime_cells(prof)
    cells += sensitivity_cells(prof)  # Table 4's arms under other α (why ours differs: claims.md)
    return cells


def train_workload(prof: Profile, verbose: bool = True) -> tuple[Study, list[Cell]]:
    """Train every run of :func:`reproduction_cells` the cache lacks, in one pool, then the edge seeds; returns the
    Study and every cell trained (the edge seeds' included)."""
    profiles.check_requirements(prof)  # the paper profile stops here, naming every missing file
    study = Study(prof, verbose=verbose)
    cells = reproduction_cells(prof)
    if verbose:
        print(f"workload of profile {prof.name}: {len({c.spec.key() for c in cells})} distinct runs behind "
              f"{len(cells)} table and figure cells", flush=True)
    study.ensure(c.spec for c in cells)
    # then the edge seeds: both arms of each comparison whose interval over the first seeds ends at the edge of 0
    more = edge_cells(prof, first_runs(study))
    if verbose and prof.seed_sets.edge:
        arms = sorted({(c.setting, c.row) for c in more})
        print(f"edge seeds {list(prof.seed_sets.edge)}: {len(arms)} arm(s) of the comparisons at the edge"
              + (" (" + ", ".join(f"{row} on {setting}" for setting, row in arms) + ")" if arms else "")
              + f": {len({c.spec.key() for c in more})} runs", flush=True)
    study.ensure(c.spec for c in more)
    return study, cells + more


def write_roofline(prof: Profile, study: Study, cells: list[Cell], path: str) -> dict:
    """The roofline of every run the workload read (:mod:`amidlib.repro.roofline`) as JSON in ``path``, without
    the wall time (the caller knows it): FLOPs per run, one core's peak now, the CPU seconds per method."""
    frame = roofline.workload_frame((c.spec for c in cells), study.cache)
    cores = max(1, min(prof.execution.n_jobs or 1, os.cpu_count() or 1))
    summary = roofline.summarize(frame, core_speed(), cores)
    summary["trained_here"] = study.trained  # (the others were in the cache: their time is not this reproduction's)
    atomic_write_text(Path(path), json.dumps(summary, indent=2))
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m amidlib.paper.workload", description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="cpu", choices=sorted(profiles.PROFILES))
    ap.add_argument("--cache-dir", default=None, help="the run cache the notebooks will read")
    ap.add_argument("--params", default="{}", help="the notebooks' common parameters as JSON "
                    f"({', '.join(p for p in COMMON_PARAMETERS if p not in ('profile', 'cache_dir'))})")
    ap.add_argument("--roofline", default=None, help="write the workload's roofline (JSON) here")
    args = ap.parse_args(argv)
    lifetime.die_with_parent()  # started by the runner ($AMIDLIB_PARENT_PID): a SIGKILLed runner takes this down
    params = json.loads(args.params)
    unknown = sorted(set(params) - set(COMMON_PARAMETERS) | set(params) & {"profile", "cache_dir"})
    if unknown:
        print(f"error: --params takes the common notebook parameters; not: {', '.join(unknown)}", file=sys.stderr)
        return 2
    prof = profiles.load_profile(args.profile, cache_dir=args.cache_dir, **params)
    study, cells = train_workload(prof)
    if args.roofline:
        try:
            lines = roofline.summary_lines(write_roofline(prof, study, cells, args.roofline))
        except Exception as exc:  # noqa: BLE001 - a yardstick: the runs are trained and cached whatever it says
            lines = [f"roofline: not counted ({type(exc).__name__}: {exc})"]
        for line in lines:
            print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
