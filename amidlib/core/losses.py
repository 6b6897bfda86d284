"""AMID's losses, one function per equation of the paper (§3).

Notation follows the paper: ``m`` the full-modality (teacher) representations M, ``s`` the target
(student) representations S, ``a`` the auxiliary representations A, all of shape (B, d); ``labels``
of shape (B,). Every function returns a scalar tensor unless stated otherwise.

Readings of what the paper leaves open are stated in each docstring (collected in docs/design.md).
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = [
    "cosine_logits",
    "mi_lower_bound_loss",
    "nce_contrastive_loss",
    "ccl_nce_loss",
    "adversarial_generator_loss",
    "discriminator_loss",
    "same_class_partner",
    "update_lambdas",
    "classification_loss",
    "jsd",
]


def cosine_logits(m: torch.Tensor, s: torch.Tensor, tau: float) -> torch.Tensor:
    """Eq 7's logits Φ(M_i, S_j)/τ with Φ the cosine similarity; shape (B, B)."""
    return F.normalize(m, dim=1) @ F.normalize(s, dim=1).T / tau


def _log_h_and_log_one_minus_h(logits: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """log h and log(1 − h) of the row-wise softmax h (Eq 7), both exact and finite, in O(B²).

    log(1 − h_ij) = log Σ_{k≠j} exp(z_ik) − log Σ_k exp(z_ik). With m the row maximum (at column a):
    - j ≠ a: Σ_{k≠j} exp(z_ik − m) = total − exp(z_ij − m), and it still holds the term exp(0) = 1 of
      column a, so it is ≥ 1: no cancellation, a finite log and a finite gradient;
    - j = a: a logsumexp over the row with column a masked out.
    So a row that is one-hot to float precision (tiny τ) still gets the exact log(1 − h), never
    log(0), and its gradient stays finite; a batch of one gives a finite (unused) value.
    """
    lse = logits.logsumexp(dim=1, keepdim=True)
    log_h = logits - lse
    row_max, argmax = logits.max(dim=1, keepdim=True)
    is_max = torch.arange(logits.shape[1], device=logits.device) == argmax  # (B, B): the argmax column
    shifted = (logits - row_max).exp()
    rest = shifted.sum(dim=1, keepdim=True) - shifted  # Σ_{k≠j} exp(z_ik − m), ≥ 1 off the argmax
    log_rest_other = row_max + torch.log(torch.where(is_max, torch.ones_like(rest), rest))
    very_negative = torch.finfo(logits.dtype).min / 4  # finite: no NaN gradient for a batch of one
    log_rest_max = logits.masked_fill(is_max, very_negative).logsumexp(dim=1, keepdim=True)
    log_one_minus_h = torch.where(is_max, log_rest_max, log_rest_other) - lse
    return log_h, log_one_minus_h


def mi_lower_bound_loss(m: torch.Tensor, s: torch.Tensor, labels: torch.Tensor, tau: float) -> torch.Tensor:
    """Eq 8 (and Eq 9 with ``a`` in place of ``s``): the label-aware contrastive MI lower-bound loss.

    h(M_i, S_j) is a softmax over j of cos(M_i, S_j)/τ across the whole batch (Eq 7). Row i's
    positives are all S_j with y_j = y_i (j = i included: the k pairs of Eq 3), negatives the N others:

        L = −(1/B) Σ_i [ Σ_{j: y_j = y_i} log h_ij + Σ_{j: y_j ≠ y_i} log(1 − h_ij) ]

    The sums (not means) over positives and negatives are what make it the bound of Eq 5–6.
    """
    log_h, log_1mh = _log_h_and_log_one_minus_h(cosine_logits(m, s, tau))
    pos = labels.view(-1, 1) == labels.view(1, -1)
    per_pair = torch.where(pos, log_h, log_1mh)
    return -per_pair.sum(dim=1).mean()


def nce_contrastive_loss(anchor: torch.Tensor, other: torch.Tensor, labels: torch.Tensor, tau: float) -> torch.Tensor:
    """CCL's multi-class contrastive loss ct(anchor, other) (Chen et al. 2021), one direction.

    The same softmax h as Eq 7, but per anchor the *mean* of −log h over its positives plus the
    *mean* of −log(1 − h) over its negatives; an anchor with no negatives contributes only its
    positive term (never NaN). Used by CCL and by the "AMID with L_nce" ablation (Table 4).
    """
    log_h, log_1mh = _log_h_and_log_one_minus_h(cosine_logits(anchor, other, tau))
    pos = (labels.view(-1, 1) == labels.view(1, -1)).to(log_h.dtype)
    neg = 1.0 - pos
    pos_term = -(pos * log_h).sum(1) / pos.sum(1)  # every anchor is its own positive: sum ≥ 1
    neg_term = -(neg * log_1mh).sum(1) / neg.sum(1).clamp(min=1.0)
    return (pos_term + neg_term).mean()


def ccl_nce_loss(a: torch.Tensor, b: torch.Tensor, labels: torch.Tensor, tau: float) -> torch.Tensor:
    """CCL's L_nce between two embeddings, applied in both directions: ct(a, b) + ct(b, a)."""
    return nce_contrastive_loss(a, b, labels, tau) + nce_contrastive_loss(b, a, labels, tau)


def same_class_partner(labels: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """For Eq 12–13's D2: which samples v have another sample of their class in the batch, and for each
    the index of that other sample (the next one in batch order, cyclically: S_v^{η1}).

    Returns ``(has_partner, partner)``, both of shape (B,): a boolean mask of the w samples whose class
    repeats, and the partner's index (a sample without a partner points at itself; the mask excludes
    it). Fixed shapes (no data-dependent indexing), so the D2 terms also run under ``torch.func.vmap``.
    """
    b = labels.numel()
    idx = torch.arange(b, device=labels.device)
    same = (labels.view(-1, 1) == labels.view(1, -1)) & ~torch.eye(b, dtype=torch.bool, device=labels.device)
    # cyclic distance from each v to each same-class j; the partner is the nearest one after v
    dist = (idx.view(1, -1) - idx.view(-1, 1)) % b
    dist = torch.where(same, dist, torch.full_like(dist, b))
    has_partner = same.any(dim=1)
    return has_partner, torch.where(has_partner, dist.argmin(dim=1), idx)


def _masked_mean(values: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
    """Mean of ``values`` over ``mask`` (all when None); 0, not NaN, over an empty set."""
    if mask is None:
        mask = torch.ones_like(values, dtype=torch.bool)
    return (values * mask).sum() / mask.sum().clamp(min=1)


def adversarial_generator_loss(d1_on_s: torch.Tensor, d2_on_partner_s: torch.Tensor, lambdas: torch.Tensor,
                               d2_mask: torch.Tensor | None = None) -> torch.Tensor:
    """Eq 12, the student side of L_adv (non-saturating: the student wants D(S) = 1, "real").

        L_adv = −(λ1/B) Σ_i log D1(S_i) − (λ2/d) Σ_v log D2(S_v^{η1})

    ``d1_on_s``: D1's logits on every S_i, shape (B,). ``d2_on_partner_s``: D2's logits on the
    same-class partners S_v^{η1}, over the samples ``d2_mask`` selects (all when None: then shape (w,)).
    Reading of d: d = w, the number of samples whose class repeats in the batch, so both terms are
    means; with w = 0 the D2 term is 0, not NaN.
    """
    term1 = F.softplus(-d1_on_s).mean()  # −log σ(x) = softplus(−x)
    term2 = _masked_mean(F.softplus(-d2_on_partner_s), d2_mask)
    return lambdas[0] * term1 + lambdas[1] * term2


def discriminator_loss(
    d1_on_m: torch.Tensor,
    d1_on_s: torch.Tensor,
    d2_on_m: torch.Tensor,
    d2_on_partner_s: torch.Tensor,
    lambdas: torch.Tensor,
    d2_mask: torch.Tensor | None = None,
) -> torch.Tensor:
    """Eq 13, the discriminators' side: M is "real" (1), S is "fake" (0).

        L_D = −(λ1/B) Σ_i [log D1(M_i) + log(1 − D1(S_i))] − (λ2/d) Σ_v [log D2(M_v) + log(1 − D2(S_v^{η1}))]

    Arguments are logits (D = σ(logit)); ``d2_mask`` and d = w as in :func:`adversarial_generator_loss`;
    an empty D2 set gives a zero D2 term.
    """
    term1 = (F.softplus(-d1_on_m) + F.softplus(d1_on_s)).mean()  # −log(1 − σ(x)) = softplus(x)
    term2 = _masked_mean(F.softplus(-d2_on_m) + F.softplus(d2_on_partner_s), d2_mask)
    return lambdas[0] * term1 + lambdas[1] * term2


def update_lambdas(lambda_hat: torch.Tensor, avg_cos: torch.Tensor,
                   beta: float = 0.9) -> tuple[torch.Tensor, torch.Tensor]:
    """Eq 14: λ̂(t+1) = β λ̂(t) + (1 − β)(1 − Avg_t Φ(M, S)); λ(t+1) = softmax(λ̂(t+1)).

    ``lambda_hat`` (a tensor) and ``avg_cos`` have length 2 (D1, D2): D1 uses the epoch's mean
    same-sample cosine Φ(M_i, S_i), D2 the mean same-class, other-sample cosine Φ(M_v, S_v^{ηj}), j ≠ 0.
    Returns ``(new_lambda_hat, lambdas)``; a poorly aligned pair (low cosine) gets the larger weight.
    Both live where ``lambda_hat`` lives (the model's device: a buffer of AMID); ``avg_cos`` may be a
    tensor on any device or plain numbers, and is moved there.
    """
    lambda_hat = lambda_hat.to(torch.float32)
    avg_cos = torch.as_tensor(avg_cos, dtype=torch.float32, device=lambda_hat.device)
    new_hat = beta * lambda_hat + (1.0 - beta) * (1.0 - avg_cos)
    return new_hat, torch.softmax(new_hat, dim=0)


def classification_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor,
                        labels: torch.Tensor) -> torch.Tensor:
    """Eq 15: L_cls = CE(C(S), y) + CE(C(M), y), with one classifier C shared by S and M."""
    return F.cross_entropy(student_logits, labels) + F.cross_entropy(teacher_logits, labels)


def jsd(student_logits: torch.Tensor, teacher_logits: torch.Tensor) -> torch.Tensor:
    """Eq 16: mean over the batch of the Jensen–Shannon divergence JSD(P_S ‖ P_M), natural log.

    The true JSD of Lin (1991), ½ KL(P ‖ R) + ½ KL(Q ‖ R) with R = (P + Q)/2 — not the symmetric
    KL that CCL's code calls "JSD". Computed from log-probabilities, so one-hot-like
    distributions give finite values and gradients.
    """
    log_p = student_logits.log_softmax(dim=1)
    log_q = teacher_logits.log_softmax(dim=1)
    log_r = torch.logsumexp(torch.stack([log_p, log_q]), dim=0) - math.log(2.0)
    kl_pr = (log_p.exp() * (log_p - log_r)).sum(dim=1)
    kl_qr = (log_q.exp() * (log_q - log_r)).sum(dim=1)
    return (0.5 * kl_pr + 0.5 * kl_qr).mean()
