#!/usr/bin/env bash
# Export benchmark: `hearken export signals` of ~1M generated signals to CSV, JSON Lines and
# Parquet, beside the peer an analyst would otherwise use, in the same run: pandas reading the
# same rows (the same joins: customer, product and agent names, segment, team) from the store
# file with sqlite3 and writing CSV and Parquet (pyarrow, Snappy). Wall time, CPU and peak RSS
# from GNU time; each contender runs ROUNDS times, alternating.
#
#   bash benches/export/run.sh                    # 83,334 customers x 12 months (~1M signals)
#   ROUNDS=5 bash benches/export/run.sh
#
# The store is built once under $OUT (generate, then import customers, products, agents and
# signals with text enrichment, so sentiment and language are filled). Needs GNU time and
# python3 with venv; pandas, pyarrow (and duckdb, for the row check) go into
# benches/export/.venv-bench (gitignored), pinned below.
set -euo pipefail
cd "$(dirname "$0")/../.."
CUSTOMERS=${CUSTOMERS:-83334}
MONTHS=${MONTHS:-12}
ROUNDS=${ROUNDS:-3}
OUT=${OUT:-benches/out/export-$CUSTOMERS}
PINS="pandas==3.1.1 pyarrow==26.0.1"
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }

cargo build --release -q -p hearken-cli
H=${CARGO_TARGET_DIR:-target}/release/hearken
VENV=benches/export/.venv-bench
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet $PINS
fi
PY="$VENV/bin/python"
mkdir -p "$OUT"
DB="$OUT/store.db"

if [ ! -f "$DB" ]; then
  echo "== generate and import ($CUSTOMERS customers x $MONTHS months)"
  $H generate --out "$OUT/data" --customers "$CUSTOMERS" --months "$MONTHS" --seed 1 --json > "$OUT/gen.json"
  for kind in customers products agents signals; do
    $H --db "$DB" import "$OUT/data/$kind.csv" --kind "$kind" --json > /dev/null
  done
  rm -rf "$OUT/data"
fi
SIGNALS=$(sqlite3 "$DB" "SELECT count(*) FROM signals" 2>/dev/null || "$PY" -c "import sqlite3; print(sqlite3.connect('$DB').execute('SELECT count(*) FROM signals').fetchone()[0])")
echo "== $SIGNALS signals in $DB ($(du -h "$DB" | cut -f1)); load $(cut -d' ' -f1-3 /proc/loadavg)"
# Page cache warm for every contender.
cat "$DB" > /dev/null

# One timed run: label, output file, command...; prints "label wall user sys rss_mb size_mb".
timed() {
  local label=$1 out=$2; shift 2
  rm -f "$out"
  /usr/bin/time -f "%e %U %S %M" -o "$OUT/t" "$@" > /dev/null 2> "$OUT/err" || { cat "$OUT/err"; exit 1; }
  read -r wall user sys kb < "$OUT/t"
  local size; size=$(du -m "$out" | cut -f1)
  printf "%s %s %s %s %d %s\n" "$label" "$wall" "$user" "$sys" $((kb / 1024)) "$size"
}

echo "| round | contender | wall s | CPU s (user+sys) | peak RSS MB | file MB |"
echo "|---|---|---|---|---|---|"
for round in $(seq 1 "$ROUNDS"); do
  for c in hearken-csv pandas-csv hearken-jsonl hearken-parquet pandas-parquet; do
    case $c in
      hearken-csv) r=$(timed $c "$OUT/h.csv" $H --db "$DB" export signals --out "$OUT/h.csv") ;;
      hearken-jsonl) r=$(timed $c "$OUT/h.jsonl" $H --db "$DB" export signals --out "$OUT/h.jsonl") ;;
      hearken-parquet) r=$(timed $c "$OUT/h.parquet" $H --db "$DB" export signals --out "$OUT/h.parquet") ;;
      pandas-csv) r=$(timed $c "$OUT/p.csv" "$PY" benches/export/peer.py "$DB" csv "$OUT/p.csv") ;;
      pandas-parquet) r=$(timed $c "$OUT/p.parquet" "$PY" benches/export/peer.py "$DB" parquet "$OUT/p.parquet") ;;
    esac
    read -r label wall user sys mb size <<< "$r"
    cpu=$(python3 -c "print(f'{$user + $sys:.2f}')")
    echo "| $round | $label | $wall | $cpu | $mb | $size |"
  done
done
echo "== rows: every file holds every signal"
"$PY" benches/export/peer.py "$DB" check "$OUT"
echo "== load $(cut -d' ' -f1-3 /proc/loadavg)"
