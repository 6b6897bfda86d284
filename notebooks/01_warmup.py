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
# # 01 · The warm-up stage
#
# For the first T_start epochs AMID trains only **L_cls + L_JSD** (paper §4.2): the student S and the teacher M
# share one classifier, and the JSD pulls their predictions together. This gives a first alignment of teacher
# and student *before* the MI and adversarial terms start, so the discriminators do not win at once on noisy,
# unrelated representations. Below: the cosine between teacher and student representations (same sample and
# same class, other sample) and both accuracies over the warm-up epochs and the first epochs after it.

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
fig, hist = figures.build_warmup(study, save_to=prof.out_dir / "warmup.png")

# %% [markdown]
# The grey band is the warm-up. A rising same-sample cosine inside it is the "preliminary alignment" the paper
# wants; after it, L_MI_s, L_MI_a and L_adv take over. The table compares the first epoch with the last warm-up
# epoch, for AMID (with warm-up) and for AMID *without* warm-up (all terms from epoch 1, Table 5).

# %%
import pandas as pd

warm = int((hist[(hist.row == "amid") & (hist.seed == hist.seed.min())].phase == "warmup").sum())
cols = ["test_cos_same_sample", "test_cos_same_class", "test_student_top1", "test_teacher_top1"]
at = hist[hist.epoch.isin([1, warm])].groupby(["row", "epoch"])[cols].mean().round(3)
display(at)

# %%
# checks: warm-up epochs train only L_cls + L_JSD, the values are real, both models learn
amid = hist[hist.row == "amid"]
assert warm >= 1 and (amid[amid.epoch <= warm].phase == "warmup").all()
if "loss_mi_s" in amid:
    assert amid[amid.phase == "warmup"]["loss_mi_s"].isna().all()
assert amid[["test_cos_same_sample", "test_cos_same_class"]].abs().le(1 + 1e-6).all().all()
last_warm = amid[amid.epoch == warm]
assert last_warm[["test_student_top1", "test_teacher_top1"]].stack().between(0, 100).all()
assert not strict or ((last_warm.test_student_top1 > 10 + 20).all() and (last_warm.test_teacher_top1 > 10 + 20).all())
assert (prof.out_dir / "warmup.png").stat().st_size > 10_000
