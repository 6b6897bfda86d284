"""``fig_regime``: how the methods' gains depend on the batch regime, the thing AMID's terms depend on.

Eq 8 counts every same-class item of the batch as a positive, and D2 (Eq 12–13) sees only samples with
a same-class partner in the batch. So the regime is set by batch size over number of classes: the paper's
UCF51 (batch 16 over 51 classes) gives ≈ 1.3 positives per anchor and ≈ 26 % of samples with a partner;
the digit pairs at batch 16 (55 classes, the cpu profile's tables) ≈ 1.3 and ≈ 24 %; the 10 digits at batch
64 ≈ 7.2 and ≈ 100 %. This sweep trains the baseline, CCL and AMID on each of ``Profile.sweeps.batch_pairings``
(default: the main pairing) at several batch sizes (``Profile.sweeps.batch_sizes``, the same seeds for
every arm) and reports, per pairing and batch size, the student's gain over the baseline, paired by seed,

    gain = mean over seeds of (method − baseline),   95 % CI = gain ∓ t(0.975, n − 1) · sd / √n,

against the positives per anchor measured in the batches drawn. A run at the preset's batch size on the
main pairing is the tables' run (same cache key), so nothing is trained twice.
"""
from __future__ import annotations

import os
from pathlib import Path

import matplotlib.pyplot as plt
import matplotlib.ticker
import numpy as np
import pandas as pd

from amidlib.core.config import make_config
from amidlib.core.files import atomic_write_text
from amidlib.core.methods import METHODS
from amidlib.paper import names, plots
from amidlib.paper.plans import run_spec
from amidlib.paper.records import record_runs
from amidlib.paper.stats import paired_effect
from amidlib.paper.tables import paper_regime
from amidlib.repro.profiles import Profile
from amidlib.repro.runs import Cell, Study

__all__ = ["REGIME_METHODS", "regime_pairings", "regime_cells", "regime_effects", "plot_regime", "write_regime",
           "measured_regime"]

#: the arms of the sweep: the gains of the two strongest distillers over the student alone
REGIME_METHODS = ("baseline", "ccl", "amid")
REGIME_COLUMNS = ["pairing", "batch_size", "row", "n", "positives", "with_partner", "effect", "ci_low", "ci_high"]


def regime_pairings(prof: Profile) -> tuple:
    """The pairings the sweep trains on: ``prof.sweeps.batch_pairings``, or the main pairing."""
    return tuple(prof.sweeps.batch_pairings) or (prof.main,)


def regime_cells(prof: Profile) -> list[Cell]:
    """Baseline, CCL and AMID on each of :func:`regime_pairings` at each of ``prof.sweeps.batch_sizes``,
    ``prof.seed_sets.regime``; setting ``"<pairing key> batch <size>"``."""
    cells = []
    for p in regime_pairings(prof):
        for batch_size in prof.sweeps.batch_sizes:
            for method in REGIME_METHODS:
                default = make_config(METHODS[method].defaults, preset=prof.preset_for(p.dataset),
                                      **prof.run_overrides(method, p.dataset))["batch_size"]
                ov = {} if batch_size == default else {"batch_size": int(batch_size)}  # the default: the tables' runs
                for seed in prof.seed_sets.regime:
                    cells.append(Cell("fig_regime", f"{p.key} batch {batch_size}", p.paper, method,
                                      run_spec(prof, p, method, seed, **ov)))
    return cells


def regime_effects(runs: pd.DataFrame) -> pd.DataFrame:
    """Per batch size and method (not the baseline): the student top-1 gain over the baseline paired by
    seed with its 95 % t interval, and the regime measured in the batches (means over that batch size's runs)."""
    rows = []
    for setting, grp in runs.groupby("setting", sort=False):
        pairing, _, batch_size = f" {setting}".rpartition(" batch ")  # "<pairing> batch 16" (or "batch 16")
        pairing, batch_size = pairing.strip(), int(batch_size)
        base = grp[grp["row"] == "baseline"].set_index("seed")["student_top1"]
        for row in [m for m in REGIME_METHODS if m != "baseline"]:
            arm = grp[grp["row"] == row].set_index("seed")["student_top1"]
            both = pd.concat([arm.rename("a"), base.rename("b")], axis=1, join="inner")
            e = paired_effect(both["a"], both["b"])
            rows.append({"pairing": pairing, "batch_size": batch_size, "row": row, "n": e.n,
                         "positives": float(grp["batch_positives"].mean()),
                         "with_partner": float(grp["batch_with_partner"].mean()),
                         "effect": e.effect, "ci_low": e.ci_low, "ci_high": e.ci_high})
    return pd.DataFrame(rows, columns=REGIME_COLUMNS).sort_values(["row", "positives"], kind="stable")


def _paper_regime() -> tuple[float, float]:
    """The paper's UCF51 regime (batch 16 over its classes, from the manifest): positives per anchor, share with a
    partner."""
    paper = paper_regime()
    return paper["positives"], paper["with_partner"]


def plot_regime(effects: pd.DataFrame, data: str, paper: tuple[float, float] | None = None):
    """Student gain over the baseline (95 % CI) against positives per anchor: one line per method and
    pairing, each method in its style from the registry (:func:`amidlib.paper.names.style`; pairings after
    the first: open markers), each point labelled with its batch size. The caption is ``fig.caption``."""
    fig, ax = plt.subplots(figsize=(plots.COLUMN + 1.2, 3.2))
    pairings = list(dict.fromkeys(effects["pairing"]))
    for i, ((row, pairing), grp) in enumerate(effects.groupby(["row", "pairing"], sort=False)):
        grp = grp.sort_values("positives")
        # (the methods share each batch's regime: a small horizontal offset keeps their intervals apart)
        x, y = grp["positives"].to_numpy() * (1 + 0.04 * (i % 2)), grp["effect"].to_numpy()
        err = np.vstack([y - grp["ci_low"].to_numpy(), grp["ci_high"].to_numpy() - y])
        st = names.style(row)
        label = st.pop("label") + (f" ({_pairing_words(pairing)})" if len(pairings) > 1 else "")
        ax.errorbar(x, y, yerr=err, ms=3.5, capsize=2, lw=1, label=label,
                    fillstyle="full" if pairings.index(pairing) == 0 else "none", **st)
        # (the two methods' labels on opposite sides: no overlap)
        for xi, yi, b in zip(x, y, grp["batch_size"], strict=True):
            ax.annotate(f"batch {b}", (xi, yi), textcoords="offset points", xytext=(4 if i % 2 else -4, 3),
                        ha="left" if i % 2 else "right", fontsize=5.5, color="0.4")
    ax.axhline(0, color="0.5", lw=0.8)
    if paper is not None:
        ax.axvline(paper[0], color="0.3", ls="--", lw=0.8)
        ax.annotate(f"paper's UCF51\n({paper[0]:.1f})", (paper[0], ax.get_ylim()[1]), fontsize=6, va="top",
                    xytext=(3, 0), textcoords="offset points")
    ax.set_xscale("log", base=2)
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.set(xlabel="positives per anchor in Eq 8 (measured; log scale)", ylabel="student gain over baseline (points)")
    ax.set_title("Gain over the baseline vs batch regime")
    ax.legend(fontsize=6, frameon=False)
    fig.tight_layout()
    n = int(effects["n"].max()) if len(effects) else 0
    return plots.set_caption(fig, "Each method's student top-1 gain over the baseline (points), paired by seed, with "
                             f"its 95 % t interval (n = {n}), against the positives per anchor of Eq 8 measured in the "
                             "batches drawn (log scale); the number beside a point is its batch size"
                             + (f"; dashed line: the paper's UCF51 ({paper[0]:.1f} positives per anchor)"
                                if paper else "")
                             + (f"; open markers: {', '.join(_pairing_words(p) for p in pairings[1:])}"
                                if len(pairings) > 1 else "")
                             + f". {data}.")


def _pairing_words(pairing: str) -> str:
    """``uci_pairs:fou→fac`` as a reader says it: "digit pairs (55 classes)"; ``fou→fac``: "10 digits"."""
    return "digit pairs (55 classes)" if pairing.startswith("uci_pairs:") else "10 digits" if ":" not in pairing \
        else pairing


def write_regime(study: Study, prof: Profile, out_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """Train (or reuse) the sweep, record its runs in runs.csv (source ``fig_regime``), write
    ``fig_regime.png/.pdf`` and ``fig_regime.csv`` (one row per batch size and method); returns the effects.
    A profile without a sweep (``sweeps.batch_sizes == ()``) writes nothing and returns an empty frame."""
    out = Path(out_dir or prof.paths.out_dir)
    cells = regime_cells(prof)
    if not cells:
        return pd.DataFrame(columns=REGIME_COLUMNS)
    runs = study.runs(cells)
    record_runs(out, "fig_regime", runs)
    effects = regime_effects(runs)
    atomic_write_text(out / "fig_regime.csv", effects.to_csv(index=False))
    fig = plot_regime(effects, "; ".join(p.description for p in regime_pairings(prof)), _paper_regime())
    plots.save(fig, out / "fig_regime.png")
    plt.close(fig)
    return effects


def measured_regime(runs: pd.DataFrame) -> str:
    """The regime measured in the batches the AMID runs of Table 4 (and of fig_regime, per pairing and batch
    size) drew (runs.csv), or ""."""
    amid = runs[(runs["source"] == "table4") & (runs["row"] == "amid")]
    if amid.empty or "batch_positives" not in amid or amid["batch_positives"].isna().all():
        return ""
    text = (f"measured in the batches of Table 4's AMID runs: {amid['batch_positives'].mean():.2f} positives per "
            f"anchor, {100 * amid['batch_with_partner'].mean():.0f} % with a partner")
    if "lambda1_min" in amid and amid["lambda1_min"].notna().any():
        text += f", λ1 within [{amid['lambda1_min'].min():.3f}, {amid['lambda1_max'].max():.3f}] (Eq 14)"
    shares = [(t, amid[f"share_{t}"].mean()) for t in ("mi_s", "mi_a", "cls", "jsd", "adv") if f"share_{t}" in amid]
    if shares and not any(np.isnan(v) for _, v in shares):
        label = {"mi_s": "α1·L_MI_s", "mi_a": "α2·L_MI_a", "cls": "L_cls", "jsd": "L_JSD", "adv": "α3·L_adv"}
        text += ("; AMID's objective over the distillation epochs (α = (4, 1.6, 1), the paper's): "
                 + ", ".join(f"{label[t]} {100 * v:.1f} %" for t, v in shares))
    sweep = runs[(runs["source"] == "fig_regime") & (runs["row"] == "amid")]
    if not sweep.empty and sweep["batch_positives"].notna().any():
        measured = sweep.groupby("setting", sort=False)[["batch_positives", "batch_with_partner"]].mean()
        text += ("; measured in fig_regime's AMID runs: " + ", ".join(
            f"{setting}: {r.batch_positives:.2f} positives, {100 * r.batch_with_partner:.0f} % partnered"
            for setting, r in measured.iterrows()))
    return text
