"""The method interface, after mdistiller's distiller: a method owns the nets and returns its
logits and a dict of *named, weighted* loss terms, so every term is logged by name and the
training loop just sums them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar

import torch
from torch import nn

from amidlib.core.models import CrossModalNets
from amidlib.core.types import Batch, Representations


@dataclass
class StepOutput:
    """What a method's forward returns for one batch."""

    reps: Representations
    losses: dict[str, torch.Tensor]                      # weighted terms; the total is their sum
    # unweighted diagnostics (floats or tensors; summed over the epoch, their means go to the history);
    # a name starting with "_" is bookkeeping: its epoch sum goes to end_epoch, not to the history
    logs: dict[str, float | torch.Tensor] = field(default_factory=dict)


class Method(nn.Module):
    """Base class. Subclasses set ``name``, ``uses_teacher`` and, if needed, ``defaults``."""

    name: ClassVar[str] = ""
    uses_teacher: ClassVar[bool] = True      # does the method train and report the teacher M?
    reports_student: ClassVar[bool] = True   # does the method train and report the student S?
    defaults: ClassVar[dict[str, Any]] = {}  # method-specific config values (validated overrides)
    #: can several seeds train as one batched model (amidlib.core.batched)? Yes when a step draws no random
    #: number besides dropout and has fixed shapes (no data-dependent indexing, no .item(), no side state)
    batchable: ClassVar[bool] = False

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
