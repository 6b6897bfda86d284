"""One call trains one method and returns everything a table or figure needs.

    from amidlib.core.experiment import run
    res = run("amid", train_ds, test_ds, seed=0, epochs=30, alpha1=4.0)
    res.metrics   # student_top1, teacher_top1, student_r1, student_r5, wa, ua, per-class accuracy, ...
    res.history   # one row per epoch: every loss term by name, accuracies, gap, cosines, λ1, λ2
    res.config    # every value used, the seed, the package versions
    res.save("runs/my_run")   # config.json, metrics.json, history.csv — written atomically, never overwritten

Feature arrays (``MultimodalArrays``) need nothing more. Other data bring what training needs as
arguments (the caller knows the data; ``run`` does not inspect it): ``nets_factory`` (the networks,
e.g. the video student or the IEMOCAP GRU), ``loader_factory`` (the batches, e.g. clips decoded per
batch) and ``record_extra`` (what the run's record keeps about the data). ``amidlib.repro.runs``
passes them for every dataset of the reproduction (from :mod:`amidlib.data.splits`).
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch

from amidlib import __version__
from amidlib.core import batched, distributed, metrics
from amidlib.core.config import make_config, unknown_name_message
from amidlib.core.files import atomic_write_text, readable_as_usual  # noqa: F401  (re-exported: older import path)
from amidlib.core.methods import METHODS
from amidlib.core.models import CrossModalNets, build_nets
from amidlib.core.training import TensorData, embed_all, mixed_precision, seed_everything, train


@dataclass
class Result:
    """The record of one run."""

    method: str
    metrics: dict[str, Any]
    history: pd.DataFrame
    config: dict[str, Any]
    extras: dict[str, Any] = field(default_factory=dict)  # e.g. test embeddings for plots (not saved)
    model: Any = field(default=None, repr=False)  # the trained Method, with run(..., keep_model=True) (not saved)

    def save(self, path: str | os.PathLike, overwrite: bool = False) -> Path:
        """Write config.json, metrics.json and history.csv into ``path`` (atomically, file by file).

        An existing record is never replaced silently: pass ``overwrite=True`` to do so.
        """
        path = Path(path)
        if (path / "metrics.json").exists() and not overwrite:
            raise FileExistsError(f"{path} already holds a run record; choose a new folder or pass overwrite=True")
        path.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path / "config.json", json.dumps(self.config, indent=2, default=str))
        atomic_write_text(path / "history.csv", self.history.to_csv(index=False))
        atomic_write_text(path / "metrics.json", json.dumps(self.metrics, indent=2, default=_json_default))
        return path


def _json_default(value):
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


def versions() -> dict[str, str]:
    """Package versions and the code's git commit, recorded with every run."""
    info = {
        "amidlib": __version__,
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "platform": platform.platform(),
    }
    try:
        info["git_commit"] = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=5
        ).stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        info["git_commit"] = "unknown"
    return info


def run(method: str, train_ds, test_ds, seed: int = 0, preset: str | None = "embedded", *,
        nets_factory: Callable[[Any, int, Any], CrossModalNets] | None = None,
        loader_factory: Callable[[Any, Any], Any] | None = None,
        record_extra: dict | None = None, keep_model: bool = False, **overrides) -> Result:
    """Train ``method`` on ``train_ds`` and evaluate on ``test_ds``.

    ``method``: a registered method (:data:`amidlib.core.methods.METHODS`: baseline, teacher, crd, gmc,
    crcd, ccl, amid, kd, and any module added to ``amidlib/core/methods/``). ``preset``: tiny, embedded (default),
    paper_video, paper_iemocap (see :mod:`amidlib.core.config`). Any config value can be overridden by
    name; an unknown method or override name is refused with the list of valid ones.

    With feature arrays (``MultimodalArrays``) the defaults apply: the MLP nets of
    :func:`amidlib.core.models.build_nets` and the splits held as tensors (:class:`TensorData`).
    Other data say what they need:

    - ``nets_factory(train_ds, n_classes, cfg) -> CrossModalNets``: the networks (called once per
      set of nets: the method's, and the pre-trained teacher's when the method has one);
    - ``loader_factory(ds, cfg)``: what the training loop reads (the interface of
      :class:`TensorData`: ``n``, ``y``, ``batches(batch_size, generator, drop_last)``, and ``final()``:
      what the final metrics read, e.g. every test clip of a video where the per-epoch evaluation reads one);
    - ``record_extra``: merged into ``Result.config`` (e.g. the data's skipped files and notes);
    - ``keep_model=True``: the trained method in ``Result.model`` (not saved).

    The datasets are standardized first (``cfg.standardize``); the factories get the standardized ones.
    """
    setup = _setup(method, train_ds, test_ds, preset, nets_factory, loader_factory, overrides)
    method_cls, cfg, train_data, test_data, n_classes, new_nets = setup
    started, cpu_started = time.perf_counter(), time.process_time()
    # what the method needs trained first (AMID's fixed teacher); {} for the others, without drawing a random number
    extra_kwargs = method_cls.pretrain(cfg, new_nets, train_data, test_data, n_classes, seed)
    seed_everything(seed)
    model = method_cls(new_nets(), cfg, n_classes, train_data.n, **extra_kwargs).to(cfg.device)
    last = LastEpochs([model], [setup])
    history = train(model, train_data, test_data, cfg, seed, desc=f"{method} seed {seed}", after_epoch=last.read)
    return _result(method, model, history, setup, train_ds, test_ds, seed, time.perf_counter() - started,
                   time.process_time() - cpu_started, record_extra, keep_model, last.final(0))


def run_seeds(method: str, train_ds, test_ds, seeds, preset: str | None = "embedded", *,
              nets_factory: Callable[[Any, int, Any], CrossModalNets] | None = None,
              loader_factory: Callable[[Any, Any], Any] | None = None,
              record_extra: dict | None = None, keep_model: bool = False,
              slot_overrides: Sequence[dict] | None = None, **overrides) -> list[Result]:
    """:func:`run` for several seeds: one Result per seed, in order. ``train_ds`` / ``test_ds``: one split for every
    seed, or a list with each seed's own (one size; e.g. the split drawn from the seed). ``slot_overrides``: per
    seed, values of the method's ``slot_options`` on top of ``overrides`` (AMID: α1, α2, α3), so a grid of them
    trains as one batched model (Table 6); each seed's Result records its own. Where the configuration
    allows it (:func:`amidlib.core.batched.batchable`: a method that opts in, feature arrays on the CPU, no
    checkpoints) the seeds train as one batched model (:mod:`amidlib.core.batched`), each exactly as it would alone
    up to float rounding, for little more than one run's time; otherwise one after another.
    ``Result.config["engine"]`` says which ("batched: K seeds" or "single")."""
    seeds = [int(s) for s in seeds]
    per_seed = isinstance(train_ds, (list, tuple))  # each seed its own split (the split drawn from the seed)
    trains = list(train_ds) if per_seed else [train_ds] * len(seeds)
    tests = list(test_ds) if per_seed else [test_ds] * len(seeds)
    if len(trains) != len(seeds) or len(tests) != len(seeds):
        raise ValueError(f"run_seeds: {len(seeds)} seeds but {len(trains)} training and {len(tests)} test splits")
    slots = _slot_overrides(method, slot_overrides, len(seeds))
    cfg = make_config(_method_class(method).defaults, preset=preset, **overrides)
    if nets_factory or loader_factory or not batchable(method, cfg):  # (decided before any data is prepared)
        return [run(method, tr, te, seed, preset, nets_factory=nets_factory, loader_factory=loader_factory,
                    record_extra=record_extra, keep_model=keep_model, **{**overrides, **slot})
                for seed, tr, te, slot in zip(seeds, trains, tests, slots, strict=True)]
    if per_seed:
        setups = [_setup(method, tr, te, preset, nets_factory, loader_factory, {**overrides, **slot})
                  for tr, te, slot in zip(trains, tests, slots, strict=True)]
    else:
        shared = _setup(method, train_ds, test_ds, preset, nets_factory, loader_factory, overrides)
        setups = [(shared[0], make_config(shared[0].defaults, preset=preset, **{**overrides, **slot}), *shared[2:])
                  if slot else shared for slot in slots]  # (only the config differs: the slot options)
    method_cls, cfg, _, _, _, new_nets = setups[0]
    n_classes = max(setup[4] for setup in setups)
    started, cpu_started = time.perf_counter(), time.process_time()
    models = []
    # each built as run() builds it
    for seed, (_, own_cfg, train_data, test_data, _, _) in zip(seeds, setups, strict=True):
        extra_kwargs = method_cls.pretrain(own_cfg, new_nets, train_data, test_data, n_classes, seed)
        seed_everything(seed)
        models.append(method_cls(new_nets(), own_cfg, n_classes, train_data.n, **extra_kwargs).to(cfg.device))
    if per_seed:
        train_data, test_data = [setup[2] for setup in setups], [setup[3] for setup in setups]
    else:
        train_data, test_data = setups[0][2], setups[0][3]
    last = LastEpochs(models, setups)
    histories = batched.train_seeds(models, train_data, test_data, cfg, seeds, desc=f"{method} seeds {seeds}",
                                    after_epoch=last.read)
    wall, cpu = (time.perf_counter() - started) / len(seeds), (time.process_time() - cpu_started) / len(seeds)
    extra = {**(record_extra or {}), "engine": f"batched: {len(seeds)} seeds {seeds}"}
    return [_result(method, model, history, setup, tr, te, seed, wall, cpu, extra, keep_model, last.final(k))
            for k, (seed, model, history, setup, tr, te) in enumerate(zip(seeds, models, histories, setups, trains,
                                                                          tests, strict=True))]


class LastEpochs:
    """The final metrics of each of the last ``final_epochs`` epochs, read after each of them (``after_epoch``), and
    their mean: a run's final metrics when ``final_epochs`` > 1. With ``final_epochs`` 1 nothing is read during
    training and the final metrics are those of the trained model, as always."""

    def __init__(self, models: list, setups: list):
        self.models, self.setups = models, setups
        self.read_metrics: list[list[dict[str, Any]]] = [[] for _ in models]

    def read(self, epoch: int) -> None:
        cfg = self.setups[0][1]
        if cfg.final_epochs > 1 and epoch + 1 > cfg.epochs - cfg.final_epochs:
            for k, (model, (_, own_cfg, train_data, test_data, n_classes, _)) in enumerate(
                    zip(self.models, self.setups, strict=True)):
                self.read_metrics[k].append(_final_metrics(model, train_data, test_data, n_classes, own_cfg))

    def final(self, k: int) -> dict[str, Any] | None:
        """Model ``k``'s final metrics, the mean over the epochs read (lists element by element); None: none read."""
        read = self.read_metrics[k]
        if not read:
            return None
        return {name: (np.mean([r[name] for r in read], axis=0).tolist() if isinstance(read[0][name], list)
                       else float(np.mean([r[name] for r in read]))) for name in read[0]}


@dataclass(frozen=True)
class RunFlops:
    """The floating-point operations one run of a configuration performs (what ``torch.utils.flop_counter``
    counts: the matrix products, forward and backward), from one step of each phase, one evaluation and the
    final metrics; the same for every seed (shapes, not values, decide them)."""

    steps_per_epoch: int
    warmup_epochs: int          # epochs of the warm-up phase (≤ epochs)
    distill_epochs: int
    step_warmup: int            # one training step in the warm-up (forward, backward, discriminators)
    step_distill: int           # one training step after it
    once: int                   # what a phase's first step does once more (CRD's normalising constant)
    evaluation: int             # every per-epoch evaluation of the run, summed
    final: int                  # the final metrics (embeddings of both splits, retrieval), each time they are read
    pretrain: int = 0           # what the method trains before its own model (AMID's fixed teacher)

    @property
    def training(self) -> int:
        return (self.steps_per_epoch * (self.warmup_epochs * self.step_warmup + self.distill_epochs * self.step_distill)
                + self.once)

    @property
    def total(self) -> int:
        return self.pretrain + self.training + self.evaluation + self.final


def run_flops(method: str, train_ds, test_ds, preset: str | None = "embedded", **overrides) -> RunFlops:
    """The FLOPs :func:`run` (or one seed of :func:`run_seeds`: the batched products are the same
    arithmetic) would perform, counted on an untrained model in milliseconds: one step of each phase,
    one evaluation of each split and the final metrics, each under ``FlopCounterMode``, times how often
    the run does them. Feature arrays only (the default nets and loader). ``tests/test_flops.py`` checks
    it against a count over whole runs; :mod:`amidlib.repro.roofline` adds up a workload's."""
    method_cls, cfg, train_data, test_data, n_classes, new_nets = _setup(method, train_ds, test_ds, preset, None,
                                                                         None, overrides)
    with torch.random.fork_rng():  # nothing here may move the caller's random streams
        pretrain = 0
        if cfg.get("fixed_teacher"):  # AMID's Table 5 arm: the teacher alone trained first, as AMID.pretrain does
            pre_cfg = type(cfg)(cfg, epochs=cfg.teacher_pretrain_epochs or cfg.epochs)
            teacher = METHODS["teacher"](new_nets(), pre_cfg, n_classes, train_data.n)
            pretrain = _training_flops(teacher, pre_cfg, train_data, test_data).total
        extra = {"pretrained_teacher": new_nets()} if cfg.get("fixed_teacher") else {}
        model = method_cls(new_nets(), cfg, n_classes, train_data.n, **extra).to(cfg.device)
        flops = _training_flops(model, cfg, train_data, test_data)
        model.eval()
        final = _count_flops(lambda: _final_metrics(model, train_data, test_data, n_classes, cfg))
    # read after each of the last final_epochs epochs (LastEpochs), or once after training
    return dataclasses.replace(flops, final=final * min(cfg.final_epochs, cfg.epochs), pretrain=pretrain)


def _count_flops(fn) -> int:
    """The FLOPs ``fn()`` performs, as ``torch.utils.flop_counter.FlopCounterMode`` counts them (its formulas, and
    an operator without one decomposed first, as it does), without its per-module bookkeeping: ~9× faster, which
    a reproduction's ~60 configurations need (15 s → 2 s). ``tests/test_flops.py`` holds it to FlopCounterMode."""
    from torch.utils._python_dispatch import TorchDispatchMode
    from torch.utils.flop_counter import flop_registry

    class Count(TorchDispatchMode):
        total = 0

        def __torch_dispatch__(self, func, types, args=(), kwargs=None):
            kwargs = kwargs or {}
            if func in _SHAPE_QUERIES:
                return NotImplemented
            formula = flop_registry.get(func._overloadpacket)
            if formula is None and func is not torch.ops.prim.device.default:
                with self:
                    out = func.decompose(*args, **kwargs)
                    if out is not NotImplemented:
                        return out
            out = func(*args, **kwargs)
            if formula is not None:
                self.total += formula(*args, **kwargs, out_val=out)
            return out

    with Count() as counter:
        fn()
    return int(counter.total)


#: what FlopCounterMode passes through untouched (shape and layout queries)
_SHAPE_QUERIES = {getattr(torch.ops.aten, name).default for name in (
    "sym_is_contiguous", "is_contiguous", "is_strides_like_format", "is_non_overlapping_and_dense", "size", "sym_size",
    "stride", "sym_stride", "storage_offset", "sym_storage_offset", "numel", "sym_numel", "dim")} | {
    torch.ops.aten.is_contiguous.memory_format, torch.ops.prim.layout.default}


def _training_flops(model, cfg, train_data, test_data) -> RunFlops:
    """:func:`run_flops` of :func:`amidlib.core.training.train` (the steps and per-epoch evaluations) of ``model``."""
    from amidlib.core.training import eval_splits, evaluate

    model.train()
    batch = next(train_data.batches(cfg.batch_size, torch.Generator().manual_seed(0), drop_last=True))

    def step(epoch: int):  # as the training loop's step: the method's terms, then the discriminators' (Eq 13)
        out = model(batch, epoch)
        total = sum(out.losses.values())
        if torch.is_tensor(total) and total.requires_grad:
            total.backward()
        d_loss = model.discriminator_loss(out, batch, epoch)
        if d_loss is not None and d_loss.requires_grad:
            d_loss.backward()

    def phase(epoch: int) -> tuple[int, int]:
        """(FLOPs of a step of this phase, what its first step does once more): two steps counted, because a
        method may set something up at its first (CRD's normalising constant Z of Eq 19)"""
        first, second = _count_flops(lambda: step(epoch)), _count_flops(lambda: step(epoch))
        return second, first - second

    warm = min(cfg.warmup_epochs, cfg.epochs)
    step_warmup, once_warmup = phase(0) if warm else (0, 0)
    step_distill, once_distill = phase(cfg.warmup_epochs) if cfg.epochs > warm else (0, 0)
    split_flops = {"train": _count_flops(lambda: evaluate(model, train_data)),
                   "test": _count_flops(lambda: evaluate(model, test_data))}
    evaluation = sum(split_flops[split] for epoch in range(cfg.epochs)
                     for split, _ in eval_splits(cfg, epoch, train_data, test_data))
    n, b = train_data.n, cfg.batch_size
    return RunFlops(steps_per_epoch=n // b if n > b else 1, warmup_epochs=warm, distill_epochs=cfg.epochs - warm,
                    step_warmup=step_warmup, step_distill=step_distill, once=once_warmup + once_distill,
                    evaluation=evaluation, final=0)


def _slot_overrides(method: str, slot_overrides, n_seeds: int) -> list[dict]:
    """``run_seeds``' per-seed overrides, checked: one per seed, each naming only the method's slot options."""
    if slot_overrides is None:
        return [{}] * n_seeds
    slots = [dict(slot) for slot in slot_overrides]
    if len(slots) != n_seeds:
        raise ValueError(f"run_seeds: {n_seeds} seeds but {len(slots)} slot_overrides")
    allowed = set(_method_class(method).slot_options)
    other = sorted({k for slot in slots for k in slot} - allowed)
    if other:
        raise ValueError(f"run_seeds: slot_overrides may set only {method}'s slot options "
                         f"({', '.join(sorted(allowed)) or 'none'}), not {', '.join(other)}")
    return slots


def batchable(method: str, cfg) -> bool:
    """Can seeds of ``method`` under ``cfg`` train as one batched model (:func:`run_seeds`)?"""
    return batched.batchable(_method_class(method), cfg)


def _method_class(method: str):
    if method not in METHODS:
        raise ValueError(unknown_name_message("method", method, METHODS))
    return METHODS[method]


def _setup(method, train_ds, test_ds, preset, nets_factory, loader_factory, overrides):
    """What run and run_seeds share: the config, the (standardized) splits as the loop reads them, the nets."""
    method_cls = _method_class(method)
    cfg = make_config(method_cls.defaults, preset=preset, **overrides)
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    if cfg.standardize:
        train_ds, stats = train_ds.standardized()
        test_ds, _ = test_ds.standardized(stats)
    n_classes = max(train_ds.n_classes, test_ds.n_classes)
    loader_factory = loader_factory or tensor_data
    train_data, test_data = loader_factory(train_ds, cfg), loader_factory(test_ds, cfg)
    nets_factory = nets_factory or mlp_nets

    def new_nets() -> CrossModalNets:
        return nets_factory(train_ds, n_classes, cfg)

    return method_cls, cfg, train_data, test_data, n_classes, new_nets


def _result(method, model, history, setup, train_ds, test_ds, seed, wall, cpu, record_extra, keep_model,
            final: dict[str, Any] | None = None) -> Result:
    """A trained model's Result: final metrics (``final``: those read over the last epochs, :class:`LastEpochs`;
    None: the trained model's), the regime it trained in, the record of every value used."""
    _, cfg, train_data, test_data, n_classes, _ = setup
    final = dict(final) if final is not None else _final_metrics(model, train_data, test_data, n_classes, cfg)
    final.update(regime_summary(history))
    record = dict(cfg)
    record.update(
        method=method, seed=seed, versions=versions(), n_classes=n_classes,
        train={"name": getattr(train_ds, "name", ""), "n": train_data.n, "target": list(train_ds.target),
               "auxiliary": list(train_ds.auxiliary)},
        test={"name": getattr(test_ds, "name", ""), "n": test_data.n},
        wall_seconds=wall,  # here, not in metrics: metrics are deterministic
        cpu_seconds=cpu,    # this process's CPU time (a batched run: its share of the task's); the roofline reads it
    )
    record.setdefault("engine", "single")
    if distributed.world_size() > 1:  # one run split across torchrun's ranks (cfg.batch_size is the global batch)
        record.update(world_size=distributed.world_size(), **distributed.last_setup())
    record.update(record_extra or {})
    return Result(method, final, history, record, model=model if keep_model else None)


def mlp_nets(ds, n_classes: int, cfg) -> CrossModalNets:
    """The default nets for feature arrays: MLP extractors on the target and auxiliary features."""
    return build_nets(ds.target_dim, ds.aux_dim, n_classes, cfg.dim, cfg.hidden, cfg.dropout)


def tensor_data(ds, cfg) -> TensorData:
    """The default loader for feature arrays: the split held as tensors on ``cfg.device``."""
    if not callable(getattr(ds, "target_array", None)):  # (for the message only: run dispatches on nothing)
        raise TypeError(f"{type(ds).__name__} is not a feature-array dataset: pass run() its nets_factory and "
                        "loader_factory (for video datasets: "
                        "**amidlib.data.video.datasets.video_run_args(train, test))")
    return TensorData(ds, cfg.device)


def regime_summary(history: pd.DataFrame) -> dict[str, float]:
    """The batch regime a run trained in, from its history: mean same-class items per anchor (Eq 8) and
    share of samples with a same-class partner (D2) over the batches drawn, the range λ1 took (Eq 14), and
    each of AMID's weighted terms' share of the objective over the distillation epochs (``share_adv`` …)."""
    out = {k: float(history[k].mean()) for k in ("batch_positives", "batch_with_partner") if k in history}
    if "lambda1" in history:
        out.update(lambda1_min=float(history["lambda1"].min()), lambda1_max=float(history["lambda1"].max()))
    # each weighted term's share of the objective over the distillation epochs (how much a term can move training)
    distill = history[history["phase"] == "distill"] if "phase" in history else history.iloc[0:0]
    if len(distill) and "loss_total" in distill and float(distill["loss_total"].mean()) > 0:
        total = float(distill["loss_total"].mean())
        out.update({f"share_{t}": float(distill[f"loss_{t}"].mean()) / total
                    for t in metrics.LOSS_SHARE_TERMS if f"loss_{t}" in distill})
    return out


def _final_metrics(model, train_data: TensorData, test_data: TensorData, n_classes: int, cfg) -> dict[str, Any]:
    """Top-1 (student, teacher), per-class accuracy, R@1/R@5 (test queries vs training gallery), WA/UA.
    The networks run under the training's mixed precision (bf16 on CUDA for the paper's video preset)."""
    # the loaders' final view: for video, K clips per video (the per-epoch evaluation reads one centre clip)
    train_data, test_data = train_data.final(), test_data.final()
    autocast, _ = mixed_precision(cfg)
    with autocast():
        test = embed_all(model, test_data)
        gallery = embed_all(model, train_data)["s"] if model.reports_student else None
    y = test_data.y.cpu().numpy()
    out: dict[str, Any] = {}
    if model.reports_student:
        pred = test["student_logits"].argmax(1).cpu().numpy()
        recall = metrics.recall_at_k(test["s"], y, gallery, train_data.y.cpu().numpy(), ks=(1, 5))
        out.update(
            student_top1=metrics.top1(y, pred),
            student_r1=recall[1],
            student_r5=recall[5],
            wa=metrics.weighted_accuracy(y, pred),
            ua=metrics.unweighted_accuracy(y, pred),
            per_class_student_top1=metrics.per_class_accuracy(y, pred, n_classes).tolist(),
        )
    else:
        out.update(student_top1=math.nan, student_r1=math.nan, student_r5=math.nan, wa=math.nan, ua=math.nan)
    if test["teacher_logits"] is not None:
        t_pred = test["teacher_logits"].argmax(1).cpu().numpy()
        out["teacher_top1"] = metrics.top1(y, t_pred)
        out["per_class_teacher_top1"] = metrics.per_class_accuracy(y, t_pred, n_classes).tolist()
    else:
        out["teacher_top1"] = math.nan
    return out
