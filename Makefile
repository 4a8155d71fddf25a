# fastadmin — developer entry points. Everything runs from the repository root.
#
#   make demo        venv + install + migrate + seed 1,000,000 orders (once) + index plan + login + runserver :8000
#                    beside a Celery worker with beat (the Meilisearch sidecar's drain; MEILI_URL turns it on)
#   make test        the whole pytest suite (embedded PostgreSQL unless DATABASE_URL is set)
#   make test-pgbouncer  the whole suite through a private PgBouncer in transaction mode in front of
#                    DATABASE_URL's server (default the machine's PostgreSQL; needs Debian's pgbouncer)
#   make lint        ruff check
#   make stop-db     stop the embedded PostgreSQL (.pgdata/ kept; the next command starts it again)
#   make test-django-admin  Django's own admin tests (installed version's sdist) with fastadmin swapped in;
#                    fails on any difference not in tests/django_admin/by_design.txt (DJANGO_ADMIN_ARGS: labels)
#   make benchmark   stock admin vs fastadmin on ROWS orders (default 1,000,000), JSON in benchmark-ROWS.json
#
# DATABASE_URL (postgresql://user:pass@host:port/name) is passed through from the environment;
# unset, an embedded PostgreSQL is started in .pgdata/ (see example_project/example_project/devdb.py).

PYTHON ?= python3
VENV   ?= .venv
ROWS   ?= 1000000
REPEAT ?= 7
HOST   ?= 127.0.0.1
PORT   ?= 8000
PYTEST_ARGS ?=
# Extra pip requirements for the venv, e.g. EXTRA_PIP='Django~=6.0' (CI's Django 6 run; no shell metacharacters).
EXTRA_PIP ?=

PY     := $(VENV)/bin/python
MANAGE := $(PY) example_project/manage.py
STAMP  := $(VENV)/.fastadmin-installed

DJANGO_ADMIN_ARGS ?=

.PHONY: install demo test test-pgbouncer test-django-admin lint benchmark seed migrate stop-db

$(PY):
	$(PYTHON) -m venv $(VENV)

# Re-installs only when pyproject.toml changes (or the venv is new); otherwise a no-op.
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e ".[dev]" $(EXTRA_PIP)
	@touch $@

install: $(STAMP)

migrate: install
	$(MANAGE) migrate --noinput

seed: migrate
	$(MANAGE) seed --rows $(ROWS)

demo: migrate
	$(MANAGE) seed --rows $(ROWS) --if-needed
	$(MANAGE) fastadmin_indexes --apply
	@$(MANAGE) demo_user
	@echo ""
	@echo "  fastadmin:   http://$(HOST):$(PORT)/admin/"
	@echo "  stock admin: http://$(HOST):$(PORT)/stock-admin/   (same options, for comparison)"
	@echo "  celery:      worker + beat (outbox drain and sweep; broker: REDIS_URL, else .celery-broker/)"
	@echo ""
	@PYTHONPATH=example_project $(VENV)/bin/celery -A example_project worker -B -l warning \
	    -s celerybeat-schedule & worker=$$!; trap "kill $$worker" EXIT INT TERM; \
	$(MANAGE) runserver $(HOST):$(PORT)

# pytest exits 5 when it collects nothing: that is a failure here, never a silent pass.
# axe-core for the accessibility tests (tests/test_a11y.py), from the npm registry; they skip, saying
# why, where npm is missing.
A11Y := tests/a11y/node_modules/axe-core/axe.min.js
$(A11Y): tests/a11y/package.json tests/a11y/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	    npm ci --prefix tests/a11y --no-audit --no-fund --silent && touch $@ \
	    || echo "make test: npm ci failed (offline?), the accessibility tests will skip" >&2; \
	else echo "make test: npm not found, the accessibility tests will skip" >&2; fi

test: install $(A11Y)
	@$(PY) -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: pytest collected no tests" >&2; exit 1; fi; \
	exit $$rc

test-pgbouncer: install
	$(PY) tests/run_behind_pgbouncer.py

# Needs PostgreSQL at DATABASE_URL (default postgresql://postgres@127.0.0.1:5432/test); the sdist is
# cached in .cache/django-src/.
test-django-admin: install
	$(PY) tests/django_admin/run.py $(DJANGO_ADMIN_ARGS)

lint: install
	$(VENV)/bin/ruff check .

# Stops the embedded PostgreSQL of the default path (data in .pgdata/ kept; any later command starts it).
stop-db: install
	$(PY) example_project/example_project/devdb.py stop

# The benchmark's first run seeds ROWS rows; apply the index plan (search) before timing.
benchmark: migrate
	$(MANAGE) seed --rows $(ROWS) --if-needed
	$(MANAGE) fastadmin_indexes --apply
	$(MANAGE) benchmark --rows $(ROWS) --repeat $(REPEAT) --json benchmark-$(ROWS).json
