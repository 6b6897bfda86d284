"""The committed reproduction's run records, so a notebook opened on a fresh clone shows its numbers, training nothing.

``make reproduce`` (profile ``cpu``) packs its run cache, every sealed record the notebooks read, into
``figures/run_records.tar.gz`` (:func:`pack`: a few MB, deterministic, so an unchanged record packs to the same
bytes). A notebook opened by hand (``mode="explore"``, :mod:`amidlib.notebook`) unpacks it once into
``runs/explore/committed/cache`` (:func:`unpack`) and reads every run from there: the tables, figures and claims it
computes are the committed ones. Every record is still checked against its seal when read
(:mod:`amidlib.repro.store`).

    python -m amidlib.repro.committed                     # pack the newest runs/cpu/<time>/cache into figures/
    python -m amidlib.repro.committed --cache runs/cpu/20261207-144014/cache
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path

from amidlib.core.files import atomic_write_bytes, atomic_write_text
from amidlib.repro.profile_loading import repo_root
from amidlib.repro.store import SEAL, record_problem

__all__ = ["ARCHIVE", "UNPACKED", "pack", "unpack", "committed_cache", "last_reproduction_cache", "main"]

#: the archive, beside the committed figures
ARCHIVE = Path("figures") / "run_records.tar.gz"
#: where a notebook in explore mode unpacks it (ignored by git)
UNPACKED = Path("runs") / "explore" / "committed" / "cache"


def pack(cache_dir: str | os.PathLike, archive: str | os.PathLike) -> int:
    """Every intact record of ``cache_dir`` (its folders with a matching seal; ``.damaged``, ``.checkpoints`` and
    damaged ones left out) into the tar.gz ``archive``, written atomically; returns how many records."""
    cache_dir = Path(cache_dir)
    records = sorted(p for p in cache_dir.iterdir() if p.is_dir() and not p.name.startswith(".")
                     and (p / SEAL).is_file() and record_problem(p) is None)
    buffer = io.BytesIO()
    with gzip.GzipFile(fileobj=buffer, mode="wb", mtime=0, compresslevel=9) as gz, \
            tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for record in records:
            for path in sorted(record.iterdir()):
                info = tarfile.TarInfo(f"{record.name}/{path.name}")
                data = path.read_bytes()
                info.size, info.mtime, info.mode = len(data), 0, 0o644  # (no time, owner or umask in the bytes)
                tar.addfile(info, io.BytesIO(data))
    atomic_write_bytes(Path(archive), buffer.getvalue())
    return len(records)


def unpack(archive: str | os.PathLike, dest: str | os.PathLike) -> Path:
    """The records of ``archive`` as the run cache ``dest``, made once: unpacked into a temporary folder beside it,
    then renamed into place (a reader never sees half of it; an existing ``dest`` is kept as it is)."""
    archive, dest = Path(archive), Path(dest)
    if dest.is_dir():
        return dest
    if not archive.is_file():
        raise FileNotFoundError(f"{archive} is missing: the committed reproduction's run records (make reproduce "
                                "writes them)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=f".{dest.name}."))
    try:
        with tarfile.open(archive, mode="r:gz") as tar:
            tar.extractall(tmp, filter="data")  # (plain files inside tmp only)
        os.replace(tmp, dest)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        if not dest.is_dir():  # (another process may have put it in place first)
            raise
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return dest


def committed_cache(root: Path | None = None) -> Path | None:
    """The committed records as a run cache (unpacked on first use), or None where the archive is missing."""
    root = repo_root() if root is None else root
    archive = root / ARCHIVE
    if not archive.is_file():
        return None
    dest = root / UNPACKED
    stamp = dest.parent / "archive.sha256"  # a new archive (a later reproduction) replaces an older unpacked copy
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    if dest.is_dir() and (not stamp.is_file() or stamp.read_text() != digest):
        shutil.rmtree(dest)  # (a copy of the archive's records, never anything trained here)
    unpack(archive, dest)
    atomic_write_text(stamp, digest)
    return dest


def last_reproduction_cache(folder: Path) -> Path | None:
    """The newest ``<folder>/<time>/cache`` holding a sealed run record (the folders :mod:`amidlib.repro.reproduce`
    makes; a cache from before records were sealed would be trained again, so it is not chosen)."""
    found = sorted((p for p in Path(folder).glob("*/cache") if any(p.glob(f"*/{SEAL}"))), key=lambda p: p.parent.name)
    return found[-1] if found else None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m amidlib.repro.committed", description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, help="a run cache (default: the newest runs/cpu/<time>/cache)")
    ap.add_argument("--archive", type=Path, default=None, help=f"default: {ARCHIVE}")
    args = ap.parse_args(argv)
    root = repo_root()
    cache = args.cache or last_reproduction_cache(root / "runs" / "cpu")
    if cache is None:
        raise SystemExit(f"no reproduction with sealed run records under {root / 'runs' / 'cpu'}: run `make reproduce` "
                         "first, or pass --cache")
    archive = args.archive or root / ARCHIVE
    n = pack(cache, archive)
    print(f"run records: {n} from {cache} into {archive} ({archive.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
