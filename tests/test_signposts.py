"""Every ``amidlib.x.y`` the code and the docs name exists: a module, or an attribute of one.

Modules moved into layers (``amidlib.video_data`` → ``amidlib.data.video.datasets`` …) and 34 references to
the old paths had stayed behind in docstrings, comments and the README, pointing readers at rooms that no
longer exist. Generated outputs (``figures/``) and test fixtures are not read."""
from __future__ import annotations

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NAME = re.compile(r"\bamidlib(?:\.[A-Za-z_]\w*)+")


def _exists(dotted: str) -> bool:
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):  # the longest importable module, then attributes
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return False
        return True
    return False


def _named(paths) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for path in paths:
        for m in NAME.finditer(path.read_text(encoding="utf-8")):
            out.setdefault(m.group(0).rstrip("."), set()).add(str(path.relative_to(ROOT)))
    return out


def test_every_amidlib_path_named_in_code_and_docs_exists():
    files = [ROOT / "README.md"] + [p for folder in ("amidlib", "docs", "scripts", "benchmarks", "data_manifests",
                                                     "notebooks")
                                    for p in (ROOT / folder).rglob("*") if p.suffix in (".py", ".md") and p.is_file()
                                    and "_build" not in p.parts]
    dead = {name: sorted(where) for name, where in _named(files).items() if not _exists(name)}
    assert not dead, "names of modules or objects that do not exist:\n" + "\n".join(
        f"  {n}: {w}" for n, w in dead.items())


def test_the_check_sees_a_dead_path():
    text = "see amidlib.video_data.VideoAudioDataset, amidlib.data.cache.CALLS and amidlib.data.cache.NOPE"
    found = {m.group(0) for m in NAME.finditer(text)}
    assert {n for n in found if not _exists(n)} == {"amidlib.video_data.VideoAudioDataset", "amidlib.data.cache.NOPE"}


def test_split_rooms_keep_their_old_import_paths():
    """Modules split into rooms of a readable size (docs/design.md, "Module map and sizes") still give
    every name at the path code and records use, as the very object of its new home."""
    from amidlib.data import arrays, container
    from amidlib.data.video import clips, datasets, decode, inputs, loader

    assert arrays.MultimodalArrays is container.MultimodalArrays
    for name in clips.__all__:
        assert getattr(decode, name) is getattr(clips, name), name
    for room in (inputs, loader):
        for name in set(room.__all__) & set(datasets.__all__):
            assert getattr(datasets, name) is getattr(room, name), name
    assert {"VideoAudioDataset", "VideoLoader", "BadInputError", "video_run_args", "videos_used"} \
        <= set(datasets.__all__)
