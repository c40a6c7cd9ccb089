# DeltaStream developer workflow. `make` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help

# The Lambda runtime is python3.12: use it when the machine has one (pyenv shims may list a
# python3.12 that is not active, so each candidate is tried, not just looked up).
PYTHON ?= $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12 /usr/bin/python3.12 python3; do \
	$$p -c 'import sys; assert sys.version_info >= (3, 11)' >/dev/null 2>&1 && { echo $$p; break; }; done)
VENV    := .venv
BIN     := $(VENV)/bin
TOOLS   := .tools
STAMP   := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
TOOLS_STAMP := $(TOOLS)/.installed
# SAM CLI and cfn-lint pin their own dependency trees; they live in a venv of their own.
SAM_CLI := aws-sam-cli==1.170.0 cfn-lint==1.58.0

STACK   ?= deltastream-dev
CONFIG_ENV ?= dev
FUNCTION ?= FeedFunction
PRODUCT ?= NIFTY
SPEED   ?= 1
PORT    ?= 3000
EVENT   ?= events/$(FUNCTION).json
export AWS_DEFAULT_REGION ?= us-east-1
export SAM_CLI_TELEMETRY := 0
# `sam build` looks for the runtime's interpreter on PATH; the venv provides python3.12.
export PATH := $(CURDIR)/$(BIN):$(PATH)

.PHONY: help setup web run simulate test test-unit lint fmt bench validate build deploy deploy-web invoke clean

help: ## List the targets
	@echo "DeltaStream — make targets:"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "error: no python3 (>= 3.11) found" >&2; exit 1; }
	@test -x $(BIN)/python || { echo "creating $(VENV) with $(PYTHON)"; $(PYTHON) -m venv $(VENV); }
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

$(TOOLS_STAMP): Makefile
	@test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check $(SAM_CLI)
	@touch $@

setup: $(STAMP) ## Create .venv (python3.12 when present) and install everything; quick when nothing changed

# The dashboard: npm packages pinned by web/package-lock.json, from the npm registry only.
WEB_STAMP := web/node_modules/.installed
$(WEB_STAMP): web/package.json web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	@touch $@

web: $(WEB_STAMP) ## Build the dashboard into web/dist (Vite); `make run` does it when web/ changed
	cd web && npm run build

run: setup ## Start the whole stack locally: Redis, embedded MongoDB, the local cloud on template.yaml
	PYTHONPATH=infra $(BIN)/python -m devstack --port $(PORT) --speed $(SPEED) $(RUN_ARGS)

simulate: setup ## Watch the simulated market and its analytics in the terminal (PRODUCT=NIFTY)
	$(BIN)/python -m deltastream.simulate $(PRODUCT) --speed 60

test: setup web ## Run every test tier: the page's unit tests (Vitest), then pytest (unit, functional, e2e)
	cd web && npx --no-install vitest run
	$(BIN)/python -m pytest

test-unit: setup ## Run the unit tier only
	$(BIN)/python -m pytest tests/unit

lint: setup $(WEB_STAMP) ## ruff (lint + format check), mypy, and tsc on the dashboard
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	cd web && npx --no-install tsc --noEmit

fmt: setup ## Format the code and apply safe lint fixes
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev,bench]'
	@touch $@

bench: $(BENCH_STAMP) ## Benchmarks against peers, printed as ratios measured in one run
	PYTHONPATH=infra $(BIN)/python -m bench $(BENCH)

validate: $(TOOLS_STAMP) ## sam validate --lint and cfn-lint on template.yaml
	$(TOOLS)/bin/sam validate --lint --template template.yaml
	$(TOOLS)/bin/cfn-lint template.yaml

build: $(TOOLS_STAMP) setup ## sam build (layers and functions into .aws-sam/)
	$(TOOLS)/bin/sam build --template template.yaml

deploy: build ## sam deploy to AWS (CONFIG_ENV=dev|prod, see samconfig.toml)
	$(TOOLS)/bin/sam deploy --config-env $(CONFIG_ENV)

deploy-web: setup ## Upload web/dist (build it with `make web`) and config.json to STACK's dashboard bucket
	PYTHONPATH=infra $(BIN)/python -m deploy_web --stack-name $(STACK) --dist web/dist

invoke: build ## sam local invoke FUNCTION with EVENT (needs Docker; use the local cloud without it)
	$(TOOLS)/bin/sam local invoke $(FUNCTION) --event $(EVENT)

clean: ## Remove build outputs and caches (keeps the venvs)
	rm -rf .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis
