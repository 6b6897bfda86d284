"""The students' setup path (docs/usage.md, "Teaching"): Binder builds the environment from .binder/ with the same
`make setup` as make test and make reproduce, and registers the kernel the notebooks name. Checked as far as a machine
without Binder allows: the files parse, the script is executable and valid bash, and each name it relies on exists."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / ".binder"


def test_binder_builds_with_make_setup_and_registers_the_notebooks_kernel():
    post = BINDER / "postBuild"
    assert post.is_file() and post.stat().st_mode & 0o111, "postBuild must be executable"
    assert subprocess.run([shutil.which("bash") or "bash", "-n", str(post)]).returncode == 0  # valid bash
    text = post.read_text()
    assert re.search(r"^make setup$", text, re.M)  # the same environment as make test / make reproduce
    assert re.search(r"^setup:", (ROOT / "Makefile").read_text(), re.M)
    kernel = re.search(r"ipykernel install --user --name (\S+)", text)[1]
    for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):  # every notebook runs on that kernel
        assert json.loads(nb.read_text())["metadata"]["kernelspec"]["name"] == kernel, nb.name
    assert "make" in (BINDER / "apt.txt").read_text().split()


def test_binders_python_is_one_the_package_supports():
    version = re.fullmatch(r"python-(3\.\d+)\s*", (BINDER / "runtime.txt").read_text())[1]
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    least = re.search(r">=\s*(3\.\d+)", requires)[1]
    assert tuple(map(int, version.split("."))) >= tuple(map(int, least.split(".")))
    # .binder/ makes Binder ignore the root's environment.yml (the GPU users' conda file): documented in the README
    assert ".binder" in (ROOT / "docs" / "usage.md").read_text() and "mybinder.org" in (ROOT / "README.md").read_text()
