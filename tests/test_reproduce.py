"""python -m amidlib.repro: refuses bad command lines before anything runs; the paper profile says what is missing."""

from amidlib.paper import names as paper_names
from amidlib.repro import reproduce


def _main(capsys, *args):
    code = reproduce.main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def test_misspelt_parameter_is_refused_by_name_before_anything_runs(tmp_path, capsys):
    runs = tmp_path / "runs"
    code, out, err = _main(capsys, "--profile", "ci", "-p", "seedz", "[0]", "--runs-dir", str(runs))
    assert code == 2
    assert "unknown parameter 'seedz'" in err and "did you mean 'seeds'" in err
    for name in ("seeds", "epochs", "out_dir", "device"):
        assert name in err  # the valid names are listed
    assert not runs.exists()  # nothing ran, no run folder


def test_notebook_specific_parameter_needs_a_notebook_that_declares_it(tmp_path, capsys):
    code, _, err = _main(capsys, "--only", "02", "-p", "alpha1", "3.9", "--runs-dir", str(tmp_path))
    assert code == 2 and "alpha1" in err  # only 07_teaching declares alpha1
    assert not any(tmp_path.iterdir())


def test_profile_and_cache_dir_are_not_p_parameters(tmp_path, capsys):
    code, _, err = _main(capsys, "-p", "profile", "cpu", "--runs-dir", str(tmp_path))
    assert code == 2 and "--profile" in err


def test_unknown_only_is_refused_with_the_notebook_names(tmp_path, capsys):
    code, _, err = _main(capsys, "--only", "09", "--runs-dir", str(tmp_path))
    assert code == 2 and "'09'" in err and "02_amid_training" in err
    code, _, err = _main(capsys, "--only", "ablationz", "--runs-dir", str(tmp_path))
    assert code == 2 and "ablationz" in err
    assert not any(tmp_path.iterdir())


def test_only_accepts_numbers_and_prefixes():
    nbs = reproduce.list_notebooks(reproduce.notebooks_dir())
    names = lambda sel: [p.stem for p in reproduce.select(nbs, sel)]  # noqa: E731
    assert names(["2"]) == names(["02"]) == names(["02_amid"]) == names(["amid"]) == ["02_amid_training"]
    assert names(["05", "03"]) == ["03_ablations", "05_cosine_curves"]  # notebook order, not argument order
    assert names(["0,1"]) == ["00_data_prep", "01_warmup"]
    assert len(names(None)) == len(nbs) >= 8


def test_values_are_read_as_yaml():
    assert reproduce.parse_value("[0, 1]") == [0, 1]
    assert reproduce.parse_value("20") == 20
    assert reproduce.parse_value("None") is None and reproduce.parse_value("null") is None
    assert reproduce.parse_value("fou") == "fou"
    assert reproduce.parse_value("true") is True


def test_run_folders_are_never_reused(tmp_path):
    a = reproduce.new_run_folder(tmp_path, "ci")
    b = reproduce.new_run_folder(tmp_path, "ci")
    assert a != b and a.parent == b.parent == tmp_path / "ci"


def test_list_shows_parameters_and_runs_nothing(tmp_path, capsys):
    code, out, _ = _main(capsys, "--list", "--runs-dir", str(tmp_path))
    assert code == 0 and "00_data_prep.ipynb: profile=" in out and "alpha1=" in out
    assert not any(tmp_path.iterdir())


def test_paper_profile_without_gpu_or_data_stops_with_a_clear_message(tmp_path, capsys, monkeypatch):
    import torch

    monkeypatch.delenv("AMID_DATA_ROOT", raising=False)
    code, out, err = _main(capsys, "--profile", "paper", "--only", "00", "--runs-dir", str(tmp_path))
    assert code == 1
    assert "00_data_prep.ipynb stopped" in err and "cannot run here" in err
    assert "data root" in err and "AMID_DATA_ROOT" in err
    if not torch.cuda.is_available():
        assert "GPU" in err
    executed = list((tmp_path / "paper").glob("*/00_data_prep.ipynb"))
    assert len(executed) == 1  # the executed notebook (with the traceback) is kept


def test_generated_video_tier_runs_through_the_notebooks(tmp_path, capsys):
    """dataset=av_tier: notebooks 00 and 02 run the paper's video path (mp4 decoding, log-mel audio,
    3D-CNN student) on generated clips, and Table 1 says which data it is on."""
    import pandas as pd

    out = tmp_path / "figures"
    # (3 epochs: the plumbing of the video path, not its numbers)
    code, stdout, err = _main(capsys, "--profile", "ci", "--only", "00", "02", "-p", "dataset", "av_tier",
                              "-p", "epochs", "3", "-p", "out_dir", str(out), "-p", "data_root", str(tmp_path / "data"),
                              "--runs-dir", str(tmp_path / "runs"))
    assert code == 0, err[-3000:]
    assert (tmp_path / "data/av_tier/manifest.json").is_file()  # the tier was generated under the data root
    summary = pd.read_csv(out / "data_summary.csv")
    assert summary.loc[summary.dataset == "av_tier", "test"].iloc[0] == 15  # 5 classes x 3 test clips
    t1 = pd.read_csv(out / "table1.csv")
    t1 = t1[t1.metric != "gap_closed"]   # Table 1 also states the share of the gap closed (the distillation methods)
    assert (set(t1.dataset) == {"av_tier"} and len(t1) == len(paper_names.table_rows("table1"))
            and t1["mean"].between(0, 100).all())
    assert "generated audio-visual clips" in (out / "table1.md").read_text()
    t3 = pd.read_csv(out / "table3.csv")
    assert set(t3.dataset) == {"uci_mfeat"}  # Table 3 stays on the embedded data


def test_run_folder_records_the_environment():
    text = reproduce.environment_record()
    assert "torch_cpu_capability=" in text and "\nprocessor=" in text
    assert "# pip freeze --all" in text and "torch==" in text.split("# pip freeze --all")[1]


def test_a_whole_reproduction_trains_its_workload_in_one_pool_first(tmp_path):
    """--workload (the default without --only): the driver trains amidlib.paper.workload's runs first; the notebooks
    then train nothing (the check can fail: a run the workload misses is trained by a notebook and counted). Run as
    a user runs it, in its own process (``python -m amidlib.repro``)."""
    import subprocess
    import sys

    import pandas as pd

    from amidlib.repro.profiles import load_profile

    runs = tmp_path / "runs"
    # into the ci profile's own run cache: the notebooks, run by nbval after this file with their committed defaults
    # (conftest.py), find these runs there instead of training them again
    cache = load_profile("ci").paths.cache_dir
    # every notebook, 07_teaching's widget panel included (it trains its own small runs, none of the workload's;
    # under papermill's default engine its Output widget could hang the run: amidlib.repro.notebook_engine)
    proc = subprocess.run([sys.executable, "-m", "amidlib.repro", "--profile", "ci", "--runs-dir", str(runs),
                           "--cache-dir", str(cache), "-p", "out_dir", str(tmp_path / "figs")],
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "the notebooks trained 0 run(s) beyond the workload" in proc.stdout
    timings = pd.read_csv(next((runs / "ci").iterdir()) / "timings.csv")
    assert timings.notebook.iloc[0] == reproduce.WORKLOAD and (timings.status.iloc[:-1] == "ok").all()
    assert (tmp_path / "figs" / "claims.md").is_file()


def test_after_the_workload_every_notebook_but_the_report_runs_side_by_side_longest_first():
    from pathlib import Path

    nbs = [Path(f"{n}.ipynb") for n in ("00_data_prep", "01_warmup", "02_amid_training", "03_ablations", "06_report",
                                        "07_teaching")]
    waves = reproduce.notebook_waves(nbs, parallel=True, jobs=2)
    # the teaching notebook (it trains its own runs: the longest) first, the report last
    assert [[nb.stem[:2] for nb in w] for w in waves] == [["07", "00", "01", "02", "03"], ["06"]] and waves.jobs == 2
    # without the workload (the notebooks train) or with one job: one at a time, in order
    for waves in (reproduce.notebook_waves(nbs, parallel=False, jobs=2),
                  reproduce.notebook_waves(nbs, parallel=True, jobs=1)):
        assert [w for w in waves] == [[nb] for nb in nbs]
    assert [[nb.stem[:2] for nb in w]
            for w in reproduce.notebook_waves(nbs[1:3], parallel=True, jobs=2)] == [["01", "02"]]


def test_jobs_below_one_is_refused(tmp_path, capsys):
    code, _, err = _main(capsys, "--jobs", "0", "--runs-dir", str(tmp_path))
    assert code == 2 and "--jobs 0" in err


def test_the_notebook_engine_records_output_widgets_without_writing_to_the_kernel():
    """nbclient's Output-widget mimic echoes each captured output to the kernel's shell channel, which can
    hide the cell's execute_reply forever (jupyter/nbclient#312); ours records the output and sends nothing."""
    from types import SimpleNamespace

    from amidlib.repro.notebook_engine import QuietOutputWidget

    def refuse(msg):
        raise AssertionError("the Output widget mimic wrote to the kernel's shell channel")

    client = SimpleNamespace(shell_channel=SimpleNamespace(send=refuse), session=None)
    executor = SimpleNamespace(widget_state={"w1": {}})
    widget = QuietOutputWidget("w1", {"outputs": []}, client, executor)
    header = {"msg_id": "m", "msg_type": "stream"}
    widget.clear_output([], {"parent_header": header, "content": {"wait": False}}, 0)
    for text in ("a\n", "b\n"):
        widget.output([], {"msg_type": "stream", "parent_header": header, "header": header,
                           "content": {"name": "stdout", "text": text}}, None, 0)
    widget.clear_output([], {"parent_header": header, "content": {"wait": True}}, 0)
    widget.output([], {"msg_type": "stream", "parent_header": header, "header": header,
                       "content": {"name": "stdout", "text": "c\n"}}, None, 0)
    assert [o["text"] for o in executor.widget_state["w1"]["outputs"]] == ["c\n"]


def _run_widget_notebooks(tmp_path, lines: int, runs: int, at_once: int) -> list:
    """Execute, through our papermill engine in fresh processes, ``runs`` copies of a notebook whose first cell
    prints ``lines`` times into an Output widget (four kernel messages a line), ``at_once`` at a time; each run
    gets 300 s (a hang is a wait without end). Returns 0 for a run that finished, else what went wrong."""
    import subprocess
    import sys
    from concurrent.futures import ThreadPoolExecutor

    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import ipywidgets as w\nfrom IPython.display import display\n"
                                          f"out = w.Output(); display(out)\nfor i in range({lines}):\n"
                                          "    out.clear_output(wait=True)\n    with out:\n        print(i)\n"),
                # flushed apart on purpose: two stream messages, as a loaded kernel sometimes sends one print
                nbformat.v4.new_code_cell("import sys\nprint('do', end='')\nsys.stdout.flush()\nprint('ne')")]
    nbformat.write(nb, tmp_path / "widget.ipynb")
    code = ("import sys, papermill\nfrom amidlib.repro.notebook_engine import ENGINE\n"
            f"papermill.execute_notebook({str(tmp_path / 'widget.ipynb')!r}, sys.argv[1], kernel_name="
            f"{reproduce.kernel_name()!r}, progress_bar=False, engine_name=ENGINE)")

    def one(i):
        try:
            proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / f"out{i}.ipynb")], timeout=300,
                                  capture_output=True, text=True)
            return 0 if proc.returncode == 0 else f"run {i}: exit {proc.returncode}: {proc.stderr[-1500:]}"
        except subprocess.TimeoutExpired as e:
            return f"run {i}: hung (no exit in 300 s): {(e.stderr or b'')[-1500:]!r}"

    with ThreadPoolExecutor(at_once) as pool:
        return list(pool.map(one, range(runs)))


def test_a_notebook_writing_into_an_output_widget_always_finishes(tmp_path):
    """Real kernels: a cell that prints 200 times into an Output widget, executed 6 times through our papermill
    engine, 2 at a time; each must finish (papermill's default engine hung 3 of 26 such runs here). A hang is
    a wait without end, so each run gets 300 s: a run took 22-42 s on 2 cores beside 3 busy processes (12 of 12
    finished); the earlier 120 s failed once inside a full clean-clone suite on a machine busy with other work."""
    import nbformat

    results = _run_widget_notebooks(tmp_path, lines=200, runs=6, at_once=2)
    assert results == [0] * 6, "\n".join(str(r) for r in results if r != 0)
    done = nbformat.read(tmp_path / "out0.ipynb", as_version=4)
    # one stream output even when the kernel flushed the text apart (CI once saw outputs[0] == "done")
    assert [o.get("text") for o in done.cells[1].outputs] == ["done\n"]


def test_no_kernel_message_is_lost_when_kernels_outrun_their_clients(tmp_path):
    """Three kernels printing 5,000 lines into Output widgets at once on a shared machine outrun their clients.
    ZeroMQ's default high-water marks then drop messages silently: before our engine lifted them on both
    sides, 6 of 6 such runs failed here (a widget update lost: ``IndexError: pop from empty list``; at 2,000
    lines also a lost "idle": ``Timeout waiting for IOPub output``), and one run of the test above failed
    so inside a clean-clone suite. Now each finishes (9 of 9, about 20 s each), and the executed notebook
    holds the widget's last line and the next cell's output."""
    import json

    import nbformat

    results = _run_widget_notebooks(tmp_path, lines=5000, runs=3, at_once=3)
    assert results == [0] * 3, "\n".join(str(r) for r in results if r != 0)
    for i in range(3):
        done = nbformat.read(tmp_path / f"out{i}.ipynb", as_version=4)
        models = done.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"].values()
        (state,) = [m for m in models if m["model_name"] == "OutputModel"]
        assert state["state"]["outputs"] == [{"name": "stdout", "output_type": "stream", "text": "4999\n"}], \
            json.dumps(state["state"]["outputs"])[:500]
        assert [o.get("text") for o in done.cells[1].outputs] == ["done\n"]


def test_a_kernel_of_another_interpreter_starts_through_its_own_launcher(monkeypatch):
    """Our launcher replaces ipykernel_launcher only for a kernel of this interpreter, in which amidlib is
    installed; a kernelspec of another Python keeps its own command."""
    import sys

    from amidlib.repro.notebook_engine import ReproNotebookClient, UnboundedKernelClient

    def argv_for(python):
        client = ReproNotebookClient.__new__(ReproNotebookClient)
        km = type("KM", (), {})()
        km.kernel_spec = type("Spec", (), {"argv": [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]})()
        monkeypatch.setattr("nbclient.client.NotebookClient.create_kernel_manager", lambda self: km)
        made = client.create_kernel_manager()
        assert made.client_factory is UnboundedKernelClient
        return made.kernel_spec.argv[2]

    assert argv_for(sys.executable) == "amidlib.repro.kernel_launcher"
    assert argv_for("python") == "amidlib.repro.kernel_launcher"  # ipykernel's own python3 kernelspec
    assert argv_for("/opt/other-python/bin/python") == "ipykernel_launcher"


def test_a_kernel_gets_at_least_three_minutes_to_start(monkeypatch):
    """papermill's default 60 s start timeout is raised to MIN_START_TIMEOUT; a longer one asked for is kept."""
    from amidlib.repro import notebook_engine as E

    seen = []

    class Client:
        def __init__(self, nb_man, **kwargs):
            seen.append(kwargs["startup_timeout"])

        def execute(self):
            return None

    monkeypatch.setattr(E, "ReproNotebookClient", Client)
    E.ReproEngine.execute_managed_notebook(None, "python3")
    E.ReproEngine.execute_managed_notebook(None, "python3", start_timeout=600)
    assert seen == [E.MIN_START_TIMEOUT, 600] and E.MIN_START_TIMEOUT >= 180


def test_notebook_kernels_use_unix_sockets_so_two_started_at_once_never_share_a_port(tmp_path):
    import os

    import nbformat
    import pytest

    from amidlib.repro.notebook_engine import ReproNotebookClient

    if os.name != "posix":
        pytest.skip("Unix sockets only")
    nb = nbformat.v4.new_notebook()
    from types import SimpleNamespace

    kms = [ReproNotebookClient(SimpleNamespace(nb=nb), kernel_name=reproduce.kernel_name()).create_kernel_manager()
           for _ in range(2)]
    assert {km.transport for km in kms} == {"ipc"}
    assert kms[0].ip != kms[1].ip and all(os.path.isabs(km.ip) for km in kms)


def test_a_whole_reproduction_into_figures_leaves_its_record(tmp_path):
    """figures/reproduction.json: runs, wall and CPU seconds, machine, profile, finish time (the README and the
    notebooks' explore mode read it); written atomically, read back by read_reproduction_record."""
    import json

    from amidlib.repro import reproduction_files

    path = reproduction_files.write_reproduction_record(tmp_path, runs=318, wall_s=630.04, cpu_s=1200.0, profile="cpu")
    record = json.loads(path.read_text())
    assert path.name == "reproduction.json" and set(record) == {"runs", "wall_s", "cpu_s", "machine", "profile",
                                                                "finished"}
    assert record["runs"] == 318 and record["wall_s"] == 630.0 and record["profile"] == "cpu"
    assert record["machine"].endswith(" cores") and record["finished"][:4].isdigit()
    assert reproduction_files.read_reproduction_record(tmp_path) == record
    assert reproduction_files.read_reproduction_record(tmp_path / "none") is None
    # with the core's speed at the start and the end
    path = reproduction_files.write_reproduction_record(tmp_path, runs=318, wall_s=630.0, cpu_s=1200.0, profile="cpu",
                                                        core_gflops=(121.04, 118.96))
    assert json.loads(path.read_text())["core_gflops"] == [121.0, 119.0]


def test_the_core_speed_probe_measures_the_products_and_leaves_the_thread_count_as_it_was():
    """core_speed: the probe's GFLOP/s from its own count of products (against a direct timing of the same
    products here), with torch's thread count restored."""
    import time

    import torch

    from amidlib.repro import reproduction_files

    before = torch.get_num_threads()
    speed = reproduction_files.core_speed(seconds=0.2)
    assert torch.get_num_threads() == before
    k, m, n, p = reproduction_files.PROBE_SHAPE
    a, b = torch.randn(k, m, n), torch.randn(k, n, p)
    torch.set_num_threads(1)
    try:
        torch.bmm(a, b)
        start = time.perf_counter()
        for _ in range(50):
            torch.bmm(a, b)
        direct = 2 * k * m * n * p * 50 / (time.perf_counter() - start) / 1e9
    finally:
        torch.set_num_threads(before)
    assert 0.6 < speed / direct < 1.7  # the same arithmetic at the same rate (a factor 2 off would be a miscount)


def test_the_driver_passes_mode_run_to_every_notebook_that_declares_it():
    """The notebooks' committed mode is explore (opened by hand); the reproduction runs them in mode run, so
    the cpu profile writes the committed figures/."""
    params = {nb.name: reproduce.notebook_parameters(nb)
              for nb in reproduce.list_notebooks(reproduce.notebooks_dir())
              if nb.name[:2] in {f"0{i}" for i in range(7)}}
    assert params and all(p["mode"]["default"].strip("'\"") == "explore" for p in params.values())
    from pathlib import Path

    assert '"mode": "run"' in Path(reproduce.__file__).read_text()
