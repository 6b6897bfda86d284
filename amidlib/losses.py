"""Stable public path of :mod:`amidlib.core.losses` (users and outside checks import ``amidlib.losses``)."""
import sys

from amidlib.core import losses as _module

sys.modules[__name__] = _module
