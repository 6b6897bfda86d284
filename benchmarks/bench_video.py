"""Benchmark (not a test) of the video + audio path at the paper's shapes.

1. Step time: one AMID training step (R(2+1)D-18 student forward/backward, teacher MLP, classifier,
   Eq 8/9 MI losses, L_adv, discriminator step on detached representations; CNN14 features from the
   cache, i.e. a (B, 512) tensor) as a ratio to one student-alone step, measured in the same process on
   the same batches, steps interleaved so machine load hits both alike. Goal: <= 1.15x, because the
   shared extractor (the student's own network) dominates both.
2. Data path: clips/s of one training pass over generated UCF-sized videos (320x240, 25 fps, audio
   at 44.1 kHz): without any cache (video decode + audio decode + resample + CNN14 per clip), with the
   CNN14 feature cache (video decode + a memmapped row), and with the frame cache as well.

    python benchmarks/bench_video.py [--batch 2] [--steps 3] [--frames 16] [--size 112] [--no-data]

Ratios carry over between machines; absolute times do not. Record the output in
benchmarks/RESULTS_video.md. ``scripts/gpu_check.sh`` reuses :func:`build_step` and :func:`make_batch`.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from amidlib.core.config import make_config  # noqa: E402
from amidlib.core.files import atomic_write_text  # noqa: E402
from amidlib.core.methods import METHODS, Batch  # noqa: E402
from amidlib.data.video.nets import build_video_nets  # noqa: E402
from amidlib.paper import names  # noqa: E402


def make_batch(batch: int, frames: int, size: int, aux_dim: int, n_classes: int, device, seed: int = 0) -> Batch:
    """Random normalised clips + cached-feature-like aux vectors; labels with one repeated class so
    the D2 branch (same-class pairs) runs too."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, 3, frames, size, size, generator=g)
    a = torch.randn(batch, aux_dim, generator=g).abs()
    y = torch.randint(0, n_classes, (batch,), generator=g)
    if batch >= 2:
        y[1] = y[0]
    return Batch(x.to(device), a.to(device), y.to(device), torch.arange(batch, device=device))


def build_step(method_name: str, cfg, n_classes: int, aux_dim: int, device, student: str = "r2plus1d_18",
               amp_dtype: torch.dtype | None = None, seed: int = 0):
    """One full training step of ``method_name`` exactly as amidlib.core.training.train runs it (main
    optimizer step, then AMID's discriminator step), optionally under torch.autocast."""
    torch.manual_seed(seed)
    nets = build_video_nets(n_classes, aux_dim, dim=cfg.dim, student=student, teacher_hidden=cfg.hidden)
    model = METHODS[method_name](nets, cfg, n_classes, 1000).to(device)
    model.train()
    d_params = model.discriminator_parameters()
    d_ids = {id(p) for p in d_params}
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad and id(p) not in d_ids], lr=cfg.lr)
    d_opt = torch.optim.Adam(d_params, lr=cfg.d_lr, betas=(0.5, 0.999)) if d_params else None
    device_type = torch.device(device).type
    scaler = torch.amp.GradScaler(device_type) if amp_dtype == torch.float16 else None
    epoch = cfg.warmup_epochs  # first epoch after the warm-up: every AMID term is on

    def autocast():
        return torch.autocast(device_type, dtype=amp_dtype, enabled=amp_dtype is not None)

    def step(b: Batch) -> dict[str, float]:
        with autocast():
            out = model(b, epoch)
            total = sum(out.losses.values())
        opt.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(total).backward()
            scaler.step(opt)
            scaler.update()
        else:
            total.backward()
            opt.step()
        losses = {k: float(v.detach()) for k, v in out.losses.items()}
        with autocast():
            d_loss = model.discriminator_loss(out, b, epoch)
        if d_loss is not None:
            d_opt.zero_grad(set_to_none=True)
            d_loss.float().backward()
            d_opt.step()
            losses["discriminator"] = float(d_loss.detach())
        return losses

    return step, model


def _sync(device):
    if torch.device(device).type == "cuda":
        torch.cuda.synchronize()


def time_steps(steps: dict, batch: Batch, n: int, warmup: int, device) -> dict[str, list[float]]:
    """Interleaved timing: warm-up each, then n rounds of (each method once)."""
    for fn in steps.values():
        for _ in range(warmup):
            fn(batch)
    _sync(device)
    times = {k: [] for k in steps}
    for _ in range(n):
        for name, fn in steps.items():
            _sync(device)
            t = time.perf_counter()
            fn(batch)
            _sync(device)
            times[name].append(time.perf_counter() - t)
    return times


def step_ratio(batch_size: int, frames: int, size: int, n: int, warmup: int, device="cpu") -> str:
    cfg = make_config(METHODS["amid"].defaults, preset="paper_video", device=device, warmup_epochs=0,
                      batch_size=batch_size, progress=False)
    n_classes, aux_dim = 51, 512
    b = make_batch(batch_size, frames, size, aux_dim, n_classes, device)
    steps = {"amid": build_step("amid", cfg, n_classes, aux_dim, device)[0],
             "baseline": build_step("baseline", cfg, n_classes, aux_dim, device)[0]}
    times = time_steps(steps, b, n, warmup, device)
    amid, base = statistics.median(times["amid"]), statistics.median(times["baseline"])
    lines = [
        f"## Step time at the paper's shapes (R(2+1)D-18, {frames}x{size}x{size}, batch {batch_size}, dim 512, "
        f"UCF51: 51 classes, cached 512-d CNN14 features; {n} interleaved steps after {warmup} warm-up)",
        "",
        "| step | median s | all s |",
        "|---|---|---|",
        f"| {names.table_label('table1', 'baseline')} | {base:.3f} | "
        f"{', '.join(f'{t:.2f}' for t in times['baseline'])} |",
        f"| {names.table_label('table1', 'amid')}: all terms + discriminators | {amid:.3f} | "
        f"{', '.join(f'{t:.2f}' for t in times['amid'])} |",
        "",
        f"**AMID / student-alone = {amid / base:.3f}x** (goal <= 1.15x)",
    ]
    return "\n".join(lines)


def data_path(n_videos: int, seconds: float, device="cpu", progress: bool = False) -> str:
    from amidlib.data.av_tier import make_av_clips
    from amidlib.data.cache import CALLS
    from amidlib.data.video import audio
    from amidlib.data.video.datasets import video_audio_datasets
    from amidlib.data.video.decode import ClipSpec, read_audio, resample

    clip = ClipSpec()  # paper: 16 frames, resize 128x171, crop 112
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ucf_sized"
        t = time.perf_counter()
        mpath = make_av_clips(root, n_classes=2, per_class=n_videos // 2, seconds=seconds, fps=25, size=(240, 320),
                              sample_rate=44100, seed=0)
        gen_s = time.perf_counter() - t
        manifest = json.loads(mpath.read_text())
        extractor = audio.cnn14_untrained(embedding_dim=512)  # full-size CNN14 (random weights: no checkpoint here)
        kw = dict(aux=extractor, clip=clip, cache_dir=Path(tmp) / "cache", progress=progress)
        t = time.perf_counter()
        train_ds, test_ds = video_audio_datasets(manifest, root, **kw)
        build_s = time.perf_counter() - t
        items = [(ds, i) for ds in (train_ds, test_ds) for i in range(len(ds))]
        n = len(items)

        def no_cache(ds, i):  # what every epoch would cost without the feature cache
            x, _, y, _ = ds[(i, 1234 + i)]
            it = ds.items[i]
            wave, rate = read_audio(it.path)
            a = extractor.embed(resample(wave, rate, extractor.sample_rate))
            return x, a

        def with_cache(ds, i):
            return ds[(i, 1234 + i)]

        res = {}
        for name, fn in (("no cache (decode video + audio, resample, CNN14)", no_cache),
                         ("CNN14 feature cache (decode video, memmap row)", with_cache)):
            before = CALLS.copy()
            t = time.perf_counter()
            for ds, i in items:
                fn(ds, i)
            res[name] = (n / (time.perf_counter() - t), dict(CALLS - before))
        fc_train, fc_test = video_audio_datasets(manifest, root, frame_cache=True, **kw)
        before = CALLS.copy()
        t = time.perf_counter()
        for ds, i in [(fc_train, i) for i in range(len(fc_train))] + [(fc_test, i) for i in range(len(fc_test))]:
            ds[(i, 1234 + i)]
        res["feature cache + frame cache (memmap frames, crop)"] = (n / (time.perf_counter() - t), dict(CALLS - before))
    lines = [
        f"## Data path, one pass over {n} generated UCF-sized videos ({seconds:g} s, 320x240, 25 fps, "
        f"AAC 44.1 kHz; clips 16x112x112; CNN14 full size, 512-d head, on {device}; 1 process)",
        "",
        f"(writing the videos: {gen_s:.1f} s; building the datasets incl. the one-time CNN14 extraction: "
        f"{build_s:.1f} s)",
        "",
        "| data path | clips/s | calls during the pass |",
        "|---|---|---|",
    ]
    lines += [f"| {k} | {v:.2f} | {c} |" for k, (v, c) in res.items()]
    return "\n".join(lines)


def loader_path(n_videos: int, seconds: float, workers=(0, 1, 2), batch: int = 16, progress: bool = False,
                seekable: bool = False) -> str:
    """clips/s of the run's real loader (:class:`VideoLoader`, the paper clip: RandomResizedCrop training
    windows, 10 test clips per video) over generated UCF-sized **AVI files with B-frames** (MPEG-4 part 2
    like UCF101's XviD, 320x240, 25 fps, PCM audio), per number of decode workers; the CNN14 features come
    from the cache (a cheap log-mel extractor fills it here). One training pass and one evaluation pass
    each, after a warm-up pass that starts the persistent workers. ``seekable``: the same rows again for
    the videos' seekable copies (``python -m amidlib.data.video.transcode``, the data option ``frames_root``)."""
    from amidlib.data.av_tier import make_av_clips
    from amidlib.data.video.datasets import VideoLoader, video_audio_datasets
    from amidlib.data.video.decode import PAPER_CLIP

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ucf_avi"
        t = time.perf_counter()
        mpath = make_av_clips(root, n_classes=2, per_class=max(2, n_videos // 2), seconds=seconds, fps=25,
                              size=(240, 320), sample_rate=44100, seed=0, suffix=".avi", b_frames=2,
                              test_per_class=max(1, n_videos // 8))
        gen_s = time.perf_counter() - t
        print(f"videos written in {gen_s:.1f} s", flush=True)  # each step as it ends: a slow one shows where
        manifest = json.loads(mpath.read_text())
        train_ds, test_ds = video_audio_datasets(manifest, root, aux="logmel_stats", clip=PAPER_CLIP,
                                                 cache_dir=Path(tmp) / "cache", progress=progress)
        sources = [("AVI", train_ds, test_ds)]
        copies_line = ""
        if seekable:
            from amidlib.data.video.transcode import transcode_folder

            t = time.perf_counter()
            summary = transcode_folder(root, Path(tmp) / "seekable", n_workers=max(1, (os.cpu_count() or 2) - 1),
                                       progress=progress)
            copies_line = (f"(seekable copies: {summary['written']} written in {time.perf_counter() - t:.1f} s, "
                           f"{summary['bytes_copies'] / 2**20:.1f} MiB for {summary['bytes_source'] / 2**20:.1f} MiB "
                           f"of AVIs, audio included in the latter)")
            print(copies_line, flush=True)
            sources.append(("seekable copy", *video_audio_datasets(
                manifest, root, aux="logmel_stats", clip=PAPER_CLIP, cache_dir=Path(tmp) / "cache",
                progress=progress, frames_root=Path(tmp) / "seekable")))
        rows = []
        for (source, train_ds, test_ds), w in [(src, w) for src in sources for w in workers]:
            tr = VideoLoader(train_ds, num_workers=w)
            te = VideoLoader(test_ds, num_workers=w, eval_batch_size=40)
            g = torch.Generator().manual_seed(0)
            for _ in tr.batches(batch, g, drop_last=False):  # warm-up: workers start, files in the page cache
                pass
            t = time.perf_counter()
            n_train = sum(b.x_target.shape[0] for b in tr.batches(batch, g, drop_last=False))
            train_rate = n_train / (time.perf_counter() - t)
            t = time.perf_counter()
            n_test = sum(b.x_target.shape[0] * b.x_target.shape[1] for b in te.batches(40))
            test_rate = n_test / (time.perf_counter() - t)
            rows.append((source, w, train_rate, test_rate))
            print(f"{source}, {w} decode workers: {train_rate:.1f} training clips/s, {test_rate:.1f} test clips/s",
                  flush=True)
            del tr, te
    lines = [f"## Data path with the run's loader (VideoLoader, PAPER_CLIP), {len(train_ds)} train / {len(test_ds)} "
             f"test generated AVIs with B-frames ({seconds:g} s, 320x240, 25 fps), {os.cpu_count()} CPU cores",
             "", f"(writing the videos: {gen_s:.1f} s)", *(["", copies_line] if copies_line else []), "",
             "| frames from | decode workers | training clips/s | per worker "
             "| test clips/s (10 per video) | per worker |",
             "|---|---|---|---|---|---|"]
    for source, w, a, b in rows:
        k = max(w, 1)
        lines.append(f"| {source} | {w} | {a:.1f} | {a / k:.1f} | {b:.1f} | {b / k:.1f} |")
    lines += ["", "0 workers = decoding in the training process itself. A run's GPU needs batch / step time clips/s; "
              "see docs/paper_profile.md for what that means per table."]
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch", type=int, default=2)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--frames", type=int, default=16)
    p.add_argument("--size", type=int, default=112)
    p.add_argument("--videos", type=int, default=6)
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--no-data", action="store_true")
    p.add_argument("--loader", action="store_true", help="only the run's loader, clips/s per number of workers")
    p.add_argument("--workers", type=int, nargs="+", default=[0, 1, 2])
    p.add_argument("--seekable", action="store_true", help="with --loader: also the videos' seekable copies")
    p.add_argument("--out", type=Path, default=None, help="also write the report here (markdown, atomically)")
    args = p.parse_args(argv)
    if args.loader:
        text = loader_path(args.videos, args.seconds, tuple(args.workers), seekable=args.seekable)
        print(text)
        if args.out:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_text(args.out, f"# {time.strftime('%Y-%m-%d %H:%M')} "
                                        f"{platform.processor() or platform.machine()}\n\n" + text + "\n")
        return
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    print(f"# bench_video — {time.strftime('%Y-%m-%d %H:%M')}, {platform.processor() or platform.machine()}, "
          f"torch {torch.__version__}, {torch.get_num_threads()} threads, load average "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}\n")
    print(step_ratio(args.batch, args.frames, args.size, args.steps, args.warmup), "\n", flush=True)
    if not args.no_data:
        print(data_path(args.videos, args.seconds))


if __name__ == "__main__":
    main()
