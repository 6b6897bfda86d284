#!/usr/bin/env bash
# One short, prepared check of the paper profile on a GPU machine (minutes, not hours), from a bare checkout.
#
#   scripts/gpu_check.sh [--out DIR]          # CUDA: paper shapes, the real training loop, AMP
#   scripts/gpu_check.sh --cpu [--out DIR]    # smoke test anywhere: tiny shapes on the CPU
#
# 0. Environment, before anything else: a Python with the project's packages ($PYTHON, else .venv/bin/python,
#    else python3). When imports fail and the machine can reach PyPI it makes .venv (pip install -e .);
#    otherwise it stops with one line saying what to run first. Then CUDA and the driver: torch's CUDA build
#    against the driver nvidia-smi reports (the pinned torch is a CUDA 13 build: it needs driver >= 580).
# 1. The real training loop (amidlib.core.training.train, the paper_video preset: SGD, bf16 autocast,
#    channels-last, cudnn.benchmark) on GPU-resident clips, R(2+1)D-18 at 16x112x112, batch 16, 51 classes:
#    AMID and the student alone, s/step, AMID / student ratio, peak memory, finite losses.
# 2. The IEMOCAP path: the GRU student over 16 x 1024-d frame features (preset paper_iemocap, fp32),
#    AMID through experiment.run: s/epoch and finite losses.
# 3. The data path with the run's real loader (VideoLoader): clips/s with 0, 1, 2, 4 decode workers on
#    generated UCF-sized B-frame AVIs (benchmarks/bench_video.py --loader).
# 4. scripts/paper_pipeline_check.py: the notebooks' paper profile end to end on generated clips (B-frame
#    AVIs, one missing and one corrupt video, 2 decode workers), Table 1's UCF51 column.
# Reports: DIR (default benchmarks/): gpu_check_<date>[_cpu].txt, loader_<date>[_cpu].md,
# paper_pipeline_check_<date>[_cpu].md, each written atomically.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=benchmarks
CPU=0
ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="$2"; shift 2 ;;
    --out=*) OUT="${1#--out=}"; shift ;;
    --cpu) CPU=1; ARGS+=("$1"); shift ;;
    *) ARGS+=("$1"); shift ;;
  esac
done
mkdir -p "$OUT"
SUFFIX=$([ $CPU = 1 ] && echo _cpu || true)
STAMP=$(date +%F)

# ---- 0. environment --------------------------------------------------------------------------------------
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=$(command -v python3 || true); fi
fi
check_imports() { [ -n "$PY" ] && "$PY" -c "import torch, torchvision, torchaudio, av, soundfile, sklearn, tabulate, pandas, transformers" 2>/dev/null; }
if ! check_imports; then
  if [ ! -x .venv/bin/python ] && command -v python3 >/dev/null && python3 -m venv .venv 2>/dev/null \
     && .venv/bin/python -m pip install -q -e . 2>/dev/null; then
    PY=.venv/bin/python
  fi
fi
if ! check_imports; then
  echo "gpu_check: no Python with the project's packages here (and pip could not install them): run 'make setup' (or: python3 -m venv .venv && .venv/bin/pip install -e .) first, or set PYTHON=/path/to/python" >&2
  exit 2
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
DRIVER=$(nvidia-smi --query-gpu=driver_version,name,memory.total --format=csv,noheader 2>/dev/null | head -1 || true)
"$PY" - "$CPU" "$DRIVER" <<'PYEOF'
import sys
import torch
cpu, driver = sys.argv[1] == "1", sys.argv[2]
if cpu:
    sys.exit(0)
if not torch.cuda.is_available():
    if driver:
        sys.exit(f"gpu_check: torch {torch.__version__} (CUDA {torch.version.cuda}) cannot use this GPU (driver {driver}); "
                 "a CUDA 13 build needs driver >= 580: install a torch wheel built for the driver's CUDA "
                 "(pip install torch torchvision torchaudio --index-url https://download.pytorch.org/whl/cu126) or update the driver")
    sys.exit("gpu_check: no CUDA GPU visible (nvidia-smi found none); use --cpu for the smoke test")
print(f"CUDA ok: torch {torch.__version__}, CUDA {torch.version.cuda}, {torch.cuda.get_device_name(0)}, driver {driver}")
PYEOF

# ---- 1 + 2. the real training loop (video, IEMOCAP GRU) ----------------------------------------------------
"$PY" - "$CPU" "$OUT/gpu_check_${STAMP}${SUFFIX}.txt" "$DRIVER" <<'PYEOF'
import datetime
import math
import os
import sys
import time

import numpy as np
import torch

from amidlib.core.config import make_config
from amidlib.core.methods import METHODS
from amidlib.core.types import Batch
from amidlib.core import training
from amidlib.data.video.nets import build_video_nets

cpu, path, driver = sys.argv[1] == "1", sys.argv[2], sys.argv[3]
device = "cpu" if cpu else "cuda"
if not cpu:
    torch.backends.cudnn.benchmark = True
else:
    torch.set_num_threads(1)
lines = []


def out(s=""):
    print(s, flush=True)
    lines.append(s)


class Clips:
    """The training loop's loader interface (n, y, batches) over random clips held on the device."""

    def __init__(self, n, frames, size, n_classes, aux_dim, channels_last):
        g = torch.Generator().manual_seed(0)
        self.n, self.bs = n, None
        self.x = torch.randn(n, 3, frames, size, size, generator=g).to(device)
        if channels_last:
            self.x = self.x.contiguous(memory_format=torch.channels_last_3d)
        self.a = torch.randn(n, aux_dim, generator=g).to(device)
        self.y = (torch.arange(n) % n_classes).to(device)

    def batches(self, batch_size, generator=None, drop_last=False):
        order = torch.randperm(self.n, generator=generator) if generator is not None else torch.arange(self.n)
        stop = self.n - self.n % batch_size if drop_last else self.n
        for s in range(0, stop, batch_size):
            i = order[s:s + batch_size].to(device)
            yield Batch(self.x[i], self.a[i], self.y[i], i)


frames, size, batch, steps = (4, 16, 2, 3) if cpu else (16, 112, 16, 20)
n_classes, aux_dim = 51, 512
out(f"# gpu_check {datetime.datetime.now():%Y-%m-%d %H:%M} on {device} "
    f"({torch.cuda.get_device_name(0) if not cpu else 'CPU'}; driver {driver or '-'})")
out(f"torch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}")
out(f"1. the real training loop (amidlib.core.training.train), preset paper_video, R(2+1)D-18 at {frames}x{size}x{size}, "
    f"batch {batch}, {steps} steps per epoch, 2 epochs (the first warms up cudnn.benchmark), evaluation at the end")
out()
out("| method | amp | s/step (epoch 2) | epoch 2 s | peak GiB | losses finite |")
out("|---|---|---|---|---|---|")
data = Clips(batch * steps, frames, size, n_classes, aux_dim, channels_last=not cpu)
res = {}
for name in ("baseline", "amid"):
    cfg = make_config(METHODS[name].defaults, preset="paper_video", device=device, epochs=2, warmup_epochs=0,
                      batch_size=batch, eval_every=2, progress=False, **({"amp": "bf16"} if cpu else {}))
    torch.manual_seed(0)
    nets = build_video_nets(n_classes, aux_dim, dim=cfg.dim, teacher_hidden=cfg.hidden)
    model = METHODS[name](nets, cfg, n_classes, data.n).to(device)
    if cfg.get("channels_last") and not cpu:
        model = model.to(memory_format=torch.channels_last_3d)
    if not cpu:
        torch.cuda.reset_peak_memory_stats()
    stamps = []
    end_epoch = model.end_epoch

    def timed_end_epoch(*args, **kwargs):  # called right after each epoch's training steps
        if not cpu:
            torch.cuda.synchronize()
        stamps.append(time.perf_counter())
        return end_epoch(*args, **kwargs)

    model.end_epoch = timed_end_epoch
    t0 = time.perf_counter()
    hist = training.train(model, data, data, cfg, seed=0)
    vals = hist[[c for c in hist.columns if c.startswith("loss_")]].to_numpy(float)
    finite = bool(np.isfinite(vals[~np.isnan(vals)]).all())
    epoch2 = stamps[1] - stamps[0]  # epoch 2's training steps (epoch 1 warms up; no evaluation between)
    peak = torch.cuda.max_memory_allocated() / 2**30 if not cpu else float("nan")
    res[name] = epoch2 / steps
    amp = cfg.amp if not cpu else "bf16 (CPU: runs the path, not timed meaningfully)"
    out(f"| {name} | {amp} | {epoch2 / steps:.4f} | {epoch2:.2f} | {peak:.2f} | {finite} |")
out()
out(f"AMID / student-alone step time: {res['amid'] / res['baseline']:.2f}x (goal <= 1.15x)")

# 2. the IEMOCAP GRU path, fp32 (preset paper_iemocap)
from amidlib.core.experiment import run
from amidlib.data import MultimodalArrays
from amidlib.data.iemocap.nets import gru_run_args

n, nf, fd = (64, 4, 32) if cpu else (1024, 16, 1024)
rng = np.random.default_rng(0)
y = np.arange(n) % 4
mods = {"visual_frames": rng.normal(size=(n, nf * fd)).astype(np.float32) + y[:, None] * 0.1,
        "audio": rng.normal(size=(n, 768)).astype(np.float32) + y[:, None] * 0.1}
tr = MultimodalArrays(mods, y, target=["visual_frames"], auxiliary=["audio"])
t0 = time.perf_counter()
r = run("amid", tr, tr, seed=0, preset="paper_iemocap", device=device, epochs=3, warmup_epochs=1, progress=False,
        **{k: v for k, v in gru_run_args(nf, fd).items() if k != "record_extra"})
loss_cols = [c for c in r.history.columns if c.startswith("loss_")]
vals = r.history[loss_cols].to_numpy(float)
out()
out(f"2. IEMOCAP GRU student (preset paper_iemocap, amp {r.config['amp']}): {n} utterances x {nf} x {fd}-d frames, "
    f"3 epochs in {time.perf_counter() - t0:.1f} s, losses finite: {bool(np.isfinite(vals[~np.isnan(vals)]).all())}")
tmp = path + ".tmp"
with open(tmp, "w") as f:
    f.write("\n".join(lines) + "\n")
os.replace(tmp, path)
print(f"written to {path}")
PYEOF

# ---- 3. the data path with the run's loader, per worker ---------------------------------------------------
if [ $CPU = 1 ]; then
  "$PY" benchmarks/bench_video.py --loader --workers 0 1 2 --videos 8 --out "$OUT/loader_${STAMP}${SUFFIX}.md"
else
  "$PY" benchmarks/bench_video.py --loader --workers 0 1 2 4 8 --videos 48 --out "$OUT/loader_${STAMP}${SUFFIX}.md"
fi

# ---- 4. the notebooks' paper profile on generated clips --------------------------------------------------
if [ $CPU = 1 ]; then
  "$PY" scripts/paper_pipeline_check.py --cpu --classes 3 --per-class 3 --out "$OUT/paper_pipeline_check_${STAMP}_cpu.md"
else
  "$PY" scripts/paper_pipeline_check.py --out "$OUT/paper_pipeline_check_${STAMP}.md"
fi
