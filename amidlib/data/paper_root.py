"""The paper's datasets (UCF51, ActivityNet, IEMOCAP) from a user's data root: one layout, one check.

Layout under ``data_root`` (the ``data_root`` notebook parameter or the ``AMID_DATA_ROOT`` variable)::

    ucf51/videos/<Class>/v_<Class>_gXX_cYY.avi         UCF101 videos of the 51 classes with audio
    ucf51/audiocnn14embed512_features/<Class>/<id>.npy  optional: CCL's CNN14 features (else CNN14 runs)
    activitynet/videos/<video_id>.mp4                   ActivityNet v1.3 videos that have audio
    activitynet/activity_net.v1-3.min.json              the v1.3 annotation file
    iemocap/Session1 … Session5/                        IEMOCAP_full_release, as distributed
    weights/Cnn14_emb512_mAP=0.420.pth                  PANNs CNN14 (AudioSet), unless CCL features are given
    weights/wav2vec2-base/  weights/bert-base-uncased/  transformers folders (config + weights + tokenizer)
    weights/densenet121-a639ec97.pth                    torchvision DenseNet-121 ImageNet weights
    weights/SHA256SUMS                                  checksums of your downloads
                                                        (``cd weights && sha256sum *.pth > SHA256SUMS``)

Weight files are verified by sha256 before they are loaded: CNN14 against ``weights/SHA256SUMS``
(no sha256 of ``Cnn14_emb512_mAP=0.420.pth`` is published: record it once from the file you
downloaded), DenseNet-121 against the hash prefix in its torchvision file name (or ``SHA256SUMS``
when listed). A mismatch stops the run: the file is corrupt or not the one listed.

``SHA256SUMS`` lies next to the files it lists, so whoever can write one can write the other: its
hashes detect a corrupt or wrong download and never allow code to run. Checkpoints are read with
``torch.load(weights_only=True)`` (tensors and plain data; the PANNs format loads so); a checkpoint
that holds anything else is refused, unless its sha256 equals one pinned in the repository
(``data_manifests/pinned_weights.json``: PANNs ``Cnn14_mAP=0.431.pth``, Zenodo record 3987831).

:func:`missing_paper_files` lists what is absent (by path, with what to put there) without reading
any video; :func:`require_paper_run` turns that and the lack of a GPU into one clear error.

Each paper dataset is a module of :mod:`amidlib.data.datasets` (``ucf51``, ``activitynet``, ``iemocap``:
what it needs under the root, how it loads); what they share (the weight files, their checksums, the
paper's clip) is in :mod:`amidlib.data.datasets._paper`. The functions here ask the dataset named.
"""
from __future__ import annotations

import os
from pathlib import Path

from amidlib.data import datasets
from amidlib.data.datasets._paper import (
    CNN14_FILE,
    DENSENET_FILE,
    PaperDataMissing,
    data_root_from,
    expected_sha256,
    paper_clip,
)

__all__ = ["PAPER_DATASETS", "CNN14_FILE", "DENSENET_FILE", "PaperDataMissing", "data_root_from", "missing_paper_files",
           "expected_sha256", "require_paper_run", "load_paper_dataset", "paper_clip"]

#: the registered datasets read from a data root (their loaders take ``on_bad``)
PAPER_DATASETS = datasets.names(paper=True)


def _paper_dataset(dataset: str):
    if dataset not in PAPER_DATASETS:
        raise ValueError(f"unknown paper dataset '{dataset}'; valid: {', '.join(PAPER_DATASETS)}")
    return datasets.get(dataset)


def missing_paper_files(dataset: str, data_root: str | os.PathLike | None) -> list[str]:
    """What ``dataset`` needs under ``data_root`` and is not there: one line per item."""
    return _paper_dataset(dataset).missing_files(data_root)


def require_paper_run(dataset: str, data_root: str | os.PathLike | None, device: str = "cuda") -> Path:
    """Stop before anything runs when the paper profile lacks its GPU or its files; returns the root."""
    return _paper_dataset(dataset).require(data_root, device)


def load_paper_dataset(dataset: str, data_root: str | os.PathLike | None, cache_dir: str | os.PathLike,
                       on_bad: str = "raise", *, manifest: str | os.PathLike | dict | None = None,
                       device: str | None = None, progress: bool = True, **options):
    """(train, test) for ucf51 / activitynet (video datasets), or the IEMOCAP features (5 folds).

    Every file is checked against the manifest first; bad files stop the run, by name, unless
    ``on_bad="skip"``, in which case each skipped file is listed in the run's record. Frozen
    extractors run once per file (on ``device``: default CUDA when present) and their features are
    cached under ``cache_dir``. ``manifest``: another UCF-style manifest than ``data_manifests/ucf51.json``
    (ucf51 only; tests use a generated one). Other ``options`` go to the loader
    (:func:`amidlib.data.video.datasets.build_video_datasets` / :func:`amidlib.data.iemocap.load_iemocap`).

    Video clips (ucf51, activitynet): :data:`amidlib.data.video.decode.PAPER_CLIP` (16×112×112, CCL's
    RandomResizedCrop 0.25–1 for training, 10 test clips spread over each video, averaged); the options
    ``test_clips`` (K), ``train_scale`` (``None`` = plain random crop) or ``clip`` (a dict of
    :class:`~amidlib.data.video.decode.ClipSpec` fields) change it. ActivityNet clips lie inside the
    annotated segments.
    """
    return _paper_dataset(dataset).load(data_root, cache_dir, on_bad, manifest=manifest, device=device,
                                        progress=progress, **options)
