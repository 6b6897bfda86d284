"""The data layer: feature arrays and splits (``arrays``), the embedded UCI data, manifests and
checksums (``manifests``), the feature and frame caches (``cache``), the generated audio-visual tier
(``av_tier``), the paper's data root (``paper_root``), video and audio decoding (``video``) and
IEMOCAP (``iemocap``). The datasets a run can train on are registered in ``datasets`` (one module per
dataset: its splits, loader, location, class names and the code its runs depend on); ``splits`` hands a
run's description to the dataset named. It builds on :mod:`amidlib.core` and nothing above it.

``from amidlib.data import MultimodalArrays, load_embedded`` is public API (stable import path).
"""
from amidlib.data.arrays import (
    UCI_VIEWS,
    DataIntegrityError,
    MultimodalArrays,
    k_fold_splits,
    load_embedded,
    load_uci_manifest,
    load_uci_mfeat,
    make_synthetic,
    stratified_split,
    uci_mfeat_dir,
)

__all__ = ["MultimodalArrays", "DataIntegrityError", "make_synthetic", "stratified_split", "k_fold_splits",
           "load_embedded", "load_uci_mfeat", "load_uci_manifest", "uci_mfeat_dir", "UCI_VIEWS"]
