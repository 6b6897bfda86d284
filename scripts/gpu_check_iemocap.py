"""Section 2 of scripts/gpu_check.sh: the IEMOCAP path, the GRU student over frame features.

    python scripts/gpu_check_iemocap.py          # CUDA: 1024 utterances x 16 x 1024-d frames
    python scripts/gpu_check_iemocap.py --cpu    # smoke test: 64 utterances x 4 x 32-d frames

AMID through ``amidlib.core.experiment.run`` with the preset paper_iemocap (fp32), 3 epochs (1 of warm-up) on
random features: s/epoch and whether every loss stayed finite (exit status 1 when not).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from amidlib.core.experiment import run  # noqa: E402
from amidlib.data import MultimodalArrays  # noqa: E402
from amidlib.data.iemocap.nets import gru_run_args  # noqa: E402

EPOCHS = 3


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cpu", action="store_true", help="tiny shapes on the CPU (smoke test)")
    args = p.parse_args(argv)
    device = "cpu" if args.cpu else "cuda"
    if device == "cuda" and not torch.cuda.is_available():
        sys.exit("gpu_check_iemocap: no CUDA device here; use --cpu for the smoke test")
    n, nf, fd = (64, 4, 32) if args.cpu else (1024, 16, 1024)
    rng = np.random.default_rng(0)
    y = np.arange(n) % 4
    mods = {"visual_frames": rng.normal(size=(n, nf * fd)).astype(np.float32) + y[:, None] * 0.1,
            "audio": rng.normal(size=(n, 768)).astype(np.float32) + y[:, None] * 0.1}
    data = MultimodalArrays(mods, y, target=["visual_frames"], auxiliary=["audio"])
    print(f"AMID, GRU student (preset paper_iemocap) on {device}: {n} utterances x {nf} x {fd}-d frames, "
          f"{EPOCHS} epochs", flush=True)
    t0 = time.perf_counter()
    r = run("amid", data, data, seed=0, preset="paper_iemocap", device=device, epochs=EPOCHS, warmup_epochs=1,
            progress=False, **{k: v for k, v in gru_run_args(nf, fd).items() if k != "record_extra"})
    wall = time.perf_counter() - t0
    vals = r.history[[c for c in r.history.columns if c.startswith("loss_")]].to_numpy(float)
    finite = bool(np.isfinite(vals[~np.isnan(vals)]).all())
    print(f"amp {r.config['amp']}: {EPOCHS} epochs in {wall:.1f} s ({wall / EPOCHS:.2f} s/epoch, evaluation "
          f"included), losses finite: {finite}", flush=True)
    return 0 if finite else 1


if __name__ == "__main__":
    raise SystemExit(main())
