"""The video + audio path on generated miniature files: decoding, sampling, audio, log-mel, CNN14,
checkpoints, the LeakyReLU R(2+1)D-18 student, and a few AMID steps on the generated tier."""
import logging
import math

import numpy as np
import pytest
import soundfile as sf
import torch
from torch import nn

from amidlib.data.av_tier import class_spec, make_av_clips, write_av_clip
from amidlib.data.video import audio, clips
from amidlib.data.video import decode as video
from amidlib.data.video.clips import KINETICS_MEAN, KINETICS_STD, ClipSpec


@pytest.fixture(scope="module")
def tier(tmp_path_factory):
    root = tmp_path_factory.mktemp("av_tier")
    make_av_clips(root, n_classes=3, per_class=4, seconds=1.0, fps=16, size=64, sample_rate=16000, seed=0)
    return root


def a_clip(tier, c=0, k=1):
    name = class_spec(c)["name"]
    return tier / name / f"v_{name}_g{k + 1:02d}_c01.mp4"


# --------------------------------------------------------------------------- decoding
def test_generated_tier_has_ucf_layout_and_manifest(tier):
    import json

    m = json.loads((tier / "manifest.json").read_text())
    assert len(m["videos"]) == 12 and m["counts"] == {"classes": 3, "videos": 12, "train": 9, "test": 3}
    for vid, c, _group in m["videos"]:
        cls = m["classes"][c]["name"]
        assert (tier / cls / f"{vid}.mp4").is_file() and vid.startswith(f"v_{cls}_g")


def test_probe_and_decode_frames(tier):
    path = a_clip(tier)
    info = video.probe_video(path)
    assert (info.n_frames, info.fps, info.width, info.height) == (16, 16.0, 64, 64)
    assert info.has_audio and info.audio_rate == 16000 and info.audio_channels == 1
    frames = video.read_frames(path)
    assert frames.shape == (16, 64, 64, 3) and frames.dtype == np.uint8
    picked = video.read_frames(path, [3, 3, 7, 15])
    assert picked.shape == (4, 64, 64, 3)
    np.testing.assert_array_equal(picked[2], frames[7])
    np.testing.assert_array_equal(picked[0], picked[1])
    assert video.read_frames(path, [0, 5], size=(36, 48)).shape == (2, 36, 48, 3)
    # an index past the end gets the last frame instead of failing
    np.testing.assert_array_equal(video.read_frames(path, [40])[0], frames[15])


def test_the_shape_moves_in_its_class_direction(tier):
    """Class 0 moves right: the bright shape's centroid x advances (mod the wrap)."""
    frames = video.read_frames(a_clip(tier, c=0)).astype(np.float32).mean(-1)
    xs = []
    for f in frames[:4]:
        mask = f > f.mean() + 2 * f.std()
        xs.append(np.angle(np.exp(2j * np.pi * np.nonzero(mask)[1] / 64).mean()))  # circular mean
    step = np.angle(np.exp(1j * np.diff(xs)))
    assert (step > 0).all(), step


def test_clip_sampling_train_random_test_centre():
    assert clips.sample_clip_indices(100, 16, train=False).tolist() == list(range(42, 58))
    rng = np.random.default_rng(0)
    starts = {int(clips.sample_clip_indices(100, 16, train=True, rng=rng)[0]) for _ in range(20)}
    assert len(starts) > 5 and min(starts) >= 0 and max(starts) <= 84
    short = clips.sample_clip_indices(5, 16, train=True, rng=rng)  # short video: spread, frames repeat
    assert len(short) == 16 and short[0] == 0 and short[-1] == 4
    assert (clips.sample_clip_indices(100, 4, stride=3, train=False) == 45 + 3 * np.arange(4)).all()


def test_clip_transform_crop_flip_and_kinetics_normalisation():
    spec = ClipSpec(clip_len=4, resize=(40, 50), crop=32)
    frames = np.full((4, 40, 50, 3), 128, np.uint8)
    frames[:, :, :25] = 0  # left half black
    x = spec.transform(frames, train=False)
    assert x.shape == (3, 4, 32, 32) and x.dtype == torch.float32
    expect = (128 / 255 - KINETICS_MEAN[0]) / KINETICS_STD[0]
    assert math.isclose(x[0, 0, 0, -1].item(), expect, rel_tol=1e-5)  # right edge of the centre crop: grey
    # the same seed gives the same random crop/flip; flips happen for some seeds
    a = spec.transform(frames, True, np.random.default_rng(3))
    b = spec.transform(frames, True, np.random.default_rng(3))
    assert torch.equal(a, b)
    lefts = {float(spec.transform(frames, True, np.random.default_rng(s))[0, 0, 0, 0]) for s in range(12)}
    assert len(lefts) == 2  # the left column is black or grey depending on crop and flip
    with pytest.raises(ValueError, match="crop"):
        ClipSpec(resize=(100, 100), crop=112)


def test_corrupt_or_missing_video_names_the_file(tmp_path):
    bad = tmp_path / "v_Bad_g01_c01.mp4"
    bad.write_bytes(b"\x00not a video" * 100)
    with pytest.raises(video.VideoDecodeError, match="v_Bad_g01_c01.mp4"):
        video.probe_video(bad)
    with pytest.raises(video.VideoDecodeError, match="v_Bad_g01_c01.mp4"):
        video.read_frames(bad)
    with pytest.raises(video.VideoDecodeError, match="not found"):
        video.read_frames(tmp_path / "nope.mp4")


# --------------------------------------------------------------------------- audio
def _peak_hz(wave, rate):
    spec = np.abs(np.fft.rfft(wave * np.hanning(len(wave))))
    return np.fft.rfftfreq(len(wave), 1 / rate)[spec.argmax()]


def test_audio_track_is_extracted_mono_and_resampled(tier):
    path = a_clip(tier, c=2)
    wave, rate = video.read_audio(path)
    assert rate == 16000 and wave.dtype == np.float32 and wave.ndim == 1
    assert abs(len(wave) - 16000) <= 2048  # AAC frames of 1024 samples
    tone = class_spec(2)["tone_hz"]
    assert abs(_peak_hz(wave, rate) - tone) < 0.05 * tone
    up = video.load_audio(path, 32000, expected_rates=(16000, 32000))
    assert abs(len(up) - 2 * len(wave)) <= 2
    assert abs(_peak_hz(up, 32000) - tone) < 0.05 * tone  # the tone survives resampling


def test_stereo_track_becomes_mono(tmp_path):
    path = tmp_path / "stereo.wav"
    t = np.arange(8000) / 16000
    sf.write(path, np.stack([0.5 * np.sin(2 * np.pi * 500 * t), 0.4 - 0.5 * np.sin(2 * np.pi * 500 * t)], 1), 16000)
    wave, rate = video.read_audio(path)
    assert rate == 16000 and wave.shape == (8000,)
    np.testing.assert_allclose(wave, 0.2, atol=1e-4)  # the channels' mean


def test_video_without_audio_track(tmp_path):
    path = write_av_clip(tmp_path / "Silent" / "v_Silent_g01_c01.mp4", np.zeros((4, 16, 16, 3), np.uint8), 8)
    assert not video.probe_video(path).has_audio
    with pytest.raises(video.NoAudioTrackError, match="v_Silent_g01_c01.mp4: .*no audio track"):
        video.read_audio(path)


def test_wav_at_8khz_is_resampled_with_a_note_or_refused_when_strict(tmp_path, caplog):
    path = tmp_path / "low_rate.wav"
    sf.write(path, np.sin(2 * np.pi * 440 * np.arange(8000) / 8000).astype(np.float32), 8000)
    notes = []
    with caplog.at_level(logging.WARNING, logger="amidlib.data.video.decode"):
        out = video.load_audio(path, 32000, expected_rates=(16000, 32000), notes=notes)
    assert len(out) == 32000
    assert notes and "low_rate.wav" in notes[0][0] and "8000 Hz" in notes[0][1]
    assert "low_rate.wav" in caplog.text and "resampled to 32000" in caplog.text
    with pytest.raises(video.SampleRateError, match=r"low_rate\.wav: sample rate 8000 Hz.*strict"):
        video.load_audio(path, 32000, expected_rates=(16000, 32000), strict=True)
    # a rate the caller expects: no note
    notes.clear()
    sf.write(tmp_path / "ok.wav", np.zeros(16000, np.float32), 16000)
    video.load_audio(tmp_path / "ok.wav", 32000, expected_rates=(16000, 32000), notes=notes)
    assert notes == []


def test_logmel_has_panns_shape():
    lm = audio.LogMel()  # PANNs: 32 kHz, n_fft 1024, hop 320, 64 mels, 50-14000 Hz
    assert lm.settings()["hop_length"] == 320 and lm.settings()["n_mels"] == 64
    x = lm(torch.randn(2, 32000) * 0.1)
    assert x.shape == (2, 1, 101, 64) and torch.isfinite(x).all()
    assert lm(torch.zeros(32000)).min().item() == pytest.approx(-100.0)  # 10 log10(amin)


def test_cnn14_forward_on_one_second():
    net = audio.CNN14()  # the full PANNs CNN14: 64 ... 2048 channels, 2048-d embedding
    assert [net.conv_block1.conv1.out_channels, net.conv_block6.conv2.out_channels] == [64, 2048]
    assert 79e6 < sum(p.numel() for p in net.parameters()) < 82e6  # PANNs reports 80.8 M
    net.eval()
    with torch.no_grad():
        emb = net(torch.randn(1, 32000) * 0.1)
    assert emb.shape == (1, 2048) and (emb >= 0).all()
    small = audio.cnn14_untrained(embedding_dim=512, base_channels=8)
    out = small(torch.randn(3, 32000) * 0.1)
    assert out.shape == (3, 512) and not out.requires_grad
    assert all(not p.requires_grad for p in small.parameters())


def _save_panns_checkpoint(path, emb=512):
    torch.manual_seed(0)
    net = audio.CNN14(embedding_dim=emb, base_channels=8)
    state = dict(net.state_dict())
    state = {k: v for k, v in state.items() if not k.startswith("logmel.")}
    state["spectrogram_extractor.stft.conv_real.weight"] = torch.zeros(3)  # torchlibrosa buffers: ignored
    torch.save({"model": state, "iteration": 1}, path)
    return net.eval()


def test_cnn14_checkpoint_is_sha256_checked(tmp_path):
    from amidlib.data.manifests import sha256_file

    path = tmp_path / "Cnn14_emb512_mAP=0.420.pth"
    ref = _save_panns_checkpoint(path)
    digest = sha256_file(path)
    ext = audio.load_cnn14(path, digest)
    assert (ext.name, ext.dim, ext.weights_sha256, ext.sample_rate) == ("cnn14_emb512", 512, digest, 32000)
    wave = torch.randn(1, 32000) * 0.1
    with torch.no_grad():
        torch.testing.assert_close(ext(wave), ref(wave))
    # the sha256 may come from a manifest instead
    assert audio.load_cnn14(path, manifest={"checkpoints": {path.name: {"sha256": digest}}}).dim == 512
    with pytest.raises(audio.CheckpointError, match=r"sha256 mismatch for .*Cnn14_emb512_mAP=0.420.pth"):
        audio.load_cnn14(path, "0" * 64)
    with pytest.raises(audio.CheckpointError, match="no sha256 to verify"):
        audio.load_cnn14(path)
    with pytest.raises(audio.CheckpointError, match="embedding_dim"):
        audio.load_cnn14(path, digest, embedding_dim=2048)
    with pytest.warns(UserWarning, match="unverified"):
        audio.load_cnn14(path, allow_unverified=True)


def test_missing_checkpoint_names_the_path_and_what_to_download(tmp_path):
    path = tmp_path / "weights" / "Cnn14_emb512_mAP=0.420.pth"
    with pytest.raises(audio.CheckpointError) as err:
        audio.load_cnn14(path, "0" * 64)
    msg = str(err.value)
    assert str(path) in msg and "zenodo.org" in msg and "Cnn14_emb512_mAP" in msg and "aux='ccl'" in msg


# --------------------------------------------------------------------------- student
def test_r2plus1d_18_student_has_leaky_relu_only():
    from amidlib.core.models import NEG_SLOPE
    from amidlib.data.video.nets import build_video_nets, r2plus1d_18_student

    net = r2plus1d_18_student()
    kinds = [type(m) for m in net.modules()]
    assert nn.ReLU not in kinds
    leaky = [m for m in net.modules() if isinstance(m, nn.LeakyReLU)]
    assert len(leaky) >= 17 and all(m.negative_slope == NEG_SLOPE for m in leaky)
    assert isinstance(net.fc, nn.Identity)
    net.eval()
    with torch.no_grad():
        s = net(torch.randn(1, 3, 4, 32, 32))
    assert s.shape == (1, 512)
    nets = build_video_nets(n_classes=5, aux_feat_dim=512, dim=512, student="tiny3d")
    out = nets(torch.randn(2, 3, 4, 32, 32), torch.randn(2, 512))
    assert out.s.shape == out.m.shape == out.a.shape == (2, 512) and out.teacher_logits.shape == (2, 5)
    assert nn.ReLU not in [type(m) for m in nets.modules()]


def test_r2plus1d_weights_file_is_checked(tmp_path):
    from amidlib.data.video.nets import r2plus1d_18_student

    with pytest.raises(FileNotFoundError, match="r2plus1d_18-91a641e6.pth"):
        r2plus1d_18_student(tmp_path / "r2plus1d_18-91a641e6.pth")
    fake = tmp_path / "r2plus1d_18-91a641e6.pth"
    fake.write_bytes(b"not the weights")
    with pytest.raises(ValueError, match="sha256 mismatch"):
        r2plus1d_18_student(fake)


# --------------------------------------------------------------------------- the tier trains
def test_generated_tier_trains_a_few_amid_steps(tier):
    from amidlib.core.config import make_config
    from amidlib.core.methods import METHODS
    from amidlib.core.training import train
    from amidlib.data.av_tier import av_tier_datasets
    from amidlib.data.video.loader import VideoLoader
    from amidlib.data.video.nets import build_video_nets

    train_ds, test_ds = av_tier_datasets(tier)
    assert (len(train_ds), len(test_ds), train_ds.aux_dim) == (9, 3, 128)
    train_ds, stats = train_ds.standardized()
    test_ds, _ = test_ds.standardized(stats)
    cfg = make_config(METHODS["amid"].defaults, preset="tiny", epochs=2, warmup_epochs=1, batch_size=4, dim=32,
                      hidden=32, d_hidden=16, progress=False)
    torch.manual_seed(0)
    nets = build_video_nets(train_ds.n_classes, train_ds.aux_dim, dim=32, student="tiny3d", teacher_hidden=32)
    method = METHODS["amid"](nets, cfg, train_ds.n_classes, len(train_ds))
    history = train(method, VideoLoader(train_ds), VideoLoader(test_ds, eval_batch_size=2), cfg, seed=0)
    assert list(history["phase"]) == ["warmup", "distill"]
    last = history.iloc[-1]
    for term in ("loss_cls", "loss_jsd", "loss_mi_s", "loss_mi_a", "loss_adv", "loss_discriminator"):
        assert np.isfinite(last[term]), term
    assert 0 <= last["test_student_top1"] <= 100 and np.isfinite(last["lambda1"])


def test_experiment_run_takes_the_generated_tier_with_the_video_arguments(tier):
    """The public entry point on video: run() with the video nets, the clip loader and the data record
    that the data layer gives for video datasets (run itself does not inspect the dataset)."""
    from amidlib.core.experiment import run
    from amidlib.data.av_tier import av_tier_datasets
    from amidlib.data.video.loader import video_loader, video_nets, video_run_args

    train_ds, test_ds = av_tier_datasets(tier)
    args = video_run_args(train_ds, test_ds)
    assert args["nets_factory"] is video_nets and args["loader_factory"] is video_loader
    with pytest.raises(TypeError, match="video_run_args"):  # run() does not guess what a dataset needs
        run("amid", train_ds, test_ds, seed=0, preset="tiny", epochs=1, progress=False)
    res = run("amid", train_ds, test_ds, seed=0, preset="tiny", epochs=2, warmup_epochs=1, batch_size=4, dim=32,
              hidden=32, d_hidden=16, video_student="tiny3d", progress=False, keep_model=True, **args)
    assert list(res.history["phase"]) == ["warmup", "distill"]
    assert np.isfinite(res.history.iloc[-1]["loss_mi_s"]) and np.isfinite(res.metrics["student_r1"])
    assert res.config["data"]["train"] == train_ds.record()  # the data record (skipped files, resample notes)
    from amidlib.data.video.nets import Tiny3DCNN

    assert any(isinstance(m, Tiny3DCNN) for m in res.model.modules())  # keep_model: the trained video nets
