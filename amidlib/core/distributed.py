"""One training run on several processes (``torchrun --nproc_per_node N``), equal to the run one
process computes on the same global batch.

The method code is unchanged. What :func:`amidlib.core.training.train` does under torchrun:

- **Batches.** Every rank draws the single-process batch order (same seed, same generator) and
  takes its slice of each global batch of ``cfg.batch_size`` items (``cfg.batch_size`` is the global
  batch; it must divide by the number of ranks). Only the slice's inputs go through the extractor;
  the batch's labels and dataset indices stay global.
- **Gather after the extractors.** A forward hook on each net's target extractor (the expensive
  part, e.g. R(2+1)D-18) and frozen auxiliary extractor all-gathers their outputs across ranks,
  the target's *with gradients* (``torch.distributed.nn.functional.all_gather``). Everything after
  (teacher head, projections, classifier, CRD/GMC/CCL heads, D1/D2) then runs on the global batch,
  identically on every rank: Eq 8/9 and CCL's L_nce, GMC's and CRD's negatives see the whole global
  batch; D2's same-class partners are drawn from it; λ's cosine sums (Eq 14) are global sums; CRD's
  memory banks receive every rank's rows and stay identical on every rank.
- **Gradients.** Every rank computes the same global loss. all_gather's backward sums the gradient
  of every rank's copy (so a rank's extractor gradient is N × its slice's share), and averaging the
  gradients across ranks after each backward — what ``DistributedDataParallel`` does — gives
  exactly the single-process gradient for every parameter, before and after the gather
  (:func:`allreduce_gradients`: one flattened all-reduce per backward).
- **Random numbers.** Every rank holds the same random state. ``nn.Dropout`` inside a target
  extractor is replaced by :class:`GlobalBatchDropout`, which draws the global batch's mask and
  keeps its rows, so masks (and the random stream after them: CRD's negatives) are the single
  process's (exactly on CPU; on CUDA the fused dropout kernel draws differently, same law).
- **BatchNorm.** Inside target extractors it becomes ``SyncBatchNorm`` (statistics of the global
  batch) on CUDA; PyTorch's SyncBatchNorm has no CPU path, so on CPU batch norm keeps per-rank
  statistics (noted in the run record).
- **Writes.** Only rank 0 writes checkpoints, run records and the cache (:func:`is_main_process`);
  every rank resumes from the same checkpoint.

Not covered: a method that feeds its own random or data-dependent inputs to the extractor (none
here), and a batch whose size does not divide by the number of ranks (refused, by name).

Entry point (in the repro layer, which may read data): ``torchrun --nproc_per_node 2 -m amidlib.repro.torchrun
--method amid --out DIR`` trains one embedded run and (rank 0) saves its record with ``world_size`` 2.
"""
from __future__ import annotations

import contextlib
import inspect
import os
import threading
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

__all__ = ["World", "world", "world_size", "rank", "is_main_process", "init_from_env", "prepare",
           "GlobalBatchDropout", "allreduce_gradients", "shard_batches", "DistributedSetupError"]


class DistributedSetupError(RuntimeError):
    """A run that cannot be split across ranks as it is configured; the message says why."""


@dataclass(frozen=True)
class World:
    rank: int
    size: int


def world() -> World | None:
    """The process group this process belongs to, or None when it runs alone (no torchrun, or 1 rank)."""
    if dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1:
        return World(dist.get_rank(), dist.get_world_size())
    return None


def world_size() -> int:
    w = world()
    return w.size if w else 1


def rank() -> int:
    w = world()
    return w.rank if w else 0


def is_main_process() -> bool:
    """True on rank 0 and in a process that runs alone: the one that writes files."""
    return rank() == 0


def init_from_env(device: str = "cpu") -> str:
    """Join the process group torchrun describes (``WORLD_SIZE``, ``RANK``, ``MASTER_ADDR``, ...):
    NCCL for CUDA, gloo for CPU. Returns the device of this rank (``cuda:<LOCAL_RANK>`` for CUDA).
    Without torchrun's variables nothing happens."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return device
    cuda = str(device).startswith("cuda")
    local = int(os.environ.get("LOCAL_RANK", "0"))
    if cuda:
        torch.cuda.set_device(local)
        device = f"cuda:{local}"
    if not dist.is_initialized():
        dist.init_process_group("nccl" if cuda else "gloo")
    return device


# --------------------------------------------------------------------------- gathering
_state = threading.local()


def _gathering() -> bool:
    return getattr(_state, "active", False)


@contextlib.contextmanager
def gathering(counter: list | None = None):
    """Inside: the extractors' hooks all-gather their outputs (the training step's forward)."""
    prev, prev_counter = _gathering(), getattr(_state, "counter", None)
    _state.active, _state.counter = True, counter
    try:
        yield
    finally:
        _state.active, _state.counter = prev, prev_counter


def _all_gather(x: torch.Tensor, with_grad: bool) -> torch.Tensor:
    if with_grad and x.requires_grad:
        from torch.distributed.nn.functional import all_gather

        return torch.cat(all_gather(x.contiguous()), dim=0)
    parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, x.detach().contiguous())
    return torch.cat(parts, dim=0)


def _gather_hook(with_grad: bool):
    def hook(module, inputs, output):
        if not _gathering():
            return None
        counter = getattr(_state, "counter", None)
        if counter is not None:
            counter.append(1)
        return _all_gather(output, with_grad)
    return hook


class GlobalBatchDropout(nn.Module):
    """``nn.Dropout`` for one rank's slice of a global batch: draws the mask of the whole global batch
    (as one process would, from the same random state) and applies this rank's rows."""

    def __init__(self, p: float, rank: int, size: int):
        super().__init__()
        self.p, self.rank, self.size = float(p), int(rank), int(size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        if self.p == 1.0:
            return x * 0.0
        b = x.shape[0]
        noise = torch.empty((b * self.size, *x.shape[1:]), dtype=x.dtype, device=x.device).bernoulli_(1 - self.p)
        noise.div_(1 - self.p)
        return x * noise[self.rank * b:(self.rank + 1) * b]

    def extra_repr(self) -> str:
        return f"p={self.p}, rank={self.rank}/{self.size}"


def _cross_modal_nets(method: nn.Module) -> list:
    from amidlib.core.models import CrossModalNets

    return [m for m in method.modules() if isinstance(m, CrossModalNets)]


def _replace_children(root: nn.Module, make, restore: list) -> None:
    """Replace every submodule ``m`` of ``root`` for which ``make(m)`` is not None; record how to undo it."""
    for name, child in list(root.named_children()):
        new = make(child)
        if new is not None:
            root._modules[name] = new
            restore.append((root, name, child))
        else:
            _replace_children(child, make, restore)


@contextlib.contextmanager
def prepare(method: nn.Module, device) -> contextlib.AbstractContextManager[dict]:
    """Set ``method`` up for the ranks of the current process group (a no-op alone): gather hooks on
    every net's extractors, dropout over the global batch and SyncBatchNorm (CUDA) in the target
    extractors. Yields a dict for the run record (``world_size``, ``batch_norm``); undone on exit, so
    the trained method is the plain one (state-dict keys unchanged)."""
    w = world()
    if w is None:
        yield {"world_size": 1}
        return
    nets = _cross_modal_nets(method)
    if not nets:
        raise DistributedSetupError(f"{type(method).__name__} has no CrossModalNets: nothing to gather across ranks")
    handles, restore = [], []
    cuda = torch.device(device).type == "cuda"
    has_bn = False
    for net in nets:
        def dropout(m):
            if type(m) is nn.Dropout:
                return GlobalBatchDropout(m.p, w.rank, w.size)
            return None
        _replace_children(net.target_extractor, dropout, restore)
        has_bn = has_bn or any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in net.target_extractor.modules())
        if cuda and has_bn:
            original = net.target_extractor
            net._modules["target_extractor"] = nn.SyncBatchNorm.convert_sync_batchnorm(original)  # same parameters
            restore.append((net, "target_extractor", original))
        handles.append(net.target_extractor.register_forward_hook(_gather_hook(with_grad=True)))
        handles.append(net.aux_extractor.register_forward_hook(_gather_hook(with_grad=False)))
    info = {"world_size": w.size}
    if has_bn:
        info["batch_norm"] = ("SyncBatchNorm (global batch)" if cuda
                              else "per-rank statistics (SyncBatchNorm needs CUDA)")
    _state.last = {k: v for k, v in info.items() if k == "batch_norm"}
    try:
        yield info
    finally:
        for h in handles:
            h.remove()
        for parent, name, child in reversed(restore):  # (SyncBatchNorm updated the BatchNorm's own tensors)
            parent._modules[name] = child


def last_setup() -> dict:
    """What :func:`prepare` noted for the run record at its last call in this process (batch norm)."""
    return dict(getattr(_state, "last", {}))


def allreduce_gradients(params) -> None:
    """Average the gradients of ``params`` across ranks (one flattened all-reduce per dtype and
    device), as ``DistributedDataParallel`` does; a no-op alone."""
    w = world()
    if w is None:
        return
    groups: dict = {}
    for p in params:
        if p.grad is not None:
            groups.setdefault((p.grad.dtype, p.grad.device), []).append(p.grad)
    for grads in groups.values():
        flat = torch._utils._flatten_dense_tensors(grads)
        dist.all_reduce(flat)
        flat.div_(w.size)
        for g, new in zip(grads, torch._utils._unflatten_dense_tensors(flat, grads), strict=True):
            g.copy_(new)


def shard_batches(data, batch_size: int, generator, drop_last: bool = True):
    """This rank's part of each training batch: the single-process order, global batches of
    ``batch_size``; inputs of this rank's slice, labels and indices of the whole batch. A loader whose
    ``batches`` takes ``shard=(rank, size)`` loads only its slice (and returns that form itself);
    otherwise the global batch is loaded and sliced."""
    from amidlib.core.types import Batch

    w = world()
    if w is None:
        yield from data.batches(batch_size, generator, drop_last=drop_last)
        return
    if batch_size % w.size:
        raise DistributedSetupError(f"batch_size {batch_size} (the global batch) does not divide by the {w.size} "
                                    f"ranks: choose a multiple of {w.size}")
    if "shard" in inspect.signature(data.batches).parameters:
        yield from data.batches(batch_size, generator, drop_last=drop_last, shard=(w.rank, w.size))
        return
    for b in data.batches(batch_size, generator, drop_last=drop_last):
        n = len(b.y)
        if n % w.size:
            raise DistributedSetupError(f"a training batch of {n} items does not divide by the {w.size} ranks "
                                        f"(a split smaller than batch_size {batch_size}?)")
        part = n // w.size
        sl = slice(w.rank * part, (w.rank + 1) * part)
        yield Batch(b.x_target[sl], b.x_aux[sl], b.y, b.index)
