"""A reproduction stopped and resumed gives the files of one that ran through (issue: a reproduction that never lies).

Runs the ci profile's whole reproduction twice into temporary folders: once through, once stopped with SIGTERM (or
SIGKILL) while its workload trains, then resumed with the command the runner printed (``--cache-dir`` of the stopped
run). Checks that no process of the stopped tree is left after 10 s, and compares every table, csv and markdown file
the two wrote, byte for byte (timings and the executed notebooks hold wall times: not compared). Writes
``benchmarks/RESULTS_resume.md``.

    python benchmarks/check_resume.py [--signal TERM|KILL] [--out benchmarks/RESULTS_resume.md]
"""
from __future__ import annotations

import argparse
import datetime as dt
import filecmp
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from amidlib.core.files import atomic_write_text
from amidlib.repro.lifetime import _alive, descendants
from amidlib.repro.store import RunCache

REPO = Path(__file__).resolve().parents[1]


def _command(base: Path, extra=()) -> list[str]:
    return [sys.executable, "-m", "amidlib.repro", "--profile", "ci", "--runs-dir", str(base / "runs"),
            "-p", "out_dir", str(base / "out"), *extra]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--signal", nargs="+", choices=["TERM", "KILL"], default=["TERM", "KILL"])
    ap.add_argument("--out", type=Path, default=REPO / "benchmarks" / "RESULTS_resume.md")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="resume."))
    whole = work / "whole"
    started = time.perf_counter()
    subprocess.run(_command(whole), cwd=REPO, check=True, capture_output=True)
    whole_s = time.perf_counter() - started
    lines = ["# A reproduction stopped and resumed against one that ran through (profile ci)", "",
             f"Measured by `python benchmarks/check_resume.py --signal {' '.join(args.signal)}` on "
             f"{dt.date.today().isoformat()}: the ci reproduction run through ({whole_s:.0f} s), and again, stopped "
             "while its workload trained, then resumed with the command the runner printed (`--cache-dir` of the "
             "stopped run). Compared: every csv and markdown file both wrote, byte for byte, but for the line "
             "of claims.md that says when it was generated (the executed notebooks and timings hold wall times)."]
    ok = True
    for name in args.signal:
        result = _stop_and_resume(whole, work / name, getattr(signal, f"SIG{name}"))
        ok = ok and result[0]
        lines += ["", f"## SIG{name}", "", *result[1]]
    atomic_write_text(args.out, "\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if ok else 1


def _text(path: Path) -> list[str]:
    return [line for line in path.read_text().splitlines() if not line.startswith("- generated ")]


def _stop_and_resume(whole: Path, stopped: Path, sig: int) -> tuple[bool, list[str]]:
    proc = subprocess.Popen(_command(stopped), cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    cache = None
    while proc.poll() is None:
        caches = list((stopped / "runs" / "ci").glob("*/cache"))
        if caches and RunCache(caches[0]).count() >= 10:
            cache = caches[0]
            break
        time.sleep(0.2)
    assert cache is not None, "the reproduction ended before 10 runs were cached: nothing to stop"
    tree = descendants(proc.pid)
    proc.send_signal(sig)
    proc.wait(timeout=30)
    said = proc.stdout.read().strip().splitlines() or [""]
    time.sleep(10)
    left = [p for p in tree if _alive(p)]
    done_before = RunCache(cache).count()
    time.sleep(2)
    grew = RunCache(cache).count() - done_before  # (a run still training after the stop would land now)
    resumed = subprocess.run(_command(stopped, ["--cache-dir", str(cache)]), cwd=REPO, check=True,
                             capture_output=True, text=True)
    trained_on = next((line.strip() for line in resumed.stdout.splitlines() if "run(s) not in the cache" in line), "")
    last_words = next((line for line in said if line.startswith("stopped by")), said[-1])
    names = sorted(p.relative_to(whole / "out").as_posix() for p in (whole / "out").rglob("*")
                   if p.is_file() and p.suffix in (".csv", ".md"))
    differ = [n for n in names if (filecmp.cmp(whole / "out" / n, stopped / "out" / n, shallow=False) is False
                                   and _text(whole / "out" / n) != _text(stopped / "out" / n))]
    return not left and not grew and not differ, [
        f"- stopped once {done_before} run(s) were in its cache, with {len(tree)} process(es) below the runner",
        f"- processes of the stopped tree still running 10 s after the signal: **{len(left)}**",
        f"- runs added to the cache in the 2 s after that (training that went on): **{grew}**",
        f"- the runner's last words: `{last_words[:200]}`",
        f"- the resumed reproduction: `{trained_on}`",
        f"- csv and markdown files compared: **{len(names)}**; differing: **{len(differ)}**"
        + (f" ({', '.join(differ)})" if differ else ""),
    ]


if __name__ == "__main__":
    sys.exit(main())
