"""IEMOCAP, 4-class emotion recognition (paper §4.1-4.2, Table 3): from the dataset's own folder tree
to the leave-one-session-out folds that :class:`amidlib.repro.runs.Study` trains.

    from amidlib.data import iemocap
    index = iemocap.scan_iemocap("/data/IEMOCAP_full_release")        # parse, merge labels, check files and counts
    feats = iemocap.extract_iemocap_features(
        index, "runs/cache/iemocap",
        audio="weights/wav2vec2-base", text="weights/bert-base-uncased",
        video="weights/densenet121-a639ec97.pth", densenet_sha256="...")   # frozen extractors, once, cached
    folds = iemocap.iemocap_folds(feats, setup="AL-V", student="rnn")  # [(train, test)] x 5, test = one session
    train, test = folds[0]
    run("amid", train, test, preset="paper_iemocap", **iemocap.gru_run_args(feats.n_frames, feats.frame_dim))

Modules, by concern:

- :mod:`~amidlib.data.iemocap.parse`: label maps, the EmoEvaluation / transcription parsers, the
  tree's index and its checks (:func:`scan_iemocap`: counts against the manifest, bad inputs);
- :mod:`~amidlib.data.iemocap.extractors`: the frozen wav2vec 2.0, BERT and DenseNet extractors;
- :mod:`~amidlib.data.iemocap.features`: extraction (cached) and :class:`IemocapFeatures`;
- :mod:`~amidlib.data.iemocap.folds`: the Table 3 setups' leave-one-session-out folds;
- :mod:`~amidlib.data.iemocap.nets`: the paper's GRU student over the frame features (a nets
  factory for :func:`amidlib.core.experiment.run`).

Table 3's runs go through the one run engine: ``Study`` with the paper profile (``plans.plan_table3``),
one cell per setup, method, seed and fold. :func:`amidlib.testing.iemocap.make_mini_iemocap` writes a
miniature tree in the same formats for the tests and for trying the pipeline without the licensed data.
"""
from amidlib.data.iemocap.features import IemocapFeatures, extract_iemocap_features, load_iemocap
from amidlib.data.iemocap.folds import iemocap_folds
from amidlib.data.iemocap.nets import FrameGRU, build_rnn_nets, gru_nets, gru_run_args
from amidlib.data.iemocap.parse import (
                                        CLASS_NAMES,
                                        DROPPED_LABELS,
                                        LABEL_MAP,
                                        ON_BAD,
                                        SESSIONS,
                                        SETUPS,
                                        CountMismatchError,
                                        IemocapIndex,
                                        IemocapUtterance,
                                        parse_emo_evaluation,
                                        parse_transcription,
                                        scan_iemocap,
                                        utterance_frame_indices,
)

__all__ = [
    "CLASS_NAMES", "LABEL_MAP", "DROPPED_LABELS", "SESSIONS", "SETUPS", "ON_BAD", "CountMismatchError",
    "IemocapUtterance", "IemocapIndex", "parse_emo_evaluation", "parse_transcription", "utterance_frame_indices",
    "scan_iemocap", "IemocapFeatures", "extract_iemocap_features", "load_iemocap", "iemocap_folds",
    "FrameGRU", "build_rnn_nets", "gru_nets", "gru_run_args",
]
