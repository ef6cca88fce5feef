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
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.lock
	$(BIN)/pip install --quiet -r requirements-dev.lock
	touch $@

serve: $(VENV)/.runtime
	$(BIN)/trailpost serve --port $(PORT) --data-dir $(DATA)

# The console tests drive Debian's chromium with Playwright (never `playwright install`: no downloads).
$(VENV)/.chromium: | $(BIN)/python
	command -v chromium >/dev/null 2>&1 || { apt-get update && apt-get install -y chromium; }
	touch $@

test: $(VENV)/.dev $(VENV)/.chromium
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

# Server-stack benchmark (bench/README.md): uvicorn+uvloop+httptools against granian, results in bench/RESULTS.md.
# `make bench-server BENCH_ARGS=--quick` for a short run.
.PHONY: bench-server

$(VENV)/.bench: $(VENV)/.runtime requirements-bench.lock
	$(BIN)/pip install --quiet -r requirements-bench.lock
	touch $@

bench-server: $(VENV)/.bench
	command -v wrk >/dev/null 2>&1 || { apt-get update && apt-get install -y wrk; }
	$(BIN)/python -m bench.server_stack $(BENCH_ARGS)

# LookupEvents benchmark (bench/lookup_events.py): 1M and 10M events, each attribute, p50/p99 through the API,
# results in bench/RESULTS.md. Data dirs are generated once into bench/out/ and reused (10M: ~20 min, ~20 GB).
.PHONY: bench-lookup

bench-lookup: $(VENV)/.runtime
	$(BIN)/python -m bench.lookup_events $(BENCH_ARGS)
