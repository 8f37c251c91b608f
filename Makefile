# Atrium: two commands do all set-up on a fresh machine.
#   make demo   the whole system on embedded defaults (SQLite, no servers to install)
#   make test   ruff + pytest on real PostgreSQL and Redis (started here when none answers)

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PG_URL ?= postgres://postgres@127.0.0.1:5432/atrium
REDIS ?= redis://127.0.0.1:6379
# Separate Redis databases let several checkouts or developers test side by side.
CACHE_DB ?= 1
BROKER_DB ?= 2

.PHONY: demo test pytest lint fmt services install clean

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

TEST_ENV = DATABASE_URL=$(PG_URL) \
	ATRIUM_CACHE_URL=$(REDIS)/$(CACHE_DB) \
	CELERY_BROKER_URL=$(REDIS)/$(BROKER_DB) \
	ATRIUM_PASSWORD_HASHERS=django.contrib.auth.hashers.MD5PasswordHasher \
	ATRIUM_DISABLE_RATE_LIMITS=1 \
	ATRIUM_EMAIL_BACKEND=django.core.mail.backends.locmem.EmailBackend

test: install services lint
	$(TEST_ENV) $(VENV)/bin/pytest $(PYTEST_ARGS)
	cd regional_server && ../$(VENV)/bin/pytest -q

# The portal suite alone (no lint, no regional suite): `make pytest PYTEST_ARGS="-k ledger"`.
pytest: install
	$(TEST_ENV) $(VENV)/bin/pytest $(PYTEST_ARGS)

clean:
	rm -rf .run staticfiles
