"""CRD baseline: Contrastive Representation Distillation (Tian et al., ICLR 2020), online.

What the official code does (HobbitLong/RepDistiller, ``crd/criterion.py``, ``crd/memory.py``,
``dataset/cifar100.py``, ``train_student.py``): the student and teacher features each go through
a linear embedding to 128-d and an L2 norm. ``ContrastMemory`` keeps one memory bank per side over
the whole training set (rows initialised uniform in ±1/√(d/3)). For every sample, the data loader
draws K negative row indices from the *other classes* (without replacement unless K exceeds their
number) and puts the sample's own index first. The teacher embedding is scored against the
student bank's rows and the student embedding against the teacher bank's rows:
P = exp(<row, v>/τ) / Z, with Z = mean(exp(·)) × n_data fixed once, on the first batch. The NCE
loss (their Eq 18, noise Pn = 1/n_data) is, per side,

    −(1/B) [ Σ_i log P_i0 / (P_i0 + K·Pn + ε) + Σ_i Σ_k log K·Pn / (P_ik + K·Pn + ε) ],  ε = 1e-7,

and the two sides are summed. After scoring, each bank row of the batch becomes
normalise(momentum · row + (1 − momentum) · v), momentum 0.5. Defaults: feat_dim 128,
nce_k 16384, nce_t 0.07, nce_m 0.5, and CRD's weight β = 0.8 (``-a 0 -b 0.8`` in
``scripts/run_cifar_distill.sh``).

Adaptation to the online teacher–student setting of AMID: "student" = S, "teacher" = M, trained
jointly by L_cls (Eq 15) + β·L_crd; both embeddings receive gradients (RepDistiller's teacher is
frozen; only its embedding head learns). Readings of what is open:
- K = min(crd_nce_k, n_train − 1): capped by the bank size on small datasets.
- Negatives "from other classes" need the labels of bank rows; a label buffer is filled from
  ``batch.y`` as rows are seen. A row not yet seen has an unknown label and is eligible (sampled
  uniformly with the known other-class rows). Draws are without replacement when every anchor of
  the batch has ≥ K eligible rows, else with replacement (RepDistiller's rule, per batch). An
  anchor with no eligible row (one class only) falls back to all other rows.
- During warm-up only L_cls trains, but the banks and labels are still updated (no gradient),
  so distillation starts from real embeddings, not the random initialisation; Z is fixed on the
  first distillation batch.
- The NCE is computed in log space, log(P + K·Pn + ε) = log(K·Pn + ε) + softplus(log P −
  log(K·Pn + ε)): the formula above exactly, without overflow of exp(1/τ). Z is stored as log Z.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from amidlib.core import losses
from amidlib.core.method import Batch, Method, StepOutput, register

NCE_EPS = 1e-7  # RepDistiller's eps in the NCE denominators


def contrast_logits(anchor: torch.Tensor, bank: torch.Tensor, idx: torch.Tensor, tau: float) -> torch.Tensor:
    """<bank[idx_ik], v_i>/τ for anchors v (B, d): shape (B, K+1).

    One (B, n) product and a gather: cheaper than gathering (B, K+1, d) rows, since K < n.
    """
    return (anchor @ bank.T).gather(1, idx) / tau


def nce_loss(log_p: torch.Tensor, n_data: int) -> torch.Tensor:
    """RepDistiller's ContrastLoss from log P (rows × (K+1), column 0 the positive); mean over rows."""
    rows, k = log_p.shape[0], log_p.shape[1] - 1
    if rows == 0:
        return log_p.sum()  # no rows: 0, not NaN
    noise = k / n_data  # K·Pn
    log_noise_eps = math.log(noise + NCE_EPS)
    log_denominator = log_noise_eps + F.softplus(log_p - log_noise_eps)  # log(P + K·Pn + ε), stable
    log_d1 = log_p[:, 0] - log_denominator[:, 0]
    log_d0 = math.log(noise) - log_denominator[:, 1:] if k else log_p.new_zeros(())
    return -(log_d1.sum() + log_d0.sum()) / rows


def log_z_from(logits: torch.Tensor, n_data: int) -> torch.Tensor:
    """log Z with Z = mean(exp(logits)) × n_data (RepDistiller, first batch)."""
    return (torch.logsumexp(logits.detach().flatten(), 0) - math.log(logits.numel()) + math.log(n_data))


def crd_loss(f_s, f_t, bank_s, bank_t, idx, tau: float, log_z, n_data: int) -> torch.Tensor:
    """The pure CRD loss for fixed banks and indices ``idx`` (B, K+1; column 0 = own row).

    Student anchors against teacher-bank rows + teacher anchors against student-bank rows;
    ``log_z`` = (log Z_student_side, log Z_teacher_side).
    """
    loss_s = nce_loss(contrast_logits(f_s, bank_t, idx, tau) - log_z[0], n_data)
    loss_t = nce_loss(contrast_logits(f_t, bank_s, idx, tau) - log_z[1], n_data)
    return loss_s + loss_t


class MemoryBanks(nn.Module):
    """One momentum bank per side (S, M), the labels of rows seen so far, and log Z per side."""

    def __init__(self, n_data: int, dim: int, momentum: float):
        super().__init__()
        stdv = 1.0 / math.sqrt(dim / 3)
        self.momentum = momentum
        self.register_buffer("student", torch.rand(n_data, dim) * 2 * stdv - stdv)
        self.register_buffer("teacher", torch.rand(n_data, dim) * 2 * stdv - stdv)
        self.register_buffer("labels", torch.full((n_data,), -1, dtype=torch.long))  # -1: not seen yet
        self.register_buffer("log_z", torch.full((2,), float("nan")))  # NaN: Z not fixed yet
        self._z_known = False

    @torch.no_grad()
    def sample(self, index: torch.Tensor, y: torch.Tensor, k: int) -> torch.Tensor:
        """(B, K+1) row indices: own row first, then K negatives from other (or unseen) classes."""
        n = self.labels.numel()
        k = min(k, n - 1)
        if k <= 0:
            return index.view(-1, 1)
        rows = torch.arange(len(index), device=index.device)
        eligible = self.labels.view(1, -1) != y.view(-1, 1)  # unseen rows (label -1) are eligible
        eligible[rows, index] = False
        empty = ~eligible.any(dim=1)
        if empty.any():  # only one class known: fall back to all other rows
            eligible[empty] = True
            eligible[rows[empty], index[empty]] = False
        replacement = bool((eligible.sum(dim=1) < k).any())
        negatives = torch.multinomial(eligible.float(), k, replacement=replacement)
        return torch.cat([index.view(-1, 1), negatives], dim=1)

    @torch.no_grad()
    def see(self, index: torch.Tensor, y: torch.Tensor) -> None:
        self.labels[index] = y

    def z_unset(self) -> bool:
        # once fixed, Z stays: the buffer is read (a wait for the device) only until then
        if not self._z_known:
            self._z_known = not bool(torch.isnan(self.log_z).any())
        return not self._z_known

    @torch.no_grad()
    def set_log_z(self, logits_s: torch.Tensor, logits_t: torch.Tensor, n_data: int) -> None:
        if logits_s.numel():
            self.log_z.copy_(torch.stack([log_z_from(logits_s, n_data), log_z_from(logits_t, n_data)]))

    @torch.no_grad()
    def update(self, index: torch.Tensor, v_s: torch.Tensor, v_t: torch.Tensor) -> None:
        """row ← normalise(momentum · row + (1 − momentum) · v); out of place, because this step's
        loss graph still holds the old bank."""
        for name, v in (("student", v_s), ("teacher", v_t)):
            bank = getattr(self, name)
            rows = F.normalize(self.momentum * bank[index] + (1 - self.momentum) * v, dim=1)
            setattr(self, name, bank.index_copy(0, index, rows))


@register
class CRD(Method):
    name = "crd"
    presentation = {"label": "CRD", "colour": "#56b4e9", "tables": ("table1", "table2"), "linestyle": "-.",
                    "marker": "v"}
    defaults = {"crd_weight": 0.8, "crd_feat_dim": 128, "crd_nce_k": 16384, "crd_nce_t": 0.07, "crd_momentum": 0.5}

    def __init__(self, nets, cfg, n_classes: int, n_train: int):
        super().__init__(nets, cfg, n_classes, n_train)
        self.embed_s = nn.Linear(cfg.dim, cfg.crd_feat_dim)
        self.embed_t = nn.Linear(cfg.dim, cfg.crd_feat_dim)
        self.memory = MemoryBanks(n_train, cfg.crd_feat_dim, cfg.crd_momentum)

    def forward(self, batch: Batch, epoch: int) -> StepOutput:
        cfg, mem = self.cfg, self.memory
        reps = self.nets(batch.x_target, batch.x_aux)
        out = {"cls": losses.classification_loss(reps.student_logits, reps.teacher_logits, batch.y)}
        f_s, f_t = F.normalize(self.embed_s(reps.s), dim=1), F.normalize(self.embed_t(reps.m), dim=1)
        if self.training:
            mem.see(batch.index, batch.y)
        if not self.in_warmup(epoch):
            idx = mem.sample(batch.index, batch.y, cfg.crd_nce_k)
            if mem.z_unset():
                mem.set_log_z(contrast_logits(f_s, mem.teacher, idx, cfg.crd_nce_t),
                              contrast_logits(f_t, mem.student, idx, cfg.crd_nce_t), self.n_train)
            out["crd"] = cfg.crd_weight * crd_loss(f_s, f_t, mem.student, mem.teacher, idx, cfg.crd_nce_t, mem.log_z,
                                                   self.n_train)
        if self.training:
            mem.update(batch.index, f_s.detach(), f_t.detach())
        return StepOutput(reps, out)
