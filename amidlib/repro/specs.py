"""A run's description and its cache key: :class:`RunSpec`, :func:`make_spec`, and the code a run's
numbers depend on (:func:`code_files`, :func:`code_fingerprint`).

:meth:`RunSpec.key` is a sha256 over the *effective* configuration, the data, the seed and a fingerprint
of the code that decides the run's numbers, so ``alpha1=4.0`` and "no override" are the same run, and a
code change invalidates the cache. Which code that is: what every run shares (:data:`SHARED_CODE`), the
dataset's module and the files it names (:attr:`amidlib.data.datasets.base.Dataset.code`);
``tests/test_cache_key.py`` traces a run of each dataset and checks the list.
"""
from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from amidlib.core.config import make_config
from amidlib.core.experiment import batchable
from amidlib.core.methods import METHODS
from amidlib.data import datasets
from amidlib.repro.profiles import Pairing, Profile

__all__ = ["RunSpec", "make_spec", "code_files", "code_fingerprint", "data_location", "SHARED_CODE"]

#: config values that do not change what a run computes (left out of the cache key)
_NOT_IN_KEY = {"progress", "num_threads", "preset", "checkpoint_dir"}
#: the code that decides every run's numbers (paths under amidlib/; folders: every .py in them); each
#: dataset adds its module and the files it names
SHARED_CODE = ["core", "data/splits.py", "data/arrays.py", "data/container.py", "data/datasets/__init__.py",
               "data/datasets/base.py", "data/datasets/_arrays.py"]


@dataclass(frozen=True)
class RunSpec:
    """One training run. ``split``: ("holdout", test_size, split_seed), ("fold", k, fold_seed, fold_index)
    or ("official",)."""

    method: str
    target: tuple[str, ...]
    auxiliary: tuple[str, ...]
    seed: int
    preset: str
    split: tuple
    overrides: tuple[tuple[str, Any], ...] = ()
    dataset: str = datasets.DEFAULT
    data: tuple[tuple[str, Any], ...] = ()  # loader options; the locations ("root", "cache") are not in the key
    engine: str = "single"  # "batched": trained with the other seeds of its configuration as one batched model

    @property
    def config_overrides(self) -> dict[str, Any]:
        return dict(self.overrides)

    @property
    def slot_overrides(self) -> dict[str, Any]:
        """The overrides of the method's ``slot_options`` (AMID's α): they may differ within one batched task."""
        return {k: v for k, v in self.overrides if k in METHODS[self.method].slot_options}

    @property
    def shared_overrides(self) -> tuple[tuple[str, Any], ...]:
        """The other overrides: what the specs of one batched task share."""
        return tuple(kv for kv in self.overrides if kv[0] not in METHODS[self.method].slot_options)

    @property
    def pairing_key(self) -> str:
        return f"{'+'.join(self.target)}→{'+'.join(self.auxiliary)}"

    def effective_config(self) -> dict[str, Any]:
        cfg = make_config(METHODS[self.method].defaults, preset=self.preset, **self.config_overrides)
        return {k: v for k, v in cfg.items() if k not in _NOT_IN_KEY}

    def key(self) -> str:
        """sha256 over method, effective config, views, split, seed and the training code."""
        payload = {
            "method": self.method, "config": self.effective_config(), "target": list(self.target),
            "auxiliary": list(self.auxiliary), "split": list(self.split), "seed": self.seed,
            "code": code_fingerprint(self.dataset),
        }
        if self.engine != "single":  # a batched seed's numbers differ from a lone run's by float rounding
            payload["engine"] = self.engine
        # a field at its default is left out, as for the engine: the keys of the runs on the default dataset
        # stay what they were before specs named a dataset
        if self.dataset != datasets.DEFAULT:
            payload["dataset"] = self.dataset
            payload["data"] = {k: v for k, v in self.data if k not in datasets.LOCATIONS}
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    def describe(self) -> str:
        ov = ", ".join(f"{k}={v}" for k, v in self.overrides if k not in ("device",))
        where = {"fold": lambda: f"fold {self.split[3] + 1}/{self.split[1]}", "official": lambda: "official split"
                 }.get(self.split[0], lambda: "holdout")()
        on = "" if self.dataset == datasets.DEFAULT else f"{self.dataset} "
        return f"{self.method}({ov}) {on}{self.pairing_key} {where} seed {self.seed}"


@functools.lru_cache(maxsize=8)
def code_fingerprint(dataset: str = datasets.DEFAULT) -> str:
    """Hash of the modules that decide a run's numbers on ``dataset``: a code change invalidates the cache."""
    h = hashlib.sha256()
    for path in code_files(dataset):
        h.update(path.relative_to(_PACKAGE).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def code_files(dataset: str = datasets.DEFAULT) -> list[Path]:
    """The files :func:`code_fingerprint` hashes for ``dataset``, sorted."""
    ds = datasets.get(dataset)
    files: set[Path] = set()
    for rel in [*SHARED_CODE, ds.module_file, *ds.code]:
        path = _PACKAGE / rel
        files.update(path.rglob("*.py") if path.is_dir() else [path])
    return sorted(files)


_PACKAGE = Path(__file__).resolve().parents[1]


def data_location(prof: Profile, dataset: str) -> dict[str, str]:
    """Where ``dataset``'s files are under ``prof``: the dataset's ``root`` and ``cache`` options
    (:meth:`~amidlib.data.datasets.base.Dataset.location`; none for the embedded arrays)."""
    paths = prof.paths
    features = Path(paths.feature_dir) if paths.feature_dir is not None else Path(paths.cache_dir).parent / "features"
    return datasets.get(dataset).location(paths.data_root, features)


def make_spec(prof: Profile, pairing: Pairing, method: str, seed: int, split: tuple | None = None, *,
              several_seeds: bool = True, curves: bool = True, **overrides) -> RunSpec:
    """The RunSpec of ``method`` on ``pairing`` under ``prof`` (its epochs, device, per-dataset and
    per-method overrides), with extra config ``overrides``; ``split`` default: the dataset's default split
    (the profile's holdout split; the dataset's official split where it has one).

    ``curves=False``: no figure draws this run's per-epoch curves, so under ``final_eval_only`` it is
    evaluated once, after its last epoch (``eval_every=0``; on the embedded data evaluating 2,000 samples
    every epoch costs about as much as the training; :mod:`amidlib.paper.plans` decides)."""
    dataset = pairing.dataset
    ds = datasets.get(dataset)
    ov = prof.run_overrides(method, dataset)
    ov.update(overrides)
    if not curves and prof.execution.final_eval_only:
        ov.setdefault("eval_every", 0)
    if split is None:  # (split.from_seed: each seed its own holdout split, so intervals include the split's variance)
        split = ds.default_split(prof.split.test_size, int(seed) if prof.split.from_seed else prof.split.seed)
    data = {**prof.options_for(dataset), **data_location(prof, dataset)}
    preset = prof.preset_for(dataset)
    # seeds of one configuration train as one batched model where the run allows it (feature arrays, a
    # method without random draws in its step, no checkpoints): K seeds for little more than one's time
    # (``several_seeds=False``: a cell trained with one seed only, e.g. Table 3's one run per fold, trains alone)
    ex = prof.execution
    engine = ("batched" if ex.batch_seeds and several_seeds and ds.arrays and not ex.checkpoint
              and batchable(method, make_config(METHODS[method].defaults, preset=preset, **ov)) else "single")
    return RunSpec(method, tuple(pairing.target), tuple(pairing.auxiliary), int(seed), preset,
                   tuple(split), tuple(sorted(ov.items())), dataset, tuple(sorted(data.items(), key=lambda kv: kv[0])),
                   engine)
