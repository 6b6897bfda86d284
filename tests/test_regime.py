"""fig_regime's numbers: the gain over the baseline paired by seed, against scipy's paired t interval."""
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from amidlib.paper.regime import regime_cells, regime_effects
from amidlib.repro.profiles import load_profile


def _runs(rng, effect):
    rows = []
    for batch in (16, 64):
        base = rng.normal(78, 1, 5)
        for row, arm in (("baseline", base), ("amid", base + effect + rng.normal(0, 0.3, 5)), ("ccl", base - effect + rng.normal(0, 0.3, 5))):
            for seed, value in enumerate(arm):
                rows.append({"setting": f"batch {batch}", "row": row, "seed": seed, "student_top1": value,
                             "batch_positives": 1 + (batch - 1) / 10, "batch_with_partner": 1.0})
    return pd.DataFrame(rows)


def test_gain_is_the_paired_t_interval():
    rng = np.random.default_rng(0)
    runs = _runs(rng, 1.5)
    eff = regime_effects(runs)
    assert set(eff["row"]) == {"amid", "ccl"} and set(eff["batch_size"]) == {16, 64}
    for _, r in eff.iterrows():
        grp = runs[runs["setting"] == f"batch {r.batch_size}"]
        d = (grp[grp.row == r.row].set_index("seed")["student_top1"]
             - grp[grp.row == "baseline"].set_index("seed")["student_top1"])
        lo, hi = stats.t.interval(0.95, len(d) - 1, loc=d.mean(), scale=stats.sem(d))
        assert (r.effect, r.ci_low, r.ci_high) == pytest.approx((d.mean(), lo, hi))
        assert r.n == 5 and r.positives == pytest.approx(1 + (r.batch_size - 1) / 10)
    amid = eff[eff.row == "amid"]
    assert (amid["ci_low"] > 0).all() and (eff[eff.row == "ccl"]["effect"] < 0).all()


def test_the_default_batch_size_reuses_the_tables_runs():
    prof = load_profile("cpu")
    cells = regime_cells(prof)
    assert {c.spec.method for c in cells} == {"baseline", "ccl", "amid"}
    default = [c for c in cells if c.setting == "batch 64"]
    assert default and all("batch_size" not in dict(c.spec.overrides) for c in default)
    others = [c for c in cells if c.setting != "batch 64"]
    assert all(dict(c.spec.overrides)["batch_size"] in (16, 32, 128) for c in others)
    assert len({c.spec.seed for c in cells}) == len(prof.regime_seeds)


def test_the_sweep_shares_keys_with_the_tables():
    """The batch-64 cells are the tables' runs (same key, whether or not a figure draws their curves)."""
    from amidlib.paper import plans

    prof = load_profile("cpu")
    t1 = {(c.row, c.spec.seed): c.spec.key() for c in plans.plan_table1(prof) if c.setting == prof.main.key}
    for c in regime_cells(prof):
        if c.setting == "batch 64":
            assert c.spec.key() == t1[(c.row, c.spec.seed)]
