"""IEMOCAP: the release's directory tree, its features (wav2vec 2.0, BERT, DenseNet frames; the
extractors in ``extractors``) and the leave-one-session-out folds."""
