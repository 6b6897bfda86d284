"""Video and audio decoding with PyAV: headers, frames, audio tracks.

Decoding: PyAV (``av``, which bundles FFmpeg). ``torchvision.io.read_video`` is gone from recent
torchvision and ``torchaudio.load`` needs torchcodec plus a system FFmpeg, so neither is used.
wav/flac/ogg files are read with soundfile.

Frames: :func:`read_frames` (any window of a file), :class:`SequentialFrameReader` (window after
window of long videos, each decoded once). Which frames make the student's clip, and its crop, flip
and normalisation: :mod:`amidlib.data.video.clips` (its names are re-exported here, the path most
code imports them from).

Audio: the video's own track (or a separate audio file) → float32 → mono (mean of the channels) →
resampled to the extractor's rate with ``torchaudio.functional.resample``. A source rate the caller
does not expect (by default: one below the target, whose upsampling adds no content) is resampled
with a logged note, or refused with ``strict=True``.
"""
from __future__ import annotations

import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np
import torch

from amidlib.data.cache import count
from amidlib.data.video.clips import (
    KINETICS_MEAN,
    KINETICS_STD,
    PAPER_CLIP,
    ClipSpec,
    sample_clip_indices,
    spread_clip_indices,
)
from amidlib.data.video.workers import in_worker

# the clip names (KINETICS_*, ClipSpec, PAPER_CLIP, *_clip_indices) live in clips.py; listed here because
# code and docs import them from this module
__all__ = [
    "KINETICS_MEAN",
    "KINETICS_STD",
    "MediaError",
    "VideoDecodeError",
    "NoAudioTrackError",
    "SampleRateError",
    "VideoInfo",
    "probe_video",
    "read_frames",
    "SequentialFrameReader",
    "ClipSpec",
    "PAPER_CLIP",
    "sample_clip_indices",
    "spread_clip_indices",
    "read_audio",
    "load_audio",
    "resample",
    "AUDIO_FILE_SUFFIXES",
]

log = logging.getLogger("amidlib.data.video.decode")

#: Suffixes read with soundfile; anything else goes through PyAV.
AUDIO_FILE_SUFFIXES = (".wav", ".flac", ".ogg")


class MediaError(ValueError):
    """A media file could not be used; ``path`` and ``reason`` name what and why."""

    kind = "unreadable"

    def __init__(self, path, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class VideoDecodeError(MediaError):
    kind = "corrupt video"


class NoAudioTrackError(MediaError):
    kind = "no audio track"


class SampleRateError(MediaError):
    kind = "unexpected sample rate"


def _open(path):
    import av  # imported here: importing amidlib must not need PyAV

    path = Path(path)
    if not path.is_file():
        raise VideoDecodeError(path, "file not found")
    try:
        return av.open(str(path))
    except Exception as exc:  # av.error.InvalidDataError and friends
        raise VideoDecodeError(path, f"cannot open container ({type(exc).__name__}: {exc})") from None


# --------------------------------------------------------------------------- probing
@dataclass
class VideoInfo:
    """What the container says about a file (``n_frames`` counted when the header lacks it)."""

    path: str
    n_frames: int
    fps: float
    width: int
    height: int
    duration_s: float
    has_audio: bool
    audio_rate: int | None
    audio_channels: int | None


def probe_video(path, decode_check: bool = True) -> VideoInfo:
    """Read a file's header; with ``decode_check`` also decode its first frame (catches most corruption).

    Raises :class:`VideoDecodeError` naming the file when it cannot be opened, has no video stream
    or no decodable frame.
    """
    with _open(path) as container:
        if not container.streams.video:
            raise VideoDecodeError(path, "no video stream")
        v = container.streams.video[0]
        fps = float(v.average_rate or v.guessed_rate or 0) or 25.0
        duration = float(v.duration * v.time_base) if v.duration else (container.duration or 0) / 1e6
        n_frames = int(v.frames or 0) or int(round(duration * fps))
        audio = container.streams.audio[0] if container.streams.audio else None
        info = VideoInfo(str(path), n_frames, fps, int(v.codec_context.width or 0), int(v.codec_context.height or 0),
                         duration, audio is not None, int(audio.rate) if audio else None,
                         int(audio.channels) if audio else None)
        if decode_check:
            try:
                frame = next(container.decode(video=0), None)
            except Exception as exc:
                raise VideoDecodeError(path, f"cannot decode the first frame ({type(exc).__name__}: {exc})") from None
            if frame is None:
                raise VideoDecodeError(path, "the video stream has no frames")
            info.width, info.height = frame.width, frame.height
    if info.n_frames <= 0:
        raise VideoDecodeError(path, "the video stream has no frames")
    return info


# --------------------------------------------------------------------------- frames
#: containers whose frames are numbered in decoder output order (no timestamps trusted, no seeking):
#: AVI stores no presentation timestamps; FFmpeg guesses them from the decode order, off by the
#: B-frame delay (XviD/DivX: every index one too late) and wrong around "packed B-frames".
OUTPUT_ORDER_FORMATS = ("avi",)
#: seek only when the first wanted frame is this many seconds in (short videos are decoded from the start)
SEEK_AFTER_S = 2.0


def _frame_source(container, stream, path, first: int):
    """Yield ``(frame index, av.VideoFrame)`` in display order, from a point at or before ``first``.

    AVI (:data:`OUTPUT_ORDER_FORMATS`): the index is the frame's position in the decoder's output,
    from the start of the file (never seeks: AVI key frames are indexed by decode time). Other
    containers: the index comes from the timestamp, ``round((pts − start) · time_base · fps)``; when
    ``first`` is more than :data:`SEEK_AFTER_S` in, the decoder seeks to the key frame ~1 s before
    it, and the first decoded frame is checked to precede ``first`` (else it seeks again, further
    back, and finally decodes from the start).
    """
    fmt = (container.format.name or "").split(",")
    if any(f in OUTPUT_ORDER_FORMATS for f in fmt):
        for seq, frame in enumerate(container.decode(stream)):
            yield seq, frame
        return
    fps = Fraction(stream.average_rate or stream.guessed_rate or 25)
    tb = stream.time_base
    start_pts = stream.start_time

    def index_of(frame, seq):
        if frame.pts is None or not tb:
            return seq
        return int(round(float((frame.pts - (start_pts or 0)) * tb * fps)))

    back_s, sought = 1.0, False
    while tb and first > SEEK_AFTER_S * float(fps) and start_pts is not None:
        target_s = max(0.0, float(first / fps) - back_s)
        if target_s <= 0:
            break
        try:
            container.seek(start_pts + int(Fraction(target_s) / tb), stream=stream, backward=True, any_frame=False)
        except Exception:  # not seekable: decode from the start
            break
        sought = True
        it = iter(container.decode(stream))
        head = next(it, None)
        if head is None:
            break
        idx = index_of(head, 0)
        if idx <= first:  # landed on or before the first wanted frame: decode on from here
            yield idx, head
            for frame in it:
                yield index_of(frame, 0), frame
            return
        count("seek_retry")
        back_s *= 4  # landed after it (key frames indexed by decode time, a late key frame): further back
    if sought:
        container.seek(start_pts, stream=stream, backward=True, any_frame=False)
    for seq, frame in enumerate(container.decode(stream)):
        yield index_of(frame, seq), frame


def read_frames(path, indices: Sequence[int] | None = None, size: tuple[int, int] | None = None) -> np.ndarray:
    """Decode frames as uint8 RGB, shape (T, H, W, 3).

    ``indices``: frame numbers to return, in that order (repeats allowed); None = every frame.
    Frame numbers are display positions counted from the first frame: for AVI files (UCF101's XviD,
    IEMOCAP's DivX, with B-frames) the position in the decoder's output, from the start; for other
    containers (mp4, mkv, webm) the timestamp, after a seek that is verified to land before the
    first wanted frame (see :func:`_frame_source`). A wanted index past the last decodable frame
    (a header that over-counts by a few) gets the last frame, but a file that stops decoding well
    before its header's frame count raises "truncated"; a wanted index missing inside the video (a
    gap in the timestamps) gets the nearest decoded frame with a logged warning; both are counted in
    :data:`amidlib.data.cache.CALLS` (``frames_past_end``, ``frames_substituted``).
    ``size``: (H, W) to resize to while converting (swscale), None = native size.
    Raises :class:`VideoDecodeError` naming the file on any decoding failure.
    """
    count("video_decode")
    wanted = None if indices is None else [int(i) for i in indices]
    if wanted is not None and (not wanted or min(wanted) < 0):
        raise ValueError(f"indices must be non-empty and >= 0, got {wanted}")
    h, w = (size if size is not None else (None, None))
    with _open(path) as container:
        if not container.streams.video:
            raise VideoDecodeError(path, "no video stream")
        stream = container.streams.video[0]
        _set_threads(stream)
        header_frames = int(stream.frames or 0)
        source = _frame_source(container, stream, path, min(wanted) if wanted is not None else 0)
        try:
            if wanted is None:
                every = [_to_rgb(frame, h, w) for _, frame in source]
            else:
                frames, latest, last_idx = _decode_window(source, wanted, h, w)
        except VideoDecodeError:
            raise
        except Exception as exc:
            raise VideoDecodeError(path, f"decoding failed ({type(exc).__name__}: {exc})") from None
        if wanted is None:
            if not every:
                raise VideoDecodeError(path, "the video stream has no frames")
            return np.stack(every)
        # the latest frame, converted while its container is open: what indices past the last decodable frame get
        fallback = _to_rgb(latest, h, w) if latest is not None else None
    return _assemble(path, wanted, frames, fallback, last_idx, header_frames)


def _decode_window(source, wanted: list[int], h: int | None, w: int | None) -> tuple[dict, object, int]:
    """Decode from ``source`` (:func:`_frame_source`) until every wanted index is in hand, the stream
    ends, or it runs far past the window: ``({index: RGB frame}, the latest decoded frame, the largest
    index decoded)``."""
    need, last = set(wanted), max(wanted)
    frames: dict[int, np.ndarray] = {}
    latest, last_idx = None, -1
    for idx, frame in source:
        latest, last_idx = frame, max(last_idx, idx)
        if idx in need and idx not in frames:
            frames[idx] = _to_rgb(frame, h, w)
        if idx >= last and len(frames) == len(need):
            break
        if idx > last + 64:  # far past the window (timestamps jumped): stop
            break
    return frames, latest, last_idx


def _refuse_truncated(path, wanted: list[int], last_idx: int, header_frames: int) -> None:
    """Raise when a wanted frame lies between the last decodable one and the header's count (less a
    tolerance for headers that over-count by a few): a file that ends long before its header says
    (truncated download or copy) is corrupt, not short; a window there would be the last frame
    repeated 16 times."""
    tolerance = max(3, int(0.02 * header_frames))
    lost = [i for i in wanted if last_idx < i < header_frames - tolerance]
    if lost:
        raise VideoDecodeError(path, f"truncated: the header lists {header_frames} frames, only {last_idx + 1} "
                                     f"decode (frame {lost[0]} was asked for)")


def _assemble(path, wanted: list[int], frames: dict, fallback, last_idx: int, header_frames: int) -> np.ndarray:
    """The wanted frames in order, from those decoded: past the end the last decodable frame, in a gap
    of the timestamps the nearest decoded one (both counted; a gap is also logged)."""
    if not frames and fallback is None:
        raise VideoDecodeError(path, "the video stream has no frames")
    have = sorted(frames)
    _refuse_truncated(path, wanted, last_idx, header_frames)
    out, past_end, holes = [], 0, []
    for i in wanted:
        if i in frames:
            out.append(frames[i])
        elif i > last_idx:  # header over-counted: the last decodable frame
            past_end += 1
            out.append(fallback if not have or have[-1] < last_idx else frames[have[-1]])
        else:  # a gap in the timestamps: the nearest decoded frame
            holes.append(i)
            j = min(have, key=lambda k: abs(k - i)) if have else None
            out.append(frames[j] if j is not None else fallback)
    if past_end:
        count("frames_past_end", past_end)
    if holes:
        count("frames_substituted", len(holes))
        log.warning("%s: frames %s not decoded (a gap in the timestamps); the nearest decoded frames are used",
                    path, holes[:8])
    return np.stack(out)


class SequentialFrameReader:
    """Frames of long videos read window after window in increasing order (IEMOCAP: the utterances of
    a dialog video, sorted by start time), decoding each video once instead of once per window.

    Frame numbering is :func:`read_frames`'s (AVI: decoder output order). The last ``keep`` decoded
    frames are kept, so windows that overlap or step back a little are served too; a window before
    them, or another file, reopens the file. Errors name the file (:class:`VideoDecodeError`).
    """

    def __init__(self, keep: int = 300):
        self.keep = int(keep)
        self.container = None
        self._reset()

    def _reset(self):
        if self.container is not None:
            self.container.close()
        self.container, self.path, self.source = None, None, None
        self.buf, self.pos, self.done, self.header_frames = deque(), -1, False, 0

    def close(self) -> None:
        self._reset()

    def read(self, path, indices: Sequence[int], size: tuple[int, int] | None = None) -> np.ndarray:
        wanted = [int(i) for i in indices]
        if not wanted or min(wanted) < 0:
            raise ValueError(f"indices must be non-empty and >= 0, got {wanted}")
        path = str(path)
        behind = self.buf[0][0] if self.buf else self.pos + 1
        if path != self.path or min(wanted) < behind:
            self._reset()
            count("video_decode")
            self.container = _open(path)
            if not self.container.streams.video:
                self._reset()
                raise VideoDecodeError(path, "no video stream")
            stream = self.container.streams.video[0]
            _set_threads(stream)
            self.path, self.header_frames = path, int(stream.frames or 0)
            self.source = _frame_source(self.container, stream, path, 0)
        try:
            while not self.done and self.pos < max(wanted):
                nxt = next(self.source, None)
                if nxt is None:
                    self.done = True
                    break
                self.pos = max(self.pos, nxt[0])
                self.buf.append(nxt)
                while len(self.buf) > self.keep:
                    self.buf.popleft()
        except Exception as exc:
            self._reset()
            raise VideoDecodeError(path, f"decoding failed ({type(exc).__name__}: {exc})") from None
        if not self.buf:
            raise VideoDecodeError(path, "the video stream has no frames")
        have = {i: f for i, f in self.buf}
        _refuse_truncated(path, wanted, self.pos, self.header_frames)
        h, w = (size if size is not None else (None, None))
        out = []
        keys = sorted(have)
        for i in wanted:
            j = i if i in have else (keys[-1] if i > keys[-1] else min(keys, key=lambda k: abs(k - i)))
            out.append(_to_rgb(have[j], h, w))
        return np.stack(out)


def _set_threads(stream) -> None:
    """Frame and slice threads in the main process; one thread in a decode worker, where the workers are
    the parallelism and a threaded codec or scaling context is what hung forked workers (workers.py)."""
    if in_worker():
        stream.thread_count = 1
    else:
        stream.thread_type = "AUTO"


def _to_rgb(frame, h: int | None, w: int | None) -> np.ndarray:
    threads = {"threads": 1} if in_worker() else {}  # swscale on one thread in a worker (see _set_threads)
    if h is not None:
        frame = frame.reformat(width=int(w), height=int(h), format="rgb24", **threads)
        return frame.to_ndarray()
    if threads:
        return frame.reformat(format="rgb24", **threads).to_ndarray()
    return frame.to_ndarray(format="rgb24")


# --------------------------------------------------------------------------- audio
def read_audio(path) -> tuple[np.ndarray, int]:
    """Decode an audio track or file as mono float32 at its own rate: ``(samples (n,), rate)``.

    wav/flac/ogg are read with soundfile; any other file (a video, m4a, mp3, ...) with PyAV, using
    its first audio stream. Channels are averaged to mono. Raises :class:`NoAudioTrackError` for a
    container without an audio stream and :class:`MediaError` for an unreadable or empty one.
    """
    count("audio_decode")
    path = Path(path)
    if path.suffix.lower() in AUDIO_FILE_SUFFIXES:
        import soundfile as sf

        if not path.is_file():
            raise MediaError(path, "file not found")
        try:
            data, rate = sf.read(str(path), dtype="float32", always_2d=True)
        except Exception as exc:
            raise MediaError(path, f"cannot read audio file ({type(exc).__name__}: {exc})") from None
        mono = data.mean(axis=1)
    else:
        import av

        with _open(path) as container:
            if not container.streams.audio:
                raise NoAudioTrackError(path, "the file has no audio track (the auxiliary modality needs one)")
            stream = container.streams.audio[0]
            rate = int(stream.rate or stream.codec_context.sample_rate)
            # planar float32 at the stream's own layout and rate, whatever the codec's sample format
            resampler = av.AudioResampler(format="fltp")
            parts = []
            try:
                for frame in container.decode(audio=0):
                    for out in resampler.resample(frame):
                        parts.append(out.to_ndarray())
                for out in resampler.resample(None):
                    parts.append(out.to_ndarray())
            except Exception as exc:
                raise MediaError(path, f"decoding the audio track failed ({type(exc).__name__}: {exc})") from None
            if not parts:
                raise MediaError(path, "the audio track has no samples")
            mono = np.concatenate(parts, axis=1).astype(np.float32).mean(axis=0)
    if mono.size == 0:
        raise MediaError(path, "the audio has no samples")
    if not np.isfinite(mono).all():
        raise MediaError(path, "the audio holds NaN/inf samples")
    return np.ascontiguousarray(mono, dtype=np.float32), int(rate)


def resample(wave: np.ndarray, orig_rate: int, new_rate: int) -> np.ndarray:
    """``torchaudio.functional.resample`` on a 1-D float32 array (identity when the rates agree)."""
    if int(orig_rate) == int(new_rate):
        return wave
    import torchaudio.functional as AF

    out = AF.resample(torch.from_numpy(np.ascontiguousarray(wave, dtype=np.float32)), int(orig_rate), int(new_rate))
    return out.numpy()


def load_audio(
    path,
    target_rate: int,
    *,
    expected_rates: Sequence[int] | None = None,
    strict: bool = False,
    notes: list | None = None,
    max_seconds: float | None = None,
) -> np.ndarray:
    """Mono float32 audio of ``path`` at ``target_rate`` (resampled with torchaudio).

    A source rate is *unexpected* when it is not in ``expected_rates`` (if given), or — by
    default — when it is below ``target_rate`` (upsampling adds no content above the source's
    Nyquist frequency: an 8 kHz wav has nothing above 4 kHz, CNN14 looks up to 14 kHz).
    An unexpected rate is resampled with a logged note (also appended to ``notes`` as
    ``(path, note)``), or refused with :class:`SampleRateError` when ``strict``.
    ``max_seconds``: keep only the first seconds (None = all).
    """
    wave, rate = read_audio(path)
    unexpected = (rate not in set(int(r) for r in expected_rates)) if expected_rates else rate < target_rate
    if unexpected:
        want = f"one of {sorted(set(int(r) for r in expected_rates))} Hz" if expected_rates else f">= {target_rate} Hz"
        note = f"sample rate {rate} Hz, expected {want}"
        if strict:
            raise SampleRateError(path, note + " (strict: refused)")
        note += f"; resampled to {target_rate} Hz"
        log.warning("%s: %s", path, note)
        if notes is not None:
            notes.append((str(path), note))
    if max_seconds is not None:
        wave = wave[: int(round(max_seconds * rate))]
    return resample(wave, rate, target_rate)
