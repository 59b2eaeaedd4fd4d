# djangoes - `make test` and `make demo` work from a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
COMPAT := .venv-compat
STAMP := $(VENV)/.installed
COMPAT_STAMP := $(COMPAT)/.installed

.PHONY: test lint types unit postgres compat docs demo bench clean

$(STAMP): pyproject.toml requirements/dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[opensearch,embedded,requests]' -r requirements/dev.txt
	touch $@

$(COMPAT_STAMP): pyproject.toml requirements/compat.txt requirements/dev.txt
	$(PYTHON) -m venv $(COMPAT)
	$(COMPAT)/bin/pip install -q --upgrade pip
	$(COMPAT)/bin/pip install -q -e '.[opensearch,embedded,requests]' -r requirements/dev.txt -r requirements/compat.txt
	touch $@

test: lint types unit postgres compat docs

lint: $(STAMP)
	$(BIN)/ruff check src tests example
	$(BIN)/ruff format --check src tests example

types: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest -n 2

postgres: $(STAMP)
	$(BIN)/python -m tests.lanes postgres -- $(BIN)/pytest -n 2 -m postgres

compat: $(COMPAT_STAMP)
	$(COMPAT)/bin/python -m tests.lanes compat -- $(COMPAT)/bin/pytest -n 2

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir build/docs

demo: $(STAMP)
	$(BIN)/python example/manage.py demo

bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(COMPAT) build .pytest_cache .mypy_cache .ruff_cache
