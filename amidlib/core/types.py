"""The two records that cross layer boundaries: a mini-batch (made by the data layer, read by the
methods) and one forward pass's representations (made by the nets, read by methods and metrics)."""
from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["Batch", "Representations"]


@dataclass
class Batch:
    """One mini-batch: concatenated target features, auxiliary features, labels, dataset indices."""

    x_target: torch.Tensor
    x_aux: torch.Tensor
    y: torch.Tensor
    index: torch.Tensor


@dataclass
class Representations:
    """One forward pass: representations (B, d) and the classifier's logits."""

    s: torch.Tensor
    m: torch.Tensor | None
    a: torch.Tensor | None
    student_logits: torch.Tensor
    teacher_logits: torch.Tensor | None
