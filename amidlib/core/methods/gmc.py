"""GMC baseline: Geometric Multimodal Contrastive learning (Poklukar et al., ICML 2022), online.

What the official code does (miguelsvasco/gmc, ``architectures/models/gmc.py``, ``infonce``):
modality-specific processors and a joint processor (over all modalities) map into a common space;
one *shared* encoder g maps every representation to a latent space and L2-normalises it. For each
modality m the B joint latents and the B modality latents are stacked into 2B rows, the (2B, 2B)
matrix exp(<z_a, z_b>/τ) has its diagonal removed, and row r's loss is
−log exp(<z_joint_i, z_m_i>/τ) / Σ_{b ≠ r} exp(<z_r, z_b>/τ): the positive of joint_i is m_i and
of m_i is joint_i; every other row of the 2B is a negative (the positive stays in the
denominator). Labels are not used. The loss is the mean over the 2B rows of the sum over
modalities; the supervised variant adds the task loss with weight 1 (``super_gmc_loss``).
Temperature: 0.3 in the supervised (MOSI/MOSEI) configs, 0.1 in the unsupervised MHD config; the
shared encoder is one linear layer (affect) or a 3-layer Swish MLP (MHD), latent 60 / 64.

Adaptation: the joint representation is the online teacher M (over target + auxiliary), the
modality-specific ones are the student S (target) and A (auxiliary projection). g is a 2-layer MLP
(dim → dim → gmc_latent_dim, LeakyReLU as everywhere in this package), a submodule trained by the
main optimizer. Total: L_cls (Eq 15) + gmc_weight · Σ_{m ∈ {S, A}} NT-Xent(M, m); τ = 0.3 (this is a
supervised task), weight 1, latent 64. Warm-up: L_cls only.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from amidlib.core import losses
from amidlib.core.method import Batch, Method, StepOutput, register
from amidlib.core.models import mlp


def gmc_infonce(z_joint: torch.Tensor, z_mod: torch.Tensor, tau: float) -> torch.Tensor:
    """GMC's NT-Xent for one modality over the 2B stacked, L2-normalised rows; mean over rows."""
    b = z_joint.shape[0]
    z = torch.cat([z_joint, z_mod], dim=0)
    logits = z @ z.T / tau
    self_mask = torch.eye(2 * b, dtype=torch.bool, device=z.device)
    log_denominator = logits.masked_fill(self_mask, float("-inf")).logsumexp(dim=1)
    positive = (z_joint * z_mod).sum(dim=1) / tau
    return (log_denominator - positive.repeat(2)).mean()


@register
class GMC(Method):
    name = "gmc"
    presentation = {"label": "GMC", "colour": "#882255", "tables": ("table1", "table2", "table3"),
                    "linestyle": (0, (6, 2)), "marker": "P"}
    batchable = True
    defaults = {"gmc_weight": 1.0, "gmc_tau": 0.3, "gmc_latent_dim": 64}

    def __init__(self, nets, cfg, n_classes: int, n_train: int):
        super().__init__(nets, cfg, n_classes, n_train)
        self.head = mlp([cfg.dim, cfg.dim, cfg.gmc_latent_dim])  # the shared projection g

    def project(self, x: torch.Tensor) -> torch.Tensor:
        return F.normalize(self.head(x), dim=1)

    def forward(self, batch: Batch, epoch: int) -> StepOutput:
        reps = self.nets(batch.x_target, batch.x_aux)
        out = {"cls": losses.classification_loss(reps.student_logits, reps.teacher_logits, batch.y)}
        if not self.in_warmup(epoch):
            z_joint = self.project(reps.m)
            gmc = gmc_infonce(z_joint, self.project(reps.s), self.cfg.gmc_tau) + gmc_infonce(
                z_joint, self.project(reps.a), self.cfg.gmc_tau
            )
            out["gmc"] = self.cfg.gmc_weight * gmc
        return StepOutput(reps, out)
