"""``make verify``: is a reproduction's difference from the committed figures noise, or breakage?

    python -m amidlib.paper.verify --reproduce      # a new reproduction (profile cpu) into runs/verify/<time>/
    python -m amidlib.paper.verify DIR              # DIR: a figures folder (or a run folder holding figures/)
    python -m amidlib.paper.verify DIR --reference OTHER_DIR

Compares the per-seed values of two ``runs.csv`` files (the reference defaults to the committed
``figures/runs.csv``, read from git's HEAD when the repository has it) and the verdicts of their
``claims.csv``.

**Cells.** A cell is one (source, setting, row, metric) of the tables and figures, over its seeds
(Table 3: folds). For every cell with at least two values on both sides, the 99.9 % Welch interval of
the difference of the two means is computed; the cell is *flagged* when it excludes 0. With m cells
tested, chance alone flags about 0.001·m of them on another machine.

**The rule.** Verify fails when
- more cells are flagged than chance explains: the count's tail probability under Binomial(m, 0.001)
  is below 0.001, or
- a cell moves by more than 3 standard deviations of its seeds **and** by more than chance allows in
  any of the m cells tested (family-wise 0.1 %: |difference| / (sd·√(1/n_a + 1/n_b)) above the
  normal quantile 1 − 0.0005/m, 4.6 for m = 515). The standard deviation is that of the cell's table
  and metric in the reference, pooled over its cells (root mean within-cell variance; the
  reproduction's where the reference has none): a cell's own sd from 2 or 3 seeds is no scale (it can
  be 0), and on two CPUs it made 13 of 515 cells "move by more than 3 sd" that moved by at most 1.8
  pooled sd, none flagged. The second condition matters for cells of few seeds: two fresh draws of 2
  seeds differ by more than 3 sd in 0.3 % of cells, so a table of many such cells would fail by chance; or
- a cell or claim of one side is missing from the other, or
- a claim flips between *supported* and *contradicted*.
A claim that moves between supported/contradicted and *inconclusive* is reported as borderline (not a
failure). Same machine, same code → identical values, no flag. Another CPU (other vector instructions)
→ flags at about the chance rate and no flipped verdict.
"""
from __future__ import annotations

import argparse
import io
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import stats as _st

from amidlib.paper.records import read_runs
from amidlib.paper.stats import CONTRADICTED, SUPPORTED, welch_interval
from amidlib.repro.runs import SCALARS as SCALAR_METRICS

__all__ = ["VerifyReport", "compare_runs", "compare_claims", "verify", "main"]

CELL_KEYS = ["source", "setting", "row"]
FLAG_CONFIDENCE = 0.999
MAX_SDS = 3.0


@dataclass
class VerifyReport:
    tested: int = 0
    untested: int = 0
    flags: list[str] = field(default_factory=list)       # outside the 99.9 % Welch interval
    failures: list[str] = field(default_factory=list)    # beyond noise or structure
    borderline: list[str] = field(default_factory=list)  # claims between a decision and inconclusive

    @property
    def expected_flags(self) -> float:
        return (1 - FLAG_CONFIDENCE) * self.tested

    @property
    def chance_p(self) -> float:
        """P(at least this many flags | chance alone), Binomial(tested, 0.001)."""
        if not self.flags:
            return 1.0
        return float(_st.binom.sf(len(self.flags) - 1, self.tested, 1 - FLAG_CONFIDENCE))

    @property
    def too_many_flags(self) -> bool:
        return bool(self.flags) and self.chance_p < 0.001

    @property
    def ok(self) -> bool:
        return not self.failures and not self.too_many_flags

    def summary(self) -> str:
        lines = [f"{self.tested} cells tested ({self.untested} with fewer than 2 values on a side, compared "
                 f"by value only); {len(self.flags)} flagged outside the 99.9 % Welch interval, chance alone "
                 f"would flag {self.expected_flags:.2f} (P(≥{len(self.flags)} by chance) = {self.chance_p:.3g})",
                 f"{len(self.failures)} failure(s), {len(self.borderline)} borderline claim(s)"]
        if self.too_many_flags:
            lines.append("FAIL: more flagged cells than chance explains")
        lines.append("verify: " + ("PASS" if self.ok else "FAIL"))
        return "\n".join(lines)


def _cells(runs: pd.DataFrame) -> dict[tuple, np.ndarray]:
    out = {}
    runs = runs.assign(setting=runs["setting"].fillna(""), row=runs["row"].astype(str))
    for key, grp in runs.groupby(CELL_KEYS, sort=False):
        for metric in SCALAR_METRICS:
            if metric in grp:
                vals = grp.sort_values(["seed", "fold"])[metric].astype(float).dropna().to_numpy()
                if vals.size:
                    out[(*key, metric)] = vals
    return out


def pooled_sd(cells: dict[tuple, np.ndarray]) -> dict[tuple, float]:
    """The seed standard deviation of each (source, metric): the root mean of the within-cell variances
    of its cells with at least two values."""
    variances: dict[tuple, list[float]] = {}
    for key, vals in cells.items():
        if vals.size >= 2:
            variances.setdefault((key[0], key[3]), []).append(float(vals.var(ddof=1)))
    return {k: float(np.sqrt(np.mean(v))) for k, v in variances.items()}


def compare_runs(reference: pd.DataFrame, candidate: pd.DataFrame, report: VerifyReport | None = None) -> VerifyReport:
    """Flag and fail cells of ``candidate`` against ``reference`` (see the module doc for the rule)."""
    report = report or VerifyReport()
    ref, new = _cells(reference), _cells(candidate)
    seed_sd = {**pooled_sd(new), **pooled_sd(ref)}  # the reference's; the reproduction's where it has none
    moves = []
    for key in ref.keys() - new.keys():
        report.failures.append(f"missing in the reproduction: {'/'.join(map(str, key))}")
    for key in new.keys() - ref.keys():
        report.failures.append(f"not in the reference: {'/'.join(map(str, key))}")
    for key in [k for k in ref if k in new]:
        a, b = ref[key], new[key]
        name = "/".join(map(str, key))
        diff = float(b.mean() - a.mean())
        if a.size < 2 or b.size < 2:
            report.untested += 1
            if diff != 0:
                report.borderline.append(f"{name}: {a.mean():.3f} → {b.mean():.3f} (n = {a.size}/{b.size}: no spread to judge)")
            continue
        report.tested += 1
        sd_a, sd_b = float(a.std(ddof=1)), float(b.std(ddof=1))
        lo, hi = welch_interval(b.mean(), sd_b, b.size, a.mean(), sd_a, a.size, FLAG_CONFIDENCE)
        scale = seed_sd.get((key[0], key[3]), 0.0)
        line = (f"{name}: {a.mean():.3f} ± {sd_a:.3f} (n={a.size}) → {b.mean():.3f} ± {sd_b:.3f} (n={b.size}), "
                f"difference {diff:+.3f}, 99.9 % interval ({lo:+.3f}, {hi:+.3f})")
        if lo > 0 or hi < 0:
            report.flags.append(line)
        moves.append((line, diff, scale, a.size, b.size, f"{key[0]} {key[3]}"))
    # a gross move: beyond 3 seed sd, and beyond chance in any of the cells tested (family-wise 0.1 %)
    z_family = float(_st.norm.ppf(1 - (1 - FLAG_CONFIDENCE) / 2 / max(1, report.tested)))
    for line, diff, scale, n_a, n_b, where in moves:
        if scale == 0:
            if diff != 0:
                report.failures.append(f"{line}: moved, where its table's seeds never differ")
            continue
        sds, z = abs(diff) / scale, abs(diff) / (scale * np.sqrt(1 / n_a + 1 / n_b))
        if sds > MAX_SDS and z > z_family:
            report.failures.append(f"{line}: moved by {sds:.1f} standard deviations of its seeds (more than {MAX_SDS:g}; "
                                   f"the pooled seed sd of {where}: {scale:.3f}), z = {z:.1f} beyond the "
                                   f"{z_family:.1f} that chance reaches in {report.tested} cells")
    return report


def compare_claims(reference: pd.DataFrame, candidate: pd.DataFrame, report: VerifyReport | None = None) -> VerifyReport:
    """A verdict flipping supported ↔ contradicted fails; one moving to or from inconclusive is borderline."""
    report = report or VerifyReport()
    key = lambda f: {(r.id, "" if pd.isna(r.setting) else str(r.setting)): r.verdict for r in f.itertuples()}  # noqa: E731
    ref, new = key(reference), key(candidate)
    for k in ref.keys() - new.keys():
        report.failures.append(f"claim {k[0]} {k[1]}: missing in the reproduction")
    for k in [k for k in ref if k in new]:
        a, b = ref[k], new[k]
        if a == b:
            continue
        line = f"claim {k[0]}{' (' + k[1] + ')' if k[1] else ''}: {a} → {b}"
        if {a, b} == {SUPPORTED, CONTRADICTED}:
            report.failures.append(line + " (flipped)")
        else:
            report.borderline.append(line)
    return report


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
    return pd.read_csv(io.StringIO(out.stdout), dtype={"row": str, "setting": str, "source": str})


def _figures_dir(path: Path) -> Path:
    for cand in (path, path / "figures"):
        if (cand / "runs.csv").is_file():
            return cand
    raise FileNotFoundError(f"no runs.csv in {path} or {path / 'figures'}: point verify at the folder a "
                            f"reproduction wrote its tables to (its out_dir)")


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
            ref_runs, ref_claims, where = read_runs(ref_runs_path), pd.read_csv(ref_runs_path.with_name("claims.csv")), str(ref_runs_path)
    else:
        ref_dir = _figures_dir(Path(reference).parent if Path(reference).suffix else Path(reference))
        ref_runs, ref_claims, where = read_runs(ref_dir), pd.read_csv(ref_dir / "claims.csv"), str(ref_dir)
    out(f"reference: {where}\nreproduction: {cand}")
    report = compare_runs(ref_runs, read_runs(cand))
    if ref_claims is not None and (cand / "claims.csv").is_file():
        compare_claims(ref_claims, pd.read_csv(cand / "claims.csv"), report)
    for line in report.flags:
        out(f"flag: {line}")
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
