"""Methods: AMID and the baselines, one small module each. ``METHODS`` maps the public names."""
from __future__ import annotations

from amidlib.core.methods.amid import AMID
from amidlib.core.methods.base import Batch, Method, StepOutput
from amidlib.core.methods.ccl import CCL
from amidlib.core.methods.crcd import CRCD
from amidlib.core.methods.crd import CRD
from amidlib.core.methods.gmc import GMC
from amidlib.core.methods.single import StudentAlone, TeacherAlone

METHODS: dict[str, type[Method]] = {cls.name: cls for cls in (StudentAlone, TeacherAlone, CRD, GMC, CRCD, CCL, AMID)}

__all__ = ["METHODS", "Method", "Batch", "StepOutput", "AMID", "StudentAlone", "TeacherAlone"]
