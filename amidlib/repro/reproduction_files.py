"""The files a reproduction leaves beside its executed notebooks (``timings.csv``, ``command.txt``,
``environment.txt`` in its run folder) and, for a whole reproduction into the committed ``figures/``, its
record ``figures/reproduction.json`` (runs, wall and CPU seconds, machine, the core's speed while it ran): what
the README and the notebooks' explore mode say a fresh run costs.
"""
from __future__ import annotations

import datetime as _dt
import json
import os
import resource
import sys
import time
from pathlib import Path

from amidlib.core.files import atomic_write_text

__all__ = ["RECORD", "TEST_RECORD", "write_reproduction_record", "read_reproduction_record", "write_test_record",
           "read_test_record", "machine_line", "cpu_name", "environment_record", "write_environment", "write_timings",
           "children_cpu", "core_speed", "PROBE_SHAPE"]


#: the committed record of the last reproduction into figures/ (read by amidlib.paper.readme and the notebooks'
#: explore mode: how long a fresh run takes); not a figure
RECORD = "reproduction.json"
#: the committed record of the last timed `make test` from a fresh clone (scripts/time_make_test.sh writes it; the
#: README's quick start reads it)
TEST_RECORD = Path("benchmarks") / "make_test.json"


def write_reproduction_record(out_dir: Path, runs: int, wall_s: float, cpu_s: float, profile: str,
                              core_gflops: tuple[float, float] | None = None, roofline: dict | None = None) -> Path:
    """``<out_dir>/reproduction.json``: how many runs the reproduction trained or found in its cache, its wall
    and CPU seconds, the machine, the profile, when it finished, ``core_gflops``, :func:`core_speed` at its
    start and end, and the workload's ``roofline`` (:mod:`amidlib.repro.roofline`; written atomically)."""
    record = {"runs": int(runs), "wall_s": round(float(wall_s), 1), "cpu_s": round(float(cpu_s), 1),
              "machine": machine_line(), "profile": profile,
              "finished": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")}
    if core_gflops is not None:
        record["core_gflops"] = [round(float(g), 1) for g in core_gflops]
    if roofline is not None:
        record["roofline"] = roofline
    path = Path(out_dir) / RECORD
    atomic_write_text(path, json.dumps(record, indent=2) + "\n")
    print(f"reproduction record: {path}")
    return path


def write_test_record(path: Path, install_s: float, test_s: float, commit: str, status: int) -> Path:
    """``path`` (:data:`TEST_RECORD`): a `make test` from a fresh clone, timed by scripts/time_make_test.sh: the
    install (`make setup`) and the tests (`make test` after it), the machine, the commit, the exit status."""
    record = {"install_s": round(float(install_s), 1), "test_s": round(float(test_s), 1),
              "total_s": round(float(install_s) + float(test_s), 1), "status": int(status), "machine": machine_line(),
              "python": sys.version.split()[0], "commit": commit,
              "finished": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds")}
    atomic_write_text(Path(path), json.dumps(record, indent=2) + "\n")
    print(f"make test record: {path}")
    return Path(path)


def read_test_record(root: Path) -> dict | None:
    """The record :func:`write_test_record` left under ``root`` (None: none, or unreadable)."""
    try:
        return json.loads((Path(root) / TEST_RECORD).read_text())
    except (OSError, ValueError):
        return None


#: the probe's product: one linear layer of AMID's step on the digit pairs, batched over 10 seeds (seeds × batch 16 ×
#: 256 inputs → 256 outputs), the arithmetic that bounds a reproduction on the CPU
PROBE_SHAPE = (10, 16, 256, 256)


def core_speed(seconds: float = 0.5) -> float:
    """One core's rate, in GFLOP/s, at the batched matrix products that bound a reproduction (:data:`PROBE_SHAPE`),
    measured for ``seconds``. A reproduction takes it at its start and its end and records both: the same CPU model
    has run the same reproduction, run for run the same numbers, in 9.1 and in 12.3 minutes in two sessions (the
    machines are shared), so a time means little without the speed the machine had while it ran."""
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as every training process runs (the presets' num_threads)
    try:
        k, m, n, p = PROBE_SHAPE
        a, b = torch.randn(k, m, n), torch.randn(k, n, p)
        for _ in range(10):  # warm-up: the first products allocate and page in
            torch.bmm(a, b)
        count, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            torch.bmm(a, b)
            count += 1
        return 2 * k * m * n * p * count / elapsed / 1e9
    finally:
        torch.set_num_threads(threads)


def machine_line() -> str:
    """"AMD EPYC 7B13, 2 cores": the CPU's model name and how many cores this process sees."""
    return f"{cpu_name()}, {os.cpu_count()} cores"


def read_reproduction_record(out_dir: Path) -> dict | None:
    """The record :func:`write_reproduction_record` left in ``out_dir`` (None: none, or unreadable)."""
    try:
        return json.loads((Path(out_dir) / RECORD).read_text())
    except (OSError, ValueError):
        return None


def children_cpu() -> float:
    """User + system CPU seconds of finished child processes (kernels and their worker processes)."""
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def write_timings(run_folder: Path, timings: list[dict], total: float, total_cpu: float, profile: str,
                  given: dict) -> None:
    import pandas as pd

    frame = pd.DataFrame(timings + [{"notebook": "TOTAL", "seconds": round(total, 1),
                                     "cpu_seconds": round(total_cpu, 1), "status": ""}])
    atomic_write_text(run_folder / "timings.csv", frame.to_csv(index=False))
    atomic_write_text(run_folder / "command.txt",
                      f"profile={profile}\nparameters={given!r}\ncpu_count={os.cpu_count()}\n"
                      f"loadavg={os.getloadavg() if hasattr(os, 'getloadavg') else 'n/a'}\n")


def cpu_name() -> str:
    """The CPU's model name (/proc/cpuinfo), else what :mod:`platform` knows."""
    import platform

    try:
        return next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                    if line.startswith("model name")) or platform.processor()
    except (OSError, StopIteration):
        return platform.processor() or platform.machine()


def environment_record() -> str:
    """What decides a run's numbers beyond the code: the frozen package set (``pip freeze``), the CPU
    capability torch dispatches to (vector instructions: training drifts between capabilities), the
    machine. Written as ``environment.txt`` into every run folder."""
    import platform
    import subprocess

    import torch

    try:
        freeze = subprocess.run([sys.executable, "-m", "pip", "freeze", "--all"], capture_output=True, text=True,
                                timeout=120).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        freeze = f"(pip freeze failed: {exc})\n"
    return (f"python={sys.version.split()[0]}\nplatform={platform.platform()}\nprocessor={cpu_name()}\n"
            f"cpu_count={os.cpu_count()}\ntorch={torch.__version__}\n"
            f"torch_cpu_capability={torch.backends.cpu.get_cpu_capability()}\n"
            f"torch_num_threads={torch.get_num_threads()}\n\n# pip freeze --all\n{freeze}")


def write_environment(run_folder: Path) -> None:
    atomic_write_text(run_folder / "environment.txt", environment_record())
