"""Feature cache (frozen extractors run once per file), frame cache, and bad-input handling."""
import json

import numpy as np
import pytest
import soundfile as sf
import torch

from amidlib.data.av_tier import av_tier_datasets, class_spec, make_av_clips, write_av_clip
from amidlib.data.cache import CALLS, CacheCorruptError, FeatureCache, FrameCache
from amidlib.data.video.inputs import BadInputError
from amidlib.data.video.loader import VideoLoader


@pytest.fixture(scope="module")
def tier(tmp_path_factory):
    root = tmp_path_factory.mktemp("tier")
    make_av_clips(root, n_classes=3, per_class=4, seconds=1.0, seed=1)
    return root


# --------------------------------------------------------------------------- FeatureCache
def test_feature_cache_stores_loads_and_keys_on_everything(tmp_path):
    cache = FeatureCache(tmp_path, "ext", "abc", {"rate": 32000}, dim=4)
    calls = []

    def compute(x):
        calls.append(x)
        if x == "bad":
            raise ValueError("cannot decode")
        return np.full(4, float(len(x)), np.float32)

    rep = cache.build("train", [("a", "aa"), ("b", "bbb"), ("c", "bad")], compute, progress=False, commit_every=1)
    assert rep.computed == ["a", "b"] and rep.failed[0][0] == "c" and "cannot decode" in rep.failed[0][1]
    np.testing.assert_array_equal(cache.load("train", ["b", "a"])[:, 0], [3, 2])
    # second build: nothing recomputed, only the new id
    rep = cache.build("train", [("a", "aa"), ("d", "dddd")], compute, progress=False)
    assert rep.cached == ["a"] and rep.computed == ["d"] and calls == ["aa", "bbb", "bad", "dddd"]
    assert cache.index("train") == {"a": 0, "b": 1, "d": 2}
    with pytest.raises(KeyError, match="c"):
        cache.load("train", ["c"])
    # a new instance over the same folder sees the same rows; the files are plain .npy + json
    again = FeatureCache(tmp_path, "ext", "abc", {"rate": 32000}, dim=4)
    assert again.dir == cache.dir and again.load("train").shape == (3, 4)
    assert json.loads((cache.dir / "train.index.json").read_text())["ids"] == ["a", "b", "d"]
    assert np.load(cache.dir / "train.npy", mmap_mode="r").shape == (3, 4)
    assert not list(cache.dir.glob("*.tmp"))  # atomic writes leave no temporary files
    # another weights hash or another preprocessing setting: another folder
    assert FeatureCache(tmp_path, "ext", "abd", {"rate": 32000}, dim=4).dir != cache.dir
    assert FeatureCache(tmp_path, "ext", "abc", {"rate": 16000}, dim=4).dir != cache.dir
    meta = json.loads((cache.dir / "meta.json").read_text())
    assert meta["weights_sha256"] == "abc" and meta["settings"] == {"rate": 32000}


def test_truncated_cache_array_is_reported_by_name(tmp_path):
    cache = FeatureCache(tmp_path, "ext", "abc", {}, dim=8)
    cache.build("test", [(str(i), i) for i in range(5)], lambda i: np.ones(8) * i, progress=False)
    path = cache.dir / "test.npy"
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(CacheCorruptError, match="test.npy"):
        cache.load("test")


def test_frame_cache_decodes_once_and_recovers_from_a_corrupt_entry(tmp_path):
    fc = FrameCache(tmp_path, {"resize": [8, 8]})
    n = []

    def decode():
        n.append(1)
        return np.ones((3, 8, 8, 3), np.uint8)

    assert fc.get("v1", decode).shape == (3, 8, 8, 3) and fc.get("v1", decode).shape == (3, 8, 8, 3)
    assert len(n) == 1
    fc.path("v1").write_bytes(b"\x93NUMPY trunc")
    with pytest.warns(UserWarning, match="corrupt"):
        assert fc.get("v1", decode).shape == (3, 8, 8, 3)
    assert len(n) == 2


# --------------------------------------------------------------------------- caching in the data path
def test_after_the_first_pass_no_audio_is_decoded_and_no_extractor_runs(tier):
    before = CALLS.copy()
    train_ds, test_ds = av_tier_datasets(tier, cache_dir=tier / "cache_a")
    first = CALLS - before
    assert first["audio_decode"] == 12 and first["aux_extractor"] == 12  # once per file
    loader = VideoLoader(train_ds)
    for epoch in range(2):
        before = CALLS.copy()
        n = sum(len(b.y) for b in loader.batches(4, torch.Generator().manual_seed(epoch)))
        used = CALLS - before
        assert n == 9 and used["audio_decode"] == 0 and used["aux_extractor"] == 0
        assert used["video_decode"] == 9  # the student's clips are decoded (no frame cache)
    # a new run over the same cache: no audio decode, no extractor call at all
    before = CALLS.copy()
    again, _ = av_tier_datasets(tier, cache_dir=tier / "cache_a")
    assert (CALLS - before)["audio_decode"] == 0 and (CALLS - before)["aux_extractor"] == 0
    np.testing.assert_array_equal(again.aux, train_ds.aux)
    assert again.record()["aux_cache"]["dir"] == train_ds.record()["aux_cache"]["dir"]


def test_frame_cache_removes_video_decoding_from_epochs(tier):
    train_ds, _ = av_tier_datasets(tier, cache_dir=tier / "cache_b", frame_cache=True)
    before = CALLS.copy()
    batches = list(VideoLoader(train_ds).batches(3, torch.Generator().manual_seed(0)))
    assert (CALLS - before)["video_decode"] == 0
    assert batches[0].x_target.shape == (3, 3, 8, 32, 32)
    # same clips as the decode path for the same sampling seeds (both decode at the same resize)
    plain, _ = av_tier_datasets(tier, cache_dir=tier / "cache_b")
    torch.testing.assert_close(plain[(4, 77)][0], train_ds[(4, 77)][0])
    torch.testing.assert_close(plain[4][0], train_ds[4][0])


def test_training_batches_do_not_depend_on_worker_count(tier):
    train_ds, _ = av_tier_datasets(tier, cache_dir=tier / "cache_a")
    a = next(VideoLoader(train_ds).batches(4, torch.Generator().manual_seed(5)))
    b = next(VideoLoader(train_ds, num_workers=1).batches(4, torch.Generator().manual_seed(5)))
    torch.testing.assert_close(a.x_target, b.x_target)
    assert torch.equal(a.index, b.index)


# --------------------------------------------------------------------------- bad inputs
@pytest.fixture(scope="module")
def damaged(tmp_path_factory):
    """A tier with one of each problem; returns (root, {problem: file name})."""
    root = tmp_path_factory.mktemp("damaged")
    make_av_clips(root, n_classes=3, per_class=4, seconds=1.0, seed=2)
    names = [class_spec(c)["name"] for c in range(3)]
    f = lambda c, g: f"{names[c]}/v_{names[c]}_g{g:02d}_c01.mp4"  # noqa: E731
    bad = {
        "corrupt": f(0, 2),
        "truncated": f(1, 2),
        "no_audio": f(2, 2),
        "missing": f(0, 3),
    }
    (root / bad["corrupt"]).write_bytes(b"garbage" * 500)
    data = (root / bad["truncated"]).read_bytes()
    (root / bad["truncated"]).write_bytes(data[: len(data) // 3])
    write_av_clip(root / bad["no_audio"], np.zeros((16, 64, 64, 3), np.uint8), 16)  # no audio track
    (root / bad["missing"]).unlink()
    write_av_clip(root / names[1] / "v_Stray_g09_c01.mp4", np.zeros((4, 16, 16, 3), np.uint8), 8)  # not listed
    return root, bad


def test_bad_videos_stop_the_run_before_training_listing_every_file(damaged):
    root, bad = damaged
    with pytest.raises(BadInputError) as err:
        av_tier_datasets(root, cache_dir=root / "cache")
    msg = str(err.value)
    for name in bad.values():
        assert name in msg, name
    assert "no audio track" in msg and "corrupt video" in msg and "missing" in msg and "on_bad='skip'" in msg
    assert "v_Stray_g09_c01.mp4" in msg  # the extra file is listed as a note
    assert not (root / "cache").exists() or not list((root / "cache").rglob("*.npy"))  # nothing extracted


def test_skip_leaves_bad_files_out_and_reports_them_for_the_record(damaged):
    root, bad = damaged
    train_ds, test_ds = av_tier_datasets(root, cache_dir=root / "cache", on_bad="skip")
    assert len(train_ds) + len(test_ds) == 12 - 4
    kept = {it.relstem for ds in (train_ds, test_ds) for it in ds.items}
    assert not kept & {b[:-4] for b in bad.values()}
    record = train_ds.record()["bad_inputs"]
    assert record["on_bad"] == "skip" and record["n_skipped"] == 4
    assert sorted(s["file"] for s in record["skipped"]) == sorted(bad.values())
    assert {s["problem"] for s in record["skipped"]} == {"corrupt video", "no audio track", "missing"}
    assert any(n["file"].endswith("v_Stray_g09_c01.mp4") and n["problem"] == "extra" for n in record["notes"])
    json.dumps(record)  # JSON-ready for the run's record


@pytest.fixture(scope="module")
def with_wavs(tmp_path_factory):
    """A tier whose audio comes from separate wav files; one of them is at 8 kHz."""
    root = tmp_path_factory.mktemp("wavs")
    make_av_clips(root, n_classes=2, per_class=2, seconds=0.5, seed=3)
    m = json.loads((root / "manifest.json").read_text())
    low = None
    for k, (vid, c, _g) in enumerate(m["videos"]):
        cls = m["classes"][c]["name"]
        rate = 8000 if k == 0 else 16000
        path = root / "audio" / cls / f"{vid}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, (0.3 * np.sin(2 * np.pi * 440 * np.arange(rate // 2) / rate)).astype(np.float32), rate)
        low = low or f"{cls}/{vid}.wav"
    return root, low


def test_wrong_sample_rate_is_resampled_with_a_note_or_refused_when_strict(with_wavs):
    root, low = with_wavs
    train_ds, test_ds = av_tier_datasets(root, audio_root=root / "audio", cache_dir=root / "cache")
    assert len(train_ds) + len(test_ds) == 4
    notes = train_ds.bad_inputs.as_record()["notes"]
    assert [n["file"] for n in notes if n["problem"] == "resampled"] == [low]
    assert "8000 Hz" in notes[0]["detail"]
    with pytest.raises(BadInputError, match=low.replace(".", r"\.") + ".*unexpected sample rate"):
        av_tier_datasets(root, audio_root=root / "audio", cache_dir=root / "cache", strict_rate=True)
    train_ds, test_ds = av_tier_datasets(root, audio_root=root / "audio", cache_dir=root / "cache",
                                         strict_rate=True, on_bad="skip")
    assert len(train_ds) + len(test_ds) == 3
    assert train_ds.bad_inputs.as_record()["skipped"][0]["file"] == low


def test_ccl_features_truncated_npy_and_mismatch_are_reported_by_name(tier, tmp_path):
    m = json.loads((tier / "manifest.json").read_text())
    ccl = tmp_path / "ccl"
    rng = np.random.default_rng(0)
    files = []
    for vid, c, _g in m["videos"]:
        p = ccl / m["classes"][c]["name"] / f"{vid}.npy"
        p.parent.mkdir(parents=True, exist_ok=True)
        np.save(p, rng.normal(size=512).astype(np.float32))
        files.append(p)
    files[0].write_bytes(files[0].read_bytes()[:60])  # truncated
    files[1].unlink()  # manifest lists it, no feature file
    trunc, gone = files[0].relative_to(ccl).as_posix(), files[1].relative_to(ccl).as_posix()
    before = CALLS.copy()
    with pytest.raises(BadInputError) as err:
        av_tier_datasets(tier, aux="ccl", ccl_root=ccl, cache_dir=tmp_path / "cache")
    assert trunc in str(err.value) and gone in str(err.value) and "unreadable feature" in str(err.value)
    train_ds, test_ds = av_tier_datasets(tier, aux="ccl", ccl_root=ccl, on_bad="skip", cache_dir=tmp_path / "cache")
    assert len(train_ds) + len(test_ds) == 10 and train_ds.aux_dim == 512
    assert (CALLS - before)["audio_decode"] == 0  # CCL features: the audio is never decoded
    skipped = {s["file"]: s["problem"] for s in train_ds.bad_inputs.as_record()["skipped"]}
    assert skipped == {trunc: "unreadable feature", gone: "missing feature file"}


def test_activitynet_layout_with_label_problems_reported(tmp_path):
    from amidlib.data.av_tier import _render, _tone
    from amidlib.data.video.datasets import build_video_datasets
    from amidlib.data.video.inputs import activitynet_table

    db = {"version": "VERSION 1.3", "database": {}}
    spec = [("aaa", "training", ["Surfing"]), ("bbb", "training", ["Knitting"]), ("ccc", "training", ["Surfing"]),
            ("ddd", "validation", ["Knitting"]), ("eee", "validation", ["Surfing", "Knitting"]),
            ("fff", "testing", []), ("ggg", "validation", ["Bowling"])]
    for k, (vid, subset, labels) in enumerate(spec):
        db["database"][vid] = {"subset": subset, "annotations": [{"segment": [0, 1], "label": lab} for lab in labels]}
        rng = np.random.default_rng(k)
        name = f"v_{vid}.mp4" if vid == "bbb" else f"{vid}.mp4"  # both downloader namings
        write_av_clip(tmp_path / "videos" / name, _render(k % 2, rng, 8, 8, 32, 32), 8, _tone(k % 2, rng, 1.0, 16000))
    table, names, problems = activitynet_table(db, tmp_path)
    assert names == ["Knitting", "Surfing"] and sorted(table["video_id"]) == ["aaa", "bbb", "ccc", "ddd"]
    assert table.set_index("video_id").loc["bbb", "relstem"] == "videos/v_bbb"
    assert {(p.file, p.problem) for p in problems} == {("videos/eee", "labels disagree"),
                                                       ("videos/ggg", "class not in training")}
    from amidlib.data.video.clips import ClipSpec

    kw = dict(aux="logmel_stats", clip=ClipSpec(clip_len=4, resize=(16, 16), crop=16), cache_dir=tmp_path / "cache",
              progress=False, expected_rates=(16000,), table_problems=problems)
    with pytest.raises(BadInputError, match="videos/eee: labels disagree"):
        build_video_datasets(table, names, tmp_path, **kw)
    train_ds, test_ds = build_video_datasets(table, names, tmp_path, on_bad="skip", **kw)
    assert (len(train_ds), len(test_ds)) == (3, 1) and train_ds[0][0].shape == (3, 4, 16, 16)
