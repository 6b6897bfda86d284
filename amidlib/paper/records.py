"""``runs.csv``: one row per training run behind any table, figure or claim.

Columns: ``source`` (table1 … table6, fig1_diagnostic, fig3, fig4, fig5, fig_regime; ``edge``: the extra
seeds of the comparisons at the edge, :mod:`amidlib.paper.edge`), ``setting`` (pairing or
dataset), ``paper_setting``, ``row`` (the paper_results.csv row key), ``seed``, ``fold``, ``method``,
``dataset``, every final metric (``student_top1, teacher_top1, student_r1, student_r5, wa, ua``) and the
regime the run trained in, measured in its batches (``batch_positives``: same-class items per anchor in
Eq 8; ``batch_with_partner``: share of samples with a same-class partner, the set D2 sees;
``lambda1_min``, ``lambda1_max``: the range of λ1, Eq 14, where the method has one);
the per-epoch figures add, per run, the mean over its distillation epochs of what they plot and the
claims read (``test_gap``; ``train_cos_same_class``, ``test_cos_same_class``). The run-cache key is
left out: it changes with every code edit, the numbers do not. Tables, figures and claims are computed from
these runs, so anyone can recompute them; ``make verify`` compares two of these files.

Each notebook replaces the rows of the sources it builds (:func:`record_runs`); rows are kept in a
fixed source order, so rebuilding one table leaves the file byte-identical when the runs are. Notebooks
may run side by side (``make reproduce`` does): each read-replace-write holds a lock on ``runs.csv.lock``,
so no notebook's rows are lost to another's write.
"""
from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pandas as pd

from amidlib.core.files import atomic_write_text

__all__ = ["SOURCE_ORDER", "record_runs", "read_runs"]

#: the order of sources in runs.csv
SOURCE_ORDER = ["table1", "table2", "table3", "table4", "table5", "table6",
                "fig1_diagnostic", "fig3", "fig4", "fig5", "fig_regime", "edge"]
_FIRST = ["source", "setting", "paper_setting", "row", "seed", "fold", "method", "dataset"]


def read_runs(path: str | os.PathLike) -> pd.DataFrame:
    """A runs.csv (``path``: the file, or a folder holding it)."""
    path = Path(path)
    if path.is_dir():
        path = path / "runs.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run the notebooks (make reproduce) to write it")
    return pd.read_csv(path, dtype={"row": str, "setting": str, "paper_setting": str, "source": str})


def record_runs(out_dir: str | os.PathLike, source: str, runs: pd.DataFrame) -> Path:
    """Put ``runs`` (a :func:`amidlib.repro.runs.runs_frame`) into ``<out_dir>/runs.csv`` as the rows of
    ``source``, replacing that source's earlier rows; written atomically."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / "runs.csv"
    with _locked(out_dir / "runs.csv.lock"):
        return _replace_rows(path, source, runs)


@contextlib.contextmanager
def _locked(lock_path: Path):
    """An exclusive advisory lock (``fcntl.flock``) for the time of the block; none where fcntl is missing."""
    try:
        import fcntl
    except ImportError:  # Windows: notebooks there run one at a time
        yield
        return
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _replace_rows(path: Path, source: str, runs: pd.DataFrame) -> Path:
    new = runs.drop(columns=["table", "run"], errors="ignore").assign(source=source)
    new = new[_FIRST + [c for c in new.columns if c not in _FIRST]]
    old = read_runs(path) if path.is_file() else new.iloc[0:0]
    merged = pd.concat([old[old["source"] != source], new], ignore_index=True)
    rank = {s: i for i, s in enumerate(SOURCE_ORDER)}
    merged["_order"] = merged["source"].map(lambda s: rank.get(s, len(rank)))
    merged = merged.sort_values("_order", kind="stable").drop(columns="_order")
    atomic_write_text(path, merged.to_csv(index=False))
    return path
