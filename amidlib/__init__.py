"""amidlib: the library behind amid-repro.

Reproduces "Enhanced Multimodal Representation Learning with Cross-modal KD" (AMID):
losses (one function per paper equation), models, methods (AMID and the baselines),
training, metrics, plots and the report.
"""
__version__ = "0.1.0"
