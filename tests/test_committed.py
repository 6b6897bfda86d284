"""The committed reproduction's run records (amidlib.repro.committed) and the notebooks' explore mode that reads them:
packed deterministically, unpacked once, a damaged record left out; explore mode shows them and trains nothing."""
from __future__ import annotations

import tarfile

import pytest

from amidlib import notebook
from amidlib.repro import committed, profiles
from amidlib.repro.runs import MissingRuns, Study
from amidlib.repro.store import SEAL, seal

RECORD = {"config.json": "{}", "metrics.json": '{"student_top1": 50.0}', "history.csv": "epoch\n0\n",
          "spec.json": "{}"}


def _cache(folder, keys):
    for key in keys:
        run = folder / key
        run.mkdir(parents=True)
        for name, text in RECORD.items():
            (run / name).write_text(text)
        seal(run)
    return folder


def test_pack_and_unpack_give_the_same_records_and_the_same_bytes(tmp_path):
    cache = _cache(tmp_path / "cache", ["b2", "a1"])
    (cache / ".damaged").mkdir()                      # never packed
    _cache(tmp_path / "cache", ["c3"])
    (cache / "c3" / "history.csv").write_text("epoch\n0\n1\n")  # altered after sealing: damaged, left out
    archive = tmp_path / "records.tar.gz"
    assert committed.pack(cache, archive) == 2
    with tarfile.open(archive) as tar:
        assert sorted(tar.getnames()) == sorted(f"{k}/{n}" for k in ("a1", "b2") for n in (*RECORD, SEAL))
        assert {m.mtime for m in tar.getmembers()} == {0}
    out = committed.unpack(archive, tmp_path / "unpacked")
    assert sorted(p.name for p in out.iterdir()) == ["a1", "b2"]
    assert (out / "a1" / "metrics.json").read_text() == RECORD["metrics.json"]
    again = tmp_path / "again.tar.gz"
    committed.pack(out, again)
    assert again.read_bytes() == archive.read_bytes()  # deterministic: an unchanged record packs to the same bytes
    with pytest.raises(FileNotFoundError, match="make reproduce"):
        committed.unpack(tmp_path / "none.tar.gz", tmp_path / "x")


def test_the_committed_records_unpack_once_and_again_when_the_archive_changes(tmp_path):
    (tmp_path / "figures").mkdir()
    assert committed.committed_cache(tmp_path) is None  # no archive: none
    committed.pack(_cache(tmp_path / "c1", ["r1"]), tmp_path / committed.ARCHIVE)
    first = committed.committed_cache(tmp_path)
    assert first == tmp_path / committed.UNPACKED and [p.name for p in first.iterdir()] == ["r1"]
    committed.pack(_cache(tmp_path / "c2", ["r2"]), tmp_path / committed.ARCHIVE)  # a later reproduction
    assert [p.name for p in committed.committed_cache(tmp_path).iterdir()] == ["r2"]


def test_explore_mode_reads_the_committed_records_and_trains_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(profiles, "repo_root", lambda start=None: tmp_path)
    (tmp_path / "figures").mkdir()
    committed.pack(_cache(tmp_path / "c", ["r1"]), tmp_path / committed.ARCHIVE)
    got = notebook.explore_parameters({"profile": "cpu"}, committed_records=True)
    assert got["cache_dir"] == str(tmp_path / committed.UNPACKED)
    assert "cache_dir" not in notebook.explore_parameters({"profile": "ci"}, committed_records=True)  # cpu only
    assert "cache_dir" not in notebook.explore_parameters({"profile": "cpu"})  # train mode: not the records
    prof = profiles.load_profile("ci", out_dir=tmp_path / "o", cache_dir=tmp_path / "empty")
    study = Study(prof, verbose=False, train=False, no_train_hint=notebook.TRAIN_HINT)
    from amidlib.paper.plans import plan_table1

    with pytest.raises(MissingRuns, match=r'run\(s\) are not in the run records .* mode = "train"'):
        study.ensure(c.spec for c in plan_table1(prof))
    assert not any((tmp_path / "empty").glob("*/record.json"))  # nothing was trained
