"""The one run engine: a run's spec and cache key, the run cache, and :class:`Study`.

- :class:`RunSpec` names one training run (method, views, split, seed, preset, config overrides,
  dataset and loader options); :meth:`RunSpec.key` is a sha256 over the *effective* configuration,
  the data, the seed and a fingerprint of the code that decides the run's numbers
  (:func:`code_fingerprint`), so ``alpha1=4.0`` and "no override" are the same run, and a code
  change invalidates the cache.
- :class:`Cell` places a run in a table or figure (setting, row, fold).
- :class:`RunCache` keeps one folder per run, written atomically.
- :class:`Study` trains what the cache lacks (in ``prof.n_jobs`` worker processes, or on Ray) and returns one
  :class:`~amidlib.core.experiment.Result` per cell. Every table, figure, the IEMOCAP folds and the
  ``compare`` command line go through it.
"""
from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from amidlib.core.config import make_config
from amidlib.core.experiment import Result, atomic_write_text, batchable, run, run_seeds
from amidlib.core.methods import METHODS
from amidlib.data import splits
from amidlib.repro.profiles import Pairing, Profile

__all__ = ["RunSpec", "Cell", "RunCache", "Study", "code_fingerprint", "make_spec", "load_split", "runs_frame",
           "class_names", "SCALARS"]

from amidlib.core.metrics import REGIME_METRICS, SCALAR_METRICS  # noqa: E402  (the one list of a run's scalar metrics)

SCALARS = list(SCALAR_METRICS)
#: config values that do not change what a run computes (left out of the cache key)
_NOT_IN_KEY = {"progress", "num_threads", "preset", "checkpoint_dir"}
#: the code that decides a run's numbers (paths under amidlib/; folders: every .py in them).
#: The cache key includes their hash; tests/test_cache_key.py traces a run of each dataset and checks
#: that every amidlib file whose code ran is covered (or listed there as bookkeeping).
_CODE_FILES = ["core", "data/splits.py", "data/arrays.py"]
_VIDEO_CODE = ["data/video", "data/cache.py", "data/manifests.py"]
_DATASET_CODE_FILES = {"uci_mfeat": ["data/manifests.py"],
                       "uci_pairs": ["data/manifests.py", "data/digit_pairs.py"],
                       "av_tier": ["data/av_tier.py", *_VIDEO_CODE],
                       "ucf51": ["data/paper_root.py", *_VIDEO_CODE],
                       "activitynet": ["data/paper_root.py", *_VIDEO_CODE],
                       "iemocap": ["data/iemocap", "data/paper_root.py", *_VIDEO_CODE]}
#: data options that say where files are, not what they are (left out of the cache key)
_DATA_LOCATIONS = {"root", "cache"}


# --------------------------------------------------------------------------- run specs
@dataclass(frozen=True)
class RunSpec:
    """One training run on the embedded data. ``split``: ("holdout", test_size, split_seed) or
    ("fold", k, fold_seed, fold_index)."""

    method: str
    target: tuple[str, ...]
    auxiliary: tuple[str, ...]
    seed: int
    preset: str
    split: tuple
    overrides: tuple[tuple[str, Any], ...] = ()
    dataset: str = "uci_mfeat"
    data: tuple[tuple[str, Any], ...] = ()  # loader options; "root" and "cache" (locations) are not in the key
    engine: str = "single"  # "batched": trained with the other seeds of its configuration as one batched model

    @property
    def config_overrides(self) -> dict[str, Any]:
        return dict(self.overrides)

    @property
    def pairing_key(self) -> str:
        return f"{'+'.join(self.target)}→{'+'.join(self.auxiliary)}"

    def effective_config(self) -> dict[str, Any]:
        from amidlib.core.methods import METHODS

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
        if self.dataset != "uci_mfeat":  # (so the keys of the embedded runs stay what they were)
            payload["dataset"] = self.dataset
            payload["data"] = {k: v for k, v in self.data if k not in _DATA_LOCATIONS}
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    def describe(self) -> str:
        ov = ", ".join(f"{k}={v}" for k, v in self.overrides if k not in ("device",))
        where = {"fold": lambda: f"fold {self.split[3] + 1}/{self.split[1]}", "official": lambda: "official split"
                 }.get(self.split[0], lambda: "holdout")()
        on = "" if self.dataset == "uci_mfeat" else f"{self.dataset} "
        return f"{self.method}({ov}) {on}{self.pairing_key} {where} seed {self.seed}"


@functools.lru_cache(maxsize=8)
def code_fingerprint(dataset: str = "uci_mfeat") -> str:
    """Hash of the modules that decide a run's numbers on ``dataset``: a code change invalidates the cache."""
    h = hashlib.sha256()
    for path in code_files(dataset):
        h.update(path.relative_to(_PACKAGE).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


def code_files(dataset: str = "uci_mfeat") -> list[Path]:
    """The files :func:`code_fingerprint` hashes for ``dataset``, sorted."""
    files: set[Path] = set()
    for rel in _CODE_FILES + _DATASET_CODE_FILES.get(dataset, []):
        path = _PACKAGE / rel
        files.update(path.rglob("*.py") if path.is_dir() else [path])
    return sorted(files)


_PACKAGE = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class Cell:
    """One run placed in a table: the table's setting (column group) and row."""

    table: str
    setting: str          # our setting (pairing key, Table 3 setup, Table 6 hyperparameter)
    paper_setting: str    # the paper's setting it stands for
    row: str              # paper_results.csv method key
    spec: RunSpec
    fold: int = -1


def data_location(prof: Profile, dataset: str) -> dict[str, str]:
    """Where ``dataset``'s files are under ``prof``: ``root`` (the data root; for the generated tier the
    folder it is written to) and ``cache`` (the frozen extractors' feature cache)."""
    if dataset in splits.ARRAY_DATASETS:
        return {}
    features = Path(prof.feature_dir or Path(prof.cache_dir).parent / "features")
    if dataset == "av_tier":
        root = Path(prof.data_root) / "av_tier" if prof.data_root else features / "av_tier_clips"
        return {"root": str(root), "cache": str(features / "av_tier")}
    return {"root": str(prof.data_root) if prof.data_root else "", "cache": str(features / dataset)}


def make_spec(prof: Profile, pairing: Pairing, method: str, seed: int, split: tuple | None = None, *,
              several_seeds: bool = True, curves: bool = True, **overrides) -> RunSpec:
    """The RunSpec of ``method`` on ``pairing`` under ``prof`` (its epochs, device, per-dataset and
    per-method overrides), with extra config ``overrides``; ``split`` default: the profile's holdout
    split (the dataset's official split for the video datasets).

    ``curves=False``: no figure draws this run's per-epoch curves, so under ``prof.final_eval_only`` it
    is evaluated once, after its last epoch (``eval_every=0``; on the embedded data evaluating 2,000
    samples every epoch costs about as much as the training; :mod:`amidlib.paper.plans` decides)."""
    dataset = pairing.dataset
    ov = prof.run_overrides(method, dataset)
    ov.update(overrides)
    if not curves and prof.final_eval_only:
        ov.setdefault("eval_every", 0)
    if split is None:  # (split_from_seed: each seed its own holdout split, so intervals include the split's variance)
        split = (("official",) if dataset in splits.OFFICIAL_SPLIT else
                 ("holdout", prof.test_size, int(seed) if prof.split_from_seed else prof.split_seed))
    data = {**prof.data_options.get(dataset, {}), **data_location(prof, dataset)}
    preset = prof.preset_for(dataset)
    # seeds of one configuration train as one batched model where the run allows it (feature arrays, a
    # method without random draws in its step, no checkpoints): K seeds for little more than one's time
    # (``several_seeds=False``: a cell trained with one seed only, e.g. Table 3's one run per fold, trains alone)
    engine = ("batched" if prof.batch_seeds and several_seeds and dataset in splits.ARRAY_DATASETS and not prof.checkpoint
              and batchable(method, make_config(METHODS[method].defaults, preset=preset, **ov)) else "single")
    return RunSpec(method, tuple(pairing.target), tuple(pairing.auxiliary), int(seed), preset,
                   tuple(split), tuple(sorted(ov.items())), dataset, tuple(sorted(data.items(), key=lambda kv: kv[0])),
                   engine)



# --------------------------------------------------------------------------- data and runs
# (which samples and networks a run gets is decided in the data layer, amidlib.data.splits, which is
# in the code fingerprint; here only the spec's fields are handed over)
def load_split(spec: RunSpec):
    """(train, test) of a spec: MultimodalArrays (UCI, IEMOCAP features) or video datasets."""
    return splits.load_split(spec.dataset, spec.target, spec.auxiliary, spec.split, spec.data)


def class_names(spec: RunSpec) -> list[str]:
    """The class names of a spec's dataset, in label order."""
    return splits.class_names(spec.dataset, spec.data)


def prepare_data(specs: Iterable[RunSpec]) -> None:
    """Load (generate, check against the manifest, extract features of) every dataset the specs read,
    once, in this process: worker processes then find the features in the on-disk cache."""
    for spec in specs:
        splits.prepare(spec.dataset, spec.data)  # (kept per process: once per dataset and options)


def _train(spec: RunSpec, checkpoint_dir: str | None = None):
    return _train_task((spec,), [checkpoint_dir])[0]


def _train_task(specs: Sequence[RunSpec], checkpoint_dirs: Sequence[str | None]) -> list:
    """Train the specs of one task: several seeds of one configuration (``engine="batched"``) as one
    batched model (:func:`amidlib.core.experiment.run_seeds`), a single spec as a plain run."""
    spec = specs[0]
    data = splits.run_data(spec.dataset, spec.target, spec.auxiliary, spec.split, spec.data)
    if spec.engine == "batched":
        if any(s.split != spec.split for s in specs):  # each seed its own split (Profile.split_from_seed)
            own = [splits.run_data(s.dataset, s.target, s.auxiliary, s.split, s.data) for s in specs]
            train, test = [d.train for d in own], [d.test for d in own]
        else:
            train, test = data.train, data.test
        return run_seeds(spec.method, train, test, seeds=[s.seed for s in specs], preset=spec.preset,
                         progress=False, **data.run_args, **spec.config_overrides)
    extra = {"checkpoint_dir": checkpoint_dirs[0]} if checkpoint_dirs[0] else {}
    return [run(spec.method, data.train, data.test, seed=spec.seed, preset=spec.preset, progress=False,
                **data.run_args, **spec.config_overrides, **extra)]


def tasks(specs: Iterable[RunSpec]) -> list[tuple[RunSpec, ...]]:
    """The specs as tasks: the seeds of one batched configuration together (in seed order), every
    other spec alone. A task is what one worker (process or Ray task) trains."""
    groups: dict[RunSpec, list[RunSpec]] = {}
    out: list[tuple[RunSpec, ...]] = []
    for spec in specs:
        if spec.engine == "batched":  # (a split drawn from the seed is the same configuration)
            split = spec.split[:2] + ("seed",) if spec.split[0] == "holdout" and spec.split[2] == spec.seed else spec.split
            groups.setdefault(dataclasses.replace(spec, seed=0, split=split), []).append(spec)
        else:
            out.append((spec,))
    out += [tuple(sorted(g, key=lambda s: s.seed)) for g in groups.values()]
    return out


class RunCache:
    """One folder per run (``<cache_dir>/<key>/``: config.json, metrics.json, history.csv,
    spec.json), written to a temporary folder and renamed into place, so a reader never sees a
    half-written run and two processes never clobber each other."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self._memory: dict[str, Any] = {}

    def path(self, spec: RunSpec) -> Path:
        return self.folder / spec.key()

    def has(self, spec: RunSpec) -> bool:
        key = spec.key()
        return key in self._memory or (self.folder / key / "metrics.json").is_file()

    def get(self, spec: RunSpec):
        key = spec.key()
        if key in self._memory:
            return self._memory[key]
        folder = self.folder / key
        if not (folder / "metrics.json").is_file():
            return None
        metrics = json.loads((folder / "metrics.json").read_text())
        config = json.loads((folder / "config.json").read_text())
        history = pd.read_csv(folder / "history.csv")
        res = Result(spec.method, metrics, history, config)
        self._memory[key] = res
        return res

    def put(self, spec: RunSpec, result, key: str | None = None) -> Path:
        key = key or spec.key()
        final = self.folder / key
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".{key}.{os.getpid()}.{time.time_ns()}.tmp"
        result.save(tmp)
        atomic_write_text(tmp / "spec.json", json.dumps(
            {"method": spec.method, "target": spec.target, "auxiliary": spec.auxiliary, "seed": spec.seed,
             "preset": spec.preset, "split": spec.split, "overrides": dict(spec.overrides),
             "dataset": spec.dataset, "data": dict(spec.data), "code": code_fingerprint(spec.dataset)}, indent=2, default=str))
        try:
            os.replace(tmp, final)
        except OSError:  # another process stored the same run first: keep theirs
            shutil.rmtree(tmp, ignore_errors=True)
        self._memory[key] = result
        return final


def _worker(specs: Sequence[RunSpec], cache_dir: str, keys: Sequence[str] | None = None, checkpoint: bool = False,
            keep_checkpoints: bool = False) -> list[tuple[str, float, float, dict]]:
    """Train one task (:func:`tasks`) and store each of its runs in the cache under its key (the key the
    caller computed, so a source file edited while a reproduction runs cannot make the two processes
    disagree); a top-level function, so ``spawn`` workers (and Ray tasks) can import it.

    ``checkpoint``: save a run after every epoch in ``<cache_dir>/.checkpoints/<key>/last.pt``; once the
    run's record is in the cache its checkpoint is deleted (a checkpoint is only needed to resume an
    unfinished run; ~0.4 GB per video run), unless ``keep_checkpoints``.

    Returns per run: the key, the wall and the CPU seconds (a batched task's time shared equally by its
    runs; CPU time does not depend on what else the machine is doing) and its top-1 accuracies.
    """
    started, cpu = time.perf_counter(), time.process_time()
    keys = list(keys) if keys is not None else [s.key() for s in specs]
    ckpts = [str(Path(cache_dir) / ".checkpoints" / key) if checkpoint else None for key in keys]
    results = _train_task(specs, ckpts)
    wall, cpu = (time.perf_counter() - started) / len(specs), (time.process_time() - cpu) / len(specs)
    cache, out = RunCache(cache_dir), []
    for spec, key, ckpt, res in zip(specs, keys, ckpts, results):
        cache.put(spec, res, key=key)
        if ckpt and not keep_checkpoints and Path(ckpt).is_dir():
            shutil.rmtree(ckpt, ignore_errors=True)  # the record is in the cache: the checkpoint is spent
        out.append((key, wall, cpu, {k: res.metrics.get(k) for k in ("student_top1", "teacher_top1")}))
    return out


#: seconds per seed-run on one core of a 2-core CPU, measured in `make reproduce` (profile cpu, batch 64,
#: final evaluation only): only their ratios matter, to start the longest tasks first
_SECONDS_PER_SEED = {"batched": {"amid": 4.0, "gmc": 2.0, "ccl": 1.9, "teacher": 1.5, "baseline": 1.0},
                     "single": {"crcd": 12.0, "amid": 8.0, "ccl": 7.0, "gmc": 6.0, "crd": 4.0, "baseline": 2.0,
                                "teacher": 2.0}}


def task_cost(task: Sequence[RunSpec]) -> float:
    """A task's expected training time, in rough seconds (for ordering): seeds × seconds per seed of its
    method and engine, more for smaller batches (more steps), per-epoch evaluation and a pre-trained teacher."""
    spec = task[0]
    config = spec.effective_config()
    per_seed = _SECONDS_PER_SEED.get(spec.engine, _SECONDS_PER_SEED["single"]).get(spec.method, 3.0)
    return (len(task) * per_seed * (64 / max(1, int(config.get("batch_size", 64)))) ** 0.6
            * (1.15 if config.get("eval_every", 1) else 1.0) * (1.4 if config.get("fixed_teacher") else 1.0))


class Study:
    """The runs of one profile: ``Study(prof).results(cells)`` trains what is missing, in order."""

    def __init__(self, prof: Profile, verbose: bool = True):
        self.prof = prof
        self.cache = RunCache(prof.cache_dir)
        self.verbose = verbose
        self.trained = 0          # runs trained by this Study (not found in the cache)
        self.train_seconds = 0.0  # their summed wall time
        self.cpu_seconds = 0.0    # their summed CPU time
        self._started = time.perf_counter()  # of the current ensure() (for the time-left estimate)

    def _log(self, msg: str) -> None:
        if self.verbose:
            print(msg, flush=True)

    def ensure(self, specs: Iterable[RunSpec]) -> None:
        """Train every spec the cache lacks (deduplicated; ``prof.executor``: ``prof.n_jobs`` local processes or
        the tasks of a Ray cluster, :mod:`amidlib.repro.executors`)."""
        todo: dict[str, RunSpec] = {}
        for spec in specs:
            if not self.cache.has(spec):
                todo.setdefault(spec.key(), spec)
        if not todo:
            return
        prepare_data(todo.values())
        # longest first (batched AMID seeds, CRCD, ...): the workers stay busy to the end
        work = sorted(tasks(todo.values()), key=task_cost, reverse=True)
        self._log(f"training {len(todo)} run(s) not in the cache ({self.cache.folder}) as {len(work)} task(s)")
        self._started, self._done, self._total = time.perf_counter(), 0, len(todo)
        # local worker processes or a Ray cluster (prof.executor): either way each record lands in the
        # cache atomically under the key computed here, so the tables cannot tell who ran it
        from amidlib.repro import executors  # (here: a traced run never imports it, tests/test_cache_key.py)

        executors.run_tasks(work, self.cache, self.prof, self._finished, self._log)
        self.trained += len(todo)
        self._log(f"{len(todo)} run(s) in {time.perf_counter() - self._started:.0f} s wall, "
                  f"{self.cpu_seconds:.0f} CPU-seconds in all so far")

    def _finished(self, task: Sequence[RunSpec], reports: list) -> None:
        for spec, (key, secs, cpu, m) in zip(task, reports):
            self._done += 1
            self._report(self._done, self._total, spec, secs, cpu, m)

    def _report(self, done: int, total: int, spec: RunSpec, secs: float, cpu: float, m: dict) -> None:
        """One line per finished run: its accuracies and time, and the time left at the rate so far."""
        self.train_seconds += secs
        self.cpu_seconds += cpu
        acc = ", ".join(f"{k.split('_')[0]} {v:.1f}" for k, v in m.items() if v is not None and not np.isnan(v))
        elapsed = time.perf_counter() - self._started
        left = elapsed / done * (total - done)
        batched = " (batched seeds)" if spec.engine == "batched" else ""
        self._log(f"  [{done}/{total}] {spec.describe()}: {secs:.1f} s wall{batched}, {cpu:.1f} s CPU ({acc}); "
                  f"~{left:.0f} s left")

    def results(self, cells: Sequence[Cell]) -> list:
        """One Result per cell, in cell order (training what is missing first)."""
        self.ensure(c.spec for c in cells)
        out = [self.cache.get(c.spec) for c in cells]
        lost = [c.spec.describe() for c, r in zip(cells, out) if r is None]
        if lost:
            raise RuntimeError(f"{len(lost)} run(s) missing from the cache after training (was amidlib's training "
                               f"code edited during this session? restart the kernel): {lost[:3]}")
        return out

    def runs(self, cells: Sequence[Cell]) -> pd.DataFrame:
        """:func:`runs_frame` of the cells (training what is missing first)."""
        return runs_frame(cells, self.results(cells))

    def histories(self, cells: Sequence[Cell]) -> pd.DataFrame:
        """Every cell's per-epoch history stacked, with columns table, setting, row, seed, fold."""
        frames = []
        for cell, res in zip(cells, self.results(cells)):
            h = res.history.copy()
            h.insert(0, "fold", cell.fold)
            h.insert(0, "seed", cell.spec.seed)
            h.insert(0, "row", cell.row)
            h.insert(0, "setting", cell.setting)
            frames.append(h)
        return pd.concat(frames, ignore_index=True)


def runs_frame(cells: Sequence[Cell], results: Sequence) -> pd.DataFrame:
    """One row per cell: table, setting, paper_setting, row, seed, fold, method, key and the scalar metrics."""
    rows = []
    for cell, res in zip(cells, results):
        row = {"table": cell.table, "setting": cell.setting, "paper_setting": cell.paper_setting,
               "row": cell.row, "seed": cell.spec.seed, "fold": cell.fold, "method": cell.spec.method,
               "dataset": cell.spec.dataset, "run": cell.spec.key()}
        row.update({k: (np.nan if res.metrics.get(k) is None else float(res.metrics.get(k))) for k in SCALARS})
        row.update({k: float(res.metrics[k]) for k in REGIME_METRICS if k in res.metrics})
        rows.append(row)
    return pd.DataFrame(rows)

