"""experiment.run as a user calls it: it learns, it is deterministic, it refuses bad input clearly."""
import json
import math
from pathlib import Path

import pandas as pd
import pytest
import torch

import amidlib.core.methods
from amidlib.core import losses
from amidlib.core.experiment import run
from amidlib.core.methods import METHODS
from amidlib.core.training import NonFiniteLossError
from amidlib.data.arrays import make_synthetic, stratified_split

#: every registered method: each is trained and checked below, a new method file's too
ALL_METHODS = list(METHODS)


@pytest.fixture(scope="module")
def synthetic():
    return stratified_split(make_synthetic(seed=0), test_size=0.5, seed=0)


@pytest.fixture(scope="module")
def results(synthetic):
    train, test = synthetic
    return {m: run(m, train, test, seed=0, preset="tiny", progress=False) for m in ALL_METHODS}


def test_every_method_file_registers_its_method_and_the_papers_come_first():
    folder = Path(amidlib.core.methods.__file__).parent
    files = {p.stem for p in folder.glob("*.py") if not p.stem.startswith("_")}
    assert {METHODS[name].__module__.rpartition(".")[2] for name in METHODS} == files
    assert list(METHODS)[:7] == ["baseline", "teacher", "crd", "gmc", "crcd", "ccl", "amid"] and "kd" in METHODS


def test_every_method_learns_and_the_teacher_beats_the_student_alone(results, synthetic):
    chance = 100.0 / synthetic[0].n_classes
    for name, res in results.items():
        key = "teacher_top1" if name == "teacher" else "student_top1"
        assert res.metrics[key] > chance + 30, (name, res.metrics[key])
    # the auxiliary view carries what the target lacks: the full-modality teacher is better
    assert results["teacher"].metrics["teacher_top1"] > results["baseline"].metrics["student_top1"] + 10


def test_history_has_one_row_per_epoch_with_every_term_and_diagnostic(results):
    h = results["amid"].history
    cfg = results["amid"].config
    assert list(h.epoch) == list(range(1, cfg["epochs"] + 1))
    for col in ["loss_cls", "loss_jsd", "loss_mi_s", "loss_mi_a", "loss_adv", "loss_discriminator", "loss_total",
                "mi_s_value", "mi_a_value", "lambda1", "lambda2",
                "train_student_top1", "train_teacher_top1", "test_student_top1", "test_teacher_top1",
                "train_gap", "test_gap", "train_cos_same_sample", "train_cos_same_class",
                "test_cos_same_sample", "test_cos_same_class"]:
        assert col in h.columns, col
    warm = h[h.phase == "warmup"]
    assert len(warm) == cfg["warmup_epochs"]
    # during warm-up only L_cls + L_JSD are trained
    assert warm["loss_mi_s"].isna().all() and warm["loss_adv"].isna().all()
    assert h[h.phase == "distill"]["loss_mi_s"].notna().all()
    assert (h.lambda1 + h.lambda2).sub(1).abs().max() < 1e-5
    assert h.test_gap.equals(h.test_teacher_top1 - h.test_student_top1)


def test_metrics_and_config_record(results):
    res = results["amid"]
    for key in ["student_top1", "teacher_top1", "student_r1", "student_r5", "wa", "ua", "per_class_student_top1"]:
        assert key in res.metrics
    assert res.metrics["wa"] == res.metrics["student_top1"]
    assert res.metrics["student_r5"] >= res.metrics["student_r1"]
    assert res.config["seed"] == 0 and res.config["tau"] == 0.5 and res.config["alpha1"] == 4.0
    assert "torch" in res.config["versions"] and "git_commit" in res.config["versions"]
    assert math.isnan(results["baseline"].metrics["teacher_top1"])
    assert math.isnan(results["teacher"].metrics["student_top1"])


def test_same_seed_same_metrics_and_other_seed_differs(synthetic, results):
    train, test = synthetic
    again = run("amid", train, test, seed=0, preset="tiny", progress=False)
    assert again.metrics == results["amid"].metrics
    pd.testing.assert_frame_equal(again.history, results["amid"].history)
    other = run("amid", train, test, seed=1, preset="tiny", progress=False)
    assert other.metrics["per_class_student_top1"] != results["amid"].metrics["per_class_student_top1"] or \
        not other.history.loss_total.equals(results["amid"].history.loss_total)


@pytest.mark.parametrize("overrides", [
    {"use_mi_a": False, "use_adv": False},   # L_MI_s only
    {"use_adv": False},                      # L_MI_s + L_MI_a
    {"mi_loss": "nce"},                      # AMID with L_nce
    {"use_d2": False},                       # w/o D2
    {"dynamic_lambda": False},               # w/o dynamic weight
    {"warmup_epochs": 0},                    # w/o warm-up
    {"fixed_teacher": True},                 # with fixed teacher
])
def test_ablation_switches_run_and_learn(synthetic, overrides):
    train, test = synthetic
    res = run("amid", train, test, seed=0, preset="tiny", progress=False, epochs=6,
              warmup_epochs=overrides.get("warmup_epochs", 2),
              **{k: v for k, v in overrides.items() if k != "warmup_epochs"})
    assert res.metrics["student_top1"] > 100.0 / train.n_classes + 20
    h = res.history
    if overrides.get("use_adv") is False:
        assert "loss_adv" not in h.columns
    if overrides.get("use_d2") is False or overrides.get("dynamic_lambda") is False:
        expected = (1.0, 0.0) if overrides.get("use_d2") is False else (0.5, 0.5)
        assert (h.lambda1 == expected[0]).all() and (h.lambda2 == expected[1]).all()


def test_fixed_teacher_is_pretrained_and_frozen(synthetic, monkeypatch):
    import amidlib.core.methods.amid as amid_module

    train, test = synthetic
    seen = {}
    original_init = amid_module.AMID.__init__

    def spy_init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        seen["method"] = self
        seen["before"] = {k: v.clone() for k, v in self.fixed_teacher.state_dict().items()}

    monkeypatch.setattr(amid_module.AMID, "__init__", spy_init)
    res = run("amid", train, test, seed=0, preset="tiny", progress=False, epochs=4, warmup_epochs=1,
              fixed_teacher=True, teacher_pretrain_epochs=12)
    after = seen["method"].fixed_teacher.state_dict()
    assert all(torch.equal(seen["before"][k], after[k]) for k in after)  # frozen through training
    assert res.metrics["teacher_top1"] > 100.0 / train.n_classes + 20   # and it was pre-trained


def test_unknown_method_and_override_are_refused_with_valid_names(synthetic):
    train, test = synthetic
    with pytest.raises(ValueError, match="unknown method 'amd'.*Did you mean 'amid'.*baseline"):
        run("amd", train, test)
    with pytest.raises(TypeError, match="unknown config override 'alpha_1'.*Did you mean 'alpha1'"):
        run("amid", train, test, alpha_1=4.0)
    with pytest.raises(TypeError, match="unknown config override 'alpha1'.*a value of method amid"):
        run("crd", train, test, alpha1=4.0)  # AMID's value: refused for another method, not silently ignored
    with pytest.raises(ValueError, match="unknown preset"):
        run("amid", train, test, preset="gpu")


def test_nan_loss_stops_with_term_and_epoch(synthetic, monkeypatch):
    train, test = synthetic
    monkeypatch.setattr(losses, "jsd", lambda a, b: a.sum() * float("nan"))
    with pytest.raises(NonFiniteLossError, match=r"'jsd' is nan at epoch 1"):
        run("amid", train, test, seed=0, preset="tiny", progress=False, epochs=2)


def test_save_is_atomic_and_never_overwrites(results, tmp_path):
    res = results["amid"]
    out = res.save(tmp_path / "run0")
    assert json.loads((out / "metrics.json").read_text())["student_top1"] == res.metrics["student_top1"]
    assert len(pd.read_csv(out / "history.csv")) == len(res.history)
    assert json.loads((out / "config.json").read_text())["seed"] == 0
    with pytest.raises(FileExistsError, match="already holds a run record"):
        res.save(tmp_path / "run0")
    res.save(tmp_path / "run0", overwrite=True)
    assert not list(out.glob(".*.tmp"))


def test_checkpoint_after_every_epoch(synthetic, tmp_path):
    train, test = synthetic
    res = run("amid", train, test, seed=0, preset="tiny", progress=False, epochs=3, warmup_epochs=1,
              checkpoint_dir=str(tmp_path / "ckpt"))
    state = torch.load(tmp_path / "ckpt" / "last.pt", weights_only=False)
    assert state["epoch"] == 3 and len(state["history"]) == 3
    assert state["history"][-1]["loss_total"] == res.history.iloc[-1]["loss_total"]
    assert "d1.0.weight" in state["method"] and state["discriminator_optimizer"] is not None
    assert not list((tmp_path / "ckpt").glob(".*.tmp"))


@pytest.mark.parametrize("method,extra", [("amid", {}), ("crd", {}), ("amid", {"fixed_teacher": True})])
def test_an_interrupted_run_resumes_to_the_same_numbers(synthetic, tmp_path, monkeypatch, method, extra):
    """Stop a run after epoch 2 (as a crash would), run it again: it continues from the checkpoint
    (weights, λ / memory banks, optimizers, random states) and ends where an uninterrupted run ends."""
    from amidlib.core import training

    train, test = synthetic
    kw = dict(seed=0, preset="tiny", progress=False, epochs=4, warmup_epochs=1, **extra)
    whole = run(method, train, test, **kw)

    real_save = training.save_checkpoint

    def crash_after_epoch_2(folder, method_, opt, d_opt, epoch, *args, **kwargs):
        path = real_save(folder, method_, opt, d_opt, epoch, *args, **kwargs)
        if epoch == 2:
            raise KeyboardInterrupt("simulated crash")
        return path

    monkeypatch.setattr(training, "save_checkpoint", crash_after_epoch_2)
    with pytest.raises(KeyboardInterrupt):
        run(method, train, test, checkpoint_dir=str(tmp_path / "ckpt"), **kw)
    monkeypatch.setattr(training, "save_checkpoint", real_save)
    resumed = run(method, train, test, checkpoint_dir=str(tmp_path / "ckpt"), **kw)
    assert resumed.metrics["student_top1"] == whole.metrics["student_top1"]
    pd.testing.assert_frame_equal(resumed.history, whole.history)
    with pytest.raises(training.CheckpointMismatchError, match="another configuration"):
        run(method, train, test, checkpoint_dir=str(tmp_path / "ckpt"), **{**kw, "lr": 2e-3})


def test_the_run_records_its_batch_regime_from_the_batches_drawn():
    import torch

    from amidlib.core.training import batch_regime

    y = torch.tensor([0, 0, 1, 2, 2, 2])
    pos, partner = batch_regime(y).tolist()
    assert pos == pytest.approx((2 + 2 + 1 + 3 + 3 + 3) / 6) and partner == pytest.approx(5 / 6)
    train, test = stratified_split(make_synthetic(n_samples=300, n_classes=5, seed=0), test_size=0.5, seed=0)
    res = run("amid", train, test, seed=0, preset="tiny", progress=False, epochs=3, warmup_epochs=1, batch_size=16)
    h = res.history
    assert h["batch_positives"].between(1, 16).all() and h["batch_with_partner"].between(0, 1).all()
    # 5 balanced classes, batch 16: about 1 + 15 * 29 / 149 = 3.9 same-class items per anchor
    assert res.metrics["batch_positives"] == pytest.approx(3.9, abs=0.6)
    assert res.metrics["lambda1_min"] <= res.metrics["lambda1_max"] and 0 < res.metrics["lambda1_min"] < 1


def test_final_epochs_averages_the_last_epochs_final_metrics(synthetic):
    """``final_epochs`` k: a run's final metrics are the mean of what the final metrics read after each of its last k
    epochs (the per-epoch test evaluation reads the same split, so the history's last k rows must average to them),
    for a lone run and for seeds trained as one batched model; k = 1 is the last epoch's."""
    from amidlib.core.experiment import run_seeds

    train, test = synthetic
    kw = dict(preset="tiny", epochs=6, warmup_epochs=2, eval_every=1, progress=False)
    lone = run("amid", train, test, seed=0, final_epochs=3, **kw)
    batched = run_seeds("amid", train, test, seeds=[0, 1], final_epochs=3, **kw)
    for res in (lone, *batched):
        h = res.history
        for metric in ("student_top1", "teacher_top1"):
            assert res.metrics[metric] == pytest.approx(h[f"test_{metric}"].iloc[-3:].mean(), abs=1e-4)
        last3 = h["test_student_top1"].iloc[-3:]
        if last3.nunique() > 1:  # (then the mean is not the last epoch's value)
            assert res.metrics["student_top1"] != pytest.approx(last3.iloc[-1], abs=1e-6)
        per_class = res.metrics["per_class_student_top1"]
        assert len(per_class) == train.n_classes and abs(sum(per_class) / len(per_class) - res.metrics["ua"]) < 1e-6
    last = run("amid", train, test, seed=0, final_epochs=1, **kw)
    assert last.metrics["student_top1"] == pytest.approx(last.history["test_student_top1"].iloc[-1], abs=1e-4)
    assert last.history.equals(lone.history)  # reading the metrics changes nothing the run trains


def test_final_epochs_with_checkpoints_is_refused(tmp_path, synthetic):
    train, test = synthetic
    with pytest.raises(ValueError, match="final_epochs=3 averages"):
        run("baseline", train, test, seed=0, preset="tiny", final_epochs=3, checkpoint_dir=str(tmp_path / "ck"))
    with pytest.raises(ValueError, match="final_epochs"):
        run("baseline", train, test, seed=0, preset="tiny", final_epochs=0)
