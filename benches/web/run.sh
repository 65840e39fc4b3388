#!/usr/bin/env bash
# The dashboard in headless Chromium and the weekly report, on a store opened read-only.
#
#   benches/web/run.sh STORE [RUNS]
#
# 1. Serves the dashboard's pages (crates/hearken-web/examples/bench_serve.rs: the server's
#    pages and queries with a fixed admin token, whole store in scope) on STORE, reached through
#    a link in a read-only directory, so the store is opened read-only and immutable (nothing
#    written, no -wal/-shm beside it; a store without tokens can be measured).
#    Its read connections share one answer cache (ADR 0011), as `hearken serve`'s do;
#    HEARKEN_BENCH_NO_CACHE=1 serves without it (every load computes its answers);
#    HEARKEN_BENCH_WARM=1 warms it before serving, as `hearken serve` does once the data has
#    rested (`answer_cache_warm_secs`): the "first" column is then a first visit after warming.
# 2. Opens every page RUNS times (default 3) in Debian's headless Chromium
#    (crates/hearken-cli/examples/web_bench.rs) and prints Navigation Timing: loadEventEnd (the
#    page complete in the browser) and responseEnd (the server's answer), in ms; the first load
#    of each page (the first time the server is asked for it) in a column of its own.
# 3. Times `hearken report --out r.html --pdf r.pdf` (the last week with signals, PDF through
#    headless Chromium) three times, with its peak memory, and counts the PDF's pages.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 1 ] || { echo "usage: benches/web/run.sh STORE [RUNS]" >&2; exit 2; }
STORE=$(realpath "$1")
RUNS=${2:-3}
export CARGO_INCREMENTAL=0
cargo build --release -q -p hearken-cli --bin hearken --example web_bench
cargo build --release -q -p hearken-web --example bench_serve

T=$(mktemp -d)
mkdir "$T/ro"
ln -s "$STORE" "$T/ro/store.db"
chmod 555 "$T/ro"
SERVER=""
cleanup() {
  [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null || true
  chmod 755 "$T/ro"
  rm -rf "$T"
}
trap cleanup EXIT

echo "== machine"
nproc; free -h | head -2; /usr/bin/chromium --version; git rev-parse --short HEAD
echo "== store: $STORE ($(du -h "$STORE" | cut -f1))"
target/release/hearken --db "$T/ro/store.db" status

TOKEN="hk_$(od -An -N32 -tx1 /dev/urandom | tr -d " \n")"
target/release/examples/bench_serve "$T/ro/store.db" 127.0.0.1:0 "$TOKEN" > "$T/serve.out" 2> "$T/serve.err" &
SERVER=$!
for _ in $(seq 1 6000); do   # up to 10 min: warming a 10M store takes a while
  grep -q '^listening on ' "$T/serve.out" && break
  kill -0 "$SERVER" 2>/dev/null || { cat "$T/serve.err" >&2; exit 1; }
  sleep 0.1
done
BASE=$(sed -n 's/^listening on //p' "$T/serve.out")
cat "$T/serve.err"
echo "== pages ($RUNS loads each, after one sign-in; $BASE)"
target/release/examples/web_bench "$BASE" "$TOKEN" "$RUNS"
kill "$SERVER"; SERVER=""

echo "== report (HTML and PDF, the last week with signals)"
for i in 1 2 3; do
  /usr/bin/time -f "run $i: %e s wall, %M KB peak" \
    target/release/hearken --db "$T/ro/store.db" report --out "$T/r.html" --pdf "$T/r.pdf"
done
echo "PDF: $(stat -c %s "$T/r.pdf") bytes, pages: $(grep -aoE '/Type */Page([^A-Za-z]|$)' "$T/r.pdf" | wc -l)"
