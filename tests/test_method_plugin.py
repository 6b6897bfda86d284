"""Adding a method is one new file: a copy of an existing method's file under a new name, dropped into
``amidlib/core/methods/``, is registered and trainable with no other edit (no import to add, no list to
extend), and the paper layer gives it a default row (its name, a colour of its own) without listing it in
any table.

The copy goes into a copy of the package in a temporary folder, imported by a fresh interpreter that finds
that copy first: the shared work tree is never written, so a failed run leaves nothing behind."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "amidlib"

#: run by the fresh interpreter: import the copied package, find the new method, train it two epochs
_CHILD = r"""
import json, sys
import amidlib
from amidlib.core.methods import METHODS
from amidlib.data.arrays import make_synthetic, stratified_split
from amidlib.experiment import run
from amidlib.paper import names

name = sys.argv[1]
train, test = stratified_split(make_synthetic(seed=0), test_size=0.5, seed=0)
res = run(name, train, test, seed=0, preset="tiny", epochs=2, warmup_epochs=1, progress=False)
row = names.row(name)
print(json.dumps({
    "package": amidlib.__file__, "methods": list(METHODS), "module": METHODS[name].__module__,
    "defaults": dict(METHODS[name].defaults), "epochs": len(res.history), "losses": sorted(
        c for c in res.history.columns if c.startswith("loss_")), "student_top1": res.metrics["student_top1"],
    "label": row.label, "colour": row.colour,
    "other_colours": sorted({r.colour for n, r in names.rows().items() if n != name}),
    "in_tables": [t for t in names.TABLES if name in names.table_rows(t)],
}))
"""


def _plugin_source(original: str, cls: str, name: str, new_cls: str, new_name: str) -> str:
    """``original`` (a method's file) with its class and method name replaced by text substitution only."""
    out = re.sub(rf"\bclass {cls}\(", f"class {new_cls}(", original)
    out = re.sub(rf'^(\s+)name = "{name}"$', rf'\1name = "{new_name}"', out, flags=re.M)
    assert out.count(f"class {new_cls}(") == 1 and f'name = "{new_name}"' in out
    return out


@pytest.mark.parametrize("source,cls,name", [("gmc.py", "GMC", "gmc")])
def test_a_copied_method_file_is_registered_and_trainable_with_no_other_edit(tmp_path, source, cls, name):
    new_name = f"plugin_{uuid.uuid4().hex[:8]}"
    root = tmp_path / "site"
    shutil.copytree(PACKAGE, root / "amidlib", ignore=shutil.ignore_patterns("__pycache__"))
    methods_dir = root / "amidlib" / "core" / "methods"
    original = (methods_dir / source).read_text()
    (methods_dir / f"{new_name}.py").write_text(_plugin_source(original, cls, name, f"Plugin{cls}", new_name))
    # a default paper row needs nothing either: the copied package's other files are the tree's, unchanged
    assert sorted(p.name for p in methods_dir.glob("*.py")) == sorted(
        [p.name for p in (PACKAGE / "core" / "methods").glob("*.py")] + [f"{new_name}.py"])

    env = {**os.environ, "PYTHONPATH": str(root), "MPLBACKEND": "Agg"}
    proc = subprocess.run([sys.executable, "-c", _CHILD, new_name], cwd=root, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    got = json.loads(proc.stdout.strip().splitlines()[-1])

    assert Path(got["package"]).resolve().is_relative_to(root.resolve()), got["package"]  # the copy, not the tree
    assert got["module"] == f"amidlib.core.methods.{new_name}"
    # registered after the paper's methods (their order unchanged), with the copied file's own defaults
    assert got["methods"][:7] == ["baseline", "teacher", "crd", "gmc", "crcd", "ccl", "amid"]
    assert new_name in got["methods"][7:] and got["defaults"] == {"gmc_weight": 1.0, "gmc_tau": 0.3,
                                                                  "gmc_latent_dim": 64}
    # trainable: two epochs, its own loss terms, and it learns something on the synthetic data (chance: 16.7 %)
    assert got["epochs"] == 2 and {"loss_cls", "loss_gmc", "loss_total"} <= set(got["losses"])
    assert got["student_top1"] > 100 / 6
    # the paper layer: its name as label, a colour no other row has, in no table until declared
    assert got["label"] == new_name and got["colour"] not in got["other_colours"] and got["in_tables"] == []


def test_a_copy_that_keeps_the_name_is_refused():
    """The check above can fail: a copy whose ``name`` is not changed clashes with the original when it is
    imported (and the substitution helper refuses a name it cannot find)."""
    from amidlib.core.methods import METHODS

    original = (PACKAGE / "core" / "methods" / "gmc.py").read_text()
    with pytest.raises(AssertionError):
        _plugin_source(original, "GMC", "not_there", "PluginGMC", "plugin")
    copy = original.replace("class GMC(", "class OtherGMC(")
    with pytest.raises(ValueError, match="method 'gmc' is already registered"):
        exec(compile(copy, "<a copy of gmc.py>", "exec"), {"__name__": "amidlib.core.methods.copy_of_gmc"})
    assert METHODS["gmc"].__name__ == "GMC"
