"""What goes into a video dataset, and what is wrong with it: the table of videos, the files found for
them, their checks, and the report that names every bad file.

- tables, one row per video: :func:`manifest_table` (a UCF-style manifest), :func:`activitynet_table`
  (ActivityNet v1.3's annotations);
- :class:`VideoItem`: one video of the table and what was found for it (file, frames, fps, audio
  file, feature file, annotated segments);
- :func:`match_files` (step 1 of :func:`amidlib.data.video.datasets.build_video_datasets`): a listed
  video without a file is *bad* ("missing"); a video file the table does not list is a *note* ("extra");
- :func:`check_files` (step 2): each file's container and first frame, audio track or file and its
  rate (:class:`AudioCheck`), CCL-format feature file; headers come from the probe cache while a file
  is unchanged, and videos that failed mid-decode in an earlier run are bad too;
- :class:`BadInputReport` / :class:`BadInputError`: every bad file and every note, raised before any
  extraction or training (``on_bad="raise"``) or recorded with the files left out (``"skip"``).
"""
from __future__ import annotations

import json
import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from amidlib.data.cache import DecodeFailureLog, ProbeCache
from amidlib.data.video.decode import AUDIO_FILE_SUFFIXES, MediaError, VideoDecodeError, VideoInfo, probe_video

__all__ = [
    "VIDEO_SUFFIXES",
    "ON_BAD",
    "BadInput",
    "BadInputReport",
    "BadInputError",
    "VideoItem",
    "manifest_table",
    "activitynet_table",
    "match_files",
    "AudioCheck",
    "check_files",
]

log = logging.getLogger("amidlib.data.video.inputs")

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
        return [(int(math.floor(a * self.fps + 1e-6)), int(math.ceil(b * self.fps - 1e-6))) for a, b in self.segments_s]

    @property
    def name(self) -> str:
        """The file as reported to the user (relative to the video root)."""
        return self.relstem if self.path is None else self.relstem + self.path.suffix


def manifest_table(manifest: str | dict = "ucf51") -> tuple[pd.DataFrame, list[str]]:
    """A UCF-style manifest (``amidlib.data.manifests`` format) as a table for
    :func:`~amidlib.data.video.datasets.build_video_datasets`:
    columns video_id, class_index, split, relstem (``<ClassName>/<video_id>``); plus the class names."""
    from amidlib.data.manifests import class_names, load_manifest, manifest_videos

    m = load_manifest(manifest) if isinstance(manifest, str) else manifest
    df = manifest_videos(m)
    df["relstem"] = df["class_name"] + "/" + df["video_id"]
    return df[["video_id", "class_index", "split", "relstem", "class_name"]], class_names(m)


def activitynet_table(annotations: str | os.PathLike | dict, video_root: str | os.PathLike | None = None,
                      videos_subdir: str = "videos") -> tuple[pd.DataFrame, list[str], list[BadInput]]:
    """ActivityNet v1.3 as a table for :func:`~amidlib.data.video.datasets.build_video_datasets` (see
    ``data_manifests/activitynet.json``).

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



# --------------------------------------------------------------------------- step 1: match the table with the files
def match_files(table: pd.DataFrame, video_root: Path, video_suffixes: Sequence[str], report: BadInputReport,
                report_extra: bool = True) -> list[VideoItem]:
    """One :class:`VideoItem` per row of ``table`` whose file is under ``video_root`` (any suffix of
    ``video_suffixes``); the others are reported "missing", and (``report_extra``) video files the
    table does not list are noted "extra"."""
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
    return items


# --------------------------------------------------------------------------- step 2: check every file
@dataclass(frozen=True)
class AudioCheck:
    """How step 2 checks the audio the auxiliary extractor will read: the video's own track, or a file
    ``<root>/<relstem><suffix>``; a rate not in ``expected_rates`` (default: one below ``target_rate``)
    is noted and resampled, or bad with ``strict``."""

    target_rate: int
    root: str | os.PathLike | None = None
    suffixes: Sequence[str] = AUDIO_FILE_SUFFIXES
    expected_rates: Sequence[int] | None = None
    strict: bool = False


def check_files(items: list[VideoItem], report: BadInputReport, *, video_root: Path, cache_root: Path | None,
                decode_check: bool, audio: AudioCheck | None, ccl: tuple[Path, int] | None,
                progress: bool) -> tuple[list[VideoItem], dict[str, np.ndarray], DecodeFailureLog | None]:
    """Check each item's files; every problem goes to ``report``. Returns the items that passed, the
    CCL-format feature rows by video id (``ccl``: their folder and dimension), and the decode failure
    log of ``video_root`` (None without a ``cache_root``).

    Headers come from the probe cache while the file is unchanged (one probe per file per data root,
    not one per process); a video that failed mid-decode in an earlier run is bad without a look."""
    ccl_rows: dict[str, np.ndarray] = {}
    bad_ids: set[str] = set()
    probes = ProbeCache(cache_root, video_root, {"decode_check": bool(decode_check)}) if cache_root else None
    failure_log = DecodeFailureLog(cache_root, video_root) if cache_root else None
    earlier = failure_log.current({it.name: it.path for it in items}) if failure_log else {}
    for it in tqdm(items, desc="checking videos", unit="video", disable=not progress, leave=False):
        if it.name in earlier:
            report.add(it.name, "corrupt video", f"failed mid-decode in an earlier run ({earlier[it.name]}; "
                       f"recorded in {failure_log.path})")
            bad_ids.add(it.video_id)
            continue
        vinfo = _probe(it, probes, decode_check, report)
        if vinfo is None or (audio is not None and not _audio_ok(it, vinfo, audio, report)):
            bad_ids.add(it.video_id)
            continue
        if ccl is not None:
            row = _ccl_row(it, *ccl, report)
            if row is None:
                bad_ids.add(it.video_id)
                continue
            ccl_rows[it.video_id] = row
    if probes is not None:
        probes.save()
    return [it for it in items if it.video_id not in bad_ids], ccl_rows, failure_log


def _probe(it: VideoItem, probes: ProbeCache | None, decode_check: bool, report: BadInputReport) -> VideoInfo | None:
    """The item's header (the probe cache's while the file is unchanged), its frame count and fps set;
    None when the file is corrupt (reported)."""
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
        return None
    return vinfo


def _audio_ok(it: VideoItem, vinfo: VideoInfo, check: AudioCheck, report: BadInputReport) -> bool:
    """Is the item's audio usable (its file found and readable, or a track in the video; a rate the
    check does not expect only noted, unless strict)? Problems are reported."""
    rate = None
    if check.root is not None:
        it.audio_path = _find_file(Path(check.root), it.relstem, check.suffixes)
        if it.audio_path is None:
            report.add(f"{it.relstem}.wav", "missing audio file", f"looked in {check.root}")
            return False
        try:
            import soundfile as sf

            rate = int(sf.info(str(it.audio_path)).samplerate)
        except Exception as exc:
            report.add(it.audio_path.name, "unreadable audio file", f"{type(exc).__name__}: {exc}")
            return False
        audio_name = str(Path(it.relstem).parent / it.audio_path.name)
    elif not vinfo.has_audio:
        report.add(it.name, "no audio track", "the auxiliary (audio) modality needs one")
        return False
    else:
        rate, audio_name = vinfo.audio_rate, it.name
    target, expected_rates = check.target_rate, check.expected_rates
    unexpected = (rate not in set(expected_rates)) if expected_rates else (rate is not None and rate < target)
    if unexpected:
        want = f"one of {sorted(set(expected_rates))} Hz" if expected_rates else f">= {target} Hz"
        if check.strict:
            report.add(audio_name, "unexpected sample rate", f"{rate} Hz, expected {want} (strict)")
            return False
        report.note(audio_name, "resampled", f"{rate} Hz, expected {want}; resampled to {target} Hz")
        log.warning("%s: sample rate %s Hz, expected %s; resampled to %s Hz", audio_name, rate, want, target)
    return True


def _ccl_row(it: VideoItem, ccl_root: Path, ccl_dim: int, report: BadInputReport) -> np.ndarray | None:
    """The item's CCL-format feature (``<ccl_root>/<relstem>.npy``), or None when it is missing or
    unreadable (reported)."""
    it.feature_path = ccl_root / f"{it.relstem}.npy"
    if not it.feature_path.is_file():
        report.add(f"{it.relstem}.npy", "missing feature file", f"not in {ccl_root}")
        return None
    arr, reason = _read_ccl_feature(it.feature_path, ccl_dim)
    if reason:
        report.add(f"{it.relstem}.npy", "unreadable feature", reason)
        return None
    return arr
