# Two commands matter: `make dev` (the API on http://127.0.0.1:3000/v1) and `make test`.
# Both install what they need into .venv (app + tests) and .tools (SAM CLI, cfn-lint).

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
TOOLS := .tools
PY := $(VENV)/bin/python
PORT ?= 3000
export SAM_CLI_TELEMETRY := 0

.PHONY: install dev test pytest unit integration e2e lint format check-template build lock deploy smoke clean js-deps chromium openapi scan bench key runtime-python

$(VENV)/.installed: requirements-dev.txt layers/core/requirements.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

$(TOOLS)/.installed: requirements-tools.txt
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check -r requirements-tools.txt
	touch $@

## The client-SDK suites: npm packages (pinned in tests/js/package-lock.json) and Debian's chromium.
JS := tests/js
CHROMIUM ?= /usr/bin/chromium

$(JS)/node_modules/.installed: $(JS)/package.json $(JS)/package-lock.json
	npm ci --prefix $(JS) --no-audit --no-fund --loglevel=error
	touch $@

js-deps: $(JS)/node_modules/.installed

# Playwright's own browser download needs the internet; Debian's package does not.
chromium:
	@test -x $(CHROMIUM) || { \
	  echo "Installing Debian's chromium for the browser suite (apt-get)…"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }
	@test -x $(CHROMIUM) || { echo "error: $(CHROMIUM) is missing; install Debian's chromium package" >&2; exit 1; }

# The layer ships bytecode compiled by the Lambda runtime's own Python version (template.yaml's Runtime):
# found on PATH or in pyenv (local/lambda_platform.py), else installed from Debian's packages where
# they have it (Debian 13: python3.13). Still missing, the last line says loudly how to get it.
runtime-python:
	@$(PYTHON) local/lambda_platform.py python >/dev/null 2>&1 || { \
	  package="python$$($(PYTHON) -c 'from local import lambda_platform; print(lambda_platform.load().python_version)')"; \
	  echo "Installing Debian's $$package for the layer's bytecode (apt-get)…"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq "$$package" >/dev/null || true; }
	@$(PYTHON) local/lambda_platform.py python >/dev/null

install: $(VENV)/.installed $(TOOLS)/.installed js-deps runtime-python

## The whole API locally: every route of template.yaml, AWS emulated in-process.
dev: $(VENV)/.installed
	PORT=$(PORT) $(PY) -m local.server

## Everything CI checks: lint, the template (validate, lint, build), and every test.
test: lint check-template scan pytest

pytest: $(VENV)/.installed $(TOOLS)/.installed js-deps chromium runtime-python
	$(PY) -m pytest -n auto --dist loadfile  # test modules spread over the cores, each module on one worker

unit integration e2e contract: $(VENV)/.installed runtime-python
	$(PY) -m pytest tests/$@

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(VENV)/.installed
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

## sam validate --lint, cfn-lint and sam build: all offline, no AWS account needed.
check-template: $(TOOLS)/.installed
	$(TOOLS)/bin/sam validate --lint
	$(TOOLS)/bin/cfn-lint template.yaml
	$(MAKE) build

build: $(TOOLS)/.installed runtime-python
	PATH="$(CURDIR)/$(TOOLS)/bin:$$PATH" $(TOOLS)/bin/sam build

## layers/core/requirements.lock: the layer's every package with hashes, for the template's Python on
## arm64 and x86_64 (uv). After editing layers/core/requirements.txt or the template's Runtime.
lock: $(TOOLS)/.installed
	$(MAKE) -C layers/core lock UV="$(CURDIR)/$(TOOLS)/bin/uv" PYTHON="$(CURDIR)/$(TOOLS)/bin/python"

## First deploy: samconfig.toml's defaults, only the change set to confirm (docs/deploy.md).
## GUIDED=1 asks for the stack, region and every parameter, and saves the answers in samconfig.toml.
## REGION=eu-west-1 deploys to another region than samconfig.toml's; AWS_REGION or AWS_DEFAULT_REGION, when set, do too.
REGION ?= $(or $(AWS_REGION),$(AWS_DEFAULT_REGION))
deploy: build
	$(TOOLS)/bin/sam deploy $(if $(GUIDED),--guided) $(if $(REGION),--region $(REGION))

## Prove a deployed stack works: the MFA guide over HTTP, no email or SMS needed (docs/deploy.md).
## make smoke ENDPOINT=<ApiUrl output> [PROJECT=<ProjectId>] [KEY=<users.write key: deletes the test user>] [ORIGIN=<app origin>]
smoke: $(VENV)/.installed
	@test -n "$(ENDPOINT)" || { echo "usage: make smoke ENDPOINT=<ApiUrl output, ending in /v1> [PROJECT=…] [KEY=…] [ORIGIN=…]" >&2; exit 2; }
	@AUTHCORE_SMOKE_KEY="$(KEY)" $(PY) -m admin.smoke --endpoint "$(ENDPOINT)" $(if $(PROJECT),--project "$(PROJECT)") $(if $(ORIGIN),--origin "$(ORIGIN)")

## Static security checks, offline: bandit on the Python source, checkov on template.yaml (docs/security.md).
SCAN := .scan

$(SCAN)/.installed: requirements-scan.txt
	$(PYTHON) -m venv $(SCAN)
	$(SCAN)/bin/pip install --quiet --disable-pip-version-check -r requirements-scan.txt
	touch $@

scan: $(VENV)/.installed $(SCAN)/.installed
	$(VENV)/bin/bandit -q -c pyproject.toml -r layers functions local
	$(SCAN)/bin/checkov --config-file .checkov.yaml

## Cold start, warm overhead, Argon2, round trips, memory and a 1,000-flow load test; writes bench/results/
## and docs/performance.md, docs/performance.png, docs/cost.md (about 10 minutes on 2 idle cores). The cold
## starts are of the layer as `make build` builds it (for this machine's CPU), hence runtime-python.
bench: $(VENV)/.installed runtime-python
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r bench/requirements.txt
	$(PY) -m bench

## docs/openapi.json from the handlers (tests/contract/test_openapi.py fails when it is stale).
openapi: $(VENV)/.installed
	$(PY) -m local.openapi --write

## A server API key in a deployed stack (shown once):
## make key TABLE=<TableName output> NAME=ssr-web SCOPES=sessions.write [EXPIRES=2027-01-31T00:00:00Z]
key: $(VENV)/.installed
	$(PY) -m admin.keys create --table "$(TABLE)" --name "$(NAME)" --scopes "$(SCOPES)" $(if $(EXPIRES),--expires "$(EXPIRES)")

clean:
	rm -rf .aws-sam .pytest_cache .ruff_cache
