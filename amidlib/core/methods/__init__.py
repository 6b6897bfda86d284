"""Methods: AMID and the baselines, one file each. A module of this folder is a method.

Each method registers itself where it is defined (``@register``, :mod:`amidlib.core.method`), with
its own config defaults; importing this package imports every module of the folder (pkgutil), so a
new file ``amidlib/core/methods/mymethod.py``::

    from amidlib.core.method import Batch, Method, StepOutput, register

    @register
    class MyMethod(Method):
        name = "mymethod"
        defaults = {"mymethod_weight": 1.0}     # its own values: overridable by name, refused elsewhere

        def forward(self, batch: Batch, epoch: int) -> StepOutput: ...

trains with ``run("mymethod", ...)`` and no other edit. A method outside the package (user code)
registers the same way, once its module is imported. How the paper's tables and figures name and
colour a method, and which tables and figures list it, the file says too, as plain data
(``presentation = {"label": ..., "colour": ..., "tables": ("table1",), ...}``) that the paper layer reads
(:mod:`amidlib.paper.names`; a method without one gets its name as label, a colour of its own, and no
table row).

``METHODS`` (name -> class) lists the paper's methods in the order of its tables (the student
alone, the teacher, CRD, GMC, CRCD, CCL, AMID: their modules are imported first), then any other
module's, by module name.
"""
from __future__ import annotations

import importlib
import pkgutil

from amidlib.core.method import METHODS, Batch, Method, StepOutput, register, unregister

__all__ = ["METHODS", "register", "unregister", "Method", "Batch", "StepOutput", "AMID", "StudentAlone",
           "TeacherAlone"]

#: the modules of the paper's methods, in the order METHODS has always listed them
_FIRST = ("single", "crd", "gmc", "crcd", "ccl", "amid")


def _import_all() -> None:
    found = sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))
    for name in [m for m in _FIRST if m in found] + [m for m in found if m not in _FIRST]:
        importlib.import_module(f"{__name__}.{name}")


_import_all()

# the classes the package has always exported by name (everything else: METHODS[name])
from amidlib.core.methods.amid import AMID  # noqa: E402
from amidlib.core.methods.single import StudentAlone, TeacherAlone  # noqa: E402
