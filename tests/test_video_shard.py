"""Video batches under torchrun: each rank decodes only its share of the global batch.

Two gloo ranks on generated videos (the av tier) read the training batches through
:func:`amidlib.core.distributed.shard_batches`, as the training loop does, and all-gather their clips:
the gathered global batches equal the single process's (same clips, same augmentation, same labels and
indices), and each rank decoded half of the clips.
"""
from __future__ import annotations

import socket

import pytest
import torch
import torch.multiprocessing as mp

GLOBAL_BATCH = 4


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _epoch(root, seed: int, shard: bool) -> tuple[list, int]:
    """One training pass: [(x, y, index)] of each batch as this process sees it, and its video decodes."""
    from amidlib.core import distributed
    from amidlib.data.av_tier import av_tier_datasets
    from amidlib.data.cache import CALLS
    from amidlib.data.video.loader import VideoLoader

    train, _ = av_tier_datasets(root, cache_dir=root / "cache")
    loader = VideoLoader(train)
    before = CALLS["video_decode"]
    gen = torch.Generator().manual_seed(seed)
    source = distributed.shard_batches(loader, GLOBAL_BATCH, gen) if shard else loader.batches(GLOBAL_BATCH, gen, True)
    out = [(b.x_target, b.y, b.index) for b in source]
    return out, CALLS["video_decode"] - before


def _rank(rank: int, size: int, port: int, root, out) -> None:
    import os

    import torch.distributed as dist

    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    dist.init_process_group("gloo", rank=rank, world_size=size)
    try:
        batches, decodes = _epoch(root, seed=3, shard=True)
        gathered = []
        for x, y, index in batches:
            parts = [torch.empty_like(x) for _ in range(size)]
            dist.all_gather(parts, x)
            gathered.append((torch.cat(parts), y, index))
        torch.save({"batches": gathered, "decodes": decodes, "local": [len(x) for x, _, _ in batches]},
                   out / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


@pytest.fixture(scope="module")
def tier(tmp_path_factory):
    from amidlib.data.av_tier import av_tier_datasets, make_av_clips

    root = tmp_path_factory.mktemp("shard_tier")
    make_av_clips(root, n_classes=2, per_class=6, seconds=1.0, seed=1)
    av_tier_datasets(root, cache_dir=root / "cache")  # features cached once, before the ranks read them
    return root


def test_two_ranks_read_the_single_process_global_batches_and_decode_half_each(tier, tmp_path):
    single, single_decodes = _epoch(tier, seed=3, shard=False)
    assert len(single) >= 2
    mp.spawn(_rank, args=(2, _free_port(), tier, tmp_path), nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt") for r in range(2)]
    for r in ranks:
        assert r["local"] == [GLOBAL_BATCH // 2] * len(single)  # each rank holds its half of each batch's clips
        assert r["decodes"] * 2 == single_decodes  # and decoded only those
        for (x, y, index), (x1, y1, index1) in zip(r["batches"], single, strict=True):
            torch.testing.assert_close(x, x1, rtol=0, atol=0)
            assert torch.equal(y, y1) and torch.equal(index, index1)


def test_a_global_batch_that_does_not_divide_is_refused_by_name(tier):
    from amidlib.data.av_tier import av_tier_datasets
    from amidlib.data.video.loader import VideoLoader

    train, _ = av_tier_datasets(tier, cache_dir=tier / "cache")
    with pytest.raises(ValueError, match="batch of 3 clips does not divide by the 2 ranks"):
        next(VideoLoader(train).batches(3, torch.Generator().manual_seed(0), True, shard=(0, 2)))
    with pytest.raises(ValueError, match="every rank evaluates every item"):
        next(VideoLoader(train).batches(4, shard=(0, 2)))
