# Two commands on a fresh clone: `make run` (serve the demo hospital) and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HIS_PORT ?= 8000
HIS_WORKERS ?= 4
STAMP := $(VENV)/.installed

.PHONY: venv run serve test lint format migrate seed clean bench bench-sincro reliability messages mutate

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

# The Sincro worker runs beside the server (docs/sincro.md); one Ctrl-C stops both.
run: seed
	$(BIN)/python manage.py ensure_demo_admin
	@echo "Sincro: rows written to TT_RESERVATIONS_TMP, TT_DELETE_RESERVATION and TT_DOWNLOADS_TMP are applied as $${HIS_SINCRO_CLIENT:-sincro-demo} (docs/sincro.md)."
	HIS_SINCRO_CLIENT=$${HIS_SINCRO_CLIENT:-sincro-demo} HIS_DEBUG=$${HIS_DEBUG:-1} HIS_LOG_FORMAT=$${HIS_LOG_FORMAT:-text} \
		sh -c '$(BIN)/python manage.py sincro_worker & worker=$$!; trap "kill $$worker 2>/dev/null" EXIT INT TERM; \
		$(BIN)/python manage.py runserver 127.0.0.1:$(HIS_PORT)'

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

# Sincro on PostgreSQL (docs/sincro.md): rows per second with one and two workers, INSERT to
# STATUS_TRIGGER latency, reading each view; BENCH_ARGS="--appointments 1000000" fills the database first.
bench-sincro: venv
	$(BIN)/python bench/sincro.py $(BENCH_ARGS)

clean:
	rm -rf mutants $(VENV) db.sqlite3* media staticfiles .pytest_cache

# The admin's and the desk's own strings: refreshes locale/*/LC_MESSAGES/django.po from the code (needs
# gettext), then compiles the .mo files, which are committed. tests/test_translations.py checks both.
MESSAGES_IGNORE := --ignore=.venv --ignore=tests --ignore=bench --ignore=staticfiles --ignore=media --ignore=docs --ignore=mutants
messages: venv
	$(BIN)/python manage.py makemessages -l es -l it --no-obsolete $(MESSAGES_IGNORE)
	$(BIN)/python manage.py compilemessages --ignore=.venv --ignore=mutants
