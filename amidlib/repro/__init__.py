"""Running a reproduction: the one run engine (``runs``: Study, Cell; built from ``specs``: RunSpec and its
key, ``store``: the run cache, ``worker``: training a task, ``executors``: worker processes or Ray), the
profiles (``profiles``: how big a reproduction is, where its files go; its parts in ``profile_record``,
``profile_values``, ``profile_loading`` and ``requirements``) and the command line that executes the notebooks
(``reproduce``; ``python -m amidlib.repro``; the files it leaves: ``reproduction_files``). Builds on
:mod:`amidlib.data` and :mod:`amidlib.core`."""
