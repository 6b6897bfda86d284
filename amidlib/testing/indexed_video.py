"""Videos whose frames show their own index, for the frame-exactness tests: frame ``i`` carries the
bits of ``i`` as black/white vertical bars, which survive lossy coding and resizing.

    path = write_indexed_video(tmp / "b.avi", 300, codec="mpeg4", b_frames=2)   # XviD-like, B-frames
    read_index(read_frames(path, [100])[0])   # -> 100
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from amidlib.core.files import atomic_path

__all__ = ["BITS", "index_frame", "read_index", "write_indexed_video"]

#: bars per frame: indices up to 2**BITS - 1
BITS = 12


def index_frame(i: int, height: int = 64, width: int = 96) -> np.ndarray:
    """uint8 (H, W, 3): bar b (left to right, ``width // BITS`` px each) is white when bit b of ``i`` is set."""
    if not 0 <= i < 2**BITS:
        raise ValueError(f"index {i} does not fit in {BITS} bits")
    img = np.zeros((height, width, 3), np.uint8)
    bw = width // BITS
    for b in range(BITS):
        if (i >> b) & 1:
            img[:, b * bw:(b + 1) * bw] = 255
    return img


def read_index(img: np.ndarray, width: int | None = None) -> int:
    """The index a decoded frame of :func:`index_frame` shows (any resize keeps the bars' proportions)."""
    h, w = img.shape[:2]
    src_w = width or w
    bw = (src_w // BITS) * w / src_w
    value = 0
    for b in range(BITS):
        x = int((b + 0.5) * bw)
        if img[h // 2, x].mean() > 128:
            value |= 1 << b
    return value


def write_indexed_video(path: str | os.PathLike, n_frames: int, *, fps: int = 25, codec: str = "mpeg4",
                        b_frames: int = 2, gop: int = 250, height: int = 64, width: int = 96,
                        audio_rate: int | None = None) -> Path:
    """Write ``n_frames`` frames of :func:`index_frame` with PyAV (container from the suffix: .avi, .mp4,
    .mkv), ``b_frames`` consecutive B-frames at most and a key frame every ``gop`` frames (XviD's
    default is 250-300: a UCF101 file often has one key frame). ``audio_rate``: also a PCM/AAC tone track."""
    import av

    path = Path(path)
    fmt = {".avi": "avi", ".mp4": "mp4", ".mkv": "matroska"}[path.suffix.lower()]
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp, av.open(str(tmp), "w", format=fmt) as out:
        vs = out.add_stream(codec, rate=int(fps))
        vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
        vs.codec_context.gop_size = int(gop)
        vs.codec_context.max_b_frames = int(b_frames)
        if codec == "libx264":
            vs.options = {"preset": "ultrafast" if b_frames == 0 else "fast", "crf": "18", "bf": str(b_frames),
                          "keyint": str(gop)}
        else:
            vs.bit_rate = 2_000_000
        astream = None
        if audio_rate:
            astream = out.add_stream("pcm_s16le" if fmt == "avi" else "aac", rate=int(audio_rate))
        for i in range(n_frames):
            frame = av.VideoFrame.from_ndarray(index_frame(i, height, width), format="rgb24")
            for packet in vs.encode(frame):
                out.mux(packet)
        for packet in vs.encode():
            out.mux(packet)
        if astream is not None:
            n = int(round(n_frames / fps * audio_rate))
            t = np.arange(n) / audio_rate
            wave = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)[None]
            chunk = 1024
            for s in range(0, n, chunk):
                af = av.AudioFrame.from_ndarray(np.ascontiguousarray(wave[:, s:s + chunk]), format="s16", layout="mono")
                af.sample_rate = int(audio_rate)
                af.pts = s
                for packet in astream.encode(af):
                    out.mux(packet)
            for packet in astream.encode():
                out.mux(packet)
    return path
