"""One split of a video dataset as training reads it, and its loader.

:class:`VideoAudioDataset`: the split's videos and their auxiliary feature rows. Each item is
``(clip (3, T, H, W) float32, aux feature (D,) float32, label, index)``. Sampling is chosen per
item: a key ``(index, seed)`` gives a *train* clip (random window, crop, flip from that seed), a
plain ``index`` the *test* clip (centre window and crop), so one dataset serves training and
evaluation. Clips are decoded on access (or read from the frame cache); a video that fails
mid-decode is recorded in the failure log and replaced by a same-class video (``on_bad="skip"``) or
stops the run (``"raise"``).

:class:`VideoLoader` turns a dataset into the ``TensorData`` interface of
:mod:`amidlib.core.training` (``n``, ``y``, ``batches(batch_size, generator, drop_last)``): batches
drawn with a generator are training batches, without one evaluation batches.
:func:`video_run_args` hands :func:`amidlib.core.experiment.run` the video nets, this loader and
the data record. The datasets are built by :func:`amidlib.data.video.datasets.build_video_datasets`.
"""
from __future__ import annotations

import copy
import dataclasses
import logging
import shutil
import tempfile
import weakref
from collections import Counter

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, default_collate

from amidlib.core.types import Batch
from amidlib.data.cache import DecodeFailureLog, FrameCache
from amidlib.data.video import workers
from amidlib.data.video.clips import ClipSpec
from amidlib.data.video.decode import MediaError, VideoDecodeError, read_frames
from amidlib.data.video.inputs import BadInputReport, VideoItem

__all__ = ["VideoAudioDataset", "VideoLoader", "video_nets", "video_loader", "video_run_args", "videos_used"]

log = logging.getLogger("amidlib.data.video.loader")


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

    def subset(self, indices) -> VideoAudioDataset:
        idx = np.asarray(indices)
        if idx.dtype == bool:
            idx = np.flatnonzero(idx)
        new = copy.copy(self)
        new.items = [self.items[i] for i in idx]
        new.aux = self.aux[idx]
        new.labels = self.labels[idx]
        new.known_bad = set()
        return new

    def standardized(self, mean_std: dict | None = None) -> tuple[VideoAudioDataset, dict]:
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
                f"clip={self.clip.clip_len}x{self.clip.crop}x{self.clip.crop}, aux={self.auxiliary[0]} "
                f"({self.aux_dim}), bad={len(self.bad_inputs.bad_files)})")

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
            return torch.stack([clip.apply(f, box) for f, box in zip(frames, boxes.tolist(), strict=True)])
        frames = x.to(d, non_blocking=True)  # evaluation: (B, K·T, H, W, 3), centre crops
        return torch.stack([clip.apply_test_clips(f) for f in frames])

    def final(self) -> VideoLoader:
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
        for part, whole in zip(self._load(train, mine), groups, strict=True):
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

