"""The paper layer's registry of names: every row's table label, short name, legend and colour, and
which of the paper's tables and figures list a method.

A *row* is a paper_results.csv method key: a method (``baseline`` … ``amid``, ``teacher``) or a
variant of one, i.e. a method with config switches (:data:`VARIANTS`: Table 4 and 5 rows and the
figures' runs, ``mi_s``, ``mi_s+mi_a``, ``no_d2`` …).

The core registers what can be trained (:data:`amidlib.core.methods.METHODS`, one file per method), and
each method's file says how the paper shows it, as plain data (``Method.presentation``: label, colour,
tables, figures, reference row or not, in the paper or not), which this module reads and declares
(:func:`declare`; so a new method file reaches Tables 1-3 and Fig 3 with no other edit). :func:`declare`
also works by hand (user code, tests). A registered method with no presentation and no declaration is a
row too: its name is its label, it gets a colour no declared row uses, and no table or figure lists it.

Every list of names, labels and colours of the paper layer is derived from here, at call time (so
:func:`declare` takes effect at once):

- :func:`table_rows`: the rows of each table in order (Tables 1-3 from the declarations, Tables
  4-5 from :data:`ABLATION_TABLES`), :func:`figure_references`: the reference rows a figure adds,
  :func:`row_spec`: the method and config of a row (amidlib.paper.plans);
- :func:`table_label`, :func:`labels`: a row's label in a table (amidlib.paper.tables; the
  ``label`` column of the tables' csvs), with :data:`TABLE_LABELS` for the rows a table labels its
  own way; :func:`paper_lists`: whether the paper's table has a row (its number to print beside ours);
- :func:`short_name`: a row's name in the claims' evidence (amidlib.paper.claims), with
  :data:`SHORT_NAMES_IN` per claim source;
- :func:`legend`, :func:`legends`, :func:`colour`, :func:`palette`: one legend label and one colour
  per row in every figure (amidlib.paper.plots); :func:`linestyle`, :func:`marker`, :func:`style`: one line
  style and one marker per row too, so a row is drawn the same way in every figure (a run's teacher and
  student curves differ in the marker's fill: :data:`TEACHER_FILL`, :data:`STUDENT_FILL`);
- :data:`METRIC_NAMES`: the scalar metrics and their display names (from
  :data:`amidlib.core.metrics.SCALAR_METRICS`, which amidlib.repro.runs reads too).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from amidlib.core.methods import METHODS
from amidlib.core.metrics import SCALAR_METRICS

__all__ = ["Row", "MethodEntry", "declare", "undeclare", "METHOD_TABLES", "REFERENCE_FIGURES", "VARIANTS",
           "ABLATION_TABLES", "TABLE_LABELS", "SHORT_NAMES_IN", "METRIC_NAMES", "rows", "row", "row_spec", "table_rows",
           "figure_references", "in_paper", "paper_lists", "table_label", "labels", "short_name", "legend", "legends",
           "colour", "palette", "reports", "TABLES", "linestyle", "marker", "style", "LINESTYLES", "MARKERS",
           "TEACHER_FILL", "STUDENT_FILL"]

#: the paper's tables whose rows are methods (Tables 4 and 5 are AMID's variants: :data:`ABLATION_TABLES`)
METHOD_TABLES = ("table1", "table2", "table3")
#: the figures that draw a declared method's runs beside the paper's (Fig 3: per-class differences to CCL)
REFERENCE_FIGURES = ("fig3",)
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
#: the line styles a row may have (matplotlib's names or (offset, (on, off, ...)) dash patterns)
LINESTYLES = ("-", "--", ":", "-.", (0, (5, 1.5, 1, 1.5, 1, 1.5)), (0, (1, 1)), (0, (6, 2)), (0, (3, 1, 1, 1, 1, 1)))
#: the markers a row may have
MARKERS = ("o", "s", "^", "v", "D", "P", "X", "*", "<", ">", "p", "h", "d", "H", "8")
#: a run's teacher curve: its row's marker filled; its student curve: the marker open (white inside)
TEACHER_FILL, STUDENT_FILL = "full", "none"


@dataclass(frozen=True)
class Row:
    """One row: ``label`` as the paper's tables print it, ``short`` (claims' evidence), ``legend``
    (figures), ``colour`` (#rrggbb), ``linestyle`` and ``marker`` (every figure), and the run: ``method``
    with config ``overrides``."""

    name: str
    label: str
    short: str
    legend: str
    colour: str
    method: str
    overrides: tuple[tuple[str, Any], ...] = ()
    linestyle: Any = "-"
    marker: str = "o"

    @property
    def config(self) -> dict[str, Any]:
        return dict(self.overrides)


@dataclass(frozen=True)
class MethodEntry:
    """How the paper shows one method (:func:`declare`): its :class:`Row` names, the method tables that
    list it (``tables``), the figures that draw it as a reference (``figures``), whether it is a
    ``reference`` row (listed after the methods, no paper number beside it) and whether the paper has
    it at all (``in_paper``)."""

    row: Row
    tables: tuple[str, ...] = ()
    figures: tuple[str, ...] = ()
    reference: bool = False
    in_paper: bool = True


#: name -> MethodEntry, in declaration order (the order of the tables' rows)
_DECLARED: dict[str, MethodEntry] = {}


def declare(name: str, *, label: str, colour: str, tables=(), figures=(), short: str | None = None,
            legend: str | None = None, reference: bool = False, in_paper: bool = True,
            replace: bool = False, linestyle: Any = None, marker: str | None = None) -> MethodEntry:
    """Say how the paper's tables and figures show method ``name``: ``label`` (its row in a table),
    ``short`` (claims' evidence; default ``label``), ``legend`` (figures; default ``short``), ``colour``
    (#rrggbb, every figure), ``linestyle`` and ``marker`` (every figure; default: the first of
    :data:`LINESTYLES` / :data:`MARKERS` no other row has), the method ``tables`` (:data:`METHOD_TABLES`) that
    list it, the ``figures``
    (:data:`REFERENCE_FIGURES`) that draw it beside the paper's rows (a reference row only), ``reference``
    (after the methods, no paper number) and ``in_paper`` (False: a row of ours the paper does not have;
    say so in its label). The method itself is trained from :data:`amidlib.core.methods.METHODS` (its
    file): declaring does not register it. A name already declared is refused unless ``replace``
    (which keeps its place in the order)."""
    if name in _DECLARED and not replace:
        raise ValueError(f"method {name!r} is already declared (replace=True to redefine it)")
    tables = (tables,) if isinstance(tables, str) else tuple(tables)
    figures = (figures,) if isinstance(figures, str) else tuple(figures)
    unknown = [t for t in tables if t not in METHOD_TABLES] + [f for f in figures if f not in REFERENCE_FIGURES]
    if unknown:
        raise ValueError(f"{unknown} are not method tables or reference figures; choose from "
                         f"{list(METHOD_TABLES + REFERENCE_FIGURES)}")
    if figures and not reference:
        raise ValueError(f"figures {list(figures)} add reference rows beside the paper's: declare {name!r} with "
                         "reference=True")
    if not _COLOUR.match(colour):
        raise ValueError(f"colour {colour!r} is not of the form #rrggbb")
    short = short or label
    taken = [e.row for n, e in _DECLARED.items() if n != name] + list(globals().get("VARIANTS", {}).values())
    linestyle = _free(LINESTYLES, [r.linestyle for r in taken]) if linestyle is None else linestyle
    marker = _free(MARKERS, [r.marker for r in taken]) if marker is None else marker
    entry = MethodEntry(Row(name, label, short, legend or short, colour, name, (), linestyle, marker), tables, figures,
                        bool(reference), bool(in_paper))
    _DECLARED[name] = entry
    return entry


def _free(choices, used) -> Any:
    """The first of ``choices`` used least often (so a new row looks unlike the others)."""
    return min(choices, key=lambda c: (sum(u == c for u in used), choices.index(c)))


def undeclare(name: str) -> MethodEntry:
    """Undo :func:`declare` (e.g. at the end of a test); returns what was declared."""
    if name not in _DECLARED:
        raise KeyError(f"method {name!r} is not declared")
    return _DECLARED.pop(name)


#: the methods whose file's ``presentation`` has been read (declared then, or left to a later ``undeclare``)
_READ: set[str] = set()


def _declare_from_files() -> None:
    """Declare every registered method whose file says how the paper shows it (``Method.presentation``), once:
    the methods first, then the reference rows, each in METHODS order (Table 1: baseline, CRD, GMC, CRCD,
    CCL, AMID, then the teacher and Hinton KD). A presentation copied with its file (a new method made from an
    old one) keeps its look only where no declared row has it: a label already used gets the method's name
    beside it, a colour already used a spare one, and a line style or marker already used the least used."""
    new = [n for n, cls in METHODS.items() if n not in _READ and getattr(cls, "presentation", None)]
    for name in sorted(new, key=lambda n: bool(METHODS[n].presentation.get("reference"))):
        _READ.add(name)
        if name in _DECLARED:  # declared by hand before its file was read: the declaration wins
            continue
        spec = dict(METHODS[name].presentation)
        taken = [e.row for e in _DECLARED.values()]
        if spec["label"] in {r.label for r in taken}:  # (declare's defaults: short = label, legend = short)
            short = spec.get("short") or spec["label"]
            spec.update(label=f"{spec['label']} ({name})", short=f"{short} ({name})",
                        legend=f"{spec.get('legend') or short} ({name})")
        if spec["colour"] in {r.colour for r in taken} | {r.colour for r in globals().get("VARIANTS", {}).values()}:
            spec["colour"] = _spare_colour()
        if (spec.get("linestyle"), spec.get("marker")) in {(r.linestyle, r.marker) for r in taken}:
            spec.pop("linestyle", None), spec.pop("marker", None)
        declare(name, **spec)


#: colours for a registered method no declaration names (a user's new file), in METHODS order
_SPARE_COLOURS = ("#88ccee", "#44aa99", "#6699cc", "#f0e442", "#117799", "#997700", "#bbbbbb", "#7f7f7f")


def _spare_colour() -> str:
    """The first spare colour no row uses yet."""
    used = {e.row.colour for e in _DECLARED.values()} | {r.colour for r in globals().get("VARIANTS", {}).values()}
    return next((c for c in _SPARE_COLOURS if c not in used), "#7f7f7f")


_declare_from_files()


def _variant(name: str, method: str, label: str, short: str, legend: str, colour: str | None = None,
             style: tuple[Any, str] | None = None, **overrides) -> Row:
    """A variant row; ``colour`` None: the colour of ``method`` (the same run, e.g. ``student_alone``);
    ``style`` (line style, marker) None: those of ``method`` too."""
    base = _DECLARED[method].row
    linestyle, marker = style or (base.linestyle, base.marker)
    return Row(name, label, short, legend, colour or base.colour, method, tuple(sorted(overrides.items())), linestyle,
               marker)


#: The variants: a method with config switches (Tables 4 and 5, the figures). Their labels are the
#: paper's Table 4/5 labels; ``mi_s+mi_a`` is "AMID w/o L_adv" in Fig 5 and one legend says both.
VARIANTS: dict[str, Row] = {r.name: r for r in (
    _variant("student_alone", "baseline", "student alone (w/o distillation)", "student alone", "student alone"),
    _variant("teacher_alone", "teacher", "teacher alone (w/o distillation)", "teacher alone", "teacher alone"),
    _variant("cls_jsd", "amid", "L_cls + L_JSD only (no MI or adversarial term)", "L_cls+L_JSD",
             r"$L_{cls} + L_{JSD}$ only",
             "#117733", ("-.", "^"), use_mi_s=False, use_mi_a=False, use_adv=False),
    _variant("mi_s", "amid", "L_MI_s", "L_MI_s", r"$L_{MI_s}$ alone", "#d55e00", (":", "v"),
             use_mi_a=False, use_adv=False),
    _variant("mi_s+mi_a", "amid", "L_MI_s + L_MI_a", "L_MI_s+L_MI_a",
             r"AMID w/o $L_{adv}$ ($L_{MI_s} + L_{MI_a}$)", "#0072b2", ("--", "s"), use_adv=False),
    _variant("amid_nce", "amid", "AMID with L_nce", "AMID with L_nce", r"AMID with $L_{nce}$", "#999933",
             ((0, (6, 2)), "P"), mi_loss="nce"),
    _variant("fixed_teacher", "amid", "with fixed teacher", "fixed teacher", "AMID with fixed teacher", "#ddcc77",
             ((0, (1, 1)), "X"), fixed_teacher=True),
    _variant("no_warmup", "amid", "w/o warm-up", "w/o warm-up", "AMID w/o warm-up", "#999999",
             ((0, (3, 1, 1, 1, 1, 1)), "<"), warmup_epochs=0),
    _variant("no_d2", "amid", "w/o D2", "w/o D2", r"AMID w/o $D_2$", "#cc79a7", ("-.", "D"), use_d2=False),
    _variant("no_d2_keep_d1", "amid", "w/o D2, D1's weight kept (ours)", "w/o D2 (λ1 = ½)",
             r"AMID w/o $D_2$, $\lambda_1 = ½$",
             "#aa4499", ((0, (5, 1.5, 1, 1.5, 1, 1.5)), ">"), use_d2=False, d1_weight_without_d2=0.5),
    _variant("uniform_lambda", "amid", "w/o dynamic weight", "w/o dynamic weight", "AMID w/o dynamic weight", "#cc6677",
             ((0, (6, 2)), "h"), dynamic_lambda=False),
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



def _method_rows() -> dict[str, Row]:
    """The method rows, now: the declared ones (declaration order), then every registered method no
    declaration names (METHODS order), named after itself in a spare colour of its own."""
    _declare_from_files()  # (a method registered since)
    out = {name: entry.row for name, entry in _DECLARED.items()}
    used = {r.colour for r in out.values()} | {r.colour for r in VARIANTS.values()}
    spare = [c for c in _SPARE_COLOURS if c not in used] or ["#7f7f7f"]
    for i, name in enumerate(n for n in METHODS if n not in out):
        taken = list(out.values()) + list(VARIANTS.values())
        out[name] = Row(name, name, name, name, spare[i % len(spare)], name, (),
                        _free(LINESTYLES, [r.linestyle for r in taken]), _free(MARKERS, [r.marker for r in taken]))
    return out


def rows() -> dict[str, Row]:
    """Every row, now: the methods (:func:`_method_rows`), then the variants."""
    out = _method_rows()
    out.update(VARIANTS)
    return out


def row(name: str) -> Row | None:
    """The row ``name`` (None for a row not named here, e.g. a Table 6 α value)."""
    _declare_from_files()  # (a method registered since)
    if name in VARIANTS:
        return VARIANTS[name]
    if name in _DECLARED:
        return _DECLARED[name].row
    return _method_rows().get(name) if name in METHODS else None


def row_spec(name: str) -> tuple[str, dict[str, Any]]:
    """(method, config overrides) of the run behind a row."""
    r = row(name)
    if r is None:
        raise KeyError(f"{name!r} is not a row; rows: {sorted(rows())}")
    return r.method, r.config


def table_rows(table: str) -> list[str]:
    """The rows of ``table`` (table1 … table5) in the paper's order: Tables 1-3 the declared methods
    that list it, reference rows last; Tables 4-5 :data:`ABLATION_TABLES`."""
    _declare_from_files()  # (a method registered since)
    if table in ABLATION_TABLES:
        return list(ABLATION_TABLES[table])
    if table not in METHOD_TABLES:
        raise ValueError(f"{table!r} is not a table with named rows; choose from {list(TABLES)}")
    names = [n for n, e in _DECLARED.items() if table in e.tables]
    return [n for n in names if not _DECLARED[n].reference] + [n for n in names if _DECLARED[n].reference]


def figure_references(figure: str) -> list[str]:
    """The reference rows ``figure`` (:data:`REFERENCE_FIGURES`) draws beside the paper's, in order."""
    _declare_from_files()  # (a method registered since)
    if figure not in REFERENCE_FIGURES:
        raise ValueError(f"{figure!r} draws no reference rows; figures that do: {list(REFERENCE_FIGURES)}")
    return [n for n, e in _DECLARED.items() if figure in e.figures and e.reference]


def in_paper(name: str) -> bool:
    """Is row ``name`` the paper's? Not Hinton KD (declared ``in_paper=False``), nor a registered method
    this registry does not declare (a user's new file); every variant and α value is."""
    _declare_from_files()  # (a method registered since)
    entry = _DECLARED.get(name)
    return entry.in_paper if entry is not None else name not in METHODS


def paper_lists(table: str, name: str) -> bool:
    """Does the paper's ``table`` have row ``name``, so that its number is looked up beside ours? Not for
    a reference row of a method table (Table 1's teacher, Hinton KD) nor for a row that is not the paper's
    (:func:`in_paper`); every other row is looked up (and has "—" where the paper gives no number)."""
    _declare_from_files()  # (a method registered since)
    entry = _DECLARED.get(name)
    return in_paper(name) and not (entry is not None and entry.reference and table in METHOD_TABLES)


def table_label(table: str | None, name: str) -> str:
    """The label of row ``name`` in ``table`` (the ``label`` column of the table's csv)."""
    if table == "table6":
        return name
    special = TABLE_LABELS.get(table or "", {})
    if name in special:
        return special[name]
    r = row(name)
    return r.label if r else name


def labels() -> dict[str, str]:
    """row -> its label in the tables (their own labels aside, :data:`TABLE_LABELS`), for every row."""
    return {name: r.label for name, r in rows().items()}


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


def legends() -> dict[str, str]:
    """row -> legend label, for every row."""
    return {name: r.legend for name, r in rows().items()}


def colour(name: str) -> str | None:
    """The colour of row ``name``: the same in every figure (None for a row not named here)."""
    r = row(name)
    return r.colour if r else None


def linestyle(name: str) -> Any:
    """The line style of row ``name``: the same in every figure ("-" for a row not named here)."""
    r = row(name)
    return r.linestyle if r else "-"


def marker(name: str) -> str:
    """The marker of row ``name``: the same in every figure ("o" for a row not named here)."""
    r = row(name)
    return r.marker if r else "o"


def style(name: str, part: str | None = None) -> dict[str, Any]:
    """matplotlib keywords drawing row ``name`` as every figure does: ``color``, ``linestyle``, ``marker``
    (and ``label``, its legend). ``part``: "teacher" (marker filled) or "student" (marker open) for a run's
    two curves; None: filled."""
    r = row(name)
    out = {"color": (r.colour if r else "#7f7f7f"), "linestyle": linestyle(name), "marker": marker(name),
           "label": legend(name)}
    if part == "student":
        out.update(fillstyle=STUDENT_FILL)
    elif part not in (None, "teacher"):
        raise ValueError(f"part is 'teacher', 'student' or None, not {part!r}")
    return out


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
