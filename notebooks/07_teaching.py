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
# # 07 · Teaching: why a jointly trained teacher goes weak, and how AMID's terms stop it
#
# **For the classroom.** A small AMID on synthetic data trains in about half a second on a CPU, so a class can
# change a weight and see what happens. Three networks: the **teacher M** sees the target view *and* the auxiliary
# view, the **student S** sees the target view only, and **A** is the auxiliary view's own model. The data
# (`amidlib.data.arrays.make_synthetic`) has six classes in three pairs, 0–1, 2–3 and 4–5, that look alike in the
# target view and differ in the auxiliary view: the student cannot separate a pair, the teacher can.
#
# AMID trains all of them together with the loss (Eq 17)
#
# $$\mathcal{L} = \mathcal{L}_{cls} + \mathcal{L}_{JSD} + \alpha_1 \mathcal{L}_{MI_s} + \alpha_2 \mathcal{L}_{MI_a} + \alpha_3 \mathcal{L}_{adv}$$
#
# - $\mathcal{L}_{MI_s}$ (Eq 8) pulls M and S together (a lower bound on $I(M;S)$; weight α1),
# - $\mathcal{L}_{MI_a}$ (Eq 9) keeps M close to A (a lower bound on $I(M;A)$; weight α2),
# - $\mathcal{L}_{adv}$ (Eq 11–13) lets two discriminators push S towards M (weight α3),
# - τ is the temperature of the similarity $h(M_i, S_u) = \exp(\Phi(M_i,S_u)/\tau) / \sum_j \exp(\Phi(M_i,S_j)/\tau)$ (Eq 7).
#
# **The shortcut.** Because the teacher is trained *with* the student, $\mathcal{L}_{MI_s}$ can be lowered from
# either side: the student can learn what the teacher knows, or the teacher can forget what the student cannot see
# (here: the auxiliary view's separation of each pair). $\mathcal{L}_{MI_a}$ makes forgetting costly. This notebook
# measures that on the teaching data.

# %% tags=["parameters"]
# Parameters (papermill / `python -m amidlib.repro -p NAME VALUE`). The committed values are the CI-safe ones.
# 07 trains its own small runs: of the common parameters it uses `device`; the others are accepted for one command line.
profile = "ci"      # "ci" (seconds, smoke test) | "cpu" (every table and figure, ~10 min on 2 cores) | "paper" (GPU + data)
dataset = None      # None: the profile's; ci/cpu: "uci_pairs" (cpu) | "uci_mfeat" (ci) | "av_tier" (video clips); paper: main "ucf51" | "activitynet"
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
frames_root = None  # UCF51 clips from seekable copies (python -m amidlib.data.video.transcode); None: the AVIs
datasets = None     # paper profile: the datasets you have, e.g. ["ucf51"] (the others' tables left out); None: all
alpha1 = 4.0        # weight of L_MI_s  (Eq 17)
alpha2 = 1.6        # weight of L_MI_a
alpha3 = 1.0        # weight of L_adv
tau = 0.5           # temperature of Eq 7
use_mi_s = True     # switch per term of Eq 17
use_mi_a = True
use_adv = True
teach_epochs = 12   # epochs of each teaching run (12: about half a second on a CPU)
effect_seeds = [0, 1, 2, 3, 4, 5]  # the seeds over which the L_MI_a effect is measured and checked

# %%
import time

import matplotlib.pyplot as plt
import pandas as pd
from IPython.display import Markdown, display

from amidlib.notebook import setup
from amidlib.paper import teaching

# the parameters above -> profile (printed), run cache, plot style; profile paper: checks its data first
prof, study, strict = setup((), globals())
settings = dict(alpha1=alpha1, alpha2=alpha2, alpha3=alpha3, tau=tau, use_mi_s=use_mi_s, use_mi_a=use_mi_a, use_adv=use_adv)

# %% [markdown]
# ## One run
#
# The values of the parameters cell. Top: M, S and A of the test items in one 2-D PCA (fit on the three together),
# coloured by class, each model's test accuracy and its most confused class pair. Bottom: per epoch, the two
# accuracies, the two MI losses and the teacher − student gap (grey: the warm-up, $\mathcal{L}_{cls} + \mathcal{L}_{JSD}$ only).

# %%
out = teaching.teaching_run(**settings, epochs=teach_epochs, device=prof.device)
fig = teaching.plot_teaching(out)
plt.show()
s_conf = teaching.pair_confusion(out["y"], out["s_pred"]).set_index("pair")["confused_pct"]
m_conf = teaching.pair_confusion(out["y"], out["m_pred"]).set_index("pair")["confused_pct"]
pairs = [f"{a}–{b}" for a, b in teaching.CLASS_PAIRS]
worse = [p for p in pairs if s_conf[p] > m_conf[p]]
display(Markdown(
    f"**What you should see.** Trained in {out['seconds']:.1f} s. The teacher M reaches {out['teacher_top1']:.1f} % "
    f"and the student S {out['student_top1']:.1f} % (chance: 16.7 %). The student confuses the pairs "
    + ", ".join(f"{p} ({s_conf[p]:.0f} %)" for p in pairs) + "; the teacher "
    + ", ".join(f"{p} ({m_conf[p]:.0f} %)" for p in pairs)
    + f". The student confuses {len(worse)} of the 3 pairs more than the teacher does"
    + (": the auxiliary view is what separates them." if worse else ".")))

# %% [markdown]
# ## The shortcut, measured over seeds
#
# Three settings, each over the seeds of `effect_seeds`: **no pull** (α1 = 0: S learns from the labels and
# $\mathcal{L}_{JSD}$ only, so nothing rewards the teacher for resembling S), **$\mathcal{L}_{MI_a}$ off** (the pull on
# the teacher, with nothing to hold it to A) and **AMID** (all terms). The teacher's test accuracy is what to compare.

# %%
effect = teaching.seed_effect({"α1 = 0 (no pull)": dict(alpha1=0.0), "L_MI_a off": dict(use_mi_a=False), "AMID": {}},
                              seeds=effect_seeds, epochs=teach_epochs, device=prof.device)
wide = effect.pivot(index="seed", columns="setting", values="teacher_top1")[["α1 = 0 (no pull)", "L_MI_a off", "AMID"]]
display(wide.round(1).assign(**{"AMID − L_MI_a off": (wide["AMID"] - wide["L_MI_a off"]).round(1)}))
drop = wide["AMID"] - wide["L_MI_a off"]
ax = wide.plot(marker="o", figsize=(6.5, 3.2), color=["#999999", "#d55e00", "#009e73"])
ax.set(ylabel="teacher test top-1 (%)", title="the teacher per seed")
plt.show()
display(Markdown(
    f"**What you should see.** Mean teacher accuracy over {len(wide)} seeds: {wide['α1 = 0 (no pull)'].mean():.1f} % with "
    f"no pull, {wide['L_MI_a off'].mean():.1f} % with $\\mathcal{{L}}_{{MI_a}}$ off and {wide['AMID'].mean():.1f} % with "
    f"AMID. Switching $\\mathcal{{L}}_{{MI_a}}$ off lowers the teacher by {drop.mean():.1f} points on average "
    f"(lower on {int((drop > 0).sum())} of {len(drop)} seeds; range {drop.min():+.1f} to {drop.max():+.1f}): "
    + ("the pull on I(M;S) weakens the teacher and $\\mathcal{L}_{MI_a}$ holds most of it back."
       if drop.mean() > 0 and wide['α1 = 0 (no pull)'].mean() > wide['L_MI_a off'].mean()
       else "here the shortcut does not show; try more epochs or a larger α1.")))

# %% [markdown]
# ## Interactive: the instructor's panel
#
# Move a slider or tick a switch, press **train** (about half a second per run). The output shows the new run
# and pins the last three runs side by side: their per-epoch curves and a table. Try: α2 = 0 (the shortcut
# opens), α1 = 0 (no distillation pull), α3 = 0 (no discriminators), τ small or large. Needs a live kernel
# (JupyterLab); a headless run trains the defaults once.

# %%
# NBVAL_IGNORE_OUTPUT
panel = teaching.teaching_widget(settings, epochs=teach_epochs, device=prof.device)
display(panel)

# %% tags=["checks"]
# checks: shapes, the default run learns (6 classes: chance 16.7 %), it is fast, and the shortcut shows over seeds
n_test = len(out["y"])
assert out["m"].shape[0] == out["s"].shape[0] == out["a"].shape[0] == n_test
assert out["student_top1"] > 16.7 + 20 and out["teacher_top1"] > 16.7 + 40, out
assert len(panel.runs) == 1 and panel.runs[0]["teacher_top1"] == out["teacher_top1"]  # the panel trains the same run
assert effect.teacher_top1.gt(16.7 + 20).all() and effect.student_top1.gt(16.7 + 20).all()
# the statement of the shortcut section: L_MI_a off lowers the teacher by at least 2 points on average over the
# seeds, on most seeds, and the teacher with no pull is above the one with L_MI_a off
assert drop.mean() >= 2.0 and (drop > 0).sum() > len(drop) / 2, drop
assert wide["α1 = 0 (no pull)"].mean() > wide["L_MI_a off"].mean(), wide.mean()
