"""Each loss against a slow reference that loops over its equation as written, on fresh random inputs."""
import math

import numpy as np
import pytest
import torch

from amidlib.core import losses


def cos(u, v):
    return float(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v)))


def ref_h(m, s, tau):
    """Eq 7 element by element: h[i][u] = exp(Φ(M_i,S_u)/τ) / Σ_j exp(Φ(M_i,S_j)/τ)."""
    b = len(m)
    h = [[0.0] * b for _ in range(b)]
    for i in range(b):
        denom = sum(math.exp(cos(m[i], s[j]) / tau) for j in range(b))
        for u in range(b):
            h[i][u] = math.exp(cos(m[i], s[u]) / tau) / denom
    return h


def ref_mi_lower_bound(m, s, y, tau):
    """Eq 8 as written: −1/(N+k) Σ_i (Σ_{positives} log h + Σ_{negatives} log(1 − h))."""
    h = ref_h(m, s, tau)
    b = len(m)
    total = 0.0
    for i in range(b):
        for j in range(b):
            if y[j] == y[i]:
                total += math.log(h[i][j])
            else:
                total += math.log(1.0 - h[i][j])
    return -total / b


def ref_nce_one_direction(a, b_, y, tau):
    """CCL's ct(a, b): per anchor mean −log h over positives + mean −log(1 − h) over negatives."""
    h = ref_h(a, b_, tau)
    n = len(a)
    total = 0.0
    for i in range(n):
        pos = [j for j in range(n) if y[j] == y[i]]
        neg = [j for j in range(n) if y[j] != y[i]]
        total += sum(-math.log(h[i][j]) for j in pos) / len(pos)
        if neg:
            total += sum(-math.log(1.0 - h[i][j]) for j in neg) / len(neg)
    return total / n


def ref_jsd(p_logits, q_logits):
    """Eq 16: ½KL(P‖R) + ½KL(Q‖R), R = (P+Q)/2, natural log, averaged over rows."""
    total = 0.0
    for zp, zq in zip(p_logits, q_logits, strict=True):
        p = np.exp(zp - zp.max())
        p /= p.sum()
        q = np.exp(zq - zq.max())
        q /= q.sum()
        kl_pr = sum(pi * math.log(pi / ((pi + qi) / 2)) for pi, qi in zip(p, q, strict=True) if pi > 0)
        kl_qr = sum(qi * math.log(qi / ((pi + qi) / 2)) for pi, qi in zip(p, q, strict=True) if qi > 0)
        total += 0.5 * kl_pr + 0.5 * kl_qr
    return total / len(p_logits)


def sigmoid(x):
    return 1.0 / (1.0 + math.exp(-x))


def random_batch(seed, b=10, d=6, n_classes=3):
    g = torch.Generator().manual_seed(seed)
    m = torch.randn(b, d, generator=g, dtype=torch.float64)
    s = torch.randn(b, d, generator=g, dtype=torch.float64)
    y = torch.randint(0, n_classes, (b,), generator=g)
    return m, s, y


LABEL_CASES = {
    "mixed": None,
    "no_class_repeats": lambda b: torch.arange(b),
    "one_class_only": lambda b: torch.zeros(b, dtype=torch.long),
}


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("case", LABEL_CASES)
@pytest.mark.parametrize("tau", [0.5, 0.07])
def test_mi_lower_bound_matches_eq8(seed, case, tau):
    m, s, y = random_batch(seed)
    if LABEL_CASES[case]:
        y = LABEL_CASES[case](len(y))
    got = losses.mi_lower_bound_loss(m, s, y, tau).item()
    want = ref_mi_lower_bound(m.numpy(), s.numpy(), y.tolist(), tau)
    assert got == pytest.approx(want, rel=1e-9, abs=1e-9)


def test_mi_lower_bound_near_one_hot_is_finite_with_finite_gradients():
    # τ tiny makes each row of h one-hot to float precision: log(1 − h) must stay exact and finite
    m, s, y = random_batch(7, b=8)
    s = m.clone() + 1e-3 * s  # S_i ≈ M_i: the diagonal dominates every row
    for dtype in (torch.float32, torch.float64):
        mm = m.to(dtype).clone().requires_grad_(True)
        ss = s.to(dtype).clone().requires_grad_(True)
        loss = losses.mi_lower_bound_loss(mm, ss, y, tau=1e-3)
        loss.backward()
        assert torch.isfinite(loss)
        assert torch.isfinite(mm.grad).all() and torch.isfinite(ss.grad).all()
    # and it is the exact value where the reference can still compute it (float64, moderate τ)
    got = losses.mi_lower_bound_loss(m, s, y, tau=0.02).item()
    assert got == pytest.approx(ref_mi_lower_bound(m.numpy(), s.numpy(), y.tolist(), 0.02), rel=1e-6)


def test_mi_lower_bound_batch_of_one_is_finite():
    m, s, _ = random_batch(1, b=1)
    m.requires_grad_(True)
    loss = losses.mi_lower_bound_loss(m, s, torch.tensor([0]), 0.5)
    loss.backward()
    assert loss.item() == pytest.approx(0.0, abs=1e-12)  # h = 1 for the only pair: −log 1 = 0
    assert torch.isfinite(m.grad).all()


def test_mi_lower_bound_rewards_alignment():
    # a perfectly class-aligned S gives a lower loss than a random S: the bound is being maximised
    m, s, y = random_batch(3, b=12)
    aligned = m.clone()
    assert losses.mi_lower_bound_loss(m, aligned, y, 0.5) < losses.mi_lower_bound_loss(m, s, y, 0.5)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("case", LABEL_CASES)
def test_nce_matches_ccl_definition(seed, case):
    m, s, y = random_batch(seed)
    if LABEL_CASES[case]:
        y = LABEL_CASES[case](len(y))
    got = losses.nce_contrastive_loss(m, s, y, 0.5).item()
    assert got == pytest.approx(ref_nce_one_direction(m.numpy(), s.numpy(), y.tolist(), 0.5), rel=1e-9)
    both = losses.ccl_nce_loss(m, s, y, 0.5).item()
    want = (ref_nce_one_direction(m.numpy(), s.numpy(), y.tolist(), 0.5)
            + ref_nce_one_direction(s.numpy(), m.numpy(), y.tolist(), 0.5))
    assert both == pytest.approx(want, rel=1e-9)


def test_nce_differs_from_eq8_by_its_weighting():
    # with repeated classes, the mean-weighted L_nce and the sum-weighted Eq 8 are different losses
    m, s, y = random_batch(0, b=12, n_classes=2)
    assert (losses.nce_contrastive_loss(m, s, y, 0.5).item()
            != pytest.approx(losses.mi_lower_bound_loss(m, s, y, 0.5).item()))


@pytest.mark.parametrize("seed", range(4))
def test_jsd_matches_lin_1991(seed):
    g = torch.Generator().manual_seed(seed)
    p, q = torch.randn(2, 7, 5, generator=g, dtype=torch.float64)
    assert losses.jsd(p, q).item() == pytest.approx(ref_jsd(p.numpy(), q.numpy()), rel=1e-9)


def test_jsd_properties_and_one_hot_gradients():
    p = torch.randn(4, 6, dtype=torch.float64)
    assert losses.jsd(p, p).item() == pytest.approx(0.0, abs=1e-12)
    # bounded by log 2, reached by disjoint one-hot distributions; gradients stay finite
    a = torch.tensor([[60.0, -60.0]], dtype=torch.float64, requires_grad=True)
    b = torch.tensor([[-60.0, 60.0]], dtype=torch.float64)
    value = losses.jsd(a, b)
    value.backward()
    assert value.item() == pytest.approx(math.log(2), rel=1e-9)
    assert torch.isfinite(a.grad).all()
    # symmetric, unlike KL
    q = torch.randn(4, 6, dtype=torch.float64)
    assert losses.jsd(p, q).item() == pytest.approx(losses.jsd(q, p).item(), rel=1e-12)


def ref_partners(y):
    """For every sample whose class repeats: the next same-class sample in batch order (cyclic)."""
    b = len(y)
    v, partner = [], []
    for i in range(b):
        for step in range(1, b):
            j = (i + step) % b
            if y[j] == y[i]:
                v.append(i)
                partner.append(j)
                break
    return v, partner


@pytest.mark.parametrize("labels", [[0, 1, 0, 2, 1, 0], [0, 1, 2, 3], [5, 5, 5], [1], [2, 0, 2, 0, 1]])
def test_same_class_partner(labels):
    y = torch.tensor(labels)
    has_partner, partner = losses.same_class_partner(y)
    v = has_partner.nonzero().flatten()
    assert (v.tolist(), partner[v].tolist()) == ref_partners(labels)
    alone = (~has_partner).nonzero().flatten()
    assert partner[alone].tolist() == alone.tolist()  # no partner: points at itself (excluded by the mask)


@pytest.mark.parametrize("seed", range(3))
def test_masked_d2_terms_equal_the_terms_over_the_partner_set(seed):
    """The fixed-shape (masked) D2 terms equal Eq 12/13 computed over the w samples with a partner."""
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 6, (12,), generator=g)
    has_partner, partner = losses.same_class_partner(y)
    d1_m, d1_s, d2_m, d2_s = torch.randn(4, 12, generator=g, dtype=torch.float64)
    lam = torch.softmax(torch.randn(2, generator=g, dtype=torch.float64), 0)
    v = has_partner.nonzero().flatten()
    got_g = losses.adversarial_generator_loss(d1_s, d2_s[partner], lam, has_partner).item()
    got_d = losses.discriminator_loss(d1_m, d1_s, d2_m, d2_s[partner], lam, has_partner).item()
    assert got_g == pytest.approx(ref_adv(d1_s.tolist(), d2_s[partner[v]].tolist(), lam.tolist()), rel=1e-9)
    assert got_d == pytest.approx(ref_disc(d1_m.tolist(), d1_s.tolist(), d2_m[v].tolist(), d2_s[partner[v]].tolist(),
                                           lam.tolist()), rel=1e-9)


def ref_adv(d1_s, d2_s, lam):
    """Eq 12 with d = w: −λ1/B Σ log D1(S_i) − λ2/w Σ_v log D2(S_v^η1)."""
    t1 = -sum(math.log(sigmoid(x)) for x in d1_s) / len(d1_s)
    t2 = -sum(math.log(sigmoid(x)) for x in d2_s) / len(d2_s) if len(d2_s) else 0.0
    return lam[0] * t1 + lam[1] * t2


def ref_disc(d1_m, d1_s, d2_m, d2_s, lam):
    """Eq 13 with d = w."""
    t1 = -sum(math.log(sigmoid(a)) + math.log(1 - sigmoid(b)) for a, b in zip(d1_m, d1_s, strict=True)) / len(d1_m)
    t2 = (-sum(math.log(sigmoid(a)) + math.log(1 - sigmoid(b)) for a, b in zip(d2_m, d2_s, strict=True)) / len(d2_m)
          if len(d2_m) else 0.0)
    return lam[0] * t1 + lam[1] * t2


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("w", [0, 1, 5])
def test_adversarial_losses_match_eq12_eq13(seed, w):
    g = torch.Generator().manual_seed(seed)
    d1_m, d1_s = torch.randn(2, 8, generator=g, dtype=torch.float64)
    d2_m, d2_s = torch.randn(2, w, generator=g, dtype=torch.float64)
    lam = torch.softmax(torch.randn(2, generator=g, dtype=torch.float64), 0)
    got_g = losses.adversarial_generator_loss(d1_s, d2_s, lam).item()
    got_d = losses.discriminator_loss(d1_m, d1_s, d2_m, d2_s, lam).item()
    assert got_g == pytest.approx(ref_adv(d1_s.tolist(), d2_s.tolist(), lam.tolist()), rel=1e-9)
    assert got_d == pytest.approx(ref_disc(d1_m.tolist(), d1_s.tolist(), d2_m.tolist(), d2_s.tolist(), lam.tolist()),
                                  rel=1e-9)


def test_adversarial_losses_saturated_discriminator_is_finite():
    big = torch.tensor([80.0, -80.0], dtype=torch.float64, requires_grad=True)
    lam = torch.tensor([0.5, 0.5], dtype=torch.float64)
    loss = losses.adversarial_generator_loss(big, big, lam) + losses.discriminator_loss(big, big, big, big, lam)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(big.grad).all()


@pytest.mark.parametrize("seed", range(4))
def test_update_lambdas_matches_eq14(seed):
    rng = np.random.default_rng(seed)
    hat = rng.normal(size=2)
    avg_cos = rng.uniform(-1, 1, size=2)
    beta = 0.9
    new_hat, lam = losses.update_lambdas(torch.tensor(hat), torch.tensor(avg_cos), beta)
    want_hat = [beta * hat[k] + (1 - beta) * (1 - avg_cos[k]) for k in range(2)]
    e = [math.exp(x) for x in want_hat]
    want_lam = [x / sum(e) for x in e]
    assert new_hat.tolist() == pytest.approx(want_hat, rel=1e-6)
    assert lam.tolist() == pytest.approx(want_lam, rel=1e-6)
    assert lam.sum().item() == pytest.approx(1.0)


def test_update_lambdas_weights_the_worse_aligned_discriminator_more():
    _, lam = losses.update_lambdas(torch.zeros(2), torch.tensor([0.9, 0.1]), 0.9)
    assert lam[1] > lam[0]


@pytest.mark.parametrize("seed", range(3))
def test_classification_loss_is_two_cross_entropies(seed):
    g = torch.Generator().manual_seed(seed)
    zs, zm = torch.randn(2, 6, 4, generator=g, dtype=torch.float64)
    y = torch.randint(0, 4, (6,), generator=g)

    def ce(z):
        return sum(-(z[i, y[i]] - math.log(sum(math.exp(v) for v in z[i].tolist()))) for i in range(len(y))) / len(y)

    assert losses.classification_loss(zs, zm, y).item() == pytest.approx(float(ce(zs) + ce(zm)), rel=1e-9)


@pytest.mark.parametrize("scale", [1.0, 30.0, 3000.0])
def test_log_one_minus_h_exact_with_ties_and_extreme_logits(scale):
    # against log Σ_{k≠j} exp(z_ik) − log Σ_k exp(z_ik) computed by masking column j, one at a time
    g = torch.Generator().manual_seed(int(scale))
    z = scale * torch.randn(6, 6, generator=g, dtype=torch.float64)
    z[2, 4] = z[2, 1] = z[2].max() + 1.0  # an exact tie for the row maximum
    z[3] = 0.0                             # a row of ties only
    z.requires_grad_(True)
    _, got = losses._log_h_and_log_one_minus_h(z)
    want = torch.empty_like(got)
    for i in range(6):
        for j in range(6):
            others = torch.cat([z[i, :j], z[i, j + 1:]])
            want[i, j] = others.logsumexp(0) - z[i].logsumexp(0)
    assert torch.allclose(got, want, rtol=1e-12, atol=1e-12)
    got.sum().backward()
    assert torch.isfinite(z.grad).all()


@pytest.mark.parametrize("seed", range(3))
def test_cosine_stats_match_the_loop_over_pairs(seed):
    """Fig 5 / Eq 14's cosines: mean Φ(M_i, S_i) and mean Φ(M_v, S_j) over same-class pairs j ≠ v, by loops."""
    from amidlib.core.training import cosine_stats

    g = torch.Generator().manual_seed(seed)
    m, s = torch.randn(2, 15, 4, generator=g, dtype=torch.float64)
    y = torch.randint(0, 4, (15,), generator=g)
    cos = lambda a, b: float(a @ b / (a.norm() * b.norm()))  # noqa: E731
    same = [cos(m[i], s[i]) for i in range(15)]
    pairs = [cos(m[v], s[j]) for v in range(15) for j in range(15) if v != j and y[v] == y[j]]
    got_same, got_pairs = cosine_stats(m, s, y)
    assert got_same == pytest.approx(sum(same) / len(same), rel=1e-12)
    assert got_pairs == pytest.approx(sum(pairs) / len(pairs), rel=1e-12)
