"""Bad input is refused before anything runs, by name, with exit status 2, and changes no file.

Each case was accepted before (issue: a reproduction that never lies): ``-p epochs 2.7`` trained 2 epochs,
``-p seeds "[0.9, 1.7]"`` seeds 0 and 1, ``-p n_jobs 0`` one job, ``-p seeds ""`` the profile's seeds, ``-p epochs
abc`` failed 15 s later in the workload without naming the parameter, ``-p out_dir .`` wrote tables into the
repository root, ``-p out_dir figures`` under profile ci overwrote the committed figures with smoke-test numbers,
and a ``--runs-dir`` that cannot be written gave a raw traceback; ``batch_size=-1`` trained no step and reported
chance as a result, ``batch_size=0`` divided by zero.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from amidlib.core.config import make_config
from amidlib.core.methods import METHODS
from amidlib.repro import reproduce
from amidlib.repro.profiles import load_profile

REPO = Path(__file__).resolve().parents[1]


def _figures_digest() -> str:
    h = hashlib.sha256()
    for path in sorted((REPO / "figures").rglob("*")):
        if path.is_file():
            h.update(path.relative_to(REPO).as_posix().encode() + path.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def figures_before():
    return _figures_digest()


CASES = {
    "epochs 2.7": (["-p", "epochs", "2.7"], "epochs must be a whole number >= 1, got 2.7"),
    "epochs abc": (["-p", "epochs", "abc"], "epochs must be a whole number >= 1, got 'abc'"),
    "epochs 0": (["-p", "epochs", "0"], "epochs must be a whole number >= 1, got 0"),
    "seeds [0.9, 1.7]": (["-p", "seeds", "[0.9, 1.7]"], "seeds must be a list of whole numbers >= 0, got 0.9"),
    "seeds [-1]": (["-p", "seeds", "[-1]"], "seeds must be a list of whole numbers >= 0, got -1"),
    'seeds ""': (["-p", "seeds", ""], "seeds='' names no seed"),
    "seeds []": (["-p", "seeds", "[]"], "seeds must name at least one seed"),
    "n_jobs 0": (["-p", "n_jobs", "0"], "n_jobs must be a whole number >= 1, got 0"),
    "device gpu0": (["-p", "device", "gpu0"], "device must name a torch device, e.g. 'cpu' or 'cuda', got 'gpu0'"),
    "a misspelt name": (["-p", "epocs", "3"], "unknown parameter 'epocs' (did you mean 'epochs'?)"),
    "out_dir the repository root": (["-p", "out_dir", "."], "is the repository's root"),
    "out_dir inside .git": (["-p", "out_dir", ".git/tables"], "is the repository's .git"),
    "ci into the committed figures": (["-p", "out_dir", "figures"],
                                      "holds the committed results of the cpu profile's reproduction, and profile ci"),
    "cpu with other seeds into the committed figures": (
        ["--profile", "cpu", "--only", "02", "-p", "seeds", "[0]"],
        "profile cpu with these parameters would overwrite them with other numbers: give another folder"),
    "a cache folder that cannot be written": (["--cache-dir", "{file}/cache"], "cache_dir="),
    "a runs folder that cannot be written": (["--runs-dir", "{file}/runs"], "runs_dir="),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_bad_command_is_refused_by_name_and_changes_nothing(case, tmp_path, capsys, figures_before):
    args, message = CASES[case]
    a_file = tmp_path / "a_file"  # (a folder below a file cannot be made, even by root: unwritable for everyone)
    a_file.write_text("")
    args = [a.replace("{file}", str(a_file)) for a in args]
    runs_dir = [] if "--runs-dir" in args else ["--runs-dir", str(tmp_path / "runs")]
    profile = [] if "--profile" in args else ["--profile", "ci"]
    status = reproduce.main([*profile, *runs_dir, *args])
    err = capsys.readouterr().err
    assert status == 2, err
    assert message in err, err
    assert "Traceback" not in err
    assert not any((tmp_path / "runs").rglob("*"))  # no run folder: nothing ran
    assert not (REPO / ".git" / "tables").exists() and not (REPO / "table1.md").exists()
    assert _figures_digest() == figures_before


def test_the_same_values_are_refused_through_the_api():
    with pytest.raises(ValueError, match=r"epochs must be a whole number >= 1, got 2\.7"):
        load_profile("ci", epochs=2.7)
    with pytest.raises(ValueError, match="seeds must be a list of whole numbers >= 0, got 0.9"):
        load_profile("ci", seeds=[0.9, 1.7])
    assert load_profile("ci", epochs="3", seeds="0, 1").epochs == 3  # text that is a whole number is one
    assert load_profile("ci", seeds="0, 1").seeds == (0, 1)
    defaults = METHODS["amid"].defaults
    for name, value, rule in (("batch_size", 0, "a whole number >= 1"), ("batch_size", -1, "a whole number >= 1"),
                              ("epochs", 2.7, "a whole number >= 1"), ("tau", 0.0, "a number > 0"),
                              ("lr", -1e-3, "a number > 0"), ("alpha1", -1, "a number >= 0"),
                              ("dropout", 1.0, r"a number in \[0, 1\)"), ("beta", 1.5, r"a number in \[0, 1\)"),
                              ("num_threads", 0, "a whole number >= 1"),
                              ("warmup_epochs", True, "a whole number >= 0")):
        with pytest.raises(ValueError, match=rf"^{name} must be {rule}, got {value!r}"):
            make_config(defaults, **{name: value})
    for _method, cls in METHODS.items():  # every method's own temperatures are checked too
        for key in (k for k in cls.defaults if k == "tau" or k.endswith("_tau")):
            with pytest.raises(ValueError, match=rf"^{key} must be a number > 0"):
                make_config(cls.defaults, **{key: 0})


def test_the_cpu_profile_as_committed_may_write_the_committed_figures():
    prof = load_profile("cpu", n_jobs=2)  # (how many processes train does not change a number)
    assert prof.paths.out_dir == (REPO / "figures").resolve()


def test_a_misspelt_parameter_given_to_papermill_itself_stops_the_notebook(tmp_path):
    """papermill only warns about a name the parameters cell lacks, and the notebook ran with the default; the
    notebook's setup call now refuses it, naming it (before anything trains)."""
    import papermill

    from amidlib.notebook import check_injected_parameters
    from amidlib.repro.reproduce import kernel_name

    with pytest.raises(ValueError, match="unknown notebook parameter 'epocs'. Did you mean 'epochs'"):
        check_injected_parameters(["", "profile = 'ci'\nepochs = None\n", "# Parameters\nprofile = 'ci'\nepocs = 3\n"])
    check_injected_parameters(["", "epochs = None\n", "# Parameters\nepochs = 3\n"])  # a declared name passes
    check_injected_parameters(["", "x = 1\n"])  # no injected cell (JupyterLab): nothing to check
    with pytest.raises(papermill.PapermillExecutionError) as err:
        papermill.execute_notebook(str(REPO / "notebooks" / "04_per_class.ipynb"), str(tmp_path / "out.ipynb"),
                                   parameters={"epocs": 3, "out_dir": str(tmp_path / "figures"),
                                               "cache_dir": str(tmp_path / "cache")},
                                   kernel_name=kernel_name(), cwd=str(REPO / "notebooks"), progress_bar=False)
    assert "epocs" in str(err.value) and "Did you mean 'epochs'" in str(err.value)
    assert not (tmp_path / "cache").exists()  # stopped before the run cache was opened


def test_a_notebook_parameter_of_its_own_is_checked_by_name_too(tmp_path):
    """01_warmup's ``batch_n`` (the batch every loss term is shown on): 0 gave an unexplained IndexError."""
    import papermill

    from amidlib.repro.reproduce import kernel_name

    with pytest.raises(papermill.PapermillExecutionError) as err:
        papermill.execute_notebook(str(REPO / "notebooks" / "01_warmup.ipynb"), str(tmp_path / "out.ipynb"),
                                   parameters={"batch_n": 0, "out_dir": str(tmp_path / "figures"),
                                               "cache_dir": str(tmp_path / "cache")},
                                   kernel_name=kernel_name(), cwd=str(REPO / "notebooks"), progress_bar=False)
    assert "batch_n must be a whole number >= 2, got 0" in str(err.value)
    assert not (tmp_path / "cache").exists()  # stopped before anything else ran
