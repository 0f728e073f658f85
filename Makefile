# The front door. A newcomer needs two commands: `make run` and `make test`.
# Both set up what they need first (virtualenv, Python packages, d3 for the page).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
D3     := frontend/node_modules/d3/dist/d3.min.js
CHROMIUM ?= /usr/bin/chromium

.PHONY: run test unit integration e2e lint format bench setup frontend browser clean

run: setup frontend ## the live demo on embedded components, at http://127.0.0.1:8000
	@echo ">> starting Trending Now (embedded Kafka, PostgreSQL, Redis); Ctrl-C stops it"
	$(BIN)/trending up

test: setup frontend browser ## the whole suite: unit, integration (real stack), e2e (Chromium)
	@echo ">> running the whole test suite"
	$(BIN)/python -m pytest
	@echo ">> frontend module checks (node --test)"
	cd frontend && npm run --silent check

unit: setup
	$(BIN)/python -m pytest tests/unit

integration: setup frontend browser
	$(BIN)/python -m pytest tests/integration

e2e: setup frontend browser
	$(BIN)/python -m pytest tests/e2e

lint: setup ## ruff (lint + format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: setup
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: setup ## benchmarks that print figures (last line JSON)
	$(BIN)/python -m bench.pipeline

setup: $(STAMP)

$(STAMP): pyproject.toml
	@echo ">> creating the virtualenv in $(VENV) and installing the project (a minute or two the first time)"
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

frontend: $(D3)

$(D3): frontend/package.json frontend/package-lock.json
	@echo ">> installing the page's pinned d3 from npm (served locally, no CDN)"
	npm ci --prefix frontend --no-audit --no-fund --loglevel=error
	@touch $@

browser: ## Debian's chromium (browser tests) and prometheus + promtool (alert tests)
	@test -x $(CHROMIUM) -a -x /usr/bin/promtool || { \
	  echo ">> installing Debian's chromium and prometheus for the browser and alert tests"; \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium prometheus >/dev/null; \
	  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium prometheus >/dev/null; fi; }

clean:
	rm -rf .trending .pytest_cache .mypy_cache .ruff_cache build *.egg-info
