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
# **A one-hour lesson.** A small AMID on synthetic data trains in seconds on a CPU (each run's time is measured
# and printed below), so a class can predict what a loss term does, run it, and compare. Three networks: the
# **teacher M** sees the target view *and* the auxiliary view, the **student S** sees the target view only, and
# **A** is the auxiliary view's own model. The data (`amidlib.data.arrays.make_synthetic`) has six classes in three
# pairs, 0–1, 2–3 and 4–5, that look alike in the target view and differ in the auxiliary view: the student cannot
# separate a pair, the teacher can.
#
# ## Learning objectives
#
# By the end of the hour you can
#
# 1. point to M, S and A on the architecture (the paper's Fig 2), say which view each one sees, and trace every
#    term of the loss (Eq 17) to the models it moves;
# 2. explain the *shortcut* of the paper's Fig 1(a): why pulling a jointly trained teacher towards its student
#    ($\mathcal{L}_{MI_s}$) can make the teacher forget, and how $\mathcal{L}_{MI_a}$ (Fig 1(b)) makes forgetting
#    costly;
# 3. measure an effect over seeds with a paired 95 % interval, and tell it from the spread between seeds;
# 4. read the reproduction's Fig 1 diagnostic and Table 4, and say which of the paper's orderings they repeat.
#
# ## Timing plan (60 minutes)
#
# | minutes | part | what the class does |
# |:--|:--|:--|
# | 0–5 | objectives; the shortcut in words (below) | read; everyone writes down a guess for Question 2 |
# | 5–15 | the architecture (Fig 2) and the terms of Eq 17 | trace each term on the drawing, name what it moves |
# | 15–22 | one run | Question 1: predict, run, compare |
# | 22–35 | Table 4's rows over seeds | Questions 2 and 3 |
# | 35–42 | one seed or several; the MI losses | Questions 4 and 5 |
# | 42–52 | the instructor's panel | Question 6, then free exploration in pairs |
# | 52–60 | wrap-up: the reproduction's Fig 1 and Table 4 | compare the three sources; exit question |
#
# Each question is asked *before* its code cell runs: write the prediction down, run the cell, then open the
# solution. The solutions say what to look for; the measured outcome is printed under each cell. Run the whole
# notebook once before class (Run → Run All Cells): it trains every model it shows.
#
# ## The shortcut in words (the paper's Fig 1)
#
# AMID trains all three networks together with the loss (Eq 17)
#
# $$\mathcal{L} = \mathcal{L}_{cls} + \mathcal{L}_{JSD} + \alpha_1 \mathcal{L}_{MI_s}
#   + \alpha_2 \mathcal{L}_{MI_a} + \alpha_3 \mathcal{L}_{adv}$$
#
# - $\mathcal{L}_{MI_s}$ (Eq 8) pulls M and S together (a lower bound on $I(M;S)$; weight α1),
# - $\mathcal{L}_{MI_a}$ (Eq 9) keeps M close to A (a lower bound on $I(M;A)$; weight α2),
# - $\mathcal{L}_{adv}$ (Eq 11–13) lets two discriminators push S towards M (weight α3),
# - τ is the temperature of the similarity $h$ of Eq 7.
#
# **The shortcut.** Because the teacher is trained *with* the student, $\mathcal{L}_{MI_s}$ can be lowered from
# either side: the student can learn what the teacher knows, or the teacher can forget what the student cannot see
# (here: the auxiliary view's separation of each pair). That is Fig 1(a). $\mathcal{L}_{MI_a}$ makes forgetting
# costly: a teacher that drops the auxiliary view's information loses $I(M;A)$ (Fig 1(b)). This notebook measures both.

# %% tags=["parameters"]
# Parameters (papermill / `python -m amidlib.repro -p NAME VALUE`). The committed values are the CI-safe ones.
# 07 trains its own small runs: of the common parameters it reads the profile's device; the others are accepted
# so that one command line serves every notebook (notebooks/01_warmup.py says what each one does).
profile = "ci"      # "ci" (seconds, smoke test) | "cpu" | "paper"
mode = "explore"    # "explore" (opened by hand) | "train" | "run" (make reproduce): 07 trains its own small runs in
                    # every mode and writes nothing into figures/
device = None       # None: the profile's ("cpu"; paper: "cuda")
dataset = None      # not used here; the other common parameters follow
seeds = None
epochs = None
out_dir = None
data_root = None
cache_dir = None
n_jobs = None
executor = "local"
address = None
on_bad = None
frames_root = None
datasets = None
alpha1 = 4.0        # weight of L_MI_s  (Eq 17)
alpha2 = 1.6        # weight of L_MI_a
alpha3 = 1.0        # weight of L_adv
tau = 0.5           # temperature of Eq 7
use_mi_s = True     # switch per term of Eq 17
use_mi_a = True
use_adv = True
teach_epochs = 20   # epochs of each teaching run (3 of them warm-up)
effect_seeds = [0, 1, 2, 3, 4, 5]  # the seeds of the Table 4 rows (Questions 2 to 5)
panel_seeds = 5     # seeds per press of the panel's train button at start: 1 or 5

# %%
import numpy as np
import pandas as pd
from IPython.display import HTML, Image, Markdown, display

from amidlib.core import losses
from amidlib.data import manifests
from amidlib.notebook import setup
from amidlib.paper import names, teaching
from amidlib.repro.profiles import repo_root

# the parameters above -> profile (printed), run cache, plot style; profile paper: checks its data first
prof, study, strict = setup((), globals())
settings = dict(alpha1=alpha1, alpha2=alpha2, alpha3=alpha3, tau=tau,
                use_mi_s=use_mi_s, use_mi_a=use_mi_a, use_adv=use_adv)

# %% [markdown]
# ## The architecture (the paper's Fig 2)
#
# Trace it from left to right. The target view goes through the target extractor (trained) to **S**. The auxiliary
# view goes through the auxiliary extractor (pre-trained and frozen, §4.2; on this data it passes the features as they
# are) to **A**. **M** is a head over both extractors' features. One classifier C is shared by S and M:
# $\mathcal{L}_{cls}$ (Eq 15) trains both on the labels and $\mathcal{L}_{JSD}$ (Eq 16) pulls their predicted class
# distributions together. The MI terms compare representations in a batch through the similarity of Eq 7,
#
# $$h(M_i, S_u) = \frac{\exp(\Phi(M_i,S_u)/\tau)}{\sum_{j=1}^{N+k} \exp(\Phi(M_i,S_j)/\tau)},$$
#
# with Φ the cosine similarity. For each $M_i$, the $k$ items of its class are positives and the $N$ others negatives:
#
# $$\mathcal{L}_{MI_s} = -\frac{1}{N+k} \sum_{i=1}^{N+k} \Big( \sum_{j=0}^{k-1} \log h(M_i, S_i^{\eta_j})
#   + \sum_{l=1}^N \log \big(1 - h(M_i, S_i^{\xi_l})\big) \Big) \quad \text{(Eq 8)},$$
#
# and $\mathcal{L}_{MI_a}$ (Eq 9) is the same with A in place of S. The discriminators $D_1$ (every sample) and $D_2$
# (samples whose class has another sample in the batch) learn to tell M ("real") from S by Eq 13; the student
# minimises
#
# $$\mathcal{L}_{adv} = -\frac{\lambda_1}{N+k} \sum_{i=1}^{N+k} \log D_1(S_i^{\eta_0})
#   - \frac{\lambda_2}{d} \sum_{v=1}^{w} \log D_2(S_v^{\eta_1}) \quad \text{(Eq 12)},$$
#
# with $\lambda = \mathrm{softmax}(\hat\lambda)$ and $\hat\lambda$ a moving average, per epoch, of $1 - $ the cosine
# of M and S (Eq 14): over the same sample for $\lambda_1$, over two samples of one class for $\lambda_2$. The worse
# aligned of the two gets the larger weight.

# %%
arch = teaching.plot_architecture()
teaching.show(arch)
# each term beside the function that computes it (amidlib.core.losses) and what its gradient reaches
terms = pd.DataFrame([
    ("L_cls", "Eq 15", losses.classification_loss, "S, M, C"),
    ("L_JSD", "Eq 16", losses.jsd, "S, M, C"),
    ("L_MI_s", "Eq 7–8", losses.mi_lower_bound_loss, "M and S"),
    ("L_MI_a", "Eq 9", losses.mi_lower_bound_loss, "M and A (called with A in place of S)"),
    ("L_adv", "Eq 11–12", losses.adversarial_generator_loss, "S only (D1, D2 held fixed)"),
    ("L_D", "Eq 13", losses.discriminator_loss, "D1, D2 only (M, S detached)"),
    ("λ", "Eq 14", losses.update_lambdas, "no gradient: weighs D1 and D2 once per epoch"),
], columns=["term", "paper", "function", "gradient reaches"])
terms["what the function says"] = terms["function"].map(lambda f: f.__doc__.strip().splitlines()[0])
terms["function"] = terms["function"].map(lambda f: f"{f.__module__}.{f.__name__}")
display(terms.set_index("term"))

# %% [markdown]
# ## One run
#
# ### Question 1 · predict, then run
#
# The student sees only the target view, where classes 0–1, 2–3 and 4–5 look alike. Before you run the next cell:
# which pairs of classes will the student confuse most? Will the teacher confuse the same pairs, and as often? Where
# in the picture will you see it?
#
# <details><summary><b>Solution</b> (open after running the cell)</summary>
#
# **The computed answer** on your run: *Measured (Question 1)* under the cell; below, how to read it.
#
# Look at the line under the figure: it gives, for each of the pairs 0–1, 2–3 and 4–5, how often the student swaps
# the two classes and how often the teacher does. If the auxiliary view is what separates a pair, the student swaps
# it more than the teacher. In the PCA panels, each pair has two shades of one hue: in S's panel the two shades lie
# on top of each other, in M's they come apart (A's panel shows the same two directions, fitted on the three models
# together, which need not be the ones that separate A's classes). What the student confuses is the information only
# the auxiliary view carries, and it is exactly what the shortcut lets the teacher forget.
# </details>
#
# The cell trains the values of the parameters cell with seed 0. Top: M, S and A of the test items in one 2-D PCA
# (fit on the three together), coloured by class, each model's test accuracy and its most confused class pair.
# Bottom: per epoch, the two accuracies, the two MI losses and the teacher − student gap (grey: the warm-up,
# $\mathcal{L}_{cls} + \mathcal{L}_{JSD}$ only).

# %%
out = teaching.teaching_run(**settings, epochs=teach_epochs, device=prof.device)
fig = teaching.plot_teaching(out)
teaching.show(fig)
s_conf = teaching.pair_confusion(out["y"], out["s_pred"]).set_index("pair")["confused_pct"]
m_conf = teaching.pair_confusion(out["y"], out["m_pred"]).set_index("pair")["confused_pct"]
pairs = [f"{a}–{b}" for a, b in teaching.CLASS_PAIRS]
worse = [p for p in pairs if s_conf[p] > m_conf[p]]
display(Markdown(
    f"**Measured (Question 1).** Trained in {out['seconds']:.1f} s. The teacher M reaches {out['teacher_top1']:.1f} % "
    f"and the student S {out['student_top1']:.1f} % (chance: {100 / 6:.1f} %). The student swaps the pairs "
    + ", ".join(f"{p} ({s_conf[p]:.0f} %)" for p in pairs) + "; the teacher "
    + ", ".join(f"{p} ({m_conf[p]:.0f} %)" for p in pairs)
    + f". The student confuses {len(worse)} of the 3 pairs more than the teacher does"
    + (": the auxiliary view is what separates them." if worse else ".")
    + f" The student's most confused pair of all is {s_conf.idxmax()}."))

# %% [markdown]
# ## Table 4's rows on the teaching data, over seeds
#
# The paper's Table 4 adds the terms one at a time. The same four rows here, with the weights and τ of the parameters
# cell, each trained with every seed of `effect_seeds` (a seed fixes the data, the split, the initialisation and the
# batch order, so the rows trained with one seed form a pair):
#
# - **L_cls+L_JSD**: no MI and no adversarial term, so nothing rewards the teacher for resembling S;
# - **L_MI_s**: adds the pull of Eq 8 on M and S;
# - **L_MI_s+L_MI_a**: adds Eq 9, which holds M to A;
# - **AMID**: adds $\mathcal{L}_{adv}$ too (all terms).
#
# ### Question 2 · predict, then run
#
# From the first row to the second only $\mathcal{L}_{MI_s}$ is added. It is there to help the student. What does it
# do to the **teacher's** test accuracy: up, down, or no change? On how many of the seeds?
#
# <details><summary><b>Solution</b></summary>
#
# **The computed answer** on your run: *Measured (Question 2)* under the cell; below, how to read it.
#
# If the shortcut happens, the teacher's points for L_MI_s lie below those for L_cls+L_JSD seed by seed, and the
# paired interval of the comparison "L_cls+L_JSD > L_MI_s" in the table under the figure lies above zero (its
# verdict column says whether it does). That is Fig 1(a): the cheapest way for M to resemble S is to drop what S
# cannot see. The paper compares with the teacher trained alone (Table 4's row "teacher alone"); on the teaching data
# L_cls+L_JSD plays that part, since nothing in it pulls M towards S.
# </details>
#
# ### Question 3 · predict, then run
#
# The third row adds $\mathcal{L}_{MI_a}$. Does the teacher come back? All the way to the first row?
#
# <details><summary><b>Solution</b></summary>
#
# **The computed answer** on your run: *Measured (Question 3)* under the cell; below, how to read it.
#
# Two comparisons answer it: "L_MI_s+L_MI_a > L_MI_s" (does it come back?) and "L_MI_s+L_MI_a < L_cls+L_JSD" (is
# something still missing?). Read the mean difference, its interval and on how many seeds each sign occurs. Holding M
# to A keeps the auxiliary view's information in M, but M is still pulled towards S, so a partial return is what
# Eq 17 leads you to expect. The wrap-up puts the same comparison from the paper's Table 4 beside it.
# </details>

# %%
rows = teaching.table4_settings()  # Table 4's rows, with their switches from amidlib.paper.names
short = {row: names.short_name(row) for row in rows}
# each row: the parameters cell's weights with the row's switches
effect = teaching.seed_effect({row: settings | switches for row, switches in rows.items()}, seeds=effect_seeds,
                              epochs=teach_epochs, device=prof.device)
effect["setting"] = effect["setting"].map(short)
fig = teaching.plot_seed_points(effect, order=list(short.values()),
                                title=f"Table 4's rows on the teaching data: one point per seed ({len(effect_seeds)} "
                                      "seeds), mean (bar), 95 % interval (line)")
teaching.show(fig)
teacher_cmp = teaching.compare_settings(effect, [("L_cls+L_JSD", ">", "L_MI_s"), ("L_MI_s+L_MI_a", ">", "L_MI_s"),
                                                 ("L_MI_s+L_MI_a", "<", "L_cls+L_JSD")], "teacher_top1")
display(teacher_cmp.round(2))


def said(c):
    """One comparison in words: the mean paired difference, its interval, the seeds, the verdict."""
    return (f"{c['a']} − {c['b']} = {c['mean a − b']:+.1f} points (95 % interval {c['ci_low']:+.1f} to "
            f"{c['ci_high']:+.1f}; a > b on {c['seeds a > b']} of {c['n']} seeds): *{c['a']} {c['op']} {c['b']}* is "
            f"**{c['verdict']}**")


shortcut, back, still = (teacher_cmp.iloc[i] for i in range(3))
means = effect.groupby("setting")["teacher_top1"].mean()
display(Markdown(
    f"**Measured (Questions 2 and 3), the teacher's test top-1.** Mean over {len(effect_seeds)} seeds: "
    + ", ".join(f"{s} {means[s]:.1f} %" for s in short.values()) + ".\n\n"
    + f"- Question 2: {said(shortcut)}.\n- Question 3: {said(back)}; and {said(still)}."))

# %% [markdown]
# ## One seed or several, and the MI losses
#
# ### Question 4 · predict, then run
#
# AMID and L_MI_s+L_MI_a differ only by $\mathcal{L}_{adv}$, the term meant to help the **student**. Suppose you had
# trained each of them with one seed. How likely is it that the difference of that one pair points the same way as
# the mean over all seeds? Is the spread of one row's student between seeds smaller or larger than the difference?
#
# <details><summary><b>Solution</b></summary>
#
# **The computed answer** on your run: *Measured (Question 4)* under the cell; below, how to read it.
#
# Look at the per-seed differences printed below: if they have both signs, one seed could have told either story,
# and the paired interval then contains zero (so no verdict in either direction). Compare the standard deviation of a
# single row over seeds with the mean difference: when the spread is the larger of the two, a one-run comparison
# says nothing. That is why the panel below trains five seeds by default and shows every seed as a point, and why
# the reproduction reports intervals over seeds (its Table 4 has a column "n seeds").
# </details>
#
# ### Question 5 · predict, then run
#
# During the warm-up only $\mathcal{L}_{cls} + \mathcal{L}_{JSD}$ train; the two MI losses are logged but not trained.
# After it, L_MI_s is trained in three rows and L_MI_a in two. Predict: from the last warm-up epoch to the last epoch,
# does $\mathcal{L}_{MI_s}$ fall in the rows that train it? What does $\mathcal{L}_{MI_a}$ do in the row L_MI_s, where
# nothing trains it?
#
# <details><summary><b>Solution</b></summary>
#
# **The computed answer** on your run: *Measured (Question 5)* under the cell; below, how to read it.
#
# A falling loss is a rising bound on the MI. Look at the change columns of the table below: L_MI_s should fall
# wherever it is trained. In the row L_MI_s, L_MI_a is only measured: if it does not fall there while it falls in
# the rows that train it, M has moved towards S and not towards A. That is the shortcut seen from the inside, and
# it is what the reproduction's Fig 1 diagnostic draws per epoch (wrap-up).
# </details>

# %%
student_cmp = teaching.compare_settings(effect, [("AMID", ">", "L_MI_s+L_MI_a")], "student_top1")
adv = student_cmp.iloc[0]
wide = effect.pivot(index="seed", columns="setting", values="student_top1")
d = wide["AMID"] - wide["L_MI_s+L_MI_a"]
display(wide[["AMID", "L_MI_s+L_MI_a"]].assign(**{"AMID − L_MI_s+L_MI_a": d}).round(1))
spread = effect.groupby("setting")["student_top1"].std()
same_way = int((np.sign(d) == np.sign(d.mean())).sum())
display(Markdown(
    f"**Measured (Question 4), the student's test top-1.** {said(adv)}. One seed alone would have pointed the way of "
    f"the mean on {same_way} of {len(d)} seeds (per-seed differences from {d.min():+.1f} to {d.max():+.1f}). The "
    f"student's standard deviation over seeds is {spread.min():.1f} to {spread.max():.1f} points across the four rows, "
    f"against a mean difference of {abs(d.mean()):.1f}: the spread is "
    + ("larger" if spread.mean() > abs(d.mean()) else "smaller") + " than the difference."))

mi = effect.groupby("setting")[["mi_s_warmup", "mi_s_final", "mi_a_warmup", "mi_a_final"]].mean()
mi = mi.loc[list(short.values())]
mi["L_MI_s change"] = mi["mi_s_final"] - mi["mi_s_warmup"]
mi["L_MI_a change"] = mi["mi_a_final"] - mi["mi_a_warmup"]
trains = {name: settings | rows[row] for row, name in short.items()}  # which terms each row trains
mi["L_MI_s trained"] = [trains[s]["use_mi_s"] for s in mi.index]
mi["L_MI_a trained"] = [trains[s]["use_mi_a"] for s in mi.index]
display(mi.round(2))
falls_s = mi.loc[mi["L_MI_s trained"], "L_MI_s change"] < 0
falls_a_trained = mi.loc[mi["L_MI_a trained"], "L_MI_a change"].max()
display(Markdown(
    f"**Measured (Question 5), mean over the seeds.** L_MI_s falls after the warm-up in {int(falls_s.sum())} of the "
    f"{len(falls_s)} rows that train it. L_MI_a changes by {mi.loc['L_MI_s', 'L_MI_a change']:+.2f} in the row L_MI_s "
    f"(not trained there) and by {mi.loc[mi['L_MI_a trained'], 'L_MI_a change'].min():+.2f} to {falls_a_trained:+.2f} "
    "in the rows that train it: "
    + ("M moves towards S and not towards A unless L_MI_a holds it."
       if mi.loc["L_MI_s", "L_MI_a change"] > falls_a_trained else "here the two do not separate.")))

# %% [markdown]
# ## Interactive: the instructor's panel
#
# Move a slider, tick a switch, choose **1 seed** or **5 seeds** (from a first seed) and the number of **epochs**,
# then press **train**. The output shows the new setting's first seed (the picture of the one run above) and pins
# the last three settings side by side: their per-seed results as points with the mean and its 95 % interval, their
# per-epoch curves (the mean over their seeds) and a table. It needs a live kernel (JupyterLab); a headless run
# trains the defaults once. The checks in the notebook's last cell hold after any number of presses: run that cell
# again after yours.
#
# ### Question 6 · predict, then press train
#
# Set α2 to 0 (keep 5 seeds) and press **train**. Will the teacher's interval overlap that of run 1 (the defaults)?
# Then choose **1 seed**, set the first seed to 3 and press **train** again: how far from its five-seed mean can a
# single seed land?
#
# <details><summary><b>Solution</b></summary>
#
# **The computed answer** on your run: the panel's printed line; below, how to read it.
#
# The printed line gives each run's mean and interval; the points figure shows every seed. Compare the teacher's
# intervals of run 1 and run 2: if they do not overlap, the seeds agree that α2 = 0 lowers the teacher. Run 3 is
# seed 3 of run 2 trained alone, so its point should land on run 2's seed-3 point (same seed, same run). It has no
# interval: nothing in one point tells you where the mean of the others is, or how far they spread.
# </details>
#
# More to try: α1 = 0 (no pull), α3 = 0 (no discriminators), τ small or large, and the epochs: does the shortcut grow
# or shrink when the teacher trains longer? Use 5 seeds before you believe a difference.

# %%
# NBVAL_IGNORE_OUTPUT
panel = teaching.teaching_widget(settings, epochs=teach_epochs, device=prof.device, n_seeds=panel_seeds)
display(panel)
display(HTML(teaching.panel_snapshot_html(panel)))  # (folded: the executed copy's picture of the panel)

# %% [markdown]
# ## Wrap-up: the paper's Fig 1 and Table 4, beside the reproduction's
#
# The teaching data is the classroom version of two results that the reproduction measured on the embedded real
# data (profile `cpu`, committed in `figures/`):
#
# - [figures/fig1_diagnostic.png](../figures/fig1_diagnostic.png): per epoch, the teacher's test accuracy and the
#   two MI losses for L_MI_s alone, L_MI_s + L_MI_a and AMID, with the teacher trained alone as a reference line.
#   Compare with Question 5: which curves fall after the warm-up line, and which one stays where it was.
# - [figures/table4.md](../figures/table4.md): Table 4, the paper's numbers beside the reproduction's mean ± sd.
#
# What to compare, for each of three statements, in the last table below: the paper's difference (the paper gives one
# number per row, no interval), the reproduction's paired effect over its seeds and this notebook's. Does the sign
# agree? Is the reproduction's interval clear of zero, and this notebook's? The sizes need not agree: the datasets
# differ (the paper's UCF51 videos, the reproduction's digit features, this notebook's synthetic pairs), so compare
# orderings, not values.

# %%
fig_dir = repo_root() / "figures"
if (fig_dir / "fig1_diagnostic.png").is_file():
    display(Image(filename=str(fig_dir / "fig1_diagnostic.png"), width=900))
else:
    print(f"{fig_dir / 'fig1_diagnostic.png'} is not there: `python -m amidlib.repro --profile cpu` draws it")

table4_path, claims_path = fig_dir / "table4.csv", fig_dir / "claims.csv"
if table4_path.is_file():
    t4 = pd.read_csv(table4_path)
    t4 = t4[t4["row"].isin(["teacher_alone", *rows])]
    t4["paper"] = [manifests.paper_value("table4", setting, row, metric)
                   for setting, row, metric in zip(t4["paper_setting"], t4["row"], t4["metric"], strict=True)]
    t4["ours"] = [f"{m:.1f} ± {s:.1f}" if n > 1 else f"{m:.1f}"
                  for m, s, n in zip(t4["mean"], t4["std"], t4["n"], strict=True)]
    view = t4.pivot(index="label", columns="metric", values=["paper", "ours"]).reindex(
        t4.drop_duplicates("row").set_index("row").loc[["teacher_alone", *rows], "label"])
    print(f"{table4_path} ({t4['data'].iloc[0]}; paper: {t4['paper_setting'].iloc[0]}; ours over "
          f"{int(t4['n'].max())} seeds)")
    display(view)
else:
    print(f"{table4_path} is not there: `python -m amidlib.repro --profile cpu` writes it")

# three statements of Table 4 (figures/claims.csv names them): the paper's difference (from
# data_manifests/paper_results.csv), the reproduction's paired effect over its seeds, and this notebook's, with the
# teacher trained with L_cls + L_JSD standing in for the teacher alone
statements = {"mi_s_weakens_teacher": ("teacher_top1", "mi_s", "<", "teacher_alone"),
              "mi_a_restores_teacher": ("teacher_top1", "mi_s+mi_a", ">", "mi_s"),
              "amid_beats_mi": ("student_top1", "amid", ">=", "mi_s+mi_a")}
claims = pd.read_csv(claims_path).drop_duplicates("id").set_index("id") if claims_path.is_file() else None
paper_setting = t4["paper_setting"].iloc[0] if table4_path.is_file() else "UCF51"
here_name = dict(short, teacher_alone=short["cls_jsd"])
lines = []
for cid, (metric, a, op, b) in statements.items():
    c = claims.loc[cid] if claims is not None and cid in claims.index else None
    if c is not None:
        metric, a, op, b = c["metric"], c["a"], c["op"], c["b"]
    pa, pb = (manifests.paper_value("table4", paper_setting, r, metric) for r in (a, b))
    here = teaching.compare_settings(effect, [(here_name[a], op, here_name[b])], metric).iloc[0]
    lines.append({
        "statement": c["claim"] if c is not None else f"{a} {op} {b} ({metric})",
        f"paper, {paper_setting}: a − b": f"{pa - pb:+.1f}" if pa is not None and pb is not None else "—",
        "reproduction: a − b (95 % interval), verdict":
            f"{c['effect']:+.1f} ({c['ci_low']:+.1f} to {c['ci_high']:+.1f}), {c['verdict']}" if c is not None else "—",
        "this notebook: a − b (95 % interval), verdict":
            f"{here['mean a − b']:+.1f} ({here['ci_low']:+.1f} to {here['ci_high']:+.1f}), {here['verdict']}",
        "this notebook's a, b": f"{here['a']}, {here['b']}"})
display(pd.DataFrame(lines).set_index("statement"))

# %% [markdown]
# ### Question 7 · the student alone does well here: why?
#
# Look at the student's column of Table 4's rows on the teaching data (the points figure, or the table below). Which
# row gives the best student? Predict before you run: can a term that pulls S towards M help S separate classes that
# the target view cannot tell apart?
#
# <details><summary><b>Solution</b></summary>
#
# **The computed answer** on your run: *Measured (Question 7)* under the cell; below, how to read it.
#
# The cell below states the best row and the paired difference AMID − L_cls+L_JSD with its interval. Our reading:
# on the teaching data each pair of classes looks *identical* in the target view (by construction), so nothing the
# teacher knows about a pair can be recovered by the student; L_cls and L_JSD already give the student everything it
# can use (the labels, and the teacher's class probabilities). The MI terms and $\mathcal{L}_{adv}$ then only move
# S's representation towards features it cannot compute, which costs it accuracy. On the paper's videos the target
# view carries part of what the audio carries, which is where distillation can help.
# </details>
#
# ### Question 8 · why are the MI losses here ten times those of the reproduction's Fig 1?
#
# Question 5's table shows L_MI_s and L_MI_a in the tens; the reproduction's Fig 1 shows them about ten times smaller
# (the cell below prints both). Same equation (Eq 8). What differs? Hint: Eq 8 *sums* over every item of the batch for
# each anchor.
#
# <details><summary><b>Solution</b></summary>
#
# **The computed answer** on your run: *Measured (Question 8)* under the cell; below, how to read it.
#
# The cell below computes Eq 8 for random (untrained) representations at both batch shapes, and the measured values.
# For each anchor Eq 8 adds one term per item of the batch (log h for each positive, log(1 − h) for each negative),
# so its size grows with the batch: the teaching runs use batches of 64 items over 6 classes (about 11 positives per
# anchor), the reproduction batches of 16 over 55 classes (about 1.3). The values are comparable within one
# setting, not across settings: compare how each curve *moves*, not its level.
# </details>

# %%
student = effect.groupby("setting")["student_top1"].mean().loc[list(short.values())]
best = student.idxmax()
vs = teaching.compare_settings(effect, [("AMID", ">", "L_cls+L_JSD")], "student_top1").iloc[0]
display(Markdown(
    f"**Measured (Question 7), the student's test top-1, mean over {len(effect_seeds)} seeds:** "
    + ", ".join(f"{k} {v:.1f} %" for k, v in student.items()) + f". The best student: **{best}**. {said(vs)}."))

import torch  # noqa: E402  (Question 8: Eq 8 at both batch shapes, for untrained representations)

from amidlib.core.config import make_config  # noqa: E402


def random_eq8(batch: int, n_classes: int, dim: int = 32, draws: int = 200) -> float:
    """Eq 8 (mean over ``draws`` batches) for random unit vectors M, S and random labels: its size at chance."""
    g = torch.Generator().manual_seed(0)
    values = []
    for _ in range(draws):
        m, s_ = torch.randn(batch, dim, generator=g), torch.randn(batch, dim, generator=g)
        values.append(float(losses.mi_lower_bound_loss(m, s_, torch.randint(n_classes, (batch,), generator=g), tau)))
    return float(np.mean(values))


b_teach, b_repro = make_config(preset="tiny")["batch_size"], make_config(preset="embedded_pairs")["batch_size"]
chance_teach, chance_repro = random_eq8(b_teach, 6), random_eq8(b_repro, 55)
here = effect["mi_s_final"].mean()
fig1_csv = fig_dir / "fig1_diagnostic.csv"
there = (pd.read_csv(fig1_csv).query("epoch == epoch.max()")["mi_s_value"].mean() if fig1_csv.is_file() else np.nan)
display(Markdown(
    f"**Measured (Question 8).** Eq 8 for random representations (τ = {tau}): {chance_teach:.1f} at the teaching "
    f"batch ({b_teach} items, 6 classes) and {chance_repro:.1f} at the reproduction's ({b_repro} items, 55 classes): "
    f"{chance_teach / chance_repro:.1f}× from the batch alone. Trained: L_MI_s ends at {here:.1f} here"
    + (f" and at {there:.2f} in the reproduction's Fig 1 ({here / there:.1f}×)." if np.isfinite(there) else ".")))

# %% [markdown]
# ### Exit question
#
# In two sentences: why does AMID need $\mathcal{L}_{MI_a}$ at all, and which two rows of Table 4 (and which
# comparison of this notebook) show it?
#
# <details><summary><b>Solution</b></summary>
#
# Because the teacher is trained together with the student, $\mathcal{L}_{MI_s}$ can be lowered by a teacher that
# forgets what only the auxiliary view carries (Fig 1(a)); $\mathcal{L}_{MI_a}$ keeps that information in M by tying
# it to A (Fig 1(b)). The evidence is the teacher's column in the rows "L_MI_s" and "L_MI_s + L_MI_a" of Table 4, and
# here the comparison "L_MI_s+L_MI_a > L_MI_s" of Question 3; read its sign and interval in the table above.
# </details>

# %% tags=["checks"]
# checks: shapes, the default run learns (6 classes: chance 16.7 %), the panel, the statements of Questions 2-3 and
# the drawing of Fig 2. They hold after pressing train in the panel too (tests/test_browser.py re-runs this cell then).
n_test = len(out["y"])
assert out["m"].shape[0] == out["s"].shape[0] == out["a"].shape[0] == n_test and len(out["history"]) == teach_epochs
assert out["student_top1"] > 16.7 + 20 and out["teacher_top1"] > 16.7 + 40, out
# the panel's first run is the defaults over panel_seeds seeds; its seed 0 is the run above, trained again
first = panel.runs[0]
assert first["settings"] == out["settings"] and first["epochs"] == teach_epochs
assert first["seeds"] == list(range(panel_seeds)) and first["outs"][0]["teacher_top1"] == out["teacher_top1"]
for run in panel.runs:  # every run so far, those trained by hand included
    assert len(run["outs"]) == len(run["seeds"]) and len(run["seeds"]) in (1, 5), run["seeds"]
    assert [o["seed"] for o in run["outs"]] == run["seeds"] and all(o["epochs"] == run["epochs"] for o in run["outs"])
    for who in ("teacher", "student"):
        values = [o[f"{who}_top1"] for o in run["outs"]]
        assert all(0 <= v <= 100 for v in values) and abs(run[who].effect - np.mean(values)) < 1e-9
        assert run[who].n == 1 or run[who].ci_low <= run[who].effect <= run[who].ci_high
# the seeds of Table 4's rows: every row learns, and the statements of Questions 2 and 3
assert effect.groupby("setting").size().eq(len(effect_seeds)).all() and len(short) == 4
assert effect.teacher_top1.gt(16.7 + 20).all() and effect.student_top1.gt(16.7 + 20).all()
assert shortcut["verdict"] == "supported", shortcut  # L_MI_s lowers the teacher: its interval is above 0
assert back["mean a − b"] > 0 and back["seeds a > b"] > len(effect_seeds) / 2, back  # L_MI_a brings it back
# the drawing has every component of Fig 2, each with its label, and every arrow joins two of them
drawn = {t.get_gid(): t.get_text() for t in arch.axes[0].texts if t.get_gid()}
fig2 = {"target_view", "aux_view", "target_extractor", "aux_extractor", "S", "M", "A", "classifier",
        "L_cls", "L_JSD", "L_MI_s", "L_MI_a", "D1", "D2", "lambda", "L_adv", "L"}
assert set(teaching.ARCHITECTURE) == fig2 and drawn == {k: v[0] for k, v in teaching.ARCHITECTURE.items()}, drawn
arrows = [p for p in arch.axes[0].patches if type(p).__name__ == "FancyArrowPatch"]
edges = {(a, b) for a, b, *_ in teaching.ARCHITECTURE_EDGES}
assert len(arrows) == len(teaching.ARCHITECTURE_EDGES) == len(edges) and {x for e in edges for x in e} == fig2
# what each term compares: Eq 8 M with S, Eq 9 M with A, both discriminators S with M; every term into Eq 17
assert {("M", "L_MI_s"), ("S", "L_MI_s"), ("M", "L_MI_a"), ("A", "L_MI_a"), ("S", "D1"), ("M", "D1"), ("S", "D2"),
        ("M", "D2"), ("D1", "L_adv"), ("D2", "L_adv"), ("S", "classifier"), ("M", "classifier")} <= edges
assert all((term, "L") in edges for term in ("L_cls", "L_JSD", "L_MI_s", "L_MI_a", "L_adv"))
assert all(callable(getattr(losses, f.rsplit(".", 1)[1])) for f in terms["function"])
# Questions 7 and 8: the best student is one of the four rows; Eq 8 at chance grows with the batch (64 vs 16 items)
assert best in set(short.values()) and vs["n"] == len(effect_seeds)
assert chance_teach > 2 * chance_repro > 0, (chance_teach, chance_repro)
snapshot = teaching.panel_snapshot_html(panel)
assert "<details>" in snapshot and "data:image/png;base64," in snapshot
print(f"checks passed; the panel holds {len(panel.runs)} run(s)")

# %% [markdown]
# Previous: [06 · Report](06_report.ipynb)
