"""The paper profile stops early and says exactly what is missing, by path."""
import pytest
import torch

from amidlib.data.paper_root import PaperDataMissing, missing_paper_files, require_paper_run


def test_no_data_root_says_how_to_give_one(monkeypatch):
    monkeypatch.delenv("AMID_DATA_ROOT", raising=False)
    assert "AMID_DATA_ROOT" in missing_paper_files("ucf51", None)[0]


@pytest.mark.parametrize("dataset,expected", [
    ("ucf51", ["ucf51/videos", "Cnn14_emb512_mAP=0.420.pth"]),
    ("activitynet", ["activitynet/videos", "activity_net.v1-3.min.json", "Cnn14"]),
    ("iemocap", ["iemocap/Session1", "iemocap/Session5", "wav2vec2-base", "bert-base-uncased", "densenet121"]),
])
def test_every_missing_item_is_named(tmp_path, dataset, expected):
    missing = "\n".join(missing_paper_files(dataset, tmp_path))
    for item in expected:
        assert item in missing


def test_ccl_features_replace_the_cnn14_checkpoint(tmp_path):
    (tmp_path / "ucf51/videos").mkdir(parents=True)
    assert any("Cnn14" in m for m in missing_paper_files("ucf51", tmp_path))
    (tmp_path / "ucf51/audiocnn14embed512_features").mkdir()
    assert missing_paper_files("ucf51", tmp_path) == []


def test_require_paper_run_names_gpu_and_files(tmp_path, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(PaperDataMissing, match="no CUDA GPU(.|\n)*iemocap/Session1"):
        require_paper_run("iemocap", tmp_path, device="cuda")
    with pytest.raises(ValueError, match="unknown paper dataset 'ucf101'"):
        missing_paper_files("ucf101", tmp_path)


def test_ucf51_from_a_data_root_checks_every_manifest_video(tmp_path):
    """The real loader on the real UCF51 manifest: one video present, the other 6,836 named as missing."""
    import numpy as np

    from amidlib.data.av_tier import write_av_clip
    from amidlib.data.paper_root import load_paper_dataset
    from amidlib.data.video.inputs import BadInputError, manifest_table

    table, _ = manifest_table("ucf51")
    first, second = table.iloc[0], table.iloc[1]
    video = tmp_path / "ucf51/videos" / f"{first.relstem}.avi"
    write_av_clip(video, np.zeros((8, 32, 32, 3), dtype=np.uint8), fps=8, audio=np.zeros(8000, np.float32))
    feature = tmp_path / "ucf51/audiocnn14embed512_features" / f"{first.relstem}.npy"
    feature.parent.mkdir(parents=True)
    np.save(feature, np.zeros(512, np.float32))
    with pytest.raises(BadInputError) as err:
        load_paper_dataset("ucf51", tmp_path, cache_dir=tmp_path / "cache")
    message = str(err.value)
    assert second.video_id in message          # a missing video is named
    assert "6836" in message.replace(",", "")  # and all of them are counted


def test_a_cnn14_checkpoint_needs_its_checksum_recorded(tmp_path):
    (tmp_path / "ucf51/videos").mkdir(parents=True)
    (tmp_path / "weights").mkdir()
    ckpt = tmp_path / "weights/Cnn14_emb512_mAP=0.420.pth"
    ckpt.write_bytes(b"not really a checkpoint")
    missing = missing_paper_files("ucf51", tmp_path)
    assert len(missing) == 1 and "SHA256SUMS" in missing[0] and "sha256sum" in missing[0]
    import hashlib

    (tmp_path / "weights/SHA256SUMS").write_text(f"{hashlib.sha256(ckpt.read_bytes()).hexdigest()}  {ckpt.name}\n")
    assert missing_paper_files("ucf51", tmp_path) == []
