"""The paper's qualitative claims, checked against our numbers.

``CLAIMS``: every qualitative claim of the paper's §4 as comparisons between rows of our tables;
:func:`evaluate_claims` decides each one *from the csv files* (never by hand): "holds" when every
comparison holds for the means, else "does not hold here"; a difference smaller than the larger of
the two standard deviations is flagged as within the seed spread. :func:`write_claims` writes
``claims.md`` (and ``claims.csv``).
"""
from __future__ import annotations

import datetime as _dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from amidlib.core.experiment import atomic_write_text
from amidlib.paper import names
from amidlib.paper.figures import fig_summary
from amidlib.paper.tables import read_table
from amidlib.repro.profiles import Profile

__all__ = ["Claim", "CLAIMS", "evaluate_claims", "load_claim_frames", "claims_markdown", "write_claims"]

@dataclass(frozen=True)
class Claim:
    """A qualitative claim of the paper as comparisons ``(row_a, op, row_b, metric)`` on one source
    frame; ``per_setting``: decided separately for every setting of the source (Table 1 columns)."""

    id: str
    text: str
    source: str                                   # table1 ... table6, fig4, fig5
    comparisons: tuple[tuple[str, str, str, str], ...]
    where: str = ""                               # where the paper says it
    per_setting: bool = False


CLAIMS: tuple[Claim, ...] = (
    Claim("mi_s_weakens_teacher", "L_MI_s alone lowers the teacher's accuracy compared with the teacher alone",
          "table4", (("mi_s", "<", "teacher_alone", "teacher_top1"),), "Table 4, §4.4.1"),
    Claim("mi_a_restores_teacher", "adding L_MI_a restores the teacher (L_MI_s + L_MI_a teacher > L_MI_s teacher)",
          "table4", (("mi_s+mi_a", ">", "mi_s", "teacher_top1"),), "Table 4, §4.4.1"),
    Claim("amid_beats_mi", "AMID's student ≥ L_MI_s + L_MI_a's student (adding L_adv helps)",
          "table4", (("amid", ">=", "mi_s+mi_a", "student_top1"),), "Table 4, §4.4.1"),
    Claim("mi_beats_nce", "AMID with its MI bound (Eq 8) ≥ AMID with L_nce (student)",
          "table4", (("amid", ">=", "amid_nce", "student_top1"),), "Table 4, §4.4.1"),
    Claim("fixed_teacher_hurts", "a fixed pre-trained teacher hurts (AMID > with fixed teacher)",
          "table5", (("amid", ">", "fixed_teacher", "student_top1"),), "Table 5, §4.4.2"),
    Claim("warmup_helps", "no warm-up hurts (AMID > w/o warm-up)",
          "table5", (("amid", ">", "no_warmup", "student_top1"),), "Table 5, §4.4.2"),
    Claim("d2_helps", "D2 helps (AMID > w/o D2)",
          "table5", (("amid", ">", "no_d2", "student_top1"),), "Table 5, §4.4.2"),
    Claim("dynamic_lambda_helps", "dynamic λ helps (AMID > w/o dynamic weight)",
          "table5", (("amid", ">", "uniform_lambda", "student_top1"),), "Table 5, §4.4.2"),
    Claim("amid_ccl_baseline", "AMID ≥ CCL ≥ baseline (student top-1)",
          "table1", (("amid", ">=", "ccl", "student_top1"), ("ccl", ">=", "baseline", "student_top1")),
          "Table 1, §4.3", per_setting=True),
    Claim("gap_smaller", "AMID's teacher–student test gap is smaller than L_MI_s + L_MI_a's "
          "(averaged over the distillation epochs)",
          "fig4", (("amid", "<", "mi_s+mi_a", "test_gap"),), "Fig 4, §4.4.1"),
    Claim("cosine_order", "within-class teacher–student cosine: AMID > w/o D2 > w/o L_adv, on train and test "
          "(averaged over the distillation epochs)",
          "fig5", (("amid", ">", "no_d2", "train_cos_same_class"), ("no_d2", ">", "mi_s+mi_a", "train_cos_same_class"),
                   ("amid", ">", "no_d2", "test_cos_same_class"), ("no_d2", ">", "mi_s+mi_a", "test_cos_same_class")),
          "Fig 5, §4.4.2"),
)

_NEG = {">": "≤", ">=": "<", "<": "≥", "<=": ">"}  # what the data show when a comparison fails
_OPS = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}


def _fmt_num(v: float, metric: str) -> str:
    return f"{v:.3f}" if "cos" in metric else f"{v:.1f}"


def _fmt_stat(r, metric: str) -> str:
    """"81.9 ± 0.7 (n=3)"; one run: "84.3 (n=1)" (no spread to show)."""
    if int(r["n"]) == 1:
        return f"{_fmt_num(r['mean'], metric)} (n=1)"
    return f"{_fmt_num(r['mean'], metric)} ± {_fmt_num(r['std'], metric)} (n={int(r['n'])})"


def evaluate_claims(frames: dict[str, pd.DataFrame], claims: Sequence[Claim] = CLAIMS) -> pd.DataFrame:
    """Decide every claim from tidy frames (columns setting, row, metric, mean, std, n[, paper]).

    One output row per claim (per setting for ``per_setting`` claims): id, claim, source,
    setting, verdict ("holds" / "does not hold here" / "not evaluated"), evidence (the numbers),
    within_spread (True when some difference is smaller than the larger std), paper (the
    paper's numbers where the source has them).
    """
    out = []
    for claim in claims:
        frame = frames.get(claim.source)
        if frame is None or frame.empty:
            out.append({"id": claim.id, "claim": claim.text, "source": claim.source, "setting": "",
                        "verdict": "not evaluated", "evidence": f"{claim.source} not available", "within_spread": False,
                        "paper": "", "where": claim.where})
            continue
        frame = frame.assign(setting=frame["setting"].fillna("").astype(str), row=frame["row"].astype(str))
        settings = list(dict.fromkeys(frame["setting"])) if claim.per_setting else [None]

        def name(row: str, source: str = claim.source) -> str:  # the row's short name, as this source says it
            return names.short_name(row, source)

        for setting in settings:
            f = frame if setting is None else frame[frame["setting"] == setting]
            holds, spread, evidence, paper, missing = True, False, [], [], []
            for a, op, b, metric in claim.comparisons:
                ra, rb = f[(f["row"] == a) & (f["metric"] == metric)], f[(f["row"] == b) & (f["metric"] == metric)]
                if ra.empty or rb.empty:
                    missing.append(f"{a if ra.empty else b}/{metric}")
                    continue
                ra, rb = ra.iloc[0], rb.iloc[0]
                ok = bool(_OPS[op](ra["mean"], rb["mean"]))
                holds &= ok
                diff = ra["mean"] - rb["mean"]
                within = abs(diff) < max(ra["std"], rb["std"])
                spread |= within
                m = metric.replace("_", " ")
                evidence.append(
                    f"{name(a)} {_fmt_stat(ra, metric)} {op if ok else _NEG[op]} {name(b)} {_fmt_stat(rb, metric)}"
                    f" [{m}, diff {diff:+.3g}{', within the seed spread' if within else ''}]")
                if "paper" in f.columns and pd.notna(ra.get("paper")) and pd.notna(rb.get("paper")):
                    paper.append(f"{name(a)} {ra['paper']:.1f} vs {name(b)} {rb['paper']:.1f}")
            if missing:
                verdict = "not evaluated"
                evidence.append("missing: " + ", ".join(missing))
            else:
                verdict = "holds" if holds else "does not hold here"
            out.append({"id": claim.id, "claim": claim.text, "source": claim.source, "setting": setting or "",
                        "verdict": verdict, "evidence": "; ".join(evidence), "within_spread": spread,
                        "paper": "; ".join(paper), "where": claim.where})
    return pd.DataFrame(out)


def load_claim_frames(out_dir: str | os.PathLike) -> dict[str, pd.DataFrame]:
    """The tidy frames the claims read: table csvs and the per-epoch figure csvs, from ``out_dir``."""
    out_dir = Path(out_dir)
    frames: dict[str, pd.DataFrame] = {}
    for t in ("table1", "table4", "table5"):
        if (out_dir / f"{t}.csv").is_file():
            frames[t] = read_table(out_dir, t)
    if (out_dir / "fig4.csv").is_file():
        frames["fig4"] = fig_summary(pd.read_csv(out_dir / "fig4.csv"), ["test_gap"], "fig4")
    if (out_dir / "fig5.csv").is_file():
        frames["fig5"] = fig_summary(pd.read_csv(out_dir / "fig5.csv"), ["train_cos_same_class", "test_cos_same_class"], "fig5")
    return frames


def claims_markdown(verdicts: pd.DataFrame, prof: Profile | None = None) -> str:
    """claims.md: a summary table (claim, verdict), then every claim with its numbers."""
    lines = ["# The paper's qualitative claims, checked on our data", ""]
    if prof is not None:
        lines.append(f"- data: {prof.main.description}"
                     + "".join(f" (Table 1 also: {p.description})" for p in prof.pairings[1:]))
        lines.append(f"- {prof.describe().splitlines()[0]}")
        lines.append(f"- {prof.describe().splitlines()[1].strip()}")
    lines.append(f"- generated {_dt.datetime.now().isoformat(timespec='seconds')} by `amidlib.report.write_claims` from "
                 "the csv files beside this one: the verdicts are computed, not written by hand")
    lines.append("- rule: a claim **holds** when every comparison holds for the means over seeds; a difference "
                 "smaller than the larger of the two standard deviations is marked *within the seed spread* "
                 "(weak evidence either way); with one seed there is no spread to judge by")
    n_hold = int((verdicts["verdict"] == "holds").sum())
    lines += [f"- summary: **{n_hold} of {len(verdicts)}** hold here", ""]
    summary = pd.DataFrame({
        "#": range(1, len(verdicts) + 1),
        "claim of the paper": [f"{r.claim}{' (' + r.setting + ')' if r.setting else ''}" for r in verdicts.itertuples()],
        "where": verdicts["where"],
        "verdict": [f"**{v}**" + (" (within the seed spread)" if s and v != "not evaluated" else "")
                    for v, s in zip(verdicts["verdict"], verdicts["within_spread"])],
    })
    lines += [summary.to_markdown(index=False), "", "## The numbers", ""]
    for i, r in enumerate(verdicts.itertuples(), 1):
        lines.append(f"{i}. **{r.verdict}**: {r.claim}{' (' + r.setting + ')' if r.setting else ''} [{r.where}]")
        for part in str(r.evidence).split("; "):
            lines.append(f"   - ours: {part}")
        if r.paper:
            lines.append(f"   - paper: {r.paper}")
    return "\n".join(lines) + "\n"


def write_claims(out_dir: str | os.PathLike, prof: Profile | None = None) -> pd.DataFrame:
    """Evaluate every claim from the csvs in ``out_dir``; write claims.md and claims.csv (atomic)."""
    out_dir = Path(out_dir)
    verdicts = evaluate_claims(load_claim_frames(out_dir))
    atomic_write_text(out_dir / "claims.csv", verdicts.to_csv(index=False))
    atomic_write_text(out_dir / "claims.md", claims_markdown(verdicts, prof))
    return verdicts
