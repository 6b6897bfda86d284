"""Profiles: how big a reproduction is (``ci`` | ``cpu`` | ``paper``), and where its files go.

Every notebook starts with the same parameters (``profile``, ``dataset``, ``seeds``, ``epochs``,
``device``, ``out_dir``, ``data_root``, ``cache_dir``, ``n_jobs``) and turns them into a
:class:`Profile` with :func:`load_profile`::

    prof = load_profile("cpu", seeds=None, epochs=None)   # None = the profile's own value
    prof.pairings[0]          # Pairing('fou→fac', target=('fou',), auxiliary=('fac',), paper='UCF51')
    prof.out_dir, prof.cache_dir

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
"""
from __future__ import annotations

import ast
import json
import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from amidlib.core.config import unknown_name_message
from amidlib.data.splits import imbalanced_sizes

__all__ = [
    "Pairing",
    "Profile",
    "PROFILES",
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
EXECUTORS = ("local", "ray")
#: what the video loaders do with a missing, audio-less or undecodable file (None: the profile's choice)
ON_BAD = ("raise", "skip")

#: Datasets the ci/cpu profiles can use (the paper datasets: amidlib.data.paper_root.PAPER_DATASETS)
EMBEDDED_DATASETS = ("uci_pairs", "uci_mfeat", "av_tier")
#: what the paper profile's ``dataset`` parameter may choose: the main dataset (Tables 4-6, figures)
PAPER_MAIN_CHOICES = ("ucf51", "activitynet")
#: a line per dataset for table headers
DATASET_TITLES = {
    "uci_mfeat": "UCI Multiple Features",
    "uci_pairs": "UCI digit pairs (two digits side by side, 55 classes)",
    "av_tier": "generated audio-visual clips (amidlib.data.av_tier)",
    "ucf51": "UCF51 (UCF101 classes with audio, split 1)",
    "activitynet": "ActivityNet v1.3 (videos with audio)",
    "iemocap": "IEMOCAP (4 classes, leave-one-session-out)",
}
#: the generated tier of ``dataset="av_tier"``: make_av_clips arguments
AV_TIER = {"n_classes": 5, "per_class": 12, "test_per_class": 3, "seconds": 1.0, "fps": 16, "size": 48, "seed": 0}


@dataclass(frozen=True)
class Pairing:
    """A target → auxiliary choice of UCI Multiple Features views, and the paper column it stands for."""

    target: tuple[str, ...]
    auxiliary: tuple[str, ...]
    paper: str  # the paper's setting this column is the analogue of ("UCF51", "ActivityNet", "A-V", ...)
    dataset: str = "uci_mfeat"  # where the views come from (uci_mfeat, av_tier, ucf51, activitynet, iemocap)

    @property
    def key(self) -> str:
        """"fou→fac", "fou→fac+pix", "ucf51:video→audio": short, used in file and column names."""
        views = f"{'+'.join(self.target)}→{'+'.join(self.auxiliary)}"
        return views if self.dataset == "uci_mfeat" else f"{self.dataset}:{views}"

    @property
    def description(self) -> str:
        title = DATASET_TITLES.get(self.dataset, self.dataset)
        return f"{title}, target {'+'.join(self.target)}, auxiliary {'+'.join(self.auxiliary)}"


# Table 6 of the paper: each α varied alone, the others at (4, 1.6, 1)
PAPER_ALPHA_GRID: dict[str, tuple[float, ...]] = {
    "alpha1": (3.7, 3.8, 3.9, 4.0, 4.1, 4.2),
    "alpha2": (1.3, 1.4, 1.5, 1.6, 1.7, 1.8),
    "alpha3": (0.7, 0.8, 0.9, 1.0, 1.1, 1.2),
}


@dataclass(frozen=True)
class Profile:
    """Everything that sets the size of a reproduction. Build one with :func:`load_profile`."""

    name: str
    preset: str
    epochs: int | None                      # None: the preset's
    seeds: tuple[int, ...]                  # Tables 1, 2 (main pairing), 4, 5 and the figures
    second_seeds: tuple[int, ...]           # Tables 1, 2: the second pairing
    table6_seeds: tuple[int, ...]
    table3_folds: int                       # k of the stratified k-fold (IEMOCAP: 5 sessions)
    table3_fold_seed: int
    pairings: tuple[Pairing, Pairing]       # (main, second): Tables 1, 2; main: Tables 4-6, figures
    table3_target: tuple[str, ...]
    table3_setups: tuple[Pairing, ...]      # the auxiliary setups of Table 3 (A-V, L-V, AL-V)
    table6_grid: Mapping[str, tuple[float, ...]]
    n_jobs: int
    dataset: str = "uci_mfeat"
    device: str = "cpu"
    test_size: float = 0.8                  # as load_embedded: 400 train / 1,600 test digits
    split_seed: int = 0
    split_from_seed: bool = False           # each seed's runs on its own holdout split (split seed = run seed)
    table3_max_folds: int | None = None     # train only the first folds (ci); None = all k
    table3_class_sizes: tuple[int, ...] | None = None  # embedded Table 3: per-class sizes (IEMOCAP-like imbalance)
    overrides: Mapping[str, Any] = field(default_factory=dict)  # config overrides for every run
    dataset_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # per dataset (after overrides)
    dataset_presets: Mapping[str, str] = field(default_factory=dict)  # preset per dataset (default: preset)
    data_options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # per dataset: loader options
    method_overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # per method
    budget_s: float | None = None           # the wall-clock target of a whole reproduction
    checkpoint: bool = False                # save every run after each epoch (cache_dir/.checkpoints/<run>)
    keep_checkpoints: bool = False          # keep a finished run's checkpoint (default: deleted once its record is cached)
    batch_seeds: bool = True                # train the seeds of one configuration as one batched model where possible
    final_eval_only: bool = True            # a run whose per-epoch curves no figure draws is evaluated once, after its last epoch
    row_seeds: Mapping[str, tuple[int, ...]] = field(default_factory=dict)  # Tables 1/2: fewer seeds for these methods
    regime_batch_sizes: tuple[int, ...] = ()  # fig_regime: the batch sizes swept on the main pairing (() : none)
    regime_seeds: tuple[int, ...] = (0,)      # fig_regime: the seeds of each batch size
    regime_pairings: tuple[Pairing, ...] = ()  # fig_regime: the pairings swept (() : the main pairing only)
    out_dir: Path | None = None
    cache_dir: Path | None = None
    feature_dir: Path | None = None         # frozen extractors' features (and the generated tier), kept across runs
    data_root: Path | None = None
    executor: str = "local"                 # "local" (worker processes here) | "ray" (tasks of a Ray cluster)
    address: str | None = None              # the Ray cluster's address ("auto": the one this machine belongs to)
    on_bad: str | None = None               # video data: "raise" | "skip" bad files (None: the loader's default)
    skipped: tuple[str, ...] = ()           # paper datasets left out by the `datasets` parameter (named in describe)
    note: str = ""

    @property
    def main(self) -> Pairing:
        return self.pairings[0]

    def preset_for(self, dataset: str) -> str:
        """The preset of runs on ``dataset`` (paper: ``paper_iemocap`` for IEMOCAP)."""
        return self.dataset_presets.get(dataset, self.preset)

    def datasets(self, tables=None) -> list[str]:
        """The datasets ``tables`` (default: all six and the figures) read, in order of first use."""
        tables = set(("table1", "table2", "table3", "table4", "table5", "table6", "figures") if tables is None else tables)
        out = []
        if tables & {"table1", "table2"}:
            out += [p.dataset for p in self.pairings]
        if tables & {"table4", "table5", "table6", "figures"}:
            out.append(self.main.dataset)
        if "table3" in tables:
            out += [s.dataset for s in self.table3_setups]
        return list(dict.fromkeys(out))

    def run_overrides(self, method: str, dataset: str | None = None) -> dict[str, Any]:
        """Config overrides every run of ``method`` on ``dataset`` gets under this profile (epochs, device, ...)."""
        out = dict(self.overrides)
        out.update(self.dataset_overrides.get(dataset or self.main.dataset, {}))
        out.update(self.method_overrides.get(method, {}))
        if self.epochs is not None:
            out["epochs"] = self.epochs
        out["device"] = self.device
        return out

    def describe(self) -> str:
        """A few lines for the top of every notebook and table."""
        from amidlib.core.config import PRESETS

        from amidlib.core.config import BASE

        epochs = self.epochs if self.epochs is not None else PRESETS[self.preset].get("epochs", BASE["epochs"])
        t3 = self.table3_setups[0].dataset if self.table3_setups else ""
        folds = ("leave-one-session-out (5 folds)" if t3 == "iemocap" else f"{self.table3_folds} stratified folds")
        table3 = (f"Table 3 on {t3}: " + ", ".join(f"{s.paper} = {s.key}" for s in self.table3_setups)
                  if self.table3_setups else "no Table 3")
        others = [f"{d}: preset {p}, {PRESETS[p].get('epochs', BASE['epochs'])} epochs, batch "
                  f"{PRESETS[p].get('batch_size', BASE['batch_size'])}" for d, p in self.dataset_presets.items()
                  if d in self.datasets() and p in PRESETS and self.epochs is None]
        lines = [
            f"profile {self.name}: preset {self.preset}, {epochs} epochs, device {self.device}, {self.n_jobs} worker process(es)"
            + (f" ({'; '.join(others)})" if others else ""),
            f"  seeds {list(self.seeds)} (Tables 1, 2 main pairing, 4, 5, figures); second pairing {list(self.second_seeds)}; "
            f"Table 6 {list(self.table6_seeds)}; Table 3: {folds}"
            + (f" (first {self.table3_max_folds} trained)" if self.table3_max_folds else ""),
            "  pairings: " + ", ".join(f"{p.key} on {p.dataset} (as {p.paper})" for p in self.pairings) + "; " + table3,
        ]
        if self.skipped:
            lines.append("  SKIPPED (not in the datasets parameter): " + "; ".join(SKIPPED_WHAT[d] for d in self.skipped))
        if self.method_overrides:
            lines.append("  method overrides: " + "; ".join(f"{m}: {dict(v)}" for m, v in self.method_overrides.items()))
        if self.row_seeds:
            lines.append("  fewer seeds in Tables 1, 2 (cost; in no claim): "
                         + "; ".join(f"{m}: {list(v)}" for m, v in self.row_seeds.items()))
        if self.final_eval_only:
            lines.append("  runs whose per-epoch curves a figure draws are evaluated every epoch (eval_every of the "
                         "preset); the others once, after their last epoch (evaluation changes nothing in training)")
        if self.split_from_seed:
            lines.append("  each seed trains and tests on its own holdout split (split seed = run seed; the arms of a "
                         "comparison share it), so the seed intervals include the split's variance")
        if self.batch_seeds:
            lines.append("  the seeds of one configuration train as one batched model where the method allows it "
                         "(amidlib.core.batched: each seed its lone run up to float rounding)")
        if self.out_dir is not None:
            lines.append(f"  out_dir {self.out_dir}; run cache {self.cache_dir}")
        if self.note:
            lines.append(f"  note: {self.note}")
        return "\n".join(lines)


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

PROFILES: dict[str, Profile] = {
    "ci": Profile(
        name="ci", preset="tiny", epochs=8, seeds=(0,), second_seeds=(0,), table6_seeds=(0,),
        table3_folds=2, table3_fold_seed=0, pairings=(_MAIN, _SECOND), table3_target=_T3_TARGET,
        table3_setups=_T3_SETUPS,
        table6_grid={k: (v[0], v[-1]) for k, v in PAPER_ALPHA_GRID.items()},  # the end points only
        n_jobs=2, overrides={"warmup_epochs": 3}, table3_max_folds=1, table3_class_sizes=_T3_SIZES,
        regime_batch_sizes=(32, 64), regime_seeds=(0,),
        batch_seeds=False,  # one seed per configuration: nothing to batch
        # CI checks the plumbing, not the numbers: fewer negatives make CRD/CRCD ~5x cheaper
        method_overrides={"crd": {"crd_nce_k": 128}, "crcd": {"crcd_nce_k": 32}},
        budget_s=None,
        note="smoke-test scale: one seed, CRD/CRCD with fewer negatives; numbers are not a reproduction",
    ),
    "cpu": Profile(
        # Tables 1, 2, 4-6 and the figures on the digit pairs at batch 16 (the paper's batch regime; preset
        # embedded_pairs), Table 3 on the 10 digits (IEMOCAP's 4 classes at batch 128 are not a few-positives regime);
        # 10 seeds for every comparison a claim rests on (seeds train batched), 3 for Table 6 and for CRD / CRCD
        # (sampled negatives: they cannot train batched; in no claim), both folds of Table 3; fig_regime sweeps
        # batch 16 and 64 on both proxies: from the paper's ≈ 1.3 positives per anchor to the 10 digits' ≈ 7
        name="cpu", preset="embedded", epochs=None, seeds=tuple(range(10)), second_seeds=tuple(range(10)),
        dataset="uci_pairs", dataset_presets={"uci_pairs": "embedded_pairs"},
        table6_seeds=(0, 1, 2), table3_folds=2, table3_fold_seed=0, pairings=(_MAIN_PAIRS, _SECOND_PAIRS),
        table3_target=_T3_TARGET,
        table3_setups=_T3_SETUPS, table6_grid=dict(PAPER_ALPHA_GRID), n_jobs=2,
        overrides={}, table3_max_folds=None, table3_class_sizes=_T3_SIZES,
        method_overrides={"crd": {"crd_nce_k": 256}, "crcd": {"crcd_nce_k": 64}},
        row_seeds={"crd": (0, 1, 2), "crcd": (0, 1, 2)},
        regime_batch_sizes=(16, 64), regime_seeds=tuple(range(5)), regime_pairings=(_MAIN_PAIRS, _MAIN),
        # the holdout split drawn from each seed (the arms of a comparison share it): intervals include split variance
        split_from_seed=True,
        budget_s=600,
    ),
    "paper": Profile(
        name="paper", preset="paper_video", epochs=None, seeds=(0, 1, 2), second_seeds=(0, 1, 2),
        table6_seeds=(0, 1, 2), table3_folds=5, table3_fold_seed=0,
        pairings=(Pairing(("video",), ("audio",), "UCF51", "ucf51"),
                  Pairing(("video",), ("audio",), "ActivityNet", "activitynet")),
        table3_target=("visual_frames",),
        table3_setups=(Pairing(("visual_frames",), ("audio",), "A-V", "iemocap"),
                       Pairing(("visual_frames",), ("text",), "L-V", "iemocap"),
                       Pairing(("visual_frames",), ("audio", "text"), "AL-V", "iemocap")),
        table6_grid=dict(PAPER_ALPHA_GRID), n_jobs=1, dataset="ucf51", device="cuda",
        dataset_presets={"iemocap": "paper_iemocap"}, checkpoint=True,
        # any real copy of ActivityNet lacks some YouTube videos and has some without audio: left out, each
        # listed in the run's record and the table header ("used N of M videos"); on_bad="raise" stops instead
        data_options={"activitynet": {"on_bad": "skip"}},
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


# --------------------------------------------------------------------------- profiles
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

    ``seeds`` replaces every seed list of the profile (Tables 1-6 then all use these seeds).
    ``out_dir`` default: ``figures/`` for cpu, ``figures/<profile>/`` otherwise; ``cache_dir``
    default ``runs/<profile>/cache``; ``feature_dir`` (cached features of the frozen extractors, kept
    across reproductions) default ``runs/<profile>/features``; relative paths are taken from the repository root.
    ``data_root`` default: the environment variable ``AMID_DATA_ROOT``. ``frames_root``: UCF51's clips from
    a folder of seekable copies of its videos (``python -m amidlib.data.video.transcode``). ``datasets`` (paper
    profile): the datasets to use, e.g. ``["ucf51"]`` with only UCF101 at hand; the tables' other columns and
    setups are left out and named in :meth:`Profile.describe`. Any other field of
    :class:`Profile` can be changed by name (``second_seeds=(0, 1)``, ``table3_folds=5``).
    """
    if profile not in PROFILES:
        raise ValueError(unknown_name_message("profile", profile, PROFILES))
    base = PROFILES[profile]
    fields = {f.name for f in dataclasses.fields(Profile)}
    bad = [k for k in changes if k not in fields or k == "name"]
    if bad:
        raise TypeError(unknown_name_message("profile field", bad[0], fields - {"name"}))
    upd: dict[str, Any] = dict(changes)
    if dataset is not None:
        valid = PAPER_MAIN_CHOICES if profile == "paper" else EMBEDDED_DATASETS
        if dataset not in valid:
            raise ValueError(unknown_name_message(f"dataset for profile {profile}", dataset, valid))
        upd["dataset"] = dataset
        if profile == "paper" and dataset != base.main.dataset:  # the chosen dataset becomes the main pairing
            upd.setdefault("pairings", tuple(sorted(base.pairings, key=lambda p: p.dataset != dataset)))
        if dataset == "av_tier" and "pairings" not in changes:
            upd.update(_av_tier_changes(base))
        if dataset in ("uci_pairs", "uci_mfeat") and dataset != base.main.dataset and "pairings" not in changes:
            upd.update(_array_changes(base, dataset))
    seeds = parse_seeds(seeds)
    if seeds is not None:
        upd.update(seeds=seeds, second_seeds=seeds, table6_seeds=seeds, regime_seeds=seeds, row_seeds={})
        if len(seeds) == 1:
            upd.setdefault("batch_seeds", False)  # one seed per configuration: nothing to batch
    if epochs is not None:
        epochs = int(epochs)
        if epochs < 1:
            raise ValueError(f"epochs must be >= 1, got {epochs}")
        upd["epochs"] = epochs
    if device is not None:
        upd["device"] = str(device)
    if n_jobs is not None:
        upd["n_jobs"] = max(1, int(n_jobs))
    if executor is not None:
        if executor not in EXECUTORS:
            raise ValueError(unknown_name_message("executor", executor, EXECUTORS))
        upd["executor"] = executor
    if address not in (None, ""):
        upd["address"] = str(address)
    if on_bad is not None:
        if on_bad not in ON_BAD:
            raise ValueError(unknown_name_message("on_bad", on_bad, ON_BAD))
        upd["on_bad"] = on_bad
        upd["data_options"] = with_on_bad(upd.get("data_options", base.data_options), on_bad)
    if frames_root not in (None, ""):
        options = {k: dict(v) for k, v in upd.get("data_options", base.data_options).items()}
        options["ucf51"] = {**options.get("ucf51", {}), "frames_root": str(Path(frames_root).expanduser())}
        upd["data_options"] = options
    if datasets is not None:
        upd.update(_only_datasets(base, upd, profile, datasets))
    root = repo_root()
    default_out = "figures" if profile == "cpu" else f"figures/{profile}"
    upd["out_dir"] = resolve_path(out_dir, default_out, root)
    upd["cache_dir"] = resolve_path(cache_dir, f"runs/{profile}/cache", root)
    upd["feature_dir"] = resolve_path(changes.get("feature_dir"), f"runs/{profile}/features", root)
    data_root = data_root if data_root not in (None, "") else os.environ.get("AMID_DATA_ROOT") or None
    upd["data_root"] = Path(data_root).expanduser() if data_root else None
    prof = dataclasses.replace(base, **upd)
    if prof.epochs is not None and "warmup_epochs" in prof.overrides and prof.overrides["warmup_epochs"] >= prof.epochs:
        # a user who asks for very few epochs still gets some distillation epochs
        prof = dataclasses.replace(prof, overrides={**prof.overrides, "warmup_epochs": max(0, prof.epochs // 3)})
    return prof


#: what leaving a paper dataset out of the ``datasets`` parameter leaves out of the reproduction
SKIPPED_WHAT = {"ucf51": "UCF51 (Tables 1-2's UCF51 column)", "activitynet": "ActivityNet (Tables 1-2's ActivityNet column)",
                "iemocap": "IEMOCAP (Table 3)"}
#: the tables a paper dataset has runs in, beside Tables 4-6 and the figures of the main dataset
SKIPPED_TABLES = {"ucf51": ("table1", "table2"), "activitynet": ("table1", "table2"), "iemocap": ("table3",)}


def _only_datasets(base: Profile, upd: dict, profile: str, datasets) -> dict[str, Any]:
    """Profile changes for the ``datasets`` parameter: the pairings and Table 3 setups of those datasets only."""
    if isinstance(datasets, str):  # "ucf51", "ucf51,iemocap" or "['ucf51']"
        text = datasets.strip()
        datasets = ast.literal_eval(text) if text.startswith(("[", "(")) else text.replace(",", " ").split()
    chosen = [datasets] if isinstance(datasets, str) else [str(d) for d in datasets]
    if profile != "paper":
        raise ValueError(f"datasets={chosen!r} selects the paper profile's datasets; profile {profile} has one "
                         "(use the dataset parameter)")
    unknown = [d for d in chosen if d not in SKIPPED_WHAT]
    if unknown or not chosen:
        raise ValueError(unknown_name_message("paper dataset", unknown[0] if unknown else "", SKIPPED_WHAT))
    pairings = tuple(p for p in upd.get("pairings", base.pairings) if p.dataset in chosen)
    if not pairings:
        raise ValueError(f"datasets={chosen}: Tables 1-2 and 4-6 need ucf51 or activitynet among them")
    main = upd.get("dataset", base.dataset)
    if main not in chosen:
        raise ValueError(f"datasets={chosen} leaves out {main}, the dataset of Tables 4-6 and the figures: add it, or "
                         f"set the dataset parameter to {pairings[0].dataset}")
    return {"pairings": pairings, "table3_setups": tuple(s for s in base.table3_setups if s.dataset in chosen),
            "skipped": tuple(d for d in SKIPPED_WHAT if d not in chosen)}


#: the datasets whose loaders take ``on_bad`` (the generated tier has no bad files)
ON_BAD_DATASETS = ("ucf51", "activitynet", "iemocap")


def with_on_bad(data_options: Mapping[str, Mapping[str, Any]], on_bad: str) -> dict[str, dict[str, Any]]:
    """``data_options`` with ``on_bad`` set for every paper dataset (the ``on_bad`` notebook parameter)."""
    out = {k: dict(v) for k, v in data_options.items()}
    for dataset in ON_BAD_DATASETS:
        out[dataset] = {**out.get(dataset, {}), "on_bad": on_bad}
    return out


def _array_changes(base: Profile, dataset: str) -> dict[str, Any]:
    """Profile changes for ``dataset="uci_mfeat"`` or ``"uci_pairs"``: the same views on the other embedded
    dataset for Tables 1, 2, 4-6 and the figures (its preset: ``embedded_pairs`` for the pairs)."""
    pairings = tuple(dataclasses.replace(p, dataset=dataset) for p in base.pairings)
    presets = {**base.dataset_presets, "uci_pairs": base.dataset_presets.get("uci_pairs", "embedded_pairs")}
    return {"pairings": pairings, "dataset_presets": presets}


def _av_tier_changes(base: Profile) -> dict[str, Any]:
    """Profile changes for ``dataset="av_tier"``: one video pairing (the generated clips: video target,
    audio auxiliary) for Tables 1, 2, 4-6 and the figures; a small 3D-CNN student. Table 3 stays on UCI."""
    pairing = Pairing(("video",), ("audio",), "UCF51", "av_tier")
    # a 3D-CNN from scratch on 45 clips: a higher learning rate than the MLP presets (measured: baseline
    # top-1 40 % at 15 epochs with 3e-3 vs 20 % = chance with 1e-3; 47 % at 30 epochs with 1e-3)
    video = {"video_student": "tiny3d", "dim": 64, "hidden": 64, "d_hidden": 32, "batch_size": 8, "eval_batch_size": 8,
             "lr": 3e-3}
    return {"pairings": (pairing,), "dataset_overrides": {**base.dataset_overrides, "av_tier": video},
            "data_options": {**base.data_options, "av_tier": dict(AV_TIER)}}


def check_requirements(prof: Profile, tables=None) -> None:
    """Stop with a clear message when the profile cannot run ``tables`` (default: all) here.

    ``paper`` needs a CUDA GPU when its device is ``cuda`` (the default; ``device="cpu"`` runs the
    same pipelines on the CPU, very slowly) and, for each dataset the tables read, every file of
    the data-root layout (:func:`amidlib.data.paper_root.missing_paper_files`): the message lists every
    missing piece by path. ``ci`` / ``cpu`` need nothing beyond the install (the embedded data are
    checked when loaded; the generated tier is written on first use).
    """
    import torch

    if prof.name != "paper" and str(prof.device).startswith("cuda") and not torch.cuda.is_available():
        raise RuntimeError(f"device {prof.device!r} asked for, but this machine has no CUDA GPU (torch "
                           f"{torch.__version__}: torch.cuda.is_available() is False); nothing was trained. "
                           f"Use device 'cpu' (the {prof.name} profile's default).")
    if prof.name != "paper" or (tables is not None and not tables):  # () : a notebook that reads no dataset
        return

    from amidlib.data.paper_root import missing_paper_files

    missing = []
    if str(prof.device).startswith("cuda") and not torch.cuda.is_available():
        missing.append("a CUDA GPU (torch.cuda.is_available() is False on this machine; -p device cpu runs the "
                       "paper pipelines on the CPU, very slowly)")
    for dataset in prof.datasets(tables):
        missing += missing_paper_files(dataset, prof.data_root)  # each missing item, by path (or: no data root)
    missing = list(dict.fromkeys(missing))  # "no data root" once, not once per dataset
    if missing:
        present = [d for d in SKIPPED_WHAT if d in prof.datasets() and not missing_paper_files(d, prof.data_root)]
        raise RuntimeError(
            f"profile 'paper' ({', '.join(prof.datasets(tables))}) cannot run here; missing: " + "; ".join(missing)
            + ". " + (f"The data root has all that {', '.join(present)} need: -p datasets '{json.dumps(present)}' "
                     "reproduces what they allow (the other datasets' tables and columns are left out, and named); "
                     if present else "")
            + "--profile cpu reproduces every table and figure on the embedded data instead."
        )
