# Quick start: `make demo` then `make test`. Both build .venv from the project's files.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test test-slow test-all bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/netgraph demo --out out/demo

# The default run: every test not marked slow (a few minutes on 2 cores).
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q -m "not slow" tests

# Slow cases (MiniLM, full training) and the notebooks; CI runs these after `make test`.
test-slow: $(STAMP)
	$(BIN)/python -m pytest -n 2 -q -m slow tests
	$(BIN)/python -m pytest -q --nbmake --nbmake-timeout=600 notebooks

test-all: test test-slow

bench: $(STAMP)
	$(BIN)/python -m benchmarks.run_all

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
