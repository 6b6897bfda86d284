"""The README's results table is the committed figures' Table 1: each number typed there is checked against
figures/table1.csv (main pairing), so a reproduction that moves a number makes this fail until the README follows."""
import re

import pandas as pd
import pytest

from amidlib.repro.profiles import repo_root

ROOT = repo_root()
FIGURES = ROOT / "figures"
LABELS = {"baseline (student alone)": "baseline", "CRD": "crd", "GMC": "gmc", "CRCD": "crcd", "CCL": "ccl",
          "AMID": "amid", "teacher (full modalities)": "teacher"}


def _readme_rows():
    text = (ROOT / "README.md").read_text()
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] in LABELS and "±" in cells[1]:
            rows[LABELS[cells[0]]] = cells
    return rows


def test_readme_table1_is_the_committed_table1():
    t1 = pd.read_csv(FIGURES / "table1.csv")
    main = t1["setting"].iloc[0]
    t1 = t1[t1["setting"] == main]
    rows = _readme_rows()
    assert set(rows) == set(LABELS.values()), "the README's results table lost a row"
    for row, (_, ours, gap, paper) in rows.items():
        metric = "teacher_top1" if row == "teacher" else "student_top1"
        cell = t1[(t1["row"] == row) & (t1["metric"] == metric)].iloc[0]
        mean, sd = (float(v) for v in re.findall(r"[-−]?\d+\.\d", ours))
        assert (mean, sd) == (round(cell["mean"], 1), round(cell["std"], 1)), (row, ours)
        if re.search(r"\d", gap):
            g = t1[(t1["row"] == row) & (t1["metric"] == "gap_closed")].iloc[0]
            nums = [int(v.replace("−", "-")) for v in re.findall(r"[-−]?\d+", gap)]
            assert nums == [round(g["mean"]), round(g["ci_low"]), round(g["ci_high"])], (row, gap)
        if re.search(r"\d", paper):
            assert float(paper) == pytest.approx(cell["paper"]), (row, paper)
