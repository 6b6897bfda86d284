"""`make docs`: the executed notebooks as a static site (docs/build_site.py), opened in headless Chromium.

Built from a reproduction folder made here in a few milliseconds (executed-looking copies of two
notebooks, with an output and a check cell, and the committed Table 1 and Fig 1), so the test is fast;
`make docs` builds the same pages from the committed executed copies (docs/executed/). The browser
checks that the equations are typeset (MathJax from the site's own folder), not shown as raw LaTeX.
"""
from __future__ import annotations

import contextlib
import functools
import http.server
import importlib.util
import shutil
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


site = _load("amid_build_site", ROOT / "docs" / "build_site.py")
browser = _load("amid_test_browser", ROOT / "tests" / "test_browser.py")


@pytest.fixture
def built(tmp_path):
    run = tmp_path / "runs" / "ci" / "20260101-000000"
    run.mkdir(parents=True)
    nb = nbformat.read(ROOT / "notebooks" / "02_amid_training.ipynb", as_version=4)
    first_code = next(c for c in nb.cells if c.cell_type == "code")
    first_code.outputs = [nbformat.v4.new_output("stream", name="stdout", text="profile ci: executed output\n")]
    nb.cells.append(nbformat.v4.new_code_cell("assert SECRET_CHECK_MARKER", metadata={"tags": ["checks"]}))
    nbformat.write(nb, run / "02_amid_training.ipynb")
    shutil.copy(ROOT / "notebooks" / "01_warmup.ipynb", run / "01_warmup.ipynb")  # Eq 7-17 in LaTeX
    (run / "timings.csv").write_text("notebook,seconds\n")
    figs = tmp_path / "figures"
    figs.mkdir()
    for name in ("table1.md", "fig1_diagnostic.png", "claims.csv"):
        shutil.copy(ROOT / "figures" / name, figs / name)
    index = site.build(run, tmp_path / "html", figs)
    return index, run


def test_the_site_has_every_notebook_without_its_checks(built):
    index, run = built
    text = index.read_text()
    assert 'id="table1"' in text and 'id="fig1"' in text and "data:image/png;base64," in text
    page = (index.parent / "02_amid_training.html").read_text()
    assert "executed output" in page and "SECRET_CHECK_MARKER" not in page
    # the notebook's Markdown is markup on the page, not escaped text (headings, paragraphs, table headers)
    assert "<h1" in page and "<p>" in page and "&lt;h1" not in page and "&lt;p&gt;" not in page
    assert site.last_run(run.parents[1]) == run


#: what a hostile run or figures folder could put into the site: script and event handlers
PAYLOADS = ("<script>window.PWNED=1</script>", '<img src="x" onerror="window.PWNED=1">')


def test_html_from_a_run_or_figures_folder_is_escaped(tmp_path):
    """A crafted run folder (markdown and an HTML output holding script) and figures folder (table1.md with raw HTML)
    give pages with neither: the script is not in the page as markup, and in the browser nothing of it runs."""
    run = tmp_path / "runs" / "ci" / "20260101-000000"
    run.mkdir(parents=True)
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    code = nbformat.v4.new_code_cell("1")
    code.outputs = [nbformat.v4.new_output("display_data", data={"text/html": "".join(PAYLOADS) + "<b>kept</b>"})]
    nb.cells = [nbformat.v4.new_markdown_cell("A note. " + " ".join(PAYLOADS) + " $x^2$"), code]
    nbformat.write(nb, run / "01_crafted.ipynb")
    figs = tmp_path / "figures"
    figs.mkdir()
    (figs / "table1.md").write_text("# Table 1\n\n" + PAYLOADS[0] + "\n\n| a | b |\n|---|---|\n| 1 | "
                                    + PAYLOADS[1] + " |\n")
    index = site.build(run, tmp_path / "html", figs)
    for page in (index, index.parent / "01_crafted.html"):
        text = page.read_text()
        assert not any(payload in text for payload in PAYLOADS), page.name  # as text at most: &lt;script&gt;...
    assert "<b>kept</b>" in (index.parent / "01_crafted.html").read_text()  # plain markup stays
    assert "<table>" in index.read_text()  # the table is still a table
    driver = _chrome()
    try:
        for page in (index, index.parent / "01_crafted.html"):
            driver.get(page.as_uri())
            time.sleep(0.5)
            assert driver.execute_script("return window.PWNED === undefined"), page.name
    finally:
        driver.quit()


def test_make_docs_builds_from_the_committed_executed_notebooks_by_default(tmp_path, monkeypatch):
    built_from = {}
    monkeypatch.setattr(site, "build",
                        lambda run, out, figs: built_from.update(run=run, figs=figs) or out / "index.html")
    assert site.main(["--out", str(tmp_path)]) == 0
    assert built_from == {"run": site.EXECUTED, "figs": ROOT / "figures"}
    assert any(site.EXECUTED.glob("[0-9][0-9]_*.ipynb")), "docs/executed/ has no executed notebook"


def test_no_reproduction_is_a_clear_error(tmp_path):
    with pytest.raises(SystemExit, match="make reproduce"):
        site.last_run(tmp_path)


def _chrome():
    """Headless Chromium under selenium (skipped, or failed under CI, where it is missing)."""
    chromium, chromedriver = browser.need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    opts = Options()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1200,1600"):
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})  # the console: a failed request is logged there
    return webdriver.Chrome(service=Service(chromedriver), options=opts)


@contextlib.contextmanager
def _served(folder: Path):
    """``folder`` over HTTP on a free local port (a missing file is a real 404, as on a web server)."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_mathjax_is_served_complete_in_the_browser_no_request_fails(built):
    """The equations typeset with the fonts the site serves (STIX-Web, the only ones in the MathJax wheel): no
    request of the page gets a 404, and the letters are MathJax's own (𝓛 in a script face, not a plain L)."""
    from selenium.webdriver.common.by import By

    index, _ = built
    driver = _chrome()
    try:
        with _served(index.parent) as url:
            driver.get(f"{url}/01_warmup.html")
            deadline = time.time() + 60
            done = "return !!(window.MathJax && MathJax.Hub && MathJax.Hub.queue && MathJax.Hub.queue.pending === 0 " \
                   "&& document.querySelectorAll('.MathJax, .MathJax_CHTML').length > 5)"
            while time.time() < deadline and not driver.execute_script(done):
                time.sleep(0.5)
            time.sleep(1.0)  # (the last font files)
            assert driver.find_elements(By.CSS_SELECTOR, ".MathJax, .MathJax_CHTML")
            # a file the server lacks (404), or one the page fetches from the network (none is reachable here)
            failed = [e["message"] for e in driver.get_log("browser")
                      if "404" in e["message"] or "ERR_NAME_NOT_RESOLVED" in e["message"]
                      or "ERR_INTERNET_DISCONNECTED" in e["message"]]
            assert failed == [], failed
            font = driver.execute_script("var o = MathJax.OutputJax['HTML-CSS']; return o && o.fontInUse")
            assert font == "STIX-Web", font
    finally:
        driver.quit()


def test_index_in_the_browser_shows_table1_and_fig1(built):
    from selenium.webdriver.common.by import By

    index, _ = built
    driver = _chrome()
    try:
        driver.get(index.as_uri())
        heads = [h.text for h in driver.find_elements(By.TAG_NAME, "h2")]
        assert sum(h.startswith("Table 1") for h in heads) == 1 and any(h.startswith("Fig 1") for h in heads), heads
        assert any(h.startswith("The paper's claims") for h in heads), heads  # the verdicts in plain words
        rows = driver.find_elements(By.CSS_SELECTOR, "table tr")
        assert len(rows) >= 7 and any("AMID" in r.text for r in rows)  # header + six methods
        img = driver.find_element(By.CSS_SELECTOR, "img[alt='Fig 1 diagnostic']")
        assert driver.execute_script("return arguments[0].complete && arguments[0].naturalWidth", img) > 500
        driver.find_element(By.PARTIAL_LINK_TEXT, "02 · AMID against the baselines").click()  # named by its heading
        assert "executed output" in driver.page_source and "SECRET_CHECK_MARKER" not in driver.page_source

        # the equations: typeset by MathJax (served from the site's folder), no raw LaTeX left in the text
        driver.get((index.parent / "01_warmup.html").as_uri())
        deadline = time.time() + 60
        while time.time() < deadline and not driver.find_elements(By.CSS_SELECTOR, ".MathJax_CHTML, .MathJax"):
            time.sleep(0.5)
        typeset = driver.find_elements(By.CSS_SELECTOR, ".MathJax_CHTML, .MathJax")
        assert len(typeset) >= 5, "MathJax did not typeset the equations of 01_warmup"
        body = driver.find_element(By.TAG_NAME, "body").text
        assert "\\mathcal{L}" not in body, "raw LaTeX visible on the page"
    finally:
        driver.quit()
