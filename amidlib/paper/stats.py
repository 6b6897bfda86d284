"""The statistics behind the verdicts: paired effects with Student-t intervals, and Welch intervals
for comparing two reproductions.

Arms of a comparison share seeds (same initialisation, split and batch order), so a claim "a beats b"
is judged on the per-seed differences d_s = a_s − b_s:

    effect = mean(d),   CI = effect ∓ t(1 − (1 − c)/2, n − 1) · sd(d) / √n      (c = 0.95)

and decided from the interval, never from the means alone: **supported** when the interval excludes 0
in the direction the paper claims, **contradicted** when it excludes 0 in the opposite direction,
**inconclusive** otherwise (and always with fewer than two pairs). A claim made of several comparisons
is supported only if every part is, contradicted if any part is.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as _st

__all__ = ["Effect", "paired_effect", "verdict", "combine_verdicts", "welch_interval", "ratio_effect", "batch_regime",
           "p_value", "holm", "holm_verdict", "SUPPORTED", "CONTRADICTED", "INCONCLUSIVE", "NOT_TESTABLE"]

SUPPORTED, CONTRADICTED, INCONCLUSIVE = "supported", "contradicted", "inconclusive"
#: a claim whose intervention cannot move the training signal on this data (amidlib.paper.claims says why)
NOT_TESTABLE = "not testable here"
#: a comparison with no paired seed (its rows missing from runs.csv)
NOT_EVALUATED = "not evaluated"
#: the direction each comparison operator claims: +1 (a above b) or −1 (a below b)
DIRECTION = {">": 1, ">=": 1, "<": -1, "<=": -1}


@dataclass(frozen=True)
class Effect:
    """Mean of the per-pair differences (a − b) and its two-sided Student-t interval."""

    n: int
    effect: float
    sd: float
    ci_low: float
    ci_high: float
    confidence: float = 0.95


def _t_interval(values: np.ndarray, confidence: float) -> Effect:
    n = int(values.size)
    if n == 0:
        return Effect(0, math.nan, math.nan, math.nan, math.nan, confidence)
    mean = float(values.mean())
    if n < 2:
        return Effect(n, mean, math.nan, math.nan, math.nan, confidence)
    sd = float(values.std(ddof=1))
    half = float(_st.t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)
    return Effect(n, mean, sd, mean - half, mean + half, confidence)


def paired_effect(a: Sequence[float], b: Sequence[float], confidence: float = 0.95) -> Effect:
    """The paired effect of ``a`` over ``b`` (same length, pair i = seed i)."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    if a.shape != b.shape:
        raise ValueError(f"paired_effect needs one b per a (pairs share a seed); got {a.shape} and {b.shape}")
    d = a - b
    return _t_interval(d[~np.isnan(d)], confidence)


def ratio_effect(num: Sequence[float], den: Sequence[float], confidence: float = 0.95) -> Effect:
    """Per-pair ratios num_i / den_i with a t interval (e.g. the share of the teacher–student gap a
    method closes, seed by seed: (method − baseline) / (teacher − baseline))."""
    num, den = np.asarray(num, float), np.asarray(den, float)
    with np.errstate(divide="ignore", invalid="ignore"):
        r = num / den
    return _t_interval(r[np.isfinite(r)], confidence)


def verdict(effect: Effect, op: str) -> str:
    """supported / contradicted / inconclusive for the claim ``a op b`` (op in <, <=, >, >=)."""
    if op not in DIRECTION:
        raise ValueError(f"unknown comparison {op!r}; one of {sorted(DIRECTION)}")
    lo, hi = effect.ci_low, effect.ci_high
    if effect.n < 2 or math.isnan(lo) or math.isnan(hi):
        return INCONCLUSIVE
    sign = DIRECTION[op]
    if (sign > 0 and lo > 0) or (sign < 0 and hi < 0):
        return SUPPORTED
    if (sign > 0 and hi < 0) or (sign < 0 and lo > 0):
        return CONTRADICTED
    return INCONCLUSIVE


def p_value(effect: Effect) -> float:
    """Two-sided p of the paired t-test behind ``effect`` (no mean difference): the p below 0.05 exactly
    when the 95 % interval excludes 0. NaN with fewer than two pairs; 0 or 1 when every difference is equal."""
    if effect.n < 2 or math.isnan(effect.sd):
        return math.nan
    if effect.sd == 0:
        return 1.0 if effect.effect == 0 else 0.0
    t = effect.effect / (effect.sd / math.sqrt(effect.n))
    return float(2 * _st.t.sf(abs(t), effect.n - 1))


def holm(p_values: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjustment of one family of p-values (NaN: not part of the family, stays NaN).

    With the m p-values sorted ascending, p_(1) ≤ … ≤ p_(m): adjusted p_(i) = max over j ≤ i of
    min(1, (m − j + 1) · p_(j)). Rejecting where the adjusted p < α keeps the family-wise error ≤ α."""
    p = np.asarray(p_values, float)
    out = np.full(p.shape, np.nan)
    idx = np.flatnonzero(~np.isnan(p))
    order = idx[np.argsort(p[idx], kind="stable")]
    m, running = len(order), 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        out[i] = running
    return out


def holm_verdict(effect: Effect, op: str, p_adjusted: float, alpha: float = 0.05) -> str:
    """The verdict at the family-wise level: the raw verdict where the Holm-adjusted p is below ``alpha``,
    else inconclusive (an adjusted p is never below the raw one, so Holm only turns verdicts inconclusive)."""
    raw = verdict(effect, op)
    return raw if (not math.isnan(p_adjusted) and p_adjusted < alpha) else INCONCLUSIVE


def combine_verdicts(parts: Iterable[str]) -> str:
    """A claim of several comparisons: supported only if every part is, contradicted if any part is."""
    parts = list(parts)
    if not parts:
        return INCONCLUSIVE
    if any(p == CONTRADICTED for p in parts):
        return CONTRADICTED
    if all(p == SUPPORTED for p in parts):
        return SUPPORTED
    return INCONCLUSIVE


def welch_interval(mean1: float, sd1: float, n1: int, mean2: float, sd2: float, n2: int,
                   confidence: float = 0.999) -> tuple[float, float]:
    """Two-sided Welch interval of mean1 − mean2 for two independent samples (summaries only).

    With a zero pooled variance (identical values on both sides) the interval is the point itself.
    """
    v1, v2 = (sd1 ** 2) / n1, (sd2 ** 2) / n2
    diff = mean1 - mean2
    se2 = v1 + v2
    if se2 == 0:
        return diff, diff
    dof = se2 ** 2 / ((v1 ** 2) / (n1 - 1) + (v2 ** 2) / (n2 - 1))
    half = float(_st.t.ppf(0.5 + confidence / 2, dof)) * math.sqrt(se2)
    return diff - half, diff + half


def batch_regime(batch_size: int, class_counts: Sequence[int]) -> dict[str, float]:
    """What a mini-batch drawn at random (without replacement) from a training set with these class
    sizes looks like to AMID, in expectation:

    - ``positives``: same-class items per anchor in Eq 8, the anchor's own pair included:
      1 + Σ_c p_c (B − 1)(n_c − 1)/(N − 1);
    - ``with_partner``: share of samples with another sample of their class in the batch (the set D2
      sees): 1 − Σ_c p_c · P(none of the other B − 1 is of class c), hypergeometric.
    """
    counts = np.asarray([c for c in class_counts if c > 0], dtype=float)
    n, b = counts.sum(), int(batch_size)
    p = counts / n
    positives = 1 + float(np.sum(p * (b - 1) * (counts - 1) / (n - 1)))
    alone = np.array([_st.hypergeom(int(n) - 1, int(c) - 1, b - 1).pmf(0) for c in counts])
    return {"batch": b, "classes": int(counts.size), "positives": positives,
            "with_partner": float(1 - np.sum(p * alone))}
