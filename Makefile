# Guanjia — `make demo` to run it, `make test` to test it.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
GUANJIA := $(BIN)/guanjia
HOST ?= 127.0.0.1
PORT ?= 8000
export GUANJIA_DATA_DIR ?= $(CURDIR)/var

.PHONY: install demo serve test test-browser lint wheelhouse install-offline schema messages clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

## demo: install, migrate an SQLite database, load demo data, run the web server and the worker.
demo: install
	$(GUANJIA) migrate --noinput
	$(GUANJIA) demo-data --if-empty
	$(BIN)/python scripts/run_demo.py --host $(HOST) --port $(PORT)

## test: the whole suite on SQLite (DATABASE_URL=postgres://... runs it on PostgreSQL).
test: install
	$(BIN)/pytest -q -p no:cacheprovider

## test-browser: the Playwright tests alone (Debian's chromium at /usr/bin/chromium).
test-browser: install
	$(BIN)/pytest -q -m browser -p no:cacheprovider

lint: install
	$(BIN)/ruff check guanjia bench scripts
	$(BIN)/ruff format --check guanjia bench scripts
	$(BIN)/mypy guanjia
	$(GUANJIA) check --fail-level WARNING
	$(GUANJIA) makemigrations --check --dry-run
	$(GUANJIA) spectacular --file /tmp/guanjia-openapi.yaml --validate --fail-on-warn
	diff -u docs/openapi.yaml /tmp/guanjia-openapi.yaml

## schema: regenerate the committed OpenAPI schema.
schema: install
	$(GUANJIA) spectacular --file docs/openapi.yaml --validate

## messages: extract the English catalogue to translate (needs GNU gettext). UI strings are
## written in Simplified Chinese, the default language, so zh-hans needs no catalogue.
messages: install
	cd guanjia && ../$(GUANJIA) makemessages -l en --ignore 'static/*'

## wheelhouse: every wheel the platform needs, for a machine with no package index.
wheelhouse: $(BIN)/python
	$(BIN)/pip wheel --quiet --wheel-dir wheelhouse '.[dev]'
	@echo "wheels in ./wheelhouse; on the offline machine: make install-offline"

install-offline:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --no-index --find-links wheelhouse 'guanjia[dev]'
	touch $(VENV)/.installed

clean:
	rm -rf $(VENV) var build dist *.egg-info
