"""The committed notebooks: no outputs, kernel python3, a literal CI-safe parameters cell, real checks.

(Executing them is nbval's job: ``pytest --nbval-lax --nbval-current-env notebooks/``.)
"""
import ast
import subprocess
import sys
from pathlib import Path

import nbformat
import papermill
import pytest

from amidlib.repro.profiles import COMMON_PARAMETERS

ROOT = Path(__file__).resolve().parents[1]
NB_DIR = ROOT / "notebooks"
EXPECTED = ["00_data_prep", "01_warmup", "02_amid_training", "03_ablations", "04_per_class", "05_cosine_curves",
            "06_report", "07_teaching"]


def _notebooks():
    return sorted(NB_DIR.glob("[0-9][0-9]_*.ipynb"))


def _read(path):
    return nbformat.read(path, as_version=4)


def test_the_numbered_notebooks_exist():
    assert [p.stem for p in _notebooks()] == EXPECTED


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.stem)
def test_committed_without_outputs_and_with_kernel_python3(path):
    nb = _read(path)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{path.name}: a cell has outputs"
            assert cell.execution_count is None, f"{path.name}: a cell has an execution count"


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.stem)
def test_parameters_cell_is_literal_ci_safe_and_has_the_common_names(path):
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
    assert values["profile"] == "ci"  # nbval runs the committed values: they must be the CI-safe ones
    assert values["out_dir"] is None and values["cache_dir"] is None
    assert set(COMMON_PARAMETERS) <= set(papermill.inspect_notebook(str(path)))


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
    widget = [c for c in nb.cells if c.cell_type == "code" and "ipywidgets" in c.source]
    assert widget and all(c.source.startswith("# NBVAL_IGNORE_OUTPUT") for c in widget)


def test_notebooks_match_their_generator():
    res = subprocess.run([sys.executable, str(ROOT / "scripts" / "build_notebooks.py"), "--check"],
                         capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
