"""``make verify``: is a reproduction's difference from the committed figures noise, or breakage?

    python -m amidlib.paper.verify --reproduce      # a new reproduction (profile cpu) into runs/verify/<time>/
    python -m amidlib.paper.verify DIR              # DIR: a figures folder (or a run folder holding figures/)
    python -m amidlib.paper.verify DIR --reference OTHER_DIR

Compares two ``runs.csv`` files (the reference defaults to the committed ``figures/runs.csv``, read from
git's HEAD when the repository has it) run by run, seed by seed, the effects of the paper's claims
computed from them (:func:`amidlib.paper.claims.evaluate_claims`) and the verdicts of their ``claims.csv``.

**Runs, once each.** ``runs.csv`` lists a run once per table or figure that shows it (AMID's default
runs on the main pairing are in Tables 1, 2, 4, 5, 6, Figs 1, 3-5 and the regime sweep). A run is
identified by its spec, as the run cache identifies it (:class:`amidlib.repro.runs.RunSpec`, whose key
is left out of runs.csv): dataset, pairing (the ``setting``; Table 6 and the regime sweep train on the
main pairing), split (Table 3: its ``fold``), seed, and the method with the config switches of its row
(:func:`amidlib.paper.names.row_spec`; Table 6: its α; the sweep: its batch size), switches at their
default dropped (Table 6's α1 = 4.0 is AMID's default run). Each run is compared once, however many
tables list it; its metrics are taken from every row that lists it (Fig 4's rows carry ``test_gap``,
Fig 5's the cosines), and rows of one run that disagree within one file fail.

**What is compared.** Every numeric column of runs.csv: the final metrics (``student_top1``,
``teacher_top1``, ``student_r1``, ``student_r5``, ``wa``, ``ua``), Fig 4's teacher-student gap
(``test_gap``) and Fig 5's cosines (``train_cos_same_class``, ``test_cos_same_class``), each run's
mean over its distillation epochs, and the measured regime (``batch_positives``, ``batch_with_partner``,
``lambda1_min``, ``lambda1_max``, any ``share_*``). Per run and metric the paired difference
d = reproduction − reference (the two share the seed: same initialisation, split and batch order; across
two CPUs the runs' values correlate at 0.96-0.998).

**The margins**, from the measured cross-CPU spread (``benchmarks/cross_cpu``: the same code on an AMD
EPYC with AVX2 and an Intel Xeon with AVX512; 298 runs): ``s`` (:data:`CROSS_CPU_SD`) is, per metric, the
standard deviation over runs of d between those two CPUs, rounded up to two significant digits, with a
floor where the spread is below what the metric resolves:

    metric                    measured sd of d   largest |d|   s
    student_top1, wa, ua      0.295 points       1.06          0.30
    teacher_top1              0.302              1.94          0.31
    student_r1, student_r5    0.269, 0.274       0.94, 1.25    0.27, 0.28
    test_gap (Fig 4)          0.0716             0.25          0.072
    train_cos_same_class      0.000367           0.00093       0.00037   (Fig 5)
    test_cos_same_class       0.000644           0.0017        0.00065   (Fig 5)
    lambda1_min, lambda1_max  0.000045, 4e-8     0.00039       0.0001    (floor: its largest |d| within 10 s)
    batch_positives           0 (data + batches) 0             0.001     (floor)
    batch_with_partner        0                  0             0.0001    (floor)

(a metric not measured there, e.g. a new ``share_*``: s = ½ · the reference's seed sd of that metric,
pooled over its methods and pairings; ½ is the ratio measured for top-1, 0.30 / 0.60). The per-seed
sd of top-1 is 0.60 points; on the holdout split an accuracy moves in steps of 0.0625 (one test digit of
1,600), so s = 0.30 is about 5 test digits.

- **A method shifted.** For each method (a row's run config: ``amid``, ``mi_s+mi_a``, ``amid alpha1=3.7``,
  …) and metric, over all its runs, and again per pairing where it has several: the mean paired difference
  and its interval, mean ∓ z·max(sd(d), s)/√n, z the normal quantile of the family-wise 99.9 % level over
  every (method, metric) group tested (4.8 for the 568 groups of the committed figures). It **fails** when
  the mean lies beyond the margin ±s *and* the interval excludes 0: |mean| > max(s, z·max(sd(d), s)/√n).
  A method's mean moving by less than one run's cross-CPU sd is noise whatever its interval; the interval
  keeps groups of 2-3 runs (Table 3's folds, Table 6's α values), whose means moved by up to 0.7 point
  across the CPUs, from failing by chance (their threshold is 0.8-1.0 point). Across the CPUs groups of
  ≥ 10 runs moved by at most 0.23 point (threshold ≥ 0.45). What fails: half a point off every AMID
  student top-1 (26 runs: threshold 0.30), a point off any one baseline method (gmc, ccl: 26 runs,
  threshold 0.30; crcd: 12 runs, 0.41; crd, the fewest: 6 runs, 0.59).
- **A run moved grossly.** |d| > 10·s (3 points of top-1) **fails** for any one run, named by the first
  table cell showing it (source/setting/row/metric); across the CPUs the largest |d| was 6.4 measured sd
  (teacher top-1, 1.94 points, 0.62 of its bound 3.1), 3.6 for student top-1.
- **A claim's effect moved.** :func:`~amidlib.paper.claims.evaluate_claims` on both runs.csv; every
  comparison's effect (the mean over its n paired seeds of a − b) **fails** when it changes by more than
  max(s, z_c·s·√(2/n)), z_c the family-wise 99.9 % normal quantile over the comparisons (4.1 for 22;
  √(2/n): the drifts of a's and b's n runs, as if independent): 0.55 point for a top-1 effect of 10
  seeds, 0.13 for the gap, 0.00068 / 0.0012 for the train / test cosines. Across the CPUs the largest
  change was 0.33 point (``mi_beats_nce``, 0.61 of its tolerance), 0.003 (gap), 0.0006 (test cosine).
- a run, a table's row, a metric or a claim of the reference missing in the reproduction **fails** (one the
  reproduction has in addition is noted, not compared); except the edge seeds' runs (source ``edge``,
  :mod:`amidlib.paper.edge`): they follow the first seeds' verdicts, so a reproduction whose intervals end
  elsewhere may add others; a comparison at the edge on one side only is noted and its effect compared over
  the first seeds; so does a claim flipping between *supported* and
  *contradicted* in ``claims.csv``. A claim that moves between
  supported/contradicted and *inconclusive* is reported as borderline (not a failure).

Same machine, same code → identical values, nothing to report. A difference below the margin never fails
(two runs whose seeds all agree to 1e-9 are not a move). Another CPU → passes (the pair in
benchmarks/cross_cpu: the largest method shift at 0.76 of its threshold, the largest run move at 0.62
of its bound, three claims borderline).
"""
from __future__ import annotations

import argparse
import io
import subprocess
import sys
from pathlib import Path

import pandas as pd

from amidlib.paper.records import read_runs
# the comparisons live in verify_checks; imported here, every name keeps its path (``from amidlib.paper import
# verify as V``; ``V.compare_runs``, ``V.CROSS_CPU_SD`` ...)
from amidlib.paper.verify_checks import (CONFIDENCE, CROSS_CPU_SD, CROSS_CPU_SD_BY_DATASET,  # noqa: F401
                                         FALLBACK_SEED_FRACTION, GROSS_SDS, cross_cpu_sd,
                                         ID_COLUMNS, MARGIN_SDS, Tolerance, VerifyReport, compare_claim_effects,
                                         compare_claims, compare_runs, metric_columns, run_table, tolerances)

__all__ = ["VerifyReport", "Tolerance", "CROSS_CPU_SD", "CROSS_CPU_SD_BY_DATASET", "cross_cpu_sd", "tolerances",
           "run_table", "compare_runs",
           "compare_claim_effects", "compare_claims", "verify", "main"]


# --------------------------------------------------------------------------- the command
def _committed(path: Path) -> pd.DataFrame | None:
    """The committed version of ``path`` (git HEAD), or None outside a repository."""
    try:
        top = subprocess.run(["git", "rev-parse", "--show-toplevel"], cwd=path.parent, capture_output=True,
                             text=True, timeout=10).stdout.strip()
        if not top:
            return None
        rel = path.resolve().relative_to(Path(top).resolve()).as_posix()
        out = subprocess.run(["git", "show", f"HEAD:{rel}"], cwd=top, capture_output=True, text=True, timeout=30)
    except (OSError, ValueError, subprocess.SubprocessError):
        return None
    if out.returncode != 0:
        return None
    return pd.read_csv(io.StringIO(out.stdout), dtype={"row": str, "setting": str, "paper_setting": str, "source": str})


def _figures_dir(path: Path) -> Path:
    for cand in (path, path / "figures"):
        if (cand / "runs.csv").is_file():
            return cand
    raise FileNotFoundError(f"no runs.csv in {path} or {path / 'figures'}: point verify at the folder a "
                            f"reproduction wrote its tables to (its out_dir)")


def _read_claims(path: Path) -> pd.DataFrame | None:
    return pd.read_csv(path, dtype={"setting": str}) if path.is_file() else None


def verify(candidate_dir: str | Path, reference: str | Path | None = None, out=print) -> VerifyReport:
    """Compare the reproduction in ``candidate_dir`` with ``reference`` (default: the committed figures)."""
    from amidlib.repro.profiles import repo_root

    cand = _figures_dir(Path(candidate_dir))
    if reference is None:
        ref_runs_path = repo_root() / "figures" / "runs.csv"
        ref_runs = _committed(ref_runs_path)
        ref_claims = _committed(ref_runs_path.with_name("claims.csv"))
        where = f"{ref_runs_path} at git HEAD"
        if ref_runs is None:
            ref_runs, where = read_runs(ref_runs_path), str(ref_runs_path)
            ref_claims = _read_claims(ref_runs_path.with_name("claims.csv"))
    else:
        ref_dir = _figures_dir(Path(reference).parent if Path(reference).suffix else Path(reference))
        ref_runs, ref_claims, where = read_runs(ref_dir), _read_claims(ref_dir / "claims.csv"), str(ref_dir)
    out(f"reference: {where}\nreproduction: {cand}")
    new_runs = read_runs(cand)
    report = compare_runs(ref_runs, new_runs)
    evaluated = None
    try:
        from amidlib.paper.claims import evaluate_claims

        evaluated = evaluate_claims(ref_runs), evaluate_claims(new_runs)
        first = evaluate_claims(ref_runs, edge=False), evaluate_claims(new_runs, edge=False)
    except Exception as exc:  # noqa: BLE001 (the claims' code itself broken: a failure to report, not a crash)
        report.failures.append(f"the claims could not be evaluated from runs.csv: {type(exc).__name__}: {exc}")
    if evaluated is not None:
        claims_data = ref_runs.loc[ref_runs["source"] == "table4", "dataset"] if "dataset" in ref_runs else []
        compare_claim_effects(*evaluated, report, first=first,
                              dataset=str(claims_data.iloc[0]) if len(claims_data) else None)
    new_claims = _read_claims(cand / "claims.csv")
    if ref_claims is not None and new_claims is not None:
        compare_claims(ref_claims, new_claims, report)
    elif evaluated is not None:  # verdicts as evaluate_claims gives them
        report.notes.append("claims.csv missing on a side: verdicts compared as evaluated from runs.csv")
        compare_claims(*evaluated, report)
    for line in report.margin_lines():
        out(line)
    for line in report.notes:
        out(f"note: {line}")
    for line in report.borderline:
        out(f"borderline: {line}")
    for line in report.failures:
        out(f"FAIL: {line}")
    out(report.summary())
    return report


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m amidlib.paper.verify", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("reproduction", type=Path, nargs="?", help="folder with the reproduction's runs.csv and claims.csv")
    p.add_argument("--reproduce", action="store_true",
                   help="first run a new reproduction (profile cpu, a fresh run cache) into runs/verify/<time>/figures")
    p.add_argument("--reference", type=Path, default=None,
                   help="folder (or runs.csv) to compare with; default: the committed figures/ (git HEAD)")
    args = p.parse_args(argv)
    if args.reproduce == (args.reproduction is not None):
        p.error("give either a reproduction folder or --reproduce")
    if args.reproduce:
        import datetime as _dt

        from amidlib.repro import reproduce
        from amidlib.repro.profiles import repo_root

        folder = repo_root() / "runs" / "verify" / _dt.datetime.now().strftime("%Y%m%d-%H%M%S") / "figures"
        print(f"verify: a new reproduction into {folder}", flush=True)
        if reproduce.main(["--profile", "cpu", "-p", "out_dir", str(folder)]) != 0:
            print("error: the reproduction failed (see above)", file=sys.stderr)
            return 2
        args.reproduction = folder
    try:
        report = verify(args.reproduction, args.reference)
    except FileNotFoundError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
