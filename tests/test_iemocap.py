"""IEMOCAP path on a generated miniature tree with tiny random-initialised extractors (no real data,
no downloaded weights): parsing, label merging, exclusions, count checks, bad inputs, feature
extraction and caching, leave-one-session-out folds, the GRU student, and a short AMID run."""
import math
import shutil

import numpy as np
import pytest
import soundfile as sf
import torch

from amidlib.data import iemocap as I
from amidlib.data.cache import CALLS
from amidlib.data.iemocap.extractors import (
    BertTextExtractor,
    DenseNetFrameExtractor,
    Wav2Vec2Extractor,
    WeightsMismatchError,
    WeightsNotFoundError,
    densenet_num_features,
)
from amidlib.data.video.inputs import BadInputError
from amidlib.testing.iemocap import make_mini_iemocap, mini_vocab

TINY_DENSENET = {"growth_rate": 8, "block_config": (1, 1, 1, 1), "num_init_features": 16}
N_FRAMES = 4


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: threads only add overhead on 2 shared cores
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    root = tmp_path_factory.mktemp("iemocap") / "IEMOCAP_full_release"
    return make_mini_iemocap(root, utterances_per_session=6, excluded_per_session=2, seed=0)


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """Tiny random-initialised wav2vec 2.0, BERT (with its own vocab) and DenseNet, saved locally."""
    from torchvision.models import DenseNet
    from transformers import BertConfig, BertModel, BertTokenizer, Wav2Vec2Config, Wav2Vec2Model

    d = tmp_path_factory.mktemp("weights")
    torch.manual_seed(0)
    w2v = d / "wav2vec2-tiny"
    Wav2Vec2Model(Wav2Vec2Config(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                                 conv_dim=(16, 16), conv_stride=(5, 4), conv_kernel=(10, 4),
                                 num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2)).save_pretrained(w2v)
    bert = d / "bert-tiny"
    bert.mkdir()
    vocab = mini_vocab()
    (bert / "vocab.txt").write_text("\n".join(vocab) + "\n")
    BertTokenizer(str(bert / "vocab.txt")).save_pretrained(bert)
    BertModel(BertConfig(vocab_size=len(vocab), hidden_size=24, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=48, max_position_embeddings=64)).save_pretrained(bert)
    dn = d / "densenet-tiny.pth"
    torch.save(DenseNet(**TINY_DENSENET).state_dict(), dn)
    return {"audio": w2v, "text": bert, "video": dn}


def extractors(models):
    with pytest.warns(UserWarning, match="unverified"):
        video = DenseNetFrameExtractor(models["video"], arch=TINY_DENSENET, image_size=32, allow_unverified=True)
    return {"audio": Wav2Vec2Extractor(models["audio"]), "text": BertTextExtractor(models["text"]), "video": video}


@pytest.fixture(scope="module")
def extracted(mini, models, tmp_path_factory):
    cache = tmp_path_factory.mktemp("cache")
    index = I.scan_iemocap(mini["root"], expected=mini["counts"])
    before = CALLS.copy()
    feats = I.extract_iemocap_features(index, cache, **extractors(models), n_frames=N_FRAMES, progress=False)
    return {"index": index, "features": feats, "cache": cache, "calls": CALLS - before}


# --------------------------------------------------------------------------- parsing
def test_parsers_read_the_real_line_formats(tmp_path):
    emo = tmp_path / "emo.txt"
    emo.write_text("% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n\n"
                   "[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]\n"
                   "C-E2:\tNeutral;\t()\nA-E3:\tval 3; act 2; dom  2;\t()\n\n"
                   "[10.0100 - 11.3925]\tSes01F_impro01_M001\texc\t[3.0000, 3.5000, 2.0000]\n"
                   "[broken line\n")
    rows, unparsed = I.parse_emo_evaluation(emo)
    assert [(r["utterance"], r["start"], r["end"], r["label"]) for r in rows] == [
        ("Ses01F_impro01_F000", 6.2901, 8.2357, "neu"), ("Ses01F_impro01_M001", 10.01, 11.3925, "exc")]
    assert rows[1]["vad"] == (3.0, 3.5, 2.0) and unparsed == [(8, "[broken line")]
    tr = tmp_path / "tr.txt"
    tr.write_text("Ses01F_impro01_F000 [006.2901-008.2357]: Excuse me.\n"
                  "Ses01F_impro01_MXX0 [009.0000-009.5000]: [LAUGHTER]\n\n"
                  "Ses01F_script01_1_M012 [100.0000-101.5000]: Do you have your forms?\n")
    rows, other = I.parse_transcription(tr)
    assert [(r["utterance"], r["start"], r["text"]) for r in rows] == [
        ("Ses01F_impro01_F000", 6.2901, "Excuse me."), ("Ses01F_script01_1_M012", 100.0, "Do you have your forms?")]
    assert other == [(2, "Ses01F_impro01_MXX0 [009.0000-009.5000]: [LAUGHTER]")]
    # frames at the centres of n equal parts of the window, clipped to the last frame
    assert I.utterance_frame_indices(1.0, 2.0, 10, 100, 4).tolist() == [11, 13, 16, 18]
    assert I.utterance_frame_indices(9.5, 12.0, 10, 100, 2).tolist() == [99, 99]


def test_scan_merges_happy_and_excited_and_counts_exclusions(mini):
    index = I.scan_iemocap(mini["root"], expected=mini["counts"])
    table = index.table()
    assert len(index) == mini["counts"]["utterances"] == 30
    assert sorted(table["session"].unique()) == [1, 2, 3, 4, 5]
    assert set(table.loc[table.source_label.isin(["hap", "exc"]), "class_name"]) == {"happy"}
    assert set(table["source_label"]) == {"neu", "hap", "exc", "ang", "sad"}
    assert table.groupby("session")["class_name"].nunique().eq(4).all()   # every class in every session
    assert index.excluded == mini["excluded"] and {"fru", "xxx"} <= set(index.excluded)
    assert len(index.excluded_ids) == sum(mini["excluded"].values()) == 10
    assert not set(index.excluded_ids) & set(table["utterance"])
    assert index.counts() == index.found == mini["counts"]
    gen = {u["utterance"]: u for u in mini["utterances"]}
    for u in index.utterances:
        assert u.text == gen[u.utterance]["text"] and u.label == gen[u.utterance]["label"]
        assert u.wav.is_file() and u.avi.is_file() and u.end > u.start
    assert not index.report.bad
    assert any("without an utterance id" in n.problem for n in index.report.notes)   # the ..._MXX0 lines


def test_counts_are_checked_against_the_manifest(mini):
    with pytest.raises(I.CountMismatchError) as err:
        I.scan_iemocap(mini["root"])   # default: data_manifests/iemocap.json (5,531 utterances)
    msg = str(err.value)
    assert "total: expected 5531, found 30" in msg and "Session1: expected 1085, found 6" in msg
    assert "allow_mismatch=True" in msg and "fru 3" in msg
    index = I.scan_iemocap(mini["root"], allow_mismatch=True)
    assert len(index) == 30 and "Session5: expected 1241, found 6" in index.mismatches
    rec = index.as_record()
    assert rec["mismatches"] == index.mismatches and rec["allow_mismatch"] and rec["excluded"] == mini["excluded"]
    assert "differences from the expected counts" in index.summary()


# --------------------------------------------------------------------------- features
def test_features_have_the_right_shapes_and_are_extracted_once(extracted, models):
    feats, calls = extracted["features"], extracted["calls"]
    n = 30
    dn_dim = densenet_num_features(**TINY_DENSENET)
    assert feats.modalities["audio"].shape == (n, 32) and feats.modalities["text"].shape == (n, 24)
    assert feats.modalities["visual"].shape == (n, dn_dim)
    assert feats.modalities["visual_frames"].shape == (n, N_FRAMES * dn_dim) and feats.frame_dim == dn_dim
    frames = feats.modalities["visual_frames"].reshape(n, N_FRAMES, dn_dim)
    np.testing.assert_allclose(frames.mean(1), feats.modalities["visual"], rtol=1e-6)
    assert all(np.isfinite(v).all() for v in feats.modalities.values())
    assert feats.ids == [u.utterance for u in extracted["index"].utterances]
    assert feats.sessions.tolist() == [u.session for u in extracted["index"].utterances]
    # each extractor ran once per utterance; each dialog video was decoded once for all its utterances
    assert calls["wav2vec2"] == calls["bert"] == calls["densenet"] == calls["audio_decode"] == n
    assert calls["video_decode"] == len({u.avi for u in extracted["index"].utterances})
    # second call, fresh extractor objects: everything comes from the cache; no model is even loaded
    ext = extractors(models)
    before = CALLS.copy()
    again = I.extract_iemocap_features(extracted["index"], extracted["cache"], **ext, n_frames=N_FRAMES, progress=False)
    assert CALLS - before == {} and not any(e.loaded for e in ext.values())
    for k, v in feats.modalities.items():
        np.testing.assert_array_equal(again.modalities[k], v)
    assert set(feats.extractors) == {"audio", "text", "visual_frames"}
    assert feats.extractors["audio"]["weights_sha256"] == ext["audio"].weights_sha256


def test_features_save_and_load_round_trip(extracted, tmp_path):
    feats = extracted["features"]
    back = I.IemocapFeatures.load(feats.save(tmp_path / "feats.npz"))
    assert back.ids == feats.ids and back.n_frames == N_FRAMES and back.class_names == I.CLASS_NAMES
    np.testing.assert_array_equal(back.sessions, feats.sessions)
    for k, v in feats.modalities.items():
        np.testing.assert_array_equal(back.modalities[k], v)


def test_folds_are_leave_one_session_out(extracted):
    feats = extracted["features"]
    for setup, aux in (("A-V", ["audio"]), ("L-V", ["text"]), ("AL-V", ["audio", "text"])):
        folds = I.iemocap_folds(feats, setup)
        assert len(folds) == 5
        for k, (train, test) in enumerate(folds, start=1):
            assert train.target == ["visual"] and train.auxiliary == aux and train.n_classes == 4
            assert len(train) + len(test) == 30 and len(test) == 6
            assert f"Session{k}" in test.name
    # fold k tests exactly on session k (rows identified by their features)
    ds = feats.dataset("AL-V")
    for k, (train, test) in enumerate(I.iemocap_folds(feats, "AL-V"), start=1):
        np.testing.assert_array_equal(test.modalities["audio"], ds.modalities["audio"][feats.sessions == k])
        np.testing.assert_array_equal(train.modalities["audio"], ds.modalities["audio"][feats.sessions != k])
    rnn_train, _ = I.iemocap_folds(feats, "AL-V", student="rnn")[0]
    assert rnn_train.target == ["visual_frames"]
    with pytest.raises(ValueError, match="unknown setup"):
        feats.dataset("V-V")


# --------------------------------------------------------------------------- bad input
def _rewrite(path, fn):
    path.write_text(fn(path.read_text()))


def test_bad_inputs_are_reported_by_name(tmp_path, models):
    root = tmp_path / "IEMOCAP_full_release"
    info = make_mini_iemocap(root, utterances_per_session=5, excluded_per_session=1, seed=1)
    kept = {s: [u["utterance"] for u in info["utterances"] if u["session"] == s and u["label"] >= 0]
            for s in range(1, 6)}
    # 1: a transcription line without an EmoEvaluation label: never used, so a note, not bad
    _rewrite(root / "Session1/dialog/transcriptions/Ses01F_impro01.txt",
             lambda t: t + "Ses01F_impro01_F099 [020.0000-021.0000]: Okay i see.\n")
    # 2: a labelled utterance without a transcription line
    no_text = kept[2][0]
    _rewrite(root / "Session2/dialog/transcriptions/Ses02F_impro01.txt",
             lambda t: "".join(line for line in t.splitlines(True) if not line.startswith(no_text)))
    # 3: a missing wav and an unreadable wav
    missing, garbage = kept[3][0], kept[3][1]
    (root / f"Session3/sentences/wav/Ses03F_impro01/{missing}.wav").unlink()
    (root / f"Session3/sentences/wav/Ses03F_impro01/{garbage}.wav").write_bytes(b"RIFF\x00\x00 not a wav at all")
    # 4: a wav at 8 kHz: resampled and recorded, not bad
    low = kept[2][1]
    sf.write(str(root / f"Session2/sentences/wav/Ses02F_impro01/{low}.wav"),
             (0.2 * np.sin(np.arange(4000) / 5)).astype(np.float32), 8000)
    # 5: a corrupt dialog video: every utterance of the dialog is reported
    (root / "Session5/dialog/avi/DivX/Ses05F_impro01.avi").write_bytes(b"\x00" * 2048)

    with pytest.raises(BadInputError) as err:
        I.scan_iemocap(root, expected=info["counts"])
    msg = str(err.value)
    assert "Ses01F_impro01_F099" not in {b.file for b in err.value.report.bad}
    assert any(n.file == "Ses01F_impro01_F099" and "unused" in n.problem for n in err.value.report.notes)
    assert f"{no_text}: no transcription" in msg
    assert f"{missing}: missing wav" in msg and f"{garbage}: unreadable wav" in msg
    assert all(f"{u}: corrupt video" in msg for u in kept[5]) and "Ses05F_impro01.avi" in msg
    assert low not in {b.file for b in err.value.report.bad}
    assert "on_bad='skip'" in msg

    index = I.scan_iemocap(root, expected=info["counts"], on_bad="skip")
    skipped = set(index.report.bad_files)
    assert skipped == {no_text, missing, garbage, *kept[5]}
    usable = {u.utterance for u in index.utterances}
    assert not usable & skipped and low in usable and len(usable) == 25 - 1 - 2 - 5
    assert any(n.file == low and "8000 Hz" in n.detail for n in index.report.notes)
    rec = index.as_record()["bad_inputs"]
    assert rec["on_bad"] == "skip" and rec["n_skipped"] == len(skipped)
    assert {s["file"] for s in rec["skipped"]} == skipped

    # a video that breaks after the scan fails at extraction: reported by utterance, then skipped
    shutil.copy(root / "Session5/dialog/avi/DivX/Ses05F_impro01.avi",
                root / "Session4/dialog/avi/DivX/Ses04F_impro01.avi")
    ext = extractors(models)
    feats = I.extract_iemocap_features(index, tmp_path / "cache", audio=ext["audio"], video=ext["video"],
                                       n_frames=2, progress=False)
    failed = {b.file for b in feats.report.bad}
    assert failed == set(kept[4]) and all("visual_frames extraction failed" in b.problem for b in feats.report.bad)
    assert low in feats.ids and not set(feats.ids) & (failed | skipped) and "text" not in feats.modalities
    assert feats.record["bad_inputs"]["n_skipped"] == len(skipped)
    with pytest.raises(BadInputError, match="Ses04F_impro01"):
        I.extract_iemocap_features(index, tmp_path / "cache", audio=ext["audio"], video=ext["video"],
                                   n_frames=2, on_bad="raise", progress=False)


def test_missing_or_wrong_weights_name_the_path(tmp_path, models, extracted):
    with pytest.raises(WeightsNotFoundError, match=r"nowhere.*config.json.*save_pretrained"):
        Wav2Vec2Extractor(tmp_path / "nowhere")
    no_vocab = tmp_path / "bert-no-vocab"
    shutil.copytree(models["text"], no_vocab)
    for name in ("vocab.txt", "tokenizer.json"):
        (no_vocab / name).unlink(missing_ok=True)
    with pytest.raises(WeightsNotFoundError, match="bert-no-vocab.*tokenizer"):
        BertTextExtractor(no_vocab)
    with pytest.raises(WeightsNotFoundError, match=r"dn121\.pth.*densenet121-a639ec97\.pth"):
        DenseNetFrameExtractor(tmp_path / "dn121.pth")
    with pytest.raises(WeightsMismatchError, match="sha256 mismatch"):
        DenseNetFrameExtractor(models["video"], sha256="0" * 64, arch=TINY_DENSENET)
    with pytest.raises(WeightsMismatchError, match="no sha256 to verify"):
        DenseNetFrameExtractor(models["video"], arch=TINY_DENSENET)
    with pytest.raises(ValueError, match="video"):
        I.extract_iemocap_features(None, tmp_path, audio=None, video=None)
    # weights that do not fit the architecture: one clear error, not a failure of every utterance
    with pytest.warns(UserWarning, match="unverified"):
        other = DenseNetFrameExtractor(models["video"], arch={**TINY_DENSENET, "growth_rate": 4}, allow_unverified=True)
    with pytest.raises(WeightsMismatchError, match="does not fit"):
        I.extract_iemocap_features(extracted["index"], tmp_path / "cache", video=other, progress=False)


def test_densenet121_checkpoint_with_torchvision_keys_loads(tmp_path):
    """A densenet121 state dict in torchvision's released form (old ``norm.1`` keys, a name carrying its
    sha256 prefix) loads and gives 1024-d features per frame."""
    from torchvision.models import densenet121

    from amidlib.data.manifests import sha256_file

    state = densenet121().state_dict()
    old = {k.replace("denselayer1.norm1.", "denselayer1.norm.1.")
           .replace("denselayer1.conv2.", "denselayer1.conv.2."): v
           for k, v in state.items() if not k.endswith("num_batches_tracked")}   # as in torchvision's file
    tmp = tmp_path / "tmp.pth"
    torch.save(old, tmp)
    path = tmp.rename(tmp_path / f"densenet121-{sha256_file(tmp)[:8]}.pth")
    ext = DenseNetFrameExtractor(path, image_size=64)   # verified by the hash prefix in its name
    frames = np.random.default_rng(0).integers(0, 255, (2, 48, 80, 3), dtype=np.uint8)
    out = ext.embed_frames(frames)
    assert ext.dim == 1024 and out.shape == (2, 1024) and np.isfinite(out).all() and (out >= 0).all()
    wrong = tmp_path / "densenet121-deadbeef.pth"
    shutil.copy(path, wrong)
    with pytest.raises(WeightsMismatchError, match="deadbeef"):
        DenseNetFrameExtractor(wrong)


# --------------------------------------------------------------------------- students and training
def test_frame_gru_student():
    gru = I.FrameGRU(frame_dim=5, n_frames=3, dim=7, hidden=6)
    x = torch.randn(4, 3, 5)
    out = gru(x)
    assert out.shape == (4, 7)
    torch.testing.assert_close(gru(x.reshape(4, 15)), out)
    assert gru(x, lengths=torch.tensor([3, 2, 1, 3])).shape == (4, 7)
    with pytest.raises(ValueError, match="15 columns"):
        gru(torch.randn(4, 14))
    nets = I.build_rnn_nets(n_frames=3, frame_dim=5, aux_dim=4, n_classes=4, dim=7, hidden=8)
    reps = nets(x.reshape(4, 15), torch.randn(4, 4))
    assert reps.s.shape == reps.m.shape == reps.a.shape == (4, 7) and reps.teacher_logits.shape == (4, 4)


def test_amid_end_to_end_on_extracted_features(extracted):
    """The five folds of a setup through experiment.run (pooled MLP student), and the paper's GRU
    student through run with the IEMOCAP nets factory (the arguments the data layer hands Study)."""
    from amidlib.core.experiment import run

    feats = extracted["features"]
    folds = I.iemocap_folds(feats, "AL-V")
    results = [run("amid", train, test, 0, "tiny", epochs=3, warmup_epochs=1, progress=False) for train, test in folds]
    assert [r.config["test"]["n"] for r in results] == [6] * 5
    wa, ua = np.mean([r.metrics["wa"] for r in results]), np.mean([r.metrics["ua"] for r in results])
    assert math.isfinite(wa) and math.isfinite(ua) and 0 <= ua <= 100
    assert results[0].config["train"]["auxiliary"] == ["audio", "text"]
    train, test = I.iemocap_folds(feats, "A-V", student="rnn")[0]
    res = run("amid", train, test, 0, "tiny", epochs=2, warmup_epochs=1, dim=16, hidden=32, progress=False,
              **I.gru_run_args(feats.n_frames, feats.frame_dim))
    assert math.isfinite(res.metrics["wa"]) and math.isfinite(res.metrics["ua"])
    assert res.config["student"] == "FrameGRU" and len(res.history) == 2
    assert res.config["n_frames"] == N_FRAMES and res.config["frame_dim"] == feats.frame_dim
    with pytest.raises(ValueError, match="n_frames\\*frame_dim"):  # the GRU reads the frame sequences only
        run("amid", *I.iemocap_folds(feats, "A-V")[0], 0, "tiny", epochs=1, progress=False,
            **I.gru_run_args(feats.n_frames, feats.frame_dim))
