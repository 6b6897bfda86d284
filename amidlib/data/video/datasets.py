"""Video + audio datasets (UCF51, ActivityNet, the generated CPU tier): clips for the student, cached
frozen-extractor features for the teacher, and bad-input handling that names every file.

    from amidlib.data.video.datasets import video_audio_datasets, VideoLoader
    train_ds, test_ds = video_audio_datasets("ucf51", "/data/UCF-101", aux="cnn14",
                                             cnn14_checkpoint="Cnn14_emb512_mAP=0.420.pth", cnn14_sha256="...",
                                             cache_dir="runs/cache")
    train_ds.bad_inputs.as_record()   # what was skipped or resampled, for the run's record
    run("amid", train_ds, test_ds, **video_run_args(train_ds, test_ds))  # video nets, clip loader, data record

Pipeline, once per dataset (before any training):

1. **Match** the table (manifest) with the files: a listed video without a file is *bad*
   ("missing"); a video file that the table does not list is a *note* ("extra").
2. **Check** each file: container opens and its first frame decodes (else "corrupt video"); it has an
   audio track when the auxiliary features come from audio (else "no audio track"); its audio rate
   (a rate the caller does not expect is resampled with a note, or is *bad* with
   ``strict_rate=True``); CCL-format feature files load as finite float32 (512,) (else "unreadable
   feature", e.g. a truncated ``.npy``).
3. ``on_bad="raise"`` (default): one :class:`BadInputError` listing every bad file by name, before any
   extraction or training. ``on_bad="skip"``: the bad files are left out and listed in
   ``dataset.bad_inputs`` (a :class:`BadInputReport`; ``as_record()`` goes into the run's record).
4. **Auxiliary features**: the frozen extractor runs once per file (audio decoded → mono → resampled
   → extractor) into a :class:`~amidlib.data.cache.FeatureCache`; later epochs and later runs read
   the memmapped rows (no audio decode, no extractor call). A file whose audio fails to decode here is
   bad too (raise / skip as above). Or CCL-format features (``aux="ccl"``): read from ``ccl_root``.
5. Optionally (``frame_cache=True``) every video is decoded once at ``clip.resize`` into a
   :class:`~amidlib.data.cache.FrameCache` (this full decode also catches corruption past the
   first frame).

Each item is ``(clip (3, T, H, W) float32, aux feature (D,) float32, label, index)``. Sampling is
chosen per item: a key ``(index, seed)`` gives a *train* clip (random window, crop, flip from that
seed), a plain ``index`` the *test* clip (centre window and crop) — so one dataset serves training
and evaluation. :class:`VideoLoader` turns a dataset into the ``TensorData`` interface of
:mod:`amidlib.core.training` (``n``, ``y``, ``batches(batch_size, generator, drop_last)``): batches drawn
with a generator are training batches, without one evaluation batches.
"""
from __future__ import annotations

import copy
import dataclasses
import json
import logging
import os
import shutil
import tempfile
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset, default_collate
from tqdm.auto import tqdm

from amidlib.data.cache import (DecodeFailureLog, FeatureCache, FrameCache, ProbeCache, frame_cache_bytes,
                                require_free_space)
from amidlib.core.types import Batch
from amidlib.data.video import workers
from amidlib.data.video.decode import (AUDIO_FILE_SUFFIXES, ClipSpec, MediaError, VideoDecodeError, VideoInfo,
                                       probe_video, read_audio, read_frames, resample)

__all__ = [
    "VIDEO_SUFFIXES",
    "BadInput",
    "BadInputReport",
    "BadInputError",
    "VideoItem",
    "VideoAudioDataset",
    "VideoLoader",
    "manifest_table",
    "activitynet_table",
    "video_audio_datasets",
    "build_video_datasets",
]

log = logging.getLogger("amidlib.data.video.datasets")

VIDEO_SUFFIXES = (".avi", ".mp4", ".mkv", ".webm", ".mov", ".m4v")
ON_BAD = ("raise", "skip")


# --------------------------------------------------------------------------- reporting
@dataclass
class BadInput:
    """One problem with one file: ``file`` (as the user knows it), ``problem`` (a short kind), ``detail``."""

    file: str
    problem: str
    detail: str = ""

    def line(self) -> str:
        return f"{self.file}: {self.problem}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class BadInputReport:
    """Every bad file (left out, or the reason for stopping) and every note (resampled, extra)."""

    root: str = ""
    bad: list[BadInput] = field(default_factory=list)
    notes: list[BadInput] = field(default_factory=list)
    on_bad: str = "raise"

    def add(self, file, problem: str, detail: str = "") -> None:
        self.bad.append(BadInput(str(file), problem, detail))

    def note(self, file, problem: str, detail: str = "") -> None:
        self.notes.append(BadInput(str(file), problem, detail))

    @property
    def bad_files(self) -> list[str]:
        return sorted({b.file for b in self.bad})

    def describe(self, limit: int | None = None) -> str:
        lines = [f"{len(self.bad_files)} bad file(s), {len(self.notes)} note(s) under {self.root or '.'}"]
        for title, items in (("bad", self.bad), ("notes", self.notes)):
            if items:
                lines.append(f"{title}:")
                shown = items if limit is None else items[:limit]
                lines += [f"  {b.line()}" for b in shown]
                if len(shown) < len(items):
                    lines.append(f"  ... and {len(items) - len(shown)} more")
        return "\n".join(lines)

    def as_record(self) -> dict:
        """For the run's record (JSON-ready): the skipped files with reasons, and the notes."""
        return {
            "on_bad": self.on_bad,
            "n_skipped": len(self.bad_files) if self.on_bad == "skip" else 0,
            "skipped": [vars(b) for b in self.bad] if self.on_bad == "skip" else [],
            "bad": [vars(b) for b in self.bad],
            "notes": [vars(b) for b in self.notes],
        }

    def raise_if_bad(self) -> None:
        if self.bad:
            raise BadInputError(self)


class BadInputError(ValueError):
    """Raised before training: lists every bad input file by name (``.report`` holds them)."""

    def __init__(self, report: BadInputReport):
        self.report = report
        super().__init__(
            report.describe()
            + "\nFix or remove these files, or pass on_bad='skip' to leave them out (they are then "
            "listed in dataset.bad_inputs and in the run's record)."
        )


# --------------------------------------------------------------------------- items and tables
@dataclass
class VideoItem:
    video_id: str
    label: int
    split: str
    relstem: str                 # e.g. "ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01" (no suffix)
    path: Path | None = None     # the video file found for relstem
    audio_path: Path | None = None
    n_frames: int = 0
    feature_path: Path | None = None
    fps: float = 0.0
    segments_s: tuple = ()       # annotated (start, end) seconds (ActivityNet); () = the whole video

    def segments(self) -> list[tuple[int, int]] | None:
        """The annotated segments as ``(first, end)`` frame ranges (None: the whole video)."""
        if not self.segments_s or self.fps <= 0:
            return None
        import math

        return [(int(math.floor(a * self.fps + 1e-6)), int(math.ceil(b * self.fps - 1e-6))) for a, b in self.segments_s]

    @property
    def name(self) -> str:
        """The file as reported to the user (relative to the video root)."""
        return self.relstem if self.path is None else self.relstem + self.path.suffix


def manifest_table(manifest: str | dict = "ucf51") -> tuple[pd.DataFrame, list[str]]:
    """A UCF-style manifest (``amidlib.data.manifests`` format) as a table for :func:`build_video_datasets`:
    columns video_id, class_index, split, relstem (``<ClassName>/<video_id>``); plus the class names."""
    from amidlib.data.manifests import class_names, load_manifest, manifest_videos

    m = load_manifest(manifest) if isinstance(manifest, str) else manifest
    df = manifest_videos(m)
    df["relstem"] = df["class_name"] + "/" + df["video_id"]
    return df[["video_id", "class_index", "split", "relstem", "class_name"]], class_names(m)


def activitynet_table(annotations: str | os.PathLike | dict, video_root: str | os.PathLike | None = None,
                      videos_subdir: str = "videos") -> tuple[pd.DataFrame, list[str], list[BadInput]]:
    """ActivityNet v1.3 as a table for :func:`build_video_datasets` (see ``data_manifests/activitynet.json``).

    ``annotations``: the v1.3 json (path or dict). ``training`` → split "train", ``validation`` →
    "test" (the paper's test set); ``testing`` has no labels and is left out. A video's class is its
    segments' label; class index = position in the sorted distinct training labels. Files are looked
    up as ``<video_root>/<videos_subdir>/<id>.<ext>`` or ``v_<id>.<ext>`` (common downloaders' name).
    ``segments``: the annotated (start, end) seconds of each video; training windows and test clips are
    drawn inside them. Returns ``(table, class_names, problems)``: ``problems`` lists videos without a label, with
    disagreeing segment labels, or with a class absent from training; pass it as ``table_problems``
    so they are reported (raise or skip) with the other bad inputs.
    """
    if isinstance(annotations, dict):
        db = annotations
    else:
        db = json.loads(Path(annotations).read_text(encoding="utf-8"))
    db = db.get("database", db)
    problems: list[BadInput] = []
    rows = []
    for vid, entry in db.items():
        subset = entry.get("subset")
        if subset not in ("training", "validation"):
            continue
        labels = sorted({a.get("label") for a in entry.get("annotations", []) if a.get("label")})
        name = f"{videos_subdir}/{vid}"
        if not labels:
            problems.append(BadInput(name, "no label", f"subset {subset} without annotations"))
            continue
        if len(labels) > 1:
            problems.append(BadInput(name, "labels disagree", ", ".join(labels)))
            continue
        segs = tuple((float(a["segment"][0]), float(a["segment"][1])) for a in entry.get("annotations", [])
                     if isinstance(a.get("segment"), (list, tuple)) and len(a["segment"]) == 2)
        rows.append((vid, labels[0], "train" if subset == "training" else "test", segs))
    names = sorted({lab for _, lab, split, _ in rows if split == "train"})
    index = {n: i for i, n in enumerate(names)}
    kept = []
    root = Path(video_root).expanduser() / videos_subdir if video_root is not None else None
    for vid, lab, split, segs in rows:
        if lab not in index:
            problems.append(BadInput(f"{videos_subdir}/{vid}", "class not in training", lab))
            continue
        stem = f"{videos_subdir}/{vid}"
        if root is not None and _find_file(root, f"v_{vid}", VIDEO_SUFFIXES) is not None:
            stem = f"{videos_subdir}/v_{vid}"
        kept.append((vid, index[lab], split, stem, lab, segs))
    table = pd.DataFrame(kept, columns=["video_id", "class_index", "split", "relstem", "class_name", "segments"])
    return table, names, problems


def _find_file(root: Path, relstem: str, suffixes: Sequence[str]) -> Path | None:
    for suf in suffixes:
        p = root / f"{relstem}{suf}"
        if p.is_file():
            return p
    return None


def _read_ccl_feature(path: Path, dim: int) -> tuple[np.ndarray | None, str | None]:
    try:
        arr = np.load(path, allow_pickle=False)
    except Exception as exc:  # truncated, empty, not a .npy
        return None, f"np.load failed ({type(exc).__name__}: {exc})"
    if not isinstance(arr, np.ndarray):
        return None, "not a single .npy array"
    if arr.shape != (dim,) or arr.dtype != np.float32:
        return None, f"{arr.dtype} {arr.shape}, expected float32 ({dim},)"
    if not np.isfinite(arr).all():
        return None, "NaN/inf values"
    return arr, None


# --------------------------------------------------------------------------- dataset
class VideoAudioDataset(Dataset):
    """One split: video clips (decoded on access, or from the frame cache) + auxiliary feature rows.

    Mirrors what the training code reads from :class:`~amidlib.data.MultimodalArrays`: ``labels``,
    ``n_classes``, ``class_names``, ``name``, ``target``, ``auxiliary``, ``aux_dim``, ``aux_array()``,
    ``standardized()``, ``subset()``, ``len()``. ``bad_inputs`` is the dataset build's report.
    """

    def __init__(self, items: list[VideoItem], aux: np.ndarray, clip: ClipSpec, class_names: list[str], *,
                 aux_name: str = "audio", frame_cache: FrameCache | None = None,
                 bad_inputs: BadInputReport | None = None, name: str = "", info: dict | None = None,
                 failure_log: DecodeFailureLog | None = None, on_bad: str = "raise",
                 decode_failures: list | None = None):
        if len(items) != len(aux):
            raise ValueError(f"{len(items)} items but {len(aux)} auxiliary rows")
        if not items:
            raise ValueError(f"dataset {name!r} has no usable video (see its bad-input report)")
        self.items = list(items)
        self.aux = np.ascontiguousarray(aux, dtype=np.float32)
        self.labels = np.array([it.label for it in items], dtype=np.int64)
        self.clip = clip
        self.class_names = list(class_names)
        self.n_classes = len(self.class_names)
        self.frame_cache = frame_cache
        self.bad_inputs = bad_inputs or BadInputReport()
        self.name = name
        self.target = ["video"]
        self.auxiliary = [aux_name]
        self.info = dict(info or {})
        # videos that fail mid-decode (corrupt after their first frame): written to ``failure_log`` by the
        # process that met them, replaced by a same-class video (on_bad="skip") or raised ("raise");
        # ``decode_failures`` (shared by the splits, filled in the main process) goes into the run's record
        self.failure_log = failure_log
        self.on_bad = on_bad
        self.decode_failures = decode_failures if decode_failures is not None else []
        self.known_bad: set[int] = set()

    # -- MultimodalArrays-like surface ----------------------------------------------------------
    def __len__(self) -> int:
        return len(self.items)

    @property
    def video_ids(self) -> list[str]:
        return [it.video_id for it in self.items]

    @property
    def aux_dim(self) -> int:
        return int(self.aux.shape[1])

    def aux_array(self) -> np.ndarray:
        return self.aux

    def subset(self, indices) -> "VideoAudioDataset":
        idx = np.asarray(indices)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        new = copy.copy(self)
        new.items = [self.items[i] for i in idx]
        new.aux = self.aux[idx]
        new.labels = self.labels[idx]
        new.known_bad = set()
        return new

    def standardized(self, mean_std: dict | None = None) -> tuple["VideoAudioDataset", dict]:
        """Z-score the auxiliary features (training statistics; pass them to the test split). Clips are
        already normalised with the Kinetics statistics. Same contract as MultimodalArrays.standardized."""
        key = self.auxiliary[0]
        if mean_std is None:
            mean = self.aux.astype(np.float64).mean(0)
            std = self.aux.astype(np.float64).std(0)
            std[std < 1e-12] = 1.0
            mean_std = {key: (mean.astype(np.float32), std.astype(np.float32))}
        mean, std = (np.asarray(a, np.float32) for a in mean_std[key])
        new = copy.copy(self)
        new.aux = ((self.aux - mean) / np.where(std == 0, 1, std)).astype(np.float32)
        return new, mean_std

    def record(self) -> dict:
        """What the run's record should keep about this split's data."""
        return {"name": self.name, "n": len(self), "clip": self.clip.settings(), **self.info,
                "bad_inputs": self.bad_inputs.as_record(), "decode_failures": self.decode_failures}

    def sync_failures(self) -> list[dict]:
        """Read the failure log (written by DataLoader workers) into ``decode_failures`` and
        ``known_bad`` (main process; called by :class:`VideoLoader` after each pass)."""
        if self.failure_log is None:
            return self.decode_failures
        names = {it.name: i for i, it in enumerate(self.items)}
        seen = {d["file"] for d in self.decode_failures}
        for e in self.failure_log.entries():
            i = names.get(e.get("file"))
            if i is None:
                continue
            self.known_bad.add(i)
            if e["file"] not in seen:
                seen.add(e["file"])
                self.decode_failures.append({"file": e["file"], "problem": "corrupt video (failed mid-decode)",
                                             "detail": e.get("reason", ""),
                                             "handling": "replaced by a same-class video" if self.on_bad == "skip"
                                             else "run stopped"})
        return self.decode_failures

    def __repr__(self) -> str:
        return (f"VideoAudioDataset(name={self.name!r}, n={len(self)}, n_classes={self.n_classes}, "
                f"clip={self.clip.clip_len}x{self.clip.crop}x{self.clip.crop}, aux={self.auxiliary[0]} ({self.aux_dim}), "
                f"bad={len(self.bad_inputs.bad_files)})")

    # -- items ----------------------------------------------------------------------------------
    def frames(self, i: int, train: bool, rng: np.random.Generator | None) -> np.ndarray:
        """uint8 frames of item ``i`` (from the frame cache when there is one): one training window
        (clip_len, H, W, 3), or the test clips (test_clips·clip_len, H, W, 3)."""
        it = self.items[i]
        if self.frame_cache is not None:
            allf = self.frame_cache.get(it.video_id, lambda: read_frames(it.path, size=self.clip.resize))
            n, fps_segments = allf.shape[0], it.segments()
            idx = self.clip.indices(n, True, rng, fps_segments) if train else self.clip.test_indices(n, fps_segments)
            return np.asarray(allf[idx.reshape(-1)])
        n, segments = max(it.n_frames, 1), it.segments()
        idx = self.clip.indices(n, True, rng, segments) if train else self.clip.test_indices(n, segments)
        return read_frames(it.path, idx.reshape(-1), size=self.clip.resize)

    def _item(self, i: int, train: bool, seed, raw: bool = False):
        """The clip of item ``i``: normalised float32, or (``raw``) the uint8 frames and, for training, the
        augmentation box (:meth:`ClipSpec.draw`), for :meth:`ClipSpec.apply` on the GPU."""
        workers.note_decoding(self.items[i].path)  # in a watched worker: named if the loader times out
        rng = np.random.default_rng(int(seed)) if train else None
        frames = self.frames(i, train, rng)
        if raw:
            x = torch.from_numpy(np.ascontiguousarray(frames))
            return (x, torch.tensor(self.clip.draw(*frames.shape[1:3], True, rng), device="cpu")) if train else x
        return self.clip.transform(frames, True, rng) if train else self.clip.transform_test_clips(frames)

    def _replacement(self, i: int, tried: set[int]) -> int | None:
        """The next item of the same class (cyclically) not known to be bad and not tried yet."""
        n = len(self.items)
        for step in range(1, n):
            j = (i + step) % n
            if self.labels[j] == self.labels[i] and j not in self.known_bad and j not in tried:
                return j
        return None

    def __getitem__(self, key):
        """``i`` (an evaluation clip), ``(i, seed)`` (a training clip, augmented with ``seed``), or
        ``(i, seed, True)``: the same as uint8 frames (and the augmentation box), augmented later."""
        raw = False
        if isinstance(key, tuple):
            i, seed, *rest = key
            raw = bool(rest and rest[0])
        else:
            i, seed = key, None
        i = int(i)
        train = seed is not None
        j, tried = i, set()
        while True:
            if j in self.known_bad:  # failed before: not decoded again
                x = None
            else:
                try:
                    x = self._item(j, train, seed, raw)
                except MediaError as exc:
                    x = None
                    self._record_failure(j, exc)
            if x is not None:
                return x, torch.from_numpy(self.aux[j]), int(self.labels[i]), i
            tried.add(j)
            nxt = self._replacement(i, tried)
            if nxt is None:
                raise VideoDecodeError(self.items[i].path, f"it and every other video of class "
                                       f"{self.class_names[self.labels[i]]!r} failed to decode")
            j = nxt

    def _record_failure(self, j: int, exc: MediaError) -> None:
        it = self.items[j]
        self.known_bad.add(j)
        reason = getattr(exc, "reason", str(exc))
        if self.failure_log is not None:
            self.failure_log.add(it.name, it.path, reason)
        log.warning("%s: failed mid-decode (%s)%s", it.name, reason,
                    "; replaced by a same-class video" if self.on_bad == "skip" else "")
        if self.on_bad != "skip":
            where = f" (recorded in {self.failure_log.path})" if self.failure_log is not None else ""
            raise VideoDecodeError(it.path, f"{reason}{where}; pass on_bad='skip' to replace it by a same-class "
                                   "video and go on (a later run then leaves it out)")


class _Groups:
    """A batch sampler whose batches are set before each pass (so one DataLoader, and its persistent
    worker processes, serves every epoch)."""

    def __init__(self):
        self.groups: list = []

    def __iter__(self):
        return iter(self.groups)

    def __len__(self) -> int:
        return len(self.groups)


class VideoLoader:
    """A :class:`VideoAudioDataset` with the interface of :class:`amidlib.core.training.TensorData`.

    ``batches(batch_size, generator)`` — training batches (shuffled by ``generator``, per-sample
    augmentation seeds drawn from it, so results do not depend on ``num_workers``);
    ``batches(batch_size)`` — evaluation batches in order, test clips (K per video when the clip spec
    has ``test_clips`` = K: ``x`` is then (B, K, 3, T, H, W)), at most ``eval_batch_size`` clips each
    (``embed_all`` asks for 1024, too many clips for memory).

    With ``num_workers`` > 0 two DataLoaders (training, evaluation) are made once, with persistent
    workers, and reused by every pass. Workers are started fresh, never forked, and decode on one thread
    (:mod:`amidlib.data.video.workers`); a batch that takes longer than ``timeout`` seconds, or a worker
    that dies, stops the pass with a :class:`~amidlib.data.video.workers.DecodeWorkerError` naming the
    videos the workers had in hand. After each pass the failure log is read into the dataset's
    record (videos that failed mid-decode in a worker). ``channels_last``: clips in channels-last-3d
    memory format (CUDA convolutions are faster so). ``device_transform`` (default: on CUDA): workers send
    uint8 frames at the decode size and the augmentation box (a third of the bytes of the float clip, and
    no float work on their cores); crop, flip, resize and normalisation then run on the device, with the
    same numbers as in a worker (tested).
    """

    def __init__(self, ds: VideoAudioDataset, device: str | torch.device = "cpu", num_workers: int = 0,
                 eval_batch_size: int = 32, pin_memory: bool = False, channels_last: bool = False,
                 prefetch_factor: int = 4, timeout: float | None = None, device_transform: bool | None = None):
        self.ds = ds
        self.timeout = float(workers.DECODE_TIMEOUT_S if timeout is None else timeout)
        self.device = torch.device(device)
        self.num_workers = int(num_workers)
        self.eval_batch_size = int(eval_batch_size)
        self.pin_memory = pin_memory
        self.channels_last = bool(channels_last)
        self.prefetch_factor = int(prefetch_factor)
        self.device_transform = self.device.type == "cuda" if device_transform is None else bool(device_transform)
        self.n = len(ds)
        self.y = torch.as_tensor(ds.labels, dtype=torch.long, device=self.device)
        self._loaders: dict[bool, tuple[DataLoader, _Groups]] = {}

    def _to_batch(self, parts) -> Batch:
        x, a, y, idx = parts
        d = self.device
        if self.device_transform:
            x = self._augment_on_device(x)
        else:
            x = x.to(d, non_blocking=True)
        if self.channels_last and x.dim() == 5:
            x = x.contiguous(memory_format=torch.channels_last_3d)
        return Batch(x, a.to(d, non_blocking=True), y.to(d, non_blocking=True), idx.to(d, non_blocking=True))

    def _augment_on_device(self, x) -> torch.Tensor:
        """uint8 frames (and boxes, for training) from the workers → the normalised clips, on the device."""
        clip, d = self.ds.clip, self.device
        if isinstance(x, (list, tuple)):  # training: (frames (B, T, H, W, 3), boxes (B, 5))
            frames, boxes = x
            frames = frames.to(d, non_blocking=True)
            return torch.stack([clip.apply(f, box) for f, box in zip(frames, boxes.tolist())])
        frames = x.to(d, non_blocking=True)  # evaluation: (B, K·T, H, W, 3), centre crops
        return torch.stack([clip.apply_test_clips(f) for f in frames])

    def final(self) -> "VideoLoader":
        """The loader of the final metrics: K test clips per video (the per-epoch evaluation of a loader
        made by :func:`video_loader` reads one centre clip: 1/K of the decoding)."""
        return getattr(self, "_final", None) or self

    def batch(self, index) -> Batch:
        """Evaluation clips of the given dataset indices."""
        return self._to_batch(default_collate([self.ds[int(i)] for i in torch.as_tensor(index).tolist()]))

    def _loader(self, train: bool) -> tuple[DataLoader, _Groups, str]:
        if train not in self._loaders:
            groups = _Groups()
            state_dir = tempfile.mkdtemp(prefix="amid-decode-")  # each worker notes its video in hand here
            loader = DataLoader(self.ds, batch_sampler=groups, num_workers=self.num_workers,
                                collate_fn=default_collate, pin_memory=self.pin_memory,
                                persistent_workers=True, prefetch_factor=self.prefetch_factor,
                                multiprocessing_context=workers.context(), worker_init_fn=workers.WorkerInit(state_dir),
                                timeout=self.timeout)
            weakref.finalize(loader, shutil.rmtree, state_dir, True)
            self._loaders[train] = (loader, groups, state_dir)
        return self._loaders[train]

    def batches(self, batch_size: int, generator: torch.Generator | None = None, drop_last: bool = False,
                shard: tuple[int, int] | None = None):
        """Training batches (``generator`` given: shuffled, one augmentation seed per item) or evaluation
        batches (in order). ``shard=(rank, size)`` (training, under torchrun): the single process's global
        batches, of which this rank decodes only its slice of the inputs; labels and dataset indices stay
        those of the whole batch (:func:`amidlib.core.distributed.shard_batches`)."""
        train = generator is not None
        raw = (True,) if self.device_transform else ()  # uint8 frames from the workers, augmented on the device
        if train:
            order = torch.randperm(self.n, generator=generator, device="cpu").tolist()
            seeds = torch.randint(0, 2**31 - 1, (self.n,), generator=generator, device="cpu").tolist()
            keys = [(i, seeds[i], *raw) for i in order]
        else:
            per_video = max(1, int(self.ds.clip.test_clips))
            batch_size = max(1, min(batch_size, self.eval_batch_size // per_video))
            keys = [(i, None, *raw) for i in range(self.n)] if raw else list(range(self.n))
        stop = self.n - self.n % batch_size if (drop_last and self.n > batch_size) else self.n
        groups = [keys[s:s + batch_size] for s in range(0, stop, batch_size)]
        if shard is None:
            yield from self._load(train, groups)
            return
        if not train:
            raise ValueError("shard=(rank, size) splits training batches; every rank evaluates every item")
        rank, size = shard
        uneven = [len(g) for g in groups if len(g) % size]
        if uneven:
            raise ValueError(f"a training batch of {uneven[0]} clips does not divide by the {size} ranks "
                             f"(batch_size {batch_size} is the global batch: choose a multiple of {size})")
        mine = [g[rank * (len(g) // size):(rank + 1) * (len(g) // size)] for g in groups]
        for part, whole in zip(self._load(train, mine), groups):
            index = torch.as_tensor([key[0] for key in whole], dtype=torch.long, device=self.device)
            yield Batch(part.x_target, part.x_aux, self.y[index], index)

    def _load(self, train: bool, groups: list):
        """The batches of ``groups`` (lists of dataset keys), decoded here or by the workers."""
        try:
            if self.num_workers == 0:
                for g in groups:
                    yield self._to_batch(default_collate([self.ds[k] for k in g]))
                return
            loader, sampler, state_dir = self._loader(train)
            sampler.groups = groups
            try:
                for parts in loader:
                    yield self._to_batch(parts)
            except RuntimeError as exc:  # DataLoader's own: "timed out after N seconds", "worker ... killed by signal"
                if "DataLoader" not in str(exc):
                    raise
                self._loaders.pop(train, None)  # its workers are gone or stuck: a later pass starts new ones
                hand = workers.videos_in_hand(state_dir)
                raise workers.DecodeWorkerError(
                    f"{exc}. The decode workers had in hand: {', '.join(hand) if hand else 'no video yet'}. "
                    "Check those files (e.g. with ffprobe), or raise the limit with AMID_DECODE_TIMEOUT (seconds) "
                    "if the machine is just slow") from exc
        finally:
            self.ds.sync_failures()


# --------------------------------------------------------------------------- what experiment.run needs
def video_nets(ds: VideoAudioDataset, n_classes: int, cfg):
    """``nets_factory`` of :func:`amidlib.core.experiment.run` for video datasets: R(2+1)D-18 (or the
    tier's tiny 3D CNN, ``cfg.video_student``) as S, the cached auxiliary features through the projection A."""
    from amidlib.data.video.nets import build_video_nets

    return build_video_nets(n_classes, ds.aux_dim, dim=cfg.dim, student=cfg.video_student, teacher_hidden=cfg.hidden)


def video_loader(ds: VideoAudioDataset, cfg) -> VideoLoader:
    """``loader_factory`` of :func:`amidlib.core.experiment.run` for video datasets: clips decoded per
    batch, auxiliary features from the cache."""
    cuda = str(cfg.device).startswith("cuda")

    def loader(dataset):
        return VideoLoader(dataset, cfg.device, num_workers=cfg.num_workers, eval_batch_size=cfg.eval_batch_size,
                           pin_memory=cuda, channels_last=bool(cfg.get("channels_last", False)) and cuda)

    if int(ds.clip.test_clips) <= 1:
        return loader(ds)
    # per-epoch evaluation on one centre clip per video; the final metrics on all K (CCL's protocol)
    one_clip = copy.copy(ds)
    one_clip.clip = dataclasses.replace(ds.clip, test_clips=1)
    out = loader(one_clip)
    out._final = loader(ds)
    return out


def video_run_args(train: VideoAudioDataset, test: VideoAudioDataset) -> dict:
    """Everything :func:`amidlib.core.experiment.run` needs besides the two splits: the video nets,
    the clip loader, and the data record (files skipped, resampled or mismatched) for ``Result.config``."""
    return {"nets_factory": video_nets, "loader_factory": video_loader,
            "record_extra": {"data": {"train": train.record(), "test": test.record(),
                                      "videos": videos_used(train, test)}}}


def videos_used(train: VideoAudioDataset, test: VideoAudioDataset) -> dict:
    """How many of the listed videos a run uses: ``{"used", "listed", "skipped", "line"}`` — ``line`` is
    the table headers' "used 13,xxx of 14,950 videos (…)" with the count of each problem."""
    from collections import Counter

    listed = int(train.info.get("videos_listed", len(train) + len(test)))
    used = len(train) + len(test)
    report = train.bad_inputs
    kinds = Counter(b.problem for b in report.bad) if report.on_bad == "skip" else Counter()
    line = f"used {used:,} of {listed:,} videos"
    if kinds:
        line += " (left out: " + ", ".join(f"{n:,} {k}" for k, n in kinds.most_common()) + ")"
    if train.decode_failures:
        line += f"; {len(train.decode_failures)} failed mid-decode and were replaced by same-class videos"
    return {"used": used, "listed": listed, "skipped": dict(kinds), "line": line}


# --------------------------------------------------------------------------- building
def _resolve_aux(aux, cnn14_checkpoint, cnn14_sha256, manifest_for_sha, logmel):
    """The frozen extractor for ``aux`` (None for "ccl")."""
    from amidlib.data.video import audio

    if aux == "ccl":
        return None
    if isinstance(aux, audio.AudioExtractor):
        return aux
    if aux == "cnn14":
        if cnn14_checkpoint is None:
            raise ValueError("aux='cnn14' needs cnn14_checkpoint= (a local PANNs checkpoint; amidlib downloads "
                             "nothing), or use aux='ccl' with CCL-format features")
        return audio.load_cnn14(cnn14_checkpoint, cnn14_sha256, manifest=manifest_for_sha, **logmel)
    if aux == "logmel_stats":
        return audio.logmel_stats_extractor(**logmel)
    if aux == "cnn14_untrained":
        return audio.cnn14_untrained(**logmel)
    raise ValueError(f"unknown aux {aux!r}; valid: 'cnn14', 'ccl', 'logmel_stats', 'cnn14_untrained' or an AudioExtractor")


def _decode_audio(job):
    """(video id, mono wave, rate, None) or (video id, None, None, reason): for a worker process."""
    vid, path, max_seconds = job
    try:
        wave, rate = read_audio(path)
    except MediaError as exc:
        return vid, None, None, exc.reason
    if max_seconds is not None:
        wave = wave[: int(round(max_seconds * rate))]
    return vid, wave, rate, None


def _audio_waves(items: Sequence[VideoItem], n_workers: int, max_seconds: float | None):
    """Decoded audio of ``items`` in order, from ``n_workers`` processes (0: decoded lazily here)."""
    jobs = [(it.video_id, str(it.audio_path or it.path), max_seconds) for it in items]
    if n_workers <= 0 or len(jobs) < 2:
        yield from map(_decode_audio, jobs)
        return
    # PyAV / soundfile only in the children, started fresh (never forked: amidlib/data/video/workers.py)
    with workers.context().Pool(n_workers, initializer=workers.pool_init) as pool:
        yield from pool.imap(_decode_audio, jobs, chunksize=4)


def _use_seekable_copies(items: list[VideoItem], root: Path, report: BadInputReport, info: dict) -> list[VideoItem]:
    """Point each item's frames at its copy under ``root`` (same relative path, ``.mp4``), its audio at the
    original; a missing or unreadable copy is a bad input, by name. The copy's frame count is used."""
    from amidlib.data.video.transcode import MARKER

    marker = root / MARKER
    if not marker.is_file():
        raise FileNotFoundError(f"{root} holds no {MARKER}: not a folder of seekable copies. Make them once with "
                                f"python -m amidlib.data.video.transcode <video folder> {root}")
    info["frames_root"] = {"dir": str(root), "settings": json.loads(marker.read_text())["settings"]}
    kept = []
    for it in items:
        copy = root / f"{it.relstem}.mp4"
        try:
            vinfo = probe_video(copy, decode_check=False)
        except MediaError as exc:
            report.add(f"{it.relstem}.mp4", "missing seekable copy" if not copy.is_file() else "corrupt seekable copy",
                       f"{exc.reason} (in {root}; rerun the transcode command: it writes only what is missing)")
            continue
        it.audio_path, it.path, it.n_frames = it.audio_path or it.path, copy, vinfo.n_frames
        kept.append(it)
    return kept


def build_video_datasets(
    table: pd.DataFrame,
    class_names: list[str],
    video_root: str | os.PathLike,
    *,
    splits: Sequence[str] = ("train", "test"),
    aux: Any = "cnn14",
    cnn14_checkpoint: str | os.PathLike | None = None,
    cnn14_sha256: str | None = None,
    manifest_for_sha: str | dict | None = None,
    logmel: dict | None = None,
    ccl_root: str | os.PathLike | None = None,
    ccl_dim: int = 512,
    audio_root: str | os.PathLike | None = None,
    audio_suffixes: Sequence[str] = AUDIO_FILE_SUFFIXES,
    expected_rates: Sequence[int] | None = None,
    strict_rate: bool = False,
    max_audio_seconds: float | None = None,
    clip: ClipSpec = ClipSpec(),
    cache_dir: str | os.PathLike | None = "runs/cache",
    frame_cache: bool = False,
    frames_root: str | os.PathLike | None = None,
    on_bad: str = "raise",
    video_suffixes: Sequence[str] = VIDEO_SUFFIXES,
    report_extra: bool = True,
    table_problems: Sequence[BadInput] = (),
    decode_check: bool = True,
    device: str | torch.device = "cpu",
    progress: bool = True,
    name: str = "",
    audio_workers: int | None = None,
) -> tuple[VideoAudioDataset, ...]:
    """One :class:`VideoAudioDataset` per split in ``splits`` (see the module doc for the pipeline).

    ``table``: one row per video with ``video_id``, ``class_index``, ``split`` and ``relstem`` (the file
    path under ``video_root`` without suffix; any suffix of ``video_suffixes`` is accepted).
    ``aux``: ``"cnn14"`` (needs ``cnn14_checkpoint`` + sha256), ``"ccl"`` (features at
    ``ccl_root/<relstem>.npy``; the CCL layout is ``<ClassName>/<video_id>.npy``), ``"logmel_stats"``,
    ``"cnn14_untrained"`` (tests) or an :class:`~amidlib.data.video.audio.AudioExtractor`.
    ``audio_root``: read audio from ``audio_root/<relstem>.wav`` (or .flac/.ogg) instead of the video's
    own track. ``expected_rates`` / ``strict_rate``: see :func:`amidlib.data.video.decode.load_audio`.
    ``audio_workers``: processes decoding audio for the one-time extractor pass (None: up to 8 when 64
    or more files are to be extracted, else 0 = in this process). ``on_bad``: ``"raise"`` or ``"skip"``.
    ``table_problems``: bad entries found while building the table (e.g. by :func:`activitynet_table`),
    reported with the rest. ``frames_root``: a folder of seekable copies of ``video_root``
    (:mod:`amidlib.data.video.transcode`): clips are read from them; the checks and audio use the originals.
    """
    if on_bad not in ON_BAD:
        raise ValueError(f"on_bad must be one of {ON_BAD}, got {on_bad!r}")
    for col in ("video_id", "class_index", "split", "relstem"):
        if col not in table.columns:
            raise ValueError(f"table needs a {col!r} column (has {list(table.columns)})")
    video_root = Path(video_root).expanduser()
    if not video_root.is_dir():
        raise FileNotFoundError(f"video folder not found: {video_root}")
    extractor = _resolve_aux(aux, cnn14_checkpoint, cnn14_sha256, manifest_for_sha, logmel or {})
    needs_audio = extractor is not None
    if aux == "ccl":
        if ccl_root is None:
            raise ValueError("aux='ccl' needs ccl_root= (the folder of <ClassName>/<video_id>.npy files)")
        ccl_root = Path(ccl_root).expanduser()
    report = BadInputReport(root=str(video_root), on_bad=on_bad)
    report.bad.extend(table_problems)
    table = table[table["split"].isin(list(splits))].reset_index(drop=True)
    n_listed = len(table) + len(table_problems)

    # 1. match table and files
    items: list[VideoItem] = []
    missing: list[str] = []
    matched: set[Path] = set()
    for row in table.itertuples(index=False):
        it = VideoItem(str(row.video_id), int(row.class_index), str(row.split), str(row.relstem),
                       segments_s=tuple(tuple(x) for x in (getattr(row, "segments", ()) or ())))
        it.path = _find_file(video_root, it.relstem, video_suffixes)
        if it.path is None:
            missing.append(it.relstem)
            continue
        matched.add(it.path.resolve())
        items.append(it)
    if missing:  # name the file with the suffix the other videos have (UCF101: .avi)
        suffixes = pd.Series([it.path.suffix for it in items])
        suffix = suffixes.mode().iloc[0] if len(suffixes) else video_suffixes[0]
        for relstem in missing:
            report.add(relstem + suffix, "missing",
                       f"listed in the manifest, no video file ({'/'.join(video_suffixes)}) on disk")
    if report_extra:
        for p in sorted(video_root.rglob("*")):
            if p.suffix.lower() in video_suffixes and p.is_file() and not p.name.startswith("._") \
                    and p.resolve() not in matched:
                report.note(p.relative_to(video_root).as_posix(), "extra", "video file not in the manifest (ignored)")

    # 2. check every file (headers from the probe cache while the file is unchanged: one probe per file
    # per data root, not one per process); videos that failed mid-decode in an earlier run are bad too
    ccl_rows: dict[str, np.ndarray] = {}
    bad_ids: set[str] = set()
    cache_root = Path(cache_dir).expanduser() if cache_dir is not None else None
    probes = ProbeCache(cache_root, video_root, {"decode_check": bool(decode_check)}) if cache_root else None
    failure_log = DecodeFailureLog(cache_root, video_root) if cache_root else None
    earlier = failure_log.current({it.name: it.path for it in items}) if failure_log else {}
    for it in tqdm(items, desc="checking videos", unit="video", disable=not progress, leave=False):
        if it.name in earlier:
            report.add(it.name, "corrupt video", f"failed mid-decode in an earlier run ({earlier[it.name]}; "
                       f"recorded in {failure_log.path})")
            bad_ids.add(it.video_id)
            continue
        entry = probes.get(it.name, it.path) if probes is not None else None
        try:
            if entry is not None and "error" in entry:
                raise VideoDecodeError(it.path, entry["error"])
            if entry is not None:
                vinfo = VideoInfo(**entry["info"])
            else:
                vinfo = probe_video(it.path, decode_check=decode_check)
                if probes is not None:
                    probes.put(it.name, it.path, info=vars(vinfo))
            it.n_frames, it.fps = vinfo.n_frames, vinfo.fps
        except MediaError as exc:
            if probes is not None and entry is None:
                probes.put(it.name, it.path, error=exc.reason)
            report.add(it.name, "corrupt video", exc.reason)
            bad_ids.add(it.video_id)
            continue
        if needs_audio:
            rate = None
            if audio_root is not None:
                it.audio_path = _find_file(Path(audio_root), it.relstem, audio_suffixes)
                if it.audio_path is None:
                    report.add(f"{it.relstem}.wav", "missing audio file", f"looked in {audio_root}")
                    bad_ids.add(it.video_id)
                    continue
                try:
                    import soundfile as sf

                    rate = int(sf.info(str(it.audio_path)).samplerate)
                except Exception as exc:
                    report.add(it.audio_path.name, "unreadable audio file", f"{type(exc).__name__}: {exc}")
                    bad_ids.add(it.video_id)
                    continue
                audio_name = str(Path(it.relstem).parent / it.audio_path.name)
            elif not vinfo.has_audio:
                report.add(it.name, "no audio track", "the auxiliary (audio) modality needs one")
                bad_ids.add(it.video_id)
                continue
            else:
                rate, audio_name = vinfo.audio_rate, it.name
            target = extractor.sample_rate
            unexpected = (rate not in set(expected_rates)) if expected_rates else (rate is not None and rate < target)
            if unexpected:
                want = f"one of {sorted(set(expected_rates))} Hz" if expected_rates else f">= {target} Hz"
                if strict_rate:
                    report.add(audio_name, "unexpected sample rate", f"{rate} Hz, expected {want} (strict)")
                    bad_ids.add(it.video_id)
                    continue
                report.note(audio_name, "resampled", f"{rate} Hz, expected {want}; resampled to {target} Hz")
                log.warning("%s: sample rate %s Hz, expected %s; resampled to %s Hz", audio_name, rate, want, target)
        if aux == "ccl":
            it.feature_path = ccl_root / f"{it.relstem}.npy"
            if not it.feature_path.is_file():
                report.add(f"{it.relstem}.npy", "missing feature file", f"not in {ccl_root}")
                bad_ids.add(it.video_id)
                continue
            arr, reason = _read_ccl_feature(it.feature_path, ccl_dim)
            if reason:
                report.add(f"{it.relstem}.npy", "unreadable feature", reason)
                bad_ids.add(it.video_id)
                continue
            ccl_rows[it.video_id] = arr
    if probes is not None:
        probes.save()
    if report.bad and on_bad == "raise":
        raise BadInputError(report)
    items = [it for it in items if it.video_id not in bad_ids]

    # 3. auxiliary features (frozen extractor, once per file, cached)
    info: dict[str, Any] = {}
    aux_rows: dict[str, np.ndarray] = {}
    if extractor is not None:
        extractor = extractor.to(device)
        settings = {"extractor": extractor.settings(), "mono": True, "resample": "torchaudio.functional.resample",
                    "audio_source": "files" if audio_root is not None else "video track",
                    "max_audio_seconds": max_audio_seconds}
        if cache_dir is None:
            cache_dir = tempfile.mkdtemp(prefix="amid-cache-")
        cache = FeatureCache(cache_dir, extractor.name, extractor.weights_sha256, settings, extractor.dim)
        info["aux_cache"] = {"dir": str(cache.dir), "key": cache.key, "extractor": extractor.name,
                             "weights_sha256": extractor.weights_sha256}

        for split in splits:
            todo = [(it.video_id, it) for it in items if it.split == split]
            missing = set(cache.missing(split, [vid for vid, _ in todo]))
            seq = [it for vid, it in todo if vid in missing]
            n_workers = (min(8, max(0, (os.cpu_count() or 1) - 1)) if len(seq) >= 64 else 0) \
                if audio_workers is None else int(audio_workers)
            # audio decoded by worker processes, in cache.build's order; the extractor runs here, batched by file
            waves = _audio_waves(seq, n_workers, max_audio_seconds)

            def compute(it: VideoItem) -> np.ndarray:
                vid, wave, rate, err = next(waves)
                if vid != it.video_id:  # (cache.build walks the missing items in order: never happens)
                    raise RuntimeError(f"audio prefetch out of order: {vid} for {it.video_id}")
                if err is not None:
                    raise MediaError(it.audio_path or it.path, err)
                return extractor.embed(resample(wave, rate, extractor.sample_rate), device=device)

            res = cache.build(split, todo, compute, progress=progress, catch=(MediaError, ValueError, RuntimeError))
            waves.close()
            by_id = {it.video_id: it for it in items}
            for vid, reason in res.failed:
                report.add(by_id[vid].name, "audio decode failed", reason)
            ok = [vid for vid, _ in todo if vid not in {v for v, _ in res.failed}]
            aux_rows.update(zip(ok, cache.load(split, ok)))
        if report.bad and on_bad == "raise":
            raise BadInputError(report)
        aux_name = extractor.name
    else:
        aux_rows = ccl_rows
        aux_name = "ccl_cnn14_emb512"
        info["aux_source"] = {"ccl_root": str(ccl_root)}
    items = [it for it in items if it.video_id in aux_rows]

    # 3b. frames from the seekable copies (read with seeks), when there are some
    if frames_root is not None:
        items = _use_seekable_copies(items, Path(frames_root).expanduser(), report, info)
        if report.bad and on_bad == "raise":
            raise BadInputError(report)

    # 4. optional frame cache (full decode: also catches corruption past the first frame)
    fcache = None
    if frame_cache:
        fcache = FrameCache(cache_dir or "runs/cache", {"resize": list(clip.resize), "decoder": "pyav rgb24 swscale"})
        todo_frames = [it.n_frames for it in items if not fcache.has(it.video_id)]
        require_free_space(fcache.dir, frame_cache_bytes(todo_frames, clip.resize),
                           f"the frame cache of {len(todo_frames):,} videos ({sum(todo_frames):,} frames at "
                           f"{clip.resize[0]}x{clip.resize[1]})")
        info["frame_cache"] = str(fcache.dir)
        failed = set()
        for it in tqdm([it for it in items if not fcache.has(it.video_id)], desc="frame cache", unit="video",
                       disable=not progress, leave=False):
            try:
                fcache.get(it.video_id, lambda it=it: read_frames(it.path, size=clip.resize))
            except MediaError as exc:
                report.add(it.name, "corrupt video", exc.reason)
                failed.add(it.video_id)
        if failed and on_bad == "raise":
            raise BadInputError(report)
        items = [it for it in items if it.video_id not in failed]

    if report.bad:
        log.warning("skipped %d bad input file(s):\n%s", len(report.bad_files), report.describe(limit=50))
    info["videos_listed"] = n_listed
    info["videos_used"] = len(items)
    decode_failures: list = []  # shared by the splits: failures met while training / evaluating
    out = []
    for split in splits:
        sub = [it for it in items if it.split == split]
        rows = np.stack([aux_rows[it.video_id] for it in sub]) if sub else np.zeros((0, 1), np.float32)
        out.append(VideoAudioDataset(sub, rows, clip, class_names, aux_name=aux_name, frame_cache=fcache,
                                     bad_inputs=report, name=f"{name}:{split}" if name else split, info=info,
                                     failure_log=failure_log, on_bad=on_bad, decode_failures=decode_failures))
    return tuple(out)


def video_audio_datasets(manifest: str | dict, video_root, **kwargs) -> tuple[VideoAudioDataset, VideoAudioDataset]:
    """(train, test) of a UCF-style manifest (``"ucf51"``, a generated tier's json, or a dict): videos at
    ``video_root/<ClassName>/<video_id>.<avi|mp4|...>``. Keyword arguments: :func:`build_video_datasets`."""
    from amidlib.data.manifests import load_manifest

    m = load_manifest(manifest) if isinstance(manifest, str) and not str(manifest).endswith(".json") else manifest
    if isinstance(m, (str, os.PathLike)):
        m = json.loads(Path(m).read_text(encoding="utf-8"))
    table, names = manifest_table(m)
    kwargs.setdefault("name", m.get("name", ""))
    kwargs.setdefault("manifest_for_sha", m)
    return build_video_datasets(table, names, video_root, splits=("train", "test"), **kwargs)
