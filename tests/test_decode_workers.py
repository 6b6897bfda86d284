"""Decode workers that never hang: the fork hazard of the first GPU machine, reproduced on a CPU.

On Python 3.12 with PyAV 19 a forked decode worker crashed or hung: PyAV 19 keeps one swscale context per
thread and reuses it, and a context that ran with automatic threads in the parent waits forever in a
forked child. PyAV 18.1 (what the tests install) makes a new context per call, so the script below
stands in for 19: the decode path's RGB conversion goes through one module-level scaling context with
automatic threads. The parent decodes first (as probing, the frame cache and evaluation do), then a
loader with two workers reads three epochs. Each case runs in its own process under a time limit, so a
hang fails the test instead of stopping the suite.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SCRIPT = textwrap.dedent('''
    import sys
    from pathlib import Path

    import torch
    from av.video.reformatter import VideoReformatter

    from amidlib.data.av_tier import av_tier_datasets, make_av_clips
    from amidlib.data.video import decode, workers
    from amidlib.data.video.loader import VideoLoader

    SHARED = VideoReformatter()  # PyAV 19's per-thread scaling context, reused by every later call


    def to_rgb_reusing_one_context(frame, h, w):
        return SHARED.reformat(frame, width=w, height=h, format="rgb24", threads=0).to_ndarray()


    if __name__ == "__main__":
        root, start = Path(sys.argv[1]), sys.argv[2]
        if start == "fork":  # the previous loaders: workers forked from this process
            workers.context = lambda: __import__("multiprocessing").get_context("fork")
        decode._to_rgb = to_rgb_reusing_one_context
        if not (root / "manifest.json").exists():
            make_av_clips(root, n_classes=2, per_class=4, seconds=2.0, seed=0)
        train, _ = av_tier_datasets(root, cache_dir=root / "cache")
        for it in train.items[:4]:  # the parent decodes first, with threads
            decode.read_frames(it.path, range(8), size=(64, 85))
        loader = VideoLoader(train, num_workers=2)
        for epoch in range(3):
            n = sum(len(b.y) for b in loader.batches(2, torch.Generator().manual_seed(epoch)))
            print(f"epoch {epoch}: {n} of {len(train)} clips", flush=True)
        print("done", flush=True)
''')


def _run(tmp_path: Path, start: str, decode_timeout: int, limit: int) -> tuple[int, str, float]:
    script = tmp_path / "hazard.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "AMID_DECODE_TIMEOUT": str(decode_timeout), "PYTHONPATH": str(ROOT)}
    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, str(script), str(tmp_path / "tier"), start], capture_output=True,
                              text=True, timeout=limit, env=env, cwd=tmp_path)
    except subprocess.TimeoutExpired as exc:
        out = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return -1, out + f"\n(killed after {limit} s)", time.perf_counter() - t0
    return proc.returncode, proc.stdout + proc.stderr, time.perf_counter() - t0


def test_workers_started_fresh_read_every_epoch_after_the_parent_decoded(tmp_path):
    rc, out, wall = _run(tmp_path, "ours", decode_timeout=60, limit=180)
    assert rc == 0 and "done" in out, out[-3000:]
    assert out.count("clips") == 3 and "epoch 2: 6 of 6 clips" in out, out[-3000:]


@pytest.mark.skipif(sys.platform != "linux", reason="fork is the hazard on Linux")
def test_forked_workers_hang_there_and_the_timeout_names_the_videos_in_hand(tmp_path):
    """The control: the same script with forked workers (the previous loaders) hangs; the loader's
    timeout then stops it with an error naming the videos the workers had in hand."""
    rc, out, wall = _run(tmp_path, "fork", decode_timeout=8, limit=150)
    assert rc not in (0, -1) and "done" not in out, out[-3000:]
    assert "DecodeWorkerError" in out and "timed out after 8.0 seconds" in out, out[-3000:]
    named = out.split("had in hand:")[1].split(". Check")[0]
    assert ".mp4" in named, out[-3000:]
