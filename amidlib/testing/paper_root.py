"""A miniature data root in the paper profile's layout (:mod:`amidlib.data.paper_root`): UCF51-style
generated clips with CCL-format audio features, ActivityNet-style flat videos with a v1.3 annotation
file, an IEMOCAP-shaped tree, and local weights (narrow random CNN14, tiny wav2vec 2.0 and BERT,
DenseNet-121 under its real file name) with a ``SHA256SUMS`` file. For the tests.

Every weight file is written as tensors and plain data only (``torch.save`` of state dicts), so it
loads with ``torch.load(weights_only=True)``, as a real data root's files must: the ``SHA256SUMS``
written here checks the bytes, it allows no full unpickle (``tests/test_weights_pin.py``)."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

import torch

from amidlib.data.av_tier import make_av_clips
from amidlib.data.paper_root import CNN14_FILE, DENSENET_FILE
from amidlib.testing.iemocap import make_mini_iemocap, mini_vocab
from amidlib.testing.ucf51 import make_ucf51_layout

__all__ = ["make_mini_paper_root"]


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_mini_paper_root(root: str | os.PathLike, datasets: Iterable[str] = ("ucf51", "activitynet", "iemocap"),
                         seed: int = 0) -> dict:
    """Write the ``datasets`` (and the weights they need) under ``root``. Returns ``root``, the UCF51
    ``manifest`` (the ``manifest`` data option of ucf51) and ``iemocap_counts`` (the ``expected``
    data option of iemocap), None for a dataset not written."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    datasets = set(datasets)
    out = {"root": root, "manifest": None, "iemocap_counts": None}
    if "ucf51" in datasets:
        out["manifest"] = make_ucf51_layout(root, n_classes=3, per_class=4, test_per_class=1, size=32, seed=seed)
    if "activitynet" in datasets:  # flat <video_id>.mp4 files; training -> train, validation -> test
        with tempfile.TemporaryDirectory(prefix="anet_src_") as src:
            anet = make_av_clips(src, n_classes=3, per_class=4, test_per_class=1, size=32, seed=seed + 1)
            a = json.loads(anet.read_text())
            database = {}
            (root / "activitynet/videos").mkdir(parents=True, exist_ok=True)
            for i, (vid, c, group) in enumerate(a["videos"]):
                name = a["classes"][c]["name"]
                new_id = f"anet{i:03d}"
                shutil.move(anet.parent / name / f"{vid}.mp4", root / "activitynet/videos" / f"{new_id}.mp4")
                database[new_id] = {"subset": "validation" if group == 1 else "training", "duration": 1.0,
                                    "annotations": [{"label": name, "segment": [0.0, 1.0]}]}
        (root / "activitynet/activity_net.v1-3.min.json").write_text(
            json.dumps({"version": "VERSION 1.3", "database": database}))
    if "iemocap" in datasets:
        out["iemocap_counts"] = make_mini_iemocap(root / "iemocap", utterances_per_session=4, excluded_per_session=1,
                                                  seed=seed)["counts"]

    weights = root / "weights"
    weights.mkdir(exist_ok=True)
    sums = []
    torch.manual_seed(seed)
    if datasets & {"activitynet"}:
        from amidlib.data.video.audio import CNN14

        cnn14 = weights / CNN14_FILE  # a narrow CNN14 (8 base channels), random weights, in the PANNs format
        torch.save({"model": CNN14(embedding_dim=512, base_channels=8).state_dict()}, cnn14)
        sums.append(f"{_sha(cnn14)}  {CNN14_FILE}")
    if "iemocap" in datasets:
        from torchvision.models import densenet121
        from transformers import BertConfig, BertModel, BertTokenizer, Wav2Vec2Config, Wav2Vec2Model

        Wav2Vec2Model(Wav2Vec2Config(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                                     conv_dim=(16, 16), conv_stride=(5, 4), conv_kernel=(10, 4),
                                     num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2)
                      ).save_pretrained(weights / "wav2vec2-base")
        bert = weights / "bert-base-uncased"
        bert.mkdir(parents=True, exist_ok=True)
        (bert / "vocab.txt").write_text("\n".join(mini_vocab()) + "\n")
        BertTokenizer(str(bert / "vocab.txt")).save_pretrained(bert)
        BertModel(BertConfig(vocab_size=len(mini_vocab()), hidden_size=24, num_hidden_layers=1, num_attention_heads=2,
                             intermediate_size=48, max_position_embeddings=64)).save_pretrained(bert)
        dn = weights / DENSENET_FILE  # the real file name, random weights: verified through SHA256SUMS
        torch.save(densenet121().state_dict(), dn)
        sums.insert(0, f"{_sha(dn)}  {DENSENET_FILE}")
    (weights / "SHA256SUMS").write_text("".join(line + "\n" for line in sums))
    return out
