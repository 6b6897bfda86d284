"""Configuration: one flat set of named values, presets, and override validation.

A run's config = ``BASE`` (what every method and the training loop read) + the method's own
defaults (``Method.defaults``, in the method's file: AMID's τ, α, β and ablation switches, CRD's
memory-bank size, …) + a preset + the user's overrides. A preset sets shared values only (BASE's names);
a method gives its own values per preset in its own file (``Defaults.presets``: AMID's τ, α, β under the
paper presets, CRCD's K on the CPU presets), so one method's preset value never reaches another's value
of the same name.
An override must name a value of the run: an unknown name, or one of another method (``alpha1`` for
CRD), is refused with the list of valid ones, so a typo never silently trains with a default.
"""
from __future__ import annotations

import difflib
import numbers
from collections.abc import Mapping
from typing import Any

# Every value a run reads. Comments give the paper's section where the value comes from.
BASE: dict[str, Any] = {
    # optimisation
    "epochs": 60,
    "batch_size": 64,
    "lr": 1e-3,
    "weight_decay": 1e-4,
    "optimizer": "adam",        # "adam" | "sgd" (with momentum, as CCL's published recipe)
    "momentum": 0.9,            # sgd only
    "lr_milestones": (),        # epochs after which the learning rate is multiplied by lr_gamma
    "lr_gamma": 0.1,
    # networks (feature-vector data); the paper uses dim 512 (video) / 768 (IEMOCAP), §4.2
    "dim": 128,
    "hidden": 256,
    "dropout": 0.3,
    # discriminators (AMID's D1, D2): the training loop gives any method's discriminators their own
    # optimizer, and the profiles scale this width with dim and hidden for every method's runs
    "d_hidden": 128,            # discriminator width
    "d_lr": 1e-3,               # discriminator learning rate
    "warmup_epochs": 20,        # T_start (§4.2): epochs of the classification terms only (AMID: + L_JSD), every method
    # (AMID's own values, τ, α1-α3, β and its ablation switches: AMID.defaults, amidlib/core/methods/amid.py)
    # video path (UCF51, ActivityNet, the generated audio-visual tier)
    "video_student": "r2plus1d_18",  # or "tiny3d" for the CPU-sized tier
    "num_workers": 0,           # DataLoader workers for decoding clips
    "eval_batch_size": 32,      # clips per evaluation batch
    "amp": None,                # None | "bf16" | "fp16": mixed precision on GPU
    "checkpoint_dir": None,     # a folder: the method, optimizers and history saved after every epoch
    # data handling and bookkeeping
    "standardize": True,        # z-score each modality with training statistics
    "device": "cpu",
    "eval_every": 1,            # evaluate train/test every k epochs and always after the last (0: only after the last)
    "eval_train": True,         # also evaluate the training split then (False: test only; final metrics still use it)
    # a run's final metrics: their mean over its last final_epochs epochs (1: after the last epoch only). Averaging
    # halves the noise of where training happened to stop (benchmarks/RESULTS_last_epochs.md)
    "final_epochs": 1,
    "channels_last": False,     # CUDA: 5-D video nets and clips in channels-last memory layout
    "progress": True,           # tqdm bar over epochs
    "num_threads": None,        # torch.set_num_threads; None = leave as is
}

PRESETS: dict[str, dict[str, Any]] = {
    # tiny: smallest that still learns; seconds per run on 2 CPU cores (tests, the teaching notebook;
    # the ci profile runs it with 8 epochs)
    # (one thread: these networks are tiny, and intra-op threads only add overhead on 2 cores)
    # (a method's own values under a preset are the method's: CRCD's K = 64 on tiny, embedded and
    # embedded_pairs is in CRCD.defaults)
    "tiny": {"epochs": 12, "warmup_epochs": 4, "batch_size": 64, "dim": 64, "hidden": 128, "d_hidden": 64,
             "num_threads": 1},
    # embedded: the default, for the embedded real data on a laptop CPU
    "embedded": {"epochs": 60, "warmup_epochs": 20, "batch_size": 64, "dim": 128, "hidden": 256, "num_threads": 1},
    # embedded_pairs: the digit pairs (amidlib.data.digit_pairs, 55 classes) at the paper's batch size, 16, so
    # that a batch has the paper's ≈ 1.3 positives per anchor; 41 steps an epoch, so fewer epochs (measured:
    # the student alone levels off at ≈ 55 % by epoch 10; the warm-up is a third, as in "embedded")
    # Its final metrics are the mean over the last 3 epochs: on these small splits where a run stops moves its top-1
    # by about a point (measured: the per-seed difference between two float roundings of the same run falls from
    # sd 1.27 to 0.73, paired 95 % half-widths by 37-55 %; benchmarks/RESULTS_last_epochs.md)
    "embedded_pairs": {"epochs": 24, "warmup_epochs": 8, "batch_size": 16, "dim": 128, "hidden": 256, "num_threads": 1,
                       "final_epochs": 3},
    # the paper's values for the video tasks (UCF51, ActivityNet), §4.2, exactly; what §4.2 leaves to
    # "following [9]" is CCL's published run script (scripts/run_ccl_audio.sh and opts.py of
    # github.com/yanbeic/CCL): SGD, momentum 0.9, lr 1e-3, weight decay 5e-4, 300 epochs, lr x0.1 at
    # epochs 150 and 225, batch 16; its RandomResizedCrop (area 0.25-1) and multi-clip test are the clip
    # spec of the data (amidlib.data.video.decode.PAPER_CLIP). Adam: optimizer="adam" as an override.
    # The training split is not re-evaluated during training (eval_train False: +~30 % decoding); the test
    # split (10 clips per video, ~4 epochs of decoding each time) every 25 epochs; 12 decode workers
    # (decoding, not the GPU, bounds a 16-core machine: docs/paper_profile.md). τ, α1-α3, β are AMID's values:
    # AMID's file sets them per preset (AMID.defaults.presets), so they can never reach another method's
    # value of the same name (a preset holds only BASE's names: tests/test_presets.py).
    "paper_video": {
        "dim": 512, "batch_size": 16,
        "warmup_epochs": 20, "device": "cuda", "amp": "bf16", "num_workers": 12,
        "eval_every": 25, "hidden": 512,
        "optimizer": "sgd", "momentum": 0.9, "lr": 1e-3, "weight_decay": 5e-4, "epochs": 300,
        "lr_milestones": (150, 225), "lr_gamma": 0.1, "eval_train": False, "channels_last": True,
    },
    # the paper's values for IEMOCAP, §4.2, exactly
    "paper_iemocap": {
        "dim": 768, "batch_size": 128,
        "warmup_epochs": 5, "device": "cuda", "amp": None, "hidden": 768,
        # amp None: the GRU student runs in fp32 (cuDNN's bf16 GRU is recent and untested here; the
        # networks are small, so full precision costs little)
    },
}


#: old preset names: each also named a profile with other values (a name means one value set now)
RENAMED_PRESETS = {"ci": "tiny", "cpu": "embedded"}


class Config(dict):
    """A dict whose keys are also attributes (``cfg.tau``)."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def unknown_name_message(kind: str, name: str, valid) -> str:
    """"unknown <kind> 'x'; did you mean …? Valid: …" — shared by config, methods and notebooks."""
    valid = sorted(valid)
    close = difflib.get_close_matches(name, valid, n=1)
    hint = f" Did you mean '{close[0]}'?" if close else ""
    return f"unknown {kind} '{name}'.{hint} Valid {kind}s: {', '.join(valid)}"


def make_config(method_defaults: Mapping[str, Any] | None = None, preset: str | None = "embedded",
                **overrides) -> Config:
    """Merge BASE, the method's defaults, a preset (then the method's own values under it) and the
    overrides; refuse unknown names, and values outside a name's choices."""
    method_defaults = method_defaults or {}
    cfg = Config(BASE)
    cfg.update(method_defaults)
    if preset is not None:
        if preset in RENAMED_PRESETS:
            raise ValueError(f"preset {preset!r} is now called {RENAMED_PRESETS[preset]!r} (the profile of that "
                             f"name is a different value set); valid presets: {', '.join(PRESETS)}")
        if preset not in PRESETS:
            raise ValueError(unknown_name_message("preset", preset, PRESETS))
        # the preset's shared values (BASE's names only), then the method's own values under it (AMID's τ, α, β)
        cfg.update(PRESETS[preset])
        cfg.update(getattr(method_defaults, "presets", {}).get(preset, {}))
    for key, value in overrides.items():
        if key not in cfg:
            raise TypeError(unknown_name_message("config override", key, cfg) + _owners(key))
        cfg[key] = value
    choices = {"optimizer": ("adam", "sgd"), **getattr(method_defaults, "choices", {})}
    for key, allowed in choices.items():
        if cfg[key] not in allowed:
            raise ValueError(f"{key} must be {' or '.join(map(repr, allowed))}, got {cfg[key]!r}")
    for key, value in cfg.items():
        check_value(key, value)
    if cfg["final_epochs"] > 1 and cfg["checkpoint_dir"]:  # (a resumed run would have lost the epochs before)
        raise ValueError(f"final_epochs={cfg['final_epochs']} averages the final metrics over the last epochs, which "
                         "a run resumed from a checkpoint cannot see: use final_epochs=1 with checkpoint_dir")
    cfg["preset"] = preset
    return cfg


#: values that count something: the least each may be (None allowed where the name's default is None)
WHOLE = {"epochs": 1, "warmup_epochs": 0, "batch_size": 1, "eval_batch_size": 1, "eval_every": 0, "dim": 1,
         "hidden": 1, "d_hidden": 1, "num_workers": 0, "num_threads": 1, "final_epochs": 1}
#: values that must be > 0 (temperatures: any name ``tau`` or ``*_tau``, too)
POSITIVE = ("lr", "d_lr", "lr_gamma")
#: values that must be >= 0 (loss weights: ``alpha1``..., too) and those that must also be < 1
NON_NEGATIVE = ("weight_decay", "momentum")
FRACTIONS = ("dropout", "beta")


def check_value(key: str, value: Any) -> None:
    """Refuse a value that cannot be meant, naming it: a count that is not a whole number or too small (no ``int()``
    that turns 2.7 epochs into 2), a learning rate or temperature <= 0, a negative loss weight."""
    if key in WHOLE:
        if not (value is None and key == "num_threads"):
            whole_number(key, value, WHOLE[key])
        return
    is_number = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if key in POSITIVE or key == "tau" or key.endswith("_tau"):
        if not is_number or not value > 0:
            raise ValueError(f"{key} must be a number > 0, got {value!r}")
    elif key in NON_NEGATIVE or (key.startswith("alpha") and key[5:].isdigit()):
        if not is_number or not value >= 0:
            raise ValueError(f"{key} must be a number >= 0, got {value!r}")
    elif key in FRACTIONS and (not is_number or not 0 <= value < 1):
        raise ValueError(f"{key} must be a number in [0, 1), got {value!r}")


def _owners(key: str) -> str:
    """" ('alpha1' is a value of method amid, not of this run's method)", or "" for a name no method has."""
    from amidlib.core.methods import METHODS  # (only for the message: the config itself needs no method)

    owners = [name for name, cls in METHODS.items() if key in cls.defaults]
    return f" ({key!r} is a value of method {', '.join(owners)}, not of this run's method)" if owners else ""


def whole_number(name: str, value: Any, least: int, what: str | None = None, text: bool = False) -> int:
    """``value`` as an int when it is one (``text``: or text that is one, ``"3"``: a notebook parameter), else a
    ValueError naming ``name``: no ``int()`` that turns 2.7 into 2 or 0.9 into 0."""
    if text and isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            pass
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < least:
        raise ValueError(f"{name} must be {what or f'a whole number >= {least}'}, got {value!r}")
    return int(value)
