# Two commands on a fresh clone: `make run` (serve the demo hospital) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HIS_PORT ?= 8000
HIS_WORKERS ?= 4
STAMP := $(VENV)/.installed

.PHONY: venv run serve test lint format migrate seed clean bench reliability mutate

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed: $(PYTHON) was not found (set PYTHON=...)."; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

migrate: venv
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo

run: seed
	$(BIN)/python manage.py ensure_demo_admin
	HIS_DEBUG=$${HIS_DEBUG:-1} HIS_LOG_FORMAT=$${HIS_LOG_FORMAT:-text} $(BIN)/python manage.py runserver 127.0.0.1:$(HIS_PORT)

serve: venv
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/gunicorn his.wsgi:application --config python:ops.gunicorn_config --bind $${HIS_BIND:-127.0.0.1:$(HIS_PORT)} --workers $(HIS_WORKERS)

test: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Concurrency, crash and scale-out tests against real gunicorn servers on PostgreSQL (docs/reliability.md).
# One of them stops and starts the local PostgreSQL (pg_ctlcluster, as root): run it on a machine of its own.
reliability: venv
	DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/his_system} $(BIN)/python -m pytest -m system tests/system $(PYTEST_ARGS)

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: venv
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Builds the benchmark hospital in PostgreSQL (BENCH_REUSE=1 keeps one built in the last days), serves
# it with gunicorn, drives it with wrk and writes bench/results.json and docs/performance.md.
bench: venv
	@command -v wrk >/dev/null 2>&1 || { echo "make bench needs wrk (Debian: apt-get install wrk)."; exit 1; }
	$(BIN)/python bench/run.py $(if $(BENCH_REUSE),--reuse) $(BENCH_ARGS)

# Mutation testing of the modules that hold the contract's rules, against their fast tests (docs/testing.md).
# Slow (minutes per module): not part of CI; run before each release. MUTATE_ARGS narrows it to some
# mutants, e.g. MUTATE_ARGS='"clients.scope*"'. Survivors: `.venv/bin/mutmut results`, `mutmut show NAME`.
mutate: venv
	rm -rf mutants
	$(BIN)/mutmut run $(MUTATE_ARGS)
	$(BIN)/mutmut results | { grep -v ': not checked$$' || true; }

clean:
	rm -rf mutants $(VENV) db.sqlite3* media staticfiles .pytest_cache
