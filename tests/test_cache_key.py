"""The run cache key covers the code that decides a run's numbers.

``RunSpec.key()`` hashes ``code_fingerprint(dataset)``: the files ``specs.code_files(dataset)`` lists (the
shared run code, the dataset's module and the files it names, ``Dataset.code``).
A file that decides a run's numbers but is missing from that list would leave stale runs in the
cache after an edit. So one tiny run per dataset kind (UCI from the ``ci`` profile, the generated
``av_tier`` clips, and UCF51, ActivityNet and an IEMOCAP fold on a miniature paper data root) is
trained in a fresh interpreter under ``sys.settrace`` (and ``threading.settrace``), from the
import of the run engine through loading the split and training; every amidlib source file whose
code ran (a function called or a module executed) must be in ``code_files(dataset)``, unless
:data:`BOOKKEEPING` lists it with the reason it cannot change a number, or it is another dataset's module
of which only the import-time code ran (its registration: :func:`registration_only`).

Then the key itself: editing any covered file changes the fingerprint (and a spec's key, so the
run cache trains the run again), editing a file outside the list does not.
"""
from __future__ import annotations

import dataclasses
import json
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from amidlib.data import datasets as registry
from amidlib.paper import plans
from amidlib.repro import profiles, runs, specs
from amidlib.testing.paper_root import make_mini_paper_root

REPO = Path(__file__).resolve().parents[1]

#: amidlib files that run during a run but do not decide its numbers (paths under amidlib/), and why.
_PROFILE_REACHES_A_RUN = ("a profile reaches a run only through the RunSpec's fields (config overrides, preset, split, "
                          "data options), all in the key")
BOOKKEEPING = {
    "__init__.py": "the package's version string, recorded in Result.config (versions), not used by training",
    "repro/__init__.py": "the repro package's docstring and re-exports",
    "repro/specs.py": "RunSpec and its key: make_spec's choices (split, overrides, data options) are fields of the "
                      "spec, hashed in the key",
    "repro/worker.py": "train_task hands the spec's fields unchanged to data/splits.py (which decides the split, the "
                       "nets and the loader) and core/experiment.run",
    "repro/store.py": "the run cache: writes a finished run's record, after training",
    "repro/profiles.py": "profile definitions (imported by specs.py): " + _PROFILE_REACHES_A_RUN,
    "repro/profile_record.py": "the Profile record and its groups (imported by specs.py): " + _PROFILE_REACHES_A_RUN,
    "repro/profile_values.py": "the three profiles as data: " + _PROFILE_REACHES_A_RUN,
    "repro/profile_loading.py": "notebook parameters to a profile: " + _PROFILE_REACHES_A_RUN,
    "repro/requirements.py": "check_requirements: stops before training, changes nothing in a run",
    "data/__init__.py": "re-exports of data/arrays.py (which is covered)",
}

#: what a child interpreter runs: start the profiler, then unpickle the spec (importing the run
#: engine: its import-time code is traced too) and train it with worker.train (load_split + run). Per
#: file, whether a function of it ran (a code object with fresh locals) or only its import-time code
#: (module and class bodies)
_TRACED_RUN = r"""
import inspect, json, pickle, sys, threading
seen, called = set(), set()

def trace(frame, event, arg):  # (a trace hook hears Python calls only, not every C call as a profile hook does)
    code = frame.f_code
    seen.add(code.co_filename)
    if code.co_flags & inspect.CO_NEWLOCALS:
        called.add(code.co_filename)
    return None  # no line events inside the frame

sys.settrace(trace)
threading.settrace(trace)
with open(sys.argv[1], "rb") as f:
    spec = pickle.load(f)
from amidlib.repro.worker import train
res = train(spec)
sys.settrace(None)
threading.settrace(None)
with open(sys.argv[2], "w") as f:
    json.dump({"files": sorted(seen), "called": sorted(called), "n_epochs": len(res.history)}, f)
"""


def _package_files(filenames: list[str]) -> set[str]:
    """The amidlib source files among traced code-object file names, relative to the package."""
    out = set()
    for name in filenames:
        path = Path(name)
        if not path.is_absolute() or path.suffix != ".py":
            continue
        try:
            out.add(path.resolve().relative_to(specs._PACKAGE).as_posix())
        except ValueError:
            continue
    return out


@dataclasses.dataclass(frozen=True)
class Trace:
    ran: set[str]      # amidlib files whose code ran (functions, or module / class bodies on import)
    called: set[str]   # those of which a function ran


def traced_files(spec: runs.RunSpec, tmp_path: Path) -> Trace:
    """The amidlib files whose code ran while a fresh interpreter loaded the split of ``spec`` and trained it."""
    spec_file, out_file = tmp_path / "spec.pkl", tmp_path / "trace.json"
    spec_file.write_bytes(pickle.dumps(spec))
    proc = subprocess.run([sys.executable, "-c", _TRACED_RUN, str(spec_file), str(out_file)], cwd=REPO,
                          capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(out_file.read_text())
    assert out["n_epochs"] >= 1
    return Trace(_package_files(out["files"]), _package_files(out["called"]))


def covered(dataset: str) -> set[str]:
    return {p.relative_to(specs._PACKAGE).as_posix() for p in specs.code_files(dataset)}


def registration_only(trace: Trace) -> set[str]:
    """Dataset modules of which only import-time code ran: the package imports every dataset module to
    register it (a class body, the decorator in base.py), which cannot change another dataset's run; any
    function of such a module that runs makes it part of the run."""
    return {f for f in trace.ran - trace.called if f.startswith("data/datasets/")}


# --------------------------------------------------------------------------- tiny runs, one per dataset kind
def _ci_spec(tmp_path: Path, dataset: str = "uci_mfeat", **changes) -> runs.RunSpec:
    prof = profiles.load_profile("ci", dataset=dataset, epochs=2, n_jobs=1, cache_dir=tmp_path / "cache",
                                 feature_dir=tmp_path / "features", out_dir=tmp_path / "figures")
    prof = prof.replace(**changes)
    return runs.make_spec(prof, prof.main, "amid", 0)


@pytest.fixture(scope="module")
def paper_root(tmp_path_factory):
    return make_mini_paper_root(tmp_path_factory.mktemp("data"))


def _paper_spec(paper_root, tmp_path: Path, dataset: str) -> runs.RunSpec:
    video = {"video_student": "tiny3d", "dim": 16, "hidden": 16, "d_hidden": 8, "batch_size": 4, "eval_batch_size": 4}
    prof = profiles.load_profile(
        "paper", data_root=paper_root["root"], device="cpu", epochs=1, seeds=[0], n_jobs=1,
        out_dir=tmp_path / "figures", cache_dir=tmp_path / "cache", feature_dir=tmp_path / "features",
        overrides={"warmup_epochs": 0, "num_workers": 0, "amp": None},
        dataset_overrides={"ucf51": video, "activitynet": video,
                           "iemocap": {"dim": 8, "hidden": 16, "d_hidden": 8, "batch_size": 8}},
        data_options={"ucf51": {"manifest": str(paper_root["manifest"])},
                      "iemocap": {"expected": paper_root["iemocap_counts"], "n_frames": 2}})
    if dataset == "iemocap":
        cell = next(c for c in plans.plan_table3(prof) if c.row == "amid" and c.fold == 0 and c.paper_setting == "AL-V")
        return cell.spec
    pairing = next(p for p in prof.pairings if p.dataset == dataset)
    return runs.make_spec(prof, pairing, "amid", 0)


def _missing(dataset: str, trace: Trace) -> list[str]:
    return sorted(trace.ran - covered(dataset) - set(BOOKKEEPING) - registration_only(trace))


def _check(dataset: str, spec: runs.RunSpec, tmp_path: Path) -> Trace:
    assert spec.dataset == dataset
    trace = traced_files(spec, tmp_path)
    assert "core/experiment.py" in trace.called and "core/training.py" in trace.called  # the trace saw the training
    assert f"data/datasets/{dataset}.py" in trace.called  # the dataset's own module loaded the split
    missing = _missing(dataset, trace)
    assert not missing, (f"code that ran during a {dataset} run is not in specs.code_files({dataset!r}), so the run "
                         f"cache key ignores edits to it: {missing}. Add it to the dataset's `code` "
                         f"(amidlib/data/datasets/{dataset}.py) or to specs.SHARED_CODE, or, if it provably cannot "
                         f"change a number, to BOOKKEEPING with the reason")
    return trace


def test_uci_run_code_is_in_the_key(tmp_path, monkeypatch):
    trace = _check("uci_mfeat", _ci_spec(tmp_path), tmp_path)
    # the check can fail: without the split's dispatch and the registry in the shared code, and without the
    # dataset's own module and the manifest that checks the embedded files, those edits would keep stale runs
    dispatch = ["data/datasets/__init__.py", "data/datasets/base.py", "data/splits.py"]
    monkeypatch.setattr(specs, "SHARED_CODE", [f for f in specs.SHARED_CODE if f not in dispatch])
    monkeypatch.setattr(type(registry.get("uci_mfeat")), "code", ())
    monkeypatch.setattr(type(registry.get("uci_mfeat")), "module_file", "data/arrays.py")
    assert _missing("uci_mfeat", trace) == sorted([*dispatch, "data/datasets/uci_mfeat.py", "data/manifests.py"])
    # another dataset's module that ran a function (not just its registration) counts too
    called = Trace(trace.ran | {"data/datasets/iemocap.py"}, trace.called | {"data/datasets/iemocap.py"})
    monkeypatch.undo()
    assert _missing("uci_mfeat", called) == ["data/datasets/iemocap.py"]
    assert "data/datasets/iemocap.py" in trace.ran - trace.called  # (it was imported, to register it)


def test_generated_video_tier_run_code_is_in_the_key(tmp_path):
    tiny_tier = {"n_classes": 2, "per_class": 3, "test_per_class": 1, "seconds": 0.5, "fps": 16, "size": 32, "seed": 0}
    spec = _ci_spec(tmp_path, "av_tier", data_options={"av_tier": tiny_tier}, epochs=1)
    _check("av_tier", spec, tmp_path)


@pytest.mark.parametrize("dataset", ["ucf51", "activitynet", "iemocap"])
def test_paper_dataset_run_code_is_in_the_key(paper_root, tmp_path, dataset):
    _check(dataset, _paper_spec(paper_root, tmp_path, dataset), tmp_path)


# --------------------------------------------------------------------------- the key follows the code
@pytest.fixture
def package_copy(tmp_path, monkeypatch):
    """specs._PACKAGE pointed at a copy of the package (edited freely); fingerprints recomputed."""
    copy = tmp_path / "amidlib"
    shutil.copytree(specs._PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(specs, "_PACKAGE", copy)
    specs.code_fingerprint.cache_clear()
    yield copy
    specs.code_fingerprint.cache_clear()


def _fingerprint(dataset: str) -> str:
    specs.code_fingerprint.cache_clear()
    return specs.code_fingerprint(dataset)


def test_editing_any_covered_file_changes_the_fingerprint(package_copy):
    for dataset in registry.names():
        before = _fingerprint(dataset)
        files = covered(dataset)
        assert {"core/experiment.py", "core/training.py", "data/splits.py", "data/arrays.py",
                f"data/datasets/{dataset}.py"} <= files
        for rel in sorted(files):
            path = package_copy / rel
            original = path.read_bytes()
            path.write_bytes(original + b"\n# edited\n")
            assert _fingerprint(dataset) != before, f"editing {rel} leaves the {dataset} key unchanged"
            path.write_bytes(original)
        assert _fingerprint(dataset) == before


def test_editing_code_outside_the_list_keeps_the_key(package_copy):
    before = {d: _fingerprint(d) for d in ("uci_mfeat", "av_tier", "iemocap")}
    for rel in ("paper/tables.py", "repro/runs.py", "repro/profiles.py", "data/datasets/ucf51.py"):
        (package_copy / rel).write_text((package_copy / rel).read_text() + "\n# edited\n")
    assert {d: _fingerprint(d) for d in before} == before
    # a new dataset module (another dataset's file) leaves the existing datasets' keys as they were
    (package_copy / "data/datasets/new_one.py").write_text("# a dataset added later\n")
    assert {d: _fingerprint(d) for d in before} == before


def test_the_run_cache_trains_again_after_an_edit(tmp_path, package_copy):
    prof = profiles.load_profile("ci", epochs=1, n_jobs=1, cache_dir=tmp_path / "cache", out_dir=tmp_path / "figures")
    cells = [runs.Cell("t", prof.main.key, prof.main.paper, "baseline", runs.make_spec(prof, prof.main, "baseline", 0))]
    first = runs.Study(prof, verbose=False)
    first.results(cells)
    again = runs.Study(prof, verbose=False)
    again.results(cells)
    assert (first.trained, again.trained) == (1, 0)
    losses = package_copy / "core/losses.py"
    losses.write_text(losses.read_text() + "\n# edited\n")
    specs.code_fingerprint.cache_clear()
    edited = runs.Study(prof, verbose=False)
    edited.results(cells)
    assert edited.trained == 1
