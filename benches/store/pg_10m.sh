#!/usr/bin/env bash
# Import and analytics at 10M signals on PostgreSQL against the SQLite file (issue 14): the same
# generated files imported into a new SQLite file and a new PostgreSQL database, then the same
# analytics asked of both, each answer compared byte for byte, each timed over three runs.
#
#   HEARKEN_BENCH_PG=postgres://USER@HOST:PORT/postgres bash benches/store/pg_10m.sh [BIN]
#
# HEARKEN_BENCH_PG (or HEARKEN_TEST_PG) names a database on a server where the user may create
# databases; the benchmark creates and drops `hk_bench_10m` there. CUSTOMERS and MONTHS size the
# organisation (1,000,000 x 10: about 9.9M signals, issue 5's store); OUT is where the files and
# the SQLite store go (benches/out/pg-10m; about 12 GB at the default size, the case events are
# not imported: no analytic below reads them). KEEP=1 keeps the stores for another look.
set -euo pipefail
export PGOPTIONS="-c client_min_messages=warning"
bin=${1:-target/release/hearken}
admin=${HEARKEN_BENCH_PG:-${HEARKEN_TEST_PG:?set HEARKEN_BENCH_PG (or HEARKEN_TEST_PG) to a server where the user may create databases}}
customers=${CUSTOMERS:-1000000}
months=${MONTHS:-10}
out=${OUT:-benches/out/pg-10m}
kinds=(customers products agents signals surveys)
mkdir -p "$out"
data="$out/data-$customers-$months"
if [ ! -f "$data/signals.csv" ]; then
  "$bin" generate --customers "$customers" --months "$months" --seed 1 --out "$data" --json >/dev/null
  rm -f "$data/case_events.csv"
fi
db_url="${admin%/*}/hk_bench_10m"
lite="$out/bench.db"
echo "== $(psql "$admin" -Atc 'SELECT version()' | cut -d' ' -f1-2), fsync $(psql "$admin" -Atc 'SHOW fsync'), synchronous_commit $(psql "$admin" -Atc 'SHOW synchronous_commit'), shared_buffers $(psql "$admin" -Atc 'SHOW shared_buffers'); $bin ($(git rev-parse --short HEAD)); $customers customers x $months months; $(date -u +%FT%TZ)"

secs() { python3 -c "import sys; print(f'{float(sys.argv[2])-float(sys.argv[1]):.2f}')" "$1" "$2"; }

import_all() {
  local store=$1 db=$2 total=0 start end load
  load=$(cut -d' ' -f1 /proc/loadavg)
  start=$(date +%s.%N)
  for f in "${kinds[@]}"; do
    "$bin" import "$data/$f.csv" --kind "${f/_/-}" --json --db "$db" >"$out/report-$store-$f.json"
  done
  end=$(date +%s.%N)
  local rows
  rows=$(python3 -c 'import json,sys; print(sum(json.load(open(f))["read"] for f in sys.argv[1:]))' "$out"/report-"$store"-*.json)
  python3 -c "import sys; s=float(sys.argv[2])-float(sys.argv[1]); r=int(sys.argv[3]); print(f'import   {sys.argv[4]:<10} {s:8.1f} s  {r:,} rows  {r/s:,.0f} rows/s  load {sys.argv[5]}')" \
    "$start" "$end" "$rows" "$store" "$load"
}

rm -f "$lite" "$lite-wal" "$lite-shm"
psql "$admin" -q -c "DROP DATABASE IF EXISTS hk_bench_10m" -c "CREATE DATABASE hk_bench_10m"
import_all sqlite "$lite"
import_all postgres "$db_url"
# The file's analytics read its columnar snapshot; the first question after an import builds it.
start=$(date +%s.%N)
"$bin" snapshot --db "$lite" --json >/dev/null
echo "snapshot sqlite     $(secs "$start" "$(date +%s.%N)") s (built once after the imports; PostgreSQL has none)"
echo "PostgreSQL database: $(psql "$db_url" -Atc "SELECT pg_size_pretty(pg_database_size(current_database()))"); SQLite file: $(du -h "$lite" | cut -f1)"

questions=(
  "scores --json"
  "scores --metric sentiment --by channel --json"
  "pareto --by customer --json"
  "pareto --by topic --json"
  "trends --json"
  "repeats --json"
  "issues-rank --json"
  "drivers --json"
)
printf '%-46s %12s %12s %8s %s\n' question sqlite postgres ratio same
for q in "${questions[@]}"; do
  read -ra args <<<"$q"
  best=()
  for store in sqlite postgres; do
    db=$lite
    [ "$store" = postgres ] && db=$db_url
    times=()
    for run in 1 2 3; do
      start=$(date +%s.%N)
      "$bin" "${args[@]}" --db "$db" >"$out/answer-$store.json"
      times+=("$(secs "$start" "$(date +%s.%N)")")
    done
    best+=("$(printf '%s\n' "${times[@]}" | sort -n | head -1)")
    echo "    $store ${times[*]} load $(cut -d' ' -f1 /proc/loadavg)" >>"$out/runs.txt"
  done
  same=no
  cmp -s "$out/answer-sqlite.json" "$out/answer-postgres.json" && same=yes
  ratio=$(python3 -c "import sys; print(f'{float(sys.argv[2])/max(float(sys.argv[1]),1e-9):.1f}x')" "${best[0]}" "${best[1]}")
  printf '%-46s %10s s %10s s %8s %s\n' "$q" "${best[0]}" "${best[1]}" "$ratio" "$same"
done
if [ "${KEEP:-0}" != 1 ]; then
  psql "$admin" -q -c "DROP DATABASE IF EXISTS hk_bench_10m"
  rm -f "$lite" "$lite-wal" "$lite-shm"
fi
