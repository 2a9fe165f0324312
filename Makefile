# The two commands of the README: `make run` and `make test`. Both work on a fresh Debian machine as root.
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
PYTHON ?= python3

.PHONY: run test venv test-deps system-deps test-sqlite test-postgres lint bench clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

venv: $(VENV)/.installed

system-deps:
	bash scripts/system-deps.sh run

test-deps:
	bash scripts/system-deps.sh test

run: system-deps venv
	$(BIN)/assessment init-db
	$(BIN)/assessment demo-data --if-empty
	$(BIN)/assessment ensure-admin
	$(BIN)/assessment demo-access --base-url http://$(HOST):$(PORT)
	@echo "Serving on http://$(HOST):$(PORT)/office/  (Ctrl-C to stop)"
	$(BIN)/gunicorn --workers 2 --threads 4 --timeout 180 --bind $(HOST):$(PORT) --access-logfile - 'assessment:create_app()'

test: test-deps venv
	$(BIN)/python -m pytest -q -p no:cacheprovider
	ASSESSMENT_TEST_DATABASE_URL=$$(bash scripts/postgres.sh assessment_test | tail -n 1) \
		$(BIN)/python -m pytest -q -p no:cacheprovider -m "not e2e"

bench: venv
	$(BIN)/python bench/score.py
	$(BIN)/python bench/score_db.py
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) .pytest_cache
