"""The generated audio-visual tier (:mod:`amidlib.data.av_tier`): real mp4 files of moving shapes with
class tones, written on first use, decoded by PyAV; the paper's video pipeline end to end on a CPU.

Split ``("official",)``: the tier's groups (like UCF101's split 1). Loader options: the
:func:`~amidlib.data.av_tier.make_av_clips` arguments (what is generated), ``root`` (the folder it is
written to) and ``cache`` (the frozen audio extractor's features).
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from amidlib.data.datasets._video import VIDEO_CODE, VideoDataset
from amidlib.data.datasets.base import register

__all__ = ["AvTier"]


@register
class AvTier(VideoDataset):
    name = "av_tier"
    title = "generated audio-visual clips (amidlib.data.av_tier)"
    class_noun = "shape and tone"
    code = ("data/av_tier.py", *VIDEO_CODE)

    def location(self, data_root: Path | None, feature_dir: Path) -> dict[str, str]:
        # generated, so kept with the features unless the user keeps data in a data root
        root = Path(data_root) / "av_tier" if data_root else Path(feature_dir) / "av_tier_clips"
        return {"root": str(root), "cache": str(Path(feature_dir) / "av_tier")}

    def open(self, options: Mapping[str, Any]):
        from amidlib.data.av_tier import av_tier_datasets, make_av_clips

        opts = dict(options)
        root, cache = opts.pop("root", ""), opts.pop("cache", None)
        if not (Path(root) / "manifest.json").is_file():
            make_av_clips(root, **opts)
        return av_tier_datasets(root, cache_dir=cache)
