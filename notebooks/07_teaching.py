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
# # 07 · Teaching: why plain MI maximisation lets the teacher go weak, and how AMID's terms fix it
#
# A small AMID on synthetic data (`make_synthetic`: the auxiliary view separates classes the target view
# confuses) trains in seconds. Three representations: **M** (the teacher: target + auxiliary), **S** (the
# student: target only) and **A** (the auxiliary model). All three are drawn in one 2-D PCA, coloured by class.
# Change α1 (weight of L_MI_s), α2 (L_MI_a), α3 (L_adv), the temperature τ, and switch terms off.

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
alpha1 = 4.0        # weight of L_MI_s  (Eq 17)
alpha2 = 1.6        # weight of L_MI_a
alpha3 = 1.0        # weight of L_adv
tau = 0.5           # temperature of Eq 7
use_mi_s = True
use_mi_a = True
use_adv = True
teach_epochs = 12

# %%
from IPython.display import display

from amidlib.notebook import setup
from amidlib.paper import teaching

# the parameters above -> profile (printed), run cache, plot style; profile paper: checks its data first
prof, study, strict = setup((), globals())

# %% [markdown]
# One run with the values above. With every term on, S should come close to M, and M should keep the class
# structure A carries.

# %%
import time

import matplotlib.pyplot as plt

t0 = time.perf_counter()
out = teaching.teaching_run(alpha1=alpha1, alpha2=alpha2, alpha3=alpha3, tau=tau, use_mi_s=use_mi_s, use_mi_a=use_mi_a,
                         use_adv=use_adv, epochs=teach_epochs, device=prof.device)
print(f"trained in {time.perf_counter() - t0:.1f} s: student {out['student_top1']:.1f} %, teacher {out['teacher_top1']:.1f} %")
fig = teaching.plot_teaching(out)
plt.show()

# %% [markdown]
# The weak-teacher experiment of the paper's Fig 1 in miniature: L_MI_s alone (a large α1, no L_MI_a, no L_adv)
# against all three terms. Compare the teachers: the MI objective alone is as happy with a teacher that forgets
# what A knows.

# %%
import pandas as pd

runs = {
    "L_MI_s alone (α1 = 8)": dict(alpha1=8.0, use_mi_a=False, use_adv=False),
    "L_MI_s + L_MI_a": dict(use_adv=False),
    "AMID (all three)": dict(),
}
compare = pd.DataFrame([{"run": name, **{k: v for k, v in teaching.teaching_run(epochs=teach_epochs, device=prof.device, **kw).items()
                                         if k in ("student_top1", "teacher_top1", "cos_same_sample", "cos_same_class")}}
                        for name, kw in runs.items()]).set_index("run")
display(compare.round(3))

# %%
# checks: the default run learns (6 classes: chance 16.7 %), the representations have the right shapes
n_test = len(out["y"])
assert out["m"].shape[0] == out["s"].shape[0] == out["a"].shape[0] == n_test
assert out["student_top1"] > 16.7 + 20 and out["teacher_top1"] > 16.7 + 40
assert compare.teacher_top1.gt(16.7 + 20).all() and compare.student_top1.gt(16.7 + 20).all()

# %% [markdown]
# **Interactive.** Move the sliders, tick the terms, press *train* (a few seconds per run). Needs a live kernel
# (JupyterLab); headless runs skip it.

# %%
# NBVAL_IGNORE_OUTPUT
import ipywidgets as w

sliders = {
    "alpha1": w.FloatSlider(value=alpha1, min=0.0, max=8.0, step=0.1, description="α1 (L_MI_s)"),
    "alpha2": w.FloatSlider(value=alpha2, min=0.0, max=4.0, step=0.1, description="α2 (L_MI_a)"),
    "alpha3": w.FloatSlider(value=alpha3, min=0.0, max=3.0, step=0.1, description="α3 (L_adv)"),
    "tau": w.FloatSlider(value=tau, min=0.05, max=2.0, step=0.05, description="τ"),
}
boxes = {name: w.Checkbox(value=val, description=name) for name, val in
         (("use_mi_s", use_mi_s), ("use_mi_a", use_mi_a), ("use_adv", use_adv))}
button = w.Button(description="train", button_style="primary")
output = w.Output()


def retrain(_=None):
    with output:
        output.clear_output(wait=True)
        kw = {k: s.value for k, s in sliders.items()} | {k: b.value for k, b in boxes.items()}
        res = teaching.teaching_run(epochs=teach_epochs, device=prof.device, **kw)
        teaching.plot_teaching(res, title=", ".join(f"{k}={v}" for k, v in kw.items()))
        plt.show()


button.on_click(retrain)
display(w.VBox([w.HBox([w.VBox(list(sliders.values())), w.VBox(list(boxes.values()) + [button])]), output]))
