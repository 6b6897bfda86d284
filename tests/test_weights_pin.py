"""No code runs because a file in the data root vouches for it (PANNs CNN14 checkpoints).

``<data_root>/weights/SHA256SUMS`` sits next to the checkpoints it lists: whoever can write one can
write the other. So a hash from it (or passed as ``sha256=``) only detects a corrupt or wrong
download; the checkpoint is read with ``weights_only=True``, and a full unpickle is allowed only for
a file whose sha256 is pinned in the repository (``data_manifests/pinned_weights.json``).
"""
from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path

import pytest
import torch

from amidlib.data import paper_root
from amidlib.data.video import audio

REPO = Path(__file__).resolve().parents[1]
OFFICIAL = "Cnn14_mAP=0.431.pth"
OFFICIAL_SHA256 = "0dc499e40e9761ef5ea061ffc77697697f277f6a960894903df3ada000e34b31"


class _RunsCode:
    """Unpickling this calls ``Path.touch(<marker>)``: stands for any code an attacker would run."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def _state(emb: int = 512) -> dict:
    torch.manual_seed(0)
    net = audio.CNN14(embedding_dim=emb, base_channels=8)
    return {k: v for k, v in net.state_dict().items() if not k.startswith("logmel.")}


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _data_root(tmp_path: Path, write) -> tuple[Path, Path]:
    """A data root whose weights/SHA256SUMS lists the checkpoint ``write(path)`` wrote."""
    weights = tmp_path / "data" / "weights"
    weights.mkdir(parents=True)
    ckpt = weights / paper_root.CNN14_FILE
    write(ckpt)
    (weights / "SHA256SUMS").write_text(f"{_sha(ckpt)}  {ckpt.name}\n")
    return tmp_path / "data", ckpt


def test_a_crafted_checkpoint_listed_in_sha256sums_is_refused_and_its_code_never_runs(tmp_path):
    marker = tmp_path / "code_ran"
    root, ckpt = _data_root(tmp_path, lambda p: torch.save({"model": _state(), "payload": _RunsCode(marker)}, p))
    listed = paper_root.expected_sha256(root, paper_root.CNN14_FILE)
    assert listed == _sha(ckpt)  # the data root vouches for it: still no permission to unpickle
    with pytest.raises(audio.CheckpointError) as err:
        audio.load_cnn14(ckpt, listed)  # as load_paper_dataset calls it
    msg = str(err.value)
    assert str(ckpt) in msg and listed in msg and "refusing" in msg and "SHA256SUMS" in msg
    assert "pinned_weights.json" in msg
    assert not marker.exists(), "the crafted checkpoint's code ran"
    # the old pickle format is refused as well
    with open(ckpt, "wb") as f:
        pickle.dump({"model": {}, "payload": _RunsCode(marker)}, f)
    with pytest.raises(audio.CheckpointError, match="refusing"):
        audio.load_cnn14(ckpt, _sha(ckpt))
    assert not marker.exists()


def test_a_truncated_checkpoint_listed_in_sha256sums_is_named_corrupt_not_code(tmp_path):
    """A download cut short, whose SHA256SUMS line was made from the cut file: the hash matches, the file cannot be
    read; the message says so (it said "could run code" before)."""
    def truncated(path):
        torch.save({"model": _state()}, path)
        path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    root, ckpt = _data_root(tmp_path, truncated)
    with pytest.raises(audio.CheckpointError) as err:
        audio.load_cnn14(ckpt, paper_root.expected_sha256(root, paper_root.CNN14_FILE))
    msg = str(err.value)
    assert str(ckpt) in msg and "corrupt or incomplete" in msg and "download it again" in msg
    assert "could run code" not in msg and "refusing" not in msg


def test_a_crafted_checkpoint_under_the_official_name_is_refused(tmp_path):
    """The official file name is no permission either: only the pinned bytes are."""
    marker = tmp_path / "code_ran"
    path = tmp_path / OFFICIAL
    torch.save({"model": _state(2048), "payload": _RunsCode(marker)}, path)
    with pytest.raises(audio.CheckpointError, match=r"sha256 mismatch .*" + OFFICIAL_SHA256):
        audio.load_cnn14(path)  # checked against the pin, not loaded
    with pytest.raises(audio.CheckpointError, match="refusing"):
        audio.load_cnn14(path, _sha(path))  # the caller's hash verifies the bytes, it allows no unpickle
    assert not marker.exists()


def test_a_plain_state_dict_checkpoint_loads(tmp_path):
    state = _state()
    root, ckpt = _data_root(tmp_path, lambda p: torch.save({"model": state, "iteration": 3}, p))
    ext = audio.load_cnn14(ckpt, paper_root.expected_sha256(root, paper_root.CNN14_FILE))
    assert (ext.name, ext.dim, ext.weights_sha256) == ("cnn14_emb512", 512, _sha(ckpt))
    torch.testing.assert_close(ext.net.fc1.weight, state["fc1.weight"])


def test_a_wrong_hash_in_sha256sums_is_named(tmp_path):
    root, ckpt = _data_root(tmp_path, lambda p: torch.save({"model": _state()}, p))
    wrong = "ab" * 32
    (root / "weights" / "SHA256SUMS").write_text(f"{wrong}  {ckpt.name}\n")
    with pytest.raises(audio.CheckpointError) as err:
        audio.load_cnn14(ckpt, paper_root.expected_sha256(root, paper_root.CNN14_FILE))
    msg = str(err.value)
    assert "sha256 mismatch" in msg and str(ckpt) in msg and wrong in msg and _sha(ckpt) in msg


def test_the_official_checkpoint_is_pinned_in_the_repository():
    pins = json.loads((REPO / "data_manifests" / "pinned_weights.json").read_text())["checkpoints"]
    assert pins[OFFICIAL]["sha256"] == OFFICIAL_SHA256 and pins[OFFICIAL]["bytes"] == 327428481
    assert pins[OFFICIAL]["md5"] == "541141fa2ee191a88f24a3219fff024e"  # Zenodo's own checksum
    assert audio._pinned_sha256(OFFICIAL) == OFFICIAL_SHA256
    assert audio._pinned_sha256(paper_root.CNN14_FILE) is None  # no published sha256 found for it


def test_only_a_pinned_hash_allows_a_full_unpickle(tmp_path, monkeypatch):
    """The one way to a full unpickle: the file's sha256 equals the repository's pin (stood in for by
    a monkeypatched pin, since the real 327 MB file is not here). A pinned file needs no other hash."""
    marker = tmp_path / "code_ran"
    path = tmp_path / OFFICIAL
    torch.save({"model": _state(2048), "extra": _RunsCode(marker)}, path)
    monkeypatch.setattr(audio, "_pinned_sha256", lambda name: _sha(path) if name == OFFICIAL else None)
    assert audio.load_cnn14(path).dim == 2048
    assert marker.exists()  # unpickled in full: allowed for the pinned bytes only
