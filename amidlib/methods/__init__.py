"""Methods: AMID and the baselines, one small module each. ``METHODS`` maps the public names."""
from __future__ import annotations

from .amid import AMID
from .base import Batch, Method, StepOutput
from .ccl import CCL
from .crcd import CRCD
from .crd import CRD
from .gmc import GMC
from .single import StudentAlone, TeacherAlone

METHODS: dict[str, type[Method]] = {cls.name: cls for cls in (StudentAlone, TeacherAlone, CRD, GMC, CRCD, CCL, AMID)}

__all__ = ["METHODS", "Method", "Batch", "StepOutput", "AMID", "StudentAlone", "TeacherAlone"]
