"""The method interface and the registry of methods.

The interface follows mdistiller's distiller: a method owns the nets and returns its logits and a
dict of *named, weighted* loss terms, so every term is logged by name and the training loop just
sums them.

The registry follows torchdistill's decorator registry: a method registers itself where it is
defined, with its own defaults, so a method is one file::

    @register
    class MyMethod(Method):
        name = "mymethod"
        defaults = {"mymethod_weight": 1.0}

:data:`METHODS` (name -> class) is what :func:`amidlib.experiment.run` trains. It lives here, outside
the :mod:`amidlib.core.methods` package, so that the training loop can import the interface without
importing every method (AMID imports the training loop to pre-train its fixed teacher). The paper's
names for a method (table labels, colours, which tables list it) are not the core's business: they
live in :mod:`amidlib.paper.names`.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import torch
from torch import nn

from amidlib.core.models import CrossModalNets
from amidlib.core.types import Batch, Representations

__all__ = ["Method", "StepOutput", "Batch", "Defaults", "METHODS", "register", "unregister"]


@dataclass
class StepOutput:
    """What a method's forward returns for one batch."""

    reps: Representations
    losses: dict[str, torch.Tensor]                      # weighted terms; the total is their sum
    # unweighted diagnostics (floats or tensors; summed over the epoch, their means go to the history);
    # a name starting with "_" is bookkeeping: its epoch sum goes to end_epoch, not to the history
    logs: dict[str, float | torch.Tensor] = field(default_factory=dict)


class Defaults(dict):
    """A method's own config values (a plain dict of name -> default), with what a dict cannot say:

    - ``presets``: preset name -> the method's values under that preset (e.g. fewer CRCD negatives on
      the CPU presets), applied by :func:`amidlib.core.config.make_config` after the preset's own values;
    - ``choices``: name -> the values it may take, checked by ``make_config``.

    ``**cls.defaults`` and ``dict(cls.defaults)`` give the plain values, as for a dict."""

    def __init__(self, values: Mapping[str, Any] = (), *, presets: Mapping[str, Mapping[str, Any]] | None = None,
                 choices: Mapping[str, tuple] | None = None):
        super().__init__(values)
        self.presets = {p: dict(v) for p, v in (presets or {}).items()}
        self.choices = {k: tuple(v) for k, v in (choices or {}).items()}
        unknown = (sorted({k for v in self.presets.values() for k in v} - set(self))
                   + sorted(set(self.choices) - set(self)))
        if unknown:
            raise ValueError(f"per-preset values and choices must name the method's own defaults; unknown: {unknown}")


class Method(nn.Module):
    """Base class. Subclasses set ``name``, ``uses_teacher`` and, if needed, ``defaults``."""

    name: ClassVar[str] = ""
    uses_teacher: ClassVar[bool] = True      # does the method train and report the teacher M?
    reports_student: ClassVar[bool] = True   # does the method train and report the student S?
    defaults: ClassVar[Mapping[str, Any]] = {}  # method-specific config values (a dict, or Defaults)
    #: can several seeds train as one batched model (amidlib.core.batched)? Yes when a step draws no random
    #: number besides dropout and has fixed shapes (no data-dependent indexing, no .item(), no side state)
    batchable: ClassVar[bool] = False
    #: config values that may differ between the seeds of one batched model (amidlib.core.batched): the method
    #: reads them from buffers, which the batched model stacks per seed (AMID: its loss weights α1, α2, α3)
    slot_options: ClassVar[tuple[str, ...]] = ()
    #: how the paper's tables and figures show the method: plain data that the paper layer reads
    #: (:func:`amidlib.paper.names.declare`'s keywords: ``label``, ``colour``, ``tables``, ``figures``,
    #: ``reference``, ``in_paper``, ``short``, ``legend``, ``linestyle``, ``marker``); the core never reads it.
    #: None: the paper layer names the method after itself, in a colour of its own, in no table
    presentation: ClassVar[Mapping[str, Any] | None] = None

    def __init__(self, nets: CrossModalNets, cfg, n_classes: int, n_train: int):
        super().__init__()
        self.nets = nets
        self.cfg = cfg
        self.n_classes = n_classes
        self.n_train = n_train

    def in_warmup(self, epoch: int) -> bool:
        """The first T_start epochs train only the classification terms (§4.2)."""
        return epoch < self.cfg.warmup_epochs

    def forward(self, batch: Batch, epoch: int) -> StepOutput:  # pragma: no cover - abstract
        raise NotImplementedError

    # --- optional hooks -------------------------------------------------------------------
    @classmethod
    def pretrain(cls, cfg, new_nets: Callable[[], CrossModalNets], train_data, test_data, n_classes: int,
                 seed: int) -> dict[str, Any]:
        """What this method trains before its own model is built; returns extra keyword arguments
        for its constructor. :func:`amidlib.core.experiment.run` calls it for every method, before
        seeding and building the method's nets. ``new_nets()`` builds a fresh set of the run's nets.

        Default: nothing (and no random number is drawn). AMID with ``fixed_teacher`` pre-trains the
        teacher alone here (Table 5).
        """
        return {}

    def discriminator_parameters(self) -> list[nn.Parameter]:
        """Parameters trained by a separate (discriminator) optimizer; none by default."""
        return []

    def discriminator_loss(self, out: StepOutput, batch: Batch, epoch: int) -> torch.Tensor | None:
        """The discriminators' loss for this batch, or None when there is nothing to train."""
        return None

    def end_epoch(self, epoch: int, sums: dict | None = None) -> dict[str, float | torch.Tensor]:
        """Called once per epoch after the last batch with the epoch's sums of the step logs (the "_"
        bookkeeping ones, as tensors on the model's device); returns values to log (e.g. λ): numbers or
        0-dim tensors, which the loop reads with the epoch's other values. Create every tensor on the
        model's device: on CUDA a CPU tensor here stops the run."""
        return {}

    @torch.no_grad()
    def embed(self, x_target: torch.Tensor, x_aux: torch.Tensor) -> Representations:
        """Representations for evaluation (eval mode is set by the caller)."""
        return self.nets(x_target, x_aux, with_teacher=self.uses_teacher)


#: name -> class, in registration order (the methods package imports the paper's methods first)
METHODS: dict[str, type[Method]] = {}


def register(cls: type[Method] | None = None, *, replace: bool = False):
    """Register a method under its ``name``: ``@register`` on the class (or ``register(cls)``);
    ``@register(replace=True)`` redefines a name already registered (keeping its place in the order).
    Returns the class, so it works as a decorator. Refused: a class that is not a :class:`Method`, one
    without a ``name``, a name already taken (unless ``replace``)."""
    if cls is None:
        return lambda c: register(c, replace=replace)
    if not (isinstance(cls, type) and issubclass(cls, Method)):
        raise TypeError(f"{cls!r} is not a subclass of amidlib.core.method.Method")
    name = cls.__dict__.get("name")
    if not name or not isinstance(name, str):
        raise ValueError(f"{cls.__name__} sets no `name` of its own: set `name = '...'` on the class")
    old = METHODS.get(name)
    # the same class defined again (a module reloaded, e.g. by a notebook's autoreload) is no clash
    same = old is not None and (old.__module__, old.__qualname__) == (cls.__module__, cls.__qualname__)
    if old is not None and not same and not replace:
        raise ValueError(f"method {name!r} is already registered ({METHODS[name].__module__}."
                         f"{METHODS[name].__qualname__}); register(replace=True) redefines it")
    METHODS[name] = cls
    return cls


def unregister(name: str) -> type[Method]:
    """Undo :func:`register` (e.g. at the end of a test); returns the class."""
    if name not in METHODS:
        raise KeyError(f"method {name!r} is not registered")
    return METHODS.pop(name)
