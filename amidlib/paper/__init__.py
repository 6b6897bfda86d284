"""The paper's results: which runs each table and figure needs (``plans``), the one registry of
row names, labels and colours (``names``), the tables (``tables``), the figures (``figures``,
``plots``), the claims (``claims``), the teaching view (``teaching``) and the ``compare`` command line.
Builds on :mod:`amidlib.repro` (the run engine) and the layers below it."""
