"""The batched engine (amidlib.core.batched): K seeds trained as one model are the K lone runs, up to float
rounding. Each seed keeps its initial weights, batch order, dropout masks and λ; only batched matrix
products round differently, so losses agree to float tolerance over the first epochs."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from amidlib.core import experiment
from amidlib.core.config import make_config
from amidlib.core.methods import METHODS
from amidlib.data import load_embedded

KW = dict(preset="tiny", epochs=3, warmup_epochs=1, progress=False)


@pytest.fixture(scope="module")
def data():
    return load_embedded(("fou",), ("fac",))


def _assert_same_run(a, b):
    """A batched seed ``b`` is its lone run ``a``: the same weights, batches and dropout masks, so the same
    losses to float tolerance, test curves and final accuracies within rounding."""
    cols = _loss_columns(a.history)
    np.testing.assert_allclose(b.history[cols].to_numpy(float), a.history[cols].to_numpy(float), rtol=2e-4, atol=1e-5)
    test_cols = [c for c in a.history.columns if c.startswith("test_")]
    np.testing.assert_allclose(b.history[test_cols].to_numpy(float), a.history[test_cols].to_numpy(float),
                               rtol=1e-3, atol=0.2)
    for key in ("student_top1", "teacher_top1"):
        assert b.metrics[key] == pytest.approx(a.metrics[key], abs=0.5, nan_ok=True)


def _loss_columns(history: pd.DataFrame) -> list[str]:
    return [c for c in history.columns if c.startswith("loss_") or c in ("mi_s_value", "mi_a_value", "lambda1")]


@pytest.mark.parametrize("method,overrides", [
    ("amid", {}), ("amid", {"use_d2": False}), ("amid", {"mi_loss": "nce"}), ("amid", {"fixed_teacher": True}),
    ("ccl", {}), ("baseline", {}), ("teacher", {}), ("gmc", {}),
])
def test_a_batched_seed_is_the_lone_run(data, method, overrides):
    train, test = data
    seeds = [0, 3]
    alone = [experiment.run(method, train, test, seed=s, **KW, **overrides) for s in seeds]
    batched = experiment.run_seeds(method, train, test, seeds=seeds, **KW, **overrides)
    for a, b in zip(alone, batched, strict=True):
        assert b.config["engine"].startswith("batched") and a.config["engine"] == "single"
        assert _loss_columns(a.history) and list(b.history.columns) == list(a.history.columns)
        _assert_same_run(a, b)


def test_the_seeds_are_not_one_run(data):
    """A check that can fail: different seeds must give different losses (the stack is not one model)."""
    train, test = data
    r0, r1 = experiment.run_seeds("amid", train, test, seeds=[0, 1], **KW)
    assert not np.allclose(r0.history["loss_total"], r1.history["loss_total"])


def test_a_seed_does_not_depend_on_its_batch_mates(data):
    train, test = data
    a = experiment.run_seeds("amid", train, test, seeds=[0, 1], **KW)[0]
    b = experiment.run_seeds("amid", train, test, seeds=[0, 1, 2], **KW)[0]
    cols = _loss_columns(a.history)
    np.testing.assert_allclose(a.history[cols].to_numpy(float), b.history[cols].to_numpy(float), rtol=1e-5, atol=1e-6)


def test_unbatchable_methods_run_one_after_another(data):
    train, test = data
    cfg = make_config(METHODS["crd"].defaults, preset="tiny")
    assert not experiment.batchable("crd", cfg)
    assert not experiment.batchable("amid",
                                    make_config(METHODS["amid"].defaults, preset="tiny", checkpoint_dir="/tmp/x"))
    runs = experiment.run_seeds("crd", train, test, seeds=[0], **{**KW, "epochs": 2})
    alone = experiment.run("crd", train, test, seed=0, **{**KW, "epochs": 2})
    assert runs[0].config["engine"] == "single"
    pd.testing.assert_frame_equal(runs[0].history, alone.history)


@pytest.mark.parametrize("batched", [False, True])
def test_evaluating_only_after_the_last_epoch_changes_nothing_in_training(data, batched):
    """``eval_every=0`` (the runs whose curves no figure draws): the same losses and final metrics, bit for
    bit, as evaluating every epoch; only the per-epoch test columns are missing before the last epoch."""
    train, test = data
    go = ((lambda **kw: experiment.run_seeds("amid", train, test, seeds=[0, 2], **kw)) if batched
          else (lambda **kw: [experiment.run("amid", train, test, seed=0, **kw)]))
    every, final = go(**KW), go(**KW, eval_every=0)
    for a, b in zip(every, final, strict=True):
        cols = _loss_columns(a.history)
        np.testing.assert_array_equal(b.history[cols].to_numpy(float), a.history[cols].to_numpy(float))
        assert b.metrics["student_top1"] == a.metrics["student_top1"]
        assert b.metrics["teacher_top1"] == a.metrics["teacher_top1"]
        assert b.history["test_student_top1"].iloc[:-1].isna().all() and a.history["test_student_top1"].notna().all()
        assert b.history["test_student_top1"].iloc[-1] == a.history["test_student_top1"].iloc[-1]


def test_eval_every_must_be_a_count():
    with pytest.raises(ValueError, match="eval_every"):
        make_config(METHODS["amid"].defaults, preset="tiny", eval_every=-1)


@pytest.mark.parametrize("method,overrides", [("amid", {}), ("amid", {"fixed_teacher": True}), ("ccl", {})])
def test_a_batched_seed_on_its_own_split_is_the_lone_run_on_that_split(method, overrides):
    """The split drawn from the seed (the profile's split.from_seed): each seed trains and is evaluated on its own
    split inside the batched model, as it would alone on that split; a seed trained on another seed's split differs."""
    from amidlib.data.digit_pairs import load_uci_pairs

    seeds = [0, 3]
    own = [load_uci_pairs(split_seed=s) for s in seeds]
    alone = [experiment.run(method, tr, te, seed=s, **KW, **overrides) for s, (tr, te) in zip(seeds, own, strict=True)]
    batched = experiment.run_seeds(method, [tr for tr, _ in own], [te for _, te in own], seeds=seeds, **KW, **overrides)
    for a, b in zip(alone, batched, strict=True):
        _assert_same_run(a, b)
    shared = experiment.run_seeds(method, *own[0], seeds=seeds, **KW, **overrides)[1]  # seed 3 on seed 0's split
    assert not np.allclose(shared.history["loss_total"], batched[1].history["loss_total"])


def test_seeds_on_splits_of_different_sizes_are_refused():
    train, test = load_embedded(("fou",), ("fac",))
    with pytest.raises(ValueError, match="differ in size"):
        experiment.run_seeds("amid", [train, train.subset(np.arange(300))], [test, test], seeds=[0, 1], **KW)


def test_a_grid_of_alphas_in_one_batched_model_is_each_lone_run(data):
    """Table 6's grid trains as one batched model: each seed its own α1, α2, α3 (AMID's slot options, stacked
    buffers), each exactly its lone run with those values; its record names its own α."""
    train, test = data
    slots = [{}, {"alpha1": 3.7}, {"alpha2": 1.3, "alpha3": 0.7}]
    seeds = [0, 0, 1]
    batched = experiment.run_seeds("amid", train, test, seeds=seeds, slot_overrides=slots, **KW)
    for seed, slot, b in zip(seeds, slots, batched, strict=True):
        a = experiment.run("amid", train, test, seed=seed, **KW, **slot)
        _assert_same_run(a, b)
        assert all(b.config[k] == a.config[k] for k in ("alpha1", "alpha2", "alpha3"))
    # a check that can fail: seed 0 under α1 = 3.7 is not seed 0 under the default α1 = 4.0
    assert not np.allclose(batched[0].history["loss_mi_s"], batched[1].history["loss_mi_s"])


def test_slot_overrides_name_only_the_methods_slot_options(data):
    train, test = data
    with pytest.raises(ValueError, match="only amid's slot options .*not use_d2"):
        experiment.run_seeds("amid", train, test, seeds=[0, 1], slot_overrides=[{}, {"use_d2": False}], **KW)
    with pytest.raises(ValueError, match="2 seeds but 1 slot_overrides"):
        experiment.run_seeds("amid", train, test, seeds=[0, 1], slot_overrides=[{}], **KW)


def test_table6s_grid_is_one_task_and_each_run_keeps_its_own_key():
    """amidlib.repro.runs.tasks: configurations that differ only in α are one task; the cache keys stay per run."""
    from amidlib.paper.plans import PLANS
    from amidlib.repro import profiles
    from amidlib.repro.runs import tasks

    prof = profiles.load_profile("cpu")
    specs = list({c.spec.key(): c.spec for c in PLANS["table6"](prof)}.values())
    grouped = tasks(specs)
    def rest(spec):  # the configuration without its α
        return tuple(kv for kv in spec.overrides if not kv[0].startswith("alpha"))

    assert len(grouped) == len({rest(s) for s in specs}) < len({s.overrides for s in specs})
    assert sum(map(len, grouped)) == len(specs) and max(map(len, grouped)) >= 30   # 10 α values × 3 seeds at least
    assert all(len({rest(s) for s in t}) == 1 and len({s.key() for s in t}) == len(t) for t in grouped)
