"""CCL baseline: Cross-modal Contrastive Learning / composition (Chen et al., CVPR 2021), online.

What the official code does (yanbeic/CCL, ``training.py:train_a_epoch``, ``loss/nce_loss.py``,
``loss/jsd_loss.py``, ``models/composition_classifier.py``, ``main.py``) for video + audio:
- composition: f_av = f_a + Linear(concat(normalize(f_a), normalize(f_v))), Linear 2d → d
  (``normalization=True``), with its own classifier fc;
- ``NCELoss(temperature=0.5)``: a softmax over the batch of cos/τ; per anchor the mean of −log h
  over same-class items plus the mean of −log(1 − h) over the others (``losses.nce_contrastive_loss``),
  applied in both directions between video & composition, video & audio, composition & audio;
- ``JSDLoss(weight=0.5)``: despite its name, the *symmetric KL* KL(p‖q) + KL(q‖p) of the two
  softmaxes, mean over the batch, times 0.5;
- two optimizers and two backward passes per step (``train_a_epoch``): ``optimizer_av.zero_grad();
  total_loss_a.backward(retain_graph=True); optimizer.zero_grad(); total_loss_v.backward();
  optimizer_av.step(); optimizer.step()``, with total_loss_v = CE_v + L(v, av) + L(v, a) + JSD and
  total_loss_a = CE_av + L(v, av) + L(av, a) + JSD. The composition's gradients are zeroed only before
  the first pass, so it steps on both: CE_av + **2**·L(v, av) + L(av, a) + **2**·JSD. The video net's
  are zeroed between the passes: it steps on total_loss_v alone. All weights 1 except the 0.5 inside
  the JSD. Audio
  features are fixed pre-extracted CNN14 embeddings; samples whose audio vector is all zeros
  (no audio) are dropped from the audio terms (here every sample has its auxiliary features).

Adaptation to this package's online teacher–student setting:
- the composition plays the teacher's role: C = A + Linear(concat(normalize(A), normalize(S))),
  with A the auxiliary representation (frozen features + the trainable projection to ``dim``) and
  S the student; C's logits come from the classifier shared with S (Eq 15), not from its own fc;
  the nets' MLP teacher M is unused (``reps.m`` and ``embed`` return C instead);
- one optimizer on the sum: L_cls (CE(S) + CE(C), Eq 15) + ccl_nce_weight·[L(S, C) + L(S, A) +
  L(C, A)] + ccl_div_weight·symKL(S, C). Summing means the student's extractor also gets the
  gradients of CE(C) and L(C, A) through C (in CCL's two-optimizer scheme it does not) — the same
  "teacher's losses also train the shared extractor" convention as AMID's teacher (§4.2);
- the composition's own layer (``compose``) is routed as in the public code: it also gets the
  gradient of ccl_compose_repeat·[ccl_nce_weight·L(S, C) + ccl_div_weight·symKL(S, C)] once more
  (``ccl_compose_repeat`` = 1, the second backward pass above; 0 gives the plain sum). The extra term
  reaches ``compose`` alone (S, A and the classifier enter it detached) and its value is 0 (X −
  X.detach()), so the logged losses are the objective's. The shared classifier and A's projection
  (CCL's audio features have no trainable projection) get the sum's gradients;
- the divergence is CCL's symmetric KL, as CCL's code defines it (not the true JSD of
  ``losses.jsd``, which AMID uses), computed exactly from log-softmaxes (CCL adds ε = 1e-10
  inside its logs). τ = 0.5, ccl_div_weight = 0.5, ccl_nce_weight = 1 from the official audio run.
- Warm-up: L_cls only.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from amidlib.core import losses
from amidlib.core.method import Batch, Method, StepOutput, register
from amidlib.core.types import Representations


def symmetric_kl(logits_p: torch.Tensor, logits_q: torch.Tensor) -> torch.Tensor:
    """KL(p‖q) + KL(q‖p) of the two softmaxes, mean over the batch (CCL's "JSD" without its weight)."""
    log_p, log_q = logits_p.log_softmax(dim=1), logits_q.log_softmax(dim=1)
    return ((log_p.exp() - log_q.exp()) * (log_p - log_q)).sum(dim=1).mean()


def ccl_contrastive(s: torch.Tensor, c: torch.Tensor, a: torch.Tensor, labels: torch.Tensor,
                    tau: float) -> torch.Tensor:
    """CCL's L_nce over all three pairs, both directions each: L(S, C) + L(S, A) + L(C, A)."""
    return (losses.ccl_nce_loss(s, c, labels, tau) + losses.ccl_nce_loss(s, a, labels, tau)
            + losses.ccl_nce_loss(c, a, labels, tau))


@register
class CCL(Method):
    name = "ccl"
    presentation = {"label": "CCL", "colour": "#e69f00", "tables": ("table1", "table2", "table3"), "linestyle": "--",
                    "marker": "s"}
    batchable = True
    defaults = {"ccl_tau": 0.5, "ccl_nce_weight": 1.0, "ccl_div_weight": 0.5, "ccl_compose_repeat": 1.0}

    def __init__(self, nets, cfg, n_classes: int, n_train: int):
        super().__init__(nets, cfg, n_classes, n_train)
        self.compose = nn.Linear(2 * cfg.dim, cfg.dim)  # CCL's composition residual

    def composition(self, a: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
        """C = A + Linear(concat(normalize(A), normalize(S))): CCL's residual composition."""
        return a + self.compose(torch.cat([F.normalize(a, dim=1), F.normalize(s, dim=1)], dim=1))

    def _representations(self, x_target: torch.Tensor, x_aux: torch.Tensor) -> Representations:
        nets = self.nets
        s = nets.student(x_target)
        with torch.no_grad():
            aux_feat = nets.aux_extractor(x_aux)
        a = nets.aux_projection(aux_feat)
        c = self.composition(a, s)
        return Representations(s, c, a, nets.classifier(s), nets.classifier(c))

    def compose_repeat(self, reps: Representations, y: torch.Tensor) -> torch.Tensor:
        """The public code's second pass into the composition: ccl_compose_repeat·[w_nce·L(S, C) + w_div·symKL(S, C)]
        with a graph that reaches ``compose`` alone; its value is 0, its gradient that term's."""
        cfg, cls = self.cfg, self.nets.classifier
        s = reps.s.detach()
        c = self.composition(reps.a.detach(), s)
        logits_c = F.linear(c, cls.weight.detach(), cls.bias.detach())
        again = cfg.ccl_compose_repeat * (
            cfg.ccl_nce_weight * losses.ccl_nce_loss(s, c, y, cfg.ccl_tau)
            + cfg.ccl_div_weight * symmetric_kl(reps.student_logits.detach(), logits_c))
        return again - again.detach()

    def forward(self, batch: Batch, epoch: int) -> StepOutput:
        cfg, y = self.cfg, batch.y
        reps = self._representations(batch.x_target, batch.x_aux)
        out = {"cls": losses.classification_loss(reps.student_logits, reps.teacher_logits, y)}
        if not self.in_warmup(epoch):
            out["nce"] = cfg.ccl_nce_weight * ccl_contrastive(reps.s, reps.m, reps.a, y, cfg.ccl_tau)
            out["div"] = cfg.ccl_div_weight * symmetric_kl(reps.student_logits, reps.teacher_logits)
            if cfg.ccl_compose_repeat:
                # (value 0: the logged divergence carries it; see the docstring)
                out["div"] = out["div"] + self.compose_repeat(reps, y)
        return StepOutput(reps, out)

    @torch.no_grad()
    def embed(self, x_target: torch.Tensor, x_aux: torch.Tensor) -> Representations:
        return self._representations(x_target, x_aux)
