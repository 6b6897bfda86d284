"""How `make test` spreads the tests over the machine's cores (pytest-xdist, ``-n 2 --dist loadgroup``).

- A test file is one group, run by one worker in its order: its module-scoped fixtures (a trained run, a
  reproduction) are built once, as in a serial run.
- The notebooks are one group, run in their numbered order by one worker: 06_report reads what 00-05 wrote, as in
  ``make reproduce``, where the report also runs last. With their committed defaults (explore mode) 00-06 read the
  committed reproduction's run records and train nothing. They share that worker with ``tests/test_reproduce.py``
  (a whole reproduction at profile ci), run first.
- The groups that take longest start first (:data:`SLOWEST`, measured with ``--durations``), so no core waits at
  the end for a long file started last; the rest keep their collected order.

Without xdist (``pytest tests/``, one process) none of this changes anything.
"""
from __future__ import annotations

from pathlib import Path

import pytest

#: the slowest groups of `make test`, longest first (seconds in a serial run on 2 cores, `pytest --durations=100`,
#: 2026-12-07): they start first
SLOWEST = ("reproduction",                  # ~230 s: tests/test_reproduce.py (a whole reproduction at profile ci,
                                            # the video tier, kernels), then the eight notebooks (explore mode)
           "tests/test_paper_profile.py",   # ~85 s
           "tests/test_cache_key.py",       # ~55 s
           "tests/test_ddp.py",             # ~45 s
           "tests/test_browser.py",         # ~40 s
           "tests/test_gpu_check.py",       # ~35 s
           "tests/test_decode_workers.py",  # ~25 s
           "tests/test_ray.py",             # ~25 s
           "tests/test_verify.py",          # ~40-60 s over its 36 tests: late in the collected order, it was a tail
           "tests/test_process_tree.py",    # ~25 s: two ci reproductions started and stopped
           "tests/test_bad_input.py")       # ~20 s: two notebooks through papermill
_ROOT = Path(__file__).resolve().parent


#: files that run with the notebooks, before them (see the module's docstring)
WITH_THE_NOTEBOOKS = ("tests/test_reproduce.py",)


def _group(item: pytest.Item) -> str:
    path = Path(str(item.path)).resolve().relative_to(_ROOT)
    return "reproduction" if path.parts[0] == "notebooks" or path.as_posix() in WITH_THE_NOTEBOOKS else path.as_posix()


@pytest.hookimpl(tryfirst=True)  # (before pytest-xdist's own hook, which reads the xdist_group marks)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not getattr(config.option, "loadgroup", False):  # (pytest-xdist's --dist loadgroup, set in its workers)
        return
    for item in items:  # every test, whatever plugin collected it (nbval's notebook cells too)
        if not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group(_group(item)))
    rank = {group: i for i, group in enumerate(SLOWEST)}
    items.sort(key=lambda item: rank.get(_group(item), len(rank)))  # (stable: each file keeps its order)
