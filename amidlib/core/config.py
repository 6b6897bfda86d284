"""Configuration: one flat set of named values, presets, and override validation.

A run's config = ``BASE`` + the method's own defaults (e.g. CRD's memory-bank size) + a preset
+ the user's overrides. Unknown names are refused with the list of valid ones, so a typo never
silently trains with a default.
"""
from __future__ import annotations

import difflib
from typing import Any, Mapping

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
    "d_hidden": 128,            # discriminator width
    "d_lr": 1e-3,               # discriminator learning rate
    # AMID (§3, §4.2)
    "tau": 0.5,                 # temperature of Eq 7
    "alpha1": 4.0,              # weight of L_MI_s (Eq 17)
    "alpha2": 1.6,              # weight of L_MI_a
    "alpha3": 1.0,              # weight of L_adv
    "warmup_epochs": 20,        # T_start: epochs of L_cls + L_JSD only
    "beta": 0.9,                # moving-average smoothing of Eq 14
    # AMID ablation switches (Tables 4, 5): config switches, not new methods
    "use_mi_s": True,
    "use_mi_a": True,
    "use_adv": True,
    "use_d2": True,
    "dynamic_lambda": True,     # False: uniform λ = (½, ½)
    "mi_loss": "mi",            # "mi": Eq 8/9; "nce": CCL's L_nce ("AMID with L_nce")
    "fixed_teacher": False,     # True: teacher pre-trained alone, then frozen (Table 5)
    "teacher_pretrain_epochs": None,  # for fixed_teacher; None = same as epochs
    "use_jsd": True,
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
    "eval_train": True,         # also evaluate the training split then (False: test only; the final metrics still use it)
    "channels_last": False,     # CUDA: 5-D video nets and clips in channels-last memory layout
    "progress": True,           # tqdm bar over epochs
    "num_threads": None,        # torch.set_num_threads; None = leave as is
}

PRESETS: dict[str, dict[str, Any]] = {
    # tiny: smallest that still learns; seconds per run on 2 CPU cores (tests, the teaching notebook;
    # the ci profile runs it with 8 epochs)
    # (one thread: these networks are tiny, and intra-op threads only add overhead on 2 cores)
    "tiny": {"epochs": 12, "warmup_epochs": 4, "batch_size": 64, "dim": 64, "hidden": 128, "d_hidden": 64, "num_threads": 1,
           "crcd_nce_k": 64},
    # embedded: the default, for the embedded real data on a laptop CPU
    # CRCD scores B(B−1)(K+1) relations per step: K = 64 instead of its code's 500 keeps it to seconds
    "embedded": {"epochs": 60, "warmup_epochs": 20, "batch_size": 64, "dim": 128, "hidden": 256, "num_threads": 1,
            "crcd_nce_k": 64},
    # embedded_pairs: the digit pairs (amidlib.data.digit_pairs, 55 classes) at the paper's batch size, 16, so
    # that a batch has the paper's ≈ 1.3 positives per anchor; 41 steps an epoch, so fewer epochs (measured:
    # the student alone levels off at ≈ 55 % by epoch 10; the warm-up is a third, as in "embedded")
    "embedded_pairs": {"epochs": 24, "warmup_epochs": 8, "batch_size": 16, "dim": 128, "hidden": 256, "num_threads": 1,
                       "crcd_nce_k": 64},
    # the paper's values for the video tasks (UCF51, ActivityNet), §4.2, exactly; what §4.2 leaves to
    # "following [9]" is CCL's published run script (scripts/run_ccl_audio.sh and opts.py of
    # github.com/yanbeic/CCL): SGD, momentum 0.9, lr 1e-3, weight decay 5e-4, 300 epochs, lr x0.1 at
    # epochs 150 and 225, batch 16; its RandomResizedCrop (area 0.25-1) and multi-clip test are the clip
    # spec of the data (amidlib.data.video.decode.PAPER_CLIP). Adam: optimizer="adam" as an override.
    # The training split is not re-evaluated during training (eval_train False: +~30 % decoding); the test
    # split (10 clips per video, ~4 epochs of decoding each time) every 25 epochs; 12 decode workers
    # (decoding, not the GPU, bounds a 16-core machine: docs/paper_profile.md).
    "paper_video": {
        "dim": 512, "batch_size": 16, "tau": 0.5, "alpha1": 4.0, "alpha2": 1.6, "alpha3": 1.0,
        "warmup_epochs": 20, "beta": 0.9, "device": "cuda", "amp": "bf16", "num_workers": 12,
        "eval_every": 25, "hidden": 512,
        "optimizer": "sgd", "momentum": 0.9, "lr": 1e-3, "weight_decay": 5e-4, "epochs": 300,
        "lr_milestones": (150, 225), "lr_gamma": 0.1, "eval_train": False, "channels_last": True,
    },
    # the paper's values for IEMOCAP, §4.2, exactly
    "paper_iemocap": {
        "dim": 768, "batch_size": 128, "tau": 0.6, "alpha1": 4.0, "alpha2": 1.6, "alpha3": 1.0,
        "warmup_epochs": 5, "beta": 0.9, "device": "cuda", "amp": None, "hidden": 768,
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


def make_config(method_defaults: Mapping[str, Any] | None = None, preset: str | None = "embedded", **overrides) -> Config:
    """Merge BASE, the method's defaults, a preset and overrides; refuse unknown names."""
    cfg = Config(BASE)
    cfg.update(method_defaults or {})
    if preset is not None:
        if preset in RENAMED_PRESETS:
            raise ValueError(f"preset {preset!r} is now called {RENAMED_PRESETS[preset]!r} (the profile of that "
                             f"name is a different value set); valid presets: {', '.join(PRESETS)}")
        if preset not in PRESETS:
            raise ValueError(unknown_name_message("preset", preset, PRESETS))
        # a preset may tune a method's own value (e.g. CRCD's K); it applies only where that name exists
        cfg.update({k: v for k, v in PRESETS[preset].items() if k in cfg or k in BASE})
    for key, value in overrides.items():
        if key not in cfg:
            raise TypeError(unknown_name_message("config override", key, cfg))
        cfg[key] = value
    if cfg["mi_loss"] not in ("mi", "nce"):
        raise ValueError(f"mi_loss must be 'mi' or 'nce', got {cfg['mi_loss']!r}")
    if cfg["optimizer"] not in ("adam", "sgd"):
        raise ValueError(f"optimizer must be 'adam' or 'sgd', got {cfg['optimizer']!r}")
    if not isinstance(cfg["eval_every"], int) or isinstance(cfg["eval_every"], bool) or cfg["eval_every"] < 0:
        raise ValueError(f"eval_every must be an int >= 0 (0: evaluate only after the last epoch), got {cfg['eval_every']!r}")
    if cfg["warmup_epochs"] < 0 or cfg["epochs"] < 1:
        raise ValueError(f"need epochs >= 1 and warmup_epochs >= 0, got {cfg['epochs']} and {cfg['warmup_epochs']}")
    cfg["preset"] = preset
    return cfg
