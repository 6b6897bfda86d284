"""Stable public path of :mod:`amidlib.core.experiment` (users and outside checks import ``amidlib.experiment``)."""
import sys

from amidlib.core import experiment as _module

sys.modules[__name__] = _module
