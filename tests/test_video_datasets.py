"""The video datasets on generated files where the answer is known: K test clips and training windows
inside ActivityNet's annotated segments (frames that show their own index), a video that fails
mid-decode (recorded, replaced by a same-class video, left out of the next build), cached probes,
the frame cache's disk check."""
import json

import numpy as np
import pytest

pytest.importorskip("av")

from amidlib.data import cache as cache_mod
from amidlib.data.cache import CALLS
from amidlib.data.video.clips import ClipSpec
from amidlib.data.video.datasets import build_video_datasets
from amidlib.data.video.inputs import activitynet_table
from amidlib.data.video.loader import VideoLoader, videos_used
from amidlib.testing.indexed_video import read_index, write_indexed_video

FPS, N = 25, 250  # 10 s videos


@pytest.fixture(scope="module")
def anet(tmp_path_factory):
    """ActivityNet-like: flat mp4 (H.264, B-frames) and AVI (XviD-like) files whose frames show their index,
    annotated segments at known times, a PCM/AAC track each."""
    root = tmp_path_factory.mktemp("anet")
    db = {}
    for k in range(6):
        vid = f"vid{k}"
        suffix = ".avi" if k % 2 else ".mp4"
        write_indexed_video(root / "videos" / f"{vid}{suffix}", N, fps=FPS, codec="mpeg4" if k % 2 else "libx264",
                            b_frames=2, gop=100, audio_rate=16000)
        segs = [[4.0, 6.0], [8.0, 9.0]] if k < 4 else [[2.0, 2.2]]  # the last two: 5 frames, shorter than a clip
        db[vid] = {"subset": "training" if k < 4 else "validation", "duration": N / FPS,
                   "annotations": [{"label": f"class{k % 2}", "segment": s} for s in segs]}
    ann = root / "anet.json"
    ann.write_text(json.dumps({"database": db}))
    return root, ann


def _build(root, ann, tmp_path, clip, **kw):
    table, names, problems = activitynet_table(ann, root)
    return build_video_datasets(table, names, root, aux="logmel_stats", clip=clip, cache_dir=tmp_path / "cache",
                                table_problems=problems, progress=False, report_extra=False, **kw)


def test_windows_and_test_clips_lie_inside_the_annotated_segments(anet, tmp_path):
    root, ann = anet
    clip = ClipSpec(clip_len=8, resize=(64, 96), crop=48, test_clips=4)
    train, test = _build(root, ann, tmp_path, clip)
    inside = set(range(100, 150)) | set(range(200, 225))  # [4, 6) s and [8, 9) s at 25 fps
    for i in range(len(train)):
        for seed in range(6):
            got = [read_index(f) for f in train.frames(i, True, np.random.default_rng(seed))]
            assert got == list(range(got[0], got[0] + 8)), got  # consecutive, exact
            assert set(got) <= inside, got
        got = [read_index(f) for f in train.frames(i, False, None)]
        assert len(got) == 4 * 8 and set(got) <= inside
        starts = got[::8]
        assert starts[0] == 100 and starts[-1] == 225 - 8  # spread from the first segment's start to the last's end
    for i in range(len(test)):  # frames [50, 55) are shorter than the 8-frame clip: every clip centred on them
        got = [read_index(f) for f in test.frames(i, False, None)]
        assert got == list(range(48, 56)) * 4, got


def test_k_test_clips_reach_the_student_as_one_mean_feature(anet, tmp_path):
    import torch

    from amidlib.data.video.nets import build_video_nets

    root, ann = anet
    clip = ClipSpec(clip_len=8, resize=(64, 96), crop=48, test_clips=3)
    train, _ = _build(root, ann, tmp_path, clip)
    loader = VideoLoader(train, eval_batch_size=6)  # 6 clips = 2 videos of 3 clips per batch
    b = next(loader.batches(32))
    assert tuple(b.x_target.shape) == (2, 3, 3, 8, 48, 48)
    nets = build_video_nets(2, train.aux_dim, dim=16, student="tiny3d").eval()
    with torch.no_grad():
        s = nets.student(b.x_target)
        each = torch.stack([nets.student(b.x_target[:, k]) for k in range(3)], 1)
    assert torch.allclose(s, each.mean(1), atol=1e-5)
    xb = next(loader.batches(2, torch.Generator().manual_seed(0)))
    assert tuple(xb.x_target.shape) == (2, 3, 8, 48, 48)  # training: one window per video


def test_randomresizedcrop_varies_the_area_and_keeps_the_output_size():
    spec = ClipSpec(clip_len=4, resize=(128, 171), crop=112, train_scale=(0.25, 1.0))
    frames = np.random.default_rng(0).integers(0, 255, (4, 128, 171, 3), dtype=np.uint8)
    boxes = {spec._resized_crop_box(128, 171, np.random.default_rng(s))[2:] for s in range(20)}
    assert len(boxes) > 10
    areas = [h * w / (128 * 171) for h, w in boxes]
    assert min(areas) >= 0.2 and max(areas) <= 1.0
    assert spec.transform(frames, True, np.random.default_rng(1)).shape == (3, 4, 112, 112)


def test_a_video_failing_mid_decode_is_recorded_replaced_and_left_out_next_time(anet, tmp_path, monkeypatch):
    from amidlib.data.video import loader as dmod

    root, ann = anet
    clip = ClipSpec(clip_len=8, resize=(64, 96), crop=48)
    train, test = _build(root, ann, tmp_path, clip, on_bad="skip")
    bad = train.items[1]
    real = dmod.read_frames

    def flaky(path, indices=None, size=None):
        if str(path) == str(bad.path):
            raise dmod.VideoDecodeError(path, "decoding failed (InvalidDataError: corrupt after frame 40)")
        return real(path, indices, size)

    monkeypatch.setattr(dmod, "read_frames", flaky)
    loader = VideoLoader(train)
    seen = []
    for b in loader.batches(2, __import__("torch").Generator().manual_seed(0)):
        seen += b.index.tolist()
    assert sorted(seen) == list(range(len(train)))  # the epoch went on, every index answered
    rec = train.record()["decode_failures"]
    assert [d["file"] for d in rec] == [bad.name] and "corrupt after frame 40" in rec[0]["detail"]
    x, a, y, i = train[1]
    assert y == train.labels[1] and i == 1  # same class, from another video
    before = CALLS["video_decode"]
    train[(1, 7)]
    assert CALLS["video_decode"] - before == 1  # the bad one is not decoded again, only its replacement
    monkeypatch.setattr(dmod, "read_frames", real)
    train2, _ = _build(root, ann, tmp_path, clip, on_bad="skip")  # a resumed / later run
    assert bad.name not in [it.name for it in train2.items]
    assert any(b.file == bad.name and "earlier run" in b.detail for b in train2.bad_inputs.bad)
    used = videos_used(train2, test)
    assert used["used"] == 5 and used["listed"] == 6 and "used 5 of 6 videos" in used["line"]
    with pytest.raises(Exception, match="earlier run"):
        _build(root, ann, tmp_path, clip, on_bad="raise")


def test_mid_decode_failure_with_on_bad_raise_names_the_file(anet, tmp_path, monkeypatch):
    from amidlib.data.video import loader as dmod

    root, ann = anet
    train, _ = _build(root, ann, tmp_path, ClipSpec(clip_len=8, resize=(64, 96), crop=48))
    monkeypatch.setattr(dmod, "read_frames", lambda *a, **k: (_ for _ in ()).throw(dmod.VideoDecodeError(a[0], "boom")))
    with pytest.raises(dmod.VideoDecodeError, match=train.items[0].name.split("/")[-1].split(".")[0]):
        train[0]


def test_probes_are_cached_per_data_root(anet, tmp_path, monkeypatch):
    from amidlib.data.video import inputs as dmod

    root, ann = anet
    clip = ClipSpec(clip_len=8, resize=(64, 96), crop=48)
    _build(root, ann, tmp_path, clip)
    calls = []
    monkeypatch.setattr(dmod, "probe_video", lambda *a, **k: calls.append(a) or (_ for _ in ()).throw(AssertionError))
    train, test = _build(root, ann, tmp_path, clip)  # second build: no file opened for its header
    assert calls == [] and len(train) == 4 and train.items[0].n_frames == N


def test_frame_cache_refuses_to_start_when_the_disk_is_too_small(anet, tmp_path, monkeypatch):
    import shutil
    from collections import namedtuple

    root, ann = anet
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10**12, 10**12 - 10**6, 10**6))
    with pytest.raises(cache_mod.DiskSpaceError, match=r"frame cache of 6 videos .* needs about .* GB .* only 0.0 GB"):
        _build(root, ann, tmp_path, ClipSpec(clip_len=8, resize=(64, 96), crop=48), frame_cache=True)


def test_audio_for_the_extractor_decoded_by_worker_processes_gives_the_same_features(anet, tmp_path):
    root, ann = anet
    clip = ClipSpec(clip_len=8, resize=(64, 96), crop=48)
    inline, _ = _build(root, ann, tmp_path / "a", clip, audio_workers=0)
    pooled, _ = _build(root, ann, tmp_path / "b", clip, audio_workers=2)
    np.testing.assert_allclose(inline.aux, pooled.aux, rtol=1e-6)
    assert inline.video_ids == pooled.video_ids


def test_per_epoch_evaluation_reads_one_centre_clip_and_the_final_metrics_all_k(anet, tmp_path):
    """video_loader: the per-epoch evaluation decodes 1 clip per video (1/K of the decoding); final() all K."""
    from amidlib.core.config import make_config
    from amidlib.data.video.loader import video_loader

    root, ann = anet
    clip = ClipSpec(clip_len=8, resize=(64, 96), crop=48, test_clips=3)
    train, _ = _build(root, ann, tmp_path, clip)
    loader = video_loader(train, make_config(preset="tiny", eval_batch_size=6, num_workers=0, device="cpu"))
    per_epoch = next(loader.batches(32))
    final = next(loader.final().batches(32))
    assert per_epoch.x_target.dim() == 5 and tuple(final.x_target.shape[1:3]) == (3, 3)
    centre = [read_index(f) for f in train.frames(0, False, None)][8:16]  # K = 3: the middle clip
    one = loader.ds.frames(0, False, None)
    assert [read_index(f) for f in one] == centre
    assert loader.final().final() is loader.final() and train.clip.test_clips == 3  # the dataset is not changed


def test_the_free_space_margin_scales_with_the_cache(tmp_path, monkeypatch):
    """A small cache starts on a disk with 1.5 GB free (CI's /tmp once had that); a large one still keeps
    2 GB free beyond its own size."""
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10**12, 0, int(1.5e9)))
    cache_mod.require_free_space(tmp_path, 746_496, "a small frame cache")  # needs 0.75 MB + 64 MB
    with pytest.raises(cache_mod.DiskSpaceError, match=r"a big cache needs about 1.0 GB .*\+ 1.0 GB kept free"):
        cache_mod.require_free_space(tmp_path, 1e9, "a big cache")
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage(10**12, 0, int(51e9)))
    with pytest.raises(cache_mod.DiskSpaceError, match=r"\+ 2.0 GB kept free"):
        cache_mod.require_free_space(tmp_path, 50e9, "a 50 GB cache")
    cache_mod.require_free_space(tmp_path, 48e9, "a 48 GB cache")
