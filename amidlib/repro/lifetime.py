"""One process tree: every process a reproduction starts ends with it.

A reproduction is a tree: the runner (``python -m amidlib.repro``), the workload process it starts
(``python -m amidlib.paper.workload``), that process's pool of training workers, and the notebooks' kernels. Killed
at the root, a tree whose branches do not notice keeps training into the run cache with nobody to report to. So:

- **SIGINT, SIGTERM, SIGHUP of the runner** (Ctrl-C, ``kill``, a closed terminal): :func:`on_stop_signals` stops
  every process below the runner (:func:`stop_descendants`: SIGTERM, then SIGKILL after a few seconds), says
  where the finished runs are and how to go on from them, and exits with 128 + the signal's number.
- **SIGKILL of the runner** (no handler can run): each child asks the kernel to kill it when its parent dies
  (:func:`die_with_parent`, Linux's ``PR_SET_PDEATHSIG``): the workload process when the runner dies, each pool
  worker when the workload process dies. The kernels of the notebooks end by themselves (ipykernel polls its
  parent, ``JPY_PARENT_PID``).

The runs that finished are safe either way: a record lands in the run cache whole and sealed
(:mod:`amidlib.repro.store`), so ``--cache-dir`` with the same folder goes on from them to the same numbers.
Linux only where it needs ``/proc`` and ``prctl``; elsewhere the functions do what the platform allows.
"""
from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["PARENT_ENV", "die_with_parent", "descendants", "stop_descendants", "on_stop_signals", "run_streamed"]

#: the environment variable through which a child learns the pid of the parent it must not outlive
PARENT_ENV = "AMIDLIB_PARENT_PID"
#: seconds between SIGTERM and SIGKILL when stopping the tree
GRACE_S = 3.0
_PR_SET_PDEATHSIG = 1
#: what stops a reproduction (SIGKILL cannot be caught: :func:`die_with_parent` covers it)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def die_with_parent(parent: int | None = None, sig: int = signal.SIGKILL) -> bool:
    """Ask the kernel to send this process ``sig`` when its parent dies (``parent``: the pid it must have; default
    ``$AMIDLIB_PARENT_PID``; neither: nothing is done, so a command a user started by hand, e.g. under ``nohup``,
    outlives its shell). If the parent is already gone (it died before this ran), exit at once. True where the
    platform could arrange it."""
    if parent is None:
        if not os.environ.get(PARENT_ENV):
            return False
        parent = int(os.environ.pop(PARENT_ENV))  # (not inherited further: a grandchild has another parent)
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        armed = libc.prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):  # not Linux
        armed = False
    if parent is not None and os.getppid() != parent:  # (the parent died before the kernel was told)
        os._exit(128 + int(sig))
    return armed


def _children_map() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:  # (the process ended meanwhile)
            continue
        fields = text.rsplit(")", 1)[-1].split()  # after the command name, which may hold spaces
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    return children


def descendants(pid: int | None = None) -> list[int]:
    """Every process below ``pid`` (default: this one), children first ([] without ``/proc``)."""
    children, out, todo = _children_map(), [], [os.getpid() if pid is None else pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (ended, not yet reaped by its parent) is not running
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0] != "Z"
    except OSError:
        return False


def stop_descendants(grace: float = GRACE_S) -> int:
    """SIGTERM every process below this one, SIGKILL whatever still runs after ``grace`` seconds (found again:
    a process may have started meanwhile). Returns how many there were."""
    first = descendants()
    for pid in first:
        try:
            os.kill(pid, signal.SIGTERM)
        except (ProcessLookupError, PermissionError):
            pass
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(p) for p in first):
        time.sleep(0.05)
    for pid in set(first) | set(descendants()):
        if _alive(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
    return len(first)


@contextlib.contextmanager
def on_stop_signals(message: Callable[[int], str]) -> Iterator[None]:
    """Inside the block, SIGINT, SIGTERM and SIGHUP stop this process's whole tree: every process below it stopped
    (:func:`stop_descendants`), ``message(signum)`` printed to stderr, exit status 128 + signum. The handler exits
    with ``os._exit``: threads waiting on a stopped notebook's kernel are not waited for. The previous handlers
    come back when the block ends (only the main thread can set handlers: elsewhere the block changes nothing)."""

    def stop(signum, frame):  # noqa: ARG001 - the signal module's signature
        for s in STOP_SIGNALS:
            signal.signal(s, signal.SIG_IGN)  # (a second Ctrl-C must not cut the stopping short)
        n = stop_descendants()
        sys.stdout.flush()
        print(f"\nstopped by {signal.Signals(signum).name}: {n} process(es) it started are stopped. "
              + message(signum), file=sys.stderr, flush=True)
        os._exit(128 + signum)

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = {s: signal.signal(s, stop) for s in STOP_SIGNALS}
    try:
        yield
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)


def run_streamed(cmd: list[str], out, cwd: Path) -> int:
    """Run ``cmd``, passing its output through ``out`` line by line; its exit status. The child runs in its own
    session (a terminal's Ctrl-C reaches this process, which stops the whole tree: :func:`on_stop_signals`) and
    dies with this process even when this one is SIGKILLed (it calls :func:`die_with_parent`: ``$AMIDLIB_PARENT_PID``
    tells it whom to watch)."""
    env = {**os.environ, PARENT_ENV: str(os.getpid())}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=str(cwd), bufsize=1,
                            env=env, start_new_session=True)
    assert proc.stdout is not None
    for line in proc.stdout:
        out.write(line)
        out.flush()
    return proc.wait()
