"""The figures' style (issue 22, item 4): one colour, line style and marker per arm in every figure, from the
registry of names; a run's teacher and student curves told apart by the marker's fill; short titles that fit
the figure, the long text a caption; difference panels with intervals for Figs 4 and 5; fig_claims turned to
the paper's direction on every row; Table 6 on one colour scale with a colour bar; Table 1's panels on one
axis range; fig_regime's log axis labelled and "points" everywhere."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.container import ErrorbarContainer  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from scipy import stats as st  # noqa: E402

from amidlib.paper import claims, names, plots, regime  # noqa: E402

ARMS = ("mi_s", "mi_s+mi_a", "amid", "no_d2", "no_warmup", "teacher_alone")


def _hist(rows=ARMS, seeds=(0, 1, 2), epochs=6, warmup=2) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame([{"row": row, "seed": s, "epoch": e, "phase": "warmup" if e <= warmup else "distill",
                          "test_gap": 10.0 - e + k + rng.normal(0, 0.3), "train_cos_same_class": 0.1 * e + 0.01 * k,
                          "test_cos_same_class": 0.05 * e + 0.01 * k + rng.normal(0, 0.002),
                          "train_cos_same_sample": 0.1 * e, "test_cos_same_sample": 0.08 * e,
                          "test_teacher_top1": 80.0 + k, "test_student_top1": 60.0 + k + e, "mi_s_value": 1.0,
                          "mi_a_value": 2.0}
                         for k, row in enumerate(rows) for s in seeds for e in range(1, epochs + 1)])


def _dashes(linestyle):
    """A line style's dash pattern as matplotlib draws it (so "--" and its tuple compare equal)."""
    return Line2D([], [], linestyle=linestyle)._unscaled_dash_pattern


def _curves(fig) -> dict[str, Line2D]:
    """legend label -> the artist drawn with it (an errorbar's data line), over every axes of ``fig``."""
    out = {}
    for ax in fig.axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            if isinstance(handle, ErrorbarContainer):
                handle = handle.lines[0]
            if isinstance(handle, Line2D):
                out[label] = handle
    return out


def _arm_of(label: str) -> tuple[str | None, str | None]:
    """(row, part) a curve's label names: a row's legend, "<legend>: teacher|student", or "AMID − <legend>"
    (the difference panels: drawn in the style of the arm compared with)."""
    legends = {names.legend(r): r for r in names.rows()}
    part = None
    for p in ("teacher", "student"):
        if label.endswith(f": {p}"):
            label, part = label[: -len(p) - 2], p
    if label.startswith(f"{names.legend('amid')} − "):
        label = label[len(names.legend("amid")) + 3:]
    label = label.split(" (final")[0].split(" (")[0] if label not in legends else label
    return legends.get(label), part


def _figures():
    hist = _hist()
    by = {r: hist[hist.row.isin(r)] for r in [("mi_s", "mi_s+mi_a", "amid"), ("mi_s+mi_a", "amid"),
                                              ("amid", "no_d2", "mi_s+mi_a"), ("amid", "no_warmup")]}
    ta = hist[(hist.row == "teacher_alone") & (hist.epoch == hist.epoch.max())]["test_teacher_top1"]
    effects = pd.DataFrame([{"pairing": p, "batch_size": b, "row": r, "n": 3, "positives": pos, "with_partner": 0.5,
                             "effect": e, "ci_low": e - 1, "ci_high": e + 1}
                            for p in ("main", "second") for r, e in (("ccl", 1.0), ("amid", 2.0))
                            for b, pos in ((16, 1.3), (64, 7.2))])
    return {
        "fig1": plots.plot_fig1_diagnostic(by[("mi_s", "mi_s+mi_a", "amid")], "synthetic", 2, ta),
        "fig4": plots.plot_fig4(by[("mi_s+mi_a", "amid")], "synthetic", 2),
        "fig5": plots.plot_fig5(by[("amid", "no_d2", "mi_s+mi_a")], "synthetic", 2),
        "warmup": plots.plot_warmup(by[("amid", "no_warmup")], "synthetic", 2),
        "regime": regime.plot_regime(effects, "synthetic", (1.3, 0.26)),
    }


def test_each_arm_has_one_colour_line_style_and_marker_in_every_figure():
    # the registry: every row a colour, a line style and a marker; no two runs look the same
    looks = {}
    for _name, r in names.rows().items():
        assert r.marker in names.MARKERS and _dashes(r.linestyle) is not None
        looks.setdefault((r.colour, str(r.linestyle), r.marker), set()).add((r.method, r.overrides))
    assert all(len(v) == 1 for v in looks.values()), looks
    seen = {}
    for fig_name, fig in _figures().items():
        for label, line in _curves(fig).items():
            row, part = _arm_of(label)
            if row is None or label.startswith(("train, ", "test, ")):
                continue
            st_ = names.style(row, part)
            drawn = (to_hex(line.get_color()), line._unscaled_dash_pattern, line.get_marker())
            want = (st_["color"], _dashes(st_["linestyle"]), st_["marker"])
            if fig_name == "fig1" and row == "teacher_alone":  # the reference: a flat line, the arm's colour and dashes
                want = (st_["color"], _dashes(st_["linestyle"]), line.get_marker())
            assert drawn == want, (fig_name, label)
            seen.setdefault(row, set()).add(fig_name)
        plt.close(fig)
    # the arms drawn in several figures: the same look in each (checked above against the registry)
    assert {"fig1", "fig4", "fig5"} <= seen["mi_s+mi_a"]
    assert {"fig1", "fig4", "fig5", "warmup", "regime"} <= seen["amid"]


def test_teacher_and_student_curves_differ_in_the_markers_fill_only():
    fig = plots.plot_warmup(_hist(("amid", "no_warmup")), "synthetic", 2)
    curves = _curves(fig)
    for row in ("amid", "no_warmup"):
        t, s = curves[f"{names.legend(row)}: teacher"], curves[f"{names.legend(row)}: student"]
        assert t.get_fillstyle() == names.TEACHER_FILL and s.get_fillstyle() == names.STUDENT_FILL
        assert (to_hex(t.get_color()), t.get_marker()) == (to_hex(s.get_color()), s.get_marker()) == \
            (names.colour(row), names.marker(row))
    # no arm's colour stands for "teacher" or "student" (the old blue / green)
    colours = {to_hex(line.get_color()) for line in curves.values()}
    assert colours <= {names.colour("amid"), names.colour("no_warmup")}
    assert "teacher" in plots.caption(fig) and "open" in plots.caption(fig)
    plt.close(fig)


def _text_inside(fig) -> None:
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    width = fig.bbox.width
    texts = [t for t in [fig._suptitle] + [ax.title for ax in fig.axes] if t is not None and t.get_text()]
    for t in texts:
        box = t.get_window_extent(renderer)
        assert box.x0 >= -1 and box.x1 <= width + 1, (t.get_text(), box.x0, box.x1, width)


def test_titles_fit_the_figure_and_the_long_text_is_the_caption(tmp_path):
    figs = _figures()
    rng = np.random.default_rng(0)
    per_class = pd.DataFrame([{"row": row, "seed": s, "class_index": c, "class_name": f"{c // 10}-{c % 10}",
                               "top1": float(rng.uniform(50, 90))}
                              for row in ("ccl", "amid", "kd") for s in range(3) for c in range(55)])
    figs["fig3"] = plots.plot_fig3(per_class, "synthetic")
    figs["table1"] = plots.plot_table1(_table1())
    figs["table6"] = plots.plot_table6(_table6())
    figs["claims"] = claims.plot_claims(claims.evaluate_claims(_claim_runs()))
    for name, fig in figs.items():
        _text_inside(fig)
        for ax in fig.axes:
            assert len(ax.get_title()) <= 60, (name, ax.get_title())
        assert len(plots.caption(fig)) > 80, name
        # no "pp": every figure says points
        words = [t.get_text() for t in fig.findobj(matplotlib.text.Text)] + [plots.caption(fig)]
        assert not any(" pp" in w or w.endswith("pp)") for w in words), name
    # the caption travels with the files
    path = plots.save(figs["fig4"], tmp_path / "fig4")
    assert plots.read_caption(path) == plots.caption(figs["fig4"])
    for fig in figs.values():
        plt.close(fig)


def test_fig4_and_fig5_have_a_difference_panel_with_paired_intervals():
    hist = _hist(("mi_s+mi_a", "amid", "no_d2"))
    fig = plots.plot_fig4(hist[hist.row != "no_d2"], "synthetic", 2)
    assert len(fig.axes) == 2
    diff = _curves(fig)[f"{names.legend('amid')} − {names.legend('mi_s+mi_a')}"]
    wide = hist.pivot_table(index=["epoch", "seed"], columns="row", values="test_gap")
    d = (wide["amid"] - wide["mi_s+mi_a"]).groupby(level="epoch")
    np.testing.assert_allclose(diff.get_ydata(), d.mean().to_numpy())
    got = plots.paired_epoch_differences(hist, "test_gap", "amid", "mi_s+mi_a")
    half = st.t.ppf(0.975, 2) * d.std(ddof=1) / np.sqrt(3)
    np.testing.assert_allclose(got["ci_high"] - got["diff"], half.to_numpy())
    # the y label of the curves is not under the title
    fig.canvas.draw()
    r = fig.canvas.get_renderer()
    assert not fig.axes[0].yaxis.label.get_window_extent(r).overlaps(fig.axes[0].title.get_window_extent(r))
    plt.close(fig)
    fig = plots.plot_fig5(hist, "synthetic", 2)
    assert len(fig.axes) == 4
    labels = set(_curves(fig))
    assert {f"{names.legend('amid')} − {names.legend(r)}" for r in ("no_d2", "mi_s+mi_a")} <= labels
    assert any(c.get_paths() for ax in fig.axes[2:] for c in ax.collections)  # the interval bands
    plt.close(fig)


def _claim_runs() -> pd.DataFrame:
    def seed_runs(source, values, metric):
        return pd.DataFrame([{"source": source, "setting": "", "paper_setting": "UCF51", "row": row, "seed": s,
                              "fold": -1, "method": row, "dataset": "uci_mfeat", metric: v}
                             for row, vs in values.items() for s, v in enumerate(vs)])
    return pd.concat([
        seed_runs("table4", {"mi_s": [90, 91, 90.5], "teacher_alone": [95, 95.5, 96]}, "teacher_top1"),
        seed_runs("table4", {"amid": [81, 82, 81.5], "mi_s+mi_a": [80, 81, 80.5], "amid_nce": [82, 84, 83]},
                  "student_top1"),
        seed_runs("fig4", {"amid": [11, 12, 10], "mi_s+mi_a": [21, 22, 21]}, "test_gap"),
    ])


def test_fig_claims_turns_every_row_to_the_papers_direction():
    v = claims.evaluate_claims(_claim_runs())
    o = claims.oriented(v)
    for r in o.itertuples():
        if r.verdict == "supported":
            assert r.oriented_ci_low > 0 and r.oriented_effect > 0
        elif r.verdict == "contradicted":
            assert r.oriented_ci_high < 0 and r.oriented_effect < 0
    # "a < b" rows are turned (the teacher of L_MI_s alone below the teacher alone: supported, drawn right of 0)
    assert set(o.verdict) >= {"supported", "contradicted"}
    weak = o.set_index("id").loc["mi_s_weakens_teacher"]
    assert weak.direction == -1 and weak.effect < 0 < weak.oriented_effect
    if not np.isnan(weak.paper_effect):
        assert weak.oriented_paper_effect == pytest.approx(-weak.paper_effect)
    fig = claims.plot_claims(v)
    dots = sorted(x for ax in fig.axes for line in ax.get_lines() if line.get_marker() == "o"
                  for x in line.get_xdata() if np.isfinite(x))
    assert dots == pytest.approx(sorted(o["oriented_effect"].dropna()))
    assert all("paper's direction" in ax.get_xlabel() for ax in fig.axes)
    assert any("points" in ax.get_xlabel() for ax in fig.axes)
    plt.close(fig)


def _table6() -> pd.DataFrame:
    rows = []
    for alpha, values in (("alpha1", (3.9, 4.0, 4.1)), ("alpha2", (1.5, 1.6, 1.7)), ("alpha3", (0.9, 1.0, 1.1))):
        for k, v in enumerate(values):
            rows.append({"table": "table6", "setting": alpha, "row": str(v), "metric": "student_top1",
                         "paper": 73.0 + k, "mean": 58.0 + 0.5 * k * (alpha == "alpha2"), "std": 1.0, "n": 3})
    return pd.DataFrame(rows)


def test_table6_shares_one_colour_scale_and_has_a_colour_bar():
    fig = plots.plot_table6(_table6())
    meshes = [ax.collections[0] for ax in fig.axes if ax.collections and ax.get_title()]
    assert len(meshes) == 3 and len({m.get_clim() for m in meshes}) == 1
    assert any(m.colorbar is not None for m in meshes)
    assert any("points" in ax.get_ylabel() for ax in fig.axes if not ax.get_title())
    plt.close(fig)


def _table1() -> pd.DataFrame:
    rows = []
    for setting, paper_setting, level in (("a", "UCF51", 50.0), ("b", "ActivityNet", 70.0)):
        for k, row in enumerate(names.table_rows("table1")[:6]):
            rows.append({"table": "table1", "setting": setting, "paper_setting": paper_setting, "row": row,
                         "metric": "student_top1", "paper": level + k, "mean": level + 2 * k, "std": 1.0, "n": 3})
    return pd.DataFrame(rows)


def test_table1_panels_share_one_axis_range():
    fig = plots.plot_table1(_table1())
    assert len({ax.get_xlim() for ax in fig.axes}) == 1
    plt.close(fig)


def test_fig_regime_labels_its_log_axis_in_points():
    effects = pd.DataFrame([{"pairing": "main", "batch_size": b, "row": r, "n": 3, "positives": pos,
                             "with_partner": 0.5, "effect": 1.0, "ci_low": 0.0, "ci_high": 2.0}
                            for r in ("ccl", "amid") for b, pos in ((16, 1.3), (64, 7.2))])
    fig = regime.plot_regime(effects, "synthetic")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and "log scale" in ax.get_xlabel() and "points" in ax.get_ylabel()
    plt.close(fig)


def test_write_claims_keeps_fig_claims_csv_columns_and_adds_the_orientation(tmp_path):
    _claim_runs().to_csv(tmp_path / "runs.csv", index=False)
    claims.write_claims(tmp_path)
    back = pd.read_csv(tmp_path / "fig_claims.csv")
    old = ["id", "a", "op", "b", "metric", "setting", "n", "effect", "ci_low", "ci_high", "paper_effect", "verdict"]
    assert list(back.columns[:len(old)]) == old and "direction" in back and "oriented_effect" in back
    assert (back["oriented_effect"].dropna() == (back["direction"] * back["effect"]).dropna()).all()
    assert "paper's direction" in plots.read_caption(tmp_path / "fig_claims.png")


def test_a_captioned_figure_saved_twice_gives_the_same_bytes(tmp_path):
    outs = []
    for name in ("a", "b"):
        fig, ax = plt.subplots()
        ax.plot([0, 1, 2], [1, 3, 2])
        plots.set_caption(fig, "A caption with − and α: the same bytes every time.")
        p = plots.save(fig, tmp_path / name)
        plt.close(fig)
        outs.append((p.read_bytes(), p.with_suffix(".pdf").read_bytes()))
    assert outs[0] == outs[1]
    assert plots.read_caption(tmp_path / "a.png") == "A caption with − and α: the same bytes every time."


def test_fig3_names_the_classes_of_its_dataset():
    """The x label comes from the dataset (``Dataset.class_noun``), not from the class count: UCF51's 51 classes
    were labelled "handwritten digit pair" because they are more than 20."""
    from amidlib.data import datasets

    rng = np.random.default_rng(0)
    per_class = pd.DataFrame([{"row": row, "seed": s, "class_index": c, "class_name": f"c{c}",
                               "top1": float(rng.uniform(50, 90))}
                              for row in ("ccl", "amid") for s in range(3) for c in range(51)])
    for name, noun in (("ucf51", "action"), ("uci_pairs", "handwritten digit pair"), ("iemocap", "emotion")):
        assert datasets.get(name).class_noun == noun
        fig = plots.plot_fig3(per_class, name, class_noun=datasets.get(name).class_noun)
        assert fig.axes[0].get_xlabel() == f"class ({noun})"
    assert all(datasets.get(n).class_noun != "class" for n in datasets.names()), "every dataset names its classes"
