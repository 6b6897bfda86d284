"""The digit-pair proxy (amidlib.data.digit_pairs): real digits only, no digit on both sides of the split,
55 classes, and at batch 16 the paper's batch regime (measured in the batches a run draws)."""
import numpy as np
import pytest

from amidlib.data.arrays import MultimodalArrays, load_uci_mfeat, stratified_split
from amidlib.data.digit_pairs import PAIR_CLASSES, TEST_PER_CLASS, TRAIN_PER_CLASS, digit_pairs, load_uci_pairs
from amidlib.data.splits import class_names, load_split
from amidlib.paper.stats import batch_regime
from amidlib.repro.profiles import load_profile


def test_every_half_is_a_real_digit_of_its_side_and_label():
    """Each half of each pair is a digit's row (by index: a view holding each digit's row number) from its own
    side of the split, with the label the pair's class names; load_uci_pairs returns those rows' features."""
    digits = load_uci_mfeat(["fou"], ["fac"])
    ids = MultimodalArrays({"id": np.arange(len(digits))[:, None], "fou": digits.modalities["fou"]}, digits.labels,
                           target=["id"], auxiliary=["fou"])
    train_ids, test_ids = stratified_split(ids, test_size=0.8, seed=3)
    train_seed, test_seed = np.random.SeedSequence([3, 55]).spawn(2)
    train, test = load_uci_pairs(("fou",), ("fac",), split_seed=3)
    assert train.n_classes == test.n_classes == len(PAIR_CLASSES) == 55
    assert np.bincount(train.labels).tolist() == [TRAIN_PER_CLASS] * 55
    assert np.bincount(test.labels).tolist() == [TEST_PER_CLASS] * 55
    for pairs, side, seed, other in ((train, train_ids, train_seed, test_ids), (test, test_ids, test_seed, train_ids)):
        drawn = digit_pairs(side, TRAIN_PER_CLASS if pairs is train else TEST_PER_CLASS, seed)
        assert np.array_equal(drawn.labels, pairs.labels)
        for k in (0, 1):  # left half, right half
            rows = drawn.modalities["id"][:, k].astype(int)
            assert set(rows) <= set(side.modalities["id"][:, 0].astype(int))
            assert not set(rows) & set(other.modalities["id"][:, 0].astype(int))
            assert (digits.labels[rows] == [PAIR_CLASSES[y][k] for y in pairs.labels]).all()
            for view, d in (("fou", 76), ("fac", 216)):  # the features are those digits' rows, side by side
                assert pairs.modalities[view].shape[1] == 2 * d
                assert np.array_equal(pairs.modalities[view][:, k * d:(k + 1) * d], digits.modalities[view][rows])


def test_seeded_and_split_seed_changes_the_draw():
    a, _ = load_uci_pairs(split_seed=0)
    b, _ = load_uci_pairs(split_seed=0)
    c, _ = load_uci_pairs(split_seed=1)
    assert np.array_equal(a.modalities["fou"], b.modalities["fou"])
    assert not np.array_equal(a.modalities["fou"], c.modalities["fou"])


def test_the_regime_at_batch_16_is_the_papers():
    """≈ 1.3 positives per anchor and ≈ 1/4 of samples partnered, as the paper's UCF51 (1.30, 26 %);
    the 10 digits at the same batch size are far from it."""
    train, _ = load_uci_pairs()
    r = batch_regime(16, np.bincount(train.labels).tolist())
    assert r["positives"] == pytest.approx(1.25, abs=0.05) and 0.18 < r["with_partner"] < 0.30
    digits = batch_regime(16, [40] * 10)
    assert digits["positives"] > 2.4 and digits["with_partner"] > 0.75


def test_splits_and_profile_route_the_dataset():
    train, test = load_split("uci_pairs", ("fou",), ("fac",), ("holdout", 0.8, 0))
    assert train.n_classes == 55 and len(test) == 55 * TEST_PER_CLASS
    assert class_names("uci_pairs")[:3] == ["0-0", "0-1", "0-2"]
    with pytest.raises(ValueError, match="uci_pairs runs use a holdout split"):
        load_split("uci_pairs", ("fou",), ("fac",), ("fold", 2, 0, 0))
    prof = load_profile("cpu")
    assert prof.main.dataset == "uci_pairs" and prof.preset_for("uci_pairs") == "embedded_pairs"
    from amidlib.repro.runs import make_spec

    cfg = make_spec(prof, prof.main, "amid", 0).effective_config()
    assert cfg["batch_size"] == 16
    assert prof.crossval.setups[0].dataset == "uci_mfeat"  # Table 3 stays on the 10 digits
    mfeat = load_profile("cpu", dataset="uci_mfeat", out_dir="figures/uci_mfeat")
    assert {p.dataset for p in mfeat.pairings} == {"uci_mfeat"}
    assert make_spec(mfeat, mfeat.main, "amid", 0).effective_config()["batch_size"] == 64


def test_the_regime_is_measured_in_the_batches_a_run_draws():
    """A short AMID run on the pairs reports the batches' positives and partners (Eq 8, D2) near the expectation."""
    from amidlib.core.experiment import run

    train, test = load_uci_pairs()
    res = run("amid", train, test, seed=0, preset="embedded_pairs", epochs=2, warmup_epochs=1, dim=16, hidden=32,
              eval_every=0, progress=False)
    assert res.metrics["batch_positives"] == pytest.approx(1.25, abs=0.1)
    assert 0.15 < res.metrics["batch_with_partner"] < 0.32


def test_the_split_is_drawn_from_the_seed_and_its_seeds_still_train_as_one_task():
    """cpu: each seed's runs use the holdout split of that seed (every arm of a seed the same one); the seeds of
    one configuration are still one batched task, whose seed k is the lone run on seed k's split."""
    from amidlib.core.experiment import run
    from amidlib.repro import runs

    prof = load_profile("cpu", seeds=[0, 2], epochs=2, out_dir="figures/two_seeds")
    specs = [runs.make_spec(prof, prof.main, "amid", s) for s in (0, 2)]
    assert [s.split for s in specs] == [("holdout", 0.8, 0), ("holdout", 0.8, 2)]
    assert runs.make_spec(prof, prof.main, "ccl", 2).split == specs[1].split  # the arms of a seed share its split
    assert runs.make_spec(load_profile("ci"), load_profile("ci").main, "amid", 2).split == ("holdout", 0.8, 0)
    specs = [runs.make_spec(prof, prof.main, "amid", s, batch_size=64) for s in (0, 2)]
    (task,) = runs.tasks(specs)
    assert [s.seed for s in task] == [0, 2] and all(s.engine == "batched" for s in task)
    batched = runs.train_task(task, [None, None])
    tr, te = load_uci_pairs(split_seed=2)
    alone = run("amid", tr, te, seed=2, preset="embedded_pairs", progress=False, **specs[1].config_overrides)
    assert batched[1].metrics["student_top1"] == pytest.approx(alone.metrics["student_top1"], abs=0.5)
    assert batched[1].history["loss_total"].to_numpy() == pytest.approx(alone.history["loss_total"].to_numpy(),
                                                                        rel=2e-4)
