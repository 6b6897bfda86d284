"""AMID: Adversarial Mutual Information Distillation (paper §3, Eq 17).

    L = L_cls + L_JSD + α1 L_MI_s + α2 L_MI_a + α3 L_adv

Warm-up (§4.2): for the first T_start epochs only L_cls + L_JSD. The discriminators D1, D2 are
trained on detached representations by Eq 13 with their own optimizer; λ follows Eq 14 per epoch.
Ablations (Tables 4, 5) are config switches: ``use_mi_a``, ``use_adv``, ``use_d2``,
``dynamic_lambda``, ``mi_loss="nce"``, ``fixed_teacher``, ``warmup_epochs=0``.
"""
from __future__ import annotations

import copy
from pathlib import Path

import torch
import torch.nn.functional as F

from amidlib.core import losses
from amidlib.core.method import Batch, Defaults, Method, StepOutput, register
from amidlib.core.methods.single import TeacherAlone
from amidlib.core.models import CrossModalNets, discriminator
from amidlib.core.training import seed_everything, train
from amidlib.core.types import Representations


@register
class AMID(Method):
    name = "amid"
    presentation = {"label": "AMID (ours)", "short": "AMID", "legend": "AMID", "colour": "#009e73",
                    "tables": ("table1", "table2", "table3"), "linestyle": "-", "marker": "o"}
    batchable = True
    slot_options = ("alpha1", "alpha2", "alpha3")  # Table 6's grid trains as one batched model
    # AMID's own values (§3, §4.2); the paper presets set τ, α and β for each task. The warm-up length
    # T_start (warmup_epochs) and the discriminators' width and learning rate (d_hidden, d_lr) are the
    # shared config's: every method warms up, and the training loop trains any method's discriminators
    defaults = Defaults({
        "tau": 0.5,                 # temperature of Eq 7
        "alpha1": 4.0,              # weight of L_MI_s (Eq 17)
        "alpha2": 1.6,              # weight of L_MI_a
        "alpha3": 1.0,              # weight of L_adv
        "beta": 0.9,                # moving-average smoothing of Eq 14
        # ablation switches (Tables 4, 5): config switches, not new methods
        "use_mi_s": True,
        "use_mi_a": True,
        "use_adv": True,
        "use_d2": True,
        "dynamic_lambda": True,     # False: uniform λ = (½, ½)
        "mi_loss": "mi",            # "mi": Eq 8/9; "nce": CCL's L_nce ("AMID with L_nce")
        "fixed_teacher": False,     # True: teacher pre-trained alone, then frozen (Table 5)
        "teacher_pretrain_epochs": None,  # for fixed_teacher; None = same as epochs
        "use_jsd": True,
        # "w/o D2" (Table 5): λ = (d1_weight_without_d2, 0). 1.0 (default): D1 also takes D2's weight, our
        # reading of the paper's ablation; 0.5: D1 keeps its weight, so the ablation removes D2 and nothing else
        "d1_weight_without_d2": 1.0,
    }, choices={"mi_loss": ("mi", "nce")},
        # the paper's values per task (§4.2): τ 0.5 on the videos, 0.6 on IEMOCAP; α = (4, 1.6, 1), β 0.9 on both
        presets={"paper_video": {"tau": 0.5, "alpha1": 4.0, "alpha2": 1.6, "alpha3": 1.0, "beta": 0.9},
                 "paper_iemocap": {"tau": 0.6, "alpha1": 4.0, "alpha2": 1.6, "alpha3": 1.0, "beta": 0.9}})

    def __init__(self, nets: CrossModalNets, cfg, n_classes: int, n_train: int,
                 pretrained_teacher: CrossModalNets | None = None):
        super().__init__(nets, cfg, n_classes, n_train)
        self.d1 = discriminator(cfg.dim, cfg.d_hidden, n_layers=5)
        self.d2 = discriminator(cfg.dim, cfg.d_hidden, n_layers=3)
        # Eq 14 state: λ̂ starts at 0, so λ = softmax(0, 0) = (½, ½); "w/o D2": λ = (d1_weight_without_d2, 0)
        self.register_buffer("lambda_hat", torch.zeros(2))
        self.register_buffer("lambdas", torch.tensor([0.5, 0.5] if cfg.use_d2 else [cfg.d1_weight_without_d2, 0.0]))
        # Eq 17's α1, α2, α3 as a buffer, so a batched model's seeds may each have their own (Table 6's grid);
        # a float32 α times a float32 loss is the product Python's float gave before, bit for bit
        self.register_buffer("alphas", torch.tensor([cfg.alpha1, cfg.alpha2, cfg.alpha3]), persistent=False)
        self.fixed_teacher = None
        if cfg.fixed_teacher:
            if pretrained_teacher is None:
                raise ValueError("fixed_teacher=True needs a pre-trained teacher (AMID.pretrain trains one; "
                                 "experiment.run calls it)")
            self.fixed_teacher = copy.deepcopy(pretrained_teacher).requires_grad_(False).eval()
            self.nets.classifier.load_state_dict(pretrained_teacher.classifier.state_dict())

    @classmethod
    def pretrain(cls, cfg, new_nets, train_data, test_data, n_classes: int, seed: int) -> dict:
        """Table 5 "with fixed teacher": pre-train the teacher alone (``teacher_pretrain_epochs``,
        default ``epochs``; checkpoints in ``<checkpoint_dir>/teacher_pretrain``), then hand its nets
        to the constructor, which freezes them. Without ``fixed_teacher``: nothing."""
        if not cfg.fixed_teacher:
            return {}
        seed_everything(seed)
        teacher = TeacherAlone(new_nets(), cfg, n_classes, train_data.n).to(cfg.device)
        pre_cfg = type(cfg)(cfg, epochs=cfg.teacher_pretrain_epochs or cfg.epochs,
                            checkpoint_dir=(str(Path(cfg.checkpoint_dir) / "teacher_pretrain")
                                            if cfg.checkpoint_dir else None))
        train(teacher, train_data, test_data, pre_cfg, seed, desc="teacher pre-training")
        return {"pretrained_teacher": teacher.nets}

    def _mi_term(self, m: torch.Tensor, other: torch.Tensor, labels: torch.Tensor, trained: bool) -> torch.Tensor:
        """Eq 8/9 (or CCL's L_nce for ``mi_loss="nce"``); without a graph when it is only logged."""
        loss_fn = losses.ccl_nce_loss if self.cfg.mi_loss == "nce" else losses.mi_lower_bound_loss
        with torch.set_grad_enabled(trained and torch.is_grad_enabled()):
            return loss_fn(m, other, labels, self.cfg.tau)

    def _representations(self, x_target: torch.Tensor, x_aux: torch.Tensor) -> Representations:
        if self.fixed_teacher is None:
            return self.nets(x_target, x_aux)
        self.fixed_teacher.eval()
        with torch.no_grad():
            frozen = self.fixed_teacher(x_target, x_aux)
        s = self.nets.student(x_target)
        return Representations(s, frozen.m, frozen.a, self.nets.classifier(s), self.nets.classifier(frozen.m))

    def forward(self, batch: Batch, epoch: int) -> StepOutput:
        cfg, y = self.cfg, batch.y
        reps = self._representations(batch.x_target, batch.x_aux)
        out = {"cls": losses.classification_loss(reps.student_logits, reps.teacher_logits, y)}
        if cfg.use_jsd:
            out["jsd"] = losses.jsd(reps.student_logits, reps.teacher_logits)

        # L_MI_s and L_MI_a are logged every step, also when they are not trained (warm-up,
        # ablations): their values are Fig 1's diagnostic of the weak-teacher shortcut
        train_mi = not self.in_warmup(epoch)
        mi_s = self._mi_term(reps.m, reps.s, y, train_mi and cfg.use_mi_s)
        mi_a = self._mi_term(reps.m, reps.a, y, train_mi and cfg.use_mi_a)
        # logged as tensors (summed over the epoch on the device, read once); "_cosines": Eq 14's sums
        logs = {"mi_s_value": mi_s.detach(), "mi_a_value": mi_a.detach(),
                "_cosines": self._cosine_sums(reps.m, reps.s, y)}

        if train_mi:
            if cfg.use_mi_s:
                out["mi_s"] = self.alphas[0] * mi_s
            if cfg.use_mi_a:
                out["mi_a"] = self.alphas[1] * mi_a
            if cfg.use_adv:
                has_partner, partner = losses.same_class_partner(y)
                d1_s = self.d1(reps.s).squeeze(1)
                d2_s = self.d2(reps.s[partner]).squeeze(1)
                mask = has_partner if cfg.use_d2 else torch.zeros_like(has_partner)  # w/o D2: an empty D2 set
                out["adv"] = self.alphas[2] * losses.adversarial_generator_loss(d1_s, d2_s, self.lambdas, mask)
        return StepOutput(reps, out, logs)

    @torch.no_grad()
    def embed(self, x_target: torch.Tensor, x_aux: torch.Tensor) -> Representations:
        return self._representations(x_target, x_aux)

    # --- discriminators (Eq 13) ----------------------------------------------------------
    def discriminator_parameters(self):
        return list(self.d1.parameters()) + list(self.d2.parameters())

    def discriminator_loss(self, out: StepOutput, batch: Batch, epoch: int) -> torch.Tensor | None:
        if self.in_warmup(epoch) or not self.cfg.use_adv:
            return None
        m, s = out.reps.m.detach(), out.reps.s.detach()  # the adversarial loss trains the student only
        has_partner, partner = losses.same_class_partner(batch.y)
        mask = has_partner if self.cfg.use_d2 else torch.zeros_like(has_partner)
        d2_m, d2_s = self.d2(m).squeeze(1), self.d2(s[partner]).squeeze(1)
        return losses.discriminator_loss(self.d1(m).squeeze(1), self.d1(s).squeeze(1), d2_m, d2_s, self.lambdas, mask)

    # --- λ (Eq 14) ---------------------------------------------------------------------------
    @staticmethod
    @torch.no_grad()
    def _cosine_sums(m: torch.Tensor, s: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """This batch's Σ Φ(M_i, S_i), its count, Σ Φ(M_v, S_j) over same-class pairs j ≠ v, and theirs."""
        cos = F.normalize(m, dim=1) @ F.normalize(s, dim=1).T
        same_other = ((y.view(-1, 1) == y.view(1, -1))
                      & ~torch.eye(len(y), dtype=torch.bool, device=y.device)).to(cos.dtype)
        diag = cos.diagonal()
        return torch.stack([diag.sum(), torch.ones_like(diag).sum(), (cos * same_other).sum(),
                            same_other.sum()]).double()

    def end_epoch(self, epoch: int, sums: dict | None = None) -> dict[str, torch.Tensor]:
        """Eq 14 from the epoch's mean cosines (``sums["_cosines"]``: the per-batch sums, added up).

        Everything stays on the model's device (λ̂ and λ are buffers; the sums may come as a tensor on any
        device or as numbers): nothing here waits for the device. The logged values are 0-dim tensors,
        read by the training loop together with the epoch's other values."""
        device = self.lambda_hat.device
        total = (sums or {}).get("_cosines")
        total = (torch.zeros(4, dtype=torch.float64, device=device) if total is None
                 else torch.as_tensor(total, dtype=torch.float64, device=device))
        avg = torch.stack([total[0] / total[1].clamp(min=1), total[2] / total[3].clamp(min=1)]).float()
        if self.cfg.use_d2 and self.cfg.dynamic_lambda:
            new_hat, lambdas = losses.update_lambdas(self.lambda_hat, avg, self.cfg.beta)
            self.lambda_hat.copy_(new_hat)
            self.lambdas.copy_(lambdas)
        return {"train_batch_cos_same_sample": avg[0], "train_batch_cos_same_class": avg[1],
                "lambda1": self.lambdas[0].clone(), "lambda2": self.lambdas[1].clone()}
