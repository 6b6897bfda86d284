"""The run cache, and storing a finished task in it: the one place a run's record is written.

- :class:`RunCache`: one folder per run (``<cache_dir>/<key>/``: config.json, metrics.json,
  history.csv, spec.json), written to a temporary folder and renamed into place, so a reader never sees
  a half-written run and two processes never clobber each other.
- A record proves itself: its last file, ``record.json``, lists every other file's size and SHA-256
  (:func:`seal`). A record that does not match it (a truncated or altered file, a missing one, a record
  from before records were sealed) is never read: the cache reports it by path, moves it aside
  (``<cache_dir>/.damaged/<key>.<time>``, kept for inspection, never deleted) and the run trains again.
- :func:`store_task`: a finished task's records into the cache (under the keys the driver computed),
  then each run's spent checkpoint deleted. The local worker processes and the Ray driver both end
  here (:mod:`amidlib.repro.worker`, :mod:`amidlib.repro.executors`), so the tables cannot tell who ran a run.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from amidlib.core.experiment import Result
from amidlib.core.files import atomic_write_text, file_digest
from amidlib.repro.specs import RunSpec, code_fingerprint

__all__ = ["RunCache", "store_task", "checkpoint_dirs", "Reports", "seal", "record_problem", "SEAL"]

#: a record's last file: the size and SHA-256 of every other file of the record
SEAL = "record.json"
#: the files of a run's record (all four are sealed; a record lacking one is damaged)
RECORD_FILES = ("config.json", "metrics.json", "history.csv", "spec.json")


def seal(folder: str | os.PathLike) -> None:
    """Write ``record.json`` into a finished record's folder: each of :data:`RECORD_FILES`' size and hash."""
    folder = Path(folder)
    atomic_write_text(folder / SEAL, json.dumps({"files": {name: file_digest(folder / name) for name in RECORD_FILES}},
                                                indent=2))


def record_problem(folder: str | os.PathLike) -> str | None:
    """Why the record in ``folder`` cannot be trusted (None: every file is the one that was sealed)."""
    folder = Path(folder)
    try:
        sealed = json.loads((folder / SEAL).read_text())["files"]
    except FileNotFoundError:
        return f"it has no {SEAL} (unfinished, or written before records were sealed)"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"its {SEAL} is unreadable ({type(exc).__name__})"
    for name in RECORD_FILES:
        if name not in sealed:
            return f"its {SEAL} does not list {name}"
        try:
            found = file_digest(folder / name)
        except OSError:
            return f"{name} is missing"
        if found != sealed[name]:
            what = "size" if found["bytes"] != sealed[name].get("bytes") else "content"
            return f"{name} differs from the sealed record ({what}: {found['bytes']} bytes, sealed " \
                   f"{sealed[name].get('bytes')})"
    return None

#: per run of a task: (key, wall seconds, CPU seconds, {"student_top1": .., "teacher_top1": ..})
Reports = list


class RunCache:
    """One folder per run (``<cache_dir>/<key>/``: config.json, metrics.json, history.csv,
    spec.json), written to a temporary folder and renamed into place, so a reader never sees a
    half-written run and two processes never clobber each other."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self._memory: dict[str, Any] = {}
        self._checked: set[str] = set()  # records found intact by this process (has() then get(): hashed once)

    def path(self, spec: RunSpec) -> Path:
        return self.folder / spec.key()

    def has(self, spec: RunSpec) -> bool:
        """Is the run's record here and intact? (a damaged one is reported and moved aside: False)"""
        key = spec.key()
        return key in self._memory or self._intact(key)

    def _intact(self, key: str) -> bool:
        if key in self._checked:
            return True
        folder = self.folder / key
        if not folder.is_dir():
            return False
        problem = record_problem(folder)
        if problem is None:
            self._checked.add(key)
            return True
        aside = self.folder / ".damaged" / f"{key}.{time.time_ns()}"
        aside.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(folder, aside)
            where = f"moved to {aside}; the run trains again"
        except OSError:  # (another process moved it first)
            where = "the run trains again"
        print(f"warning: damaged run record {folder}: {problem}; {where}", file=sys.stderr, flush=True)
        return False

    def get(self, spec: RunSpec):
        """The run's Result, from memory or from an intact record (None: not here, or damaged and moved aside)."""
        key = spec.key()
        if key in self._memory:
            return self._memory[key]
        if not self._intact(key):
            return None
        folder = self.folder / key
        metrics = json.loads((folder / "metrics.json").read_text())
        config = json.loads((folder / "config.json").read_text())
        history = pd.read_csv(folder / "history.csv")
        res = Result(spec.method, metrics, history, config)
        self._memory[key] = res
        return res

    def count(self) -> int:
        """How many sealed records the cache holds (their files not checked: :meth:`has` does that)."""
        return sum(1 for _ in self.folder.glob(f"*/{SEAL}")) if self.folder.is_dir() else 0

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
        seal(tmp)  # last: a record without its seal is unfinished
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
    for spec, key, ckpt, res in zip(task, keys, checkpoint_dirs(cache.folder, keys, checkpoint), results, strict=True):
        cache.put(spec, res, key=key)
        if ckpt and not keep_checkpoints and Path(ckpt).is_dir():
            shutil.rmtree(ckpt, ignore_errors=True)  # the record is in the cache: the checkpoint is spent
        out.append((key, wall, cpu, {k: res.metrics.get(k) for k in ("student_top1", "teacher_top1")}))
    return out
