"""The committed notebooks: each paired with its jupytext ``py:percent`` file and in sync with it, no outputs,
kernel amid-repro, a literal CI-safe parameters cell, the shared setup in one call, real checks.

The ``.ipynb`` files are the source (edit them in JupyterLab, or edit the ``.py`` pair and run
``jupytext --sync``; see README "Editing the notebooks"). Executing them is nbval's job:
``pytest --nbval-lax --nbval-current-env notebooks/``.
"""
import ast
import json
import re
import shutil
from pathlib import Path

import jupytext
import nbformat
import papermill
import pytest

from amidlib.repro.profiles import COMMON_PARAMETERS

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"
EXPECTED = ["00_data_prep", "01_warmup", "02_amid_training", "03_ablations", "04_per_class", "05_cosine_curves",
            "06_report", "07_teaching"]
PAIR_FORMAT = "py:percent"


def _notebooks():
    return sorted(NB_DIR.glob("[0-9][0-9]_*.ipynb"))


def _read(path):
    return nbformat.read(path, as_version=4)


# ----------------------------------------------------------------------------- the checks (also run on broken copies)
def _cells(nb):
    """What a pair must agree on: per cell, its type, its source and its tags."""
    return [(c.cell_type, c.source, list(c.metadata.get("tags", []))) for c in nb.cells]


def pair_problems(folder: Path) -> list[str]:
    """Every way the notebooks in ``folder`` and their ``.py`` pairs disagree (empty: all paired and in sync)."""
    notebooks = {p.stem for p in folder.glob("*.ipynb")}
    scripts = {p.stem for p in folder.glob("*.py")}
    problems = [f"{s}.ipynb has no {PAIR_FORMAT} pair {s}.py" for s in sorted(notebooks - scripts)]
    problems += [f"{s}.py is not paired with a notebook ({s}.ipynb is missing)" for s in sorted(scripts - notebooks)]
    for stem in sorted(notebooks & scripts):
        nb = _read(folder / f"{stem}.ipynb")
        text = jupytext.read(folder / f"{stem}.py", fmt=PAIR_FORMAT)
        a, b = _cells(nb), _cells(text)
        if a != b:
            i = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),  # (lengths may differ)
                     min(len(a), len(b)))
            problems.append(f"{stem}.ipynb ({len(a)} cells) and {stem}.py ({len(b)} cells) differ from cell {i}: "
                            f"{a[i] if i < len(a) else 'no cell'!r} vs {b[i] if i < len(b) else 'no cell'!r}")
        if nb.metadata.get("kernelspec") != text.metadata.get("kernelspec"):
            problems.append(f"{stem}.ipynb and {stem}.py name different kernels")
    return problems


def output_problems(folder: Path) -> list[str]:
    """Every output, execution count and saved widget state in the notebooks of ``folder``."""
    problems = []
    for path in sorted(folder.glob("*.ipynb")):
        nb = _read(path)
        if "widgets" in nb.metadata:
            problems.append(f"{path.name}: saved widget state in the notebook metadata")
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            if cell.outputs:
                problems.append(f"{path.name}: cell {i} has outputs")
            if cell.execution_count is not None:
                problems.append(f"{path.name}: cell {i} has an execution count")
    return problems


# ----------------------------------------------------------------------------- the committed notebooks
def test_the_numbered_notebooks_exist():
    assert [p.stem for p in _notebooks()] == EXPECTED


def test_jupytext_pairs_every_notebook_in_this_folder():
    config = (NB_DIR / "jupytext.toml").read_text()
    assert re.search(r'^formats\s*=\s*"ipynb,py:percent"\s*$', config, re.M), config


def test_every_notebook_has_its_pair_and_they_are_in_sync():
    problems = pair_problems(NB_DIR)
    assert not problems, "run `.venv/bin/jupytext --sync notebooks/*.ipynb` (or `make sync`):\n" + "\n".join(problems)


def test_committed_without_outputs():
    problems = output_problems(NB_DIR)
    assert not problems, "run `.venv/bin/nbstripout notebooks/*.ipynb` (or `make hooks` once):\n" + "\n".join(problems)


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.stem)
def test_valid_kernel_amid_repro_and_tags_survive_the_round_trip(path):
    nb = _read(path)
    nbformat.validate(nb)
    # the project's kernel (make setup registers it): JupyterLab never runs a notebook with another python3
    assert nb.metadata["kernelspec"] == {"display_name": "Python (amid-repro)", "language": "python",
                                         "name": "amid-repro"}
    back = jupytext.reads(jupytext.writes(nb, fmt=PAIR_FORMAT), fmt=PAIR_FORMAT)
    assert _cells(back) == _cells(nb)


def test_nbstripout_leaves_the_committed_notebooks_as_they_are():
    """What `make hooks` installs (a git filter) would not change a committed notebook: no diff churn."""
    nbstripout = pytest.importorskip("nbstripout")
    for path in _notebooks():
        nb = _read(path)
        stripped = nbstripout.strip_output(_read(path), keep_output=False, keep_count=False, keep_id=True)
        assert stripped == nb, path.name


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.stem)
def test_parameters_cell_is_literal_safe_for_ci_and_has_the_common_names(path):
    nb = _read(path)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: needs exactly one cell tagged 'parameters'"
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    assert code_cells[0] is tagged[0], "the parameters cell is the first code cell"
    values = {}
    for node in ast.parse(tagged[0].source).body:
        assert isinstance(node, ast.Assign) and len(node.targets) == 1, "only NAME = literal lines"
        values[node.targets[0].id] = ast.literal_eval(node.value)  # papermill needs literals
    assert set(COMMON_PARAMETERS) <= set(values), set(COMMON_PARAMETERS) - set(values)
    # nbval runs the committed values: they must train nothing long. 00-06 show the committed reproduction (profile
    # cpu in explore mode: its run records, nothing trained); 07, the lesson, trains its own small runs (profile ci)
    if path.stem.startswith("07"):
        assert values["profile"] == "ci"
    else:
        assert (values["profile"], values["mode"]) == ("cpu", "explore")
    assert values["out_dir"] is None and values["cache_dir"] is None
    # papermill sees every parameter (a line it cannot parse, e.g. a second '=' in the comment, is dropped
    # with only a warning, and `-p NAME VALUE` is then refused for that name)
    assert set(values) <= set(papermill.inspect_notebook(str(path))), (
        set(values) - set(papermill.inspect_notebook(str(path))))


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.stem)
def test_the_setup_is_one_call_to_amidlib_notebook_setup(path):
    code_cells = [c.source for c in _read(path).cells if c.cell_type == "code"]
    setup_cell = code_cells[1]  # right after the parameters cell (papermill injects its values in between)
    assert "from amidlib.notebook import setup" in setup_cell
    calls = re.findall(r"^prof, study, strict = setup\((.*)\)$", setup_cell, re.M)
    assert len(calls) == 1 and calls[0].endswith("globals()"), setup_cell
    tables = ast.literal_eval(calls[0].rsplit(",", 1)[0].strip() or "None")
    assert tables is None or isinstance(tables, tuple)
    everything = "\n".join(code_cells)
    for repeated in ("load_profile(", "check_requirements(", "set_style(", "Study("):
        assert repeated not in everything, f"{path.name}: {repeated} belongs in amidlib.notebook.setup"


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.stem)
def test_every_notebook_checks_real_values_and_teaches(path):
    nb = _read(path)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    asserts = sum(src.count("\nassert ") + src.startswith("assert ") for src in code)
    assert asserts >= 3, f"{path.name}: needs assert cells that check real values"
    assert sum(c.cell_type == "markdown" for c in nb.cells) >= 2
    assert "amidlib" in "".join(code)


def test_widget_cells_are_ignored_by_nbval():
    nb = _read(NB_DIR / "07_teaching.ipynb")
    widget = [c for c in nb.cells
              if c.cell_type == "code" and ("ipywidgets" in c.source or "teaching_widget" in c.source)]
    assert widget and all(c.source.startswith("# NBVAL_IGNORE_OUTPUT") for c in widget)


# ----------------------------------------------------------------------------- the checks fail when they should
@pytest.fixture
def copy(tmp_path):
    """notebooks/01_warmup.{ipynb,py} and jupytext.toml in a scratch folder."""
    for name in ("01_warmup.ipynb", "01_warmup.py", "jupytext.toml"):
        shutil.copy(NB_DIR / name, tmp_path / name)
    assert pair_problems(tmp_path) == [] and output_problems(tmp_path) == []
    return tmp_path


def test_an_edit_of_the_py_pair_alone_is_caught(copy):
    py = copy / "01_warmup.py"
    py.write_text(py.read_text().replace("save_to=prof.paths.out_dir", "save_to=prof.paths.cache_dir"))
    assert any("differ from cell" in p for p in pair_problems(copy))


def test_an_edit_of_the_notebook_alone_is_caught(copy):
    path = copy / "01_warmup.ipynb"
    nb = _read(path)
    nb.cells.append(nbformat.v4.new_markdown_cell("one more cell"))
    nbformat.write(nb, path)
    assert any("differ from cell" in p for p in pair_problems(copy))


def test_a_lost_tag_is_caught(copy):
    py = copy / "01_warmup.py"
    py.write_text(py.read_text().replace('# %% tags=["parameters"]', "# %%"))
    assert any("differ from cell" in p and "parameters" in p for p in pair_problems(copy))


def test_a_missing_pair_and_an_orphan_pair_are_caught(copy):
    (copy / "01_warmup.py").rename(copy / "08_orphan.py")
    problems = pair_problems(copy)
    assert any("01_warmup.ipynb has no" in p for p in problems)
    assert any("08_orphan.py is not paired" in p for p in problems)


def test_outputs_and_execution_counts_are_caught(copy):
    path = copy / "01_warmup.ipynb"
    nb = json.loads(path.read_text())
    cell = next(c for c in nb["cells"] if c["cell_type"] == "code")
    cell["execution_count"] = 3
    cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["hello\n"]}]
    path.write_text(json.dumps(nb))
    problems = output_problems(copy)
    assert any("has outputs" in p for p in problems) and any("execution count" in p for p in problems)
    assert pair_problems(copy) == []  # outputs are not part of the pair


# ----------------------------------------------------------------------------- amidlib.notebook
def test_setup_reads_the_common_parameters_from_the_namespace(tmp_path, capsys):
    from amidlib.notebook import Setup, setup
    from amidlib.repro import runs

    namespace = {"profile": "ci", "seeds": [3], "epochs": 2, "out_dir": str(tmp_path / "out"),
                 "cache_dir": str(tmp_path / "cache"), "alpha1": 4.0, "__name__": "__main__"}
    got = setup(("figures",), namespace, n_jobs=1)
    assert isinstance(got, Setup) and isinstance(got.study, runs.Study)
    prof, study, strict = got
    assert prof.name == "ci" and tuple(prof.seeds) == (3,) and prof.epochs == 2 and prof.execution.n_jobs == 1
    assert prof.paths.out_dir == tmp_path / "out" and study.prof is prof
    assert strict is (prof.main.dataset == "uci_mfeat")
    assert prof.describe() in capsys.readouterr().out
    with pytest.raises(TypeError, match="unknown: alpha1"):
        setup((), alpha1=1.0)


def test_explore_mode_writes_outside_the_tracked_tree_and_reads_the_last_reproductions_cache(tmp_path, monkeypatch,
                                                                                             capsys):
    """A notebook opened by hand (mode explore): out_dir under runs/explore/<profile>/, never figures/; the run
    cache of the newest reproduction of that profile when it holds a run; the first lines say so. Mode run (what
    the reproduction driver passes) keeps the profile's folders."""
    from amidlib import notebook
    from amidlib.repro import profiles

    monkeypatch.setattr(profiles, "repo_root", lambda start=None: tmp_path)
    for stamp, with_run in (("20260101-000000", True), ("20260102-000000", True), ("20260103-000000", False)):
        cache = tmp_path / "runs" / "cpu" / stamp / "cache"
        (cache / "somekey").mkdir(parents=True)
        if with_run:
            (cache / "somekey" / "record.json").write_text("{}")
    got = notebook.explore_parameters({"profile": "cpu", "out_dir": None, "cache_dir": None})
    assert got["out_dir"] == str(tmp_path / "runs" / "explore" / "cpu")
    assert got["cache_dir"] == str(tmp_path / "runs" / "cpu" / "20260102-000000" / "cache")  # the newest with a run
    assert notebook.explore_parameters({"profile": "ci", "out_dir": "x", "cache_dir": "y"}) == {
        "profile": "ci", "out_dir": "x", "cache_dir": "y"}  # given folders win
    assert "cache_dir" not in notebook.explore_parameters({"profile": "ci"})  # no reproduction: the profile's cache
    prof = profiles.load_profile("ci", out_dir=tmp_path / "o", cache_dir=tmp_path / "c")
    lines = notebook.mode_lines("explore", prof)
    assert lines[0].startswith("*** SMOKE TEST — profile ci")  # a smoke-test profile says so first
    assert lines[1].startswith("mode explore") and "nothing is trained" in lines[1] and "see README.md" in lines[2]
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "reproduction.json").write_text(json.dumps(
        {"runs": 318, "wall_s": 630.0, "cpu_s": 1200.0, "machine": "AMD EPYC, 2 cores", "profile": "cpu"}))
    assert "10.5 min wall for 318 runs on AMD EPYC, 2 cores" in notebook.mode_lines("explore", prof)[2]
    assert notebook.mode_lines("run", prof)[0].startswith("mode run")
    with pytest.raises(ValueError, match="mode"):
        notebook.setup((), mode="look")


def test_nothing_in_amidlib_imports_amidlib_notebook():
    pattern = re.compile(r"^\s*(from\s+amidlib(\.notebook\b|\s+import\s+.*\bnotebook\b)|import\s+amidlib\.notebook\b)",
                         re.M)
    offenders = [str(p.relative_to(ROOT)) for p in (ROOT / "amidlib").rglob("*.py")
                 if p.name != "notebook.py" and pattern.search(p.read_text())]
    assert offenders == []


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.stem)
def test_checks_are_tagged_and_at_the_end(path):
    """The check cells are tagged `checks` (hidden in the rendered docs) and the last code cell is one: the
    narrative is not interrupted by asserts."""
    code = [c for c in _read(path).cells if c.cell_type == "code"]
    assert "checks" in code[-1].metadata.get("tags", []), f"{path.name}: the last code cell must be tagged 'checks'"
    first = next(i for i, c in enumerate(code) if "checks" in c.metadata.get("tags", []))
    assert all("checks" in c.metadata.get("tags", []) for c in code[first:]), f"{path.name}: checks only at the end"
