"""amidlib.metrics against sklearn / scipy references."""
import warnings

import numpy as np
import pytest
import torch
from scipy.spatial.distance import cosine as cosine_distance
from sklearn.metrics import accuracy_score, balanced_accuracy_score, confusion_matrix, recall_score

from amidlib.core import metrics

SEEDS = [0, 1, 2, 3, 4]


def _random_labels(seed, n=200, n_classes=7):
    rng = np.random.default_rng(seed)
    y_true = rng.integers(0, n_classes, n)
    # mostly-correct predictions, some errors, sometimes a class never in y_true
    y_pred = np.where(rng.random(n) < 0.6, y_true, rng.integers(0, n_classes + 1, n))
    return y_true, y_pred


@pytest.mark.parametrize("seed", SEEDS)
def test_top1_and_wa_match_accuracy_score(seed):
    y_true, y_pred = _random_labels(seed)
    expected = 100 * accuracy_score(y_true, y_pred)
    assert metrics.top1(y_true, y_pred) == pytest.approx(expected)
    assert metrics.weighted_accuracy(y_true, y_pred) == pytest.approx(expected)


@pytest.mark.parametrize("seed", SEEDS)
def test_per_class_matches_confusion_matrix(seed):
    y_true, y_pred = _random_labels(seed, n_classes=6)
    y_true = y_true[y_true != 2]  # class 2 absent from y_true
    y_pred = y_pred[: len(y_true)]
    n = 7
    cm = confusion_matrix(y_true, y_pred, labels=np.arange(n))
    rows = cm.sum(axis=1)
    got = metrics.per_class_accuracy(y_true, y_pred, n_classes=n)
    assert got.shape == (n,)
    for c in range(n):
        if rows[c] == 0:
            assert np.isnan(got[c])
        else:
            assert got[c] == pytest.approx(100 * cm[c, c] / rows[c])
    assert np.isnan(got[2])


@pytest.mark.parametrize("seed", SEEDS)
def test_ua_matches_macro_recall_over_present_classes(seed):
    y_true, y_pred = _random_labels(seed)
    y_true = y_true[y_true != 3]
    y_pred = y_pred[: len(y_true)]
    present = np.unique(y_true)
    expected = 100 * recall_score(y_true, y_pred, average="macro", labels=present, zero_division=0)
    assert metrics.unweighted_accuracy(y_true, y_pred) == pytest.approx(expected)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns about predicted classes absent from y_true
        assert metrics.unweighted_accuracy(y_true, y_pred) == pytest.approx(
            100 * balanced_accuracy_score(y_true, y_pred)
        )
    # UA is the nan-mean of the per-class accuracies
    assert metrics.unweighted_accuracy(y_true, y_pred) == pytest.approx(
        np.nanmean(metrics.per_class_accuracy(y_true, y_pred))
    )


def test_ua_hand_case_and_input_types():
    y_true = [0, 0, 0, 0, 1, 1]
    y_pred = [0, 0, 0, 1, 1, 5]  # class 5 only predicted: no extra term
    assert metrics.unweighted_accuracy(y_true, y_pred) == pytest.approx((75 + 50) / 2)
    assert metrics.weighted_accuracy(y_true, y_pred) == pytest.approx(400 / 6)
    for conv in (np.asarray, torch.tensor, list):
        assert metrics.top1(conv(y_true), conv(y_pred)) == pytest.approx(400 / 6)
        assert metrics.unweighted_accuracy(conv(y_true), conv(y_pred)) == pytest.approx(62.5)


@pytest.mark.parametrize(
    "fn", [metrics.top1, metrics.per_class_accuracy, metrics.weighted_accuracy, metrics.unweighted_accuracy]
)
def test_length_mismatch_and_empty(fn):
    with pytest.raises(ValueError, match=r"3.*2"):
        fn([0, 1, 1], [0, 1])
    with pytest.raises(ValueError, match="empty"):
        fn([], [])


def _slow_recall_at_k(q, ql, g, gl, ks):
    """Obvious reference: double loop over scipy cosine distances, stable sort."""
    out = {}
    sims = np.array([[1 - cosine_distance(a, b) for b in g] for a in q])
    for k in ks:
        hit = 0
        for i in range(len(q)):
            order = np.argsort(-sims[i], kind="stable")[:k]
            hit += int(np.any(gl[order] == ql[i]))
        out[k] = 100 * hit / len(q)
    return out


@pytest.mark.parametrize("seed", SEEDS)
def test_recall_at_k_matches_slow_reference(seed):
    rng = np.random.default_rng(seed)
    q, g = rng.standard_normal((40, 8)), rng.standard_normal((60, 8))
    ql, gl = rng.integers(0, 5, 40), rng.integers(0, 5, 60)
    ks = (1, 3, 5, 10)
    expected = _slow_recall_at_k(q, ql, g, gl, ks)
    got = metrics.recall_at_k(q, ql, g, gl, ks=ks, chunk_size=7)  # several chunks
    assert set(got) == set(ks)
    for k in ks:
        assert got[k] == pytest.approx(expected[k])
    # torch inputs give the same answer
    got_t = metrics.recall_at_k(torch.tensor(q), torch.tensor(ql), torch.tensor(g), torch.tensor(gl), ks=ks)
    assert got_t == pytest.approx(got)


def test_recall_at_k_hand_built():
    # Gallery directions: class 0 at 0 deg, class 1 at 90 deg, class 2 at 180 deg.
    g = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    gl = np.array([0, 1, 2])
    # query 0: near 0 deg, class 0 -> hit at rank 1
    # query 1: near 0 deg but class 1 -> class 1 item is 2nd nearest -> miss at K=1, hit at K=2
    # query 2: near 0 deg, class 2 -> class 2 item is farthest (rank 3)
    q = np.array([[2.0, 0.1], [5.0, 0.5], [1.0, 0.2]])  # scale must not matter
    ql = np.array([0, 1, 2])
    got = metrics.recall_at_k(q, ql, g, gl, ks=(1, 2, 3, 50))
    assert got == pytest.approx({1: 100 / 3, 2: 200 / 3, 3: 100.0, 50: 100.0})


def test_recall_at_k_large_is_chunked_and_fast():
    rng = np.random.default_rng(0)
    q = rng.standard_normal((5000, 16)).astype(np.float32)
    g = rng.standard_normal((10000, 16)).astype(np.float32)
    ql, gl = rng.integers(0, 10, 5000), rng.integers(0, 10, 10000)
    got = metrics.recall_at_k(q, ql, g, gl, ks=(1, 5))
    # random labels: R@1 ~ 10 %, R@5 ~ 1 - 0.9**5 = 41 %
    assert 7 < got[1] < 13 and 37 < got[5] < 45


def test_recall_at_k_errors():
    q, g = np.ones((3, 4)), np.ones((5, 4))
    with pytest.raises(ValueError, match=r"3.*2"):
        metrics.recall_at_k(q, [0, 1], g, [0] * 5)
    with pytest.raises(ValueError, match=r"5.*4"):
        metrics.recall_at_k(q, [0, 1, 2], g, [0] * 4)
    with pytest.raises(ValueError, match="empty"):
        metrics.recall_at_k(np.ones((0, 4)), [], g, [0] * 5)
    with pytest.raises(ValueError, match="ks"):
        metrics.recall_at_k(q, [0, 1, 2], g, [0] * 5, ks=(0,))
