"""What the paper's datasets (UCF51, ActivityNet, IEMOCAP) share: the user's data root, the weight
files and their checksums, the paper's clip, and :class:`PaperDataset` (a dataset read from the data
root: its location, what is missing there, the check before loading).

The layout of the data root is described in :mod:`amidlib.data.paper_root` (each dataset module lists
what it needs in :meth:`PaperDataset.needs`). Not a dataset itself (a private module of the package:
:mod:`amidlib.data.datasets` registers only the modules without a leading underscore).
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from amidlib.data.datasets.base import Dataset

__all__ = ["PaperDataset", "PaperDataMissing", "CNN14_FILE", "DENSENET_FILE", "data_root_from", "expected_sha256",
           "paper_clip", "gpu_problems"]

CNN14_FILE = "Cnn14_emb512_mAP=0.420.pth"
DENSENET_FILE = "densenet121-a639ec97.pth"


class PaperDataMissing(FileNotFoundError):
    """The paper profile cannot start: the message lists every missing item and where it goes."""


def data_root_from(value: str | os.PathLike | None) -> Path | None:
    """The data root: the given value, else ``$AMID_DATA_ROOT``, else None."""
    value = value or os.environ.get("AMID_DATA_ROOT")
    return Path(value).expanduser() if value else None


def expected_sha256(root: str | os.PathLike, filename: str) -> str | None:
    """The sha256 listed for ``filename`` in ``<root>/weights/SHA256SUMS`` (``sha256sum`` output), or None.

    For telling a corrupt or wrong download from the right one only: the file sits in the data root
    beside the checkpoints, so it is no reason to trust a checkpoint's pickle (see
    :mod:`amidlib.data.paper_root`)."""
    sums = Path(root) / "weights" / "SHA256SUMS"
    if not sums.is_file():
        return None
    for line in sums.read_text(encoding="utf-8").splitlines():
        parts = line.strip().split(maxsplit=1)
        if len(parts) == 2 and Path(parts[1].lstrip("*")).name == filename:
            return parts[0].lower()
    return None


def gpu_problems(device: str) -> list[str]:
    """``["no CUDA GPU: ..."]`` when ``device`` asks for CUDA and this machine has none, else ``[]``."""
    import torch

    if str(device).startswith("cuda") and not torch.cuda.is_available():
        return ["no CUDA GPU: the paper profile trains R(2+1)D-18 on videos (run profile=cpu on a CPU)"]
    return []


def paper_clip(clip=None, test_clips: int | None = None, train_scale="default"):
    """The paper profile's :class:`~amidlib.data.video.decode.ClipSpec`: ``PAPER_CLIP`` with the given
    changes (``clip``: a ClipSpec or a dict of its fields; data options arrive as JSON, so lists are
    turned back into tuples)."""
    import dataclasses

    from amidlib.data.video.decode import PAPER_CLIP, ClipSpec

    if isinstance(clip, ClipSpec):
        spec = clip
    else:
        fields = {k: (tuple(v) if isinstance(v, list) else v) for k, v in dict(clip or {}).items()}
        spec = dataclasses.replace(PAPER_CLIP, **fields)
    if test_clips is not None:
        spec = dataclasses.replace(spec, test_clips=int(test_clips))
    if train_scale != "default":
        spec = dataclasses.replace(spec, train_scale=tuple(train_scale) if train_scale is not None else None)
    return spec


class PaperDataset(Dataset):
    """A dataset of the paper, read from the user's data root (``root`` option) with its frozen
    extractors' features cached under the profile's feature folder (``cache`` option)."""

    paper = True
    loader_parameters = ("on_bad",)

    def needs(self, root: Path) -> list[tuple[Path, str]]:
        """(path, what to put there) of every file or folder the dataset needs under ``root``."""
        raise NotImplementedError

    def location(self, data_root: Path | None, feature_dir: Path) -> dict[str, str]:
        return {"root": str(data_root) if data_root else "", "cache": str(Path(feature_dir) / self.name)}

    def missing_files(self, data_root: str | os.PathLike | None) -> list[str]:
        root = data_root_from(data_root)
        if root is None:
            return ["no data root: pass -p data_root /path/to/data (or set AMID_DATA_ROOT) pointing at the folder laid "
                    "out as amidlib/data/paper_root.py describes (README: 'The paper profile')"]
        if not root.is_dir():
            return [f"data root {root} does not exist"]
        need = self.needs(root)
        out = [f"{path}: {what}" for path, what in need if not path.exists()]
        weights = root / "weights"
        cnn14 = weights / CNN14_FILE
        if any(p == cnn14 for p, _ in need) and cnn14.exists() and expected_sha256(root, CNN14_FILE) is None:
            out.append(f"{weights / 'SHA256SUMS'}: a line for {CNN14_FILE} (cd {weights} && sha256sum {CNN14_FILE} "
                       ">> SHA256SUMS), so the checkpoint is verified before it is loaded")
        return out

    def require(self, data_root: str | os.PathLike | None, device: str = "cuda") -> Path:
        """Stop before anything runs when the GPU ``device`` asks for or a file is missing; returns the root."""
        problems = gpu_problems(device) + self.missing_files(data_root)
        if problems:
            raise PaperDataMissing(f"profile 'paper' cannot run {self.name}:\n  - " + "\n  - ".join(problems))
        return data_root_from(data_root)

    def load(self, data_root: str | os.PathLike | None, cache_dir: str | os.PathLike, on_bad: str = "raise", *,
             manifest: str | os.PathLike | dict | None = None, device: str | None = None, progress: bool = True,
             **options):
        """What the dataset's loader returns for the files under ``data_root`` (checked first; the GPU
        check is the caller's): see :func:`amidlib.data.paper_root.load_paper_dataset`."""
        import torch

        root = self.require(data_root, device="cpu")
        device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        return self.load_root(root, cache_dir, on_bad, manifest=manifest, device=device, progress=progress,
                              options=options)

    def load_root(self, root: Path, cache_dir, on_bad: str, *, manifest, device: str, progress: bool,
                  options: Mapping[str, Any]):
        """The loader on a checked data root."""
        raise NotImplementedError

    def open(self, options: Mapping[str, Any]):
        """The loaded data of a run's options (``root``, ``cache`` and the loader's own)."""
        opts = dict(options)
        root, cache = opts.pop("root", ""), opts.pop("cache", None)
        return self.load(root, cache, **opts)
