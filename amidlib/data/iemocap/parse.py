"""IEMOCAP's release tree: label maps, the EmoEvaluation and transcription parsers, and
:func:`scan_iemocap` (the index of usable utterances, with its counts and problems).

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

A transcription line without an EmoEvaluation label is a *note* (that utterance is never used).
**Bad input** (reported by utterance id or file name, with the file): a labelled utterance of the 4 classes without
a transcription line (``no transcription``), a missing / unreadable / empty wav, a missing or corrupt dialog video
(each of its utterances is reported), a window that starts past the end of its video, and anything that fails during
extraction (:mod:`amidlib.data.iemocap.features`). ``on_bad="raise"`` (default) raises one :class:`BadInputError`
listing all of them (before any extraction for what the scan can see); ``on_bad="skip"`` leaves those utterances out
and lists each one in ``index.report`` / ``features.report`` (``as_record()`` for the run's record). A wav whose
sample rate is not 16 kHz is not bad: it is resampled (torchaudio) and recorded as a note. The count check is on
what the tree *holds* (the labelled 4-class utterances); utterances skipped as bad are listed separately in the
report, so neither a partial tree nor a skip goes unrecorded.
"""
from __future__ import annotations

import os
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from amidlib.data.manifests import load_manifest
from amidlib.data.video.decode import probe_video
from amidlib.data.video.inputs import BadInputError, BadInputReport

__all__ = ["CLASS_NAMES", "LABEL_MAP", "DROPPED_LABELS", "SESSIONS", "SETUPS", "ON_BAD", "CountMismatchError",
           "IemocapUtterance", "IemocapIndex", "parse_emo_evaluation", "parse_transcription",
           "utterance_frame_indices", "scan_iemocap"]

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

    def __init__(self, message: str, index: IemocapIndex):
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
    expected = _expected_counts(expected)
    scan = _Scan(root, BadInputReport(root=str(root), on_bad=on_bad))
    labelled = [u for sname in SESSIONS for u in scan.session(sname)]
    labelled.sort(key=lambda u: (u.session, u.dialog, u.start, u.utterance))
    video_info = scan.check_media(labelled, sample_rate) if check_media else {}

    report, excluded = scan.report, scan.excluded
    found = _counts(labelled)
    mismatches = _compare_counts(found, expected) if expected else []
    usable = [u for u in labelled if u.utterance not in scan.bad_utts] if on_bad == "skip" else labelled
    index = IemocapIndex(root=root, utterances=usable, excluded=dict(excluded), excluded_ids=scan.excluded_ids,
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


def _expected_counts(expected: dict | str | None) -> dict | None:
    """``expected`` as counts: ``"manifest"`` → those of ``data_manifests/iemocap.json``."""
    if isinstance(expected, str):
        if expected != "manifest":
            raise ValueError(f"expected must be 'manifest', a dict or None, got {expected!r}")
        expected = {k: _MANIFEST["counts"][k] for k in ("utterances", "per_session", "per_class")}
    return expected


class _Scan:
    """One pass of :func:`scan_iemocap` over a release tree: its report, the utterances found bad, and
    the utterances of other labels (counted by label)."""

    def __init__(self, root: Path, report: BadInputReport):
        self.root, self.report = root, report
        self.bad_utts: set[str] = set()
        self.excluded: Counter = Counter()
        self.excluded_ids: list[str] = []

    def bad(self, utt: str, problem: str, detail: str = "") -> None:
        self.report.add(utt, problem, detail)
        self.bad_utts.add(utt)

    def rel(self, p: Path) -> str:
        """``p`` as reported: relative to the root where it lies under it."""
        try:
            return p.relative_to(self.root).as_posix()
        except ValueError:
            return str(p)

    def session(self, sname: str) -> list[IemocapUtterance]:
        """The labelled utterances of the 4 classes in one session folder (other labels are counted,
        transcriptions without a label noted, problems reported)."""
        snum = int(sname[len("Session"):])
        sdir = self.root / sname
        if not sdir.is_dir():
            self.report.add(sname, "missing session folder", str(sdir))
            return []
        emo_dir, trans_dir = sdir / "dialog" / "EmoEvaluation", sdir / "dialog" / "transcriptions"
        for d in (emo_dir, trans_dir):
            if not d.is_dir():
                self.report.add(self.rel(d), "missing folder")
        labels, texts = self._labels(emo_dir), self._texts(trans_dir)
        for utt, t in texts.items():
            if utt not in labels:
                # never used (only labelled utterances are): a note, not a reason to stop
                self.report.note(utt, "transcription without a label (unused)",
                                 f"line in {t['file']}, no EmoEvaluation line")
        labelled = []
        for utt, lab in labels.items():
            code = lab["label"]
            if code not in LABEL_MAP:
                self.excluded[code] += 1
                self.excluded_ids.append(utt)
                if code not in DROPPED_LABELS:
                    self.report.note(utt, "unknown label excluded", f"{code!r} in {lab['file']}")
                continue
            m = _UTT.match(utt)
            if int(m["session"]) != snum:
                self.bad(utt, "utterance of another session", f"listed in {lab['file']}")
                continue
            dialog = m["dialog"]
            text = texts.get(utt, {}).get("text")
            u = IemocapUtterance(
                utterance=utt, session=snum, dialog=dialog, speaker=m["speaker"], start=lab["start"],
                end=lab["end"], source_label=code, label=LABEL_MAP[code], text=text,
                wav=sdir / "sentences" / "wav" / dialog / f"{utt}.wav",
                avi=sdir / "dialog" / "avi" / "DivX" / f"{dialog}.avi", vad=lab["vad"])
            if text is None:
                self.bad(utt, "no transcription", f"labelled in {lab['file']}, no line in transcriptions/{dialog}.txt")
            labelled.append(u)
        return labelled

    def _labels(self, emo_dir: Path) -> dict[str, dict]:
        """Utterance id → its EmoEvaluation summary line (and file), over a session's EmoEvaluation files."""
        labels: dict[str, dict] = {}
        for f in sorted(p for p in emo_dir.glob("*.txt") if not p.name.startswith(".")) if emo_dir.is_dir() else []:
            rows, unparsed = parse_emo_evaluation(f)
            for n, line in unparsed:
                self.report.add(f"{self.rel(f)}:{n}", "unparseable EmoEvaluation line", line[:100])
            for r in rows:
                if _UTT.match(r["utterance"]) is None:
                    self.report.add(f"{self.rel(f)}", "not an utterance id in an EmoEvaluation line", r["utterance"])
                    continue
                if r["utterance"] in labels:
                    self.bad(r["utterance"], "duplicate EmoEvaluation line",
                             f"{self.rel(f)} and {labels[r['utterance']]['file']}")
                    continue
                labels[r["utterance"]] = {**r, "file": self.rel(f)}
        return labels

    def _texts(self, trans_dir: Path) -> dict[str, dict]:
        """Utterance id → its transcription line (and file), over a session's transcription files."""
        texts: dict[str, dict] = {}
        for f in sorted(p for p in trans_dir.glob("*.txt") if not p.name.startswith(".")) if trans_dir.is_dir() else []:
            rows, other = parse_transcription(f)
            if other:
                self.report.note(self.rel(f), "lines without an utterance id skipped",
                                 f"{len(other)} (e.g. line {other[0][0]})")
            for r in rows:
                texts[r["utterance"]] = {**r, "file": self.rel(f)}
        return texts

    def check_media(self, labelled: list[IemocapUtterance], sample_rate: int) -> dict[str, dict]:
        """Check every utterance's wav (header) and dialog video (opened, first frame decoded, window
        inside it); returns the videos' ``{path: fps, n_frames, duration_s}``."""
        import soundfile as sf

        rel, bad = self.rel, self.bad
        video_info: dict[str, dict] = {}
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
                        self.report.note(u.utterance, "sample rate", f"{rel(u.wav)}: {info.samplerate} Hz, "
                                         f"expected {sample_rate} Hz; resampled at extraction")
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
        return video_info
