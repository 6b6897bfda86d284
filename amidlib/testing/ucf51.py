"""A miniature UCF51 in the paper profile's data-root layout: generated clips with sound and
CCL-format audio features, for the tests and the GPU check (``scripts/gpu_check.sh``)."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from amidlib.data.av_tier import make_av_clips

__all__ = ["make_ucf51_layout"]


def make_ucf51_layout(data_root: str | os.PathLike, *, seed: int = 0, **clip_args) -> Path:
    """A miniature UCF51 in the paper profile's data-root layout (:mod:`amidlib.data.paper_root`):
    generated clips in ``ucf51/videos/<Class>/<id>.mp4`` and CCL-format 512-d audio features (noise
    plus a class signal) in ``ucf51/audiocnn14embed512_features/<Class>/<id>.npy``. Returns the path of
    its manifest, written beside ``ucf51/`` (inside the video folder it would be an extra file); pass
    it as the ``manifest`` data option in place of ``data_manifests/ucf51.json``.
    ``clip_args`` go to :func:`make_av_clips`."""
    data_root = Path(data_root).expanduser()
    written = make_av_clips(data_root / "ucf51/videos", seed=seed, **clip_args)
    manifest = data_root / "manifest_ucf51_generated.json"
    os.replace(written, manifest)  # a rename of the finished file make_av_clips wrote atomically
    m = json.loads(manifest.read_text(encoding="utf-8"))
    rng = np.random.default_rng(seed)
    for vid, c, _group in m["videos"]:
        path = data_root / "ucf51/audiocnn14embed512_features" / m["classes"][c]["name"] / f"{vid}.npy"
        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, (rng.normal(size=512) + 3.0 * np.eye(512)[c]).astype(np.float32))
    return manifest
