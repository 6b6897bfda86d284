"""Adding a dataset is one new file (issue 21): a copy of an existing dataset's module under a new name,
dropped into ``amidlib/data/datasets/``, is registered and trains through the run engine with no other
edit. The copy goes into a copy of the whole package (the real tree is not touched), imported first in a
fresh interpreter."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

#: run in the copy: the new dataset is found, loads what the original loads, and trains through a Study
_USE_THE_COPY = r"""
import json, sys
import numpy as np
from amidlib.data import datasets, splits
from amidlib.repro import profiles, runs, specs

assert datasets.__file__.startswith(sys.argv[1]), datasets.__file__  # the copy, not the installed package
new, old = datasets.get("my_digits"), datasets.get("uci_mfeat")
split = ("holdout", 0.8, 0)
(tr, te), (tr0, te0) = (splits.load_split(d, ("fou",), ("fac",), split) for d in ("my_digits", "uci_mfeat"))
prof = profiles.load_profile("ci", epochs=1, n_jobs=1, cache_dir=sys.argv[2], out_dir=sys.argv[3])
pairing = profiles.Pairing(("fou",), ("fac",), "UCF51", "my_digits")
spec = runs.make_spec(prof, pairing, "baseline", 0)
(result,) = runs.Study(prof, verbose=False).results([runs.Cell("t", pairing.key, "UCF51", "baseline", spec)])
print(json.dumps({
    "names": list(datasets.names()),
    "arrays": new.arrays,
    "same_data": bool(np.array_equal(tr.modalities["fou"], tr0.modalities["fou"])
                      and np.array_equal(te.labels, te0.labels)),
    "class_names": splits.class_names("my_digits") == splits.class_names("uci_mfeat"),
    "code": sorted(p.name for p in specs.code_files("my_digits")),
    "engine_batchable": runs.make_spec(prof.replace(execution={"batch_seeds": True}), pairing, "baseline", 0).engine,
    "key_differs": spec.key() != runs.make_spec(prof, prof.main, "baseline", 0).key(),
    "pairing_key": pairing.key,
    "describe": spec.describe(),
    "epochs": len(result.history),
    "top1": result.metrics["student_top1"],
}))
"""


def _copy_package(tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    shutil.copytree(REPO / "amidlib", root / "amidlib", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "data_manifests", root / "data_manifests")  # (the embedded data's checksums)
    return root


def test_a_copied_dataset_module_is_registered_and_trains(tmp_path):
    root = _copy_package(tmp_path)
    folder = root / "amidlib/data/datasets"
    text = (folder / "uci_mfeat.py").read_text()
    assert text.count('"uci_mfeat"') == 1  # the registered name, once: the copy renames nothing else
    (folder / "my_digits.py").write_text(text.replace('"uci_mfeat"', '"my_digits"'))

    env = {**os.environ, "PYTHONPATH": str(root)}
    proc = subprocess.run([sys.executable, "-c", _USE_THE_COPY, str(root / "amidlib"), str(tmp_path / "cache"),
                           str(tmp_path / "figures")], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "my_digits" in out["names"] and "uci_mfeat" in out["names"]
    assert out["arrays"] and out["same_data"] and out["class_names"]
    assert "my_digits.py" in out["code"]  # its own module is in its runs' key
    assert out["engine_batchable"] == "batched"  # an array dataset: its seeds can train batched
    assert out["key_differs"] and out["pairing_key"] == "my_digits:fou→fac"
    assert out["describe"].startswith("baseline(") and "my_digits fou→fac" in out["describe"]
    assert out["epochs"] == 1 and 10 < out["top1"] <= 100


#: run in the copy: a copy of the digit pairs' module is a choice of the cpu profile's ``dataset`` parameter and trains
#: at the preset its file binds (batch 16), as the original does; a paper dataset's file says what leaving it out
#: leaves out of a table
_PAIRS_COPY = r"""
import json, sys
from amidlib.data import datasets
from pathlib import Path
from amidlib.paper import figures, names, tables
from amidlib.repro import profiles, runs

prof = profiles.load_profile("cpu", dataset="my_pairs", epochs=1, n_jobs=1, cache_dir=sys.argv[1], out_dir=sys.argv[2])
spec = runs.make_spec(prof, prof.main, "baseline", 0)
paper = profiles.load_profile("paper", datasets=["ucf51"], out_dir=sys.argv[3])
table3 = tables.build_table(runs.Study(paper, verbose=False), "table3")
ci = profiles.load_profile("ci", dataset="my_pairs", epochs=1, n_jobs=1, cache_dir=sys.argv[1], out_dir=sys.argv[4])
study = runs.Study(ci, verbose=False)
table1 = tables.build_table(study, "table1")
_, per_class = figures.build_fig3(study)
print(json.dumps({"choices": list(prof.dataset_choices), "main": prof.main.dataset, "preset": spec.preset,
                  "table1_settings": sorted(set(table1.setting)), "table1_rows": sorted(set(table1.row)),
                  "fig3_classes": sorted(set(per_class.class_name))[:3],
                  "fig3_n_classes": int(per_class.class_name.nunique()),
                  "fig3_png": (Path(sys.argv[4]) / "fig3.png").stat().st_size,
                  "batch": spec.effective_config()["batch_size"], "table1_want": names.table_rows("table1"),
                  "table3_rows": len(table3), "table3_md": open(sys.argv[3] + "/table3.md").read(),
                  "iemocap": [datasets.get("iemocap").paper_tables, datasets.get("iemocap").paper_part]}))
"""


def test_a_copied_pairs_module_is_a_profile_choice_at_its_own_preset_and_reaches_table1_and_fig3(tmp_path):
    """Issue 33: the ``dataset`` choices come from the registry and the preset from the dataset's file (it was a
    closed list in the profiles and the preset written twice); a ci reproduction on the copy builds Table 1 and
    Fig 3 on it, with no other edit."""
    root = _copy_package(tmp_path)
    folder = root / "amidlib/data/datasets"
    text = (folder / "uci_pairs.py").read_text()
    assert text.count('"uci_pairs"') == 1
    (folder / "my_pairs.py").write_text(text.replace('"uci_pairs"', '"my_pairs"'))
    env = {**os.environ, "PYTHONPATH": str(root), "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, "-c", _PAIRS_COPY, str(tmp_path / "cache"), str(tmp_path / "figures"),
                           str(tmp_path / "paper"), str(tmp_path / "ci")], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert "my_pairs" in out["choices"] and out["main"] == "my_pairs"
    assert out["preset"] == "embedded_pairs" and out["batch"] == 16
    # ... and it reaches the tables and figures: Table 1's main column and Fig 3's per-class view are on the copy
    assert "my_pairs:fou→fac" in out["table1_settings"] and out["table1_rows"] == sorted(out["table1_want"])
    assert out["fig3_n_classes"] == 55 and out["fig3_classes"] == ["0-0", "0-1", "0-2"] and out["fig3_png"] > 10_000
    # Table 3 is IEMOCAP's: with only UCF51 in the datasets parameter its line says so, in IEMOCAP's file's words
    assert out["table3_rows"] == 0 and "Not reproduced: IEMOCAP (Table 3) left out" in out["table3_md"]
    assert out["iemocap"] == [["table3"], "IEMOCAP (Table 3)"]


def test_without_the_new_file_the_name_is_refused(tmp_path):
    """The check above can fail: the registry only knows the files that are there."""
    root = _copy_package(tmp_path)
    code = "from amidlib.data import datasets; datasets.get('my_digits')"
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300,
                          env={**os.environ, "PYTHONPATH": str(root)})
    assert proc.returncode != 0 and "unknown dataset 'my_digits'" in proc.stderr
