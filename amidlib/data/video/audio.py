"""The auxiliary audio extractor of the video tasks: log-mel front end + PANNs CNN14 (paper §4.2).

Paper §4.2 (following CCL, its ref. [9]): "a 1D-CNN14 pre-trained on AudioSet as the audio
extractor", frozen. This module writes the PANNs CNN14 architecture (Kong et al., 2020) in amidlib so
that its AudioSet checkpoints load as they are, with the front end done by torchaudio:

- waveform: mono, 32 kHz (PANNs' rate; :func:`amidlib.data.video.decode.load_audio` resamples);
- log-mel (:class:`LogMel`): |STFT|² with n_fft 1024 (Hann window, centred, reflect padding), hop 320
  (10 ms), 64 Slaney-normalised Slaney-scale mel bands from 50 Hz to 14 kHz, then
  10·log10(max(x, 1e-10)) — the settings of PANNs' torchlibrosa front end (ref 1.0, amin 1e-10, no
  top_db), so the pre-trained weights see the features they were trained on;
- CNN14 (:class:`CNN14`): BatchNorm over the 64 mel bins; 6 conv blocks (two 3×3 conv + BN + ReLU
  each) with 64, 128, 256, 512, 1024, 2048 channels, 2×2 average pooling after blocks 1–5;
  mean over frequency, then max + mean over time; ``fc1`` 2048 → ``embedding_dim`` + ReLU = the
  embedding. ``embedding_dim`` = 2048 is PANNs' ``Cnn14``; 512 is ``Cnn14_emb512``, the network
  whose embeddings CCL released for UCF51 (the 512-d features in ``data_manifests/ucf51.json``).
  ``fc_audioset`` (→ 527 AudioSet classes) is kept so checkpoints load strictly; it is not used.

The extractor keeps ReLU: the paper's "Leaky ReLU everywhere" applies to the networks it trains; a
frozen pre-trained network must keep the activations its weights were trained with.

Weights are never downloaded: :func:`load_cnn14` reads a local checkpoint, verifies its sha256 against
a value the caller passes (or a manifest holds) before loading it, and explains what to download when
the file is missing. Instead of CNN14, CCL-format pre-extracted features can be used
(:func:`amidlib.data.manifests.load_ccl_features`, or ``aux="ccl"`` in :mod:`amidlib.data.video.datasets`).
"""
from __future__ import annotations

import os
import pickle
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from amidlib.data.cache import count
from amidlib.data.manifests import sha256_file

__all__ = [
    "PANNS_LOGMEL",
    "PANNS_CHECKPOINTS",
    "LogMel",
    "CNN14",
    "AudioExtractor",
    "LogMelStats",
    "logmel_stats_extractor",
    "load_cnn14",
    "cnn14_untrained",
    "CheckpointError",
]

#: PANNs CNN14's front end (AudioSet training settings).
PANNS_LOGMEL = dict(sample_rate=32000, n_fft=1024, hop_length=320, n_mels=64, f_min=50.0, f_max=14000.0)

#: The PANNs AudioSet checkpoints this module loads, by file name (where to get them; no sha256 is
#: known to amidlib: the user passes it, or a manifest holds it under "checkpoints").
PANNS_CHECKPOINTS = {
    "Cnn14_emb512_mAP=0.420.pth": {"embedding_dim": 512,
                                   "url": "https://zenodo.org/record/3960586/files/Cnn14_emb512_mAP%3D0.420.pth"},
    "Cnn14_mAP=0.431.pth": {"embedding_dim": 2048,
                            "url": "https://zenodo.org/record/3960586/files/Cnn14_mAP%3D0.431.pth"},
}


class CheckpointError(ValueError):
    """A weights file is missing, fails its sha256 check or does not fit the network."""


# --------------------------------------------------------------------------- front end
class LogMel(nn.Module):
    """Waveform (B, n) → log-mel (B, 1, frames, n_mels), frames = 1 + n // hop_length (PANNs layout)."""

    def __init__(self, sample_rate: int = 32000, n_fft: int = 1024, hop_length: int = 320, n_mels: int = 64,
                 f_min: float = 50.0, f_max: float = 14000.0, amin: float = 1e-10):
        super().__init__()
        import torchaudio

        self.config = dict(sample_rate=int(sample_rate), n_fft=int(n_fft), hop_length=int(hop_length),
                           n_mels=int(n_mels), f_min=float(f_min), f_max=float(f_max), amin=float(amin))
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=sample_rate, n_fft=n_fft, win_length=n_fft, hop_length=hop_length, f_min=f_min,
            f_max=f_max, n_mels=n_mels, window_fn=torch.hann_window, power=2.0, center=True, pad_mode="reflect",
            norm="slaney", mel_scale="slaney",
        )
        self.amin = amin

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        if wave.dim() == 1:
            wave = wave.unsqueeze(0)
        spec = self.mel(wave.float())  # (B, n_mels, frames)
        return (10.0 * torch.log10(spec.clamp(min=self.amin))).transpose(1, 2).unsqueeze(1)

    def settings(self) -> dict:
        return dict(self.config)


# --------------------------------------------------------------------------- CNN14
class ConvBlock(nn.Module):
    """Two 3×3 conv (no bias) + BatchNorm + ReLU, then average pooling (PANNs' ConvBlock)."""

    def __init__(self, in_channels: int, out_channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=False)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(out_channels)
        self.bn2 = nn.BatchNorm2d(out_channels)

    def forward(self, x: torch.Tensor, pool: tuple[int, int]) -> torch.Tensor:
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        return F.avg_pool2d(x, pool) if pool != (1, 1) else x


class CNN14(nn.Module):
    """PANNs CNN14 (see module doc). ``forward(wave (B, n))`` → embedding (B, embedding_dim).

    ``base_channels`` = 64 is CNN14 (64 → 2048 channels, ≈80 M parameters); smaller values give a
    scaled-down network for CPU tests (channels base·(1, 2, 4, 8, 16, 32), fc1 from 32·base).
    Inputs shorter than ``min_seconds`` are zero-padded (5 poolings need ≥ 32 frames).
    """

    def __init__(self, embedding_dim: int = 2048, classes_num: int = 527, base_channels: int = 64,
                 min_seconds: float = 0.5, **logmel):
        super().__init__()
        settings = dict(PANNS_LOGMEL)
        settings.update(logmel)
        self.logmel = LogMel(**settings)
        n_mels = settings["n_mels"]
        self.bn0 = nn.BatchNorm2d(n_mels)
        widths = [base_channels * m for m in (1, 2, 4, 8, 16, 32)]
        self.conv_block1 = ConvBlock(1, widths[0])
        self.conv_block2 = ConvBlock(widths[0], widths[1])
        self.conv_block3 = ConvBlock(widths[1], widths[2])
        self.conv_block4 = ConvBlock(widths[2], widths[3])
        self.conv_block5 = ConvBlock(widths[3], widths[4])
        self.conv_block6 = ConvBlock(widths[4], widths[5])
        self.fc1 = nn.Linear(widths[5], embedding_dim)
        self.fc_audioset = nn.Linear(embedding_dim, classes_num)
        self.embedding_dim = int(embedding_dim)
        self.base_channels = int(base_channels)
        self.sample_rate = int(settings["sample_rate"])
        self.min_samples = int(round(min_seconds * self.sample_rate))

    def forward_logmel(self, x: torch.Tensor) -> torch.Tensor:
        """Log-mel (B, 1, frames, n_mels) → embedding (B, embedding_dim). Dropout is off in eval()."""
        x = self.bn0(x.transpose(1, 3)).transpose(1, 3)
        for i, block in enumerate((self.conv_block1, self.conv_block2, self.conv_block3,
                                   self.conv_block4, self.conv_block5, self.conv_block6)):
            x = block(x, (2, 2) if i < 5 else (1, 1))
            x = F.dropout(x, p=0.2, training=self.training)
        x = x.mean(dim=3)  # over frequency
        x = x.max(dim=2).values + x.mean(dim=2)  # over time
        x = F.dropout(x, p=0.5, training=self.training)
        return F.relu(self.fc1(x))

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        if wave.dim() == 1:
            wave = wave.unsqueeze(0)
        if wave.shape[-1] < self.min_samples:
            wave = F.pad(wave, (0, self.min_samples - wave.shape[-1]))
        return self.forward_logmel(self.logmel(wave))

    def settings(self) -> dict:
        return {"logmel": self.logmel.settings(), "embedding_dim": self.embedding_dim,
                "base_channels": self.base_channels, "min_samples": self.min_samples}


# --------------------------------------------------------------------------- frozen extractors
class AudioExtractor(nn.Module):
    """A frozen audio extractor with what the feature cache keys on: ``name``, ``weights_sha256``,
    ``sample_rate``, ``dim``, ``settings()``. ``embed(wave)`` maps one mono waveform (at
    ``sample_rate``) to a numpy vector and counts ``CALLS["aux_extractor"]``.
    """

    def __init__(self, net: nn.Module, name: str, weights_sha256: str, dim: int, sample_rate: int):
        super().__init__()
        self.net = net.requires_grad_(False).eval()
        self.name, self.weights_sha256, self.dim, self.sample_rate = name, weights_sha256, int(dim), int(sample_rate)

    def train(self, mode: bool = True):
        super().train(False)  # frozen: always eval (no dropout, BN running statistics kept)
        return self

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        count("aux_extractor", wave.shape[0] if wave.dim() > 1 else 1)
        with torch.no_grad():
            return self.net(wave)

    @torch.no_grad()
    def embed(self, wave: np.ndarray, device: str | torch.device = "cpu") -> np.ndarray:
        x = torch.as_tensor(np.ascontiguousarray(wave, dtype=np.float32), device=device).unsqueeze(0)
        return self.forward(x)[0].float().cpu().numpy()

    def settings(self) -> dict:
        inner = self.net.settings() if hasattr(self.net, "settings") else {}
        return {"name": self.name, "sample_rate": self.sample_rate, "dim": self.dim, **inner}


class LogMelStats(nn.Module):
    """A parameter-free audio extractor for the CPU tier: per-band mean and std of the log-mel (2·n_mels)."""

    def __init__(self, **logmel):
        super().__init__()
        settings = dict(PANNS_LOGMEL)
        settings.update(logmel)
        self.logmel = LogMel(**settings)

    def forward(self, wave: torch.Tensor) -> torch.Tensor:
        x = self.logmel(wave)[:, 0]  # (B, frames, n_mels)
        return torch.cat([x.mean(1), x.std(1, unbiased=False)], dim=1)

    def settings(self) -> dict:
        return {"logmel": self.logmel.settings(), "stats": ["mean", "std"]}


def logmel_stats_extractor(**logmel) -> AudioExtractor:
    """Frozen :class:`LogMelStats` (no weights: ``weights_sha256 = "none"``)."""
    net = LogMelStats(**logmel)
    return AudioExtractor(net, "logmel_stats", "none", 2 * net.logmel.config["n_mels"],
                          net.logmel.config["sample_rate"])


def _manifest_sha256(manifest, filename: str) -> str | None:
    if manifest is None:
        return None
    if isinstance(manifest, (str, os.PathLike)):
        from amidlib.data.manifests import load_manifest

        manifest = load_manifest(str(manifest))
    entry = (manifest.get("checkpoints") or {}).get(filename) or {}
    return entry.get("sha256")


#: Where amidlib pins the sha256 of weight checkpoints (with the source of each value).
PINNED_WEIGHTS_MANIFEST = "pinned_weights"


def _pinned_sha256(filename: str) -> str | None:
    """The sha256 pinned for ``filename`` in ``data_manifests/pinned_weights.json`` (part of the
    repository, not of any data root), or None (also when the file cannot be read: nothing pinned)."""
    try:
        value = _manifest_sha256(PINNED_WEIGHTS_MANIFEST, filename)
    except (OSError, ValueError):
        return None
    return value.lower() if value else None


def load_cnn14(
    checkpoint: str | os.PathLike,
    sha256: str | None = None,
    *,
    manifest: str | dict | None = None,
    embedding_dim: int | None = None,
    allow_unverified: bool = False,
    **logmel,
) -> AudioExtractor:
    """A frozen CNN14 with AudioSet weights from a local PANNs checkpoint (never downloaded).

    ``sha256``: the checkpoint's expected sha256; if None, ``manifest["checkpoints"][<file
    name>]["sha256"]`` is used (``manifest`` a name such as ``"ucf51"`` or a dict), else the value
    pinned in the repository (``data_manifests/pinned_weights.json``: ``Cnn14_mAP=0.431.pth``). The
    file is hashed and compared *before* it is loaded; a mismatch raises :class:`CheckpointError`
    with both values. Without any expected value the load is refused unless ``allow_unverified=True``
    (then the computed sha256 is warned about and still keys the feature cache).

    An expected sha256 only detects a corrupt or wrong file; it never allows code to run. The
    checkpoint is read with ``torch.load(weights_only=True)`` (tensors and plain data: the PANNs
    format loads so). A file holding anything else is unpickled in full only when its sha256 equals
    the one pinned in the repository for its name; otherwise it is refused (its code never runs),
    whatever hash ``sha256``, a manifest or the data root's ``weights/SHA256SUMS`` gives for it.
    ``embedding_dim``: 512 for ``Cnn14_emb512`` (CCL's features), 2048 for ``Cnn14``; None = read
    from the checkpoint. The PANNs checkpoint format is ``{"model": state_dict, ...}`` (a bare
    state dict also works); torchlibrosa front-end buffers in it are ignored (torchaudio computes
    the same front end).
    """
    path = Path(checkpoint).expanduser()
    if not path.is_file():
        known = PANNS_CHECKPOINTS.get(path.name)
        what = (f"download {path.name} from {known['url']}" if known else
                "download a PANNs AudioSet CNN14 checkpoint, e.g. "
                + "; ".join(f"{k} ({v['url']})" for k, v in PANNS_CHECKPOINTS.items()))
        raise CheckpointError(
            f"CNN14 checkpoint not found: {path}. amidlib downloads nothing: {what}, put it at that path "
            "and pass its sha256 (sha256sum FILE). Or use CCL-format pre-extracted features instead "
            "(aux='ccl', see amidlib.data.manifests.load_ccl_features)."
        )
    ckpt, actual = _verified_checkpoint(path, sha256, manifest, allow_unverified)
    net, emb = _cnn14_of(ckpt, path, embedding_dim, logmel)
    name = "cnn14" if emb == 2048 else f"cnn14_emb{emb}"
    return AudioExtractor(net, name, actual, emb, net.sample_rate)


def _verified_checkpoint(path: Path, sha256: str | None, manifest, allow_unverified: bool) -> tuple[Any, str]:
    """The checkpoint's contents and sha256, once the hash is checked (see :func:`load_cnn14`): read with
    ``weights_only=True``, or in full only when its sha256 is the one pinned in the repository."""
    pinned = _pinned_sha256(path.name)
    expected = sha256 or _manifest_sha256(manifest, path.name) or pinned
    actual = sha256_file(path)
    if expected is None:
        if not allow_unverified:
            raise CheckpointError(
                f"no sha256 to verify {path} against: pass sha256=... (or a manifest holding "
                f"checkpoints[{path.name!r}].sha256), or allow_unverified=True. Its sha256 is {actual}."
            )
        warnings.warn(f"loading {path} unverified (sha256 {actual})", stacklevel=3)  # load_cnn14's caller
    elif actual.lower() != expected.lower():
        raise CheckpointError(f"sha256 mismatch for {path}: expected {expected}, file has {actual}; "
                              "the file is corrupt, incomplete or a different checkpoint")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        if not isinstance(exc, pickle.UnpicklingError):  # (not a refusal of code: the file cannot be read at all)
            first = (str(exc).strip().splitlines() or [""])[0]
            raise CheckpointError(
                f"{path} (sha256 {actual}) cannot be read as a torch checkpoint ({type(exc).__name__}: {first}): "
                "the file is corrupt or incomplete (a sha256 made from this very file does not make it whole); "
                "download it again") from None
        if pinned is None or actual.lower() != pinned:
            why = [ln.strip() for ln in str(exc).splitlines() if "Unpickler error" in ln] or [type(exc).__name__]
            raise CheckpointError(
                f"refusing to load {path} (sha256 {actual}): it holds more than tensors and plain data "
                f"({why[0]}), and unpickling it in full could run code. "
                "amidlib unpickles in full only a checkpoint whose sha256 is pinned in the repository "
                f"(data_manifests/{PINNED_WEIGHTS_MANIFEST}.json); a hash from the data root's weights/SHA256SUMS "
                "or from sha256= is no permission. Use the official PANNs file, or, only where you trust this "
                "file, re-save its weights as plain tensors (load it with weights_only=False, then "
                "torch.save({'model': ckpt['model']}, OUT)) and record the new file's sha256."
            ) from None
        ckpt = torch.load(path, map_location="cpu", weights_only=False)  # sha256 pinned in amidlib: hash verified above
    return ckpt, actual


def _cnn14_of(ckpt, path: Path, embedding_dim: int | None, logmel: dict) -> tuple[CNN14, int]:
    """The CNN14 of a PANNs checkpoint's state dict (its sizes read from the weights) and its embedding size."""
    state = ckpt.get("model", ckpt) if isinstance(ckpt, dict) else None
    if not isinstance(state, dict) or "fc1.weight" not in state:
        raise CheckpointError(f"{path}: not a PANNs CNN14 checkpoint (no 'model' state dict with fc1.weight)")
    state = {k: v for k, v in state.items() if not k.startswith(("spectrogram_extractor.", "logmel_extractor."))}
    emb = int(state["fc1.weight"].shape[0])
    if embedding_dim is not None and int(embedding_dim) != emb:
        raise CheckpointError(f"{path}: fc1 gives a {emb}-d embedding, but embedding_dim={embedding_dim} was asked")
    base = int(state["conv_block1.conv1.weight"].shape[0])
    classes = int(state["fc_audioset.weight"].shape[0]) if "fc_audioset.weight" in state else 527
    net = CNN14(embedding_dim=emb, classes_num=classes, base_channels=base, **logmel)
    missing, unexpected = net.load_state_dict(state, strict=False)
    missing = [k for k in missing if not k.startswith("logmel.")]
    if missing or unexpected:
        raise CheckpointError(f"{path}: does not fit CNN14 (missing {missing[:5]}, unexpected {unexpected[:5]})")
    return net, emb


def cnn14_untrained(embedding_dim: int = 512, base_channels: int = 64, seed: int = 0, **logmel) -> AudioExtractor:
    """A frozen CNN14 with *random* (seeded) weights: for tests and the CPU tier only, where no
    AudioSet checkpoint exists. Its features carry no AudioSet knowledge; its cache key says so."""
    gen_state = torch.random.get_rng_state()
    torch.manual_seed(seed)
    try:
        net = CNN14(embedding_dim=embedding_dim, base_channels=base_channels, **logmel)
    finally:
        torch.random.set_rng_state(gen_state)
    return AudioExtractor(net, f"cnn14_untrained_b{base_channels}_e{embedding_dim}", f"random-seed{seed}",
                          embedding_dim, net.sample_rate)
