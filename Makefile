# The front door: `make run` runs the bot, `make test` runs every check.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip -qq
STAMP := $(VENV)/.installed

# Tests use the machine's PostgreSQL/Redis when they answer on 127.0.0.1, else the embedded ones.
PG_UP := $(shell pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null && echo yes)
REDIS_UP := $(shell (exec 3<>/dev/tcp/127.0.0.1/6379 && printf 'PING\r\n' >&3 && head -c5 <&3) 2>/dev/null | grep -q PONG && echo yes)
TEST_DATABASE_URL ?= $(if $(PG_UP),postgres://postgres@127.0.0.1:5432/test,)
TEST_REDIS_URL ?= $(if $(REDIS_UP),redis://127.0.0.1:6379/9,)
TEST_ENV := DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) DJANGO_SETTINGS_MODULE=tradebot.settings.test

.PHONY: install run stop faults test lint schema schema-check typecheck pytest bench migrations-check compose-check lock clean demo-data \
	dashboard frontend-lint frontend-test

$(VENV)/bin/python:
	@command -v $(PYTHON) >/dev/null || { echo "need $(PYTHON)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# pip reads the machine's find-links, where torch==2.13.0 is a CPU wheel (never use uv/poetry here).
$(STAMP): $(VENV)/bin/python requirements/*.txt
	$(VENV)/bin/python -m pip install -qq --upgrade "pip>=25"
	$(PIP) install -r requirements/dev.txt
	@touch $(STAMP)

install: $(STAMP)

## run: build the dashboard, migrate, seed, load demo data, start web + workers + beat + Flower
run: install dashboard
	$(PY) manage.py runbot

stop: install
	TRADEBOT_NO_EMBEDDED_START=1 $(PY) manage.py runbot --stop

## faults: the fault suite (whole bot, 1,000 articles, kills, Redis/PostgreSQL restarts, broker faults)
faults: install
	env -u DATABASE_URL -u REDIS_URL $(PY) -m faults $(FAULTS_ARGS)

## test: ruff, import-linter (layers, no cycles), mypy, migrations check, compose validation, pytest (real PostgreSQL and Redis)
test: install lint migrations-check compose-check pytest frontend-test

lint: install frontend-lint
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(TEST_ENV) $(VENV)/bin/mypy .
	$(MAKE) --no-print-directory schema-check

## schema: regenerate the committed OpenAPI document (the dashboard's typed client is built from it)
SCHEMA := docs/openapi.yaml
schema: install
	$(TEST_ENV) $(PY) manage.py spectacular --validate --fail-on-warn --file $(SCHEMA)

## schema-check: the document validates with no warnings and regenerating it changes nothing
schema-check: install
	$(TEST_ENV) $(PY) manage.py spectacular --validate --fail-on-warn --file /tmp/tradebot-openapi.$$$$.yaml \
	  && { diff -u $(SCHEMA) /tmp/tradebot-openapi.$$$$.yaml > /dev/null \
	       || { diff -u $(SCHEMA) /tmp/tradebot-openapi.$$$$.yaml | head -40; rm -f /tmp/tradebot-openapi.$$$$.yaml; \
	            echo "$(SCHEMA) is out of date: run make schema and commit it"; exit 1; }; } \
	  && rm -f /tmp/tradebot-openapi.$$$$.yaml

migrations-check: install
	$(TEST_ENV) $(PY) manage.py makemigrations --check --dry-run

compose-check: install
	$(VENV)/bin/check-jsonschema --builtin-schema vendor.compose-spec docker-compose.yml

pytest: install
	$(TEST_ENV) $(VENV)/bin/pytest $(PYTEST_ARGS)

bench: install
	$(PIP) install -r requirements/bench.txt
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(subst /9,/11,$(TEST_REDIS_URL)) $(PY) -m bench

lock:
	rm -rf /tmp/tradebot-lock && $(PYTHON) -m venv /tmp/tradebot-lock
	/tmp/tradebot-lock/bin/pip install -qq -r requirements/bench.txt
	{ echo "# Full lock of every transitive dependency (Python 3.11). Regenerate: make lock"; \
	  /tmp/tradebot-lock/bin/pip freeze --all --exclude pip | sed 's/^torch==2.13.0+cpu/torch==2.13.0/'; } \
	  > requirements/constraints.txt

# The dashboard (frontend/): Node 20 + npm. No browser download: the e2e drives Debian's
# /usr/bin/chromium (CHROMIUM=...), which .ci/run installs when it is missing.
NPM := $(shell command -v npm 2>/dev/null)
FE := frontend
FE_STAMP := $(FE)/node_modules/.installed
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD := 1

$(FE_STAMP): $(FE)/package.json $(FE)/package-lock.json
	cd $(FE) && npm ci --no-audit --no-fund --loglevel=error
	@touch $@

## dashboard: build frontend/dist when npm is available (the web process serves it at /)
dashboard:
ifeq ($(NPM),)
	@echo "npm not found: the dashboard is not built (the web process answers / with how to build it)"
else
	@$(MAKE) --no-print-directory $(FE_STAMP)
	cd $(FE) && npm run --silent build
endif

frontend-lint: $(FE_STAMP)
	cd $(FE) && npm run --silent lint && npx tsc -b && npm run --silent check:api

## frontend-test: Vitest component tests, the Playwright e2e against a real backend, budgets
frontend-test: install $(FE_STAMP)
	cd $(FE) && npx vitest run
	cd $(FE) && npm run --silent build && npm run --silent budget
	$(TEST_ENV) node $(FE)/e2e/run.mjs

clean:
	rm -rf .mypy_cache .ruff_cache .pytest_cache
