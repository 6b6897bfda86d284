"""The registries of methods and names: the core trains what is registered (one file per method), the paper
layer's registry names and colours it and places it in the tables; the methods of the paper's tables are the
ones data_manifests/paper_results.csv lists; every figure gives a run one label and one colour; the paper's
labels, row order and claim names are what the tables' and claims' csv files have always held."""
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.colors import to_hex

from amidlib.core.methods import METHODS, Method, StudentAlone, register, unregister
from amidlib.paper import claims, names, plans, plots, tables
from amidlib.repro import profiles, runs

PAPER_RESULTS = Path(__file__).resolve().parents[1] / "data_manifests" / "paper_results.csv"


class Toy(StudentAlone):
    """The student alone under another name: a method that exists only through ``register``."""

    name = "toy"


def _paper_methods() -> dict[str, list[str]]:
    """table -> the methods paper_results.csv lists for it (Tables 1-3), in the file's order."""
    csv = pd.read_csv(PAPER_RESULTS, dtype=str)
    return {t: list(dict.fromkeys(csv.loc[csv.table == t, "method"])) for t in names.METHOD_TABLES}


def _legend(fig) -> dict[str, str]:
    """legend text -> colour of its handle, over every legend of ``fig``."""
    out = {}
    for leg in [ax.get_legend() for ax in fig.axes] + list(fig.legends):  # an axes' legend, or one for the figure
        if leg is None:
            continue
        for text, handle in zip(leg.get_texts(), leg.legend_handles, strict=True):
            colour = handle.get_color() if hasattr(handle, "get_color") else handle.get_facecolor()
            colour = colour[0] if np.ndim(colour) == 2 else colour
            out[text.get_text()] = to_hex(colour)
    return out


def test_the_methods_of_the_papers_tables_are_registered_and_declared_from_the_csv():
    """Tables 1-3: the rows the paper has are exactly paper_results.csv's methods, in its order, each trainable;
    the reference rows (Table 1's teacher, Hinton KD) come after them and are not looked up in the csv."""
    paper = _paper_methods()
    for table, methods in paper.items():
        rows = names.table_rows(table)
        assert [r for r in rows if names.paper_lists(table, r)] == methods, table
        assert all(r in METHODS for r in rows), table
    refs = [r for r in names.table_rows("table1") if not names.paper_lists("table1", r)]
    # (a new method file may add rows after these: they are the package's own, pinned)
    assert refs[:2] == ["teacher", "kd"] and names.table_rows("table1") == [*paper["table1"], *refs]
    assert not names.in_paper("kd") and "not in the paper" in names.table_label("table1", "kd")
    assert "kd" not in set(pd.read_csv(PAPER_RESULTS, dtype=str).method)
    assert names.figure_references("fig3")[:1] == ["kd"]
    assert "kd" not in names.table_rows("table2") + names.table_rows("table3")
    # the core lists the paper's methods first, in the order of its Table 1 (teacher after the student alone)
    assert list(METHODS)[:7] == ["baseline", "teacher", *paper["table1"][1:]]


def test_a_method_declared_in_the_paper_registry_is_in_the_tables_and_figures(tmp_path):
    prof = profiles.load_profile("ci", cache_dir=tmp_path / "cache", out_dir=tmp_path / "out", epochs=2, n_jobs=1)
    label, legend, colour = "Toy (student alone, renamed)", "toy (renamed student)", "#123456"
    t1 = names.table_rows("table1")
    assert "toy" not in METHODS and "toy" not in t1
    assert "toy" not in {c.row for c in plans.plan_table1(prof)} | {c.row for c in plans.plan_table2(prof)}
    assert tables._label("table1", "toy") == "toy" and legend not in names.palette()

    register(Toy)
    names.declare("toy", label=label, legend=legend, colour=colour, tables=("table1", "table2"))
    try:
        # the plans: after the methods, before the reference rows (the teacher, Hinton KD); Table 2 too, Table 3 not
        methods = [r for r in t1 if names.paper_lists("table1", r)]
        refs = t1[len(methods):]
        assert names.table_rows("table1") == [*methods, "toy", *refs]
        assert [c.row for c in plans.plan_table1(prof) if c.setting == prof.main.key] == [*methods, "toy", *refs]
        assert ("toy" in {c.row for c in plans.plan_table2(prof)}
                and "toy" not in {c.row for c in plans.plan_table3(prof)})

        # a table: trained, summarised, written, with its label
        cells = [c for c in plans.plan_table1(prof) if c.row in ("baseline", "toy")]
        study = runs.Study(prof, verbose=False)
        tidy = tables.summarise(study.runs(cells), "table1", tables.data_descriptions(prof))
        assert set(tidy[tidy.row == "toy"].label) == {label} and (tidy[tidy.row == "toy"]["mean"] > 10).all()
        md, csv = tables.write_table(tidy, prof.paths.out_dir, prof)
        assert f"| {label} " in md.read_text() and label in set(pd.read_csv(csv).label)

        # a figure: Table 1's picture names it (its legend label), in its colour
        frame = tidy[tidy.metric == "student_top1"].assign(paper=60.0)
        fig = plots.plot_table1(frame)
        ax = fig.axes[0]
        from matplotlib.container import BarContainer

        ours = [c for c in ax.containers if isinstance(c, BarContainer)][0]  # the solid bars ("ours"), one per method
        shown = {tick.get_text(): to_hex(bar.get_facecolor()) for tick, bar in
                 zip(sorted(ax.get_yticklabels(), key=lambda t: -t.get_position()[1]),
                     sorted(ours.patches, key=lambda b: -b.get_y()), strict=True)}
        plt.close(fig)
        assert shown[legend] == colour and shown[names.legend("baseline")] == names.colour("baseline") == "#000000"
    finally:
        names.undeclare("toy")
        unregister("toy")
    assert "toy" not in METHODS and "toy" not in names.table_rows("table1") and legend not in names.palette()


def test_a_registered_method_the_paper_does_not_declare_has_a_default_row_and_no_table():
    register(Toy)
    try:
        r = names.row("toy")
        assert (r.label, r.short, r.legend, r.method) == ("toy", "toy", "toy", "toy")
        others = {x.colour for n, x in names.rows().items() if n != "toy"}
        assert r.colour not in others and names.palette()["toy"] == r.colour
        assert all("toy" not in names.table_rows(t) for t in names.TABLES)
        assert not names.in_paper("toy") and not names.paper_lists("table1", "toy")
        assert names.row_spec("toy") == ("toy", {}) and names.reports("toy") == (True, False)
    finally:
        unregister("toy")
    assert names.row("toy") is None


def test_register_and_declare_refuse_what_they_cannot_use():
    class OtherAmid(StudentAlone):
        name = "amid"

    class Nameless(StudentAlone):
        pass

    with pytest.raises(ValueError, match="already registered"):
        register(OtherAmid)
    with pytest.raises(ValueError, match="sets no `name`"):
        register(Nameless)
    with pytest.raises(TypeError, match="not a subclass"):
        register(dict)
    assert METHODS["amid"].__name__ == "AMID" and METHODS["baseline"] is StudentAlone
    assert register(StudentAlone) is StudentAlone  # registering the same class again is no clash
    with pytest.raises(ValueError, match="already declared"):
        names.declare("amid", label="x", colour="#000000")
    with pytest.raises(ValueError, match="not method tables"):
        names.declare("toy", label="x", colour="#000000", tables=("table4",))
    with pytest.raises(ValueError, match="reference=True"):
        names.declare("toy", label="x", colour="#000000", figures=("fig3",))
    with pytest.raises(ValueError, match="#rrggbb"):
        names.declare("toy", label="x", colour="blue")
    assert "toy" not in METHODS and names.row("toy") is None and issubclass(Toy, Method)


def test_the_papers_rows_labels_and_claim_names_are_unchanged():
    """What the csv files (tables' label column, claims' evidence) and the plans' row order hold."""
    paper = _paper_methods()
    # (the package's own rows, pinned; a new method file's rows may follow them)
    t1, t2, t3 = (names.table_rows(t) for t in ("table1", "table2", "table3"))
    assert t1[:len(paper["table1"]) + 2] == [*paper["table1"], "teacher", "kd"]
    assert t2[:len(paper["table2"])] == paper["table2"] and t3[:len(paper["table3"])] == paper["table3"]
    assert [r for r, _, _ in plans.table_specs("table4")] == ["student_alone", "teacher_alone", "cls_jsd", "mi_s",
                                                              "mi_s+mi_a", "amid", "amid_nce"]
    assert [r for r, _, _ in plans.table_specs("table5")] == ["amid", "fixed_teacher", "no_warmup", "no_d2",
                                                              "no_d2_keep_d1", "uniform_lambda"]
    assert dict((r, (m, ov)) for r, m, ov in plans.table_specs("table4") + plans.table_specs("table5")) == {
        "student_alone": ("baseline", {}), "teacher_alone": ("teacher", {}),
        "mi_s": ("amid", {"use_mi_a": False, "use_adv": False}), "mi_s+mi_a": ("amid", {"use_adv": False}),
        "amid": ("amid", {}), "amid_nce": ("amid", {"mi_loss": "nce"}),
        "fixed_teacher": ("amid", {"fixed_teacher": True}),
        "no_warmup": ("amid", {"warmup_epochs": 0}), "no_d2": ("amid", {"use_d2": False}),
        "cls_jsd": ("amid", {"use_mi_s": False, "use_mi_a": False, "use_adv": False}),
        "no_d2_keep_d1": ("amid", {"use_d2": False, "d1_weight_without_d2": 0.5}),
        "uniform_lambda": ("amid", {"dynamic_lambda": False})}
    pinned = {
        "baseline": "Baseline (student alone)", "teacher": "Teacher (reference: full modalities)", "crd": "CRD",
        "gmc": "GMC", "crcd": "CRCD", "ccl": "CCL", "amid": "AMID (ours)",
        "kd": "Hinton KD (reference, not in the paper)",
        "student_alone": "student alone (w/o distillation)", "teacher_alone": "teacher alone (w/o distillation)",
        "mi_s": "L_MI_s", "mi_s+mi_a": "L_MI_s + L_MI_a", "amid_nce": "AMID with L_nce",
        "fixed_teacher": "with fixed teacher", "no_warmup": "w/o warm-up", "no_d2": "w/o D2",
        "uniform_lambda": "w/o dynamic weight", "cls_jsd": "L_cls + L_JSD only (no MI or adversarial term)",
        "no_d2_keep_d1": "w/o D2, D1's weight kept (ours)"}
    labels = names.labels()
    assert {name: labels[name] for name in pinned} == pinned
    assert set(labels) - set(pinned) <= set(METHODS) - set(pinned)  # only a new method file's rows besides
    assert tables._label("table4", "amid") == "L_MI_s + L_MI_a + L_adv (AMID)"
    assert tables._label("table5", "amid") == "AMID" and tables._label("table1", "amid") == "AMID (ours)"
    assert tables._label("table6", "4.0") == "4.0" and tables._label("table1", "nope") == "nope"
    short = {"mi_s": "L_MI_s", "mi_s+mi_a": "L_MI_s+L_MI_a", "teacher_alone": "teacher alone", "amid": "AMID",
             "amid_nce": "AMID with L_nce", "fixed_teacher": "fixed teacher", "no_warmup": "w/o warm-up",
             "no_d2": "w/o D2", "uniform_lambda": "w/o dynamic weight", "ccl": "CCL", "baseline": "baseline"}
    assert {r: names.short_name(r, "table4") for r in short} == short
    assert (names.short_name("mi_s+mi_a", "fig5") == "w/o L_adv"
            and names.short_name("mi_s+mi_a", "fig4") == "L_MI_s+L_MI_a")
    assert runs.SCALARS == ["student_top1", "teacher_top1", "student_r1", "student_r5", "wa", "ua"]
    assert set(names.METRIC_NAMES) == set(runs.SCALARS) and tables._METRIC_NAMES["student_r5"] == "R@5"
    # the names a claim's comparison is written with (claims.md, fig_claims.png)
    fig5_runs = pd.DataFrame([{"source": "fig5", "setting": "", "paper_setting": "UCF51", "row": r, "seed": s,
                               "fold": -1,
                          "train_cos_same_class": v + 0.01 * s, "test_cos_same_class": v}
                         for r, v in (("amid", 0.9), ("no_d2", 0.8), ("mi_s+mi_a", 0.7)) for s in range(3)])
    md = claims.claims_markdown(claims.evaluate_claims(fig5_runs))
    assert "AMID > w/o D2 [train cos same class]" in md and "w/o D2 > w/o L_adv [test cos same class]" in md


def test_the_module_constants_are_gone_for_functions():
    """No module-level __getattr__ faking constants: the lists are functions of the registry, called when needed."""
    for module in (plans, tables, plots):
        assert "__getattr__" not in vars(module), module.__name__
    for gone in ("T12_METHODS", "T3_METHODS", "T4_ROWS", "T5_ROWS"):
        assert not hasattr(plans, gone)
    assert not hasattr(tables, "DISPLAY") and not hasattr(plots, "LABELS") and not hasattr(plots, "PALETTE")
    assert names.legends()["mi_s+mi_a"] == names.legend("mi_s+mi_a") and names.palette()["AMID"] == names.colour("amid")


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
                         for k, row in enumerate(("mi_s", "mi_s+mi_a", "amid", "no_d2"))
                         for s in (0, 1) for e in epochs])
    shown = {}
    for plot, rows_in in ((plots.plot_fig1_diagnostic, ["mi_s", "mi_s+mi_a", "amid"]),
                          (plots.plot_fig4, ["mi_s+mi_a", "amid"]), (plots.plot_fig5, ["amid", "no_d2", "mi_s+mi_a"])):
        fig = plot(hist[hist.row.isin(rows_in)], "synthetic", 1)
        # (Figs 4 and 5 also name their difference panels' curves "AMID − <arm>": in that arm's colour)
        shown[plot.__name__] = {k: v for k, v in _legend(fig).items() if " − " not in k}
        diffs = {k: v for k, v in _legend(fig).items() if " − " in k}
        plt.close(fig)
        assert shown[plot.__name__] == {names.legend(r): names.colour(r) for r in rows_in}
        assert diffs == {f"{names.legend('amid')} − {names.legend(r)}": names.colour(r)
                         for r in rows_in if r != "amid" and plot is not plots.plot_fig1_diagnostic}
    label = names.legend("mi_s+mi_a")
    assert "L_{adv}" in label and "L_{MI_a}" in label  # "AMID w/o L_adv (L_MI_s + L_MI_a)", in Figs 1, 4 and 5
    assert {name: legend[label] for name, legend in shown.items()} == dict.fromkeys(shown, names.colour("mi_s+mi_a"))


def test_fig3_draws_the_reference_rows_beside_amid_minus_ccl():
    """Hinton KD (not in the paper) as markers of its own difference to CCL per class, in its colour and legend;
    AMID − CCL's bars as before."""
    rng = np.random.default_rng(0)
    per_class = pd.DataFrame([{"row": row, "seed": s, "class_index": c, "class_name": str(c),
                               "top1": float(rng.uniform(50, 90))}
                              for row in ("ccl", "amid", "kd") for s in range(3) for c in range(4)])
    fig = plots.plot_fig3(per_class, "synthetic")
    ax = fig.axes[0]
    legend = _legend(fig)
    kd_label = f"{names.legend('kd')} − {names.legend('ccl')}"
    assert legend[kd_label] == names.colour("kd") and "not in the paper" in kd_label
    markers = [line for line in ax.get_lines() if line.get_label() == kd_label][0]
    want = plots.paired_class_differences(per_class, "kd", "ccl")["diff"].to_numpy()
    np.testing.assert_allclose(markers.get_ydata(), want)
    bars = [p.get_height() for p in ax.patches]
    np.testing.assert_allclose(bars, plots.paired_class_differences(per_class)["diff"].to_numpy())
    plt.close(fig)
    fig = plots.plot_fig3(per_class[per_class.row != "kd"], "synthetic")  # without its runs: the paper's figure
    assert kd_label not in _legend(fig)
    assert not [line for line in fig.axes[0].get_lines() if line.get_label() == kd_label]
    # the bars' colours are named either way: AMID's where AMID is ahead, CCL's where CCL is
    legend = _legend(fig)
    assert {legend[k] for k in legend if "ahead" in k} == {names.colour("amid"), names.colour("ccl")}
    plt.close(fig)
