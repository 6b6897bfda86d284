"""The embedded analogues of the paper's Tables 1-6: which runs, a run cache, and the tables.

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
   number from ``data_manifests/paper_results.csv`` via :mod:`amidlib.manifests`, our mean, std
   and n), :func:`to_markdown` the side-by-side view, :func:`write_table` both files.

The tidy csv columns: ``table, setting, paper_setting, data, dataset, row, label, metric, paper, mean,
std, n`` (``row``: the paper_results.csv method key, e.g. ``amid``, ``mi_s+mi_a``, ``3.7``).
"""
from __future__ import annotations

import functools
import hashlib
import json
import multiprocessing
import os
import shutil
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd

from . import manifests
from .profiles import Pairing, Profile
from .studies import fmt

__all__ = [
    "RunSpec", "Cell", "RunCache", "Study", "code_fingerprint", "make_spec", "load_split",
    "plan_table1", "plan_table2", "plan_table3", "plan_table4", "plan_table5", "plan_table6",
    "runs_frame", "summarise", "to_markdown", "write_table", "read_table", "build_table",
    "METHOD_ORDER", "T12_METHODS", "T3_METHODS", "DISPLAY",
]

METHOD_ORDER = ["baseline", "teacher", "crd", "gmc", "crcd", "ccl", "amid"]
T12_METHODS = ["baseline", "crd", "gmc", "crcd", "ccl", "amid", "teacher"]
T3_METHODS = ["baseline", "gmc", "crcd", "ccl", "amid"]

#: Row labels as the paper prints them (markdown); keys are paper_results.csv method keys.
DISPLAY = {
    "baseline": "Baseline (student alone)",
    "crd": "CRD",
    "gmc": "GMC",
    "crcd": "CRCD",
    "ccl": "CCL",
    "amid": "AMID (ours)",
    "teacher": "Teacher (reference: full modalities)",
    "student_alone": "student alone (w/o distillation)",
    "teacher_alone": "teacher alone (w/o distillation)",
    "mi_s": "L_MI_s",
    "mi_s+mi_a": "L_MI_s + L_MI_a",
    "amid_t4": "L_MI_s + L_MI_a + L_adv (AMID)",
    "amid_nce": "AMID with L_nce",
    "amid_t5": "AMID",
    "fixed_teacher": "with fixed teacher",
    "no_warmup": "w/o warm-up",
    "no_d2": "w/o D2",
    "uniform_lambda": "w/o dynamic weight",
}

#: Table 4 and 5 rows: (paper_results.csv key, method, config overrides)
T4_ROWS = [
    ("student_alone", "baseline", {}),
    ("teacher_alone", "teacher", {}),
    ("mi_s", "amid", {"use_mi_a": False, "use_adv": False}),
    ("mi_s+mi_a", "amid", {"use_adv": False}),
    ("amid", "amid", {}),
    ("amid_nce", "amid", {"mi_loss": "nce"}),
]
T5_ROWS = [
    ("amid", "amid", {}),
    ("fixed_teacher", "amid", {"fixed_teacher": True}),
    ("no_warmup", "amid", {"warmup_epochs": 0}),
    ("no_d2", "amid", {"use_d2": False}),
    ("uniform_lambda", "amid", {"dynamic_lambda": False}),
]
#: ours metric -> paper metric, per table
PAPER_METRIC = {
    "table1": {"student_top1": "top1", "teacher_top1": "top1"},
    "table2": {"student_r1": "r1", "student_r5": "r5"},
    "table3": {"wa": "WA", "ua": "UA"},
    "table4": {"student_top1": "student_top1", "teacher_top1": "teacher_top1"},
    "table5": {"student_top1": "top1"},
    "table6": {"student_top1": "top1"},
}
SCALARS = ["student_top1", "teacher_top1", "student_r1", "student_r5", "wa", "ua"]
#: config values that do not change what a run computes (left out of the cache key)
_NOT_IN_KEY = {"progress", "num_threads", "preset", "checkpoint_dir"}
#: the modules whose code decides a run's numbers (the cache key includes their hash)
_CODE_FILES = ["losses.py", "models.py", "training.py", "experiment.py", "config.py", "data.py", "metrics.py"]
_VIDEO_CODE = ["video.py", "audio.py", "video_models.py", "video_data.py", "feature_cache.py"]
_DATASET_CODE_FILES = {"av_tier": _VIDEO_CODE + ["av_clips.py"], "ucf51": _VIDEO_CODE + ["paper_data.py"],
                       "activitynet": _VIDEO_CODE + ["paper_data.py"],
                       "iemocap": ["iemocap.py", "text_audio_extractors.py", "feature_cache.py", "paper_data.py"]}
#: data options that say where files are, not what they are (left out of the cache key)
_DATA_LOCATIONS = {"root", "cache"}
#: datasets whose split is fixed by the dataset (UCF101 split 1, ActivityNet train/val)
_OFFICIAL_SPLIT = ("ucf51", "activitynet", "av_tier")


# --------------------------------------------------------------------------- run specs
@dataclass(frozen=True)
class RunSpec:
    """One training run on the embedded data. ``split``: ("holdout", test_size, split_seed) or
    ("fold", k, fold_seed, fold_index)."""

    method: str
    target: tuple[str, ...]
    auxiliary: tuple[str, ...]
    seed: int
    preset: str
    split: tuple
    overrides: tuple[tuple[str, Any], ...] = ()
    dataset: str = "uci_mfeat"
    data: tuple[tuple[str, Any], ...] = ()  # loader options; "root" and "cache" (locations) are not in the key

    @property
    def config_overrides(self) -> dict[str, Any]:
        return dict(self.overrides)

    @property
    def pairing_key(self) -> str:
        return f"{'+'.join(self.target)}→{'+'.join(self.auxiliary)}"

    def effective_config(self) -> dict[str, Any]:
        from .config import make_config
        from .methods import METHODS

        cfg = make_config(METHODS[self.method].defaults, preset=self.preset, **self.config_overrides)
        return {k: v for k, v in cfg.items() if k not in _NOT_IN_KEY}

    def key(self) -> str:
        """sha256 over method, effective config, views, split, seed and the training code."""
        payload = {
            "method": self.method, "config": self.effective_config(), "target": list(self.target),
            "auxiliary": list(self.auxiliary), "split": list(self.split), "seed": self.seed,
            "code": code_fingerprint(self.dataset),
        }
        if self.dataset != "uci_mfeat":  # (so the keys of the embedded runs stay what they were)
            payload["dataset"] = self.dataset
            payload["data"] = {k: v for k, v in self.data if k not in _DATA_LOCATIONS}
        text = json.dumps(payload, sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    def describe(self) -> str:
        ov = ", ".join(f"{k}={v}" for k, v in self.overrides if k not in ("device",))
        where = {"fold": lambda: f"fold {self.split[3] + 1}/{self.split[1]}", "official": lambda: "official split"
                 }.get(self.split[0], lambda: "holdout")()
        on = "" if self.dataset == "uci_mfeat" else f"{self.dataset} "
        return f"{self.method}({ov}) {on}{self.pairing_key} {where} seed {self.seed}"


@functools.lru_cache(maxsize=8)
def code_fingerprint(dataset: str = "uci_mfeat") -> str:
    """Hash of the modules that decide a run's numbers on ``dataset``: a code change invalidates the cache."""
    here = Path(__file__).resolve().parent
    h = hashlib.sha256()
    extra = _DATASET_CODE_FILES.get(dataset, [])
    files = [here / f for f in _CODE_FILES + extra] + sorted((here / "methods").glob("*.py"))
    for path in files:
        h.update(path.name.encode())
        h.update(path.read_bytes())
    return h.hexdigest()[:16]


@dataclass(frozen=True)
class Cell:
    """One run placed in a table: the table's setting (column group) and row."""

    table: str
    setting: str          # our setting (pairing key, Table 3 setup, Table 6 hyperparameter)
    paper_setting: str    # the paper's setting it stands for
    row: str              # paper_results.csv method key
    spec: RunSpec
    fold: int = -1


def data_location(prof: Profile, dataset: str) -> dict[str, str]:
    """Where ``dataset``'s files are under ``prof``: ``root`` (the data root; for the generated tier the
    folder it is written to) and ``cache`` (the frozen extractors' feature cache)."""
    if dataset == "uci_mfeat":
        return {}
    features = Path(prof.feature_dir or Path(prof.cache_dir).parent / "features")
    if dataset == "av_tier":
        root = Path(prof.data_root) / "av_tier" if prof.data_root else features / "av_tier_clips"
        return {"root": str(root), "cache": str(features / "av_tier")}
    return {"root": str(prof.data_root) if prof.data_root else "", "cache": str(features / dataset)}


def make_spec(prof: Profile, pairing: Pairing, method: str, seed: int, split: tuple | None = None, **overrides) -> RunSpec:
    """The RunSpec of ``method`` on ``pairing`` under ``prof`` (its epochs, device, per-dataset and
    per-method overrides), with extra config ``overrides``; ``split`` default: the profile's holdout
    split (the dataset's official split for the video datasets)."""
    dataset = pairing.dataset
    ov = prof.run_overrides(method, dataset)
    ov.update(overrides)
    if split is None:
        split = ("official",) if dataset in _OFFICIAL_SPLIT else ("holdout", prof.test_size, prof.split_seed)
    data = {**prof.data_options.get(dataset, {}), **data_location(prof, dataset)}
    return RunSpec(method, tuple(pairing.target), tuple(pairing.auxiliary), int(seed), prof.preset_for(dataset),
                   tuple(split), tuple(sorted(ov.items())), dataset, tuple(sorted(data.items(), key=lambda kv: kv[0])))


# --------------------------------------------------------------------------- plans
def plan_table1(prof: Profile, methods: Sequence[str] = T12_METHODS) -> list[Cell]:
    """Every method on both pairings (the paper's UCF51 / ActivityNet columns); seeds per pairing."""
    cells = []
    for pairing, seeds in zip(prof.pairings, (prof.seeds, prof.second_seeds)):
        for m in methods:
            for s in seeds:
                cells.append(Cell("table1", pairing.key, pairing.paper, m, make_spec(prof, pairing, m, s)))
    return cells


def plan_table2(prof: Profile) -> list[Cell]:
    """Retrieval R@1/R@5: the same runs as Table 1 (without the teacher, which has no student)."""
    return [Cell("table2", c.setting, c.paper_setting, c.row, c.spec) for c in plan_table1(prof, T12_METHODS[:-1])]


def plan_table3(prof: Profile) -> list[Cell]:
    """The auxiliary setups (A-V, L-V, AL-V analogues), k stratified folds; V: the baseline."""
    cells = []
    k, fseed = prof.table3_folds, prof.table3_fold_seed
    first = prof.table3_setups[0]
    for i in range(min(k, prof.table3_max_folds or k)):
        split = ("fold", k, fseed, i)
        v = Pairing(tuple(prof.table3_target), tuple(first.auxiliary), "V", first.dataset)
        cells.append(Cell("table3", "V", "V", "baseline", make_spec(prof, v, "baseline", 0, split), fold=i))
        for setup in prof.table3_setups:
            for m in T3_METHODS[1:]:
                cells.append(Cell("table3", setup.key, setup.paper, m, make_spec(prof, setup, m, 0, split), fold=i))
    return cells


def plan_table4(prof: Profile) -> list[Cell]:
    """Ablation of the loss terms on the main pairing (student and teacher top-1)."""
    p = prof.main
    return [Cell("table4", p.key, p.paper, row, make_spec(prof, p, method, s, **ov))
            for row, method, ov in T4_ROWS for s in prof.seeds]


def plan_table5(prof: Profile) -> list[Cell]:
    """The training modifications on the main pairing."""
    p = prof.main
    return [Cell("table5", p.key, p.paper, row, make_spec(prof, p, method, s, **ov))
            for row, method, ov in T5_ROWS for s in prof.seeds]


def plan_table6(prof: Profile) -> list[Cell]:
    """α1, α2, α3 one at a time, the others at the paper's (4, 1.6, 1)."""
    p = prof.main
    cells = []
    for name, values in prof.table6_grid.items():
        for value in values:
            for s in prof.table6_seeds:
                cells.append(Cell("table6", name, name, f"{float(value):.1f}", make_spec(prof, p, "amid", s, **{name: float(value)})))
    return cells


PLANS = {"table1": plan_table1, "table2": plan_table2, "table3": plan_table3,
         "table4": plan_table4, "table5": plan_table5, "table6": plan_table6}


# --------------------------------------------------------------------------- data and runs
@functools.lru_cache(maxsize=32)
def _load_views(target: tuple, auxiliary: tuple):
    from .data import load_uci_mfeat

    return load_uci_mfeat(target=list(target), auxiliary=list(auxiliary))


def load_split(spec: RunSpec):
    """(train, test) of a spec: MultimodalArrays (UCI, IEMOCAP features) or video datasets."""
    from .data import k_fold_splits, stratified_split

    if spec.dataset in ("av_tier", "ucf51", "activitynet"):
        return _video_datasets(spec.dataset, _freeze(spec.data))
    if spec.dataset == "iemocap":
        from .iemocap import iemocap_folds

        if spec.split[0] != "fold":
            raise ValueError(f"IEMOCAP runs use the leave-one-session-out folds, got split {spec.split!r}")
        setup = _IEMOCAP_SETUPS[tuple(spec.auxiliary)]
        return iemocap_folds(_iemocap_features(_freeze(spec.data)), setup, student="rnn")[spec.split[3]]
    if spec.dataset != "uci_mfeat":
        raise ValueError(f"unknown dataset {spec.dataset!r}")
    ds = _load_views(spec.target, spec.auxiliary)
    if spec.split[0] == "holdout":
        _, test_size, split_seed = spec.split
        return stratified_split(ds, test_size=test_size, seed=split_seed)
    if spec.split[0] == "fold":
        _, k, fold_seed, i = spec.split
        return list(k_fold_splits(ds, k=k, seed=fold_seed))[i]
    raise ValueError(f"unknown split {spec.split!r}")


#: IEMOCAP's auxiliary setups by auxiliary modalities (the student sees the visual frames)
_IEMOCAP_SETUPS = {("audio",): "A-V", ("text",): "L-V", ("audio", "text"): "AL-V"}


def _freeze(data) -> str:
    return json.dumps(dict(data), sort_keys=True, default=str)


@functools.lru_cache(maxsize=4)
def _video_datasets(dataset: str, frozen: str):
    """(train, test) video datasets, loaded once per process (the frozen extractor's features come
    from the on-disk cache after the first load)."""
    opts = json.loads(frozen)
    root, cache = opts.pop("root", ""), opts.pop("cache", None)
    if dataset == "av_tier":
        from .av_clips import av_tier_datasets, make_av_clips

        if not (Path(root) / "manifest.json").is_file():
            make_av_clips(root, **opts)
        return av_tier_datasets(root, cache_dir=cache)
    from .paper_data import load_paper_dataset

    return load_paper_dataset(dataset, root, cache, **opts)


@functools.lru_cache(maxsize=2)
def _iemocap_features(frozen: str):
    from .paper_data import load_paper_dataset

    opts = json.loads(frozen)
    root, cache = opts.pop("root", ""), opts.pop("cache", None)
    return load_paper_dataset("iemocap", root, cache, **opts)


def class_names(spec: RunSpec) -> list[str]:
    """The class names of a spec's dataset, in label order."""
    if spec.dataset == "uci_mfeat":
        from .data import load_uci_manifest

        return list(load_uci_manifest()["classes"])
    if spec.dataset == "iemocap":
        return list(_iemocap_features(_freeze(spec.data)).class_names)
    return list(_video_datasets(spec.dataset, _freeze(spec.data))[0].class_names)


def prepare_data(specs: Iterable[RunSpec]) -> None:
    """Load (generate, check against the manifest, extract features of) every dataset the specs read,
    once, in this process: worker processes then find the features in the on-disk cache."""
    seen = set()
    for spec in specs:
        if spec.dataset == "uci_mfeat" or (spec.dataset, _freeze(spec.data)) in seen:
            continue
        seen.add((spec.dataset, _freeze(spec.data)))
        if spec.dataset == "iemocap":
            _iemocap_features(_freeze(spec.data))
        else:
            _video_datasets(spec.dataset, _freeze(spec.data))


def _train(spec: RunSpec, checkpoint_dir: str | None = None):
    from .experiment import run

    train_ds, test_ds = load_split(spec)
    extra = {"checkpoint_dir": checkpoint_dir} if checkpoint_dir else {}
    if spec.dataset == "iemocap":
        from .iemocap import run_rnn_student

        feats = _iemocap_features(_freeze(spec.data))
        res = run_rnn_student(spec.method, train_ds, test_ds, seed=spec.seed, preset=spec.preset, progress=False,
                              n_frames=feats.n_frames, frame_dim=feats.frame_dim, **spec.config_overrides, **extra)
        res.config["data_record"] = feats.record  # what was excluded, skipped, resampled, mismatched
        return res
    return run(spec.method, train_ds, test_ds, seed=spec.seed, preset=spec.preset, progress=False,
               **spec.config_overrides, **extra)


class RunCache:
    """One folder per run (``<cache_dir>/<key>/``: config.json, metrics.json, history.csv,
    spec.json), written to a temporary folder and renamed into place, so a reader never sees a
    half-written run and two processes never clobber each other."""

    def __init__(self, folder: str | os.PathLike):
        self.folder = Path(folder)
        self._memory: dict[str, Any] = {}

    def path(self, spec: RunSpec) -> Path:
        return self.folder / spec.key()

    def has(self, spec: RunSpec) -> bool:
        key = spec.key()
        return key in self._memory or (self.folder / key / "metrics.json").is_file()

    def get(self, spec: RunSpec):
        from .experiment import Result

        key = spec.key()
        if key in self._memory:
            return self._memory[key]
        folder = self.folder / key
        if not (folder / "metrics.json").is_file():
            return None
        metrics = json.loads((folder / "metrics.json").read_text())
        config = json.loads((folder / "config.json").read_text())
        history = pd.read_csv(folder / "history.csv")
        res = Result(spec.method, metrics, history, config)
        self._memory[key] = res
        return res

    def put(self, spec: RunSpec, result, key: str | None = None) -> Path:
        from .experiment import atomic_write_text

        key = key or spec.key()
        final = self.folder / key
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = self.folder / f".{key}.{os.getpid()}.{time.time_ns()}.tmp"
        result.save(tmp)
        atomic_write_text(tmp / "spec.json", json.dumps(
            {"method": spec.method, "target": spec.target, "auxiliary": spec.auxiliary, "seed": spec.seed,
             "preset": spec.preset, "split": spec.split, "overrides": dict(spec.overrides),
             "dataset": spec.dataset, "data": dict(spec.data), "code": code_fingerprint(spec.dataset)}, indent=2, default=str))
        try:
            os.replace(tmp, final)
        except OSError:  # another process stored the same run first: keep theirs
            shutil.rmtree(tmp, ignore_errors=True)
        self._memory[key] = result
        return final


def _worker(spec: RunSpec, cache_dir: str, key: str | None = None, checkpoint: bool = False) -> tuple[str, float, float, dict]:
    """Train one spec and store it in the cache under ``key`` (the key the caller computed, so a
    source file edited while a reproduction runs cannot make the two processes disagree); a
    top-level function, so ``spawn`` workers can import it.

    ``checkpoint``: save the run after every epoch in ``<cache_dir>/.checkpoints/<key>/last.pt``.

    Returns the key, the wall and the CPU seconds of the run (CPU time does not depend on what
    else the machine is doing), and its top-1 accuracies.
    """
    started, cpu = time.perf_counter(), time.process_time()
    ckpt = str(Path(cache_dir) / ".checkpoints" / (key or spec.key())) if checkpoint else None
    res = _train(spec, ckpt)
    RunCache(cache_dir).put(spec, res, key=key)
    return (key or spec.key(), time.perf_counter() - started, time.process_time() - cpu,
            {k: res.metrics.get(k) for k in ("student_top1", "teacher_top1")})


class Study:
    """The runs of one profile: ``Study(prof).results(cells)`` trains what is missing, in order."""

    def __init__(self, prof: Profile, verbose: bool = True):
        self.prof = prof
        self.cache = RunCache(prof.cache_dir)
        self.verbose = verbose
        self.trained = 0          # runs trained by this Study (not found in the cache)
        self.train_seconds = 0.0  # their summed wall time
        self.cpu_seconds = 0.0    # their summed CPU time

    def _log(self, msg: str) -> None:
        if self.verbose:
            print(msg, flush=True)

    def ensure(self, specs: Iterable[RunSpec]) -> None:
        """Train every spec the cache lacks (deduplicated; ``prof.n_jobs`` processes)."""
        todo: dict[str, RunSpec] = {}
        for spec in specs:
            if not self.cache.has(spec):
                todo.setdefault(spec.key(), spec)
        if not todo:
            return
        prepare_data(todo.values())
        n_jobs = max(1, min(self.prof.n_jobs, len(todo)))
        self._log(f"training {len(todo)} run(s) not in the cache ({self.cache.folder}), {n_jobs} process(es)")
        started, done = time.perf_counter(), 0
        items = list(todo.values())
        # longest first (CRCD, CRD, fixed teacher): keeps both workers busy to the end
        cost = {"crcd": 5.0, "crd": 3.0, "amid": 1.5, "ccl": 1.0}
        items.sort(key=lambda s: -(cost.get(s.method, 0.5) * (2 if dict(s.overrides).get("fixed_teacher") else 1)))
        if n_jobs == 1:
            for spec in items:
                key, secs, cpu, m = _worker(spec, str(self.cache.folder), spec.key(), self.prof.checkpoint)
                done += 1
                self._report(done, len(items), spec, secs, cpu, m)
        else:
            ctx = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=n_jobs, mp_context=ctx) as pool:
                futures = {pool.submit(_worker, spec, str(self.cache.folder), spec.key(), self.prof.checkpoint): spec for spec in items}
                for fut in as_completed(futures):
                    key, secs, cpu, m = fut.result()
                    done += 1
                    self._report(done, len(items), futures[fut], secs, cpu, m)
        self.trained += len(items)
        self._log(f"{len(items)} run(s) in {time.perf_counter() - started:.0f} s wall, "
                  f"{self.cpu_seconds:.0f} CPU-seconds in all so far")

    def _report(self, done: int, total: int, spec: RunSpec, secs: float, cpu: float, m: dict) -> None:
        self.train_seconds += secs
        self.cpu_seconds += cpu
        acc = ", ".join(f"{k.split('_')[0]} {v:.1f}" for k, v in m.items() if v is not None and not np.isnan(v))
        self._log(f"  [{done}/{total}] {spec.describe()}: {secs:.1f} s wall, {cpu:.1f} s CPU ({acc})")

    def results(self, cells: Sequence[Cell]) -> list:
        """One Result per cell, in cell order (training what is missing first)."""
        self.ensure(c.spec for c in cells)
        out = [self.cache.get(c.spec) for c in cells]
        lost = [c.spec.describe() for c, r in zip(cells, out) if r is None]
        if lost:
            raise RuntimeError(f"{len(lost)} run(s) missing from the cache after training (was amidlib's training "
                               f"code edited during this session? restart the kernel): {lost[:3]}")
        return out

    def runs(self, cells: Sequence[Cell]) -> pd.DataFrame:
        """:func:`runs_frame` of the cells (training what is missing first)."""
        return runs_frame(cells, self.results(cells))

    def histories(self, cells: Sequence[Cell]) -> pd.DataFrame:
        """Every cell's per-epoch history stacked, with columns table, setting, row, seed, fold."""
        frames = []
        for cell, res in zip(cells, self.results(cells)):
            h = res.history.copy()
            h.insert(0, "fold", cell.fold)
            h.insert(0, "seed", cell.spec.seed)
            h.insert(0, "row", cell.row)
            h.insert(0, "setting", cell.setting)
            frames.append(h)
        return pd.concat(frames, ignore_index=True)


def runs_frame(cells: Sequence[Cell], results: Sequence) -> pd.DataFrame:
    """One row per cell: table, setting, paper_setting, row, seed, fold, method, key and the scalar metrics."""
    rows = []
    for cell, res in zip(cells, results):
        row = {"table": cell.table, "setting": cell.setting, "paper_setting": cell.paper_setting,
               "row": cell.row, "seed": cell.spec.seed, "fold": cell.fold, "method": cell.spec.method,
               "dataset": cell.spec.dataset, "run": cell.spec.key()}
        row.update({k: (np.nan if res.metrics.get(k) is None else float(res.metrics.get(k))) for k in SCALARS})
        rows.append(row)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- summaries
def _metric_rows(table: str, row: str) -> list[str]:
    """Which of our metrics a row of a table reports."""
    if table == "table1":
        return ["teacher_top1"] if row == "teacher" else ["student_top1"]
    if table == "table4":
        if row == "student_alone":
            return ["student_top1"]
        if row == "teacher_alone":
            return ["teacher_top1"]
        return ["student_top1", "teacher_top1"]
    return list(PAPER_METRIC[table])


def _label(table: str, row: str) -> str:
    if table == "table6":
        return row
    if table == "table4" and row == "amid":
        return DISPLAY["amid_t4"]
    if table == "table5" and row == "amid":
        return DISPLAY["amid_t5"]
    return DISPLAY.get(row, row)


def summarise(runs: pd.DataFrame, table: str | None = None, data: dict[str, str] | None = None) -> pd.DataFrame:
    """The tidy table: mean, std (ddof 1; 0 for one run), n over seeds (Table 3: folds) per
    (setting, row, metric), beside the paper's number (``amidlib.manifests.paper_value``).

    ``data`` maps our setting to a description of the data (for the ``data`` column).
    """
    table = table or runs["table"].iloc[0]
    out = []
    for (setting, row), grp in runs.groupby(["setting", "row"], sort=False):
        paper_setting = grp["paper_setting"].iloc[0]
        for metric in _metric_rows(table, row):
            vals = grp[metric].astype(float).dropna()
            paper_metric = PAPER_METRIC[table][metric]
            paper_method = row
            if table == "table1" and row == "teacher":
                paper_method = None  # the paper's Table 1 has no teacher row
            paper = manifests.paper_value(table, paper_setting, paper_method, paper_metric) if paper_method else None
            out.append({
                "table": table, "setting": setting, "paper_setting": paper_setting,
                "data": (data or {}).get(setting, ""),
                "dataset": grp["dataset"].iloc[0] if "dataset" in grp else "uci_mfeat", "row": row, "label": _label(table, row), "metric": metric,
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


_METRIC_NAMES = {"student_top1": "top-1", "teacher_top1": "top-1", "student_r1": "R@1", "student_r5": "R@5",
                 "wa": "WA", "ua": "UA"}


def to_markdown(tidy: pd.DataFrame) -> str:
    """Side-by-side markdown: for every (setting, metric) a "paper" and an "ours (mean ± std)"
    column, and the number of seeds (Table 3: folds) per setting."""
    table = tidy["table"].iloc[0]
    t = tidy.assign(ours=[ours_cell(m, s, n) for m, s, n in zip(tidy["mean"], tidy["std"], tidy["n"])],
                    paper_txt=[_paper_cell(v) for v in tidy["paper"]])
    if table in ("table3", "table6"):
        # the setting is a row group: one line per (setting, row)
        lines = []
        first = "setup" if table == "table3" else "hyperparameter"
        for (setting, row), grp in t.groupby(["setting", "row"], sort=False):
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
        for row, grp in t.groupby("row", sort=False):
            rec = {"configuration": grp["label"].iloc[0]}
            for metric, who in (("student_top1", "student"), ("teacher_top1", "teacher")):
                hit = grp[grp["metric"] == metric]
                rec[f"paper {who}"] = hit["paper_txt"].iloc[0] if len(hit) else "—"
                rec[f"ours {who}"] = hit["ours"].iloc[0] if len(hit) else "—"
            rec["n seeds"] = int(grp["n"].max())
            lines.append(rec)
        return pd.DataFrame(lines).to_markdown(index=False, disable_numparse=True)
    # tables 1, 2, 5: rows = methods, column groups = settings
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
        lines.append(rec)
    return pd.DataFrame(lines).to_markdown(index=False, disable_numparse=True)


TITLES = {
    "table1": "Table 1 (embedded analogue): top-1 accuracy (%) of the student",
    "table2": "Table 2 (embedded analogue): retrieval R@1 / R@5 (%) of the student (test queries, training gallery)",
    "table3": "Table 3 (embedded analogue): WA / UA (%) under different auxiliary setups, stratified k-fold",
    "table4": "Table 4 (embedded analogue): ablation of the loss terms, student and teacher top-1 (%)",
    "table5": "Table 5 (embedded analogue): training modifications, student top-1 (%)",
    "table6": "Table 6 (embedded analogue): student top-1 (%) for α1, α2, α3 varied one at a time (others at 4, 1.6, 1)",
}


def header(table: str, prof: Profile | None, tidy: pd.DataFrame) -> str:
    title = TITLES[table]
    from .paper_data import PAPER_DATASETS

    paper_data = "dataset" in tidy and set(tidy["dataset"]) <= set(PAPER_DATASETS)
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
        lines.append("- UCI Multiple Features is class-balanced and the folds are stratified, so WA and UA coincide "
                     "(IEMOCAP's classes are not balanced, hence two numbers in the paper)")
    where = ("the same datasets; differences come from seeds, hardware, the unstated details listed in DESIGN.md"
             if paper_data else "its datasets are UCF51 / ActivityNet / IEMOCAP, not these: compare orderings, not values")
    lines.append(f"- ours: mean ± std over n {n_what} (just the value when n = 1); paper: the paper's number, from "
                 f"data_manifests/paper_results.csv ({where})")
    if prof is not None:
        lines.append(f"- profile {prof.name}: " + prof.describe().splitlines()[0].split(": ", 1)[1])
        for method, ov in prof.method_overrides.items():
            lines.append(f"- {method} runs with {dict(ov)} under this profile (cost), not its paper default")
    return "\n".join(lines) + "\n\n"


def write_table(tidy: pd.DataFrame, out_dir: str | os.PathLike, prof: Profile | None = None) -> tuple[Path, Path]:
    """``<out_dir>/<table>.md`` and its ``.csv`` twin, each written atomically."""
    from .experiment import atomic_write_text

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
    out = {s.key: s.description for s in prof.table3_setups}
    out.update({p.key: p.description for p in prof.pairings})
    from .profiles import DATASET_TITLES

    t3 = prof.table3_setups[0].dataset if prof.table3_setups else "uci_mfeat"
    out["V"] = f"{DATASET_TITLES.get(t3, t3)}, target {'+'.join(prof.table3_target)} alone (no auxiliary view)"
    for name in prof.table6_grid:
        out[name] = prof.main.description
    return out


def build_table(study: Study, table: str, write: bool = True) -> pd.DataFrame:
    """Plan, run (what is missing), summarise and (by default) write one table."""
    prof = study.prof
    cells = PLANS[table](prof)
    tidy = summarise(study.runs(cells), table, data_descriptions(prof))
    if write:
        write_table(tidy, prof.out_dir, prof)
    return tidy
