"""The datasets a run can train on: one module per dataset, found by looking.

Every module of this package whose name does not start with an underscore is imported here; each
defines a :class:`~amidlib.data.datasets.base.Dataset` subclass and registers it with
:func:`~amidlib.data.datasets.base.register`. Adding a dataset is adding one file: the run engine
(:mod:`amidlib.data.splits`, :mod:`amidlib.repro.runs`), the profiles and the tables ask the dataset
object what they need (``tests/test_dataset_plugin.py`` copies a module under a new name and trains on
it with no other edit).

    from amidlib.data import datasets
    datasets.get("uci_pairs").class_names({})[:3]        # ['0-0', '0-1', '0-2']
    datasets.names(paper=True)                           # ('activitynet', 'iemocap', 'ucf51')

The registered datasets: ``uci_mfeat`` and ``uci_pairs`` (embedded feature arrays), ``av_tier``
(generated clips), and the paper's ``ucf51``, ``activitynet`` and ``iemocap`` (from a data root).
Modules with a leading underscore hold what several datasets share (``_video``, ``_paper``).
"""
from __future__ import annotations

import importlib
import pkgutil

from amidlib.core.config import unknown_name_message
from amidlib.data.datasets.base import LOCATIONS, Dataset, freeze, register, registered

__all__ = ["Dataset", "register", "get", "names", "all_datasets", "LOCATIONS", "DEFAULT", "freeze"]

#: the dataset of a run spec or pairing that names none (the embedded data the project began with)
DEFAULT = "uci_mfeat"


def _discover() -> None:
    # sorted by file name (pkgutil), so the registry's order does not depend on the file system
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if not info.name.startswith("_") and info.name != "base":
            importlib.import_module(f"{__name__}.{info.name}")


_discover()


def get(name: str) -> Dataset:
    """The registered dataset ``name``; an unknown name is refused with the valid ones."""
    found = registered()
    if name not in found:
        raise ValueError(unknown_name_message("dataset", str(name), found))
    return found[name]


def all_datasets() -> list[Dataset]:
    """Every registered dataset, in name order."""
    return [found for _, found in sorted(registered().items())]


def names(**flags) -> tuple[str, ...]:
    """Names of the registered datasets (sorted) whose attributes equal ``flags``, e.g. ``names(paper=True)``,
    ``names(kind="video")``, ``names(arrays=True)``."""
    return tuple(d.name for d in all_datasets() if all(getattr(d, k) == v for k, v in flags.items()))
