"""When a claim cannot be tested on this data: the measured rules behind claims.md's *not testable here*.

A claim about an intervention that cannot move the training signal on the data is marked so, with the measured
reason, read from the AMID runs of the claim's source: λ1 staying within :data:`LAMBDA_BAND` of ½ (dynamic λ is then
uniform λ), every sample having a same-class partner in its batch (D2 then scores the samples D1 scores), α3·L_adv
under :data:`ADV_SHARE` of AMID's objective over the distillation epochs. A claim names the rules it needs
(``Claim.needs``: keys of :data:`TESTABILITY`).
"""
from __future__ import annotations

import pandas as pd

__all__ = ["LAMBDA_BAND", "PARTNERED", "ADV_SHARE", "TESTABILITY", "not_testable"]

#: when an intervention cannot move the training signal (measured in the AMID runs of the claim's source)
LAMBDA_BAND = 0.02       # λ1 within ½ ± this: dynamic λ trains as uniform λ
PARTNERED = 0.95         # this share of samples with a same-class partner or more: D2 scores D1's samples
ADV_SHARE = 0.05         # α3·L_adv below this share of AMID's objective: L_adv barely moves the student


def _lambda(amid: pd.DataFrame) -> str:
    lo, hi = amid.get("lambda1_min"), amid.get("lambda1_max")
    if lo is None or lo.isna().all():
        return ""
    lo, hi = float(lo.min()), float(hi.max())
    if max(abs(lo - 0.5), abs(hi - 0.5)) < LAMBDA_BAND:
        return (f"λ1 stayed within [{lo:.3f}, {hi:.3f}] (Eq 14), within {LAMBDA_BAND} of ½: "
                "dynamic λ trains as uniform λ")
    return ""


def _d2(amid: pd.DataFrame) -> str:
    share = amid.get("batch_with_partner")
    if share is None or share.isna().all() or float(share.mean()) < PARTNERED:
        return ""
    return (f"{100 * float(share.mean()):.0f} % of samples have a same-class partner in their batch: D2 (Eq 12-13) "
            "then scores the samples D1 scores")


def _adv(amid: pd.DataFrame) -> str:
    share = amid.get("share_adv")
    if share is None or share.isna().all() or float(share.mean()) >= ADV_SHARE:
        return ""
    return (f"α3·L_adv is {100 * float(share.mean()):.1f} % of AMID's objective over the distillation epochs "
            f"(< {100 * ADV_SHARE:.0f} %)")


#: the testability rules a claim's ``needs`` names: each returns why it cannot be tested here, or ""
TESTABILITY = {"lambda": _lambda, "d2": _d2, "adv": _adv}


def not_testable(claim, runs: pd.DataFrame) -> str:
    """Why ``claim`` cannot be tested on these runs ("" when it can, or when its source has no AMID runs), from
    the AMID runs of its source."""
    amid = runs[(runs["source"] == claim.source) & (runs["row"] == "amid")]
    return "; ".join(r for r in (TESTABILITY[n](amid) for n in claim.needs) if r) if len(amid) else ""
