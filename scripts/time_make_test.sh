#!/usr/bin/env bash
# `make test` as CI runs it, timed: a fresh clone of this repository's HEAD in a temporary folder, `make setup`
# (the install), then `make test`. Writes benchmarks/make_test.json (the README's quick start reads it) and
# deletes the clone, its environment included. Usage: scripts/time_make_test.sh [--keep]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
[ "${1:-}" = "--keep" ] && echo "keeping $work" || trap 'rm -rf "$work"' EXIT
git clone -q "$repo" "$work/clone"
cd "$work/clone"
commit="$(git rev-parse --short HEAD)"
start=$(date +%s.%N)
make setup
installed=$(date +%s.%N)
status=0
make test || status=$?
finished=$(date +%s.%N)
.venv/bin/python -c "import sys; from pathlib import Path; from amidlib.repro.reproduction_files import TEST_RECORD, \
write_test_record; s, i, f = map(float, sys.argv[2:5]); write_test_record(Path(sys.argv[1]) / TEST_RECORD, i - s, \
f - i, sys.argv[5], int(sys.argv[6])); print(f'make test from a fresh clone: install {i - s:.0f} s, tests {f - i:.0f} s')" \
    "$repo" "$start" "$installed" "$finished" "$commit" "$status"
exit $status
