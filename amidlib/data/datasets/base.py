"""The dataset interface (:class:`Dataset`) and its registry (:func:`register`).

A dataset is one module of :mod:`amidlib.data.datasets` defining a subclass of :class:`Dataset`
decorated with :func:`register`; the package imports every module in it, so a new dataset is one new
file. What the run engine asks of a dataset:

- what it is: :attr:`~Dataset.name` (its registered name, used in run specs, profiles and tables),
  :attr:`~Dataset.title` (a line for table headers), :attr:`~Dataset.kind` (``"arrays"``: in-memory
  feature arrays trained by the default MLP nets, whose seeds can train as one batched model;
  ``"video"``: clips through the video loader; ``"features"``: frozen-extractor features with their
  own nets), :attr:`~Dataset.paper` (one of the paper's datasets, read from the user's data root;
  its loader takes ``on_bad``), :attr:`~Dataset.views` (the default target and auxiliary views),
  :attr:`~Dataset.loader_parameters` (the notebook parameters its loader takes as options);
- its split: :meth:`~Dataset.default_split` (a seeded holdout, or the dataset's official split:
  :attr:`~Dataset.official_split`) and
  :meth:`~Dataset.load_split` (``(train, test)`` of a run);
- what training on it needs: :meth:`~Dataset.run_args` (nets, loader, data record for
  :func:`amidlib.core.experiment.run`), :attr:`~Dataset.preset` (the preset its nets were made for);
- its files: :meth:`~Dataset.location` (where its files are under a profile's folders: the ``root``
  and ``cache`` options, left out of the run key), :meth:`~Dataset.missing_files` (what the user's
  data root lacks), :meth:`~Dataset.prepare` (load, generate, check, extract once per process);
- for tables: :meth:`~Dataset.class_names`, :meth:`~Dataset.usage` ("used N of M videos");
- what its runs' numbers depend on: :attr:`~Dataset.code`, the files (paths under ``amidlib/``;
  folders: every ``.py`` in them) beyond the code every run shares and this module itself; the run
  cache key hashes them (:func:`amidlib.repro.runs.code_files`; ``tests/test_cache_key.py`` traces a
  run of each dataset and checks the list).

Loader ``options`` arrive as a mapping (a run spec's ``data``, JSON-like values); a dataset keeps what
it loaded per process, keyed by the options (:func:`freeze`).
"""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, ClassVar

__all__ = ["Dataset", "register", "registered", "freeze", "thaw", "LOCATIONS", "KINDS", "ON_BAD"]

#: what a loader does with a missing, audio-less or undecodable file: stop, naming it, or leave it out and
#: list it in the run's record (the ``on_bad`` loader option and notebook parameter)
ON_BAD = ("raise", "skip")
#: the loader options that say where a dataset's files are, not what they are (left out of the run key)
LOCATIONS = ("root", "cache")
#: what a dataset's samples are (see the module doc)
KINDS = ("arrays", "video", "features")

_REGISTRY: dict[str, Dataset] = {}


class Dataset:
    """One dataset: subclass it, set the class attributes, override what differs, and :func:`register` it."""

    name: ClassVar[str]
    title: ClassVar[str]
    kind: ClassVar[str]
    #: what one class is, for the figures' axis labels ("class (handwritten digit pair)")
    class_noun: ClassVar[str] = "class"
    #: one of the paper's datasets, read from the user's data root (its loader takes ``on_bad``)
    paper: ClassVar[bool] = False
    #: its split is fixed by the dataset (UCF101 split 1, ActivityNet train/val, the tier's groups)
    official_split: ClassVar[bool] = False
    #: the default (target, auxiliary) views: a run of ``python -m amidlib.repro.torchrun``, a profile's
    #: pairing when the profile's own views are not this dataset's
    views: ClassVar[tuple[tuple[str, ...], tuple[str, ...]]]
    #: every view a pairing may name (a profile keeps its pairings' views on a dataset that has them all)
    all_views: ClassVar[tuple[str, ...]] = ()
    #: the preset its nets were made for (used where nothing else names one)
    preset: ClassVar[str] = "embedded"
    #: True: every profile trains this dataset at its own :attr:`preset` unless the profile's settings for it name
    #: another (the digit pairs: batch 16 is what makes them the paper's batch regime)
    preset_binds: ClassVar[bool] = False
    #: a paper dataset: the paper's tables its runs fill, and what of them, said where a table is left without
    #: it (the ``datasets`` parameter): ``("table1", "table2")``, "UCF51 (Tables 1-2's UCF51 column)"
    paper_tables: ClassVar[tuple[str, ...]] = ()
    paper_part: ClassVar[str] = ""
    #: files its runs' numbers depend on, beyond the shared run code and this module (paths under amidlib/)
    code: ClassVar[tuple[str, ...]] = ()
    #: the notebook parameters its loader takes as options (``on_bad``, ``frames_root``): a profile sets them
    #: on every dataset that takes them
    loader_parameters: ClassVar[tuple[str, ...]] = ()

    @property
    def arrays(self) -> bool:
        """In-memory feature arrays trained by the default MLP nets (seeds can train as one batched model)."""
        return self.kind == "arrays"

    @property
    def module_file(self) -> str:
        """This dataset's module, as a path under amidlib/ (part of what its run key hashes)."""
        parts = type(self).__module__.split(".")
        return "/".join(parts[1:]) + ".py"

    # ----------------------------------------------------------------------- splits and runs
    def default_split(self, test_size: float, split_seed: int) -> tuple:
        """A run's split when its plan names none: the dataset's own, or a seeded stratified holdout."""
        return ("official",) if self.official_split else ("holdout", test_size, split_seed)

    def load_split(self, target: tuple[str, ...], auxiliary: tuple[str, ...], split: tuple,
                   options: Mapping[str, Any]):
        """``(train, test)`` of a run."""
        raise NotImplementedError

    def run_args(self, train, test, options: Mapping[str, Any]) -> dict[str, Any]:
        """The keyword arguments :func:`amidlib.core.experiment.run` needs for this kind of data
        (``nets_factory``, ``loader_factory``, ``record_extra``; none for feature arrays)."""
        return {}

    def class_names(self, options: Mapping[str, Any]) -> list[str]:
        """The class names, in label order."""
        raise NotImplementedError

    def folds_description(self, k: int) -> str:
        """What its ``("fold", k, ...)`` splits are, in a few words (for a profile's description)."""
        return f"{k} stratified folds"

    def prepare(self, options: Mapping[str, Any]) -> None:
        """Load (generate, check against the manifest, extract features of) the dataset once in this
        process, so worker processes find its features in the on-disk cache. Default: nothing to do."""

    def usage(self, options: Mapping[str, Any]) -> str | None:
        """For table headers: how much of the listed data the runs use (None: all of it, nothing to say)."""
        return None

    # ----------------------------------------------------------------------- files
    def location(self, data_root: Path | None, feature_dir: Path) -> dict[str, str]:
        """Where its files are under a profile's data root and feature folder, as loader options named
        in :data:`LOCATIONS` (``{}``: shipped with the package)."""
        return {}

    def missing_files(self, data_root: str | Path | None) -> list[str]:
        """What the dataset needs under ``data_root`` and is not there, one line per item (``[]``: all
        there, or nothing needed)."""
        return []

    def __repr__(self) -> str:
        return f"<dataset {self.name}: {self.title}>"


def register(cls: type[Dataset]) -> type[Dataset]:
    """Class decorator: register one instance of ``cls`` under ``cls.name`` (a name once only)."""
    for attr in ("name", "title", "kind", "views"):
        if not hasattr(cls, attr):
            raise TypeError(f"dataset class {cls.__name__} must set {attr!r}")
    if cls.kind not in KINDS:
        raise ValueError(f"dataset {cls.name}: kind must be one of {KINDS}, got {cls.kind!r}")
    if cls.name in _REGISTRY and type(_REGISTRY[cls.name]).__module__ != cls.__module__:
        raise ValueError(f"dataset name {cls.name!r} is registered twice: by {type(_REGISTRY[cls.name]).__module__} "
                         f"and {cls.__module__}")
    _REGISTRY[cls.name] = cls()
    return cls


def registered() -> dict[str, Dataset]:
    """Name -> dataset, in registration order (a copy)."""
    return dict(_REGISTRY)


def freeze(options: Mapping[str, Any] | Iterable[tuple[str, Any]]) -> str:
    """Loader options as a hashable key (JSON, sorted), for the per-process caches of loaded data."""
    return json.dumps(dict(options), sort_keys=True, default=str)


def thaw(frozen: str) -> dict[str, Any]:
    """The options of :func:`freeze`, as a dict."""
    return json.loads(frozen)
