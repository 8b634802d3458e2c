# Two commands: `make run` (venv, install, demo data, API on :8000) and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	INSPECT_ENV=development $(PY) -m inspect_api serve --host 127.0.0.1 --port 8000

test: $(STAMP)
	INSPECT_ENV=testing $(PY) -m pytest -n 2 --dist loadfile

bench: $(STAMP)
	for b in bench/*.py; do $(PY) $$b || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache test-output
