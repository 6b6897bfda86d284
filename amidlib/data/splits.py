"""Which data a run trains and tests on, and what training on them needs.

From a run's description (dataset, target and auxiliary views, split, loader options) to its
``(train, test)`` and the arguments :func:`amidlib.core.experiment.run` takes for that kind of data
(the nets, the loader, the data record)::

    data = run_data("uci_mfeat", ("fou",), ("fac",), ("holdout", 0.8, 0))
    res = run("amid", data.train, data.test, seed=0, **data.run_args)

The repro layer's :class:`~amidlib.repro.runs.RunSpec` carries the description and keeps the books;
everything that decides *which* samples a run sees and *which* networks it trains is here and in the
modules it calls, so it is part of the run cache key's code fingerprint
(:func:`amidlib.repro.runs.code_files`).

Datasets and their splits:

- ``uci_mfeat`` (the embedded UCI Multiple Features): ``("holdout", test_size, split_seed)``
  (seeded, stratified) or ``("fold", k, fold_seed, i)`` (the i-th of the seeded stratified k folds;
  ``("fold", k, fold_seed, i, class_sizes)`` first keeps ``class_sizes[c]`` samples of class c: Table 3's
  IEMOCAP-like imbalance, :func:`imbalanced_sizes`);
  the default MLP nets and tensors;
- ``uci_pairs`` (:mod:`amidlib.data.digit_pairs`: two embedded digits side by side, 55 classes, the
  paper's batch regime at batch 16): ``("holdout", test_size, split_seed)``, the digits split as above and
  each side's pairs drawn from its own digits; the MLP nets and tensors;
- ``av_tier`` (generated clips, written on first use), ``ucf51``, ``activitynet``: ``("official",)``,
  the dataset's own split; the video nets and the clip loader of :mod:`amidlib.data.video.datasets`;
- ``iemocap``: ``("fold", 5, seed, i)``, leave-one-session-out (the auxiliary views name the
  setup); the GRU student over the frame sequences (:mod:`amidlib.data.iemocap.nets`).

Loaded data are kept per process (the frozen extractors' features come from the on-disk cache
after the first load): :func:`prepare` loads them once before worker processes start.
"""
from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

from amidlib.data.arrays import k_fold_splits, load_uci_manifest, load_uci_mfeat, stratified_split

__all__ = ["RunData", "run_data", "load_split", "prepare", "class_names", "data_usage", "imbalanced_sizes", "subsample_classes",
           "DATASETS", "VIDEO_DATASETS", "ARRAY_DATASETS",
           "OFFICIAL_SPLIT", "IEMOCAP_SETUPS"]

VIDEO_DATASETS = ("av_tier", "ucf51", "activitynet")
#: the embedded feature-array datasets (MLP nets, tensors; seeds can train batched)
ARRAY_DATASETS = ("uci_mfeat", "uci_pairs")
DATASETS = (*ARRAY_DATASETS, *VIDEO_DATASETS, "iemocap")
#: datasets whose split is fixed by the dataset (UCF101 split 1, ActivityNet train/val, the tier's groups)
OFFICIAL_SPLIT = ("ucf51", "activitynet", "av_tier")
#: IEMOCAP's Table 3 setups by auxiliary modalities (the student sees the visual frames)
IEMOCAP_SETUPS = {("audio",): "A-V", ("text",): "L-V", ("audio", "text"): "AL-V"}


@dataclass(frozen=True)
class RunData:
    """A run's two splits and the keyword arguments :func:`amidlib.core.experiment.run` needs for them
    (``nets_factory``, ``loader_factory``, ``record_extra``; none for feature arrays)."""

    train: Any
    test: Any
    run_args: dict[str, Any] = field(default_factory=dict)


def run_data(dataset: str, target: Iterable[str], auxiliary: Iterable[str], split: tuple,
             options: Mapping[str, Any] | Iterable[tuple[str, Any]] = ()) -> RunData:
    """The splits of a run and what training on them needs (see the module doc)."""
    train, test = load_split(dataset, target, auxiliary, split, options)
    if dataset in VIDEO_DATASETS:
        from amidlib.data.video.datasets import video_run_args

        return RunData(train, test, video_run_args(train, test))
    if dataset == "iemocap":
        from amidlib.data.iemocap.nets import gru_run_args

        feats = _iemocap_features(_freeze(options))
        args = gru_run_args(feats.n_frames, feats.frame_dim)
        # what was excluded, skipped, resampled, mismatched
        args["record_extra"] = {**args["record_extra"], "data_record": feats.record}
        return RunData(train, test, args)
    return RunData(train, test)


def load_split(dataset: str, target: Iterable[str], auxiliary: Iterable[str], split: tuple,
               options: Mapping[str, Any] | Iterable[tuple[str, Any]] = ()):
    """``(train, test)``: MultimodalArrays (UCI, IEMOCAP features) or video datasets."""
    if dataset in VIDEO_DATASETS:
        return _video_datasets(dataset, _freeze(options))
    if dataset == "iemocap":
        from amidlib.data.iemocap.folds import iemocap_folds

        if split[0] != "fold":
            raise ValueError(f"IEMOCAP runs use the leave-one-session-out folds, got split {split!r}")
        setup = IEMOCAP_SETUPS[tuple(auxiliary)]
        return iemocap_folds(_iemocap_features(_freeze(options)), setup, student="rnn")[split[3]]
    if dataset == "uci_pairs":
        if split[0] != "holdout":
            raise ValueError(f"uci_pairs runs use a holdout split ('holdout', test_size, split_seed), got {split!r}")
        return _load_pairs(tuple(target), tuple(auxiliary), float(split[1]), int(split[2]))
    if dataset != "uci_mfeat":
        raise ValueError(f"unknown dataset {dataset!r}; valid: {', '.join(DATASETS)}")
    ds = _load_views(tuple(target), tuple(auxiliary))
    if split[0] == "holdout":
        _, test_size, split_seed = split
        return stratified_split(ds, test_size=test_size, seed=split_seed)
    if split[0] == "fold":
        _, k, fold_seed, i, *sizes = split
        if sizes:  # ("fold", k, seed, i, class_sizes): keep class_sizes[c] samples of class c first
            ds = subsample_classes(ds, sizes[0], seed=fold_seed)
        return list(k_fold_splits(ds, k=k, seed=fold_seed))[i]
    raise ValueError(f"unknown split {split!r}")


def imbalanced_sizes(n_per_class: int, n_classes: int, ratio: float) -> tuple[int, ...]:
    """Class sizes falling evenly from ``n_per_class`` to ``n_per_class / ratio`` (largest / smallest
    = ``ratio``), e.g. IEMOCAP's 1,708 neutral vs 1,084 sad utterances: ratio 1.58."""
    return tuple(int(round(n_per_class / (1 + (ratio - 1) * c / max(n_classes - 1, 1)))) for c in range(n_classes))


def subsample_classes(ds, sizes, seed: int = 0):
    """The first ``sizes[c]`` samples of each class c in a seeded shuffle (a class-imbalanced copy)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    keep = []
    for c, size in enumerate(sizes):
        idx = np.flatnonzero(ds.labels == c)
        if size > idx.size:
            raise ValueError(f"class {c} has {idx.size} samples, fewer than the {size} asked for")
        keep.append(rng.permutation(idx)[:size])
    return ds.subset(np.sort(np.concatenate(keep)))


def prepare(dataset: str, options: Mapping[str, Any] | Iterable[tuple[str, Any]] = ()) -> None:
    """Load (generate, check against the manifest, extract features of) ``dataset`` once in this
    process, so worker processes find its features in the on-disk cache."""
    if dataset == "iemocap":
        _iemocap_features(_freeze(options))
    elif dataset in VIDEO_DATASETS:
        _video_datasets(dataset, _freeze(options))


def class_names(dataset: str, options: Mapping[str, Any] | Iterable[tuple[str, Any]] = ()) -> list[str]:
    """The class names of ``dataset``, in label order."""
    if dataset == "uci_mfeat":
        return list(load_uci_manifest()["classes"])
    if dataset == "uci_pairs":
        from amidlib.data.digit_pairs import PAIR_CLASSES

        return [f"{i}-{j}" for i, j in PAIR_CLASSES]
    if dataset == "iemocap":
        return list(_iemocap_features(_freeze(options)).class_names)
    return list(_video_datasets(dataset, _freeze(options))[0].class_names)


def data_usage(dataset: str, options: Mapping[str, Any] | Iterable[tuple[str, Any]] = ()) -> str | None:
    """For table headers: "used 13,xxx of 14,950 videos (left out: …)" of a video dataset (None for
    the others); the same line is in each run's record (``config["data"]["videos"]["line"]``)."""
    if dataset not in VIDEO_DATASETS:
        return None
    from amidlib.data.video.datasets import videos_used

    train, test = _video_datasets(dataset, _freeze(options))
    train.sync_failures()
    return videos_used(train, test)["line"]


# --------------------------------------------------------------------------- loaded once per process
def _freeze(options) -> str:
    return json.dumps(dict(options), sort_keys=True, default=str)


@functools.lru_cache(maxsize=32)
def _load_views(target: tuple, auxiliary: tuple):
    return load_uci_mfeat(target=list(target), auxiliary=list(auxiliary))


@functools.lru_cache(maxsize=8)
def _load_pairs(target: tuple, auxiliary: tuple, test_size: float, split_seed: int):
    from amidlib.data.digit_pairs import load_uci_pairs

    return load_uci_pairs(target, auxiliary, test_size=test_size, split_seed=split_seed)


@functools.lru_cache(maxsize=4)
def _video_datasets(dataset: str, frozen: str):
    """(train, test) video datasets (``root``: the data root, or the folder of the generated tier,
    written when it holds no manifest; ``cache``: the frozen extractors' feature cache)."""
    opts = json.loads(frozen)
    root, cache = opts.pop("root", ""), opts.pop("cache", None)
    if dataset == "av_tier":
        from amidlib.data.av_tier import av_tier_datasets, make_av_clips

        if not (Path(root) / "manifest.json").is_file():
            make_av_clips(root, **opts)
        return av_tier_datasets(root, cache_dir=cache)
    from amidlib.data.paper_root import load_paper_dataset

    return load_paper_dataset(dataset, root, cache, **opts)


@functools.lru_cache(maxsize=2)
def _iemocap_features(frozen: str):
    from amidlib.data.paper_root import load_paper_dataset

    opts = json.loads(frozen)
    root, cache = opts.pop("root", ""), opts.pop("cache", None)
    return load_paper_dataset("iemocap", root, cache, **opts)
