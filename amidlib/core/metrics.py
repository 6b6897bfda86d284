"""Evaluation metrics, all returned in percent.

* ``top1`` / ``weighted_accuracy`` (WA): overall accuracy.
* ``per_class_accuracy``: recall of every class (NaN for a class absent from y_true).
* ``unweighted_accuracy`` (UA): mean per-class recall over the classes present in y_true.
* ``recall_at_k``: retrieval R@K with cosine similarity (paper Table 2).

Inputs may be numpy arrays, lists or torch tensors.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch

__all__ = [
    "top1",
    "per_class_accuracy",
    "weighted_accuracy",
    "unweighted_accuracy",
    "recall_at_k",
    "SCALAR_METRICS",
    "REGIME_METRICS",
]

#: The scalar metrics of a run (``Result.metrics`` keys) that the paper's tables report, each with
#: its display name: the one list (amidlib.repro.runs.SCALARS, amidlib.paper.names.METRIC_NAMES).
SCALAR_METRICS: dict[str, str] = {
    "student_top1": "top-1",
    "teacher_top1": "top-1",
    "student_r1": "R@1",
    "student_r5": "R@5",
    "wa": "WA",
    "ua": "UA",
}
#: AMID's loss terms (Eq 17, weighted) whose share of the objective each run records
LOSS_SHARE_TERMS = ("cls", "jsd", "mi_s", "mi_a", "adv")
#: what each run records of the regime it trained in (amidlib.core.experiment.regime_summary; runs.csv): the
#: batches' composition, λ1's range (Eq 14) and each AMID term's share of the objective (distillation epochs)
REGIME_METRICS = ("batch_positives", "batch_with_partner", "lambda1_min", "lambda1_max",
                  *(f"share_{t}" for t in LOSS_SHARE_TERMS))


def _labels(x, what: str) -> np.ndarray:
    """Label vector (numpy / list / torch) -> 1-D int64 numpy array."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    a = np.asarray(x)
    if a.ndim != 1:
        raise ValueError(f"{what} must be a 1-D vector of class labels, got shape {a.shape}")
    if a.size and not np.issubdtype(a.dtype, np.integer):
        if not np.issubdtype(a.dtype, np.number) or np.any(a != np.round(a)):
            raise ValueError(f"{what} must contain integer class labels, got dtype {a.dtype}")
    return a.astype(np.int64)


def _pair(y_true, y_pred) -> tuple[np.ndarray, np.ndarray]:
    yt, yp = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if len(yt) != len(yp):
        raise ValueError(f"length mismatch: y_true has {len(yt)} labels, y_pred has {len(yp)}")
    if len(yt) == 0:
        raise ValueError("empty input: y_true and y_pred have 0 labels")
    return yt, yp


def top1(y_true, y_pred) -> float:
    """Top-1 accuracy in percent."""
    yt, yp = _pair(y_true, y_pred)
    return float(100.0 * np.mean(yt == yp))


def weighted_accuracy(y_true, y_pred) -> float:
    """WA (IEMOCAP convention): overall accuracy in percent."""
    return top1(y_true, y_pred)


def per_class_accuracy(y_true, y_pred, n_classes: int | None = None) -> np.ndarray:
    """Per-class recall in percent, shape (n_classes,).

    Entry c is the share of samples of class c predicted as c; NaN when class
    c does not occur in ``y_true``. ``n_classes`` defaults to
    ``max(y_true, y_pred) + 1``.
    """
    yt, yp = _pair(y_true, y_pred)
    if min(yt.min(), yp.min()) < 0:
        raise ValueError("labels must be non-negative")
    if n_classes is None:
        n_classes = int(max(yt.max(), yp.max())) + 1
    if yt.max() >= n_classes:
        raise ValueError(f"y_true has label {int(yt.max())} >= n_classes={n_classes}")
    support = np.bincount(yt, minlength=n_classes).astype(np.float64)
    hits = np.bincount(yt[yt == yp], minlength=n_classes).astype(np.float64)
    out = np.full(n_classes, np.nan)
    present = support > 0
    out[present] = 100.0 * hits[present] / support[present]
    return out


def unweighted_accuracy(y_true, y_pred) -> float:
    """UA (IEMOCAP convention): mean per-class recall over classes present in y_true, percent.

    Predicted classes that never occur in ``y_true`` lower the recall of the
    true class but add no term of their own. (Equal to sklearn's
    ``balanced_accuracy_score`` without its warning for such predictions.)
    """
    yt, yp = _pair(y_true, y_pred)
    classes, inverse = np.unique(yt, return_inverse=True)
    support = np.bincount(inverse, minlength=len(classes))
    hits = np.bincount(inverse[yt == yp], minlength=len(classes))
    return float(100.0 * np.mean(hits / support))


def _features(x, what: str) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        x = torch.from_numpy(np.asarray(x))
    if x.ndim != 2:
        raise ValueError(f"{what} must be 2-D (n, dim), got shape {tuple(x.shape)}")
    if not torch.is_floating_point(x) or x.dtype in (torch.float16, torch.bfloat16):
        x = x.float()
    return x


@torch.no_grad()
def recall_at_k(
    query,
    query_labels,
    gallery,
    gallery_labels,
    ks: Iterable[int] = (1, 5),
    chunk_size: int = 1024,
) -> dict[int, float]:
    """Retrieval Recall@K in percent, by cosine similarity.

    For each query, the K gallery items most cosine-similar to it are taken
    (ties in the order of ``torch.topk``); R@K is the share of queries with
    at least one same-class item among them. No self-exclusion: pass
    disjoint query and gallery sets (e.g. test queries, train gallery).
    Queries are processed ``chunk_size`` at a time, so memory stays at
    ``chunk_size x n_gallery`` similarities. A K larger than the gallery is
    capped at the gallery size.

    ``query``, ``gallery``: array-like or torch.Tensor of shape (n, dim); ``query_labels``,
    ``gallery_labels``: array-like or torch.Tensor of shape (n,); ``ks``: the K values, each >= 1.
    Returns ``{k: percent}`` for every k in ``ks``.
    """
    q, g = _features(query, "query"), _features(gallery, "gallery")
    ql, gl = _labels(query_labels, "query_labels"), _labels(gallery_labels, "gallery_labels")
    if q.shape[0] != len(ql):
        raise ValueError(f"length mismatch: query has {q.shape[0]} rows, query_labels has {len(ql)}")
    if g.shape[0] != len(gl):
        raise ValueError(
            f"length mismatch: gallery has {g.shape[0]} rows, gallery_labels has {len(gl)}"
        )
    if q.shape[0] == 0 or g.shape[0] == 0:
        raise ValueError(f"empty input: {q.shape[0]} queries, {g.shape[0]} gallery items")
    if q.shape[1] != g.shape[1]:
        raise ValueError(f"dimension mismatch: query dim {q.shape[1]}, gallery dim {g.shape[1]}")
    ks = [int(k) for k in ks]
    if not ks or min(ks) < 1:
        raise ValueError(f"ks must be a non-empty list of integers >= 1, got {ks}")

    dtype = torch.promote_types(q.dtype, g.dtype)
    device = g.device
    g = torch.nn.functional.normalize(g.to(dtype), dim=1)
    q = torch.nn.functional.normalize(q.to(device=device, dtype=dtype), dim=1)
    gl_t = torch.as_tensor(gl, device=device)
    ql_t = torch.as_tensor(ql, device=device)
    k_max = min(max(ks), g.shape[0])

    hits = {k: 0 for k in ks}
    for start in range(0, q.shape[0], chunk_size):
        sim = q[start : start + chunk_size] @ g.T
        nn_idx = torch.topk(sim, k_max, dim=1).indices  # sorted, most similar first
        match = gl_t[nn_idx] == ql_t[start : start + chunk_size, None]
        # first_hit[i] = rank of the first same-class neighbour (k_max if none)
        first_hit = torch.where(match.any(dim=1), match.float().argmax(dim=1), k_max)
        for k in ks:
            hits[k] += int((first_hit < min(k, k_max)).sum())
    return {k: 100.0 * hits[k] / q.shape[0] for k in ks}
