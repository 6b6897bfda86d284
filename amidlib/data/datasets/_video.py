"""What the video datasets (the generated tier, UCF51, ActivityNet) share: :class:`VideoDataset`, clips
of a video and its audio through the clip loader of :mod:`amidlib.data.video.datasets`, on the
dataset's official split, trained by the video nets. Not a dataset itself (a private module of the
package: :mod:`amidlib.data.datasets` registers only the modules without a leading underscore).
"""
from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from amidlib.data.datasets.base import Dataset, freeze, thaw

__all__ = ["VideoDataset", "VIDEO_CODE"]

#: the code every video run's numbers depend on (decoding, audio features, their caches, the manifests)
VIDEO_CODE = ("data/video", "data/cache.py", "data/manifests.py", "data/datasets/_video.py")


class VideoDataset(Dataset):
    """A dataset of videos with audio, kept per process. A subclass (or a base beside this one, as
    :class:`~amidlib.data.datasets._paper.PaperDataset`) defines ``open(options)``: the ``(train, test)``
    :class:`~amidlib.data.video.datasets.VideoAudioDataset` s of a run's loader options."""

    kind = "video"
    views = (("video",), ("audio",))
    all_views = ("video", "audio")
    preset = "paper_video"
    official_split = True  # UCF101 split 1, ActivityNet train/val, the tier's groups

    def opened(self, options: Mapping[str, Any]):
        """:meth:`open`, once per process and options (the frozen extractors' features then come from the cache)."""
        return _opened(self, freeze(options))

    def load_split(self, target, auxiliary, split, options: Mapping[str, Any]):
        return self.opened(options)

    def run_args(self, train, test, options: Mapping[str, Any]) -> dict[str, Any]:
        from amidlib.data.video.datasets import video_run_args

        return video_run_args(train, test)

    def class_names(self, options: Mapping[str, Any]) -> list[str]:
        return list(self.opened(options)[0].class_names)

    def prepare(self, options: Mapping[str, Any]) -> None:
        self.opened(options)

    def usage(self, options: Mapping[str, Any]) -> str | None:
        """"used 13,xxx of 14,950 videos (left out: …)"; the same line is in each run's record
        (``config["data"]["videos"]["line"]``)."""
        from amidlib.data.video.datasets import videos_used

        train, test = self.opened(options)
        train.sync_failures()
        return videos_used(train, test)["line"]


@functools.lru_cache(maxsize=4)
def _opened(dataset: VideoDataset, frozen: str):
    return dataset.open(thaw(frozen))
