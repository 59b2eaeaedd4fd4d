# djangoes - `make test` and `make demo` work from a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
COMPAT := .venv-compat
STAMP := $(VENV)/.installed
COMPAT_STAMP := $(COMPAT)/.installed

.PHONY: test lint types browser unit postgres compat docs demo bench clean

$(STAMP): pyproject.toml requirements/dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[opensearch,embedded,requests,debug-toolbar,celery]' -r requirements/dev.txt
	touch $@

$(COMPAT_STAMP): pyproject.toml requirements/compat.txt requirements/dev.txt
	$(PYTHON) -m venv $(COMPAT)
	$(COMPAT)/bin/pip install -q --upgrade pip
	$(COMPAT)/bin/pip install -q -e '.[opensearch,embedded,requests,debug-toolbar,celery]' -r requirements/dev.txt -r requirements/compat.txt
	touch $@

test: lint types browser unit postgres compat docs

lint: $(STAMP)
	$(BIN)/ruff check src tests example bench
	$(BIN)/ruff format --check src tests example bench

types: $(STAMP)
	$(BIN)/mypy

# Debian's Chromium for the browser test (tests/e2e), never a browser download:
# installed with apt-get when it is missing and this runs as root; otherwise
# the browser test is skipped and says why.
CHROMIUM ?= /usr/bin/chromium
browser:
	@if [ -x "$(CHROMIUM)" ]; then \
		echo "Browser test: $$($(CHROMIUM) --version 2>/dev/null)"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Browser test: installing Debian's chromium and chromium-driver"; \
		apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver; \
	else \
		echo "Browser test SKIPPED: $(CHROMIUM) is missing and only root can install it (apt-get install chromium)."; \
	fi

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

bench:  # builds its own environment (.venv-bench): see docs/benchmarks.md
	$(PYTHON) -m bench

clean:
	rm -rf $(VENV) $(COMPAT) build .pytest_cache .mypy_cache .ruff_cache
