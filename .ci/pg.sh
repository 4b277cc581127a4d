#!/usr/bin/env bash
# A private PostgreSQL server for the team-store tests and the sync benchmark (issue 17).
#
#   eval "$(bash .ci/pg.sh start)"   # installs the server if missing, starts it, prints the export
#   bash .ci/pg.sh stop
#
# The cluster lives in target/ci-pg (data, socket directory, log), listens on 127.0.0.1 only, on
# port $PRODCODE_TEST_PG_PORT (default 55432), and never touches a system cluster. It runs as the
# `postgres` user when started by root (PostgreSQL refuses to run as root), else as the caller.
# Starting it again while it runs, or with the cluster already initialised, is harmless.
# `start` prints `export PRODCODE_TEST_PG_URL=postgres://prodcode_test:...@127.0.0.1:PORT/postgres`:
# a role that may create databases; each test makes its own and drops it.
set -euo pipefail
cd "$(dirname "$0")/.."

port=${PRODCODE_TEST_PG_PORT:-55432}

set_dirs() {
  dir=$1
  data=$dir/data
  sock=$dir/run
}
set_dirs "$PWD/target/ci-pg"
if [ ! -f "$data/PG_VERSION" ] &&
  [ -d "/tmp/prodcode-ci-pg-$(printf '%s' "$PWD" | md5sum | cut -c1-12)" ]; then
  set_dirs "/tmp/prodcode-ci-pg-$(printf '%s' "$PWD" | md5sum | cut -c1-12)"
fi
role=prodcode_test
password=prodcode-test

find_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    # From `/`: the checkout may be a directory `postgres` cannot enter (every path is absolute).
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

start() {
  local bin
  bin=$(find_bin)
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq >&2
    # Debian's postinst may try to start its own cluster; policy-rc.d keeps it from doing so
    # where there is no init system, which is what we want: ours is private.
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >&2
    bin=$(find_bin)
  fi
  mkdir -p "$dir" "$sock"
  if [ "$(id -u)" -eq 0 ]; then
    chown postgres "$dir" "$sock"
    # A checkout under a directory the `postgres` user cannot enter (/root, a 0700 home) gets
    # its cluster in the temporary directory instead, one per checkout.
    if ! runuser -u postgres -- test -w "$sock"; then
      set_dirs "/tmp/prodcode-ci-pg-$(printf '%s' "$PWD" | md5sum | cut -c1-12)"
      mkdir -p "$dir" "$sock"
      chown postgres "$dir" "$sock"
    fi
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    local pwfile
    pwfile=$(mktemp)
    echo "$password" >"$pwfile"
    chmod 644 "$pwfile"
    as_owner "$bin/initdb" -D "$data" -U postgres --pwfile="$pwfile" \
      --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >&2
    rm -f "$pwfile"
  fi
  if ! as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    as_owner "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $sock -c listen_addresses=127.0.0.1 -c max_connections=200" start >&2
  fi
  # The test role: created once, its password reset every time (harmless).
  as_owner "$bin/psql" -h "$sock" -p "$port" -U postgres -d postgres -qAt -v ON_ERROR_STOP=1 >&2 <<SQL
DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') THEN
    CREATE ROLE $role LOGIN CREATEDB PASSWORD '$password';
  END IF;
END \$\$;
SQL
  echo "export PRODCODE_TEST_PG_URL=postgres://$role:$password@127.0.0.1:$port/postgres"
}

stop() {
  local bin
  bin=$(find_bin)
  if [ -n "$bin" ] && [ -f "$data/PG_VERSION" ]; then
    as_owner "$bin/pg_ctl" -D "$data" -m fast -w stop >&2 || true
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  *)
    echo "usage: bash .ci/pg.sh start|stop" >&2
    exit 2
    ;;
esac
