"""Methods: AMID and the baselines, one small module each, and the one registry of them.

``REGISTRY`` (name -> :class:`MethodInfo`) is where a method is declared, once: its class, the
label the paper's tables print, its colour in every figure and which of the paper's method tables
(Tables 1, 2, 3) list it. Everything else is derived from it:

- ``METHODS`` (name -> class, registry order): what :func:`amidlib.experiment.run` trains;
- :func:`table_methods`: the rows (and their order) of Tables 1-3, so the plans;
- :mod:`amidlib.paper.names`: the paper's row labels, short names, legends and palette;
- the method lists of ``python -m amidlib.paper.compare`` and ``benchmarks/bench_methods.py``.

A new method is its module plus one :func:`register` call (here, or in user code, before the plans
are made)::

    register("mymethod", MyMethod, label="MyMethod", colour="#332288", tables=("table1", "table2"))

:func:`unregister` undoes it. The scalar metrics a run reports are listed once too:
:data:`amidlib.core.metrics.SCALAR_METRICS`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from amidlib.core.methods.amid import AMID
from amidlib.core.methods.base import Batch, Method, StepOutput
from amidlib.core.methods.ccl import CCL
from amidlib.core.methods.crcd import CRCD
from amidlib.core.methods.crd import CRD
from amidlib.core.methods.gmc import GMC
from amidlib.core.methods.single import StudentAlone, TeacherAlone

__all__ = ["METHODS", "REGISTRY", "MethodInfo", "register", "unregister", "table_methods", "METHOD_TABLES",
           "Method", "Batch", "StepOutput", "AMID", "StudentAlone", "TeacherAlone"]

#: the paper's tables whose rows are methods (Tables 4 and 5 are AMID's variants: amidlib.paper.names)
METHOD_TABLES = ("table1", "table2", "table3")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class MethodInfo:
    """One registered method.

    ``label``: the row label the paper's tables print; ``short``: its name in the claims' evidence
    (default: ``label``); ``legend``: its name in figure legends (default: ``short``); ``colour``:
    its colour (``#rrggbb``) in every figure; ``tables``: the method tables that list it, in registry
    order; ``reference``: a reference row (the teacher), listed after the methods.
    """

    name: str
    cls: type[Method]
    label: str
    colour: str
    tables: tuple[str, ...] = ("table1", "table2")
    short: str = ""
    legend: str = ""
    reference: bool = False


#: name -> MethodInfo, in registry order (the order of ``METHODS`` and of the tables' rows)
REGISTRY: dict[str, MethodInfo] = {}
#: name -> class, in registry order; kept in step with ``REGISTRY`` by :func:`register`
METHODS: dict[str, type[Method]] = {}


def register(name: str, cls: type[Method], *, label: str, colour: str, tables=("table1", "table2"),
             short: str | None = None, legend: str | None = None, reference: bool = False,
             replace: bool = False) -> MethodInfo:
    """Declare a method: it can then be trained (``run(name, ...)``), the plans of the ``tables`` list
    it, and the tables and figures name and colour it. ``cls.name`` must be ``name``. A name already
    registered is refused unless ``replace`` (which keeps its place in the order)."""
    if name in REGISTRY and not replace:
        raise ValueError(f"method {name!r} is already registered (replace=True to redefine it)")
    if not (isinstance(cls, type) and issubclass(cls, Method)):
        raise TypeError(f"{cls!r} is not a subclass of amidlib.core.methods.Method")
    if cls.name != name:
        raise ValueError(f"{cls.__name__}.name is {cls.name!r}, not {name!r}: set `name = {name!r}` on the class")
    tables = (tables,) if isinstance(tables, str) else tuple(tables)
    unknown = [t for t in tables if t not in METHOD_TABLES]
    if unknown:
        raise ValueError(f"tables {unknown} are not method tables; choose from {list(METHOD_TABLES)}")
    if not _COLOUR.match(colour):
        raise ValueError(f"colour {colour!r} is not of the form #rrggbb")
    short = short or label
    info = MethodInfo(name, cls, label, colour, tables, short, legend or short, bool(reference))
    REGISTRY[name] = info
    METHODS[name] = cls
    return info


def unregister(name: str) -> MethodInfo:
    """Undo :func:`register` (e.g. at the end of a test); returns what was registered."""
    if name not in REGISTRY:
        raise KeyError(f"method {name!r} is not registered")
    METHODS.pop(name, None)
    return REGISTRY.pop(name)


def table_methods(table: str) -> list[str]:
    """The methods ``table`` (table1, table2, table3) lists: registry order, reference rows last."""
    if table not in METHOD_TABLES:
        raise ValueError(f"{table!r} is not a method table; choose from {list(METHOD_TABLES)}")
    names = [n for n, info in REGISTRY.items() if table in info.tables]
    return [n for n in names if not REGISTRY[n].reference] + [n for n in names if REGISTRY[n].reference]


# The paper's methods, in registry order. Table 1: baseline, crd, gmc, crcd, ccl, amid, teacher;
# Table 2: the same without the teacher (no student); Table 3: baseline, gmc, crcd, ccl, amid.
register("baseline", StudentAlone, label="Baseline (student alone)", short="baseline",
         legend="baseline (student alone)", colour="#000000", tables=("table1", "table2", "table3"))
register("teacher", TeacherAlone, label="Teacher (reference: full modalities)", short="teacher",
         legend="teacher (full modalities)", colour="#555555", tables=("table1",), reference=True)
register("crd", CRD, label="CRD", colour="#56b4e9", tables=("table1", "table2"))
register("gmc", GMC, label="GMC", colour="#882255", tables=("table1", "table2", "table3"))
register("crcd", CRCD, label="CRCD", colour="#332288", tables=("table1", "table2", "table3"))
register("ccl", CCL, label="CCL", colour="#e69f00", tables=("table1", "table2", "table3"))
register("amid", AMID, label="AMID (ours)", short="AMID", legend="AMID", colour="#009e73",
         tables=("table1", "table2", "table3"))
