# Atrium: two commands do all set-up on a fresh machine.
#   make demo   the whole system on embedded defaults (SQLite, no servers to install)
#   make test   ruff + pytest on real PostgreSQL and Redis (started here when none answers)

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Ports of the test PostgreSQL and Redis; scripts/test-services.sh starts them there when none answers.
ATRIUM_TEST_PG_PORT ?= 5432
ATRIUM_TEST_REDIS_PORT ?= 6379
PG_URL ?= postgres://postgres@127.0.0.1:$(ATRIUM_TEST_PG_PORT)/atrium
REDIS ?= redis://127.0.0.1:$(ATRIUM_TEST_REDIS_PORT)
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

# The portal's per-installation secret key (settings read it; git-ignored, owner-only). Made
# before the portal's settings load, which refuse to start without one.
RUN_DIR := $(or $(ATRIUM_RUN_DIR),.run)
PORTAL_SECRET_KEY_FILE := $(RUN_DIR)/secrets/portal-secret-key

$(PORTAL_SECRET_KEY_FILE):
	umask 077 && mkdir -p $(@D) && chmod 700 $(RUN_DIR) $(@D) && \
		$(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))' > $@.tmp && mv $@.tmp $@

demo: install $(PORTAL_SECRET_KEY_FILE)
	$(PY) manage.py rundemo

services:
	ATRIUM_TEST_PG_PORT=$(ATRIUM_TEST_PG_PORT) ATRIUM_TEST_REDIS_PORT=$(ATRIUM_TEST_REDIS_PORT) \
		bash scripts/test-services.sh start

lint: $(VENV)/.installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

fmt: $(VENV)/.installed
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# Test-only keys: `make test` never reads the demo's .run/secrets.
TEST_ENV = DATABASE_URL=$(PG_URL) \
	ATRIUM_SECRET_KEY=test-only-portal-secret-key-not-for-any-server \
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
