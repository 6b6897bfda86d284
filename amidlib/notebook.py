"""The setup every numbered notebook starts with, in one call.

A notebook's first code cell is its papermill ``parameters`` cell (the names in
:data:`amidlib.repro.profiles.COMMON_PARAMETERS`, plus its own); its second is::

    from amidlib.notebook import setup

    prof, study, strict = setup(("table1", "table2"), globals())

:func:`setup` reads the common parameters from the namespace it is given, turns them into a
:class:`~amidlib.repro.profiles.Profile`, checks that the profile can build the notebook's tables
here (the ``paper`` profile stops at this point, naming every missing file), sets the plot style,
opens the run cache (:class:`~amidlib.repro.runs.Study`) and prints the profile.

Three modes (the ``mode`` parameter):

- ``explore``, the committed default, is a notebook opened by hand: it shows the committed reproduction and trains
  nothing. Its tables and figures go under ``runs/explore/<profile>/`` (ignored by git), never into the committed
  ``figures/``; under profile ``cpu`` it reads every run from the committed run records (``figures/run_records.tar.gz``,
  unpacked once into ``runs/explore/committed/cache``: :mod:`amidlib.repro.committed`), so on a fresh clone it computes
  the committed tables, figures and claims in seconds. A run those records lack (other parameters, another profile,
  changed code) stops the cell with a message saying so, and how to train it: mode ``train``.
- ``train``: the same folders, and the runs the cache lacks are trained here (the cache: the last reproduction's of
  that profile on this machine, ``runs/<profile>/<time>/cache``, else the profile's). Numbers from the ``ci``
  profile are a smoke test, and the first output says so.
- ``run`` is what ``python -m amidlib.repro`` (``make reproduce``) passes: the profile's own ``out_dir``
  (``figures/`` for cpu) and cache, training what is missing.

Nothing is read from ``runs.csv`` in place of a run: the curves, per-class and embedding figures need what only a
run's record holds.

This module sits on top of the layer stack (core <- data <- repro <- paper <- notebook): nothing in
amidlib imports it.
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from amidlib.core.config import unknown_name_message
from amidlib.data import datasets
from amidlib.paper import plans, plots
from amidlib.repro import committed, profiles, runs
from amidlib.repro.committed import last_reproduction_cache
from amidlib.repro.profile_loading import COMMITTED_PROFILE
from amidlib.repro.profiles import COMMON_PARAMETERS, Profile
from amidlib.repro.reproduction_files import read_reproduction_record

__all__ = ["Setup", "setup", "datasets_read", "MODES", "EXPLORE_DIR", "explore_parameters", "mode_lines",
           "check_injected_parameters", "same_as_committed"]

#: ``explore``: opened by hand, shows the committed reproduction, trains nothing; ``train``: the same, training what
#: is missing; ``run``: a reproduction (``make reproduce``)
MODES = ("explore", "train", "run")
#: what a cell that needs a missing run says in explore mode
TRAIN_HINT = ('set mode = "train" in the parameters cell to train them here (the first output of a notebook says how '
              "long a whole reproduction takes), or run make reproduce")
#: where explore mode writes tables and figures (``<EXPLORE_DIR>/<profile>/``), from the repository root
EXPLORE_DIR = Path("runs") / "explore"


class Setup(NamedTuple):
    """What the notebook cells use (unpacks as ``prof, study, strict = setup(...)``)."""

    prof: Profile
    """the profile with the notebook's parameters applied"""
    study: runs.Study
    """the runs of that profile, trained once and shared through the run cache"""
    strict: bool
    """True on the embedded real data (UCI Multiple Features): the assert cells then also check
    margins (beats chance by a margin); on the generated clips and the paper's data they are
    structure and range checks only"""


def setup(tables: tuple[str, ...] | None = None, namespace: Mapping[str, Any] | None = None, **params) -> Setup:
    """Load the profile, check its requirements, set the plot style, open the study, print the profile.

    ``tables``: what the notebook builds (``"table1"`` … ``"table6"``, ``"figures"``); the ``paper``
    profile checks the data those read. ``None``: everything; ``()``: nothing (no dataset is read).
    ``namespace``: where to read the parameters from (a notebook passes ``globals()``): the names in
    :data:`~amidlib.repro.profiles.COMMON_PARAMETERS` it holds; other names are ignored.
    ``params``: the same names given directly (they win over ``namespace``); a name left out keeps
    :func:`~amidlib.repro.profiles.load_profile`'s default. ``mode`` (:data:`MODES`; default ``run``, what a
    caller outside a notebook gets): ``explore`` moves the default ``out_dir`` and ``cache_dir``
    (:func:`explore_parameters`).
    """
    unknown = sorted(set(params) - set(COMMON_PARAMETERS) - {"mode"})
    if unknown:
        raise TypeError(f"setup() takes mode and the notebook parameters {', '.join(COMMON_PARAMETERS)}; "
                        f"unknown: {', '.join(unknown)}")
    check_injected_parameters()
    values = {name: namespace[name] for name in (*COMMON_PARAMETERS, "mode")
              if namespace is not None and name in namespace}
    values.update(params)
    mode = values.pop("mode", None) or "run"
    if mode not in MODES:
        raise ValueError(unknown_name_message("mode", mode, MODES))
    if mode in ("explore", "train"):
        values = explore_parameters(values, committed_records=mode == "explore")
    prof = profiles.load_profile(**values)
    # the paper profile stops here, naming every missing file of the datasets these tables read
    profiles.check_requirements(prof, datasets_read(prof, tables))
    plots.set_style()
    study = runs.Study(prof, train=mode != "explore", no_train_hint=TRAIN_HINT)
    # margin checks (beats chance by a margin) are made on the embedded real data; on the generated clips
    # and the paper's data the assert cells make structure and range checks only
    strict = datasets.get(prof.main.dataset).arrays
    # (a notebook that reads none of the profile's runs, 07, is not a smoke test of them: no banner)
    print("\n".join(mode_lines(mode, prof, banner=tables != ())))
    print(prof.describe())
    return Setup(prof, study, strict)


def _assigned(source: str) -> set[str]:
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set()
    return {t.id for node in tree.body if isinstance(node, (ast.Assign, ast.AnnAssign))
            for t in (node.targets if isinstance(node, ast.Assign) else [node.target]) if isinstance(t, ast.Name)}


def check_injected_parameters(history: list[str] | None = None) -> None:
    """Refuse a parameter papermill injected that this notebook does not declare (papermill itself only warns, and
    the notebook would run with the default: ``-p epocs 3`` trained the default epochs). Papermill's cell starts
    with ``# Parameters`` and follows the notebook's ``parameters`` cell; ``history``: the kernel's inputs
    (IPython's ``In``; outside a kernel, nothing to check)."""
    if history is None:
        try:
            from IPython import get_ipython
        except ImportError:
            return
        shell = get_ipython()
        history = list(shell.user_ns.get("In", [])) if shell is not None else []
    for i, source in enumerate(history[1:], 1):
        if source.startswith("# Parameters\n"):
            declared = _assigned(history[i - 1])
            unknown = sorted(_assigned(source) - declared)
            if unknown:
                raise ValueError("; ".join(unknown_name_message("notebook parameter", name, declared)
                                           for name in unknown) + " (given to papermill with -p)")
            return


def explore_parameters(values: dict[str, Any], committed_records: bool = False) -> dict[str, Any]:
    """The parameters of explore and train mode: ``out_dir`` None becomes ``runs/explore/<profile>/`` (the committed
    ``figures/`` stays as the reproduction left it); ``cache_dir`` None becomes, with ``committed_records`` under the
    committed profile (cpu), the committed reproduction's run records (:func:`amidlib.repro.committed.committed_cache`);
    else the run cache of the last reproduction of that profile on this machine (the newest
    ``runs/<profile>/<time>/cache``), when there is one, so its runs are read, not trained again (a run's cache key
    is its configuration, data and code, so a cache of older code only misses)."""
    out = dict(values)
    profile = out.get("profile") or "ci"
    root = profiles.repo_root()
    if out.get("out_dir") in (None, ""):
        out["out_dir"] = str(root / EXPLORE_DIR / profile)
    if out.get("cache_dir") in (None, ""):
        records = committed.committed_cache(root) if committed_records and profile == COMMITTED_PROFILE else None
        last = records or last_reproduction_cache(root / "runs" / profile)
        if last is not None:
            out["cache_dir"] = str(last)
    return out


def mode_lines(mode: str, prof: Profile, banner: bool = True) -> list[str]:
    """What the first output of a notebook says: its mode, where its files go, where the committed numbers are
    and how long a fresh reproduction takes (``figures/reproduction.json``, when the last one recorded it)."""
    root = profiles.repo_root()
    committed = root / "figures"
    record = read_reproduction_record(committed)
    took = (f"{record['wall_s'] / 60:.1f} min wall for {record['runs']} runs on {record['machine']} "
            f"(profile {record.get('profile', 'cpu')}, figures/reproduction.json)" if record else "see README.md")
    if mode == "run":
        return [f"mode run: tables and figures into {prof.paths.out_dir}; run cache {prof.paths.cache_dir}"]
    lines = [f"mode {mode} (a notebook opened by hand): tables and figures into {prof.paths.out_dir}, not the "
             f"committed figures/; runs read from {prof.paths.cache_dir} "
             + ("(nothing is trained: mode train trains what it lacks)" if mode == "explore"
                else "(what it lacks is trained here)"),
             "  the committed reproduction: its numbers in figures/, every notebook executed in docs/executed/; "
             f"a fresh one (make reproduce, mode run): {took}"]
    if prof.note and banner:  # a smoke-test profile (ci): its numbers are not the reproduction's
        lines.insert(0, f"*** SMOKE TEST — profile {prof.name}: {prof.note}. The reproduction's numbers: profile cpu, "
                        "figures/ ***")
    return lines


def datasets_read(prof: Profile, tables: tuple[str, ...] | None) -> list[str] | None:
    """The datasets the runs of ``tables`` read under ``prof``, in order of first use (None: every table's,
    so every dataset of the profile). A table's runs are those its plan lists (:data:`amidlib.paper.plans.PLANS`);
    the figures draw the main pairing's runs."""
    if tables is None:
        return None
    out: list[str] = []
    for table in tables:
        if table in plans.PLANS:
            out += [cell.spec.dataset for cell in plans.PLANS[table](prof)]
        else:
            out.append(prof.main.dataset)
    return list(dict.fromkeys(out))


def same_as_committed(prof: Profile, mode: str, names: tuple[str, ...]) -> list[str]:
    """In explore mode on the committed profile (a notebook opened by hand with its defaults): the files ``names`` the
    notebook wrote into its ``out_dir`` hold what the committed ``figures/`` hold, every value (csv files, compared
    as tables); raises AssertionError naming the first that differs. Returns the names compared ([]: another mode,
    profile or folder, where the numbers are not the committed ones by design)."""
    import pandas as pd

    figures = profiles.repo_root() / "figures"
    if mode != "explore" or prof.name != COMMITTED_PROFILE or Path(prof.paths.out_dir).resolve() == figures.resolve():
        return []
    for name in names:
        ours, theirs = pd.read_csv(Path(prof.paths.out_dir) / name), pd.read_csv(figures / name)
        try:
            pd.testing.assert_frame_equal(ours, theirs, check_exact=False, rtol=1e-9, atol=1e-9)
        except AssertionError as exc:
            raise AssertionError(f"{name}: this notebook's numbers differ from the committed figures/{name} "
                                 f"({str(exc).splitlines()[0]})") from None
    return list(names)

