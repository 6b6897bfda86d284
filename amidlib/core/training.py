"""The training loop, readable in one sitting (after nanoGPT): no framework, no callbacks.

    for epoch:
        for batch:                       # seeded shuffling
            out = method(batch, epoch)   # named, weighted loss terms
            total = Σ terms              # finiteness noted on the device; a NaN names its term, epoch, step
            main optimizer step          # student, teacher, projections, classifier
            discriminator step           # AMID only: Eq 13 on detached representations
        method.end_epoch(sums)           # AMID: λ update, Eq 14
        evaluate train and test          # accuracies, teacher–student gap, cosines
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import time
from collections import defaultdict
from contextlib import nullcontext as _nullcontext
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from amidlib.core import distributed
from amidlib.core.files import atomic_path, atomic_write_text, file_digest
from amidlib.core.method import Method
from amidlib.core.types import Batch


class NonFiniteLossError(FloatingPointError):
    """A loss term became NaN or infinite; the message names the term, the epoch and the step."""


class TensorData:
    """A dataset split as tensors on the training device (features are small enough to hold)."""

    def __init__(self, ds, device: str | torch.device):
        self.x_target = torch.as_tensor(ds.target_array(), dtype=torch.float32, device=device)
        self.x_aux = torch.as_tensor(ds.aux_array(), dtype=torch.float32, device=device)
        self.y = torch.as_tensor(ds.labels, dtype=torch.long, device=device)
        self.n = len(self.y)

    def batch(self, index: torch.Tensor) -> Batch:
        return Batch(self.x_target[index], self.x_aux[index], self.y[index], index)

    def final(self) -> TensorData:
        """What the final metrics read (a video loader: every test clip per video; here: the same tensors)."""
        return self

    def batches(self, batch_size: int, generator: torch.Generator | None = None, drop_last: bool = False):
        # the order is drawn on the CPU (the generator is a CPU one, so every device draws the same batches)
        order = (torch.randperm(self.n, generator=generator, device="cpu") if generator is not None
                 else torch.arange(self.n, device="cpu"))
        order = order.to(self.y.device)
        stop = self.n - self.n % batch_size if (drop_last and self.n > batch_size) else self.n
        for start in range(0, stop, batch_size):
            yield self.batch(order[start:start + batch_size])


@torch.no_grad()
def embed_all(method: Method, data: TensorData, batch_size: int = 1024) -> dict[str, torch.Tensor | None]:
    """S, M and both logits for a whole split, in eval mode."""
    was_training = method.training
    method.eval()
    parts = defaultdict(list)
    for b in data.batches(batch_size):
        reps = method.embed(b.x_target, b.x_aux)
        for key in ("s", "m", "student_logits", "teacher_logits"):
            value = getattr(reps, key)
            if value is not None:
                parts[key].append(value)
    method.train(was_training)
    return {key: torch.cat(parts[key]) if parts[key] else None
            for key in ("s", "m", "student_logits", "teacher_logits")}


def cosine_stats(m: torch.Tensor, s: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    """Mean Φ(M_i, S_i) (same sample) and mean Φ(M_v, S_j) over same-class pairs j ≠ v (Fig 5).

    The pair mean uses per-class sums of unit vectors: Σ_{v≠j, same class} m_v·s_j
    = (Σ_v m_v)·(Σ_j s_j) − Σ_v m_v·s_v, so it is O(N d) even for large splits.
    """
    m, s = F.normalize(m.double(), dim=1), F.normalize(s.double(), dim=1)
    diag = (m * s).sum(1)
    onehot = F.one_hot(y, int(y.max()) + 1).to(m.dtype)           # (N, C): per-class sums by one product
    m_sum, s_sum = onehot.T @ m, onehot.T @ s                      # (C, d)
    counts = onehot.sum(0)
    pairs = float((counts * (counts - 1)).sum())
    total = float((m_sum * s_sum).sum() - diag.sum())
    return float(diag.mean()), (total / pairs if pairs else math.nan)


def evaluate(method: Method, data: TensorData, autocast=_nullcontext) -> dict[str, float]:
    """Student/teacher accuracy (percent) and teacher–student cosines on one split; ``autocast``: the
    training's mixed-precision context (:func:`mixed_precision`), so evaluation runs as training does."""
    with autocast():
        out = embed_all(method, data)
    return split_metrics(out, data.y, method.reports_student)


def split_metrics(out: dict[str, torch.Tensor | None], y: torch.Tensor,
                  reports_student: bool = True) -> dict[str, float]:
    """:func:`evaluate`'s values from one split's representations (:func:`embed_all`'s dict)."""
    row: dict[str, float] = {}
    row["student_top1"] = (100.0 * float((out["student_logits"].argmax(1) == y).float().mean())
                           if reports_student else math.nan)
    if out["m"] is not None:
        row["teacher_top1"] = 100.0 * float((out["teacher_logits"].argmax(1) == y).float().mean())
        row["cos_same_sample"], row["cos_same_class"] = cosine_stats(out["m"], out["s"], y)
    else:
        row["teacher_top1"] = row["cos_same_sample"] = row["cos_same_class"] = math.nan
    row["gap"] = row["teacher_top1"] - row["student_top1"]
    return row


def seed_everything(seed: int) -> torch.Generator:
    """Seed torch and numpy; returns the generator that shuffles the batches."""
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
    return torch.Generator().manual_seed(seed)


def batch_regime(y: torch.Tensor) -> torch.Tensor:
    """(mean same-class items per anchor, share of samples with another sample of their class) of one batch."""
    same = (y[:, None] == y[None, :]).sum(1).float()
    return torch.stack([same.mean(), (same > 1).float().mean()])


def make_optimizers(params: list, d_params: list, cfg):
    """The main optimizer (``cfg.optimizer``: Adam, or SGD with momentum) and the discriminators' Adam."""
    # Adam fused: one kernel per parameter tensor for the whole update (CPU and CUDA), not ~10 element-wise
    # passes. (SGD's fused path fails on a parameter without a gradient in a step: SGD keeps the default.)
    if cfg.optimizer == "sgd":
        opt = torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay)
    else:
        opt = torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay, **({"fused": True} if params else {}))
    d_opt = torch.optim.Adam(d_params, lr=cfg.d_lr, betas=(0.5, 0.999), fused=True) if d_params else None
    return opt, d_opt


def set_epoch_lr(opt, cfg, epoch: int) -> float:
    """Step schedule: lr · lr_gamma^(number of milestones passed) for 0-based ``epoch`` (stateless, so a
    resumed run needs no scheduler state)."""
    lr = cfg.lr * cfg.lr_gamma ** sum(epoch >= m for m in (cfg.lr_milestones or ()))
    for group in opt.param_groups:
        group["lr"] = lr
    return lr


def split_logs(sums: dict, n_batches: int) -> tuple[dict[str, float], dict]:
    """An epoch's summed step values -> (their means for the history, the "_" bookkeeping sums for end_epoch,
    left as they are: tensors on the model's device stay there)."""
    means = {k: float(v) / max(n_batches, 1) for k, v in sums.items() if not k.startswith("_")}
    return means, {k: v for k, v in sums.items() if k.startswith("_")}


def train(method: Method, train_data: TensorData, test_data: TensorData, cfg, seed: int, desc: str = "",
          on_step=None, after_epoch=None) -> pd.DataFrame:
    """Train ``method`` for ``cfg.epochs``; returns the history, one row per epoch.

    Under torchrun (a process group of several ranks) the run is split across the ranks and equals the
    single-process run on the same global batch ``cfg.batch_size`` (:mod:`amidlib.core.distributed`);
    only rank 0 writes checkpoints. ``on_step(epoch, step, losses, method)``: called after every step's
    updates' gradients are final (tests compare them across ranks). ``after_epoch(epoch)``: called after each
    epoch's history row (the final metrics of the last epochs are read there: ``final_epochs``)."""
    with distributed.prepare(method, cfg.device):
        return _train(method, train_data, test_data, cfg, seed, desc, on_step, after_epoch)


def _train(method: Method, train_data, test_data, cfg, seed: int, desc: str, on_step, after_epoch) -> pd.DataFrame:
    ranks = distributed.world()
    generator = seed_everything(seed + 1)  # +1: different stream from the one that initialised the weights
    # subnormal floats (from tiny gradients and Adam moments) slow CPU arithmetic ~15x: flush them
    torch.set_flush_denormal(True)
    device = torch.device(cfg.device)
    if device.type == "cuda":
        torch.backends.cudnn.benchmark = True  # fixed clip shapes: let cuDNN pick its fastest kernels once
    channels_last = bool(cfg.channels_last) and device.type == "cuda"
    if channels_last:
        method.to(memory_format=torch.channels_last_3d)
    d_params = method.discriminator_parameters()
    d_ids = {id(p) for p in d_params}
    params = [p for p in method.parameters() if p.requires_grad and id(p) not in d_ids]
    opt, d_opt = make_optimizers(params, d_params, cfg)

    autocast, scaler = mixed_precision(cfg)
    history, start = [], 0
    if cfg.checkpoint_dir:  # a run that stopped part-way goes on from its last complete epoch
        start, history = resume_checkpoint(cfg.checkpoint_dir, method, opt, d_opt, generator, cfg)
    bar = tqdm(range(start, cfg.epochs), desc=desc or method.name,
               disable=not cfg.progress or not distributed.is_main_process(), leave=False,
               initial=start, total=cfg.epochs)
    for epoch in bar:
        method.train()
        set_epoch_lr(opt, cfg, epoch)
        # every value is summed on its device and read once per epoch: no host sync per step (the finite
        # checks too: the device notes the first bad step of each term, read at the end of the epoch)
        sums: dict = defaultdict(float)
        finite = FiniteCheck()
        n_batches = 0
        # under torchrun: this rank's slice of each global batch (inputs), the whole batch's labels and indices
        batches = (distributed.shard_batches(train_data, cfg.batch_size, generator) if ranks
                   else train_data.batches(cfg.batch_size, generator, drop_last=True))
        for step, batch in enumerate(batches):
            if channels_last and batch.x_target.dim() == 5:
                batch.x_target = batch.x_target.contiguous(memory_format=torch.channels_last_3d)
            sums["_regime"] += batch_regime(batch.y)
            gathered: list = []
            with autocast(), distributed.gathering(gathered) if ranks else _nullcontext():
                out = method(batch, epoch)
            if ranks and not gathered:
                raise distributed.DistributedSetupError(
                    f"{type(method).__name__} computed its step without its nets' extractors: nothing was gathered "
                    "across ranks, so the run cannot be split (train it in one process)")
            finite.add(out.losses, step)
            total = sum(out.losses.values())
            opt.zero_grad(set_to_none=True)
            scaler.scale(total).backward()
            distributed.allreduce_gradients(params)  # every rank's loss is the global one: the average is its gradient
            scaler.step(opt)
            with autocast():
                d_loss = method.discriminator_loss(out, batch, epoch)
            if d_loss is not None:
                finite.add({"discriminator (Eq 13)": d_loss}, step)
                d_opt.zero_grad(set_to_none=True)
                scaler.scale(d_loss).backward()
                distributed.allreduce_gradients(d_params)  # (identical on every rank; kept in lockstep)
                scaler.step(d_opt)
                sums["loss_discriminator"] += d_loss.detach()
            scaler.update()
            if on_step is not None:
                on_step(epoch, step, out.losses, method)
            for name, value in out.losses.items():
                sums[f"loss_{name}"] += value.detach()
            sums["loss_total"] += total.detach()
            for name, value in out.logs.items():
                sums[name] += value
            n_batches += 1
        finite.raise_if_any(epoch)  # before anything is evaluated or saved from a broken state
        history.append(epoch_row(method, epoch, sums, n_batches, lambda epoch=epoch: {
            split: evaluate(method, data, autocast) for split, data in eval_splits(cfg, epoch, train_data, test_data)}))
        if "test_student_top1" in history[-1]:
            bar.set_postfix(student=f"{history[-1]['test_student_top1']:.1f}",
                            teacher=f"{history[-1]['test_teacher_top1']:.1f}")
        if cfg.checkpoint_dir and distributed.is_main_process():  # ranks hold the same state: rank 0 writes it
            save_checkpoint(cfg.checkpoint_dir, method, opt, d_opt, epoch + 1, history, generator, cfg)
        if after_epoch is not None:
            after_epoch(epoch)
    return pd.DataFrame(history)


def eval_splits(cfg, epoch: int, train_data, test_data) -> list:
    """The splits evaluated after ``epoch``: every ``eval_every`` epochs and after the last (``eval_every``
    0: only after the last); the training split only with ``eval_train``. Evaluation draws no random
    number and changes no state, so it never changes what a run trains (tests/test_training.py)."""
    last = epoch + 1 == cfg.epochs
    if not last and (not cfg.eval_every or (epoch + 1) % cfg.eval_every):
        return []
    return ([("train", train_data)] if cfg.eval_train else []) + [("test", test_data)]


def epoch_row(method: Method, epoch: int, sums: dict, n_batches: int, evaluations) -> dict:
    """One history row: the epoch's mean step values, the regime of its batches, what ``end_epoch``
    logs (λ), then ``evaluations()`` ({split: evaluate(...)}) — in that order, as λ changes in end_epoch."""
    regime = sums.pop("_regime", None)
    means, bookkeeping = split_logs(sums, n_batches)
    row = {"epoch": epoch + 1, "phase": "warmup" if method.in_warmup(epoch) else "distill", **means}
    # the regime AMID sees, from the batches actually drawn: same-class items per anchor in Eq 8
    # (itself included) and the share of samples with a same-class partner (the set D2 sees)
    if regime is not None and n_batches:
        row["batch_positives"], row["batch_with_partner"] = (float(regime[0]) / n_batches, float(regime[1]) / n_batches)
    row.update({k: float(v) for k, v in method.end_epoch(epoch, bookkeeping).items()})
    for split, values in evaluations().items():
        row.update({f"{split}_{k}": v for k, v in values.items()})
    return row


def _config_fingerprint(cfg) -> str:
    """What must match for a checkpoint to be resumed: every config value but where/how it is shown."""
    skip = {"checkpoint_dir", "progress", "num_workers", "eval_batch_size", "num_threads"}
    text = json.dumps({k: v for k, v in dict(cfg).items() if k not in skip}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def save_checkpoint(folder, method: Method, opt, d_opt, epoch: int, history: list,
                    generator: torch.Generator | None = None, cfg=None) -> Path:
    """``<folder>/last.pt`` after every epoch (written to a temporary file, then renamed, so a
    crash mid-write leaves the previous checkpoint intact): weights, optimizer states, history,
    random states and the config's fingerprint (so :func:`resume_checkpoint` continues exactly).

    Everything is tensors or plain data (numbers, strings, lists, dicts; the numpy random state as a
    tensor), so the file loads with ``torch.load(weights_only=True)``: a checkpoint on a shared
    filesystem can then never run code in the process that resumes it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "last.pt"
    state = {"epoch": epoch, "method": method.state_dict(), "optimizer": opt.state_dict(),
             "discriminator_optimizer": d_opt.state_dict() if d_opt is not None else None,
             "history": _plain(history),
             "config": _config_fingerprint(cfg) if cfg is not None else None,
             "rng": {"generator": generator.get_state() if generator is not None else None,
                     "torch": torch.get_rng_state(), "numpy": _numpy_rng_state(),
                     "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None}}
    with atomic_path(path) as tmp:  # a reader (a resumed run) never sees half a checkpoint
        torch.save(state, tmp)
    # its seal, last: a resumed run checks the file against it (a crash between the two renames leaves a seal that
    # does not match: the run then starts over, never from a checkpoint it cannot trust)
    atomic_write_text(folder / CHECKPOINT_SEAL, json.dumps(file_digest(path)))
    return path


#: beside ``last.pt``: its size and SHA-256, written after it
CHECKPOINT_SEAL = "last.json"


def checkpoint_problem(path: Path) -> str | None:
    """Why the checkpoint at ``path`` cannot be trusted (None: it is the file its seal describes)."""
    try:
        sealed = json.loads((path.parent / CHECKPOINT_SEAL).read_text())
    except FileNotFoundError:
        return f"it has no {CHECKPOINT_SEAL} beside it (written part-way, or before checkpoints were sealed)"
    except (OSError, ValueError) as exc:
        return f"its {CHECKPOINT_SEAL} is unreadable ({type(exc).__name__})"
    found = file_digest(path)
    if found != sealed:
        return f"it differs from its seal ({found['bytes']} bytes, sealed {sealed.get('bytes')})"
    return None


def _plain(value):
    """``value`` with numpy scalars and arrays turned into Python numbers and lists (JSON's types)."""
    return json.loads(json.dumps(value, default=lambda v: v.tolist() if hasattr(v, "tolist") else str(v)))


def _numpy_rng_state() -> dict:
    name, keys, pos, has_gauss, cached = np.random.get_state()
    return {"name": str(name), "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)), "pos": int(pos),
            "has_gauss": int(has_gauss), "cached_gaussian": float(cached)}


def _set_numpy_rng_state(state: dict) -> None:
    np.random.set_state((state["name"], state["keys"].numpy().astype(np.uint32), state["pos"], state["has_gauss"],
                         state["cached_gaussian"]))


class CheckpointMismatchError(ValueError):
    """A checkpoint folder holds a run with another configuration."""


class UnsafeCheckpointError(ValueError):
    """A checkpoint that does not load as tensors and plain data (it could run code): refused."""


def load_checkpoint_file(path) -> dict:
    """``torch.load(path, weights_only=True)``: tensors and plain data only. A file that would need
    more (a pickle that imports or calls anything: a crafted file can run code that way, or one
    written by a version that stored numpy objects) is refused with :class:`UnsafeCheckpointError`."""
    import pickle

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise UnsafeCheckpointError(
            f"refusing to load {path}: it holds more than tensors and plain data, so loading it could run code "
            f"({first}). amidlib never writes such checkpoints; if you did not write this file, someone else did: "
            "delete it (and check who can write to that folder)") from None


def resume_checkpoint(folder, method: Method, opt, d_opt, generator: torch.Generator, cfg) -> tuple[int, list]:
    """Load ``<folder>/last.pt`` if there is one: (epochs done, history so far); (0, []) otherwise.

    The checkpoint must come from the same configuration (else :class:`CheckpointMismatchError`
    names the folder: delete it or use another). Weights, buffers (λ, memory banks), optimizer
    states and random states are restored, so on CPU a resumed run ends with the same numbers as
    an uninterrupted one.
    """
    path = Path(folder) / "last.pt"
    if not path.is_file():
        return 0, []
    problem = checkpoint_problem(path)
    if problem is not None:  # never resumed from: kept beside, for inspection, and the run starts over
        aside = path.with_name(f"last.pt.damaged.{time.time_ns()}")
        os.replace(path, aside)
        print(f"warning: damaged checkpoint {path}: {problem}; moved to {aside}; the run starts from epoch 0",
              file=sys.stderr, flush=True)
        return 0, []
    state = load_checkpoint_file(path)
    if state.get("config") != _config_fingerprint(cfg):
        raise CheckpointMismatchError(
            f"{path} holds a run with another configuration (fingerprint {state.get('config')} vs "
            f"{_config_fingerprint(cfg)}): delete that folder or pass another checkpoint_dir")
    method.load_state_dict(state["method"])
    opt.load_state_dict(state["optimizer"])
    if d_opt is not None and state.get("discriminator_optimizer") is not None:
        d_opt.load_state_dict(state["discriminator_optimizer"])
    rng = state.get("rng") or {}
    if rng.get("generator") is not None:
        generator.set_state(rng["generator"])
    if rng.get("torch") is not None:
        torch.set_rng_state(rng["torch"])
    if rng.get("numpy") is not None:
        _set_numpy_rng_state(rng["numpy"])
    if rng.get("cuda") is not None and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(rng["cuda"])
    return int(state["epoch"]), list(state["history"])


def mixed_precision(cfg):
    """``cfg.amp`` ("bf16" | "fp16" | None) on CUDA: an autocast context and a gradient scaler
    (a no-op scaler for bf16 and full precision). On CPU training stays in float32."""
    device = torch.device(cfg.device)
    enabled = bool(cfg.amp) and device.type == "cuda"
    dtype = torch.float16 if cfg.amp == "fp16" else torch.bfloat16
    scaler = torch.amp.GradScaler("cuda", enabled=enabled and cfg.amp == "fp16")

    def autocast():
        return torch.autocast(device_type=device.type, dtype=dtype, enabled=enabled)

    return autocast, scaler


def _check_finite(name: str, value: torch.Tensor, epoch: int, step: int) -> None:
    """Raise :class:`NonFiniteLossError` now if ``value`` is NaN/inf (reads the value: a host sync)."""
    if not torch.isfinite(value).all():
        _raise_non_finite(name, value.item() if value.numel() == 1 else value, epoch, step)


def _raise_non_finite(name: str, value, epoch: int, step: int):
    raise NonFiniteLossError(
        f"loss term '{name}' is {value} at epoch {epoch + 1}, step {step}: "
        "lower the learning rate or check the input features for NaN/inf"
    )


class FiniteCheck:
    """The loss terms' finite check, without waiting for the device in a step.

    Per set of term names, two device tensors: the first step at which each term was NaN/inf (−1: none)
    and its value then. :meth:`add` queues three small kernels; :meth:`raise_if_any`, once per epoch,
    reads them and raises :class:`NonFiniteLossError` naming the term, the epoch and the first bad step.
    (A bad step still updates the weights; the epoch's end then stops the run before anything from it is
    evaluated or checkpointed.)"""

    def __init__(self):
        self._first: dict[tuple[str, ...], tuple[torch.Tensor, torch.Tensor]] = {}

    def add(self, terms: dict[str, torch.Tensor], step: int) -> None:
        names = tuple(terms)
        values = torch.stack([v.detach().float().reshape(()) for v in terms.values()])
        first, at = self._first.get(names) or (torch.full_like(values, -1.0), torch.zeros_like(values))
        new = (first < 0) & ~torch.isfinite(values)
        self._first[names] = (torch.where(new, float(step), first), torch.where(new, values, at))

    def raise_if_any(self, epoch: int) -> None:
        bad = [(int(s), name, v) for names, (first, at) in self._first.items()
               for name, s, v in zip(names, first.tolist(), at.tolist(), strict=True) if s >= 0]
        if bad:
            step, name, value = min(bad)
            _raise_non_finite(name, value, epoch, step)
