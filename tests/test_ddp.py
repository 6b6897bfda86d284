"""One run on 2 ranks (gloo, CPU) equals the single-process run on the same global batch.

2 ranks × batch 8 vs 1 process × batch 16, same seed, through the real training loop
(:func:`amidlib.core.training.train`, with its ``on_step`` probe): every loss term and the gradient
of every parameter (student, teacher, projections, classifier, CRD's embeddings, D1/D2) agree to
1e-5 at every step, for AMID (warm-up then Eq 8/9, D1/D2, λ, dropout in the student) and for CRD
(memory banks, negatives drawn from the global random stream). Both ranks end with identical
weights and buffers (λ, CRD's banks), equal to the single process's. Then ``torchrun
--nproc_per_node 2 -m amidlib.repro.torchrun`` trains an embedded AMID run end to end and records
``world_size`` 2.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import torch.multiprocessing as mp

REPO = Path(__file__).resolve().parents[1]
GLOBAL_BATCH = 16
CASES = {
    # 48 training items: 3 global batches per epoch; epoch 1 warm-up, epochs 2-3 distillation
    "amid": {"epochs": 3, "warmup_epochs": 1},
    "crd": {"epochs": 3, "warmup_epochs": 1, "crd_nce_k": 24},
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _trace(rank: int, size: int, port: int, method: str, out: str) -> None:
    """Train ``method`` for a few steps as rank ``rank`` of ``size`` and save every step's losses and
    gradients, the history and the final state (a top-level function: spawned processes import it)."""
    import torch.distributed as dist

    from amidlib.core import experiment, training
    from amidlib.data.arrays import make_synthetic, stratified_split

    torch.set_num_threads(1)
    if size > 1:
        os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
        dist.init_process_group("gloo", rank=rank, world_size=size)
    try:
        train_ds, test_ds = stratified_split(make_synthetic(n_samples=96, seed=0), test_size=0.5, seed=0)
        setup = experiment._setup(method, train_ds, test_ds, "tiny", None, None,
                                  dict(batch_size=GLOBAL_BATCH, progress=False, **CASES[method]))
        method_cls, cfg, train_data, test_data, n_classes, new_nets = setup
        training.seed_everything(0)
        model = method_cls(new_nets(), cfg, n_classes, train_data.n)
        steps = []

        def probe(epoch, step, losses, m):
            steps.append({"epoch": epoch, "losses": {k: float(v.detach()) for k, v in losses.items()},
                          "grads": {n: p.grad.detach().clone() for n, p in m.named_parameters() if p.grad is not None}})

        history = training.train(model, train_data, test_data, cfg, seed=0, on_step=probe)
        torch.save({"steps": steps, "history": history.to_dict("list"), "state": model.state_dict()}, out)
    finally:
        if size > 1:
            dist.destroy_process_group()


@pytest.fixture(scope="module")
def traces(tmp_path_factory):
    """{method: (single-process trace, [rank 0 trace, rank 1 trace])}."""
    folder = tmp_path_factory.mktemp("ddp")
    out = {}
    for method in CASES:
        single = folder / f"{method}_single.pt"
        _trace(0, 1, 0, method, str(single))
        ranks = [folder / f"{method}_rank{r}.pt" for r in range(2)]
        mp.start_processes(_spawned, args=(2, _free_port(), method, [str(p) for p in ranks]), nprocs=2,
                           start_method="spawn", join=True)
        out[method] = (torch.load(single, weights_only=True),
                       [torch.load(p, weights_only=True) for p in ranks])
    return out


def _spawned(rank, size, port, method, paths):
    _trace(rank, size, port, method, paths[rank])


@pytest.mark.parametrize("method", list(CASES))
def test_two_ranks_equal_one_process_step_by_step(traces, method):
    single, ranks = traces[method]
    assert len(single["steps"]) == 9  # 3 epochs × 48 items / 16
    distilled = {k for s in single["steps"] for k in s["losses"]}
    assert {"amid": {"cls", "jsd", "mi_s", "mi_a", "adv"}, "crd": {"cls", "crd"}}[method] <= distilled
    for r, trace in enumerate(ranks):
        assert len(trace["steps"]) == len(single["steps"])
        for i, (one, two) in enumerate(zip(single["steps"], trace["steps"], strict=True)):
            where = f"rank {r}, step {i} (epoch {one['epoch'] + 1})"
            assert one["losses"].keys() == two["losses"].keys(), where
            for name, value in one["losses"].items():
                assert two["losses"][name] == pytest.approx(value, abs=1e-5, rel=1e-5), f"loss {name}, {where}"
            assert one["grads"].keys() == two["grads"].keys(), where
            for name, grad in one["grads"].items():
                torch.testing.assert_close(two["grads"][name], grad, atol=1e-5, rtol=1e-5,
                                           msg=lambda m, n=name, w=where: f"gradient of {n}, {w}: {m}")


@pytest.mark.parametrize("method", list(CASES))
def test_ranks_stay_identical_and_end_where_one_process_ends(traces, method):
    single, (r0, r1) = traces[method]
    for key, value in r0["state"].items():  # weights and buffers (λ, CRD's memory banks and labels): bitwise equal
        assert torch.equal(value, r1["state"][key]), f"{key} differs between the ranks"
        torch.testing.assert_close(value.float(), single["state"][key].float(), atol=1e-5, rtol=1e-5,
                                   msg=lambda m, k=key: f"{k}: {m}")
    for col, values in single["history"].items():
        if col == "phase":
            assert r0["history"][col] == values
            continue
        assert r0["history"][col] == pytest.approx(values, abs=1e-5, rel=1e-5, nan_ok=True), col


def test_a_batch_that_does_not_divide_by_the_ranks_is_refused(tmp_path):
    from amidlib.core import distributed

    class _Two:  # a stand-in for a 2-rank world
        rank, size = 0, 2

    orig = distributed.world
    distributed.world = lambda: _Two()
    try:
        with pytest.raises(distributed.DistributedSetupError, match="does not divide by the 2 ranks"):
            next(distributed.shard_batches(None, 15, None))
    finally:
        distributed.world = orig


@pytest.mark.skipif(shutil.which("torchrun", path=str(Path(sys.executable).parent)) is None,
                    reason="torchrun not in this environment")
def test_torchrun_trains_an_embedded_amid_run_on_two_ranks(tmp_path):
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [torchrun, "--nproc_per_node", "2", "--master_addr", "127.0.0.1", "--master_port", str(_free_port()),
           "-m", "amidlib.repro.torchrun", "--method", "amid", "--preset", "tiny", "--epochs", "2",
           "--out", str(tmp_path / "run")]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["world_size"] == 2 and config["method"] == "amid" and config["batch_size"] == 64
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert 0 <= metrics["student_top1"] <= 100
    assert (tmp_path / "run" / "history.csv").read_text().count("\n") == 3  # header + 2 epochs


@pytest.mark.skipif(shutil.which("torchrun", path=str(Path(sys.executable).parent)) is None,
                    reason="torchrun not in this environment")
def test_torchrun_trains_a_video_run_with_decode_workers_on_two_ranks(tmp_path):
    """The paper profile's kind of data under torchrun: generated videos (the av tier, written by rank 0
    while rank 1 waits), a decode worker per rank reading only that rank's share of each global batch."""
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent))
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    small = {"video_student": "tiny3d", "warmup_epochs": 1, "batch_size": 4, "eval_batch_size": 8, "num_workers": 1,
             "dim": 32, "hidden": 32, "d_hidden": 16}
    cmd = [torchrun, "--nproc_per_node", "2", "--master_addr", "127.0.0.1", "--master_port", str(_free_port()),
           "-m", "amidlib.repro.torchrun", "--method", "amid", "--dataset", "av_tier", "--data-root",
           str(tmp_path / "tier"), "--cache-dir", str(tmp_path / "cache"), "--preset", "tiny", "--epochs", "2",
           *[a for key, value in small.items() for a in ("--set", key, json.dumps(value))], "--out",
           str(tmp_path / "run")]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["world_size"] == 2 and config["batch_size"] == 4 and config["num_workers"] == 1
    assert config["data"]["videos"]["used"] > 0
    assert (tmp_path / "run" / "history.csv").read_text().count("\n") == 3  # header + 2 epochs
