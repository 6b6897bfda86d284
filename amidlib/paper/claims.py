"""The paper's qualitative claims, decided from paired effects with confidence intervals.

``CLAIMS``: every qualitative claim of the paper's §4 as comparisons ``(row a, op, row b, metric)``
between runs of one source (a table or figure of ``runs.csv``). The arms of a comparison share seeds
(same initialisation, split and batch order), so :func:`evaluate_claims` pairs them seed by seed and
reports, per comparison, in the metric's units (percent points; cosine for Fig 5)

    effect = mean over the n pairs of (a − b),   CI = effect ∓ t(0.975, n − 1) · sd(a − b) / √n.

The verdict comes from the interval (:mod:`amidlib.paper.stats`): **supported** when it excludes 0 in
the direction the paper claims, **contradicted** when it excludes 0 in the opposite direction,
**inconclusive** otherwise. A claim of several comparisons is supported only if every part is,
contradicted if any part is.

Two more readings beside that raw verdict:

- **Holm**: the comparisons are one family (a reader looks at all of them), so each also gets a verdict at
  the family-wise 5 % level: Holm's step-down adjustment of the paired t-tests' p-values
  (:func:`amidlib.paper.stats.holm`); where the adjusted p is not below 0.05 the verdict is inconclusive.
- **more seeds at the edge**: a comparison of a table (:data:`EXTENDABLE`) whose interval, over the profile's
  seeds, ends within :func:`edge_band` of 0 (:data:`EDGE_SDS` times the drift another CPU gives a mean of n
  paired differences, s·√(2/n), s the metric's cross-CPU sd) could change verdict with the CPU; it is decided
  over the profile's edge seeds too (``seed_sets.edge``: 20 in all under profile cpu), whose runs are the rows of
  source :data:`EDGE_SOURCE` in runs.csv (:mod:`amidlib.paper.edge` plans and trains them). Whether a comparison
  is extended is decided from the first seeds alone, on either side of 0, so the rule favours no verdict
  (``tests/test_edge.py`` measures its false-positive rate by simulation).
- **not testable here**: a claim about an intervention that cannot move the training signal on this data
  is marked so, with the measured reason (:data:`TESTABILITY`): λ1 staying within 0.02 of ½ (dynamic λ is
  then uniform λ), every sample having a same-class partner in its batch (D2 then scores the samples D1
  scores), α3·L_adv under 5 % of AMID's objective over the distillation epochs. The effect and the
  statistical verdicts are still shown.

Nothing is written by hand: :func:`write_claims` computes ``claims.csv``, ``claims.md`` and the forest
plot ``fig_claims.png`` (+ ``fig_claims.csv``) from ``runs.csv``.
"""
from __future__ import annotations

import datetime as _dt
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from amidlib.core.files import atomic_write_text
from amidlib.data import manifests
from amidlib.paper import names, plots, sensitivity

# the forest plot of the verdicts (fig_claims) lives in its own module; imported here, every name keeps its path
from amidlib.paper.claims_plot import oriented, plot_claims  # noqa: F401
from amidlib.paper.gap import gap_text, gaps
from amidlib.paper.records import read_runs
from amidlib.paper.regime import measured_regime
from amidlib.paper.stats import (  # noqa: F401
    CONTRADICTED,
    INCONCLUSIVE,
    NOT_EVALUATED,
    NOT_TESTABLE,
    SUPPORTED,
    combine_verdicts,
    holm,
    holm_verdict,
    p_value,
    paired_effect,
    verdict,
)
from amidlib.paper.tables import PAPER_METRIC

# the rules of "not testable here" live in their own module; imported here, every name keeps its path
from amidlib.paper.testability import ADV_SHARE, LAMBDA_BAND, PARTNERED, TESTABILITY, not_testable  # noqa: F401
from amidlib.paper.verify_checks import cross_cpu_sd
from amidlib.repro.profiles import Profile

__all__ = ["Claim", "CLAIMS", "CLAIM_COLUMNS", "evaluate_claims", "comparison_sentence", "claims_of", "claims_markdown",
           "write_claims", "plot_claims", "oriented"]

#: claims.csv: one row per comparison
CLAIM_COLUMNS = ["id", "claim", "metric", "a", "op", "b", "setting", "n", "effect", "ci_low", "ci_high",
                 "paper_effect", "verdict", "claim_verdict", "source", "where", "p", "p_holm", "verdict_holm",
                 "claim_verdict_holm", "not_testable", "n_first", "at_edge", "borderline", "gap_share",
                 "paper_gap_share", "classification"]
#: the metrics whose effects are also given as a share of the teacher–student gap (amidlib.paper.gap)
GAP_METRICS = ("student_top1", "teacher_top1")


@dataclass(frozen=True)
class Claim:
    """A qualitative claim of the paper as comparisons ``(row_a, op, row_b, metric)`` on one source
    of runs.csv; ``per_setting``: decided separately for every setting of the source (Table 1 columns)."""

    id: str
    text: str
    source: str                                   # table1 ... table6, fig4, fig5
    comparisons: tuple[tuple[str, str, str, str], ...]
    where: str = ""                               # where the paper says it
    per_setting: bool = False
    needs: tuple[str, ...] = ()                   # what must move on this data for the claim to be testable


CLAIMS: tuple[Claim, ...] = (
    Claim("mi_s_weakens_teacher", "L_MI_s alone lowers the teacher's accuracy compared with the teacher alone",
          "table4", (("mi_s", "<", "teacher_alone", "teacher_top1"),), "Table 4, §4.4.1"),
    Claim("mi_a_restores_teacher", "adding L_MI_a restores the teacher (L_MI_s + L_MI_a teacher > L_MI_s teacher)",
          "table4", (("mi_s+mi_a", ">", "mi_s", "teacher_top1"),), "Table 4, §4.4.1"),
    Claim("joint_teacher_better", "training the teacher with L_MI_s + L_MI_a makes it better than the teacher alone",
          "table4", (("mi_s+mi_a", ">", "teacher_alone", "teacher_top1"),), "Table 4, §4.4.1"),
    Claim("amid_beats_mi", "AMID's student ≥ L_MI_s + L_MI_a's student (adding L_adv helps)",
          "table4", (("amid", ">=", "mi_s+mi_a", "student_top1"),), "Table 4, §4.4.1", needs=("adv",)),
    Claim("mi_beats_nce", "AMID with its MI bound (Eq 8) ≥ AMID with L_nce (student)",
          "table4", (("amid", ">=", "amid_nce", "student_top1"),), "Table 4, §4.4.1"),
    Claim("fixed_teacher_hurts", "a fixed pre-trained teacher hurts (AMID > with fixed teacher)",
          "table5", (("amid", ">", "fixed_teacher", "student_top1"),), "Table 5, §4.4.2"),
    Claim("warmup_helps", "no warm-up hurts (AMID > w/o warm-up)",
          "table5", (("amid", ">", "no_warmup", "student_top1"),), "Table 5, §4.4.2"),
    Claim("d2_helps", "D2 helps (AMID > w/o D2)",
          "table5", (("amid", ">", "no_d2", "student_top1"),), "Table 5, §4.4.2", needs=("d2",)),
    Claim("d2_helps_d1_kept", "D2 helps, with D1's weight kept (AMID > w/o D2 at λ1 = ½: only D2 removed)",
          "table5", (("amid", ">", "no_d2_keep_d1", "student_top1"),), "Table 5, §4.4.2 (our reading)", needs=("d2",)),
    Claim("dynamic_lambda_helps", "dynamic λ helps (AMID > w/o dynamic weight)",
          "table5", (("amid", ">", "uniform_lambda", "student_top1"),), "Table 5, §4.4.2", needs=("lambda", "d2")),
    Claim("amid_beats_student", "distillation helps: AMID's student > the student alone (the headline)",
          "table1", (("amid", ">", "baseline", "student_top1"),), "Table 1, §4.3", per_setting=True),
    Claim("amid_ccl_baseline", "AMID ≥ CCL ≥ baseline (student top-1)",
          "table1", (("amid", ">=", "ccl", "student_top1"), ("ccl", ">=", "baseline", "student_top1")),
          "Table 1, §4.3", per_setting=True),
    Claim("amid_r1_beats_ccl", "AMID retrieves better than CCL (R@1)",
          "table2", (("amid", ">", "ccl", "student_r1"),), "Table 2, §4.3", per_setting=True),
    Claim("gap_smaller", "AMID's teacher–student test gap is smaller than L_MI_s + L_MI_a's "
          "(averaged over the distillation epochs)",
          "fig4", (("amid", "<", "mi_s+mi_a", "test_gap"),), "Fig 4, §4.4.1", needs=("adv",)),
    Claim("cosine_order", "within-class teacher–student cosine: AMID > w/o D2 > w/o L_adv, on train and test "
          "(averaged over the distillation epochs)",
          "fig5", (("amid", ">", "no_d2", "train_cos_same_class"), ("no_d2", ">", "mi_s+mi_a", "train_cos_same_class"),
                   ("amid", ">", "no_d2", "test_cos_same_class"), ("no_d2", ">", "mi_s+mi_a", "test_cos_same_class")),
          "Fig 5, §4.4.2", needs=("d2", "adv")),
)

#: the sources whose comparisons get more seeds at the edge: final metrics of runs on the profile's pairings
EXTENDABLE = ("table1", "table2", "table4", "table5")
#: the rows of runs.csv that hold those seeds' runs
EDGE_SOURCE = "edge"
#: how many drift sds from 0 an interval's bound may end and still count as at the edge
EDGE_SDS = 3.0
#: a decided comparison whose interval (over all its seeds) still ends within this many drift sds of 0 is
#: *borderline*: another CPU's drift moves a bound by about s·√(2/n), so it could flip it (one-sided, ~1 in 40)
BORDERLINE_SDS = 2.0


def edge_band(metric: str, n: int, dataset: str | None = None) -> float:
    """How close to 0 a bound of an ``n``-seed interval of ``metric`` may end before another CPU could move it
    across: :data:`EDGE_SDS` · s · √(2/n), s the metric's cross-CPU sd per run on ``dataset``'s runs
    (:func:`amidlib.paper.verify_checks.cross_cpu_sd`; two runs per paired difference, independent drift,
    averaged over n seeds). NaN when s is unknown or n < 2 (no interval)."""
    s = cross_cpu_sd(dataset).get(metric)
    return math.nan if s is None or n < 2 else EDGE_SDS * s * math.sqrt(2 / n)


def borderline(e, metric: str, dataset: str | None = None) -> bool:
    """Does the final interval of ``e`` end within :data:`BORDERLINE_SDS` drift sds (s·√(2/n)) of 0: a verdict a
    second CPU could move, whatever the seeds say (``claims.md`` and the README mark it)."""
    band = edge_band(metric, e.n, dataset) * BORDERLINE_SDS / EDGE_SDS
    return bool(e.n >= 2 and not math.isnan(band) and min(abs(e.ci_low), abs(e.ci_high)) < band)


def at_edge(e, metric: str, dataset: str | None = None) -> bool:
    """Does the interval of ``e`` (an :class:`~amidlib.paper.stats.Effect`) end within :func:`edge_band` of 0
    on either side?"""
    band = edge_band(metric, e.n, dataset)
    return bool(e.n >= 2 and not math.isnan(band) and min(abs(e.ci_low), abs(e.ci_high)) < band)


def _per_seed(frame: pd.DataFrame, row: str, metric: str) -> pd.Series:
    """One value per (seed, fold) of ``row``'s ``metric``."""
    f = frame[frame["row"] == row]
    if metric not in f:
        return pd.Series(dtype=float)
    return f.set_index(["seed", "fold"])[metric].astype(float).dropna()


def _paper_effect(source: str, paper_setting: str, a: str, b: str, metric: str) -> float:
    """The paper's a − b where its table has both numbers (its figures give none)."""
    paper_metric = PAPER_METRIC.get(source, {}).get(metric)
    if paper_metric is None:
        return np.nan
    va, vb = (manifests.paper_value(source, paper_setting, r, paper_metric) for r in (a, b))
    return np.nan if va is None or vb is None else float(va) - float(vb)


def _paired(f: pd.DataFrame, a: str, b: str, metric: str):
    va, vb = _per_seed(f, a, metric), _per_seed(f, b, metric)
    pairs = pd.concat([va.rename("a"), vb.rename("b")], axis=1, join="inner")
    return paired_effect(pairs["a"].to_numpy(), pairs["b"].to_numpy())


def evaluate_claims(runs: pd.DataFrame, claims: Sequence[Claim] = CLAIMS, edge: bool = True,
                    alphas: bool = True) -> pd.DataFrame:
    """Decide every claim from ``runs`` (a runs.csv): one row per comparison (per setting for
    ``per_setting`` claims), columns :data:`CLAIM_COLUMNS`. A comparison at the edge over the first seeds
    (``at_edge``; ``n_first`` pairs) is decided over the edge seeds' runs too where runs.csv has them (``n``
    pairs in all); ``edge=False``: over the first seeds only."""
    runs = runs.assign(setting=runs["setting"].fillna("").astype(str), row=runs["row"].astype(str))
    extra = runs[runs["source"] == EDGE_SOURCE]
    gap = gaps(runs)  # per Table 1 setting; a claim on the main pairing (setting "") uses the first
    out, effects = [], []
    for claim in claims:
        reason = not_testable(claim, runs)
        src = runs[runs["source"] == claim.source]
        settings = list(dict.fromkeys(src["setting"])) if claim.per_setting else [None]
        for setting in settings or [None]:
            f = src if setting is None else src[src["setting"] == setting]
            paper_setting = str(f["paper_setting"].iloc[0]) if len(f) and "paper_setting" in f else ""
            parts = []
            for a, op, b, metric in claim.comparisons:
                first = _paired(f, a, b, metric)
                dataset = str(f["dataset"].iloc[0]) if len(f) and "dataset" in f else None
                edge_here = claim.source in EXTENDABLE and at_edge(first, metric, dataset)
                e = first
                if edge and edge_here:  # the first seeds' runs and the edge seeds' (a seed's run is in one of them)
                    more = extra[extra["setting"].isin(set(f["setting"])) & ~extra["seed"].isin(set(f["seed"]))]
                    e = _paired(pd.concat([f, more]), a, b, metric)
                v = verdict(e, op) if e.n else NOT_EVALUATED
                effects.append(e)
                parts.append({"id": claim.id, "claim": claim.text, "metric": metric, "a": a, "op": op, "b": b,
                              "setting": setting or "", "n": e.n, "effect": e.effect, "ci_low": e.ci_low,
                              "ci_high": e.ci_high,
                              "paper_effect": _paper_effect(claim.source, paper_setting, a, b, metric),
                              "verdict": v, "source": claim.source, "where": claim.where, "p": p_value(e),
                              "not_testable": reason, "n_first": first.n, "at_edge": edge_here,
                              "borderline": borderline(e, metric, dataset),
                              **_gap_shares(gap, setting, e.effect, paper_setting, a, b, claim.source, metric)})
            overall = (NOT_EVALUATED if any(p["verdict"] == NOT_EVALUATED for p in parts)
                       else combine_verdicts(p["verdict"] for p in parts))
            out += [{**p, "claim_verdict": overall, **({"not_testable": ""} if overall == NOT_EVALUATED else {})}
                    for p in parts]
    frame = pd.DataFrame(out, columns=CLAIM_COLUMNS)
    # Holm over every comparison evaluated here: one family
    frame["p_holm"] = holm(frame["p"].to_numpy(float)) if len(frame) else []
    frame["verdict_holm"] = [NOT_EVALUATED if v == NOT_EVALUATED else holm_verdict(e, op, ph)
                             for v, e, op, ph in zip(frame["verdict"], effects, frame["op"], frame["p_holm"],
                                                     strict=True)]
    frame["claim_verdict_holm"] = frame.groupby(["id", "setting"], sort=False)["verdict_holm"].transform(
        lambda v: NOT_EVALUATED if (v == NOT_EVALUATED).any() else combine_verdicts(v))
    if alphas:  # the claims decided under other α and on the gap-matched pairing too (amidlib.paper.sensitivity)
        _classify(frame, setting_sensitivity(runs, frame))
    return frame


def _classify(verdicts: pd.DataFrame, table: pd.DataFrame) -> None:
    """Fill ``verdicts``' classification from a :func:`setting_sensitivity` table: a claim's row on the main pairing
    gets its class ("" for a claim not in the table, and on Table 1's other pairings)."""
    verdicts["classification"] = ""
    if table.empty:
        return
    paper = table[table["under"] == PAPER_ALPHA]
    classes = dict(zip(zip(paper["id"], paper["setting"], strict=True), paper["classification"], strict=True))
    verdicts["classification"] = [classes.get(key, "") for key in zip(verdicts["id"], verdicts["setting"], strict=True)]


#: the first column of :func:`setting_sensitivity`: the claims as the table above decides them
PAPER_ALPHA = "paper's α"


def setting_sensitivity(runs: pd.DataFrame, verdicts: pd.DataFrame) -> pd.DataFrame:
    """Each claim of :data:`~amidlib.paper.sensitivity.CLAIM_IDS` under the paper's α (its verdict in ``verdicts``, on
    the main pairing) and under each other setting runs.csv has that trained all its arms (an α setting, the
    gap-matched pairing; decided on that setting's runs over its seeds), with its class: one row per comparison and
    setting (``under``); empty without sensitivity runs."""
    settings = sensitivity.setting_runs(runs)
    if len(settings) < 2:
        return pd.DataFrame()
    chosen = [c for c in CLAIMS if c.id in sensitivity.CLAIM_IDS]
    cols = ["id", "claim", "setting", "a", "op", "b", "metric", "effect", "ci_low", "ci_high", "verdict",
            "claim_verdict", "n", "gap_share"]
    main = settings[PAPER_ALPHA]
    main_setting = str(main["setting"].iloc[0]) if len(main) else ""
    paper = verdicts[verdicts["id"].isin(sensitivity.CLAIM_IDS) & verdicts["setting"].isin(["", main_setting])
                     & (verdicts["claim_verdict"] != NOT_EVALUATED)]
    parts = [paper[cols].assign(under=PAPER_ALPHA)]
    for label, frame in list(settings.items())[1:]:
        decided = evaluate_claims(frame, chosen, edge=False, alphas=False)
        # (a claim whose arms it did not train, or one the paper's α does not decide: nothing to compare with)
        decided = decided[(decided["claim_verdict"] != NOT_EVALUATED) & decided["id"].isin(set(paper["id"]))]
        parts.append(decided[cols].assign(under=label))
    table = pd.concat(parts, ignore_index=True)
    table = table[table["id"].isin(set(pd.concat(parts[1:])["id"]))]  # a claim no other setting decided: no class
    # one verdict per claim and setting; the class from those under α (the paper's first) and on the gap pairing
    claim_verdicts = table.drop_duplicates(["id", "under"])
    classes = {}
    for cid, grp in claim_verdicts.groupby("id", sort=False):
        gap = grp["under"].map(sensitivity.is_gap)
        classes[cid] = sensitivity.classify(list(grp.loc[~gap, "claim_verdict"]), list(grp.loc[gap, "claim_verdict"]))
    table["classification"] = table["id"].map(classes)
    # the paper's α rows keep the claim's own setting (Table 1's main pairing; "" for Table 4): _classify's key
    return table


def _gap_shares(gap: pd.DataFrame, setting: str | None, effect: float, paper_setting: str, a: str, b: str,
                source: str, metric: str) -> dict[str, float]:
    """The effect as a share of our teacher–student gap on its setting, and the paper's effect as a share of the
    paper's gap (NaN for a metric other than top-1, or where either gap is unknown)."""
    if metric not in GAP_METRICS or gap.empty:
        return {"gap_share": np.nan, "paper_gap_share": np.nan}
    row = gap.loc[setting] if setting in gap.index else gap.iloc[0]
    paper = gap.loc[gap["paper_setting"] == paper_setting, "paper_gap"] if paper_setting else gap["paper_gap"]
    paper_gap = float(paper.iloc[0]) if len(paper) else np.nan
    return {"gap_share": effect / row["gap"],
            "paper_gap_share": _paper_effect(source, paper_setting or row["paper_setting"], a, b, metric) / paper_gap}


def _share(v: float) -> str:
    return "—" if v is None or np.isnan(v) else f"{100 * v:+.0f} %"


def _num(v: float, metric: str) -> str:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return "—"
    return f"{v:+.3f}" if "cos" in metric else f"{v:+.2f}"


def _interval(r) -> str:
    if r.n < 2:
        return f"{_num(r.effect, r.metric)} (n={r.n}: no interval)"
    n_first = getattr(r, "n_first", r.n)
    seeds = f"n={r.n}" if r.n == n_first else f"n={r.n}: at the edge over {n_first}, so {r.n - n_first} more seeds"
    return f"{_num(r.effect, r.metric)} [{_num(r.ci_low, r.metric)}, {_num(r.ci_high, r.metric)}] ({seeds})"


def _comparison(r) -> str:
    src = r.source
    return f"{names.short_name(r.a, src)} {r.op} {names.short_name(r.b, src)}"


def comparison_sentence(c) -> str:
    """One comparison (a row of :func:`evaluate_claims`) in words, for the notebooks' "what you should see":
    a − b, its 95 % interval, whether it excludes 0, the verdict and the paper's effect where it has one."""
    d, unit = (3, "") if "cos" in c.metric else (2, " points")  # cosines; accuracy differences in points
    text = f"{names.short_name(c.a, c.source)} − {names.short_name(c.b, c.source)} = {c.effect:+.{d}f}{unit}"
    if c.n < 2 or np.isnan(c.ci_low):
        return text + f" ({c.n} seed: no interval, so {c.verdict})"
    side = "excludes 0" if c.ci_low > 0 or c.ci_high < 0 else "contains 0"
    paper = "" if np.isnan(c.paper_effect) else f"; the paper: {c.paper_effect:+.1f}"
    untestable = f" — but **not testable here**: {c.not_testable}" if getattr(c, "not_testable", "") else ""
    return (text + f", 95 % CI [{c.ci_low:+.{d}f}, {c.ci_high:+.{d}f}] over {c.n} seeds, which {side}: {c.verdict}"
            + paper + untestable)


def claims_of(out_dir: str | os.PathLike, source: str) -> pd.DataFrame:
    """:func:`evaluate_claims` for the claims of one source (``table4``, ``fig5``, …) from ``<out_dir>/runs.csv``."""
    return evaluate_claims(read_runs(out_dir), [c for c in CLAIMS if c.source == source])


def verdict_counts(verdicts: pd.DataFrame, column: str = "claim_verdict") -> dict[str, int]:
    """Claims (per setting) by verdict (``column``: claim_verdict, or claim_verdict_holm); a claim that is not
    testable here counts as that, whatever its statistical verdict."""
    first = verdicts.drop_duplicates(["id", "setting"])
    status = first[column].where(first["not_testable"].fillna("") == "", NOT_TESTABLE)
    return {v: int((status == v).sum()) for v in (SUPPORTED, INCONCLUSIVE, CONTRADICTED, NOT_TESTABLE, NOT_EVALUATED)}


def _status(first, grp=None) -> str:
    """A claim's verdict cell in claims.md: not testable here (with the statistics beside it), or raw and Holm;
    *borderline* where one of its comparisons ends within the CPU band of 0."""
    stats = f"raw {first['claim_verdict']}; Holm {first['claim_verdict_holm']}"
    if first["not_testable"]:
        return f"**{NOT_TESTABLE}** ({stats})"
    near = grp is not None and "borderline" in grp and grp["borderline"].fillna(False).astype(bool).any()
    return (f"**{first['claim_verdict']}**{', borderline (CPU)' if near else ''} "
            f"(Holm: {first['claim_verdict_holm']})")


def claims_markdown(verdicts: pd.DataFrame, prof: Profile | None = None, regime: str = "",
                    settings_table: pd.DataFrame | None = None) -> str:
    """claims.md: the rule, a one-line count, a summary table per claim, then every comparison."""
    lines = ["# The paper's qualitative claims, checked on our data", ""]
    ds = prof.main.dataset if prof is not None else None
    band20 = BORDERLINE_SDS / EDGE_SDS * edge_band("student_top1", 20, ds)
    if prof is not None:
        lines.append(f"- data: {prof.main.description}"
                     + "".join(f" (Table 1 also: {p.description})" for p in prof.pairings[1:]))
        lines.append(f"- {prof.describe().splitlines()[0]}")
        lines.append(f"- {prof.describe().splitlines()[1].strip()}")
    if regime:
        lines.append(f"- regime: {regime}")
    lines.append(f"- generated {_dt.datetime.now().isoformat(timespec='seconds')} by "
                 "`amidlib.paper.claims.write_claims` from runs.csv beside this file: computed, not written by hand")
    lines.append("- rule: the arms of a comparison share seeds, so each is judged on the per-seed differences a − b: "
                 "effect = their mean, 95 % interval = effect ∓ t(0.975, n−1)·sd/√n (percent points; cosine for "
                 "Fig 5). **supported**: the interval excludes 0 in the paper's direction; **contradicted**: it "
                 "excludes 0 the other way; **inconclusive**: it contains 0. A claim of several comparisons is "
                 "supported only if every part is, contradicted if any part is. **Holm**: the same at the family-wise "
                 "5 % level over all comparisons (Holm's step-down adjustment of the paired t-tests' p-values; a "
                 "comparison whose adjusted p is not below 0.05 is inconclusive). **not testable here**: the claim's "
                 "intervention cannot move the training signal on this data, by a measured rule (λ1 within "
                 f"{LAMBDA_BAND} of ½; ≥ {100 * PARTNERED:.0f} % of samples with a same-class partner, so D2 scores "
                 f"D1's samples; α3·L_adv < {100 * ADV_SHARE:.0f} % of the objective); its statistics are still shown. "
                 "**More seeds at the edge**: a comparison of Tables 1, 2, 4, 5 whose interval over the first seeds "
                 f"ends within {EDGE_SDS:g}·s·√(2/n) of 0 (s: the metric's cross-CPU sd per run, "
                 f"{cross_cpu_sd(ds)['student_top1']} points for student top-1{' on ' + ds if ds else ''}: "
                 f"{edge_band('student_top1', 10, ds):.2f} points at n = 10), so that another CPU's drift could "
                 "move its verdict, is decided over the edge seeds too; decided from the first seeds alone, on "
                 "either side of 0. **Borderline (CPU)**: a comparison whose interval over all its seeds still ends "
                 f"within {BORDERLINE_SDS:g}·s·√(2/n) of 0 ({band20:.2f} points of student top-1 at n = 20): a "
                 "second CPU's drift could move that verdict to or from "
                 "inconclusive; `make verify` reports such moves as borderline, not as failures.")
    lines.append(_summary_line(verdict_counts(verdicts), verdict_counts(verdicts, "claim_verdict_holm")))
    lines.append(_edge_line(verdicts))
    lines.append("")
    table = []
    for i, ((_cid, setting), grp) in enumerate(verdicts.groupby(["id", "setting"], sort=False), 1):
        first = grp.iloc[0]
        table.append({
            "#": i, "claim of the paper": f"{first['claim']}{' (' + setting + ')' if setting else ''}",
            "where": first["where"],
            "ours: effect [95 % CI]": "; ".join(_interval(r) for r in grp.itertuples()),
            "paper effect": "; ".join(_num(r.paper_effect, r.metric) for r in grp.itertuples()),
            "verdict": _status(first, grp),
        })
    lines += [pd.DataFrame(table).to_markdown(index=False, disable_numparse=True), ""]
    lines += sensitivity.sensitivity_markdown(settings_table if settings_table is not None else pd.DataFrame())
    lines += ["## The comparisons", ""]
    for i, ((_cid, setting), grp) in enumerate(verdicts.groupby(["id", "setting"], sort=False), 1):
        first = grp.iloc[0]
        lines.append(f"{i}. {_status(first, grp)}: {first['claim']}{' (' + setting + ')' if setting else ''} "
                     f"[{first['where']}]")
        if first["not_testable"]:
            lines.append(f"   - not testable here: {first['not_testable']}")
        for r in grp.itertuples():
            paper = "" if np.isnan(r.paper_effect) else f"; paper {_num(r.paper_effect, r.metric)}"
            near = " — **borderline**: ends within the CPU band of 0, another CPU may move this verdict" \
                if getattr(r, "borderline", False) is True else ""
            share = "" if np.isnan(getattr(r, "gap_share", np.nan)) else \
                f"; {_share(r.gap_share)} of the teacher–student gap (paper {_share(r.paper_gap_share)})"
            lines.append(f"   - {_comparison(r)} [{r.metric.replace('_', ' ')}]: {_interval(r)} → {r.verdict} "
                         f"(p {r.p:.2g}, Holm {r.p_holm:.2g} → {r.verdict_holm}){paper}{share}{near}")
    return "\n".join(lines) + "\n"


def _summary_line(raw: dict[str, int], adjusted: dict[str, int]) -> str:
    def counts(c):
        text = f"{c[SUPPORTED]} supported, {c[INCONCLUSIVE]} inconclusive, {c[CONTRADICTED]} contradicted"
        return text + (f", {c[NOT_EVALUATED]} not evaluated" if c[NOT_EVALUATED] else "")

    return (f"- summary: of {sum(raw.values())} claims, **{raw[NOT_TESTABLE]} not testable here**; of the others, "
            f"**{counts(raw)}** (with Holm: {counts(adjusted)}) (Table 1's and Table 2's claims once per column)")


def _edge_line(verdicts: pd.DataFrame) -> str:
    """Which comparisons were at the edge and over how many seeds each was decided."""
    edge = verdicts[verdicts["at_edge"].fillna(False).astype(bool)] if "at_edge" in verdicts else verdicts.iloc[0:0]
    if edge.empty:
        return "- at the edge: no comparison's interval ended within its edge band of 0 over the first seeds"
    parts = [f"{_comparison(r)} [{r.metric.replace('_', ' ')}{', ' + r.setting if r.setting else ''}]: "
             f"{r.n_first} → {r.n} seeds" for r in edge.itertuples()]
    return f"- at the edge over the first seeds, so decided over more: {len(edge)} comparison(s): " + "; ".join(parts)


def write_claims(out_dir: str | os.PathLike, prof: Profile | None = None, regime: str = "") -> pd.DataFrame:
    """Evaluate every claim from ``<out_dir>/runs.csv``; write claims.csv, claims.md, fig_claims.png and
    fig_claims.csv (each atomically)."""
    out_dir = Path(out_dir)
    runs = read_runs(out_dir)
    verdicts = evaluate_claims(runs, alphas=False)
    settings_table = setting_sensitivity(runs, verdicts)  # (once: the classes and claims.md's section)
    _classify(verdicts, settings_table)
    regime = "; ".join(r for r in (regime, measured_regime(runs), gap_text(runs)) if r)
    atomic_write_text(out_dir / "claims.csv", verdicts.to_csv(index=False))
    if len(settings_table):
        atomic_write_text(out_dir / "claims_sensitivity.csv", settings_table.to_csv(index=False))
    atomic_write_text(out_dir / "claims.md", claims_markdown(verdicts, prof, regime, settings_table))
    cols = ["id", "a", "op", "b", "metric", "setting", "n", "effect", "ci_low", "ci_high", "paper_effect", "verdict",
            "direction", "oriented_effect", "oriented_ci_low", "oriented_ci_high", "oriented_paper_effect"]
    atomic_write_text(out_dir / "fig_claims.csv", oriented(verdicts)[cols].to_csv(index=False))
    fig = plot_claims(verdicts)
    plots.save(fig, out_dir / "fig_claims.png")
    plt.close(fig)
    return verdicts
