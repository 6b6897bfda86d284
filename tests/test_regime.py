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
        for row, arm in (("baseline", base), ("amid", base + effect + rng.normal(0, 0.3, 5)),
                         ("ccl", base - effect + rng.normal(0, 0.3, 5))):
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
    """Both proxies are swept (the digit pairs, main, and the 10 digits); at each one's preset batch size (16, 64)
    the cells carry no batch override, so the main pairing's are the tables' runs."""
    prof = load_profile("cpu")
    cells = regime_cells(prof)
    assert {c.spec.method for c in cells} == {"baseline", "ccl", "amid"}
    assert {c.spec.dataset for c in cells} == {"uci_pairs", "uci_mfeat"}
    defaults = {"uci_pairs": 16, "uci_mfeat": 64}
    for c in cells:
        size = int(c.setting.rpartition(" batch ")[2])
        assert ("batch_size" in dict(c.spec.overrides)) == (size != defaults[c.spec.dataset]), c.setting
        assert c.spec.effective_config()["batch_size"] == size
    assert len({c.setting for c in cells}) == 4
    assert len({c.spec.seed for c in cells}) == len(prof.seed_sets.regime)


def test_the_sweep_shares_keys_with_the_tables():
    """The main pairing's batch-16 cells are the tables' runs (same key, whether or not a figure draws their curves)."""
    from amidlib.paper import plans

    prof = load_profile("cpu")
    t1 = {(c.row, c.spec.seed): c.spec.key() for c in plans.plan_table1(prof) if c.setting == prof.main.key}
    shared = [c for c in regime_cells(prof) if c.setting == f"{prof.main.key} batch 16"]
    assert shared
    for c in shared:
        assert c.spec.key() == t1[(c.row, c.spec.seed)]


def test_effects_keep_pairings_apart():
    """Two pairings swept at the same batch size: one row each, named by pairing."""
    rng = np.random.default_rng(1)
    a, b = _runs(rng, 1.0), _runs(rng, -1.0)
    a["setting"] = "p:fou→fac " + a["setting"]
    b["setting"] = "fou→fac " + b["setting"]
    eff = regime_effects(pd.concat([a, b]))
    assert len(eff) == 8 and set(eff["pairing"]) == {"p:fou→fac", "fou→fac"}
    amid = eff[eff.row == "amid"].set_index(["pairing", "batch_size"])["effect"]
    assert (amid.loc["p:fou→fac"] > 0).all() and (amid.loc["fou→fac"] < 0).all()
