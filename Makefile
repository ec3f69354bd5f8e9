# cxassess: make help lists the targets. Every target creates .venv first when it is missing.
.DEFAULT_GOAL := help
SHELL := /bin/bash

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATASET ?= data/sample
CYCLE ?=
PORT ?= 8888
PAPER ?= A4
SOURCE ?=
ARGS ?=

.PHONY: help env report pdf test test-slow test-all lab validate bench bench-scale sample import schema lock lint clean

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "; printf "cxassess targets (DATASET=$(DATASET) CYCLE=$(or $(CYCLE),latest)):\n"} \
	     /^[a-zA-Z_-]+:.*## / {printf "  \033[36m%-10s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

# The commands need the report (GX, papermill, nbconvert, figures), lab, xes, spark and dev extras;
# .ci/constraints.txt pins every package of that closure (make lock rewrites it).
EXTRAS := report,lab,xes,spark,dev
CONSTRAINTS := .ci/constraints.txt

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c $(CONSTRAINTS) -e '.[$(EXTRAS)]'
	@touch $(STAMP)

env: $(STAMP) ## Create or update the virtual environment .venv (python3 -m venv + pip)

report: $(STAMP) ## Produce the review: reports/<dataset>/<cycle>/index.html (ENGINE=duckdb or spark: the KPIs aggregated there)
	$(if $(ENGINE),CXASSESS_ENGINE=$(ENGINE) )$(BIN)/cxassess review --dataset $(DATASET) $(if $(CYCLE),--cycle $(CYCLE))

pdf: $(STAMP) ## Print the review to one PDF: reports/<dataset>/<cycle>/review.pdf (PAPER=A4 or Letter; needs chromium)
	$(BIN)/cxassess pdf --dataset $(DATASET) $(if $(CYCLE),--cycle $(CYCLE)) --paper $(PAPER)

test: $(STAMP) ## Lint, then run the test suite (doctests included) without the slow tests, one worker per core (about 5 min on 2 cores)
	$(BIN)/ruff check cxassess tests
	$(BIN)/python -m pytest -m "not slow" -n auto --durations=15

test-slow: $(STAMP) ## Run the slow tests alone: whole reviews on ablated and real data, large files, browser
	$(BIN)/python -m pytest -m slow --durations=15

test-all: $(STAMP) ## Lint, then every test (what CI runs)
	$(BIN)/ruff check cxassess tests
	$(BIN)/python -m pytest

lab: $(STAMP) ## Open the notebooks in JupyterLab (as root too: --allow-root is added)
	$(BIN)/jupyter lab --notebook-dir=notebooks --port=$(PORT) $(if $(filter 0,$(shell id -u)),--allow-root)

validate: $(STAMP) ## Run the data-quality gate alone on DATASET / CYCLE
	$(BIN)/cxassess validate --dataset $(DATASET) $(if $(CYCLE),--cycle $(CYCLE))

REPS ?= 3
ONLY ?=
bench: $(STAMP) ## Run the benchmarks (REPS=3, ONLY=review ...): reports/bench/*.json, then the README table
	$(BIN)/python -m tests.bench --reps $(REPS) $(foreach b,$(ONLY),--only $(b))
	$(BIN)/python -m tests.bench --readme

SCALE_REPS ?= 1
bench-scale: $(STAMP) ## Scale figures: stage metrics of a 50 M-event cycle from partitioned Parquet on DuckDB, Spark local[2], Polars (SCALE_REPS=1; about an hour, 1.5 GB of data)
	$(BIN)/python -m tests.bench --reps $(SCALE_REPS) --only scale
	$(BIN)/python -m tests.bench --readme

sample: $(STAMP) ## Regenerate the committed sample data/sample (seeded, byte-for-byte)
	$(BIN)/cxassess sample --out data/sample

import: $(STAMP) ## Import a raw export: make import SOURCE=export.csv DATASET=data/mydesk [ARGS="--timezone Europe/Rome"]
	@test -n "$(SOURCE)" || { echo "make import needs SOURCE=<exported file> DATASET=data/<name>"; exit 2; }
	@test "$(DATASET)" != "data/sample" || { echo "make import needs DATASET=data/<name> (not the sample)"; exit 2; }
	$(BIN)/cxassess import "$(SOURCE)" --dataset $(DATASET) $(ARGS)

schema: $(STAMP) ## Print the data contract; rewrite its tables in data/README.md
	$(BIN)/cxassess schema --update data/README.md
	$(BIN)/cxassess schema

lock: $(STAMP) ## Re-pin .ci/constraints.txt to the versions installed in .venv (after changing a dependency)
	$(BIN)/python .ci/freeze.py $(EXTRAS) > $(CONSTRAINTS).new && mv $(CONSTRAINTS).new $(CONSTRAINTS)

lint: $(STAMP) ## Lint with ruff
	$(BIN)/ruff check cxassess tests

clean: ## Remove the environment, reports and caches
	rm -rf $(VENV) reports .pytest_cache .ruff_cache build cxassess.egg-info
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
