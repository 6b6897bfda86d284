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
# # 04 · Per-class accuracy: AMID vs CCL (Fig 3)
#
# The paper finds AMID better than CCL on most classes and no better where the auxiliary modality says little
# about the class. Here: the student's test top-1 per digit on the main pairing (the runs of Table 1).

# %% tags=["parameters"]
# Parameters (papermill / `python -m amidlib.repro -p NAME VALUE`). The committed values are the CI-safe ones.
profile = "ci"      # "ci" (seconds, smoke test) | "cpu" (every table and figure, ~10 min on 2 cores) | "paper" (GPU + data)
dataset = None      # None: the profile's; ci/cpu: "uci_mfeat" | "av_tier" (generated video clips); paper: main "ucf51" | "activitynet"
seeds = None        # None: the profile's seeds; e.g. [0, 1, 2] replaces every seed list
epochs = None       # None: the profile's number of epochs
device = None       # None: the profile's ("cpu"; paper: "cuda")
out_dir = None      # None: figures/ (cpu) or figures/<profile>/ (ci, paper); relative paths start at the repo root
data_root = None    # paper profile: the data root laid out as amidlib.data.paper_root says (or env AMID_DATA_ROOT)
cache_dir = None    # None: runs/<profile>/cache (python -m amidlib.repro uses a fresh one per reproduction)
n_jobs = None       # None: the profile's number of worker processes
executor = "local"  # "local": worker processes here | "ray": tasks on a Ray cluster (see address)
address = None      # executor "ray": the cluster's address ("auto": the cluster this machine belongs to)
on_bad = None       # video data: "skip" or "raise" on a missing / audio-less / undecodable file (None: the profile's)

# %%
from IPython.display import display

from amidlib.notebook import setup
from amidlib.paper import figures

# the parameters above -> profile (printed), run cache, plot style; profile paper: checks its data first
prof, study, strict = setup(("figures",), globals())

# %%
fig, per_class = figures.build_fig3(study)

# %% [markdown]
# The same numbers as a table (mean over seeds), with AMID − CCL per class: positive where AMID is better. Digits
# whose auxiliary view (here: profile correlations) separates them from their look-alikes are where distillation
# has the most to give.

# %%
wide = per_class.groupby(["class_name", "row"])["top1"].mean().unstack()
wide["AMID − CCL"] = wide["amid"] - wide["ccl"]
display(wide.round(1))
print(f"AMID better on {(wide['AMID − CCL'] > 0).sum()} of {len(wide)} classes, worse on {(wide['AMID − CCL'] < 0).sum()}")

# %% tags=["checks"]
# checks: every class x 2 methods x seeds, accuracies in [0, 100], the figure and its data written
n_classes = per_class.class_name.nunique()
assert set(per_class.row) == {"amid", "ccl"} and (n_classes == 10 or not strict)
assert len(per_class) == 2 * n_classes * len(prof.seeds)
assert per_class.top1.between(0, 100).all() and (not strict or per_class.top1.mean() > 10 + 30)
assert (prof.out_dir / "fig3.png").stat().st_size > 10_000 and (prof.out_dir / "fig3.csv").is_file()
