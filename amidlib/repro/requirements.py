"""Whether a profile can run on this machine: :func:`check_requirements` names every missing piece (a CUDA
GPU, each missing file of a dataset read from the data root) before anything trains.
"""
from __future__ import annotations

import json
import tempfile
from pathlib import Path

from amidlib.data import datasets as registry
from amidlib.repro.profile_record import Profile

__all__ = ["check_requirements", "check_writable"]


def check_writable(**folders) -> None:
    """Each folder (by parameter name: ``out_dir=...``) created if missing and a file written into it and removed, so
    that a folder that cannot take the results is named before anything trains, not after."""
    for name, folder in folders.items():
        try:
            Path(folder).mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=folder):
                pass
        except OSError as exc:
            raise RuntimeError(f"{name}={str(folder)!r} cannot be written ({type(exc).__name__}: "
                               f"{exc.strerror or exc}): nothing was trained; give a folder this user can "
                               "write") from None


def check_requirements(prof: Profile, datasets=None) -> None:
    """Stop with a clear message when the profile cannot run here on ``datasets`` (the datasets a notebook
    reads; default: every dataset of the profile, :meth:`Profile.datasets`; ``()``: a notebook that reads none),
    or cannot write its output and cache folders (:func:`check_writable`).

    A CUDA ``device`` needs a CUDA GPU (``device="cpu"`` runs the same pipelines on the CPU; the paper's, very
    slowly). A dataset read from the data root needs every file of its layout
    (:meth:`~amidlib.data.datasets.base.Dataset.missing_files`): the message lists every missing piece by
    path. The embedded datasets need nothing beyond the install (checked when loaded; the generated tier
    is written on first use).
    """
    import torch

    check_writable(out_dir=prof.paths.out_dir, cache_dir=prof.paths.cache_dir)
    wanted = prof.datasets() if datasets is None else list(datasets)
    for name in wanted:
        registry.get(name)  # an unknown name is refused, with the valid ones
    no_gpu = str(prof.device).startswith("cuda") and not torch.cuda.is_available()
    from_root = [d for d in prof.datasets() if registry.get(d).paper]
    if not from_root:  # a profile on the embedded data: the device is all there is to check
        if no_gpu:
            raise RuntimeError(f"device {prof.device!r} asked for, but this machine has no CUDA GPU (torch "
                               f"{torch.__version__}: torch.cuda.is_available() is False); nothing was trained. "
                               f"Use device 'cpu' (the {prof.name} profile's default).")
        return
    if not wanted:  # a notebook of a data-root profile that reads no dataset
        return
    missing = []
    if no_gpu:
        missing.append("a CUDA GPU (torch.cuda.is_available() is False on this machine; -p device cpu runs the "
                       "paper pipelines on the CPU, very slowly)")
    for name in wanted:
        # each missing item, by path (or: no data root)
        missing += registry.get(name).missing_files(prof.paths.data_root)
    missing = list(dict.fromkeys(missing))  # "no data root" once, not once per dataset
    if missing:
        present = [d for d in from_root if not registry.get(d).missing_files(prof.paths.data_root)]
        raise RuntimeError(
            f"profile '{prof.name}' ({', '.join(wanted)}) cannot run here; missing: " + "; ".join(missing)
            + ". " + (f"The data root has all that {', '.join(present)} need: -p datasets '{json.dumps(present)}' "
                     "reproduces what they allow (the other datasets' tables and columns are left out, and named); "
                     if present else "")
            + "--profile cpu reproduces every table and figure on the embedded data instead."
        )
