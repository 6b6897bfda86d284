"""UCI Multiple Features, embedded in the package: 2,000 handwritten digits, 10 classes, six views
(:mod:`amidlib.data.arrays`; the files are checked against ``data_manifests/uci_mfeat.json``).

Splits: ``("holdout", test_size, split_seed)`` (seeded, stratified) or ``("fold", k, fold_seed, i)``
(the i-th of the seeded stratified k folds; ``("fold", k, fold_seed, i, class_sizes)`` first keeps
``class_sizes[c]`` samples of class c: the cross-validated comparison's IEMOCAP-like imbalance,
:func:`~amidlib.data.datasets._arrays.imbalanced_sizes`). The default MLP nets and tensors.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from amidlib.data.arrays import UCI_VIEWS, k_fold_splits, load_uci_manifest, load_uci_mfeat, stratified_split
from amidlib.data.datasets._arrays import subsample_classes
from amidlib.data.datasets.base import Dataset, register

__all__ = ["UciMfeat"]


@register
class UciMfeat(Dataset):
    name = "uci_mfeat"
    title = "UCI Multiple Features"
    class_noun = "handwritten digit"
    kind = "arrays"
    views = (("fou",), ("fac",))
    all_views = tuple(UCI_VIEWS)
    preset = "embedded"
    # the manifest checks and describes the embedded files as they load
    code = ("data/manifests.py",)

    def load_split(self, target, auxiliary, split, options: Mapping[str, Any]):
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

    def class_names(self, options: Mapping[str, Any]) -> list[str]:
        return list(load_uci_manifest()["classes"])


@functools.lru_cache(maxsize=32)
def _load_views(target: tuple, auxiliary: tuple):
    return load_uci_mfeat(target=list(target), auxiliary=list(auxiliary))
