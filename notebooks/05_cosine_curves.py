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
# # 05 · Curves: the Fig 1 diagnostic, the accuracy gap (Fig 4) and within-class cosines (Fig 5)
#
# Three views of the training histories (every epoch, test and train), all from the runs of Tables 4 and 5.

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

# %% [markdown]
# **Fig 1, made measurable.** The weak-teacher shortcut: maximising I(M;S) alone can be done by making the
# teacher weaker. Per epoch: the teacher's test accuracy, and the MI losses. The bound on I(M;S) is
# log(N/k) − L_MI_s in spirit, so **a lower loss means a higher bound**. L_MI_a is logged even when it is not
# trained (L_MI_s alone): watch whether I(M;A) falls while I(M;S) rises.

# %%
fig1, diag = figures.build_fig1(study)

# %% [markdown]
# **Fig 4.** The teacher − student test accuracy gap for L_MI_s + L_MI_a and for AMID (which adds L_adv to
# minimise H(M|S)). The paper: AMID's gap is consistently smaller.

# %%
fig4, gap = figures.build_fig4(study)

# %% [markdown]
# **Fig 5.** The mean cosine between the teacher's and the student's representations of *different samples of the
# same class*, Φ(M_v, S_j), j ≠ v, on train (left) and test (right). The paper: AMID > w/o D2 > w/o L_adv.

# %%
fig5, cos = figures.build_fig5(study)

# %%
import pandas as pd

summary = figures.fig_summary(gap, ["test_gap"], "fig4")
summary = pd.concat([summary, figures.fig_summary(cos, ["train_cos_same_class", "test_cos_same_class"], "fig5")])
display(summary[["table", "row", "metric", "mean", "std", "n"]].round(3))

# %% tags=["checks"]
# checks: every run has every epoch, values in range, figures and their data written
n_epochs = diag.epoch.max()
assert set(diag.row) == {"mi_s", "mi_s+mi_a", "amid"} and len(diag) == 3 * len(prof.seeds) * n_epochs
assert diag[["mi_s_value", "mi_a_value"]].notna().all().all() and (diag[["mi_s_value", "mi_a_value"]] > 0).all().all()
assert diag.test_teacher_top1.between(0, 100).all()
assert set(gap.row) == {"mi_s+mi_a", "amid"} and gap.test_gap.between(-100, 100).all()
assert set(cos.row) == {"amid", "no_d2", "mi_s+mi_a"}
assert cos[["train_cos_same_class", "test_cos_same_class"]].abs().le(1 + 1e-6).all().all()
for name in ("fig1_diagnostic", "fig4", "fig5"):
    assert (prof.out_dir / f"{name}.png").stat().st_size > 10_000 and (prof.out_dir / f"{name}.csv").is_file()
