"""Seekable copies of a video folder, made once, so a training clip is read with a seek.

Why: UCF101's AVIs (XviD, B-frames, often one key frame per file) are decoded from frame 0 for every clip
(AVI key frames are indexed by decode time, so :func:`~amidlib.data.video.decode.read_frames` never seeks
in them): about half a video per 16-frame clip, at 320×240, every epoch. A copy in H.264/mp4 at the
network's input scale (128×172: the 128×171 the clip spec resizes every frame to, made even) with a key frame every
``gop`` frames is read with a timestamp seek to the key frame before the window: at most ``gop`` + 16
frames are decoded per clip, at a quarter of the pixels.

    python -m amidlib.data.video.transcode /data/ucf51/videos /data/ucf51/videos_seekable --workers 8

writes ``<dst>/<Class>/<id>.mp4`` for every video under ``<src>`` (the folder layout is kept), each file
atomically (temporary name, then renamed; an interrupted run goes on where it stopped), and
``<dst>/TRANSCODED.json``: the settings, the files written, the bytes read and written, and every file
that failed, by name. Frame ``i`` of a copy is frame ``i`` of its source (display order, as ``read_frames``
counts it; tested), so clip indices and ``n_frames`` carry over. The copy has no audio track: audio
features are read from the originals (or the feature cache).

Use the copies with the data option ``frames_root`` (frames from the copies, everything else — the
manifest check, audio — from the originals), e.g. ``data_options={"ucf51": {"frames_root":
"/data/ucf51/videos_seekable"}}``. The copies are lossy (H.264, CRF 18, visually lossless at this scale):
a run reading them is a different run from one reading the AVIs, and its record says so.
"""
from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

from amidlib.core.files import atomic_path, atomic_write_text
from amidlib.data.video import workers
from amidlib.data.video.decode import VideoDecodeError, _frame_source, _open

__all__ = ["TranscodeSettings", "MARKER", "transcode_file", "transcode_folder", "main"]

#: the summary written beside the copies
MARKER = "TRANSCODED.json"
VIDEO_SUFFIXES = (".avi", ".mp4", ".mkv", ".webm", ".mov", ".m4v")


@dataclass(frozen=True)
class TranscodeSettings:
    """How the copies are encoded: the clip spec's resize (H, W) rounded up to even sizes (H.264's 4:2:0
    needs them; frames are resized to the clip spec's exact size when read), a key frame every ``gop``
    frames, x264's constant quality ``crf`` and ``preset``, no B-frames (decode order is display order)."""

    height: int = 128
    width: int = 172
    gop: int = 16
    crf: int = 18
    preset: str = "veryfast"


def transcode_file(src: str | os.PathLike, dst: str | os.PathLike,
                   settings: TranscodeSettings = TranscodeSettings()) -> int:
    """Write the seekable copy of ``src`` to ``dst`` (atomically); returns the number of frames.
    Raises :class:`~amidlib.data.video.decode.VideoDecodeError` naming ``src`` when it does not decode."""
    import av

    src, dst = Path(src), Path(dst)
    dst.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with atomic_path(dst) as tmp:
        with _open(src) as container, av.open(str(tmp), "w", format="mp4") as out:
            if not container.streams.video:
                raise VideoDecodeError(src, "no video stream")
            stream = container.streams.video[0]
            stream.thread_count = 1  # the files are the parallelism (one per worker)
            fps = Fraction(stream.average_rate or stream.guessed_rate or 25)
            vs = out.add_stream("libx264", rate=fps)
            vs.width, vs.height, vs.pix_fmt = settings.width, settings.height, "yuv420p"
            vs.codec_context.gop_size = settings.gop
            vs.codec_context.max_b_frames = 0
            vs.codec_context.thread_count = 1
            # a key frame exactly every gop frames (no scene-cut key frames, no B-frames)
            vs.options = {"crf": str(settings.crf), "preset": settings.preset,
                          "x264-params": f"keyint={settings.gop}:min-keyint={settings.gop}:scenecut=0:bframes=0"}
            try:
                for _idx, frame in _frame_source(container, stream, src, 0):  # display order, read_frames' numbering
                    out_frame = frame.reformat(width=settings.width, height=settings.height, format="yuv420p",
                                               threads=1)
                    out_frame.pts, out_frame.time_base = n, 1 / fps  # frame n at n / fps: its index is its timestamp
                    for packet in vs.encode(out_frame):
                        out.mux(packet)
                    n += 1
                for packet in vs.encode():
                    out.mux(packet)
            except VideoDecodeError:
                raise
            except Exception as exc:
                raise VideoDecodeError(src, f"decoding failed ({type(exc).__name__}: {exc})") from None
        if n == 0:
            raise VideoDecodeError(src, "the video stream has no frames")
    return n


def _job(args) -> tuple[str, int, int, str | None]:
    """(relative path, frames, bytes written, problem): one file, in a worker."""
    rel, src, dst, settings = args
    try:
        n = transcode_file(src, dst, TranscodeSettings(**settings))
        return rel, n, Path(dst).stat().st_size, None
    except VideoDecodeError as exc:
        return rel, 0, 0, exc.reason
    except Exception as exc:  # noqa: BLE001 - an encoder error: named, and the other files go on
        return rel, 0, 0, f"{type(exc).__name__}: {exc}"


def transcode_folder(src_root: str | os.PathLike, dst_root: str | os.PathLike, n_workers: int = 1,
                     settings: TranscodeSettings = TranscodeSettings(), progress: bool = True) -> dict:
    """Seekable copies of every video under ``src_root`` in ``dst_root`` (same layout, ``.mp4``); copies that
    exist and are newer than their source are kept. Returns (and writes to ``dst_root/TRANSCODED.json``) the
    summary: settings, counts, bytes, seconds, and the files that failed."""
    from tqdm.auto import tqdm

    src_root, dst_root = Path(src_root).expanduser(), Path(dst_root).expanduser()
    if not src_root.is_dir():
        raise FileNotFoundError(f"{src_root}: no such folder (the videos to copy)")
    if src_root.resolve() == dst_root.resolve():
        raise ValueError(f"the copies need their own folder, not {src_root} itself")
    sources = sorted(p for p in src_root.rglob("*") if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file())
    jobs, kept = [], 0
    for p in sources:
        rel = p.relative_to(src_root).with_suffix(".mp4")
        dst = dst_root / rel
        if dst.is_file() and dst.stat().st_mtime >= p.stat().st_mtime:
            kept += 1
            continue
        jobs.append((str(rel), str(p), str(dst), asdict(settings)))
    started = time.perf_counter()
    written, frames, failed = 0, 0, {}
    bar = tqdm(total=len(jobs), desc=f"seekable copies -> {dst_root}", disable=not progress, unit="video")
    if n_workers > 1 and len(jobs) > 1:
        with workers.context().Pool(n_workers, initializer=workers.pool_init) as pool:
            results = pool.imap_unordered(_job, jobs)
            for rel, n, _size, problem in results:
                written, frames = written + (problem is None), frames + n
                if problem:
                    failed[rel] = problem
                bar.update()
    else:
        for rel, n, _size, problem in map(_job, jobs):
            written, frames = written + (problem is None), frames + n
            if problem:
                failed[rel] = problem
            bar.update()
    bar.close()
    summary = {"source": str(src_root), "settings": asdict(settings), "videos": len(sources), "written": written,
               "kept": kept, "failed": failed, "frames_written": frames,
               "bytes_source": sum(p.stat().st_size for p in sources),
               "bytes_copies": sum(p.stat().st_size for p in dst_root.rglob("*.mp4")) if dst_root.is_dir() else 0,
               "seconds": round(time.perf_counter() - started, 1)}
    dst_root.mkdir(parents=True, exist_ok=True)
    atomic_write_text(dst_root / MARKER, json.dumps(summary, indent=1))
    return summary


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m amidlib.data.video.transcode",
                                description="Seekable H.264 copies of a video folder at the network's input scale "
                                            "(read with seeks instead of decoding from frame 0). Originals untouched.")
    p.add_argument("src", help="the video folder (e.g. /data/ucf51/videos)")
    p.add_argument("dst", help="the folder of the copies (e.g. /data/ucf51/videos_seekable)")
    p.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 1))
    d = TranscodeSettings()
    p.add_argument("--height", type=int, default=d.height)
    p.add_argument("--width", type=int, default=d.width)
    p.add_argument("--gop", type=int, default=d.gop,
                   help="frames between key frames (at most this many + 16 decoded per clip)")
    p.add_argument("--crf", type=int, default=d.crf)
    args = p.parse_args(argv)
    settings = TranscodeSettings(args.height, args.width, args.gop, args.crf)
    s = transcode_folder(args.src, args.dst, args.workers, settings)
    print(f"{s['written']} copies written, {s['kept']} kept, {len(s['failed'])} failed, in {s['seconds']} s; "
          f"{s['bytes_copies'] / 2**30:.2f} GiB of copies for {s['bytes_source'] / 2**30:.2f} GiB of sources; "
          f"summary in {Path(args.dst) / MARKER}")
    for rel, problem in s["failed"].items():
        print(f"  failed: {rel}: {problem}")
    return 1 if s["failed"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
