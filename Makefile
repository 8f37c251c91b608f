# Atrium: two commands do all set-up on a fresh machine.
#   make demo   the whole system on embedded defaults (SQLite, no servers to install)
#   make test   ruff + pytest on real PostgreSQL and Redis (started here when none answers)

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PG_URL ?= postgres://postgres@127.0.0.1:5432/atrium
REDIS ?= redis://127.0.0.1:6379

.PHONY: demo test lint fmt services install clean

$(VENV)/.installed: requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install: $(VENV)/.installed node_modules/.installed
	mkdir -p staticfiles

demo: install
	$(PY) manage.py rundemo

services:
	bash scripts/test-services.sh start

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

test: install services lint
	DATABASE_URL=$(PG_URL) \
	ATRIUM_CACHE_URL=$(REDIS)/1 \
	CELERY_BROKER_URL=$(REDIS)/2 \
	ATRIUM_PASSWORD_HASHERS=django.contrib.auth.hashers.MD5PasswordHasher \
	ATRIUM_DISABLE_RATE_LIMITS=1 \
	ATRIUM_EMAIL_BACKEND=django.core.mail.backends.locmem.EmailBackend \
	$(VENV)/bin/pytest $(PYTEST_ARGS)
	cd regional_server && ../$(VENV)/bin/pytest -q

clean:
	rm -rf .run staticfiles
