"""A damaged run record is found, named and trained again; it is never read (amidlib.repro.store).

Each run's record ends with ``record.json``: the size and SHA-256 of its other files. A Study trains two tiny runs,
then each file of one record is damaged as a crash, a full disk or a careless edit would damage it (truncated,
one byte flipped, deleted, the seal itself missing or garbled): a second Study on the same cache reports the
record by path on stderr, moves it aside (kept under ``.damaged/``), trains that run again, and gives the same
runs and histories as the intact cache. Before records were sealed, a truncated ``history.csv`` was read without a
word and wrote wrong numbers into runs.csv and Figs 4-5.
"""
from __future__ import annotations

import shutil

import pandas as pd
import pytest

from amidlib.repro import profiles, runs
from amidlib.repro.store import SEAL, record_problem


def _prof(cache):
    return profiles.load_profile("ci", epochs=2, n_jobs=1, cache_dir=cache, out_dir=cache.parent / "figures")


def _cells(prof):
    main = prof.main
    return [runs.Cell("t", main.key, main.paper, m, runs.make_spec(prof, main, m, 0)) for m in ("baseline", "amid")]


@pytest.fixture(scope="module")
def intact(tmp_path_factory):
    """A cache of two runs, its runs frame and histories."""
    cache = tmp_path_factory.mktemp("intact") / "cache"
    prof = _prof(cache)
    study = runs.Study(prof, verbose=False)
    cells = _cells(prof)
    return cache, study.runs(cells), study.histories(cells)


def _truncate(path):
    path.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 2])


def _flip(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x04  # (a digit becomes another digit: the file still parses)
    path.write_bytes(bytes(data))


DAMAGE = {
    "truncated metrics.json": ("metrics.json", _truncate, "metrics.json differs from the sealed record (size"),
    "truncated history.csv": ("history.csv", _truncate, "history.csv differs from the sealed record (size"),
    "one byte of history.csv flipped": ("history.csv", _flip, "history.csv differs from the sealed record (content"),
    "config.json deleted": ("config.json", lambda p: p.unlink(), "config.json is missing"),
    "no seal (an unfinished or old record)": (SEAL, lambda p: p.unlink(), f"it has no {SEAL}"),
    "a garbled seal": (SEAL, _truncate, f"its {SEAL} is unreadable"),
}


@pytest.mark.parametrize("case", list(DAMAGE))
def test_a_damaged_record_is_named_moved_aside_and_trained_again(intact, tmp_path, capfd, case):
    source, frame, histories = intact
    cache = tmp_path / "cache"
    shutil.copytree(source, cache)
    prof = _prof(cache)
    cells = _cells(prof)
    record = cache / cells[1].spec.key()
    assert record_problem(record) is None
    name, damage, problem = DAMAGE[case]
    damage(record / name)
    assert problem in record_problem(record)

    study = runs.Study(prof, verbose=False)
    got, got_histories = study.runs(cells), study.histories(cells)
    assert study.trained == 1  # that run only; the intact one is read
    err = capfd.readouterr().err
    assert f"damaged run record {record}: {problem}" in err and "the run trains again" in err
    pd.testing.assert_frame_equal(got, frame)  # the same numbers as the intact cache (same seed, same machine)
    pd.testing.assert_frame_equal(got_histories, histories)
    assert record_problem(record) is None  # sealed anew
    kept = list((cache / ".damaged").iterdir())
    assert len(kept) == 1 and kept[0].name.startswith(record.name)  # the damaged record kept, not deleted
    assert (name == SEAL) or not (kept[0] / name).exists() or (kept[0] / name).read_bytes() != \
        (record / name).read_bytes()


def test_an_intact_cache_is_read_and_nothing_trains(intact, tmp_path, capfd):
    source, frame, _ = intact
    cache = tmp_path / "cache"
    shutil.copytree(source, cache)
    prof = _prof(cache)
    study = runs.Study(prof, verbose=False)
    pd.testing.assert_frame_equal(study.runs(_cells(prof)), frame)
    assert study.trained == 0 and "damaged" not in capfd.readouterr().err and not (cache / ".damaged").exists()


# --------------------------------------------------------------------------- checkpoints
@pytest.mark.parametrize("damage", [_truncate, _flip, None], ids=["truncated", "one byte flipped", "no seal"])
def test_a_damaged_checkpoint_is_never_resumed_from(tmp_path, monkeypatch, capfd, damage):
    """A run stopped after epoch 2 left a checkpoint; damaged, it is moved aside (kept) and the run starts over, to
    the numbers of an uninterrupted run. (An intact one resumes: tests/test_experiment.py.)"""
    from amidlib.core import training
    from amidlib.core.experiment import run
    from amidlib.data.arrays import make_synthetic, stratified_split

    train, test = stratified_split(make_synthetic(seed=0), test_size=0.5, seed=0)
    kw = dict(seed=0, preset="tiny", progress=False, epochs=3, warmup_epochs=1)
    whole = run("amid", train, test, **kw)
    real_save = training.save_checkpoint

    def crash_after_epoch_2(folder, *args, **kwargs):
        path = real_save(folder, *args, **kwargs)
        if args[3] == 2:
            raise KeyboardInterrupt("simulated crash")
        return path

    monkeypatch.setattr(training, "save_checkpoint", crash_after_epoch_2)
    with pytest.raises(KeyboardInterrupt):
        run("amid", train, test, checkpoint_dir=str(tmp_path / "ckpt"), **kw)
    monkeypatch.setattr(training, "save_checkpoint", real_save)
    ckpt = tmp_path / "ckpt" / "last.pt"
    assert training.checkpoint_problem(ckpt) is None
    if damage is None:
        (tmp_path / "ckpt" / training.CHECKPOINT_SEAL).unlink()
    else:
        damage(ckpt)
    assert training.checkpoint_problem(ckpt) is not None
    resumed = run("amid", train, test, checkpoint_dir=str(tmp_path / "ckpt"), **kw)
    err = capfd.readouterr().err
    assert f"damaged checkpoint {ckpt}" in err and "the run starts from epoch 0" in err
    pd.testing.assert_frame_equal(resumed.history, whole.history)
    assert len(list((tmp_path / "ckpt").glob("last.pt.damaged.*"))) == 1  # kept beside, not deleted
    assert training.checkpoint_problem(ckpt) is None  # the finished run's last checkpoint, sealed
