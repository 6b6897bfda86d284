"""The one registry of the paper's row names: every row's table label, short name, legend and colour.

A *row* is a paper_results.csv method key: a method (``baseline`` … ``amid``, ``teacher``; from the
method registry :data:`amidlib.core.methods.REGISTRY`, so a method registered there is a row here
with no other edit) or a variant of one, i.e. a method with config switches (:data:`VARIANTS`:
Table 4 and 5 rows and the figures' runs, ``mi_s``, ``mi_s+mi_a``, ``no_d2`` …).

Every list of names, labels and colours of the paper layer is derived from here, at call time (so
:func:`amidlib.core.methods.register` takes effect at once):

- :func:`table_rows`: the rows of each table in order (Tables 1-3 from the method registry,
  Tables 4-5 from :data:`ABLATION_TABLES`), :func:`row_spec`: the method and config of a row
  (amidlib.paper.plans);
- :func:`table_label`: a row's label in a table (amidlib.paper.tables; the ``label`` column of
  the tables' csvs), with :data:`TABLE_LABELS` for the rows a table labels its own way;
- :func:`short_name`: a row's name in the claims' evidence (amidlib.paper.claims), with
  :data:`SHORT_NAMES_IN` per claim source;
- :func:`legend`, :func:`colour`, :func:`palette`: one legend label and one colour per row in
  every figure (amidlib.paper.plots);
- :data:`METRIC_NAMES`: the scalar metrics and their display names (from
  :data:`amidlib.core.metrics.SCALAR_METRICS`, which amidlib.repro.runs reads too).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from amidlib.core.methods import METHOD_TABLES, METHODS, REGISTRY, table_methods
from amidlib.core.metrics import SCALAR_METRICS

__all__ = ["Row", "VARIANTS", "ABLATION_TABLES", "TABLE_LABELS", "SHORT_NAMES_IN", "METRIC_NAMES", "rows", "row",
           "row_spec", "table_rows", "table_label", "short_name", "legend", "colour", "palette", "reports", "TABLES"]


@dataclass(frozen=True)
class Row:
    """One row: ``label`` as the paper's tables print it, ``short`` (claims' evidence), ``legend``
    (figures), ``colour`` (#rrggbb, every figure), and the run: ``method`` with config ``overrides``."""

    name: str
    label: str
    short: str
    legend: str
    colour: str
    method: str
    overrides: tuple[tuple[str, Any], ...] = ()

    @property
    def config(self) -> dict[str, Any]:
        return dict(self.overrides)


def _variant(name: str, method: str, label: str, short: str, legend: str, colour: str | None = None, **overrides) -> Row:
    """A variant row; ``colour`` None: the colour of ``method`` (the same run, e.g. ``student_alone``)."""
    return Row(name, label, short, legend, colour or REGISTRY[method].colour, method, tuple(sorted(overrides.items())))


#: The variants: a method with config switches (Tables 4 and 5, the figures). Their labels are the
#: paper's Table 4/5 labels; ``mi_s+mi_a`` is "AMID w/o L_adv" in Fig 5 and one legend says both.
VARIANTS: dict[str, Row] = {r.name: r for r in (
    _variant("student_alone", "baseline", "student alone (w/o distillation)", "student alone", "student alone"),
    _variant("teacher_alone", "teacher", "teacher alone (w/o distillation)", "teacher alone", "teacher alone"),
    _variant("cls_jsd", "amid", "L_cls + L_JSD only (no MI or adversarial term)", "L_cls+L_JSD", r"$L_{cls} + L_{JSD}$ only",
             "#117733", use_mi_s=False, use_mi_a=False, use_adv=False),
    _variant("mi_s", "amid", "L_MI_s", "L_MI_s", r"$L_{MI_s}$ alone", "#d55e00", use_mi_a=False, use_adv=False),
    _variant("mi_s+mi_a", "amid", "L_MI_s + L_MI_a", "L_MI_s+L_MI_a",
             r"AMID w/o $L_{adv}$ ($L_{MI_s} + L_{MI_a}$)", "#0072b2", use_adv=False),
    _variant("amid_nce", "amid", "AMID with L_nce", "AMID with L_nce", r"AMID with $L_{nce}$", "#999933", mi_loss="nce"),
    _variant("fixed_teacher", "amid", "with fixed teacher", "fixed teacher", "AMID with fixed teacher", "#ddcc77",
             fixed_teacher=True),
    _variant("no_warmup", "amid", "w/o warm-up", "w/o warm-up", "AMID w/o warm-up", "#999999", warmup_epochs=0),
    _variant("no_d2", "amid", "w/o D2", "w/o D2", r"AMID w/o $D_2$", "#cc79a7", use_d2=False),
    _variant("no_d2_keep_d1", "amid", "w/o D2, D1's weight kept (ours)", "w/o D2 (λ1 = ½)", r"AMID w/o $D_2$, $\lambda_1 = ½$",
             "#aa4499", use_d2=False, d1_weight_without_d2=0.5),
    _variant("uniform_lambda", "amid", "w/o dynamic weight", "w/o dynamic weight", "AMID w/o dynamic weight", "#cc6677",
             dynamic_lambda=False),
)}

#: Tables 4 and 5 (the ablations on the main pairing): their rows in the paper's order
ABLATION_TABLES: dict[str, tuple[str, ...]] = {
    "table4": ("student_alone", "teacher_alone", "cls_jsd", "mi_s", "mi_s+mi_a", "amid", "amid_nce"),
    "table5": ("amid", "fixed_teacher", "no_warmup", "no_d2", "no_d2_keep_d1", "uniform_lambda"),
}
#: the paper's tables whose rows are named here (Table 6's rows are α values: the value is the label)
TABLES = (*METHOD_TABLES, *ABLATION_TABLES)
#: rows a table labels its own way: AMID is the last step of Table 4's ablation, the reference of Table 5
TABLE_LABELS: dict[str, dict[str, str]] = {
    "table4": {"amid": "L_MI_s + L_MI_a + L_adv (AMID)"},
    "table5": {"amid": "AMID"},
}
#: short names a claim source uses its own way (Fig 5 compares AMID with its variants)
SHORT_NAMES_IN: dict[str, dict[str, str]] = {"fig5": {"mi_s+mi_a": "w/o L_adv"}}
#: metric -> display name (the scalar metrics of a run, amidlib.core.metrics.SCALAR_METRICS)
METRIC_NAMES: dict[str, str] = SCALAR_METRICS


def _method_row(name: str) -> Row:
    info = REGISTRY[name]
    return Row(name, info.label, info.short, info.legend, info.colour, name)


def rows() -> dict[str, Row]:
    """Every row, now: the registered methods (registry order), then the variants."""
    out = {name: _method_row(name) for name in REGISTRY}
    out.update(VARIANTS)
    return out


def row(name: str) -> Row | None:
    """The row ``name`` (None for a row not named here, e.g. a Table 6 α value)."""
    if name in VARIANTS:
        return VARIANTS[name]
    return _method_row(name) if name in REGISTRY else None


def row_spec(name: str) -> tuple[str, dict[str, Any]]:
    """(method, config overrides) of the run behind a row."""
    r = row(name)
    if r is None:
        raise KeyError(f"{name!r} is not a row; rows: {sorted(rows())}")
    return r.method, r.config


def table_rows(table: str) -> list[str]:
    """The rows of ``table`` (table1 … table5) in the paper's order."""
    if table in ABLATION_TABLES:
        return list(ABLATION_TABLES[table])
    return table_methods(table)


def table_label(table: str | None, name: str) -> str:
    """The label of row ``name`` in ``table`` (the ``label`` column of the table's csv)."""
    if table == "table6":
        return name
    special = TABLE_LABELS.get(table or "", {})
    if name in special:
        return special[name]
    r = row(name)
    return r.label if r else name


def short_name(name: str, source: str | None = None) -> str:
    """The name of row ``name`` in a claim's evidence (``source``: table1 … fig5)."""
    special = SHORT_NAMES_IN.get(source or "", {})
    if name in special:
        return special[name]
    r = row(name)
    return r.short if r else name


def legend(name: str) -> str:
    """The legend label of row ``name``: the same in every figure."""
    r = row(name)
    return r.legend if r else name


def colour(name: str) -> str | None:
    """The colour of row ``name``: the same in every figure (None for a row not named here)."""
    r = row(name)
    return r.colour if r else None


def palette() -> dict[str, str]:
    """legend label -> colour, for every row (seaborn's ``palette`` with ``hue="label"``)."""
    return {r.legend: r.colour for r in rows().values()}


def reports(name: str) -> tuple[bool, bool]:
    """(student, teacher): which top-1 the run behind row ``name`` has; (True, True) when unknown."""
    r = row(name)
    cls = METHODS.get(r.method) if r else None
    if cls is None:
        return True, True
    return bool(cls.reports_student), bool(cls.uses_teacher)
