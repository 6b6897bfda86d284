"""Writing files so that a reader never sees half of one: the one home of the package's atomic writes.

Every writer goes to a temporary file in the destination's folder (same file system, so the final
``os.replace`` is atomic), gives it the mode a plain ``open`` would, and renames it over the
destination only once it is complete; on any error the temporary file is removed and the
destination is left as it was.

- :func:`atomic_write_text` / :func:`atomic_write_bytes`: a string or bytes;
- :func:`atomic_path`: a context manager yielding a temporary path for writers that want a path
  (``fig.savefig``, ``torch.save``, ``np.save``, ``shutil.copyfile``, a subprocess's output);
- :func:`readable_as_usual`: the mode fix, for code that makes its own temporary files;
- :func:`file_digest`: a file's size and SHA-256, which a record's seal lists (run records, checkpoints), so a
  reader can tell the file it finds from the one that was written.
"""
from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_write_text", "atomic_write_bytes", "atomic_path", "readable_as_usual", "file_digest"]


def file_digest(path: str | os.PathLike) -> dict:
    """``{"bytes": size, "sha256": hex digest}`` of the file at ``path`` (read in 1 MiB blocks)."""
    h, size = hashlib.sha256(), 0
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            h.update(block)
            size += len(block)
    return {"bytes": size, "sha256": h.hexdigest()}


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _current_umask()


def readable_as_usual(path: str | os.PathLike) -> None:
    """Give a ``tempfile.mkstemp`` file (private, 0600) the mode a plain ``open`` would (0666 minus the
    umask), so results in a shared cache or figures folder are readable by the group as usual."""
    os.chmod(path, 0o666 & ~_UMASK)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; when the block ends without error, it replaces ``path``.

    ``suffix`` (default: ``path``'s own suffix) keeps writers that choose a format from the extension
    (``savefig``) working. An error inside the block removes the temporary file and re-raises."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.",
                               suffix=path.suffix + ".tmp" if suffix is None else suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        readable_as_usual(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
