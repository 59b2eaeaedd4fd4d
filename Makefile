# djangoes - `make test` and `make demo` work from a fresh clone.
# The main lane: Django 6.1 on Python 3.13 (.venv, requirements/main.txt); the
# compatibility lane: Django 5.2 on Python 3.11 (.venv-compat, requirements/compat.txt).
# Both interpreters are found on PATH or in pyenv; name others with PYTHON= / COMPAT_PYTHON=.
PYTHON ?= $(shell .ci/find-python 3.13)
COMPAT_PYTHON ?= $(shell .ci/find-python 3.11)
VENV := .venv
BIN := $(VENV)/bin
COMPAT := .venv-compat
STAMP := $(VENV)/.installed
COMPAT_STAMP := $(COMPAT)/.installed
# The Django 6.0 lane: Python 3.12 (.venv-django60, requirements/django60.txt).
DJANGO60_PYTHON ?= $(shell .ci/find-python 3.12)
DJANGO60 := .venv-django60
DJANGO60_STAMP := $(DJANGO60)/.installed

.PHONY: test lint types browser unit postgres compat django60 cluster os219 os38 services docs demo demo-opensearch bench clean

# $(call venv,PYTHON,DIR,VERSION,REQUIREMENTS): the environment DIR with djangoes and its extras.
EXTRAS := opensearch,embedded,requests,debug-toolbar,celery,async
define venv
	@test -n "$(1)" || { echo "Cannot build $(2): Python $(3) is missing (see above)."; exit 1; }
	$(1) -m venv --clear $(2)
	$(2)/bin/pip install -q --upgrade pip
	$(2)/bin/pip install -q -e '.[$(EXTRAS)]' -r requirements/dev.txt -r $(4)
	touch $@
endef

$(STAMP): pyproject.toml requirements/main.txt requirements/dev.txt
	$(call venv,$(PYTHON),$(VENV),3.13,requirements/main.txt)

$(COMPAT_STAMP): pyproject.toml requirements/compat.txt requirements/dev.txt
	$(call venv,$(COMPAT_PYTHON),$(COMPAT),3.11,requirements/compat.txt)

$(DJANGO60_STAMP): pyproject.toml requirements/django60.txt requirements/dev.txt
	$(call venv,$(DJANGO60_PYTHON),$(DJANGO60),3.12,requirements/django60.txt)

test: lint types browser unit postgres compat django60 os219 os38 cluster docs

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
	$(BIN)/python -m tests.lanes main -- $(BIN)/pytest -n 2

postgres: $(STAMP)
	$(BIN)/python -m tests.lanes postgres -- $(BIN)/pytest -n 2 -m postgres

compat: $(COMPAT_STAMP)
	$(COMPAT)/bin/python -m tests.lanes compat -- $(COMPAT)/bin/pytest -n 2

# The suite on Django 6.0 (Python 3.12, elasticsearch-py 9, opensearch-py 3): the
# middle supported release. DJANGO60_TESTS= runs some tests only.
DJANGO60_TESTS ?=
django60: $(DJANGO60_STAMP)
	$(DJANGO60)/bin/python -m tests.lanes django60 -- $(DJANGO60)/bin/pytest -n 2 $(DJANGO60_TESTS)

# tests/cluster on a real three-node OpenSearch 2.19 cluster (tests/engines.py): one
# cluster for the lane, its tests one after another (they stop and start nodes).
cluster: $(STAMP)
	$(BIN)/python -m tests.lanes cluster -- $(BIN)/pytest -n 0 tests/cluster

# Real OpenSearch 2.19 and 3.8 (tests/engines.py; docs/engines.md): the
# suites below through opensearch-py, one node per lane, emptied between tests. Skipped,
# saying why, without Java or Maven; under .ci/run (DJANGOES_CI=1) that is a failure.
REAL_SUITES := tests/real tests/backends/test_contract.py tests/lifecycle tests/search \
	tests/rebuild tests/sync tests/queue
# Tests that start Django processes: on the newest engine only; those of the commands'
# and workers' process handling (engine-agnostic, minutes) on the emulator only.
REAL_NEWEST := tests/real/test_launcher.py tests/sync/test_processes.py \
	tests/rebuild/test_processes.py
REAL_NEVER := tests/lifecycle/test_parallel.py tests/lifecycle/test_processes.py \
	tests/queue/test_command.py tests/queue/test_django_tasks.py

os219: $(STAMP)
	$(BIN)/python -m tests.lanes os219 -- $(BIN)/pytest -n 0 $(REAL_SUITES) \
		$(addprefix --ignore=,$(REAL_NEWEST) $(REAL_NEVER))

os38: $(STAMP)
	$(BIN)/python -m tests.lanes os38 -- $(BIN)/pytest -n 0 $(REAL_SUITES) \
		$(addprefix --ignore=,$(REAL_NEVER))

# PostgreSQL and Redis started (installed as root), Java/Maven checked, OpenSearch resolved.
services:
	.ci/services.sh

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir build/docs

demo: $(STAMP)
	$(BIN)/python example/manage.py demo

# The demo on a real OpenSearch 3.8 node (Java 21+ and Maven), its data kept in build/engines/demo.
demo-opensearch: $(STAMP)
	$(BIN)/python -m tests.engines run 3.8 --http-port 9204 --transport-port 9214 \
		--data build/engines/demo --keep-data --env DEMO_SEARCH_URL -- $(BIN)/python example/manage.py demo

bench:  # builds its own environment (.venv-bench): see docs/benchmarks.md
	python3 -m bench

clean:
	rm -rf $(VENV) $(COMPAT) $(DJANGO60) build .pytest_cache .mypy_cache .ruff_cache
