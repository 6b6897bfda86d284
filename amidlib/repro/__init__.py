"""Running a reproduction: the one run engine (``runs``: Study, Cell; built from ``specs``: RunSpec and its
key, ``store``: the run cache, ``worker``: training a task, ``executors``: worker processes or Ray), the
profiles (``profiles``: how big a reproduction is, where its files go) and the command line that executes
the notebooks (``reproduce``; ``python -m amidlib.repro``). Builds on :mod:`amidlib.data` and :mod:`amidlib.core`."""
