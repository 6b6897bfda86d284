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
# # 05 · Training curves: the teacher–student gap (Fig 4) and within-class cosines (Fig 5)
#
# *Read it without running: [the executed copy](../docs/executed/05_cosine_curves.ipynb) holds the outputs of the
# committed reproduction. Run here, it is in explore mode (the `mode` parameter): it computes everything from
# the committed reproduction's run records and trains nothing, so it shows the committed numbers in seconds;
# it writes under `runs/explore/`, never into the committed `figures/`. `mode = "train"` trains what other
# parameters need.*
#
# Tables 4 and 5 give final accuracies. The paper's Figs 4 and 5 show *why* the adversarial part helps, from
# the training histories (test and train, evaluated after every epoch) of the runs of Tables 4 and 5 that the
# figures draw; the other runs are evaluated once, after their last epoch, which changes nothing in their
# training (`amidlib.paper.plans.CURVE_FIGURES`). (Fig 1, the weak-teacher
# shortcut, is measured in 01.) Each figure's claim is decided like the tables': per run, the mean of the curve
# over its distillation epochs (after the warm-up), paired by seed between the arms, with a 95 % interval.

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
from IPython.display import Markdown, display

from amidlib.notebook import setup
from amidlib.paper import figures, plots

# the parameters above -> profile (printed), run cache, plot style; profile paper: checks its data first
prof, study, strict = setup(("figures",), globals())

# %%
from amidlib.paper.claims import claims_of, comparison_sentence

# %% [markdown]
# ## Fig 4: the teacher–student gap
#
# The MI terms raise a lower bound on $I(M;S) = H(M) - H(M|S)$. The adversarial term (Eq 11–13) attacks the
# other part: two discriminators try to tell the teacher's representations from the student's, and the student
# learns to fool them, which shrinks $H(M|S)$, what the teacher knows that the student does not. The JSD of Eq 16
# does the same for the predictions:
#
# $$\mathcal{L}_{JSD} = \frac{1}{N+k}\sum_{i=1}^{N+k} JSD(P_{S_i} \,\|\, P_{M_i})$$
#
# So the paper expects the teacher − student test accuracy gap of AMID (with $\mathcal{L}_{adv}$) to stay below
# that of $\mathcal{L}_{MI_s} + \mathcal{L}_{MI_a}$ (without it) throughout training.

# %%
fig4, gap = figures.build_fig4(study)
plots.show(fig4)

# %%
import pandas as pd

summary = pd.concat([figures.fig_summary(gap, ["test_gap"], "fig4")])
g = summary.set_index("row")["mean"]
c4 = claims_of(prof.paths.out_dir, "fig4").iloc[0]
display(Markdown(
    f"**What you should see.** Averaged over the distillation epochs, the test gap is {g['amid']:.1f} points for "
    f"AMID and {g['mi_s+mi_a']:.1f} for L_MI_s + L_MI_a: AMID's is "
    f"{'smaller' if g['amid'] < g['mi_s+mi_a'] else 'not smaller'}. "
    f"Paired by seed: {comparison_sentence(c4)} (the paper: AMID's gap is smaller)."))

# %% [markdown]
# ## Fig 5: within-class cosines
#
# $D_1$ compares each sample's teacher and student representations; $D_2$ compares the teacher's $M_v$ with the
# student's representation of *another sample of the same class* $S_v^{\eta_1}$ (the second term of Eq 12).
# So $D_2$ should pull the student's class towards the teacher's class, not just sample towards sample. The
# figure shows the mean cosine $\Phi(M_v, S_j)$ over pairs $j \neq v$ of the same class, on train (left) and
# test (right). The paper's order: AMID > w/o $D_2$ > w/o $\mathcal{L}_{adv}$.

# %%
fig5, cos = figures.build_fig5(study)
plots.show(fig5)

# %%
summary = pd.concat([summary, figures.fig_summary(cos, ["train_cos_same_class", "test_cos_same_class"], "fig5")])
display(summary[["table", "row", "metric", "mean", "std", "n"]].round(3))
c5 = claims_of(prof.paths.out_dir, "fig5")
display(Markdown("**What you should see.**\n" + "\n".join(
    f"- {r.metric.split('_')[0]}: {comparison_sentence(r)}" for r in c5.itertuples())
    + f"\n\nThe paper's order AMID > w/o D2 > w/o L_adv, on train and test, is **{c5.claim_verdict.iloc[0]}** here."))

# %% tags=["checks"]
# checks: every run has every epoch, values in range, figures and their data written, the claims decided
n_epochs = gap.epoch.max()
assert set(gap.row) == {"mi_s+mi_a", "amid"} and len(gap) == 2 * len(prof.seeds) * n_epochs
assert gap.test_gap.between(-100, 100).all()
assert set(cos.row) == {"amid", "no_d2", "mi_s+mi_a"}
assert cos[["train_cos_same_class", "test_cos_same_class"]].abs().le(1 + 1e-6).all().all()
for name in ("fig4", "fig5"):
    assert ((prof.paths.out_dir / f"{name}.png").stat().st_size > 10_000
            and (prof.paths.out_dir / f"{name}.pdf").is_file())
    assert (prof.paths.out_dir / f"{name}.csv").is_file()
assert len(c5) == 4 and (c5.n >= 1).all() and c4.n >= 1

# opened by hand with its defaults (explore mode): the committed numbers, from the committed run records
from amidlib.notebook import same_as_committed

same_as_committed(prof, mode, ("fig4.csv", "fig5.csv"))


# %% [markdown]
# Previous: [04 · Per-class accuracy](04_per_class.ipynb) · Next: [06 · Report](06_report.ipynb)
