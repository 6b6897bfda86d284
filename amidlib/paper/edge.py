"""More seeds where a verdict sits at the edge: the runs behind them, planned from the first seeds' verdicts.

With 10 seeds an interval can end within a point of 0, and another CPU's rounding drift (≈ 0.9 points
of top-1 per run on the digit pairs, where the claims run; benchmarks/cross_cpu) can then move it across: the
verdict a reader sees would depend on the machine. So a comparison of Tables 1, 2, 4, 5 whose interval over
the profile's seeds ends within the edge band of 0 (:func:`amidlib.paper.claims.edge_band`: 3 drift sds of a
mean of n paired differences, 1.21 points for top-1 at n = 10 on the pairs) is decided over the profile's edge
seeds as well
(``seed_sets.edge``; seeds 10-19 under profile cpu, so 20 in all), both arms, paired by seed:

    first seeds  →  evaluate_claims  →  comparisons at the edge  →  their two arms × edge seeds  →  runs.csv "edge"

The decision reads the first seeds only and looks at both sides of 0, so it favours no verdict; the
extra runs are evaluated only for their final metrics (no figure draws their curves). The runs land in
``runs.csv`` as source ``edge`` (each with the row and pairing of its arm); the tables keep the first seeds,
so every row of a table has the same n, and :func:`~amidlib.paper.claims.evaluate_claims` adds the edge runs
to the comparisons at the edge only.

``python -m amidlib.repro`` plans them in its workload (:func:`edge_cells` on the trained first seeds);
notebook 06 records them (:func:`build_edge`).
"""
from __future__ import annotations

import pandas as pd

from amidlib.paper import names
from amidlib.paper.claims import EDGE_SOURCE, EXTENDABLE, evaluate_claims
from amidlib.paper.plans import PLANS
from amidlib.paper.records import record_runs
from amidlib.repro.profiles import Profile
from amidlib.repro.runs import Cell, Study, make_spec

__all__ = ["first_runs", "edge_arms", "edge_cells", "build_edge"]


def first_runs(study: Study) -> pd.DataFrame:
    """The runs (as runs.csv rows) of the tables whose comparisons may be extended, over the first seeds;
    trains what the cache lacks."""
    frames = [study.runs(PLANS[t](study.prof)).assign(source=t) for t in EXTENDABLE]
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["source", "setting", "row"])


def edge_arms(runs: pd.DataFrame) -> list[tuple[str, str]]:
    """(setting, row) of both arms of every comparison at the edge over ``runs``' seeds, each once."""
    verdicts = evaluate_claims(runs[runs["source"] != EDGE_SOURCE], edge=False)
    edge = verdicts[verdicts["at_edge"]]
    main = {s for s in runs.loc[runs["source"].isin(("table4", "table5")), "setting"].dropna()}
    arms: dict[tuple[str, str], None] = {}
    for r in edge.itertuples():
        for setting in ([r.setting] if r.setting else sorted(main)):
            arms[(setting, r.a)] = arms[(setting, r.b)] = None
    return list(arms)


def edge_cells(prof: Profile, runs: pd.DataFrame) -> list[Cell]:
    """The cells of the edge seeds: both arms of every comparison at the edge over ``runs`` (the first seeds'
    runs of Tables 1, 2, 4, 5, :func:`first_runs`), one per edge seed; none when the profile has no edge seeds."""
    if not prof.seed_sets.edge or runs.empty:
        return []
    pairings = {p.key: p for p in prof.pairings}
    cells = []
    for setting, row in edge_arms(runs):
        pairing = pairings[setting]
        method, overrides = names.row_spec(row)
        for seed in prof.seed_sets.edge:
            spec = make_spec(prof, pairing, method, seed, curves=False, **overrides)
            cells.append(Cell(EDGE_SOURCE, pairing.key, pairing.paper, row, spec))
    return cells


def build_edge(study: Study) -> pd.DataFrame:
    """Plan the edge seeds from the first seeds' runs, train what the cache lacks and record them as the rows
    of source ``edge`` in runs.csv (none: no rows). Returns those rows."""
    cells = edge_cells(study.prof, first_runs(study))
    runs = study.runs(cells) if cells else pd.DataFrame(columns=["table", "setting", "paper_setting", "row", "seed",
                                                                  "fold", "method", "dataset"])
    record_runs(study.prof.paths.out_dir, EDGE_SOURCE, runs)
    return runs
