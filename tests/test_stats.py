"""The interval and verdict logic behind claims.csv and `make verify`, against scipy and hand-computed cases."""
import math

import numpy as np
import pytest
from scipy import stats

from amidlib.paper.stats import (
    CONTRADICTED,
    INCONCLUSIVE,
    SUPPORTED,
    combine_verdicts,
    paired_effect,
    ratio_effect,
    verdict,
    welch_interval,
)


def test_paired_effect_matches_scipy_paired_t_interval():
    rng = np.random.default_rng(0)
    a = rng.normal(80, 1, 10)
    b = a - rng.normal(0.5, 0.4, 10)
    e = paired_effect(a, b)
    ci = stats.ttest_rel(a, b).confidence_interval(0.95)
    assert e.n == 10
    assert e.effect == pytest.approx(np.mean(a - b))
    assert (e.ci_low, e.ci_high) == (pytest.approx(ci.low), pytest.approx(ci.high))


def test_hand_computed_supported():
    # d = (1, 2, 3): mean 2, sd 1, t(0.975, 2) = 4.302653, half = 4.302653 / sqrt(3) = 2.484138
    e = paired_effect([11, 12, 13], [10, 10, 10])
    assert (e.effect, e.sd) == (2.0, 1.0)
    assert e.ci_low == pytest.approx(2 - 2.484138, abs=1e-6)
    assert e.ci_high == pytest.approx(2 + 2.484138, abs=1e-6)
    assert verdict(e, ">") == INCONCLUSIVE          # the interval (−0.48, 4.48) contains 0
    e4 = paired_effect([11, 12, 13, 12], [10, 10, 10, 10])   # d = 1, 2, 3, 2: mean 2, sd 0.8165
    # half = t(0.975, 3) 3.182446 * 0.816497 / 2 = 1.299228 → (0.70, 3.30): above 0
    assert e4.ci_low == pytest.approx(2 - 1.299228, abs=1e-6)
    assert verdict(e4, ">") == SUPPORTED and verdict(e4, ">=") == SUPPORTED


def test_hand_computed_contradicted_and_direction():
    e = paired_effect([10, 10, 10, 10], [11, 12, 13, 12])   # a below b: (−3.30, −0.70)
    assert verdict(e, ">") == CONTRADICTED
    assert verdict(e, "<") == SUPPORTED


def test_hand_computed_inconclusive_and_degenerate():
    e = paired_effect([10, 12, 9, 11], [10.5, 11, 10, 10.5])   # d = −0.5, 1, −1, 0.5: mean 0
    assert e.effect == pytest.approx(0.0)
    assert verdict(e, ">") == INCONCLUSIVE and verdict(e, "<") == INCONCLUSIVE
    one = paired_effect([12.0], [10.0])
    assert one.n == 1 and math.isnan(one.ci_low) and verdict(one, ">") == INCONCLUSIVE
    same = paired_effect([1.0, 2.0, 3.0], [0.0, 1.0, 2.0])      # d constant 1: zero-width interval
    assert (same.ci_low, same.ci_high) == (1.0, 1.0) and verdict(same, ">") == SUPPORTED
    with pytest.raises(ValueError, match="one b per a"):
        paired_effect([1, 2], [1, 2, 3])


def test_multi_part_claim():
    assert combine_verdicts([SUPPORTED, SUPPORTED]) == SUPPORTED
    assert combine_verdicts([SUPPORTED, INCONCLUSIVE]) == INCONCLUSIVE
    assert combine_verdicts([SUPPORTED, CONTRADICTED]) == CONTRADICTED
    assert combine_verdicts([INCONCLUSIVE, CONTRADICTED]) == CONTRADICTED
    # AMID ≥ CCL ≥ baseline on 4 seeds: first part supported, second contradicted
    amid, ccl, base = [82, 83, 84, 83], [80, 81, 82, 81], [81, 82, 83, 82.5]
    parts = [verdict(paired_effect(amid, ccl), ">="), verdict(paired_effect(ccl, base), ">=")]
    assert parts == [SUPPORTED, CONTRADICTED] and combine_verdicts(parts) == CONTRADICTED


def test_ratio_effect_per_seed():
    e = ratio_effect([2, 4, 3], [10, 10, 10])
    assert e.effect == pytest.approx(0.3) and e.n == 3
    assert ratio_effect([1, 2], [0, 4]).n == 1     # a zero denominator drops that pair


def test_welch_interval_matches_scipy():
    rng = np.random.default_rng(1)
    x, y = rng.normal(0, 1, 5), rng.normal(0.3, 2, 7)
    lo, hi = welch_interval(x.mean(), x.std(ddof=1), 5, y.mean(), y.std(ddof=1), 7, confidence=0.999)
    ci = stats.ttest_ind(x, y, equal_var=False).confidence_interval(0.999)
    assert (lo, hi) == (pytest.approx(ci.low), pytest.approx(ci.high))
    assert welch_interval(1.0, 0.0, 3, 1.0, 0.0, 3) == (0.0, 0.0)


def test_batch_regime_against_simulation():
    from amidlib.paper.stats import batch_regime

    counts = [30, 12, 5, 40, 1]
    labels = np.repeat(np.arange(len(counts)), counts)
    rng = np.random.default_rng(0)
    pos, partner = [], []
    for _ in range(4000):
        y = rng.choice(labels, size=8, replace=False)
        same = (y[:, None] == y[None, :]).sum(1)
        pos.append(same.mean())
        partner.append((same > 1).mean())
    r = batch_regime(8, counts)
    assert r["positives"] == pytest.approx(np.mean(pos), abs=0.03)
    assert r["with_partner"] == pytest.approx(np.mean(partner), abs=0.01)
    # the paper's UCF51 regime: batch 16 over 51 classes of ~96 training videos
    ucf = batch_regime(16, [96] * 51)
    assert ucf["positives"] == pytest.approx(1.29, abs=0.01) and ucf["with_partner"] == pytest.approx(0.26, abs=0.01)


def test_p_value_is_scipys_paired_t_test():
    from amidlib.paper.stats import p_value

    rng = np.random.default_rng(3)
    for n in (2, 5, 10):
        a, b = rng.normal(size=n), rng.normal(size=n) + 0.3
        assert p_value(paired_effect(a, b)) == pytest.approx(stats.ttest_rel(a, b).pvalue, rel=1e-12)
    assert math.isnan(p_value(paired_effect([1.0], [0.0])))
    assert (p_value(paired_effect([1.0, 2.0], [1.0, 2.0])) == 1.0
            and p_value(paired_effect([2.0, 3.0], [1.0, 2.0])) == 0.0)


def _holm_reference(p):
    """Holm by its definition, one p at a time: the largest (m − j + 1)·p_(j) over the p_(j) ranked at or before it."""
    idx = [i for i, v in enumerate(p) if not math.isnan(v)]
    ranked = sorted(idx, key=lambda i: p[i])
    m, out = len(ranked), [math.nan] * len(p)
    for pos, i in enumerate(ranked):
        out[i] = min(1.0, max((m - j) * p[ranked[j]] for j in range(pos + 1)))
    return out


def test_holm_matches_its_definition_and_a_hand_computed_family():
    from amidlib.paper.stats import holm

    # sorted 0.005, 0.01, 0.03, 0.04 → ×4, ×3, ×2, ×1 = 0.02, 0.03, 0.06, 0.04 → running max 0.02, 0.03, 0.06, 0.06
    np.testing.assert_allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])
    rng = np.random.default_rng(0)
    for _ in range(50):
        p = list(rng.uniform(0, 0.2, size=rng.integers(1, 20)))
        if len(p) > 2:
            p[1] = math.nan  # not in the family
        np.testing.assert_allclose(holm(p), _holm_reference(p))


def test_holm_only_turns_verdicts_inconclusive():
    from amidlib.paper.stats import holm_verdict

    e = paired_effect([1.0, 1.2, 0.9, 1.1], [0.0, 0.1, 0.0, 0.2])  # clearly supported for ">"
    assert holm_verdict(e, ">", 0.01) == SUPPORTED and holm_verdict(e, ">", 0.2) == INCONCLUSIVE
    assert holm_verdict(e, "<", 0.01) == CONTRADICTED and holm_verdict(e, "<", float("nan")) == INCONCLUSIVE
