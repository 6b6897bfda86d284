"""The paper profile end to end on a miniature data root in the real layout (amidlib/paper_data.py):
UCF51-style videos with CCL-format audio features, an IEMOCAP-shaped tree, local weight folders with a
SHA256SUMS file. Tables 1 and 3 are built exactly as notebook 02 builds them under ``profile=paper``
(only the sizes differ: a tiny 3D-CNN student, 2 epochs, one fold, CPU)."""
import hashlib

import pandas as pd
import pytest
import torch

from amidlib.data import manifests
from amidlib.data.paper_root import DENSENET_FILE, expected_sha256
from amidlib.paper import names, plans, tables
from amidlib.repro import profiles, runs
from amidlib.testing.paper_root import make_mini_paper_root


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _sha(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    """A data root holding UCF51 (generated clips + CCL features), ActivityNet, IEMOCAP (mini tree) and the weights."""
    return make_mini_paper_root(tmp_path_factory.mktemp("data"))


def _profile(data_root, tmp_path, **changes):
    kwargs = dict(
        data_root=data_root["root"], device="cpu", epochs=2, seeds=[0], n_jobs=1,
        out_dir=tmp_path / "figures", cache_dir=tmp_path / "runs/cache", feature_dir=tmp_path / "runs/features",
        table3_max_folds=1,
        overrides={"warmup_epochs": 1, "num_workers": 0, "amp": None},
        dataset_overrides={**{d: {"video_student": "tiny3d", "dim": 32, "hidden": 32, "d_hidden": 16,
                                  "batch_size": 4, "eval_batch_size": 4} for d in ("ucf51", "activitynet")},
                           "iemocap": {"dim": 16, "hidden": 32, "d_hidden": 16, "batch_size": 8}},
        data_options={"ucf51": {"manifest": str(data_root["manifest"])},
                      "iemocap": {"expected": data_root["iemocap_counts"], "n_frames": 2}},
        method_overrides={"crd": {"crd_nce_k": 4}, "crcd": {"crcd_nce_k": 4}},
    )
    kwargs.update(changes)
    return profiles.load_profile("paper", **kwargs)


def test_requirements_name_the_gpu_and_every_missing_path(data_root, tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    prof = _profile(data_root, tmp_path, device=None)  # the profile's own device: cuda
    with pytest.raises(RuntimeError, match="a CUDA GPU"):
        profiles.check_requirements(prof)
    profiles.check_requirements(_profile(data_root, tmp_path))  # device cpu: everything is there
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(RuntimeError) as err:
        profiles.check_requirements(_profile({**data_root, "root": empty}, tmp_path), ("iemocap",))
    for item in ("iemocap/Session1", "iemocap/Session5", "wav2vec2-base", "bert-base-uncased", DENSENET_FILE):
        assert item in str(err.value)
    assert "ucf51" not in str(err.value)  # Table 3 reads IEMOCAP only


def test_sha256sums_file_is_read(data_root):
    dn = data_root["root"] / "weights" / DENSENET_FILE
    assert expected_sha256(data_root["root"], DENSENET_FILE) == _sha(dn)
    assert expected_sha256(data_root["root"], "other.pth") is None


def test_paper_tables_1_and_3_from_a_data_root(data_root, tmp_path):
    prof = _profile(data_root, tmp_path)
    study = runs.Study(prof, verbose=False)
    t1 = tables.build_table(study, "table1")
    gap, t1 = t1[t1.metric == "gap_closed"], t1[t1.metric != "gap_closed"]
    rows1, rows3 = names.table_rows("table1"), names.table_rows("table3")
    assert set(gap.row) == set(rows1) - {"baseline", "teacher"} and len(gap) == 2 * (len(rows1) - 2)
    assert set(t1.row) == set(rows1) and t1["mean"].between(0, 100).all() and len(t1) == 2 * len(rows1)
    assert set(zip(t1.dataset, t1.paper_setting, strict=True)) == {("ucf51", "UCF51"), ("activitynet", "ActivityNet")}
    for setting, value in (("UCF51", 73.8), ("ActivityNet", None)):
        amid = t1[(t1.row == "amid") & (t1.paper_setting == setting)].iloc[0]
        expected = manifests.paper_value("table1", setting, "amid", "top1")
        assert amid.paper == pytest.approx(expected) and (value is None or expected == value)  # from the csv
    md = (prof.paths.out_dir / "table1.md").read_text()
    assert md.startswith("# Table 1: top-1") and "embedded analogue" not in md
    assert "paper UCF51 top-1" in md and "paper ActivityNet top-1" in md

    t3 = tables.build_table(study, "table3")
    assert set(t3.paper_setting) == {"V", "A-V", "L-V", "AL-V"} and set(t3.row) == set(rows3)
    assert set(t3.metric) == {"wa", "ua"} and t3["mean"].between(0, 100).all() and (t3.dataset == "iemocap").all()
    assert t3[(t3.paper_setting == "AL-V") & (t3.row == "amid") & (t3.metric == "wa")].paper.iloc[0] == pytest.approx(
        manifests.paper_value("table3", "AL-V", "amid", "WA"))

    # every run: its preset, its data record, and a checkpoint after every epoch
    cells = plans.plan_table1(prof) + plans.plan_table3(prof)
    # Table 1: each method on both datasets; Table 3: V (the baseline) and each other method on 3 setups, 1 fold
    assert study.trained == len({c.spec.key() for c in cells}) == 2 * len(rows1) + 1 + 3 * (len(rows3) - 1)
    for cell, res in zip(cells, study.results(cells), strict=True):
        spec = cell.spec
        assert res.config["preset"] == ("paper_iemocap" if spec.dataset == "iemocap" else "paper_video")
        assert res.config["epochs"] == 2
        ckpt = prof.paths.cache_dir / ".checkpoints" / spec.key() / "last.pt"
        # checkpointed every epoch; a finished run's checkpoint is deleted once its record is cached
        # (profile option keep_checkpoints keeps it)
        assert ckpt.is_file() == prof.execution.keep_checkpoints, ckpt
        if spec.dataset in ("ucf51", "activitynet"):
            assert res.config["data"]["train"] and res.config["video_student"] == "tiny3d"
            # the paper clip (CCL's crop, K test clips) and how many listed videos were used
            assert res.config["data"]["train"]["clip"]["test_clips"] == 10
            assert res.config["data"]["train"]["clip"]["train_scale"] == [0.25, 1.0] or \
                res.config["data"]["train"]["clip"]["train_scale"] == (0.25, 1.0)
            videos = res.config["data"]["videos"]
            assert videos["used"] == videos["listed"] and videos["line"].startswith(f"used {videos['used']} of")
            assert res.config["train"]["auxiliary"] == (["ccl_cnn14_emb512"] if spec.dataset == "ucf51"
                                                         else ["cnn14_emb512"])
        else:
            assert res.config["student"] == "FrameGRU" and res.config["data_record"]
    # the run cache: a second study trains nothing; a moved data root keeps the runs (not in the key)
    again = runs.Study(prof, verbose=False)
    pd.testing.assert_frame_equal(tables.build_table(again, "table1", write=False), pd.concat([t1, gap]).sort_index())
    assert again.trained == 0


def test_unknown_paper_dataset_choice_is_refused():
    with pytest.raises(ValueError, match="Did you mean 'ucf51'"):
        profiles.load_profile("paper", dataset="ucf5")
    prof = profiles.load_profile("paper", dataset="activitynet")
    assert prof.main.dataset == "activitynet" and [p.dataset for p in prof.pairings] == ["activitynet", "ucf51"]
    # what a notebook's tables read, from the paper layer's plans: what its requirements are checked for
    from amidlib.notebook import datasets_read

    assert datasets_read(prof, ("table4",)) == ["activitynet"] and datasets_read(prof, ("table3",)) == ["iemocap"]
    assert datasets_read(prof, ("table1", "figures")) == ["activitynet", "ucf51"]
    assert prof.datasets() == ["activitynet", "ucf51", "iemocap"]


def test_paper_plans_cover_the_papers_settings():
    prof = profiles.load_profile("paper", data_root="/nonexistent")
    t1 = plans.plan_table1(prof)
    assert {(c.setting, c.paper_setting) for c in t1} == {("ucf51:video→audio", "UCF51"),
                                                          ("activitynet:video→audio", "ActivityNet")}
    assert len(t1) == 2 * len(names.table_rows("table1")) * 3 and {c.spec.preset for c in t1} == {"paper_video"}
    t3 = plans.plan_table3(prof)
    assert {c.paper_setting for c in t3} == {"V", "A-V", "L-V", "AL-V"} and {c.fold for c in t3} == set(range(5))
    assert {c.spec.preset for c in t3} == {"paper_iemocap"} and {c.spec.dataset for c in t3} == {"iemocap"}
    for plan in (plans.plan_table4, plans.plan_table5, plans.plan_table6):
        assert {c.spec.dataset for c in plan(prof)} == {"ucf51"}
    # the paper's values: no profile override changes a §4.2 hyperparameter
    amid = next(c.spec for c in t1 if c.row == "amid").effective_config()
    assert (amid["dim"], amid["batch_size"], amid["tau"], amid["alpha1"], amid["alpha2"], amid["alpha3"],
            amid["warmup_epochs"], amid["video_student"], amid["amp"]) == (512, 16, 0.5, 4.0, 1.6, 1.0, 20,
                                                                           "r2plus1d_18", "bf16")
    t3_amid = next(c.spec for c in t3 if c.row == "amid").effective_config()
    assert (t3_amid["dim"], t3_amid["batch_size"], t3_amid["tau"], t3_amid["warmup_epochs"]) == (768, 128, 0.6, 5)


def test_the_prepared_gpu_pipeline_check_runs_in_its_cpu_mode(tmp_path):
    """scripts/paper_pipeline_check.py (section 4 of scripts/gpu_check.sh) must not rot between GPU loans."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts/paper_pipeline_check.py"
    spec = importlib.util.spec_from_file_location("paper_pipeline_check", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    report = tmp_path / "report.md"
    assert module.main(["--cpu", "--classes", "2", "--per-class", "3", "--epochs", "2", "--out", str(report)]) == 0
    text = report.read_text()
    assert "| amid |" in text and "every loss finite: True" in text and "preset paper_video" in text
    assert text.count("| True |") == len(names.table_rows("table1"))  # finite losses, every run
    # the B-frame AVIs' missing and corrupt video: left out, in the run record and the table header
    assert "run record: used 4 of 6 videos (left out: 1 missing, 1 corrupt video)" in text
    assert "- ucf51: used 4 of 6 videos" in text
    # stopped after its first epoch's checkpoint, then resumed by the same build, to the same history
    assert "resume: AMID stopped after epoch 1 of 2 (checkpoint written: True)" in text
    assert "per-epoch history equal to 4 decimals: True" in text


def test_with_only_ucf101_at_hand_table1s_ucf51_column_runs_and_the_rest_is_named(tmp_path_factory, tmp_path):
    """A user with UCF101 only: -p datasets '["ucf51"]' reproduces Tables 1-2's UCF51 column (and 4-6);
    ActivityNet's column and Table 3 are left out and named. Without it, the missing files are named and
    the message says how to run what the data allow."""
    ucf = make_mini_paper_root(tmp_path_factory.mktemp("ucf_only"), datasets=("ucf51",))
    with pytest.raises(RuntimeError, match=r"activitynet.*-p datasets"):
        profiles.check_requirements(_profile(ucf, tmp_path))
    prof = _profile(ucf, tmp_path, datasets=["ucf51"])
    profiles.check_requirements(prof)  # nothing else is asked for
    assert "SKIPPED (not in the datasets parameter): activitynet, iemocap" in prof.describe()
    assert plans.plan_table3(prof) == [] and {c.spec.dataset for c in plans.plan_table1(prof)} == {"ucf51"}
    study = runs.Study(prof, verbose=False)
    t1 = tables.build_table(study, "table1")
    assert set(t1.paper_setting) == {"UCF51"} and set(t1.row) == set(names.table_rows("table1"))
    assert "paper UCF51 top-1" in (prof.paths.out_dir / "table1.md").read_text()
    assert tables.build_table(study, "table3").empty
    assert (prof.paths.out_dir / "table3.md").read_text() == (
        "# Table 3\n\nNot reproduced: IEMOCAP (Table 3) left out (the datasets parameter).\n")
    with pytest.raises(ValueError, match="leaves out ucf51, the dataset of Tables 4-6"):
        profiles.load_profile("paper", datasets="activitynet")
    with pytest.raises(ValueError, match="Did you mean 'ucf51'"):
        profiles.load_profile("paper", datasets=["ucf5"])
    with pytest.raises(ValueError, match="profile cpu has one"):
        profiles.load_profile("cpu", datasets=["ucf51"])
    assert profiles.load_profile("paper", datasets="ucf51,iemocap").skipped == ("activitynet",)


def test_a_profile_is_data_its_name_decides_nothing(monkeypatch):
    """The paper profile's values under another name load, choose datasets and check requirements the same way
    (the check can fail: load_profile and check_requirements once branched on the name "paper")."""
    import dataclasses

    monkeypatch.setitem(profiles.PROFILES, "mine", dataclasses.replace(profiles.PROFILES["paper"], name="mine"))
    kw = dict(dataset="activitynet", datasets=["activitynet", "iemocap"], data_root="/nonexistent", seeds=[0])
    mine, paper = profiles.load_profile("mine", **kw), profiles.load_profile("paper", **kw)
    assert mine.replace(name="paper") == paper and mine.skipped == ("ucf51",)
    with pytest.raises(ValueError, match="unknown dataset for profile mine 'uci_pairs'"):
        profiles.load_profile("mine", dataset="uci_pairs")
    with pytest.raises(RuntimeError, match="profile 'mine' .*data root /nonexistent does not exist"):
        profiles.check_requirements(mine)


def test_replace_takes_records_whole_as_dicts_or_by_short_names():
    prof = profiles.load_profile("ci")
    assert prof.replace(checkpoint=True).execution.checkpoint is True
    assert prof.replace(execution={"checkpoint": True}) == prof.replace(checkpoint=True)
    assert prof.replace(table3_folds=5).crossval.folds == 5 and prof.crossval.folds == 2
    changed = prof.replace(data_options={"ucf51": {"on_bad": "raise"}})
    assert changed.options_for("ucf51") == {"on_bad": "raise"} and changed.options_for("av_tier") == {}
    assert changed.preset_for("uci_pairs") == "embedded_pairs"  # the other parts of the dataset settings stay
    with pytest.raises(TypeError, match="unknown profile field 'table3_fold'"):
        prof.replace(table3_fold=5)
    with pytest.raises(TypeError, match="not a setting"):
        profiles.load_profile("ci", name="cpu")
