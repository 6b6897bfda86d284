"""IEMOCAP's protocol (Table 3): leave-one-session-out folds of a setup.

**Setups**: ``A-V`` (auxiliary audio), ``L-V`` (text), ``AL-V`` (audio + text); the target is always
the visual modality (``visual``, or ``visual_frames`` for the GRU student). WA (overall accuracy) and
UA (mean per-class recall) are averaged over the 5 folds; :class:`amidlib.repro.runs.Study` trains them
(one cell per fold, ``split=("fold", 5, 0, k)``).
"""
from __future__ import annotations

import numpy as np

from amidlib.data.container import MultimodalArrays
from amidlib.data.iemocap.features import IemocapFeatures
from amidlib.data.iemocap.parse import _MANIFEST

__all__ = ["iemocap_folds"]


def iemocap_folds(features: IemocapFeatures, setup: str = "AL-V", student: str = "pooled"
                  ) -> list[tuple[MultimodalArrays, MultimodalArrays]]:
    """Leave-one-session-out: fold k tests on Session k and trains on the other four (manifest order)."""
    ds = features.dataset(setup, student)
    sessions = np.asarray(features.sessions)
    folds = []
    for fold in _MANIFEST["folds"]:
        k = int(fold["test"][len("Session"):])
        test_mask = sessions == k
        if not test_mask.any() or test_mask.all():
            raise ValueError(f"fold {fold['fold']}: Session{k} has {int(test_mask.sum())} of {len(sessions)} "
                             "utterances; leave-one-session-out needs every session present")
        train, test = ds.subset(~test_mask), ds.subset(test_mask)
        train.name, test.name = (f"iemocap {setup} fold {fold['fold']} train (not Session{k})",
                                 f"iemocap {setup} fold {fold['fold']} test (Session{k})")
        folds.append((train, test))
    return folds
