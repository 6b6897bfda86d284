"""One registry of names: a method registered there (and nowhere else) is a row of the tables and a
legend entry of the figures; every figure gives a run one label and one colour; the paper's labels,
row order and claim names are what the tables' and claims' csv files have always held."""
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from amidlib.core.methods import METHODS, REGISTRY, StudentAlone, register, unregister
from amidlib.paper import claims, names, plans, plots, tables
from amidlib.repro import profiles, runs

T12 = ["baseline", "crd", "gmc", "crcd", "ccl", "amid", "teacher"]
T3 = ["baseline", "gmc", "crcd", "ccl", "amid"]


class Toy(StudentAlone):
    """The student alone under another name: a method that exists only through ``register``."""

    name = "toy"


def _legend(fig) -> dict[str, str]:
    """legend text -> colour of its handle, over every legend of ``fig``."""
    out = {}
    for leg in [ax.get_legend() for ax in fig.axes] + list(fig.legends):  # an axes' legend, or one for the figure
        if leg is None:
            continue
        for text, handle in zip(leg.get_texts(), leg.legend_handles):
            colour = handle.get_color() if hasattr(handle, "get_color") else handle.get_facecolor()
            out[text.get_text()] = to_hex(colour)
    return out


def test_a_method_registered_only_in_the_registry_is_in_the_tables_and_figures(tmp_path):
    prof = profiles.load_profile("ci", cache_dir=tmp_path / "cache", out_dir=tmp_path / "out", epochs=2, n_jobs=1)
    label, legend, colour = "Toy (student alone, renamed)", "toy (renamed student)", "#123456"
    assert "toy" not in METHODS and "toy" not in plans.T12_METHODS
    assert "toy" not in {c.row for c in plans.plan_table1(prof)} | {c.row for c in plans.plan_table2(prof)}
    assert tables._label("table1", "toy") == "toy" and legend not in plots.PALETTE

    register("toy", Toy, label=label, legend=legend, colour=colour, tables=("table1", "table2"))
    try:
        # the plans: after the methods, before the reference row (the teacher); Table 2 too, Table 3 not
        assert plans.T12_METHODS == [*T12[:-1], "toy", "teacher"]
        assert [c.row for c in plans.plan_table1(prof) if c.setting == prof.main.key] == [*T12[:-1], "toy", "teacher"]
        assert "toy" in {c.row for c in plans.plan_table2(prof)} and "toy" not in {c.row for c in plans.plan_table3(prof)}

        # a table: trained, summarised, written, with its label
        cells = [c for c in plans.plan_table1(prof) if c.row in ("baseline", "toy")]
        study = runs.Study(prof, verbose=False)
        tidy = tables.summarise(study.runs(cells), "table1", tables.data_descriptions(prof))
        assert set(tidy[tidy.row == "toy"].label) == {label} and (tidy[tidy.row == "toy"]["mean"] > 10).all()
        md, csv = tables.write_table(tidy, prof.out_dir, prof)
        assert f"| {label} " in md.read_text() and label in set(pd.read_csv(csv).label)

        # a figure: Table 1's picture names it (its legend label), in its colour
        frame = tidy[tidy.metric == "student_top1"].assign(paper=60.0)
        fig = plots.plot_table1(frame)
        ax = fig.axes[0]
        from matplotlib.container import BarContainer

        ours = [c for c in ax.containers if isinstance(c, BarContainer)][0]  # the solid bars ("ours"), one per method
        shown = {tick.get_text(): to_hex(bar.get_facecolor()) for tick, bar in
                 zip(sorted(ax.get_yticklabels(), key=lambda t: -t.get_position()[1]),
                     sorted(ours.patches, key=lambda b: -b.get_y()))}
        plt.close(fig)
        assert shown[legend] == colour and shown[names.legend("baseline")] == REGISTRY["baseline"].colour
    finally:
        unregister("toy")
    assert "toy" not in METHODS and "toy" not in plans.T12_METHODS and legend not in plots.PALETTE


def test_register_refuses_what_it_cannot_use():
    with pytest.raises(ValueError, match="already registered"):
        register("amid", METHODS["amid"], label="x", colour="#000000")
    with pytest.raises(ValueError, match="name"):
        register("toy2", Toy, label="x", colour="#000000")
    with pytest.raises(ValueError, match="method tables"):
        register("toy", Toy, label="x", colour="#000000", tables=("table4",))
    with pytest.raises(ValueError, match="#rrggbb"):
        register("toy", Toy, label="x", colour="blue")
    assert "toy" not in METHODS and "toy" not in REGISTRY and "toy2" not in METHODS


def test_the_papers_rows_labels_and_claim_names_are_unchanged():
    """What the csv files (tables' label column, claims' evidence) and the plans' row order hold."""
    assert list(METHODS) == ["baseline", "teacher", "crd", "gmc", "crcd", "ccl", "amid"]
    assert plans.T12_METHODS == T12 and plans.T3_METHODS == T3 and names.table_rows("table2") == T12[:-1]
    assert [r for r, _, _ in plans.T4_ROWS] == ["student_alone", "teacher_alone", "cls_jsd", "mi_s", "mi_s+mi_a", "amid",
                                               "amid_nce"]
    assert [r for r, _, _ in plans.T5_ROWS] == ["amid", "fixed_teacher", "no_warmup", "no_d2", "no_d2_keep_d1",
                                               "uniform_lambda"]
    assert dict((r, (m, ov)) for r, m, ov in plans.T4_ROWS + plans.T5_ROWS) == {
        "student_alone": ("baseline", {}), "teacher_alone": ("teacher", {}),
        "mi_s": ("amid", {"use_mi_a": False, "use_adv": False}), "mi_s+mi_a": ("amid", {"use_adv": False}),
        "amid": ("amid", {}), "amid_nce": ("amid", {"mi_loss": "nce"}), "fixed_teacher": ("amid", {"fixed_teacher": True}),
        "no_warmup": ("amid", {"warmup_epochs": 0}), "no_d2": ("amid", {"use_d2": False}),
        "cls_jsd": ("amid", {"use_mi_s": False, "use_mi_a": False, "use_adv": False}),
        "no_d2_keep_d1": ("amid", {"use_d2": False, "d1_weight_without_d2": 0.5}),
        "uniform_lambda": ("amid", {"dynamic_lambda": False})}
    assert tables.DISPLAY == {
        "baseline": "Baseline (student alone)", "teacher": "Teacher (reference: full modalities)", "crd": "CRD",
        "gmc": "GMC", "crcd": "CRCD", "ccl": "CCL", "amid": "AMID (ours)",
        "student_alone": "student alone (w/o distillation)", "teacher_alone": "teacher alone (w/o distillation)",
        "mi_s": "L_MI_s", "mi_s+mi_a": "L_MI_s + L_MI_a", "amid_nce": "AMID with L_nce",
        "fixed_teacher": "with fixed teacher", "no_warmup": "w/o warm-up", "no_d2": "w/o D2",
        "uniform_lambda": "w/o dynamic weight", "cls_jsd": "L_cls + L_JSD only (no MI or adversarial term)",
        "no_d2_keep_d1": "w/o D2, D1's weight kept (ours)"}
    assert tables._label("table4", "amid") == "L_MI_s + L_MI_a + L_adv (AMID)"
    assert tables._label("table5", "amid") == "AMID" and tables._label("table1", "amid") == "AMID (ours)"
    assert tables._label("table6", "4.0") == "4.0" and tables._label("table1", "nope") == "nope"
    short = {"mi_s": "L_MI_s", "mi_s+mi_a": "L_MI_s+L_MI_a", "teacher_alone": "teacher alone", "amid": "AMID",
             "amid_nce": "AMID with L_nce", "fixed_teacher": "fixed teacher", "no_warmup": "w/o warm-up",
             "no_d2": "w/o D2", "uniform_lambda": "w/o dynamic weight", "ccl": "CCL", "baseline": "baseline"}
    assert {r: names.short_name(r, "table4") for r in short} == short
    assert names.short_name("mi_s+mi_a", "fig5") == "w/o L_adv" and names.short_name("mi_s+mi_a", "fig4") == "L_MI_s+L_MI_a"
    assert runs.SCALARS == ["student_top1", "teacher_top1", "student_r1", "student_r5", "wa", "ua"]
    assert set(names.METRIC_NAMES) == set(runs.SCALARS) and tables._METRIC_NAMES["student_r5"] == "R@5"
    # the names a claim's comparison is written with (claims.md, fig_claims.png)
    fig5_runs = pd.DataFrame([{"source": "fig5", "setting": "", "paper_setting": "UCF51", "row": r, "seed": s, "fold": -1,
                          "train_cos_same_class": v + 0.01 * s, "test_cos_same_class": v}
                         for r, v in (("amid", 0.9), ("no_d2", 0.8), ("mi_s+mi_a", 0.7)) for s in range(3)])
    md = claims.claims_markdown(claims.evaluate_claims(fig5_runs))
    assert "AMID > w/o D2 [train cos same class]" in md and "w/o D2 > w/o L_adv [test cos same class]" in md


def test_one_legend_and_one_colour_per_run_in_every_figure():
    rows = names.rows()
    legends = [r.legend for r in rows.values()]
    assert len(set(legends)) == len(legends), "two rows share a legend label"
    runs_of = {}
    for r in rows.values():
        runs_of.setdefault(r.colour, set()).add((r.method, r.overrides))
    assert all(len(v) == 1 for v in runs_of.values()), f"one colour for different runs: {runs_of}"
    assert not set(names.VARIANTS) & set(METHODS)

    epochs = np.arange(1, 5)
    hist = pd.DataFrame([{"row": row, "seed": s, "epoch": e, "phase": "warmup" if e == 1 else "distill",
                          "test_gap": 10.0 - e + k, "train_cos_same_class": 0.1 * e + k, "test_cos_same_class": 0.1 * e,
                          "test_teacher_top1": 80.0 + k, "mi_s_value": 1.0, "mi_a_value": 2.0}
                         for k, row in enumerate(("mi_s", "mi_s+mi_a", "amid", "no_d2")) for s in (0, 1) for e in epochs])
    shown = {}
    for plot, rows_in in ((plots.plot_fig1_diagnostic, ["mi_s", "mi_s+mi_a", "amid"]),
                          (plots.plot_fig4, ["mi_s+mi_a", "amid"]), (plots.plot_fig5, ["amid", "no_d2", "mi_s+mi_a"])):
        fig = plot(hist[hist.row.isin(rows_in)], "synthetic", 1)
        shown[plot.__name__] = _legend(fig)
        plt.close(fig)
        assert shown[plot.__name__] == {names.legend(r): names.colour(r) for r in rows_in}
    label = names.legend("mi_s+mi_a")
    assert "L_{adv}" in label and "L_{MI_a}" in label  # "AMID w/o L_adv (L_MI_s + L_MI_a)", in Figs 1, 4 and 5
    assert {name: legend[label] for name, legend in shown.items()} == dict.fromkeys(shown, names.colour("mi_s+mi_a"))
