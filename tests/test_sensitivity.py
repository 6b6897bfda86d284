"""Why ours differs from the paper (amidlib.paper.sensitivity): Table 4's arms under other α, their claims decided
on each setting and classified; verify tells those runs from Table 4's."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from amidlib.paper import claims, sensitivity
from amidlib.paper.verify_runs import run_table
from amidlib.repro import profiles


def test_the_cells_are_table4s_arms_under_each_alpha_on_the_main_pairing():
    prof = profiles.load_profile("cpu")
    assert sensitivity.paper_alphas(prof) == (4.0, 1.6, 1.0)
    cells = sensitivity.sensitivity_cells(prof)
    assert len(cells) == len(sensitivity.SETTINGS) * len(sensitivity.ROWS) * len(prof.seeds)
    assert {c.setting for c in cells} == {"α ÷ 4 = (1, 0.4, 0.25)", "α1 ↔ α2 = (1.6, 4, 1)"}
    for c in cells:
        config = dict(c.spec.overrides)
        assert sensitivity.parse_setting(c.setting) == {k: config[k] for k in ("alpha1", "alpha2", "alpha3")}
        assert c.spec.dataset == prof.main.dataset and c.table == sensitivity.SOURCE
    table4 = {c.spec.key() for c in profiles_table4(prof)}
    assert not table4 & {c.spec.key() for c in cells}  # other runs than Table 4's
    assert sensitivity.parse_setting("fou→fac") is None


def profiles_table4(prof):
    from amidlib.paper.plans import plan_table4
    return plan_table4(prof)


@pytest.mark.parametrize("verdicts, expected", [
    (["supported", "supported", "supported"], sensitivity.HOLDS),
    (["contradicted", "contradicted", "contradicted"], sensitivity.CONTRADICTED_ALL),
    (["contradicted", "supported", "inconclusive"], sensitivity.DEPENDS),
    (["inconclusive", "inconclusive"], sensitivity.INCONCLUSIVE_ALL),
])
def test_a_claim_is_classified_by_its_verdicts_under_every_alpha(verdicts, expected):
    assert sensitivity.classify(verdicts) == expected


def _runs():
    """Table 1 and 4 on the main pairing; L_MI_s lowers the teacher by 10 at the paper's α, by 0 at α ÷ 4."""
    rng = np.random.default_rng(0)
    rows = []

    def add(source, setting, row, s, student, teacher):
        rows.append({"source": source, "setting": setting, "paper_setting": "UCF51", "row": row, "seed": s,
                     "fold": -1, "method": "amid" if row != "teacher_alone" else "teacher", "dataset": "uci_pairs",
                     "student_top1": student, "teacher_top1": teacher})

    for s in range(10):
        noise = rng.normal(0, 0.5, 8)
        add("table1", "uci_pairs:fou→fac", "baseline", s, 60.0, np.nan)
        add("table1", "uci_pairs:fou→fac", "teacher", s, np.nan, 90.0 + noise[0])  # Table 4's teacher alone
        add("table4", "uci_pairs:fou→fac", "teacher_alone", s, np.nan, 90.0 + noise[0])
        add("table4", "uci_pairs:fou→fac", "mi_s", s, 61.0, 80.0 + noise[1])
        add("table4", "uci_pairs:fou→fac", "mi_s+mi_a", s, 62.0 + noise[2], 85.0 + noise[3])
        add("table4", "uci_pairs:fou→fac", "amid", s, 63.0 + noise[4], 86.0)
        quarter = "α ÷ 4 = (1, 0.4, 0.25)"
        add("sensitivity", quarter, "mi_s", s, 61.0, 90.0 + noise[5])
        add("sensitivity", quarter, "mi_s+mi_a", s, 62.0 + noise[6], 91.0 + noise[7])
        add("sensitivity", quarter, "amid", s, 63.0 + noise[4], 91.0)
    return pd.DataFrame(rows)


def test_table4s_claims_are_decided_under_each_alpha_and_classified():
    runs = _runs()
    v = claims.evaluate_claims(runs)
    cls = v.drop_duplicates("id").set_index("id")["classification"]
    assert cls["mi_s_weakens_teacher"] == sensitivity.DEPENDS          # −10 at the paper's α, ≈ 0 at α ÷ 4
    assert cls["amid_beats_mi"] == sensitivity.HOLDS                   # +1 under both
    assert cls["joint_teacher_better"] == sensitivity.DEPENDS          # −5, then +1
    assert cls.get("d2_helps", "") == ""                               # not decided under other α
    table = claims.alpha_sensitivity(runs, v)
    assert set(table["alpha"]) == {"paper's α", "α ÷ 4 = (1, 0.4, 0.25)"}
    weakens = table[(table["id"] == "mi_s_weakens_teacher")].set_index("alpha")
    assert weakens.loc["paper's α", "verdict"] == "supported" and weakens.loc["α ÷ 4 = (1, 0.4, 0.25)", "n"] == 10
    md = claims.claims_markdown(v, alpha_table=table)
    assert "## Why ours differs from the paper: the loss weights α" in md and "**depends on α**" in md
    from amidlib.paper.readme import claims_block
    assert "under other α: **depends on α**" in "\n".join(claims_block(v))


def test_verify_tells_a_run_under_other_alpha_from_table4s():
    """Each sensitivity row is its own run (its α in the arm), not Table 4's run of the same row and seed."""
    runs, problems = run_table(_runs())
    assert not problems
    mi_s = runs[(runs["seed"] == 0) & (runs["method"] == "amid")]
    assert len(mi_s) == 6  # three rows at the paper's α, three at α ÷ 4
    assert {a for a in mi_s["arm"] if "alpha1=1.0" in a and "alpha2=0.4" in a and "alpha3=0.25" in a}
