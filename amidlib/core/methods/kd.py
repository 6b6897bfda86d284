"""Hinton KD: logit distillation (Hinton, Vinyals & Dean, "Distilling the Knowledge in a Neural
Network", 2015), online. Not in the AMID paper: the baseline every KD codebase ships, shown beside
the paper's rows as a reference.

    L = L_cls + kd_weight · T² · KL( softmax(z_M / T) ‖ softmax(z_S / T) ),   z_M detached

z_S, z_M: the student's and the teacher's logits; the KL is summed over classes and averaged over
the batch; T² keeps the soft term's gradients on the scale of the hard term's as T changes (Hinton
et al. §2). What RepDistiller does (HobbitLong/RepDistiller, ``distiller_zoo/KD.py``, ``DistillKL``):
``kl_div(log_softmax(y_s/T), softmax(y_t/T), size_average=False) · T² / batch``, the same formula, with
the teacher's logits computed under ``no_grad``; ``--kd_T`` defaults to 4.

Adaptation to this package's online teacher–student setting, as for the other baselines: the teacher
is the online teacher M (shared target extractor + the MLP over target and auxiliary), trained jointly
by L_cls (Eq 15: CE of the student and of the teacher, weight 1, as every baseline here). The soft
targets are M's logits, detached: the KL trains the student only (Hinton's teacher is fixed; here M
learns from its own CE alone). Defaults: T = 4 (RepDistiller's ``--kd_T``, mdistiller's KD
temperature) and kd_weight = 1, with L_cls at weight 1: RepDistiller's ``-a 1`` (its CRD+KD run);
its plain KD script weighs CE 0.1 and KL 0.9, which here would also scale down the teacher's own CE.
Warm-up: L_cls only, like the other baselines.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from amidlib.core import losses
from amidlib.core.method import Batch, Method, StepOutput, register


def kd_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """T² · KL(softmax(z_t/T) ‖ softmax(z_s/T)), summed over classes, mean over the batch (the teacher's
    logits are taken as given: detach them to train the student only)."""
    log_p_s = F.log_softmax(student_logits / temperature, dim=1)
    log_p_t = F.log_softmax(teacher_logits / temperature, dim=1)
    # Σ_c p_t (log p_t − log p_s) from two log-softmaxes: exact where a soft target underflows to 0. Written
    # out rather than F.kl_div, which has no vmap batching rule (the batched engine would loop over seeds)
    kl = (log_p_t.exp() * (log_p_t - log_p_s)).sum(dim=1).mean()
    return temperature ** 2 * kl


@register
class KD(Method):
    name = "kd"
    # beside Table 1's methods and in Fig 3's per-class view, to place AMID and CCL against the logit
    # distillation every KD codebase ships; the paper has no such row
    presentation = {"label": "Hinton KD (reference, not in the paper)", "short": "Hinton KD",
                    "legend": "Hinton KD (not in the paper)", "colour": "#661100", "tables": ("table1",),
                    "figures": ("fig3",), "reference": True, "in_paper": False,
                    "linestyle": (0, (5, 1.5, 1, 1.5, 1, 1.5)), "marker": "D"}
    batchable = True
    defaults = {"kd_weight": 1.0, "kd_temperature": 4.0}

    def forward(self, batch: Batch, epoch: int) -> StepOutput:
        reps = self.nets(batch.x_target, batch.x_aux)
        out = {"cls": losses.classification_loss(reps.student_logits, reps.teacher_logits, batch.y)}
        if not self.in_warmup(epoch):
            out["kd"] = self.cfg.kd_weight * kd_loss(reps.student_logits, reps.teacher_logits.detach(),
                                                     self.cfg.kd_temperature)
        return StepOutput(reps, out)
