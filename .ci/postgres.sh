#!/usr/bin/env bash
# Starts a private PostgreSQL for the tests: its own data directory and port,
# trust authentication on 127.0.0.1 only. Installs Debian's postgresql if the
# machine lacks it. Prints the DSN on stdout; everything else goes to stderr.
#
#   eval "$(.ci/postgres.sh start)"   # exports MPASSID_TEST_POSTGRES_DSN
#   .ci/postgres.sh stop
set -euo pipefail

PGPORT="${MPASSID_PGPORT:-54329}"
PGDIR="${MPASSID_PGDIR:-/tmp/mpassid-ci-postgres}"

find_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ]; then echo "$d"; return 0; fi
  done
  return 1
}

install_postgres() {
  if ! find_bin >/dev/null; then
    echo "installing postgresql from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
  fi
}

# initdb and postgres refuse to run as root: run them as the postgres user
# when we are root.
as_pg() {
  if [ "$(id -u)" = 0 ]; then
    su postgres -s /bin/bash -c "$(printf '%q ' "$@")"
  else
    "$@"
  fi
}

start() {
  install_postgres
  local bin
  bin="$(find_bin)"
  if [ "$(id -u)" = 0 ]; then
    mkdir -p "$PGDIR"
    chown postgres:postgres "$PGDIR"
  fi
  if [ ! -f "$PGDIR/data/PG_VERSION" ]; then
    as_pg "$bin/initdb" -D "$PGDIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >&2
  fi
  if ! as_pg "$bin/pg_ctl" -D "$PGDIR/data" status >/dev/null 2>&1; then
    as_pg "$bin/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 60 \
      -o "-p $PGPORT -k $PGDIR -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >&2
  fi
  as_pg "$bin/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='mpassid_test'" | grep -q 1 ||
    as_pg "$bin/createdb" -h 127.0.0.1 -p "$PGPORT" -U postgres mpassid_test >&2
  echo "export MPASSID_TEST_POSTGRES_DSN='postgres://postgres@127.0.0.1:$PGPORT/mpassid_test?sslmode=disable'"
}

stop() {
  local bin
  bin="$(find_bin)" || return 0
  as_pg "$bin/pg_ctl" -D "$PGDIR/data" -m fast stop >&2 || true
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
