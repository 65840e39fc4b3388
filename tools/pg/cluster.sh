#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback for the tests and for trying a team store (ADR 0012).
#
#   tools/pg/cluster.sh start DIR   initdb into DIR (a new folder), start on 127.0.0.1 at a free
#                                   port, print `export HEARKEN_TEST_PG=postgres://...`
#   tools/pg/cluster.sh stop DIR    stop it (DIR can then be removed)
#
# Needs Debian's postgresql (apt-get install postgresql); uses the newest version installed.
# The cluster trusts connections from loopback (no password) and does not fsync: it is for tests,
# never for data (FSYNC=on makes it sync as a default cluster does, for benchmarks). Run as root, the server runs as the `postgres` user (initdb refuses root).
set -euo pipefail

cmd=${1:-}; dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop DIR" >&2; exit 2
fi
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bin" ] || [ ! -x "$bin/pg_ctl" ]; then
  echo "error: PostgreSQL is not installed: apt-get install -y postgresql" >&2; exit 1
fi
as_owner=()
if [ "$(id -u)" = 0 ]; then as_owner=(runuser -u postgres --); fi

case "$cmd" in
  start)
    mkdir -p "$dir"
    if [ "$(id -u)" = 0 ]; then
      chown postgres: "$dir"
      if ! runuser -u postgres -- test -w "$dir"; then
        echo "error: the postgres user cannot write $dir: make its parent folders readable (chmod 755)" >&2
        exit 1
      fi
    fi
    "${as_owner[@]}" "$bin/initdb" -D "$dir/data" -U hearken --auth=trust -E UTF8 \
      --locale=C.UTF-8 >"$dir/initdb.log"
    port=""
    for _ in $(seq 50); do
      p=$(( 20000 + RANDOM % 40000 ))
      if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
    done
    if [ -z "$port" ]; then echo "error: no free port found" >&2; exit 1; fi
    "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=${FSYNC:-off} -c max_connections=200" \
      start >/dev/null
    echo "export HEARKEN_TEST_PG=postgres://hearken@127.0.0.1:$port/postgres"
    ;;
  stop)
    "${as_owner[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
  *) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
