"""The teacher–student gap: the second regime axis beside the batch composition.

How much a distilled student can gain depends on how far the teacher is above it. The paper's Table 4 gives its
teacher alone and student alone on UCF51, a gap of a few points; our proxy matches the paper's batch regime, not
this gap (the digit pairs' teacher is about 30 points above the student), so a claim's effect in points is not
comparable with the paper's; as a share of the gap it is:

    gap = top-1(teacher alone) − top-1(student alone)          (Table 1's "teacher" and "baseline" rows, per setting)
    share of the gap = effect / gap                            (ours, and the paper's effect / the paper's gap)

``gaps(runs)`` measures ours per setting of Table 1, and on the gap-matched pairing where the reproduction trained one
(:mod:`amidlib.paper.sensitivity`: its teacher and student alone are rows of runs.csv's source ``sensitivity``), and
puts the paper's beside it (Table 4's teacher_alone and student_alone, from ``data_manifests/paper_results.csv``; the
paper gives no teacher for ActivityNet).
"""
from __future__ import annotations

import math

import pandas as pd

from amidlib.data import manifests

__all__ = ["GAP_PREFIX", "gaps", "paper_gap", "gap_text"]

#: runs.csv's ``setting`` of the gap-matched pairing's runs starts with this (amidlib.paper.sensitivity.gap_label)
GAP_PREFIX = "gap-matched "


def paper_gap(paper_setting: str) -> tuple[float, float]:
    """(teacher alone, student alone) top-1 of the paper's Table 4 for ``paper_setting``; NaNs where it has none."""
    teacher = manifests.paper_value("table4", paper_setting, "teacher_alone", "teacher_top1")
    student = manifests.paper_value("table4", paper_setting, "student_alone", "student_top1")
    return (math.nan, math.nan) if teacher is None or student is None else (float(teacher), float(student))


def gaps(runs: pd.DataFrame) -> pd.DataFrame:
    """Per setting of Table 1 (index): our teacher and student alone (mean top-1 over the seeds), the gap and the
    ratio, and the paper's (``paper_teacher``, ``paper_student``, ``paper_gap``, ``paper_ratio``; NaN where the paper
    has none)."""
    setting = runs["setting"].fillna("").astype(str)
    t1 = pd.concat([runs[runs["source"] == "table1"],  # Table 1's settings first: the main pairing's gap is the first
                    runs[(runs["source"] == "sensitivity") & setting.str.startswith(GAP_PREFIX)]])
    rows = {}
    if not {"teacher_top1", "student_top1"} <= set(t1.columns):
        return pd.DataFrame()
    for setting, f in t1.groupby(t1["setting"].fillna("").astype(str), sort=False):
        teacher = f.loc[f["row"] == "teacher", "teacher_top1"].mean()
        student = f.loc[f["row"] == "baseline", "student_top1"].mean()
        paper_setting = str(f["paper_setting"].iloc[0])
        pt, ps = paper_gap(paper_setting)
        rows[setting] = {"paper_setting": paper_setting, "teacher": teacher, "student": student,
                         "gap": teacher - student, "ratio": teacher / student, "paper_teacher": pt,
                         "paper_student": ps, "paper_gap": pt - ps, "paper_ratio": pt / ps}
    return pd.DataFrame.from_dict(rows, orient="index")


def gap_text(runs: pd.DataFrame) -> str:
    """One line for claims.md and the README: each setting's gap beside the paper's; "" without Table 1's rows."""
    g = gaps(runs)
    if g.empty or g["gap"].isna().all():
        return ""
    parts = []
    for setting, r in g.iterrows():
        ours = f"{setting} {r.gap:.1f} points ({r.teacher:.1f} / {r.student:.1f} = {r.ratio:.2f}×)"
        if math.isnan(r.paper_gap):
            parts.append(f"{ours} (the paper gives no teacher alone for {r.paper_setting})")
        else:
            parts.append(f"{ours} against the paper's {r.paper_setting} {r.paper_gap:.1f} points "
                         f"({r.paper_teacher:.1f} / {r.paper_student:.1f} = {r.paper_ratio:.2f}×)")
    matched = [s for s in g.index if str(s).startswith(GAP_PREFIX)]
    return ("teacher–student gap (top-1 of the teacher alone − the student alone, Table 1"
            + (", and the gap-matched pairing's" if matched else "") + "): " + "; ".join(parts)
            + ". Our tables' gap is several times the paper's, so effects are also given as a share of it"
            + ("; the claims of Tables 1, 2 and 4 are also decided on the gap-matched pairing (below)" if matched
               else ""))
