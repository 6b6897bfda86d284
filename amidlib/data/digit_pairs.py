"""UCI digit pairs: the embedded real data in the paper's batch regime (``dataset="uci_pairs"``).

AMID's terms depend on the batch's composition: Eq 8 counts every same-class item of the batch as a
positive, and D2 (Eq 12–13) sees only the samples with a same-class partner in the batch. The paper's
UCF51 trains at batch 16 over 51 classes: ≈ 1.3 positives per anchor, ≈ 26 % of samples partnered.
UCI Multiple Features has 10 classes, so any batch of 16 is full of partners (≈ 2.5 positives, ≈ 80 %).

A sample here is two real digits side by side, and its class is the pair of their labels, left ≤ right:

    x = [x_left ‖ x_right] (each view: both digits' features, concatenated),   y = (d_left, d_right), d_left ≤ d_right

55 classes, so a random batch of 16 has 1 + 15/55 ≈ 1.27 positives per anchor and 1 − (54/55)^15 ≈ 24 %
of its samples partnered: the paper's regime. Nothing is synthetic: every half is a real digit's
features, and the views keep their character (target ``fou`` is weak, auxiliary ``fac`` strong; a pair
is right only when both halves are, so the teacher–student gap widens).

No digit is in both splits: the digits are first split as the 10-class data are (seeded, stratified,
``test_size`` of them to the test side), and each split's pairs are drawn from its own digits only:
``train_per_class`` pairs per class for training, ``test_per_class`` for testing (left and right drawn
independently, with replacement, from the digits of the two labels; the draw is seeded by the split seed).
"""
from __future__ import annotations

import numpy as np

from amidlib.data.arrays import MultimodalArrays, load_uci_mfeat, stratified_split

__all__ = ["PAIR_CLASSES", "TRAIN_PER_CLASS", "TEST_PER_CLASS", "digit_pairs", "load_uci_pairs"]

#: the classes: (left digit, right digit), left ≤ right, in label order
PAIR_CLASSES: tuple[tuple[int, int], ...] = tuple((i, j) for i in range(10) for j in range(i, 10))
#: pairs per class: 660 training pairs (41 batches of 16 an epoch) and 1,100 test pairs
TRAIN_PER_CLASS = 12
TEST_PER_CLASS = 20


def digit_pairs(digits: MultimodalArrays, per_class: int, seed: int) -> MultimodalArrays:
    """``per_class`` pairs of each class of :data:`PAIR_CLASSES` drawn from ``digits`` (a 10-class
    MultimodalArrays): every view is the left digit's features followed by the right digit's."""
    rng = np.random.default_rng(seed)
    by_digit = [np.flatnonzero(digits.labels == d) for d in range(10)]
    empty = [d for d, idx in enumerate(by_digit) if idx.size == 0]
    if empty:
        raise ValueError(f"digit pairs need every digit 0-9 among the digits drawn from; digit {empty[0]} has none")
    left = np.concatenate([rng.choice(by_digit[i], per_class) for i, _ in PAIR_CLASSES])
    right = np.concatenate([rng.choice(by_digit[j], per_class) for _, j in PAIR_CLASSES])
    labels = np.repeat(np.arange(len(PAIR_CLASSES)), per_class)
    views = {name: np.hstack([x[left], x[right]]) for name, x in digits.modalities.items()}
    return MultimodalArrays(views, labels, digits.target, digits.auxiliary,
                            class_names=[f"{i}-{j}" for i, j in PAIR_CLASSES], n_classes=len(PAIR_CLASSES),
                            name="uci_pairs")


def load_uci_pairs(target=("fou",), auxiliary=("fac",), test_size: float = 0.8, split_seed: int = 0,
                   train_per_class: int = TRAIN_PER_CLASS, test_per_class: int = TEST_PER_CLASS):
    """``(train, test)`` digit pairs (see the module doc): the digits split as the 10-class data
    (``stratified_split(test_size, split_seed)``), then each side's pairs drawn from its own digits."""
    train_digits, test_digits = stratified_split(load_uci_mfeat(target=target, auxiliary=auxiliary),
                                                 test_size=test_size, seed=split_seed)
    # one stream per side, so the test pairs do not depend on how many training pairs were drawn
    train_seed, test_seed = np.random.SeedSequence([split_seed, 55]).spawn(2)
    return (digit_pairs(train_digits, train_per_class, train_seed),
            digit_pairs(test_digits, test_per_class, test_seed))
