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
    weights/SHA256SUMS                                  checksums of your downloads (``cd weights && sha256sum *.pth > SHA256SUMS``)

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
"""
from __future__ import annotations

import os
from pathlib import Path

import torch

PAPER_DATASETS = ("ucf51", "activitynet", "iemocap")
CNN14_FILE = "Cnn14_emb512_mAP=0.420.pth"
DENSENET_FILE = "densenet121-a639ec97.pth"


class PaperDataMissing(FileNotFoundError):
    """The paper profile cannot start: the message lists every missing item and where it goes."""


def data_root_from(value: str | os.PathLike | None) -> Path | None:
    """The data root: the given value, else ``$AMID_DATA_ROOT``, else None."""
    value = value or os.environ.get("AMID_DATA_ROOT")
    return Path(value).expanduser() if value else None


def missing_paper_files(dataset: str, data_root: str | os.PathLike | None) -> list[str]:
    """What ``dataset`` needs under ``data_root`` and is not there: one line per item."""
    if dataset not in PAPER_DATASETS:
        raise ValueError(f"unknown paper dataset '{dataset}'; valid: {', '.join(PAPER_DATASETS)}")
    root = data_root_from(data_root)
    if root is None:
        return ["no data root: pass -p data_root /path/to/data (or set AMID_DATA_ROOT) pointing at the folder laid out "
                "as amidlib/paper_data.py describes (README: 'The paper profile')"]
    if not root.is_dir():
        return [f"data root {root} does not exist"]
    need: list[tuple[Path, str]] = []
    weights = root / "weights"
    if dataset == "ucf51":
        need.append((root / "ucf51/videos", "the UCF101 videos of the 51 classes, as <Class>/v_<Class>_gXX_cYY.avi"))
        if not (root / "ucf51/audiocnn14embed512_features").is_dir():
            need.append((weights / CNN14_FILE, "PANNs CNN14 AudioSet checkpoint (or CCL's features in ucf51/audiocnn14embed512_features)"))
    elif dataset == "activitynet":
        need.append((root / "activitynet/videos", "ActivityNet v1.3 videos with audio, as <video_id>.mp4"))
        need.append((root / "activitynet/activity_net.v1-3.min.json", "the ActivityNet v1.3 annotation file"))
        need.append((weights / CNN14_FILE, "PANNs CNN14 AudioSet checkpoint"))
    else:
        need.extend((root / f"iemocap/Session{i}", f"IEMOCAP Session{i} as distributed") for i in range(1, 6))
        need.append((weights / "wav2vec2-base", "a transformers wav2vec 2.0 folder (config.json, weights, preprocessor)"))
        need.append((weights / "bert-base-uncased", "a transformers BERT folder (config.json, weights, vocab)"))
        need.append((weights / DENSENET_FILE, "torchvision DenseNet-121 ImageNet weights"))
    out = [f"{path}: {what}" for path, what in need if not path.exists()]
    cnn14 = weights / CNN14_FILE
    if any(p == cnn14 for p, _ in need) and cnn14.exists() and expected_sha256(root, CNN14_FILE) is None:
        out.append(f"{weights / 'SHA256SUMS'}: a line for {CNN14_FILE} (cd {weights} && sha256sum {CNN14_FILE} "
                   ">> SHA256SUMS), so the checkpoint is verified before it is loaded")
    return out


def expected_sha256(root: str | os.PathLike, filename: str) -> str | None:
    """The sha256 listed for ``filename`` in ``<root>/weights/SHA256SUMS`` (``sha256sum`` output), or None.

    For telling a corrupt or wrong download from the right one only: the file sits in the data root
    beside the checkpoints, so it is no reason to trust a checkpoint's pickle (see the module's notes)."""
    sums = Path(root) / "weights" / "SHA256SUMS"
    if not sums.is_file():
        return None
    for line in sums.read_text(encoding="utf-8").splitlines():
        parts = line.strip().split(maxsplit=1)
        if len(parts) == 2 and Path(parts[1].lstrip("*")).name == filename:
            return parts[0].lower()
    return None


def require_paper_run(dataset: str, data_root: str | os.PathLike | None, device: str = "cuda") -> Path:
    """Stop before anything runs when the paper profile lacks its GPU or its files; returns the root."""
    problems = []
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        problems.append("no CUDA GPU: the paper profile trains R(2+1)D-18 on videos (run profile=cpu on a CPU)")
    problems += missing_paper_files(dataset, data_root)
    if problems:
        raise PaperDataMissing(f"profile 'paper' cannot run {dataset}:\n  - " + "\n  - ".join(problems))
    return data_root_from(data_root)


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
    root = require_paper_run(dataset, data_root, device="cpu")  # the GPU check is the caller's
    weights = root / "weights"
    device = device or ("cuda" if torch.cuda.is_available() else "cpu")
    if dataset in ("ucf51", "activitynet"):
        options["clip"] = paper_clip(options.pop("clip", None), options.pop("test_clips", None),
                                     options.pop("train_scale", "default"))
    if dataset == "ucf51":
        from amidlib.data.video.datasets import video_audio_datasets

        ccl = root / "ucf51/audiocnn14embed512_features"
        aux = ({"aux": "ccl", "ccl_root": ccl} if ccl.is_dir() else
               {"aux": "cnn14", "cnn14_checkpoint": weights / CNN14_FILE,
                "cnn14_sha256": expected_sha256(root, CNN14_FILE)})
        return video_audio_datasets(manifest or "ucf51", root / "ucf51/videos", cache_dir=cache_dir, on_bad=on_bad,
                                    device=device, progress=progress, **aux, **options)
    if dataset == "activitynet":
        from amidlib.data.video.datasets import activitynet_table, build_video_datasets

        table, names, problems = activitynet_table(root / "activitynet/activity_net.v1-3.min.json", root / "activitynet")
        return build_video_datasets(table, names, root / "activitynet", aux="cnn14", cnn14_checkpoint=weights / CNN14_FILE,
                                    cnn14_sha256=expected_sha256(root, CNN14_FILE),
                                    manifest_for_sha="activitynet", table_problems=problems, cache_dir=cache_dir,
                                    on_bad=on_bad, name="activitynet", device=device, progress=progress, **options)
    from amidlib.data.iemocap.features import load_iemocap

    return load_iemocap(root / "iemocap", cache_dir, wav2vec2_dir=weights / "wav2vec2-base",
                        bert_dir=weights / "bert-base-uncased", densenet_weights=weights / DENSENET_FILE,
                        densenet_sha256=expected_sha256(root, DENSENET_FILE), on_bad=on_bad, device=device,
                        progress=progress, **options)


def paper_clip(clip=None, test_clips: int | None = None, train_scale="default"):
    """The paper profile's :class:`~amidlib.data.video.decode.ClipSpec`: ``PAPER_CLIP`` with the given
    changes (``clip``: a ClipSpec or a dict of its fields; data options arrive as JSON, so lists are
    turned back into tuples)."""
    import dataclasses

    from amidlib.data.video.decode import PAPER_CLIP, ClipSpec

    if isinstance(clip, ClipSpec):
        spec = clip
    else:
        fields = {k: (tuple(v) if isinstance(v, list) else v) for k, v in dict(clip or {}).items()}
        spec = dataclasses.replace(PAPER_CLIP, **fields)
    if test_clips is not None:
        spec = dataclasses.replace(spec, test_clips=int(test_clips))
    if train_scale != "default":
        spec = dataclasses.replace(spec, train_scale=tuple(train_scale) if train_scale is not None else None)
    return spec
