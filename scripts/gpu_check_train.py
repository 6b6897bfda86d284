"""Section 1 of scripts/gpu_check.sh: training steps through the real loop, against a plain reference.

    python scripts/gpu_check_train.py            # CUDA: R(2+1)D-18 at 16x112x112, batch 16, 20 steps per epoch
    python scripts/gpu_check_train.py --cpu      # smoke test: the same code at tiny shapes on the CPU

Every method of the paper's tables trains 2 epochs through ``amidlib.core.training.train`` with the
preset paper_video (SGD, bf16 autocast on CUDA, channels-last, cudnn.benchmark) on random clips held on
the device, then evaluates once. Per method: s/step of epoch 2 (epoch 1 warms up cudnn.benchmark), the
peak memory of the training steps and, separately, of the evaluation, and whether every loss stayed
finite. A plain torchvision ``r2plus1d_18`` trained the same way (same shapes, autocast, channels-last,
SGD, number of steps) is the reference the ratios are measured against. Each row is printed as soon as
it is measured; exit status 1 when a method failed or a loss was not finite.
"""
from __future__ import annotations

import argparse
import gc
import math
import re
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import torchvision

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from amidlib.core import training  # noqa: E402
from amidlib.core.config import make_config  # noqa: E402
from amidlib.core.methods import METHODS  # noqa: E402
from amidlib.core.types import Batch  # noqa: E402
from amidlib.data.video.nets import build_video_nets  # noqa: E402

N_CLASSES, AUX_DIM = 51, 512  # UCF51; CNN14 features from the cache (512-d)
EPOCHS = 2
#: the ratios' goals (docs/paper_profile.md, "The GPU check")
GOALS = {"amid_student": 1.15, "student_plain": 1.10, "peak_plain": 1.5}


def out(line: str = "") -> None:
    print(line, flush=True)


class Clips:
    """The training loop's loader interface (``n``, ``y``, ``batches``) over random clips held on the device.

    Like the run's ``VideoLoader``, an evaluation pass (no generator) gets at most ``eval_batch_size`` clips
    per batch: ``training.embed_all`` asks for 1024 at once, which at 16x112x112 would measure a batch no
    paper run ever sends through the network."""

    def __init__(self, n: int, frames: int, size: int, eval_batch_size: int, device: str):
        g = torch.Generator().manual_seed(0)
        self.n, self.eval_batch_size, self.device = n, eval_batch_size, device
        self.x = torch.randn(n, 3, frames, size, size, generator=g).to(device)
        self.a = torch.randn(n, AUX_DIM, generator=g).to(device)
        self.y = (torch.arange(n) % N_CLASSES).to(device)

    def batches(self, batch_size: int, generator: torch.Generator | None = None, drop_last: bool = False):
        if generator is None:
            batch_size = min(batch_size, self.eval_batch_size)
        order = torch.randperm(self.n, generator=generator) if generator is not None else torch.arange(self.n)
        stop = self.n - self.n % batch_size if drop_last else self.n
        for s in range(0, stop, batch_size):
            i = order[s:s + batch_size].to(self.device)
            yield Batch(self.x[i], self.a[i], self.y[i], i)


class PeakMemory:
    """Peak memory since the last :meth:`reset`, in GiB.

    CUDA: the caching allocator's ``max_memory_allocated`` (tensors only). CPU: the process's peak resident
    set (VmHWM, reset by writing 5 to /proc/self/clear_refs), which includes the interpreter and libraries:
    a smoke value that runs the same bookkeeping, not one to compare with GPU figures. NaN where neither works."""

    def __init__(self, cuda: bool):
        self.cuda = cuda

    def reset(self) -> None:
        if self.cuda:
            torch.cuda.reset_peak_memory_stats()
            return
        try:
            Path("/proc/self/clear_refs").write_text("5")
        except OSError:
            pass  # read() then reports the peak since the process started

    def read(self) -> float:
        if self.cuda:
            torch.cuda.synchronize()
            return torch.cuda.max_memory_allocated() / 2**30
        try:
            status = Path("/proc/self/status").read_text()
        except OSError:
            return math.nan
        found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
        return int(found.group(1)) / 2**20 if found else math.nan


def sync(cuda: bool) -> None:
    if cuda:
        torch.cuda.synchronize()


def free(cuda: bool) -> None:
    """Drop what the previous measurement left, so each one starts from the same allocator state."""
    gc.collect()
    if cuda:
        torch.cuda.empty_cache()


def measure_method(name: str, data: Clips, batch: int, cuda: bool, mem: PeakMemory) -> dict:
    """Train ``name`` through the real loop; its s/step of epoch 2, training and evaluation peaks, finiteness."""
    device = "cuda" if cuda else "cpu"
    # eval_every EPOCHS: one evaluation, after the last epoch, so epoch 2's time holds training steps only
    cfg = make_config(METHODS[name].defaults, preset="paper_video", device=device, epochs=EPOCHS, warmup_epochs=0,
                      batch_size=batch, eval_every=EPOCHS, progress=False)
    torch.manual_seed(0)
    nets = build_video_nets(N_CLASSES, AUX_DIM, dim=cfg.dim, teacher_hidden=cfg.hidden)
    model = METHODS[name](nets, cfg, N_CLASSES, data.n).to(device)
    stamps, train_peaks = [], []
    end_epoch = model.end_epoch

    def end_of_training_steps(*args, **kwargs):
        # the loop calls end_epoch right after an epoch's last step and before evaluating: the training
        # steps' peak is read here, and the reset makes the reading after train() the evaluation's peak
        sync(cuda)
        stamps.append(time.perf_counter())
        train_peaks.append(mem.read())
        mem.reset()
        return end_epoch(*args, **kwargs)

    model.end_epoch = end_of_training_steps
    mem.reset()
    hist = training.train(model, data, data, cfg, seed=0)
    eval_peak = mem.read()
    vals = hist[[c for c in hist.columns if c.startswith("loss_")]].to_numpy(float)
    steps = data.n // batch
    epoch2 = stamps[1] - stamps[0]
    return {"s_step": epoch2 / steps, "epoch2": epoch2, "train_peak": max(train_peaks), "eval_peak": eval_peak,
            # NaN: a term that does not run in that epoch; a NaN loss would have stopped the loop
            "finite": bool(np.isfinite(vals[~np.isnan(vals)]).all()) and len(hist) == EPOCHS}


def measure_plain(data: Clips, batch: int, cuda: bool, mem: PeakMemory) -> dict:
    """torchvision's r2plus1d_18 trained as the loop trains the student: same shapes, optimizer, autocast,
    channels-last and number of steps; no evaluation."""
    device = "cuda" if cuda else "cpu"
    cfg = make_config(METHODS["baseline"].defaults, preset="paper_video", device=device)
    torch.manual_seed(0)
    net = torchvision.models.video.r2plus1d_18(num_classes=N_CLASSES).to(device)
    if cuda:  # the loop's channels-last and cudnn.benchmark apply on CUDA only
        net = net.to(memory_format=torch.channels_last_3d)
        torch.backends.cudnn.benchmark = True
    opt = torch.optim.SGD(net.parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    g = torch.Generator().manual_seed(1)
    stamps, losses = [], []
    mem.reset()
    for _ in range(EPOCHS):
        for b in data.batches(batch, g, drop_last=True):
            x = b.x_target.contiguous(memory_format=torch.channels_last_3d) if cuda else b.x_target
            # as the loop: cfg.amp (bf16) autocast on CUDA, float32 on the CPU
            with torch.autocast(device_type=device, dtype=torch.bfloat16, enabled=cuda and cfg.amp == "bf16"):
                loss = F.cross_entropy(net(x), b.y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            losses.append(loss.detach())
        sync(cuda)
        stamps.append(time.perf_counter())
    peak = mem.read()
    epoch2 = stamps[1] - stamps[0]
    return {"s_step": epoch2 / (data.n // batch), "epoch2": epoch2, "train_peak": peak, "eval_peak": math.nan,
            "finite": bool(torch.isfinite(torch.stack(losses)).all())}


def verdict(value: float, goal: float) -> str:
    if not math.isfinite(value):
        return "n/a (goal not measured: a side of the ratio failed or did not run)"
    return f"{value:.2f}x (goal <= {goal:.2f}x): " + ("met" if value <= goal else "not met")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cpu", action="store_true", help="tiny shapes on the CPU (smoke test)")
    p.add_argument("--steps", type=int, default=None,
                   help="training steps per epoch (default: 20 on CUDA, 2 on the CPU)")
    p.add_argument("--methods", nargs="+", default=list(METHODS), choices=list(METHODS), help="default: all")
    args = p.parse_args(argv)
    cuda = not args.cpu
    if cuda and not torch.cuda.is_available():
        sys.exit("gpu_check_train: no CUDA device here; use --cpu for the smoke test")
    frames, size, batch = (16, 112, 16) if cuda else (4, 16, 2)
    steps = args.steps or (20 if cuda else 2)
    eval_batch_size = make_config(METHODS["baseline"].defaults, preset="paper_video").eval_batch_size
    data = Clips(batch * steps, frames, size, eval_batch_size, "cuda" if cuda else "cpu")
    mem = PeakMemory(cuda)
    out(f"R(2+1)D-18 at {frames}x{size}x{size}, batch {batch}, {N_CLASSES} classes, {steps} steps per epoch, "
        f"{EPOCHS} epochs (the first warms up), then one evaluation of {data.n} clips in batches of at most "
        f"{eval_batch_size}; the loop (amidlib.core.training.train) with preset paper_video"
        + (" on CUDA (bf16 autocast, channels-last, cudnn.benchmark, SGD)" if cuda else
           " on the CPU (float32: the loop's autocast and channels-last apply on CUDA only)"))
    unit = "GiB allocated" if cuda else "GiB process RSS"
    out()
    out(f"| method | s/step (epoch 2) | epoch 2 s | training-step peak {unit} | evaluation peak {unit} "
        "| losses finite |")
    out("|---|---|---|---|---|---|")
    res, failed = {}, []
    for name in ["plain", *args.methods]:
        label = "plain torchvision r2plus1d_18 (reference)" if name == "plain" else name
        try:
            r = (measure_plain(data, batch, cuda, mem) if name == "plain"
                 else measure_method(name, data, batch, cuda, mem))
        except Exception as exc:  # noqa: BLE001 - one method's failure is reported and the others still run
            failed.append(name)
            out(f"| {label} | failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''} | | | | |")
            continue
        finally:
            free(cuda)
        res[name] = r
        if not r["finite"]:
            failed.append(name)
        ev = "-" if name == "plain" else f"{r['eval_peak']:.2f}"
        out(f"| {label} | {r['s_step']:.4f} | {r['epoch2']:.2f} | {r['train_peak']:.2f} | {ev} | {r['finite']} |")

    def ratio(a: str, b: str, key: str) -> float:
        return res[a][key] / res[b][key] if a in res and b in res else math.nan

    ratios = [("AMID / student-alone step time", ratio("amid", "baseline", "s_step"), GOALS["amid_student"]),
              ("student-alone / plain r2plus1d_18 step time", ratio("baseline", "plain", "s_step"),
               GOALS["student_plain"]),
              ("AMID training-step peak / plain peak", ratio("amid", "plain", "train_peak"), GOALS["peak_plain"])]
    out()
    for text, value, goal in ratios:
        out(f"{text}: {verdict(value, goal)}")
    if not cuda:
        out("(CPU timings at tiny shapes and process RSS do not speak to these GPU goals: this run checks the code "
            "path)")
    trained = [m for m in args.methods if m in res and res[m]["finite"]]
    out(f"{len(trained)} of {len(args.methods)} methods trained {EPOCHS} epochs on {'CUDA' if cuda else 'the CPU'} "
        f"with finite losses" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
