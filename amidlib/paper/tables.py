"""The paper's Tables 1-6: summaries of the runs, the side-by-side markdown, the files.

A table is built in three steps, each a function a notebook calls:

1. **plan**: ``plan_table1(prof)`` … ``plan_table6(prof)`` list :class:`Cell` s: (setting, row
   label, :class:`RunSpec`). A RunSpec names one training run (method, views, split, seed,
   config overrides).
2. **run**: :meth:`Study.results` trains what the run cache does not hold yet (in ``n_jobs``
   worker processes) and returns one :class:`~amidlib.experiment.Result` per cell. Runs are
   shared between tables: the AMID runs with default settings serve Tables 1, 2, 4, 5, 6 and the
   figures, because the cache key is the *effective* configuration (``alpha1=4.0`` and "no
   override" are the same run), the data, the seed and a fingerprint of the training code.
3. **summarise**: :func:`summarise` gives the tidy table (one row per table cell: the paper's
   number from ``data_manifests/paper_results.csv`` via :mod:`amidlib.data.manifests`, our mean, std
   and n), :func:`to_markdown` the side-by-side view, :func:`write_table` both files.

The tidy csv columns: ``table, setting, paper_setting, data, dataset, row, label, metric, paper, mean,
std, n`` (``row``: the paper_results.csv method key, e.g. ``amid``, ``mi_s+mi_a``, ``3.7``).
"""
from __future__ import annotations

import functools
import os
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd

from amidlib.core.files import atomic_write_text
from amidlib.data import datasets, manifests
from amidlib.paper import names
from amidlib.paper.plans import PLANS
from amidlib.paper.records import record_runs
from amidlib.paper.stats import batch_regime, ratio_effect
from amidlib.repro.profiles import Profile
from amidlib.repro.runs import Study, load_split, make_spec

__all__ = ["summarise", "to_markdown", "write_table", "read_table", "build_table", "PAPER_METRIC", "fmt", "mean_std",
           "format_table"]

# Row labels (amidlib.paper.names.labels), their order and the metric names come from the one registry of
# names, amidlib.paper.names, read when a table is built (so a method declared later is in it).

#: ours metric -> paper metric, per table
PAPER_METRIC = {
    "table1": {"student_top1": "top1", "teacher_top1": "top1"},
    "table2": {"student_r1": "r1", "student_r5": "r5"},
    "table3": {"wa": "WA", "ua": "UA"},
    "table4": {"student_top1": "student_top1", "teacher_top1": "teacher_top1"},
    "table5": {"student_top1": "top1"},
    "table6": {"student_top1": "top1"},
}


def _left_out(prof: Profile, table: str) -> str:
    """What leaving paper datasets out of the ``datasets`` parameter leaves out of ``table``, as each dataset's
    file says it (``paper_part`` of the datasets whose ``paper_tables`` list it): the "Not reproduced" line of a
    table whose every run is on left-out datasets."""
    return "; ".join(ds.paper_part for ds in map(datasets.get, prof.skipped) if table in ds.paper_tables)


# --------------------------------------------------------------------------- summaries
def _metric_rows(table: str, row: str) -> list[str]:
    """Which of our metrics a row of a table reports (Tables 1 and 4: the top-1 the row's method has)."""
    student, teacher = names.reports(row)
    if table == "table1":
        return ["student_top1"] if student else ["teacher_top1"]
    if table == "table4":
        return [m for m, has in (("student_top1", student), ("teacher_top1", teacher)) if has]
    return list(PAPER_METRIC[table])


def _label(table: str, row: str) -> str:
    return names.table_label(table, row)


def summarise(runs: pd.DataFrame, table: str | None = None, data: dict[str, str] | None = None) -> pd.DataFrame:
    """The tidy table: mean, std (ddof 1; 0 for one run), n over seeds (Table 3: folds) per
    (setting, row, metric), beside the paper's number (``amidlib.data.manifests.paper_value``).

    ``data`` maps our setting to a description of the data (for the ``data`` column).
    """
    table = table or runs["table"].iloc[0]
    out = []
    for (setting, row), grp in runs.groupby(["setting", "row"], sort=False):
        paper_setting = grp["paper_setting"].iloc[0]
        for metric in _metric_rows(table, row):
            vals = grp[metric].astype(float).dropna()
            paper_metric = PAPER_METRIC[table][metric]
            # a reference row (Table 1's teacher, Hinton KD) or a method the paper does not have: no paper number
            paper = (manifests.paper_value(table, paper_setting, row, paper_metric) if names.paper_lists(table, row)
                     else None)
            out.append({
                "table": table, "setting": setting, "paper_setting": paper_setting,
                "data": (data or {}).get(setting, ""),
                "dataset": grp["dataset"].iloc[0] if "dataset" in grp else datasets.DEFAULT, "row": row,
                "label": _label(table, row), "metric": metric,
                "paper": np.nan if paper is None else paper,
                "mean": float(vals.mean()) if len(vals) else np.nan,
                "std": float(vals.std(ddof=1)) if len(vals) > 1 else 0.0,
                "n": int(len(vals)),
            })
    return pd.DataFrame(out)


def ours_cell(mean: float, std: float, n: int) -> str:
    """"81.2 ± 0.4" (mean ± std over n runs); one run has no spread: "81.2" (the n column says 1)."""
    if n is not None and int(n) == 1 and not (isinstance(mean, float) and np.isnan(mean)):
        return f"{mean:.1f}"
    return fmt(mean, std)


def _paper_cell(v) -> str:
    return "—" if v is None or (isinstance(v, float) and np.isnan(v)) else f"{v:.1f}"


_METRIC_NAMES = names.METRIC_NAMES


def _gap_cell(r) -> str:
    if r["n"] < 2 or np.isnan(r["ci_low"]):
        return f"{r['mean']:.0f} %"
    return f"{r['mean']:.0f} % [{r['ci_low']:.0f}, {r['ci_high']:.0f}]"


def to_markdown(tidy: pd.DataFrame) -> str:
    """Side-by-side markdown: for every (setting, metric) a "paper" and an "ours (mean ± std)"
    column, and the number of seeds (Table 3: folds) per setting."""
    table = tidy["table"].iloc[0]
    t = tidy.assign(ours=[ours_cell(m, s, n) for m, s, n in zip(tidy["mean"], tidy["std"], tidy["n"], strict=True)],
                    paper_txt=[_paper_cell(v) for v in tidy["paper"]])
    if table in ("table3", "table6"):
        # the setting is a row group: one line per (setting, row)
        lines = []
        first = "setup" if table == "table3" else "hyperparameter"
        for (setting, _row), grp in t.groupby(["setting", "row"], sort=False):
            paper_setting = grp["paper_setting"].iloc[0]
            if table == "table6":
                rec = {first: setting}
            else:
                rec = {first: "V (target alone)" if setting == "V" else f"{paper_setting} ({setting})"}
            rec["value" if table == "table6" else "method"] = grp["label"].iloc[0]
            for _, r in grp.iterrows():
                name = _METRIC_NAMES[r["metric"]]
                rec[f"paper {name}"] = r["paper_txt"]
                rec[f"ours {name}"] = r["ours"]
            rec["n folds" if table == "table3" else "n seeds"] = int(grp["n"].max())
            lines.append(rec)
        return pd.DataFrame(lines).to_markdown(index=False, disable_numparse=True)
    if table == "table4":
        lines = []
        for _row, grp in t.groupby("row", sort=False):
            rec = {"configuration": grp["label"].iloc[0]}
            for metric, who in (("student_top1", "student"), ("teacher_top1", "teacher")):
                hit = grp[grp["metric"] == metric]
                rec[f"paper {who}"] = hit["paper_txt"].iloc[0] if len(hit) else "—"
                rec[f"ours {who}"] = hit["ours"].iloc[0] if len(hit) else "—"
            rec["n seeds"] = int(grp["n"].max())
            lines.append(rec)
        return pd.DataFrame(lines).to_markdown(index=False, disable_numparse=True)
    # tables 1, 2, 5: rows = methods, column groups = settings
    gap = t[t["metric"] == "gap_closed"]
    t = t[t["metric"] != "gap_closed"]
    settings = list(dict.fromkeys(t["setting"]))
    metrics = list(dict.fromkeys(PAPER_METRIC[table]))
    if table == "table1":
        metrics = ["top1"]
        t = t.assign(metric_group="top1")
    else:
        t = t.assign(metric_group=t["metric"])
    lines = []
    for row, grp in t.groupby("row", sort=False):
        rec = {"method": grp["label"].iloc[0]}
        for setting in settings:
            g = grp[grp["setting"] == setting]
            ps = t.loc[t["setting"] == setting, "paper_setting"].iloc[0]
            for metric in metrics:
                hit = g[g["metric_group"] == metric]
                name = "top-1" if metric == "top1" else _METRIC_NAMES[metric]
                rec[f"paper {ps} {name}"] = hit["paper_txt"].iloc[0] if len(hit) else "—"
                rec[f"ours {setting} {name}"] = hit["ours"].iloc[0] if len(hit) else "—"
            rec[f"n ({setting})"] = int(g["n"].max()) if len(g) else 0
        for setting in settings if len(gap) else ():
            hit = gap[(gap["setting"] == setting) & (gap["row"] == row)]
            rec[f"gap closed ({setting})"] = "—" if hit.empty else _gap_cell(hit.iloc[0])
        lines.append(rec)
    return pd.DataFrame(lines).to_markdown(index=False, disable_numparse=True)


TITLES = {
    "table1": "Table 1 (embedded analogue): top-1 accuracy (%) of the student",
    "table2": "Table 2 (embedded analogue): retrieval R@1 / R@5 (%) of the student (test queries, training gallery)",
    "table3": "Table 3 (embedded analogue): WA / UA (%) under different auxiliary setups, stratified k-fold",
    "table4": "Table 4 (embedded analogue): ablation of the loss terms, student and teacher top-1 (%)",
    "table5": "Table 5 (embedded analogue): training modifications, student top-1 (%)",
    "table6": "Table 6 (embedded analogue): student top-1 (%) for α1, α2, α3 varied one at a time "
              "(others at 4, 1.6, 1)",
}


def header(table: str, prof: Profile | None, tidy: pd.DataFrame) -> str:
    title = TITLES[table]
    paper_data = "dataset" in tidy and all(datasets.get(d).paper for d in set(tidy["dataset"]))
    if paper_data:
        title = title.replace(" (embedded analogue)", "")
    lines = [f"# {title}", ""]
    settings = tidy.drop_duplicates("setting")
    if table in ("table1", "table2"):
        for _, r in settings.iterrows():
            lines.append(f"- column {r['setting']}: {r['data']} (stands for the paper's {r['paper_setting']})")
    elif table == "table3":
        lines.append("- setups: " + "; ".join(f"{r['paper_setting']} = {r['data']}" for _, r in settings.iterrows()))
    else:
        lines.append(f"- data: {tidy['data'].iloc[0]}" + ("" if paper_data else " (stands for the paper's UCF51)"))
    n_what = "folds (one run per fold)" if table == "table3" else "seeds"
    if table == "table3" and not paper_data:
        sizes = prof.crossval.class_sizes if prof is not None else None
        if sizes:
            lines.append(f"- made class-imbalanced like IEMOCAP (largest class 1.58× the smallest: 1,708 neutral vs "
                         f"1,084 sad utterances): {max(sizes)} down to {min(sizes)} digits per class, {sum(sizes)} in "
                         "all, so WA (accuracy) and UA (mean per-class recall) differ as they do in the paper")
        else:
            lines.append("- UCI Multiple Features is class-balanced and the folds are stratified, so WA and UA "
                         "coincide (IEMOCAP's classes are not balanced, hence two numbers in the paper)")
    where = ("the same datasets; differences come from seeds, hardware, the unstated details listed in docs/design.md"
             if paper_data
             else "its datasets are UCF51 / ActivityNet / IEMOCAP, not these: compare orderings, not values")
    lines.append(f"- ours: mean ± std over n {n_what} (just the value when n = 1); paper: the paper's number, from "
                 f"data_manifests/paper_results.csv ({where})")
    if prof is not None and table in ("table1", "table4", "table5", "table6"):
        ours = regime(prof)
        if ours is not None:
            lines.append(f"- regime: {_regime_line(ours)}")
        if table == "table5" and ours and ours["with_partner"] > 0.95:
            lines.append("- w/o D2: here nearly every sample has a same-class partner in its batch (the paper's UCF51: "
                         f"≈ {100 * paper_regime()['with_partner']:.0f} %), so this row tests D2 in a regime the "
                         "paper's main dataset does not have; no effect here says little about D2 there")
    ours_only = [names.table_label(table, r) for r in dict.fromkeys(tidy["row"].astype(str)) if not names.in_paper(r)]
    if ours_only:
        lines.append(f"- not in the paper (a reference of ours, no paper number): {', '.join(ours_only)}")
    if table == "table1" and "gap_closed" in set(tidy["metric"]):
        lines.append("- gap closed: (method − baseline) / (teacher − baseline) in %, seed by seed, mean and 95 % "
                     "interval: the share of the teacher–student gap a method closes")
    lines += data_usage_lines(prof, tidy)
    if prof is not None:
        lines.append(f"- profile {prof.name}: " + prof.describe().splitlines()[0].split(": ", 1)[1])
        lines.append(f"- recipe: {recipe_text(prof, table)}")
        for method, ov in prof.config.per_method.items():
            lines.append(f"- {method} runs with {dict(ov)} under this profile (cost), not its paper default")
    return "\n".join(lines) + "\n\n"


def recipe_text(prof: Profile, table: str | None = None) -> str:
    """The optimisation recipe of the AMID runs of ``table`` (Table 3: its cross-validated setups, which may
    run on another dataset at another preset; the others and None: the main pairing), from their effective
    configuration: "Adam, lr 0.001, weight decay 0.0001, batch 64, 60 epochs (20 of warm-up), constant lr"."""
    pairing = prof.crossval.setups[0] if table == "table3" and prof.crossval.setups else prof.main
    cfg = make_spec(prof, pairing, "amid", prof.seeds[0]).effective_config()
    opt = "SGD (momentum {})".format(cfg["momentum"]) if cfg["optimizer"] == "sgd" else "Adam"
    drops = (f"lr × {cfg['lr_gamma']:g} after epochs {', '.join(str(m) for m in cfg['lr_milestones'])}"
             if cfg["lr_milestones"] else "constant lr")
    return (f"{opt}, lr {cfg['lr']:g}, weight decay {cfg['weight_decay']:g}, batch {cfg['batch_size']}, "
            f"{cfg['epochs']} epochs ({cfg['warmup_epochs']} of warm-up), {drops}")


# ---- how many of the listed videos the runs used (the data layer's line; issue 10) ----------------------
def data_usage_lines(prof: Profile | None, tidy: pd.DataFrame) -> list[str]:
    """'- ucf51: used 6,8xx of 6,837 videos (left out: …)' for each of the paper's video datasets in ``tidy``
    (a real copy lacks some videos; the generated clips have them all, so they get no line)."""
    if prof is None or "dataset" not in tidy:
        return []
    from amidlib.data import splits

    out = []
    for p in prof.pairings:
        ds = datasets.get(p.dataset)
        if p.dataset in set(tidy["dataset"]) and ds.paper and ds.kind == "video":
            out.append(f"- {p.dataset}: {splits.data_usage(p.dataset, make_spec(prof, p, 'baseline', 0).data)}")
    return out


def write_table(tidy: pd.DataFrame, out_dir: str | os.PathLike, prof: Profile | None = None) -> tuple[Path, Path]:
    """``<out_dir>/<table>.md`` and its ``.csv`` twin, each written atomically."""
    table = tidy["table"].iloc[0]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    md, csv = out_dir / f"{table}.md", out_dir / f"{table}.csv"
    atomic_write_text(csv, tidy.to_csv(index=False))
    atomic_write_text(md, header(table, prof, tidy) + to_markdown(tidy) + "\n")
    return md, csv


def read_table(out_dir: str | os.PathLike, table: str) -> pd.DataFrame:
    """A tidy table written by :func:`write_table`."""
    path = Path(out_dir) / f"{table}.csv"
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run the notebook that writes {table} first")
    return pd.read_csv(path, dtype={"row": str, "setting": str})


def data_descriptions(prof: Profile) -> dict[str, str]:
    """Our setting -> a description of its data."""
    out = {s.key: s.description for s in prof.crossval.setups}
    out.update({p.key: p.description for p in prof.pairings})
    t3 = prof.crossval.setups[0].dataset if prof.crossval.setups else datasets.DEFAULT
    out["V"] = f"{datasets.get(t3).title}, target {'+'.join(prof.crossval.target)} alone (no auxiliary view)"
    for name in prof.sweeps.grid:
        out[name] = prof.main.description
    return out


def build_table(study: Study, table: str, write: bool = True) -> pd.DataFrame:
    """Plan, run (what is missing), summarise and (by default) write one table."""
    prof = study.prof
    cells = PLANS[table](prof)
    if not cells:  # every dataset of this table left out: say so where the table would be
        if write:
            Path(prof.paths.out_dir).mkdir(parents=True, exist_ok=True)
            atomic_write_text(Path(prof.paths.out_dir) / f"{table}.md",
                              f"# {TITLES[table].split(' (')[0]}\n\nNot reproduced: "
                              + _left_out(prof, table)
                              + " left out (the datasets parameter).\n")
        return pd.DataFrame(columns=["table", "setting", "paper_setting", "data", "dataset", "row", "label", "metric",
                                     "paper", "mean", "std", "n"])
    runs = study.runs(cells)
    tidy = summarise(runs, table, data_descriptions(prof))
    if table == "table1":
        tidy = pd.concat([tidy, gap_closed(runs, tidy)], ignore_index=True)
    if write:
        write_table(tidy, prof.paths.out_dir, prof)
        record_runs(prof.paths.out_dir, table, runs)
    return tidy


def gap_closed(runs: pd.DataFrame, tidy: pd.DataFrame) -> pd.DataFrame:
    """Table 1's headroom: per method and setting, the share (%) of the teacher–student gap it closes,
    (method − baseline) / (teacher − baseline), seed by seed (the arms share seeds), with its 95 %
    Student-t interval (columns ci_low, ci_high). Rows with metric ``gap_closed``."""
    out = []
    for setting, f in runs.groupby("setting", sort=False):
        per_seed = lambda row, metric, f=f: f[f["row"] == row].set_index("seed")[metric].astype(float)  # noqa: E731
        base, teacher = per_seed("baseline", "student_top1"), per_seed("teacher", "teacher_top1")
        for row in dict.fromkeys(f["row"]):
            if row in ("baseline", "teacher"):
                continue
            m = per_seed(row, "student_top1")
            both = pd.concat([m.rename("m"), base.rename("b"), teacher.rename("t")], axis=1, join="inner")
            e = ratio_effect(100 * (both["m"] - both["b"]), both["t"] - both["b"])
            first = tidy[(tidy["setting"] == setting) & (tidy["row"] == row)].iloc[0]
            out.append({**{k: first[k] for k in ("table", "setting", "paper_setting", "data", "dataset", "row",
                                                 "label")},
                        "metric": "gap_closed", "paper": np.nan, "mean": e.effect,
                        "std": e.sd if e.n > 1 else 0.0, "n": e.n, "ci_low": e.ci_low, "ci_high": e.ci_high})
    return pd.DataFrame(out)


def regime(prof: Profile, pairing=None) -> dict[str, float] | None:
    """The batch regime of the AMID runs on ``pairing`` (default: the main one) under ``prof``
    (:func:`batch_regime`), or None when the training labels are not at hand."""
    spec = make_spec(prof, pairing or prof.main, "amid", prof.seeds[0])
    try:
        labels = getattr(load_split(spec)[0], "labels", None)
    except (OSError, ValueError, RuntimeError):
        return None
    if labels is None:
        return None
    return batch_regime(spec.effective_config()["batch_size"], np.bincount(np.asarray(labels)).tolist())


@functools.lru_cache(maxsize=1)
def paper_regime() -> dict[str, float]:
    """The paper's UCF51 regime: batch 16 over the 51 classes of split 1's training videos."""
    videos = manifests.manifest_videos("ucf51", "train")
    return batch_regime(16, videos["class_name"].value_counts().tolist())


def regime_text(prof: Profile | None) -> str:
    """One line for table headers and claims.md: our batch composition beside the paper's; with the
    regime sweep's other proxies (``Profile.sweeps.batch_pairings``) at their own batch size too."""
    if prof is None:
        return ""
    line = _regime_line(regime(prof), f"ours ({prof.main.description})")
    others = [p for p in prof.sweeps.batch_pairings if p != prof.main and p.dataset != prof.main.dataset]
    for p in others:
        other = regime(prof, p)
        if other is not None and line:
            line += f"; the regime sweep's other end ({p.description}): {_fmt_regime(other)}"
    return line


def _fmt_regime(r: dict[str, float]) -> str:
    return (f"batch {r['batch']} over {r['classes']} classes: ≈ {r['positives']:.2f} positives per anchor in Eq 8, "
            f"≈ {100 * r['with_partner']:.0f} % of samples with a same-class partner (D2)")


def _regime_line(ours: dict[str, float] | None, what: str = "ours") -> str:
    if ours is None:
        return ""
    return f"{what}: {_fmt_regime(ours)}; the paper's UCF51 {_fmt_regime(paper_regime())} (expected for random batches)"


# --------------------------------------------------------------------------- mean ± std
def mean_std(runs: pd.DataFrame, by: str | list[str] = "label",
             metrics: Iterable[str] = ("student_top1", "teacher_top1")) -> pd.DataFrame:
    """Mean, std (ddof=1; 0 for a single seed) and n over seeds, keeping the order of first appearance."""
    by = [by] if isinstance(by, str) else list(by)
    metrics = list(metrics)
    grouped = runs.groupby(by, sort=False)[metrics]
    out = grouped.mean().add_suffix("_mean").join(grouped.std(ddof=1).fillna(0.0).add_suffix("_std"))
    out["n_seeds"] = grouped.size()
    return out.reset_index()


def fmt(mean: float, std: float) -> str:
    """"73.8 ± 0.4"; "—" for a value the method does not have (e.g. the teacher of the student alone)."""
    if mean is None or (isinstance(mean, float) and np.isnan(mean)):
        return "—"
    return f"{mean:.1f} ± {std:.1f}"


def format_table(summary: pd.DataFrame, by: str = "label",
                 metrics: Iterable[str] = ("student_top1", "teacher_top1")) -> pd.DataFrame:
    """Human-readable mean ± std columns."""
    table = pd.DataFrame({by: summary[by]})
    for m in metrics:
        table[m] = [fmt(a, b) for a, b in zip(summary[f"{m}_mean"], summary[f"{m}_std"], strict=True)]
    table["n_seeds"] = summary["n_seeds"]
    return table
