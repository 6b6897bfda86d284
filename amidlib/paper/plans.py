"""Which runs each table of the paper needs: ``plan_table1(prof)`` … ``plan_table6(prof)`` list
:class:`~amidlib.repro.runs.Cell` s (setting, row, :class:`~amidlib.repro.runs.RunSpec`).

Runs are shared between tables: the AMID runs with default settings serve Tables 1, 2, 4, 5, 6 and
the figures, because a run's cache key is its *effective* configuration.

Only the runs whose per-epoch curves a figure draws (:data:`CURVE_FIGURES`) are evaluated every
epoch; every other run is evaluated only for its final metrics, after its last epoch (or each of its last
``final_epochs``, whose mean they are: the digit pairs' preset) (``Profile.execution.final_eval_only``). On the
embedded data a per-epoch evaluation (2,000 samples) costs about as much arithmetic as the epoch's
training, and evaluation changes nothing in what a run trains, so its final numbers are the same.
"""
from __future__ import annotations

from collections.abc import Sequence

from amidlib.paper import names
from amidlib.repro.profiles import Pairing, Profile
from amidlib.repro.runs import Cell, RunSpec, make_spec

__all__ = ["CURVE_FIGURES", "CURVE_ROWS", "run_spec", "plan_table1", "plan_table2", "plan_table3", "plan_table4",
           "plan_table5", "plan_table6", "PLANS", "figure_cells", "table_specs"]


def table_specs(table: str) -> list[tuple[str, str, dict]]:
    """(row, method, config overrides) of every row of ``table`` (table1 … table5), in order, from
    the registry of names (:mod:`amidlib.paper.names`; the rows alone: :func:`amidlib.paper.names.table_rows`).
    Called when needed, so a method declared later is in it (Table 4's rows: ``table_specs("table4")``)."""
    return [(row, *names.row_spec(row)) for row in names.table_rows(table)]


#: the figures that draw per-epoch curves, with the rows (main pairing, every seed) whose histories they draw
CURVE_FIGURES: dict[str, tuple[str, ...]] = {
    "fig1_diagnostic": ("mi_s", "mi_s+mi_a", "amid"),
    "warmup": ("amid", "no_warmup"),
    "fig4": ("mi_s+mi_a", "amid"),
    "fig5": ("amid", "no_d2", "mi_s+mi_a"),
}
#: the rows evaluated every epoch: the union of :data:`CURVE_FIGURES`
CURVE_ROWS: tuple[str, ...] = tuple(dict.fromkeys(row for rows in CURVE_FIGURES.values() for row in rows))


def run_spec(prof: Profile, pairing: Pairing, method: str, seed: int, split: tuple | None = None, *,
             several_seeds: bool = True, **overrides) -> RunSpec:
    """:func:`~amidlib.repro.runs.make_spec` for a cell of a plan, evaluated every epoch only when a
    figure draws its curves: its effective configuration on the main pairing is one of :data:`CURVE_ROWS`'
    (so Table 6's α1 = 4.0 cell and fig_regime's batch-64 cells stay the figures' and tables' runs)."""
    curves = split is None and pairing == prof.main and _draws_curves(prof, method, overrides)
    return make_spec(prof, pairing, method, seed, split, several_seeds=several_seeds, curves=curves, **overrides)


def _draws_curves(prof: Profile, method: str, overrides: dict) -> bool:
    config = make_spec(prof, prof.main, method, 0, **overrides).effective_config()
    for row in CURVE_ROWS:
        row_method, row_overrides = names.row_spec(row)
        if row_method == method and make_spec(prof, prof.main, method, 0, **row_overrides).effective_config() == config:
            return True
    return False


def plan_table1(prof: Profile, methods: Sequence[str] | None = None) -> list[Cell]:
    """Every method of Table 1 (default: the registry's, :func:`amidlib.paper.names.table_rows`) on
    both pairings (the paper's UCF51 / ActivityNet columns); seeds per pairing."""
    methods = names.table_rows("table1") if methods is None else methods
    cells = []
    for pairing, seeds in zip(prof.pairings, (prof.seeds, prof.seed_sets.second), strict=False):
        for m in methods:
            for s in prof.seed_sets.per_method.get(m, seeds):  # (a few methods: fewer seeds under a profile, for cost)
                cells.append(Cell("table1", pairing.key, pairing.paper, m, run_spec(prof, pairing, m, s)))
    return cells


def plan_table2(prof: Profile) -> list[Cell]:
    """Retrieval R@1/R@5: the same runs as Table 1 (without the teacher, which has no student)."""
    return [Cell("table2", c.setting, c.paper_setting, c.row, c.spec)
            for c in plan_table1(prof, names.table_rows("table2"))]


def plan_table3(prof: Profile) -> list[Cell]:
    """The auxiliary setups (A-V, L-V, AL-V analogues), k stratified folds; V: the baseline."""
    methods = [m for m in names.table_rows("table3") if m != "baseline"]
    cells = []
    k, fseed = prof.crossval.folds, prof.crossval.fold_seed
    if not prof.crossval.setups:  # its dataset left out (the paper profile's datasets parameter)
        return []
    first = prof.crossval.setups[0]
    for i in range(min(k, prof.crossval.max_folds or k)):
        split = ("fold", k, fseed, i) + ((tuple(prof.crossval.class_sizes),) if prof.crossval.class_sizes else ())
        v = Pairing(tuple(prof.crossval.target), tuple(first.auxiliary), "V", first.dataset)
        # one run per fold (seed 0): nothing to batch with
        cells.append(Cell("table3", "V", "V", "baseline", run_spec(prof, v, "baseline", 0, split, several_seeds=False),
                          fold=i))
        for setup in prof.crossval.setups:
            for m in methods:
                cells.append(Cell("table3", setup.key, setup.paper, m,
                                  run_spec(prof, setup, m, 0, split, several_seeds=False), fold=i))
    return cells


def plan_table4(prof: Profile) -> list[Cell]:
    """Ablation of the loss terms on the main pairing (student and teacher top-1)."""
    p = prof.main
    return [Cell("table4", p.key, p.paper, row, run_spec(prof, p, method, s, **ov))
            for row, method, ov in table_specs("table4") for s in prof.seeds]


def plan_table5(prof: Profile) -> list[Cell]:
    """The training modifications on the main pairing."""
    p = prof.main
    return [Cell("table5", p.key, p.paper, row, run_spec(prof, p, method, s, **ov))
            for row, method, ov in table_specs("table5") for s in prof.seeds]


def plan_table6(prof: Profile) -> list[Cell]:
    """α1, α2, α3 one at a time, the others at the paper's (4, 1.6, 1)."""
    p = prof.main
    cells = []
    for name, values in prof.sweeps.grid.items():
        for value in values:
            for s in prof.seed_sets.sweep:
                cells.append(Cell("table6", name, name, f"{float(value):.1f}",
                                  run_spec(prof, p, "amid", s, **{name: float(value)})))
    return cells


PLANS = {"table1": plan_table1, "table2": plan_table2, "table3": plan_table3,
         "table4": plan_table4, "table5": plan_table5, "table6": plan_table6}


def figure_cells(prof: Profile, rows: Sequence[str]) -> list[Cell]:
    """Main-pairing runs of the rows named (``mi_s``, ``mi_s+mi_a``, ``amid``, ``no_d2``,
    ``no_warmup``, any row of :mod:`amidlib.paper.names`), one per seed: the same runs as the
    tables, so nothing is trained twice. These rows are evaluated every epoch (:data:`CURVE_ROWS`)."""
    p = prof.main
    cells = []
    for row in rows:
        method, ov = names.row_spec(row)
        for s in prof.seeds:
            cells.append(Cell("figure", p.key, p.paper, row, run_spec(prof, p, method, s, **ov)))
    return cells

