"""IEMOCAP's features: the frozen extractors run once per utterance (cached), and
:class:`IemocapFeatures` (per-utterance features in index order; a :class:`MultimodalArrays` per setup).

**Features** (:func:`extract_iemocap_features`, extractors in :mod:`amidlib.data.iemocap.extractors`):
audio → wav2vec 2.0 (mean-pooled last hidden state, 16 kHz), text → BERT ([CLS]), video → DenseNet
on ``n_frames`` frames per utterance (frame k at the centre of the k-th of ``n_frames`` equal parts of
the window; 16 by default: the paper does not say), 1024-d per frame. Modalities of
:class:`IemocapFeatures`: ``audio``, ``text``, ``visual`` (the mean of the frame features) and, with
``keep_frames``, ``visual_frames`` (the (T, 1024) sequence flattened to T·1024 columns).
Each frozen extractor runs once per utterance: the results go to an
:class:`amidlib.data.cache.FeatureCache` under ``cache_dir`` (one folder per extractor, keyed by its
name, the sha256 of its weight files and every preprocessing setting; one memmapped ``.npy`` per
session; atomic writes; tqdm progress with count and ETA). A second call reads the cache: no audio or
video is decoded and no model is even loaded. The cache is keyed by utterance id, not by the data
files' contents: after changing a data file, delete its extractor's cache folder.
"""
from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from amidlib.core.files import atomic_path
from amidlib.data.cache import FeatureCache
from amidlib.data.container import MultimodalArrays
from amidlib.data.iemocap.parse import (
    CLASS_NAMES,
    ON_BAD,
    SETUPS,
    IemocapIndex,
    IemocapUtterance,
    _probe_avi,
    scan_iemocap,
    utterance_frame_indices,
)
from amidlib.data.video.decode import SequentialFrameReader, read_audio, resample
from amidlib.data.video.inputs import BadInputError, BadInputReport

__all__ = ["IemocapFeatures", "extract_iemocap_features", "load_iemocap"]


@dataclass
class IemocapFeatures:
    """Per-utterance features of the usable utterances, in index order.

    ``modalities``: ``audio`` (N, 768), ``text`` (N, 768), ``visual`` (N, 1024; mean over frames) and
    optionally ``visual_frames`` (N, T·1024). ``sessions``: 1..5 per row.
    """

    ids: list[str]
    sessions: np.ndarray
    labels: np.ndarray
    modalities: dict[str, np.ndarray]
    n_frames: int
    frame_dim: int
    class_names: list[str] = field(default_factory=lambda: list(CLASS_NAMES))
    extractors: dict[str, dict] = field(default_factory=dict)
    record: dict = field(default_factory=dict)   # the scan's as_record() + extraction problems
    report: BadInputReport | None = None

    def __len__(self) -> int:
        return len(self.ids)

    def dataset(self, setup: str = "AL-V", student: str = "pooled") -> MultimodalArrays:
        """A :class:`MultimodalArrays` for a Table 3 setup: target ``visual`` (``student="pooled"``) or
        ``visual_frames`` (``student="rnn"``), auxiliary the setup's modalities."""
        if setup not in SETUPS:
            raise ValueError(f"unknown setup {setup!r}; valid: {list(SETUPS)}")
        target = {"pooled": "visual", "rnn": "visual_frames"}.get(student)
        if target is None:
            raise ValueError(f"student must be 'pooled' or 'rnn', got {student!r}")
        need = [target] + SETUPS[setup]
        lost = [m for m in need if m not in self.modalities]
        if lost:
            hint = " (extract with keep_frames=True)" if "visual_frames" in lost else ""
            raise ValueError(f"setup {setup} needs modalities {lost}, which were not extracted{hint}; "
                             f"have {sorted(self.modalities)}")
        return MultimodalArrays({m: self.modalities[m] for m in need}, self.labels, target=[target],
                                auxiliary=SETUPS[setup], class_names=self.class_names,
                                n_classes=len(self.class_names), name=f"iemocap {setup}")

    def save(self, path: str | os.PathLike) -> Path:
        """Write everything to one ``.npz`` (atomically), to train elsewhere without the data or models."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        meta = {"ids": self.ids, "n_frames": self.n_frames, "frame_dim": self.frame_dim,
                "class_names": self.class_names, "extractors": self.extractors, "record": self.record}
        with atomic_path(path, suffix=".tmp") as tmp, open(tmp, "wb") as f:
            np.savez(f, sessions=self.sessions, labels=self.labels,
                     meta=np.array(json.dumps(meta, default=str)),
                     **{f"modality_{k}": v for k, v in self.modalities.items()})
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> IemocapFeatures:
        """Read a file written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            mods = {k[len("modality_"):]: z[k] for k in z.files if k.startswith("modality_")}
            return cls(ids=list(meta["ids"]), sessions=z["sessions"], labels=z["labels"], modalities=mods,
                       n_frames=int(meta["n_frames"]), frame_dim=int(meta["frame_dim"]),
                       class_names=list(meta["class_names"]), extractors=meta["extractors"], record=meta["record"])


def _resolve(kind: str, value, device, densenet_sha256=None, image_size=(224, 224)):
    from amidlib.data.iemocap import extractors as tae

    if value is None or hasattr(value, "embed") or hasattr(value, "embed_frames"):
        return value
    if kind == "audio":
        return tae.Wav2Vec2Extractor(value, device=device)
    if kind == "text":
        return tae.BertTextExtractor(value, device=device)
    return tae.DenseNetFrameExtractor(value, sha256=densenet_sha256, image_size=image_size, device=device)


def extract_iemocap_features(
    index: IemocapIndex,
    cache_dir: str | os.PathLike,
    *,
    audio=None,
    text=None,
    video=None,
    densenet_sha256: str | None = None,
    n_frames: int = 16,
    keep_frames: bool = True,
    on_bad: str | None = None,
    progress: bool = True,
    device: str | torch.device = "cpu",
) -> IemocapFeatures:
    """Run the frozen extractors once per utterance (cached) and return the features.

    ``audio`` / ``text`` / ``video``: an extractor of :mod:`amidlib.data.iemocap.extractors`, or the
    path of its local weights (a wav2vec 2.0 folder, a BERT folder, a DenseNet ``.pth`` — then
    ``densenet_sha256`` verifies it). ``video`` is required (it is the target modality); ``audio`` or
    ``text`` may be None (then the setups that need them are unavailable). ``n_frames``: frames per
    utterance for DenseNet. ``keep_frames``: also return the frame sequences (``visual_frames``) for
    the RNN student. ``on_bad``: what to do with utterances whose extraction fails (default: the
    index's own ``on_bad``).
    """
    if video is None:
        raise ValueError("video (a DenseNetFrameExtractor or the path of its .pth) is required: "
                         "the visual modality is the target of every IEMOCAP setup")
    on_bad = on_bad or index.report.on_bad
    if on_bad not in ON_BAD:
        raise ValueError(f"on_bad must be one of {ON_BAD}, got {on_bad!r}")
    if n_frames < 1:
        raise ValueError(f"n_frames must be >= 1, got {n_frames}")
    audio, text, video = (_resolve("audio", audio, device), _resolve("text", text, device),
                          _resolve("video", video, device, densenet_sha256))
    report = BadInputReport(root=str(index.root), on_bad=on_bad)
    report.notes.extend(index.report.notes)
    utts = list(index.utterances)
    by_session: dict[int, list[IemocapUtterance]] = {}
    for u in utts:
        by_session.setdefault(u.session, []).append(u)
    jobs = _extraction_jobs(index, audio, text, video, n_frames)
    caches, failed = _run_extractors(jobs, by_session, cache_dir, progress, report)
    if failed and on_bad == "raise":
        raise BadInputError(report)
    keep = [u for u in utts if u.utterance not in failed]
    if not keep:
        raise ValueError(f"no utterance left after extraction:\n{report.describe(limit=20)}")
    modalities = {modality: _cached_rows(cache, keep, by_session) for modality, cache in caches.items()}
    frames = modalities.pop("visual_frames")
    modalities["visual"] = frames.reshape(len(keep), n_frames, video.dim).mean(axis=1)
    if keep_frames:
        modalities["visual_frames"] = frames
    record = index.as_record()
    record["extraction"] = report.as_record()
    return IemocapFeatures(
        ids=[u.utterance for u in keep], sessions=np.array([u.session for u in keep], np.int64),
        labels=np.array([u.label for u in keep], np.int64), modalities=modalities, n_frames=int(n_frames),
        frame_dim=int(video.dim),
        extractors={m: {**ext.describe(), "cache": str(caches[m].dir)} for m, ext in
                    (("audio", audio), ("text", text), ("visual_frames", video)) if m in caches},
        record=record, report=report)


#: one extractor's pass: (modality, extractor, settings beyond its own, feature dim, utterance -> feature)
_Job = tuple[str, object, dict, int, Callable[[IemocapUtterance], np.ndarray]]


def _extraction_jobs(index: IemocapIndex, audio, text, video, n_frames: int) -> list[_Job]:
    """What each given extractor computes per utterance (audio, text, then the visual frames)."""
    # one decode of each dialog video for all its utterances (they come sorted by start time); AVI frames
    # are numbered in decoder output order (DivX with B-frames: timestamps are one frame late)
    reader = SequentialFrameReader()

    def wave_of(u: IemocapUtterance) -> np.ndarray:
        wave, rate = read_audio(u.wav)
        return resample(wave, rate, audio.sample_rate)

    def text_of(u: IemocapUtterance) -> str:
        if u.text is None:
            raise ValueError("no transcription")
        return u.text

    def frames_of(u: IemocapUtterance) -> np.ndarray:
        info = index.video_info.get(str(u.avi)) or _probe_avi(u.avi)
        index.video_info[str(u.avi)] = info
        idx = utterance_frame_indices(u.start, u.end, info["fps"], info["n_frames"], n_frames)
        return reader.read(u.avi, idx, size=video.image_size)

    jobs: list[_Job] = []
    if audio is not None:
        jobs.append(("audio", audio, {"resample": "torchaudio.functional.resample", "mono": "mean of channels"},
                     audio.dim, lambda u: audio.embed(wave_of(u))))
    if text is not None:
        jobs.append(("text", text, {"text": "EmoEvaluation-matched transcription line"}, text.dim,
                     lambda u: text.embed(text_of(u))))
    jobs.append(("visual_frames", video,
                 {"n_frames": int(n_frames), "frame_sampling": "centres of n equal parts of [start, end]",
                  "decode": "PyAV"}, n_frames * video.dim, lambda u: video.embed_frames(frames_of(u)).reshape(-1)))
    return jobs


def _run_extractors(jobs: list[_Job], by_session: dict[int, list[IemocapUtterance]], cache_dir, progress: bool,
                    report: BadInputReport) -> tuple[dict[str, FeatureCache], set[str]]:
    """Each job's features of every utterance not cached yet, session by session, into its cache;
    returns the caches by modality and the utterances whose extraction failed (reported)."""
    failed: set[str] = set()
    caches: dict[str, FeatureCache] = {}
    for modality, ext, extra, dim, compute in jobs:
        cache = FeatureCache(cache_dir, ext.name, ext.weights_sha256, {**ext.settings(), **extra}, dim)
        caches[modality] = cache
        if any(cache.missing(f"Session{s}", [u.utterance for u in group]) for s, group in by_session.items()):
            _ = ext.model  # load now: a weights problem is an error of its own, not a failure of every utterance
            if hasattr(ext, "tokenizer"):
                _ = ext.tokenizer
        for s, group in sorted(by_session.items()):
            rep = cache.build(f"Session{s}", [(u.utterance, u) for u in group], compute, progress=progress,
                              catch=(ValueError, OSError), desc=f"{ext.name} Session{s}")
            for utt, reason in rep.failed:
                report.add(utt, f"{modality} extraction failed", reason)
                failed.add(utt)
    return caches, failed


def _cached_rows(cache: FeatureCache, keep: list[IemocapUtterance], by_session: dict) -> np.ndarray:
    """The cached features of the kept utterances, session by session (index order)."""
    parts = []
    for s in sorted(by_session):
        ids = [u.utterance for u in keep if u.session == s]
        if ids:
            parts.append(cache.load(f"Session{s}", ids))
    return np.concatenate(parts)


def load_iemocap(root, cache_dir, *, wav2vec2_dir, bert_dir, densenet_weights, densenet_sha256=None,
                 on_bad: str = "raise", allow_mismatch: bool = False, expected="manifest", n_frames: int = 16,
                 keep_frames: bool = True, progress: bool = True, device="cpu") -> IemocapFeatures:
    """:func:`scan_iemocap` + :func:`extract_iemocap_features` in one call (paths of local weights)."""
    index = scan_iemocap(root, expected=expected, on_bad=on_bad, allow_mismatch=allow_mismatch)
    return extract_iemocap_features(index, cache_dir, audio=wav2vec2_dir, text=bert_dir, video=densenet_weights,
                                    densenet_sha256=densenet_sha256, n_frames=n_frames, keep_frames=keep_frames,
                                    on_bad=on_bad, progress=progress, device=device)
