"""The roofline's yardstick: a run's FLOPs counted from one step of each phase (amidlib.core.experiment.run_flops)
are exactly what torch.utils.flop_counter counts over the whole run, for every method and the arms whose step
differs (fixed teacher, no adversary, CRD's one-time normalising constant); the workload's roofline adds them up
and holds them against one core's peak (amidlib.repro.roofline)."""
from __future__ import annotations

import pandas as pd
import pytest
from torch.utils.flop_counter import FlopCounterMode

from amidlib.core import experiment
from amidlib.data import load_embedded
from amidlib.repro import roofline

KW = dict(preset="tiny", epochs=3, warmup_epochs=1, eval_every=2, progress=False)


@pytest.fixture(scope="module")
def data():
    return load_embedded(("fou",), ("fac",))


def _counted(fn) -> int:
    counter = FlopCounterMode(display=False)
    with counter:
        fn()
    return int(counter.get_total_flops())


@pytest.mark.parametrize("method,overrides", [
    ("amid", {}), ("amid", {"fixed_teacher": True}), ("amid", {"use_adv": False}), ("amid", {"warmup_epochs": 0}),
    ("baseline", {}), ("teacher", {}), ("ccl", {}), ("gmc", {}), ("crd", {}), ("crcd", {}), ("kd", {}),
])
def test_a_runs_flops_are_what_the_whole_run_counts(data, method, overrides):
    train, test = data
    kw = {**KW, **overrides}
    expected = _counted(lambda: experiment.run(method, train, test, seed=0, **kw))
    assert experiment.run_flops(method, train, test, **kw).total == expected


def test_a_batched_seed_does_a_lone_runs_arithmetic(data):
    """K seeds as one batched model: K lone runs' products, within 2 %: the engine does one dry forward pass more
    (it finds the dropout layers) and skips the discriminators' gradient from the generator's terms (a lone run
    computes it, then zeroes it before the discriminators' own step)."""
    train, test = data
    seeds = [0, 1, 2]
    counted = _counted(lambda: experiment.run_seeds("amid", train, test, seeds=seeds, **KW))
    one = experiment.run_flops("amid", train, test, **KW)
    assert counted == pytest.approx(len(seeds) * one.total, rel=0.02)


def test_counting_moves_no_random_stream(data):
    """The count builds and steps a model: it must leave the caller's random state as it was (a run after it
    is the run without it)."""
    import torch

    train, test = data
    torch.manual_seed(5)
    before = torch.get_rng_state()
    experiment.run_flops("amid", train, test, **KW)
    assert torch.equal(torch.get_rng_state(), before)


def test_the_roofline_holds_flops_against_the_peak():
    frame = pd.DataFrame({"run": ["a", "b", "c"], "method": ["amid", "amid", "ccl"], "engine": ["batched"] * 3,
                          "flops": [6e10, 6e10, 3e10], "train_flops": [5e10, 5e10, 2e10],
                          "eval_flops": [1e10, 1e10, 1e10], "cpu_seconds": [2.0, 2.0, None],
                          "wall_seconds": [1.0, 1.0, None]})
    s = roofline.summarize(frame, peak_gflops=50.0, cores=2)
    assert s["tflop"] == pytest.approx(0.15) and s["floor_s"] == pytest.approx(1.5e11 / (2 * 50e9))
    assert s["per_method"]["amid"]["of_peak"] == pytest.approx(1.2e11 / (4.0 * 50e9))
    assert "ccl" not in s["per_method"]  # not timed here: no share of the peak to show
    walled = roofline.with_wall(s, wall_s=6.0, workload_s=4.5)
    assert walled["times_floor"] == pytest.approx(4.0) and walled["achieved"] == pytest.approx(0.25)
    text = "\n".join(roofline.summary_lines(walled))
    assert "floor is 2 s" in text and "4.0× the floor" in text and "amid 60 %" in text and "cache" not in text
    # a reproduction that found runs in its cache (CACHE_DIR) did not spend its time on them: the line says so
    text = roofline.summary_lines({**walled, "trained_here": 1})[0]
    assert "2 of the runs were in the run cache, not trained by this reproduction" in text


def test_no_run_of_the_workload_trains_twice():
    """Every table, figure and claim reads its runs from one workload; a run that two of them read differently
    evaluated (every epoch for a figure's curves, once for a table) would be trained twice. None is."""
    import collections
    import dataclasses

    from amidlib.paper.workload import reproduction_cells
    from amidlib.repro import profiles

    cells = reproduction_cells(profiles.load_profile("cpu"))
    trainings = collections.defaultdict(set)
    for cell in cells:
        spec = cell.spec
        same_training = dataclasses.replace(spec, overrides=tuple(
            kv for kv in spec.overrides if kv[0] not in ("eval_every", "eval_train")))
        trainings[same_training].add(spec.key())
    assert len({c.spec.key() for c in cells}) > 300
    assert {spec.describe(): keys for spec, keys in trainings.items() if len(keys) > 1} == {}


def test_a_workload_with_nothing_to_count_has_an_empty_roofline():
    """The paper profile's runs are on video clips (their own nets and loader): none is counted, and the workload
    still ends with a roofline line instead of an error."""
    s = roofline.summarize(pd.DataFrame([]), peak_gflops=50.0, cores=2)
    assert s["runs"] == 0 and s["tflop"] == 0 and s["per_method"] == {}
    assert roofline.with_wall(s, wall_s=10.0)["times_floor"] is None
    assert roofline.summary_lines(roofline.with_wall(s, wall_s=10.0)) == [
        "roofline: no run on feature arrays to count (runs on video clips are not counted)"]
