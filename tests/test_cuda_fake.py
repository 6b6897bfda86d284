"""Device mixing caught on a machine without a GPU.

On CUDA a step that combines a CPU tensor (other than a 0-dim one) with a CUDA tensor stops with
"Expected all tensors to be on the same device". Every other test runs on the CPU, where nothing can
mix, so three checks stand in for a GPU here:

1. **Fake CUDA.** Under ``FakeTensorMode`` a CPU-only torch builds the methods with ``device="cuda"``
   and runs their forward passes, loss terms, discriminator loss (Eq 13) and ``end_epoch`` (Eq 14),
   raising PyTorch's own device error on a mix. (Backward, optimizer steps and host reads such as
   ``.item()`` are not available there; nothing in these hooks may read the device anyway.)
2. **No device-less tensor factory in ``amidlib/core``** (read from the source): ``torch.zeros(4)`` in a
   hook is a CPU tensor whatever the model's device. Factories in ``__init__`` are exempt: ``.to(device)``
   moves what a module registers there.
3. **The same rule at run time over whole CPU runs** of every method (training, ``end_epoch``,
   evaluation, R@K, checkpoint save and resume): a factory called from amidlib without a device, outside
   a constructor, is reported with its file and line.
"""
from __future__ import annotations

import ast
import contextlib
import sys
from pathlib import Path

import pytest
import torch
from torch._subclasses.fake_tensor import FakeTensorMode
from torch.overrides import TorchFunctionMode

from amidlib.core import losses, training
from amidlib.core.config import make_config
from amidlib.core.experiment import run
from amidlib.core.methods import METHODS
from amidlib.core.methods.crd import MemoryBanks
from amidlib.core.models import build_nets
from amidlib.core.types import Batch

ROOT = Path(__file__).resolve().parents[1]
CUDA = torch.device("cuda", 0)
B, TARGET_DIM, AUX_DIM, N_CLASSES, N_TRAIN = 8, 12, 10, 3, 40

# AMID and its ablations (Tables 4, 5) as the config switches that select them
AMID_VARIANTS = {
    "amid": {},
    "w/o D2": {"use_d2": False},
    "fixed λ": {"dynamic_lambda": False},
    "w/o L_adv": {"use_adv": False},
    "w/o L_MI_a": {"use_mi_a": False},
    "with L_nce": {"mi_loss": "nce"},
}
CASES = [("amid", name, over) for name, over in AMID_VARIANTS.items()] + [
    (m, m, {}) for m in METHODS if m != "amid"]


def _fake_batch_sampler(self, index, y, k):
    """MemoryBanks.sample's shapes and device without its two host reads (which fake tensors cannot
    answer): own row first, then K rows drawn on the anchors' device."""
    k = min(k, self.labels.numel() - 1)
    negatives = torch.randint(self.labels.numel(), (len(index), k), device=index.device)
    return torch.cat([index.view(-1, 1), negatives], dim=1)


@pytest.fixture
def fake_cuda(monkeypatch):
    """A FakeTensorMode in which ``device="cuda"`` works without a GPU; the memory banks' sampling
    without its host reads, and Z taken as unset on the first call only (its read is a host read)."""
    monkeypatch.setattr(MemoryBanks, "sample", _fake_batch_sampler)
    calls = []
    monkeypatch.setattr(MemoryBanks, "z_unset", lambda self: not calls.append(1) and len(calls) == 1)
    with FakeTensorMode():
        yield


def _small_k(name: str, k: int) -> dict:
    """The memory-bank methods' K (negatives per anchor), small enough for a tiny bank."""
    return {key: k for key in ("crd_nce_k", "crcd_nce_k") if key in METHODS[name].defaults}


def _method_on_fake_cuda(name: str, overrides: dict, warmup: int = 0):
    cfg = make_config(METHODS[name].defaults, preset="tiny", device="cuda", warmup_epochs=warmup,
                      **_small_k(name, 6), **overrides)
    with torch.device(CUDA):  # built as `.to("cuda")` leaves them: parameters and buffers on the GPU
        nets = build_nets(TARGET_DIM, AUX_DIM, N_CLASSES, cfg.dim, cfg.hidden)
        kwargs = {}
        if cfg.get("fixed_teacher"):
            kwargs["pretrained_teacher"] = build_nets(TARGET_DIM, AUX_DIM, N_CLASSES, cfg.dim, cfg.hidden)
        method = METHODS[name](nets, cfg, N_CLASSES, N_TRAIN, **kwargs)
    return method.train()


def _batch(step: int = 0) -> Batch:
    index = torch.arange(step * B, (step + 1) * B, device=CUDA)
    return Batch(torch.randn(B, TARGET_DIM, device=CUDA), torch.randn(B, AUX_DIM, device=CUDA),
                 index % N_CLASSES, index)


def _on_cuda(value) -> bool:
    return not torch.is_tensor(value) or value.device == CUDA


@pytest.mark.parametrize("method,variant,overrides", CASES, ids=[c[1] for c in CASES])
def test_every_method_steps_and_ends_its_epoch_on_fake_cuda(fake_cuda, method, variant, overrides):
    model = _method_on_fake_cuda(method, overrides)
    # CRCD's gradient-matching term differentiates inside the step (autograd.grad), which fake CUDA tensors
    # cannot: its forward runs without a graph here (the term is skipped then); the CPU runs below cover it
    graph = torch.no_grad() if method == "crcd" else contextlib.nullcontext()
    sums: dict = {}
    for step in range(2):  # two steps: CRD/CRCD fix Z on the first, then score against it
        batch = _batch(step)
        with graph:
            out = model(batch, epoch=0)
        assert out.losses, f"{variant}: no loss term"
        for term, value in out.losses.items():
            assert value.device == CUDA and value.dim() == 0, f"{variant}: loss term {term!r} on {value.device}"
        for key in ("s", "m", "a", "student_logits", "teacher_logits"):
            assert _on_cuda(getattr(out.reps, key)), f"{variant}: representation {key} off the GPU"
        d_loss = model.discriminator_loss(out, batch, epoch=0)
        assert d_loss is None or d_loss.device == CUDA
        for name, value in out.logs.items():  # summed as the training loop sums them (on the device)
            sums[name] = sums.get(name, 0.0) + value
    logged = model.end_epoch(0, {k: v for k, v in sums.items() if k.startswith("_")})
    assert all(_on_cuda(v) for v in logged.values()), f"{variant}: end_epoch logged {logged}"
    for name, buf in model.named_buffers():
        assert buf.device == CUDA, f"{variant}: buffer {name} moved to {buf.device}"


def test_warmup_steps_and_evaluation_forward_on_fake_cuda(fake_cuda):
    """Warm-up (L_cls + L_JSD only, the MI terms logged) and the evaluation forward (``embed``)."""
    model = _method_on_fake_cuda("amid", {}, warmup=2)
    out = model(_batch(), epoch=0)
    assert set(out.losses) == {"cls", "jsd"} and out.logs["mi_s_value"].device == CUDA
    assert model.discriminator_loss(out, _batch(), epoch=0) is None
    reps = model.eval().embed(_batch().x_target, _batch().x_aux)
    assert reps.s.device == CUDA and reps.teacher_logits.device == CUDA


@pytest.mark.parametrize("sums", [
    {"_cosines": [12.0, 16.0, 3.0, 10.0]},      # the epoch's sums read to the host (the loop before the fix)
    {},                                          # an epoch without a distillation step
], ids=["host-sums", "no-sums"])
def test_eq14_update_keeps_lambda_on_the_gpu_whatever_form_the_sums_take(fake_cuda, sums):
    """The crash of the first GPU run: λ̂ a CUDA buffer, the epoch's cosines rebuilt on the CPU."""
    model = _method_on_fake_cuda("amid", {})
    model.end_epoch(0, sums)
    assert model.lambda_hat.device == CUDA and model.lambdas.device == CUDA


def test_update_lambdas_moves_host_cosines_to_lambdas_device(fake_cuda):
    lambda_hat = torch.zeros(2, device=CUDA)
    new_hat, lambdas = losses.update_lambdas(lambda_hat, [0.8, 0.3], 0.9)
    assert new_hat.device == CUDA and lambdas.device == CUDA


def test_a_real_device_mix_is_caught_by_the_fake_mode(fake_cuda):
    """The check itself can fail: a non-scalar CPU tensor meeting a CUDA one raises, as on a GPU."""
    with pytest.raises(RuntimeError, match="device"):
        torch.zeros(2, device=CUDA) + torch.ones(2)


# --- 2. the source rule: no device-less tensor factory in amidlib/core ------------------------------------
FACTORIES = {"tensor", "as_tensor", "zeros", "ones", "full", "empty", "arange", "linspace", "eye", "rand", "randn",
             "randint", "randperm"}


def _device_less_factories(source: str, filename: str) -> list[str]:
    """``torch.<factory>(...)`` calls without ``device=`` outside ``__init__`` (``as_tensor``/``tensor`` of
    something other than a literal also count: they put a list or a number on the CPU)."""
    found = []

    class Visitor(ast.NodeVisitor):
        def __init__(self):
            self.functions: list[str] = []

        def visit_FunctionDef(self, node):
            self.functions.append(node.name)
            self.generic_visit(node)
            self.functions.pop()

        visit_AsyncFunctionDef = visit_FunctionDef

        def visit_Call(self, node):
            f = node.func
            if (isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id == "torch"
                    and f.attr in FACTORIES and "__init__" not in self.functions
                    and not any(k.arg == "device" for k in node.keywords)):
                found.append(f"{filename}:{node.lineno}: torch.{f.attr}(...) without device=")
            self.generic_visit(node)

    Visitor().visit(ast.parse(source))
    return found


def test_no_device_less_tensor_factory_in_core():
    offenders = []
    for path in sorted((ROOT / "amidlib/core").rglob("*.py")):
        offenders += _device_less_factories(path.read_text(), str(path.relative_to(ROOT)))
    assert not offenders, "tensors made on the CPU whatever the model's device:\n" + "\n".join(offenders)


def test_the_source_rule_flags_what_crashed_the_first_gpu_run():
    before = '''
def end_epoch(self, epoch, sums=None):
    total = torch.as_tensor((sums or {}).get("_cosines", torch.zeros(4)), dtype=torch.float64)
'''
    assert len(_device_less_factories(before, "amid.py")) == 2
    after = "def end_epoch(self):\n    total = torch.zeros(4, dtype=torch.float64, device=self.lambda_hat.device)\n"
    assert _device_less_factories(after, "amid.py") == []
    assert _device_less_factories("class A:\n    def __init__(self):\n        x = torch.zeros(2)\n", "m.py") == []


# --- 3. the same rule at run time, over whole CPU runs --------------------------------------------------------
class DeviceLessFactories(TorchFunctionMode):
    """Records every tensor factory amidlib calls without a device (outside a constructor)."""

    names = FACTORIES | {"new_tensor"}

    def __init__(self):
        super().__init__()
        self.calls: list[str] = []

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = getattr(func, "__name__", "")
        if name in self.names and "device" not in kwargs and not (
                name in ("as_tensor", "tensor") and args and torch.is_tensor(args[0])):
            caller = sys._getframe(1)
            path = Path(caller.f_code.co_filename)
            if ROOT / "amidlib" in path.parents and caller.f_code.co_name != "__init__":
                self.calls.append(f"{path.relative_to(ROOT)}:{caller.f_lineno} ({caller.f_code.co_name}): "
                                  f"torch.{name} without device=")
        return func(*args, **kwargs)


@pytest.fixture(scope="module")
def arrays():
    import numpy as np

    from amidlib.data import MultimodalArrays

    rng = np.random.default_rng(0)
    y = np.arange(48) % N_CLASSES
    mods = {"t": rng.normal(size=(48, TARGET_DIM)).astype(np.float32) + y[:, None],
            "a": rng.normal(size=(48, AUX_DIM)).astype(np.float32)}
    ds = MultimodalArrays(mods, y, target=["t"], auxiliary=["a"])
    return ds, ds


@pytest.mark.parametrize("method,variant,overrides", CASES + [("amid", "fixed teacher", {"fixed_teacher": True})],
                         ids=[c[1] for c in CASES] + ["fixed teacher"])
def test_whole_cpu_runs_create_no_tensor_off_the_models_device(arrays, tmp_path, method, variant, overrides):
    """Two epochs (warm-up, then distillation) with evaluation, the final metrics and R@K, a checkpoint
    written, then the same run again (resumed from it: loaded, nothing left to train, final metrics):
    every tensor amidlib makes says where it lives."""
    train, test = arrays
    common = dict(preset="tiny", progress=False, warmup_epochs=1, batch_size=16, checkpoint_dir=str(tmp_path / "ck"),
                  **_small_k(method, 8), **overrides)
    with DeviceLessFactories() as guard:
        first = run(method, train, test, seed=0, epochs=2, **common)
        again = run(method, train, test, seed=0, epochs=2, **common)
    assert again.metrics["student_top1"] == first.metrics["student_top1"] or method == "teacher"
    assert not guard.calls, "\n".join(sorted(set(guard.calls)))


def test_the_runtime_rule_can_fail():
    with DeviceLessFactories() as guard:
        exec(compile("import torch\ndef f():\n    return torch.zeros(3)\nf()", str(ROOT / "amidlib/x.py"), "exec"), {})
    assert guard.calls and "torch.zeros without device=" in guard.calls[0]


# --- 4. no wait for the device inside a step ------------------------------------------------------------
class HostReads(TorchFunctionMode):
    """Counts what makes the host wait for the device on CUDA: reading a value (``bool``, ``float``,
    ``int``, ``item``, ``tolist``, ``numpy``, a copy to the CPU) or an op whose output shape depends on
    the data (``nonzero``, boolean-mask indexing)."""

    reads = {"__bool__", "__float__", "__int__", "__index__", "item", "tolist", "numpy", "cpu", "nonzero"}

    def __init__(self):
        super().__init__()
        self.count = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        name = getattr(func, "__name__", "")
        index = args[1] if name == "__getitem__" and len(args) > 1 else None
        masks = index if isinstance(index, tuple) else (index,)
        if name in self.reads or any(torch.is_tensor(i) and i.dtype == torch.bool for i in masks):
            self.count += 1
        return func(*args, **(kwargs or {}))


@pytest.mark.parametrize("method", ["amid", "baseline", "gmc", "ccl"])
def test_the_host_reads_per_epoch_do_not_grow_with_its_steps(method):
    """An epoch of 2 steps and one of 6 read the device equally often (the epoch's sums, λ, evaluation):
    so a step reads nothing and the GPU never waits for the host between steps (the first GPU run found
    six waits per AMID step: one finite check per loss term and the discriminator's)."""
    import numpy as np

    from amidlib.data import MultimodalArrays

    counts = []
    for n in (32, 96):  # batch 16: 2 and 6 steps per epoch; evaluation reads do not depend on n
        rng = np.random.default_rng(0)
        y = np.arange(n) % N_CLASSES
        ds = MultimodalArrays({"t": rng.normal(size=(n, TARGET_DIM)).astype(np.float32),
                               "a": rng.normal(size=(n, AUX_DIM)).astype(np.float32)}, y, target=["t"], auxiliary=["a"])
        cfg = make_config(METHODS[method].defaults, preset="tiny", epochs=2, warmup_epochs=1, batch_size=16,
                          progress=False)
        model = METHODS[method](build_nets(TARGET_DIM, AUX_DIM, N_CLASSES, cfg.dim, cfg.hidden), cfg, N_CLASSES, n)
        data = training.TensorData(ds, "cpu")
        with HostReads() as reads:
            training.train(model, data, data, cfg, seed=0)
        counts.append(reads.count)
    assert counts[0] == counts[1], f"{method}: {counts[0]} host reads with 2 steps per epoch, {counts[1]} with 6"


def test_the_host_read_counter_sees_a_per_step_read():
    with HostReads() as reads:
        for _ in range(3):
            bool(torch.isfinite(torch.ones(2)).all())
    assert reads.count == 3
