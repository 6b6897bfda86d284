"""uint8 clips to the device, augmented there: the same batches as augmenting in the workers.

On CUDA the loader (``device_transform``, its default there) has the workers send uint8 frames at the
decode size and each clip's augmentation box; crop, flip, RandomResizedCrop's resize and normalisation
then run on the GPU. Here the same code runs with the CPU as the device and must give the same numbers."""
from __future__ import annotations

import dataclasses

import pytest
import torch

from amidlib.data.video.clips import ClipSpec


@pytest.fixture(scope="module")
def tier(tmp_path_factory):
    from amidlib.data.av_tier import av_tier_datasets, make_av_clips

    root = tmp_path_factory.mktemp("augment_tier")
    make_av_clips(root, n_classes=2, per_class=4, seconds=2.0, seed=3)
    train, test = av_tier_datasets(root, cache_dir=root / "cache")
    # the paper's kind of clip: RandomResizedCrop for training, several test clips per video
    clip = ClipSpec(clip_len=4, resize=train.clip.resize, crop=train.clip.crop, test_clips=3, train_scale=(0.25, 1.0))
    for ds in (train, test):
        ds.clip = dataclasses.replace(clip)
    return train, test


@pytest.mark.parametrize("workers", [0, 1])
def test_augmenting_on_the_device_gives_the_workers_batches(tier, workers):
    from amidlib.data.video.loader import VideoLoader

    train, test = tier
    for ds, gen in ((train, lambda: torch.Generator().manual_seed(4)), (test, lambda: None)):
        there = list(VideoLoader(ds, num_workers=workers, device_transform=False).batches(3, gen()))
        here = list(VideoLoader(ds, num_workers=workers, device_transform=True).batches(3, gen()))
        assert len(here) == len(there) > 0
        for a, b in zip(here, there, strict=True):
            assert a.x_target.dtype == torch.float32 and a.x_target.shape == b.x_target.shape
            torch.testing.assert_close(a.x_target, b.x_target, rtol=0, atol=0)
            assert torch.equal(a.y, b.y) and torch.equal(a.index, b.index)
    assert here[0].x_target.shape[1:3] == (3, 3)  # (B, K clips, 3 channels, T, crop, crop)


def test_the_workers_send_uint8_frames_and_boxes(tier):
    train, _ = tier
    frames, box = train[(0, 11, True)][0]
    assert frames.dtype == torch.uint8 and frames.shape[1:] == (*train.clip.resize, 3)
    assert box.shape == (5,) and int(box[2]) <= train.clip.resize[0]
    torch.testing.assert_close(train.clip.apply(frames, box.tolist()), train[(0, 11)][0], rtol=0, atol=0)
