# Qunyun: `make run` (embedded demo) and `make test` (the whole suite). See README.md.
SHELL := /bin/bash
PYTHON ?= python3
# uv from PATH, or bootstrapped into var/tools on a machine that has only Python.
UV ?= $(shell command -v uv 2>/dev/null || echo var/tools/bin/uv)
HOST ?= 127.0.0.1
PORT ?= 8000
# `make run TELEGRAM_BOT_TOKEN=123:ABC…` connects that bot to this demo organization (polling).
TELEGRAM_ORG ?= jiankang
export TELEGRAM_BOT_TOKEN

# The embedded mode: SQLite under var/, Celery through a folder, no Redis, no PostgreSQL.
EMBEDDED_ENV = DEBUG=1 DATABASE_URL=sqlite:///var/db.sqlite3 REDIS_URL= \
	CELERY_BROKER_URL=filesystem:// SITE_URL=http://$(HOST):$(PORT)

.PHONY: run test deps lint format messages clean bench

var/tools/bin/uv:
	$(PYTHON) -m venv var/tools
	var/tools/bin/pip install --quiet "uv>=0.5,<1"

deps: $(if $(findstring var/tools,$(UV)),var/tools/bin/uv)
	UV_PYTHON_DOWNLOADS=never $(UV) sync --frozen --quiet

run: deps
	mkdir -p var/broker/out var/broker/processed var/broker/control
	$(EMBEDDED_ENV) $(UV) run python manage.py migrate --noinput
	$(EMBEDDED_ENV) $(UV) run python manage.py seed_demo
	@echo ""
	@echo "  Qunyun is starting at http://$(HOST):$(PORT)/  (Ctrl-C stops the web server and the worker)"
	@echo "  API docs: http://$(HOST):$(PORT)/api/docs/"
	@if [ -n "$$TELEGRAM_BOT_TOKEN" ]; then \
		$(EMBEDDED_ENV) $(UV) run python manage.py telegram_connect --org $(TELEGRAM_ORG) --mode polling; fi
	@if $(EMBEDDED_ENV) $(UV) run python manage.py telegram_poll --configured; then \
		echo "  Telegram: the poller runs too (docs/connectors.md)"; echo ""; fi
	$(EMBEDDED_ENV) HOST=$(HOST) PORT=$(PORT) exec $(UV) run honcho -f Procfile.dev start \
		$$($(EMBEDDED_ENV) $(UV) run python manage.py telegram_poll --configured \
			&& echo web worker telegram || echo web worker)

test: deps
	UV="$(UV)" bash scripts/test.sh

lint: deps
	$(UV) run ruff check .
	$(UV) run ruff format --check .
	$(UV) run lint-imports

format: deps
	$(UV) run ruff check --fix .
	$(UV) run ruff format .

# Benchmarks on the real stack (PostgreSQL, Redis, gunicorn, Celery), figures with their raw
# baselines to bench/results/latest.json and docs/performance.md. SCALE=small: under 15 minutes
# on 2 cores; the default is the issue's scale (see docs/performance.md); SCALE=tiny is the smoke
# test that `make test` runs (tests/bench/test_tiny_run.py). BENCH_ARGS=--fresh generates the
# datasets again; BENCH_ARGS="--only dashboard_load" runs some of them. DATABASE_URL and
# BENCH_REDIS_URL (default: qunyun_bench and Redis db 10) say where.
SCALE ?= default
BENCH_ARGS ?=
bench: deps
	$(UV) run python -m bench.run_all --scale $(SCALE) $(BENCH_ARGS)

# Refresh the translation catalogues after changing UI text (needs GNU gettext).
messages: deps
	DEBUG=1 $(UV) run python manage.py makemessages -l zh_Hans -l en --no-obsolete \
		--ignore=var --ignore=.venv --ignore=tests --ignore=bench
	# English is the source language: its catalogue maps every string to itself.
	msgattrib --clear-fuzzy --empty -o locale/en/LC_MESSAGES/django.po locale/en/LC_MESSAGES/django.po
	msgen --force-po -o locale/en/LC_MESSAGES/django.po locale/en/LC_MESSAGES/django.po
	DEBUG=1 $(UV) run python manage.py compilemessages --ignore=var --ignore=.venv

clean:
	rm -rf var/db.sqlite3* var/broker var/celerybeat-schedule* var/staticfiles
