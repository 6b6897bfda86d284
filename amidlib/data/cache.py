"""On-disk caches for the video + audio path: frozen-extractor features and (optionally) decoded frames.

Why: the auxiliary extractor (CNN14, paper §4.2) is pre-trained and frozen, so its output for a file
never changes. It is computed once per file and read back from disk, so after the first pass no audio
is decoded and no frozen extractor runs. :data:`CALLS` counts every decode and extractor call, which is
how the tests (and you) can check it::

    from amidlib.data.cache import CALLS
    before = CALLS.copy(); ...one epoch...; print(CALLS - before)   # Counter() after the first epoch

Layout of a feature cache (one folder per extractor *configuration*)::

    <root>/<extractor name>-<key>/meta.json          what the key was computed from (readable)
    <root>/<extractor name>-<key>/<split>.npy        float32 (rows, dim), opened as a numpy memmap
    <root>/<extractor name>-<key>/<split>.index.json {"ids": [video id of row 0, row 1, ...]}

``key`` = sha256 of (extractor name, weights sha256, preprocessing settings), so changing the weights,
the sample rate, the mel settings, ... gives a new folder, never a silently stale feature. Every write
is atomic (:func:`amidlib.core.files.atomic_path`: a temporary ``.<name>.<random>.tmp`` in the same
folder, then ``os.replace``); the index is written after the array and is the commit point: a row
exists only once the index names it, so an interrupted extraction resumes where it stopped and never
exposes half-written rows.

The frame cache (:class:`FrameCache`) stores each video's decoded, resized frames as one uint8 ``.npy``
(T, H, W, 3), so the student's data path only crops and normalises. It is optional: at UCF101 sizes
(≈180 frames of 128×171) it takes ≈12 MB per video (≈80 GB for UCF51), so use it where disk allows.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from amidlib.core.files import atomic_path, atomic_write_text

__all__ = [
    "CALLS",
    "count",
    "settings_hash",
    "atomic_save_npy",
    "atomic_write_json",
    "FeatureCache",
    "CacheBuildReport",
    "CacheCorruptError",
    "FrameCache",
    "ProbeCache",
    "DecodeFailureLog",
    "DiskSpaceError",
    "require_free_space",
    "frame_cache_bytes",
]

log = logging.getLogger("amidlib.data.cache")

#: Process-wide call counters. Keys used by amidlib:
#: ``video_decode`` (one per container whose frames are decoded), ``audio_decode`` (one per audio
#: track or audio file decoded), ``aux_extractor`` (one per item a frozen extractor embeds).
#: (DataLoader worker processes count in their own copy; the tests use ``num_workers=0``.)
CALLS: Counter = Counter()


def count(name: str, n: int = 1) -> None:
    """Add ``n`` to ``CALLS[name]``."""
    CALLS[name] += n


def settings_hash(settings: Any) -> str:
    """sha256 (hex) of a JSON-serialisable value, keys sorted: the cache key of a configuration."""
    text = json.dumps(settings, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# --------------------------------------------------------------------------- atomic writes
# (amidlib.core.files does the writing; these two add the formats and create the folder. Temporary
# files are named ``.<name>.<random>.tmp``, as they always were in a cache folder.)
def atomic_save_npy(path: str | os.PathLike, array: np.ndarray) -> None:
    """``np.save`` to a temporary file beside ``path``, then ``os.replace``: never half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path, suffix=".tmp") as tmp, open(tmp, "wb") as f:
        np.save(f, np.ascontiguousarray(array), allow_pickle=False)


def atomic_write_json(path: str | os.PathLike, obj: Any) -> None:
    """JSON to a temporary file beside ``path``, then ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, json.dumps(obj, indent=1, default=str))


# --------------------------------------------------------------------------- feature cache
class CacheCorruptError(ValueError):
    """A cache file is unreadable or disagrees with its index (the message names the file)."""


@dataclass
class CacheBuildReport:
    """What :meth:`FeatureCache.build` did: ids computed now, ids already cached, ids that failed."""

    split: str
    computed: list[str] = field(default_factory=list)
    cached: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (id, reason)
    seconds: float = 0.0

    def summary(self) -> str:
        return (f"{self.split}: {len(self.computed)} computed, {len(self.cached)} from cache, "
                f"{len(self.failed)} failed ({self.seconds:.1f} s)")


_SAFE = re.compile(r"[^A-Za-z0-9_.-]+")


class FeatureCache:
    """Features of one frozen extractor configuration, one memmapped ``.npy`` per split.

    ``root``: the folder that holds every cache (e.g. ``runs/cache``); created if missing.
    ``extractor_name``: e.g. ``"cnn14_emb512"``. ``weights_sha256``: of the extractor's weights file
    (``"none"`` for a parameter-free one). ``settings``: every preprocessing value that changes the
    features (sample rate, mel settings, mono, audio source, ...): part of the key. ``dim``: the
    feature dimension.
    """

    def __init__(self, root: str | os.PathLike, extractor_name: str, weights_sha256: str, settings: dict, dim: int):
        self.extractor_name = str(extractor_name)
        self.weights_sha256 = str(weights_sha256)
        self.settings = dict(settings)
        self.dim = int(dim)
        self.key = settings_hash({"extractor": self.extractor_name, "weights_sha256": self.weights_sha256,
                                  "settings": self.settings, "dim": self.dim})
        self.dir = Path(root).expanduser() / f"{_SAFE.sub('_', self.extractor_name)}-{self.key[:16]}"
        self.dir.mkdir(parents=True, exist_ok=True)
        meta = self.dir / "meta.json"
        if not meta.is_file():
            atomic_write_json(meta, {"extractor": self.extractor_name, "weights_sha256": self.weights_sha256,
                                     "settings": self.settings, "dim": self.dim, "key": self.key})

    def __repr__(self) -> str:
        return f"FeatureCache({self.dir})"

    def _paths(self, split: str) -> tuple[Path, Path]:
        if not re.fullmatch(r"[A-Za-z0-9_-]+", split):
            raise ValueError(f"split name must be letters, digits, '_' or '-', got {split!r}")
        return self.dir / f"{split}.npy", self.dir / f"{split}.index.json"

    # -- reading ------------------------------------------------------------------------------
    def index(self, split: str) -> dict[str, int]:
        """Video id → row of the split's array (empty when nothing is cached yet)."""
        _, idx_path = self._paths(split)
        if not idx_path.is_file():
            return {}
        try:
            ids = json.loads(idx_path.read_text(encoding="utf-8"))["ids"]
        except (ValueError, KeyError, TypeError) as exc:
            raise CacheCorruptError(f"{idx_path}: unreadable cache index ({exc}); delete it to rebuild") from None
        return {vid: row for row, vid in enumerate(ids)}

    def _array(self, split: str, n_rows: int) -> np.ndarray | None:
        arr_path, _ = self._paths(split)
        if n_rows == 0:
            return None
        try:
            arr = np.load(arr_path, mmap_mode="r", allow_pickle=False)
        except Exception as exc:  # truncated, missing, not a .npy
            raise CacheCorruptError(f"{arr_path}: unreadable cache array ({type(exc).__name__}: {exc}); "
                                    "delete the folder to rebuild") from None
        if arr.ndim != 2 or arr.shape[1] != self.dim or arr.shape[0] < n_rows:
            raise CacheCorruptError(f"{arr_path}: shape {arr.shape}, but the index names {n_rows} rows "
                                    f"of dim {self.dim}; delete the folder to rebuild")
        return arr

    def missing(self, split: str, ids: Iterable[str]) -> list[str]:
        """The ids (in the given order) that have no cached row."""
        have = self.index(split)
        return [i for i in ids if i not in have]

    def load(self, split: str, ids: Sequence[str] | None = None) -> np.ndarray:
        """Rows for ``ids`` (default: all, in row order) as a float32 array (n, dim).

        Raises KeyError naming the ids that are not cached.
        """
        index = self.index(split)
        arr = self._array(split, len(index))
        if ids is None:
            return np.zeros((0, self.dim), np.float32) if arr is None else np.asarray(arr[: len(index)], np.float32)
        lost = [i for i in ids if i not in index]
        if lost:
            raise KeyError(f"{len(lost)} id(s) not in the {split!r} cache {self.dir}: {lost[:10]}")
        if not ids:
            return np.zeros((0, self.dim), np.float32)
        return np.asarray(arr[[index[i] for i in ids]], dtype=np.float32)

    # -- writing ------------------------------------------------------------------------------
    def _commit(self, split: str, index: dict[str, int], new_ids: list[str],
                new_rows: list[np.ndarray]) -> dict[str, int]:
        """Append rows: new array (old rows + new) → os.replace; then the index (the commit point)."""
        if not new_ids:
            return index
        arr_path, idx_path = self._paths(split)
        old_n = len(index)
        old = self._array(split, old_n)
        with atomic_path(arr_path, suffix=".tmp") as tmp:
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(old_n + len(new_ids), self.dim))
            if old_n:
                out[:old_n] = old[:old_n]
            out[old_n:] = np.stack(new_rows)
            out.flush()
            del out, old  # the maps closed before the file is renamed over the old array
        ids = sorted(index, key=index.get) + list(new_ids)
        atomic_write_json(idx_path, {"ids": ids})
        return {vid: row for row, vid in enumerate(ids)}

    def build(
        self,
        split: str,
        items: Sequence[tuple[str, Any]],
        compute: Callable[[Any], np.ndarray],
        *,
        progress: bool = True,
        catch: tuple[type[BaseException], ...] = (ValueError, OSError, RuntimeError),
        commit_every: int = 256,
        desc: str | None = None,
    ) -> CacheBuildReport:
        """Compute and store the features of every ``(video_id, source)`` not cached yet.

        ``compute(source)`` returns a vector of shape (dim,). An exception of a type in ``catch``
        marks that id as failed (with the reason) instead of stopping the run; the caller decides
        what a failure means (see :mod:`amidlib.data.video.datasets`). Rows are committed every
        ``commit_every`` items, so an interrupted extraction keeps what it finished.
        A tqdm bar shows counts and ETA.
        """
        started = time.perf_counter()
        report = CacheBuildReport(split)
        index = self.index(split)
        todo = []
        for vid, src in items:
            if vid in index:
                report.cached.append(vid)
            else:
                todo.append((vid, src))
        bar = tqdm(todo, desc=desc or f"{self.extractor_name} [{split}]", unit="file", disable=not progress or not todo,
                   leave=False)
        new_ids: list[str] = []
        new_rows: list[np.ndarray] = []
        for vid, src in bar:
            try:
                vec = np.asarray(compute(src), dtype=np.float32).reshape(-1)
                if vec.shape != (self.dim,):
                    raise ValueError(f"extractor returned shape {vec.shape}, expected ({self.dim},)")
                if not np.isfinite(vec).all():
                    raise ValueError("extractor returned NaN/inf")
            except catch as exc:
                report.failed.append((vid, f"{type(exc).__name__}: {exc}"))
                continue
            new_ids.append(vid)
            new_rows.append(vec)
            if len(new_ids) >= commit_every:
                index = self._commit(split, index, new_ids, new_rows)
                report.computed += new_ids
                new_ids, new_rows = [], []
        index = self._commit(split, index, new_ids, new_rows)
        report.computed += new_ids
        report.seconds = time.perf_counter() - started
        if todo:
            log.info("feature cache %s: %s", self.dir, report.summary())
        return report


# --------------------------------------------------------------------------- frame cache
class FrameCache:
    """Decoded, resized uint8 frames per video (``<root>/frames-<key>/<video id>.npy``, (T, H, W, 3)).

    ``settings`` must hold everything the decode depends on (at least the resize); it is hashed
    into the folder name. A corrupt entry (e.g. a truncated file) is decoded again with a warning:
    the cache is derived data.
    """

    def __init__(self, root: str | os.PathLike, settings: dict):
        self.settings = dict(settings)
        self.key = settings_hash({"frames": self.settings})
        self.dir = Path(root).expanduser() / f"frames-{self.key[:16]}"
        self.dir.mkdir(parents=True, exist_ok=True)
        meta = self.dir / "meta.json"
        if not meta.is_file():
            atomic_write_json(meta, {"settings": self.settings, "key": self.key})

    def path(self, video_id: str) -> Path:
        return self.dir / f"{_SAFE.sub('_', video_id)}.npy"

    def has(self, video_id: str) -> bool:
        return self.path(video_id).is_file()

    def get(self, video_id: str, decode: Callable[[], np.ndarray]) -> np.ndarray:
        """The cached frames (memmapped), or ``decode()`` them now and store them atomically."""
        p = self.path(video_id)
        if p.is_file():
            try:
                arr = np.load(p, mmap_mode="r", allow_pickle=False)
                if arr.dtype == np.uint8 and arr.ndim == 4 and arr.shape[-1] == 3 and arr.shape[0] > 0:
                    return arr
                reason = f"dtype {arr.dtype}, shape {arr.shape}"
            except Exception as exc:
                reason = f"{type(exc).__name__}: {exc}"
            warnings.warn(f"frame cache entry {p} is corrupt ({reason}); decoding the video again", stacklevel=2)
        frames = np.ascontiguousarray(decode(), dtype=np.uint8)
        atomic_save_npy(p, frames)
        return frames

    def fill(self, items: Sequence[tuple[str, Callable[[], np.ndarray]]], progress: bool = True) -> int:
        """Decode every ``(video_id, decode)`` not cached yet; returns how many were decoded."""
        todo = [(vid, dec) for vid, dec in items if not self.has(vid)]
        for vid, dec in tqdm(todo, desc="frame cache", unit="video", disable=not progress or not todo, leave=False):
            self.get(vid, dec)
        return len(todo)


# --------------------------------------------------------------------------- disk space
class DiskSpaceError(OSError):
    """A cache would not fit on its disk: the message names the folder, what it needs and what is free."""


def _gb(n: float) -> str:
    return f"{n / 1e9:.1f} GB"


def require_free_space(folder: str | os.PathLike, need_bytes: float, what: str,
                       margin_bytes: float | None = None) -> None:
    """Refuse to start writing ``what`` under ``folder`` when the disk cannot hold ``need_bytes`` (plus
    ``margin_bytes`` left free for checkpoints and records); the message names both sizes.

    The default margin scales with the cache: as much again as the cache itself, at least 64 MB and at
    most 2 GB. A fixed 2 GB refused a 1 MB cache on a small CI disk; a 50 GB cache still keeps 2 GB free."""
    if margin_bytes is None:
        margin_bytes = min(2e9, max(64e6, float(need_bytes)))
    folder = Path(folder).expanduser()
    probe = folder
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    import shutil

    free = shutil.disk_usage(probe).free
    if need_bytes + margin_bytes > free:
        raise DiskSpaceError(
            f"{what} needs about {_gb(need_bytes)} under {folder} (+ {_gb(margin_bytes)} kept free), but only "
            f"{_gb(free)} is free on that disk: free space, point the cache to a larger disk, or turn it off "
            "(frame_cache=False decodes every clip from the video file instead)")


def frame_cache_bytes(n_frames: Iterable[int], resize: Sequence[int]) -> int:
    """Bytes of a :class:`FrameCache` holding videos of ``n_frames`` frames at ``resize`` (H, W), RGB uint8."""
    h, w = int(resize[0]), int(resize[1])
    return int(sum(int(n) for n in n_frames)) * h * w * 3


# --------------------------------------------------------------------------- probes and decode failures
def _file_stamp(path: Path) -> dict:
    st = path.stat()
    return {"size": int(st.st_size), "mtime_ns": int(st.st_mtime_ns)}


class ProbeCache:
    """What probing each file of one data root found (its header, or why it is unusable), kept on disk:
    ``<root>/probes-<key>.json`` with one entry per file name ``{"size", "mtime_ns", "info" | "error"}``.

    An entry is used only while the file's size and modification time match, so a replaced file is
    probed again. Every process that loads the dataset (the notebook, each worker process of a Study)
    then reads ~15,000 headers from one JSON file instead of opening every video. Saved atomically.
    """

    def __init__(self, root: str | os.PathLike, data_root: str | os.PathLike, settings: dict | None = None):
        key = settings_hash({"data_root": str(Path(data_root).expanduser().resolve()), **(settings or {})})[:16]
        self.path = Path(root).expanduser() / f"probes-{key}.json"
        self.entries: dict[str, dict] = {}
        self.dirty = 0
        if self.path.is_file():
            try:
                self.entries = json.loads(self.path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                log.warning("probe cache %s unreadable (%s): probing again", self.path, exc)

    def get(self, name: str, path: Path) -> dict | None:
        """The stored entry of ``name`` if ``path`` is unchanged since (else None)."""
        e = self.entries.get(name)
        if e is None:
            return None
        try:
            stamp = _file_stamp(path)
        except OSError:
            return None
        return e if (e.get("size"), e.get("mtime_ns")) == (stamp["size"], stamp["mtime_ns"]) else None

    def put(self, name: str, path: Path, *, info: dict | None = None, error: str | None = None) -> None:
        try:
            stamp = _file_stamp(path)
        except OSError:
            return
        self.entries[name] = {**stamp, **({"info": info} if info is not None else {"error": error})}
        self.dirty += 1
        if self.dirty >= 500:  # a long first pass that is interrupted keeps what it probed
            self.save()

    def save(self) -> None:
        if self.dirty:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write_json(self.path, self.entries)
            self.dirty = 0


class DecodeFailureLog:
    """Videos that failed while being decoded for training or evaluation (corrupt after their first
    frame), one JSON line each in ``<root>/decode-failures-<key>.jsonl``: ``{"file", "size", "mtime_ns",
    "reason"}``. Written by whichever process (DataLoader worker) met the failure, with one
    ``O_APPEND`` write per line, so concurrent writers never interleave; read when a dataset is built,
    so a later or resumed run leaves the file out (or stops on it, ``on_bad="raise"``) without decoding
    it again. An entry applies while the file's size and modification time are unchanged."""

    def __init__(self, root: str | os.PathLike, data_root: str | os.PathLike):
        key = settings_hash({"data_root": str(Path(data_root).expanduser().resolve())})[:16]
        self.path = Path(root).expanduser() / f"decode-failures-{key}.jsonl"

    def add(self, name: str, path: Path, reason: str) -> None:
        try:
            stamp = _file_stamp(Path(path))
        except OSError:
            stamp = {"size": None, "mtime_ns": None}
        line = json.dumps({"file": name, **stamp, "reason": reason[:400]}) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))
        finally:
            os.close(fd)

    def entries(self) -> list[dict]:
        if not self.path.is_file():
            return []
        out = []
        for line in self.path.read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:  # a line cut by a crash: ignored
                continue
        return out

    def current(self, files: dict[str, Path]) -> dict[str, str]:
        """``{file name: reason}`` of the entries whose file (in ``files``: name -> path) is unchanged."""
        found = {}
        for e in self.entries():
            p = files.get(e.get("file"))
            if p is None:
                continue
            try:
                stamp = _file_stamp(p)
            except OSError:
                continue
            if e.get("size") is None or (e["size"], e["mtime_ns"]) == (stamp["size"], stamp["mtime_ns"]):
                found[e["file"]] = e.get("reason", "")
        return found
