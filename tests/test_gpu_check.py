"""scripts/gpu_check.sh, the prepared check for a lent GPU, in its CPU mode: it must not rot between loans.

The full CPU mode (``make gpu-check CPU=1``) takes 2.5-3 minutes on 2 cores; these tests run the quick
sections (0-2) end to end, a section over its limit, a failing section, and the pieces a GPU run's numbers
depend on (the pin comparison, the evaluation batch cap)."""
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from amidlib.core.methods import METHODS  # every registered method: the check trains each

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts/gpu_check.sh"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / f"scripts/{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _check(out: Path, *args: str) -> tuple[subprocess.CompletedProcess, str]:
    """Run the check with this interpreter; its completed process and the one report it wrote."""
    proc = subprocess.run(["bash", str(SCRIPT), "--out", str(out), *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "PYTHON": sys.executable}, timeout=300)
    reports = sorted(out.glob("gpu_check_*.md"))
    assert len(reports) == 1, (proc.stdout, proc.stderr)
    assert not list(out.glob("*.tmp")), "the report is written to a temporary file, then renamed"
    return proc, reports[0].read_text()


def _section(report: str, n: int) -> str:
    """The output block of section ``n`` in the report."""
    found = re.search(rf"^## section {n} .*?```\n(.*?)```", report, re.S | re.M)
    assert found, f"no section {n} in the report"
    return found.group(1)


def test_cpu_mode_runs_the_quick_sections_and_reports_every_method(tmp_path):
    proc, report = _check(tmp_path, "--cpu", "--only", "0,1,2")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for n, name in ((0, "environment"), (1, "training step"), (2, "IEMOCAP GRU")):
        assert re.search(rf"^\| {n} \({name}\) \| passed \| \d+ \| \d+ \|$", report, re.M), report
    assert "all 3 sections run passed" in report
    assert "torch " + torch.__version__.split("+")[0] in _section(report, 0)

    training = _section(report, 1)
    assert "| training-step peak GiB process RSS | evaluation peak GiB process RSS | losses finite |" in training
    for method in METHODS:  # s/step, epoch 2 s, both peaks measured, finite losses
        row = re.search(rf"^\| {method} \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| ([\d.]+) \| True \|$", training, re.M)
        assert row, f"no finite, fully measured row for {method}:\n{training}"
        assert all(float(v) > 0 for v in row.groups())
    assert re.search(r"^\| plain torchvision r2plus1d_18 \(reference\) \| [\d.]+ \| [\d.]+ \| [\d.]+ \| - \| True \|$",
                     training, re.M)
    for ratio in ("AMID / student-alone step time", "student-alone / plain r2plus1d_18 step time",
                  "AMID training-step peak / plain peak"):
        assert re.search(rf"^{re.escape(ratio)}: [\d.]+x \(goal <= [\d.]+x\): (met|not met)$", training, re.M), ratio
    assert "do not speak to these GPU goals" in training
    assert f"{len(METHODS)} of {len(METHODS)} methods trained 2 epochs on the CPU with finite losses" in training
    assert "losses finite: True" in _section(report, 2)


def test_a_section_over_its_limit_is_named_and_the_next_one_still_runs(tmp_path):
    proc, report = _check(tmp_path, "--cpu", "--only", "1,2", "--limit", "1=1", "--kill-after", "2")
    assert proc.returncode == 1
    assert "section 1 (training step): timed out after 1 s" in report
    assert "section 1 (training step): timed out after 1 s" in proc.stdout  # the summary line at the end
    assert re.search(r"^\| 2 \(IEMOCAP GRU\) \| passed \|", report, re.M)
    assert "losses finite: True" in _section(report, 2)


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without a usable CUDA GPU")
def test_a_failing_section_is_named_with_its_exit_code(tmp_path):
    # without --cpu, section 0 on a machine without a GPU stops: every later GPU section would fail the same way
    proc, report = _check(tmp_path, "--only", "0")
    assert proc.returncode == 1
    assert "section 0 (environment): failed with exit code 1" in report
    assert "no CUDA GPU visible" in _section(report, 0)


def test_the_check_refuses_a_bad_command_line():
    for args in (["--only", "6"], ["--limit", "3=0"], ["--limit", "3"], ["--frobnicate"]):
        proc = subprocess.run(["bash", str(SCRIPT), *args], cwd=ROOT, capture_output=True, text=True)
        assert proc.returncode == 2 and "gpu_check:" in proc.stderr, args


def test_a_version_mismatch_is_named_and_not_fatal(tmp_path):
    env = _load("gpu_check_env")
    doctored = tmp_path / "pyproject.toml"
    text = (ROOT / "pyproject.toml").read_text()
    for name, requirement in (("torch", "torch==2.14.1"), ("av", "av>=99")):  # an exact pin and a lower bound
        text, found = re.subn(rf'"{name}[=<>!~][^"]*"', f'"{requirement}"', text)
        assert found == 1, f"pyproject.toml lists no requirement of {name}"
    doctored.write_text(text)
    pins = env.read_pins(doctored)
    assert set(pins) == {"python", "torch", "torchvision", "torchaudio", "av"}
    installed = {"python": "3.11.7", "torch": "2.11.0", "torchvision": "0.29.1", "torchaudio": None, "av": "14.0.1"}
    problems = env.mismatches(installed, pins)
    assert "torch 2.11.0 != pinned 2.14.1: numbers may differ from the reference" in problems
    assert "av 14.0.1 does not satisfy required >=99: numbers may differ from the reference" in problems
    assert any(p.startswith("torchaudio is not installed") for p in problems)
    assert not [p for p in problems if p.startswith(("python", "torchvision"))]
    # torch's CUDA builds carry a local label: the same release matches its pin
    assert env.mismatches({"torch": "2.14.1+cu130"}, {"torch": pins["torch"]}) == []
    # the script itself: the mismatch printed, exit status 0
    proc = subprocess.run([sys.executable, str(ROOT / "scripts/gpu_check_env.py"), "--cpu", "--pyproject",
                           str(doctored)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "version mismatch: av " in proc.stdout and "does not satisfy required >=99" in proc.stdout


def test_evaluation_batches_are_capped_as_the_video_loader_caps_them():
    # training.embed_all asks for 1024 clips at once: uncapped, the check measured one 40 GiB evaluation batch
    clips = _load("gpu_check_train").Clips(n=40, frames=2, size=8, eval_batch_size=8, device="cpu")
    assert [b.y.numel() for b in clips.batches(1024)] == [8] * 5
    g = torch.Generator().manual_seed(0)
    assert [b.y.numel() for b in clips.batches(16, g, drop_last=True)] == [16, 16]  # training: as asked
