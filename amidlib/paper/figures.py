"""The figures' data and pictures: Fig 1 (diagnostic), Figs 3-5 and the warm-up view.

``build_fig1`` / ``build_fig3`` / ``build_fig4`` / ``build_fig5`` / ``build_warmup`` run (or reuse)
what a figure needs, write ``<out_dir>/figN.png`` and the numbers behind it as ``figN.csv`` (per run
and epoch), and return the figure and the frame. Each figure's caption is ``fig.caption`` (and in the
png's metadata: :func:`amidlib.paper.plots.read_caption`); a notebook prints it under the figure.
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from amidlib.core.files import atomic_write_text
from amidlib.data import datasets
from amidlib.paper import names, plots
from amidlib.paper.plans import CURVE_FIGURES, figure_cells, plan_table1
from amidlib.paper.records import record_runs
from amidlib.repro.runs import Study, class_names

__all__ = ["build_fig1", "build_fig3", "build_fig4", "build_fig5", "build_warmup", "build_table_figures",
           "build_loss_shares", "fig_summary", "write_captions",
           "EXPECTED_FILES", "FIGURES", "missing_outputs"]

#: the figures: each a png and a vector pdf beside it
#: (fig_regime: the batch-regime sweep of notebook 03; profiles ci and cpu sweep, the paper profile does not)
FIGURES = ["fig1_diagnostic", "fig3", "fig4", "fig5", "fig_regime", "fig_table1", "fig_table6", "fig_claims",
           "fig_loss_shares"]
EXPECTED_FILES = [f"table{i}.{ext}" for i in range(1, 7) for ext in ("md", "csv")] + [
    f"{name}.{ext}" for name in FIGURES for ext in ("png", "pdf")] + ["runs.csv", "claims.md", "claims.csv"]


def write_captions(out_dir: str | os.PathLike) -> Path:
    """``<out_dir>/captions.md``: every figure of the folder with its caption under it, so a reader browsing the
    folder sees what each picture shows (the captions live in the PNGs' metadata, :func:`plots.read_caption`)."""
    out = Path(out_dir)
    lines = ["# The figures, with their captions", "",
             "Written by `amidlib.paper.figures.write_captions` from the captions stored in each PNG (notebook 06); "
             "each figure also has a vector PDF beside it.", ""]
    for png in sorted(out.glob("*.png")):
        text = plots.read_caption(png) or "(no caption stored in this file)"
        lines += [f"## {png.stem}", "", f"![{png.stem}]({png.name})", "", f"*{text}*", ""]
    path = out / "captions.md"
    atomic_write_text(path, "\n".join(lines))
    return path


def missing_outputs(out_dir: str | os.PathLike) -> list[str]:
    """The expected output files not (yet) in ``out_dir``."""
    return [f for f in EXPECTED_FILES if not (Path(out_dir) / f).is_file()]


def _warmup_epochs(study: Study, hist: pd.DataFrame) -> int:
    return int((hist[hist["row"] == hist["row"].iloc[0]].groupby("seed")["phase"]
                .apply(lambda x: (x == "warmup").sum())).max())


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, frame.to_csv(index=False))


def build_warmup(study: Study, save_to: str | os.PathLike | None = None):
    """AMID's warm-up epochs (and AMID without warm-up for contrast): figure, history."""
    prof = study.prof
    hist = study.histories(figure_cells(prof, CURVE_FIGURES["warmup"]))
    warm = _warmup_epochs(study, hist)
    fig = plots.plot_warmup(hist, prof.main.description, warm)
    if save_to:
        plots.save(fig, save_to)
    return fig, hist


def _curve_figure(study: Study, name: str, rows: Sequence[str], columns: Sequence[str], plot,
                  claim_columns: Sequence[str] = (), **plot_kw):
    """The per-epoch figures: the histories of ``rows`` (main pairing, every seed) → ``<name>.csv``
    (``columns``) and ``<name>.png`` (``plot(hist, data description, warm-up epochs)``)."""
    prof = study.prof
    cells = figure_cells(prof, rows)
    hist = study.histories(cells)
    cols = ["row", "seed", "epoch", "phase", *columns]
    _write_csv(hist[cols], prof.paths.out_dir / f"{name}.csv")
    runs = study.runs(cells)
    for col in claim_columns:  # per run: the mean over its distillation epochs (what the claims compare)
        runs = runs.merge(plots.distill_means(hist, col), on=["row", "seed"], how="left")
    record_runs(prof.paths.out_dir, name, runs)
    fig = plot(hist, prof.main.description, _warmup_epochs(study, hist), **plot_kw)
    plots.save(fig, prof.paths.out_dir / f"{name}.png")
    return fig, hist[cols]


def teacher_alone(study: Study) -> pd.DataFrame:
    """The teacher trained alone (Table 4's runs, main pairing): per seed its final test top-1."""
    return study.runs(figure_cells(study.prof, ["teacher_alone"]))[["row", "seed", "teacher_top1"]]


def build_fig1(study: Study):
    """fig1_diagnostic.png/.pdf/.csv: teacher test accuracy and the L_MI_s, L_MI_a values per epoch, with
    the teacher trained alone as the reference (its final test top-1 per seed: fig1_teacher_alone.csv)."""
    ref = teacher_alone(study)
    _write_csv(ref, study.prof.paths.out_dir / "fig1_teacher_alone.csv")
    return _curve_figure(study, "fig1_diagnostic", CURVE_FIGURES["fig1_diagnostic"],
                         ["test_teacher_top1", "test_student_top1", "mi_s_value", "mi_a_value"],
                         plots.plot_fig1_diagnostic,
                         teacher_alone=ref["teacher_top1"])


def build_fig3(study: Study):
    """fig3.png/.csv: per-class student top-1 of AMID and CCL (Table 1's runs, main pairing), and of the
    reference rows the registry of names adds to Fig 3 (Hinton KD, not in the paper)."""
    prof = study.prof
    shown = ["ccl", "amid", *names.figure_references("fig3")]
    cells = [c for c in plan_table1(prof, shown) if c.setting == prof.main.key]
    classes = class_names(cells[0].spec)
    rows = []
    for cell, res in zip(cells, study.results(cells), strict=True):
        for i, acc in enumerate(res.metrics["per_class_student_top1"]):
            rows.append({"row": cell.row, "seed": cell.spec.seed, "class_index": i,
                         "class_name": classes[i] if i < len(classes) else str(i), "top1": acc})
    frame = pd.DataFrame(rows)
    _write_csv(frame, prof.paths.out_dir / "fig3.csv")
    record_runs(prof.paths.out_dir, "fig3", study.runs(cells))
    fig = plots.plot_fig3(frame, prof.main.description, class_noun=datasets.get(prof.main.dataset).class_noun)
    plots.save(fig, prof.paths.out_dir / "fig3.png")
    return fig, frame


def build_fig4(study: Study):
    """fig4.png/.csv: teacher − student test gap per epoch, L_MI_s + L_MI_a vs AMID."""
    return _curve_figure(study, "fig4", CURVE_FIGURES["fig4"], ["test_gap", "test_student_top1", "test_teacher_top1"],
                         plots.plot_fig4, claim_columns=["test_gap"])


def build_fig5(study: Study):
    """fig5.png/.csv: within-class cosine (train, test) per epoch: AMID, w/o D2, w/o L_adv."""
    return _curve_figure(study, "fig5", CURVE_FIGURES["fig5"], ["train_cos_same_class", "test_cos_same_class"],
                         plots.plot_fig5, claim_columns=["train_cos_same_class", "test_cos_same_class"])


def build_loss_shares(out_dir: str | os.PathLike):
    """fig_loss_shares.png/.pdf (+ .csv): what each AMID arm of Tables 4 and 5 optimises, as the share of each
    weighted term (Eq 17, α as configured) in its objective over the distillation epochs, mean over seeds,
    from ``runs.csv`` (each run records its shares). A term of a few percent barely moves training."""
    from amidlib.paper.records import read_runs

    runs = read_runs(out_dir)
    cols = [c for c in runs.columns if c.startswith("share_")]
    amid = runs[runs["source"].isin(["table4", "table5"]) & (runs["method"] == "amid")]
    shares = amid.groupby("row", sort=False)[cols].mean().reset_index()
    shares["label"] = [names.short_name(r) for r in shares["row"]]
    _write_csv(shares, Path(out_dir) / "fig_loss_shares.csv")
    fig = plots.plot_loss_shares(shares)
    plots.save(fig, Path(out_dir) / "fig_loss_shares.png")
    return fig, shares


def build_table_figures(out_dir: str | os.PathLike):
    """fig_table1.png/.pdf (Table 1: paper vs ours per method) and fig_table6.png/.pdf (Table 6 as
    heatmaps) from the tables' csvs in ``out_dir``; returns the two figures."""
    out_dir = Path(out_dir)
    figs = []
    for name, plot in (("table1", plots.plot_table1), ("table6", plots.plot_table6)):
        fig = plot(pd.read_csv(out_dir / f"{name}.csv"))
        plots.save(fig, out_dir / f"fig_{name}.png")
        figs.append(fig)
    return tuple(figs)


def fig_summary(raw: pd.DataFrame, columns: Sequence[str], table: str) -> pd.DataFrame:
    """Per-epoch figure data -> tidy rows like a table's: per (row, column) the mean ± std over
    seeds of each run's average over its distillation epochs (after warm-up)."""
    out = []
    for col in columns:
        per_run = plots.distill_means(raw, col)
        for row, grp in per_run.groupby("row", sort=False):
            v = grp[col].astype(float)
            out.append({"table": table, "setting": "", "row": row, "metric": col, "paper": np.nan,
                        "mean": float(v.mean()), "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0, "n": len(v)})
    return pd.DataFrame(out)

