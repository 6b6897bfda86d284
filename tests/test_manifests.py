"""Tests of data_manifests/ and amidlib.data.manifests (fast; the tarball test skips when absent)."""
import copy
import csv
import json
from pathlib import Path

import numpy as np
import pytest

from amidlib.data import manifests as mf
from amidlib.data.manifests import (
    check_ccl_features,
    load_ccl_features,
    load_manifest,
    manifest_videos,
    paper_results,
    paper_value,
)

REPO = Path(__file__).resolve().parents[1]
TARBALL = Path(__file__).resolve().parents[2] / "shared/data/ucf51_cnn14_audio_features.tar.gz"


# --------------------------------------------------------------------------- paper_results.csv
def test_paper_results_csv_is_plain_and_complete():
    with open(REPO / "data_manifests/paper_results.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["table", "setting", "method", "metric", "value"]
    assert all(len(r) == 5 and not r[0].startswith("#") for r in rows[1:])
    df = paper_results()
    assert sorted(df["table"].unique()) == [f"table{i}" for i in range(1, 7)]
    sizes = df.groupby("table").size().to_dict()
    assert sizes == {"table1": 12, "table2": 24, "table3": 26, "table4": 10, "table5": 5, "table6": 18}
    assert df["value"].between(0, 100).all()
    assert set(df.loc[df.table == "table1", "method"]) == {"baseline", "crd", "gmc", "crcd", "ccl", "amid"}
    assert set(df.loc[df.table == "table3", "setting"]) == {"V", "A-V", "L-V", "AL-V"}


@pytest.mark.parametrize(
    "key, value",
    [
        (("table1", "UCF51", "amid", "top1"), 73.8),
        (("table1", "ActivityNet", "gmc", "top1"), 53.1),
        (("table2", "UCF51", "crcd", "r5"), 75.2),
        (("table2", "ActivityNet", "amid", "r1"), 46.4),
        (("table3", "V", "baseline", "UA"), 50.8),
        (("table3", "AL-V", "crcd", "UA"), 49.4),
        (("table3", "L-V", "ccl", "WA"), 52.7),
        (("table4", "UCF51", "mi_s", "teacher_top1"), 71.2),
        (("table4", "UCF51", "mi_s+mi_a", "teacher_top1"), 76.0),
        (("table4", "UCF51", "amid_nce", "student_top1"), 72.3),
        (("table5", "UCF51", "no_warmup", "top1"), 65.8),
        (("table5", "UCF51", "fixed_teacher", "top1"), 66.0),
        (("table6", "alpha2", "1.3", "top1"), 71.2),
        (("table6", "alpha2", 1.3, "top1"), 71.2),
        (("table6", "alpha1", 4, "top1"), 73.8),
        (("table6", "alpha3", 1.2, "top1"), 73.1),
        ((1, "ucf51", "AMID", "TOP1"), 73.8),
    ],
)
def test_paper_value_spot_checks(key, value):
    assert paper_value(*key) == value


def test_paper_value_absent_cells_are_none():
    assert paper_value("table4", "UCF51", "student_alone", "teacher_top1") is None  # "\" in the paper
    assert paper_value("table3", "V", "amid", "WA") is None
    assert paper_value("table6", "alpha1", 5.0, "top1") is None


def test_paper_numbers_match_the_papers_own_text():
    """Differences the paper states in prose, recomputed from the transcribed tables."""
    v = paper_value
    assert round(v(1, "UCF51", "amid", "top1") - v(1, "UCF51", "crcd", "top1"), 1) == 4.2
    assert round(v(1, "ActivityNet", "amid", "top1") - v(1, "ActivityNet", "gmc", "top1"), 1) == 0.5
    ua_base = v(3, "V", "baseline", "UA")
    assert [round(v(3, s, "amid", "UA") - ua_base, 1) for s in ("A-V", "L-V", "AL-V")] == [0.9, 1.6, 1.9]
    assert round(v(5, "UCF51", "amid", "top1") - v(5, "UCF51", "no_warmup", "top1"), 1) == 8.0
    assert round(v(5, "UCF51", "amid", "top1") - v(5, "UCF51", "no_d2", "top1"), 1) == 1.0
    assert round(v(4, "UCF51", "amid", "student_top1") - v(4, "UCF51", "amid_nce", "student_top1"), 1) == 1.5
    # the alpha defaults (4, 1.6, 1) all give the AMID number
    for setting, a in (("alpha1", 4.0), ("alpha2", 1.6), ("alpha3", 1.0)):
        assert v(6, setting, a, "top1") == v(1, "UCF51", "amid", "top1")


# --------------------------------------------------------------------------- manifests
def test_load_manifest_missing_names_the_path():
    with pytest.raises(FileNotFoundError, match="no_such_dataset.json"):
        load_manifest("no_such_dataset")


def test_ucf51_manifest_counts_and_split_rule():
    m = load_manifest("ucf51")
    c = m["counts"]
    assert (c["classes"], c["videos"], c["train"], c["test"]) == (51, 6837, 4893, 1944)
    assert (c["paper_videos"], c["missing_in_release"]) == (6845, 8)
    assert m["source"]["sha256"].startswith("dfc209f1")
    assert [x["index"] for x in m["classes"]] == list(range(51))
    names = [x["name"] for x in m["classes"]]
    assert names == sorted(names)

    df = manifest_videos(m)
    assert len(df) == 6837 and df["video_id"].is_unique
    assert (df["split"] == np.where(df["group"] <= 7, "test", "train")).all()
    assert df["group"].between(1, 25).all()
    per = df.groupby(["class_name", "split"]).size().unstack()
    assert (per["train"] > 0).all() and (per["test"] > 0).all() and len(per) == 51
    assert per.to_dict("index") == m["per_class"]
    # file stem spelling can differ from its folder (UCF101 quirk)
    assert "HandstandPushups/v_HandStandPushups_g01_c01.npy" in set(df["relpath"])
    assert len(manifest_videos(m, "test")) == 1944


def test_activitynet_and_iemocap_facts():
    a = load_manifest("activitynet")
    assert a["counts"] == {"classes": 200, "videos": 14950, "train": 10024, "val": 4926}
    assert a["counts"]["train"] + a["counts"]["val"] == a["counts"]["videos"]
    assert a["video_ids_included"] is False and "videos" not in a
    i = load_manifest("iemocap")
    assert [c["name"] for c in i["classes"]] == ["neutral", "happy", "angry", "sad"]
    assert sum(i["counts"]["per_session"].values()) == 5531 == i["paper"]["utterances"]
    assert sum(i["counts"]["per_class"].values()) == 5531
    assert [f["test"] for f in i["folds"]] == [f"Session{k}" for k in range(1, 6)]
    assert "commonly reported" in i["counts"]["source"]
    with pytest.raises(ValueError, match="no video ids"):
        check_ccl_features(REPO, manifest="activitynet")


# --------------------------------------------------------------------------- feature checks
@pytest.fixture
def mini(tmp_path):
    """A 6-video manifest (2 classes, both splits) and a clean CCL-format tree for it."""
    m = copy.deepcopy(load_manifest("ucf51"))
    df = manifest_videos(m)
    picks = []
    for cls in ("Archery", "HandstandPushups"):
        sub = df[df.class_name == cls]
        picks += [sub[sub.split == "train"].index[0], sub[sub.split == "train"].index[1],
                  sub[sub.split == "test"].index[0]]
    m["videos"] = [m["videos"][i] for i in picks]
    root = tmp_path / "feats"
    rng = np.random.default_rng(0)
    for rel in manifest_videos(m)["relpath"]:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        np.save(root / rel, rng.standard_normal(512).astype(np.float32))
    return m, root, manifest_videos(m)


def test_clean_tree_loads_in_manifest_order(mini):
    m, root, df = mini
    (root / "._junk.npy").write_bytes(b"macos")  # ignored
    rep = check_ccl_features(root, manifest=m)
    assert not rep.has_problems and rep.ok == rep.expected == 6
    rep.raise_if_problems()
    X, y, ids, splits = load_ccl_features(root, manifest=m)
    assert X.shape == (6, 512) and X.dtype == np.float32
    assert ids == df["video_id"].tolist() and list(y) == df["class_index"].tolist()
    assert list(splits) == df["split"].tolist()
    np.testing.assert_array_equal(X[0], np.load(root / df["relpath"][0]))
    # the parent of the class folders is accepted too
    parent = root.parent / "release"
    parent.mkdir()
    root.rename(parent / "audiocnn14embed512_features")
    assert check_ccl_features(parent, manifest=m).ok == 6


def test_problems_are_reported_by_name(mini):
    m, root, df = mini
    rel = df["relpath"].tolist()
    (root / rel[0]).unlink()                                           # missing
    (root / "Archery/v_Archery_g99_c01.npy").write_bytes(b"x")          # extra
    data = (root / rel[1]).read_bytes()
    (root / rel[1]).write_bytes(data[: len(data) // 2])                 # truncated
    np.save(root / rel[2], np.zeros(256, np.float32))                   # wrong shape
    np.save(root / rel[3], np.zeros(512, np.float64))                   # wrong dtype
    bad = np.zeros(512, np.float32)
    bad[3] = np.nan
    np.save(root / rel[4], bad)                                         # NaN

    rep = check_ccl_features(root, manifest=m)
    assert rep.missing == [rel[0]]
    assert rep.extra == ["Archery/v_Archery_g99_c01.npy"]
    reasons = dict(rep.unreadable)
    assert set(reasons) == {rel[1], rel[2], rel[3], rel[4]}
    assert "np.load failed" in reasons[rel[1]]
    assert "shape (256,)" in reasons[rel[2]]
    assert "float64" in reasons[rel[3]]
    assert "NaN" in reasons[rel[4]]
    assert rep.ok == 1
    assert "1/6 ok, 1 missing, 4 unreadable, 1 extra" in rep.summary()

    with pytest.raises(ValueError) as err:
        rep.raise_if_problems()
    msg = str(err.value)
    assert all(r in msg for r in rel[:5]) and "Archery/v_Archery_g99_c01.npy" in msg and "Fix:" in msg

    with pytest.raises(ValueError, match="allow_missing=True"):
        load_ccl_features(root, manifest=m)
    with pytest.warns(UserWarning, match="skipped"):
        X, y, ids, splits, rep2 = load_ccl_features(root, manifest=m, allow_missing=True, return_report=True)
    assert ids == [df["video_id"][5]] and X.shape == (1, 512)
    assert rep2.missing == [rel[0]]


def test_split_restricts_expected_files(mini):
    m, root, df = mini
    for rel in df.loc[df.split == "train", "relpath"]:
        (root / rel).unlink()
    rep = check_ccl_features(root, manifest=m, split="test")
    assert not rep.has_problems and rep.ok == rep.expected == 2
    assert len(check_ccl_features(root, manifest=m).missing) == 4
    X, y, ids, splits = load_ccl_features(root, manifest=m, split="test")
    assert set(splits) == {"test"} and len(ids) == 2


def test_many_problems_are_truncated_in_message(mini):
    m, root, _ = mini
    for k in range(30):
        (root / f"Archery/extra_{k:02d}.npy").write_bytes(b"")
    msg = check_ccl_features(root, manifest=m).describe()
    assert "extra (on disk, not in the manifest): 30" in msg and "... and 10 more" in msg


# --------------------------------------------------------------------------- re-derivation
@pytest.mark.skipif(not TARBALL.is_file(), reason="shared UCF51 feature archive not present")
def test_committed_ucf51_manifest_matches_the_archive():
    built = json.loads(mf.dumps_manifest(mf.build_ucf51_manifest(TARBALL, verify_arrays=False)))
    assert built == load_manifest("ucf51")
