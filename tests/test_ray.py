"""The Ray executor of the run engine (amidlib.repro.executors) against the local one.

A private Ray instance is started once for this module: 2 CPUs, no dashboard.
- a small Study on Ray writes the same cache and the same tables as the local executor;
- a Ray worker SIGKILLed in the middle of a run (after its first checkpoint): Ray retries the task,
  which resumes from that checkpoint, and the Study ends with the same numbers as an uninterrupted
  local run; a run already in the cache is not sent to Ray again.
"""
from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

ray = pytest.importorskip("ray", reason="executor 'ray' needs Ray (make setup installs it)")
if not Path("/proc/self/cmdline").is_file():  # pragma: no cover
    pytest.skip("the worker-kill test finds Ray's workers in /proc (Linux)", allow_module_level=True)

from amidlib.repro import executors, profiles, runs  # noqa: E402


@pytest.fixture(scope="module")
def ray_cluster():
    """A one-machine Ray instance for the tests: 2 CPUs, no dashboard."""
    if ray.is_initialized():
        ray.shutdown()
    executors.connect(None, num_cpus=2)  # (no dashboard)
    assert ray.cluster_resources().get("CPU") == 2
    yield ray
    ray.shutdown()


def _prof(tmp_path, name, executor, **changes):
    return profiles.load_profile("ci", epochs=2, n_jobs=2, executor=executor, cache_dir=tmp_path / name,
                                 out_dir=tmp_path / "figures", **changes)


def _cells(prof, methods=(("baseline", {}), ("amid", {"use_adv": False}), ("crd", {}))):
    main = prof.main
    return [runs.Cell("t", main.key, main.paper, m, runs.make_spec(prof, main, m, 0, **ov)) for m, ov in methods]


def test_study_on_ray_gives_the_tables_of_the_local_executor(tmp_path, ray_cluster):
    out = {}
    for executor in ("local", "ray"):
        prof = _prof(tmp_path, executor, executor)
        study = runs.Study(prof, verbose=False)
        cells = _cells(prof)
        out[executor] = (study.runs(cells), study.histories(cells))
        assert study.trained == len(cells)
        # the cache written by the driver (ray) holds the same files as the workers' (local)
        for cell in cells:
            folder = prof.paths.cache_dir / cell.spec.key()
            assert sorted(p.name for p in folder.iterdir()) == ["config.json", "history.csv", "metrics.json",
                                                                "record.json", "spec.json"]
    pd.testing.assert_frame_equal(out["local"][0], out["ray"][0])
    pd.testing.assert_frame_equal(out["local"][1], out["ray"][1])
    # a second Study on the same cache trains nothing
    again = runs.Study(_prof(tmp_path, "ray", "ray"), verbose=False)
    again.runs(_cells(again.prof))
    assert again.trained == 0


def test_ray_resources_ask_a_gpu_for_cuda_runs(tmp_path):
    prof = _prof(tmp_path, "r", "ray")
    spec = runs.make_spec(prof, prof.main, "amid", 0)
    assert executors.ray_resources((spec,)) == {"num_cpus": 1, "num_gpus": 0}
    gpu = runs.make_spec(profiles.load_profile("ci", device="cuda", cache_dir=tmp_path / "g"), prof.main, "amid", 0)
    assert executors.ray_resources((gpu,)) == {"num_cpus": 1, "num_gpus": 1}


def _ray_training_pids() -> list[int]:
    """Ray workers executing a training task (their process title is ``ray::amid-run:<method>:<key>``, the task's
    name)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # gone meanwhile
            continue
        if cmd.startswith("ray::amid-run:"):
            pids.append(int(proc.name))
    return pids


def test_a_killed_ray_worker_is_retried_and_resumes_from_its_checkpoint(tmp_path, ray_cluster):
    epochs = 40  # long enough that the kill (right after the first checkpoint) lands mid-run
    kw = dict(epochs=epochs, checkpoint=True, keep_checkpoints=True)
    ref_prof = profiles.load_profile("ci", n_jobs=1, cache_dir=tmp_path / "local", out_dir=tmp_path / "f", **kw)
    ray_prof = profiles.load_profile("ci", n_jobs=2, executor="ray", cache_dir=tmp_path / "ray", out_dir=tmp_path / "f",
                                     **kw)
    methods = (("amid", {}),)
    reference = runs.Study(ref_prof, verbose=False).runs(_cells(ref_prof, methods))

    cells = _cells(ray_prof, methods)
    key = cells[0].spec.key()
    ckpt = ray_prof.paths.cache_dir / ".checkpoints" / key / "last.pt"
    study = runs.Study(ray_prof, verbose=False)
    box: dict = {}

    def target():
        box["frame"] = study.runs(cells)

    thread = threading.Thread(target=target, daemon=True)
    thread.start()
    killed, deadline = [], time.monotonic() + 120
    while not killed and time.monotonic() < deadline and thread.is_alive():
        if ckpt.is_file():
            for pid in _ray_training_pids():
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
        time.sleep(0.02)
    assert killed, "no Ray training worker was found to kill while the run was in progress"
    import torch

    done_at_kill = torch.load(ckpt, weights_only=True)["epoch"] if ckpt.is_file() else None
    thread.join(timeout=300)
    assert not thread.is_alive(), "the Study did not finish after its worker was killed"
    assert "frame" in box, "the Study raised after its worker was killed (see the captured output)"
    assert done_at_kill is None or done_at_kill < epochs
    got = box["frame"]
    pd.testing.assert_frame_equal(reference, got)
    hist_ref = runs.Study(ref_prof, verbose=False).histories(_cells(ref_prof, methods))
    pd.testing.assert_frame_equal(hist_ref, study.histories(cells))
    assert len(study.histories(cells)) == epochs
    # finished: a new Study finds the run in the cache and sends nothing to Ray
    again = runs.Study(ray_prof, verbose=False)
    again.runs(cells)
    assert again.trained == 0
