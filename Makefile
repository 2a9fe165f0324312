# The two commands of the README: `make run` and `make test`. Both work on a fresh Debian machine as root.
VENV ?= .venv
PY := $(VENV)/bin/python
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
PYTHON ?= python3

.PHONY: run test venv test-deps system-deps lint format bench clean

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
	@# Plain http on this machine: cookies may not be Secure-only here (they are by default, for HTTPS).
	@# The report worker builds printed reports in the background, never in the web workers.
	ASSESSMENT_SESSION_COOKIE_SECURE=false $(BIN)/assessment report-worker > instance/report-worker.log 2>&1 & \
	worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	ASSESSMENT_SESSION_COOKIE_SECURE=false $(BIN)/gunicorn --workers 2 --threads 4 --timeout 60 \
		--bind $(HOST):$(PORT) --access-logfile - 'assessment:create_app()'

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: venv
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

test: test-deps venv lint
	BIN=$(BIN) bash scripts/test-both.sh

bench: venv
	$(BIN)/python bench/score.py
	$(BIN)/python bench/score_db.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/imports.py
	$(BIN)/python bench/export.py

clean:
	rm -rf $(VENV) .pytest_cache
