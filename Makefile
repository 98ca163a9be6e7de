# The two commands the README opens with: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PASSWORD ?= iisg-demo-2026
HOST ?= 127.0.0.1
PORT ?= 5000
# The browser tests drive Debian's Chromium at this path (tests/browser/conftest.py).
CHROMIUM ?= /usr/bin/chromium
# apt-get needs root: through sudo for a person at their own machine, directly when root (CI).
SUDO ?= $(if $(filter 0,$(shell id -u)),,sudo)

.PHONY: setup translations chromium run test lint typecheck imports pytest bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

# bpmn-js (and axe-core for the browser tests) from npm, exactly as package-lock.json pins them.
node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund
	touch $@

## setup: virtual environment with the project and its tools; bpmn-js from npm
setup: $(BIN)/.installed node_modules/.installed translations

## translations: compile the message catalogues in webui/translations (the .mo files are not in git)
translations: $(BIN)/.installed
	$(BIN)/pybabel compile -d webui/translations -f --statistics

## chromium: Debian's chromium for the browser tests, installed with apt-get when it is missing
chromium:
	@if [ ! -x "$(CHROMIUM)" ]; then \
		echo "Chromium is missing; installing Debian's chromium for the browser tests."; \
		$(SUDO) apt-get update -qq && \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; \
	fi
	@if [ ! -x "$(CHROMIUM)" ]; then \
		echo "$(CHROMIUM) is still missing; install Debian's chromium (apt-get install chromium)." >&2; \
		exit 1; \
	fi

## run: set up, migrate, deploy bpmn/, load demo data, serve on http://$(HOST):$(PORT)
## (the demo signs in with passwords alone: IISG_TWO_FACTOR_REQUIRED=false). The demo database
## follows the diagrams of this working copy: a diagram changed since the last `make run` is
## put in force without a Board decision, and the audit trail says so (`iisg deploy` alone
## keeps it a draft until the Board adopts it).
run: setup
	$(BIN)/iisg db upgrade
	$(BIN)/iisg deploy --without-board-adoption --reason "make run: the demo follows the diagrams of its working copy"
	$(BIN)/iisg demo --password "$(PASSWORD)"
	@echo "Log in as any user above with the password: $(PASSWORD)"
	IISG_TWO_FACTOR_REQUIRED=$${IISG_TWO_FACTOR_REQUIRED:-false} $(BIN)/iisg serve --host $(HOST) --port $(PORT)

## test: set up, lint, type-check, check the layers, run the suite (SQLite, and
## PostgreSQL too when IISG_TEST_POSTGRESQL_URL is set, as .ci/run does); installs Debian's
## chromium for the browser tests when it is missing
test: setup lint typecheck imports pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy

imports: setup
	$(BIN)/lint-imports

pytest: setup chromium
	@echo "== tests on SQLite"
	IISG_TEST_DATABASE_URL= $(BIN)/pytest
	@if [ -n "$$IISG_TEST_POSTGRESQL_URL" ]; then \
		echo "== tests on PostgreSQL"; \
		IISG_TEST_DATABASE_URL="$$IISG_TEST_POSTGRESQL_URL" $(BIN)/pytest; \
	fi

## bench: every page a person opens at 10,000 instances, a task completion through the API,
## 8 clients at once, the scheduler and stored bytes, on SQLite and on PostgreSQL
## (IISG_BENCH_POSTGRESQL_URL, else the local server: databases of its own, dropped after);
## prints each figure against its budget, writes bench/results.json, exits 1 on a miss.
## IISG_BENCH_SOURCE=<tree> measures that source tree's code with this bench
bench: setup
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache *.egg-info
