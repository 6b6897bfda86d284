"""Table assembly: the paper column comes from the csv, ours is mean ± std over seeds, claims are decided by code."""
import re
import shutil

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from amidlib.data import manifests
from amidlib.paper import claims, plans, tables
from amidlib.repro import profiles, runs


def _runs(table, rows, values, setting="fou→fac", paper_setting="UCF51", metric="student_top1"):
    """A runs frame like Study.runs gives: one line per (row, seed)."""
    out = []
    for row in rows:
        for seed, v in enumerate(values[row]):
            rec = {"table": table, "setting": setting, "paper_setting": paper_setting, "row": row, "seed": seed,
                   "fold": -1, "method": row, "run": f"{row}{seed}"}
            rec.update({k: np.nan for k in runs.SCALARS})
            rec[metric] = v
            out.append(rec)
    return pd.DataFrame(out)


@pytest.fixture
def fresh_paper_cache():
    manifests._read_paper_results.cache_clear()
    yield
    manifests._read_paper_results.cache_clear()


def test_paper_column_is_read_from_the_csv(tmp_path, monkeypatch, fresh_paper_cache):
    runs = _runs("table1", ["baseline", "amid"], {"baseline": [70.0, 72.0], "amid": [75.0, 77.0]})
    tidy = tables.summarise(runs, "table1")
    amid = tidy[tidy.row == "amid"].iloc[0]
    assert amid.paper == manifests.paper_value("table1", "UCF51", "amid", "top1")

    # a perturbed copy of the csv: the paper column must follow it
    csv = tmp_path / "paper_results.csv"
    shutil.copy(manifests.manifest_path("paper_results.csv"), csv)
    df = pd.read_csv(csv, dtype=str, keep_default_na=False)
    hit = (df.table == "table1") & (df.setting == "UCF51") & (df.method == "amid")
    assert hit.sum() == 1
    df.loc[hit, "value"] = "12.3"
    df.to_csv(csv, index=False)
    monkeypatch.setattr(manifests, "MANIFEST_DIRS", (tmp_path,))
    manifests._read_paper_results.cache_clear()
    tidy2 = tables.summarise(runs, "table1")
    assert tidy2[tidy2.row == "amid"].iloc[0].paper == 12.3
    assert tidy2[tidy2.row == "baseline"].iloc[0].paper == tidy[tidy.row == "baseline"].iloc[0].paper
    assert "12.3" in tables.to_markdown(tidy2)


def test_a_reference_row_not_in_the_paper_has_no_paper_number():
    """Hinton KD in Table 1: our numbers, its label saying it is not the paper's, "—" in the paper column (the csv
    has no such row), named in the header; the paper's rows keep their numbers."""
    rows = ["baseline", "amid", "teacher", "kd"]
    runs = _runs("table1", rows, {r: [70.0 + i, 72.0 + i] for i, r in enumerate(rows)})
    tidy = tables.summarise(runs, "table1")
    kd = tidy[tidy.row == "kd"].iloc[0]
    assert kd.label == "Hinton KD (reference, not in the paper)" and np.isnan(kd.paper) and kd["mean"] == 74.0
    assert tidy[tidy.row == "amid"].iloc[0].paper == manifests.paper_value("table1", "UCF51", "amid", "top1")
    assert np.isnan(tidy[tidy.row == "teacher"].iloc[0].paper)
    assert re.search(r"\| Hinton KD \(reference, not in the paper\) +\| — +\| 74\.0 ± 1\.4 +\|",
                     tables.to_markdown(tidy))
    head = tables.header("table1", None, tidy)
    assert "not in the paper (a reference of ours, no paper number): Hinton KD (reference, not in the paper)" in head
    assert "not in the paper" not in tables.header("table1", None, tidy[tidy.row != "kd"])


def test_mean_std_and_n_over_seeds():
    runs = _runs("table5", ["amid", "no_d2"], {"amid": [80.0, 82.0, 84.0], "no_d2": [79.0]})
    tidy = tables.summarise(runs, "table5")
    amid = tidy[tidy.row == "amid"].iloc[0]
    assert (amid["mean"], amid["std"], amid["n"]) == (82.0, 2.0, 3)
    one = tidy[tidy.row == "no_d2"].iloc[0]
    assert (one["mean"], one["std"], one["n"]) == (79.0, 0.0, 1)
    md = tables.to_markdown(tidy)
    assert "82.0 ± 2.0" in md and "| 79.0 " in md and "79.0 ±" not in md  # one seed: no spread shown
    assert f"{manifests.paper_value('table5', 'UCF51', 'amid', 'top1'):.1f}" in md  # the paper's number beside ours
    assert one["paper"] == manifests.paper_value("table5", "UCF51", "no_d2", "top1")


def test_table4_rows_report_only_what_the_paper_has():
    rows = ["student_alone", "teacher_alone", "mi_s"]
    runs = _runs("table4", rows, {r: [70.0, 71.0] for r in rows})
    runs["teacher_top1"] = 90.0
    tidy = tables.summarise(runs, "table4")
    assert list(tidy[tidy.row == "student_alone"].metric) == ["student_top1"]
    assert list(tidy[tidy.row == "teacher_alone"].metric) == ["teacher_top1"]
    assert set(tidy[tidy.row == "mi_s"].metric) == {"student_top1", "teacher_top1"}
    assert tidy.paper.notna().all()
    md = tables.to_markdown(tidy)
    assert "L_MI_s" in md and "90.0 ± 0.0" in md


def test_write_table_writes_md_and_csv_twins(tmp_path):
    runs = _runs("table6", ["3.7", "4.0"], {"3.7": [70.0], "4.0": [71.0, 73.0]}, setting="alpha1",
                 paper_setting="alpha1")
    tidy = tables.summarise(runs, "table6")
    assert list(tidy.paper) == [manifests.paper_value("table6", "alpha1", 3.7, "top1"),
                                manifests.paper_value("table6", "alpha1", 4.0, "top1")]
    md, csv = tables.write_table(tidy, tmp_path)
    assert md.read_text().startswith("# Table 6") and "n seeds" in md.read_text()
    back = tables.read_table(tmp_path, "table6")
    assert list(back.row) == ["3.7", "4.0"] and back["mean"].tolist() == [70.0, 72.0]
    assert not list(tmp_path.glob(".*tmp"))  # no temporary files left behind


def test_the_default_amid_run_is_shared_by_tables_1_4_5_6():
    prof = profiles.load_profile("cpu")
    key = lambda cells, row, setting=None: {c.spec.key() for c in cells  # noqa: E731
                                            if c.row == row and (setting is None or c.setting == setting)}
    t1 = key(plans.plan_table1(prof), "amid", prof.main.key)
    assert t1 == key(plans.plan_table4(prof), "amid") == key(plans.plan_table5(prof), "amid")
    t6 = plans.plan_table6(prof)
    # alpha1 = 4.0, alpha2 = 1.6, alpha3 = 1.0 are the defaults: the same run
    assert key(t6, "4.0") == key(t6, "1.6") == key(t6, "1.0") == {
        c.spec.key() for c in plans.plan_table1(prof)
        if c.row == "amid" and c.spec.seed in prof.seed_sets.sweep and c.setting == prof.main.key}
    assert len(t1) == len(prof.seeds)
    assert key(plans.plan_table4(prof), "mi_s+mi_a") == key(plans.figure_cells(prof, ["mi_s+mi_a"]), "mi_s+mi_a")
    assert key(plans.plan_table4(prof), "mi_s") != t1


def test_run_cache_trains_once(tmp_path):
    prof = profiles.load_profile("ci", cache_dir=tmp_path / "cache", epochs=2, out_dir=tmp_path / "out")
    cells = [c for c in plans.plan_table1(prof, ["baseline"]) if c.setting == prof.main.key]
    study = runs.Study(prof, verbose=False)
    first = study.runs(cells)
    assert study.trained == 1 and first.student_top1.iloc[0] > 10
    again = runs.Study(prof, verbose=False)  # a new session: read from disk
    second = again.runs(cells)
    assert again.trained == 0
    assert second.student_top1.iloc[0] == first.student_top1.iloc[0]
    assert len(again.histories(cells)) == 2


def test_profiles_resolve_paths_and_refuse_unknown_names(tmp_path):
    ci = profiles.load_profile("ci")
    assert ci.paths.out_dir == profiles.repo_root() / "figures" / "ci"
    assert profiles.load_profile("cpu").paths.out_dir == profiles.repo_root() / "figures"
    assert profiles.load_profile("ci", seeds="0, 1").seeds == (0, 1)
    assert profiles.load_profile("ci", seeds=[3]).seed_sets.sweep == (3,)
    assert profiles.load_profile("ci", out_dir="figures/x").paths.out_dir == profiles.repo_root() / "figures" / "x"
    with pytest.raises(ValueError, match="cpu"):
        profiles.load_profile("cpux")
    with pytest.raises(ValueError, match="uci_mfeat"):
        profiles.load_profile("ci", dataset="ucf51")


def test_paper_profile_names_what_is_missing(monkeypatch):
    import torch

    monkeypatch.delenv("AMID_DATA_ROOT", raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    prof = profiles.load_profile("paper")
    with pytest.raises(RuntimeError) as err:
        profiles.check_requirements(prof)
    assert "GPU" in str(err.value) and "data root" in str(err.value) and "AMID_DATA_ROOT" in str(err.value)


# --------------------------------------------------------------------------- claims
def _tidy(table, rows, metric="student_top1", setting="fou→fac"):
    return pd.DataFrame([{"table": table, "setting": setting, "row": r, "metric": metric, "paper": np.nan,
                          "mean": m, "std": s, "n": n} for r, (m, s, n) in rows.items()])


def _seed_runs(source, per_row, metric="student_top1", setting="fou→fac", paper_setting="UCF51"):
    """A runs.csv frame: per row, one value per seed."""
    return pd.DataFrame([{"source": source, "setting": setting, "paper_setting": paper_setting, "row": r, "seed": s,
                          "fold": -1, "method": r, "dataset": "uci_mfeat", metric: v}
                         for r, vals in per_row.items() for s, v in enumerate(vals)])


def test_claims_from_paired_seeds_supported_contradicted_inconclusive():
    runs = _seed_runs("table5", {"amid": [80.0, 81.0, 82.0, 80.5], "no_d2": [78.0, 79.2, 79.9, 78.4],
                            "fixed_teacher": [81.0, 82.1, 83.0, 81.4], "no_warmup": [81.0, 80.0, 82.5, 80.0],
                            "uniform_lambda": [80.0, 81.0, 82.0, 80.5]})
    v = claims.evaluate_claims(runs).set_index("id")
    d2 = v.loc["d2_helps"]
    # per-seed differences 2.0, 1.8, 2.1, 2.1: mean 2.0, t interval from scipy
    ci = stats.ttest_rel([80.0, 81.0, 82.0, 80.5], [78.0, 79.2, 79.9, 78.4]).confidence_interval(0.95)
    assert (d2.effect == pytest.approx(2.0)
            and (d2.ci_low, d2.ci_high) == (pytest.approx(ci.low), pytest.approx(ci.high)))
    assert d2.verdict == "supported" and d2.n == 4
    assert v.loc["fixed_teacher_hurts", "verdict"] == "contradicted"        # AMID below the fixed teacher every seed
    assert v.loc["warmup_helps", "verdict"] == "inconclusive"              # differences −1, 1, −0.5, 0.5
    # identical values: a zero-width interval at 0
    assert v.loc["dynamic_lambda_helps", "verdict"] == "inconclusive"
    assert v.loc["mi_s_weakens_teacher", "verdict"] == "not evaluated"     # no table4 runs
    # the paper's effect beside ours: Table 5's AMID − w/o D2 on UCF51, from paper_results.csv
    paper = (manifests.paper_value("table5", "UCF51", "amid", "top1")
             - manifests.paper_value("table5", "UCF51", "no_d2", "top1"))
    assert d2.paper_effect == pytest.approx(paper)


def test_multi_part_claim_per_setting_and_figure_claims():
    t1 = pd.concat([
        _seed_runs("table1", {"amid": [80, 81, 82], "ccl": [79, 80, 80.5], "baseline": [75, 76, 77]}, setting="a"),
        _seed_runs("table1", {"amid": [80, 81, 82], "ccl": [74, 75, 76.5], "baseline": [75, 76, 77]}, setting="b"),
        _seed_runs("fig4", {"amid": [11, 12, 10], "mi_s+mi_a": [21, 22, 21]}, metric="test_gap", setting=""),
    ])
    v = claims.evaluate_claims(t1)
    chain = v[v.id == "amid_ccl_baseline"]
    assert len(chain) == 4 and set(chain.setting) == {"a", "b"}
    assert chain[chain.setting == "a"].claim_verdict.eq("supported").all()
    part = chain[(chain.setting == "b") & (chain.a == "ccl")].iloc[0]
    # −1, −1, −0.5: mean −0.83, half-width 4.30 · 0.289 / √3 = 0.72 → (−1.55, −0.12): the whole claim is contradicted
    assert part.verdict == "contradicted" and part.claim_verdict == "contradicted"
    assert chain[(chain.setting == "b") & (chain.a == "amid")].iloc[0].verdict == "supported"
    g = v.set_index("id").loc["gap_smaller"]
    assert g.verdict == "supported" and g.effect == pytest.approx(-10.333333)


def test_write_claims_writes_csv_md_and_forest_plot(tmp_path):
    runs = pd.concat([_seed_runs("table4",
                                 {"mi_s": [90, 91, 90.5], "teacher_alone": [95, 95.5, 96], "mi_s+mi_a": [96, 96, 97]},
                            metric="teacher_top1"),
                      _seed_runs("table4",
                                 {"amid": [81, 82, 81.5], "mi_s+mi_a": [80, 81, 80.5], "amid_nce": [82, 84, 83]})])
    runs.to_csv(tmp_path / "runs.csv", index=False)
    verdicts = claims.write_claims(tmp_path, regime="batch 64 over 10 classes")
    assert list(verdicts.columns) == claims.CLAIM_COLUMNS
    back = pd.read_csv(tmp_path / "claims.csv")
    assert list(back.columns) == claims.CLAIM_COLUMNS
    v = verdicts.set_index("id")
    assert v.loc["mi_s_weakens_teacher", "verdict"] == "supported"
    assert v.loc["mi_beats_nce", "verdict"] == "contradicted"
    text = (tmp_path / "claims.md").read_text()
    assert "supported" in text and "contradicted" in text and "batch 64 over 10 classes" in text
    assert "holds" not in text and "within the seed spread" not in text
    assert (tmp_path / "fig_claims.png").is_file() and (tmp_path / "fig_claims.csv").is_file()


def _tiny_cells(prof):
    main = prof.main
    return [runs.Cell("t", main.key, main.paper, m, runs.make_spec(prof, main, m, 0, **ov))
            for m, ov in (("baseline", {}), ("amid", {"use_adv": False}))]


def test_study_in_parallel_gives_the_same_runs_in_order(tmp_path):
    """Study with n_jobs 1 and 2 (spawned workers): the same numbers, rows in cell order."""
    out = {}
    for n_jobs in (1, 2):
        prof = profiles.load_profile("ci", epochs=2, n_jobs=n_jobs, cache_dir=tmp_path / f"cache{n_jobs}",
                                     out_dir=tmp_path / "figures")
        study = runs.Study(prof, verbose=False)
        cells = _tiny_cells(prof)
        out[n_jobs] = (study.runs(cells), study.histories(cells))
        assert study.trained == 2
    pd.testing.assert_frame_equal(out[1][0], out[2][0])
    pd.testing.assert_frame_equal(out[1][1], out[2][1])
    assert list(out[2][0].method) == ["baseline", "amid"]


def test_compare_command_line_runs_through_study(tmp_path, capsys):
    from amidlib.paper import compare

    args = ["--preset", "tiny", "--seeds", "0", "1", "--methods", "baseline", "teacher", "--epochs", "2",
            "--n-jobs", "1", "--cache-dir", str(tmp_path / "cache")]
    compare.main(args + ["--out", str(tmp_path / "out")])
    text = capsys.readouterr().out
    assert "4 runs (4 trained, 0 from the cache)" in text and "| method " in text
    table = (tmp_path / "out/table.md").read_text()
    assert table.index("| baseline") < table.index("| teacher ") and " ± " in table
    frame = pd.read_csv(tmp_path / "out/runs.csv")
    assert list(frame.method) == ["baseline", "baseline", "teacher", "teacher"] and list(frame.seed) == [0, 1, 0, 1]
    compare.main(args)  # the same runs again: all from the cache
    assert "4 runs (0 trained, 4 from the cache)" in capsys.readouterr().out
    # the same spec as before compare used Study: each method's defaults, the preset, the 400/1,600 split
    spec = frame.run.iloc[0]
    prof = compare.compare_profile("tiny", [0, 1], ["fou"], ["fac"], epochs=2, cache_dir=tmp_path / "cache")
    cell = compare.compare_cells(prof, ["baseline"])[0]
    assert cell.spec.key() == spec and cell.spec.split == ("holdout", 0.8, 0) and cell.spec.preset == "tiny"
    assert dict(cell.spec.overrides) == {"epochs": 2, "device": "cpu"}


def test_paper_profile_lists_missing_files_by_path(monkeypatch, tmp_path):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    prof = profiles.load_profile("paper", data_root=str(tmp_path))
    with pytest.raises(RuntimeError) as err:
        profiles.check_requirements(prof)
    assert str(tmp_path / "ucf51" / "videos") in str(err.value)


def test_table3_proxy_is_imbalanced_like_iemocap():
    from amidlib.data.splits import imbalanced_sizes

    sizes = imbalanced_sizes(200, 10, 1708 / 1084)
    assert sizes[0] == 200 and sizes[-1] == 127 and list(sizes) == sorted(sizes, reverse=True)
    assert max(sizes) / min(sizes) == pytest.approx(1708 / 1084, abs=0.01)
    prof = profiles.load_profile("cpu")
    cells = plans.plan_table3(prof)
    train, test = runs.load_split(cells[0].spec)
    counts = np.bincount(np.concatenate([train.labels, test.labels]))
    assert tuple(counts) == sizes == prof.crossval.class_sizes
    # a classifier that is better on the large classes: WA and UA now differ
    from amidlib.core import metrics
    y = test.labels
    pred = np.where(y < 5, y, (y + 1) % 10)
    assert metrics.weighted_accuracy(y, pred) != pytest.approx(metrics.unweighted_accuracy(y, pred))


def test_only_the_runs_a_figure_draws_curves_of_are_evaluated_every_epoch():
    """Profile.final_eval_only: the curve rows (plans.CURVE_ROWS, main pairing) keep the preset's eval_every;
    every other run is evaluated once, after its last epoch, and still shares its key where configurations match."""
    prof = profiles.load_profile("cpu")
    every = lambda cells: {c.row: "eval_every" not in dict(c.spec.overrides) for c in cells}  # noqa: E731
    t4, t5 = every(plans.plan_table4(prof)), every(plans.plan_table5(prof))
    assert t4 == {"student_alone": False, "teacher_alone": False, "mi_s": True, "mi_s+mi_a": True, "amid": True,
                  "amid_nce": False, "cls_jsd": False}
    assert t5["no_d2"] and t5["no_warmup"] and not t5["fixed_teacher"] and not t5["uniform_lambda"]
    t1 = plans.plan_table1(prof)
    assert {c.row for c in t1 if "eval_every" not in dict(c.spec.overrides)} == {"amid"}
    assert all(dict(c.spec.overrides)["eval_every"] == 0 for c in t1 if c.setting != prof.main.key)
    assert all(dict(c.spec.overrides).get("eval_every") == 0 for c in plans.plan_table3(prof))
    t6 = plans.plan_table6(prof)
    assert {c.row for c in t6 if "eval_every" not in dict(c.spec.overrides)} == {"4.0", "1.6", "1.0"}
    assert set(plans.CURVE_ROWS) == {"amid", "no_warmup", "mi_s", "mi_s+mi_a", "no_d2"}
    # switched off: every run evaluated every epoch
    assert all("eval_every" not in dict(c.spec.overrides)
               for c in plans.plan_table4(prof.replace(execution={"final_eval_only": False})))


def test_a_figure_saved_twice_gives_the_same_bytes(tmp_path):
    """png and pdf carry no creation time: rerunning make reproduce on the same numbers leaves figures/ unchanged."""
    import time

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from amidlib.paper import plots

    outs = []
    for name in ("a", "b"):
        fig, ax = plt.subplots()
        ax.plot([0, 1, 2], [1, 3, 2])
        p = plots.save(fig, tmp_path / name)
        plt.close(fig)
        outs.append((p.read_bytes(), p.with_suffix(".pdf").read_bytes()))
        time.sleep(1.1)  # a date written to the second would differ
    assert outs[0] == outs[1]


def test_not_testable_here_is_computed_from_the_runs_and_named():
    """λ1 within 0.02 of ½, every sample partnered, α3·L_adv under 5 % of the objective: the claims whose
    intervention those make inert are 'not testable here', with the measured reason; otherwise testable."""
    base = _seed_runs("table5", {"amid": [80.0, 81.0, 82.0, 80.5], "no_d2": [78.0, 79.2, 79.9, 78.4],
                                 "uniform_lambda": [80.0, 81.0, 82.0, 80.5]})
    inert = base.assign(lambda1_min=0.492, lambda1_max=0.5, batch_with_partner=1.0, share_adv=0.004)
    v = claims.evaluate_claims(inert).set_index("id")
    assert "λ1 stayed within [0.492, 0.500]" in v.loc["dynamic_lambda_helps", "not_testable"]
    assert "100 % of samples have a same-class partner" in v.loc["d2_helps", "not_testable"]
    assert v.loc["d2_helps", "verdict"] == "supported"  # the statistics are kept beside it
    assert v.loc["fixed_teacher_hurts", "not_testable"] == ""  # no rule for it
    moving = base.assign(lambda1_min=0.40, lambda1_max=0.55, batch_with_partner=0.3, share_adv=0.2)
    assert (claims.evaluate_claims(moving)["not_testable"] == "").all()
    adv = claims.evaluate_claims(_seed_runs("fig4", {"amid": [11, 12, 10], "mi_s+mi_a": [21, 22, 21]},
                                            metric="test_gap", setting="").assign(share_adv=0.004))
    assert "α3·L_adv is 0.4 % of AMID's objective" in adv.set_index("id").loc["gap_smaller", "not_testable"]
    counts = claims.verdict_counts(v.reset_index())
    assert counts["not testable here"] == 2
    md = claims.claims_markdown(v.reset_index())
    assert "**not testable here** (raw supported; Holm" in md and "- not testable here: 100 % of samples" in md


def test_table3s_recipe_line_is_the_preset_its_own_runs_use():
    """Table 3 runs on its cross-validated setups' dataset at that dataset's preset (cpu: the 10 digits, preset
    embedded, batch 64, 60 epochs), not the main pairing's (cpu: the digit pairs at batch 16, 24 epochs)."""
    prof = profiles.load_profile("cpu")
    assert "batch 64, 60 epochs (20 of warm-up)" in tables.recipe_text(prof, "table3")
    assert "batch 16, 24 epochs (8 of warm-up)" in tables.recipe_text(prof, "table1")
    assert tables.recipe_text(prof) == tables.recipe_text(prof, "table4")
