"""From a notebook's parameters to a :class:`~amidlib.repro.profile_record.Profile`: :func:`load_profile`
(the named profile of :data:`~amidlib.repro.profile_values.PROFILES` with the parameters applied), and the
folders and seed lists those parameters name (:func:`repo_root`, :func:`resolve_path`, :func:`parse_seeds`).
Overview: :mod:`amidlib.repro.profiles`.
"""
from __future__ import annotations

import ast
import dataclasses
import numbers
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from amidlib.core.config import unknown_name_message, whole_number
from amidlib.data import datasets as registry
from amidlib.data.datasets.base import ON_BAD
from amidlib.repro.profile_record import EXECUTORS, GROUPS, SHORT_NAMES, Pairing, Paths, Profile
from amidlib.repro.profile_values import PROFILES

__all__ = ["COMMON_PARAMETERS", "load_profile", "repo_root", "resolve_path", "parse_seeds", "whole_number"]

#: The names every notebook's ``parameters`` cell declares (tests check this).
COMMON_PARAMETERS = ("profile", "dataset", "seeds", "epochs", "device", "out_dir", "data_root", "cache_dir", "n_jobs",
                     "executor", "address", "on_bad", "frames_root", "datasets")


# --------------------------------------------------------------------------- paths
def repo_root(start: str | os.PathLike | None = None) -> Path:
    """The repository root: the first folder at or above ``start`` (default: the current folder)
    holding ``pyproject.toml`` and ``amidlib/``; else the folder above the installed package."""
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "amidlib").is_dir():
            return folder
    return Path(__file__).resolve().parents[2]


def resolve_path(path: str | os.PathLike | None, default: str | os.PathLike, root: Path | None = None) -> Path:
    """``path`` (or ``default`` when None) made absolute: a relative path is taken from the repo root."""
    root = root or repo_root()
    p = Path(default if path is None else path).expanduser()
    return p if p.is_absolute() else (root / p).resolve()


def parse_seeds(seeds) -> tuple[int, ...] | None:
    """None, an int, a list/tuple of ints, or text ("0,1,2", "[0, 1]", "3") -> tuple of ints."""
    if seeds is None:
        return None
    if isinstance(seeds, str):
        text = seeds.strip()
        if not text:
            raise ValueError("seeds='' names no seed (leave the parameter out, or None, for the profile's seeds)")
        try:
            seeds = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            seeds = [s for s in text.replace(",", " ").split()]
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
        seeds = [seeds]
    try:
        out = tuple(whole_number("seeds", s, 0, what="a list of whole numbers >= 0", text=True) for s in seeds)
    except TypeError:
        raise ValueError(f"seeds must be a whole number or a list of whole numbers >= 0, got {seeds!r}") from None
    if not out:
        raise ValueError("seeds must name at least one seed (leave the parameter out for the profile's seeds)")
    return out


# --------------------------------------------------------------------------- loading a profile
def load_profile(
    profile: str = "ci",
    dataset: str | None = None,
    seeds=None,
    epochs: int | None = None,
    device: str | None = None,
    out_dir: str | os.PathLike | None = None,
    data_root: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    n_jobs: int | None = None,
    executor: str | None = None,
    address: str | None = None,
    on_bad: str | None = None,
    frames_root: str | os.PathLike | None = None,
    datasets=None,
    **changes,
) -> Profile:
    """The named profile with the notebook parameters applied (None keeps the profile's value).

    ``dataset`` puts the main pairing on that dataset (one of the profile's ``dataset_choices``): the
    profile's pairing on it, else its pairings' views on it when it has them, else the dataset's own
    views. ``seeds`` replaces every seed list of the profile (Tables 1-6 then all use these seeds).
    ``out_dir``, ``cache_dir``: default the profile's ``paths`` (``figures/`` for cpu, ``figures/<profile>/``
    otherwise; ``runs/<profile>/cache``); the cached features of the frozen extractors (kept across
    reproductions) go to ``runs/<profile>/features``; relative paths are taken from the repository root.
    ``data_root`` default: the environment variable ``AMID_DATA_ROOT``. ``on_bad`` and ``frames_root``: set on
    every dataset whose loader takes them (:attr:`~amidlib.data.datasets.base.Dataset.loader_parameters`;
    ``frames_root``: UCF51's clips from a folder of seekable copies of its videos,
    ``python -m amidlib.data.video.transcode``). ``datasets`` (a profile that reads paper datasets): the
    datasets to use, e.g. ``["ucf51"]`` with only UCF101 at hand; the tables' other columns and setups are
    left out and named in :meth:`Profile.describe`. ``changes``: anything else :meth:`Profile.replace`
    takes (``second_seeds=(0, 1)``, ``table3_folds=5``, ``execution={"checkpoint": True}``).
    """
    if profile not in PROFILES:
        raise ValueError(unknown_name_message("profile", profile, PROFILES))
    if "name" in changes:
        raise TypeError("a profile's name is not a setting: choose the profile by its name instead")
    base = PROFILES[profile]
    prof = base.replace(**changes)
    given = _given_names(changes)
    if dataset is not None:
        prof = _on_dataset(prof, base, dataset, given)
    prof = _with_seeds(prof, parse_seeds(seeds), given)
    prof = _with_run_settings(prof, epochs, device, n_jobs, executor, address)
    if on_bad is not None:
        if on_bad not in ON_BAD:
            raise ValueError(unknown_name_message("on_bad", on_bad, ON_BAD))
        prof = _with_loader_parameter(prof, "on_bad", on_bad)
    if frames_root not in (None, ""):
        prof = _with_loader_parameter(prof, "frames_root", str(Path(frames_root).expanduser()))
    if datasets is not None:
        prof = prof.replace(**_only_datasets(prof, base, datasets))
    prof = _with_paths(prof, out_dir, cache_dir, data_root)
    same_numbers = not (changes or datasets is not None or any(v not in (None, "") for v in (
        dataset, seeds, epochs, on_bad, frames_root)) or device not in (None, "cpu"))
    check_folders(prof, committed_numbers=profile == COMMITTED_PROFILE and same_numbers)
    warmup = prof.config.overrides.get("warmup_epochs")
    if prof.epochs is not None and warmup is not None and warmup >= prof.epochs:
        # a user who asks for very few epochs still gets some distillation epochs
        prof = prof.replace(config={"overrides": {**prof.config.overrides, "warmup_epochs": max(0, prof.epochs // 3)}})
    return prof


def _on_dataset(prof: Profile, base: Profile, dataset: str, given: set[str]) -> Profile:
    """The ``dataset`` parameter: the main pairing on ``dataset`` (one of the profile's ``dataset_choices``)."""
    if dataset not in base.dataset_choices:
        raise ValueError(unknown_name_message(f"dataset for profile {base.name}", dataset, base.dataset_choices))
    if "pairings" in given:
        return prof
    gap = base.sweeps.gap_pairing  # measured on its own dataset's views: on another dataset it matches no gap
    return prof.replace(pairings=_pairings_on(base.pairings, dataset),
                        sweeps={"gap_pairing": gap if gap is not None and gap.dataset == dataset else None})


def _with_seeds(prof: Profile, seeds: tuple[int, ...] | None, given: set[str]) -> Profile:
    """The ``seeds`` parameter: every seed list of the profile replaced by ``seeds`` (None: unchanged)."""
    if seeds is None:
        return prof
    prof = prof.replace(seeds=seeds, seed_sets={"second": seeds, "sweep": seeds, "regime": seeds, "per_method": {},
                                                    "edge": ()})
    if len(seeds) == 1 and "batch_seeds" not in given:
        prof = prof.replace(execution={"batch_seeds": False})  # one seed per configuration: nothing to batch
    return prof


def _with_run_settings(prof: Profile, epochs, device, n_jobs, executor, address) -> Profile:
    """The ``epochs``, ``device``, ``n_jobs``, ``executor`` and ``address`` parameters (None: the profile's)."""
    if epochs is not None:
        prof = prof.replace(epochs=whole_number("epochs", epochs, 1, text=True))
    if device is not None:
        import torch  # (only to read the device's name: "cpu", "cuda", "cuda:1", ...)

        try:
            torch.device(str(device))
        except (RuntimeError, TypeError):
            raise ValueError(f"device must name a torch device, e.g. 'cpu' or 'cuda', got {device!r}") from None
        prof = prof.replace(device=str(device))
    execution: dict[str, Any] = {}
    if n_jobs is not None:
        execution["n_jobs"] = whole_number("n_jobs", n_jobs, 1, text=True)
    if executor is not None:
        if executor not in EXECUTORS:
            raise ValueError(unknown_name_message("executor", executor, EXECUTORS))
        execution["executor"] = executor
    if address not in (None, ""):
        execution["address"] = str(address)
    return prof.replace(execution=execution) if execution else prof


def _with_paths(prof: Profile, out_dir, cache_dir, data_root) -> Profile:
    """The profile's folders made absolute (relative ones from the repository root), ``out_dir`` and
    ``cache_dir`` replacing the profile's; ``data_root`` default: the environment variable ``AMID_DATA_ROOT``."""
    root = repo_root()
    data_root = data_root if data_root not in (None, "") else os.environ.get("AMID_DATA_ROOT") or None
    return prof.replace(paths=Paths(out_dir=resolve_path(out_dir, prof.paths.out_dir, root),
                                    cache_dir=resolve_path(cache_dir, prof.paths.cache_dir, root),
                                    feature_dir=resolve_path(None, prof.paths.feature_dir, root),
                                    data_root=Path(data_root).expanduser() if data_root else None))


#: the profile whose whole reproduction writes the committed results, ``figures/`` (and only it writes there)
COMMITTED_PROFILE = "cpu"


def check_folders(prof: Profile, committed_numbers: bool) -> None:
    """Refuse output folders that would overwrite what they should not: the repository root or anything inside
    ``.git`` (for ``out_dir`` and ``cache_dir``), and the committed ``figures/`` unless this is the cpu profile with
    no parameter that changes its numbers (``committed_numbers``): another profile's or another setting's tables
    there would pass for the committed results."""
    root = repo_root()
    default = PROFILES[prof.name].paths
    for name, folder, own in (("out_dir", prof.paths.out_dir, default.out_dir),
                              ("cache_dir", prof.paths.cache_dir, default.cache_dir)):
        folder = Path(folder).resolve()
        if folder == root or root / ".git" in (folder, *folder.parents):
            raise ValueError(f"{name}={str(folder)!r} is the repository's {'root' if folder == root else '.git'}: "
                             f"give a folder of its own (profile {prof.name}'s: {resolve_path(None, own, root)})")
    if Path(prof.paths.out_dir).resolve() == (root / "figures").resolve() and not committed_numbers:
        other = (f"profile {prof.name} with these parameters" if prof.name == COMMITTED_PROFILE
                 else f"profile {prof.name}")
        instead = ("give another folder, e.g. -p out_dir figures/custom" if prof.name == COMMITTED_PROFILE else
                   f"leave out_dir out (profile {prof.name} writes to {resolve_path(None, default.out_dir, root)})")
        raise ValueError(f"out_dir={str(prof.paths.out_dir)!r} holds the committed results of the cpu profile's "
                         f"reproduction, and {other} would overwrite them with other numbers: {instead}")


def _given_names(changes: Mapping[str, Any]) -> set[str]:
    """The top-level and short names ``changes`` sets (a record given whole or as a dict sets its values)."""
    out = set(changes)
    for name, value in changes.items():
        if name in GROUPS:
            values = value if isinstance(value, Mapping) else {f.name: None for f in dataclasses.fields(value)}
            out |= {short for short, (group, key) in SHORT_NAMES.items() if group == name and key in values}
    return out


def _pairings_on(pairings: tuple[Pairing, ...], dataset: str) -> tuple[Pairing, ...]:
    """The pairings with their main one on ``dataset``: the profile's own pairing on it first; else the same
    views on ``dataset`` when it has them all; else the dataset's default views, as the main pairing alone."""
    if any(p.dataset == dataset for p in pairings):
        return tuple(sorted(pairings, key=lambda p: p.dataset != dataset))
    ds = registry.get(dataset)
    if all(view in ds.all_views for p in pairings for view in (*p.target, *p.auxiliary)):
        return tuple(dataclasses.replace(p, dataset=dataset) for p in pairings)
    target, auxiliary = ds.views
    return (Pairing(tuple(target), tuple(auxiliary), pairings[0].paper, dataset),)


def _with_loader_parameter(prof: Profile, name: str, value) -> Profile:
    """``prof`` with loader option ``name`` set on every registered dataset whose loader takes it (the
    ``on_bad`` and ``frames_root`` notebook parameters)."""
    options = {d: dict(s.options) for d, s in prof.config.datasets.items()}
    for ds in registry.all_datasets():
        if name in ds.loader_parameters:
            options[ds.name] = {**options.get(ds.name, {}), name: value}
    settings = {d: dataclasses.replace(prof.config.dataset(d), options=o) for d, o in options.items()}
    return prof.replace(config={"datasets": {**prof.config.datasets, **settings}})


def _only_datasets(prof: Profile, base: Profile, chosen) -> dict[str, Any]:
    """Profile changes for the ``datasets`` parameter: the pairings and cross-validated setups of those datasets
    only."""
    if isinstance(chosen, str):  # "ucf51", "ucf51,iemocap" or "['ucf51']"
        text = chosen.strip()
        chosen = ast.literal_eval(text) if text.startswith(("[", "(")) else text.replace(",", " ").split()
    chosen = [chosen] if isinstance(chosen, str) else [str(d) for d in chosen]
    optional = [d for d in base.datasets() if registry.get(d).paper]  # datasets a user may not have
    if not optional:
        raise ValueError(f"datasets={chosen!r} selects the paper datasets a profile reads; profile {base.name} has one "
                         "main dataset and no paper dataset to leave out (use the dataset parameter)")
    unknown = [d for d in chosen if d not in optional]
    if unknown or not chosen:
        raise ValueError(unknown_name_message("paper dataset", unknown[0] if unknown else "", optional))
    pairings = tuple(p for p in prof.pairings if p.dataset in chosen)
    if not pairings:
        paired = [d for d in optional if any(p.dataset == d for p in base.pairings)]
        raise ValueError(f"datasets={chosen}: Tables 1-2 and 4-6 need {' or '.join(paired)} among them")
    main = prof.main.dataset
    if main not in chosen:
        raise ValueError(f"datasets={chosen} leaves out {main}, the dataset of Tables 4-6 and the figures: add it, or "
                         f"set the dataset parameter to {pairings[0].dataset}")
    return {"pairings": pairings, "crossval": {"setups": tuple(s for s in base.crossval.setups if s.dataset in chosen)},
            "skipped": tuple(d for d in optional if d not in chosen)}
