"""The two no-distillation references of Table 4: the student alone and the teacher alone."""
from __future__ import annotations

import torch.nn.functional as F

from amidlib.core.method import Batch, Method, StepOutput, register


@register
class StudentAlone(Method):
    """``baseline``: the target-modality network trained by cross-entropy only (Table 1 "Baseline")."""

    name = "baseline"
    batchable = True
    uses_teacher = False
    presentation = {"label": "Baseline (student alone)", "short": "baseline", "legend": "baseline (student alone)",
                    "colour": "#000000", "tables": ("table1", "table2", "table3"), "linestyle": ":", "marker": "o"}

    def forward(self, batch: Batch, epoch: int) -> StepOutput:
        reps = self.nets(batch.x_target, with_teacher=False)
        return StepOutput(reps, {"ce_student": F.cross_entropy(reps.student_logits, batch.y)})


@register
class TeacherAlone(Method):
    """``teacher``: the full-modality teacher M (shared target extractor + 2-layer MLP) by cross-entropy."""

    name = "teacher"
    batchable = True
    reports_student = False
    # Table 1's reference row: after the methods, no paper number beside it
    presentation = {"label": "Teacher (reference: full modalities)", "short": "teacher",
                    "legend": "teacher (full modalities)", "colour": "#555555", "tables": ("table1",),
                    "reference": True, "linestyle": (0, (3, 1, 1, 1, 1, 1)), "marker": "*"}

    def forward(self, batch: Batch, epoch: int) -> StepOutput:
        reps = self.nets(batch.x_target, batch.x_aux)
        return StepOutput(reps, {"ce_teacher": F.cross_entropy(reps.teacher_logits, batch.y)})
