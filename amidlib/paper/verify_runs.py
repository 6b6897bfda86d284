"""Which run a row of ``runs.csv`` is, for ``make verify`` (:mod:`amidlib.paper.verify_checks`): a run is identified
by its spec as the run cache identifies it (dataset, pairing, split, seed, the method with its row's config switches),
so a run listed by several tables and figures is compared once (:func:`run_table`).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from amidlib.paper.gap import GAP_PREFIX

__all__ = ["ID_COLUMNS", "metric_columns", "run_table"]

#: the columns that place a run in a table; every other numeric column is a metric
ID_COLUMNS = ["source", "setting", "paper_setting", "row", "seed", "fold", "method", "dataset"]
#: sources whose ``setting`` is not a pairing: their runs train on the main pairing (but the gap-matched pairing's
#: sensitivity runs, whose setting names it after GAP_PREFIX)
_ON_MAIN = {"table6", "fig_regime", "sensitivity"}
_MAIN_SOURCES = ("table4", "table5", "fig1_diagnostic", "fig3", "fig4", "fig5")

# --------------------------------------------------------------------------- runs, once each
def metric_columns(frame: pd.DataFrame) -> list[str]:
    """The metrics of a runs.csv: every numeric column that does not place the run."""
    return [c for c in frame.columns if c not in ID_COLUMNS and not c.startswith("_")
            and pd.api.types.is_numeric_dtype(frame[c])]


def _main_setting(frame: pd.DataFrame) -> str:
    on_main = frame.loc[frame["source"].isin(_MAIN_SOURCES), "setting"]
    if len(on_main):
        return str(on_main.mode().iloc[0])
    first = frame.loc[frame["source"] == "table1", "setting"]
    return str(first.iloc[0]) if len(first) else "main"


def _float(text: str):
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _regime_setting(setting: str) -> tuple[str, int] | None:
    """fig_regime's setting "<pairing key> batch 16" (or "batch 16", on the main pairing): (pairing, batch size)."""
    pairing, _, size = f" {setting}".rpartition(" batch ")
    return (pairing.strip(), int(size)) if size.isdigit() else None


def _dataset_batch(dataset: str) -> int | None:
    """The batch size of the cpu profile's preset for ``dataset`` (the digit pairs: 16; the 10 digits: 64)."""
    from amidlib.core.config import PRESETS, make_config
    from amidlib.repro.profiles import PROFILES

    preset = PROFILES["cpu"].preset_for(dataset)
    return make_config(preset=preset)["batch_size"] if preset in PRESETS else None


def _arm(source: str, setting: str, row: str, method: str, dataset: str = "") -> tuple[str, tuple]:
    """(method, config switches not at their default) of the run behind a row of runs.csv; the batch size is
    a switch when it is not the dataset's preset's (the regime sweep's other sizes)."""
    from amidlib.core.config import make_config
    from amidlib.core.methods import METHODS
    from amidlib.paper import names
    from amidlib.paper.sensitivity import SOURCE as SENSITIVITY
    from amidlib.paper.sensitivity import parse_setting

    known = names.row(row)
    regime = _regime_setting(setting) if source == "fig_regime" else None
    alphas = parse_setting(setting) if source == SENSITIVITY else None
    if source == "table6" and _float(row) is not None:
        method, overrides = "amid", {setting: float(row)}
    elif alphas is not None and known is not None:  # a Table 4 row under other α (amidlib.paper.sensitivity)
        method, overrides = known.method, {**known.config, **alphas}
    elif regime is not None and known is not None:
        method, overrides = known.method, {**known.config, "batch_size": regime[1]}
    elif known is not None:
        method, overrides = known.method, known.config
    else:  # a row the registry does not name: itself
        return method, (("row", row),)
    defaults = make_config(METHODS[method].defaults, preset=None) if method in METHODS else {}
    switches = {k: v for k, v in overrides.items() if k != "batch_size" and (k not in defaults or defaults[k] != v)}
    if "batch_size" in overrides and overrides["batch_size"] != _dataset_batch(dataset):
        switches["batch_size"] = overrides["batch_size"]
    return method, tuple(sorted(switches.items()))


def _arm_name(arm: tuple[str, tuple]) -> str:
    """A run config's row name (``amid``, ``mi_s+mi_a``, ``baseline``), else the method and its switches."""
    from amidlib.paper import names

    method, switches = arm
    for name, r in names.rows().items():  # registered methods first: baseline before student_alone
        if r.method == method and tuple(sorted(r.overrides)) == switches:
            return name
    return " ".join([method, *(str(v) if k == "row" else f"{k}={v}" for k, v in switches)])


def run_table(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The distinct runs of a runs.csv: one row per run (index: the run's key), its metrics taken from every
    row that lists it (the first where rows disagree), with ``arm`` (its row's name: the method and its switches),
    ``method`` (the method that trained it), ``place`` (pairing;
    ``… (folds)`` for Table 3's splits), ``seed``, ``fold``, ``label`` and ``sources``; and the runs whose rows
    disagree within the file."""
    runs, problems, _ = _runs_and_rows(frame)
    return runs, problems


def _runs_and_rows(frame: pd.DataFrame) -> tuple[pd.DataFrame, list[str], pd.DataFrame]:
    """:func:`run_table`, and the file's rows with their run's key (``_key``)."""
    frame = frame.reset_index(drop=True)
    column = lambda name, default: frame[name] if name in frame else pd.Series(default, index=frame.index)  # noqa: E731
    frame = frame.assign(setting=frame["setting"].fillna("").astype(str), row=frame["row"].astype(str),
                         source=frame["source"].astype(str), method=column("method", "").fillna("").astype(str),
                         dataset=column("dataset", "").fillna("").astype(str),
                         fold=column("fold", -1).fillna(-1).astype(int), seed=frame["seed"].fillna(-1).astype(int))
    metrics = metric_columns(frame)
    main = _main_setting(frame)
    cache: dict[tuple, tuple] = {}
    keys, arms, methods, places = [], [], [], []
    for r in frame[["source", "setting", "row", "method", "dataset", "seed", "fold"]].itertuples(index=False):
        ident = (r.source if r.source in _ON_MAIN else "", r.setting, r.row, r.method, r.dataset)
        if ident not in cache:
            cache[ident] = _arm(r.source, r.setting, r.row, r.method, r.dataset)
        arm = cache[ident]
        regime = _regime_setting(r.setting) if r.source == "fig_regime" else None
        pairing = ((regime[0] or main) if regime else r.setting.removeprefix(GAP_PREFIX)
                   if r.setting.startswith(GAP_PREFIX) else main if r.source in _ON_MAIN else r.setting)
        place = pairing + (" (folds)" if r.fold >= 0 else "")
        keys.append(repr((r.dataset, pairing, r.fold >= 0, arm, r.seed, r.fold)))
        arms.append(_arm_name(arm))
        methods.append(arm[0])
        places.append(place)
    frame = frame.assign(_key=keys, _arm=arms, _method=methods, _place=places)
    problems = []
    grouped = frame.groupby("_key", sort=False)
    runs = grouped[metrics].first() if metrics else pd.DataFrame(index=pd.Index(frame["_key"].unique()))
    info = grouped.agg(arm=("_arm", "first"), method=("_method", "first"), place=("_place", "first"),
                       seed=("seed", "first"),
                       dataset=("dataset", "first"),
                       fold=("fold", "first"), sources=("source", lambda s: ", ".join(dict.fromkeys(s))))
    runs = runs.join(info)
    runs["label"] = [f"{r.arm} on {r.place} seed {r.seed}" + (f" fold {r.fold}" if r.fold >= 0 else "")
                     for r in runs.itertuples()]
    for key, grp in grouped:
        if len(grp) < 2:
            continue
        for metric in metrics:
            vals = grp[metric].dropna().astype(float).to_numpy()
            if vals.size > 1 and not np.allclose(vals, vals[0], rtol=1e-9, atol=1e-12):
                sources = grp.loc[grp[metric].notna(), "source"]
                rows = "; ".join(f"{s}: {v:.6g}" for s, v in zip(sources, vals, strict=True))
                problems.append(f"{runs.loc[key, 'label']}: one run, different {metric} in different tables ({rows})")
    return runs, problems, frame
