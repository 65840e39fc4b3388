#!/usr/bin/env bash
# Live-ingestion load on loopback, in one run (docs/benchmarks.md, "HTTP API"):
#   1. single-row POST /api/v1/signals over 64 keep-alive connections for $SECS s (default 60),
#      then the server is stopped with SIGTERM and the store's signal count is compared with the
#      rows the load generator saw acknowledged;
#   2. the same 200,000 rows as JSON Lines: sent as batches of 1,000 over 4 connections, and
#      imported with `hearken import`, each into a fresh store.
#
#   benches/api/run.sh                      # release binary target/release/hearken
#   HEARKEN_BIN=... SECS=60 ROWS=200000 CONNECTIONS=64 LOG=warn benches/api/run.sh
#   PARTS=batches benches/api/run.sh        # one part only: PARTS=single or PARTS=batches
#
# LOG sets RUST_LOG for the server (default: its own default, one line per request).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${HEARKEN_BIN:-target/release/hearken}
secs=${SECS:-60}
rows=${ROWS:-200000}
conns=${CONNECTIONS:-64}
cargo build --quiet --release --manifest-path benches/api/Cargo.toml --target-dir target/load
load=target/load/release/hearken-load
work=$(mktemp -d /tmp/hearken-api-bench.XXXXXX)
pid=
cleanup() {
    if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

# start_server DB NAME: starts `hearken serve` on port 0; sets pid and addr.
start_server() {
    if [ -n "${LOG:-}" ]; then export RUST_LOG=$LOG; fi
    HEARKEN_DB=$1 NO_COLOR=1 "$bin" serve --bind 127.0.0.1:0 >"$work/$2.stdout" 2>"$work/$2.log" &
    pid=$!
    for _ in $(seq 1 200); do
        grep -q '^listening on http://' "$work/$2.stdout" 2>/dev/null && break
        sleep 0.05
    done
    addr=$(sed -n 's/^listening on http:\/\/\(.*\)$/\1/p' "$work/$2.stdout" | head -1)
    unset RUST_LOG
}
stop_server() {
    kill -TERM "$pid"
    wait "$pid"
    pid=
}
signals() { HEARKEN_DB=$1 "$bin" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["signals"])'; }

echo "== $(date -u +%FT%TZ) $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg), $bin"

parts=${PARTS:-single batches}

# 1. single rows
if [[ " $parts " == *" single "* ]]; then
db=$work/single.db
token=$(HEARKEN_DB=$db "$bin" tokens create --name bench --role analyst | head -1)
start_server "$db" single
out=$("$load" post --addr "$addr" --token "$token" --connections "$conns" --seconds "$secs" --rows 1 --prefix s)
echo "$out"
stop_server
acked=$(echo "$out" | sed -n 's/.* rows \([0-9]*\) errors.*/\1/p' | head -1)
stored=$(signals "$db")
echo "single rows: acknowledged $acked, stored after SIGTERM $stored"
fi


# 2. batches of 1,000 against hearken import, on the same rows
if [[ " $parts " == *" batches "* ]]; then
"$load" file --requests "$rows" --prefix b >"$work/rows.jsonl"
db=$work/batch.db
token=$(HEARKEN_DB=$db "$bin" tokens create --name bench --role analyst | head -1)
start_server "$db" batch
"$load" send --addr "$addr" --token "$token" --rows 1000 --connections "${BATCH_CONNECTIONS:-4}" "@$work/rows.jsonl"
stop_server
echo "batches: stored $(signals "$work/batch.db")"
start=$(date +%s.%N)
HEARKEN_DB=$work/import.db "$bin" import --kind signals "$work/rows.jsonl"
end=$(date +%s.%N)
python3 -c "print(f'hearken import: {$rows} rows in {$end-$start:.2f} s: {$rows/($end-$start):.0f} rows/s')"
echo "import: stored $(signals "$work/import.db")"
fi
