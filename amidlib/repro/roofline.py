"""The roofline of a workload: how far its training is from what its arithmetic needs.

    floor    = Σ_runs FLOPs / (cores × peak)       peak: one core's batched products of AMID's step shape
    achieved = floor / wall                         (amidlib.repro.reproduction_files.core_speed)
    per method: FLOPs / (CPU seconds × peak)        the share of one core's peak its training reached

A run's FLOPs are counted, not estimated: :func:`amidlib.core.experiment.run_flops` counts one step of each
phase, the evaluations and the final metrics under ``torch.utils.flop_counter`` (once per configuration:
the seeds of one configuration do the same arithmetic) and multiplies by how often the run does them. A
run's CPU seconds are its record's (``config["cpu_seconds"]``: its process's, a batched run its share of
the task's). Runs that trained in another process or reproduction (found in the cache) count in the FLOPs
and in the CPU time their records hold.

    python benchmarks/bench_roofline.py --run runs/cpu/<folder>    # a finished reproduction against its floor
"""
from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Iterable
from pathlib import Path

import pandas as pd

from amidlib.core.experiment import RunFlops, run_flops
from amidlib.data import splits
from amidlib.repro.specs import RunSpec
from amidlib.repro.store import RunCache

__all__ = ["spec_flops", "workload_frame", "cache_frame", "summarize", "with_wall", "summary_lines"]


def _flops_key(spec: RunSpec) -> RunSpec:
    """What a run's FLOPs depend on: not its seed, its split's seed or its slot options (AMID's α)."""
    split = spec.split
    if split and split[0] == "holdout" and len(split) > 2 and split[2] == spec.seed:
        split = split[:2] + (0,) + split[3:]
    return dataclasses.replace(spec, seed=0, split=split, overrides=spec.shared_overrides)


@functools.cache
def _config_flops(key: RunSpec) -> RunFlops | None:
    data = splits.run_data(key.dataset, key.target, key.auxiliary, key.split, key.data)
    if data.run_args:  # video clips (their own nets and loader): not counted here
        return None
    return run_flops(key.method, data.train, data.test, key.preset, **key.config_overrides)


def spec_flops(spec: RunSpec) -> RunFlops | None:
    """The FLOPs of one run (counted once per configuration, :func:`amidlib.core.experiment.run_flops`); None
    for a run on video clips (its own nets and loader: the roofline covers feature arrays)."""
    return _config_flops(_flops_key(spec))


def workload_frame(specs: Iterable[RunSpec], cache: RunCache | None = None) -> pd.DataFrame:
    """One row per distinct run on feature arrays: key, method, engine, FLOPs (training, evaluation and all) and,
    where ``cache`` holds its record, the CPU and wall seconds it took."""
    rows, seen = [], set()
    for spec in specs:
        key = spec.key()
        if key in seen:
            continue
        seen.add(key)
        flops = spec_flops(spec)
        record = cache.get(spec) if cache is not None else None
        config = record.config if record is not None else {}
        if flops is None:
            continue
        rows.append(_row(key, spec, flops, config.get("cpu_seconds"), config.get("wall_seconds")))
    return pd.DataFrame(rows)


def _row(run: str, spec: RunSpec, flops: RunFlops, cpu_seconds, wall_seconds) -> dict:
    return {"run": run, "method": spec.method, "engine": spec.engine, "flops": flops.total,
            "train_flops": flops.training + flops.pretrain, "eval_flops": flops.evaluation + flops.final,
            "cpu_seconds": cpu_seconds, "wall_seconds": wall_seconds}


def _tuples(value):
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def cache_frame(cache_dir) -> pd.DataFrame:
    """:func:`workload_frame` of every run a run cache holds (each record's ``spec.json`` names its run), e.g. a
    finished reproduction's ``runs/cpu/<folder>/cache``. A record without ``cpu_seconds`` (written before runs
    recorded it) counts its wall seconds, its share of its task's wall time on one thread."""
    rows = []
    for path in sorted(Path(cache_dir).glob("*/spec.json")):
        if not (path.parent / "metrics.json").is_file():
            continue
        spec = json.loads(path.read_text())
        config = json.loads((path.parent / "config.json").read_text())
        engine = "batched" if str(config.get("engine", "")).startswith("batched") else "single"
        run = RunSpec(spec["method"], tuple(spec["target"]), tuple(spec["auxiliary"]), int(spec["seed"]),
                      spec["preset"], _tuples(spec["split"]), tuple(spec["overrides"].items()), spec["dataset"],
                      tuple(spec["data"].items()), engine)
        flops = spec_flops(run)
        if flops is None:
            continue
        rows.append(_row(path.parent.name, run, flops, config.get("cpu_seconds", config.get("wall_seconds")),
                         config.get("wall_seconds")))
    return pd.DataFrame(rows)


def summarize(frame: pd.DataFrame, peak_gflops: float, cores: int, wall_s: float | None = None) -> dict:
    """The roofline of ``frame`` (:func:`workload_frame`): total FLOPs, the floor on ``cores`` cores at
    ``peak_gflops`` each, the achieved fraction of ``wall_s`` (when given) and, per method, FLOPs, CPU
    seconds and the share of one core's peak its runs reached."""
    peak = peak_gflops * 1e9
    if not len(frame):  # nothing counted (runs on video clips: their own nets and loader)
        frame = pd.DataFrame(columns=["run", "method", "flops", "cpu_seconds"])
    total = float(frame["flops"].sum())
    floor = total / (max(cores, 1) * peak)
    timed = frame[frame["cpu_seconds"].notna()]
    per_method = {}
    for method, rows in timed.groupby("method", sort=False):
        cpu = float(rows["cpu_seconds"].sum())
        per_method[method] = {"runs": int(len(rows)), "gflop": round(float(rows["flops"].sum()) / 1e9, 1),
                              "cpu_s": round(cpu, 1),
                              "of_peak": round(float(rows["flops"].sum()) / (cpu * peak), 3) if cpu > 0 else None}
    out = {"runs": int(len(frame)), "tflop": round(total / 1e12, 3), "peak_gflops": round(peak_gflops, 1),
           "cores": int(cores), "floor_s": round(floor, 1),
           "train_cpu_s": round(float(timed["cpu_seconds"].sum()), 1),
           "per_method": dict(sorted(per_method.items(), key=lambda kv: -kv[1]["cpu_s"]))}
    return with_wall(out, wall_s) if wall_s else out


def with_wall(summary: dict, wall_s: float, workload_s: float | None = None) -> dict:
    """``summary`` with the wall time it is held against: the whole reproduction's (and its workload step's,
    the training alone): how many times the floor each took, and the fraction of the floor achieved."""
    floor = summary["floor_s"]
    out = dict(summary, wall_s=round(wall_s, 1), achieved=round(floor / wall_s, 3) if wall_s else None,
               times_floor=round(wall_s / floor, 1) if floor else None)
    if workload_s:
        out.update(workload_s=round(workload_s, 1),
                   workload_times_floor=round(workload_s / floor, 1) if floor else None)
    return out


def summary_lines(summary: dict) -> list[str]:
    """The roofline as a reader reads it: the floor, how far the wall time was from it, each method's share."""
    if not summary["runs"]:
        return ["roofline: no run on feature arrays to count (runs on video clips are not counted)"]
    head = (f"roofline: {summary['tflop']:.2f} TFLOP in {summary['runs']} runs; at {summary['peak_gflops']:.0f} "
            f"GFLOP/s per core × {summary['cores']} cores the floor is {summary['floor_s']:.0f} s")
    if summary.get("wall_s") and summary.get("times_floor"):
        head += (f"; this reproduction took {summary['wall_s']:.0f} s = {summary['times_floor']:.1f}× the floor "
                 f"({100 * summary['achieved']:.0f} % of it achieved)")
        if summary.get("workload_s"):
            head += f", its training step {summary['workload_s']:.0f} s = {summary['workload_times_floor']:.1f}×"
    cached = summary["runs"] - summary.get("trained_here", summary["runs"])
    if cached > 0:
        head += (f" ({cached} of the runs were in the run cache, not trained by this reproduction: its time is not "
                 "theirs)")
    methods = ", ".join(f"{m} {100 * v['of_peak']:.0f} %" for m, v in summary["per_method"].items()
                        if v["of_peak"] is not None)
    lines = [head]
    if methods:
        lines.append(f"  share of one core's peak while training (FLOPs / (CPU s × peak)), by method: {methods}")
    return lines
