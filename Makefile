# PyCaret Studio: `make run` and `make test` set up .venv themselves on a fresh machine.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/pip install --quiet --disable-pip-version-check
export LITELLM_LOCAL_MODEL_COST_MAP := True

.PHONY: run test lint format bench migrate seed clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(PIP) -r requirements.txt 2> >(grep -v "is ignored: it is neither" >&2)
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(PIP) -r requirements-dev.txt 2> >(grep -v "is ignored: it is neither" >&2)
	touch $(VENV)/.runtime-installed $@

migrate: $(VENV)/.runtime-installed
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

run: seed
	@echo ""
	@echo "  PyCaret Studio is starting at http://127.0.0.1:8000/  (Ctrl-C stops web, worker and beat)"
	@echo ""
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/honcho start -f Procfile

test: $(VENV)/.dev-installed
	$(BIN)/python manage.py collectstatic --noinput -v 0
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(VENV)/.dev-installed
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/overhead.py
	$(BIN)/python bench/serving.py

clean:
	rm -rf var/queue var/pytest-* var/test.sqlite3
