"""Checkpoints are read with ``torch.load(weights_only=True)``: a crafted file cannot run code.

A cluster shares checkpoints (and the run cache) between users and nodes. amidlib writes only
tensors and plain data (the numpy random state as a tensor), so a resumed run loads with
``weights_only=True``; a file whose pickle would import and call something is refused with a clear
error, and the code in it never runs.
"""
from __future__ import annotations

import json
import pickle
import zipfile
from pathlib import Path

import pytest
import torch

from amidlib.core import training
from amidlib.core.experiment import run
from amidlib.core.files import file_digest
from amidlib.data.arrays import make_synthetic, stratified_split


class _RunsCode:
    """Unpickling this calls ``Path.touch(<marker>)``: stands for any code an attacker would run."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.fixture(scope="module")
def data():
    return stratified_split(make_synthetic(n_samples=120, seed=0), test_size=0.5, seed=0)


def test_a_checkpoint_written_by_amidlib_loads_with_weights_only(data, tmp_path):
    train, test = data
    run("amid", train, test, seed=0, preset="tiny", progress=False, epochs=2, warmup_epochs=1,
        checkpoint_dir=str(tmp_path / "ckpt"))
    state = torch.load(tmp_path / "ckpt" / "last.pt", weights_only=True)  # raises if anything but plain data
    assert state["epoch"] == 2 and isinstance(state["rng"]["numpy"]["keys"], torch.Tensor)


def test_a_crafted_checkpoint_is_refused_and_its_code_never_runs(data, tmp_path):
    train, test = data
    marker = tmp_path / "code_ran"
    folder = tmp_path / "ckpt"
    folder.mkdir()
    # a real torch.save file whose payload would call Path.touch(marker) when unpickled
    torch.save({"epoch": 1, "history": [], "payload": _RunsCode(marker)}, folder / "last.pt")
    assert zipfile.is_zipfile(folder / "last.pt")
    # with a seal that matches it (whoever can write the checkpoint can write its seal: the seal catches damage,
    # the loader refuses code)
    (folder / training.CHECKPOINT_SEAL).write_text(json.dumps(file_digest(folder / "last.pt")))
    with pytest.raises(training.UnsafeCheckpointError, match="refusing to load .*last.pt.*could run code"):
        run("amid", train, test, seed=0, preset="tiny", progress=False, epochs=2, warmup_epochs=1,
            checkpoint_dir=str(folder))
    assert not marker.exists(), "the crafted checkpoint's code ran"
    # the old pickle format (torch.save(..., _use_new_zipfile_serialization=False)) is refused as well
    with open(folder / "last.pt", "wb") as f:
        pickle.dump({"epoch": 1, "payload": _RunsCode(marker)}, f)
    with pytest.raises(training.UnsafeCheckpointError):
        training.load_checkpoint_file(folder / "last.pt")
    assert not marker.exists()


def test_no_torch_load_in_amidlib_reads_code(tmp_path):
    """Every torch.load in the package passes weights_only=True (one documented, hash-verified exception
    in the PANNs loader, which falls back only for a file whose sha256 the manifest pins)."""
    root = Path(__file__).resolve().parents[1] / "amidlib"
    unsafe = []
    for path in root.rglob("*.py"):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            if "torch.load(" in line and "weights_only=True" not in line:
                unsafe.append(f"{path.relative_to(root)}:{n}: {line.strip()}")
    allowed = [u for u in unsafe if u.startswith("data/video/audio.py") and "hash verified above" in u]
    assert unsafe == allowed, unsafe
