"""The one container every method consumes: :class:`MultimodalArrays`.

A dict of per-modality feature matrices, integer labels, and the split of the modality names into
the *target* views (what the student sees at test time) and the *auxiliary* views (extra modalities
only the teacher sees during training). Every data tier ends in it (:mod:`amidlib.data.arrays`: the
synthetic and the embedded UCI data, the splits; :mod:`amidlib.data.iemocap`: IEMOCAP's features);
the video datasets mirror its surface (:class:`amidlib.data.video.loader.VideoAudioDataset`).
Construction checks everything once, so a method can trust what it is given.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

__all__ = ["MultimodalArrays"]


def _as_name_list(names, what: str) -> list[str]:
    """Normalise a str or list/tuple of str to a non-empty list of str."""
    if isinstance(names, str):
        names = [names]
    if not isinstance(names, (list, tuple)):
        raise ValueError(
            f"{what} must be a modality name or a list/tuple of names, got {type(names).__name__}"
        )
    names = list(names)
    if not names:
        raise ValueError(f"{what} must name at least one modality, got an empty list")
    for n in names:
        if not isinstance(n, str):
            raise ValueError(f"{what} must contain modality names (str), got {n!r}")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"{what} lists modality {dup[0]!r} more than once")
    return names


def _to_numpy(x) -> np.ndarray:
    """Array-like or torch tensor -> numpy array (no torch import needed)."""
    if hasattr(x, "detach") and hasattr(x, "cpu"):  # torch.Tensor
        x = x.detach().cpu().numpy()
    return np.asarray(x)


class MultimodalArrays:
    """Per-modality feature matrices with labels and a target/auxiliary split.

    ``modalities``: modality name → 2-D array (n_samples, n_features), stored as float32 numpy arrays.
    ``labels``: integer class labels in ``[0, n_classes)``, shape (n_samples,), stored as int64.
    ``target``: the modalities the student sees (its input at test time), a name or a list of names.
    ``auxiliary``: the modalities only the teacher sees; must not overlap ``target``.
    ``class_names``: one name per class (default ``["0", "1", ...]``). ``n_classes``: default
    ``labels.max() + 1``. ``name``: a free-text name used in ``repr``.

    Raises ValueError on any inconsistency; the message names the offending modality, label value or
    view name.
    """

    def __init__(
        self,
        modalities: Mapping[str, object],
        labels,
        target: Sequence[str] | str,
        auxiliary: Sequence[str] | str,
        class_names: list[str] | None = None,
        n_classes: int | None = None,
        name: str = "",
    ):
        if not isinstance(modalities, Mapping) or not modalities:
            raise ValueError("modalities must be a non-empty dict of name -> 2-D array")
        # checked in this order, so the first inconsistency is the one reported
        y, n_classes = _checked_labels(labels, n_classes)
        mods = _checked_modalities(modalities, y.shape[0])
        tgt, aux = _checked_views(target, auxiliary, mods)
        class_names = _checked_class_names(class_names, n_classes)

        self.modalities: dict[str, np.ndarray] = mods
        self.labels: np.ndarray = y
        self.target: list[str] = tgt
        self.auxiliary: list[str] = aux
        self.class_names: list[str] = class_names
        self._n_classes = n_classes
        self.name = str(name)

    # -- basic properties --------------------------------------------------- #
    def __len__(self) -> int:
        return int(self.labels.shape[0])

    @property
    def n_classes(self) -> int:
        """Number of classes (may exceed the classes present in a subset)."""
        return self._n_classes

    @property
    def dims(self) -> dict[str, int]:
        """Modality name -> number of features."""
        return {k: int(v.shape[1]) for k, v in self.modalities.items()}

    @property
    def target_dim(self) -> int:
        """Total number of features over the target modalities."""
        return sum(self.dims[n] for n in self.target)

    @property
    def aux_dim(self) -> int:
        """Total number of features over the auxiliary modalities."""
        return sum(self.dims[n] for n in self.auxiliary)

    def target_array(self) -> np.ndarray:
        """Target modalities concatenated along axis 1, in listed order."""
        return np.concatenate([self.modalities[n] for n in self.target], axis=1)

    def aux_array(self) -> np.ndarray:
        """Auxiliary modalities concatenated along axis 1, in listed order."""
        return np.concatenate([self.modalities[n] for n in self.auxiliary], axis=1)

    # -- derived datasets --------------------------------------------------- #
    def _replace(self, modalities=None, labels=None, target=None, auxiliary=None):
        return MultimodalArrays(
            modalities=self.modalities if modalities is None else modalities,
            labels=self.labels if labels is None else labels,
            target=self.target if target is None else target,
            auxiliary=self.auxiliary if auxiliary is None else auxiliary,
            class_names=list(self.class_names),
            n_classes=self.n_classes,
            name=self.name,
        )

    def subset(self, indices) -> MultimodalArrays:
        """Rows ``indices`` (int indices or boolean mask); same views and classes."""
        idx = _to_numpy(indices)
        if idx.dtype == bool:
            if idx.shape != (len(self),):
                raise ValueError(
                    f"boolean mask has shape {idx.shape}, expected ({len(self)},)"
                )
            idx = np.flatnonzero(idx)
        idx = idx.astype(np.int64).reshape(-1)
        return self._replace(
            modalities={k: v[idx] for k, v in self.modalities.items()},
            labels=self.labels[idx],
        )

    def with_views(self, target=None, auxiliary=None) -> MultimodalArrays:
        """Same data with a different target/auxiliary choice (None keeps the current one)."""
        return self._replace(target=target, auxiliary=auxiliary)

    def standardized(self, mean_std=None):
        """Z-score every modality: ``(standardised dataset, statistics used)``.

        ``mean_std``: per-modality ``(mean, std)``; None computes them from ``self`` (pass the training
        set's statistics to the test set). A zero std is replaced by 1.
        """
        if mean_std is None:
            mean_std = {}
            for k, x in self.modalities.items():
                x64 = x.astype(np.float64)
                mean = x64.mean(axis=0)
                std = x64.std(axis=0)
                std[std < 1e-12] = 1.0
                mean_std[k] = (mean.astype(np.float32), std.astype(np.float32))
        else:
            missing = [k for k in self.modalities if k not in mean_std]
            if missing:
                raise ValueError(
                    f"mean_std has no statistics for modality {missing[0]!r}; "
                    f"it has {sorted(mean_std)}"
                )
            checked = {}
            for k in self.modalities:
                mean, std = (np.asarray(a, dtype=np.float32).reshape(-1) for a in mean_std[k])
                d = self.dims[k]
                if mean.shape != (d,) or std.shape != (d,):
                    raise ValueError(
                        f"mean_std[{k!r}] has shapes {mean.shape}/{std.shape}, "
                        f"expected ({d},) for modality {k!r}"
                    )
                std = np.where(std == 0, np.float32(1.0), std)
                checked[k] = (mean, std)
            mean_std = checked
        mods = {k: (x - mean_std[k][0]) / mean_std[k][1] for k, x in self.modalities.items()}
        return self._replace(modalities=mods), mean_std

    def __repr__(self) -> str:
        counts = np.bincount(self.labels, minlength=self.n_classes)
        return (
            f"MultimodalArrays(name={self.name!r}, n_samples={len(self)}, "
            f"n_classes={self.n_classes}, per_class={counts.min()}-{counts.max()}, "
            f"target={self.target} ({self.target_dim} features), "
            f"auxiliary={self.auxiliary} ({self.aux_dim} features), dims={self.dims})"
        )


# --------------------------------------------------------------------------- construction checks
def _checked_labels(labels, n_classes: int | None) -> tuple[np.ndarray, int]:
    """Labels as int64 in ``[0, n_classes)`` and the class count (default: the largest label + 1)."""
    y = _to_numpy(labels)
    if y.ndim != 1:
        raise ValueError(f"labels must be 1-D, got shape {y.shape}")
    if y.size == 0:
        raise ValueError("labels is empty: a dataset needs at least one sample")
    if not np.issubdtype(y.dtype, np.integer):
        if y.dtype == bool or not np.issubdtype(y.dtype, np.number):
            raise ValueError(f"labels must be integers, got dtype {y.dtype}")
        bad = ~np.isfinite(y) | (y != np.round(y))
        if bad.any():
            raise ValueError(f"labels must be integers, found value {y[bad][0].item()!r}")
    y = y.astype(np.int64)
    if y.min() < 0:
        raise ValueError(f"labels must be >= 0, found label {int(y.min())}")
    if n_classes is None:
        n_classes = int(y.max()) + 1
    n_classes = int(n_classes)
    if n_classes < 1:
        raise ValueError(f"n_classes must be >= 1, got {n_classes}")
    if y.max() >= n_classes:
        raise ValueError(
            f"labels must lie in [0, {n_classes}) (n_classes={n_classes}), "
            f"found label {int(y.max())}"
        )
    return y, n_classes


def _checked_modalities(modalities: Mapping[str, object], n_rows: int) -> dict[str, np.ndarray]:
    """Each modality as a C-contiguous float32 (n_rows, n_features) array of finite values."""
    mods: dict[str, np.ndarray] = {}
    for key, arr in modalities.items():
        if not isinstance(key, str) or not key:
            raise ValueError(f"modality names must be non-empty str, got {key!r}")
        x = _to_numpy(arr)
        if x.ndim != 2:
            hint = " (use x.reshape(-1, 1) for a single feature)" if x.ndim == 1 else ""
            raise ValueError(
                f"modality {key!r} must be 2-D (n_samples, n_features), "
                f"got {x.ndim}-D array of shape {x.shape}{hint}"
            )
        if x.shape[0] != n_rows:
            raise ValueError(
                f"modality {key!r} has {x.shape[0]} rows but labels has {n_rows} entries"
            )
        try:
            x = np.ascontiguousarray(x, dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"modality {key!r} is not numeric: {exc}") from None
        if not np.isfinite(x).all():
            n_bad = int((~np.isfinite(x)).sum())
            raise ValueError(f"modality {key!r} contains {n_bad} NaN/inf value(s)")
        mods[key] = x
    return mods


def _checked_views(target, auxiliary, mods: Mapping[str, np.ndarray]) -> tuple[list[str], list[str]]:
    """The target and auxiliary name lists: modalities of the dataset, and disjoint."""
    valid = list(mods)
    tgt = _as_name_list(target, "target")
    aux = _as_name_list(auxiliary, "auxiliary")
    for what, names in (("target", tgt), ("auxiliary", aux)):
        for n in names:
            if n not in mods:
                raise ValueError(
                    f"{what} modality {n!r} is not in the dataset; valid names: {valid}"
                )
    both = [n for n in tgt if n in aux]
    if both:
        raise ValueError(
            f"modality {both[0]!r} is in both target {tgt} and auxiliary {aux}; "
            "they must not overlap"
        )
    return tgt, aux


def _checked_class_names(class_names, n_classes: int) -> list[str]:
    """One name (str) per class; default ``["0", "1", ...]``."""
    if class_names is None:
        class_names = [str(i) for i in range(n_classes)]
    class_names = [str(c) for c in class_names]
    if len(class_names) != n_classes:
        raise ValueError(
            f"class_names has {len(class_names)} entries but n_classes is {n_classes}"
        )
    return class_names
