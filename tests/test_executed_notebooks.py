"""The executed copies in docs/executed/: one per numbered notebook, with outputs, no widget state, and made
with the committed figures (their metadata's sha256 of figures/runs.csv is the committed file's), so a
reproduction that changes the figures without regenerating them fails here (`make reproduce` does both)."""
from __future__ import annotations

import json

import pytest

from amidlib.paper import executed
from amidlib.repro.profiles import repo_root

ROOT = repo_root()
SOURCES = sorted((ROOT / "notebooks").glob(executed.NOTEBOOK_GLOB))


@pytest.mark.parametrize("source", SOURCES, ids=[p.stem for p in SOURCES])
def test_each_notebook_has_an_executed_copy_of_the_committed_reproduction(source):
    copy = executed.DEST / source.name
    assert copy.is_file(), f"{copy} is missing: run `make reproduce` (or python -m amidlib.paper.executed)"
    nb = json.loads(copy.read_text())
    meta = nb["metadata"].get("amid_repro", {})
    assert meta.get("figures_runs_csv_sha256") == executed.runs_csv_sha256(), (
        f"{copy.name} was executed with other figures than the committed ones: regenerate it")
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    assert sum(bool(c.get("outputs")) for c in code) >= len(code) // 2, f"{copy.name} has few outputs"
    assert "widgets" not in nb["metadata"]
    assert executed.WIDGET_VIEW not in copy.read_text()
    assert f"notebooks/{source.name}" in "".join(nb["cells"][0]["source"])


def test_publish_strips_widget_state_and_ties_the_copy_to_the_figures(tmp_path):
    run = tmp_path / "runs" / "cpu" / "20260101-000000"
    run.mkdir(parents=True)
    nb = json.loads(SOURCES[0].read_text())
    nb["metadata"]["widgets"] = {"state": {}}
    nb["cells"][1].setdefault("outputs", []).append({"output_type": "display_data", "metadata": {}, "data": {
        executed.WIDGET_VIEW: {"model_id": "x"}, "text/plain": f"printed from {tmp_path}/figures"}})
    nb["cells"][1]["cell_type"] = "code"
    (run / SOURCES[0].name).write_text(json.dumps(nb))
    (run / "timings.csv").write_text("notebook,seconds\n")
    figures = tmp_path / "figures"
    figures.mkdir()
    (figures / "runs.csv").write_text("a,b\n1,2\n")
    [out] = executed.publish(executed.last_run(tmp_path / "runs" / "cpu"), tmp_path / "executed", figures,
                             verbose=False)
    text = out.read_text()
    copy = json.loads(text)
    assert "widgets" not in copy["metadata"] and executed.WIDGET_VIEW not in text
    assert copy["metadata"]["amid_repro"]["figures_runs_csv_sha256"] == executed.runs_csv_sha256(figures)
    assert str(tmp_path) not in text and "printed from figures" in text
