"""A miniature IEMOCAP tree in the release's folders and file formats, for the tests and for trying
the pipeline without the licensed data (:func:`make_mini_iemocap`), and a BERT vocabulary that covers
its words (:func:`mini_vocab`)."""
from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import soundfile as sf

from amidlib.data.av_tier import write_av_clip
from amidlib.data.cache import atomic_write_json
from amidlib.data.iemocap.parse import CLASS_NAMES, LABEL_MAP, SESSIONS

__all__ = ["make_mini_iemocap", "mini_vocab"]

_KEPT_CYCLE = ("neu", "hap", "ang", "sad", "exc")
_WORDS = {
    "neu": ["okay", "i", "see", "well", "right"],
    "hap": ["great", "happy", "fun", "love", "nice"],
    "exc": ["wow", "amazing", "yes", "wonderful", "great"],
    "ang": ["stop", "angry", "no", "hate", "enough"],
    "sad": ["sorry", "sad", "miss", "alone", "cry"],
    "fru": ["ugh", "again", "why"],
    "xxx": ["hmm", "maybe", "so"],
    "sur": ["what", "really", "oh"],
}
_COLOURS = {0: (120, 120, 120), 1: (230, 200, 40), 2: (220, 40, 40), 3: (40, 60, 220)}
_TONES = {0: 300.0, 1: 600.0, 2: 900.0, 3: 200.0}
_SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def mini_vocab() -> list[str]:
    """A BERT vocabulary covering every word :func:`make_mini_iemocap` writes (special tokens first)."""
    words = sorted({w for ws in _WORDS.values() for w in ws} | {"[", "]", "laughter"})
    return _SPECIAL + words + [".", ",", "!", "?"]


def make_mini_iemocap(
    root: str | os.PathLike,
    utterances_per_session: int = 6,
    excluded_per_session: int = 2,
    *,
    seconds: float = 0.6,
    gap: float = 0.2,
    fps: int = 10,
    size: tuple[int, int] = (48, 64),
    sample_rate: int = 16000,
    excluded_labels: Sequence[str] = ("fru", "xxx", "sur"),
    seed: int = 0,
) -> dict:
    """Write a miniature IEMOCAP tree under ``root`` (same folders and file formats) and return its facts.

    Each of the 5 sessions has one dialog ``Ses0<n>F_impro01`` with ``utterances_per_session``
    utterances of the 4 classes (labels cycle through neu, hap, ang, sad, exc, so every session has
    every class once it has >= 5) and ``excluded_per_session`` with excluded labels (``fru``, ``xxx``,
    ``sur``, ...); speakers alternate F/M. Per utterance: a 16 kHz mono wav (a class tone + noise), a
    transcription line (class words), an EmoEvaluation block (summary line + evaluator lines). Per
    dialog: an MPEG-4 ``.avi`` whose frames show a class colour during each utterance's window. Each
    transcription also has a non-utterance line (``..._MXX0``), which the parser skips.

    Returns ``{"root", "counts": {"utterances", "per_session", "per_class"}, "excluded": {label: n},
    "utterances": [{"utterance", "session", "source_label", "label", "start", "end", "text"}]}``;
    ``counts`` is in the form :func:`scan_iemocap`'s ``expected`` takes.
    """
    if utterances_per_session < 1 or excluded_per_session < 0:
        raise ValueError("need utterances_per_session >= 1 and excluded_per_session >= 0")
    if size[0] % 2 or size[1] % 2:
        raise ValueError(f"size must be even, got {size}")
    root = Path(root).expanduser()
    rng = np.random.default_rng(seed)
    all_utts: list[dict] = []
    for s in range(1, 6):
        all_utts += _write_session(root, s, rng, utterances_per_session, excluded_per_session, excluded_labels,
                                   seconds=seconds, gap=gap, fps=fps, size=size, sample_rate=sample_rate)
    excluded = Counter(u["source_label"] for u in all_utts if u["label"] < 0)
    kept = [u for u in all_utts if u["label"] >= 0]
    per_session = Counter(f"Session{u['session']}" for u in kept)
    per_class = Counter(CLASS_NAMES[u["label"]] for u in kept)
    info = {
        "root": str(root),
        "counts": {"utterances": len(kept), "per_session": {s: per_session.get(s, 0) for s in SESSIONS},
                   "per_class": {c: per_class.get(c, 0) for c in CLASS_NAMES}},
        "excluded": dict(excluded),
        "utterances": all_utts,
    }
    atomic_write_json(root / "mini_iemocap.json", info)
    return info


def _write_session(root: Path, s: int, rng: np.random.Generator, utterances_per_session: int,
                   excluded_per_session: int, excluded_labels: Sequence[str], *, seconds: float, gap: float,
                   fps: int, size: tuple[int, int], sample_rate: int) -> list[dict]:
    """Session ``s``'s dialog: its wavs, EmoEvaluation and transcription files and its video; returns
    its utterances (``label`` -1 for an excluded one). Draws from ``rng`` in file order."""
    sdir = root / f"Session{s}"
    dialog = f"Ses0{s}F_impro01"
    labels = [_KEPT_CYCLE[(i + s) % len(_KEPT_CYCLE)] for i in range(utterances_per_session)]
    for e in range(excluded_per_session):
        labels.insert(min(len(labels), 2 + 3 * e), excluded_labels[(e + s) % len(excluded_labels)])
    t = gap
    spk_count = {"F": 0, "M": 0}
    emo = ["% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]", ""]
    trans = []
    utts = []
    for j, code in enumerate(labels):
        spk = "F" if j % 2 == 0 else "M"
        utt = f"{dialog}_{spk}{spk_count[spk]:03d}"
        spk_count[spk] += 1
        start, end = round(t, 4), round(t + seconds, 4)
        t = end + gap
        words = rng.choice(_WORDS[code], size=3)
        text = " ".join(words).capitalize() + rng.choice([".", "!", "?"])
        v, a, d = (float(x) for x in rng.integers(1, 6, size=3))
        emo += [f"[{start:.4f} - {end:.4f}]\t{utt}\t{code}\t[{v:.4f}, {a:.4f}, {d:.4f}]",
                f"C-E1:\t{code.capitalize()};\t()", f"C-E2:\t{code.capitalize()};\t()",
                f"A-E1:\tval {int(v)}; act {int(a)}; dom  {int(d)};\t()", ""]
        trans.append(f"{utt} [{start:08.4f}-{end:08.4f}]: {text}")
        if j == 1:
            trans.append(f"{dialog}_MXX0 [{start:08.4f}-{end:08.4f}]: [LAUGHTER]")
        label = LABEL_MAP.get(code, -1)
        n = int(round(seconds * sample_rate))
        tt = np.arange(n) / sample_rate
        tone = _TONES.get(label, 450.0) * rng.uniform(0.97, 1.03)
        wave = (0.3 * np.sin(2 * np.pi * tone * tt) + rng.normal(0, 0.02, n)).astype(np.float32)
        wav = sdir / "sentences" / "wav" / dialog / f"{utt}.wav"
        wav.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(wav), wave, sample_rate, subtype="PCM_16")
        utts.append({"utterance": utt, "session": s, "source_label": code, "label": label,
                     "start": start, "end": end, "text": text})
    for sub, lines in (("EmoEvaluation", emo), ("transcriptions", trans)):
        p = sdir / "dialog" / sub / f"{dialog}.txt"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    n_frames = int(math.ceil(t * fps)) + 1
    h, w = size
    frames = np.empty((n_frames, h, w, 3), np.uint8)
    for f in range(n_frames):
        colour = (60, 60, 60)
        for u in utts:
            if u["start"] <= f / fps < u["end"] and u["label"] >= 0:
                colour = _COLOURS[u["label"]]
        noise = rng.normal(0, 10, (h, w, 1))
        frames[f] = np.clip(np.asarray(colour, np.float32) + noise, 0, 255).astype(np.uint8)
    write_av_clip(sdir / "dialog" / "avi" / "DivX" / f"{dialog}.avi", frames, fps)
    return utts
