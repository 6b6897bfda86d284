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
# # 01 · The idea: a teacher trained with its student can go weak (Fig 1), and the warm-up
#
# *Read it without running: [the executed copy](../docs/executed/01_warmup.ipynb) holds the outputs of the
# committed reproduction. Run here, it is in explore mode (the `mode` parameter): it computes everything from
# the committed reproduction's run records and trains nothing, so it shows the committed numbers in seconds;
# it writes under `runs/explore/`, never into the committed `figures/`. `mode = "train"` trains what other
# parameters need.*
#
# AMID distils what a **teacher M** learns from two views (the *target* view and an *auxiliary* view) into a
# **student S** that sees only the target view. Teacher and student are trained *together*, and that opens a
# shortcut (the paper's Fig 1): the term that makes S resemble M can also be lowered by making M *forget* what S
# cannot see. AMID's answer is a second term that ties M to the auxiliary model A. This notebook
#
# 1. writes every loss term as its equation beside the `amidlib` function that implements it, evaluated on a small
#    batch you can change (`batch_n`, `batch_seed` in the parameters cell);
# 2. measures the shortcut on the data of the profile (Fig 1, before any table);
# 3. shows the warm-up stage that starts every AMID run.

# %% tags=["parameters"]
# Parameters (papermill / `python -m amidlib.repro -p NAME VALUE`). Defaults: the committed reproduction.
profile = "cpu"     # "cpu": the committed reproduction (every table and figure) | "ci" (seconds, a smoke test)
                    # | "paper" (GPU + data)
mode = "explore"    # "explore": shows the committed reproduction (its run records), trains nothing; writes under
                    # runs/explore/, never figures/ | "train": the same, training what is missing (other parameters)
                    # | "run": into the profile's out_dir (make reproduce)
batch_n = 8          # the small batch on which every loss term is evaluated below (change it: 2 or more)
batch_seed = 0

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
from IPython.display import Markdown, display

from amidlib.notebook import setup
from amidlib.paper import figures, plots
from amidlib.repro.profile_loading import whole_number

# a batch needs two items to compare (Eq 8's positives and negatives): another value is refused by name, here
batch_n = whole_number("batch_n", batch_n, 2, text=True)
# the parameters above -> profile (printed), run cache, plot style; profile paper: checks its data first
prof, study, strict = setup(("figures",), globals())

# %% [markdown]
# ## The loss, term by term
#
# A small batch: $B$ = `batch_n` items of 3 classes with random representations M, S, A (dimension 16) and
# classifier logits. Every term below is the function the training loop calls (`amidlib.losses`).
#
# **Eq 7**, the similarity of a teacher representation to a student one ($\Phi$: cosine, $\tau$: temperature):
#
# $$h(M_i, S_u) = \frac{\exp(\Phi(M_i, S_u)/\tau)}{\sum_{j=1}^{N+k} \exp(\Phi(M_i, S_j)/\tau)}$$
#
# **Eq 8**, the label-aware contrastive lower bound on $I(M;S)$ ($\eta_j$: the $k$ items of $i$'s class, $\xi_l$: the
# $N$ others):
#
# $$\mathcal{L}_{MI_s} = -\frac{1}{N+k} \sum_{i=1}^{N+k} \Big(\sum_{j=0}^{k-1} \log h(M_i, S_i^{\eta_j}) +
# \sum_{l=1}^{N} \log\big(1 - h(M_i, S_i^{\xi_l})\big)\Big)$$
#
# **Eq 9** is the same with A in place of S: $\mathcal{L}_{MI_a}$, the bound on $I(M;A)$ that stops the teacher
# from forgetting the auxiliary view.

# %%
import torch

from amidlib import losses

g = torch.Generator().manual_seed(batch_seed)
labels = torch.arange(batch_n) % 3                      # 3 classes, so most items have a same-class partner
m, s, a = (torch.randn(batch_n, 16, generator=g) for _ in range(3))
tau = 0.5
h = torch.softmax(losses.cosine_logits(m, s, tau), dim=1)          # Eq 7: row i is h(M_i, S_.)
terms = {"L_MI_s (Eq 8)": losses.mi_lower_bound_loss(m, s, labels, tau),
         "L_MI_a (Eq 9)": losses.mi_lower_bound_loss(m, a, labels, tau),
         "L_MI_s with S = M (aligned)": losses.mi_lower_bound_loss(m, m.clone(), labels, tau)}
print("h rows sum to 1:", torch.allclose(h.sum(1), torch.ones(batch_n)))
display({k: round(float(v), 4) for k, v in terms.items()})
display(Markdown("**What you should see.** Random M and S give "
                 f"$\\mathcal{{L}}_{{MI_s}}$ = {float(terms['L_MI_s (Eq 8)']):.3f}; "
                 f"a student equal to the teacher gives {float(terms['L_MI_s with S = M (aligned)']):.3f}, "
                 + ("lower: the loss falls as S comes to resemble M (a higher bound on I(M;S))."
                    if terms['L_MI_s with S = M (aligned)'] < terms['L_MI_s (Eq 8)'] else
                    "not lower on this batch: try another `batch_seed`.")))

# %% [markdown]
# **Eq 12 and 13**, the adversarial terms: two discriminators $D_1$ (all items) and $D_2$ (items with a same-class
# partner) tell M ("real") from S; the student minimises
#
# $$\mathcal{L}_{adv} = -\frac{\lambda_1}{N+k} \sum_{i=1}^{N+k} \log D_1(S_i^{\eta_0}) - \frac{\lambda_2}{d}
# \sum_{v=1}^{w} \log D_2(S_v^{\eta_1})$$
#
# and the discriminators minimise
#
# $$\mathcal{L}_{D} = -\frac{\lambda_1}{N+k} \sum_{i} \big(\log D_1(M_i) + \log(1 - D_1(S_i^{\eta_0}))\big) -
# \frac{\lambda_2}{d} \sum_{v} \big(\log D_2(M_v) + \log(1 - D_2(S_v^{\eta_1}))\big)$$
#
# with weights from the alignment of M and S (**Eq 14**, $\beta = 0.9$, $\sigma$ = softmax):
#
# $$\hat\lambda(t+1) = \beta\,\hat\lambda(t) + (1-\beta)\big(1 - \mathrm{Avg}_t\,\Phi(M,S)\big),
# \qquad \lambda(t+1) = \sigma(\hat\lambda(t+1))$$

# %%
d1_s, d1_m = torch.randn(batch_n, generator=g), torch.randn(batch_n, generator=g)   # discriminator logits
d2_s, d2_m = torch.randn(batch_n, generator=g), torch.randn(batch_n, generator=g)
avg_cos = torch.tensor([0.8, 0.3])   # D1: same-sample cosine, D2: same-class cosine (poorly aligned)
lambda_hat, lambdas = losses.update_lambdas(torch.zeros(2), avg_cos)                # Eq 14
terms["L_adv (Eq 12)"] = losses.adversarial_generator_loss(d1_s, d2_s, lambdas)
terms["L_D (Eq 13)"] = losses.discriminator_loss(d1_m, d1_s, d2_m, d2_s, lambdas)
display({k: round(float(v), 4) for k, v in terms.items() if "adv" in k or "L_D" in k})
display(Markdown(f"**What you should see.** λ = ({float(lambdas[0]):.3f}, {float(lambdas[1]):.3f}): the pair that is "
                 f"less aligned (cosine {float(avg_cos[1]):.1f} for D2 against {float(avg_cos[0]):.1f} for D1) gets "
                 f"{'the larger' if lambdas[1] > lambdas[0] else 'not the larger'} weight."))

# %% [markdown]
# **Eq 15 and 16**, classification with one shared classifier and the Jensen–Shannon divergence of the two
# predictions, and **Eq 17**, the whole loss:
#
# $$\mathcal{L}_{cls} = \mathcal{L}^{S}_{ce}(S_i, y_i) + \mathcal{L}^{M}_{ce}(M_i, y_i),
# \qquad \mathcal{L}_{JSD} = \frac{1}{N+k}\sum_{i=1}^{N+k} JSD(P_{S_i} \,\|\, P_{M_i})$$
#
# $$\mathcal{L} = \mathcal{L}_{cls} + \mathcal{L}_{JSD} + \alpha_1 \mathcal{L}_{MI_s} + \alpha_2 \mathcal{L}_{MI_a} +
# \alpha_3 \mathcal{L}_{adv}$$

# %%
s_logits, m_logits = torch.randn(batch_n, 3, generator=g), torch.randn(batch_n, 3, generator=g)
terms["L_cls (Eq 15)"] = losses.classification_loss(s_logits, m_logits, labels)
terms["L_JSD (Eq 16)"] = losses.jsd(s_logits, m_logits)
alpha1, alpha2, alpha3 = 4.0, 1.6, 1.0   # the paper's values (Table 6)
total = (terms["L_cls (Eq 15)"] + terms["L_JSD (Eq 16)"] + alpha1 * terms["L_MI_s (Eq 8)"]
         + alpha2 * terms["L_MI_a (Eq 9)"] + alpha3 * terms["L_adv (Eq 12)"])
terms["L (Eq 17)"] = total
display({k: round(float(v), 4) for k, v in terms.items() if k.startswith(("L_cls", "L_JSD", "L (Eq"))})

# %% [markdown]
# ## The shortcut, measured (Fig 1)
#
# Three runs of the profile's main pairing: $\mathcal{L}_{MI_s}$ alone, $\mathcal{L}_{MI_s} + \mathcal{L}_{MI_a}$, and
# AMID (all terms). Per epoch: the teacher's test accuracy (left, with the teacher trained alone as the dotted
# reference), and the two MI losses (a lower loss is a higher bound on the MI). If the shortcut is taken, the
# teacher of $\mathcal{L}_{MI_s}$ alone ends lower than the others while its $\mathcal{L}_{MI_a}$ stays high: it
# has drifted away from A.

# %%
fig1, diag = figures.build_fig1(study)
plots.show(fig1)
ref = figures.teacher_alone(study)
last = diag[diag.epoch == diag.epoch.max()].groupby("row")[["test_teacher_top1", "mi_a_value"]].mean()
alone = float(ref.teacher_top1.mean())
gap = last.loc["amid", "test_teacher_top1"] - last.loc["mi_s", "test_teacher_top1"]
display(Markdown(
    f"**What you should see.** At the last epoch the teacher reaches {last.loc['mi_s', 'test_teacher_top1']:.1f} % "
    f"with $\\mathcal{{L}}_{{MI_s}}$ alone, {last.loc['mi_s+mi_a', 'test_teacher_top1']:.1f} % with "
    f"$\\mathcal{{L}}_{{MI_s}} + \\mathcal{{L}}_{{MI_a}}$ and {last.loc['amid', 'test_teacher_top1']:.1f} % with AMID; "
    f"trained alone, {alone:.1f} % (mean over {len(ref)} seed(s)). AMID's teacher is {abs(gap):.1f} points "
    f"{'above' if gap > 0 else 'below'} that of $\\mathcal{{L}}_{{MI_s}}$ alone, and $\\mathcal{{L}}_{{MI_a}}$ ends at "
    f"{last.loc['mi_s', 'mi_a_value']:.2f} without its term against {last.loc['amid', 'mi_a_value']:.2f} with it"
    + (": the teacher trained for I(M;S) alone drifts from A, as the paper's Fig 1 says."
       if gap > 0 and last.loc['mi_s', 'mi_a_value'] > last.loc['amid', 'mi_a_value'] else
       ": on this data and profile the shortcut does not show in the teacher's accuracy.")))

# %% [markdown]
# ## The warm-up stage
#
# For the first T_start epochs AMID trains only $\mathcal{L}_{cls} + \mathcal{L}_{JSD}$ (paper §4.2): the student S
# and the teacher M share one classifier, and the JSD pulls their predictions together. This gives a first
# alignment *before* the MI and adversarial terms start, so the discriminators do not win at once on unrelated
# representations. Below: the teacher–student cosines of AMID, and the test accuracies of AMID and of AMID
# without warm-up (grey band: the warm-up, drawn only for the run that has one).

# %%
fig, hist = figures.build_warmup(study, save_to=prof.paths.out_dir / "warmup.png")
plots.show(fig)

# %% [markdown]
# The grey band is the warm-up. A rising same-sample cosine inside it is the "preliminary alignment" the paper
# wants; after it, L_MI_s, L_MI_a and L_adv take over. The table compares the first epoch with the last warm-up
# epoch, for AMID (with warm-up) and for AMID *without* warm-up (all terms from epoch 1, Table 5).

# %%
warm = int((hist[(hist.row == "amid") & (hist.seed == hist.seed.min())].phase == "warmup").sum())
cols = ["test_cos_same_sample", "test_cos_same_class", "test_student_top1", "test_teacher_top1"]
at = hist[hist.epoch.isin([1, warm])].groupby(["row", "epoch"])[cols].mean().round(3)
display(at)

# %%
first, end = at.xs(1, level="epoch"), at.xs(warm, level="epoch")
display(Markdown(
    f"**What you should see.** Over AMID's {warm} warm-up epoch(s) the test same-sample cosine goes from "
    f"{first.loc['amid', 'test_cos_same_sample']:.2f} to {end.loc['amid', 'test_cos_same_sample']:.2f} and the "
    f"student's test accuracy from {first.loc['amid', 'test_student_top1']:.1f} % to "
    f"{end.loc['amid', 'test_student_top1']:.1f} %."))

# %% tags=["checks"]
# checks: warm-up epochs train only L_cls + L_JSD, the values are real, both models learn
amid = hist[hist.row == "amid"]
assert warm >= 1 and (amid[amid.epoch <= warm].phase == "warmup").all()
if "loss_mi_s" in amid:
    assert amid[amid.phase == "warmup"]["loss_mi_s"].isna().all()
assert amid[["test_cos_same_sample", "test_cos_same_class"]].abs().le(1 + 1e-6).all().all()
last_warm = amid[amid.epoch == warm]
assert last_warm[["test_student_top1", "test_teacher_top1"]].stack().between(0, 100).all()
assert not strict or ((last_warm.test_student_top1 > 10 + 20).all() and (last_warm.test_teacher_top1 > 10 + 20).all())
assert (prof.paths.out_dir / "warmup.png").stat().st_size > 10_000
# the loss terms on the small batch are finite; Eq 14's weights sum to 1; Fig 1 and its reference were written
assert all(torch.isfinite(torch.as_tensor(v)).all() for v in terms.values()), terms
assert abs(float(lambdas.sum()) - 1) < 1e-6
assert set(diag.row) == {"mi_s", "mi_s+mi_a", "amid"} and len(ref) == len(prof.seeds)
assert (prof.paths.out_dir / "fig1_diagnostic.png").is_file() and (prof.paths.out_dir / "fig1_diagnostic.pdf").is_file()

# opened by hand with its defaults (explore mode): the committed numbers, from the committed run records
from amidlib.notebook import same_as_committed

same_as_committed(prof, mode, ("fig1_diagnostic.csv", "fig1_teacher_alone.csv"))


# %% [markdown]
# Previous: [00 · Data preparation](00_data_prep.ipynb)
# · Next: [02 · AMID against the baselines](02_amid_training.ipynb)
