"""Where a :class:`~amidlib.repro.runs.Study`'s tasks run: worker processes on this machine (``local``,
the default; Ray is not needed) or the tasks of a Ray cluster (``ray``).

A *task* is a tuple of specs (:func:`amidlib.repro.runs.tasks`): the seeds of one batched configuration,
or one spec. Both executors end the same way, so the tables cannot tell which one ran a run: each run's
record lands in the run cache under the key the driver computed, written atomically
(:meth:`~amidlib.repro.store.RunCache.put`), and the Study hears of it through ``on_done(task, reports)``.

- **local**: ``execution.n_jobs`` spawned processes, each running :func:`amidlib.repro.worker.work`
  (which trains and writes the cache itself, atomically, :func:`amidlib.repro.store.store_task`).
- **ray**: one Ray task per task, asking for what a run needs (1 GPU when the run's device is CUDA,
  else 1 CPU). The task trains (:func:`amidlib.repro.worker.timed_train`) and returns the records; the **driver**
  writes them to the cache (the same :func:`~amidlib.repro.store.store_task`), so the workers need not see the cache
  folder (they do need the data and, to resume, the checkpoint folder: put both on a shared filesystem). A task
  whose worker dies (node lost, process killed, out of memory) is retried by Ray (``max_retries``) and resumes from
  its last checkpoint when the profile checkpoints (``<cache_dir>/.checkpoints/<key>/last.pt``). A run whose
  record is already in the cache is never dispatched (the Study filters it out first).

Connecting (:func:`connect`): ``address=None`` starts a private one-machine Ray instance for this
process with ``n_jobs`` CPUs and no dashboard, listening on the loopback address only (127.0.0.1);
``address="auto"`` joins the cluster this machine
belongs to (``ray start`` ran here); ``"host:port"`` a given head. See docs/cluster.md.
"""
from __future__ import annotations

import contextlib
import multiprocessing
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from amidlib.repro.lifetime import die_with_parent
from amidlib.repro.profiles import EXECUTORS, Profile
from amidlib.repro.store import Reports, RunCache, store_task
from amidlib.repro.worker import timed_train, work

__all__ = ["EXECUTORS", "run_tasks", "connect", "ray_resources", "RAY_MAX_RETRIES"]

#: the address every process of the private one-machine Ray instance listens on
PRIVATE_RAY_HOST = "127.0.0.1"
#: how often Ray re-runs a task whose worker died (system failures only; an exception in training is not retried)
RAY_MAX_RETRIES = 3

def run_tasks(tasks: Sequence[tuple], cache: RunCache, prof: Profile, on_done: Callable[[tuple, Reports], None],
              log: Callable[[str], None] = print) -> None:
    """Train every task of ``tasks`` with ``prof.execution.executor``; ``on_done(task, reports)`` after each."""
    ex = prof.execution
    if ex.executor not in EXECUTORS:
        raise ValueError(f"unknown executor {ex.executor!r}; valid: {', '.join(EXECUTORS)}")
    opts = dict(checkpoint=bool(ex.checkpoint), keep_checkpoints=bool(ex.keep_checkpoints))
    if ex.executor == "ray":
        _run_ray(tasks, cache, prof, on_done, log, **opts)
    else:
        _run_local(tasks, cache, prof, on_done, log, **opts)


# --------------------------------------------------------------------------- local processes
def _run_local(tasks, cache, prof, on_done, log, checkpoint: bool, keep_checkpoints: bool) -> None:
    n_jobs = max(1, min(int(prof.execution.n_jobs), len(tasks)))
    log(f"executor local: {n_jobs} process(es)")
    args = (str(cache.folder),)
    opts = dict(checkpoint=checkpoint, keep_checkpoints=keep_checkpoints)
    if n_jobs == 1:
        for task in tasks:
            on_done(task, work(task, *args, [s.key() for s in task], **opts))
        return
    ctx = multiprocessing.get_context("spawn")
    # each worker dies with this process, even a SIGKILLed one (amidlib.repro.lifetime): no orphan trains on
    with ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx, initializer=die_with_parent,
                             initargs=(os.getpid(),)) as pool:
        futures = {pool.submit(work, task, *args, [s.key() for s in task], **opts): task for task in tasks}
        for fut in as_completed(futures):
            on_done(futures[fut], fut.result())


# --------------------------------------------------------------------------- Ray
def _import_ray():
    try:
        import ray
    except ImportError as exc:  # pragma: no cover - make setup installs it
        raise ImportError("executor 'ray' needs Ray: `make setup` installs it (or pip install 'ray[default]'); "
                          "executor 'local' needs nothing more") from exc
    return ray


def connect(address: str | None = None, num_cpus: int | None = None, dashboard: bool = False):
    """Connect this process to Ray once (later calls reuse the connection) and return the module.

    ``address`` None (and no ``RAY_ADDRESS`` in the environment): start a private Ray instance for this process on
    this machine: ``num_cpus`` CPUs, no dashboard (``dashboard=True``: one on 127.0.0.1 only), Ray's token
    authentication (on by default since Ray 2.5x), gone when this process exits. Its node address is 127.0.0.1, so
    every one of its processes listens on the loopback address only (gcs_server, raylet, workers, this driver, the
    dashboard and runtime-env agents, metrics exporters): nothing outside this machine reaches it
    (``tests/test_ray_private.py``); where Ray would use another address, it is shut down and an error raised.
    Otherwise ``"auto"`` (the cluster this machine joined with ``ray start``) or the head's ``host:port``: the
    cluster's own settings apply (docs/cluster.md: keeping it private).
    """
    ray = _import_ray()
    if ray.is_initialized():
        return ray
    import logging
    import os

    if address in (None, "") and os.environ.get("RAY_ADDRESS"):
        address = os.environ["RAY_ADDRESS"]  # Ray's own variable: the cluster to join
    if address in (None, "", "local"):
        # the raylet waits 15 s for its helper agents to report their ports: on a busy machine the full agent
        # imports too slowly, so start the minimal one, and try twice (the second time with a warm page cache)
        for attempt in (1, 2):
            try:
                with _minimal_agent(not dashboard), _loopback_node():
                    ray.init(address="local", num_cpus=num_cpus, include_dashboard=dashboard,
                             dashboard_host=PRIVATE_RAY_HOST, _node_ip_address=PRIVATE_RAY_HOST,
                             logging_level=logging.WARNING, log_to_driver=True,
                             _system_config={"agent_register_timeout_ms": 120_000})
                break
            except Exception:  # noqa: BLE001 - Ray raises bare Exception when its node does not come up
                ray.shutdown()
                if attempt == 2:
                    raise
        node_ip = ray.util.get_node_ip_address()
        if not _is_loopback(node_ip):  # its processes would listen on a reachable address: stop it
            ray.shutdown()
            raise RuntimeError(f"the private Ray instance came up on {node_ip}, not {PRIVATE_RAY_HOST}, so "
                               "other machines could reach it; it was shut down. This Ray version "
                               f"({getattr(ray, '__version__', '?')}) is not supported for a private "
                               "instance: join a cluster instead (address='auto', docs/cluster.md)")
    else:
        ray.init(address=address, logging_level=logging.WARNING, log_to_driver=True)
    return ray


def _is_loopback(host: str) -> bool:
    import ipaddress

    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@contextlib.contextmanager
def _loopback_node():
    """While the private instance starts, let Ray take the loopback address as this node's address.

    Ray's processes listen on the loopback address only when the node address is a loopback one
    (its gRPC servers, agents and metrics exporters all test this), but ``ray.init`` turns a given
    127.0.0.1 into the machine's reachable address unless Ray runs in its one-machine mode (its
    default on macOS and Windows: ``ray_constants.ENABLE_RAY_CLUSTER`` False). Uses that private flag
    of Ray for the duration of ``ray.init``; where it is missing, :func:`connect` checks the address
    Ray chose and refuses any other."""
    constants = getattr(getattr(_import_ray(), "_private", None), "ray_constants", None)
    if constants is None or not hasattr(constants, "ENABLE_RAY_CLUSTER"):
        yield
        return
    original = constants.ENABLE_RAY_CLUSTER
    constants.ENABLE_RAY_CLUSTER = False
    try:
        yield
    finally:
        constants.ENABLE_RAY_CLUSTER = original


@contextlib.contextmanager
def _minimal_agent(enabled: bool):
    """Without a dashboard, start Ray's per-node agent as a minimal install would (``--minimal``: no
    HTTP server, no metrics reporter): it starts in a second instead of 15-30 s on a busy machine
    (the raylet gives it 15 s, then aborts) and opens fewer ports. Uses a private hook of Ray; where it
    is missing, nothing changes."""
    utils = getattr(getattr(_import_ray(), "_private", None), "utils", None)
    original = getattr(utils, "get_dashboard_dependency_error", None)
    if not enabled or original is None:
        yield
        return
    utils.get_dashboard_dependency_error = lambda: "amidlib: no dashboard asked for (minimal agent)"
    try:
        yield
    finally:
        utils.get_dashboard_dependency_error = original


def ray_resources(task: Sequence) -> dict:
    """What one task asks the cluster for: 1 GPU (and 1 CPU) for a CUDA run, 1 CPU otherwise."""
    device = str(dict(task[0].overrides).get("device") or task[0].effective_config().get("device", "cpu"))
    return {"num_cpus": 1, "num_gpus": 1 if device.startswith("cuda") else 0}


def _ray_train(specs: Sequence, keys: Sequence[str], cache_dir: str, checkpoint: bool) -> tuple[list, float, float]:
    """The body of one Ray task: train the specs (resuming from their checkpoints when there are
    some) and return (results, wall seconds per run, CPU seconds per run). Nothing is written to the
    run cache here: the driver stores the results."""
    results, wall, cpu = timed_train(specs, keys, cache_dir, checkpoint)
    for res in results:  # what goes back to the driver: the record only
        res.model, res.extras = None, {}
    return results, wall, cpu


def _run_ray(tasks, cache, prof, on_done, log, checkpoint: bool, keep_checkpoints: bool) -> None:
    ray = connect(prof.execution.address, num_cpus=max(1, int(prof.execution.n_jobs)))
    remote = ray.remote(_ray_train)
    cache_dir = str(Path(cache.folder).resolve())
    refs = {}
    for task in tasks:
        keys = [s.key() for s in task]
        ref = remote.options(**ray_resources(task), max_retries=RAY_MAX_RETRIES, retry_exceptions=False,
                             name=f"amid-run:{task[0].method}:{keys[0][:8]}").remote(task, keys, cache_dir, checkpoint)
        refs[ref] = (task, keys)
    total = ray.cluster_resources()
    log(f"executor ray: {len(refs)} task(s) on a cluster with {total.get('CPU', 0):.0f} CPU(s), "
        f"{total.get('GPU', 0):.0f} GPU(s)")
    pending = list(refs)
    try:
        while pending:
            done, pending = ray.wait(pending, num_returns=1)
            for ref in done:
                task, keys = refs[ref]
                try:
                    results, wall, cpu = ray.get(ref)
                except ray.exceptions.RayTaskError as exc:  # training raised: the cause, as a local run would
                    raise exc.as_instanceof_cause() from None
                except ray.exceptions.RayError as exc:  # the worker died more than max_retries times
                    raise RuntimeError(f"Ray task for {task[0].describe()} failed after {RAY_MAX_RETRIES} "
                                       f"retries: {type(exc).__name__}: {exc}") from exc
                on_done(task, store_task(cache, task, keys, results, wall, cpu, checkpoint, keep_checkpoints))
    finally:
        for ref in pending:  # a failure stops the Study: do not leave its other tasks running
            ray.cancel(ref, force=True)

