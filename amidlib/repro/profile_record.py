"""The record of a profile: :class:`Profile`, its grouped records (:class:`RunConfig`, :class:`SeedSets`,
:class:`HoldoutSplit`, :class:`CrossValidation`, :class:`Sweeps`, :class:`Execution`, :class:`Paths`) and
:class:`Pairing`. The profiles themselves are data (:mod:`amidlib.repro.profile_values`); a notebook's
parameters become one with :func:`amidlib.repro.profile_loading.load_profile`. Overview: :mod:`amidlib.repro.profiles`.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from amidlib.core.config import unknown_name_message
from amidlib.data import datasets as registry

__all__ = ["Pairing", "Profile", "DatasetSettings", "RunConfig", "SeedSets", "HoldoutSplit", "CrossValidation",
           "Sweeps", "Execution", "Paths", "SHORT_NAMES", "PER_DATASET_NAMES", "EXECUTORS", "GROUPS"]

#: where a Study's runs execute: worker processes on this machine, or the tasks of a Ray cluster
#: (:mod:`amidlib.repro.executors`)
EXECUTORS = ("local", "ray")


def _title(dataset: str) -> str:
    found = registry.registered()
    return found[dataset].title if dataset in found else dataset


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
    # the pairings' runs: fewer seeds for these methods
    per_method: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    # more seeds for both arms of a comparison whose interval ends at the edge of 0 (amidlib.paper.edge)
    edge: tuple[int, ...] = ()


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

    grid: Mapping[str, tuple[float, ...]]   # hyperparameter -> values, each varied alone, others at default (Table 6)
    batch_sizes: tuple[int, ...] = ()       # the batch sizes swept (fig_regime; () : none)
    batch_pairings: tuple[Pairing, ...] = ()  # the pairings of the batch-size sweep (() : the main pairing only)
    # a pairing whose teacher–student gap is near the paper's, at the main pairing's batch regime: the claims are
    # decided on it too (amidlib.paper.sensitivity); None: none
    gap_pairing: Pairing | None = None


@dataclass(frozen=True)
class Execution:
    """Where and how the runs train."""

    n_jobs: int                             # worker processes (local) or CPUs of a private Ray instance
    executor: str = "local"                 # "local" (worker processes here) | "ray" (tasks of a Ray cluster)
    address: str | None = None              # the Ray cluster's address ("auto": the one this machine belongs to)
    checkpoint: bool = False                # save every run after each epoch (cache_dir/.checkpoints/<run>)
    keep_checkpoints: bool = False          # keep a finished run's checkpoint (default: deleted once
                                            # its record is cached)
    batch_seeds: bool = True                # train the seeds of one configuration as one batched model where possible
    final_eval_only: bool = True            # a run whose per-epoch curves no figure draws is evaluated once, after its
                                            # last epoch
    budget_s: float | None = None           # the wall-clock target of a whole reproduction


@dataclass(frozen=True)
class Paths:
    """The profile's folders. In :data:`PROFILES` relative to the repository root; :func:`load_profile`
    makes them absolute."""

    out_dir: Path | None = None             # tables and figures
    cache_dir: Path | None = None           # the run cache
    feature_dir: Path | None = None         # frozen extractors' features (and the generated tier), kept across runs
    data_root: Path | None = None           # the paper's datasets (amidlib.data.paper_root)


GROUPS = {"config": RunConfig, "seed_sets": SeedSets, "split": HoldoutSplit, "crossval": CrossValidation,
           "sweeps": Sweeps, "execution": Execution, "paths": Paths}

#: short names of the values inside the records: ``name -> (record, field)``. :meth:`Profile.replace` and
#: :func:`load_profile` take them as keywords (they are the flat names profiles had before the records).
SHORT_NAMES: dict[str, tuple[str, str]] = {
    "overrides": ("config", "overrides"), "method_overrides": ("config", "per_method"),
    "second_seeds": ("seed_sets", "second"), "table6_seeds": ("seed_sets", "sweep"),
    "regime_seeds": ("seed_sets", "regime"), "row_seeds": ("seed_sets", "per_method"),
    "edge_seeds": ("seed_sets", "edge"),
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

    def replace(self, **changes) -> Profile:
        """A copy with ``changes``: top-level values and whole records by name, a record as a dict of the
        values to change (``execution={"checkpoint": True}``), or a value by its short name
        (:data:`SHORT_NAMES`: ``checkpoint=True``; :data:`PER_DATASET_NAMES`: ``data_options={...}``)."""
        top: dict[str, Any] = {}
        inner: dict[str, dict[str, Any]] = {}
        per_dataset: dict[str, Mapping[str, Any]] = {}
        for name, value in changes.items():
            if name in GROUPS and isinstance(value, Mapping):
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
        """The preset of runs on ``dataset``: the profile's for that dataset (paper: ``paper_iemocap`` for IEMOCAP),
        else the dataset's own where its file binds it (``preset_binds``: the digit pairs' batch 16), else the
        profile's."""
        own = registry.get(dataset)
        return self.config.dataset(dataset).preset or (own.preset if own.preset_binds else self.preset)

    def options_for(self, dataset: str) -> dict[str, Any]:
        """The loader options of runs on ``dataset`` (without its location)."""
        return dict(self.config.dataset(dataset).options)

    def datasets(self) -> list[str]:
        """Every dataset the profile's runs read (its pairings', cross-validation's and sweeps'), in order of first
        use."""
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
        own = {d: self.preset_for(d) for d in sorted(used)}  # (a dataset at a preset of its own: said beside)
        others = [f"{d}: preset {p}, {PRESETS[p].get('epochs', BASE['epochs'])} epochs, batch "
                  f"{PRESETS[p].get('batch_size', BASE['batch_size'])}" for d, p in own.items()
                  if p != self.preset and p in PRESETS and self.epochs is None]
        ex = self.execution
        lines = [
            f"profile {self.name}: preset {self.preset}, {epochs} epochs, device {self.device}, "
            f"{ex.n_jobs} worker process(es)"
            + (f" ({'; '.join(others)})" if others else ""),
            f"  seeds {list(self.seeds)} (Tables 1, 2 main pairing, 4, 5, figures); "
            f"second pairing {list(self.seed_sets.second)}; "
            f"Table 6 {list(self.seed_sets.sweep)}; Table 3: {folds}"
            + (f" (first {cv.max_folds} trained)" if cv.max_folds else "")
            + (f"; a comparison at the edge also seeds {list(self.seed_sets.edge)}" if self.seed_sets.edge else ""),
            "  pairings: " + ", ".join(f"{p.key} on {p.dataset} (as {p.paper})" for p in self.pairings) + "; " + table3,
        ]
        if self.skipped:
            lines.append("  SKIPPED (not in the datasets parameter): " + ", ".join(self.skipped))
        if self.config.per_method:
            lines.append("  method overrides: "
                         + "; ".join(f"{m}: {dict(v)}" for m, v in self.config.per_method.items()))
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


_FIELDS = {f.name for f in dataclasses.fields(Profile)}
