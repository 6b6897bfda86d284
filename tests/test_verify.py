"""`make verify`: noise passes, breakage fails naming the cell, verdict moves are borderline or failures."""
import numpy as np
import pandas as pd
import pytest

from amidlib.paper import verify as V
from amidlib.paper.records import record_runs, read_runs


def _runs(seed=0, n_seeds=5, shift=None):
    rng = np.random.default_rng(seed)
    rows = []
    for source, setting in (("table1", "fou→fac"), ("table4", "fou→fac")):
        for row, base in (("baseline", 75.0), ("amid", 78.0), ("ccl", 77.0)):
            for s in range(n_seeds):
                rows.append({"source": source, "setting": setting, "paper_setting": "UCF51", "row": row, "seed": s,
                             "fold": -1, "method": row, "dataset": "uci_mfeat", "run": f"k{row}{s}",
                             "student_top1": base + rng.normal(0, 0.5), "teacher_top1": 96 + rng.normal(0, 0.3),
                             "student_r1": np.nan, "student_r5": np.nan, "wa": np.nan, "ua": np.nan})
    return pd.DataFrame(rows)


def _claims(verdicts):
    return pd.DataFrame([{"id": f"c{i}", "setting": "", "verdict": v} for i, v in enumerate(verdicts)])


def test_identical_reproduction_passes():
    r = V.compare_runs(_runs(), _runs())
    assert r.ok and not r.flags and r.tested == 12 and not r.failures


def test_noise_from_another_machine_passes():
    # every value perturbed by noise far below the seed spread: no failure, flags at most at the chance rate
    noisy = _runs()
    noisy["student_top1"] += np.random.default_rng(5).normal(0, 0.05, len(noisy))
    r = V.compare_runs(_runs(), noisy)
    assert r.ok, r.summary()


def test_one_value_altered_far_beyond_noise_fails_naming_the_cell():
    bad = _runs()
    i = bad.index[(bad.source == "table4") & (bad.row == "amid") & (bad.seed == 2)][0]
    bad.loc[i, "student_top1"] += 40
    r = V.compare_runs(_runs(), bad)
    assert not r.ok
    assert any(f.startswith("table4/fou→fac/amid/student_top1") and "standard deviations" in f for f in r.failures)
    assert all("table1" not in f for f in r.failures)


def test_missing_cell_fails():
    r = V.compare_runs(_runs(), _runs()[lambda f: f.row != "ccl"])
    assert not r.ok and any("missing in the reproduction" in f for f in r.failures)


def test_claims_borderline_and_flipped():
    r = V.compare_claims(_claims(["supported", "inconclusive", "supported"]),
                         _claims(["inconclusive", "contradicted", "supported"]))
    assert r.ok and len(r.borderline) == 2
    r = V.compare_claims(_claims(["supported"]), _claims(["contradicted"]))
    assert not r.ok and "flipped" in r.failures[0]


def test_too_many_flags_fail_the_chance_rule():
    r = V.VerifyReport(tested=20, flags=["a", "b"])
    assert r.expected_flags == pytest.approx(0.02)
    assert r.too_many_flags and not r.ok
    assert not V.VerifyReport(tested=20, flags=["a"]).too_many_flags   # one flag in 20 cells: P ≈ 0.02


def test_record_runs_replaces_a_source_and_keeps_the_order(tmp_path):
    runs = _runs().rename(columns={"source": "table"})
    t4, t1 = runs[runs.table == "table4"], runs[runs.table == "table1"]
    record_runs(tmp_path, "table4", t4)
    record_runs(tmp_path, "table1", t1)
    first = (tmp_path / "runs.csv").read_bytes()
    record_runs(tmp_path, "table4", t4)           # rebuilding a table: the same file
    assert (tmp_path / "runs.csv").read_bytes() == first
    back = read_runs(tmp_path)
    assert list(dict.fromkeys(back["source"])) == ["table1", "table4"] and len(back) == len(runs)


def _record_many(out_dir, sources, barrier):
    runs = _runs().rename(columns={"source": "table"})
    runs = runs[runs.table == "table1"]
    barrier.wait(timeout=120)  # all start writing together
    for source in sources:     # each source once: a row lost to a stale read is never written again
        record_runs(out_dir, source, runs)


def test_notebooks_recording_side_by_side_lose_no_rows(tmp_path):
    """Four processes each add their own sources to one runs.csv at once (make reproduce runs notebooks side by
    side): every source's rows are there at the end. Without the lock, writes made from stale reads drop rows."""
    import multiprocessing as mp

    groups = [[f"p{p}_s{i}" for i in range(25)] for p in range(4)]
    ctx = mp.get_context("spawn")
    barrier = ctx.Barrier(len(groups))
    procs = [ctx.Process(target=_record_many, args=(tmp_path, g, barrier)) for g in groups]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
        assert p.exitcode == 0
    back = read_runs(tmp_path)
    per_source = len(_runs().query("source == 'table1'"))
    assert back.groupby("source").size().to_dict() == {s: per_source for g in groups for s in g}


def test_verify_command_line(tmp_path, capsys):
    for d, runs in (("ref", _runs()), ("new", _runs())):
        (tmp_path / d).mkdir()
        runs.to_csv(tmp_path / d / "runs.csv", index=False)
        _claims(["supported"]).to_csv(tmp_path / d / "claims.csv", index=False)
    assert V.main([str(tmp_path / "new"), "--reference", str(tmp_path / "ref")]) == 0
    assert "verify: PASS" in capsys.readouterr().out
    bad = _runs()
    bad.loc[0, "student_top1"] += 40
    bad.to_csv(tmp_path / "new" / "runs.csv", index=False)
    assert V.main([str(tmp_path / "new"), "--reference", str(tmp_path / "ref")]) == 1
    assert V.main([str(tmp_path / "nowhere")]) == 2


def test_a_reproduction_on_another_cpu_passes_with_its_borderline_claims_reported():
    """Real data: the same code reproduced on an AMD EPYC (AVX2) and an Intel Xeon (AVX512)
    (benchmarks/cross_cpu): no cell flagged or failed, three claims borderline, none flipped."""
    from amidlib.repro.profiles import repo_root

    pair = repo_root() / "benchmarks" / "cross_cpu"
    lines = []
    r = V.verify(pair / "intel_xeon_avx512", reference=pair / "amd_epyc_avx2", out=lines.append)
    assert r.ok and r.tested == 515 and not r.flags and not r.failures, r.summary()
    assert len(r.borderline) == 3 and all(line.startswith("claim ") for line in r.borderline)
    assert any("borderline: claim mi_beats_nce: supported → inconclusive" == line for line in lines)


def test_fresh_seed_draws_of_few_seeds_pass_and_a_moved_cell_of_few_seeds_fails():
    """Drift as large as a fresh draw of the seeds, in 150 cells of 2 or 3 seeds (like Tables 3 and 6):
    no failure (a cell's own sd from 2-3 values is no scale: by chance it is tiny, then any move is
    "many sd"). A cell moved by 5 seed sd still fails, named."""
    rng = np.random.default_rng(0)

    def draw(shift=0.0):
        rows = []
        for c in range(150):
            for s in range(2 + c % 2):
                rows.append({"source": "table6", "setting": f"alpha{c}", "paper_setting": "", "row": "amid",
                             "seed": s, "fold": -1, "method": "amid", "dataset": "uci_mfeat",
                             "student_top1": 78.0 + rng.normal(0, 0.3) + (shift if c == 7 else 0.0)})
        return pd.DataFrame(rows)

    ref = draw()
    r = V.compare_runs(ref, draw())
    assert r.tested == 150 and not r.failures and r.ok, r.failures[:3]
    r = V.compare_runs(ref, draw(shift=1.5))
    assert [f.split(":")[0] for f in r.failures] == ["table6/alpha7/amid/student_top1"]
