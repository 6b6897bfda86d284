"""A CPU-sized audio-visual tier: tiny real video files with an audio track, in UCF101's layout.

    from amidlib.data.av_tier import make_av_clips, av_tier_datasets
    manifest = make_av_clips("runs/av_tiny")                  # 3 classes × 4 clips of 1 s, 64×64, 16 fps, 16 kHz
    train_ds, test_ds = av_tier_datasets("runs/av_tiny")      # decode → frames / log-mel → extractors

Each class has its own moving shape and direction (``CircleRight``, ``SquareLeft``,
``TriangleUp``, ...) and its own tone (220 + 330·c Hz, ±2 % jitter, with noise); start position,
colours, speed jitter and noise vary per clip (seeded). Files are real H.264/AAC ``.mp4`` (or
MPEG-4/PCM ``.avi``) written with PyAV, named ``<Class>/v_<Class>_gXX_cYY.<ext>`` like UCF101
(one clip per group, ``XX`` = clip number, ``YY`` = 01), with a ``manifest.json`` in the format of
``data_manifests/ucf51.json`` (classes, ``videos`` rows, split by test groups), so the same loader
runs on it as on UCF51: ``amidlib.data.video.datasets.video_audio_datasets(manifest_path, root)``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

from amidlib.core.files import atomic_path
from amidlib.data.cache import atomic_write_json
from amidlib.data.video.clips import ClipSpec

__all__ = ["make_av_clips", "write_av_clip", "av_tier_datasets", "TIER_CLIP", "class_spec"]

SHAPES = ("Circle", "Square", "Triangle", "Cross", "Diamond", "Ring", "Bar")
DIRECTIONS = {"Right": (1, 0), "Left": (-1, 0), "Up": (0, -1), "Down": (0, 1),
              "UpRight": (0.7, -0.7), "DownLeft": (-0.7, 0.7), "UpLeft": (-0.7, -0.7), "DownRight": (0.7, 0.7)}
MAX_CLASSES = 20  # tones stay below 8 kHz (the Nyquist frequency of 16 kHz audio)

#: The tier's student clip: 8 frames, resized to 36×36 at decode, 32×32 crops.
TIER_CLIP = ClipSpec(clip_len=8, stride=1, resize=(36, 36), crop=32)


def class_spec(c: int) -> dict[str, Any]:
    """Class ``c``'s name, shape, direction and tone frequency."""
    shape, direction = SHAPES[c % len(SHAPES)], list(DIRECTIONS)[c % len(DIRECTIONS)]
    return {"name": f"{shape}{direction}", "shape": shape, "direction": direction, "tone_hz": 220.0 + 330.0 * c}


def _mask(shape: str, dx: np.ndarray, dy: np.ndarray, r: float) -> np.ndarray:
    ax, ay = np.abs(dx), np.abs(dy)
    if shape == "Circle":
        return dx**2 + dy**2 < r**2
    if shape == "Square":
        return (ax < r) & (ay < r)
    if shape == "Triangle":
        return (dy > -r) & (dy < r) & (ax < (dy + r) / 2)
    if shape == "Cross":
        return ((ax < r / 3) & (ay < r)) | ((ay < r / 3) & (ax < r))
    if shape == "Diamond":
        return ax + ay < r
    if shape == "Ring":
        d2 = dx**2 + dy**2
        return (d2 < r**2) & (d2 > (0.55 * r) ** 2)
    if shape == "Bar":
        return (ax < r) & (ay < r / 3)
    raise ValueError(shape)


def _render(c: int, rng: np.random.Generator, n_frames: int, fps: int, height: int, width: int) -> np.ndarray:
    spec = class_spec(c)
    vx, vy = DIRECTIONS[spec["direction"]]
    speed = 0.6 * min(height, width) * rng.uniform(0.8, 1.2)  # pixels per second
    r = 0.18 * min(height, width) * rng.uniform(0.85, 1.15)
    cx0, cy0 = rng.uniform(0, width), rng.uniform(0, height)
    fg = rng.integers(150, 256, 3)
    bg = rng.integers(0, 90, 3)
    Y, X = np.mgrid[0:height, 0:width].astype(np.float32)
    frames = np.empty((n_frames, height, width, 3), np.uint8)
    for t in range(n_frames):
        cx, cy = cx0 + vx * speed * t / fps, cy0 + vy * speed * t / fps
        dx = (X - cx + width / 2) % width - width / 2  # wrap around the frame edges
        dy = (Y - cy + height / 2) % height - height / 2
        img = np.broadcast_to(bg, (height, width, 3)).astype(np.float32)
        img = img + rng.normal(0, 8, (height, width, 1))
        img[_mask(spec["shape"], dx, dy, r)] = fg
        frames[t] = np.clip(img, 0, 255).astype(np.uint8)
    return frames


def _tone(c: int, rng: np.random.Generator, seconds: float, sample_rate: int) -> np.ndarray:
    f = class_spec(c)["tone_hz"] * rng.uniform(0.98, 1.02)
    t = np.arange(int(round(seconds * sample_rate))) / sample_rate
    env = 0.6 + 0.4 * np.sin(2 * np.pi * rng.uniform(1, 3) * t + rng.uniform(0, 2 * np.pi))
    wave = 0.3 * env * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)) + rng.normal(0, 0.02, t.size)
    return wave.astype(np.float32)


def write_av_clip(path: str | os.PathLike, frames: np.ndarray, fps: int, audio: np.ndarray | None = None,
                  sample_rate: int = 16000, b_frames: int = 0) -> Path:
    """Write uint8 frames (T, H, W, 3) and an optional mono float32 track to ``.mp4`` (H.264 + AAC) or
    ``.avi`` (MPEG-4 + PCM) with PyAV, atomically. H and W must be even (yuv420p). ``b_frames``: up to
    that many consecutive B-frames (UCF101's XviD and IEMOCAP's DivX files have them)."""
    import av

    path = Path(path)
    fmt = {".mp4": "mp4", ".avi": "avi", ".mkv": "matroska"}.get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"write_av_clip writes .mp4, .avi or .mkv, got {path.name}")
    t, h, w, _ = frames.shape
    if h % 2 or w % 2:
        raise ValueError(f"frame size {h}×{w} must be even")
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        with av.open(str(tmp), "w", format=fmt) as out:
            vcodec = "libx264" if fmt != "avi" and "libx264" in av.codecs_available else "mpeg4"
            vs = out.add_stream(vcodec, rate=int(fps))
            vs.width, vs.height, vs.pix_fmt = w, h, "yuv420p"
            if b_frames:
                vs.codec_context.max_b_frames = int(b_frames)
            if vcodec == "libx264":
                vs.options = ({"preset": "ultrafast", "crf": "20"} if not b_frames else
                              {"preset": "veryfast", "crf": "20", "bf": str(int(b_frames))})
            else:
                vs.bit_rate = 2_000_000
            astream = None
            if audio is not None:
                acodec = "pcm_s16le" if fmt == "avi" else "aac"
                astream = out.add_stream(acodec, rate=int(sample_rate))
                astream.layout = "mono"
            for frame in frames:
                for packet in vs.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")):
                    out.mux(packet)
            for packet in vs.encode():
                out.mux(packet)
            if astream is not None:
                pcm = np.clip(np.asarray(audio, np.float32), -1, 1)
                afmt = "s16" if astream.codec_context.name == "pcm_s16le" else "fltp"
                chunk, pts = 1024, 0
                for s in range(0, len(pcm), chunk):
                    part = pcm[s:s + chunk]
                    if afmt == "s16":
                        arr = (part * 32767).astype(np.int16)[None, :]
                    else:
                        arr = np.pad(part, (0, chunk - len(part)))[None, :]  # AAC needs whole frames
                    frame = av.AudioFrame.from_ndarray(arr, format=afmt, layout="mono")
                    frame.sample_rate, frame.pts = int(sample_rate), pts
                    pts += arr.shape[1]
                    for packet in astream.encode(frame):
                        out.mux(packet)
                for packet in astream.encode():
                    out.mux(packet)
    return path


def make_av_clips(
    root: str | os.PathLike,
    n_classes: int = 3,
    per_class: int = 4,
    seconds: float = 1.0,
    fps: int = 16,
    size: int | tuple[int, int] = 64,
    sample_rate: int = 16000,
    seed: int = 0,
    test_per_class: int | None = None,
    suffix: str = ".mp4",
    with_audio: bool = True,
    name: str = "av_tiny",
    b_frames: int = 0,
) -> Path:
    """Write the tier under ``root`` and return the path of its ``manifest.json`` (see module doc).

    ``size``: int (square) or (H, W). ``test_per_class``: clips of groups 1..k are the test split
    (default ``max(1, per_class // 4)``), like UCF101's split 1 (groups 1–7 test).
    Deterministic for a given ``seed``. Existing files are overwritten.
    """
    if not 1 <= n_classes <= MAX_CLASSES:
        raise ValueError(f"n_classes must be in 1..{MAX_CLASSES}, got {n_classes}")
    if per_class < 2:
        raise ValueError(f"per_class must be >= 2 (a train and a test clip), got {per_class}")
    if per_class > 99:
        raise ValueError("per_class must be <= 99 (two-digit group numbers)")
    height, width = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    if not (1 <= len(suffix) and suffix.startswith(".")):
        raise ValueError(f"suffix must look like '.mp4', got {suffix!r}")
    test_k = test_per_class if test_per_class is not None else max(1, per_class // 4)
    if not 1 <= test_k < per_class:
        raise ValueError(f"test_per_class must be in 1..{per_class - 1}, got {test_k}")
    root = Path(root).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    n_frames = max(1, int(round(seconds * fps)))
    names = [class_spec(c)["name"] for c in range(n_classes)]
    rows = []
    for c, cname in enumerate(names):
        for k in range(per_class):
            group = k + 1
            vid = f"v_{cname}_g{group:02d}_c01"
            rng = np.random.default_rng([seed, c, k])
            frames = _render(c, rng, n_frames, fps, height, width)
            audio = _tone(c, rng, seconds, sample_rate) if with_audio else None
            write_av_clip(root / cname / f"{vid}{suffix}", frames, fps, audio, sample_rate, b_frames=b_frames)
            rows.append([vid, c, group])
    manifest = {
        "name": name,
        "title": "Generated audio-visual clips (moving shapes + class tones), UCF101 layout",
        "generator": {"function": "amidlib.data.av_tier.make_av_clips", "n_classes": n_classes, "per_class": per_class,
                      "seconds": seconds, "fps": fps, "size": [height, width], "sample_rate": sample_rate,
                      "seed": seed, "test_per_class": test_k, "suffix": suffix, "with_audio": with_audio,
                      **({"b_frames": b_frames} if b_frames else {})},
        "split": {"name": "by group, like UCF101 split 1", "rule": f"group 1-{test_k} -> test, others -> train",
                  "test_groups": list(range(1, test_k + 1)),
                  "train_groups": list(range(test_k + 1, per_class + 1))},
        "video_format": {"layout": f"<ClassName>/<video_id>{suffix}", "fps": fps, "size": [height, width],
                         "frames": n_frames,
                         "audio": {"sample_rate": sample_rate, "channels": 1} if with_audio else None},
        "classes": [{"index": c, "name": n, **{k: v for k, v in class_spec(c).items() if k != "name"}}
                    for c, n in enumerate(names)],
        "counts": {"classes": n_classes, "videos": len(rows), "train": n_classes * (per_class - test_k),
                   "test": n_classes * test_k},
        "video_columns": ["video_id", "class_index", "group"],
        "videos": rows,
    }
    path = root / "manifest.json"
    atomic_write_json(path, manifest)
    return path


def av_tier_datasets(
    root: str | os.PathLike,
    *,
    aux: Any = "logmel_stats",
    clip: ClipSpec = TIER_CLIP,
    cache_dir: str | os.PathLike | None = None,
    expected_rates: tuple[int, ...] | None = (16000, 32000),
    **kwargs,
):
    """(train, test) :class:`~amidlib.data.video.loader.VideoAudioDataset` of a tier written by
    :func:`make_av_clips` under ``root``: the whole video + audio path (PyAV decode → clip sampling;
    audio track → mono → resampled to 32 kHz → log-mel (torchaudio) → frozen extractor → cache).

    ``aux``: ``"logmel_stats"`` (default: parameter-free, so meaningful without any checkpoint),
    ``"cnn14_untrained"`` (the full CNN14, random frozen weights), an
    :class:`~amidlib.data.video.audio.AudioExtractor` (e.g. ``cnn14_untrained(base_channels=8)``), or ``"cnn14"``
    with a checkpoint. ``cache_dir`` defaults to ``root/cache``. Other keyword arguments go to
    :func:`amidlib.data.video.datasets.build_video_datasets` (``on_bad``, ``frame_cache``, ``strict_rate``, ...).
    """
    from amidlib.data.video.datasets import video_audio_datasets

    root = Path(root).expanduser()
    manifest_file = root / "manifest.json"
    if not manifest_file.is_file():
        raise FileNotFoundError(f"{manifest_file} not found: write the tier first with make_av_clips({str(root)!r})")
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    kwargs.setdefault("progress", False)
    return video_audio_datasets(manifest, root, aux=aux, clip=clip,
                                cache_dir=cache_dir if cache_dir is not None else root / "cache",
                                expected_rates=expected_rates, **kwargs)
