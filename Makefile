# The two commands a newcomer needs: `make run` and `make test`.
# Both create .venv and install what they need on first use.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip install --quiet --disable-pip-version-check

.PHONY: run test bench lint format install install-dev clean compose-check

$(PY):
	$(PYTHON) -m venv $(VENV)

# Reinstalled whenever a requirements file changes.
$(VENV)/.runtime: $(PY) requirements.txt requirements-nodeps.txt
	$(PIP) -r requirements.txt
	$(PIP) --no-deps -r requirements-nodeps.txt
	touch $@

$(VENV)/.dev: $(VENV)/.runtime requirements-dev.txt
	$(PIP) -r requirements-dev.txt
	touch $@

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

## run: install, migrate, create the demo data, then serve on 127.0.0.1:$${PORT:-8000} with the workers (bin/run)
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py bootstrap_demo
	exec bin/run

## test: the whole suite on the configured database and broker
test: install-dev
	$(PY) -m pytest

## bench: performance figures (see docs/performance.md); the API part needs wrk
bench: install-dev
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk)
	$(PY) bench/run.py
	$(PY) bench/quality.py
	$(PY) bench/api.py

## compose-check: build and run docker-compose.yml for real on a private Docker engine, used
## through its published port (see .ci/docker/compose-check.sh); root, Debian, a few minutes
compose-check: install-dev
	bash .ci/docker/compose-check.sh

## lint: ruff (lint and format) and mypy with the Django and DRF stubs (config in pyproject.toml)
lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf var/broker var/redis var/run var/media var/static var/db.sqlite3 var/test-*.sqlite3 var/celerybeat-schedule*
