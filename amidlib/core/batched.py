"""K seeds of one configuration trained as one batched model: K runs for little more than one's time.

A run on the embedded data is dominated by per-step overhead (small matrices, hundreds of operator
calls per step), not by arithmetic. So the K seeds' parameters are stacked along a new leading
dimension and one ``torch.func.vmap`` of the *same* method code computes their K forward passes:

    total_k = Σ terms of seed k's batch under seed k's parameters      (vmap over k)
    backward of Σ_k total_k                                            (seed k's parameters get seed k's gradient)
    one Adam over the stacked tensors                                  (Adam is element-wise: K independent Adams)

What keeps each seed its own run, exactly as :func:`amidlib.core.training.train` would train it alone:

- its initial weights (each seed's method is built as ``run`` builds it: same seeding, same pre-training);
- its batch order (its own generator, seeded ``seed + 1``);
- its data, when each seed has its own split (``train_data`` / ``test_data`` given as one split per
  seed, all of one size: the split drawn from the seed); the step then gathers seed k's batch from
  seed k's split (:class:`SeedSplits`);
- its dropout masks, drawn from its own torch random stream in the order a lone run draws them, and
  applied inside the vmap as fixed masks (:class:`MaskedDropout`);
- its λ (AMID's buffers are stacked too) and its ``end_epoch``; its own history and final metrics;
- its values of the method's ``slot_options`` (AMID's α1, α2, α3, read from a stacked buffer), so
  configurations that differ only there train as one model: Table 6's grid of 15 α values × 3 seeds is one
  task instead of 15 (``run_seeds(..., slot_overrides=...)``; :func:`amidlib.repro.runs.tasks` groups them).

Only float rounding differs (batched matrix products): the losses agree with a lone run's to float
tolerance over the first steps, and the final metrics within the seed interval
(``tests/test_batched.py``). Methods opt in with ``batchable = True`` (a step with fixed shapes that
draws no random number besides dropout); :func:`batchable` says when a configuration can.
"""
from __future__ import annotations

import copy
from collections import defaultdict
from dataclasses import fields

import pandas as pd
import torch
from torch import nn
from torch.func import functional_call, vmap
from tqdm.auto import tqdm

from amidlib.core.method import Method, StepOutput
from amidlib.core.training import (
    TensorData,
    _check_finite,
    batch_regime,
    epoch_row,
    eval_splits,
    make_optimizers,
    set_epoch_lr,
    split_metrics,
)
from amidlib.core.types import Batch, Representations

__all__ = ["batchable", "train_seeds", "MaskedDropout", "SeedSplits"]

_REPS = [f.name for f in fields(Representations)]


def batchable(method_cls: type[Method], cfg) -> bool:
    """Can the seeds of this configuration train as one batched model? The method must opt in, and the
    run must be a plain CPU run (no mixed precision, no checkpoints: those need a lone run's state)."""
    return bool(method_cls.batchable) and str(cfg.device) == "cpu" and not cfg.amp and not cfg.checkpoint_dir


class SeedSplits:
    """K seeds' own splits of one size, stacked: ``x_target`` (K, N, d), ``x_aux``, ``y`` (K, N); seed k's
    batch ``index[k]`` is gathered from seed k's rows."""

    def __init__(self, splits: list[TensorData], what: str):
        sizes = {d.n for d in splits}
        if len(sizes) != 1:
            raise ValueError(f"the seeds' {what} splits differ in size ({sorted(sizes)}): seeds train batched only "
                             "on splits of one size")
        self.x_target = torch.stack([d.x_target for d in splits])
        self.x_aux = torch.stack([d.x_aux for d in splits])
        self.y = torch.stack([d.y for d in splits])
        self.n = splits[0].n
        self.seeds = torch.arange(len(splits), device=self.y.device)[:, None]

    def gather(self, index: torch.Tensor):
        return self.x_target[self.seeds, index], self.x_aux[self.seeds, index], self.y[self.seeds, index]

    def batch(self, index: torch.Tensor) -> Batch:  # (one seed's: the template's probe)
        return Batch(self.x_target[0, index], self.x_aux[0, index], self.y[0, index], index)


def _gather(data, index: torch.Tensor):
    """(x_target, x_aux, y) of the (K, B) batch ``index``: from each seed's own split, or the one shared split."""
    if isinstance(data, SeedSplits):
        return data.gather(index)
    return data.x_target[index], data.x_aux[index], data.y[index]


class MaskedDropout(nn.Module):
    """Dropout with its mask given from outside (the buffer ``noise`` = mask / (1 − p), as F.dropout
    makes it), so every seed inside the vmap gets the mask a lone run would have drawn."""

    def __init__(self, p: float):
        super().__init__()
        self.p = p
        self.register_buffer("noise", torch.ones(()), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.noise if self.training and self.p > 0 else x


class _Calls(nn.Module):
    """Holds the method, so ``functional_call`` can call any of its methods, not only ``forward``."""

    def __init__(self, method: Method):
        super().__init__()
        self.method = method

    def forward(self, name: str, *args):
        return (self.step if name == "step" else getattr(self.method, name))(*args)

    def step(self, batch: Batch, epoch: int) -> tuple[StepOutput, torch.Tensor | None]:
        """A training step's two losses from one pass: the method's terms and its discriminators' (Eq 13, on the
        step's detached representations; None when there is none). One call, so the seeds' parameters are swapped
        in and out once a step, not twice: the discriminators' loss reads parameters the main optimizer's step does
        not touch, so computing it before that step is computing it after."""
        out = self.method(batch, epoch)
        return out, self.method.discriminator_loss(out, batch, epoch)


def _reps_tuple(reps: Representations) -> tuple:
    """The representations as a tuple vmap can return: a missing one (None, e.g. the baseline's M) as an
    empty tensor, turned back into None by :func:`_reps_back`."""
    return tuple(_EMPTY if getattr(reps, name) is None else getattr(reps, name) for name in _REPS)


def _reps_back(reps: tuple) -> tuple:
    return tuple(None if r.numel() == 0 else r for r in reps)


_EMPTY = torch.zeros(0, device="cpu")  # (the batched engine trains on the CPU only)


def _dropout_calls(method: Method, batch: Batch, epoch: int) -> list[tuple[str, tuple, float]]:
    """The dropout layers a training step calls, in call order, with their input shapes (one dry
    forward pass, with the random state put back afterwards)."""
    calls, hooks = [], []
    for name, module in method.named_modules():
        if isinstance(module, nn.Dropout):
            hooks.append(module.register_forward_pre_hook(
                lambda mod, args, name=name: calls.append((name, tuple(args[0].shape), mod.p))
                if mod.training and mod.p > 0 else None))
    try:
        with torch.random.fork_rng(), torch.no_grad():
            method.train()
            method(batch, epoch)
    finally:
        for hook in hooks:
            hook.remove()
    if len({name for name, _, _ in calls}) != len(calls):
        raise NotImplementedError("a dropout layer called twice in one step: not supported by the batched engine")
    return calls


def _stack(tensors: list[torch.Tensor], requires_grad: bool) -> torch.Tensor:
    """The K seeds' copies of one parameter, stacked: what the optimizer updates. A matrix is stored
    transposed, (K, in, out), because that is the layout its gradient comes out of the batched product
    in: stored as (K, out, in) every step's gradient would be copied into the other layout (12 % of a
    step, measured); :func:`_weights` gives the vmap the (K, out, in) view."""
    stacked = torch.stack([t.detach().mT if t.dim() == 2 else t.detach() for t in tensors])
    return stacked.contiguous().requires_grad_(requires_grad)


def _weights(stored: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The stacked parameters as the method's layers take them: matrices viewed back as (K, out, in)."""
    return {name: t.mT if t.dim() == 3 else t for name, t in stored.items()}


def train_seeds(methods: list[Method], train_data, test_data, cfg, seeds: list[int],
                desc: str = "", after_epoch=None) -> list[pd.DataFrame]:
    """Train ``methods`` (seed k's method, built as :func:`amidlib.core.experiment.run` builds it) for
    ``cfg.epochs`` as one batched model; returns one history per seed, as :func:`train` would.
    ``train_data`` / ``test_data``: one split shared by every seed, or a list with each seed's own split.
    ``after_epoch(epoch)``: called after each epoch's history rows, when each method holds that epoch's weights.

    On return each method holds its own trained weights and buffers (views into the stacked tensors)."""
    k_seeds = len(methods)
    if isinstance(train_data, (list, tuple)):
        train_data, test_data = SeedSplits(list(train_data), "training"), SeedSplits(list(test_data), "test")
    torch.set_flush_denormal(True)  # as train(): subnormal floats slow CPU arithmetic
    generators, rng_states = [], []
    for seed in seeds:  # each seed's two streams, as train() seeds them: batch order and dropout masks
        generators.append(torch.Generator().manual_seed(seed + 1))
        torch.manual_seed(seed + 1)
        rng_states.append(torch.get_rng_state())

    # the template the vmap runs: seed 0's method with its dropout layers taking their masks from outside
    calls = _Calls(copy.deepcopy(methods[0]))
    probe = train_data.batch(torch.arange(min(train_data.n, cfg.batch_size), device="cpu"))
    drops = _dropout_calls(methods[0], probe, max(cfg.warmup_epochs, 0))
    for name, _, p in drops:
        parent, _, leaf = f"method.{name}".rpartition(".")
        setattr(calls.get_submodule(parent), leaf, MaskedDropout(p))

    # stacked parameters and buffers; every seed's method gets views into them (its weights on return)
    named = [dict(m.named_parameters()) for m in methods]
    stored = {f"method.{n}": _stack([d[n] for d in named], p.requires_grad) for n, p in named[0].items()}
    params = _weights(stored)
    bufs = [dict(m.named_buffers()) for m in methods]
    buffers = {f"method.{n}": torch.stack([d[n] for d in bufs]) for n in bufs[0]}
    for k, method in enumerate(methods):
        for n in named[0]:
            named[k][n].data = params[f"method.{n}"].data[k]
        for n in bufs[0]:
            owner, _, leaf = n.rpartition(".")
            (method.get_submodule(owner) if owner else method)._buffers[leaf] = buffers[f"method.{n}"][k]

    d_names = {id(p) for p in methods[0].discriminator_parameters()}
    is_d = {n: id(p) in d_names for n, p in named[0].items()}
    main = [p for n, p in stored.items() if p.requires_grad and not is_d[n[7:]]]
    discriminators = [p for n, p in stored.items() if is_d[n[7:]]]
    opt, d_opt = make_optimizers(main, discriminators, cfg)

    n, batch_size = train_data.n, cfg.batch_size
    stop = n - n % batch_size if n > batch_size else n  # drop_last, as train() draws its batches
    histories: list[list[dict]] = [[] for _ in methods]
    bar = tqdm(range(cfg.epochs), desc=desc or f"{methods[0].name} × {k_seeds} seeds", disable=not cfg.progress,
               leave=False)
    for epoch in bar:
        calls.train()
        set_epoch_lr(opt, cfg, epoch)
        orders = torch.stack([torch.randperm(n, generator=g, device="cpu") for g in generators])
        sums: dict = defaultdict(float)
        n_batches = 0
        for step, start in enumerate(range(0, stop, batch_size)):
            index = orders[:, start:start + batch_size]
            x_t, x_a, y = _gather(train_data, index)
            noise = _draw_noise(drops, rng_states, index.shape[1])
            params = _weights(stored)  # fresh views each step: each backward runs through its own
            has_d: list[bool] = []
            total, terms, logs, d_loss = vmap(_step(calls, epoch, has_d))(params, {**buffers, **noise}, x_t, x_a, y,
                                                                          index)
            for name, value in terms.items():
                _check_finite_seeds(name, value, epoch, step, seeds)
            opt.zero_grad(set_to_none=True)
            # Σ_k total_k: seed k's parameters receive seed k's gradient only. Into the main optimizer's parameters
            # only: the discriminators' gradient from these terms is one a lone run computes and then zeroes
            total.sum().backward(inputs=main)
            opt.step()
            if has_d[0] and d_opt is not None:
                _check_finite_seeds("discriminator (Eq 13)", d_loss, epoch, step, seeds)
                d_opt.zero_grad(set_to_none=True)
                d_loss.sum().backward(inputs=discriminators)
                d_opt.step()
                sums["loss_discriminator"] += d_loss.detach()
            sums["_regime"] += vmap(batch_regime)(y)
            for name, value in terms.items():
                sums[f"loss_{name}"] += value.detach()
            sums["loss_total"] += total.detach()
            for name, value in logs.items():
                sums[name] += value
            n_batches += 1
        evaluations = _evaluate_seeds(calls, params, buffers, methods[0], cfg, epoch, train_data, test_data)
        for k, method in enumerate(methods):
            seed_sums = {name: v[k] for name, v in sums.items()}  # seed k's sums, as train() passes them
            histories[k].append(epoch_row(method, epoch, seed_sums, n_batches, lambda k=k, evaluations=evaluations: {
                split: values[k] for split, values in evaluations.items()}))
        if after_epoch is not None:
            after_epoch(epoch)
    for method in methods:
        method.eval()
    return [pd.DataFrame(h) for h in histories]


def _step(calls: _Calls, epoch: int, has_d: list[bool]):
    """One seed's training step, for vmap: (total, terms, logs, the discriminators' loss). Whether
    there is a discriminators' loss this epoch is the method's decision, the same for every seed (a Python value,
    not a tensor): it lands in ``has_d`` (a zero stands in for the loss when there is none)."""

    def step(params, buffers, x_t, x_a, y, index):
        out, d_loss = functional_call(calls, (params, buffers), ("step", Batch(x_t, x_a, y, index), epoch))
        total = sum(out.losses.values())
        logs = {name: value if torch.is_tensor(value)
                else torch.as_tensor(value, dtype=torch.float64, device=x_t.device) for name, value in out.logs.items()}
        has_d[:] = [d_loss is not None]
        return total, dict(out.losses), logs, x_t.new_zeros(()) if d_loss is None else d_loss

    return step


def _draw_noise(drops, rng_states: list[torch.Tensor], batch_size: int) -> dict[str, torch.Tensor]:
    """Each seed's dropout masks for one step, from its own random stream, drawn as F.dropout draws them
    (``empty_like(x).bernoulli_(1 − p).div_(1 − p)``, layer after layer); stacked per layer."""
    if not drops:
        return {}
    outer = torch.get_rng_state()
    per_layer: list[list[torch.Tensor]] = [[] for _ in drops]
    for k, state in enumerate(rng_states):
        torch.set_rng_state(state)
        for i, (_, shape, p) in enumerate(drops):
            per_layer[i].append(torch.empty((batch_size, *shape[1:]), device="cpu").bernoulli_(1 - p).div_(1 - p))
        rng_states[k] = torch.get_rng_state()
    torch.set_rng_state(outer)
    return {f"method.{name}.noise": torch.stack(masks) for (name, _, _), masks in zip(drops, per_layer, strict=True)}


def _check_finite_seeds(name: str, values: torch.Tensor, epoch: int, step: int, seeds: list[int]) -> None:
    bad = (~torch.isfinite(values)).nonzero().flatten().tolist()
    if bad:
        _check_finite(f"{name}' (seed {seeds[bad[0]]}", values[bad[0]], epoch, step)


def _evaluate_seeds(calls: _Calls, params, buffers, method: Method, cfg, epoch: int, train_data: TensorData,
                    test_data: TensorData) -> dict[str, list[dict[str, float]]]:
    """:func:`amidlib.core.training.evaluate` for every seed at once: {split: [seed k's values]}."""
    splits = eval_splits(cfg, epoch, train_data, test_data)
    if not splits:
        return {}
    calls.eval()

    def embed(p, b, x_t, x_a):
        return _reps_tuple(functional_call(calls, (p, b), ("embed", x_t, x_a)))

    out = {}
    with torch.no_grad():
        for split, data in splits:
            own = isinstance(data, SeedSplits)  # each seed its own split: (K, N, d), else one (N, d) for all
            rows = (lambda x, i: x[:, i:i + 1024]) if own else (lambda x, i: x[i:i + 1024])
            parts = [_reps_back(vmap(embed, in_dims=(0, 0, 0 if own else None, 0 if own else None))(
                params, buffers, rows(data.x_target, i), rows(data.x_aux, i))) for i in range(0, data.n, 1024)]
            reps = {name: (torch.cat([part[j] for part in parts], dim=1) if parts[0][j] is not None else None)
                    for j, name in enumerate(_REPS)}
            n_seeds = len(reps["student_logits"])  # (K, N, classes): one per seed
            out[split] = [split_metrics({name: (value[k] if value is not None else None)
                                         for name, value in reps.items()},
                                        data.y[k] if own else data.y, method.reports_student) for k in range(n_seeds)]
    calls.train()
    return out

