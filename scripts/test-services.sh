#!/usr/bin/env bash
# Start a throwaway PostgreSQL and Redis for `make test` when none answers, and make sure
# Chromium is installed for browser tests. Recipes: ../shared/STACK.md. Idempotent.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SVC="${ATRIUM_TEST_SERVICES_DIR:-$ROOT/.run/test-services}"
PG_PORT="${ATRIUM_TEST_PG_PORT:-5432}"
REDIS_PORT="${ATRIUM_TEST_REDIS_PORT:-6379}"
# PostgreSQL runs as the `postgres` user, who may not be able to enter the checkout (a clone under
# root's mode-700 home): its throwaway cluster lives in a folder of its own under the system temp
# dir, named after this checkout (so two clones never share one) and removed on stop.
CHECKOUT_ID="$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
PG_DIR="${ATRIUM_TEST_PG_DIR:-${TMPDIR:-/tmp}/atrium-test-pg-$CHECKOUT_ID}"
mkdir -p "$SVC"

apt_install() {
  if [ -z "${_APT_UPDATED:-}" ]; then apt-get update -qq >/dev/null; _APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# As the postgres user, from a folder it may enter (the checkout may be closed to it).
as_postgres() { (cd / && runuser -u postgres -- "$@"); }

pg_answers() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT" 2>/dev/null; }

start_postgres() {
  if command -v pg_isready >/dev/null && pg_answers; then echo "PostgreSQL answers on $PG_PORT"; return; fi
  if ! command -v initdb >/dev/null; then
    apt_install postgresql
    PATH="$(ls -d /usr/lib/postgresql/*/bin | tail -1):$PATH"; export PATH
  fi
  id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres
  local D="$PG_DIR"
  [ -L "$D" ] && { echo "$D is a symlink; refusing to use it"; exit 1; }
  mkdir -p "$D" && chown postgres:postgres "$D" && chmod 700 "$D"
  # The temp dir itself must be enterable by postgres (it is world-writable with the sticky bit).
  as_postgres test -w "$D" || { echo "postgres cannot write $D: set ATRIUM_TEST_PG_DIR"; exit 1; }
  if [ ! -f "$D/data/PG_VERSION" ]; then
    as_postgres initdb -D "$D/data" -U postgres --auth=trust --encoding=UTF8 \
      --locale=C.UTF-8 --no-sync >/dev/null
  fi
  as_postgres pg_ctl -D "$D/data" -l "$D/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $D -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
  echo "PostgreSQL started on $PG_PORT ($D)"
}

# pg_ctl may not be on PATH (Debian keeps it under /usr/lib/postgresql/<version>/bin).
pg_bin() { dirname "$(command -v pg_ctl || ls -d /usr/lib/postgresql/*/bin/pg_ctl | tail -1)"; }

redis_pid_on_port() {
  redis-cli -h 127.0.0.1 -p "$REDIS_PORT" info server 2>/dev/null | tr -d '\r' | sed -n 's/^process_id://p'
}

redis_answers() { [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = "PONG" ]; }

start_redis() {
  command -v redis-server >/dev/null || apt_install redis-server
  if redis_answers; then echo "Redis answers on $REDIS_PORT"; return; fi
  mkdir -p "$SVC/redis"
  redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$SVC/redis" \
    --pidfile "$SVC/redis/redis.pid" --logfile "$SVC/redis/redis.log" --save "" --appendonly no
  for _ in $(seq 50); do redis_answers && break; sleep 0.1; done
  redis_answers || { echo "Redis did not start"; exit 1; }
  echo "Redis started on $REDIS_PORT"
}

ensure_chromium() {
  command -v chromium >/dev/null || apt_install chromium
}

case "${1:-start}" in
  start) start_postgres; start_redis; ensure_chromium ;;
  stop)
    # Only what this checkout started (its own data folders), never a server someone else runs.
    if [ -f "$PG_DIR/data/postmaster.pid" ]; then
      as_postgres "$(pg_bin)/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null || true
    fi
    [ -d "$PG_DIR" ] && rm -rf "$PG_DIR"
    if [ -f "$SVC/redis/redis.pid" ] && redis_answers &&
       [ "$(redis_pid_on_port)" = "$(cat "$SVC/redis/redis.pid")" ]; then
      redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave >/dev/null || true
    fi
    rm -f "$SVC/redis/redis.pid"
    echo "Test services of $ROOT stopped" ;;
  *) echo "usage: $0 start|stop"; exit 2 ;;
esac
