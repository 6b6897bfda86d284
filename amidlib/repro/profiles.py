"""Profiles: how big a reproduction is (``ci`` | ``cpu`` | ``paper``), and where its files go.

Every notebook starts with the same parameters (``profile``, ``dataset``, ``seeds``, ``epochs``,
``device``, ``out_dir``, ``data_root``, ``cache_dir``, ``n_jobs``) and turns them into a
:class:`Profile` with :func:`load_profile`::

    prof = load_profile("cpu", seeds=None, epochs=None)   # None = the profile's own value
    prof.pairings[0]          # Pairing('fou→fac', target=('fou',), auxiliary=('fac',), paper='UCF51')
    prof.paths.out_dir, prof.paths.cache_dir

The profiles
------------
``ci``
    Smallest that still learns: preset ``tiny`` with 8 epochs (3 of warm-up), one seed, one of 2
    folds for Table 3, the end points of the Table 6 grid, CRD/CRCD with fewer negatives (their
    contrast scores dominate the cost), two worker processes. Every notebook in under a minute
    on 2 idle cores. Writes to ``figures/ci/`` so it never overwrites the committed figures.
``cpu`` (default of ``make reproduce``)
    Every table and figure on the embedded real data in about ten minutes on 2 CPU cores. Tables 1, 2,
    4-6 and the figures on the UCI digit pairs (:mod:`amidlib.data.digit_pairs`: 55 classes at batch 16,
    the paper's batch regime: ≈ 1.3 positives per anchor, ≈ 1/4 of samples partnered; preset
    ``embedded_pairs``, 24 epochs, 8 of warm-up), Table 3 on the 10 digits (preset ``embedded``, 60 epochs,
    20 of warm-up, batch 64, IEMOCAP-like class imbalance, both of 2 stratified folds); 10 seeds for
    every comparison a claim rests on, 3 for Table 6 and CRD / CRCD (each table has an ``n`` column);
    the batch-regime sweep at batch 16 and 64 on both datasets; two worker processes; CRD / CRCD with
    fewer negatives (stated in every table). ``dataset="uci_mfeat"`` puts Tables 1, 2, 4-6 back on the
    10 digits (batch 64: ≈ 7.2 positives per anchor, every sample partnered). Writes to ``figures/``.
``paper``
    The paper's settings on the paper's datasets on a GPU: Tables 1 and 2 on UCF51 and ActivityNet
    (R(2+1)D-18 student on 16×112×112 clips, frozen CNN14 audio; preset ``paper_video``), Tables
    4-6 and the figures on UCF51 (``dataset="activitynet"`` moves them to ActivityNet), Table 3 on
    IEMOCAP (GRU student over DenseNet frame features; wav2vec 2.0 / BERT auxiliary features;
    preset ``paper_iemocap``; 5 leave-one-session-out folds). Needs a CUDA GPU (or an explicit
    ``device="cpu"``, very slow) and a data root laid out as :mod:`amidlib.data.paper_root` says
    (parameter ``data_root`` or environment variable ``AMID_DATA_ROOT``); :func:`check_requirements`
    names every missing file. Every run checkpoints after each epoch in its cache folder.

The ``ci`` profile stays on the 10 digits (seconds per notebook). A third embedded dataset,
``dataset="av_tier"`` (profiles ci / cpu), runs Tables 1, 2, 4-6 and the
figures through the *video* path of the paper profile on generated audio-visual clips
(:mod:`amidlib.data.av_tier`: real mp4 files, PyAV decoding, log-mel audio features, a small 3D-CNN
student): the paper pipeline end to end on a CPU, in minutes. Table 3 stays on UCI.

The pairings of target and auxiliary views (Tables 1, 2 and the figures) and the Table 3
setups are profile values, so they are changed in one place.

A profile is data: a few top-level values (name, preset, epochs, device, the pairings and their
seeds) and grouped records, each read by whoever runs that part:

- :class:`RunConfig` ``config``: the config overrides of every run, per method, and per dataset
  (:class:`DatasetSettings`: preset, overrides, loader options);
- :class:`SeedSets` ``seed_sets``: the seeds of the run sets that do not use the main ``seeds``;
- :class:`HoldoutSplit` ``split``: the holdout split of runs whose plan names no split;
- :class:`CrossValidation` ``crossval``: auxiliary setups compared over k folds (the paper layer's Table 3);
- :class:`Sweeps` ``sweeps``: a hyperparameter grid (Table 6) and a batch-size sweep (fig_regime);
- :class:`Execution` ``execution``: worker processes or Ray, checkpoints, batched seeds, evaluation;
- :class:`Paths` ``paths``: output, run cache, feature cache, data root.

Nothing here depends on a profile's name: what differs between profiles is in their values
(:data:`PROFILES`). What a dataset needs is asked of the dataset (:mod:`amidlib.data.datasets`).
:meth:`Profile.replace` (and :func:`load_profile`) take a group by name, or one of its values by its
short name (``checkpoint=True``, ``table3_folds=5``: :data:`SHORT_NAMES`).
"""
from __future__ import annotations

import ast
import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from amidlib.core.config import unknown_name_message
from amidlib.data import datasets as registry
from amidlib.data.datasets.base import ON_BAD
from amidlib.data.splits import imbalanced_sizes

__all__ = [
    "Pairing",
    "Profile",
    "DatasetSettings",
    "RunConfig",
    "SeedSets",
    "HoldoutSplit",
    "CrossValidation",
    "Sweeps",
    "Execution",
    "Paths",
    "PROFILES",
    "SHORT_NAMES",
    "COMMON_PARAMETERS",
    "load_profile",
    "check_requirements",
    "repo_root",
    "resolve_path",
    "parse_seeds",
    "EXECUTORS",
    "ON_BAD",
]

#: The names every notebook's ``parameters`` cell declares (tests check this).
COMMON_PARAMETERS = ("profile", "dataset", "seeds", "epochs", "device", "out_dir", "data_root", "cache_dir", "n_jobs",
                     "executor", "address", "on_bad", "frames_root", "datasets")
#: where a Study's runs execute: worker processes on this machine, or the tasks of a Ray cluster
#: (:mod:`amidlib.repro.executors`)
EXECUTORS = ("local", "ray")


def _title(dataset: str) -> str:
    found = registry.registered()
    return found[dataset].title if dataset in found else dataset


#: a line per dataset for table headers (each dataset's title, :mod:`amidlib.data.datasets`)
DATASET_TITLES = {d.name: d.title for d in registry.all_datasets()}


@dataclass(frozen=True)
class Pairing:
    """A target → auxiliary choice of views of a dataset, and the paper setting it stands for."""

    target: tuple[str, ...]
    auxiliary: tuple[str, ...]
    paper: str  # the paper's setting this column is the analogue of ("UCF51", "ActivityNet", "A-V", ...)
    dataset: str = registry.DEFAULT  # where the views come from (a registered dataset)

    @property
    def key(self) -> str:
        """"fou→fac", "fou→fac+pix", "ucf51:video→audio": short, used in file and column names (a pairing on
        the default dataset is named by its views alone, as tables were before there were other datasets)."""
        views = f"{'+'.join(self.target)}→{'+'.join(self.auxiliary)}"
        return views if self.dataset == registry.DEFAULT else f"{self.dataset}:{views}"

    @property
    def description(self) -> str:
        return f"{_title(self.dataset)}, target {'+'.join(self.target)}, auxiliary {'+'.join(self.auxiliary)}"


# --------------------------------------------------------------------------- the records of a profile
@dataclass(frozen=True)
class DatasetSettings:
    """How a profile runs on one dataset: its preset (None: the profile's), config overrides (after the
    profile's own) and loader options."""

    preset: str | None = None
    overrides: Mapping[str, Any] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunConfig:
    """The config overrides runs get, applied in this order: ``overrides`` (every run), the run's
    dataset's (``datasets[d].overrides``), the run's method's (``per_method``)."""

    overrides: Mapping[str, Any] = field(default_factory=dict)
    per_method: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    datasets: Mapping[str, DatasetSettings] = field(default_factory=dict)

    def dataset(self, name: str) -> DatasetSettings:
        return self.datasets.get(name, DatasetSettings())


@dataclass(frozen=True)
class SeedSets:
    """The seeds of the run sets that do not use the profile's main ``seeds``."""

    second: tuple[int, ...]                 # the second pairing's runs
    sweep: tuple[int, ...]                  # each point of the hyperparameter grid (Sweeps.grid)
    regime: tuple[int, ...] = (0,)          # each batch size of the batch-size sweep
    per_method: Mapping[str, tuple[int, ...]] = field(default_factory=dict)  # the pairings' runs: fewer seeds for these methods


@dataclass(frozen=True)
class HoldoutSplit:
    """The split of a run whose plan names none, on a dataset without an official split."""

    test_size: float = 0.8                  # as load_embedded: 400 train / 1,600 test digits
    seed: int = 0
    from_seed: bool = False                 # each seed's runs on its own holdout split (split seed = run seed)


@dataclass(frozen=True)
class CrossValidation:
    """Auxiliary setups compared over k folds, one run per fold and setup (the paper's Table 3)."""

    target: tuple[str, ...]
    setups: tuple[Pairing, ...]             # the auxiliary setups (A-V, L-V, AL-V); () : none
    folds: int                              # k of the stratified k-fold (IEMOCAP: 5 sessions)
    fold_seed: int = 0
    max_folds: int | None = None            # train only the first folds; None = all k
    class_sizes: tuple[int, ...] | None = None  # feature arrays: per-class sizes (IEMOCAP-like imbalance)


@dataclass(frozen=True)
class Sweeps:
    """Runs of the main pairing with one setting varied."""

    grid: Mapping[str, tuple[float, ...]]   # hyperparameter -> values, each varied alone, the others at default (Table 6)
    batch_sizes: tuple[int, ...] = ()       # the batch sizes swept (fig_regime; () : none)
    batch_pairings: tuple[Pairing, ...] = ()  # the pairings of the batch-size sweep (() : the main pairing only)


@dataclass(frozen=True)
class Execution:
    """Where and how the runs train."""

    n_jobs: int                             # worker processes (local) or CPUs of a private Ray instance
    executor: str = "local"                 # "local" (worker processes here) | "ray" (tasks of a Ray cluster)
    address: str | None = None              # the Ray cluster's address ("auto": the one this machine belongs to)
    checkpoint: bool = False                # save every run after each epoch (cache_dir/.checkpoints/<run>)
    keep_checkpoints: bool = False          # keep a finished run's checkpoint (default: deleted once its record is cached)
    batch_seeds: bool = True                # train the seeds of one configuration as one batched model where possible
    final_eval_only: bool = True            # a run whose per-epoch curves no figure draws is evaluated once, after its last epoch
    budget_s: float | None = None           # the wall-clock target of a whole reproduction


@dataclass(frozen=True)
class Paths:
    """The profile's folders. In :data:`PROFILES` relative to the repository root; :func:`load_profile`
    makes them absolute."""

    out_dir: Path | None = None             # tables and figures
    cache_dir: Path | None = None           # the run cache
    feature_dir: Path | None = None         # frozen extractors' features (and the generated tier), kept across runs
    data_root: Path | None = None           # the paper's datasets (amidlib.data.paper_root)


_GROUPS = {"config": RunConfig, "seed_sets": SeedSets, "split": HoldoutSplit, "crossval": CrossValidation,
           "sweeps": Sweeps, "execution": Execution, "paths": Paths}

#: short names of the values inside the records: ``name -> (record, field)``. :meth:`Profile.replace` and
#: :func:`load_profile` take them as keywords (they are the flat names profiles had before the records).
SHORT_NAMES: dict[str, tuple[str, str]] = {
    "overrides": ("config", "overrides"), "method_overrides": ("config", "per_method"),
    "second_seeds": ("seed_sets", "second"), "table6_seeds": ("seed_sets", "sweep"),
    "regime_seeds": ("seed_sets", "regime"), "row_seeds": ("seed_sets", "per_method"),
    "test_size": ("split", "test_size"), "split_seed": ("split", "seed"), "split_from_seed": ("split", "from_seed"),
    "table3_target": ("crossval", "target"), "table3_setups": ("crossval", "setups"),
    "table3_folds": ("crossval", "folds"), "table3_fold_seed": ("crossval", "fold_seed"),
    "table3_max_folds": ("crossval", "max_folds"), "table3_class_sizes": ("crossval", "class_sizes"),
    "table6_grid": ("sweeps", "grid"), "regime_batch_sizes": ("sweeps", "batch_sizes"),
    "regime_pairings": ("sweeps", "batch_pairings"),
    **{f.name: ("execution", f.name) for f in dataclasses.fields(Execution)},
    **{f.name: ("paths", f.name) for f in dataclasses.fields(Paths)},
}
#: short names of one part of every dataset's settings: ``name -> DatasetSettings field`` (a mapping
#: dataset -> value; giving one replaces that part for every dataset)
PER_DATASET_NAMES = {"dataset_presets": "preset", "dataset_overrides": "overrides", "data_options": "options"}
_EMPTY = {"preset": None, "overrides": {}, "options": {}}


@dataclass(frozen=True)
class Profile:
    """Everything that sets the size of a reproduction. Build one with :func:`load_profile`."""

    name: str
    preset: str
    epochs: int | None                      # None: the preset's
    seeds: tuple[int, ...]                  # the main pairing's runs (and every run set without its own seeds)
    pairings: tuple[Pairing, ...]           # (main, second): the main one also for the sweeps and figures
    seed_sets: SeedSets
    crossval: CrossValidation
    sweeps: Sweeps
    execution: Execution
    dataset_choices: tuple[str, ...]        # what the ``dataset`` parameter may make the main pairing's dataset
    device: str = "cpu"
    config: RunConfig = field(default_factory=RunConfig)
    split: HoldoutSplit = field(default_factory=HoldoutSplit)
    paths: Paths = field(default_factory=Paths)
    skipped: tuple[str, ...] = ()           # paper datasets left out by the `datasets` parameter (named in describe)
    note: str = ""

    @property
    def main(self) -> Pairing:
        return self.pairings[0]

    def replace(self, **changes) -> "Profile":
        """A copy with ``changes``: top-level values and whole records by name, a record as a dict of the
        values to change (``execution={"checkpoint": True}``), or a value by its short name
        (:data:`SHORT_NAMES`: ``checkpoint=True``; :data:`PER_DATASET_NAMES`: ``data_options={...}``)."""
        top: dict[str, Any] = {}
        inner: dict[str, dict[str, Any]] = {}
        per_dataset: dict[str, Mapping[str, Any]] = {}
        for name, value in changes.items():
            if name in _GROUPS and isinstance(value, Mapping):
                inner.setdefault(name, {}).update(value)
            elif name in _FIELDS:
                top[name] = value
            elif name in SHORT_NAMES:
                group, key = SHORT_NAMES[name]
                inner.setdefault(group, {})[key] = value
            elif name in PER_DATASET_NAMES:
                per_dataset[PER_DATASET_NAMES[name]] = value
            else:
                raise TypeError(unknown_name_message("profile field", name, _FIELDS | set(SHORT_NAMES)
                                                     | set(PER_DATASET_NAMES)))
        for group, values in inner.items():
            top[group] = dataclasses.replace(top.get(group, getattr(self, group)), **values)
        if per_dataset:  # one part of every dataset's settings, replaced as a whole (missing: the part's default)
            config = top.get("config", self.config)
            order = [*config.datasets, *(d for values in per_dataset.values() for d in values)]
            settings = {d: dataclasses.replace(config.dataset(d), **{part: values.get(d, _EMPTY[part])
                                                                      for part, values in per_dataset.items()})
                        for d in dict.fromkeys(order)}
            top["config"] = dataclasses.replace(config, datasets=settings)
        return dataclasses.replace(self, **top)

    def preset_for(self, dataset: str) -> str:
        """The preset of runs on ``dataset`` (paper: ``paper_iemocap`` for IEMOCAP)."""
        return self.config.dataset(dataset).preset or self.preset

    def options_for(self, dataset: str) -> dict[str, Any]:
        """The loader options of runs on ``dataset`` (without its location)."""
        return dict(self.config.dataset(dataset).options)

    def datasets(self) -> list[str]:
        """Every dataset the profile's runs read (its pairings', cross-validation's and sweeps'), in order of first use."""
        out = [p.dataset for p in self.pairings] + [s.dataset for s in self.crossval.setups]
        out += [p.dataset for p in self.sweeps.batch_pairings if self.sweeps.batch_sizes]
        return list(dict.fromkeys(out))

    def run_overrides(self, method: str, dataset: str | None = None) -> dict[str, Any]:
        """Config overrides every run of ``method`` on ``dataset`` gets under this profile (epochs, device, ...)."""
        out = dict(self.config.overrides)
        out.update(self.config.dataset(dataset or self.main.dataset).overrides)
        out.update(self.config.per_method.get(method, {}))
        if self.epochs is not None:
            out["epochs"] = self.epochs
        out["device"] = self.device
        return out

    def describe(self) -> str:
        """A few lines for the top of every notebook and table."""
        from amidlib.core.config import BASE, PRESETS

        epochs = self.epochs if self.epochs is not None else PRESETS[self.preset].get("epochs", BASE["epochs"])
        cv = self.crossval
        t3 = cv.setups[0].dataset if cv.setups else ""
        folds = registry.get(t3).folds_description(cv.folds) if t3 else f"{cv.folds} stratified folds"
        table3 = (f"Table 3 on {t3}: " + ", ".join(f"{s.paper} = {s.key}" for s in cv.setups)
                  if cv.setups else "no Table 3")
        used = self.datasets()
        others = [f"{d}: preset {s.preset}, {PRESETS[s.preset].get('epochs', BASE['epochs'])} epochs, batch "
                  f"{PRESETS[s.preset].get('batch_size', BASE['batch_size'])}" for d, s in self.config.datasets.items()
                  if s.preset and d in used and s.preset in PRESETS and self.epochs is None]
        ex = self.execution
        lines = [
            f"profile {self.name}: preset {self.preset}, {epochs} epochs, device {self.device}, {ex.n_jobs} worker process(es)"
            + (f" ({'; '.join(others)})" if others else ""),
            f"  seeds {list(self.seeds)} (Tables 1, 2 main pairing, 4, 5, figures); "
            f"second pairing {list(self.seed_sets.second)}; "
            f"Table 6 {list(self.seed_sets.sweep)}; Table 3: {folds}"
            + (f" (first {cv.max_folds} trained)" if cv.max_folds else ""),
            "  pairings: " + ", ".join(f"{p.key} on {p.dataset} (as {p.paper})" for p in self.pairings) + "; " + table3,
        ]
        if self.skipped:
            lines.append("  SKIPPED (not in the datasets parameter): " + "; ".join(SKIPPED_WHAT.get(d, d) for d in self.skipped))
        if self.config.per_method:
            lines.append("  method overrides: " + "; ".join(f"{m}: {dict(v)}" for m, v in self.config.per_method.items()))
        if self.seed_sets.per_method:
            lines.append("  fewer seeds in Tables 1, 2 (cost; in no claim): "
                         + "; ".join(f"{m}: {list(v)}" for m, v in self.seed_sets.per_method.items()))
        if ex.final_eval_only:
            lines.append("  runs whose per-epoch curves a figure draws are evaluated every epoch (eval_every of the "
                         "preset); the others once, after their last epoch (evaluation changes nothing in training)")
        if self.split.from_seed:
            lines.append("  each seed trains and tests on its own holdout split (split seed = run seed; the arms of a "
                         "comparison share it), so the seed intervals include the split's variance")
        if ex.batch_seeds:
            lines.append("  the seeds of one configuration train as one batched model where the method allows it "
                         "(amidlib.core.batched: each seed its lone run up to float rounding)")
        if self.paths.out_dir is not None:
            lines.append(f"  out_dir {self.paths.out_dir}; run cache {self.paths.cache_dir}")
        if self.note:
            lines.append(f"  note: {self.note}")
        return "\n".join(lines)

    # ----------------------------------------------------------------------- transition
    # The flat names profiles had before the records, read by code outside the repro layer that has not
    # moved to the records yet (the paper layer, notebooks, scripts; issue 21). Read-only; new code reads
    # the records. SHORT_NAMES maps each to its place.
    def __getattr__(self, name: str):
        if name in SHORT_NAMES:
            group, key = SHORT_NAMES[name]
            return getattr(object.__getattribute__(self, group), key)
        if name in PER_DATASET_NAMES:
            part = PER_DATASET_NAMES[name]
            return {d: getattr(s, part) for d, s in object.__getattribute__(self, "config").datasets.items()
                    if getattr(s, part)}
        if name == "dataset":  # the main pairing's dataset
            return object.__getattribute__(self, "pairings")[0].dataset
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")


_FIELDS = {f.name for f in dataclasses.fields(Profile)}


# --------------------------------------------------------------------------- the profiles
# Table 6 of the paper: each α varied alone, the others at (4, 1.6, 1)
PAPER_ALPHA_GRID: dict[str, tuple[float, ...]] = {
    "alpha1": (3.7, 3.8, 3.9, 4.0, 4.1, 4.2),
    "alpha2": (1.3, 1.4, 1.5, 1.6, 1.7, 1.8),
    "alpha3": (0.7, 0.8, 0.9, 1.0, 1.1, 1.2),
}

_MAIN = Pairing(("fou",), ("fac",), "UCF51")
# the second column of Tables 1 and 2 (the paper's ActivityNet): another weak target view with a
# strong auxiliary view
_SECOND = Pairing(("zer",), ("pix",), "ActivityNet")
# the same views on the digit pairs (55 classes): at batch 16 the paper's batch regime (amidlib.data.digit_pairs)
_MAIN_PAIRS = Pairing(("fou",), ("fac",), "UCF51", "uci_pairs")
_SECOND_PAIRS = Pairing(("zer",), ("pix",), "ActivityNet", "uci_pairs")
_T3_TARGET = ("fou",)
_T3_SETUPS = (
    Pairing(_T3_TARGET, ("fac",), "A-V"),
    Pairing(_T3_TARGET, ("pix",), "L-V"),
    Pairing(_T3_TARGET, ("fac", "pix"), "AL-V"),
)

#: the embedded Table 3 is made class-imbalanced like IEMOCAP (largest class 1,708 neutral utterances, smallest
#: 1,084 sad: 1.58×), so that WA and UA measure different things as in the paper: 200 → 127 digits per class
IEMOCAP_IMBALANCE = 1708 / 1084
_T3_SIZES = imbalanced_sizes(200, 10, IEMOCAP_IMBALANCE)

#: the generated tier of ``dataset="av_tier"``: make_av_clips arguments
AV_TIER = {"n_classes": 5, "per_class": 12, "test_per_class": 3, "seconds": 1.0, "fps": 16, "size": 48, "seed": 0}
#: what the ci / cpu profiles may put on the main pairing (the ``dataset`` parameter)
_EMBEDDED_CHOICES = ("uci_pairs", "uci_mfeat", "av_tier")
#: ci / cpu on other datasets than their main one (the ``dataset`` parameter): the digit pairs at their own
#: preset; the generated clips with a small 3D-CNN from scratch on 45 clips, at a higher learning rate than the
#: MLP presets (measured: baseline top-1 40 % at 15 epochs with 3e-3 vs 20 % = chance with 1e-3; 47 % at 30
#: epochs with 1e-3)
_EMBEDDED_DATASETS = {
    "uci_pairs": DatasetSettings(preset="embedded_pairs"),
    "av_tier": DatasetSettings(overrides={"video_student": "tiny3d", "dim": 64, "hidden": 64, "d_hidden": 32,
                                          "batch_size": 8, "eval_batch_size": 8, "lr": 3e-3},
                               options=AV_TIER),
}


def _paths(profile: str, out_dir: str) -> Paths:
    return Paths(out_dir=Path(out_dir), cache_dir=Path(f"runs/{profile}/cache"), feature_dir=Path(f"runs/{profile}/features"))


PROFILES: dict[str, Profile] = {
    "ci": Profile(
        name="ci", preset="tiny", epochs=8, seeds=(0,), pairings=(_MAIN, _SECOND),
        seed_sets=SeedSets(second=(0,), sweep=(0,), regime=(0,)),
        crossval=CrossValidation(_T3_TARGET, _T3_SETUPS, folds=2, fold_seed=0, max_folds=1, class_sizes=_T3_SIZES),
        sweeps=Sweeps(grid={k: (v[0], v[-1]) for k, v in PAPER_ALPHA_GRID.items()},  # the end points only
                      batch_sizes=(32, 64)),
        # one seed per configuration: nothing to batch
        execution=Execution(n_jobs=2, batch_seeds=False, budget_s=None),
        dataset_choices=_EMBEDDED_CHOICES,
        # CI checks the plumbing, not the numbers: fewer negatives make CRD/CRCD ~5x cheaper
        config=RunConfig(overrides={"warmup_epochs": 3}, per_method={"crd": {"crd_nce_k": 128}, "crcd": {"crcd_nce_k": 32}},
                         datasets=_EMBEDDED_DATASETS),
        paths=_paths("ci", "figures/ci"),
        note="smoke-test scale: one seed, CRD/CRCD with fewer negatives; numbers are not a reproduction",
    ),
    "cpu": Profile(
        # Tables 1, 2, 4-6 and the figures on the digit pairs at batch 16 (the paper's batch regime; preset
        # embedded_pairs), Table 3 on the 10 digits (IEMOCAP's 4 classes at batch 128 are not a few-positives regime);
        # 10 seeds for every comparison a claim rests on (seeds train batched), 3 for Table 6 and for CRD / CRCD
        # (sampled negatives: they cannot train batched; in no claim), both folds of Table 3; fig_regime sweeps
        # batch 16 and 64 on both proxies: from the paper's ≈ 1.3 positives per anchor to the 10 digits' ≈ 7
        name="cpu", preset="embedded", epochs=None, seeds=tuple(range(10)), pairings=(_MAIN_PAIRS, _SECOND_PAIRS),
        seed_sets=SeedSets(second=tuple(range(10)), sweep=(0, 1, 2), regime=tuple(range(5)),
                           per_method={"crd": (0, 1, 2), "crcd": (0, 1, 2)}),
        crossval=CrossValidation(_T3_TARGET, _T3_SETUPS, folds=2, fold_seed=0, max_folds=None, class_sizes=_T3_SIZES),
        sweeps=Sweeps(grid=dict(PAPER_ALPHA_GRID), batch_sizes=(16, 64), batch_pairings=(_MAIN_PAIRS, _MAIN)),
        execution=Execution(n_jobs=2, budget_s=600),
        dataset_choices=_EMBEDDED_CHOICES,
        config=RunConfig(per_method={"crd": {"crd_nce_k": 256}, "crcd": {"crcd_nce_k": 64}}, datasets=_EMBEDDED_DATASETS),
        # the holdout split drawn from each seed (the arms of a comparison share it): intervals include split variance
        split=HoldoutSplit(from_seed=True),
        paths=_paths("cpu", "figures"),
    ),
    "paper": Profile(
        name="paper", preset="paper_video", epochs=None, seeds=(0, 1, 2),
        pairings=(Pairing(("video",), ("audio",), "UCF51", "ucf51"),
                  Pairing(("video",), ("audio",), "ActivityNet", "activitynet")),
        seed_sets=SeedSets(second=(0, 1, 2), sweep=(0, 1, 2)),
        crossval=CrossValidation(("visual_frames",),
                                 (Pairing(("visual_frames",), ("audio",), "A-V", "iemocap"),
                                  Pairing(("visual_frames",), ("text",), "L-V", "iemocap"),
                                  Pairing(("visual_frames",), ("audio", "text"), "AL-V", "iemocap")),
                                 folds=5, fold_seed=0),
        sweeps=Sweeps(grid=dict(PAPER_ALPHA_GRID)),
        execution=Execution(n_jobs=1, checkpoint=True),
        dataset_choices=("ucf51", "activitynet"), device="cuda",
        # any real copy of ActivityNet lacks some YouTube videos and has some without audio: left out, each
        # listed in the run's record and the table header ("used N of M videos"); on_bad="raise" stops instead
        config=RunConfig(datasets={"iemocap": DatasetSettings(preset="paper_iemocap"),
                                   "activitynet": DatasetSettings(options={"on_bad": "skip"})}),
        paths=_paths("paper", "figures/paper"),
        note="paper scale: UCF51 / ActivityNet videos and IEMOCAP on a GPU; every run checkpoints each epoch",
    ),
}


# --------------------------------------------------------------------------- paths
def repo_root(start: str | os.PathLike | None = None) -> Path:
    """The repository root: the first folder at or above ``start`` (default: the current folder)
    holding ``pyproject.toml`` and ``amidlib/``; else the folder above the installed package."""
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / "amidlib").is_dir():
            return folder
    return Path(__file__).resolve().parents[2]


def resolve_path(path: str | os.PathLike | None, default: str | os.PathLike, root: Path | None = None) -> Path:
    """``path`` (or ``default`` when None) made absolute: a relative path is taken from the repo root."""
    root = root or repo_root()
    p = Path(default if path is None else path).expanduser()
    return p if p.is_absolute() else (root / p).resolve()


def parse_seeds(seeds) -> tuple[int, ...] | None:
    """None, an int, a list/tuple of ints, or text ("0,1,2", "[0, 1]", "3") -> tuple of ints."""
    if seeds is None:
        return None
    if isinstance(seeds, str):
        text = seeds.strip()
        if not text:
            return None
        try:
            seeds = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            seeds = [s for s in text.replace(",", " ").split()]
    if isinstance(seeds, (int,)) and not isinstance(seeds, bool):
        seeds = [seeds]
    try:
        out = tuple(int(s) for s in seeds)
    except (TypeError, ValueError):
        raise ValueError(f"seeds must be an int or a list of ints, got {seeds!r}") from None
    if not out:
        raise ValueError("seeds must name at least one seed")
    return out


# --------------------------------------------------------------------------- loading a profile
def load_profile(
    profile: str = "ci",
    dataset: str | None = None,
    seeds=None,
    epochs: int | None = None,
    device: str | None = None,
    out_dir: str | os.PathLike | None = None,
    data_root: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    n_jobs: int | None = None,
    executor: str | None = None,
    address: str | None = None,
    on_bad: str | None = None,
    frames_root: str | os.PathLike | None = None,
    datasets=None,
    **changes,
) -> Profile:
    """The named profile with the notebook parameters applied (None keeps the profile's value).

    ``dataset`` puts the main pairing on that dataset (one of the profile's ``dataset_choices``): the
    profile's pairing on it, else its pairings' views on it when it has them, else the dataset's own
    views. ``seeds`` replaces every seed list of the profile (Tables 1-6 then all use these seeds).
    ``out_dir``, ``cache_dir``: default the profile's ``paths`` (``figures/`` for cpu, ``figures/<profile>/``
    otherwise; ``runs/<profile>/cache``); the cached features of the frozen extractors (kept across
    reproductions) go to ``runs/<profile>/features``; relative paths are taken from the repository root.
    ``data_root`` default: the environment variable ``AMID_DATA_ROOT``. ``on_bad`` and ``frames_root``: set on
    every dataset whose loader takes them (:attr:`~amidlib.data.datasets.base.Dataset.loader_parameters`;
    ``frames_root``: UCF51's clips from a folder of seekable copies of its videos,
    ``python -m amidlib.data.video.transcode``). ``datasets`` (a profile that reads paper datasets): the
    datasets to use, e.g. ``["ucf51"]`` with only UCF101 at hand; the tables' other columns and setups are
    left out and named in :meth:`Profile.describe`. ``changes``: anything else :meth:`Profile.replace`
    takes (``second_seeds=(0, 1)``, ``table3_folds=5``, ``execution={"checkpoint": True}``).
    """
    if profile not in PROFILES:
        raise ValueError(unknown_name_message("profile", profile, PROFILES))
    if "name" in changes:
        raise TypeError("a profile's name is not a setting: choose the profile by its name instead")
    base = PROFILES[profile]
    prof = base.replace(**changes)
    given = _given_names(changes)
    if dataset is not None:
        if dataset not in base.dataset_choices:
            raise ValueError(unknown_name_message(f"dataset for profile {profile}", dataset, base.dataset_choices))
        if "pairings" not in given:
            prof = prof.replace(pairings=_pairings_on(base.pairings, dataset))
    seeds = parse_seeds(seeds)
    if seeds is not None:
        prof = prof.replace(seeds=seeds, second_seeds=seeds, table6_seeds=seeds, regime_seeds=seeds, row_seeds={})
        if len(seeds) == 1 and "batch_seeds" not in given:
            prof = prof.replace(batch_seeds=False)  # one seed per configuration: nothing to batch
    if epochs is not None:
        epochs = int(epochs)
        if epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {epochs}")
        prof = prof.replace(epochs=epochs)
    if device is not None:
        prof = prof.replace(device=str(device))
    if n_jobs is not None:
        prof = prof.replace(n_jobs=max(1, int(n_jobs)))
    if executor is not None:
        if executor not in EXECUTORS:
            raise ValueError(unknown_name_message("executor", executor, EXECUTORS))
        prof = prof.replace(executor=executor)
    if address not in (None, ""):
        prof = prof.replace(address=str(address))
    if on_bad is not None:
        if on_bad not in ON_BAD:
            raise ValueError(unknown_name_message("on_bad", on_bad, ON_BAD))
        prof = _with_loader_parameter(prof, "on_bad", on_bad)
    if frames_root not in (None, ""):
        prof = _with_loader_parameter(prof, "frames_root", str(Path(frames_root).expanduser()))
    if datasets is not None:
        prof = prof.replace(**_only_datasets(prof, base, datasets))
    root = repo_root()
    data_root = data_root if data_root not in (None, "") else os.environ.get("AMID_DATA_ROOT") or None
    prof = prof.replace(paths=Paths(out_dir=resolve_path(out_dir, prof.paths.out_dir, root),
                                    cache_dir=resolve_path(cache_dir, prof.paths.cache_dir, root),
                                    feature_dir=resolve_path(None, prof.paths.feature_dir, root),
                                    data_root=Path(data_root).expanduser() if data_root else None))
    warmup = prof.config.overrides.get("warmup_epochs")
    if prof.epochs is not None and warmup is not None and warmup >= prof.epochs:
        # a user who asks for very few epochs still gets some distillation epochs
        prof = prof.replace(overrides={**prof.config.overrides, "warmup_epochs": max(0, prof.epochs // 3)})
    return prof


def _given_names(changes: Mapping[str, Any]) -> set[str]:
    """The top-level and short names ``changes`` sets (a record given whole or as a dict sets its values)."""
    out = set(changes)
    for name, value in changes.items():
        if name in _GROUPS:
            values = value if isinstance(value, Mapping) else {f.name: None for f in dataclasses.fields(value)}
            out |= {short for short, (group, key) in SHORT_NAMES.items() if group == name and key in values}
    return out


def _pairings_on(pairings: tuple[Pairing, ...], dataset: str) -> tuple[Pairing, ...]:
    """The pairings with their main one on ``dataset``: the profile's own pairing on it first; else the same
    views on ``dataset`` when it has them all; else the dataset's default views, as the main pairing alone."""
    if any(p.dataset == dataset for p in pairings):
        return tuple(sorted(pairings, key=lambda p: p.dataset != dataset))
    ds = registry.get(dataset)
    if all(view in ds.all_views for p in pairings for view in (*p.target, *p.auxiliary)):
        return tuple(dataclasses.replace(p, dataset=dataset) for p in pairings)
    target, auxiliary = ds.views
    return (Pairing(tuple(target), tuple(auxiliary), pairings[0].paper, dataset),)


def _with_loader_parameter(prof: Profile, name: str, value) -> Profile:
    """``prof`` with loader option ``name`` set on every registered dataset whose loader takes it (the
    ``on_bad`` and ``frames_root`` notebook parameters)."""
    options = {d: dict(s.options) for d, s in prof.config.datasets.items()}
    for ds in registry.all_datasets():
        if name in ds.loader_parameters:
            options[ds.name] = {**options.get(ds.name, {}), name: value}
    return prof.replace(data_options=options)


#: what leaving a paper dataset out of the ``datasets`` parameter leaves out of the reproduction (transition:
#: read by amidlib.paper.tables for its "Not reproduced" lines; its home is the paper layer, issue 21)
SKIPPED_WHAT = {"ucf51": "UCF51 (Tables 1-2's UCF51 column)", "activitynet": "ActivityNet (Tables 1-2's ActivityNet column)",
                "iemocap": "IEMOCAP (Table 3)"}
#: the tables a paper dataset has runs in, beside Tables 4-6 and the figures of the main dataset (transition, as above)
SKIPPED_TABLES = {"ucf51": ("table1", "table2"), "activitynet": ("table1", "table2"), "iemocap": ("table3",)}


def _only_datasets(prof: Profile, base: Profile, chosen) -> dict[str, Any]:
    """Profile changes for the ``datasets`` parameter: the pairings and cross-validated setups of those datasets only."""
    if isinstance(chosen, str):  # "ucf51", "ucf51,iemocap" or "['ucf51']"
        text = chosen.strip()
        chosen = ast.literal_eval(text) if text.startswith(("[", "(")) else text.replace(",", " ").split()
    chosen = [chosen] if isinstance(chosen, str) else [str(d) for d in chosen]
    optional = [d for d in base.datasets() if registry.get(d).paper]  # datasets a user may not have
    if not optional:
        raise ValueError(f"datasets={chosen!r} selects the paper datasets a profile reads; profile {base.name} has one "
                         "main dataset and no paper dataset to leave out (use the dataset parameter)")
    unknown = [d for d in chosen if d not in optional]
    if unknown or not chosen:
        raise ValueError(unknown_name_message("paper dataset", unknown[0] if unknown else "", optional))
    pairings = tuple(p for p in prof.pairings if p.dataset in chosen)
    if not pairings:
        paired = [d for d in optional if any(p.dataset == d for p in base.pairings)]
        raise ValueError(f"datasets={chosen}: Tables 1-2 and 4-6 need {' or '.join(paired)} among them")
    main = prof.main.dataset
    if main not in chosen:
        raise ValueError(f"datasets={chosen} leaves out {main}, the dataset of Tables 4-6 and the figures: add it, or "
                         f"set the dataset parameter to {pairings[0].dataset}")
    return {"pairings": pairings, "table3_setups": tuple(s for s in base.crossval.setups if s.dataset in chosen),
            "skipped": tuple(d for d in optional if d not in chosen)}


def check_requirements(prof: Profile, datasets=None) -> None:
    """Stop with a clear message when the profile cannot run here on ``datasets`` (the datasets a notebook
    reads; default: every dataset of the profile, :meth:`Profile.datasets`; ``()``: a notebook that reads none).

    A CUDA ``device`` needs a CUDA GPU (``device="cpu"`` runs the same pipelines on the CPU; the paper's, very
    slowly). A dataset read from the data root needs every file of its layout
    (:meth:`~amidlib.data.datasets.base.Dataset.missing_files`): the message lists every missing piece by
    path. The embedded datasets need nothing beyond the install (checked when loaded; the generated tier
    is written on first use).
    """
    import torch

    wanted = prof.datasets() if datasets is None else list(datasets)
    for name in wanted:
        registry.get(name)  # an unknown name is refused, with the valid ones
    no_gpu = str(prof.device).startswith("cuda") and not torch.cuda.is_available()
    from_root = [d for d in prof.datasets() if registry.get(d).paper]
    if not from_root:  # a profile on the embedded data: the device is all there is to check
        if no_gpu:
            raise RuntimeError(f"device {prof.device!r} asked for, but this machine has no CUDA GPU (torch "
                               f"{torch.__version__}: torch.cuda.is_available() is False); nothing was trained. "
                               f"Use device 'cpu' (the {prof.name} profile's default).")
        return
    if not wanted:  # a notebook of a data-root profile that reads no dataset
        return
    missing = []
    if no_gpu:
        missing.append("a CUDA GPU (torch.cuda.is_available() is False on this machine; -p device cpu runs the "
                       "paper pipelines on the CPU, very slowly)")
    for name in wanted:
        missing += registry.get(name).missing_files(prof.paths.data_root)  # each missing item, by path (or: no data root)
    missing = list(dict.fromkeys(missing))  # "no data root" once, not once per dataset
    if missing:
        present = [d for d in from_root if not registry.get(d).missing_files(prof.paths.data_root)]
        raise RuntimeError(
            f"profile '{prof.name}' ({', '.join(wanted)}) cannot run here; missing: " + "; ".join(missing)
            + ". " + (f"The data root has all that {', '.join(present)} need: -p datasets '{json.dumps(present)}' "
                     "reproduces what they allow (the other datasets' tables and columns are left out, and named); "
                     if present else "")
            + "--profile cpu reproduces every table and figure on the embedded data instead."
        )
