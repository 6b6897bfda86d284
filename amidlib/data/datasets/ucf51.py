"""UCF51: the 51 classes of UCF101 whose videos have audio, split 1 (``data_manifests/ucf51.json``),
from the user's data root::

    ucf51/videos/<Class>/v_<Class>_gXX_cYY.avi         the videos
    ucf51/audiocnn14embed512_features/<Class>/<id>.npy  optional: CCL's CNN14 features (else CNN14 runs)
    weights/Cnn14_emb512_mAP=0.420.pth                  PANNs CNN14 (AudioSet), unless CCL features are given

Loader options (:func:`amidlib.data.video.datasets.video_audio_datasets`): ``on_bad``, ``manifest``
(another UCF-style manifest; tests use a generated one), ``frames_root`` (seekable copies of the videos,
:mod:`amidlib.data.video.transcode`), the clip (``clip``, ``test_clips``, ``train_scale``).
"""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from amidlib.data.datasets._paper import CNN14_FILE, PaperDataset, expected_sha256, paper_clip
from amidlib.data.datasets._video import VIDEO_CODE, VideoDataset
from amidlib.data.datasets.base import register

__all__ = ["Ucf51"]


@register
class Ucf51(VideoDataset, PaperDataset):
    name = "ucf51"
    title = "UCF51 (UCF101 classes with audio, split 1)"
    class_noun = "action"
    paper_tables, paper_part = ("table1", "table2"), "UCF51 (Tables 1-2's UCF51 column)"
    code = ("data/datasets/_paper.py", *VIDEO_CODE)
    loader_parameters = ("on_bad", "frames_root")

    def needs(self, root: Path) -> list[tuple[Path, str]]:
        need = [(root / "ucf51/videos", "the UCF101 videos of the 51 classes, as <Class>/v_<Class>_gXX_cYY.avi")]
        if not (root / "ucf51/audiocnn14embed512_features").is_dir():
            need.append((root / "weights" / CNN14_FILE,
                         "PANNs CNN14 AudioSet checkpoint (or CCL's features in ucf51/audiocnn14embed512_features)"))
        return need

    def load_root(self, root: Path, cache_dir, on_bad: str, *, manifest, device: str, progress: bool,
                  options: Mapping[str, Any]):
        from amidlib.data.video.datasets import video_audio_datasets

        options = dict(options)
        options["clip"] = paper_clip(options.pop("clip", None), options.pop("test_clips", None),
                                     options.pop("train_scale", "default"))
        ccl = root / "ucf51/audiocnn14embed512_features"
        aux = ({"aux": "ccl", "ccl_root": ccl} if ccl.is_dir() else
               {"aux": "cnn14", "cnn14_checkpoint": root / "weights" / CNN14_FILE,
                "cnn14_sha256": expected_sha256(root, CNN14_FILE)})
        return video_audio_datasets(manifest or "ucf51", root / "ucf51/videos", cache_dir=cache_dir, on_bad=on_bad,
                                    device=device, progress=progress, **aux, **options)
