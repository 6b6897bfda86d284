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

**The margins**, from the measured cross-CPU spread (``benchmarks/cross_cpu``): ``s`` is, per metric and
dataset, the standard deviation over runs of d between two CPUs, the largest over the measured pairs, rounded up
to two significant digits, with a floor where the spread is below what the metric resolves. Three pairs were
measured: (1) an AMD EPYC (AVX2) against an Intel Xeon (AVX512), 298 runs on the 10 digits; (2) one AMD machine
with torch's AVX512 kernels against its AVX2 kernels, and (3) that AMD reproduction against one on another Intel
Xeon, each 282 runs on the digit pairs and 56 on the 10 digits. The 10 digits' s is :data:`CROSS_CPU_SD`, the
pairs' :data:`CROSS_CPU_SD_BY_DATASET`:

    metric                    10 digits: sd of d (1 / 2 / 3)      s        pairs: sd of d (2 / 3)   s
    student_top1, wa, ua      0.295 / 0.345 / 0.387 points       0.39     0.878 / 0.857          0.90
    teacher_top1              0.302 / 0.616 / 0.472              0.62     1.029 / 1.345          1.4
    student_r1                0.269 / 0.417 / 0.359              0.42     0.642 / 0.751          0.76
    student_r5                0.274 / 0.374 / 0.390              0.40     0.681 / 0.669          0.70
    test_gap (Fig 4)          0.0716 (1)                         0.072    0.180 / 0.174          0.19
    train / test cosine       0.00037 / 0.00064 (1)     0.00037 / 0.00065   0.0011 / 0.0020 (3)   0.0012 / 0.0020
    lambda1_min               up to 0.00018                      0.00018  up to 0.00017          0.00017
    share_* (loss shares)     not measured                       (below)  up to 0.0028           0.00085-0.0029
    lambda1_max, batch_*      0 (data + batches)                 floors 0.0001, 0.001, 0.0001

(a metric not measured for a dataset, e.g. the 10 digits' ``share_*``: s = ½ · the reference's seed sd of that
metric, pooled over its methods and pairings; ½ is the ratio measured for top-1, 0.30 / 0.60). The per-seed
sd of top-1 on the 10 digits is 0.60 points; on the holdout split an accuracy moves in steps of 0.0625 (one
test digit of 1,600), so s = 0.39 is about 6 test digits.

- **A method shifted.** For each method (a row's run config: ``amid``, ``mi_s+mi_a``, ``amid alpha1=3.7``,
  …) and metric, over all its runs, again per pairing where it has several, and over every run of a method
  with several configs (``amid (every run, all its arms)``: AMID's ablations and sweeps together): the mean
  paired difference. It **fails** when |mean| > δ + t·max(sd(d), s/2)/√n: δ the *systematic* shift measured
  between CPUs (:data:`SYSTEMATIC_BY_DATASET`: per metric, the largest max(0, |mean| − t₀.₉₇₅·se) over every
  method's runs in the measured pairs, at least 0.1·s; one was found, AMID's 160 runs on the digit pairs,
  −0.18 points of top-1 with se 0.067 between AMD and Intel, so δ = 0.045 for top-1 on the pairs, 0.09 by
  the floor; every other method-wide mean was within its own interval), and the mean's own interval: Student's t
  with n − 1 degrees of freedom at the family-wise 99.9 % level over every group tested, on the runs' own spread,
  taken as at least s/2 (a few runs that moved alike, e.g. by one test sample each, are not a method's shift).
  So the threshold is set by how precisely the reproduction's runs measure the mean, not by how far one run
  may drift (the per-run s was the threshold before: it let 0.5 points off all 160 AMID runs pass). What fails
  (``tests/test_verify.py``): on the digit pairs half a point off every AMID run (threshold 0.42 with the
  Intel reproduction's spread), one point off GMC's, CCL's, KD's or the baseline's 20 runs; CRD's and CRCD's
  6 runs (3 seeds) stand out only at several points (t on 5 degrees of freedom); the honest second-CPU
  reproductions pass (largest ratio 0.44).
- **A run moved grossly.** |d| > 10·s (3.9 points of top-1 on the 10 digits, 9 on the pairs) **fails** for
  any one run, named by the first table cell showing it (source/setting/row/metric); across the AMD/Intel pair
  the largest |d| was 1.94 points (a teacher's top-1), across the kernels pair 0.97 of its bound (one run's
  L_JSD share).
- **A claim's effect moved.** :func:`~amidlib.paper.claims.evaluate_claims` on both runs.csv; every
  comparison's effect (the mean over its n paired seeds of a − b) **fails** when it changes by more than
  max(s, z_c·s·√(2/n)), z_c the family-wise 99.9 % normal quantile over the comparisons (4.1 for 23;
  √(2/n): the drifts of a's and b's n runs, as if independent), s that of the claims' dataset (the pairs):
  1.6 points for a top-1 effect of 10 seeds, 0.35 for the gap. Across the pairs measured the largest change
  was 0.67 of its tolerance (a Fig 5 cosine comparison, Intel against AMD).
- a run, a table's row, a metric or a claim of the reference missing in the reproduction **fails** (one the
  reproduction has in addition is noted, not compared); except the edge seeds' runs (source ``edge``,
  :mod:`amidlib.paper.edge`): they follow the first seeds' verdicts, so a reproduction whose intervals end
  elsewhere may add others; a comparison at the edge on one side only is noted and its effect compared over
  the first seeds; so does a claim flipping between *supported* and
  *contradicted* in ``claims.csv`` (each comparison of a claim with several parts on its own). A claim that moves
  between supported/contradicted and *inconclusive* is reported as borderline (not a failure).
- the reproduction's ``claims.csv`` that does not say what its own ``runs.csv`` gives (evaluated again: a verdict, n
  or effect that differs) **fails**.

Same machine, same code → identical values, nothing to report. A difference below the margin never fails
(two runs whose seeds all agree to 1e-9 are not a move). Another CPU → passes (benchmarks/cross_cpu: the three
measured pairs with their largest method shift at 0.31, 0.29 and 0.44 of its threshold; the kernels pair's
largest run move at 0.97 of its bound: the margins are fitted to these measurements, and a CPU that drifts more
fails with the method or run named).
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
from amidlib.paper.verify_checks import (  # noqa: F401
    CONFIDENCE,
    CROSS_CPU_SD,
    CROSS_CPU_SD_BY_DATASET,
    FALLBACK_SEED_FRACTION,
    GROSS_SDS,
    ID_COLUMNS,
    MARGIN_SDS,
    SPREAD_FLOOR_SDS,
    SYSTEMATIC_BY_DATASET,
    SYSTEMATIC_FLOOR_SDS,
    Tolerance,
    VerifyReport,
    check_claims_file,
    compare_claim_effects,
    compare_claims,
    compare_runs,
    cross_cpu_sd,
    metric_columns,
    run_table,
    tolerances,
)

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
    if new_claims is not None and evaluated is not None:  # the file must say what its own runs say
        check_claims_file(new_claims, evaluated[1], report)
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
