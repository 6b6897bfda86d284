"""The run cache, and storing a finished task in it: the one place a run's record is written.

- :class:`RunCache`: one folder per run (``<cache_dir>/<key>/``: config.json, metrics.json,
  history.csv, spec.json), written to a temporary folder and renamed into place, so a reader never sees
  a half-written run and two processes never clobber each other.
- :func:`store_task`: a finished task's records into the cache (under the keys the driver computed),
  then each run's spent checkpoint deleted. The local worker processes and the Ray driver both end
  here (:mod:`amidlib.repro.worker`, :mod:`amidlib.repro.executors`), so the tables cannot tell who ran a run.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from amidlib.core.experiment import Result
from amidlib.core.files import atomic_write_text
from amidlib.repro.specs import RunSpec, code_fingerprint

__all__ = ["RunCache", "store_task", "checkpoint_dirs", "Reports"]

#: per run of a task: (key, wall seconds, CPU seconds, {"student_top1": .., "teacher_top1": ..})
Reports = list


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
        # a whole folder, renamed into place at once (amidlib.core.files writes single files): the first
        # writer of a key wins, a second process finds it there and drops its own copy
        tmp = self.folder / f".{key}.{os.getpid()}.{time.time_ns()}.tmp"
        result.save(tmp)
        atomic_write_text(tmp / "spec.json", json.dumps(
            {"method": spec.method, "target": spec.target, "auxiliary": spec.auxiliary, "seed": spec.seed,
             "preset": spec.preset, "split": spec.split, "overrides": dict(spec.overrides),
             "dataset": spec.dataset, "data": dict(spec.data), "code": code_fingerprint(spec.dataset)}, indent=2,
                                                        default=str))
        try:
            os.replace(tmp, final)
        except OSError:  # another process stored the same run first: keep theirs
            shutil.rmtree(tmp, ignore_errors=True)
        self._memory[key] = result
        return final


def checkpoint_dirs(cache_dir: str | os.PathLike, keys: Sequence[str], checkpoint: bool) -> list[str | None]:
    """Where each run of a task checkpoints (``<cache_dir>/.checkpoints/<key>``), or None each when it does not."""
    return [str(Path(cache_dir) / ".checkpoints" / key) if checkpoint else None for key in keys]


def store_task(cache: RunCache, task: Sequence[RunSpec], keys: Sequence[str], results: Sequence, wall: float,
               cpu: float, checkpoint: bool, keep_checkpoints: bool) -> Reports:
    """A finished task's records into ``cache`` (atomically, under the keys the driver computed, so a source
    file edited while a reproduction runs cannot make two processes disagree), then each run's checkpoint
    deleted unless ``keep_checkpoints`` (a checkpoint is only needed to resume an unfinished run; ~0.4 GB
    per video run). Returns the task's reports (``wall``, ``cpu``: seconds per run)."""
    out = []
    for spec, key, ckpt, res in zip(task, keys, checkpoint_dirs(cache.folder, keys, checkpoint), results):
        cache.put(spec, res, key=key)
        if ckpt and not keep_checkpoints and Path(ckpt).is_dir():
            shutil.rmtree(ckpt, ignore_errors=True)  # the record is in the cache: the checkpoint is spent
        out.append((key, wall, cpu, {k: res.metrics.get(k) for k in ("student_top1", "teacher_top1")}))
    return out
