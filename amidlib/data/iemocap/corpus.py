"""IEMOCAP, 4-class emotion recognition (paper §4.1-4.2, Table 3): from the dataset's own folder tree
to leave-one-session-out WA/UA.

    from amidlib.data.iemocap import corpus as iemocap
    index = iemocap.scan_iemocap("/data/IEMOCAP_full_release")        # parse, merge labels, check files and counts
    feats = iemocap.extract_iemocap_features(
        index, "runs/cache/iemocap",
        audio="weights/wav2vec2-base", text="weights/bert-base-uncased",
        video="weights/densenet121-a639ec97.pth", densenet_sha256="...")   # frozen extractors, once, cached
    folds = iemocap.iemocap_folds(feats, setup="AL-V")                 # [(train, test)] x 5, test = one session
    cv = iemocap.cross_validate("amid", feats, setup="AL-V", preset="paper_iemocap")
    cv.wa, cv.ua, cv.per_fold                                           # means over the 5 folds, and each fold

**Tree** (``data_manifests/iemocap.json``, "directory_tree"): under the ``IEMOCAP_full_release`` root,
``Session{1..5}/dialog/EmoEvaluation/<dialog>.txt`` (labels: the summary lines
``[START - END]<TAB><utterance><TAB><label><TAB>[V, A, D]``; evaluator lines ``C-...``/``A-...`` and
headers are not labels), ``Session{n}/dialog/transcriptions/<dialog>.txt`` (``<utterance> [START-END]:
<text>``; lines whose id is not an utterance id, e.g. ``..._MXX0``, are skipped and counted in the
notes), ``Session{n}/sentences/wav/<dialog>/<utterance>.wav`` and ``Session{n}/dialog/avi/DivX/<dialog>.avi``
(one video per dialog; an utterance's frames come from the ``[START, END]`` window of its
EmoEvaluation line). Files starting with ``.`` (macOS ``._*``) are ignored.

**Classes**: neutral (``neu``), happy (``hap`` + ``exc`` merged), angry (``ang``), sad (``sad``). Every
other label (``fru``, ``sur``, ``fea``, ``dis``, ``oth``, ``xxx``, ...) is excluded and counted by label
(:attr:`IemocapIndex.excluded`); a label the manifest does not know is excluded too, with a note.

**Counts** of the 4-class set found in the tree (total, per session, per class) are compared with the
manifest (5,531; Session1..5 = 1085 / 1023 / 1151 / 1031 / 1241; see the manifest for the source of
the per-session numbers). A difference raises :class:`CountMismatchError` listing every difference;
``allow_mismatch=True`` goes on and records them (``index.mismatches``, ``as_record()``). Pass
``expected=`` a dict of the same shape to check against other numbers (the miniature tree does).

**Bad input** (reported by utterance id or file name, with the file): a transcription line without an
EmoEvaluation label (``no label``), a labelled utterance of the 4 classes without a transcription line
(``no transcription``), a missing / unreadable / empty wav, a missing or corrupt dialog video (each
of its utterances is reported), a window that starts past the end of its video, and anything that
fails during extraction. ``on_bad="raise"`` (default) raises one :class:`BadInputError` listing all of
them (before any extraction for what the scan can see); ``on_bad="skip"`` leaves those utterances out
and lists each one in ``index.report`` / ``features.report`` (``as_record()`` for the run's record). A wav
whose sample rate is not 16 kHz is not bad: it is resampled (torchaudio) and recorded as a note.
The count check is on what the tree *holds* (the labelled 4-class utterances); utterances skipped as
bad are listed separately in the report, so neither a partial tree nor a skip goes unrecorded.

**Features** (:func:`extract_iemocap_features`, extractors in :mod:`amidlib.text_audio_extractors`):
audio → wav2vec 2.0 (mean-pooled last hidden state, 16 kHz), text → BERT ([CLS]), video → DenseNet
on ``n_frames`` frames per utterance (frame k at the centre of the k-th of ``n_frames`` equal parts of
the window; 16 by default: the paper does not say), 1024-d per frame. Modalities of
:class:`IemocapFeatures`: ``audio``, ``text``, ``visual`` (the mean of the frame features) and, with
``keep_frames``, ``visual_frames`` (the (T, 1024) sequence flattened to T·1024 columns).
Each frozen extractor runs once per utterance: the results go to an
:class:`amidlib.feature_cache.FeatureCache` under ``cache_dir`` (one folder per extractor, keyed by its
name, the sha256 of its weight files and every preprocessing setting; one memmapped ``.npy`` per
session; atomic writes; tqdm progress with count and ETA). A second call reads the cache: no audio or
video is decoded and no model is even loaded. The cache is keyed by utterance id, not by the data
files' contents: after changing a data file, delete its extractor's cache folder.

**Students**: with pooled per-utterance features (``visual``) the standard path applies:
``experiment.run(method, train, test)`` with the MLP student of :mod:`amidlib.models`. The paper's
student is an RNN over the frame features (§4.2, "RNN is adopted as the student network with a final
feature dimension of 768"): :class:`FrameGRU` (a GRU over the fixed ``T`` frames, last hidden state →
768), used by :func:`run_rnn_student` / ``cross_validate(student="rnn")`` on ``visual_frames``.

**Setups** (Table 3): ``A-V`` (auxiliary audio), ``L-V`` (text), ``AL-V`` (audio + text); the target is
always the visual modality. WA (overall accuracy) and UA (mean per-class recall) are averaged over the
5 leave-one-session-out folds (:func:`iemocap_folds`).

:func:`amidlib.testing.iemocap.make_mini_iemocap` writes a miniature tree in the same formats (5 sessions, a dialog each, 16 kHz
wavs, small MPEG-4 ``.avi`` files, transcriptions and EmoEvaluation files with excluded labels) for the
tests and for trying the pipeline without the licensed data.
"""
from __future__ import annotations

import json
import math
import os
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
import torch
from torch import nn

from amidlib.data.arrays import MultimodalArrays
from amidlib.data.cache import FeatureCache, atomic_write_json
from amidlib.data.manifests import load_manifest
from amidlib.data.video.datasets import BadInputError, BadInputReport

__all__ = [
    "CLASS_NAMES",
    "LABEL_MAP",
    "SETUPS",
    "CountMismatchError",
    "IemocapUtterance",
    "IemocapIndex",
    "IemocapFeatures",
    "CrossValidation",
    "parse_emo_evaluation",
    "parse_transcription",
    "utterance_frame_indices",
    "scan_iemocap",
    "extract_iemocap_features",
    "load_iemocap",
    "iemocap_folds",
    "FrameGRU",
    "build_rnn_nets",
    "run_rnn_student",
    "cross_validate",
]

_MANIFEST = load_manifest("iemocap")
#: Class names in index order (neutral, happy, angry, sad).
CLASS_NAMES: list[str] = [c["name"] for c in sorted(_MANIFEST["classes"], key=lambda c: c["index"])]
#: IEMOCAP label code → class index (``hap`` and ``exc`` both → happy).
LABEL_MAP: dict[str, int] = {code: c["index"] for c in _MANIFEST["classes"] for code in c["source_labels"]}
DROPPED_LABELS: tuple[str, ...] = tuple(_MANIFEST["dropped_labels"])
SESSIONS: tuple[str, ...] = tuple(_MANIFEST["sessions"])
#: Table 3's setups: auxiliary modalities (the target is the visual modality).
SETUPS: dict[str, list[str]] = {"A-V": ["audio"], "L-V": ["text"], "AL-V": ["audio", "text"]}
ON_BAD = ("raise", "skip")

_UTT = re.compile(r"^(?P<dialog>Ses0(?P<session>\d)[FM]_\w+?)_(?P<speaker>[FM])(?P<num>\d{3})$")
_EMO = re.compile(r"^\[\s*(?P<start>\d+(?:\.\d*)?)\s*-\s*(?P<end>\d+(?:\.\d*)?)\s*\]\s+(?P<utt>\S+)\s+"
                  r"(?P<label>\S+)\s+\[(?P<vad>[^\]]*)\]")
_TRANS = re.compile(r"^(?P<utt>\S+)\s+\[(?P<start>\d+(?:\.\d*)?)\s*-\s*(?P<end>\d+(?:\.\d*)?)\]:\s?(?P<text>.*)$")


class CountMismatchError(ValueError):
    """The utterance counts of the tree differ from the manifest (``.index`` holds what was found)."""

    def __init__(self, message: str, index: "IemocapIndex"):
        self.index = index
        super().__init__(message)


# --------------------------------------------------------------------------- parsing
def _lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def parse_emo_evaluation(path: str | os.PathLike) -> tuple[list[dict], list[tuple[int, str]]]:
    """The summary lines of one EmoEvaluation file.

    Returns ``(rows, unparsed)``: rows ``{"utterance", "start", "end", "label", "vad"}`` in file order,
    and ``(line number, line)`` of lines that start with ``[`` but do not parse. Other lines
    (header ``%``, evaluator ``C-E1:``/``A-E1:``, blank) are not labels and are ignored.
    """
    rows, unparsed = [], []
    for n, line in enumerate(_lines(Path(path)), start=1):
        if not line.startswith("["):
            continue
        m = _EMO.match(line)
        if m is None:
            unparsed.append((n, line.strip()))
            continue
        vad = tuple(float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", m["vad"]))
        rows.append({"utterance": m["utt"], "start": float(m["start"]), "end": float(m["end"]),
                     "label": m["label"].strip().lower(), "vad": vad})
    return rows, unparsed


def parse_transcription(path: str | os.PathLike) -> tuple[list[dict], list[tuple[int, str]]]:
    """The lines of one transcription file.

    Returns ``(rows, other)``: rows ``{"utterance", "start", "end", "text"}`` for lines whose id is an
    utterance id (``<dialog>_<F|M><NNN>``), and ``(line number, line)`` for every other non-blank line
    (ids such as ``..._MXX0``, or lines without the ``[START-END]:`` part): those are skipped.
    """
    rows, other = [], []
    for n, line in enumerate(_lines(Path(path)), start=1):
        if not line.strip():
            continue
        m = _TRANS.match(line.strip())
        if m is None or _UTT.match(m["utt"]) is None:
            other.append((n, line.strip()))
            continue
        rows.append({"utterance": m["utt"], "start": float(m["start"]), "end": float(m["end"]),
                     "text": m["text"].strip()})
    return rows, other


def utterance_frame_indices(start: float, end: float, fps: float, n_video_frames: int, n: int) -> np.ndarray:
    """Frame numbers of ``n`` frames of the window [start, end] s: frame k is the one shown at the
    centre of the k-th of n equal parts (frames repeat when the window has fewer than n), clipped to
    the video's last frame."""
    if n < 1 or fps <= 0 or n_video_frames < 1:
        raise ValueError(f"need n >= 1, fps > 0 and a non-empty video, got n={n}, fps={fps}, frames={n_video_frames}")
    end = max(float(end), float(start))
    t = float(start) + (np.arange(n) + 0.5) * (end - float(start)) / n
    return np.clip(np.floor(t * fps).astype(np.int64), 0, n_video_frames - 1)


# --------------------------------------------------------------------------- the index
@dataclass
class IemocapUtterance:
    """One labelled utterance of the 4-class set."""

    utterance: str
    session: int
    dialog: str
    speaker: str
    start: float
    end: float
    source_label: str
    label: int
    text: str | None
    wav: Path
    avi: Path
    vad: tuple = ()


@dataclass
class IemocapIndex:
    """What :func:`scan_iemocap` found: the usable utterances, exclusions, counts, problems."""

    root: Path
    utterances: list[IemocapUtterance]
    excluded: dict[str, int]
    excluded_ids: list[str]
    found: dict[str, Any]
    expected: dict[str, Any] | None
    mismatches: list[str]
    allow_mismatch: bool
    report: BadInputReport
    video_info: dict[str, dict] = field(default_factory=dict)  # avi path -> fps, n_frames, duration_s
    class_names: list[str] = field(default_factory=lambda: list(CLASS_NAMES))

    def __len__(self) -> int:
        return len(self.utterances)

    def table(self) -> pd.DataFrame:
        """One row per usable utterance."""
        rows = [{"utterance": u.utterance, "session": u.session, "dialog": u.dialog, "speaker": u.speaker,
                 "start": u.start, "end": u.end, "source_label": u.source_label, "label": u.label,
                 "class_name": self.class_names[u.label], "text": u.text} for u in self.utterances]
        return pd.DataFrame(rows)

    def counts(self) -> dict[str, Any]:
        """Counts of the usable utterances (after any skip)."""
        return _counts(self.utterances)

    def summary(self) -> str:
        c = self.counts()
        excl = ", ".join(f"{k} {v}" for k, v in sorted(self.excluded.items())) or "none"
        lines = [
            f"IEMOCAP under {self.root}: {self.found['utterances']} labelled utterances of the 4 classes, "
            f"{c['utterances']} usable",
            "  per session: " + ", ".join(f"{k} {v}" for k, v in c["per_session"].items()),
            "  per class: " + ", ".join(f"{k} {v}" for k, v in c["per_class"].items()),
            f"  excluded labels: {excl} ({sum(self.excluded.values())} utterances)",
            f"  bad inputs: {len(self.report.bad)} ({self.report.on_bad}), notes: {len(self.report.notes)}",
        ]
        if self.mismatches:
            lines.append("  differences from the expected counts (allowed): " + "; ".join(self.mismatches))
        return "\n".join(lines)

    def as_record(self) -> dict:
        """JSON-ready record for a run: counts, exclusions, mismatches, bad inputs and notes."""
        return {"root": str(self.root), "found": self.found, "usable": self.counts(), "expected": self.expected,
                "excluded": dict(self.excluded), "mismatches": list(self.mismatches),
                "allow_mismatch": self.allow_mismatch, "bad_inputs": self.report.as_record()}


def _counts(utts: Sequence[IemocapUtterance]) -> dict[str, Any]:
    per_session = Counter(f"Session{u.session}" for u in utts)
    per_class = Counter(CLASS_NAMES[u.label] for u in utts)
    return {"utterances": len(utts),
            "per_session": {s: per_session.get(s, 0) for s in SESSIONS},
            "per_class": {c: per_class.get(c, 0) for c in CLASS_NAMES}}


def _compare_counts(found: dict, expected: dict) -> list[str]:
    out = []
    if "utterances" in expected and int(expected["utterances"]) != found["utterances"]:
        out.append(f"total: expected {expected['utterances']}, found {found['utterances']}")
    for key in ("per_session", "per_class"):
        for name, want in (expected.get(key) or {}).items():
            got = found[key].get(name, 0)
            if int(want) != got:
                out.append(f"{name}: expected {want}, found {got}")
    return out


def _probe_avi(path: Path) -> dict:
    from amidlib.data.video.decode import probe_video

    info = probe_video(path, decode_check=True)
    return {"fps": float(info.fps), "n_frames": int(info.n_frames), "duration_s": float(info.duration_s)}


def scan_iemocap(
    root: str | os.PathLike,
    *,
    expected: dict | str | None = "manifest",
    on_bad: str = "raise",
    allow_mismatch: bool = False,
    check_media: bool = True,
    sample_rate: int = 16000,
) -> IemocapIndex:
    """Parse the IEMOCAP tree under ``root``, merge labels, check the files and the counts.

    ``expected``: ``"manifest"`` (the counts of ``data_manifests/iemocap.json``), a dict with any of
    ``utterances`` / ``per_session`` / ``per_class``, or None (no count check).
    ``on_bad``: ``"raise"`` or ``"skip"`` (see the module doc). ``allow_mismatch``: go on when the
    counts differ (the differences are recorded). ``check_media``: check every wav's header and open
    and decode the first frame of every dialog video (off: only the text files are read).
    ``sample_rate``: the rate the audio extractor expects (16 kHz for wav2vec 2.0); other rates are
    noted and resampled at extraction.
    """
    if on_bad not in ON_BAD:
        raise ValueError(f"on_bad must be one of {ON_BAD}, got {on_bad!r}")
    root = Path(root).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(
            f"IEMOCAP root {root} does not exist: pass the IEMOCAP_full_release folder (it holds Session1 ... "
            "Session5; the data are licensed by USC SAIL and not shipped with amid-repro)")
    if isinstance(expected, str):
        if expected != "manifest":
            raise ValueError(f"expected must be 'manifest', a dict or None, got {expected!r}")
        expected = {k: _MANIFEST["counts"][k] for k in ("utterances", "per_session", "per_class")}
    report = BadInputReport(root=str(root), on_bad=on_bad)
    labelled: list[IemocapUtterance] = []
    excluded: Counter = Counter()
    excluded_ids: list[str] = []
    bad_utts: set[str] = set()

    def bad(utt: str, problem: str, detail: str = "") -> None:
        report.add(utt, problem, detail)
        bad_utts.add(utt)

    def rel(p: Path) -> str:
        try:
            return p.relative_to(root).as_posix()
        except ValueError:
            return str(p)

    for sname in SESSIONS:
        snum = int(sname[len("Session"):])
        sdir = root / sname
        if not sdir.is_dir():
            report.add(sname, "missing session folder", str(sdir))
            continue
        emo_dir, trans_dir = sdir / "dialog" / "EmoEvaluation", sdir / "dialog" / "transcriptions"
        for d in (emo_dir, trans_dir):
            if not d.is_dir():
                report.add(rel(d), "missing folder")
        labels: dict[str, dict] = {}
        for f in sorted(p for p in emo_dir.glob("*.txt") if not p.name.startswith(".")) if emo_dir.is_dir() else []:
            rows, unparsed = parse_emo_evaluation(f)
            for n, line in unparsed:
                report.add(f"{rel(f)}:{n}", "unparseable EmoEvaluation line", line[:100])
            for r in rows:
                if _UTT.match(r["utterance"]) is None:
                    report.add(f"{rel(f)}", "not an utterance id in an EmoEvaluation line", r["utterance"])
                    continue
                if r["utterance"] in labels:
                    bad(r["utterance"], "duplicate EmoEvaluation line", f"{rel(f)} and {labels[r['utterance']]['file']}")
                    continue
                labels[r["utterance"]] = {**r, "file": rel(f)}
        texts: dict[str, dict] = {}
        for f in sorted(p for p in trans_dir.glob("*.txt") if not p.name.startswith(".")) if trans_dir.is_dir() else []:
            rows, other = parse_transcription(f)
            if other:
                report.note(rel(f), "lines without an utterance id skipped", f"{len(other)} (e.g. line {other[0][0]})")
            for r in rows:
                texts[r["utterance"]] = {**r, "file": rel(f)}
        for utt, t in texts.items():
            if utt not in labels:
                bad(utt, "no label", f"transcription line in {t['file']}, but no EmoEvaluation line")
        for utt, lab in labels.items():
            code = lab["label"]
            if code not in LABEL_MAP:
                excluded[code] += 1
                excluded_ids.append(utt)
                if code not in DROPPED_LABELS:
                    report.note(utt, "unknown label excluded", f"{code!r} in {lab['file']}")
                continue
            m = _UTT.match(utt)
            if int(m["session"]) != snum:
                bad(utt, "utterance of another session", f"listed in {lab['file']}")
                continue
            dialog = m["dialog"]
            text = texts.get(utt, {}).get("text")
            u = IemocapUtterance(
                utterance=utt, session=snum, dialog=dialog, speaker=m["speaker"], start=lab["start"],
                end=lab["end"], source_label=code, label=LABEL_MAP[code], text=text,
                wav=sdir / "sentences" / "wav" / dialog / f"{utt}.wav",
                avi=sdir / "dialog" / "avi" / "DivX" / f"{dialog}.avi", vad=lab["vad"])
            if text is None:
                bad(utt, "no transcription", f"labelled in {lab['file']}, no line in transcriptions/{dialog}.txt")
            labelled.append(u)

    labelled.sort(key=lambda u: (u.session, u.dialog, u.start, u.utterance))
    video_info: dict[str, dict] = {}
    if check_media:
        import soundfile as sf

        avi_problem: dict[str, tuple[str, str] | None] = {}
        for u in labelled:
            if not u.wav.is_file():
                bad(u.utterance, "missing wav", rel(u.wav))
            else:
                try:
                    info = sf.info(str(u.wav))
                except Exception as exc:  # soundfile.LibsndfileError, RuntimeError, ...
                    bad(u.utterance, "unreadable wav", f"{rel(u.wav)}: {type(exc).__name__}: {exc}")
                else:
                    if info.frames <= 0:
                        bad(u.utterance, "empty wav", rel(u.wav))
                    elif int(info.samplerate) != int(sample_rate):
                        report.note(u.utterance, "sample rate",
                                    f"{rel(u.wav)}: {info.samplerate} Hz, expected {sample_rate} Hz; resampled at extraction")
            key = str(u.avi)
            if key not in avi_problem:
                if not u.avi.is_file():
                    avi_problem[key] = ("missing video", rel(u.avi))
                else:
                    try:
                        video_info[key] = _probe_avi(u.avi)
                        avi_problem[key] = None
                    except ValueError as exc:  # VideoDecodeError
                        avi_problem[key] = ("corrupt video", f"{rel(u.avi)}: {getattr(exc, 'reason', exc)}")
            if avi_problem[key] is not None:
                bad(u.utterance, *avi_problem[key])
            elif u.start >= video_info[key]["duration_s"] + 1.0 / video_info[key]["fps"]:
                bad(u.utterance, "window past the end of the video",
                    f"[{u.start}, {u.end}] s, {rel(u.avi)} lasts {video_info[key]['duration_s']:.2f} s")

    found = _counts(labelled)
    mismatches = _compare_counts(found, expected) if expected else []
    usable = [u for u in labelled if u.utterance not in bad_utts] if on_bad == "skip" else labelled
    index = IemocapIndex(root=root, utterances=usable, excluded=dict(excluded), excluded_ids=excluded_ids,
                         found=found, expected=expected, mismatches=mismatches, allow_mismatch=allow_mismatch,
                         report=report, video_info=video_info)
    if report.bad and on_bad == "raise":
        for line in mismatches:
            report.note("counts", "differs from the expected counts", line)
        raise BadInputError(report)
    if mismatches and not allow_mismatch:
        excl = ", ".join(f"{k} {v}" for k, v in sorted(excluded.items())) or "none"
        raise CountMismatchError(
            f"IEMOCAP under {root}: the 4-class utterance counts differ from the expected ones "
            f"(data_manifests/iemocap.json unless expected= was given):\n  " + "\n  ".join(mismatches)
            + f"\n(excluded labels: {excl}.) Check that the tree is complete (IEMOCAP_full_release, Session1-5). "
            "To go on anyway, pass allow_mismatch=True: the differences are then recorded in index.mismatches "
            "and in the run's record.", index)
    if not usable:
        raise ValueError(f"no usable IEMOCAP utterance under {root}:\n{report.describe(limit=20)}")
    return index


# --------------------------------------------------------------------------- features
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
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, sessions=self.sessions, labels=self.labels,
                         meta=np.array(json.dumps(meta, default=str)),
                         **{f"modality_{k}": v for k, v in self.modalities.items()})
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> "IemocapFeatures":
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

    ``audio`` / ``text`` / ``video``: an extractor of :mod:`amidlib.text_audio_extractors`, or the
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
    from amidlib.data.video.decode import read_audio, read_frames, resample

    report = BadInputReport(root=str(index.root), on_bad=on_bad)
    report.notes.extend(index.report.notes)
    utts = list(index.utterances)
    by_session: dict[int, list[IemocapUtterance]] = {}
    for u in utts:
        by_session.setdefault(u.session, []).append(u)
    failed: set[str] = set()
    caches: dict[str, FeatureCache] = {}

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
        return read_frames(u.avi, idx, size=video.image_size)

    jobs = []
    if audio is not None:
        jobs.append(("audio", audio, {"resample": "torchaudio.functional.resample", "mono": "mean of channels"},
                     audio.dim, lambda u: audio.embed(wave_of(u))))
    if text is not None:
        jobs.append(("text", text, {"text": "EmoEvaluation-matched transcription line"}, text.dim,
                     lambda u: text.embed(text_of(u))))
    jobs.append(("visual_frames", video,
                 {"n_frames": int(n_frames), "frame_sampling": "centres of n equal parts of [start, end]",
                  "decode": "PyAV"}, n_frames * video.dim, lambda u: video.embed_frames(frames_of(u)).reshape(-1)))

    for modality, ext, extra, dim, compute in jobs:
        cache = FeatureCache(cache_dir, ext.name, ext.weights_sha256, {**ext.settings(), **extra}, dim)
        caches[modality] = cache
        if any(cache.missing(f"Session{s}", [u.utterance for u in group]) for s, group in by_session.items()):
            ext.model  # load now: a weights problem is an error of its own, not a failure of every utterance
            if hasattr(ext, "tokenizer"):
                ext.tokenizer
        for s, group in sorted(by_session.items()):
            rep = cache.build(f"Session{s}", [(u.utterance, u) for u in group], compute, progress=progress,
                              catch=(ValueError, OSError), desc=f"{ext.name} Session{s}")
            for utt, reason in rep.failed:
                report.add(utt, f"{modality} extraction failed", reason)
                failed.add(utt)
    if failed and on_bad == "raise":
        raise BadInputError(report)
    keep = [u for u in utts if u.utterance not in failed]
    if not keep:
        raise ValueError(f"no utterance left after extraction:\n{report.describe(limit=20)}")
    modalities: dict[str, np.ndarray] = {}
    for modality, cache in caches.items():
        parts = []
        for s in sorted(by_session):
            ids = [u.utterance for u in keep if u.session == s]
            if ids:
                parts.append(cache.load(f"Session{s}", ids))
        modalities[modality] = np.concatenate(parts)
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


def load_iemocap(root, cache_dir, *, wav2vec2_dir, bert_dir, densenet_weights, densenet_sha256=None,
                 on_bad: str = "raise", allow_mismatch: bool = False, expected="manifest", n_frames: int = 16,
                 keep_frames: bool = True, progress: bool = True, device="cpu") -> IemocapFeatures:
    """:func:`scan_iemocap` + :func:`extract_iemocap_features` in one call (paths of local weights)."""
    index = scan_iemocap(root, expected=expected, on_bad=on_bad, allow_mismatch=allow_mismatch)
    return extract_iemocap_features(index, cache_dir, audio=wav2vec2_dir, text=bert_dir, video=densenet_weights,
                                    densenet_sha256=densenet_sha256, n_frames=n_frames, keep_frames=keep_frames,
                                    on_bad=on_bad, progress=progress, device=device)


# --------------------------------------------------------------------------- folds
def iemocap_folds(features: IemocapFeatures, setup: str = "AL-V", student: str = "pooled"
                  ) -> list[tuple[MultimodalArrays, MultimodalArrays]]:
    """Leave-one-session-out: fold k tests on Session k and trains on the other four (manifest order)."""
    ds = features.dataset(setup, student)
    sessions = np.asarray(features.sessions)
    folds = []
    for fold in _MANIFEST["folds"]:
        k = int(fold["test"][len("Session"):])
        test_mask = sessions == k
        if not test_mask.any() or test_mask.all():
            raise ValueError(f"fold {fold['fold']}: Session{k} has {int(test_mask.sum())} of {len(sessions)} "
                             "utterances; leave-one-session-out needs every session present")
        train, test = ds.subset(~test_mask), ds.subset(test_mask)
        train.name, test.name = (f"iemocap {setup} fold {fold['fold']} train (not Session{k})",
                                 f"iemocap {setup} fold {fold['fold']} test (Session{k})")
        folds.append((train, test))
    return folds


# --------------------------------------------------------------------------- RNN student
class FrameGRU(nn.Module):
    """The paper's IEMOCAP student: a GRU over the per-frame DenseNet features → representation (dim).

    Input: ``(B, T, frame_dim)`` or the flattened ``(B, T·frame_dim)`` rows of ``visual_frames`` (T is
    fixed: every utterance is sampled to the same ``n_frames``, so no padding is needed), optionally
    with ``lengths`` (B,) for padded sequences. Output: LeakyReLU(Linear(last hidden state)) of size
    ``dim`` (768 in the paper); with ``bidirectional`` the two directions' last states are concatenated.
    """

    def __init__(self, frame_dim: int = 1024, n_frames: int = 16, dim: int = 768, hidden: int | None = None,
                 num_layers: int = 1, bidirectional: bool = False, dropout: float = 0.0):
        super().__init__()
        from amidlib.core.models import NEG_SLOPE

        self.frame_dim, self.n_frames, self.dim = int(frame_dim), int(n_frames), int(dim)
        hidden = int(hidden or dim)
        self.input_dropout = nn.Dropout(dropout) if dropout else nn.Identity()
        self.gru = nn.GRU(frame_dim, hidden, num_layers=num_layers, batch_first=True, bidirectional=bidirectional,
                          dropout=dropout if num_layers > 1 else 0.0)
        self.proj = nn.Linear(hidden * (2 if bidirectional else 1), dim)
        self.act = nn.LeakyReLU(NEG_SLOPE)

    def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> torch.Tensor:
        if x.dim() == 2:
            if x.shape[1] != self.n_frames * self.frame_dim:
                raise ValueError(f"FrameGRU expects {self.n_frames}x{self.frame_dim} = "
                                 f"{self.n_frames * self.frame_dim} columns, got {x.shape[1]}")
            x = x.view(x.shape[0], self.n_frames, self.frame_dim)
        x = self.input_dropout(x)
        if lengths is not None:
            x = nn.utils.rnn.pack_padded_sequence(x, torch.as_tensor(lengths).cpu(), batch_first=True,
                                                  enforce_sorted=False)
        _, h = self.gru(x)  # (layers * directions, B, hidden)
        last = torch.cat([h[-2], h[-1]], dim=1) if self.gru.bidirectional else h[-1]
        return self.act(self.proj(last))


def build_rnn_nets(n_frames: int, frame_dim: int, aux_dim: int, n_classes: int, dim: int = 768,
                   hidden: int = 256, dropout: float = 0.0, rnn_hidden: int | None = None):
    """:class:`~amidlib.models.CrossModalNets` with :class:`FrameGRU` as the student's extractor
    (the teacher head sees its output, §4.2) and the identity as the frozen auxiliary extractor
    (the auxiliary features are the cached wav2vec 2.0 / BERT vectors)."""
    from amidlib.core.models import CrossModalNets

    return CrossModalNets(
        target_extractor=FrameGRU(frame_dim, n_frames, dim, hidden=rnn_hidden, dropout=dropout),
        aux_extractor=nn.Identity(), target_feat_dim=dim, aux_feat_dim=aux_dim, dim=dim,
        n_classes=n_classes, teacher_hidden=hidden)


def run_rnn_student(method: str, train_ds: MultimodalArrays, test_ds: MultimodalArrays, seed: int = 0,
                    preset: str | None = "embedded", *, n_frames: int, frame_dim: int, rnn_hidden: int | None = None,
                    **overrides):
    """``experiment.run`` with the :class:`FrameGRU` student (target = ``visual_frames``).

    :func:`amidlib.experiment.run` with a ``nets_factory``: same config, training loop and metrics;
    only the networks differ. ``fixed_teacher`` is not supported here.
    """
    from amidlib.core.experiment import run

    if overrides.get("fixed_teacher"):
        raise ValueError("run_rnn_student does not support fixed_teacher")
    if train_ds.target_dim != n_frames * frame_dim:
        raise ValueError(f"target has {train_ds.target_dim} columns, expected n_frames*frame_dim = {n_frames * frame_dim}")

    def gru_nets(ds, n_classes, cfg):
        return build_rnn_nets(n_frames, frame_dim, ds.aux_dim, n_classes, cfg.dim, cfg.hidden, cfg.dropout, rnn_hidden)

    return run(method, train_ds, test_ds, seed=seed, preset=preset, nets_factory=gru_nets,
               record_extra={"student": "FrameGRU", "n_frames": n_frames, "frame_dim": frame_dim,
                             "rnn_hidden": rnn_hidden}, **overrides)


# --------------------------------------------------------------------------- cross-validation
@dataclass
class CrossValidation:
    """WA/UA of one method and setup over the 5 leave-one-session-out folds."""

    method: str
    setup: str
    student: str
    per_fold: pd.DataFrame          # fold, test_session, n_train, n_test, wa, ua, teacher_top1
    results: list = field(default_factory=list)   # the experiment.Result of each fold

    @property
    def wa(self) -> float:
        return float(self.per_fold["wa"].mean())

    @property
    def ua(self) -> float:
        return float(self.per_fold["ua"].mean())


def cross_validate(method: str, features: IemocapFeatures, setup: str = "AL-V", *, student: str = "pooled",
                   seed: int = 0, preset: str | None = "embedded", rnn_hidden: int | None = None,
                   **overrides) -> CrossValidation:
    """Train and test ``method`` on each of the 5 folds; WA/UA are the means over the folds (Table 3).

    ``student="pooled"``: :func:`amidlib.experiment.run` on the frame-averaged DenseNet features (MLP
    student). ``student="rnn"``: :func:`run_rnn_student` on the frame sequences (the paper's GRU).
    """
    from amidlib.core.experiment import run

    rows, results = [], []
    for k, (train, test) in enumerate(iemocap_folds(features, setup, student), start=1):
        if student == "rnn":
            res = run_rnn_student(method, train, test, seed, preset, n_frames=features.n_frames,
                                  frame_dim=features.frame_dim, rnn_hidden=rnn_hidden, **overrides)
        else:
            res = run(method, train, test, seed, preset, **overrides)
        res.config["data_record"] = features.record  # what was excluded, skipped, resampled, mismatched
        results.append(res)
        rows.append({"fold": k, "test_session": f"Session{k}", "n_train": len(train), "n_test": len(test),
                     "wa": res.metrics["wa"], "ua": res.metrics["ua"],
                     "teacher_top1": res.metrics.get("teacher_top1", math.nan)})
    return CrossValidation(method, setup, student, pd.DataFrame(rows), results)
