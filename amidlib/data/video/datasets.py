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

Then one :class:`~amidlib.data.video.loader.VideoAudioDataset` per split. The rooms: the tables, the
checks and the bad-input report in :mod:`amidlib.data.video.inputs` (steps 1 and 2), the dataset and
its loader in :mod:`amidlib.data.video.loader`; this module holds the steps that make features and
frames (4 and 5) and the call that runs them all. Its names are the public path of the whole
pipeline: everything listed in ``__all__`` is importable from here.
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from amidlib.data.cache import FeatureCache, FrameCache, frame_cache_bytes, require_free_space
from amidlib.data.video import workers
from amidlib.data.video.clips import ClipSpec
from amidlib.data.video.decode import AUDIO_FILE_SUFFIXES, MediaError, probe_video, read_audio, read_frames, resample
from amidlib.data.video.inputs import (
    ON_BAD,
    VIDEO_SUFFIXES,
    AudioCheck,
    BadInput,
    BadInputError,
    BadInputReport,
    VideoItem,
    activitynet_table,
    check_files,
    manifest_table,
    match_files,
)
from amidlib.data.video.loader import (
    VideoAudioDataset,
    VideoLoader,
    video_loader,
    video_nets,
    video_run_args,
    videos_used,
)

# re-exported names (inputs.py, loader.py) are listed too: this is the path the package and its users import
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
    "video_nets",
    "video_loader",
    "video_run_args",
    "videos_used",
]

log = logging.getLogger("amidlib.data.video.datasets")


# --------------------------------------------------------------------------- step 4: auxiliary features
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
    raise ValueError(f"unknown aux {aux!r}; valid: 'cnn14', 'ccl', 'logmel_stats', 'cnn14_untrained' or an "
                     "AudioExtractor")


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


def _extract_aux(items: list[VideoItem], splits: Sequence[str], extractor, cache_dir, *, audio_from_files: bool,
                 max_audio_seconds: float | None, audio_workers: int | None, device, progress: bool,
                 report: BadInputReport, info: dict) -> dict[str, np.ndarray]:
    """The frozen extractor's features of ``items`` by video id, computed once per file into a
    :class:`~amidlib.data.cache.FeatureCache` under ``cache_dir`` (audio decoded by worker processes,
    the extractor run here); files whose audio fails to decode are reported and left out."""
    settings = {"extractor": extractor.settings(), "mono": True, "resample": "torchaudio.functional.resample",
                "audio_source": "files" if audio_from_files else "video track",
                "max_audio_seconds": max_audio_seconds}
    cache = FeatureCache(cache_dir, extractor.name, extractor.weights_sha256, settings, extractor.dim)
    info["aux_cache"] = {"dir": str(cache.dir), "key": cache.key, "extractor": extractor.name,
                         "weights_sha256": extractor.weights_sha256}
    aux_rows: dict[str, np.ndarray] = {}
    for split in splits:
        todo = [(it.video_id, it) for it in items if it.split == split]
        missing = set(cache.missing(split, [vid for vid, _ in todo]))
        seq = [it for vid, it in todo if vid in missing]
        n_workers = (min(8, max(0, (os.cpu_count() or 1) - 1)) if len(seq) >= 64 else 0) \
            if audio_workers is None else int(audio_workers)
        # audio decoded by worker processes, in cache.build's order; the extractor runs here, batched by file
        waves = _audio_waves(seq, n_workers, max_audio_seconds)

        def compute(it: VideoItem, waves=waves) -> np.ndarray:
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
        aux_rows.update(zip(ok, cache.load(split, ok), strict=True))
    return aux_rows


# --------------------------------------------------------------------------- step 5: frames
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


def _fill_frame_cache(items: list[VideoItem], clip: ClipSpec, cache_dir, *, progress: bool,
                      report: BadInputReport, info: dict) -> tuple[FrameCache, set[str]]:
    """Decode every video not cached yet at ``clip.resize`` into a :class:`~amidlib.data.cache.FrameCache`
    (refused up front when the disk cannot hold it). This full decode also catches corruption past the
    first frame: returns the cache and the ids of the videos that failed (reported)."""
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
    return fcache, failed


# --------------------------------------------------------------------------- the pipeline
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
    if aux == "ccl":
        if ccl_root is None:
            raise ValueError("aux='ccl' needs ccl_root= (the folder of <ClassName>/<video_id>.npy files)")
        ccl_root = Path(ccl_root).expanduser()
    report = BadInputReport(root=str(video_root), on_bad=on_bad)
    report.bad.extend(table_problems)
    table = table[table["split"].isin(list(splits))].reset_index(drop=True)
    n_listed = len(table) + len(table_problems)

    # 1. match the table with the files; 2. check every file; 3. bad files: one error naming them all, or left out
    items = match_files(table, video_root, video_suffixes, report, report_extra)
    audio_check = None if extractor is None else AudioCheck(extractor.sample_rate, audio_root, audio_suffixes,
                                                             expected_rates, strict_rate)
    cache_root = Path(cache_dir).expanduser() if cache_dir is not None else None
    items, ccl_rows, failure_log = check_files(
        items, report, video_root=video_root, cache_root=cache_root, decode_check=decode_check, audio=audio_check,
        ccl=(ccl_root, ccl_dim) if aux == "ccl" else None, progress=progress)
    if report.bad and on_bad == "raise":
        raise BadInputError(report)

    # 4. auxiliary features (frozen extractor, once per file, cached)
    info: dict[str, Any] = {}
    if extractor is not None:
        extractor = extractor.to(device)
        if cache_dir is None:  # a temporary cache: the extraction writes through one (so does the frame cache then)
            cache_dir = tempfile.mkdtemp(prefix="amid-cache-")
        aux_rows = _extract_aux(items, splits, extractor, cache_dir, audio_from_files=audio_root is not None,
                                max_audio_seconds=max_audio_seconds, audio_workers=audio_workers, device=device,
                                progress=progress, report=report, info=info)
        if report.bad and on_bad == "raise":
            raise BadInputError(report)
        aux_name = extractor.name
    else:
        aux_rows = ccl_rows
        aux_name = "ccl_cnn14_emb512"
        info["aux_source"] = {"ccl_root": str(ccl_root)}
    items = [it for it in items if it.video_id in aux_rows]

    # frames from the seekable copies (read with seeks), when there are some
    if frames_root is not None:
        items = _use_seekable_copies(items, Path(frames_root).expanduser(), report, info)
        if report.bad and on_bad == "raise":
            raise BadInputError(report)

    # 5. optional frame cache (full decode: also catches corruption past the first frame)
    fcache = None
    if frame_cache:
        fcache, failed = _fill_frame_cache(items, clip, cache_dir, progress=progress, report=report, info=info)
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
