"""Dataset manifests, the paper's own numbers, and checks of user-supplied feature folders.

What lives in ``data_manifests/`` (one file per dataset, see its README.md):

- ``ucf51.json``: class list, every video id with class and group, split rule, counts, sha256 of
  the CCL audio-feature release it was derived from (by ``scripts/make_ucf51_manifest.py``);
- ``activitynet.json`` / ``iemocap.json``: counts, class maps, file formats and layouts (facts only);
- ``paper_results.csv``: every number of the paper's Tables 1-6 (used only as the "paper" column).

The manifests are shipped with the project: nothing here reads ``/work/shared`` or any other
outside folder at run time except the user's own data passed in explicitly.
"""
from __future__ import annotations

import hashlib
import io
import json
import re
import tarfile
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[2]
#: The one folder of manifests (and of the paper's own numbers, paper_results.csv).
MANIFEST_DIRS = (REPO_ROOT / "data_manifests",)

PAPER_RESULTS_COLUMNS = ["table", "setting", "method", "metric", "value"]
PAPER_TABLES = [f"table{i}" for i in range(1, 7)]

# files that macOS / Finder scatter into folders and archives; never data
_IGNORED_NAMES = re.compile(r"^(\._.*|\.DS_Store)$")
_UCF_VIDEO_ID = re.compile(r"^v_(?P<cls>[A-Za-z]+)_g(?P<group>\d{2})_c(?P<clip>\d{2})$")


# --------------------------------------------------------------------------- manifests
def manifest_path(name: str) -> Path:
    """Path of ``<name>.json`` (or ``<name>`` itself when it has a suffix) in the manifest dirs."""
    filename = name if Path(name).suffix else f"{name}.json"
    tried = [d / filename for d in MANIFEST_DIRS]
    for path in tried:
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"manifest {name!r} not found; looked at: " + ", ".join(str(p) for p in tried)
    )


def load_manifest(name: str) -> dict:
    """Read ``data_manifests/<name>.json`` (e.g. ``"ucf51"``) as a dict."""
    with manifest_path(name).open(encoding="utf-8") as f:
        return json.load(f)


def class_names(manifest: dict | str) -> list[str]:
    """Class names of a manifest, ordered by class index."""
    m = load_manifest(manifest) if isinstance(manifest, str) else manifest
    classes = sorted(m["classes"], key=lambda c: c["index"])
    return [c["name"] for c in classes]


def split_of_group(group: int, test_groups) -> str:
    """UCF101 official split rule: a video is ``"test"`` if its group is a test group, else ``"train"``."""
    return "test" if int(group) in set(test_groups) else "train"


def manifest_videos(manifest: dict | str = "ucf51", split: str | None = None) -> pd.DataFrame:
    """One row per video: video_id, class_name, class_index, group, split, relpath.

    ``relpath`` is the CCL-format feature file ``<ClassName>/<video_id>.npy``. The folder is the
    class name and the stem the UCF101 video id, whose spelling may differ from the folder
    (``HandstandPushups/v_HandStandPushups_g08_c01.npy``), so always use ``relpath``.
    """
    m = load_manifest(manifest) if isinstance(manifest, str) else manifest
    if "videos" not in m:
        raise ValueError(
            f"manifest {m.get('name', '?')!r} lists no video ids "
            f"({m.get('video_ids_note', 'see its json')})"
        )
    names = class_names(m)
    test_groups = m["split"]["test_groups"]
    df = pd.DataFrame(m["videos"], columns=m["video_columns"])
    df.insert(1, "class_name", [names[i] for i in df["class_index"]])
    df["split"] = [split_of_group(g, test_groups) for g in df["group"]]
    df["relpath"] = df["class_name"] + "/" + df["video_id"] + ".npy"
    if split is not None:
        if split not in ("train", "test"):
            raise ValueError(f"split must be 'train', 'test' or None, got {split!r}")
        df = df[df["split"] == split].reset_index(drop=True)
    return df


def dumps_manifest(obj) -> str:
    """JSON text with small lists/objects kept on one line (one video row per line)."""

    def fmt(value, indent: int) -> str:
        flat = json.dumps(value, ensure_ascii=False)
        if len(flat) <= 100 or not isinstance(value, (list, dict)):
            return flat
        pad, inner = " " * indent, " " * (indent + 2)
        if isinstance(value, dict):
            items = [f"{inner}{json.dumps(k)}: {fmt(v, indent + 2)}" for k, v in value.items()]
            return "{\n" + ",\n".join(items) + "\n" + pad + "}"
        items = [inner + fmt(v, indent + 2) for v in value]
        return "[\n" + ",\n".join(items) + "\n" + pad + "]"

    return fmt(obj, 0) + "\n"


# --------------------------------------------------------------------------- UCF51 manifest
def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Hex sha256 of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


#: The 4 of the 8 missing UCF51 videos that can be identified (see "missing_identified").
UCF51_KNOWN_MISSING = [f"v_HandStandPushups_g14_c0{i}" for i in range(1, 5)]


def build_ucf51_manifest(tarball: str | Path, verify_arrays: bool = True) -> dict:
    """Derive the UCF51 manifest from CCL's ``audiocnn14embed512_features`` archive.

    Lists ``audiocnn14embed512_features/<Class>/v_<Class>_gXX_cYY.npy`` (skipping macOS ``._*``
    files); with ``verify_arrays`` every array is loaded and must be finite float32 (512,).
    """
    tarball = Path(tarball)
    feature_dir = "audiocnn14embed512_features"
    found = _archived_videos(tarball, feature_dir, verify_arrays)
    names = sorted({cls for cls, _, _ in found})
    index = {name: i for i, name in enumerate(names)}
    test_groups = list(range(1, 8))
    rows = sorted(([vid, index[cls], g] for cls, vid, g in found), key=lambda r: (r[1], r[0]))
    per_class = {name: {"train": 0, "test": 0} for name in names}
    for _vid, ci, g in rows:
        per_class[names[ci]][split_of_group(g, test_groups)] += 1
    n_train = sum(c["train"] for c in per_class.values())
    n_test = sum(c["test"] for c in per_class.values())
    paper_videos = 6845

    return {
        "name": "ucf51",
        "title": "UCF51: the 51 classes of UCF101 whose videos carry audio",
        "paper": {
            "videos": paper_videos,
            "classes": 51,
            "split": "public split1",
            "quote": "UCF51, as a subset of UCF101 [40], includes 6,845 videos with audio "
            "belonging to 51 categories. The public split1 is adopted.",
        },
        "source": {
            "what": "PANNs CNN14 (AudioSet-pretrained) 512-d audio embeddings, one per video, "
            "released with the public code of CCL (Chen et al., CVPR 2021; the paper's ref. [9])",
            "release": "https://github.com/yanbeic/CCL  datasets/UCF101/audiocnn14embed512_features.tar.gz",
            "license": "Apache-2.0",
            "archive": tarball.name,
            "sha256": sha256_file(tarball),
            "feature_dir": feature_dir,
            "generated_by": "scripts/make_ucf51_manifest.py",
            "videos_not_included": "the UCF101 videos themselves (users supply them)",
        },
        "split": {
            "name": "UCF101 official split 1",
            "rule": "group 1-7 -> test, group 8-25 -> train (group = XX in v_<Class>_gXX_cYY)",
            "test_groups": test_groups,
            "train_groups": list(range(8, 26)),
        },
        "feature_format": {
            "layout": "<root>/<ClassName>/<video_id>.npy",
            "dtype": "float32",
            "shape": [512],
            "note": "CCL layout. The folder is the class name, the stem the UCF101 video id; they can "
            "differ in case (HandstandPushups/v_HandStandPushups_gXX_cYY.npy).",
        },
        "counts": {
            "classes": len(names),
            "videos": len(rows),
            "train": n_train,
            "test": n_test,
            "paper_videos": paper_videos,
            "missing_in_release": paper_videos - len(rows),
        },
        "missing_note": f"The paper quotes {paper_videos} videos; the released features cover "
        f"{len(rows)}, so {paper_videos - len(rows)} videos have no audio feature. This manifest lists "
        "the released ones only (CCL's loader substitutes a zero vector for a video without a file).",
        "missing_identified": {
            "videos": UCF51_KNOWN_MISSING,
            "how": "HandstandPushups is the only class with a whole group absent (g14; UCF101's "
            "trainlist01.txt lists v_HandStandPushups_g14_c01..c04, all train). In every other group "
            "the released clips run contiguously from c01, so if the paper's 6,845 are UCF101's videos "
            "of these classes, the other 4 are last clips of some groups; they are not identified here.",
        },
        "per_class": per_class,
        "classes": [{"index": i, "name": n} for i, n in enumerate(names)],
        "video_columns": ["video_id", "class_index", "group"],
        "videos": rows,
    }


def _archived_videos(tarball: Path, feature_dir: str, verify_arrays: bool) -> list[tuple[str, str, int]]:
    """``(class name, video id, group)`` of every feature file in CCL's archive, in archive order;
    anything else in it (but macOS ``._*`` files) is refused, by name."""
    found: list[tuple[str, str, int]] = []
    with tarfile.open(tarball, "r:*") as tar:
        for member in tar:
            parts = member.name.split("/")
            if not member.isfile() or _IGNORED_NAMES.match(parts[-1]):
                continue
            if len(parts) != 3 or parts[0] != feature_dir or not parts[2].endswith(".npy"):
                raise ValueError(f"unexpected member in {tarball.name}: {member.name}")
            cls, video_id = parts[1], parts[2][: -len(".npy")]
            match = _UCF_VIDEO_ID.match(video_id)
            if match is None or match["cls"].lower() != cls.lower():
                raise ValueError(f"file name does not match its class folder: {member.name}")
            if verify_arrays:
                arr = np.load(io.BytesIO(tar.extractfile(member).read()), allow_pickle=False)
                if arr.dtype != np.float32 or arr.shape != (512,) or not np.isfinite(arr).all():
                    raise ValueError(f"{member.name}: {arr.dtype} {arr.shape}, expected finite float32 (512,)")
            found.append((cls, video_id, int(match["group"])))
    return found


# --------------------------------------------------------------------------- paper numbers
@lru_cache(maxsize=1)
def _read_paper_results() -> pd.DataFrame:
    path = manifest_path("paper_results.csv")
    df = pd.read_csv(path, dtype={c: str for c in PAPER_RESULTS_COLUMNS[:4]}, keep_default_na=False)
    if list(df.columns) != PAPER_RESULTS_COLUMNS:
        raise ValueError(f"{path}: columns {list(df.columns)} != {PAPER_RESULTS_COLUMNS}")
    df["value"] = pd.to_numeric(df["value"], errors="raise").astype(float)
    if df["value"].isna().any() or (df[PAPER_RESULTS_COLUMNS[:4]] == "").any().any():
        raise ValueError(f"{path}: empty cells")
    dup = df.duplicated(PAPER_RESULTS_COLUMNS[:4])
    if dup.any():
        raise ValueError(f"{path}: duplicate keys:\n{df[dup]}")
    missing = set(PAPER_TABLES) - set(df["table"])
    if missing:
        raise ValueError(f"{path}: tables missing: {sorted(missing)}")
    return df


def paper_results() -> pd.DataFrame:
    """The paper's numbers (Tables 1-6), columns table, setting, method, metric, value (percent)."""
    return _read_paper_results().copy()


def _key(x) -> str:
    """Normalise a lookup key: numbers as ``str(float)`` ("4" -> "4.0"), text lower-case."""
    if isinstance(x, (int, float, np.number)) and not isinstance(x, bool):
        return str(float(x))
    s = str(x).strip()
    try:
        return str(float(s))
    except ValueError:
        return s.lower()


def paper_value(table, setting, method, metric) -> float | None:
    """One number of the paper, or None when the paper has no such cell.

    Case-insensitive; ``table`` may be ``"table1"`` or ``1``; Table 6 methods may be numbers
    (``paper_value("table6", "alpha2", 1.3, "top1") == 71.2``).
    """
    if isinstance(table, int):
        table = f"table{table}"
    df = _read_paper_results()
    want = [_key(table), _key(setting), _key(method), _key(metric)]
    mask = np.ones(len(df), dtype=bool)
    for col, w in zip(PAPER_RESULTS_COLUMNS[:4], want, strict=True):
        mask &= df[col].map(_key).to_numpy() == w
    hits = df.loc[mask, "value"]
    return float(hits.iloc[0]) if len(hits) else None


# --------------------------------------------------------------------------- feature checks
@dataclass
class CheckReport:
    """Result of :func:`check_ccl_features`. Paths are relative to ``root`` (posix style)."""

    root: str
    manifest: str
    split: str | None
    expected: int = 0
    ok: int = 0
    missing: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)
    unreadable: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)

    @property
    def has_problems(self) -> bool:
        return bool(self.missing or self.extra or self.unreadable)

    def summary(self) -> str:
        """One line of counts."""
        split = self.split or "all"
        return (
            f"{self.manifest} features in {self.root} (split={split}): {self.ok}/{self.expected} ok, "
            f"{len(self.missing)} missing, {len(self.unreadable)} unreadable, {len(self.extra)} extra"
        )

    def describe(self, limit: int = 20) -> str:
        """Summary plus the first ``limit`` problems of each kind, by file name."""
        lines = [self.summary()]
        for title, items in (
            ("missing (in the manifest, not on disk)", self.missing),
            ("unreadable or corrupt", [f"{p}: {r}" for p, r in self.unreadable]),
            ("extra (on disk, not in the manifest)", self.extra),
        ):
            if items:
                lines.append(f"{title}: {len(items)}")
                lines += [f"  {x}" for x in items[:limit]]
                if len(items) > limit:
                    lines.append(f"  ... and {len(items) - limit} more")
        return "\n".join(lines)

    def raise_if_problems(self, allow_extra: bool = False) -> None:
        """Raise ValueError listing the problems and the fix (extras tolerated if ``allow_extra``)."""
        if not (self.missing or self.unreadable or (self.extra and not allow_extra)):
            return
        fix = (
            "Fix: each video needs <root>/<ClassName>/<video_id>.npy holding a finite float32 array "
            "of shape (512,) (the CCL layout, see data_manifests/README.md). Re-extract or re-download "
            "the missing/corrupt files (CCL release: datasets/UCF101/audiocnn14embed512_features.tar.gz, "
            "sha256 in data_manifests/ucf51.json), move extra files out of the folder, or call "
            "load_ccl_features(..., allow_missing=True) to go on without the listed videos "
            "(they are then reported, not silently dropped)."
        )
        raise ValueError(self.describe() + "\n" + fix)


def _read_feature(path: Path, shape: tuple, dtype: np.dtype) -> tuple[np.ndarray | None, str | None]:
    """Load one feature file; return (array, None) or (None, reason)."""
    try:
        arr = np.load(path, allow_pickle=False)
    except Exception as exc:  # truncated, empty, not a .npy, pickled object ...
        return None, f"np.load failed ({type(exc).__name__}: {exc})"
    if not isinstance(arr, np.ndarray):
        arr.close()
        return None, "not a single .npy array (an .npz archive?)"
    if arr.shape != shape:
        return None, f"shape {arr.shape}, expected {shape}"
    if arr.dtype != dtype:
        return None, f"dtype {arr.dtype}, expected {dtype}"
    bad = int((~np.isfinite(arr)).sum())
    if bad:
        return None, f"{bad} NaN/inf values"
    return arr, None


def _feature_root(root: Path, m: dict, names: list[str]) -> Path:
    """Accept either the class-folder level or its parent holding ``audiocnn14embed512_features``."""
    sub = root / m.get("source", {}).get("feature_dir", "")
    if sub != root and sub.is_dir() and not any((root / n).is_dir() for n in names):
        return sub
    return root


def _scan(root, manifest, split):
    """Check a CCL feature folder; return (report, table of expected videos, loaded arrays by row)."""
    m = load_manifest(manifest) if isinstance(manifest, str) else manifest
    name = m.get("name", str(manifest))
    root = Path(root).expanduser()
    if not root.is_dir():
        raise FileNotFoundError(f"feature folder not found: {root}")
    everything = manifest_videos(m)
    table = everything if split is None else manifest_videos(m, split)
    root = _feature_root(root, m, class_names(m))
    fmt = m["feature_format"]
    shape, dtype = tuple(fmt["shape"]), np.dtype(fmt["dtype"])

    report = CheckReport(root=str(root), manifest=name, split=split, expected=len(table))
    known = set(everything["relpath"])
    for path in sorted(root.rglob("*")):
        if path.is_file() and not any(_IGNORED_NAMES.match(p) for p in path.relative_to(root).parts):
            rel = path.relative_to(root).as_posix()
            if rel not in known:
                report.extra.append(rel)

    arrays: dict[int, np.ndarray] = {}
    for i, rel in enumerate(table["relpath"]):
        path = root / rel
        if not path.is_file():
            report.missing.append(rel)
            continue
        arr, reason = _read_feature(path, shape, dtype)
        if reason:
            report.unreadable.append((rel, reason))
        else:
            arrays[i] = arr
            report.ok += 1
    return report, table, arrays


def check_ccl_features(root, manifest: str | dict = "ucf51", split: str | None = None) -> CheckReport:
    """Walk a CCL-format feature folder and report missing, extra and unreadable files by name.

    ``root`` is the folder holding ``<ClassName>/<video_id>.npy`` (or its parent containing
    ``audiocnn14embed512_features/``). ``split`` restricts the expected files to ``"train"`` or
    ``"test"``; files of the other split are then neither expected nor "extra".
    """
    return _scan(root, manifest, split)[0]


def load_ccl_features(
    root,
    manifest: str | dict = "ucf51",
    split: str | None = None,
    allow_missing: bool = False,
    return_report: bool = False,
):
    """Load CCL-format features in manifest order: ``(X, labels, video_ids, splits)``.

    X is float32 (n, 512), labels int64 class indices, video_ids a list of str, splits an array
    of "train"/"test". The folder is checked first: missing or unreadable files raise ValueError
    (no silent subset) unless ``allow_missing=True``, which skips them with a warning listing
    them. Extra files only warn. ``return_report=True`` appends the :class:`CheckReport`.
    """
    report, table, arrays = _scan(root, manifest, split)
    if not allow_missing:
        report.raise_if_problems(allow_extra=True)
    if report.has_problems:
        skipped = "skipped" if allow_missing else "ignored"
        warnings.warn(f"load_ccl_features: problems {skipped}:\n" + report.describe(), stacklevel=2)
    if not arrays:
        raise ValueError("no feature could be loaded:\n" + report.describe())
    keep = sorted(arrays)
    X = np.stack([arrays[i] for i in keep]).astype(np.float32, copy=False)
    sub = table.iloc[keep]
    out = (
        X,
        sub["class_index"].to_numpy(dtype=np.int64),
        sub["video_id"].tolist(),
        sub["split"].to_numpy(dtype=str),
    )
    return (*out, report) if return_report else out
