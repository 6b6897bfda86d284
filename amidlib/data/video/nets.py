"""Networks of the video tasks (paper §4.2): the R(2+1)D-18 student and the CNN14 auxiliary wiring.

- Student S: torchvision's ``r2plus1d_18`` (Tran et al. 2018) with **every ReLU replaced by
  LeakyReLU** ("we change all activation functions to Leaky ReLU for adversarial learning", §4.2;
  slope :data:`amidlib.core.models.NEG_SLOPE`) and its ``fc`` removed, so it outputs the 512-d
  representation S (the paper's dim 512). Input (B, 3, T, H, W), Kinetics-normalised clips (see
  :mod:`amidlib.data.video.decode`). Weights: random by default (the paper does not say the student is
  pre-trained); a local torchvision Kinetics-400 file can be loaded, sha256-checked.
- A tiny 3D CNN (``student="tiny3d"``) for the CPU-sized tier and the tests.
- Auxiliary extractor: the frozen CNN14 (:mod:`amidlib.data.video.audio`). With the feature cache (the default
  data path) the nets see cached CNN14 features and the auxiliary extractor inside
  :class:`~amidlib.core.models.CrossModalNets` is the identity; passing the extractor itself runs it on
  raw waveforms in every step (no cache).
"""
from __future__ import annotations

import os
from pathlib import Path

import torch
from torch import nn

from amidlib.core.models import NEG_SLOPE, CrossModalNets
from amidlib.data.manifests import sha256_file

__all__ = [
    "leaky_relu_everywhere",
    "r2plus1d_18_student",
    "Tiny3DCNN",
    "video_student",
    "build_video_nets",
    "MultiClip",
    "R2PLUS1D_18_KINETICS",
]

#: torchvision's Kinetics-400 weights of r2plus1d_18 (not downloaded by amidlib; the 8 hex digits in
#: the file name are the start of its sha256, which :func:`r2plus1d_18_student` checks).
R2PLUS1D_18_KINETICS = {"file": "r2plus1d_18-91a641e6.pth",
                        "url": "https://download.pytorch.org/models/r2plus1d_18-91a641e6.pth"}


def leaky_relu_everywhere(module: nn.Module, negative_slope: float = NEG_SLOPE) -> int:
    """Replace every ``nn.ReLU`` submodule (recursively, in place) by ``nn.LeakyReLU``; returns the count.

    Only modules are replaced: a network that calls ``F.relu`` in its ``forward`` needs its own
    change (torchvision's video ResNets use ``nn.ReLU`` modules only).
    """
    replaced = 0
    for name, child in list(module.named_children()):
        if isinstance(child, nn.ReLU):
            setattr(module, name, nn.LeakyReLU(negative_slope, inplace=child.inplace))
            replaced += 1
        else:
            replaced += leaky_relu_everywhere(child, negative_slope)
    return replaced


def r2plus1d_18_student(weights: str | os.PathLike | None = None, sha256: str | None = None,
                        negative_slope: float = NEG_SLOPE) -> nn.Module:
    """torchvision ``r2plus1d_18``, all ReLU → LeakyReLU, ``fc`` = Identity: (B,3,T,H,W) → (B, 512).

    ``weights``: optional local torchvision checkpoint (e.g. ``r2plus1d_18-91a641e6.pth``), verified
    against ``sha256`` (or, when not given, against the hash prefix in a torchvision file name) before
    loading; the ``fc`` entries are dropped.
    """
    from torchvision.models.video import r2plus1d_18

    net = r2plus1d_18(weights=None)
    if weights is not None:
        path = Path(weights).expanduser()
        if not path.is_file():
            raise FileNotFoundError(
                f"R(2+1)D-18 weights not found: {path}. amidlib downloads nothing: get "
                f"{R2PLUS1D_18_KINETICS['file']} from {R2PLUS1D_18_KINETICS['url']}, or train from scratch "
                "(weights=None)."
            )
        actual = sha256_file(path)
        stem_hash = path.stem.rsplit("-", 1)[-1] if "-" in path.stem else ""
        if sha256 is not None:
            ok = actual == sha256.lower()
        elif len(stem_hash) >= 8 and all(c in "0123456789abcdef" for c in stem_hash):
            ok = actual.startswith(stem_hash)
        else:
            raise ValueError(f"no sha256 to verify {path} against (its sha256 is {actual}); pass sha256=...")
        if not ok:
            raise ValueError(f"sha256 mismatch for {path}: file has {actual}, expected {sha256 or stem_hash + '...'}")
        state = torch.load(path, map_location="cpu", weights_only=True)
        state = {k: v for k, v in state.items() if not k.startswith("fc.")}
        net.fc = nn.Identity()
        net.load_state_dict(state, strict=True)
    net.fc = nn.Identity()
    leaky_relu_everywhere(net, negative_slope)
    net.out_dim = 512
    return net


class Tiny3DCNN(nn.Module):
    """A small 3D CNN for CPU runs: 3 conv stages (Conv3d + BatchNorm + LeakyReLU, downsampling),
    global average pooling, linear to ``out_dim``. Input (B, 3, T, H, W) of any size ≥ 8×8."""

    def __init__(self, out_dim: int = 64, widths: tuple[int, ...] = (16, 32, 64), negative_slope: float = NEG_SLOPE):
        super().__init__()
        layers: list[nn.Module] = []
        c_in = 3
        for i, c in enumerate(widths):
            stride = (1, 2, 2) if i == 0 else (2, 2, 2)
            layers += [nn.Conv3d(c_in, c, 3, stride=stride, padding=1, bias=False), nn.BatchNorm3d(c),
                       nn.LeakyReLU(negative_slope, inplace=True)]
            c_in = c
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool3d(1)
        self.fc = nn.Linear(c_in, out_dim)
        self.out_dim = out_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.pool(self.features(x)).flatten(1))


class MultiClip(nn.Module):
    """The student extractor on one clip per video (B, 3, T, H, W), or on K test clips per video
    (B, K, 3, T, H, W): then S is the mean of the K clips' features. The classifier on S is linear,
    so the student's logits are the mean of the K clips' logits (CCL averages the clips' softmax
    outputs; the retrieval embedding is the mean feature). The clips go through the network in one
    batch of B·K."""

    def __init__(self, net: nn.Module):
        super().__init__()
        self.net = net
        self.out_dim = getattr(net, "out_dim", None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 6:
            b, k = x.shape[:2]
            feats = self.net(x.flatten(0, 1))
            return feats.view(b, k, -1).mean(1)
        return self.net(x)


def video_student(name: str = "r2plus1d_18", dim: int = 512, **kwargs) -> nn.Module:
    """The student extractor whose output is S (dim ``dim``).

    ``"r2plus1d_18"``: 512-d by construction; another ``dim`` appends Linear(512, dim) + LeakyReLU.
    ``"tiny3d"``: :class:`Tiny3DCNN` with ``out_dim = dim`` (kwargs: ``widths``).
    """
    if name == "r2plus1d_18":
        net = r2plus1d_18_student(**kwargs)
        if dim != 512:
            net = nn.Sequential(net, nn.Linear(512, dim), nn.LeakyReLU(NEG_SLOPE))
        return net
    if name == "tiny3d":
        return Tiny3DCNN(out_dim=dim, **kwargs)
    raise ValueError(f"unknown video student {name!r}; valid: 'r2plus1d_18', 'tiny3d'")


def build_video_nets(
    n_classes: int,
    aux_feat_dim: int,
    dim: int = 512,
    student: str = "r2plus1d_18",
    aux_extractor: nn.Module | None = None,
    teacher_hidden: int | None = None,
    **student_kwargs,
) -> CrossModalNets:
    """S, M, A and the shared classifier for video + audio (paper Fig 2, §4.2).

    ``aux_extractor``: None (default) when the batches carry cached CNN14 features (identity inside
    the nets); the frozen :class:`~amidlib.data.video.audio.AudioExtractor` itself when batches carry waveforms.
    ``aux_feat_dim``: the feature size the teacher head and A's projection receive (512 for
    Cnn14_emb512 / CCL features, 2048 for Cnn14). ``teacher_hidden``: width of M's 2-layer MLP
    (None = ``dim``).
    """
    return CrossModalNets(
        target_extractor=MultiClip(video_student(student, dim, **student_kwargs)),
        aux_extractor=aux_extractor if aux_extractor is not None else nn.Identity(),
        target_feat_dim=dim,
        aux_feat_dim=aux_feat_dim,
        dim=dim,
        n_classes=n_classes,
        teacher_hidden=teacher_hidden,
    )
