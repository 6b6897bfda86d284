"""benchmarks/ESTIMATES.md is what benchmarks/estimates.py computes from its inputs (no hand-edited number),
and the arithmetic follows its stated rule."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("amid_estimates", ROOT / "benchmarks" / "estimates.py")
estimates = importlib.util.module_from_spec(spec)
sys.modules["amid_estimates"] = estimates
spec.loader.exec_module(estimates)


def test_the_committed_estimates_are_the_scripts_output():
    assert (ROOT / "benchmarks" / "ESTIMATES.md").read_text() == estimates.report(), \
        "benchmarks/ESTIMATES.md is stale: run python benchmarks/estimates.py"


def test_a_run_is_bound_by_the_slower_of_the_gpu_and_the_decode_workers():
    d = estimates.UCF51
    gpu = estimates.GPU_TRAIN_CLIPS_S[0]
    one_core = estimates.UCF_DECODE_TRAIN_PER_CORE[0]
    assert estimates.run_hours(d, workers=1)[0] == estimates.EPOCHS * d.train / one_core / 3600  # decode-bound
    assert estimates.run_hours(d, workers=100)[0] == estimates.EPOCHS * d.train / gpu / 3600  # GPU-bound
    assert estimates.run_hours(d, seekable=True, workers=2)[0] < estimates.run_hours(d, workers=2)[0]
