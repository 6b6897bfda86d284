"""Every relative link a reader can follow resolves (docs/check_links.py): the README, docs/, the notebooks, their
executed copies, and the site `make docs` builds from them."""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs"))  # the two scripts of docs/ this file drives, imported as modules
import build_site as site  # noqa: E402
import check_links as links  # noqa: E402


def test_every_relative_link_in_the_repository_resolves():
    files = links.repository_files()
    assert ROOT / "README.md" in files and len([f for f in files if f.parent.name == "executed"]) >= 7
    assert links.dead_links(files) == []


def test_a_planted_dead_link_or_anchor_is_named_with_its_file(tmp_path):
    (tmp_path / "there.md").write_text("# A heading, with `code` and punctuation!\n\ntext\n")
    page = tmp_path / "page.md"
    page.write_text("[ok](there.md) [ok anchor](there.md#a-heading-with-code-and-punctuation) [web](https://x.org) "
                    "[dead](missing.md) [dead anchor](there.md#no-such-heading) `[in code](nowhere.md)`\n"
                    '<img src="gone.png">\n')
    problems = links.dead_links([page], root=tmp_path)
    assert len(problems) == 3, problems
    assert all(p.startswith("page.md: ") for p in problems)
    assert any("missing.md" in p for p in problems) and any("#no-such-heading" in p for p in problems)
    assert any("gone.png" in p for p in problems)
    assert links.main([]) == 0  # the command line on the repository


def test_a_dead_link_in_a_notebooks_markdown_cell_is_found(tmp_path):
    nb = {"cells": [{"cell_type": "markdown", "metadata": {}, "source": ["Next: [04](04_nowhere.ipynb)"]}],
          "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "05_x.ipynb"
    path.write_text(json.dumps(nb))
    assert [p for p in links.dead_links([path], root=tmp_path) if "04_nowhere.ipynb" in p]


@pytest.fixture(scope="module")
def committed_site(tmp_path_factory):
    """The site `make docs` builds from the committed executed copies (docs/executed/, figures/)."""
    out = tmp_path_factory.mktemp("site")
    site.build(ROOT / "docs" / "executed", out, ROOT / "figures")
    return out


def test_the_built_site_has_no_dead_link(committed_site):
    pages = sorted(committed_site.glob("*.html"))
    assert len(pages) >= 9  # index and one page per notebook
    assert links.dead_links(pages, root=committed_site) == []
    # Previous / Next go to the site's pages, files a notebook links to are copied in
    text = (committed_site / "02_amid_training.html").read_text()
    assert 'href="03_ablations.html"' in text and ".ipynb\"" not in text.replace("notebooks/02_amid_training.ipynb", "")


def test_a_site_whose_notebook_links_a_missing_file_fails_the_check(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(ROOT / "docs" / "executed" / "07_teaching.ipynb", run / "07_teaching.ipynb")
    nb = json.loads((run / "07_teaching.ipynb").read_text())
    nb["cells"].append({"cell_type": "markdown", "metadata": {}, "source": ["[gone](../../figures/no_such.png)"]})
    (run / "07_teaching.ipynb").write_text(json.dumps(nb))
    out = tmp_path / "html"
    site.build(run, out, ROOT / "figures")
    problems = links.dead_links(sorted(out.glob("*.html")), root=out)
    assert any("no_such.png" in p for p in problems), problems


def test_the_glossarys_names_are_the_registrys_labels_and_runs_csv_columns():
    from amidlib.paper import names

    text = (ROOT / "docs" / "glossary.md").read_text()
    rows = [line.split("|")[1:3] for line in text.splitlines() if line.startswith("| `")]
    columns = set((ROOT / "figures" / "runs.csv").read_text().splitlines()[0].split(","))
    checked = 0
    for ids, label in rows:
        for name in (part.strip(" `") for part in ids.split(",")):
            row = names.row(name)
            if row is not None:
                assert label.strip() == row.label, (name, label, row.label)
            else:
                assert name in columns, f"{name} is neither a row of the registry nor a column of runs.csv"
            checked += 1
    assert checked >= 20
    for term in ("Cross-modal KD", "I(M;S)", "H(M|S)", "CRD", "GMC", "CRCD", "CCL", "Embedded data", "fou", "fac",
                 "zer", "pix", "uci_pairs:fou→fac", "Positives per anchor", "Partnered", "At the edge of 0", "Holm",
                 "GFLOP/s", "arXiv:2306.07646"):
        assert term in text, term
