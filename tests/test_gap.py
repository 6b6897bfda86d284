"""The teacher–student gap (amidlib.paper.gap): measured per Table 1 setting beside the paper's, and every top-1
claim effect as a share of it."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from amidlib.data import manifests
from amidlib.paper import claims, gap


def _runs():
    """Table 1 (teacher 90, student alone 60 on fou→fac) and Table 4 on the main pairing, 10 seeds."""
    rows = []
    rng = np.random.default_rng(0)
    for s in range(10):
        for source, row, student, teacher in (("table1", "baseline", 60.0, np.nan), ("table1", "teacher", np.nan, 90.0),
                                              ("table4", "teacher_alone", np.nan, 90.0),
                                              ("table4", "mi_s", 61.0, 84.0 + rng.normal(0, 0.5))):
            rows.append({"source": source, "setting": "uci_pairs:fou→fac" if source == "table1" else "",
                         "paper_setting": "UCF51", "row": row, "seed": s, "fold": -1, "method": row,
                         "dataset": "uci_pairs", "student_top1": student, "teacher_top1": teacher})
    return pd.DataFrame(rows)


def test_the_gap_is_teacher_alone_minus_student_alone_beside_the_papers():
    g = gap.gaps(_runs()).loc["uci_pairs:fou→fac"]
    assert (g.teacher, g.student, g.gap, g.ratio) == (90.0, 60.0, 30.0, 1.5)
    teacher = manifests.paper_value("table4", "UCF51", "teacher_alone", "teacher_top1")
    student = manifests.paper_value("table4", "UCF51", "student_alone", "student_top1")
    assert g.paper_gap == pytest.approx(teacher - student) and g.paper_ratio == pytest.approx(teacher / student)
    assert all(np.isnan(gap.paper_gap("ActivityNet")))  # the paper gives no teacher alone there
    text = gap.gap_text(_runs())
    assert "uci_pairs:fou→fac 30.0 points (90.0 / 60.0 = 1.50×) against the paper's UCF51" in text


def test_a_top1_effect_is_also_a_share_of_the_gap_ours_and_the_papers():
    v = claims.evaluate_claims(_runs()).set_index("id")
    weakens = v.loc["mi_s_weakens_teacher"]  # mi_s's teacher − the teacher alone ≈ −6 of a 30-point gap
    assert weakens.gap_share == pytest.approx(weakens.effect / 30.0)
    paper_gap = np.subtract(*gap.paper_gap("UCF51"))
    assert weakens.paper_gap_share == pytest.approx(weakens.paper_effect / paper_gap)
    md = claims.claims_markdown(v.reset_index())
    ours, theirs = 100 * weakens.gap_share, 100 * weakens.paper_gap_share
    assert f"{ours:+.0f} % of the teacher–student gap (paper {theirs:+.0f} %)" in md
    cosine = claims.evaluate_claims(_runs(), [c for c in claims.CLAIMS if c.id == "cosine_order"])
    assert cosine["gap_share"].isna().all()  # only top-1 effects are put against the gap
