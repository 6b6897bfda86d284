"""Stable public path of :mod:`amidlib.core.metrics` (users and outside checks import ``amidlib.metrics``)."""
import sys

from amidlib.core import metrics as _module

sys.modules[__name__] = _module
