"""IEMOCAP, 4-class emotion recognition (:mod:`amidlib.data.iemocap`), from the user's data root::

    iemocap/Session1 … Session5/                        IEMOCAP_full_release, as distributed
    weights/wav2vec2-base/  weights/bert-base-uncased/  transformers folders (config + weights + tokenizer)
    weights/densenet121-a639ec97.pth                    torchvision DenseNet-121 ImageNet weights

Split ``("fold", 5, seed, i)``: leave-one-session-out (fold i tests on Session i+1); the auxiliary views
name the setup (``audio``: A-V, ``text``: L-V, both: AL-V). The student is the paper's GRU over the
DenseNet frame features (:mod:`amidlib.data.iemocap.nets`). Loader options
(:func:`amidlib.data.iemocap.load_iemocap`): ``on_bad``, ``expected`` (counts), ``n_frames``, ...
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from amidlib.data.datasets._paper import DENSENET_FILE, PaperDataset, expected_sha256
from amidlib.data.datasets.base import freeze, register, thaw

__all__ = ["Iemocap", "SETUP_OF_AUXILIARY"]

#: the setup a run's auxiliary views name (the student sees the visual frames)
SETUP_OF_AUXILIARY = {("audio",): "A-V", ("text",): "L-V", ("audio", "text"): "AL-V"}


@register
class Iemocap(PaperDataset):
    name = "iemocap"
    title = "IEMOCAP (4 classes, leave-one-session-out)"
    class_noun = "emotion"
    paper_tables, paper_part = ("table3",), "IEMOCAP (Table 3)"
    kind = "features"
    views = (("visual_frames",), ("audio", "text"))
    all_views = ("visual_frames", "audio", "text")
    preset = "paper_iemocap"
    # the frames are decoded by the video code, the features cached by the feature cache
    code = ("data/iemocap", "data/datasets/_paper.py", "data/video", "data/cache.py", "data/manifests.py")

    def folds_description(self, k: int) -> str:
        return f"leave-one-session-out ({k} folds)"

    def needs(self, root: Path) -> list[tuple[Path, str]]:
        weights = root / "weights"
        need = [(root / f"iemocap/Session{i}", f"IEMOCAP Session{i} as distributed") for i in range(1, 6)]
        need.append((weights / "wav2vec2-base",
                     "a transformers wav2vec 2.0 folder (config.json, weights, preprocessor)"))
        need.append((weights / "bert-base-uncased", "a transformers BERT folder (config.json, weights, vocab)"))
        need.append((weights / DENSENET_FILE, "torchvision DenseNet-121 ImageNet weights"))
        return need

    def load_root(self, root: Path, cache_dir, on_bad: str, *, manifest, device: str, progress: bool,
                  options: Mapping[str, Any]):
        from amidlib.data.iemocap.features import load_iemocap

        weights = root / "weights"
        return load_iemocap(root / "iemocap", cache_dir, wav2vec2_dir=weights / "wav2vec2-base",
                            bert_dir=weights / "bert-base-uncased", densenet_weights=weights / DENSENET_FILE,
                            densenet_sha256=expected_sha256(root, DENSENET_FILE), on_bad=on_bad, device=device,
                            progress=progress, **options)

    def features(self, options: Mapping[str, Any]):
        """The extracted features (:class:`~amidlib.data.iemocap.IemocapFeatures`), once per process and options."""
        return _features(self, freeze(options))

    def load_split(self, target, auxiliary, split, options: Mapping[str, Any]):
        from amidlib.data.iemocap.folds import iemocap_folds

        if split[0] != "fold":
            raise ValueError(f"IEMOCAP runs use the leave-one-session-out folds, got split {split!r}")
        setup = SETUP_OF_AUXILIARY[tuple(auxiliary)]
        return iemocap_folds(self.features(options), setup, student="rnn")[split[3]]

    def run_args(self, train, test, options: Mapping[str, Any]) -> dict[str, Any]:
        from amidlib.data.iemocap.nets import gru_run_args

        feats = self.features(options)
        args = gru_run_args(feats.n_frames, feats.frame_dim)
        # what was excluded, skipped, resampled, mismatched
        args["record_extra"] = {**args["record_extra"], "data_record": feats.record}
        return args

    def class_names(self, options: Mapping[str, Any]) -> list[str]:
        return list(self.features(options).class_names)

    def prepare(self, options: Mapping[str, Any]) -> None:
        self.features(options)


@functools.lru_cache(maxsize=2)
def _features(dataset: Iemocap, frozen: str):
    opts = thaw(frozen)
    root, cache = opts.pop("root", ""), opts.pop("cache", None)
    return dataset.load(root, cache, **opts)
