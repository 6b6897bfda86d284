"""Section 0 of scripts/gpu_check.sh: the environment the check's numbers come from.

    python scripts/gpu_check_env.py [--cpu] [--pyproject PATH]

Prints the installed python, torch, torchvision, torchaudio and av (PyAV) and compares each with its
pin in pyproject.toml (``==`` pins and lower bounds such as ``av>=12``; python against
``requires-python``). A mismatch is named, not fatal: the check still runs, but its numbers may differ
from the reference ones. On CUDA (without ``--cpu``) also the GPU, its driver, torch's CUDA and cuDNN;
exit status 1 when torch cannot use the GPU, since every later GPU section would fail the same way.
"""
from __future__ import annotations

import argparse
import importlib.metadata
import platform
import subprocess
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parents[1]
#: the packages whose versions decide the check's numbers, by distribution name
PACKAGES = ("torch", "torchvision", "torchaudio", "av")


def read_pins(pyproject: Path) -> dict[str, SpecifierSet]:
    """``{name: specifier}`` for python (``requires-python``) and each of :data:`PACKAGES` in ``pyproject``."""
    try:
        project = tomllib.loads(pyproject.read_text())["project"]
    except (OSError, tomllib.TOMLDecodeError, KeyError) as exc:
        raise SystemExit(f"gpu_check_env: cannot read [project] from {pyproject}: {exc}") from exc
    pins = {"python": SpecifierSet(project.get("requires-python", ""))}
    for line in project.get("dependencies", []):
        req = Requirement(line)
        if req.name.lower() in PACKAGES:
            pins[req.name.lower()] = req.specifier
    return pins


def installed_versions() -> dict[str, str | None]:
    """The running python and each of :data:`PACKAGES` as installed (None: not installed)."""
    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    return found


def mismatches(installed: dict[str, str | None], pins: dict[str, SpecifierSet]) -> list[str]:
    """One sentence per package whose installed version does not satisfy its pin, naming both.

    A local version label (torch's ``+cu130``) is ignored: the CUDA build does not change the release."""
    problems = []
    for name, spec in pins.items():
        have = installed.get(name)
        wanted = ", ".join(str(s) for s in spec) or "any"
        exact = [s.version for s in spec if s.operator == "=="]
        if have is None:
            problems.append(f"{name} is not installed (pyproject.toml asks for {wanted})")
            continue
        try:
            ok = spec.contains(Version(have).public, prereleases=True)
        except InvalidVersion:
            ok = False
        if not ok:
            target = f"pinned {exact[0]}" if exact else f"required {wanted}"
            sign = "!=" if exact else "does not satisfy"
            problems.append(f"{name} {have} {sign} {target}: numbers may differ from the reference")
    return problems


def cuda_lines() -> tuple[list[str], str | None]:
    """Lines describing the GPU, driver, CUDA and cuDNN, and an error when torch cannot use the GPU."""
    import torch

    try:
        smi = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=60).stdout.strip().splitlines()
    except (OSError, subprocess.SubprocessError):
        smi = []
    driver = smi[0].split(", ")[1] if smi and smi[0].count(", ") >= 2 else None
    if not torch.cuda.is_available():
        if driver:
            return [], (f"torch {torch.__version__} (CUDA {torch.version.cuda}) cannot use this GPU (driver {driver}); "
                        "a CUDA 13 build needs driver >= 580: install a torch wheel built for the driver's CUDA "
                        "(pip install torch torchvision torchaudio --index-url https://download.pytorch.org/whl/cu126) "
                        "or update the driver")
        return [], "no CUDA GPU visible (nvidia-smi found none); use --cpu for the smoke test"
    props = torch.cuda.get_device_properties(0)
    return [f"GPU: {props.name}, {props.total_memory / 2**30:.1f} GiB ({torch.cuda.device_count()} visible)",
            f"driver {driver or 'unknown (no nvidia-smi)'}, CUDA {torch.version.cuda} (torch's build), "
            f"cuDNN {torch.backends.cudnn.version()}"], None


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cpu", action="store_true", help="skip the GPU: the check's CPU mode")
    p.add_argument("--pyproject", type=Path, default=ROOT / "pyproject.toml", help="where the pins are read")
    args = p.parse_args(argv)
    installed = installed_versions()
    print(" ".join(f"{name} {installed[name] or 'missing'}" for name in ("python", *PACKAGES)), flush=True)
    problems = mismatches(installed, read_pins(args.pyproject))
    for line in problems:
        print(f"version mismatch: {line}", flush=True)
    if not problems:
        print(f"versions match the pins in {args.pyproject}", flush=True)
    if args.cpu:
        return 0
    lines, error = cuda_lines()
    for line in lines:
        print(line, flush=True)
    if error:
        print(f"gpu_check_env: {error}", file=sys.stderr, flush=True)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
