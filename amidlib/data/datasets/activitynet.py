"""ActivityNet v1.3, the videos that have audio, train/val, from the user's data root::

    activitynet/videos/<video_id>.mp4                   the videos (a real copy lacks some: left out, named)
    activitynet/activity_net.v1-3.min.json              the v1.3 annotation file
    weights/Cnn14_emb512_mAP=0.420.pth                  PANNs CNN14 (AudioSet)

Clips lie inside the annotated segments. Loader options
(:func:`amidlib.data.video.datasets.build_video_datasets`): ``on_bad``, the clip (``clip``,
``test_clips``, ``train_scale``).
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from amidlib.data.datasets._paper import CNN14_FILE, PaperDataset, expected_sha256, paper_clip
from amidlib.data.datasets._video import VIDEO_CODE, VideoDataset
from amidlib.data.datasets.base import register

__all__ = ["ActivityNet"]


@register
class ActivityNet(VideoDataset, PaperDataset):
    name = "activitynet"
    title = "ActivityNet v1.3 (videos with audio)"
    class_noun = "activity"
    paper_tables, paper_part = ("table1", "table2"), "ActivityNet (Tables 1-2's ActivityNet column)"
    code = ("data/datasets/_paper.py", *VIDEO_CODE)

    def needs(self, root: Path) -> list[tuple[Path, str]]:
        return [(root / "activitynet/videos", "ActivityNet v1.3 videos with audio, as <video_id>.mp4"),
                (root / "activitynet/activity_net.v1-3.min.json", "the ActivityNet v1.3 annotation file"),
                (root / "weights" / CNN14_FILE, "PANNs CNN14 AudioSet checkpoint")]

    def load_root(self, root: Path, cache_dir, on_bad: str, *, manifest, device: str, progress: bool,
                  options: Mapping[str, Any]):
        from amidlib.data.video.datasets import activitynet_table, build_video_datasets

        options = dict(options)
        options["clip"] = paper_clip(options.pop("clip", None), options.pop("test_clips", None),
                                     options.pop("train_scale", "default"))
        table, names, problems = activitynet_table(root / "activitynet/activity_net.v1-3.min.json",
                                                   root / "activitynet")
        return build_video_datasets(table, names, root / "activitynet", aux="cnn14",
                                    cnn14_checkpoint=root / "weights" / CNN14_FILE,
                                    cnn14_sha256=expected_sha256(root, CNN14_FILE),
                                    manifest_for_sha="activitynet", table_problems=problems, cache_dir=cache_dir,
                                    on_bad=on_bad, name="activitynet", device=device, progress=progress, **options)
