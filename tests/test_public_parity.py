"""Each baseline against a transcription of its public implementation: the same inputs, the loss and its gradients.

The functions below are written from the public repositories' code, statement by statement where it matters, with
their names (the file is named in each docstring). They run on the representations our method computed, through
our method's own heads and memory banks, so a test compares the whole distillation term of a training step (value
and gradients w.r.t. every parameter), not only a formula. Double precision; tolerance 1e-6 (relative). Where our
code departs from the public one on purpose, the test states the departure and checks its exact size:

- CCL: one optimizer on the sum (the student's extractor also gets ∂[CE(C) + L(C, A)] through C); the composition
  gets the public code's two backward passes (``training.py``: 2·L(v, av) and 2·JSD).
- CRCD: pairs i = j are dropped and a zero relation has cosine 0 (the public code adds 1e-6 to every relation).

Public code read at (repository, file): yanbeic/CCL loss/nce_loss.py, loss/jsd_loss.py, training.py
(``train_a_epoch``), models/composition_classifier.py; HobbitLong/RepDistiller crd/memory.py, crd/criterion.py,
distiller_zoo/KD.py; Lechatelia/CRCD crcd/memory.py, crcd/criterion.py, helper/loops.py; miguelsvasco/gmc
gmc_code/supervised/architectures/models/gmc.py (``super_gmc_loss``); megvii-research/mdistiller
mdistiller/distillers/KD.py.
"""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from amidlib.core.config import make_config
from amidlib.core.methods import METHODS
from amidlib.core.models import build_nets
from amidlib.core.types import Batch

DT = torch.float64
N_TRAIN, N_CLASSES, B = 40, 4, 12


def make_method(name: str, seed: int = 0, **overrides):
    torch.manual_seed(seed)
    cfg = make_config(METHODS[name].defaults, preset="tiny", warmup_epochs=1, dropout=0.0, **overrides)
    nets = build_nets(7, 5, N_CLASSES, cfg.dim, cfg.hidden, cfg.dropout)
    return METHODS[name](nets, cfg, N_CLASSES, N_TRAIN).double().train()


def make_batch(seed: int, b: int = B) -> Batch:
    """Every class twice or more (CCL's public loss divides by the number of positives and of negatives)."""
    g = torch.Generator().manual_seed(seed)
    y = torch.arange(b) % N_CLASSES
    y = y[torch.randperm(b, generator=g)]
    return Batch(torch.randn(b, 7, generator=g, dtype=DT), torch.randn(b, 5, generator=g, dtype=DT), y,
                 torch.randperm(N_TRAIN, generator=g)[:b])


def grads(loss: torch.Tensor, params: list[torch.Tensor]) -> list[torch.Tensor]:
    return [torch.zeros_like(p) if g is None else g
            for p, g in zip(params, torch.autograd.grad(loss, params, retain_graph=True, allow_unused=True),
                            strict=True)]


def assert_close(got, want, what: str):
    for i, (a, b) in enumerate(zip(got, want, strict=True) if isinstance(got, list) else [(got, want)]):
        torch.testing.assert_close(a, b, rtol=1e-6, atol=1e-9, msg=lambda m, i=i: f"{what} [{i}]: {m}")


# ------------------------------------------------------------------------------------------------------------------
# yanbeic/CCL
# ------------------------------------------------------------------------------------------------------------------
CCL_EPSILON = 1e-10  # EPISILON in loss/nce_loss.py and loss/jsd_loss.py


def ccl_public_nce(f1, f2, targets, temperature):
    """loss/nce_loss.py, ``NCELoss.forward``."""
    f1 = F.normalize(f1, dim=1)
    f2 = F.normalize(f2, dim=1)
    mask = targets.unsqueeze(1) - targets
    self_mask = torch.zeros_like(mask) != mask  # 1 where the pair is a negative
    dist = (f1.unsqueeze(1) - f2).pow(2).sum(2)
    cos = 1 - 0.5 * dist
    pred_softmax = torch.softmax(cos / temperature, dim=1)
    log_pos_softmax = -torch.log(pred_softmax + CCL_EPSILON) * (1 - self_mask.to(f1.dtype))
    log_neg_softmax = -torch.log(1 - pred_softmax + CCL_EPSILON) * self_mask.to(f1.dtype)
    log_softmax = (log_pos_softmax.sum(1) / (~self_mask).sum(1).to(f1.dtype)
                   + log_neg_softmax.sum(1) / self_mask.sum(1).to(f1.dtype))
    return log_softmax.mean()


def ccl_public_jsd(p, q, weight):
    """loss/jsd_loss.py, ``JSDLoss.forward`` (softmax_sign False): KL(p‖q) + KL(q‖p), times its weight."""
    p, q = F.softmax(p, dim=1), F.softmax(q, dim=1)
    loss1 = (p * torch.log(p / q + CCL_EPSILON)).sum(1)
    loss2 = (q * torch.log(q / p + CCL_EPSILON)).sum(1)
    return (loss1 + loss2).mean() * weight


def ccl_public_totals(features_vid, features_aud, features_av, outputs, outputs_av, targets, cfg):
    """training.py, ``train_a_epoch``: total_loss_v (the video net's) and total_loss_a (the composition's), with
    this package's S as the video features, A as the audio features, C as the composition."""
    ct = lambda x, z: ccl_public_nce(x, z, targets, cfg.ccl_tau)  # noqa: E731  (criterion_ct_av)
    loss_vm = ct(features_vid, features_av) + ct(features_av, features_vid)
    loss_va = ct(features_vid, features_aud) + ct(features_aud, features_vid)
    loss_ma = ct(features_av, features_aud) + ct(features_aud, features_av)
    loss_jsd_a = ccl_public_jsd(outputs, outputs_av, cfg.ccl_div_weight)
    loss_cls_v, loss_cls_a = F.cross_entropy(outputs, targets), F.cross_entropy(outputs_av, targets)
    total_loss_v = loss_cls_v + (loss_vm + loss_va) + loss_jsd_a
    total_loss_a = loss_cls_a + (loss_vm + loss_ma) + loss_jsd_a
    return total_loss_v, total_loss_a


@pytest.mark.parametrize("seed", (0, 1, 2))
def test_ccl_terms_match_the_public_nce_and_jsd(seed):
    method = make_method("ccl", seed)
    out = method(make_batch(seed), epoch=3)
    r, y, cfg = out.reps, make_batch(seed).y, method.cfg
    want_nce = sum(ccl_public_nce(p, q, y, cfg.ccl_tau) + ccl_public_nce(q, p, y, cfg.ccl_tau)
                   for p, q in ((r.s, r.m), (r.s, r.a), (r.m, r.a)))
    assert_close(out.losses["nce"], cfg.ccl_nce_weight * want_nce, "ccl nce")
    assert_close(out.losses["div"], ccl_public_jsd(r.student_logits, r.teacher_logits, cfg.ccl_div_weight), "ccl jsd")
    params = list(method.parameters())
    assert_close(grads(out.losses["nce"], params), grads(cfg.ccl_nce_weight * want_nce, params), "ccl nce grad")


@pytest.mark.parametrize("seed", (0, 1))
def test_ccl_composition_steps_on_both_backward_passes_as_in_the_public_training_loop(seed):
    """The public step zeroes the composition's gradients only before the first of its two backward passes, so the
    composition steps on total_loss_a + total_loss_v: 2·L(v, av) and 2·JSD. This fails if ``compose`` is trained on
    the plain sum (ccl_compose_repeat 0)."""
    method = make_method("ccl", seed)
    batch = make_batch(seed)
    out = method(batch, epoch=3)
    r = out.reps
    total_v, total_a = ccl_public_totals(r.s, r.a, r.m, r.student_logits, r.teacher_logits, batch.y, method.cfg)
    ours = sum(out.losses.values())
    compose = list(method.compose.parameters())
    assert_close(grads(ours, compose), grads(total_a + total_v, compose), "composition gradient")
    # the value is the objective's (the sum counts L(v, av) and the JSD once): the repeat adds gradient, not value
    cfg = method.cfg
    loss_vm = ccl_public_nce(r.s, r.m, batch.y, cfg.ccl_tau) + ccl_public_nce(r.m, r.s, batch.y, cfg.ccl_tau)
    jsd = ccl_public_jsd(r.student_logits, r.teacher_logits, cfg.ccl_div_weight)
    assert_close(ours, total_a + total_v - loss_vm - jsd, "value")
    plain = make_method("ccl", seed, ccl_compose_repeat=0.0)
    out0 = plain(batch, epoch=3)
    assert_close(sum(out0.losses.values()), ours, "the repeat changes no logged value")
    plain_grads = grads(sum(out0.losses.values()), list(plain.compose.parameters()))
    assert any(not torch.allclose(a, b) for a, b in zip(plain_grads, grads(ours, compose), strict=True))


@pytest.mark.parametrize("seed", (0, 1))
def test_ccl_student_gets_the_video_nets_gradient_plus_the_compositions_own_losses_through_c(seed):
    """The one documented departure: with one optimizer on the sum, the student's extractor gets ∂total_loss_v (the
    public video net's) plus ∂[CE(C) + L(C, A)] through C, exactly."""
    method = make_method("ccl", seed)
    batch = make_batch(seed)
    out = method(batch, epoch=3)
    r, cfg = out.reps, method.cfg
    total_v, _ = ccl_public_totals(r.s, r.a, r.m, r.student_logits, r.teacher_logits, batch.y, cfg)
    through_c = (F.cross_entropy(r.teacher_logits, batch.y)
                 + ccl_public_nce(r.m, r.a, batch.y, cfg.ccl_tau) + ccl_public_nce(r.a, r.m, batch.y, cfg.ccl_tau))
    student = list(method.nets.target_extractor.parameters())
    assert_close(grads(sum(out.losses.values()), student), grads(total_v + through_c, student), "student gradient")


# ------------------------------------------------------------------------------------------------------------------
# HobbitLong/RepDistiller: CRD
# ------------------------------------------------------------------------------------------------------------------
REPDISTILLER_EPS = 1e-7  # eps in crd/criterion.py


def repdistiller_embed(linear, x):
    """crd/criterion.py, ``Embed`` (linear, then ``Normalize(2)``)."""
    x = linear(x.view(x.shape[0], -1))
    return x.div(x.pow(2).sum(1, keepdim=True).pow(0.5))


class RepDistillerContrastMemory:
    """crd/memory.py, ``ContrastMemory.forward`` with the contrast indices given (the data loader's
    ``contrast_idx``); ``params`` [K, T, Z_v1, Z_v2, momentum]; memory_v1 the student's bank, memory_v2 the
    teacher's."""

    def __init__(self, memory_v1, memory_v2, k, t, momentum):
        self.memory_v1, self.memory_v2 = memory_v1.clone(), memory_v2.clone()
        self.params = [k, t, -1.0, -1.0, momentum]

    def forward(self, v1, v2, y, idx):
        k, t, z_v1, z_v2, momentum = self.params
        batch_size, output_size, input_size = v1.size(0), self.memory_v1.size(0), self.memory_v1.size(1)
        weight_v1 = torch.index_select(self.memory_v1, 0, idx.view(-1)).detach().view(batch_size, k + 1, input_size)
        out_v2 = torch.exp(torch.div(torch.bmm(weight_v1, v2.view(batch_size, input_size, 1)), t))
        weight_v2 = torch.index_select(self.memory_v2, 0, idx.view(-1)).detach().view(batch_size, k + 1, input_size)
        out_v1 = torch.exp(torch.div(torch.bmm(weight_v2, v1.view(batch_size, input_size, 1)), t))
        if z_v1 < 0:
            self.params[2] = z_v1 = (out_v1.mean() * output_size).item()
        if z_v2 < 0:
            self.params[3] = z_v2 = (out_v2.mean() * output_size).item()
        out_v1, out_v2 = torch.div(out_v1, z_v1), torch.div(out_v2, z_v2)
        with torch.no_grad():
            for name, v in (("memory_v1", v1), ("memory_v2", v2)):
                memory = getattr(self, name)
                pos = torch.index_select(memory, 0, y.view(-1)).mul(momentum).add(torch.mul(v, 1 - momentum))
                memory.index_copy_(0, y, pos.div(pos.pow(2).sum(1, keepdim=True).pow(0.5)))
        return out_v1, out_v2


def repdistiller_contrast_loss(x, n_data):
    """crd/criterion.py, ``ContrastLoss.forward`` (Eq 18)."""
    bsz, m = x.shape[0], x.size(1) - 1
    pn = 1 / float(n_data)
    p_pos = x.select(1, 0)
    log_d1 = torch.div(p_pos, p_pos.add(m * pn + REPDISTILLER_EPS)).log()
    p_neg = x.narrow(1, 1, m)
    log_d0 = torch.div(p_neg.clone().fill_(m * pn), p_neg.add(m * pn + REPDISTILLER_EPS)).log()
    return -(log_d1.sum(0) + log_d0.reshape(-1, 1).sum(0)) / bsz


def record_sampled_indices(method, monkeypatch) -> list[torch.Tensor]:
    """The (B, K+1) contrast indices our memory drew at each step (RepDistiller's loader draws them; here the
    memory does): the transcription is fed the same ones."""
    drawn, sample = [], method.memory.sample

    def spy(*args, **kwargs):
        drawn.append(sample(*args, **kwargs))
        return drawn[-1]

    monkeypatch.setattr(method.memory, "sample", spy)
    return drawn


@pytest.mark.parametrize("seed", (0, 1))
def test_crd_matches_repdistillers_crd_loss_memory_and_z(seed, monkeypatch):
    """Two distillation steps: Z fixed on the first, both banks' momentum updates, the loss and its gradients."""
    method = make_method("crd", seed, crd_nce_k=9)
    drawn = record_sampled_indices(method, monkeypatch)
    cfg, mem = method.cfg, method.memory
    method(make_batch(100 + seed), epoch=0)  # warm-up: L_cls only; the banks are updated all the same
    public = RepDistillerContrastMemory(mem.student, mem.teacher, 9, cfg.crd_nce_t, cfg.crd_momentum)
    params = list(method.parameters())
    for step in range(2):
        batch = make_batch(seed + 10 * step)
        out = method(batch, epoch=3)
        f_s = repdistiller_embed(method.embed_s, out.reps.s)
        f_t = repdistiller_embed(method.embed_t, out.reps.m)
        out_s, out_t = public.forward(f_s, f_t, batch.index, drawn[-1])
        want = cfg.crd_weight * (repdistiller_contrast_loss(out_s, N_TRAIN)
                                 + repdistiller_contrast_loss(out_t, N_TRAIN))
        assert_close(out.losses["crd"], want.squeeze(), f"crd loss, step {step}")
        assert_close(grads(out.losses["crd"], params), grads(want.squeeze(), params), f"crd gradients, step {step}")
        assert_close(mem.log_z.exp(), torch.tensor(public.params[2:4], dtype=DT), f"Z, step {step}")
        assert_close([mem.student, mem.teacher], [public.memory_v1, public.memory_v2], f"banks after step {step}")


# ------------------------------------------------------------------------------------------------------------------
# Lechatelia/CRCD
# ------------------------------------------------------------------------------------------------------------------
def crcd_public_relation_scores(v, memory_anchor, memory_contrast, y, idx, t, shift=1e-6):
    """crcd/memory.py, ``ContrastMemory.forward``, one side: exp(<normalize(w_ik − a_j + s), normalize(v_i − a_j + s)>
    / T), rows (i, j) over all B·B pairs; anchors a_j the batch's own rows of the other side's bank. ``shift`` is
    the public 1e-6 added to every relation (0: a zero relation normalises to 0)."""
    batch_size, input_size = v.shape
    k1 = idx.shape[1]
    anchor = torch.index_select(memory_anchor, 0, y.view(-1)).detach()
    weight = torch.index_select(memory_contrast, 0, idx.view(-1)).detach().view(batch_size, k1, input_size)
    anchor_relation = (v.unsqueeze(1) - anchor.unsqueeze(0) + shift).view(batch_size * batch_size, input_size)
    anchor_relation = F.normalize(anchor_relation, p=2, dim=1)
    weight_relation = weight.unsqueeze(1) - anchor.unsqueeze(1).unsqueeze(0) + shift
    weight_relation = F.normalize(weight_relation.view(batch_size * batch_size, k1, input_size), p=2, dim=2)
    out = torch.bmm(weight_relation, anchor_relation.view(batch_size * batch_size, input_size, 1))
    return torch.exp(torch.div(out, t))


def crcd_public_gradient_term(feat_t, feat_s, loss_cls_teacher, loss_cls_student, grad_kd_weight=1.0):
    """helper/loops.py: ``10 * get_grad_loss(feat_t, feat_s, ..., gard_cos_sim) * opt.grad_kd_weight`` with
    ``gard_cos_sim`` = 1 − mean cos(grad_t, grad_s)."""
    grad_t, = torch.autograd.grad([loss_cls_teacher], [feat_t], create_graph=True, only_inputs=True)
    grad_s, = torch.autograd.grad([loss_cls_student], [feat_s], create_graph=True, only_inputs=True)
    grad_t, grad_s = grad_t.view(grad_t.size(0), -1), grad_s.view(grad_s.size(0), -1)
    return 10 * (1 - F.cosine_similarity(grad_t, grad_s, dim=1).mean()) * grad_kd_weight


def off_diagonal_rows(scores: torch.Tensor, b: int) -> torch.Tensor:
    """The rows (i, j) with i ≠ j of a (B·B, K+1) score matrix: our CRCD drops the pairs i = j."""
    keep = ~torch.eye(b, dtype=torch.bool).flatten()
    return scores.view(b * b, -1, 1)[keep]


@pytest.mark.parametrize("seed", (0, 1))
def test_crcd_relation_loss_and_gradient_term_match_the_public_code(seed, monkeypatch):
    method = make_method("crcd", seed, crcd_nce_k=7)
    drawn = record_sampled_indices(method, monkeypatch)
    cfg, mem = method.cfg, method.memory
    method(make_batch(100 + seed), epoch=0)
    method(make_batch(200 + seed), epoch=3)  # fixes Z (from the pairs i ≠ j, as our rows)
    student_bank, teacher_bank = mem.student.clone(), mem.teacher.clone()
    z = mem.log_z.exp()
    batch = make_batch(seed)
    out = method(batch, epoch=3)
    f_s = repdistiller_embed(method.embed_s, out.reps.s)
    f_t = repdistiller_embed(method.embed_t, out.reps.m)
    idx, t = drawn[-1], cfg.crcd_nce_t
    out_v1 = crcd_public_relation_scores(f_s, teacher_bank, teacher_bank, batch.index, idx, t, shift=0.0) / z[0]
    out_v2 = crcd_public_relation_scores(f_t, student_bank, student_bank, batch.index, idx, t, shift=0.0) / z[1]
    want = cfg.crcd_weight * (repdistiller_contrast_loss(off_diagonal_rows(out_v1, B), N_TRAIN)
                              + repdistiller_contrast_loss(off_diagonal_rows(out_v2, B), N_TRAIN))[0]
    params = list(method.parameters())
    assert_close(out.losses["crcd"], want, "crcd relation loss")
    assert_close(grads(out.losses["crcd"], params), grads(want, params), "crcd relation gradients")
    r = out.reps
    want_grad = crcd_public_gradient_term(r.m, r.s, F.cross_entropy(r.teacher_logits, batch.y),
                                          F.cross_entropy(r.student_logits, batch.y))
    assert cfg.crcd_grad_weight == 10.0  # the public factor 10 × grad_kd_weight 1
    assert_close(out.losses["crcd_grad"], want_grad, "crcd gradient term")
    assert_close(grads(out.losses["crcd_grad"], params), grads(want_grad, params), "crcd gradient-term gradients")
    # the public +1e-6 on every relation: the scores we keep move by under a part in 10⁴, except the zero relations
    # (a negative that is the anchor's own row, idx_ik = index_j), which it turns into an arbitrary direction and we
    # score as cosine 0 (F.normalize of the zero vector, as with no shift)
    shifted = off_diagonal_rows(crcd_public_relation_scores(f_s, teacher_bank, teacher_bank, batch.index, idx, t), B)
    zero_relation = off_diagonal_rows((idx.unsqueeze(1) == batch.index.view(1, -1, 1)).flatten(0, 1).to(DT), B) > 0
    assert zero_relation.any()  # (the check below can fail)
    unshifted = off_diagonal_rows(crcd_public_relation_scores(f_s, teacher_bank, teacher_bank, batch.index, idx, t,
                                                              shift=0.0), B)
    torch.testing.assert_close(shifted[~zero_relation], unshifted[~zero_relation], rtol=1e-4, atol=0)
    assert torch.equal(unshifted[zero_relation], torch.ones_like(unshifted[zero_relation]))  # exp(0 / T)


# ------------------------------------------------------------------------------------------------------------------
# miguelsvasco/gmc
# ------------------------------------------------------------------------------------------------------------------
def gmc_public_contrastive(batch_representations, temperature, batch_size):
    """gmc_code/supervised/architectures/models/gmc.py, ``SuperGMC.super_gmc_loss`` without its task term (the
    joint representation last): mean over the 2B rows of the sum over modalities."""
    joint_mod_loss_sum = 0
    for mod in range(len(batch_representations) - 1):
        out_joint_mod = torch.cat([batch_representations[-1], batch_representations[mod]], dim=0)
        sim_matrix_joint_mod = torch.exp(torch.mm(out_joint_mod, out_joint_mod.t().contiguous()) / temperature)
        mask_joint_mod = (torch.ones_like(sim_matrix_joint_mod) - torch.eye(2 * batch_size, dtype=DT)).bool()
        sim_matrix_joint_mod = sim_matrix_joint_mod.masked_select(mask_joint_mod).view(2 * batch_size, -1)
        pos_sim_joint_mod = torch.exp(torch.sum(batch_representations[-1] * batch_representations[mod], dim=-1)
                                      / temperature)
        pos_sim_joint_mod = torch.cat([pos_sim_joint_mod, pos_sim_joint_mod], dim=0)
        joint_mod_loss_sum += -torch.log(pos_sim_joint_mod / sim_matrix_joint_mod.sum(dim=-1))
    return torch.mean(joint_mod_loss_sum)


@pytest.mark.parametrize("seed", (0, 1, 2))
def test_gmc_matches_the_public_super_gmc_loss(seed):
    """The shared encoder g (our ``head`` + L2 norm) maps S, A and the joint M; modalities [S, A], joint last."""
    method = make_method("gmc", seed)
    out = method(make_batch(seed), epoch=3)
    r, cfg = out.reps, method.cfg
    want = cfg.gmc_weight * gmc_public_contrastive([method.project(r.s), method.project(r.a), method.project(r.m)],
                                                   cfg.gmc_tau, B)
    params = list(method.parameters())
    assert_close(out.losses["gmc"], want, "gmc loss")
    assert_close(grads(out.losses["gmc"], params), grads(want, params), "gmc gradients")


# ------------------------------------------------------------------------------------------------------------------
# Hinton KD: HobbitLong/RepDistiller and megvii-research/mdistiller
# ------------------------------------------------------------------------------------------------------------------
def repdistiller_distill_kl(y_s, y_t, t):
    """distiller_zoo/KD.py, ``DistillKL.forward`` (``size_average=False`` is reduction "sum")."""
    p_s = F.log_softmax(y_s / t, dim=1)
    p_t = F.softmax(y_t / t, dim=1)
    return F.kl_div(p_s, p_t, reduction="sum") * (t ** 2) / y_s.shape[0]


def mdistiller_kd_loss(logits_student, logits_teacher, temperature):
    """mdistiller/distillers/KD.py, ``kd_loss``."""
    log_pred_student = F.log_softmax(logits_student / temperature, dim=1)
    pred_teacher = F.softmax(logits_teacher / temperature, dim=1)
    return F.kl_div(log_pred_student, pred_teacher, reduction="none").sum(1).mean() * temperature ** 2


@pytest.mark.parametrize("seed", (0, 1, 2))
def test_kd_matches_repdistiller_and_mdistiller(seed):
    """The teacher's logits enter as RepDistiller's and mdistiller's do, computed without gradient."""
    method = make_method("kd", seed, kd_weight=0.7)
    out = method(make_batch(seed), epoch=3)
    r, cfg = out.reps, method.cfg
    params = list(method.parameters())
    for transcription in (repdistiller_distill_kl, mdistiller_kd_loss):
        want = cfg.kd_weight * transcription(r.student_logits, r.teacher_logits.detach(), cfg.kd_temperature)
        assert_close(out.losses["kd"], want, transcription.__name__)
        assert_close(grads(out.losses["kd"], params), grads(want, params), transcription.__name__ + " gradients")
