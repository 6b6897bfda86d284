"""Video and audio decoding with PyAV, and the clip sampling of the student's data path.

Decoding: PyAV (``av``, which bundles FFmpeg). ``torchvision.io.read_video`` is gone from recent
torchvision and ``torchaudio.load`` needs torchcodec plus a system FFmpeg, so neither is used.
wav/flac/ogg files are read with soundfile.

Clip sampling for R(2+1)D-18 (paper §4.2; the spatial recipe is torchvision's for its video models):

- every frame is resized to ``resize`` = (128, 171) (H, W) when decoded (UCF101's 320×240 keeps its
  4:3 aspect);
- **train**: a random temporal window of ``clip_len`` = 16 frames (``stride`` 1, i.e. consecutive
  frames), a random 112×112 crop and a random horizontal flip (p = 0.5), drawn per sample per epoch;
- **train** with ``train_scale`` (the paper profile, CCL's recipe): RandomResizedCrop instead of the
  plain crop: an area share in [0.25, 1] of the 128×171 frame, aspect 3/4–4/3, resized to 112×112;
- **test** (and every evaluation): the centre window and the centre 112×112 crop, no flip; with
  ``test_clips`` = K > 1, K windows spread evenly from the first frame to the last (the student's
  features are averaged over them, :class:`amidlib.data.video.nets.MultiClip`);
- ``segments`` (ActivityNet's annotated ``[start, end]`` intervals, as frame ranges): training windows
  and test clips lie inside them;
- a video shorter than the window gives ``clip_len`` indices spread evenly over all its frames
  (frames repeat), so every video yields a clip;
- pixels are scaled to [0, 1] and normalised with the Kinetics-400 mean/std that torchvision's video
  models expect (:data:`KINETICS_MEAN`, :data:`KINETICS_STD`); the clip tensor is (3, T, H, W).

Audio: the video's own track (or a separate audio file) → float32 → mono (mean of the channels) →
resampled to the extractor's rate with ``torchaudio.functional.resample``. A source rate the caller
does not expect (by default: one below the target, whose upsampling adds no content) is resampled
with a logged note, or refused with ``strict=True``.
"""
from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from amidlib.data.cache import count
from amidlib.data.video.workers import in_worker

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

#: Kinetics-400 statistics used by torchvision's video models (R(2+1)D-18 included), RGB order.
KINETICS_MEAN = (0.43216, 0.394666, 0.37645)
KINETICS_STD = (0.22803, 0.22145, 0.216989)
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
    (a header that over-counts by a few) gets the last frame, but a file
    that stops decoding well before its header's frame count raises "truncated"; a wanted index missing inside the video (a gap
    in the timestamps) gets the nearest decoded frame with a logged warning; both are counted in
    :data:`amidlib.data.cache.CALLS` (``frames_past_end``, ``frames_substituted``).
    ``size``: (H, W) to resize to while converting (swscale), None = native size.
    Raises :class:`VideoDecodeError` naming the file on any decoding failure.
    """
    count("video_decode")
    wanted = None if indices is None else [int(i) for i in indices]
    if wanted is not None and (not wanted or min(wanted) < 0):
        raise ValueError(f"indices must be non-empty and >= 0, got {wanted}")
    frames: dict[int, np.ndarray] = {}
    ordered: list[np.ndarray] = []
    h, w = (size if size is not None else (None, None))
    last_idx = -1
    with _open(path) as container:
        if not container.streams.video:
            raise VideoDecodeError(path, "no video stream")
        stream = container.streams.video[0]
        _set_threads(stream)
        header_frames = int(stream.frames or 0)
        need = set(wanted) if wanted is not None else None
        last = max(wanted) if wanted is not None else None
        first = min(wanted) if wanted is not None else 0
        latest = None  # the most recent decoded frame, for wanted indices past the end
        try:
            for idx, frame in _frame_source(container, stream, path, first):
                latest, last_idx = frame, max(last_idx, idx)
                if need is None:
                    ordered.append(_to_rgb(frame, h, w))
                    continue
                if idx in need and idx not in frames:
                    frames[idx] = _to_rgb(frame, h, w)
                if idx >= last and len(frames) == len(need):
                    break
                if idx > last + 64:  # far past the window (timestamps jumped): stop
                    break
        except VideoDecodeError:
            raise
        except Exception as exc:
            raise VideoDecodeError(path, f"decoding failed ({type(exc).__name__}: {exc})") from None
        fallback = _to_rgb(latest, h, w) if (need is not None and latest is not None) else None
    if need is None:
        if not ordered:
            raise VideoDecodeError(path, "the video stream has no frames")
        return np.stack(ordered)
    if not frames and fallback is None:
        raise VideoDecodeError(path, "the video stream has no frames")
    have = sorted(frames)
    # a file that ends long before its header says (truncated download or copy) is corrupt, not short:
    # a window there would be the last frame repeated 16 times
    tolerance = max(3, int(0.02 * header_frames))
    lost = [i for i in wanted if last_idx < i < header_frames - tolerance]
    if lost:
        raise VideoDecodeError(path, f"truncated: the header lists {header_frames} frames, only {last_idx + 1} "
                                     f"decode (frame {lost[0]} was asked for)")
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
        from collections import deque

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
        tolerance = max(3, int(0.02 * self.header_frames))
        lost = [i for i in wanted if self.pos < i < self.header_frames - tolerance]
        if lost:
            raise VideoDecodeError(path, f"truncated: the header lists {self.header_frames} frames, only "
                                         f"{self.pos + 1} decode (frame {lost[0]} was asked for)")
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


def _allowed_starts(n_frames: int, span: int, segments) -> np.ndarray:
    """Window starts whose ``span`` frames lie inside the video and inside one of ``segments``
    (``[(first, end)]`` frame ranges, end exclusive; None = the whole video). A segment shorter than
    the window gets the window centred on it (clipped to the video)."""
    last = n_frames - span
    if not segments:
        return np.arange(0, last + 1, dtype=np.int64)
    parts = []
    for first, end in segments:
        first, end = max(0, int(first)), min(n_frames, int(end))
        if end <= first:
            continue
        if end - first >= span:
            parts.append(np.arange(first, end - span + 1, dtype=np.int64))
        else:
            parts.append(np.array([min(max(0, first + (end - first - span) // 2), last)], np.int64))
    return np.unique(np.concatenate(parts)) if parts else np.arange(0, last + 1, dtype=np.int64)


def sample_clip_indices(n_frames: int, clip_len: int, stride: int = 1, train: bool = True,
                        rng: np.random.Generator | None = None, segments=None) -> np.ndarray:
    """Frame indices of one clip: random window (train) or centre window (test); see module doc.
    ``segments``: annotated ``(first, end)`` frame ranges the window must lie in (ActivityNet)."""
    if n_frames < 1 or clip_len < 1 or stride < 1:
        raise ValueError(f"need n_frames, clip_len, stride >= 1, got {n_frames}, {clip_len}, {stride}")
    span = (clip_len - 1) * stride + 1
    if n_frames < span:  # short video: spread over all frames (frames repeat)
        return np.floor(np.linspace(0, n_frames - 1, clip_len)).astype(np.int64)
    starts = _allowed_starts(n_frames, span, segments)
    if train:
        rng = rng if rng is not None else np.random.default_rng()
        start = int(starts[int(rng.integers(0, len(starts)))])
    else:
        start = int(starts[(len(starts) - 1) // 2]) if segments else (n_frames - span) // 2
    return start + stride * np.arange(clip_len, dtype=np.int64)


def spread_clip_indices(n_frames: int, clip_len: int, k: int, stride: int = 1, segments=None) -> np.ndarray:
    """(k, clip_len) frame indices of ``k`` test clips spread evenly over the video (or over its
    annotated ``segments``): the first starts at the first frame, the last ends at the last one;
    k = 1 is the centre clip. Short videos repeat the one spread clip."""
    if k < 1:
        raise ValueError(f"need k >= 1 test clips, got {k}")
    if k == 1:
        return sample_clip_indices(n_frames, clip_len, stride, train=False, segments=segments)[None]
    span = (clip_len - 1) * stride + 1
    if n_frames < span:
        one = sample_clip_indices(n_frames, clip_len, stride, train=False)
        return np.repeat(one[None], k, axis=0)
    starts = _allowed_starts(n_frames, span, segments)
    chosen = starts[np.round(np.linspace(0, len(starts) - 1, k)).astype(np.int64)]
    return chosen[:, None] + stride * np.arange(clip_len, dtype=np.int64)[None]


@dataclass(frozen=True)
class ClipSpec:
    """The student's clip: ``clip_len`` frames, ``stride`` apart, resized to ``resize`` (H, W) at
    decode, cropped to ``crop``×``crop``; Kinetics mean/std normalisation.

    ``test_clips``: K clips spread over each test video, whose student features are averaged
    (:class:`amidlib.data.video.nets.MultiClip`); 1 = the centre clip. ``train_scale``: None = a plain
    random ``crop``×``crop`` crop; ``(lo, hi)`` = RandomResizedCrop: a random area share in [lo, hi]
    of the resized frame with an aspect ratio in ``train_ratio``, resized to ``crop``×``crop`` (CCL's
    run script: (0.25, 1), ratio 3/4 to 4/3). The paper profile: :data:`PAPER_CLIP`.
    """

    clip_len: int = 16
    stride: int = 1
    resize: tuple[int, int] = (128, 171)
    crop: int = 112
    hflip: bool = True
    test_clips: int = 1
    train_scale: tuple[float, float] | None = None
    train_ratio: tuple[float, float] = (3 / 4, 4 / 3)

    def __post_init__(self):
        if self.crop > min(self.resize):
            raise ValueError(f"crop {self.crop} is larger than the resized frame {self.resize}")
        if int(self.test_clips) < 1:
            raise ValueError(f"test_clips must be >= 1, got {self.test_clips}")
        if self.train_scale is not None and not (0 < self.train_scale[0] <= self.train_scale[1] <= 1):
            raise ValueError(f"train_scale must be (lo, hi) with 0 < lo <= hi <= 1, got {self.train_scale}")

    def settings(self) -> dict:
        return asdict(self)

    def indices(self, n_frames: int, train: bool, rng: np.random.Generator | None = None, segments=None) -> np.ndarray:
        return sample_clip_indices(n_frames, self.clip_len, self.stride, train, rng, segments)

    def test_indices(self, n_frames: int, segments=None) -> np.ndarray:
        """(test_clips, clip_len) indices of the test clips (see :func:`spread_clip_indices`)."""
        return spread_clip_indices(n_frames, self.clip_len, int(self.test_clips), self.stride, segments)

    def _resized_crop_box(self, h: int, w: int, rng: np.random.Generator) -> tuple[int, int, int, int]:
        """(top, left, height, width) of a RandomResizedCrop box (torchvision's sampling rule)."""
        import math

        area = h * w
        lo, hi = self.train_ratio
        for _ in range(10):
            target = area * rng.uniform(*self.train_scale)
            ratio = math.exp(rng.uniform(math.log(lo), math.log(hi)))
            cw, ch = int(round(math.sqrt(target * ratio))), int(round(math.sqrt(target / ratio)))
            if 0 < cw <= w and 0 < ch <= h:
                return int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1)), ch, cw
        side = min(h, w)  # fallback: the centre square
        return (h - side) // 2, (w - side) // 2, side, side

    def draw(self, h: int, w: int, train: bool, rng: np.random.Generator | None = None) -> tuple[int, int, int, int, int]:
        """The augmentation of one clip of ``h``×``w`` frames: ``(top, left, height, width, flip)`` of the
        crop box (random, or RandomResizedCrop's, and a random flip for training; the centre for test)."""
        c = self.crop
        if h < c or w < c:
            raise ValueError(f"frames of {h}×{w} are smaller than the crop {c}")
        if not train:
            return (h - c) // 2, (w - c) // 2, c, c, 0
        rng = rng if rng is not None else np.random.default_rng()
        if self.train_scale is not None:
            top, left, ch, cw = self._resized_crop_box(h, w, rng)
        else:
            top, left, ch, cw = int(rng.integers(0, h - c + 1)), int(rng.integers(0, w - c + 1)), c, c
        return top, left, ch, cw, int(self.hflip and bool(rng.random() < 0.5))

    def apply(self, frames: torch.Tensor, box) -> torch.Tensor:
        """uint8 (T, H, W, 3) on any device and a :meth:`draw` box → normalised float32 (3, T, crop, crop)
        there: crop, flip, scale to [0, 1], resize a RandomResizedCrop box to crop×crop, Kinetics mean/std."""
        top, left, ch, cw, flip = (int(v) for v in box)
        c = self.crop
        x = frames[:, top:top + ch, left:left + cw]
        if flip:
            x = x.flip(2)
        x = x.permute(3, 0, 1, 2).float().div_(255.0)  # (3, T, ch, cw)
        if (ch, cw) != (c, c):
            x = torch.nn.functional.interpolate(x.transpose(0, 1), size=(c, c), mode="bilinear",
                                                align_corners=False, antialias=True).transpose(0, 1).contiguous()
        mean = torch.tensor(KINETICS_MEAN, device=x.device).view(3, 1, 1, 1)
        std = torch.tensor(KINETICS_STD, device=x.device).view(3, 1, 1, 1)
        return x.sub_(mean).div_(std)

    def transform(self, frames: np.ndarray, train: bool, rng: np.random.Generator | None = None) -> torch.Tensor:
        """uint8 (T, H, W, 3) → normalised float32 (3, T, crop, crop): random (resized) crop + flip
        (train) or centre crop (test). Frames of another size than ``resize`` are cropped all the same."""
        t, h, w, _ = frames.shape
        return self.apply(torch.from_numpy(np.ascontiguousarray(frames)), self.draw(h, w, train, rng))

    def transform_test_clips(self, frames: np.ndarray) -> torch.Tensor:
        """uint8 (K·T, H, W, 3) of :meth:`test_indices` → (K, 3, T, crop, crop) centre crops
        ((3, T, crop, crop) when K = 1)."""
        return self.apply_test_clips(torch.from_numpy(np.ascontiguousarray(frames)))

    def apply_test_clips(self, frames: torch.Tensor) -> torch.Tensor:
        """:meth:`transform_test_clips` of a uint8 tensor on any device."""
        k, (_, h, w, _) = int(self.test_clips), frames.shape
        box = self.draw(h, w, train=False)
        clips = [self.apply(frames[i * self.clip_len:(i + 1) * self.clip_len], box) for i in range(k)]
        return clips[0] if k == 1 else torch.stack(clips)


#: the paper profile's clip (UCF51, ActivityNet): 16 consecutive frames at 128×171, 112×112 crops; CCL's
#: RandomResizedCrop (area 0.25–1) for training and 10 test clips spread over the video, averaged
PAPER_CLIP = ClipSpec(test_clips=10, train_scale=(0.25, 1.0))


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
