#!/usr/bin/env bash
# `hearken import` of a generated organisation's six files into a new SQLite file and into a new
# PostgreSQL database, alternating, each with and without enrichment (issue 14, ADR 0012).
# Prints per run: wall seconds, rows read, rows/s, and the load average.
#
#   HEARKEN_BENCH_PG=postgres://USER@HOST:PORT/postgres bash benches/store/pg_import.sh [ROUNDS] [BIN]
#
# HEARKEN_BENCH_PG (or HEARKEN_TEST_PG) names a database on a server where the user may create
# databases (tools/pg/cluster.sh start DIR prints one); the benchmark creates and drops
# `hk_bench_import` there. CUSTOMERS and MONTHS size the organisation (20000 and 12); OUT is where
# the files and the SQLite store go (benches/out/pg-import).
set -euo pipefail
export PGOPTIONS="-c client_min_messages=warning"
rounds=${1:-3}
bin=${2:-target/release/hearken}
admin=${HEARKEN_BENCH_PG:-${HEARKEN_TEST_PG:?set HEARKEN_BENCH_PG (or HEARKEN_TEST_PG) to a server where the user may create databases}}
customers=${CUSTOMERS:-20000}
months=${MONTHS:-12}
out=${OUT:-benches/out/pg-import}
mkdir -p "$out"
data="$out/data-$customers-$months"
if [ ! -f "$data/case_events.csv" ]; then
  "$bin" generate --customers "$customers" --months "$months" --seed 1 --out "$data" --json >/dev/null
fi
db_url="${admin%/*}/hk_bench_import"
echo "== $(psql "$admin" -Atc 'SELECT version()' | cut -d' ' -f1-2), fsync $(psql "$admin" -Atc 'SHOW fsync'), synchronous_commit $(psql "$admin" -Atc 'SHOW synchronous_commit'); $bin; $customers customers x $months months"

import_all() {
  local db=$1
  shift
  for f in customers products agents signals surveys case_events; do
    "$bin" import "$data/$f.csv" --kind "${f/_/-}" --json --db "$db" "$@" >"$out/report-$f.json"
  done
}

read_rows() {
  python3 -c 'import json,sys; print(sum(json.load(open(f))["read"] for f in sys.argv[1:]))' "$out"/report-*.json
}

run() {
  local store=$1 mode=$2 db
  local extra=()
  if [ "$mode" = plain ]; then extra=(--no-enrich); fi
  if [ "$store" = sqlite ]; then
    rm -f "$out/bench.db" "$out/bench.db-wal" "$out/bench.db-shm"
    db="$out/bench.db"
  else
    psql "$admin" -q -c "DROP DATABASE IF EXISTS hk_bench_import" -c "CREATE DATABASE hk_bench_import"
    db=$db_url
  fi
  local load start end
  load=$(cut -d' ' -f1 /proc/loadavg)
  start=$(date +%s.%N)
  import_all "$db" "${extra[@]}"
  end=$(date +%s.%N)
  local rows
  rows=$(read_rows)
  python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); r=int(sys.argv[3]); print(f'{sys.argv[4]:<10} {sys.argv[5]:<6} {s:7.2f} s  {r:,} rows  {r/s:,.0f} rows/s  load {sys.argv[6]}')" \
    "$start" "$end" "$rows" "$store" "$mode" "$load"
}

for round in $(seq "$rounds"); do
  echo "-- round $round"
  for mode in plain enrich; do
    run sqlite "$mode"
    run postgres "$mode"
  done
done
psql "$admin" -q -c "DROP DATABASE IF EXISTS hk_bench_import"
