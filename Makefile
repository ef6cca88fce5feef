# trailpost: `make serve` runs the server, `make test` runs the whole suite.
# Both create .venv and install the pinned dependencies themselves.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 4566
DATA   ?= ./trailpost-data

.PHONY: serve test lint format coverage-doc clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime: $(BIN)/python requirements.lock pyproject.toml
	$(BIN)/pip install --quiet -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e . || $(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.lock
	$(BIN)/pip install --quiet -r requirements-dev.lock
	touch $@

serve: $(VENV)/.runtime
	$(BIN)/trailpost serve --port $(PORT) --data-dir $(DATA)

test: $(VENV)/.dev
	$(BIN)/ruff check trailpost tests bench
	$(BIN)/python -m pytest -n 2 -q -p no:cacheprovider

lint: $(VENV)/.dev
	$(BIN)/ruff check trailpost tests bench

format: $(VENV)/.dev
	$(BIN)/ruff format trailpost tests bench

coverage-doc: $(VENV)/.runtime
	$(BIN)/python -m trailpost.tools.coverage > docs/coverage.md

clean:
	rm -rf $(VENV) .pytest_cache
