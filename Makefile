# Two commands do all set-up on a fresh machine (see README):
#   make demo   creates .venv if missing, then runs the whole pipeline on the built-in synthetic dataset
#   make test   creates .venv if missing, then checks export/clean, runs every notebook and the pytest suite
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_DIR ?= outputs/demo

.PHONY: demo test docs env

env: $(STAMP)

$(STAMP): requirements-dev.txt settings.ini setup.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/python -m pip install -q --disable-pip-version-check --no-deps -e .
	@touch $@

demo: $(STAMP)
	$(BIN)/hpa_demo --dest $(DEMO_DIR)

test: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" bash tools/test.sh

docs: $(STAMP)
	PATH="$(abspath $(BIN)):$$PATH" bash tools/docs.sh
