"""Run the numbered notebooks in order with papermill: every table and figure of the paper.

    python -m amidlib.repro --profile cpu                 # everything (default profile: cpu)
    python -m amidlib.repro --profile cpu --only 02 03    # some notebooks (numbers or name prefixes)
    python -m amidlib.repro -p seeds "[0, 1]" -p epochs 20
    python -m amidlib.repro --list                        # the notebooks and their parameters
    python -m amidlib.repro --profile paper --executor ray --address auto   # runs as tasks of a Ray cluster

Parameter names are checked against every selected notebook's ``parameters`` cell
(``papermill.inspect_notebook``) before anything runs: a misspelt name is refused, by name, with
the valid names. Values are read as YAML (``20``, ``null``, ``[0, 1]``, ``true``, text).
Executed notebooks go to ``runs/<profile>/<timestamp>/`` (a new folder every time, never an
earlier one), together with ``timings.csv``; the run cache of that reproduction is its
``cache/`` subfolder, so every number is computed by the reproduction that reports it. Tables and
figures go to the notebooks' ``out_dir`` (``figures/`` for cpu, ``figures/<profile>/`` otherwise).

A whole reproduction (no ``--only``; or ``--workload``) first trains its workload: every run a table, figure or claim
reads, in one pool, longest tasks first (``python -m amidlib.paper.workload``, run as its own process
like the notebooks: that code sits in a layer above this one). A notebook's cells train one table at a
time, which would leave a worker idle whenever a cell's runs are fewer tasks than workers. The
notebooks then find every run in the cache; the driver says how many they trained beyond it (0).

Ctrl-C or ``kill`` stops everything the runner started and prints the command that goes on from the finished runs;
a SIGKILLed runner's children die with it (:mod:`amidlib.repro.lifetime`).
"""
from __future__ import annotations

import json
import os
import shlex
import sys
import time
from pathlib import Path

from amidlib.repro import lifetime

# the command line's checks: re-exported for their old import path (tests, scripts)
from amidlib.repro.command import (  # noqa: F401
    RESERVED,
    Command,
    UsageError,
    check_parameters,
    list_notebooks,
    new_run_folder,
    notebook_parameters,
    notebooks_dir,
    parse_value,
    read_command,
    select,
)
from amidlib.repro.profiles import COMMON_PARAMETERS, PROFILES, resolve_path

# cpu_name and environment_record: re-exported for their old import path (benchmarks/bench_seeds.py, tests)
from amidlib.repro.reproduction_files import (  # noqa: F401
    children_cpu,
    core_speed,
    cpu_name,
    environment_record,
    write_environment,
    write_reproduction_record,
    write_timings,
)
from amidlib.repro.store import RunCache

#: the project's kernel, registered by ``make setup`` (every notebook's metadata names it)
KERNEL = "amid-repro"


def kernel_name() -> str:
    """:data:`KERNEL` when this environment has that kernelspec; else ``python3``, which ipykernel
    provides in every environment as this very interpreter (say so once)."""
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        if KERNEL in KernelSpecManager().find_kernel_specs():
            return KERNEL
    except Exception:  # noqa: BLE001 - no kernelspec machinery: papermill would fail the same way below
        pass
    print(f"note: kernel '{KERNEL}' is not registered here (make setup registers it); using this interpreter's "
          f"python3 kernel ({sys.executable})", flush=True)
    return "python3"


def _fmt_s(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def main(argv=None) -> int:
    try:
        cmd = read_command(argv, __doc__)
    except UsageError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 2
    if cmd.args.list:
        for name, params in cmd.per_notebook.items():
            print(f"{name}: " + ", ".join(f"{k}={v.get('default')}" for k, v in params.items()))
        return 0
    return _Reproduction(cmd).run()


class _Reproduction:
    """One reproduction: the workload (every run, one pool), then the notebooks, then the timings and report."""

    def __init__(self, cmd: Command):
        self.cmd, self.args = cmd, cmd.args
        self.run_folder = new_run_folder((self.args.runs_dir or cmd.root / "runs").resolve(), self.args.profile)
        self.cache_dir = (self.args.cache_dir or self.run_folder / "cache").resolve()
        self.timings: list[dict] = []
        self.failed: tuple | None = None
        self.stream = _RunLines(sys.stdout)
        self.trained_before: int | None = None
        self.cluster = {k: v for k, v in (("executor", self.args.executor),
                                          ("address", self.args.address)) if v is not None}

    def run(self) -> int:
        with lifetime.on_stop_signals(self.stopped):  # Ctrl-C / kill: the whole tree stops, nothing trains on
            return self._run()

    def stopped(self, signum: int) -> str:
        """What a stopped reproduction says: where its finished runs are, and the command that goes on from them."""
        argv = [sys.executable, "-m", "amidlib.repro", *self.cmd.argv]
        argv += [] if "--cache-dir" in argv else ["--cache-dir", str(self.cache_dir)]
        return (f"The {RunCache(self.cache_dir).count()} run(s) finished so far are in {self.cache_dir} (each "
                f"record whole and sealed). To go on from them:\n  {shlex.join(argv)}\n")

    def _run(self) -> int:
        cmd, args = self.cmd, self.args
        print(f"profile {args.profile}: {len(cmd.selected)} notebook(s) -> {self.run_folder}")
        write_environment(self.run_folder)
        if cmd.given:
            print("parameters: " + ", ".join(f"{k}={v!r}" for k, v in cmd.given.items()))
        self.kernel = kernel_name()
        start = time.perf_counter()
        self.speed_at_start = core_speed()  # (a shared machine's speed varies between sessions: recorded, not assumed)
        print(f"one core's batched matrix products (the arithmetic that bounds the training): "
              f"{self.speed_at_start:.0f} GFLOP/s", flush=True)
        # every run first, in one pool (the notebooks then read the cache)
        if args.workload or (args.workload is None and not args.only):
            self.train_workload()
        if not self.failed:
            self.run_notebooks()
        return self.finish(time.perf_counter() - start)

    def train_workload(self) -> None:
        """``python -m amidlib.paper.workload`` in its own process (it sits in a layer above this one)."""
        print("workload: every run the notebooks read, trained in one pool (python -m amidlib.paper.workload)",
              flush=True)
        common = {k: v for k, v in self.cmd.given.items() if k in COMMON_PARAMETERS}
        common.update(self.cluster)
        start, cpu_start = time.perf_counter(), children_cpu()
        code = lifetime.run_streamed([sys.executable, "-c", WORKLOAD_MAIN, "--profile", self.args.profile,
                        "--cache-dir", str(self.cache_dir), "--params", json.dumps(common),
                        "--roofline", str(self.run_folder / ROOFLINE)], self.stream, cwd=self.cmd.root)
        secs, cpu = time.perf_counter() - start, children_cpu() - cpu_start
        status = "ok" if code == 0 else "failed"
        self.timings.append({"notebook": WORKLOAD, "seconds": round(secs, 1), "cpu_seconds": round(cpu, 1),
                             "status": status})
        print(f"  workload: {status} in {_fmt_s(secs)} (CPU time of it and its workers: {cpu:.0f} s)", flush=True)
        if code != 0:
            self.failed = (WORKLOAD, RuntimeError(f"python -m amidlib.paper.workload exited with status {code} "
                                                  "(its output is above)"))
        self.trained_before = RunCache(self.cache_dir).count()

    def run_notebook(self, i: int, nb: Path, out_stream, alone: bool = True) -> tuple[dict, tuple | None]:
        """One notebook through papermill, in ``mode`` run (it trains what the cache lacks and writes its
        ``out_dir``). ``alone``: no other notebook runs meanwhile, so the children's CPU time in this window is
        this notebook's."""
        import papermill

        # papermill's engine without nbclient's widget echo (its docstring)
        from amidlib.repro.notebook_engine import ENGINE

        cmd = self.cmd
        params = {"profile": self.args.profile, "mode": "run", "cache_dir": str(self.cache_dir)}
        params.update({k: cmd.given[k] for k in cmd.routing[nb.name]})
        params.update(self.cluster)
        params = {k: v for k, v in params.items() if k in cmd.per_notebook[nb.name]}
        shown = ", ".join(f"{k}={v!r}" for k, v in params.items() if k != "cache_dir")
        print(f"notebook {i} of {len(cmd.selected)}: {nb.name} (parameters: {shown})", flush=True)
        start, cpu_start, error = time.perf_counter(), children_cpu(), None
        try:
            papermill.execute_notebook(str(nb), str(self.run_folder / nb.name), parameters=params,
                                       kernel_name=self.kernel,
                                       cwd=str(cmd.folder), progress_bar=False, execution_timeout=self.args.timeout,
                                       stdout_file=out_stream,  # the kernel's stdout: the run engine's one line per run
                                       engine_name=ENGINE)
        except Exception as exc:  # PapermillExecutionError (a cell raised), a kernel that died, a timeout, ...
            error = (nb.name, exc)
        secs, cpu = time.perf_counter() - start, children_cpu() - cpu_start
        status = "failed" if error else "ok"
        print(f"  {nb.name}: {status} in {_fmt_s(secs)}"
              + (f" (CPU time of the kernel and its workers: {cpu:.0f} s)" if alone else ""), flush=True)
        return {"notebook": nb.name, "seconds": round(secs, 1),
                "cpu_seconds": round(cpu, 1) if alone else None, "status": status}, error

    def run_notebooks(self) -> None:
        """The notebooks in waves: once the workload is trained they only read the cache and draw, so all
        but the report (which reads every table) run side by side, the longest first (:func:`notebook_waves`)."""
        selected = self.cmd.selected
        waves = notebook_waves(selected, parallel=self.trained_before is not None,
                               jobs=self.args.jobs or PROFILES[self.args.profile].execution.n_jobs)
        index = {nb: i for i, nb in enumerate(selected, 1)}
        for wave in waves:
            if len(wave) == 1:
                timing, error = self.run_notebook(index[wave[0]], wave[0], self.stream)
                self.timings.append(timing)
            else:
                error = self.run_side_by_side(wave, index, waves.jobs)
            if error:
                self.failed = error
                break

    def run_side_by_side(self, wave: list[Path], index: dict[Path, int], jobs: int) -> tuple | None:
        from concurrent.futures import ThreadPoolExecutor

        names = ", ".join(nb.stem.split("_")[0] for nb in wave)
        print(f"notebooks {names}: side by side ({min(len(wave), jobs)} at a time; they only read the run cache)",
              flush=True)
        start, cpu_start = time.perf_counter(), children_cpu()
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            results = list(pool.map(lambda nb: self.run_notebook(index[nb], nb,
                                                                 _RunLines(sys.stdout, f"[{nb.stem.split('_')[0]}] "),
                                                                 alone=False), wave))
        error = next((e for _, e in results if e), None)
        self.timings += [t for t, _ in results]
        secs, cpu = time.perf_counter() - start, children_cpu() - cpu_start
        self.timings.append({"notebook": f"notebooks {names} (side by side)", "seconds": round(secs, 1),
                             "cpu_seconds": round(cpu, 1), "status": "failed" if error else "ok"})
        print(f"  side by side: {_fmt_s(secs)} (CPU time of the kernels and their workers: {cpu:.0f} s)", flush=True)
        return error

    def roofline(self, total: float) -> dict | None:
        """The workload's roofline (written by the workload step), with this reproduction's wall time and the
        workload step's: printed, and returned for the reproduction's record (None: no workload step ran)."""
        path = self.run_folder / ROOFLINE
        try:
            roof = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        from amidlib.repro import roofline  # (imports torch: only once there is a roofline to print)

        workload = next((t["seconds"] for t in self.timings if t["notebook"] == WORKLOAD), None)
        roof = roofline.with_wall(roof, total, workload)
        for line in roofline.summary_lines(roof):
            print(line)
        return roof

    def finish(self, total: float) -> int:
        """Timings, the closing lines, and (a whole reproduction into the committed figures/) its record."""
        args, cmd = self.args, self.cmd
        # a side-by-side wave: its own row holds the CPU time
        total_cpu = sum(t["cpu_seconds"] or 0 for t in self.timings)
        if self.trained_before is not None and not self.failed:
            extra = RunCache(self.cache_dir).count() - self.trained_before
            print(f"the notebooks trained {extra} run(s) beyond the workload"
                  + (" (amidlib.paper.workload.reproduction_cells misses them: they trained cell by cell)"
                     if extra else ""))
        write_timings(self.run_folder, self.timings, total, total_cpu, args.profile, cmd.given)
        load = (f"; load average at the end {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
                if hasattr(os, "getloadavg") else "")
        print(f"total {_fmt_s(total)} ({total:.0f} s wall, {total_cpu:.0f} s CPU) for {len(self.timings)} "
              f"notebook(s){load}; executed notebooks in {self.run_folder}")
        out_dir = resolve_path(cmd.given.get("out_dir"), PROFILES[args.profile].paths.out_dir, cmd.root)
        roof = self.roofline(total)
        if not self.failed:
            _print_headline(out_dir, since=time.time() - total)
            if not args.only and out_dir == (cmd.root / "figures").resolve():
                speed = (self.speed_at_start, core_speed())
                print(f"one core's batched matrix products: {speed[0]:.0f} GFLOP/s at the start, "
                      f"{speed[1]:.0f} at the end")
                write_reproduction_record(out_dir, runs=RunCache(self.cache_dir).count(), wall_s=total, cpu_s=total_cpu,
                                          profile=args.profile, core_gflops=speed, roofline=roof)
        budget = PROFILES[args.profile].execution.budget_s
        if budget and not self.failed and not args.only and total > budget:
            print(f"note: profile {args.profile} aims at {budget:.0f} s; this machine took {total:.0f} s")
        if self.failed:
            name, exc = self.failed
            ename = getattr(exc, "ename", type(exc).__name__)
            evalue = getattr(exc, "evalue", str(exc))
            print(f"\nerror: {name} stopped: {ename}: {evalue}\n(the executed notebook with the traceback: "
                  f"{self.run_folder / name})", file=sys.stderr)
            return 1
        return 0


#: ``python -m amidlib.paper.workload``, started as ``-c`` code: a spawned pool worker then does not import the
#: workload's module (and torch with it) before its initializer has armed its death with its parent
#: (:mod:`amidlib.repro.lifetime`), so a worker starting when the runner is SIGKILLed ends at once
WORKLOAD_MAIN = "import sys; from amidlib.paper.workload import main; sys.exit(main(sys.argv[1:]))"
#: the row of timings.csv for the workload step
WORKLOAD = "workload (every run, one pool)"
#: the workload's roofline (amidlib.repro.roofline), in the run folder
ROOFLINE = "roofline.json"


class _Waves(list):
    """Lists of notebooks run one list after another; the notebooks of one list side by side, ``jobs`` at a time."""

    jobs: int = 1


def notebook_waves(selected: list[Path], parallel: bool, jobs: int) -> _Waves:
    """The order notebooks run in. Serial (one per wave) unless ``parallel`` (the workload trained every run and
    prepared the data: the notebooks only read the cache) and ``jobs`` > 1: then every notebook but the report in
    one wave, the teaching notebook (``*_teaching``) first, and the report (``*_report``, which reads what the
    others wrote) last (the teaching notebook trains its own small runs: 28 s on 2 cores, the others 5-12 s)."""
    waves = _Waves()
    waves.jobs = max(1, int(jobs))
    if not parallel or waves.jobs == 1:
        waves += [[nb] for nb in selected]
        return waves
    last = [nb for nb in selected if nb.stem.endswith("_report")]
    middle = sorted((nb for nb in selected if nb not in last), key=lambda nb: not nb.stem.endswith("_teaching"))
    waves += ([middle] if middle else []) + [[nb] for nb in last]
    return waves


class _RunLines:
    """Where papermill streams the kernel's stdout: every line passes through, indented, except carriage-return
    progress bars (per-epoch bars never reach a log); the kernel's stderr (tqdm) is not streamed."""

    def __init__(self, out, prefix: str = ""):
        self.out, self.buffer, self.prefix = out, "", prefix

    def write(self, text: str) -> None:
        self.buffer += text
        *lines, self.buffer = self.buffer.split("\n")
        for line in lines:
            line = line.rsplit("\r", 1)[-1].rstrip()
            if line:
                self.out.write(f"    {self.prefix}{line}\n")

    def flush(self) -> None:
        self.out.flush()


def _print_headline(out_dir: Path, since: float) -> None:
    """Show Table 1 (every method, mean ± std over seeds) and the claims' verdicts that this run wrote."""
    for name in ("table1.md", "claims.md"):
        path = out_dir / name
        if path.is_file() and path.stat().st_mtime >= since:
            text = path.read_text()
            if name == "claims.md":  # the verdict table, not the numbers section
                text = text.split("## The numbers")[0]
            print(f"\n--- {path} ---\n{text.rstrip()}")


if __name__ == "__main__":
    sys.exit(main())
