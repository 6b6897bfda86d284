"""The three models of AMID (paper §3, §4.2) and its two discriminators.

- S, the target (student) model: the target extractor; its output is the student representation.
- M, the full-modality teacher: a 2-layer MLP over concat(target features, auxiliary features), where
  the target features come from the *student's own extractor* (the teacher shares the student's
  extractors, §4.2), so the teacher's losses also train the student's extractor.
- A, the auxiliary model: a frozen pre-trained auxiliary extractor + a trainable projection to the
  common dimension.
- One classifier shared by S and M (Eq 15).
- D1 a 5-layer MLP, D2 a 3-layer MLP. LeakyReLU everywhere (§4.2).

For pre-extracted features (the embedded data, CCL-format CNN14 embeddings) the frozen auxiliary
extractor is the identity on those features; for raw inputs any frozen ``nn.Module`` can be passed.
"""
from __future__ import annotations

import torch
from torch import nn

from amidlib.core.types import Representations

NEG_SLOPE = 0.2


def mlp(dims: list[int], *, last_activation: bool = False, dropout: float = 0.0) -> nn.Sequential:
    """An MLP with LeakyReLU between layers; ``len(dims) - 1`` linear layers."""
    layers: list[nn.Module] = []
    for i, (d_in, d_out) in enumerate(zip(dims[:-1], dims[1:], strict=True)):
        layers.append(nn.Linear(d_in, d_out))
        if i < len(dims) - 2 or last_activation:
            layers.append(nn.LeakyReLU(NEG_SLOPE))
            if dropout:
                layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers)


def target_mlp_extractor(in_dim: int, dim: int, hidden: int, dropout: float = 0.0) -> nn.Module:
    """The student network for feature-vector inputs: 2 hidden layers, output = representation S."""
    return mlp([in_dim, hidden, hidden, dim], last_activation=True, dropout=dropout)


def discriminator(dim: int, hidden: int, n_layers: int) -> nn.Sequential:
    """An ``n_layers``-layer MLP discriminator d → 1 logit (D1: 5 layers, D2: 3 layers)."""
    return mlp([dim] + [hidden] * (n_layers - 1) + [1])


class CrossModalNets(nn.Module):
    """S, M, A and the shared classifier, wired as in the paper's Fig 2."""

    def __init__(
        self,
        target_extractor: nn.Module,
        aux_extractor: nn.Module,
        target_feat_dim: int,
        aux_feat_dim: int,
        dim: int,
        n_classes: int,
        teacher_hidden: int | None = None,
    ):
        super().__init__()
        self.target_extractor = target_extractor
        self.aux_extractor = aux_extractor.requires_grad_(False)  # pre-trained and frozen (§4.2)
        self.aux_projection = nn.Linear(aux_feat_dim, dim)  # A = projection of the frozen features
        hidden = teacher_hidden or dim
        self.teacher_head = mlp([target_feat_dim + aux_feat_dim, hidden, dim], last_activation=True)
        self.classifier = nn.Linear(dim, n_classes)  # shared by S and M (Eq 15)
        self.dim = dim

    def train(self, mode: bool = True):
        super().train(mode)
        self.aux_extractor.eval()  # frozen: no dropout / batch-norm updates either
        return self

    def student(self, x_target: torch.Tensor) -> torch.Tensor:
        """S: the target representation."""
        return self.target_extractor(x_target)

    def forward(self, x_target: torch.Tensor, x_aux: torch.Tensor | None = None,
                with_teacher: bool = True) -> Representations:
        s = self.student(x_target)
        student_logits = self.classifier(s)
        if not with_teacher:
            return Representations(s, None, None, student_logits, None)
        with torch.no_grad():
            aux_feat = self.aux_extractor(x_aux)
        m = self.teacher_head(torch.cat([s, aux_feat], dim=1))
        a = self.aux_projection(aux_feat)
        return Representations(s, m, a, student_logits, self.classifier(m))


def build_nets(target_dim: int, aux_dim: int, n_classes: int, dim: int, hidden: int,
               dropout: float = 0.0) -> CrossModalNets:
    """The nets for feature-vector data: MLP student extractor, identity auxiliary extractor."""
    return CrossModalNets(
        target_extractor=target_mlp_extractor(target_dim, dim, hidden, dropout),
        aux_extractor=nn.Identity(),
        target_feat_dim=dim,
        aux_feat_dim=aux_dim,
        dim=dim,
        n_classes=n_classes,
        teacher_hidden=hidden,
    )
