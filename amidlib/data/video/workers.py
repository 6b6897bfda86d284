"""Decode worker processes: started fresh, single-threaded, watched.

Why not ``fork`` (the default on Linux): a forked worker inherits the parent's decoder state but not its
threads. PyAV 19 keeps one swscale context per thread and reuses it; a context that ran with automatic
threads in the parent (the parent decodes too: probing, the frame cache, evaluation with 0 workers) then
waits forever in the child for helper threads that do not exist, or crashes. On the first GPU machine
(Python 3.12, PyAV 19.0.2) a loader with one worker died with a segmentation fault and one with more
printed nothing for six minutes; the hang reproduces with PyAV 18.1 when one context is reused across a
fork (``tests/test_decode_workers.py``). Python 3.12 also warns about forking a multi-threaded process.

So every decode worker (the video DataLoaders, the audio pool) is started by :func:`context`:
``forkserver`` (a clean server process forks the workers; nothing of the parent's decoders is in them),
``spawn`` where there is no forkserver. Like ``spawn``, a forkserver imports the main module in each
worker: a script that iterates a loader with workers needs Python's ``if __name__ == "__main__":`` guard (notebooks
and ``python -m amidlib.repro`` need nothing). In a worker (:class:`WorkerInit`) decoding and scaling run on one
thread (the workers are the parallelism), ``faulthandler`` prints every thread's stack if FFmpeg crashes, and the
video in hand is noted in a small file, so a loader that times out (:data:`DECODE_TIMEOUT_S`) or loses a worker
names the videos it was decoding (:func:`videos_in_hand`).
"""
from __future__ import annotations

import faulthandler
import multiprocessing
import os
from pathlib import Path

import torch

__all__ = ["DECODE_TIMEOUT_S", "context", "in_worker", "WorkerInit", "note_decoding", "videos_in_hand",
           "DecodeWorkerError"]

#: seconds a loader waits for one batch from its workers before it stops, naming the videos in hand
#: (a batch of 16 clips takes well under a second; ``AMID_DECODE_TIMEOUT`` overrides)
DECODE_TIMEOUT_S = float(os.environ.get("AMID_DECODE_TIMEOUT", 300))

# this process's role: set in a worker by WorkerInit / pool_init
_IN_WORKER = False
_NOTE: Path | None = None


class DecodeWorkerError(RuntimeError):
    """A decode worker timed out or died; the message names the videos it had in hand."""


def context() -> multiprocessing.context.BaseContext:
    """The start method of every decode worker: ``forkserver`` (Linux), else ``spawn``; never ``fork``."""
    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    ctx = multiprocessing.get_context("forkserver")
    # the server imports torch and the data path once, before it forks anything: each worker then starts in
    # milliseconds instead of importing torch itself (seconds); the server never decodes or runs torch ops
    ctx.set_forkserver_preload(["amidlib.data.video.datasets"])
    return ctx


def in_worker() -> bool:
    """Is this a decode worker (then decode and scale on one thread)?"""
    return _IN_WORKER


def _become_worker(note: Path | None) -> None:
    global _IN_WORKER, _NOTE
    _IN_WORKER, _NOTE = True, note
    faulthandler.enable()  # a crash inside FFmpeg prints the Python stack of every thread to stderr
    torch.set_num_threads(1)


class WorkerInit:
    """``worker_init_fn`` of the video DataLoaders (a picklable callable: workers are not forked).
    ``state_dir``: where worker ``i`` notes the video it is decoding (``worker-<i>``)."""

    def __init__(self, state_dir: str | os.PathLike | None):
        self.state_dir = None if state_dir is None else str(state_dir)

    def __call__(self, worker_id: int) -> None:
        _become_worker(Path(self.state_dir) / f"worker-{worker_id}" if self.state_dir else None)


def pool_init() -> None:
    """``initializer`` of the audio decoding pool."""
    _become_worker(None)


def note_decoding(path) -> None:
    """Note (in a worker of a watched loader) the video about to be decoded."""
    if _NOTE is not None:
        try:
            _NOTE.write_text(str(path))
        except OSError:  # the note is a diagnosis aid: never a reason to fail a decode
            pass


def videos_in_hand(state_dir: str | os.PathLike | None) -> list[str]:
    """The videos the workers of a loader last started decoding, one per worker that noted one."""
    if state_dir is None or not Path(state_dir).is_dir():
        return []
    return [p.read_text() for p in sorted(Path(state_dir).glob("worker-*")) if p.stat().st_size]
