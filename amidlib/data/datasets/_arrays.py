"""Feature-array helpers the splits share: a class-imbalanced copy of a dataset (the cross-validated
comparison's IEMOCAP-like imbalance on the embedded digits). Part of every run's code (``SHARED_CODE`` of
:mod:`amidlib.repro.specs`): the profiles compute class sizes with it when they are imported.

Their natural home is :mod:`amidlib.data.arrays`, beside ``stratified_split`` and ``k_fold_splits``; they
are here until that module takes them (issue 21). Not a dataset (a private module of the package).
"""
from __future__ import annotations

__all__ = ["imbalanced_sizes", "subsample_classes"]


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
