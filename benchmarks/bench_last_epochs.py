"""Is the mean of the last epochs a better estimator of a run's accuracy than its last epoch? (issue 32, item 4)

A run's final student top-1 has two kinds of noise beside the method's effect: the test set's sampling (measured by
``bench_noise.py``: most of it) and where in its last epochs the training happened to stop. The second can be
averaged away at no cost in the runs that are evaluated every epoch: the mean of the last k epochs' test top-1
instead of the last one. This reads the per-epoch curves a finished reproduction already holds (the runs whose
curves Figs 1, 4 and 5 draw: every configuration with ``eval_every=1``), trains nothing, and reports per
configuration the between-seed sd of each estimator and, paired by seed against AMID, the 95 % half-width of the
difference. Both estimators see the same test set, so neither reduces its sampling noise.

    python benchmarks/bench_last_epochs.py [--run runs/cpu/<folder>] [--k 1 3 5]
                                           [--out benchmarks/RESULTS_last_epochs.md]
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from amidlib.core.files import atomic_write_text
from amidlib.core.methods import METHODS
from amidlib.paper import names
from amidlib.paper.stats import paired_effect

#: the config values that tell the curve runs' configurations apart (AMID's ablation switches)
_SWITCHES = ("use_mi_s", "use_mi_a", "use_adv", "use_d2", "dynamic_lambda", "mi_loss", "fixed_teacher",
             "warmup_epochs", "d1_weight_without_d2")


def curve_runs(cache: Path) -> pd.DataFrame:
    """One row per (curve run, epoch): its configuration's row name, setting, seed, epoch and test student top-1."""
    rows = []
    for config_file in sorted(cache.glob("*/config.json")):
        config = json.loads(config_file.read_text())
        if config.get("eval_every") != 1 or config["method"] != "amid":
            continue
        history = pd.read_csv(config_file.with_name("history.csv"))
        train = config["train"]
        setting = (f"{train['name']}:{'+'.join(train['target'])}→{'+'.join(train['auxiliary'])}, "
                   f"batch {config['batch_size']}")
        for epoch, top1 in zip(history["epoch"], history["test_student_top1"], strict=True):
            rows.append({"row": row_name(config), "setting": setting, "seed": config["seed"], "epoch": epoch,
                         "top1": top1})
    return pd.DataFrame(rows)


def row_name(config: dict) -> str:
    """The registry's name of the AMID row whose switches the run's config has (the variants with the most
    switches first, so that AMID itself is the row with none changed)."""
    switches = {k: v for k, v in METHODS["amid"].defaults.items() if k in _SWITCHES}
    candidates = sorted(((n, r) for n, r in names.rows().items() if r.method == "amid"),
                        key=lambda nr: -len(nr[1].config))
    for name, r in candidates:
        if all(config.get(k) == v for k, v in {**switches, **r.config}.items()):
            return name
    return "amid (other switches)"


def rounding_arm(seeds: list[int], ks: list[int]) -> pd.DataFrame:
    """The same AMID runs (main pairing of profile cpu, each seed its own split) trained twice, as one batched model
    and one by one: the two differ only by float rounding, as a run on another CPU does. Per estimator, the sd and
    mean absolute value of the per-seed difference between the two."""
    from amidlib.core.experiment import run, run_seeds
    from amidlib.data.digit_pairs import load_uci_pairs

    splits = [load_uci_pairs(split_seed=s) for s in seeds]
    kw = dict(preset="embedded_pairs", progress=False, eval_every=1, final_epochs=1)
    batched = run_seeds("amid", [tr for tr, _ in splits], [te for _, te in splits], seeds=seeds, **kw)
    alone = [run("amid", tr, te, seed=s, **kw) for s, (tr, te) in zip(seeds, splits, strict=True)]
    out = []
    for k in ks:
        d = np.array([a.history.test_student_top1.iloc[-k:].mean() - b.history.test_student_top1.iloc[-k:].mean()
                      for a, b in zip(batched, alone, strict=True)])
        out.append({"estimator": f"last {k}", "seeds": len(d), "sd of batched − alone": round(float(d.std(ddof=1)), 2),
                    "mean absolute batched − alone": round(float(np.abs(d).mean()), 2)})
    return pd.DataFrame(out)


def estimates(curves: pd.DataFrame, k: int) -> pd.Series:
    """(row, setting, seed) -> the mean test top-1 over the last ``k`` epochs."""
    last = curves.groupby(["row", "setting", "seed"])["epoch"].transform("max")
    return curves[curves.epoch > last - k].groupby(["row", "setting", "seed"])["top1"].mean()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", default=None, help="a finished reproduction's folder (default: the newest runs/cpu/*)")
    ap.add_argument("--k", type=int, nargs="+", default=[1, 3, 5])
    ap.add_argument("--rounding-seeds", type=int, default=10,
                    help="train this many AMID seeds twice (batched and alone) for the rounding arm; 0: skip it")
    ap.add_argument("--out", default=str(Path(__file__).with_name("RESULTS_last_epochs.md")))
    args = ap.parse_args()
    run = Path(args.run) if args.run else sorted(p for p in Path("runs/cpu").glob("2*") if (p / "cache").is_dir())[-1]
    curves = curve_runs(run / "cache")
    if curves.empty:
        raise SystemExit(f"{run / 'cache'}: no AMID run evaluated every epoch (eval_every=1)")
    per_k = {k: estimates(curves, k) for k in args.k}

    spread = []
    for (row, setting), _ in curves.groupby(["row", "setting"]):
        line = {"row": row, "setting": setting, "seeds": int(curves[(curves.row == row)
                                                                    & (curves.setting == setting)].seed.nunique())}
        for k, est in per_k.items():
            values = est.loc[(row, setting)]
            line[f"mean, last {k}"] = round(float(values.mean()), 2)
            line[f"sd, last {k}"] = round(float(values.std(ddof=1)), 2)
        spread.append(line)
    paired = []
    for (row, setting), _ in curves.groupby(["row", "setting"]):
        if row == "amid" or ("amid", setting) not in per_k[args.k[0]].index.droplevel("seed"):
            continue
        line = {"AMID −": row, "setting": setting}
        for k, est in per_k.items():
            a, b = est.loc[("amid", setting)], est.loc[(row, setting)]
            seeds = a.index.intersection(b.index)
            effect = paired_effect(a.loc[seeds], b.loc[seeds])
            line["seeds"] = len(seeds)
            line[f"effect, last {k}"] = round(effect.effect, 2)
            line[f"95 % half-width, last {k}"] = round((effect.ci_high - effect.ci_low) / 2, 2)
        paired.append(line)

    text = (f"# The last epoch or the mean of the last epochs? (the curve runs of {run.name})\n\n"
            f"Read by `python benchmarks/bench_last_epochs.py` on {dt.date.today()} from `{run}`: every AMID "
            f"configuration evaluated every epoch (the runs whose curves Figs 1, 4 and 5 draw), nothing trained. "
            f"`last k`: the mean of the test student top-1 over the last k epochs (k = 1: the run's final number, "
            f"the one the tables report).\n\n"
            + pd.DataFrame(spread).to_markdown(index=False) + "\n\nPaired by seed against AMID:\n\n"
            + pd.DataFrame(paired).to_markdown(index=False) + "\n")
    if args.rounding_seeds:
        torch.set_num_threads(1)
        text += ("\nThe same runs under two float roundings (AMID on the main pairing, trained as one batched model "
                 "and one by one, evaluated every epoch; a stand-in for another CPU):\n\n"
                 + rounding_arm(list(range(args.rounding_seeds)), args.k).to_markdown(index=False) + "\n")
    atomic_write_text(Path(args.out), text)
    print(text)


if __name__ == "__main__":
    main()
