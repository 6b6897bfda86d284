"""07_teaching in a real browser: JupyterLab on 127.0.0.1 with a token, driven by headless Chromium.

The test starts JupyterLab (this interpreter's, with the project's kernel "Python (amid-repro)") on a
copy of ``notebooks/07_teaching.ipynb`` in a scratch folder (JupyterLab autosaves: the committed
notebook must stay without outputs), opens it in Debian's ``chromium`` through ``chromedriver``
(selenium), runs all cells, drags the α2 slider to 0, presses *train* and checks that the output
image and the printed teacher accuracy changed. The screenshot goes to
``runs/browser/07_teaching.png``.

``make test`` installs chromium and chromium-driver with apt-get where it runs as root (as on CI);
elsewhere this test is skipped with a message naming what is missing. With ``CI`` set in the
environment, a missing piece fails the test instead.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK = ROOT / "notebooks" / "07_teaching.ipynb"
SHOTS = ROOT / "runs" / "browser"
KERNEL = "amid-repro"


# ----------------------------------------------------------------------------- what the browser needs
def browser_requirements() -> tuple[str | None, str | None, list[str]]:
    """(chromium executable, chromedriver executable, what is missing)."""
    missing = []
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("the Python package selenium (make setup installs it: pip install -e '.[test]')")
    chromium = next((shutil.which(n) for n in ("chromium", "chromium-browser") if shutil.which(n)), None)
    driver = shutil.which("chromedriver")
    if not chromium:
        missing.append("Debian's chromium (apt-get install chromium; `make test` installs it when run as root)")
    if not driver:
        missing.append("Debian's chromium-driver (apt-get install chromium-driver; `make test` installs it when run as root)")
    return chromium, driver, missing


def need_browser():
    chromium, driver, missing = browser_requirements()
    if missing:
        message = "browser test needs " + "; ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(message + " (CI is set: the browser test must run there)")
        pytest.skip(message)
    return chromium, driver


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_lab(folder: Path, log: Path):
    """JupyterLab on 127.0.0.1 serving ``folder``, with a token and a private Jupyter config: returns
    (process, base url, token). The project's kernel is registered in ``folder``'s data path as this
    interpreter, so the test does not depend on what ``make setup`` registered."""
    port, token = _free_port(), secrets.token_hex(16)
    data = folder / ".jupyter-data"
    spec = data / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "Python (amid-repro)", "language": "python"}))
    env = dict(os.environ, JUPYTER_PATH=str(data), JUPYTER_CONFIG_DIR=str(folder / ".jupyter-config"),
               JUPYTER_RUNTIME_DIR=str(folder / ".jupyter-runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(folder / ".lab-settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(folder / ".lab-workspaces"))
    env.pop("MPLBACKEND", None)
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={folder}", "--LabApp.expose_app_in_browser=True",
           "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    proc = subprocess.Popen(cmd, stdout=log.open("w"), stderr=subprocess.STDOUT, env=env, cwd=folder)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"JupyterLab exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2) as r:
                if r.status == 200:
                    return proc, url, token
        except OSError:
            time.sleep(0.5)
    proc.terminate()
    raise RuntimeError(f"JupyterLab did not answer on {url} within 90 s:\n{log.read_text()[-3000:]}")


# JavaScript run in the page (window.jupyterapp: --LabApp.expose_app_in_browser)
_STATE = """
const app = window.jupyterapp; if (!app) return null;
const nb = app.shell.currentWidget; if (!nb || !nb.sessionContext || !nb.content) return {ready: false};
const kernel = nb.sessionContext.session && nb.sessionContext.session.kernel;
const cells = nb.content.widgets.filter(c => c.model.type === 'code');
const errors = [];
cells.forEach((c, i) => { const o = c.model.outputs.toJSON();
  o.filter(x => x.output_type === 'error').forEach(x => errors.push(i + ': ' + x.ename + ': ' + x.evalue)); });
return {ready: !!kernel && nb.context.isReady, kernel: kernel ? kernel.name : null,
        status: kernel ? kernel.status : null, busy: nb.sessionContext.isBusy || false,
        executed: cells.filter(c => c.model.executionCount !== null).length, cells: cells.length, errors: errors};
"""


def _wait(what: str, until, timeout: float, poll: float = 0.5):
    from selenium.common.exceptions import StaleElementReferenceException

    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            if last := until():
                return last
        except StaleElementReferenceException as stale:  # the page re-rendered under us: look again
            last = stale
        time.sleep(poll)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what} (last: {last!r})")


def _output(driver) -> tuple[str, str]:
    """(printed text, image src) of the panel's output area, read in one script: the Output widget
    re-renders its area while a run prints, and an element found in one WebDriver call can be gone by
    the next (a clean-clone run failed with StaleElementReferenceException)."""
    return tuple(driver.execute_script(
        "const a = document.querySelector('.amid-teach-output'); if (!a) return ['', ''];"
        "const i = a.querySelector('img'); return [a.innerText, i ? i.getAttribute('src') : ''];"))


def _teacher(text: str) -> float:
    found = re.findall(r"run (\d+) \(.*?\) trained in [\d.]+ s: teacher ([\d.]+) %", text)
    assert found, f"no 'trained ... teacher X %' line in the panel's output: {text[:500]!r}"
    return float(found[-1][1])


@pytest.fixture
def lab(tmp_path):
    shutil.copy(NOTEBOOK, tmp_path / NOTEBOOK.name)  # a copy: JupyterLab autosaves outputs into what it opens
    proc, url, token = start_lab(tmp_path, tmp_path / "jupyterlab.log")
    try:
        yield url, token, tmp_path
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_07_teaching_in_jupyterlab_slider_and_train_change_the_output(lab):
    chromium, chromedriver = need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    url, token, folder = lab
    opts = Options()
    opts.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1500,1400"):
        opts.add_argument(arg)
    driver = webdriver.Chrome(service=Service(chromedriver), options=opts)
    SHOTS.mkdir(parents=True, exist_ok=True)
    shot = SHOTS / "07_teaching.png"
    try:
        driver.get(f"{url}/lab/tree/{NOTEBOOK.name}?token={token}")
        state = _wait("the notebook and its kernel", lambda: (s := driver.execute_script(_STATE)) and s.get("ready")
                      and s.get("status") == "idle" and s, 120)
        assert state["kernel"] == KERNEL, state  # the notebook's metadata names the project's kernel
        driver.execute_script("window.jupyterapp.commands.execute('notebook:run-all-cells');")
        state = _wait("every cell to run", lambda: (s := driver.execute_script(_STATE)) and (
            s["errors"] or (s["executed"] == s["cells"] and s["status"] == "idle" and not s["busy"])) and s, 240)
        assert not state["errors"], f"cells raised: {state['errors']}"
        panel = _wait("the panel's first run", lambda: driver.find_elements(By.CSS_SELECTOR, ".amid-teach-output img"), 60)
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", panel[0])
        text0, img0 = _output(driver)
        teacher0 = _teacher(text0)
        assert img0.startswith("data:image/png"), img0[:60]

        # move the α2 slider all the way to 0 with the mouse, then press train
        slider = driver.find_element(By.CSS_SELECTOR, ".amid-teach-alpha2")
        handle = slider.find_element(By.CSS_SELECTOR, ".noUi-handle")
        readout = slider.find_element(By.CSS_SELECTOR, ".widget-readout")
        before = readout.text
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", slider)
        track = slider.find_element(By.CSS_SELECTOR, ".noUi-target")
        dx = (track.location["x"] - 4) - (handle.location["x"] + handle.size["width"] / 2)  # to the left end
        ActionChains(driver).click_and_hold(handle).move_by_offset(int(dx), 0).release().perform()
        _wait("the α2 readout to move", lambda: readout.text != before and float(readout.text) == 0.0, 10)
        driver.find_element(By.CSS_SELECTOR, ".amid-teach-train button, button.amid-teach-train").click()
        _wait("the second run", lambda: "run 2 (" in _output(driver)[0], 60)
        _wait("the kernel to finish", lambda: (s := driver.execute_script(_STATE)) and s["status"] == "idle"
              and not s["busy"], 60)
        # the new run's picture, the two runs' curves side by side and their table
        _wait("the pinned comparison", lambda: len(driver.find_elements(By.CSS_SELECTOR, ".amid-teach-output img")) == 2
              and len(driver.find_elements(By.CSS_SELECTOR, ".amid-teach-output table tbody tr")) == 2, 30)
        text1, img1 = _output(driver)
        teacher1 = _teacher(text1)
        for button in driver.find_elements(By.XPATH, "//div[contains(@class, 'jp-toast')]//button[normalize-space()='No']"):
            button.click()  # JupyterLab's "notified about news?" toast
        _wait("the pictures to load", lambda: driver.execute_script(
            "const i = document.querySelectorAll('.amid-teach-output img');"
            "return i.length > 0 && [...i].every(x => x.complete && x.naturalWidth > 0);"), 30)
        driver.execute_script("arguments[0].scrollIntoView({block: 'start'});",
                              driver.find_element(By.CSS_SELECTOR, ".amid-teach-alpha1"))
        driver.execute_async_script(  # decoded images, then two frames: what scrolled in is painted
            "const done = arguments[arguments.length - 1];"
            "Promise.all([...document.querySelectorAll('.amid-teach-output img')].map(i => i.decode()))"
            ".then(() => requestAnimationFrame(() => requestAnimationFrame(() => done(true))));")
        time.sleep(1.5)
        driver.save_screenshot(str(shot))
    except BaseException:
        driver.save_screenshot(str(SHOTS / "07_teaching_failed.png"))
        raise
    finally:
        driver.quit()
    assert "α2=0" in text1 and "α2=1.6" in text0, (text0[:200], text1[:200])
    assert "run 1" in text1 and "run 2" in text1  # both runs pinned in the table
    assert img1 != img0
    assert teacher1 != teacher0, (teacher0, teacher1)
    assert shot.stat().st_size > 20_000
    print(f"teacher {teacher0} % (α2=1.6) -> {teacher1} % (α2=0); screenshot {shot}")
