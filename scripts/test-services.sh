#!/usr/bin/env bash
# Start a throwaway PostgreSQL and Redis for `make test` when none answers, and make sure
# Chromium is installed for browser tests. Recipes: ../shared/STACK.md. Idempotent.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SVC="${ATRIUM_TEST_SERVICES_DIR:-$ROOT/.run/test-services}"
PG_PORT="${ATRIUM_TEST_PG_PORT:-5432}"
REDIS_PORT="${ATRIUM_TEST_REDIS_PORT:-6379}"
mkdir -p "$SVC"

apt_install() {
  if [ -z "${_APT_UPDATED:-}" ]; then apt-get update -qq >/dev/null; _APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

pg_answers() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT" 2>/dev/null; }

start_postgres() {
  if command -v pg_isready >/dev/null && pg_answers; then echo "PostgreSQL answers on $PG_PORT"; return; fi
  if ! command -v initdb >/dev/null; then
    apt_install postgresql
    PATH="$(ls -d /usr/lib/postgresql/*/bin | tail -1):$PATH"; export PATH
  fi
  id postgres >/dev/null 2>&1 || useradd --system --home-dir "$SVC" postgres
  local D="$SVC/pg"
  mkdir -p "$D" && chown postgres:postgres "$D" && chmod 700 "$D"
  if [ ! -f "$D/data/PG_VERSION" ]; then
    runuser -u postgres -- initdb -D "$D/data" -U postgres --auth=trust --encoding=UTF8 \
      --locale=C.UTF-8 --no-sync >/dev/null
  fi
  runuser -u postgres -- pg_ctl -D "$D/data" -l "$D/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $D -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
  echo "PostgreSQL started on $PG_PORT ($D)"
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
    [ -f "$SVC/pg/data/postmaster.pid" ] && runuser -u postgres -- pg_ctl -D "$SVC/pg/data" -m fast -w stop || true
    [ -f "$SVC/redis/redis.pid" ] && redis_answers && redis-cli -h 127.0.0.1 -p "$REDIS_PORT" shutdown nosave || true ;;
  *) echo "usage: $0 start|stop"; exit 2 ;;
esac
