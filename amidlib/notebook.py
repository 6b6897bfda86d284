"""The setup every numbered notebook starts with, in one call.

A notebook's first code cell is its papermill ``parameters`` cell (the names in
:data:`amidlib.repro.profiles.COMMON_PARAMETERS`, plus its own); its second is::

    from amidlib.notebook import setup

    prof, study, strict = setup(("table1", "table2"), globals())

:func:`setup` reads the common parameters from the namespace it is given, turns them into a
:class:`~amidlib.repro.profiles.Profile`, checks that the profile can build the notebook's tables
here (the ``paper`` profile stops at this point, naming every missing file), sets the plot style,
opens the run cache (:class:`~amidlib.repro.runs.Study`) and prints the profile.

This module sits on top of the layer stack (core <- data <- repro <- paper <- notebook): nothing in
amidlib imports it.
"""
from __future__ import annotations

from typing import Any, Mapping, NamedTuple

from amidlib.data import datasets
from amidlib.paper import plans, plots
from amidlib.repro import profiles, runs
from amidlib.repro.profiles import COMMON_PARAMETERS, Profile

__all__ = ["Setup", "setup", "datasets_read"]


class Setup(NamedTuple):
    """What the notebook cells use (unpacks as ``prof, study, strict = setup(...)``)."""

    prof: Profile
    """the profile with the notebook's parameters applied"""
    study: runs.Study
    """the runs of that profile, trained once and shared through the run cache"""
    strict: bool
    """True on the embedded real data (UCI Multiple Features): the assert cells then also check
    margins (beats chance by a margin); on the generated clips and the paper's data they are
    structure and range checks only"""


def setup(tables: tuple[str, ...] | None = None, namespace: Mapping[str, Any] | None = None, **params) -> Setup:
    """Load the profile, check its requirements, set the plot style, open the study, print the profile.

    ``tables``: what the notebook builds (``"table1"`` … ``"table6"``, ``"figures"``); the ``paper``
    profile checks the data those read. ``None``: everything; ``()``: nothing (no dataset is read).
    ``namespace``: where to read the parameters from (a notebook passes ``globals()``): the names in
    :data:`~amidlib.repro.profiles.COMMON_PARAMETERS` it holds; other names are ignored.
    ``params``: the same names given directly (they win over ``namespace``); a name left out keeps
    :func:`~amidlib.repro.profiles.load_profile`'s default.
    """
    unknown = sorted(set(params) - set(COMMON_PARAMETERS))
    if unknown:
        raise TypeError(f"setup() takes the notebook parameters {', '.join(COMMON_PARAMETERS)}; "
                        f"unknown: {', '.join(unknown)}")
    values = {name: namespace[name] for name in COMMON_PARAMETERS if namespace is not None and name in namespace}
    values.update(params)
    prof = profiles.load_profile(**values)
    # the paper profile stops here, naming every missing file of the datasets these tables read
    profiles.check_requirements(prof, datasets_read(prof, tables))
    plots.set_style()
    study = runs.Study(prof)
    # margin checks (beats chance by a margin) are made on the embedded real data; on the generated clips
    # and the paper's data the assert cells make structure and range checks only
    strict = datasets.get(prof.main.dataset).arrays
    print(prof.describe())
    return Setup(prof, study, strict)


def datasets_read(prof: Profile, tables: tuple[str, ...] | None) -> list[str] | None:
    """The datasets the runs of ``tables`` read under ``prof``, in order of first use (None: every table's,
    so every dataset of the profile). A table's runs are those its plan lists (:data:`amidlib.paper.plans.PLANS`);
    the figures draw the main pairing's runs."""
    if tables is None:
        return None
    out: list[str] = []
    for table in tables:
        if table in plans.PLANS:
            out += [cell.spec.dataset for cell in plans.PLANS[table](prof)]
        else:
            out.append(prof.main.dataset)
    return list(dict.fromkeys(out))
