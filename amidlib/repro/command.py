"""The command line of ``python -m amidlib.repro``, checked before anything runs: which notebooks, which parameters
(each name checked against the notebooks' ``parameters`` cells, each common value applied to the profile), which
folders (writable, and not ones a reproduction must not write). A refused command is a :class:`UsageError` (exit
status 2) that names what is wrong; :mod:`amidlib.repro.reproduce` runs what passes.
"""
from __future__ import annotations

import argparse
import datetime as _dt
import sys
from dataclasses import dataclass
from pathlib import Path

from amidlib.repro.profiles import COMMON_PARAMETERS, EXECUTORS, PROFILES, load_profile, repo_root
from amidlib.repro.requirements import check_writable

__all__ = ["RESERVED", "UsageError", "notebooks_dir", "list_notebooks", "select", "notebook_parameters", "parse_value",
           "check_parameters", "new_run_folder", "read_command", "Command"]


#: parameters the command line sets itself (not via -p)
RESERVED = {"profile": "--profile", "cache_dir": "--cache-dir"}


class UsageError(SystemExit):
    """A refused command line (exit status 2), raised before anything runs."""

    def __init__(self, message: str):
        super().__init__(2)
        self.message = message


def notebooks_dir(root: Path | None = None) -> Path:
    return (root or repo_root()) / "notebooks"


def list_notebooks(folder: Path) -> list[Path]:
    """The numbered notebooks (``NN_name.ipynb``), in order."""
    found = sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb") if p.is_file())
    if not found:
        raise UsageError(f"no numbered notebooks (NN_name.ipynb) in {folder}")
    return found


def select(notebooks: list[Path], only: list[str] | None) -> list[Path]:
    """Notebooks matching ``only`` (numbers "2"/"02", or prefixes "02_amid", "amid"), in order.

    An entry that matches nothing is refused with the list of notebooks.
    """
    if not only:
        return notebooks
    chosen: set[Path] = set()
    tokens = [t for item in only for t in item.replace(",", " ").split()]
    for token in tokens:
        t = token.strip().lower().removesuffix(".ipynb")
        hits = []
        for nb in notebooks:
            stem = nb.stem.lower()
            number, _, name = stem.partition("_")
            if t.isdigit() and int(t) == int(number):
                hits.append(nb)
            elif not t.isdigit() and (stem.startswith(t) or name.startswith(t)):
                hits.append(nb)
        if not hits:
            names = ", ".join(nb.stem for nb in notebooks)
            raise UsageError(f"--only: no notebook matches '{token}'. Notebooks: {names}")
        chosen.update(hits)
    return [nb for nb in notebooks if nb in chosen]


def notebook_parameters(nb: Path) -> dict[str, dict]:
    """The names (and papermill's description) in a notebook's parameters cell."""
    import papermill

    params = papermill.inspect_notebook(str(nb))
    if not params:
        raise UsageError(f"{nb.name} has no cell tagged 'parameters'")
    return params


def parse_value(text: str):
    """A -p value as YAML: numbers, null/None, true/false, lists; anything else stays text."""
    import yaml

    if text.strip() in ("None", "none"):
        return None
    if not text.strip():
        return text  # (YAML reads "" as null: an empty value would silently mean "the profile's"; the check names it)
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return text


def check_parameters(given: dict, per_notebook: dict[str, dict]) -> dict[str, set]:
    """Refuse names no selected notebook declares (with the valid names); map each notebook to the
    names it receives."""
    for name in given:
        if name in RESERVED:
            raise UsageError(f"-p {name}: set it with {RESERVED[name]}, not -p")
    valid = sorted({n for params in per_notebook.values() for n in params} - set(RESERVED))
    unknown = [n for n in given if n not in valid]
    if unknown:
        import difflib

        lines = []
        for n in unknown:
            close = difflib.get_close_matches(n, valid, n=1)
            lines.append(f"unknown parameter '{n}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
        raise UsageError("; ".join(lines) + ". Valid parameters of the selected notebooks: " + ", ".join(valid))
    return {nb: {n for n in given if n in params} for nb, params in per_notebook.items()}


def new_run_folder(base: Path, profile: str) -> Path:
    """``<base>/<profile>/<timestamp>`` created fresh (a suffix if that second is taken)."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    parent = base / profile
    parent.mkdir(parents=True, exist_ok=True)
    for i in range(1000):
        folder = parent / (stamp if i == 0 else f"{stamp}-{i}")
        try:
            folder.mkdir()
            return folder
        except FileExistsError:
            continue
    raise RuntimeError(f"could not create a new run folder under {parent}")


def _parser(description: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m amidlib.repro", description=description,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--profile", default="cpu", choices=sorted(PROFILES), help="ci | cpu (default) | paper")
    p.add_argument("--only", nargs="+", metavar="NB",
                   help="notebooks to run: numbers (02) or name prefixes (02_amid, ablations)")
    p.add_argument("-p", "--parameter", nargs=2, action="append", metavar=("NAME", "VALUE"), default=[],
                   help="a notebook parameter (repeatable), e.g. -p seeds '[0, 1]' -p epochs 20")
    p.add_argument("--runs-dir", type=Path, default=None, help="where run folders go (default: <repo>/runs)")
    p.add_argument("--cache-dir", type=Path, default=None,
                   help="run cache shared by the notebooks (default: <run folder>/cache, fresh every time)")
    p.add_argument("--timeout", type=int, default=None, help="per-cell timeout in seconds (default: none)")
    p.add_argument("--executor", choices=EXECUTORS, default=None,
                   help="where the runs train: local worker processes (default) or the tasks of a Ray cluster")
    p.add_argument("--address", default=None,
                   help="with --executor ray: the cluster ('auto': the one this machine joined; host:port: its head; "
                        "default: a private one-machine Ray instance). See docs/cluster.md")
    p.add_argument("--workload", action=argparse.BooleanOptionalAction, default=None,
                   help="first train every run the notebooks read, in one pool (default: yes for a whole "
                        "reproduction, no with --only)")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="after the workload, how many notebooks run side by side "
                        "(default: the profile's n_jobs; 1: one by one)")
    p.add_argument("--list", action="store_true", help="list the notebooks and their parameters, run nothing")
    return p


@dataclass
class Command:
    """A checked command line: the notebooks chosen, their parameters, and which notebook gets which -p."""

    args: argparse.Namespace
    root: Path
    folder: Path
    selected: list[Path]
    per_notebook: dict[str, dict]
    given: dict
    routing: dict[str, set]
    argv: list[str]


def read_command(argv, description: str = "") -> Command:
    """The command line checked before anything runs (a :class:`UsageError` names what is wrong)."""
    args = _parser(description).parse_args(argv)
    root = repo_root()
    folder = notebooks_dir(root)
    selected = select(list_notebooks(folder), args.only)
    per_notebook = {nb.name: notebook_parameters(nb) for nb in selected}
    given = {}
    for name, value in args.parameter:
        if name in given:
            raise UsageError(f"-p {name} given twice")
        given[name] = parse_value(value)
    routing = check_parameters(given, per_notebook) if not args.list else {}
    if args.jobs is not None and args.jobs < 1:
        raise UsageError(f"--jobs {args.jobs}: give 1 or more")
    if args.address and args.executor != "ray":
        raise UsageError("--address names a Ray cluster: give --executor ray with it")
    for name in ("executor", "address"):
        if name in given and getattr(args, name) is not None:
            raise UsageError(f"--{name} and -p {name} both given: use one")
    if not args.list:
        _check_values(args, given, root)
    return Command(args, root, folder, selected, per_notebook, given, routing,
                   list(sys.argv[1:] if argv is None else argv))


def _check_values(args, given: dict, root: Path) -> None:
    """The common parameters applied to the profile now, as every notebook will apply them (a value no notebook could
    use, e.g. ``-p epochs 2.7``, or an output folder the profile may not write, is named before anything runs), and
    the folders this reproduction writes checked writable."""
    common = {k: v for k, v in given.items() if k in COMMON_PARAMETERS}
    try:
        prof = load_profile(args.profile, cache_dir=args.cache_dir, **common)
        check_writable(runs_dir=args.runs_dir or root / "runs", out_dir=prof.paths.out_dir,
                       **({"cache_dir": args.cache_dir} if args.cache_dir else {}))
    except (ValueError, TypeError, RuntimeError) as exc:
        raise UsageError(f"{exc}") from None
