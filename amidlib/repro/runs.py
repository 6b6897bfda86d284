"""The one run engine: :class:`Study`, the runs of a profile, and what it is made of.

- :class:`~amidlib.repro.specs.RunSpec` names one training run (method, views, split, seed, preset,
  config overrides, dataset and loader options); its key is a sha256 over the *effective*
  configuration, the data, the seed and a fingerprint of the code that decides the run's numbers
  (:mod:`amidlib.repro.specs`: :func:`make_spec`, :func:`code_fingerprint`).
- :class:`Cell` places a run in a table or figure (setting, row, fold).
- :class:`~amidlib.repro.store.RunCache` keeps one folder per run, written atomically.
- :class:`Study` trains what the cache lacks (in worker processes, or on Ray: :mod:`amidlib.repro.executors`,
  each task trained by :mod:`amidlib.repro.worker`) and returns one
  :class:`~amidlib.core.experiment.Result` per cell. Every table, figure, the IEMOCAP folds and the
  ``compare`` command line go through it.

The names of those modules are importable from here too (``from amidlib.repro.runs import RunSpec,
make_spec, RunCache``).
"""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from amidlib.core.metrics import REGIME_METRICS, SCALAR_METRICS
from amidlib.data import splits
from amidlib.repro import executors
from amidlib.repro.profiles import Profile
from amidlib.repro.specs import RunSpec, code_files, code_fingerprint, data_location, make_spec
from amidlib.repro.store import RunCache
from amidlib.repro.worker import train, train_task

__all__ = ["RunSpec", "Cell", "RunCache", "Study", "MissingRuns", "code_fingerprint", "code_files", "make_spec",
           "data_location", "load_split", "runs_frame", "class_names", "tasks", "task_cost", "train", "train_task",
           "SCALARS"]

#: the one list of a run's scalar metrics (amidlib.core.metrics)
SCALARS = list(SCALAR_METRICS)


@dataclass(frozen=True)
class Cell:
    """One run placed in a table: the table's setting (column group) and row."""

    table: str
    setting: str          # our setting (pairing key, Table 3 setup, Table 6 hyperparameter)
    paper_setting: str    # the paper's setting it stands for
    row: str              # paper_results.csv method key
    spec: RunSpec
    fold: int = -1


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


def tasks(specs: Iterable[RunSpec]) -> list[tuple[RunSpec, ...]]:
    """The specs as tasks: the seeds of one batched configuration together (in seed order; configurations that
    differ only in their method's ``slot_options``, e.g. Table 6's α grid, are one configuration here), every
    other spec alone. A task is what one worker (process or Ray task) trains."""
    groups: dict[RunSpec, list[RunSpec]] = {}
    out: list[tuple[RunSpec, ...]] = []
    for spec in specs:
        if spec.engine == "batched":  # (a split drawn from the seed is the same configuration)
            split = spec.split[:2] + ("seed",
                                      ) if spec.split[0] == "holdout" and spec.split[2] == spec.seed else spec.split
            key = dataclasses.replace(spec, seed=0, split=split, overrides=spec.shared_overrides)
            groups.setdefault(key, []).append(spec)
        else:
            out.append((spec,))
    out += [tuple(sorted(g, key=lambda s: (s.seed, s.overrides))) for g in groups.values()]
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


class MissingRuns(RuntimeError):
    """Runs a :class:`Study` that trains nothing (``train=False``) was asked for and does not have."""


class Study:
    """The runs of one profile: ``Study(prof).results(cells)`` trains what is missing, in order."""

    def __init__(self, prof: Profile, verbose: bool = True, train: bool = True, no_train_hint: str = ""):
        self.prof = prof
        self.cache = RunCache(prof.paths.cache_dir)
        self.verbose = verbose
        # False: a run the cache lacks is an error, not a training (a notebook in explore mode shows the committed
        # reproduction and trains only when asked); no_train_hint says how to ask
        self.trains, self.no_train_hint = train, no_train_hint
        self.trained = 0          # runs trained by this Study (not found in the cache)
        self.train_seconds = 0.0  # their summed wall time
        self.cpu_seconds = 0.0    # their summed CPU time
        self._started = time.perf_counter()  # of the current ensure() (for the time-left estimate)

    def _log(self, msg: str) -> None:
        if self.verbose:
            print(msg, flush=True)

    def ensure(self, specs: Iterable[RunSpec]) -> None:
        """Train every spec the cache lacks (deduplicated; the profile's executor: worker processes here or
        the tasks of a Ray cluster, :mod:`amidlib.repro.executors`)."""
        todo: dict[str, RunSpec] = {}
        for spec in specs:
            if not self.cache.has(spec):
                todo.setdefault(spec.key(), spec)
        if not todo:
            return
        if not self.trains:
            raise MissingRuns(f"{len(todo)} run(s) are not in the run records {self.cache.folder} (another profile, "
                              f"other parameters, or code changed since they were made) and this study trains "
                              f"nothing{': ' + self.no_train_hint if self.no_train_hint else ''}")
        prepare_data(todo.values())
        # longest first (batched AMID seeds, CRCD, ...): the workers stay busy to the end
        work = sorted(tasks(todo.values()), key=task_cost, reverse=True)
        self._log(f"training {len(todo)} run(s) not in the cache ({self.cache.folder}) as {len(work)} task(s)")
        self._started, self._done, self._total = time.perf_counter(), 0, len(todo)
        # local worker processes or a Ray cluster (the profile's executor): either way each record lands in
        # the cache atomically under the key computed here (amidlib.repro.store), so the tables cannot tell who ran it
        executors.run_tasks(work, self.cache, self.prof, self._finished, self._log)
        self.trained += len(todo)
        self._log(f"{len(todo)} run(s) in {time.perf_counter() - self._started:.0f} s wall, "
                  f"{self.cpu_seconds:.0f} CPU-seconds in all so far")

    def _finished(self, task: Sequence[RunSpec], reports: list) -> None:
        for spec, (_key, secs, cpu, m) in zip(task, reports, strict=True):
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
        lost = [c.spec.describe() for c, r in zip(cells, out, strict=True) if r is None]
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
        for cell, res in zip(cells, self.results(cells), strict=True):
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
    for cell, res in zip(cells, results, strict=True):
        row = {"table": cell.table, "setting": cell.setting, "paper_setting": cell.paper_setting,
               "row": cell.row, "seed": cell.spec.seed, "fold": cell.fold, "method": cell.spec.method,
               "dataset": cell.spec.dataset, "run": cell.spec.key()}
        row.update({k: (np.nan if res.metrics.get(k) is None else float(res.metrics.get(k))) for k in SCALARS})
        row.update({k: float(res.metrics[k]) for k in REGIME_METRICS if k in res.metrics})
        rows.append(row)
    return pd.DataFrame(rows)

