"""The baselines (CRD, GMC, CRCD, CCL, and Hinton KD, not in the paper): each loss against a slow loop over
its formula, the memory-bank machinery, edge cases, one forward/backward per method, and a learning check."""
from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from amidlib.core.config import make_config
from amidlib.core.methods import METHODS
from amidlib.core.methods.ccl import ccl_contrastive, symmetric_kl
from amidlib.core.methods.crcd import crcd_relation_loss, gradient_match_loss, relation_logits
from amidlib.core.methods.crd import NCE_EPS, MemoryBanks, contrast_logits, crd_loss, log_z_from, nce_loss
from amidlib.core.methods.gmc import gmc_infonce
from amidlib.core.methods.kd import kd_loss
from amidlib.core.models import build_nets
from amidlib.core.types import Batch

BASELINES = ("crd", "gmc", "crcd", "ccl", "kd")
SEEDS = (0, 1, 2)
DT = torch.float64


def unit(*shape, g):
    return F.normalize(torch.randn(*shape, generator=g, dtype=DT), dim=-1)


# --------------------------------------------------------------------------------------------
# slow references, literally from the official formulas
# --------------------------------------------------------------------------------------------
def ref_contrast_loss(anchor, rows, tau, z, n_data):
    """RepDistiller's ContrastMemory score + ContrastLoss, one anchor at a time."""
    b, k1 = rows.shape[0], rows.shape[1]
    k, pn = k1 - 1, 1.0 / n_data
    total = 0.0
    for i in range(b):
        p = [math.exp(float(rows[i, j] @ anchor[i]) / tau) / z for j in range(k1)]
        total += math.log(p[0] / (p[0] + k * pn + NCE_EPS))
        for j in range(1, k1):
            total += math.log(k * pn / (p[j] + k * pn + NCE_EPS))
    return -total / b


def ref_relation_scores(v, rows, anchors, tau):
    """Explicit relation vectors normalise(v_i − a_j), normalise(rows_ik − a_j), pairs i ≠ j."""
    out = []
    for i in range(v.shape[0]):
        for j in range(anchors.shape[0]):
            if i == j:
                continue
            rel_s = F.normalize(v[i] - anchors[j], dim=0)
            out.append([float(F.normalize(rows[i, k] - anchors[j], dim=0) @ rel_s) / tau for k in range(rows.shape[1])])
    return torch.tensor(out, dtype=DT).reshape(-1, rows.shape[1])


def ref_nce_from_scores(scores, z, n_data):
    k, pn = scores.shape[1] - 1, 1.0 / n_data
    total = 0.0
    for row in scores.tolist():
        p = [math.exp(x) / z for x in row]
        total += math.log(p[0] / (p[0] + k * pn + NCE_EPS))
        total += sum(math.log(k * pn / (q + k * pn + NCE_EPS)) for q in p[1:])
    return -total / scores.shape[0]


def ref_gmc(z_joint, z_mod, tau):
    """GMC's official ``infonce`` for one modality: 2B rows, diagonal removed, positive pair (i, B+i)."""
    b = z_joint.shape[0]
    z = torch.cat([z_joint, z_mod])
    total = 0.0
    for r in range(2 * b):
        denominator = sum(math.exp(float(z[r] @ z[c]) / tau) for c in range(2 * b) if c != r)
        positive = math.exp(float(z_joint[r % b] @ z_mod[r % b]) / tau)
        total += -math.log(positive / denominator)
    return total / (2 * b)


def ref_ccl_ct(f1, f2, y, tau):
    """CCL's NCELoss (loss/nce_loss.py): softmax over cos/τ, mean −log h over positives + mean −log(1−h) over
    negatives."""
    b = f1.shape[0]
    f1, f2 = F.normalize(f1, dim=1), F.normalize(f2, dim=1)
    total = 0.0
    for i in range(b):
        logits = [float(f1[i] @ f2[j]) / tau for j in range(b)]
        m = max(logits)
        den = sum(math.exp(x - m) for x in logits)
        h = [math.exp(x - m) / den for x in logits]
        pos = [j for j in range(b) if y[j] == y[i]]
        neg = [j for j in range(b) if y[j] != y[i]]
        total += sum(-math.log(h[j]) for j in pos) / len(pos)
        if neg:  # CCL's code divides by zero here; an anchor without negatives contributes its positive term only
            total += sum(-math.log(1 - h[j]) for j in neg) / len(neg)
    return total / b


def ref_sym_kl(lp, lq):
    total = 0.0
    for a, b in zip(lp.softmax(1).tolist(), lq.softmax(1).tolist(), strict=True):
        total += (sum(p * math.log(p / q) for p, q in zip(a, b, strict=True))
                  + sum(q * math.log(q / p) for p, q in zip(a, b, strict=True)))
    return total / lp.shape[0]


def ref_kd(student_logits, teacher_logits, temperature):
    """Hinton et al. (2015) / RepDistiller's DistillKL, one sample and one class at a time:
    T² · (1/B) Σ_i Σ_c p_t,ic · log(p_t,ic / p_s,ic), with p = softmax(z / T)."""
    total = 0.0
    for zs, zt in zip(student_logits.tolist(), teacher_logits.tolist(), strict=True):
        es = [math.exp(z / temperature) for z in zs]
        et = [math.exp(z / temperature) for z in zt]
        ps = [e / sum(es) for e in es]
        pt = [e / sum(et) for e in et]
        total += sum(t * math.log(t / s) for s, t in zip(ps, pt, strict=True))
    return temperature ** 2 * total / len(student_logits)


# --------------------------------------------------------------------------------------------
# losses against their references
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("seed", SEEDS)
def test_crd_loss_matches_repdistiller_formula(seed):
    g = torch.Generator().manual_seed(seed)
    n, b, k, d, tau = 30, 5, 7, 6, 0.07
    f_s, f_t = unit(b, d, g=g), unit(b, d, g=g)
    bank_s, bank_t = unit(n, d, g=g), unit(n, d, g=g)
    index = torch.randperm(n, generator=g)[:b]
    idx = torch.cat([index.view(-1, 1), torch.randint(0, n, (b, k), generator=g)], dim=1)
    z_s, z_t = 50.0 + seed, 80.0 - seed
    log_z = torch.tensor([math.log(z_s), math.log(z_t)], dtype=DT)
    got = crd_loss(f_s, f_t, bank_s, bank_t, idx, tau, log_z, n).item()
    want = ref_contrast_loss(f_s, bank_t[idx], tau, z_s, n) + ref_contrast_loss(f_t, bank_s[idx], tau, z_t, n)
    assert got == pytest.approx(want, rel=1e-10, abs=1e-10)


def test_crd_z_is_mean_exp_times_n():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(4, 9, generator=g, dtype=DT) * 3
    assert log_z_from(logits, 500).exp().item() == pytest.approx(logits.exp().mean().item() * 500, rel=1e-12)


def test_nce_loss_edge_cases_are_finite():
    assert nce_loss(torch.zeros(0, 5, dtype=DT), 10).item() == 0.0          # no rows
    only_positive = nce_loss(torch.tensor([[2.0]], dtype=DT), 10)             # K = 0
    assert only_positive.item() == pytest.approx(-math.log(math.exp(2.0) / (math.exp(2.0) + NCE_EPS)), abs=1e-12)
    big = nce_loss(torch.tensor([[400.0, -400.0, 300.0]]), 10)                # exp(1/τ)-sized scores, float32
    assert torch.isfinite(big)


@pytest.mark.parametrize("seed", SEEDS)
def test_crcd_relation_logits_match_explicit_relations(seed):
    g = torch.Generator().manual_seed(seed)
    n, b, k, d, tau = 25, 4, 6, 5, 0.05
    v, bank = unit(b, d, g=g), unit(n, d, g=g)
    index = torch.randperm(n, generator=g)[:b]
    idx = torch.cat([index.view(-1, 1), torch.randint(0, n, (b, k), generator=g)], dim=1)
    idx[0, 3] = index[1]  # a negative that is another anchor of the batch: the zero relation, cosine 0
    got = relation_logits(v, bank, idx, index, tau)
    want = ref_relation_scores(v, bank[idx], bank[index], tau)
    assert got.shape == (b * (b - 1), k + 1)
    torch.testing.assert_close(got, want, rtol=1e-9, atol=1e-9)
    assert got[0, 3].item() == 0.0  # row (i=0, j=1): the first pair, column 3


@pytest.mark.parametrize("seed", SEEDS)
def test_crcd_relation_loss_matches_reference(seed):
    g = torch.Generator().manual_seed(seed)
    n, b, k, d, tau = 20, 4, 5, 6, 0.05
    f_s, f_t, bank_s, bank_t = unit(b, d, g=g), unit(b, d, g=g), unit(n, d, g=g), unit(n, d, g=g)
    index = torch.randperm(n, generator=g)[:b]
    idx = torch.cat([index.view(-1, 1), torch.randint(0, n, (b, k), generator=g)], dim=1)
    z_s, z_t = 30.0, 45.0
    log_z = torch.log(torch.tensor([z_s, z_t], dtype=DT))
    got = crcd_relation_loss(f_s, f_t, bank_s, bank_t, index, idx, tau, log_z, n).item()
    want = (ref_nce_from_scores(ref_relation_scores(f_s, bank_t[idx], bank_t[index], tau), z_s, n)
            + ref_nce_from_scores(ref_relation_scores(f_t, bank_s[idx], bank_s[index], tau), z_t, n))
    assert got == pytest.approx(want, rel=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_crcd_gradient_match_uses_ce_gradients(seed):
    g = torch.Generator().manual_seed(seed)
    b, d, c = 6, 5, 4
    w = torch.randn(c, d, generator=g, dtype=DT)
    s = torch.randn(b, d, generator=g, dtype=DT, requires_grad=True)
    t = torch.randn(b, d, generator=g, dtype=DT, requires_grad=True)
    y = torch.randint(0, c, (b,), generator=g)
    got = gradient_match_loss(s, t, s @ w.T, t @ w.T, y)
    onehot = F.one_hot(y, c).to(DT)
    s0, t0 = s.detach(), t.detach()
    g_s = ((s0 @ w.T).softmax(1) - onehot) @ w / b  # ∂ mean CE / ∂ s_i, analytically
    g_t = ((t0 @ w.T).softmax(1) - onehot) @ w / b
    want = 1 - sum(float(g_t[i] @ g_s[i] / (g_t[i].norm() * g_s[i].norm())) for i in range(b)) / b
    assert got.item() == pytest.approx(want, rel=1e-10, abs=1e-12)
    got.backward()  # differentiable (second order)
    assert torch.isfinite(s.grad).all() and torch.isfinite(t.grad).all()


@pytest.mark.parametrize("seed", SEEDS)
def test_gmc_infonce_matches_official_formula(seed):
    g = torch.Generator().manual_seed(seed)
    z_joint, z_mod = unit(6, 4, g=g), unit(6, 4, g=g)
    for tau in (0.1, 0.3):
        assert gmc_infonce(z_joint, z_mod, tau).item() == pytest.approx(ref_gmc(z_joint, z_mod, tau), rel=1e-10)


@pytest.mark.parametrize("seed", SEEDS)
def test_ccl_losses_match_official_formulas(seed):
    g = torch.Generator().manual_seed(seed)
    b, d = 7, 5
    s, c, a = (torch.randn(b, d, generator=g, dtype=DT) for _ in range(3))
    y = torch.randint(0, 3, (b,), generator=g)
    want = sum(ref_ccl_ct(p, q, y, 0.5) + ref_ccl_ct(q, p, y, 0.5) for p, q in ((s, c), (s, a), (c, a)))
    assert ccl_contrastive(s, c, a, y, 0.5).item() == pytest.approx(want, rel=1e-9)
    lp, lq = torch.randn(b, 4, generator=g, dtype=DT), torch.randn(b, 4, generator=g, dtype=DT)
    assert symmetric_kl(lp, lq).item() == pytest.approx(ref_sym_kl(lp, lq), rel=1e-10)
    assert symmetric_kl(lp, lp).item() == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_kd_loss_matches_hintons_formula(seed):
    g = torch.Generator().manual_seed(seed)
    zs, zt = torch.randn(6, 5, generator=g, dtype=DT) * 3, torch.randn(6, 5, generator=g, dtype=DT) * 3
    for temperature in (1.0, 4.0):
        assert kd_loss(zs, zt, temperature).item() == pytest.approx(ref_kd(zs, zt, temperature), rel=1e-10)
    assert kd_loss(zs, zs, 4.0).item() == pytest.approx(0.0, abs=1e-12)
    # KL(teacher ‖ student), not the reverse
    assert kd_loss(zs, zt, 4.0).item() != pytest.approx(kd_loss(zt, zs, 4.0).item())


def test_kd_distils_the_online_teachers_logits_into_the_student_only():
    """The KD term: kd_weight · kd_loss(student logits, detached teacher logits, T); its gradient reaches the
    student's extractor and the shared classifier, not the teacher's head (the teacher learns from L_cls)."""
    method = make_method("kd", dropout=0.0, kd_weight=0.5, kd_temperature=2.0)
    method.train()
    out = method(random_batch(16), epoch=5)
    want = 0.5 * kd_loss(out.reps.student_logits, out.reps.teacher_logits, 2.0)
    torch.testing.assert_close(out.losses["kd"], want)
    method.zero_grad()
    out.losses["kd"].backward()
    assert method.nets.target_extractor[0].weight.grad.abs().sum() > 0
    assert all(p.grad is None or not p.grad.any() for p in method.nets.teacher_head.parameters())
    assert set(METHODS["kd"].defaults) == {"kd_weight", "kd_temperature"} and METHODS["kd"].batchable
    assert make_config(METHODS["kd"].defaults, preset="tiny").kd_temperature == 4.0


def test_ccl_contrastive_one_class_batch_is_finite():
    g = torch.Generator().manual_seed(0)
    s, c, a = (torch.randn(5, 4, generator=g, dtype=DT) for _ in range(3))
    y = torch.zeros(5, dtype=torch.long)
    got = ccl_contrastive(s, c, a, y, 0.5)
    assert torch.isfinite(got)
    want = sum(ref_ccl_ct(p, q, y, 0.5) + ref_ccl_ct(q, p, y, 0.5) for p, q in ((s, c), (s, a), (c, a)))
    assert got.item() == pytest.approx(want, rel=1e-9)


# --------------------------------------------------------------------------------------------
# memory banks: negatives, momentum update, Z
# --------------------------------------------------------------------------------------------
def test_negatives_come_from_other_classes_once_labels_are_known():
    torch.manual_seed(0)
    n = 40
    mem = MemoryBanks(n, 4, 0.5)
    labels = torch.arange(n) % 4
    mem.see(torch.arange(n), labels)
    index = torch.tensor([0, 5, 10, 15])
    idx = mem.sample(index, labels[index], k=20)  # 30 rows of other classes per anchor: no replacement
    assert idx.shape == (4, 21)
    assert torch.equal(idx[:, 0], index)
    for i in range(4):
        negatives = idx[i, 1:]
        assert (labels[negatives] != labels[index[i]]).all()
        assert len(set(negatives.tolist())) == 20
    idx = mem.sample(index, labels[index], k=35)  # more than 30: with replacement, still other classes
    assert (labels[idx[:, 1:]] != labels[index].view(-1, 1)).all()


def test_unseen_rows_are_eligible_and_k_is_capped_by_the_bank():
    torch.manual_seed(0)
    mem = MemoryBanks(6, 4, 0.5)
    index, y = torch.tensor([0, 1]), torch.tensor([0, 0])
    mem.see(index, y)
    idx = mem.sample(index, y, k=16384)
    assert idx.shape == (2, 6)  # K = n − 1
    assert set(idx[:, 1:].flatten().tolist()) <= {2, 3, 4, 5}  # unseen rows, never the same-class seen ones
    # only one class anywhere: fall back to the other rows, never the anchor itself
    mem.see(torch.arange(6), torch.zeros(6, dtype=torch.long))
    idx = mem.sample(index, y, k=3)
    assert (idx[:, 1:] != index.view(-1, 1)).all()
    assert MemoryBanks(1, 4, 0.5).sample(torch.tensor([0]), torch.tensor([0]), k=10).shape == (1, 1)


def test_momentum_update_and_determinism():
    torch.manual_seed(3)
    mem = MemoryBanks(10, 4, 0.5)
    before = mem.student[[2, 7]].clone()
    v = F.normalize(torch.randn(2, 4), dim=1)
    mem.update(torch.tensor([2, 7]), v, v)
    torch.testing.assert_close(mem.student[[2, 7]], F.normalize(0.5 * before + 0.5 * v, dim=1))
    mem.see(torch.arange(10), torch.arange(10) % 3)
    draws = []
    for _ in range(2):
        torch.manual_seed(11)
        draws.append(mem.sample(torch.tensor([1, 2]), torch.tensor([1, 2]), k=4))
    assert torch.equal(draws[0], draws[1])


# --------------------------------------------------------------------------------------------
# each method: forward, backward, warm-up, edge-case batches
# --------------------------------------------------------------------------------------------
def make_method(name, n_train=50, **overrides):
    torch.manual_seed(0)
    cfg = make_config(METHODS[name].defaults, preset="tiny", warmup_epochs=2, **overrides)
    nets = build_nets(7, 5, 4, cfg.dim, cfg.hidden, cfg.dropout)
    return METHODS[name](nets, cfg, 4, n_train)


def random_batch(b, n_train=50, one_class=False, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.zeros(b, dtype=torch.long) if one_class else torch.randint(0, 4, (b,), generator=g)
    return Batch(torch.randn(b, 7, generator=g), torch.randn(b, 5, generator=g), y,
                 torch.randperm(n_train, generator=g)[:b])


EXPECTED_TERMS = {"crd": {"cls", "crd"}, "gmc": {"cls", "gmc"}, "crcd": {"cls", "crcd", "crcd_grad"},
                  "ccl": {"cls", "nce", "div"},
                  "kd": {"cls", "kd"}}


@pytest.mark.parametrize("name", BASELINES)
def test_registered_with_prefixed_defaults(name):
    cls = METHODS[name]
    assert cls.name == name and cls.uses_teacher
    assert all(key.startswith(name + "_") for key in cls.defaults)
    make_config(cls.defaults, preset="tiny", **cls.defaults)  # every default is a valid override


@pytest.mark.parametrize("name", BASELINES)
@pytest.mark.parametrize("b, one_class", [(16, False), (16, True), (2, False), (1, False)])
def test_forward_backward_finite(name, b, one_class):
    method = make_method(name)
    method.train()
    warm = method(random_batch(b, one_class=one_class, seed=1), epoch=0)
    assert set(warm.losses) == {"cls"}  # warm-up: classification only
    out = method(random_batch(b, one_class=one_class), epoch=5)
    assert set(out.losses) == EXPECTED_TERMS[name]
    for term, value in out.losses.items():
        assert value.dim() == 0 and torch.isfinite(value), (name, term, value)
    method.zero_grad()
    sum(out.losses.values()).backward()
    grads = [p.grad for p in method.parameters() if p.grad is not None]
    assert grads and all(torch.isfinite(gr).all() for gr in grads)
    assert out.reps.m is not None and out.reps.teacher_logits.shape == (b, 4)


KD_MODULES = {"crd": "embed_s", "gmc": "head", "crcd": "embed_s", "ccl": "compose"}


@pytest.mark.parametrize("name", [b for b in BASELINES if b in KD_MODULES])  # (KD has no module of its own)
def test_kd_terms_train_the_heads_and_the_student(name):
    method = make_method(name)
    method.train()
    method(random_batch(16, seed=1), epoch=5)  # fills the banks / fixes Z
    out = method(random_batch(16), epoch=5)
    method.zero_grad()
    sum(v for k, v in out.losses.items() if k != "cls").backward()
    weight = next(getattr(method, KD_MODULES[name]).parameters())
    assert weight.grad is not None and weight.grad.abs().sum() > 0
    first = method.nets.target_extractor[0].weight.grad
    assert first is not None and first.abs().sum() > 0  # the KD terms reach the student's extractor


@pytest.mark.parametrize("name", ["crd", "crcd"])
def test_z_is_fixed_on_the_first_distillation_batch(name):
    method = make_method(name)
    method.train()
    method(random_batch(8), epoch=0)
    assert torch.isnan(method.memory.log_z).all()  # warm-up does not fix Z
    assert (method.memory.labels >= 0).sum() == 8  # … but fills the labels
    method(random_batch(8, seed=1), epoch=5)
    z = method.memory.log_z.clone()
    assert torch.isfinite(z).all()
    method(random_batch(8, seed=2), epoch=5)
    assert torch.equal(method.memory.log_z, z)


def test_ccl_reports_the_composition_as_teacher():
    method = make_method("ccl").eval()
    batch = random_batch(6)
    reps = method.embed(batch.x_target, batch.x_aux)
    c = reps.a + method.compose(torch.cat([F.normalize(reps.a, dim=1), F.normalize(reps.s, dim=1)], dim=1))
    torch.testing.assert_close(reps.m, c)
    torch.testing.assert_close(reps.teacher_logits, method.nets.classifier(c))


def test_crd_in_double_precision_matches_the_pure_loss():
    method = make_method("crd", dropout=0.0).double()  # no dropout: the nets draw no random numbers
    method.train()
    batch = random_batch(8)
    batch = Batch(batch.x_target.double(), batch.x_aux.double(), batch.y, batch.index)
    mem = method.memory
    student, teacher = mem.student.clone(), mem.teacher.clone()
    torch.manual_seed(5)
    out = method(batch, epoch=5)
    torch.manual_seed(5)
    mem.see(batch.index, batch.y)
    idx = mem.sample(batch.index, batch.y, method.cfg.crd_nce_k)
    reps = out.reps
    f_s = F.normalize(method.embed_s(reps.s), dim=1)
    f_t = F.normalize(method.embed_t(reps.m), dim=1)
    want = method.cfg.crd_weight * crd_loss(f_s, f_t, student, teacher, idx, method.cfg.crd_nce_t, mem.log_z, 50)
    torch.testing.assert_close(out.losses["crd"], want)
    assert contrast_logits(f_s, teacher, idx, 1.0).shape == (8, 50)  # K = n_train − 1


# --------------------------------------------------------------------------------------------
# learning check on the synthetic data
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", BASELINES)
def test_learns_on_synthetic(name):
    experiment = pytest.importorskip("amidlib.experiment")
    from amidlib.data.arrays import make_synthetic, stratified_split

    train_ds, test_ds = stratified_split(make_synthetic(seed=0), test_size=0.5, seed=0)
    res = experiment.run(name, train_ds, test_ds, seed=0, preset="tiny", progress=False)
    chance = 100.0 / train_ds.n_classes
    assert res.metrics["student_top1"] > 2.4 * chance, res.metrics  # chance 16.7 %
    assert res.metrics["teacher_top1"] > 2.4 * chance, res.metrics
    assert set(EXPECTED_TERMS[name]) <= {c[len("loss_"):] for c in res.history.columns if c.startswith("loss_")}


def test_kd_seeds_train_batched_as_they_train_alone():
    """KD opts in to the batched engine (no random draw besides dropout, fixed shapes): two seeds trained as one
    batched model have a lone run's losses, to float tolerance (as tests/test_batched.py checks the others)."""
    import numpy as np

    from amidlib.core import experiment
    from amidlib.data.arrays import make_synthetic, stratified_split

    train_ds, test_ds = stratified_split(make_synthetic(seed=0), test_size=0.5, seed=0)
    kw = dict(preset="tiny", epochs=3, warmup_epochs=1, progress=False)
    alone = [experiment.run("kd", train_ds, test_ds, seed=s, **kw) for s in (0, 3)]
    batched = experiment.run_seeds("kd", train_ds, test_ds, seeds=[0, 3], **kw)
    for a, b in zip(alone, batched, strict=True):
        assert b.config["engine"].startswith("batched") and a.config["engine"] == "single"
        cols = [c for c in a.history.columns if c.startswith("loss_")]
        assert "loss_kd" in cols and list(b.history.columns) == list(a.history.columns)
        np.testing.assert_allclose(b.history[cols].to_numpy(float), a.history[cols].to_numpy(float), rtol=2e-4,
                                   atol=1e-5)
    assert not np.allclose(alone[0].history["loss_total"], alone[1].history["loss_total"])
