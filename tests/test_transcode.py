"""Seekable copies (python -m amidlib.data.video.transcode): frame-exact, atomic, resumable, and read by
the data path through ``frames_root``."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from amidlib.data.video.decode import read_frames
from amidlib.data.video.transcode import MARKER, TranscodeSettings, main, transcode_folder
from amidlib.testing.indexed_video import read_index, write_indexed_video


@pytest.fixture(scope="module")
def avis(tmp_path_factory):
    """UCF-like AVIs (XviD-like mpeg4, B-frames, one key frame) whose frames show their index, and one
    corrupt file."""
    root = tmp_path_factory.mktemp("avis")
    for c, n in (("ClassA", 180), ("ClassB", 97)):
        write_indexed_video(root / c / f"v_{c}_g01_c01.avi", n, codec="mpeg4", b_frames=2, gop=250,
                            height=120, width=160)
    (root / "ClassB" / "v_ClassB_g02_c01.avi").write_bytes(b"RIFF" + b"\0" * 400)
    return root


def test_copies_are_frame_exact_and_a_bad_source_is_named(avis, tmp_path):
    dst = tmp_path / "seekable"
    summary = transcode_folder(avis, dst, n_workers=2, progress=False)
    assert summary["videos"] == 3 and summary["written"] == 2
    assert list(summary["failed"]) == ["ClassB/v_ClassB_g02_c01.mp4"]
    assert json.loads((dst / MARKER).read_text())["settings"] == vars(TranscodeSettings())
    assert 0 < summary["bytes_copies"] and summary["frames_written"] == 180 + 97
    copy = dst / "ClassA/v_ClassA_g01_c01.mp4"
    for start in (0, 41, 100, 164):  # windows before and after the point where read_frames starts seeking
        frames = read_frames(copy, range(start, start + 16), size=(128, 171))
        assert frames.shape == (16, 128, 171, 3)
        assert [read_index(f, width=160) for f in frames] == list(range(start, start + 16))
    assert not list(dst.rglob("*.tmp"))  # nothing half-written left


def test_a_second_run_keeps_what_is_there_and_the_command_reports_failures(avis, tmp_path, capsys):
    dst = tmp_path / "seekable"
    transcode_folder(avis, dst, progress=False)
    again = transcode_folder(avis, dst, progress=False)
    assert again["kept"] == 2 and again["written"] == 0  # the corrupt one is tried again, and fails again
    assert main([str(avis), str(dst), "--workers", "1"]) == 1
    out = capsys.readouterr().out
    assert "failed: ClassB/v_ClassB_g02_c01.mp4" in out and "GiB of copies" in out


def test_the_data_path_reads_clips_from_the_copies(tmp_path):
    from amidlib.data.av_tier import av_tier_datasets, make_av_clips

    root = tmp_path / "tier"
    make_av_clips(root, n_classes=2, per_class=4, seconds=2.0, seed=0)
    with pytest.raises(FileNotFoundError, match="not a folder of seekable copies"):
        av_tier_datasets(root, cache_dir=tmp_path / "cache", frames_root=tmp_path / "nothing_here")
    dst = tmp_path / "seekable"
    transcode_folder(root, dst, settings=TranscodeSettings(height=48, width=64), progress=False)
    plain, _ = av_tier_datasets(root, cache_dir=tmp_path / "cache")
    train, _ = av_tier_datasets(root, cache_dir=tmp_path / "cache", frames_root=dst)
    assert all(str(it.path).startswith(str(dst)) and it.path.suffix == ".mp4" for it in train.items)
    assert [it.n_frames for it in train.items] == [it.n_frames for it in plain.items]
    np.testing.assert_array_equal(train.aux, plain.aux)  # audio features from the originals (the cache)
    assert train.record()["frames_root"] == {"dir": str(dst), "settings": {**vars(TranscodeSettings()), "height": 48,
                                                                          "width": 64}}
    assert "frames_root" not in plain.record()
    x, x_plain = train[(0, 7)][0], plain[(0, 7)][0]
    assert x.shape == x_plain.shape and torch.isfinite(x).all()
    assert (x - x_plain).abs().mean() < 0.25  # the same clip, through a lossy copy at a smaller scale

    victim = next(dst.rglob("*.mp4"))
    victim.unlink()
    with pytest.raises(Exception, match="missing seekable copy"):
        av_tier_datasets(root, cache_dir=tmp_path / "cache", frames_root=dst)


def test_the_frames_root_parameter_reaches_ucf51s_loader_options():
    from amidlib.repro.profiles import load_profile

    prof = load_profile("paper", frames_root="/data/ucf51/videos_seekable", on_bad="raise")
    assert prof.config.dataset("ucf51").options == {"on_bad": "raise", "frames_root": "/data/ucf51/videos_seekable"}
    assert "frames_root" not in prof.config.dataset("activitynet").options
    assert "frames_root" not in load_profile("paper").config.dataset("ucf51").options
