"""The comparisons behind ``make verify`` (:mod:`amidlib.paper.verify`, whose docstring explains the
rules): the runs of two ``runs.csv`` files, each once (:func:`run_table`, :mod:`amidlib.paper.verify_runs`), the
margins (:func:`tolerances`, :data:`CROSS_CPU_SD`), the per-method shifts and per-run moves (:func:`compare_runs`),
the claims' effects (:func:`compare_claim_effects`) and verdicts (:func:`compare_claims`), all gathered in a
:class:`VerifyReport`. :mod:`amidlib.paper.verify` reads the two folders, prints the report and is the command line.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats as _st

from amidlib.paper.stats import CONTRADICTED, SUPPORTED

# which run a row of runs.csv is (each run once): its own module; imported here, every name keeps its path
from amidlib.paper.verify_runs import ID_COLUMNS, _runs_and_rows, metric_columns, run_table

__all__ = ["VerifyReport", "Tolerance", "CROSS_CPU_SD", "CROSS_CPU_SD_BY_DATASET", "cross_cpu_sd", "tolerances",
           "run_table", "compare_runs",
           "compare_claim_effects", "compare_claims", "metric_columns", "ID_COLUMNS", "CONFIDENCE", "MARGIN_SDS",
           "GROSS_SDS", "FALLBACK_SEED_FRACTION", "SYSTEMATIC_BY_DATASET",
           "SYSTEMATIC_FLOOR_SDS", "SPREAD_FLOOR_SDS"]

#: family-wise confidence of the shift and claim-effect intervals
CONFIDENCE = 0.999
#: per metric: the sd over runs of the paired difference between two CPUs (benchmarks/cross_cpu), the largest
#: of the measured pairs, rounded up to two significant digits; on the 10 digits three pairs: an AMD EPYC against an
#: Intel Xeon (278 runs), one AMD machine's AVX512 against its AVX2 kernels and that AMD against another Intel Xeon
#: (56 runs each: Table 3's folds and the regime sweep, whose smaller batches drift more); floors for λ1's range
#: and the batch statistics (identical on all); tests/test_verify.py recomputes them
CROSS_CPU_SD: dict[str, float] = {
    "student_top1": 0.39, "teacher_top1": 0.62, "student_r1": 0.42, "student_r5": 0.40, "wa": 0.39, "ua": 0.39,
    "test_gap": 0.072, "train_cos_same_class": 0.00037, "test_cos_same_class": 0.00065,
    "lambda1_min": 0.00018, "lambda1_max": 0.0001, "batch_positives": 0.001, "batch_with_partner": 0.0001,
}
#: where a dataset's runs drift otherwise: the digit pairs (batch 16, 24 epochs: 41 small steps an epoch) drift
#: about 2-3x the 10 digits' (benchmarks/cross_cpu/pairs_*: one AMD machine with torch's AVX512 and AVX2 kernels,
#: and that AMD against an Intel Xeon; 282 runs each); the larger of the two, rounded up
CROSS_CPU_SD_BY_DATASET: dict[str, dict[str, float]] = {
    "uci_pairs": {"student_top1": 0.90, "teacher_top1": 1.4, "student_r1": 0.76, "student_r5": 0.70,
                  "wa": 0.90, "ua": 0.90, "test_gap": 0.19, "train_cos_same_class": 0.0012,
                  "test_cos_same_class": 0.0020, "lambda1_min": 0.00017, "share_cls": 0.00090,
                  "share_jsd": 0.00085, "share_mi_s": 0.0018, "share_mi_a": 0.0010, "share_adv": 0.0029},
}
#: a method's mean shift between two CPUs beyond what its own runs' spread explains: per dataset and metric, the
#: largest max(0, |mean| − t₀.₉₇₅·se) over every method's runs (all its arms) in the measured CPU pairs
#: (benchmarks/cross_cpu; tests/test_verify.py recomputes it). One was measured: AMID's 160 runs on the digit pairs,
#: AMD EPYC against Intel Xeon, −0.18 points of top-1 (se 0.067); every other method-wide mean was within its interval
SYSTEMATIC_BY_DATASET: dict[str, dict[str, float]] = {
    "uci_pairs": {"student_top1": 0.045, "wa": 0.045, "ua": 0.045, "student_r5": 0.037,
                  "test_cos_same_class": 0.0004},
}
SYSTEMATIC_FLOOR_SDS = 0.1  # the systematic margin is at least 0.1 s: a shift below it is not worth a failure
SPREAD_FLOOR_SDS = 0.5      # a method's runs' spread, for its mean's interval, is taken as at least 0.5 s
MARGIN_SDS = 1.0          # a claim effect within ±1 s never fails
GROSS_SDS = 10.0          # one run beyond ±10 s fails
FALLBACK_SEED_FRACTION = 0.5  # s of a metric not measured across CPUs: this fraction of its seed sd
#: the source of the edge seeds' runs (amidlib.paper.edge; named here too: this module imports no claims code)
_EDGE = "edge"


@dataclass(frozen=True)
class Tolerance:
    """``sd``: a run's cross-CPU sd (s); ``margin``: a claim effect's change that may pass; ``gross``: one run's move;
    ``systematic``: a method's mean shift that passes whatever its spread (its own interval is added)."""

    sd: float
    margin: float
    gross: float
    measured: bool = True   # False: s from the reference's seed sd (a metric not measured across CPUs)
    systematic: float = 0.0


@dataclass
class VerifyReport:
    placements: int = 0                                   # rows of the reference's runs.csv
    runs: int = 0                                         # distinct runs compared
    metrics: list[str] = field(default_factory=list)
    tolerances: dict[str, Tolerance] = field(default_factory=dict)
    dataset_tolerances: dict[str, dict[str, Tolerance]] = field(default_factory=dict)  # where a dataset has its own
    shifts: list[dict] = field(default_factory=list)      # every (method, metric) group tested
    moves: list[dict] = field(default_factory=list)       # every (run, metric) compared
    effects: list[dict] = field(default_factory=list)     # every claim comparison compared
    failures: list[str] = field(default_factory=list)
    borderline: list[str] = field(default_factory=list)   # claims between a decision and inconclusive
    notes: list[str] = field(default_factory=list)        # what is in the reproduction only

    @property
    def ok(self) -> bool:
        return not self.failures

    def margin_lines(self) -> list[str]:
        out = []
        for metric, tol in self.tolerances.items():
            where = "cross-CPU sd per run (benchmarks/cross_cpu)" if tol.measured else \
                f"{FALLBACK_SEED_FRACTION:g} × the reference's seed sd (not measured across CPUs)"
            out.append(f"margin {metric}: s = {tol.sd:.4g} ({where}): a method's mean shift fails beyond "
                       f"±{tol.systematic:.4g} (systematic between CPUs) + its family-wise {100 * CONFIDENCE:g} % "
                       f"half-width; a claim effect's change beyond ±{tol.margin:.4g} and its interval; one run beyond "
                       f"±{tol.gross:.4g}")
        for dataset, tols in self.dataset_tolerances.items():
            own = {m: t for m, t in tols.items() if t.sd != self.tolerances.get(m, t).sd}
            out.append(f"margins of the runs on {dataset} (measured for it): "
                       + ", ".join(f"{m} s = {t.sd:.4g} (systematic ±{t.systematic:.4g}, one run ±{t.gross:.4g})"
                                   for m, t in own.items()))
        return out

    def summary(self) -> str:
        lines = [f"{self.runs} distinct runs compared once each ({self.placements} rows of the reference's runs.csv), "
                 f"{len(self.metrics)} metrics, {len(self.shifts)} (method, metric) groups, "
                 f"{len(self.effects)} claim effects"]
        if self.shifts:
            worst = max(self.shifts, key=lambda s: s["ratio"])
            lines.append(f"largest method shift: {worst['group']} {worst['metric']} {worst['mean']:+.4g} over "
                         f"{worst['n']} runs ({worst['ratio']:.2f} of its threshold ±{worst['threshold']:.4g})")
        if self.moves:
            worst = max(self.moves, key=lambda m: m["ratio"])
            lines.append(f"largest run move: {worst['run']} {worst['metric']} {worst['d']:+.4g} "
                         f"({worst['ratio']:.2f} of its bound ±{worst['bound']:.4g})")
        if self.effects:
            worst = max(self.effects, key=lambda e: e["ratio"])
            lines.append(f"largest claim effect change: {worst['claim']} {worst['change']:+.4g} "
                         f"({worst['ratio']:.2f} of its tolerance ±{worst['tolerance']:.4g})")
        lines.append(f"{len(self.failures)} failure(s), {len(self.borderline)} borderline claim(s)")
        lines.append("verify: " + ("PASS" if self.ok else "FAIL"))
        return "\n".join(lines)


# --------------------------------------------------------------------------- margins
def _seed_sd(runs: pd.DataFrame, metric: str) -> float:
    """The reference's seed sd of ``metric``: the root mean within-(method, pairing) variance."""
    var = runs.groupby(["arm", "place"])[metric].var(ddof=1).dropna()
    return float(np.sqrt(var.mean())) if len(var) else 0.0


def cross_cpu_sd(dataset: str | None = None) -> dict[str, float]:
    """The cross-CPU sd per run of each metric measured for ``dataset``'s runs (:data:`CROSS_CPU_SD`, with
    :data:`CROSS_CPU_SD_BY_DATASET`'s values where the dataset has its own)."""
    return {**CROSS_CPU_SD, **CROSS_CPU_SD_BY_DATASET.get(str(dataset), {})}


def tolerances(metrics, reference_runs: pd.DataFrame | None = None,
               dataset: str | None = None) -> dict[str, Tolerance]:
    """s, the margin and the gross bound of each metric (the module doc) for ``dataset``'s runs: measured
    across CPUs where :func:`cross_cpu_sd` has the metric, else from ``reference_runs``' seed sd
    (a :func:`run_table`)."""
    out = {}
    measured_sd = cross_cpu_sd(dataset)
    for metric in metrics:
        if metric in measured_sd:
            s, measured = measured_sd[metric], True
        else:
            known = reference_runs is not None and metric in reference_runs
            sd = _seed_sd(reference_runs, metric) if known else 0.0
            typical = float(reference_runs[metric].abs().median()) if known else 0.0
            s = max(FALLBACK_SEED_FRACTION * sd, 1e-6 * (typical if np.isfinite(typical) else 0.0), 1e-9)
            measured = False
        systematic = max(SYSTEMATIC_BY_DATASET.get(dataset or "", {}).get(metric, 0.0), SYSTEMATIC_FLOOR_SDS * s)
        out[metric] = Tolerance(s, MARGIN_SDS * s, GROSS_SDS * s, measured, systematic)
    return out



def _t(tests: int, df: int) -> float:
    """The two-sided Student-t quantile of the family-wise ``CONFIDENCE`` over ``tests`` (Bonferroni)."""
    return float(_st.t.ppf(1 - (1 - CONFIDENCE) / 2 / max(1, tests), df))


def _z(tests: int) -> float:
    """The two-sided normal quantile of the family-wise ``CONFIDENCE`` over ``tests`` (Bonferroni)."""
    return float(_st.norm.ppf(1 - (1 - CONFIDENCE) / 2 / max(1, tests)))


def _seeds(seeds) -> str:
    seeds = sorted(set(int(s) for s in seeds))
    if len(seeds) > 2 and seeds == list(range(seeds[0], seeds[-1] + 1)):
        return f"seeds {seeds[0]}-{seeds[-1]}"
    return "seed " + ", ".join(map(str, seeds)) if len(seeds) == 1 else "seeds " + ", ".join(map(str, seeds))


def _grouped_runs(runs: pd.DataFrame, keys) -> list[str]:
    """Runs named per method and pairing: '10 run(s) of amid on fou→fac (seeds 0-9; in table1, table4)'."""
    out = []
    sub = runs.loc[list(keys)]
    for (arm, place), grp in sub.groupby(["arm", "place"], sort=False):
        sources = ", ".join(dict.fromkeys(", ".join(grp["sources"]).split(", ")))
        out.append(f"{len(grp)} run(s) of {arm} on {place} ({_seeds(grp['seed'])}; in {sources})")
    return out


# --------------------------------------------------------------------------- the comparisons
def compare_runs(reference: pd.DataFrame, candidate: pd.DataFrame, report: VerifyReport | None = None) -> VerifyReport:
    """Compare ``candidate``'s runs with ``reference``'s, each run once, seed by seed (the module doc)."""
    report = report or VerifyReport()
    ref, ref_problems = run_table(reference)
    new, new_problems, new_rows = _runs_and_rows(candidate)
    report.placements = len(reference)
    report.failures += [f"reference: {p}" for p in ref_problems] + [f"reproduction: {p}" for p in new_problems]
    _compare_structure(report, reference, candidate, ref, new)
    metrics = _compare_metric_columns(report, reference, candidate, ref)
    common = ref.index.intersection(new.index, sort=False)
    report.runs = len(common)
    ref_c, new_c = ref.loc[common], new.loc[common]
    diffs = _paired_differences(report, metrics, ref_c, new_c)
    # each dataset's runs against their own drift (the groups of a method on two datasets: one per dataset)
    for dataset, keys in ref_c.groupby(ref_c["dataset"].fillna("").astype(str), sort=False).groups.items():
        tols = report.tolerances if dataset not in CROSS_CPU_SD_BY_DATASET else tolerances(metrics, ref, dataset)
        if tols is not report.tolerances:
            report.dataset_tolerances[dataset] = tols
        keys = set(keys)
        _check_shifts(report, {m: d[d.index.isin(keys)] for m, d in diffs.items()}, ref_c, tols)
        _check_moves(report, metrics, new_rows[new_rows["_key"].isin(set(common) & keys)], ref_c, tols)
    return report


def _compare_structure(report: VerifyReport, reference: pd.DataFrame, candidate: pd.DataFrame, ref, new) -> None:
    """Runs, and the table rows that list them, missing from the reproduction (or only in it)."""
    missing = ref.index.difference(new.index, sort=False)
    # the edge seeds follow the first seeds' verdicts, so another CPU may add them for other comparisons
    edge_only = ref.loc[missing, "sources"].astype(str).eq(_EDGE) if len(missing) else pd.Series(dtype=bool)
    for line in _grouped_runs(ref, missing[~edge_only.to_numpy(bool)] if len(missing) else missing):
        report.failures.append(f"missing in the reproduction: {line}")
    for line in _grouped_runs(ref, missing[edge_only.to_numpy(bool)] if len(missing) else missing):
        report.notes.append(f"edge seeds the reproduction did not add (no comparison of theirs at the edge there): "
                            f"{line}")
    for line in _grouped_runs(new, new.index.difference(ref.index, sort=False)):
        report.notes.append(f"not in the reference, not compared: {line}")
    def place(f):
        return set(zip(f["source"].astype(str), f["setting"].fillna("").astype(str), f["row"].astype(str), strict=True))
    for source, setting, row in sorted(place(reference) - place(candidate)):
        if source != _EDGE:
            report.failures.append(f"missing in the reproduction: {source} {setting} row {row} (its rows of runs.csv)")


def _compare_metric_columns(report: VerifyReport, reference: pd.DataFrame, candidate: pd.DataFrame, ref) -> list[str]:
    """The metrics both hold (a reference metric the reproduction lacks fails; one of its own is noted), with
    their tolerances set on ``report``."""
    ref_metrics = [m for m in metric_columns(reference) if reference[m].notna().any()]
    new_metrics = set(metric_columns(candidate))
    for m in ref_metrics:
        if m not in new_metrics:
            report.failures.append(f"missing in the reproduction: the metric {m} (a column of the reference's "
                                   "runs.csv)")
    for m in sorted(new_metrics - set(ref_metrics)):
        if candidate[m].notna().any():
            report.notes.append(f"{m}: in the reproduction only, not compared")
    metrics = [m for m in ref_metrics if m in new_metrics]
    report.metrics = metrics
    report.tolerances = tolerances(metrics, ref)
    return metrics


def _paired_differences(report: VerifyReport, metrics: list[str], ref_c, new_c) -> dict[str, pd.Series]:
    """Per metric, reproduction minus reference of every run both have it for (a value lost fails)."""
    diffs = {}
    for m in metrics:
        a, b = ref_c[m].astype(float), new_c[m].astype(float)
        lost = a.notna() & b.isna()
        for line in _grouped_runs(ref_c, a.index[lost]):
            report.failures.append(f"missing in the reproduction: {m} of {line}")
        gained = a.isna() & b.notna()
        if gained.any():
            report.notes.append(f"{m}: {int(gained.sum())} run(s) have it in the reproduction only")
        both = a.notna() & b.notna()
        diffs[m] = (b - a)[both]
    return diffs


def _check_shifts(report: VerifyReport, diffs: dict[str, pd.Series], ref_c, tols: dict[str, Tolerance]) -> None:
    """A method shifted: the mean paired difference of its runs beyond the measured systematic shift between CPUs
    plus the mean's own family-wise interval, t·max(sd(d), s/2)/√n. Groups: each arm (a row's runs), each arm per
    pairing where it has several, and every run of a method with several arms (AMID's ablations and sweeps)."""
    groups = []
    for m, d in diffs.items():
        arm, place, method = (ref_c.loc[d.index, c] for c in ("arm", "place", "method"))
        for name, idx in d.groupby(arm, sort=False).groups.items():
            groups.append((name, m, d.loc[idx]))
            places = place.loc[idx]
            if places.nunique() > 1:
                for p, pidx in d.loc[idx].groupby(places, sort=False).groups.items():
                    groups.append((f"{name} on {p}", m, d.loc[pidx]))
        for name, idx in d.groupby(method, sort=False).groups.items():
            if arm.loc[idx].nunique() > 1:
                groups.append((f"{name} (every run, all its arms)", m, d.loc[idx]))
    z = _z(len(groups))
    for name, m, d in groups:
        tol = tols[m]
        n = int(d.size)
        mean = float(d.mean())
        sd_own = float(d.std(ddof=1)) if n > 1 else 0.0
        # the mean's own interval: Student's t on its runs' spread (a few runs estimate it poorly: CRCD's 3 runs
        # drifted 2.4 points alike on one CPU pair), the spread taken as at least half a run's cross-CPU sd (a few
        # runs that moved alike by one test sample each are not a method's shift); one run alone: z·s
        spread = max(sd_own, SPREAD_FLOOR_SDS * tol.sd)
        half = _t(len(groups), n - 1) * spread / math.sqrt(n) if n > 1 else z * tol.sd
        threshold = tol.systematic + half
        report.shifts.append({"group": name, "metric": m, "n": n, "mean": mean, "sd": sd_own, "half": half,
                              "threshold": threshold, "ratio": abs(mean) / threshold})
        if abs(mean) > threshold:
            report.failures.append(
                f"method shifted: {name}, {m}: mean paired difference {mean:+.4g} over {n} run(s) (sd {sd_own:.3g}), "
                f"beyond ±{threshold:.4g} = the systematic shift measured between CPUs ±{tol.systematic:.4g} + the "
                f"mean's family-wise {100 * CONFIDENCE:g} % half-width {half:.4g}")


def _check_moves(report: VerifyReport, metrics: list[str], rows: pd.DataFrame, ref_c,
                 tols: dict[str, Tolerance]) -> None:
    """A run moved grossly: every value the reproduction's rows give a run (one, unless its tables disagree),
    named by the first table cell showing it."""
    for m in metrics:
        bound = tols[m].gross
        listed = rows.loc[rows[m].notna(), ["_key", "source", "setting", "row", m]]
        for (key, value), grp in listed.groupby(["_key", m], sort=False):
            before = ref_c.at[key, m]
            if pd.isna(before):
                continue
            d = float(value) - float(before)
            report.moves.append({"run": ref_c.at[key, "label"], "metric": m, "d": d, "bound": bound,
                                 "ratio": abs(d) / bound})
            if abs(d) > bound:
                first, fold = grp.iloc[0], int(ref_c.at[key, "fold"])
                report.failures.append(
                    f"{first['source']}/{first['setting']}/{first['row']}/{m} seed {ref_c.at[key, 'seed']}"
                    f"{f' fold {fold}' if fold >= 0 else ''}: run moved "
                    f"{before:.6g} → {value:.6g} ({d:+.4g}, beyond the per-run bound ±{bound:.4g} = "
                    f"{GROSS_SDS:g} s); the run: {ref_c.at[key, 'label']}, here in "
                    f"{', '.join(dict.fromkeys(grp['source']))}")


_CLAIM_KEY = ["id", "setting", "a", "op", "b", "metric"]


def _claim_name(r) -> str:
    setting = f" ({r['setting']})" if r["setting"] else ""
    return f"{r['id']}{setting}: {r['a']} {r['op']} {r['b']}, {r['metric']}"


def compare_claim_effects(reference: pd.DataFrame, candidate: pd.DataFrame,
                          report: VerifyReport | None = None, first: tuple | None = None,
                          dataset: str | None = None) -> VerifyReport:
    """Compare the claims' effects (two :func:`amidlib.paper.claims.evaluate_claims` frames): a comparison whose
    effect changes by more than max(s, z_c·s·√(2/n)) fails (the module doc), as does one the reproduction lacks.
    ``first``: the same two evaluated over the first seeds only (``edge=False``): a comparison at the edge in one
    reproduction only (so decided over more seeds there) is compared over the first seeds. ``dataset``: the
    claims' runs' dataset, whose cross-CPU sd sets the tolerances."""
    report = report or VerifyReport()
    def norm(f):
        return f.assign(setting=f["setting"].fillna("").astype(str)).set_index(_CLAIM_KEY, drop=False)

    ref, new = norm(reference), norm(candidate)
    if first is not None and "at_edge" in ref and "at_edge" in new:
        ref_first, new_first = norm(first[0]), norm(first[1])
        common = ref.index.intersection(new.index)
        # decided over other seeds on the two sides: at the edge on one side only, or at the edge on both with the
        # edge seeds' runs on one side only (a reference made before it had edge seeds)
        differ = [k for k in common if bool(ref.loc[k, "at_edge"]) != bool(new.loc[k, "at_edge"])
                  or (ref.loc[k, "n"] != new.loc[k, "n"] and ref_first.loc[k, "n"] == new_first.loc[k, "n"])]
        for k in differ:
            where = ("on both sides, with its edge seeds' runs on one side only" if bool(ref.loc[k, "at_edge"])
                     == bool(new.loc[k, "at_edge"]) else
                     f"in {'the reference' if bool(ref.loc[k, 'at_edge']) else 'the reproduction'} only")
            report.notes.append(f"claim {_claim_name(ref.loc[k])}: at the edge {where} (decided over more seeds "
                                "there): its effect compared over the first seeds")
        ref, new = ref.copy(), new.copy()
        ref.loc[differ], new.loc[differ] = ref_first.loc[differ], new_first.loc[differ]
    ref = ref[ref["n"].fillna(0) > 0]
    both = [k for k in ref.index if k in new.index and (new.loc[k, "n"] or 0) > 0]
    for k in ref.index:
        if k not in both:
            report.failures.append(f"claim {_claim_name(ref.loc[k])}: evaluated in the reference, not in the "
                                   "reproduction")
    for k in new.index:
        if k not in ref.index and (new.loc[k, "n"] or 0) > 0:
            report.notes.append(f"claim {_claim_name(new.loc[k])}: evaluated in the reproduction only, not compared")
    tols = dict(report.dataset_tolerances.get(str(dataset), report.tolerances))
    tols.update({m: t for m, t in tolerances({m for m in ref["metric"] if m not in tols}, dataset=dataset).items()})
    z = _z(len(both))
    for k in both:
        a, b = ref.loc[k], new.loc[k]
        n = int(min(a["n"], b["n"]))
        tol = tols[a["metric"]]
        tolerance = max(tol.margin, z * tol.sd * math.sqrt(2 / n))
        change = float(b["effect"] - a["effect"])
        name = _claim_name(a)
        report.effects.append({"claim": name, "change": change, "tolerance": tolerance,
                               "ratio": abs(change) / tolerance})
        if int(a["n"]) != int(b["n"]):
            report.failures.append(f"claim {name}: {int(a['n'])} paired seeds in the reference, {int(b['n'])} in "
                                   "the reproduction")
        if abs(change) > tolerance:
            report.failures.append(
                f"claim effect moved: {name}: {a['effect']:+.4g} [{a['ci_low']:+.4g}, {a['ci_high']:+.4g}] → "
                f"{b['effect']:+.4g} [{b['ci_low']:+.4g}, {b['ci_high']:+.4g}] (n = {n}), change {change:+.4g}, beyond "
                f"±{tolerance:.4g} (max(s, {z:.2f}·s·√(2/n)), s = {tol.sd:.4g})")
    return report


def _verdicts(f: pd.DataFrame) -> dict[tuple, pd.Series]:
    """Each comparison of a claims frame by its whole key (a claim with several parts has a row per part)."""
    f = f.assign(setting=f["setting"].fillna("").astype(str))
    return {tuple(r[k] for k in _CLAIM_KEY): r for _, r in f.iterrows()}


def compare_claims(reference: pd.DataFrame, candidate: pd.DataFrame,
                   report: VerifyReport | None = None) -> VerifyReport:
    """Every comparison of every claim (each part of a claim with several): a verdict flipping supported ↔
    contradicted fails; one moving to or from inconclusive is borderline."""
    report = report or VerifyReport()
    ref, new = _verdicts(reference), _verdicts(candidate)
    for k in ref.keys() - new.keys():
        report.failures.append(f"claim {_claim_name(ref[k])}: missing in the reproduction")
    for k in [k for k in ref if k in new]:
        a, b = ref[k]["verdict"], new[k]["verdict"]
        if a == b:
            continue
        line = f"claim {_claim_name(ref[k])}: {a} → {b}"
        if {a, b} == {SUPPORTED, CONTRADICTED}:
            report.failures.append(line + " (flipped)")
        else:
            report.borderline.append(line)
    return report


def check_claims_file(claims: pd.DataFrame, evaluated: pd.DataFrame, report: VerifyReport | None = None,
                      where: str = "the reproduction's claims.csv") -> VerifyReport:
    """A claims.csv against the claims evaluated from the same folder's runs.csv: a comparison missing, or with
    another verdict, n or effect (beyond float rounding) fails: that file does not say what its runs say."""
    report = report or VerifyReport()
    written, computed = _verdicts(claims), _verdicts(evaluated)
    missing = computed.keys() - written.keys()
    if missing:  # (a file written before those claims existed; a comparison it has is checked below)
        report.notes.append(f"{where} lacks {len(missing)} comparison(s) that its runs.csv gives today, e.g. "
                            f"{_claim_name(computed[sorted(missing)[0]])} (written by older code?)")
    for k in [k for k in computed if k in written]:
        w, c = written[k], computed[k]
        same_effect = (pd.isna(w["effect"]) and pd.isna(c["effect"])) or abs(float(w["effect"]) - float(c["effect"])) \
            <= 1e-9 * max(1.0, abs(float(c["effect"])))
        if w["verdict"] != c["verdict"] or int(w["n"] or 0) != int(c["n"] or 0) or not same_effect:
            report.failures.append(
                f"claim {_claim_name(c)}: {where} says {w['verdict']} ({w['effect']:+.4g}, n = {w['n']}), its "
                f"runs.csv gives {c['verdict']} ({c['effect']:+.4g}, n = {c['n']})")
    return report
