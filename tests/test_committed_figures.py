"""The committed figures/ are consistent: every claim row recomputes from runs.csv with the formula
(scipy's paired t interval, independently of amidlib.paper.stats), and make verify passes on them."""
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

FIGURES = Path(__file__).resolve().parents[1] / "figures"
pytestmark = pytest.mark.skipif(not (FIGURES / "runs.csv").is_file(), reason="no committed figures/runs.csv yet")


def _arms(runs: pd.DataFrame, c) -> tuple[pd.Series, pd.Series]:
    """A claim row's two arms by seed, read from runs.csv by hand: its table's rows (its setting, where it names
    one) and, for a comparison at the edge, the edge seeds' runs of the same arms and pairing."""
    src = runs[runs.source == c.source]
    if c.setting:
        src = src[src.setting == c.setting]
    if bool(getattr(c, "at_edge", False)) and c.n > c.n_first:
        setting = c.setting or src.loc[src.row == c.a, "setting"].iloc[0]
        src = pd.concat([src, runs[(runs.source == "edge") & (runs.setting == setting)]])
    a = src[src.row == c.a].set_index(["seed", "fold"])[c.metric]
    b = src[src.row == c.b].set_index(["seed", "fold"])[c.metric]
    return a.align(b, join="inner")


def test_every_claim_row_recomputes_from_runs_csv():
    runs = pd.read_csv(FIGURES / "runs.csv", dtype={"row": str, "setting": str})
    runs["setting"] = runs["setting"].fillna("")
    claims = pd.read_csv(FIGURES / "claims.csv", dtype={"setting": str})
    claims["setting"] = claims["setting"].fillna("")
    assert len(claims) >= 15
    assert (claims["n"] > claims["n_first"]).sum() >= 1   # some comparisons decided over their edge seeds too
    for c in claims.itertuples():
        a, b = _arms(runs, c)
        assert len(a) == c.n, c
        d = (a - b).to_numpy()
        assert c.effect == pytest.approx(d.mean(), abs=1e-9), c
        if c.n >= 2:
            ci = stats.ttest_rel(a, b).confidence_interval(0.95)
            assert (c.ci_low, c.ci_high) == (pytest.approx(ci.low, abs=1e-9), pytest.approx(ci.high, abs=1e-9)), c
            up = 1 if c.op in (">", ">=") else -1
            expected = ("supported" if (up * ci.low > 0 if up > 0 else ci.high < 0) else
                        "contradicted" if (ci.high < 0 if up > 0 else ci.low > 0) else "inconclusive")
            assert c.verdict == expected, c
    for (cid, setting), grp in claims.groupby(["id", "setting"]):
        v = set(grp.verdict)
        expected = "contradicted" if "contradicted" in v else "supported" if v == {"supported"} else "inconclusive"
        assert set(grp.claim_verdict) == {expected}, (cid, setting)


def test_holm_verdicts_recompute_from_scipys_p_values():
    """The Holm column, independently: scipy's paired t-test p per comparison, Holm's step-down by its
    definition over the whole family, a verdict kept only where the adjusted p is below 0.05."""
    runs = pd.read_csv(FIGURES / "runs.csv", dtype={"row": str, "setting": str})
    runs["setting"] = runs["setting"].fillna("")
    claims = pd.read_csv(FIGURES / "claims.csv", dtype={"setting": str})
    claims["setting"] = claims["setting"].fillna("")
    p = []
    for c in claims.itertuples():
        a, b = _arms(runs, c)
        p.append(stats.ttest_rel(a, b).pvalue if len(a) >= 2 else np.nan)
    np.testing.assert_allclose(claims["p"], p, rtol=1e-9)
    family = sorted((v, i) for i, v in enumerate(p) if not np.isnan(v))
    m, running, adjusted = len(family), 0.0, {}
    for rank, (v, i) in enumerate(family):
        running = max(running, min(1.0, (m - rank) * v))
        adjusted[i] = running
    for i, c in enumerate(claims.itertuples()):
        assert c.p_holm == pytest.approx(adjusted[i], rel=1e-9), c
        assert c.verdict_holm == (c.verdict if adjusted[i] < 0.05 else "inconclusive"), c


def test_make_verify_passes_on_the_committed_figures(capsys):
    from amidlib.paper.verify import main

    assert main([str(FIGURES), "--reference", str(FIGURES)]) == 0
    assert "verify: PASS" in capsys.readouterr().out


def test_make_verify_fails_naming_the_cell_when_a_committed_value_is_altered(tmp_path, capsys):
    from amidlib.paper.verify import main

    runs = pd.read_csv(FIGURES / "runs.csv", dtype={"row": str, "setting": str})
    i = runs.index[(runs.source == "table4") & (runs.row == "amid")][0]
    runs.loc[i, "student_top1"] -= 30.0
    runs.to_csv(tmp_path / "runs.csv", index=False)
    (tmp_path / "claims.csv").write_bytes((FIGURES / "claims.csv").read_bytes())
    assert main([str(tmp_path), "--reference", str(FIGURES)]) == 1
    out = capsys.readouterr().out
    assert "FAIL: table4/" in out and "/amid/student_top1" in out and "verify: FAIL" in out
