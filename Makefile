# `make run` (venv, install, local database server, demo data, API on :8000), `make test` (both storage lanes).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
PORT ?= 8000

.PHONY: run stop-db test test-wire test-memory bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,local]'
	touch $(STAMP)

# Starts (or reuses) the local SecantusDB server with its data under var/, then the API against it.
run: $(STAMP)
	INSPECT_ENV=development $(PY) -m inspect_api serve --host 127.0.0.1 --port $(PORT)

# The local database server keeps running after `make run` stops (data stays in var/); this stops it.
stop-db: $(STAMP)
	INSPECT_ENV=development $(PY) -m inspect_api local-db stop

# Both storage lanes: the whole suite over the wire (a SecantusDB server per test process), then on mongomock.
test: test-wire test-memory

test-wire: $(STAMP)
	INSPECT_ENV=testing INSPECT_TEST_STORE=wire $(PY) -m pytest -n 2 --dist loadfile

test-memory: $(STAMP)
	INSPECT_ENV=testing INSPECT_TEST_STORE=memory $(PY) -m pytest -n 2 --dist loadfile

bench: $(STAMP)
	for b in bench/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache test-output
