# peerbridge: `make run` serves the demo network, `make test` runs the whole suite.
# Both rest on `make install`, which is idempotent and quick when nothing changed.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
UV := $(BIN)/uv
STAMP := $(VENV)/.install-stamp
NPM_STAMP := node_modules/.install-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
# The suite runs on this many processes (pytest-xdist), each test file whole on one of them;
# every process has its own SQLite and PostgreSQL databases. PYTEST_WORKERS=0 runs it in one.
PYTEST_WORKERS ?= 2

.PHONY: install run test lint typecheck format lock bench clean-db worker

install: $(STAMP) $(NPM_STAMP)
	@mkdir -p var/mail
	@$(BIN)/peerbridge db upgrade

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(UV): $(BIN)/python
	$(BIN)/python -m pip install --quiet uv==0.13.8

$(STAMP): requirements.lock pyproject.toml $(UV)
	$(UV) pip sync --quiet --python $(BIN)/python requirements.lock
	$(UV) pip install --quiet --python $(BIN)/python --no-deps -e .
	@touch $(STAMP)

$(NPM_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(NPM_STAMP)

run: install
	$(BIN)/peerbridge demo-data --if-empty
	$(BIN)/peerbridge serve --host $(HOST) --port $(PORT)

worker: install
	$(BIN)/peerbridge worker

test: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check .

# mypy over the packages named in pyproject.toml ([tool.mypy]); incremental through .mypy_cache.
typecheck: $(STAMP)
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format backend schema web matching tests bench

# Re-pin every dependency after a change to pyproject.toml.
lock: $(UV)
	$(UV) pip compile --quiet pyproject.toml --extra dev -o requirements.lock --python-version 3.11

bench: install
	$(BIN)/python bench/run.py

clean-db:
	rm -f var/peerbridge.db var/peerbridge.db-wal var/peerbridge.db-shm
