"""Stopping a reproduction stops everything it started (amidlib.repro.lifetime).

The runner is started on the ci profile and stopped while its workload trains (the workload process and its 2
pool workers running): with SIGTERM (or Ctrl-C's SIGINT) it stops the whole tree itself and says how to go on; with
SIGKILL (no handler runs) the workload process and then its workers die with their parents. Either way no process of
the tree is left after 10 s. Before, the workload and its workers kept training into the run cache with no runner.
"""
from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from amidlib.repro.lifetime import _alive, descendants

if not Path("/proc/self/stat").is_file():  # pragma: no cover
    pytest.skip("the process tree is read from /proc (Linux)", allow_module_level=True)

REPO = Path(__file__).resolve().parents[1]


def _training_tree(tmp_path) -> tuple[subprocess.Popen, list[int]]:
    """A ci reproduction, once its workload process and both pool workers run: the runner and the tree below it."""
    cmd = [sys.executable, "-m", "amidlib.repro", "--profile", "ci", "--runs-dir", str(tmp_path / "runs"),
           "-p", "out_dir", str(tmp_path / "out")]
    proc = subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        tree = descendants(proc.pid)
        if len(tree) >= 3 and any("spawn_main" in _cmdline(p) for p in tree):
            time.sleep(1.0)  # (the workers import torch and start training)
            return proc, descendants(proc.pid)
        assert proc.poll() is None, proc.stdout.read()
        time.sleep(0.2)
    proc.kill()
    pytest.fail("the workload's pool workers did not start within 120 s")


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_no_process_of_a_stopped_reproduction_is_left(tmp_path, sig):
    proc, tree = _training_tree(tmp_path)
    assert any("amidlib.paper.workload" in _cmdline(p) for p in tree)
    proc.send_signal(sig)
    status = proc.wait(timeout=15)
    out = proc.stdout.read()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(p) for p in tree):
        time.sleep(0.1)
    left = [f"{p}: {_cmdline(p)}" for p in tree if _alive(p)]
    assert not left, f"still running 10 s after {sig.name} of the runner: {left}"
    if sig == signal.SIGKILL:
        assert status == -signal.SIGKILL
    else:
        assert status == 128 + sig
        assert f"stopped by {sig.name}" in out and "To go on from them" in out and "--cache-dir" in out, out[-2000:]
