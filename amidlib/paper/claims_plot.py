"""fig_claims: every comparison's paired effect and interval, turned to the paper's direction, beside the paper's
effect (:func:`plot_claims`, from :func:`oriented`). ``amidlib.paper.claims`` decides the verdicts and writes the
figure with these; both names are importable from there too."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from amidlib.paper import names, plots
from amidlib.paper.stats import CONTRADICTED, INCONCLUSIVE, NOT_EVALUATED, NOT_TESTABLE, SUPPORTED

__all__ = ["oriented", "plot_claims"]

_VERDICT_COLOURS = {SUPPORTED: "#009e73", INCONCLUSIVE: "#777777", CONTRADICTED: "#d55e00", NOT_TESTABLE: "#56b4e9",
                    NOT_EVALUATED: "#bbbbbb"}


def oriented(verdicts: pd.DataFrame) -> pd.DataFrame:
    """``verdicts`` with ``direction`` (+1 where the paper claims a above b, −1 below) and the effect, its
    interval and the paper's effect turned to the paper's direction (``oriented_effect``, ``oriented_ci_low``,
    ``oriented_ci_high``, ``oriented_paper_effect``): positive is the way the paper says, so a supported
    comparison's interval lies right of 0 and a contradicted one's left of it, on every row."""
    from amidlib.paper.stats import DIRECTION

    v = verdicts.copy()
    sign = v["op"].map(DIRECTION).astype(float)
    num = {c: pd.to_numeric(v[c], errors="coerce").astype(float)
           for c in ("effect", "ci_low", "ci_high", "paper_effect")}
    lo, hi = sign * num["ci_low"], sign * num["ci_high"]
    return v.assign(direction=sign.astype(int), oriented_effect=sign * num["effect"], oriented_ci_low=np.fmin(lo, hi),
                    oriented_ci_high=np.fmax(lo, hi), oriented_paper_effect=sign * num["paper_effect"])


def _oriented_label(r) -> str:
    """A comparison as the paper states it; "(axis: b − a)" where the axis shows it turned (a claim a < b)."""
    src = r.source if isinstance(getattr(r, "source", ""), str) else ""
    a, b = names.short_name(r.a, src), names.short_name(r.b, src)
    setting = r.setting if isinstance(r.setting, str) else ""
    where = r.metric.replace("_", " ") + (f", {setting}" if setting else "")
    return f"{a} {r.op} {b}  [{where}]" + ("" if r.direction > 0 else "  (axis: b − a)")


def plot_claims(verdicts: pd.DataFrame, title: str = ""):
    """Forest plot: every comparison's effect and 95 % interval (colour = verdict) beside the paper's
    effect (×), each turned to the paper's direction (:func:`oriented`): right of 0 is what the paper claims,
    so a verdict reads off the axis (right of 0: supported, left: contradicted, across 0: inconclusive).
    Accuracy comparisons (points) and cosine comparisons (cosine) in separate panels. The long caption is
    ``fig.caption``."""
    v = oriented(verdicts.reset_index(drop=True))
    v = v.assign(label=[_oriented_label(r) for r in v.itertuples()])
    groups = [("points", v[~v["metric"].str.contains("cos")]), ("cosine", v[v["metric"].str.contains("cos")])]
    groups = [(t, g) for t, g in groups if len(g)]
    heights = [max(len(g), 1) for _, g in groups]
    fig, axes = plt.subplots(len(groups), 1, figsize=(plots.PAGE, 0.26 * sum(heights) + 1.5),
                             gridspec_kw={"height_ratios": heights}, squeeze=False)
    for ax, (unit, g) in zip(axes[:, 0], groups, strict=True):
        y = np.arange(len(g))[::-1]
        for yi, r in zip(y, g.itertuples(), strict=True):
            colour = _VERDICT_COLOURS.get(NOT_TESTABLE if r.not_testable else r.verdict, "#777777")
            if not np.isnan(r.oriented_ci_low):
                ax.plot([r.oriented_ci_low, r.oriented_ci_high], [yi, yi], color=colour, lw=2.2, solid_capstyle="butt")
            ax.plot([r.oriented_effect], [yi], "o", color=colour, ms=4.5)
            if not np.isnan(r.oriented_paper_effect):
                ax.plot([r.oriented_paper_effect], [yi], "x", color="black", ms=5, mew=1.3)
        ax.axvline(0, color="0.3", lw=0.8)
        ax.set_yticks(y, g["label"], fontsize=6.5)
        ax.set_ylim(-0.7, len(g) - 0.3)
        ax.set_xlabel(f"effect in the paper's direction ({unit}; right of 0: as the paper says)")
    shown = set(v["verdict"].where(v["not_testable"].fillna("") == "", NOT_TESTABLE))
    handles = [plt.Line2D([], [], color=c, marker="o", lw=2.2, label=k) for k, c in _VERDICT_COLOURS.items()
               if k in shown]
    handles.append(plt.Line2D([], [], color="black", marker="x", lw=0, mew=1.3, label="paper's effect"))
    fig.legend(handles=handles, fontsize=6.5, loc="lower center", ncol=len(handles), frameon=False,
               bbox_to_anchor=(0.5, 0.0))
    fig.suptitle(title or "The paper's claims, oriented: right of 0 = the paper's direction")
    fig.tight_layout(rect=(0, 0.5 / (0.26 * sum(heights) + 1.5), 1, 1))
    return plots.set_caption(
        fig, "The paper's claims: per comparison, our paired effect (dot, mean over seeds) and its 95 % t interval "
        "(bar; colour: the verdict), and the paper's effect (×), each turned so that positive is the paper's "
        "direction (for a claim 'a < b' the axis shows b − a): an interval right of 0 supports the claim, left of 0 "
        "contradicts it, across 0 is inconclusive. Accuracy comparisons in points, Fig 5's in cosine.")
