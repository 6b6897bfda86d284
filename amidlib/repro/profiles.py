"""Profiles: how big a reproduction is (``ci`` | ``cpu`` | ``paper``), and where its files go.

Every notebook starts with the same parameters (``profile``, ``dataset``, ``seeds``, ``epochs``,
``device``, ``out_dir``, ``data_root``, ``cache_dir``, ``n_jobs``) and turns them into a
:class:`Profile` with :func:`load_profile`::

    prof = load_profile("cpu", seeds=None, epochs=None)   # None = the profile's own value
    prof.pairings[0]          # Pairing('fou→fac', target=('fou',), auxiliary=('fac',), paper='UCF51')
    prof.paths.out_dir, prof.paths.cache_dir

**The profiles.**

``ci``
    Smallest that still learns: preset ``tiny`` with 8 epochs (3 of warm-up), one seed, one of 2
    folds for Table 3, the end points of the Table 6 grid, CRD/CRCD with fewer negatives (their
    contrast scores dominate the cost), two worker processes. Every notebook in under a minute
    on 2 idle cores. Writes to ``figures/ci/`` so it never overwrites the committed figures.
``cpu`` (default of ``make reproduce``)
    Every table and figure on the embedded real data in about ten minutes on 2 CPU cores. Tables 1, 2,
    4-6 and the figures on the UCI digit pairs (:mod:`amidlib.data.digit_pairs`: 55 classes at batch 16,
    the paper's batch regime: ≈ 1.3 positives per anchor, ≈ 1/4 of samples partnered; preset
    ``embedded_pairs``, 24 epochs, 8 of warm-up), Table 3 on the 10 digits (preset ``embedded``, 60 epochs,
    20 of warm-up, batch 64, IEMOCAP-like class imbalance, both of 2 stratified folds); 10 seeds for
    every comparison a claim rests on, 3 for Table 6 and CRD / CRCD (each table has an ``n`` column);
    the batch-regime sweep at batch 16 and 64 on both datasets; two worker processes; CRD / CRCD with
    fewer negatives (stated in every table). ``dataset="uci_mfeat"`` puts Tables 1, 2, 4-6 back on the
    10 digits (batch 64: ≈ 7.2 positives per anchor, every sample partnered). Writes to ``figures/``.
``paper``
    The paper's settings on the paper's datasets on a GPU: Tables 1 and 2 on UCF51 and ActivityNet
    (R(2+1)D-18 student on 16×112×112 clips, frozen CNN14 audio; preset ``paper_video``), Tables
    4-6 and the figures on UCF51 (``dataset="activitynet"`` moves them to ActivityNet), Table 3 on
    IEMOCAP (GRU student over DenseNet frame features; wav2vec 2.0 / BERT auxiliary features;
    preset ``paper_iemocap``; 5 leave-one-session-out folds). Needs a CUDA GPU (or an explicit
    ``device="cpu"``, very slow) and a data root laid out as :mod:`amidlib.data.paper_root` says
    (parameter ``data_root`` or environment variable ``AMID_DATA_ROOT``); :func:`check_requirements`
    names every missing file. Every run checkpoints after each epoch in its cache folder.

The ``ci`` profile stays on the 10 digits (seconds per notebook). A third embedded dataset,
``dataset="av_tier"`` (profiles ci / cpu), runs Tables 1, 2, 4-6 and the
figures through the *video* path of the paper profile on generated audio-visual clips
(:mod:`amidlib.data.av_tier`: real mp4 files, PyAV decoding, log-mel audio features, a small 3D-CNN
student): the paper pipeline end to end on a CPU, in minutes. Table 3 stays on UCI.

The pairings of target and auxiliary views (Tables 1, 2 and the figures) and the Table 3
setups are profile values, so they are changed in one place.

A profile is data: a few top-level values (name, preset, epochs, device, the pairings and their
seeds) and grouped records, each read by whoever runs that part:

- :class:`RunConfig` ``config``: the config overrides of every run, per method, and per dataset
  (:class:`DatasetSettings`: preset, overrides, loader options);
- :class:`SeedSets` ``seed_sets``: the seeds of the run sets that do not use the main ``seeds``;
- :class:`HoldoutSplit` ``split``: the holdout split of runs whose plan names no split;
- :class:`CrossValidation` ``crossval``: auxiliary setups compared over k folds (the paper layer's Table 3);
- :class:`Sweeps` ``sweeps``: a hyperparameter grid (Table 6) and a batch-size sweep (fig_regime);
- :class:`Execution` ``execution``: worker processes or Ray, checkpoints, batched seeds, evaluation;
- :class:`Paths` ``paths``: output, run cache, feature cache, data root.

Nothing here depends on a profile's name: what differs between profiles is in their values
(:data:`PROFILES`). What a dataset needs is asked of the dataset (:mod:`amidlib.data.datasets`).
:meth:`Profile.replace` (and :func:`load_profile`) take a group by name, or one of its values by its
short name (``checkpoint=True``, ``table3_folds=5``: :data:`SHORT_NAMES`).

Where each part lives (this module gathers them, so ``from amidlib.repro.profiles import load_profile, Profile``
keeps working): the record and its groups in :mod:`amidlib.repro.profile_record`, the three profiles as data
in :mod:`amidlib.repro.profile_values`, a notebook's parameters to a profile in
:mod:`amidlib.repro.profile_loading`, what a profile needs of the machine in :mod:`amidlib.repro.requirements`.
"""
from __future__ import annotations

from amidlib.data.datasets.base import ON_BAD
from amidlib.repro.profile_loading import COMMON_PARAMETERS, load_profile, parse_seeds, repo_root, resolve_path
from amidlib.repro.profile_record import (
    EXECUTORS,
    PER_DATASET_NAMES,
    SHORT_NAMES,
    CrossValidation,
    DatasetSettings,
    Execution,
    HoldoutSplit,
    Pairing,
    Paths,
    Profile,
    RunConfig,
    SeedSets,
    Sweeps,
)
from amidlib.repro.profile_values import AV_TIER, IEMOCAP_IMBALANCE, PAPER_ALPHA_GRID, PROFILES
from amidlib.repro.requirements import check_requirements

__all__ = ["Pairing", "Profile", "DatasetSettings", "RunConfig", "SeedSets", "HoldoutSplit", "CrossValidation",
           "Sweeps", "Execution", "Paths", "PROFILES", "PAPER_ALPHA_GRID", "IEMOCAP_IMBALANCE", "AV_TIER",
           "SHORT_NAMES", "PER_DATASET_NAMES", "COMMON_PARAMETERS", "load_profile", "check_requirements", "repo_root",
           "resolve_path", "parse_seeds", "EXECUTORS", "ON_BAD"]
