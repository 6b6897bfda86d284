"""No result typed by hand: the README's results are generated from the committed figures, and the prose of
the README and of the notebooks' markdown holds no result number or verdict that code did not produce.

- The README's block between ``<!-- results:begin`` and ``<!-- results:end -->`` must be exactly what
  ``amidlib.paper.readme`` writes from ``figures/`` (a reproduction that moves a number makes this fail until
  ``python -m amidlib.paper.readme`` is run; ``make reproduce`` runs it).
- Outside that block, and in every notebook's markdown cells, a scan finds decimal numbers, percentages and
  verdict words. Allowed: the paper's own numbers (``data_manifests/paper_results.csv``), the paper's settings
  and the regime its batches imply (``PAPER_NUMBERS`` below), the 95 % of an interval's definition, version
  numbers of named software, and a verdict word emphasised as a term being defined (``*supported*``).
  Everything in LaTeX, code spans and links is skipped.
"""
from __future__ import annotations

import json
import re
import shutil

import pandas as pd
import pytest

from amidlib.paper import readme
from amidlib.repro.profiles import repo_root

ROOT = repo_root()
FIGURES = ROOT / "figures"

#: numbers of the paper that are not results in paper_results.csv: its §4.2 settings (α, τ, β) and the regime
#: of its UCF51 batches (expected positives per anchor and partnered share at batch 16 over 51 classes)
PAPER_NUMBERS = {"1.6", "0.5", "0.9", "0.6", "1.3", "1.30", "26"}
#: named software whose version is part of its name
VERSIONED_NAMES = re.compile(r"wav2vec\s?2\.0|Python\s?3\.\d+|v1\.3|arXiv:\d{4}\.\d{4,5}", re.I)
NUMBER = re.compile(r"(?<![\w.§/-])[-+−]?\d+(?:[.,]\d+)?(?=\s?%)|(?<![\w.§/-])[-+−]?\d+\.\d+(?![\w.])")
VERDICT = re.compile(r"(?<![*\w])(supported|inconclusive|contradicted|not testable)(?![*\w])", re.I)


def _paper_numbers() -> set[str]:
    values = pd.read_csv(ROOT / "data_manifests" / "paper_results.csv")["value"].dropna()
    return {f"{v:g}" for v in values} | {f"{v:.1f}" for v in values} | PAPER_NUMBERS


def _prose(text: str) -> str:
    """Markdown without what is not prose: LaTeX, code, links' targets, HTML tags, versioned names."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"\$[^$\n]*\$", " ", text)
    text = re.sub(r"`[^`\n]*`", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    text = re.sub(r"<[^>\n]+>", " ", text)
    return VERSIONED_NAMES.sub(" ", text)


def hand_typed(text: str, allowed: set[str]) -> list[str]:
    """The result numbers and verdict words of ``text`` that nothing generated: each with its context."""
    text = _prose(text)
    found = []
    for m in NUMBER.finditer(text):
        value = m.group(0).replace("−", "-").lstrip("+-").replace(",", "")
        after = text[m.end():m.end() + 3]
        if value in allowed or (value == "95" and "%" in after):
            continue
        found.append(text[max(0, m.start() - 50):m.end() + 20].replace("\n", " "))
    for m in VERDICT.finditer(text):
        found.append(text[max(0, m.start() - 50):m.end() + 20].replace("\n", " "))
    return found


def _readme_outside_block() -> str:
    """The README without its generated blocks (the quick start's costs and the results)."""
    text = (ROOT / "README.md").read_text()
    for mark, end_mark in (("<!-- results:begin", readme.END), ("<!-- costs:begin", readme.QS_END)):
        start, end = text.index(mark), text.index(end_mark)
        text = text[:start] + text[end + len(end_mark):]
    return text


def _notebook_markdown():
    for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        for i, cell in enumerate(json.loads(nb.read_text())["cells"]):
            if cell["cell_type"] == "markdown":
                yield f"{nb.name} cell {i}", "".join(cell["source"])


def test_the_readme_results_are_the_committed_figures():
    assert readme.update(ROOT / "README.md", FIGURES, check=True), (
        "README.md's results block is not what figures/ gives: run `python -m amidlib.paper.readme`")


def test_the_generated_block_follows_the_figures(tmp_path):
    """Move AMID's Table 1 mean by 3 points in a copy of the figures: the block must show the moved number."""
    figures = tmp_path / "figures"
    shutil.copytree(FIGURES, figures, ignore=shutil.ignore_patterns("*.png", "*.pdf", "av_tier"))
    t1 = pd.read_csv(figures / "table1.csv")
    main = t1["setting"].iloc[0]
    cell = (t1.setting == main) & (t1.row == "amid") & (t1.metric == "student_top1")
    before = readme.results_block(figures)
    t1.loc[cell, "mean"] += 3.0
    t1.to_csv(figures / "table1.csv", index=False)
    after = readme.results_block(figures)
    moved = f"| {t1.loc[cell, 'label'].iloc[0]} | {t1.loc[cell, 'mean'].iloc[0]:.1f} ±"
    assert moved in after and moved not in before
    claims = pd.read_csv(figures / "claims.csv")
    n_supported = claims.groupby(["id", claims.setting.fillna("")]).claim_verdict.first().eq("supported").sum()
    assert f"of the others {n_supported} supported" in before


def test_the_timing_line_gives_the_cores_speed_where_the_record_has_it():
    record = {"runs": 428, "wall_s": 548.8, "cpu_s": 1071.0, "machine": "Intel Xeon, 2 cores", "profile": "cpu"}
    line = readme.timing_block(record)[0]
    assert line.startswith("This reproduction: 428 runs, 9.1 min wall (1071 CPU-seconds) on Intel Xeon, 2 cores")
    assert "GFLOP/s" not in line  # (a record from before the probe)
    line = readme.timing_block({**record, "core_gflops": [121.0, 97.4]})[0]
    assert "at 121 GFLOP/s at its start and 97 at its end" in line
    assert readme.timing_block(None) == []
    roof = {"tflop": 21.2, "cores": 2, "floor_s": 134.1, "times_floor": 5.6}
    line = readme.timing_block({**record, "core_gflops": [79.6, 78.0], "roofline": roof})[0]
    assert "Its runs do 21.2 TFLOP: at that rate on 2 cores the arithmetic alone would take 134 s" in line
    assert "took 5.6× that" in line


def test_the_quick_start_gives_both_commands_costs_from_their_records():
    record = {"runs": 428, "wall_s": 748.4, "cpu_s": 1247.0, "machine": "AMD EPYC, 2 cores", "profile": "cpu",
              "finished": "2026-12-07T11:32:41+00:00", "core_gflops": [79.6, 78.0]}
    tests = {"install_s": 120.0, "test_s": 480.0, "total_s": 600.0, "status": 0, "machine": "AMD EPYC, 2 cores",
             "python": "3.11.7", "commit": "abc1234", "finished": "2026-12-07T13:00:00+00:00"}
    line = readme.costs_block(record, tests)[0]
    assert "`make reproduce` 12.5 min on AMD EPYC, 2 cores (one core's products at 80 GFLOP/s), 2026-12-07" in line
    assert "`make test` 10.0 min on AMD EPYC, 2 cores, Python 3.11.7, 2026-12-07: 2.0 min to install, 8.0 min" in line
    assert "failed" not in line and "failed" in readme.costs_block(None, {**tests, "status": 2})[0]
    assert readme.costs_block(None, None) == []
    code = readme.commands_block(record, tests)  # each command with its measured time beside it
    assert code[0] == "```bash" and code[1].startswith("make reproduce  # measured 12.5 min on AMD EPYC, 2 cores: ")
    assert code[2].startswith("make test       # measured 10.0 min, install included: ")
    assert "time not measured yet" in readme.commands_block(None, None)[1]
    text = (ROOT / "README.md").read_text()  # the committed README carries the block, from the committed records
    assert readme.QS_BEGIN in text and readme.QS_END in text
    quick = text[text.index("## Quick start"):text.index(readme.QS_END)]
    assert "make reproduce  # measured" in quick and "make test       # measured" in quick


def test_no_result_is_typed_by_hand_in_the_readme_or_the_notebooks():
    allowed = _paper_numbers()
    found = {"README.md": hand_typed(_readme_outside_block(), allowed)}
    found.update({where: hand_typed(text, allowed) for where, text in _notebook_markdown()})
    found = {k: v for k, v in found.items() if v}
    assert not found, "numbers or verdicts typed by hand (print them from code instead):\n" + "\n".join(
        f"{where}: …{hit}…" for where, hits in found.items() for hit in hits)


@pytest.mark.parametrize("text, n", [
    ("AMID's student gains 2.5 points over CCL.", 1),
    ("AMID closes 8 % of the gap.", 1),
    ("so the claim is supported here.", 1),
    ("*supported* when the interval excludes 0", 0),
    ("with a 95 % interval", 0),
    ("features from wav2vec 2.0 and the paper's α = (4, 1.6, 1)", 0),
    ("the loss $\\mathcal{L} = 0.5 x$ and `lr=0.001`", 0),
])
def test_the_scan_finds_what_is_typed_by_hand(text, n):
    assert len(hand_typed(text, _paper_numbers())) == n
