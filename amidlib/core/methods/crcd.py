"""CRCD baseline: Complementary Relation Contrastive Distillation (Zhu et al., CVPR 2021), online.

There is no official code; the first author's public re-implementation (Lechatelia/CRCD,
``crcd/memory.py``, ``crcd/criterion.py``, ``helper/loops.py``, ``train_student.py``; its README
calls it "not official, incomplete, not checked") is CRD's machinery applied to *relations*:
- anchors are the memory-bank rows of the batch's samples (detached); for the student side the
  anchor a_j is the teacher bank row of sample j, the anchor–student relation is
  normalise(v_i − a_j) and the anchor–teacher relations are normalise(bank_t[k] − a_j) for k = the
  sample's own row (positive) and K negatives drawn as in CRD; score exp(<·,·>/τ)/Z, Z fixed on the
  first batch, CRD's NCE loss over the B·B (i, j) pairs; the teacher side mirrors it (teacher
  embedding vs the student bank's relations, student-bank anchors); the two sides are summed;
- the complementary "gradient element": the gradients of the CE loss w.r.t. the teacher's and the
  student's penultimate features (``torch.autograd.grad(..., create_graph=True)``), matched by
  ``10 · (1 − mean_i cos(g_t_i, g_s_i))`` (its default ``grad_kd_type='mse'``, weight 1);
- defaults: feat_dim 128, nce_k 500, nce_t 0.05, nce_m 0.5, relation-loss weight β = 1.

The CVPR paper's own text is not available here, so the weights follow that code. Simplifications
and readings, stated honestly:
- online setting: S is the student, M the teacher, trained jointly by L_cls (Eq 15) + crcd_weight
  · L_relation + crcd_grad_weight · (1 − cos); both sides receive gradients (the author's teacher
  is frozen). Warm-up: L_cls only (banks and labels still updated, as in ``crd``).
- pairs with j = i are dropped: there the anchor–teacher positive is bank_t[i] − bank_t[i] = 0
  (the author's code adds 1e-6 and keeps it); so B(B − 1) relation rows per side.
- the gradient term is added directly; the author's ``loops.py`` multiplies it by α·L_KL, which
  looks like a slip and has no counterpart here (no KL term in this setting). Its weight 10 is the
  code's factor 10 × ``grad_kd_weight`` 1. The paper also contrasts *gradient relations* with the
  same relation loss (``grad_kd_type='crcd'``); that variant is not implemented.
- the author's dynamic loss-weight schedule (the distillation weight is zeroed for the last 4 %
  of training) is not used; weights are constant.
- the cosine of two relations is computed from dot products, <x−a, y−a>/(‖x−a‖‖y−a‖), so the
  (B, B, K+1, d) relation tensor is never built; a relation whose squared norm is below
  64·eps·(‖x‖² + ‖a‖²) (zero up to rounding, e.g. a negative that is the anchor itself) gets
  cosine 0, like F.normalize of a zero vector.
Negative sampling, K capping, Z and the banks follow ``crd`` (see its docstring; the author's
CRCD code also L2-normalises the initial bank rows, which matters only without warm-up).
Cost: B(B − 1)(K + 1) relation scores per side and step (1.2 M at B = 64, K = 299).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from amidlib.core import losses
from amidlib.core.method import Batch, Defaults, Method, StepOutput, register
from amidlib.core.methods.crd import MemoryBanks, nce_loss

TINY = 1e-30  # keeps rsqrt finite where the relation is masked out anyway


def relation_logits(v: torch.Tensor, bank: torch.Tensor, idx: torch.Tensor, index: torch.Tensor,
                    tau: float) -> torch.Tensor:
    """cos(v_i − a_j, r_ik − a_j)/τ for every pair i ≠ j: shape (B(B − 1), K+1), row order (i, j).

    v (B, d) embeddings (differentiable); r_ik = bank[idx_ik] the contrast rows of i and
    a_j = bank[index_j] the anchors (constants). A relation vector that is zero up to rounding (a
    contrast row equal to the anchor: a negative drawn from the batch itself) has cosine 0, as
    F.normalize of a zero vector would give. Only (n, B) products and gathers: no (B, B, K+1, d)
    relation tensor and no (B, K+1, d) gather.
    """
    b, tol = v.shape[0], 64 * torch.finfo(v.dtype).eps
    anchors = bank[index]

    def inverse_norm(sq: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
        # 1/‖x − a‖ from ‖x‖² − 2<x, a> + ‖a‖²; 0 where the relation is zero up to rounding
        return torch.where(sq > tol * scale, sq.clamp_min(TINY).rsqrt(), torch.zeros_like(sq))

    with torch.no_grad():  # everything that involves only bank rows
        sq_bank = (bank * bank).sum(1)                                   # (n,)
        aa = sq_bank[index].view(1, -1, 1)                               # (1, J, 1)
        ra = (bank @ anchors.T)[idx].transpose(1, 2)                     # (B, J, K+1)
        rr = sq_bank[idx].unsqueeze(1)                                   # (B, 1, K+1)
        inv_r = inverse_norm(rr - 2 * ra + aa, rr + aa)                  # (B, J, K+1)
        shift = (aa - ra) * inv_r                                        # (B, J, K+1)
    va = (v @ anchors.T).unsqueeze(2)                                    # (B, J, 1)
    vr = (v @ bank.T).gather(1, idx).unsqueeze(1)                        # (B, 1, K+1)
    vv = (v * v).sum(1).view(-1, 1, 1)                                   # (B, 1, 1)
    inv_v = inverse_norm(vv - 2 * va + aa, vv + aa) / tau                # (B, J, 1)
    logits = ((vr - va) * inv_r + shift) * inv_v                         # <v−a, r−a> / (‖v−a‖‖r−a‖ τ)
    # the pairs i ≠ j in row order, by fixed-shape views (a boolean mask would wait for the device): in the
    # flattened (B·B) rows the diagonal sits every B + 1; drop row 0, fold by B + 1, drop the last column
    k1 = logits.shape[-1]
    return logits.flatten(0, 1)[1:].view(b - 1, b + 1, k1)[:, :-1].reshape(b * (b - 1), k1)


def crcd_relation_loss(f_s, f_t, bank_s, bank_t, index, idx, tau: float, log_z, n_data: int) -> torch.Tensor:
    """The pure relation loss for fixed banks, batch rows ``index`` (B,) and indices ``idx`` (B, K+1)."""
    loss_s = nce_loss(relation_logits(f_s, bank_t, idx, index, tau) - log_z[0], n_data)
    loss_t = nce_loss(relation_logits(f_t, bank_s, idx, index, tau) - log_z[1], n_data)
    return loss_s + loss_t


def gradient_match_loss(student_feat, teacher_feat, student_logits, teacher_logits, y) -> torch.Tensor:
    """1 − mean_i cos(∂CE_t/∂t_i, ∂CE_s/∂s_i), differentiable (create_graph)."""
    g_s, = torch.autograd.grad(F.cross_entropy(student_logits, y), student_feat, create_graph=True)
    g_t, = torch.autograd.grad(F.cross_entropy(teacher_logits, y), teacher_feat, create_graph=True)
    return 1 - F.cosine_similarity(g_t, g_s, dim=1).mean()


@register
class CRCD(Method):
    name = "crcd"
    presentation = {"label": "CRCD", "colour": "#332288", "tables": ("table1", "table2", "table3"),
                    "linestyle": (0, (1, 1)), "marker": "X"}
    # the relation loss scores B(B−1)(K+1) relations per step: on the CPU presets K = 64 instead of the
    # code's 500 keeps a run to seconds (the paper presets keep 500)
    defaults = Defaults({"crcd_weight": 1.0, "crcd_grad_weight": 10.0, "crcd_feat_dim": 128, "crcd_nce_k": 500,
                         "crcd_nce_t": 0.05, "crcd_momentum": 0.5},
                        presets={p: {"crcd_nce_k": 64} for p in ("tiny", "embedded", "embedded_pairs")})

    def __init__(self, nets, cfg, n_classes: int, n_train: int):
        super().__init__(nets, cfg, n_classes, n_train)
        self.embed_s = nn.Linear(cfg.dim, cfg.crcd_feat_dim)
        self.embed_t = nn.Linear(cfg.dim, cfg.crcd_feat_dim)
        self.memory = MemoryBanks(n_train, cfg.crcd_feat_dim, cfg.crcd_momentum)

    def forward(self, batch: Batch, epoch: int) -> StepOutput:
        cfg, mem, y = self.cfg, self.memory, batch.y
        reps = self.nets(batch.x_target, batch.x_aux)
        out = {"cls": losses.classification_loss(reps.student_logits, reps.teacher_logits, y)}
        f_s, f_t = F.normalize(self.embed_s(reps.s), dim=1), F.normalize(self.embed_t(reps.m), dim=1)
        if self.training:
            mem.see(batch.index, y)
        if not self.in_warmup(epoch):
            idx, tau = mem.sample(batch.index, y, cfg.crcd_nce_k), cfg.crcd_nce_t
            if mem.z_unset():  # a batch of one has no pair i ≠ j: Z stays unset and the loss is 0
                mem.set_log_z(relation_logits(f_s, mem.teacher, idx, batch.index, tau),
                              relation_logits(f_t, mem.student, idx, batch.index, tau), self.n_train)
            out["crcd"] = cfg.crcd_weight * crcd_relation_loss(
                f_s, f_t, mem.student, mem.teacher, batch.index, idx, tau, mem.log_z, self.n_train)
            if torch.is_grad_enabled():
                out["crcd_grad"] = cfg.crcd_grad_weight * gradient_match_loss(
                    reps.s, reps.m, reps.student_logits, reps.teacher_logits, y)
        if self.training:
            mem.update(batch.index, f_s.detach(), f_t.detach())
        return StepOutput(reps, out)
