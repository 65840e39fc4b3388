#!/usr/bin/env bash
# Import benchmark: hearken import of N generated signal rows (with text) against SQLite's own bulk
# loader (sqlite3 .import) on the same file, in the same run. Also times the generator.
#
#   bash benches/import/run.sh            # 1M signals (customers = 83,334 x 12 months)
#   CUSTOMERS=833334 bash benches/import/run.sh   # ~10M
#
# Prints a markdown table row for docs/benchmarks.md. Needs: sqlite3 and GNU time (installed via
# apt-get when missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
CUSTOMERS=${CUSTOMERS:-83334}
MONTHS=${MONTHS:-12}
OUT=${OUT:-benches/out/import-$CUSTOMERS}
need() { command -v "$1" >/dev/null || { apt-get update -qq && apt-get install -y -qq "$2" >/dev/null; }; }
need sqlite3 sqlite3
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }

cargo build --release -q -p hearken-cli
H=${CARGO_TARGET_DIR:-target}/release/hearken
BANKING77=${BANKING77:-crates/hearken-topics/tests/data/banking77}
mkdir -p "$OUT"

echo "== generate ($CUSTOMERS customers x $MONTHS months; load $(cut -d' ' -f1-3 /proc/loadavg))"
/usr/bin/time -f "%e s wall, %M KB peak RSS" -o "$OUT/gen.time" \
  $H generate --out "$OUT/data" --customers "$CUSTOMERS" --months "$MONTHS" --seed 1 --json > "$OUT/gen.json"
cat "$OUT/gen.json"; cat "$OUT/gen.time"
SIGNALS=$(python3 -c "import json,sys; print(json.load(open('$OUT/gen.json'))['rows']['signals.csv'])")
ALLROWS=$(python3 -c "import json,sys; print(sum(json.load(open('$OUT/gen.json'))['rows'].values()))")
GEN_S=$(cut -d' ' -f1 "$OUT/gen.time")

# Page cache warm for both contenders.
cat "$OUT/data/signals.csv" > /dev/null

echo "== hearken import (no enrichment: the foundation's figure)"
rm -f "$OUT/h.db" "$OUT/h.db-wal" "$OUT/h.db-shm"
/usr/bin/time -f "%e %M" -o "$OUT/h.time" \
  $H --db "$OUT/h.db" import "$OUT/data/signals.csv" --kind signals --json --no-enrich > "$OUT/h.json"
cat "$OUT/h.json"; echo
read -r H_S H_KB < "$OUT/h.time"

echo "== hearken import with enrichment (sentiment + language for every text)"
rm -f "$OUT/e.db" "$OUT/e.db-wal" "$OUT/e.db-shm"
/usr/bin/time -f "%e %M" -o "$OUT/e.time" \
  $H --db "$OUT/e.db" import "$OUT/data/signals.csv" --kind signals --json > /dev/null
read -r E_S E_KB < "$OUT/e.time"

echo "== hearken import with enrichment and a topic model (trained on banking77)"
rm -f "$OUT/t.db" "$OUT/t.db-wal" "$OUT/t.db-shm"
$H --db "$OUT/t.db" topics train --data "$BANKING77/train.csv" --json > /dev/null
/usr/bin/time -f "%e %M" -o "$OUT/t.time" \
  $H --db "$OUT/t.db" import "$OUT/data/signals.csv" --kind signals --json > /dev/null
read -r T_S T_KB < "$OUT/t.time"

echo "== sqlite3 .import (bulk loader, no validation, no dedupe, no quarantine)"
rm -f "$OUT/s.db"
cat > "$OUT/s.sql" <<SQL
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
CREATE TABLE signals (signal_id TEXT, at TEXT, channel TEXT, kind TEXT, source TEXT, customer_id TEXT,
  product_id TEXT, case_id TEXT, agent_id TEXT, stage TEXT, topic TEXT, text TEXT);
.import --csv --skip 1 $OUT/data/signals.csv signals
SQL
/usr/bin/time -f "%e %M" -o "$OUT/s.time" sqlite3 "$OUT/s.db" < "$OUT/s.sql"
read -r S_S S_KB < "$OUT/s.time"
S_ROWS=$(sqlite3 "$OUT/s.db" "SELECT count(*) FROM signals")

python3 - "$SIGNALS" "$H_S" "$H_KB" "$S_S" "$S_KB" "$S_ROWS" "$ALLROWS" "$GEN_S" "$E_S" "$E_KB" "$T_S" "$T_KB" "$(cut -d' ' -f1-3 /proc/loadavg)" <<'PY'
import sys
signals, h_s, h_kb, s_s, s_kb, s_rows, allrows, gen_s, e_s, e_kb, t_s, t_kb, load = sys.argv[1:]
e_s, t_s = float(e_s), float(t_s)
signals, s_rows, allrows = int(signals), int(s_rows), int(allrows)
h_s, s_s, gen_s = float(h_s), float(s_s), float(gen_s)
print()
print("| signals | hearken import | rows/s | peak RSS | sqlite3 .import | rows/s | ratio (hearken/sqlite3 time) |")
print("|---|---|---|---|---|---|---|")
print(f"| {signals:,} | {h_s:.2f} s | {signals/h_s:,.0f} | {int(h_kb)/1024:.0f} MB | {s_s:.2f} s ({s_rows:,} rows) | {s_rows/s_s:,.0f} | {h_s/s_s:.2f} |")
print()
print(f"with enrichment: {e_s:.2f} s = {signals/e_s:,.0f} rows/s, peak RSS {int(e_kb)/1024:.0f} MB, {e_s/h_s:.2f}x the plain import")
print(f"with enrichment and topic model: {t_s:.2f} s = {signals/t_s:,.0f} rows/s, peak RSS {int(t_kb)/1024:.0f} MB, {t_s/h_s:.2f}x the plain import")
print(f"load average at the end: {load}")
print()
print(f"generator: {allrows:,} rows in all files ({signals:,} signals) in {gen_s:.2f} s = {signals/gen_s:,.0f} signal rows/s, {allrows/gen_s:,.0f} rows/s all files")
PY
