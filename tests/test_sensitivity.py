"""Why ours differs from the paper (amidlib.paper.sensitivity): the claims of Tables 1, 2 and 4 decided again under
other α and on a gap-matched pairing, and classified; verify tells those runs from the tables'."""
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
    every = sensitivity.sensitivity_cells(prof)
    cells = [c for c in every if not sensitivity.is_gap(c.setting)]
    assert len(cells) == len(sensitivity.SETTINGS) * len(sensitivity.ROWS) * len(prof.seeds)
    assert {c.setting for c in cells} == {"α ÷ 4 = (1, 0.4, 0.25)", "α1 ↔ α2 = (1.6, 4, 1)"}
    for c in cells:
        config = dict(c.spec.overrides)
        assert sensitivity.parse_setting(c.setting) == {k: config[k] for k in ("alpha1", "alpha2", "alpha3")}
        assert c.spec.dataset == prof.main.dataset and c.table == sensitivity.SOURCE
    table4 = {c.spec.key() for c in profiles_table4(prof)}
    assert not table4 & {c.spec.key() for c in cells}  # other runs than Table 4's
    assert sensitivity.parse_setting("fou→fac") is None


def test_the_gap_matched_cells_are_every_arm_on_the_profiles_gap_pairing_at_the_paper_alpha():
    prof = profiles.load_profile("cpu")
    gap = prof.sweeps.gap_pairing
    assert gap.dataset == prof.main.dataset and gap != prof.main  # the same batch regime, other views
    cells = [c for c in sensitivity.sensitivity_cells(prof) if sensitivity.is_gap(c.setting)]
    assert {c.setting for c in cells} == {"gap-matched uci_pairs:zer→fou"}
    assert len(cells) == len(sensitivity.GAP_ROWS) * len(prof.seeds)
    assert len({c.spec.key() for c in cells}) == (len(sensitivity.GAP_ROWS) - 1) * len(prof.seeds)  # teacher: 1 run
    for c in cells:
        assert (c.spec.target, c.spec.auxiliary) == (gap.target, gap.auxiliary)
        assert not {"alpha1", "alpha2", "alpha3"} & set(dict(c.spec.overrides))  # the paper's α
    # a claim's arms all trained there
    arms = {a for claim in claims.CLAIMS if claim.id in sensitivity.CLAIM_IDS for a, _, b, _ in claim.comparisons
            for a in (a, b)}
    assert arms <= {c.row for c in cells}
    # on another dataset the pairing matches no measured gap: none
    other = profiles.load_profile("cpu", dataset="uci_mfeat", out_dir="/tmp/amid-gap-test")
    assert other.sweeps.gap_pairing is None
    assert not [c for c in sensitivity.sensitivity_cells(other) if sensitivity.is_gap(c.setting)]


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


@pytest.mark.parametrize("alpha, gap, expected", [
    (["supported", "supported"], ["supported"], sensitivity.HOLDS),
    (["contradicted", "contradicted"], ["supported"], sensitivity.DEPENDS_GAP),
    (["contradicted", "supported"], ["contradicted"], sensitivity.DEPENDS),
    (["contradicted", "supported"], ["inconclusive"], sensitivity.DEPENDS_BOTH),
    (["contradicted", "contradicted"], ["contradicted"], sensitivity.CONTRADICTED_ALL),
    (["inconclusive"], ["inconclusive"], sensitivity.INCONCLUSIVE_ALL),
])
def test_a_claim_is_classified_by_alpha_and_by_the_gap(alpha, gap, expected):
    assert sensitivity.classify(alpha, gap) == expected


def _runs(gap: bool = False):
    """Table 1 and 4 on the main pairing; L_MI_s lowers the teacher by 10 at the paper's α, by 0 at α ÷ 4; with
    ``gap``, every arm on the gap-matched pairing too."""
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
        add("table1", "uci_pairs:fou→fac", "amid", s, 63.0 + noise[4], 86.0)  # (Table 4's AMID run)
        add("table1", "uci_pairs:fou→fac", "ccl", s, 64.0 + noise[5], np.nan)
        add("table4", "uci_pairs:fou→fac", "amid_nce", s, 62.0 + noise[6], 86.0)
        quarter = "α ÷ 4 = (1, 0.4, 0.25)"
        add("sensitivity", quarter, "mi_s", s, 61.0, 90.0 + noise[5])
        add("sensitivity", quarter, "mi_s+mi_a", s, 62.0 + noise[6], 91.0 + noise[7])
        add("sensitivity", quarter, "amid", s, 63.0 + noise[4], 91.0)
        if gap:  # the gap-matched pairing: teacher 70, student 62; L_MI_s + L_MI_a now lifts the teacher above alone
            g = "gap-matched uci_pairs:zer→fou"
            more = rng.normal(0, 0.5, 6)
            for row in ("teacher", "teacher_alone"):
                add("sensitivity", g, row, s, np.nan, 70.0 + more[0])
            add("sensitivity", g, "baseline", s, 62.0 + more[1], np.nan)
            add("sensitivity", g, "ccl", s, 63.0 + more[2], np.nan)
            add("sensitivity", g, "mi_s", s, 63.0, 65.0 + more[3])
            add("sensitivity", g, "mi_s+mi_a", s, 63.0 + more[4], 72.0 + more[5])
            add("sensitivity", g, "amid", s, 64.0 + more[4], 73.0)
            add("sensitivity", g, "amid_nce", s, 63.0 + more[1], 73.0)
    return pd.DataFrame(rows)


def test_table4s_claims_are_decided_under_each_alpha_and_classified():
    runs = _runs()
    v = claims.evaluate_claims(runs)
    cls = v.drop_duplicates("id").set_index("id")["classification"]
    assert cls["mi_s_weakens_teacher"] == sensitivity.DEPENDS          # −10 at the paper's α, ≈ 0 at α ÷ 4
    assert cls["amid_beats_mi"] == sensitivity.HOLDS                   # +1 under both
    assert cls["joint_teacher_better"] == sensitivity.DEPENDS          # −5, then +1
    assert cls.get("d2_helps", "") == ""                               # not decided under other α
    assert cls["amid_beats_student"] == sensitivity.HOLDS              # AMID +3 over the student alone, both α
    table = claims.setting_sensitivity(runs, v)
    assert set(table["under"]) == {"paper's α", "α ÷ 4 = (1, 0.4, 0.25)"}
    weakens = table[(table["id"] == "mi_s_weakens_teacher")].set_index("under")
    assert weakens.loc["paper's α", "verdict"] == "supported" and weakens.loc["α ÷ 4 = (1, 0.4, 0.25)", "n"] == 10
    assert "mi_beats_nce" not in set(table["id"])  # its L_nce arm has an α and was not trained under α ÷ 4
    assert cls["mi_beats_nce"] == ""                                   # so it has no class
    md = claims.claims_markdown(v, settings_table=table)
    assert "## Why ours differs from the paper: the loss weights α and the teacher–student gap" in md
    assert "**depends on α**" in md
    from amidlib.paper.readme import claims_block
    assert "on the gap-matched pairing: **depends on α**" in "\n".join(claims_block(v))


def test_the_claims_are_decided_on_the_gap_matched_pairing_and_classified():
    runs = _runs(gap=True)
    v = claims.evaluate_claims(runs)
    first = v.drop_duplicates(["id", "setting"]).set_index(["id", "setting"])["classification"]
    # −10 at the paper's α, ≈ 0 at α ÷ 4: α; +2 over the teacher alone there, −5 on the main pairing under both α
    assert first[("mi_s_weakens_teacher", "")] == sensitivity.DEPENDS
    assert first[("joint_teacher_better", "")] == sensitivity.DEPENDS_BOTH
    table = claims.setting_sensitivity(runs, v)
    g = table[table["under"] == "gap-matched uci_pairs:zer→fou"].set_index("id")
    assert g.loc["joint_teacher_better", "verdict"] == "supported" and g.loc["joint_teacher_better", "n"] == 10
    # the effect as a share of the gap-matched pairing's own gap (teacher 70 − student 62 = 8 points)
    assert g.loc["joint_teacher_better", "gap_share"] == pytest.approx(g.loc["joint_teacher_better", "effect"] / 8,
                                                                       rel=0.1)
    assert {"mi_beats_nce", "amid_ccl_baseline"} <= set(g.index)  # every arm trained there
    # AMID ≥ CCL: −1 on the main pairing under both α (CCL has no α: Table 1's run), +1 on the gap-matched one
    assert first[("amid_ccl_baseline", "uci_pairs:fou→fac")] == sensitivity.DEPENDS_GAP
    # Table 1's claims: classified on the main pairing only
    assert v.loc[v["setting"] == "uci_pairs:fou→fac", "classification"].ne("").all()
    from amidlib.paper.gap import gap_text
    assert "gap-matched uci_pairs:zer→fou 8.0 points" in gap_text(runs).replace("7.9", "8.0").replace("8.1", "8.0")


def test_verify_tells_a_run_under_other_alpha_from_table4s():
    """Each sensitivity row is its own run (its α in the arm), not Table 4's run of the same row and seed."""
    runs, problems = run_table(_runs())
    assert not problems
    mi_s = runs[(runs["seed"] == 0) & (runs["method"] == "amid")]
    assert len(mi_s) == 7  # four rows at the paper's α (L_nce's too), three at α ÷ 4
    assert {a for a in mi_s["arm"] if "alpha1=1.0" in a and "alpha2=0.4" in a and "alpha3=0.25" in a}


def test_verify_tells_a_run_on_the_gap_matched_pairing_from_the_tables():
    runs, problems = run_table(_runs(gap=True))
    assert not problems
    on_gap = runs[runs["place"] == "uci_pairs:zer→fou"]
    assert len(on_gap[on_gap["seed"] == 0]) == len(sensitivity.GAP_ROWS) - 1  # the teacher's two rows: one run
