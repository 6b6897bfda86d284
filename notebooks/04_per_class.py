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
# # 04 · Per-class accuracy: AMID vs CCL (Fig 3, paper §4.3)
#
# *Read it without running: [the executed copy](../docs/executed/04_per_class.ipynb) holds the outputs of the
# committed reproduction. Run here, it is in explore mode (the `mode` parameter): it computes everything from
# the committed reproduction's run records and trains nothing, so it shows the committed numbers in seconds;
# it writes under `runs/explore/`, never into the committed `figures/`. `mode = "train"` trains what other
# parameters need.*
#
# Table 1 compares averages over all classes. The paper's Fig 3 looks inside: AMID is better than CCL on most
# classes, and no better on the classes where the auxiliary modality says little about the class (there is
# nothing extra for the teacher to pass on). Here: the student's test top-1 per class on the main pairing, from
# the runs of Table 1, as the per-class difference AMID − CCL. The two arms share seeds, so each class's
# difference is the mean of the per-seed differences with its 95 % interval, as for the claims in 02–03.

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
from amidlib.paper import figures, names, plots

# the parameters above -> profile (printed), run cache, plot style; profile paper: checks its data first
prof, study, strict = setup(("figures",), globals())

# %%
fig, per_class = figures.build_fig3(study)
plots.show(fig)

# %% [markdown]
# The same numbers as a table (mean over seeds), with AMID − CCL per class (positive where AMID is better) and
# its interval. The auxiliary view separates some classes from their look-alikes better than others, so the
# classes differ in what a teacher that sees it can pass on; the sentence below says where each method is ahead.

# %%
from amidlib.data.splits import class_names
from amidlib.paper import plots

wide = per_class.groupby(["class_name", "row"])["top1"].mean().unstack()
diff = plots.paired_class_differences(per_class).set_index("class_name")
wide["AMID − CCL"] = diff["diff"]
wide["95 % CI"] = [f"[{lo:+.1f}, {hi:+.1f}]" if hi == hi else "—"
                   for lo, hi in zip(diff.ci_low, diff.ci_high, strict=True)]
display(wide.round(1))

# %%
ahead, behind = int((diff["diff"] > 0).sum()), int((diff["diff"] < 0).sum())
sure_ahead = list(diff.index[diff.ci_low > 0].astype(str))
sure_behind = list(diff.index[diff.ci_high < 0].astype(str))
n = int(diff.n.min())
display(Markdown(
    f"**What you should see.** AMID's student is ahead of CCL's on {ahead} of {len(diff)} classes and behind on "
    f"{behind} (largest gain: class {diff['diff'].idxmax()}, {diff['diff'].max():+.1f} points; largest loss: class "
    f"{diff['diff'].idxmin()}, {diff['diff'].min():+.1f}). "
    + (f"Over {n} seeds the interval excludes 0 for AMID on {len(sure_ahead)} class(es)"
       f"{' (' + ', '.join(sure_ahead) + ')' if sure_ahead else ''} and for CCL on {len(sure_behind)}"
       f"{' (' + ', '.join(sure_behind) + ')' if sure_behind else ''}; the rest are within seed noise. "
       if n > 1 else "With one seed there is no interval: these are single runs. ")
    + ("As in the paper, AMID leads on most classes." if ahead > len(diff) / 2 else
       "Unlike the paper, AMID does not lead on most classes here.")))

# %% tags=["checks"]
# checks: every class x 2 methods x seeds, accuracies in [0, 100], the figure and its data written
n_classes = per_class.class_name.nunique()
assert (set(per_class.row) == {"amid", "ccl", *names.figure_references("fig3")}
        and (not strict or n_classes == len(class_names(prof.main.dataset))))
assert len(per_class) == per_class.row.nunique() * n_classes * len(prof.seeds)
assert per_class.top1.between(0, 100).all() and (not strict or per_class.top1.mean() > 10 + 30)
assert (prof.paths.out_dir / "fig3.png").stat().st_size > 10_000 and (prof.paths.out_dir / "fig3.csv").is_file()

# opened by hand with its defaults (explore mode): the committed numbers, from the committed run records
from amidlib.notebook import same_as_committed

same_as_committed(prof, mode, ("fig3.csv",))


# %% [markdown]
# Previous: [03 · Ablations](03_ablations.ipynb) · Next: [05 · Training curves](05_cosine_curves.ipynb)
