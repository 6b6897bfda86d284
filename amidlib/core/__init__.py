"""The method: one function per paper equation (``losses``), the nets (``models``), AMID and the
baselines (``methods``), the training loop (``training``), one run (``experiment.run``), the
configuration (``config``) and the metrics (``metrics``).

The lowest layer: it imports nothing else of amidlib (tests/test_layout.py checks).
"""
