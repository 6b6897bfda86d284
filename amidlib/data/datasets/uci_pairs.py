"""UCI digit pairs (:mod:`amidlib.data.digit_pairs`): two embedded digits side by side, 55 classes, the
paper's batch regime at batch 16.

Split: ``("holdout", test_size, split_seed)``: the digits split as the 10 digits are, and each side's
pairs drawn from its own digits. The MLP nets and tensors.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from amidlib.data.arrays import UCI_VIEWS
from amidlib.data.datasets.base import Dataset, register

__all__ = ["UciPairs"]


@register
class UciPairs(Dataset):
    name = "uci_pairs"
    title = "UCI digit pairs (two digits side by side, 55 classes)"
    class_noun = "handwritten digit pair"
    kind = "arrays"
    views = (("fou",), ("fac",))
    all_views = tuple(UCI_VIEWS)
    preset = "embedded_pairs"
    preset_binds = True  # batch 16 is what puts the pairs in the paper's batch regime, under every profile
    code = ("data/manifests.py", "data/digit_pairs.py")

    def load_split(self, target, auxiliary, split, options: Mapping[str, Any]):
        if split[0] != "holdout":
            raise ValueError(f"uci_pairs runs use a holdout split ('holdout', test_size, split_seed), got {split!r}")
        return _load_pairs(tuple(target), tuple(auxiliary), float(split[1]), int(split[2]))

    def class_names(self, options: Mapping[str, Any]) -> list[str]:
        from amidlib.data.digit_pairs import PAIR_CLASSES

        return [f"{i}-{j}" for i, j in PAIR_CLASSES]


@functools.lru_cache(maxsize=8)
def _load_pairs(target: tuple, auxiliary: tuple, test_size: float, split_seed: int):
    from amidlib.data.digit_pairs import load_uci_pairs

    return load_uci_pairs(target, auxiliary, test_size=test_size, split_seed=split_seed)
