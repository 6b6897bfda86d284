"""The student's clip: which frames (:func:`sample_clip_indices`, :func:`spread_clip_indices`) and how
they are cropped, flipped and normalised (:class:`ClipSpec`; the paper profile's :data:`PAPER_CLIP`).

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

Decoding the frames is :mod:`amidlib.data.video.decode`'s (which re-exports these names).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import torch

__all__ = [
    "KINETICS_MEAN",
    "KINETICS_STD",
    "ClipSpec",
    "PAPER_CLIP",
    "sample_clip_indices",
    "spread_clip_indices",
]

#: Kinetics-400 statistics used by torchvision's video models (R(2+1)D-18 included), RGB order.
KINETICS_MEAN = (0.43216, 0.394666, 0.37645)
KINETICS_STD = (0.22803, 0.22145, 0.216989)


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

    def draw(self, h: int, w: int, train: bool,
             rng: np.random.Generator | None = None) -> tuple[int, int, int, int, int]:
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
