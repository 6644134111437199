# Two commands on a fresh machine: `make demo` then `make test`. Everything else is optional.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
# uv from PATH, else as a Python module (installed below when missing)
UV := $(if $(shell command -v uv 2>/dev/null),uv,python3 -m uv)
export DAGSTER_HOME := $(CURDIR)/dagster_home
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export PYTHONDONTWRITEBYTECODE :=
DBT_SOURCES := $(shell find dbt -type f \( -name '*.sql' -o -name '*.yml' -o -name '*.csv' -o -name '*.md' \) -not -path 'dbt/target/*' 2>/dev/null)
MANIFEST := dbt/target/manifest.json

.PHONY: help install demo test ui refresh versions rollback query docs demo-failure benchmark clean

help:
	@echo "make demo       install, generate demo data, refresh, publish (prints the published DB and a query)"
	@echo "make test       run the test suite"
	@echo "make ui         open the Dagster UI on http://127.0.0.1:3000"
	@echo "make refresh    run the full refresh on what is in the landing zone"
	@echo "make versions   list published versions;  make rollback [VERSION=N]"
	@echo "make query SQL=\"select ...\"   a read-only query on the published database"
	@echo "make docs       dbt docs (indicator definitions, lineage) on http://127.0.0.1:8080, after a refresh"
	@echo "make demo-failure  a bad 5W row (set aside, error report) then an unreadable 5W file (blocked publish), in a scratch area"

install: $(VENV)/.installed $(MANIFEST)

$(VENV)/.installed: pyproject.toml uv.lock
	@command -v uv >/dev/null 2>&1 || python3 -m uv --version >/dev/null 2>&1 || \
		python3 -m pip install --quiet uv || python3 -m pip install --quiet --user uv || \
		python3 -m pip install --quiet --break-system-packages uv
	$(UV) sync --frozen
	@touch $@

# dagster-dbt reads the manifest; prepare it at install time, never at import time
$(MANIFEST): $(VENV)/.installed $(DBT_SOURCES)
	$(VENV)/bin/dagster-dbt project prepare-and-package --file dagster_project/transform/project.py
	@touch $@

demo: install
	$(PY) -m dagster_project demo

test: install
	$(PY) -m pytest

refresh: install
	$(PY) -m dagster_project refresh

versions: install
	$(PY) -m dagster_project versions

rollback: install
	$(PY) -m dagster_project rollback $(if $(VERSION),--version $(VERSION))

query: install
	$(PY) -m dagster_project query "$(SQL)"

ui: install
	$(VENV)/bin/dagster dev -w workspace.yaml

# the catalog is read from the working warehouse (WAREHOUSE_DB), so run a refresh first
docs: install
	cd dbt && ../$(VENV)/bin/dbt docs generate --profiles-dir . --target-path ../data/dbt_docs && \
		../$(VENV)/bin/dbt docs serve --profiles-dir . --target-path ../data/dbt_docs --port 8080

demo-failure: install
	$(PY) -m dagster_project.demo.failure

benchmark: install
	$(PY) benchmarks/refresh_benchmark.py

clean:
	rm -rf data dbt/target dbt/logs $(VENV)
