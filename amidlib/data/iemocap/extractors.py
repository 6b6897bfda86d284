"""The frozen, pre-trained extractors of the IEMOCAP task (paper §4.2): wav2vec 2.0, BERT, DenseNet.

    from amidlib.data.iemocap.extractors import Wav2Vec2Extractor, BertTextExtractor, DenseNetFrameExtractor
    audio = Wav2Vec2Extractor("weights/wav2vec2-base")            # a local Hugging Face model folder
    text = BertTextExtractor("weights/bert-base-uncased")          # model + tokenizer files in one folder
    video = DenseNetFrameExtractor("weights/densenet121-a639ec97.pth", sha256="...")
    audio.embed(wave_16k)          # (768,)   mean of the last hidden state over time
    text.embed("Excuse me.")       # (768,)   [CLS] (default) or mean over the tokens
    video.embed_frames(frames)     # (T, 1024) per frame: features -> ReLU -> global average pool

Paper §4.2 names the extractors only ("wav2vec 2.0 / BERT / DenseNet"); what is chosen here:

- **wav2vec 2.0** (``transformers.Wav2Vec2Model``): mono audio at the model's rate (16 kHz; read from
  ``preprocessor_config.json`` when present, the caller resamples), zero-mean/unit-variance normalised
  when the folder's feature extractor says ``do_normalize`` (true for wav2vec2-base/large), the last
  hidden state (or ``layer=k`` of the hidden states) averaged over time. One utterance per call, so no
  padding and no attention mask are involved. Inputs shorter than 0.1 s are zero-padded to 0.1 s.
- **BERT** (``transformers.BertModel`` + its tokenizer from the same folder): the utterance's
  transcription, truncated to ``max_length`` tokens, ``pooling="cls"`` (the last hidden state of
  [CLS], default) or ``"mean"`` (mean over the non-padding tokens).
- **DenseNet** (torchvision ``densenet121`` by default): ImageNet weights from a local ``.pth`` state dict
  (torchvision's file ``densenet121-a639ec97.pth`` or any state dict of the same architecture), checked
  by sha256 before loading. Each frame is resized to ``image_size`` (224×224, the whole frame: no crop,
  so both halves of IEMOCAP's frame stay in view; the aspect ratio is not kept), scaled to [0, 1],
  normalised with the ImageNet mean/std, then ``features`` → ReLU → global average pooling: 1024-d per
  frame for densenet121 (what torchvision's ``DenseNet.forward`` computes before its classifier).

All three are frozen (``eval()``, no gradients) and load **only** from local files
(``from_pretrained(path, local_files_only=True)``); nothing is downloaded. A missing folder or file
raises :class:`WeightsNotFoundError` naming the path and what to place there. Models are loaded lazily
(on the first ``embed``), so a run whose features are all cached never loads them. Each extractor has
``name``, ``dim``, ``weights_sha256`` (a hash of its weight, config and tokenizer files: part of the
feature-cache key) and ``settings()`` (every preprocessing value that changes its output).
Calls are counted in :data:`amidlib.data.cache.CALLS` under ``"wav2vec2"``, ``"bert"`` and
``"densenet"`` (one per utterance embedded).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from amidlib.data.cache import count
from amidlib.data.manifests import sha256_file

__all__ = [
    "WeightsNotFoundError",
    "WeightsMismatchError",
    "hash_model_dir",
    "sha256_file",
    "Wav2Vec2Extractor",
    "BertTextExtractor",
    "DenseNetFrameExtractor",
    "IMAGENET_MEAN",
    "IMAGENET_STD",
    "DENSENET_ARCHS",
    "densenet_num_features",
]

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)

#: torchvision's DenseNet variants: (growth_rate, block_config, num_init_features).
DENSENET_ARCHS = {
    "densenet121": (32, (6, 12, 24, 16), 64),
    "densenet161": (48, (6, 12, 36, 24), 96),
    "densenet169": (32, (6, 12, 32, 32), 64),
    "densenet201": (32, (6, 12, 48, 32), 64),
}

# files of a Hugging Face model folder that determine the model's output (hashed into the cache key)
_HF_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".pt", ".pth", ".h5", ".msgpack")
_HF_META_FILES = ("config.json", "preprocessor_config.json", "vocab.txt", "tokenizer.json",
                  "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json")


class WeightsNotFoundError(FileNotFoundError):
    """A model folder or weights file is missing (the message says what to place where)."""


class WeightsMismatchError(ValueError):
    """A weights file fails its sha256 check or does not fit the architecture."""


def _hf_files(folder: Path) -> list[Path]:
    files = [p for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.startswith(".")
             and (p.suffix in _HF_WEIGHT_SUFFIXES or p.name in _HF_META_FILES)]
    return files


def hash_model_dir(folder: str | os.PathLike) -> str:
    """sha256 over (relative path, sha256) of a model folder's weight, config and tokenizer files.

    Other files (README, .git, caches) do not count, so copying a folder keeps its hash."""
    folder = Path(folder)
    h = hashlib.sha256()
    for p in _hf_files(folder):
        h.update(p.relative_to(folder).as_posix().encode())
        h.update(b"\0")
        h.update(sha256_file(p).encode())
        h.update(b"\n")
    return h.hexdigest()


def _require_hf_dir(folder, what: str, example: str, need_tokenizer: bool = False) -> Path:
    if folder is None:
        raise WeightsNotFoundError(f"no {what} folder given: pass the path of a local {example}")
    path = Path(folder).expanduser()
    hint = (f"Place a Hugging Face {what} folder there (config.json + model.safetensors or pytorch_model.bin"
            + (", plus the tokenizer files vocab.txt / tokenizer.json" if need_tokenizer else "")
            + f"), e.g. {example}, saved with save_pretrained(); amidlib downloads nothing.")
    if not path.is_dir():
        raise WeightsNotFoundError(f"{what} folder not found: {path}. {hint}")
    if not (path / "config.json").is_file():
        raise WeightsNotFoundError(f"{path} has no config.json, so it is not a {what} folder. {hint}")
    if not any(p.suffix in _HF_WEIGHT_SUFFIXES for p in path.iterdir() if p.is_file()):
        raise WeightsNotFoundError(f"{path} holds no weights file (*.safetensors / *.bin). {hint}")
    if need_tokenizer and not any((path / n).is_file() for n in ("vocab.txt", "tokenizer.json")):
        raise WeightsNotFoundError(f"{path} holds no tokenizer (vocab.txt or tokenizer.json). {hint}")
    return path


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise WeightsMismatchError(f"{path}: unreadable JSON ({exc})") from None


class _Frozen:
    """Common parts: lazy model, device, settings."""

    name = ""
    _model: torch.nn.Module | None

    def __init__(self, device: str | torch.device):
        self.device = torch.device(device)
        self._model = None

    @property
    def loaded(self) -> bool:
        """Whether the network has been loaded (it is loaded on the first ``embed``)."""
        return self._model is not None

    def _freeze(self, model: torch.nn.Module) -> torch.nn.Module:
        model = model.to(self.device).eval()
        for p in model.parameters():
            p.requires_grad_(False)
        return model

    def describe(self) -> dict[str, Any]:
        """Name, weights hash and settings (for a run's record)."""
        return {"name": self.name, "weights_sha256": self.weights_sha256, "dim": self.dim, "settings": self.settings()}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name}, dim={self.dim}, weights={self.weights_sha256[:12]})"


# --------------------------------------------------------------------------- wav2vec 2.0
class Wav2Vec2Extractor(_Frozen):
    """Frozen wav2vec 2.0: mono waveform at :attr:`sample_rate` → mean-pooled hidden state (dim,).

    ``model_dir``: a local folder written by ``Wav2Vec2Model.save_pretrained`` (or a downloaded
    ``facebook/wav2vec2-base``). ``layer``: None = last hidden state; an int k = ``hidden_states[k]``
    (0 = the feature projection, k = transformer layer k). ``max_seconds``: keep only the first
    seconds of long utterances (None = all).
    """

    name = "wav2vec2"
    min_seconds = 0.1

    def __init__(self, model_dir, *, layer: int | None = None, device: str | torch.device = "cpu",
                 max_seconds: float | None = None):
        super().__init__(device)
        self.path = _require_hf_dir(model_dir, "wav2vec 2.0 model",
                                    "facebook/wav2vec2-base (Wav2Vec2Model)")
        config = _read_json(self.path / "config.json")
        pre = self.path / "preprocessor_config.json"
        prep = _read_json(pre) if pre.is_file() else {}
        self.dim = int(config.get("hidden_size", 768))
        self.sample_rate = int(prep.get("sampling_rate", 16000))
        self.do_normalize = bool(prep.get("do_normalize", True))
        self.layer = layer
        self.max_seconds = max_seconds
        self.weights_sha256 = hash_model_dir(self.path)

    def settings(self) -> dict[str, Any]:
        return {"model": "Wav2Vec2Model", "sample_rate": self.sample_rate, "do_normalize": self.do_normalize,
                "layer": "last" if self.layer is None else int(self.layer), "pooling": "mean",
                "max_seconds": self.max_seconds, "min_seconds": self.min_seconds}

    @property
    def model(self) -> torch.nn.Module:
        if self._model is None:
            from transformers import Wav2Vec2Model

            self._model = self._freeze(Wav2Vec2Model.from_pretrained(str(self.path), local_files_only=True))
        return self._model

    @torch.no_grad()
    def embed(self, wave: np.ndarray) -> np.ndarray:
        """One utterance (1-D float array at ``sample_rate``) → (dim,) float32."""
        x = np.asarray(wave, dtype=np.float32).reshape(-1)
        if self.max_seconds is not None:
            x = x[: int(round(self.max_seconds * self.sample_rate))]
        if x.size == 0:
            raise ValueError("empty audio")
        if not np.isfinite(x).all():
            raise ValueError("audio holds NaN/inf samples")
        min_len = int(round(self.min_seconds * self.sample_rate))
        if x.size < min_len:
            x = np.pad(x, (0, min_len - x.size))
        if self.do_normalize:  # what Wav2Vec2FeatureExtractor does for one unpadded input
            x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
        count("wav2vec2")
        out = self.model(torch.from_numpy(x).unsqueeze(0).to(self.device),
                         output_hidden_states=self.layer is not None)
        h = out.last_hidden_state if self.layer is None else out.hidden_states[self.layer]
        return h[0].mean(dim=0).float().cpu().numpy()


# --------------------------------------------------------------------------- BERT
class BertTextExtractor(_Frozen):
    """Frozen BERT: one transcription → (dim,) ([CLS] or mean over tokens of the last hidden state).

    ``model_dir``: a local folder holding ``BertModel`` weights and its tokenizer (``vocab.txt`` or
    ``tokenizer.json``), e.g. ``bert-base-uncased`` saved with ``save_pretrained``.
    """

    name = "bert"

    def __init__(self, model_dir, *, pooling: str = "cls", max_length: int = 128,
                 device: str | torch.device = "cpu"):
        super().__init__(device)
        if pooling not in ("cls", "mean"):
            raise ValueError(f"pooling must be 'cls' or 'mean', got {pooling!r}")
        self.path = _require_hf_dir(model_dir, "BERT model", "bert-base-uncased (BertModel + tokenizer)",
                                    need_tokenizer=True)
        config = _read_json(self.path / "config.json")
        self.dim = int(config.get("hidden_size", 768))
        self.pooling = pooling
        self.max_length = int(max_length)
        self.weights_sha256 = hash_model_dir(self.path)
        self._tokenizer = None

    def settings(self) -> dict[str, Any]:
        return {"model": "BertModel", "pooling": self.pooling, "max_length": self.max_length}

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            from transformers import AutoTokenizer

            try:
                self._tokenizer = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)
            except (OSError, ValueError, KeyError):
                from transformers import BertTokenizer  # a folder with only vocab.txt

                self._tokenizer = BertTokenizer(str(self.path / "vocab.txt"))
        return self._tokenizer

    @property
    def model(self) -> torch.nn.Module:
        if self._model is None:
            from transformers import BertModel

            self._model = self._freeze(BertModel.from_pretrained(str(self.path), local_files_only=True))
        return self._model

    @torch.no_grad()
    def embed(self, text: str) -> np.ndarray:
        """One transcription → (dim,) float32. An empty text embeds as [CLS] [SEP]."""
        if not isinstance(text, str):
            raise ValueError(f"text must be a str, got {type(text).__name__}")
        enc = self.tokenizer(text, truncation=True, max_length=self.max_length, return_tensors="pt")
        enc = {k: v.to(self.device) for k, v in enc.items()}
        count("bert")
        h = self.model(**enc).last_hidden_state[0]  # (tokens, dim)
        if self.pooling == "cls":
            v = h[0]
        else:
            mask = enc["attention_mask"][0].to(h.dtype).unsqueeze(1)
            v = (h * mask).sum(0) / mask.sum().clamp(min=1.0)
        return v.float().cpu().numpy()


# --------------------------------------------------------------------------- DenseNet
def densenet_num_features(growth_rate: int, block_config: Sequence[int], num_init_features: int) -> int:
    """Channels of a torchvision DenseNet's ``features`` output (1024 for densenet121)."""
    nf = int(num_init_features)
    for i, n in enumerate(block_config):
        nf += int(n) * int(growth_rate)
        if i != len(block_config) - 1:
            nf //= 2
    return nf


_OLD_DENSE_KEY = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))\."
                            r"((?:[12])\.(?:weight|bias|running_mean|running_var|num_batches_tracked))$")
_TORCHVISION_HASH = re.compile(r"-([0-9a-f]{8,64})\.pth?$")


class DenseNetFrameExtractor(_Frozen):
    """Frozen torchvision DenseNet: uint8 frames (T, H, W, 3) → per-frame features (T, dim).

    ``weights``: a local ``.pth`` holding the state dict (torchvision's ImageNet file
    ``densenet121-a639ec97.pth``, or ``{"state_dict": ...}`` / ``{"model": ...}``; a ``module.`` prefix
    and torchvision's old ``norm.1``-style keys are handled; the classifier may be absent).
    ``sha256``: the file's expected sha256, compared before loading. Without it, a file named like
    torchvision's (``<arch>-<hex>.pth``) is checked against the hash prefix in its name (as torchvision
    does), and any other file is refused unless ``allow_unverified=True`` (its actual hash still keys the
    feature cache). ``arch``: ``"densenet121"`` (paper default), another torchvision DenseNet name, or
    a dict of ``DenseNet`` arguments (``growth_rate``, ``block_config``, ``num_init_features``; small
    ones for tests). ``image_size``: (H, W) every frame is resized to.
    """

    def __init__(self, weights, sha256: str | None = None, *, arch: str | dict = "densenet121",
                 image_size: tuple[int, int] | int = (224, 224), device: str | torch.device = "cpu",
                 allow_unverified: bool = False):
        super().__init__(device)
        if isinstance(arch, str):
            if arch not in DENSENET_ARCHS:
                raise ValueError(f"unknown DenseNet arch {arch!r}; valid: {sorted(DENSENET_ARCHS)} or a dict")
            g, blocks, init = DENSENET_ARCHS[arch]
            self.name = arch
        else:
            g, blocks, init = (int(arch["growth_rate"]), tuple(int(b) for b in arch["block_config"]),
                               int(arch["num_init_features"]))
            self.name = f"densenet_g{g}_b{'-'.join(map(str, blocks))}_i{init}"
        self.arch = {"growth_rate": g, "block_config": tuple(blocks), "num_init_features": init}
        self.dim = densenet_num_features(g, blocks, init)
        self.image_size = ((int(image_size), int(image_size)) if isinstance(image_size, int)
                           else tuple(int(v) for v in image_size))
        if weights is None:
            raise WeightsNotFoundError(f"no DenseNet weights file given: {self._hint()}")
        self.path = Path(weights).expanduser()
        if not self.path.is_file():
            raise WeightsNotFoundError(f"DenseNet weights file not found: {self.path}. {self._hint()}")
        actual = sha256_file(self.path)
        if sha256:
            if actual.lower() != sha256.lower():
                raise WeightsMismatchError(f"sha256 mismatch for {self.path}: expected {sha256}, the file has "
                                           f"{actual}; it is corrupt, incomplete or another checkpoint")
        else:
            m = _TORCHVISION_HASH.search(self.path.name)
            if m and not actual.startswith(m.group(1).lower()):
                raise WeightsMismatchError(f"{self.path}: its name says sha256 {m.group(1)}..., the file has {actual}")
            if not m and not allow_unverified:
                raise WeightsMismatchError(
                    f"no sha256 to verify {self.path} against: pass sha256=... (sha256sum FILE), name the file like "
                    f"torchvision's ({self.name}-<first hex digits of its sha256>.pth), or pass allow_unverified=True. "
                    f"Its sha256 is {actual}.")
            if not m:
                warnings.warn(f"loading {self.path} unverified (sha256 {actual})", stacklevel=2)
        self.weights_sha256 = actual

    def _hint(self) -> str:
        return ("Place a torchvision DenseNet state dict there, e.g. densenet121-a639ec97.pth "
                "(torchvision's ImageNet weights, DenseNet121_Weights.IMAGENET1K_V1, downloaded by you: amidlib "
                "downloads nothing), and pass its sha256.")

    def settings(self) -> dict[str, Any]:
        return {"arch": {k: list(v) if isinstance(v, tuple) else v for k, v in self.arch.items()},
                "image_size": list(self.image_size), "resize": "whole frame, bilinear (swscale)",
                "normalize": {"mean": IMAGENET_MEAN, "std": IMAGENET_STD}, "pooling": "relu+global_avg"}

    @property
    def model(self) -> torch.nn.Module:
        if self._model is None:
            from torchvision.models import DenseNet

            net = DenseNet(**self.arch)
            try:
                ckpt = torch.load(self.path, map_location="cpu", weights_only=True)
            except Exception as exc:
                raise WeightsMismatchError(
                    f"{self.path}: not loadable as a state dict ({type(exc).__name__}: {exc})") from None
            state = ckpt
            if isinstance(ckpt, dict):
                for key in ("state_dict", "model"):
                    if isinstance(ckpt.get(key), dict):
                        state = ckpt[key]
                        break
            if not isinstance(state, dict):
                raise WeightsMismatchError(f"{self.path}: holds a {type(state).__name__}, not a state dict")
            fixed = {}
            for k, v in state.items():
                k = k[len("module."):] if k.startswith("module.") else k
                m = _OLD_DENSE_KEY.match(k)
                fixed[m.group(1) + m.group(2) if m else k] = v
            try:
                missing, unexpected = net.load_state_dict(fixed, strict=False)
            except RuntimeError as exc:  # shape mismatches are raised even when not strict
                raise WeightsMismatchError(f"{self.path}: does not fit {self.name}: {str(exc)[:300]}") from None
            missing = [k for k in missing if not k.startswith("classifier.")]
            unexpected = [k for k in unexpected if not k.startswith("classifier.")]
            if missing or unexpected:
                raise WeightsMismatchError(f"{self.path}: does not fit {self.name} (missing {missing[:4]}, "
                                           f"unexpected {unexpected[:4]})")
            self._model = self._freeze(net.features)
        return self._model

    @torch.no_grad()
    def embed_frames(self, frames: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """uint8 RGB (T, H, W, 3) → (T, dim) float32; frames of another size are resized here."""
        import torch.nn.functional as F

        arr = np.asarray(frames)
        if arr.ndim != 4 or arr.shape[-1] != 3 or arr.shape[0] == 0:
            raise ValueError(f"frames must be (T, H, W, 3) with T >= 1, got shape {arr.shape}")
        count("densenet")
        mean = torch.tensor(IMAGENET_MEAN, device=self.device).view(1, 3, 1, 1)
        std = torch.tensor(IMAGENET_STD, device=self.device).view(1, 3, 1, 1)
        out = []
        for s in range(0, arr.shape[0], batch_size):
            x = torch.from_numpy(np.ascontiguousarray(arr[s:s + batch_size])).to(self.device)
            x = x.permute(0, 3, 1, 2).float().div_(255.0)
            if tuple(x.shape[-2:]) != self.image_size:
                x = F.interpolate(x, size=self.image_size, mode="bilinear", align_corners=False)
            x = (x - mean) / std
            f = F.relu(self.model(x))
            out.append(F.adaptive_avg_pool2d(f, 1).flatten(1).float().cpu())
        return torch.cat(out).numpy()
