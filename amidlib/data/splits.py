"""Which data a run trains and tests on, and what training on them needs.

From a run's description (dataset, target and auxiliary views, split, loader options) to its
``(train, test)`` and the arguments :func:`amidlib.core.experiment.run` takes for that kind of data
(the nets, the loader, the data record)::

    data = run_data("uci_mfeat", ("fou",), ("fac",), ("holdout", 0.8, 0))
    res = run("amid", data.train, data.test, seed=0, **data.run_args)

The repro layer's :class:`~amidlib.repro.runs.RunSpec` carries the description and keeps the books;
everything that decides *which* samples a run sees and *which* networks it trains is here, in the
dataset's module (:mod:`amidlib.data.datasets`: one per dataset, each saying what its splits are) and
in the modules it calls, so it is part of the run cache key's code fingerprint
(:func:`amidlib.repro.runs.code_files`). This module only dispatches to the dataset named.

Loaded data are kept per process (the frozen extractors' features come from the on-disk cache
after the first load): :func:`prepare` loads them once before worker processes start.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from amidlib.data import datasets
from amidlib.data.datasets._arrays import imbalanced_sizes, subsample_classes

__all__ = ["RunData", "run_data", "load_split", "prepare", "class_names", "data_usage", "imbalanced_sizes",
           "subsample_classes"]

Options = Mapping[str, Any] | Iterable[tuple[str, Any]]


@dataclass(frozen=True)
class RunData:
    """A run's two splits and the keyword arguments :func:`amidlib.core.experiment.run` needs for them
    (``nets_factory``, ``loader_factory``, ``record_extra``; none for feature arrays)."""

    train: Any
    test: Any
    run_args: dict[str, Any] = field(default_factory=dict)


def run_data(dataset: str, target: Iterable[str], auxiliary: Iterable[str], split: tuple,
             options: Options = ()) -> RunData:
    """The splits of a run and what training on them needs (see the module doc)."""
    ds, options = datasets.get(dataset), dict(options)
    train, test = ds.load_split(tuple(target), tuple(auxiliary), tuple(split), options)
    return RunData(train, test, ds.run_args(train, test, options))


def load_split(dataset: str, target: Iterable[str], auxiliary: Iterable[str], split: tuple, options: Options = ()):
    """``(train, test)``: MultimodalArrays (UCI, IEMOCAP features) or video datasets."""
    return datasets.get(dataset).load_split(tuple(target), tuple(auxiliary), tuple(split), dict(options))


def prepare(dataset: str, options: Options = ()) -> None:
    """Load (generate, check against the manifest, extract features of) ``dataset`` once in this
    process, so worker processes find its features in the on-disk cache."""
    datasets.get(dataset).prepare(dict(options))


def class_names(dataset: str, options: Options = ()) -> list[str]:
    """The class names of ``dataset``, in label order."""
    return datasets.get(dataset).class_names(dict(options))


def data_usage(dataset: str, options: Options = ()) -> str | None:
    """For table headers: "used 13,xxx of 14,950 videos (left out: …)" of a video dataset (None for
    the others); the same line is in each run's record (``config["data"]["videos"]["line"]``)."""
    return datasets.get(dataset).usage(dict(options))
