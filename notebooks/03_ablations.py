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
# # 03 · Ablations: Tables 4, 5, 6
#
# AMID is one method with switches (not new methods): L_MI_s alone (`use_mi_a=False, use_adv=False`),
# L_MI_s + L_MI_a (`use_adv=False`), AMID with CCL's L_nce (`mi_loss="nce"`), a fixed pre-trained teacher,
# no warm-up, no D2, uniform λ; and the weights α1, α2, α3 varied one at a time (Table 6). The AMID runs with
# default settings are the same runs as in Table 1 (taken from the run cache).

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
from IPython.display import Markdown, display

from amidlib.notebook import setup
from amidlib.paper import plans, tables

# the parameters above -> profile (printed), run cache, plot style; profile paper: checks its data first
prof, study, strict = setup(("table4", "table5", "table6"), globals())

# %%
cells = plans.plan_table4(prof) + plans.plan_table5(prof) + plans.plan_table6(prof)
study.ensure(c.spec for c in cells)

# %% [markdown]
# **Table 4**: which loss terms do what. The paper's story: L_MI_s alone helps the student but *weakens the
# teacher* (the shortcut of Fig 1); adding L_MI_a keeps the teacher strong; L_adv narrows the remaining gap.

# %%
t4 = tables.build_table(study, "table4")
display(Markdown(tables.to_markdown(t4)))

# %% [markdown]
# **Table 5**: the training modifications, one removed at a time.

# %%
t5 = tables.build_table(study, "table5")
display(Markdown(tables.to_markdown(t5)))

# %% [markdown]
# **Table 6**: sensitivity to α1 (L_MI_s), α2 (L_MI_a), α3 (L_adv); the others at (4, 1.6, 1). The n column
# says how many seeds each value had under this profile.

# %%
t6 = tables.build_table(study, "table6")
display(Markdown(tables.to_markdown(t6)))

# %% tags=["checks"]
# checks: every configuration row, both metrics where the paper has them, values beyond chance, files
assert list(dict.fromkeys(t4.row)) == [r for r, _, _ in plans.T4_ROWS]
assert set(t4[t4.row == "mi_s"].metric) == {"student_top1", "teacher_top1"}
assert list(dict.fromkeys(t5.row)) == [r for r, _, _ in plans.T5_ROWS]
assert len(t6) == sum(len(v) for v in prof.table6_grid.values())
for t in (t4, t5, t6):
    assert t["mean"].between(0, 100).all() and (not strict or (t["mean"] > 10 + 20).all()), t
    assert t["paper"].notna().sum() >= len(t) - 2  # the paper has a number for (almost) every cell
for name in ("table4", "table5", "table6"):
    assert (prof.out_dir / f"{name}.md").is_file() and (prof.out_dir / f"{name}.csv").is_file()
# the AMID default runs are shared: Table 5's AMID row equals Table 4's student number
assert abs(t5[t5.row == "amid"]["mean"].iloc[0] - t4[(t4.row == "amid") & (t4.metric == "student_top1")]["mean"].iloc[0]) < 1e-9
