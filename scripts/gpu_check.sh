#!/usr/bin/env bash
# One short, prepared check of the paper's video profile on a GPU (minutes, not hours).
#
#   scripts/gpu_check.sh            # on a CUDA machine: paper shapes, AMP
#   scripts/gpu_check.sh --cpu      # smoke test anywhere: tiny shapes on the CPU (slow, seconds)
#
# What it runs: a few training steps of R(2+1)D-18 (LeakyReLU) at 16x112x112, batch 16, dim 512,
# UCF51's 51 classes, cached-CNN14-like 512-d auxiliary features, the AMID losses of amidlib.losses
# with the paper's tau = 0.5, alpha = (4, 1.6, 1) (config preset "paper_video", warm-up off so every
# term runs) plus the discriminator step; and the student-alone (baseline) step on the same batch.
# Under torch.autocast (bf16 where supported, else fp16 with a GradScaler), and in fp32 for reference.
# Reports: median step time of each, the ratio AMID / student-alone, peak GPU memory
# (torch.cuda.max_memory_allocated) of each, and whether every loss stayed finite.
# Output: printed and written to benchmarks/gpu_check_<date>.txt (…_cpu.txt with --cpu).
# Then part 2, scripts/paper_pipeline_check.py: the notebooks' paper profile on generated clips (Table 1's
# UCF51 column through runs.Study, 2 epochs) -> benchmarks/paper_pipeline_check_<date>.md.
#
# Options: --steps N --warmup N --batch B --frames T --size S --amp {bf16,fp16,none} --no-fp32 --threads N
# (--cpu defaults: 1 warm-up + 1 step, batch 2, 4x16x16, 1 thread; CPU bf16 autocast is slow, it is
# there to run the AMP code path, not to time it.)
# Python: $PYTHON, else .venv/bin/python, else python3 (needs torch + torchvision; not torchaudio).
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
"$PY" - "$@" <<'PYEOF'
import argparse
import datetime
import math
import platform
import statistics
import sys
import time

sys.path.insert(0, "benchmarks")
import torch

from bench_video import build_step, make_batch
from amidlib.core.config import make_config
from amidlib.core.methods import METHODS

p = argparse.ArgumentParser(prog="scripts/gpu_check.sh")
p.add_argument("--cpu", action="store_true", help="tiny smoke test on the CPU")
p.add_argument("--steps", type=int)
p.add_argument("--warmup", type=int)
p.add_argument("--batch", type=int)
p.add_argument("--frames", type=int)
p.add_argument("--size", type=int)
p.add_argument("--amp", choices=["bf16", "fp16", "none"])
p.add_argument("--no-fp32", action="store_true", help="skip the fp32 reference rows")
p.add_argument("--threads", type=int, help="CPU threads (default 1 with --cpu: 2 shared cores oversubscribe)")
args = p.parse_args(sys.argv[1:])

if args.cpu:
    device, defaults = "cpu", dict(steps=1, warmup=1, batch=2, frames=4, size=16, threads=1)
else:
    if not torch.cuda.is_available():
        sys.exit("gpu_check: no CUDA device here; use --cpu for the smoke test")
    device, defaults = "cuda", dict(steps=10, warmup=3, batch=16, frames=16, size=112, threads=None)
    torch.backends.cudnn.benchmark = True
for k, v in defaults.items():
    if getattr(args, k) is None:
        setattr(args, k, v)
if args.amp is None:
    args.amp = "bf16" if (device == "cpu" or torch.cuda.is_bf16_supported()) else "fp16"
amp = {"bf16": torch.bfloat16, "fp16": torch.float16, "none": None}[args.amp]
torch.set_flush_denormal(True)
if args.threads:
    torch.set_num_threads(args.threads)

cfg = make_config(METHODS["amid"].defaults, preset="paper_video", device=device, warmup_epochs=0,
                  batch_size=args.batch, progress=False)
n_classes, aux_dim = 51, 512
batch = make_batch(args.batch, args.frames, args.size, aux_dim, n_classes, device)
lines = []
def out(s=""):
    print(s, flush=True)
    lines.append(s)

dev_name = torch.cuda.get_device_name(0) if device == "cuda" else (platform.processor() or platform.machine())
out(f"# gpu_check {datetime.datetime.now():%Y-%m-%d %H:%M} on {device} ({dev_name})")
out(f"torch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}")
out(f"shapes: R(2+1)D-18 (LeakyReLU) at {args.frames}x{args.size}x{args.size}, batch {args.batch}, "
    f"dim {cfg.dim}, {n_classes} classes, aux {aux_dim}-d (cached CNN14)")
out(f"AMID: tau {cfg.tau}, alpha ({cfg.alpha1}, {cfg.alpha2}, {cfg.alpha3}), beta {cfg.beta}, "
    f"teacher hidden {cfg.hidden}, discriminator hidden {cfg.d_hidden}; {args.warmup} warm-up + {args.steps} timed steps")
out()
out("| precision | step | median s | min s | peak memory GiB | losses finite |")
out("|---|---|---|---|---|---|")

def measure(name, dtype):
    step, _ = build_step(name, cfg, n_classes, aux_dim, device, amp_dtype=dtype)
    losses = {}
    for _ in range(args.warmup):
        losses = step(batch)
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    times = []
    finite = True
    for _ in range(args.steps):
        if device == "cuda":
            torch.cuda.synchronize()
        t = time.perf_counter()
        losses = step(batch)
        if device == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t)
        finite &= all(math.isfinite(v) for v in losses.values())
    peak = torch.cuda.max_memory_allocated() / 2**30 if device == "cuda" else float("nan")
    return statistics.median(times), min(times), peak, finite, losses

results = {}
precisions = [(args.amp, amp)] + ([] if (args.no_fp32 or amp is None) else [("fp32", None)])
for label, dtype in precisions:
    for name in ("baseline", "amid"):
        med, mn, peak, finite, losses = measure(name, dtype)
        results[(label, name)] = (med, losses)
        step_name = "student alone" if name == "baseline" else "AMID (+ discriminators)"
        out(f"| {label} | {step_name} | {med:.4f} | {mn:.4f} | {peak:.2f} | {finite} |")
        if device == "cuda":
            torch.cuda.empty_cache()
out()
for label, _ in precisions:
    ratio = results[(label, "amid")][0] / results[(label, "baseline")][0]
    out(f"{label}: AMID / student-alone = {ratio:.3f}x (goal <= 1.15x)")
out("AMID loss terms (last step, " + precisions[0][0] + "): "
    + ", ".join(f"{k} {v:.4g}" for k, v in results[(precisions[0][0], "amid")][1].items()))
stamp = datetime.date.today().isoformat()
path = f"benchmarks/gpu_check_{stamp}{'_cpu' if device == 'cpu' else ''}.txt"
with open(path + ".tmp", "w") as f:
    f.write("\n".join(lines) + "\n")
import os
os.replace(path + ".tmp", path)
print(f"written to {path}")
PYEOF

# Part 2: the notebooks' paper profile end to end on generated clips (runs.Study -> load_paper_dataset
# -> run(preset="paper_video") with AMP and checkpoints): Table 1's UCF51 column, 2 epochs.
if [[ " $* " == *" --cpu "* ]]; then
  "$PY" scripts/paper_pipeline_check.py --cpu --classes 3 --per-class 3 --out "benchmarks/paper_pipeline_check_$(date +%F)_cpu.md"
else
  "$PY" scripts/paper_pipeline_check.py --out "benchmarks/paper_pipeline_check_$(date +%F).md"
fi
