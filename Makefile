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

test: $(VENV)/.dev $(VENV)/.chromium lint
	$(BIN)/python -m pytest -n 2 -q -p no:cacheprovider

# ruff (lint and format) and mypy (types of trailpost/, settings in pyproject.toml); part of `make test`.
lint: $(VENV)/.dev
	$(BIN)/ruff check trailpost tests bench
	$(BIN)/ruff format --check trailpost tests bench
	$(BIN)/mypy

format: $(VENV)/.dev
	$(BIN)/ruff format trailpost tests bench

coverage-doc: $(VENV)/.runtime
	$(BIN)/python -m trailpost.tools.coverage > docs/coverage.md

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache

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
# results in bench/RESULTS.md. Data dirs are generated once into bench/out/ and reused (10M: 10-25 min, ~22 GB).
.PHONY: bench-lookup

bench-lookup: $(VENV)/.runtime
	$(BIN)/python -m bench.lookup_events $(BENCH_ARGS)

# API benchmark (bench/api_throughput.py): audited calls (one process and --workers 2) against audit off, the bare
# ceiling and moto's server,
# wrk at 1/16/64 connections, event durability and memory, in one run; results in bench/RESULTS.md.
# Full: about 20 minutes on a quiet machine; `make bench-quick` (= bench-api --quick): under 3 minutes.
# `make bench-profile`: py-spy on audited CreateSite and ListSites (about 1 minute).
# `make bench` runs every part in turn: server stack (~5 min), LookupEvents (~2 min; the first time also
# 10-25 min and ~22 GB to generate bench/out/), API (~20 min), profile (~1 min), CPU per call, delivery and
# validate-logs (~3 min): about 30 minutes with bench/out/ in place. A failing part does
# not stop the others; the exit status says whether any failed.
.PHONY: bench bench-api bench-quick bench-profile bench-wrk

bench-wrk:
	command -v wrk >/dev/null 2>&1 || { apt-get update && apt-get install -y wrk; }

bench-api: $(VENV)/.bench $(VENV)/.dev bench-wrk
	$(BIN)/python -m bench.api_throughput $(BENCH_ARGS)

bench-quick: $(VENV)/.bench $(VENV)/.dev bench-wrk
	$(BIN)/python -m bench.api_throughput --quick

bench-profile: $(VENV)/.bench bench-wrk
	$(BIN)/python -m bench.profile_path $(BENCH_ARGS)

# Two revisions side by side over HTTP, interleaved (bench/revisions.py): `make bench-ab REV=<git revision>`
# compares that revision with the working tree, 4 repetitions in alternating order (about 7 minutes).
.PHONY: bench-ab
bench-ab: $(VENV)/.bench $(VENV)/.dev bench-wrk
	$(BIN)/python -m bench.revisions --rev $(REV) $(BENCH_ARGS)

# Two revisions by instructions per call under callgrind (bench/instructions.py): `make bench-instructions REV=<rev>`
# counts what each call executes in process, immune to the machine's drift (about 6 minutes).
.PHONY: bench-instructions
bench-instructions: $(VENV)/.bench $(VENV)/.dev
	command -v valgrind >/dev/null 2>&1 || { apt-get update && apt-get install -y valgrind; }
	$(BIN)/python -m bench.instructions --rev $(REV) $(BENCH_ARGS)

# CPU per audited call of the pipeline, in process (bench/cpu_per_call.py), about 1 minute.
.PHONY: bench-cpu
bench-cpu: $(VENV)/.runtime
	$(BIN)/python -m bench.cpu_per_call $(BENCH_ARGS)

bench: $(VENV)/.bench $(VENV)/.dev bench-wrk
	@echo "make bench: 30-45 minutes on a quiet machine (first run: 20-45 more to generate bench/out/)"
	@status=0; \
	for part in bench-server bench-lookup bench-api bench-profile bench-cpu bench-insert bench-delivery bench-validate; do \
	  if ! $(MAKE) -n $$part BENCH_ARGS= >/dev/null 2>&1; then echo "== $$part: no such target, skipped"; continue; fi; \
	  echo "== $$part"; $(MAKE) --no-print-directory $$part BENCH_ARGS= || { status=1; echo "== $$part FAILED"; }; \
	done; exit $$status

# Event store inserts (bench/event_insert.py): random ids under a UNIQUE index against permuted ids without it,
# at 300k and 1M events, about 4 minutes; results in bench/RESULTS.md. `BENCH_ARGS=--quick` for a short run.
.PHONY: bench-insert
bench-insert: $(VENV)/.dev bench-wrk
	$(BIN)/python -m bench.event_insert $(BENCH_ARGS)

# Trail delivery benchmark (bench/delivery.py): events/s into log files and call-to-object latency at a 1 s
# interval, results in bench/RESULTS.md. `make bench-delivery BENCH_ARGS=--quick` for a short run.
.PHONY: bench-delivery

bench-delivery: $(VENV)/.runtime
	$(BIN)/python -m bench.delivery $(BENCH_ARGS)

# Validation throughput (bench/validate_logs.py): trailpost validate-logs against aws cloudtrail validate-logs on one
# trail, in the same run; results in bench/RESULTS.md. `make bench-validate BENCH_ARGS=--quick` for a short run.
.PHONY: bench-validate

bench-validate: $(VENV)/.dev
	$(BIN)/python -m bench.validate_logs $(BENCH_ARGS)
