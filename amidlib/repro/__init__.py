"""Running a reproduction: the one run engine (``runs``: RunSpec, RunCache, Study), the profiles
(``profiles``: how big a reproduction is, where its files go) and the command line that executes the
notebooks (``reproduce``; ``python -m amidlib.repro``). Builds on :mod:`amidlib.data` and :mod:`amidlib.core`."""
