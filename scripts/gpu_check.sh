#!/usr/bin/env bash
# One short, prepared check of the paper profile on a GPU machine (minutes, not hours), from a bare checkout.
#
#   scripts/gpu_check.sh [--out DIR] [--only 0,1,...] [--limit N=SECONDS]... [--kill-after SECONDS]
#   scripts/gpu_check.sh --cpu [...]     # smoke test anywhere: the same sections at tiny shapes on the CPU
#   make gpu-check [CPU=1] [OUT=DIR] [ONLY=0,1] [LIMITS="3=900 5=1200"]
#
# Each section runs under its own time limit (coreutils timeout: SIGTERM at the limit, SIGKILL --kill-after
# seconds later, default 15) and prints as it goes. A section that fails or times out is named in the report
# ("section 3 (data path): timed out after 300 s") and the check goes on with the next one. Exit status: 0 when
# every selected section passed, 1 when one did not, 2 for a bad command line or no usable Python.
#
# Sections, with their default limits in seconds (CUDA / --cpu):
# 0. environment (60 / 60): installed python, torch, torchvision, torchaudio and av against the pins in
#    pyproject.toml (a mismatch is named, not fatal); on CUDA the GPU, driver, CUDA and cuDNN versions (fails
#    when torch cannot use the GPU: the pinned torch is a CUDA 13 build, it needs driver >= 580).
# 1. training step (300 / 180): scripts/gpu_check_train.py. All seven methods, 2 epochs each, through the real
#    loop (amidlib.core.training.train, preset paper_video: SGD, bf16 autocast, channels-last, cudnn.benchmark),
#    R(2+1)D-18 at 16x112x112, batch 16, and a plain torchvision r2plus1d_18 trained the same way: s/step,
#    training-step and evaluation peak memory, finite losses; the ratios AMID / student, student / plain and
#    training peak / plain peak against their goals.
# 2. IEMOCAP GRU (120 / 60): scripts/gpu_check_iemocap.py, AMID through experiment.run (preset paper_iemocap,
#    fp32): s/epoch and finite losses.
# 3. data path (300 / 180): clips/s of the run's real loader (VideoLoader) per number of decode workers on
#    generated UCF-sized B-frame AVIs (benchmarks/bench_video.py --loader), a row per worker count as measured.
# 4. paper pipeline (300 / 300): scripts/paper_pipeline_check.py, Table 1's UCF51 column through the notebooks'
#    paper profile on generated clips (one missing and one corrupt video, 2 decode workers).
# 5. notebooks (600 / 600): the embedded-data reproduction `make reproduce PROFILE=ci` runs (python -m
#    amidlib.repro --profile ci, every notebook through papermill) with device cuda (--cpu: cpu), writing into
#    the check's folder, not figures/.
# Reports in DIR (default benchmarks/gpu_check/), each written atomically: gpu_check_<stamp>[_cpu].md (each
# section's result, wall time, limit and output) and the folder gpu_check_<stamp>[_cpu]/ with the section logs,
# loader.md, paper_pipeline_check.md and the notebooks' run (repro/).
set -euo pipefail
cd "$(dirname "$0")/.."

NAMES=("environment" "training step" "IEMOCAP GRU" "data path" "paper pipeline" "notebooks")
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
die_usage() { echo "gpu_check: $1 (scripts/gpu_check.sh --help)" >&2; exit 2; }

OUT=benchmarks/gpu_check
CPU=0
ONLY="0 1 2 3 4 5"
KILL_AFTER=15
SET_LIMITS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) OUT="${2:?--out needs a folder}"; shift 2 ;;
    --out=*) OUT="${1#--out=}"; shift ;;
    --cpu) CPU=1; shift ;;
    --only) ONLY="${2:?--only needs section numbers, e.g. 0,1}"; shift 2 ;;
    --only=*) ONLY="${1#--only=}"; shift ;;
    --limit) SET_LIMITS+=("${2:?--limit needs N=SECONDS}"); shift 2 ;;
    --limit=*) SET_LIMITS+=("${1#--limit=}"); shift ;;
    --kill-after) KILL_AFTER="${2:?--kill-after needs seconds}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) die_usage "unknown argument '$1'" ;;
  esac
done
if [ $CPU = 1 ]; then LIMITS=(60 180 60 180 300 600); else LIMITS=(60 300 120 300 300 600); fi
for item in "${SET_LIMITS[@]+"${SET_LIMITS[@]}"}"; do
  # SECONDS from 1: coreutils timeout reads 0 as no limit at all
  [[ "$item" =~ ^([0-5])=([1-9][0-9]*)$ ]] || die_usage "--limit '$item': give SECTION=SECONDS, SECTION 0-5, SECONDS >= 1"
  LIMITS[${BASH_REMATCH[1]}]=${BASH_REMATCH[2]}
done
ONLY="${ONLY//,/ }"
for n in $ONLY; do [[ "$n" =~ ^[0-5]$ ]] || die_usage "--only '$n': sections are 0-5"; done
[[ "$KILL_AFTER" =~ ^[0-9]+$ ]] || die_usage "--kill-after '$KILL_AFTER': give whole seconds"

# ---- a Python with the project's packages, before any section (none can run without one) -------------------
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=$(command -v python3 || true); fi
fi
# installed, not imported (importing transformers alone takes seconds); section 0 then says what does not import
check_imports() {
  [ -n "$PY" ] && "$PY" -c "import importlib.util as u, sys; sys.exit(any(u.find_spec(m) is None for m in sys.argv[1:]))" \
    torch torchvision torchaudio av soundfile sklearn tabulate pandas transformers papermill packaging 2>/dev/null
}
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
export PYTHONUNBUFFERED=1  # the sections write to a log file: unbuffered, each line shows as it is printed

MODE=$([ $CPU = 1 ] && echo cpu || echo cuda)
CPU_FLAG=$([ $CPU = 1 ] && echo --cpu || true)
TAG="gpu_check_$(date +%Y%m%d-%H%M%S)$([ $CPU = 1 ] && echo _cpu || true)"
WORK="$OUT/$TAG"
REPORT="$OUT/$TAG.md"
mkdir -p "$WORK"

# ---- running one section -------------------------------------------------------------------------------
RESULTS=()   # "N|result|wall s" per section run
SECTION_PID=
# timeout runs its command in a process group of its own, which a Ctrl-C at the terminal does not reach:
# pass INT/TERM on to it (timeout then signals the whole group, decode workers included)
trap 'if [ -n "$SECTION_PID" ]; then kill -TERM "$SECTION_PID" 2>/dev/null || true; fi; echo "gpu_check: interrupted" >&2; exit 130' INT TERM

run_section() {  # run_section N COMMAND...: COMMAND under section N's limit, shown as it runs and logged
  local n=$1 rc=0 start wall result tail_pid
  shift
  [[ " $ONLY " == *" $n "* ]] || return 0
  local limit=${LIMITS[$n]} log="$WORK/section_$n.log"
  echo
  echo "==== section $n (${NAMES[$n]}), limit $limit s: $*"
  : >"$log"
  start=$SECONDS
  # in the background with the output in a file, not a pipe: a process the section leaves behind holding the
  # pipe open would otherwise keep the check waiting past the limit; tail shows the file as it grows
  timeout --kill-after="$KILL_AFTER" "$limit" "$@" >"$log" 2>&1 &
  SECTION_PID=$!
  tail -n +1 -f --pid="$SECTION_PID" "$log" &
  tail_pid=$!
  wait "$SECTION_PID" || rc=$?
  SECTION_PID=
  wait "$tail_pid" || true
  wall=$((SECONDS - start))
  if [ $rc = 0 ]; then
    result="passed"
  elif [ $rc = 124 ] || { [ $rc = 137 ] && [ "$wall" -ge "$limit" ]; }; then  # 137: still alive --kill-after s later
    result="timed out after $limit s"
  else
    result="failed with exit code $rc"
  fi
  echo "==== section $n (${NAMES[$n]}): $result ($wall s)"
  RESULTS+=("$n|$result|$wall")
}

# ---- the sections ----------------------------------------------------------------------------------------
run_section 0 "$PY" scripts/gpu_check_env.py $CPU_FLAG
run_section 1 "$PY" scripts/gpu_check_train.py $CPU_FLAG
run_section 2 "$PY" scripts/gpu_check_iemocap.py $CPU_FLAG
if [ $CPU = 1 ]; then
  run_section 3 "$PY" benchmarks/bench_video.py --loader --workers 0 1 2 --videos 8 --out "$WORK/loader.md"
  run_section 4 "$PY" scripts/paper_pipeline_check.py --cpu --classes 3 --per-class 3 --out "$WORK/.paper_pipeline_check.md"
else
  run_section 3 "$PY" benchmarks/bench_video.py --loader --workers 0 2 4 8 --videos 32 --out "$WORK/loader.md"
  run_section 4 "$PY" scripts/paper_pipeline_check.py --out "$WORK/.paper_pipeline_check.md"
fi
# paper_pipeline_check.py writes its report in place: renamed once complete, so a report there is a whole one
if [ -f "$WORK/.paper_pipeline_check.md" ]; then mv -f "$WORK/.paper_pipeline_check.md" "$WORK/paper_pipeline_check.md"; fi
run_section 5 "$PY" -m amidlib.repro --profile ci -p device "$MODE" -p out_dir "$WORK/repro/figures" \
  --runs-dir "$WORK/repro/runs"

# ---- the report ------------------------------------------------------------------------------------------
PROBLEMS=()
for row in "${RESULTS[@]}"; do
  IFS='|' read -r n result wall <<<"$row"
  [ "$result" = passed ] || PROBLEMS+=("section $n (${NAMES[$n]}): $result")
done
if [ ${#PROBLEMS[@]} = 0 ]; then
  SUMMARY="all ${#RESULTS[@]} sections run passed"
else
  SUMMARY="${#PROBLEMS[@]} of ${#RESULTS[@]} sections did not pass: $(printf '%s; ' "${PROBLEMS[@]}")"
  SUMMARY="${SUMMARY%; }"
fi
{
  echo "# gpu_check $(date '+%F %H:%M') on $MODE ($(hostname)), sections ${ONLY// /,}"
  echo
  echo "| section | result | wall s | limit s |"
  echo "|---|---|---|---|"
  for row in "${RESULTS[@]}"; do
    IFS='|' read -r n result wall <<<"$row"
    echo "| $n (${NAMES[$n]}) | $result | $wall | ${LIMITS[$n]} |"
  done
  echo
  echo "$SUMMARY"
  for row in "${RESULTS[@]}"; do
    IFS='|' read -r n result wall <<<"$row"
    echo
    echo "## section $n (${NAMES[$n]}): $result"
    echo
    echo '```'
    sed 's/.*\r//' "$WORK/section_$n.log"  # a progress bar's carriage returns: only its last state
    echo '```'
  done
} >"$REPORT.tmp"
mv -f "$REPORT.tmp" "$REPORT"
echo
echo "gpu_check: $SUMMARY"
echo "report: $REPORT (section logs and reports in $WORK/)"
[ ${#PROBLEMS[@]} = 0 ]
