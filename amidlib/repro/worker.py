"""Training a task: what a worker process (or a Ray task) runs.

A *task* (:func:`amidlib.repro.runs.tasks`) is a tuple of specs: the seeds of one batched configuration,
or one spec. :func:`train_task` trains it from the specs' fields alone (the data layer loads the split,
:func:`amidlib.core.experiment.run` / ``run_seeds`` trains); :func:`work` is the local worker process's
whole job: train, then store the records and delete the spent checkpoints
(:func:`amidlib.repro.store.store_task`). Top-level functions, so ``spawn`` workers and Ray tasks can
import them.
"""
from __future__ import annotations

import time
from collections.abc import Sequence

from amidlib.core.experiment import run, run_seeds
from amidlib.data import splits
from amidlib.repro.specs import RunSpec
from amidlib.repro.store import Reports, RunCache, checkpoint_dirs, store_task

__all__ = ["train", "train_task", "timed_train", "work"]


def train(spec: RunSpec, checkpoint_dir: str | None = None):
    """One spec's :class:`~amidlib.core.experiment.Result`."""
    return train_task((spec,), [checkpoint_dir])[0]


def train_task(specs: Sequence[RunSpec], checkpoint_dirs: Sequence[str | None]) -> list:
    """Train the specs of one task: several seeds of one configuration (``engine="batched"``) as one
    batched model (:func:`amidlib.core.experiment.run_seeds`), a single spec as a plain run."""
    spec = specs[0]
    data = splits.run_data(spec.dataset, spec.target, spec.auxiliary, spec.split, spec.data)
    if spec.engine == "batched":
        if any(s.split != spec.split for s in specs):  # each seed its own split (split drawn from the seed)
            own = [splits.run_data(s.dataset, s.target, s.auxiliary, s.split, s.data) for s in specs]
            train_sets, test_sets = [d.train for d in own], [d.test for d in own]
        else:
            train_sets, test_sets = data.train, data.test
        # the slot options (AMID's α) may differ between the task's specs (amidlib.repro.runs.tasks): per seed
        return run_seeds(spec.method, train_sets, test_sets, seeds=[s.seed for s in specs], preset=spec.preset,
                         progress=False, slot_overrides=[s.slot_overrides for s in specs], **data.run_args,
                         **dict(spec.shared_overrides))
    extra = {"checkpoint_dir": checkpoint_dirs[0]} if checkpoint_dirs[0] else {}
    return [run(spec.method, data.train, data.test, seed=spec.seed, preset=spec.preset, progress=False,
                **data.run_args, **spec.config_overrides, **extra)]


def timed_train(specs: Sequence[RunSpec], keys: Sequence[str], cache_dir: str,
                checkpoint: bool) -> tuple[list, float, float]:
    """:func:`train_task` with each run checkpointing under ``cache_dir`` when ``checkpoint`` (and resuming
    from what is there), and its wall and CPU seconds per run (a batched task's time shared equally by its
    runs; CPU time does not depend on what else the machine is doing)."""
    started, cpu = time.perf_counter(), time.process_time()
    results = train_task(specs, checkpoint_dirs(cache_dir, keys, checkpoint))
    n = len(specs)
    return results, (time.perf_counter() - started) / n, (time.process_time() - cpu) / n


def work(specs: Sequence[RunSpec], cache_dir: str, keys: Sequence[str] | None = None, checkpoint: bool = False,
         keep_checkpoints: bool = False) -> Reports:
    """A local worker's job: train one task and store each of its runs in the cache under its key (the key the
    caller computed), deleting its spent checkpoint unless ``keep_checkpoints``; the task's reports."""
    keys = list(keys) if keys is not None else [s.key() for s in specs]
    results, wall, cpu = timed_train(specs, keys, cache_dir, checkpoint)
    return store_task(RunCache(cache_dir), specs, keys, results, wall, cpu, checkpoint, keep_checkpoints)
