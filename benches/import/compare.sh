#!/usr/bin/env bash
# Alternating A/B runs of `hearken import` on the benchmark's signals.csv (run run.sh once first to
# generate it): each round runs every binary once per mode, in turn, so load changes hit both.
#
#   bash benches/import/compare.sh ROUNDS MODES BIN_A [BIN_B ...]
#   MODES: comma list of plain (--no-enrich), enrich (sentiment + language, no model),
#          topics (sentiment + language + the banking77 model), sqlite (sqlite3 .import; binaries ignored)
# Prints one line per run: mode, binary, seconds, peak RSS, load average.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=$1; MODES=$2; shift 2
OUT=${OUT:-benches/out/import-83334}
CSV=$OUT/data/signals.csv
[ -f "$CSV" ] || { echo "run benches/import/run.sh first" >&2; exit 1; }
[ -f "$OUT/model.db" ] || "$1" --db "$OUT/model.db" topics train --data "${BANKING77:-crates/hearken-topics/tests/data/banking77}/train.csv" --json >/dev/null
cat "$CSV" > /dev/null
for r in $(seq 1 "$ROUNDS"); do
  for mode in ${MODES//,/ }; do
    for bin in "$@"; do
      db=$OUT/cmp.db; rm -f "$db" "$db-wal" "$db-shm"
      load=$(cut -d' ' -f1 /proc/loadavg)
      case $mode in
        plain) args=(--no-enrich) ;;
        enrich) args=() ;;
        topics) args=(); cp "$OUT/model.db" "$db" ;;
        sqlite)
          printf '%s\n' "PRAGMA journal_mode = WAL;" "PRAGMA synchronous = NORMAL;" \
            "CREATE TABLE signals (signal_id TEXT, at TEXT, channel TEXT, kind TEXT, source TEXT, customer_id TEXT, product_id TEXT, case_id TEXT, agent_id TEXT, stage TEXT, topic TEXT, text TEXT);" \
            ".import --csv --skip 1 $CSV signals" > "$OUT/cmp.sql"
          /usr/bin/time -f "%e %M" -o "$OUT/cmp.time" sqlite3 "$db" < "$OUT/cmp.sql" >/dev/null
          read -r s kb < "$OUT/cmp.time"
          echo "round $r sqlite - $s s $((kb/1024)) MB load $load"
          break ;;
      esac
      /usr/bin/time -f "%e %M %U %S" -o "$OUT/cmp.time" "$bin" --db "$db" import "$CSV" --kind signals --json "${args[@]}" > "$OUT/cmp.json"
      read -r s kb us ss < "$OUT/cmp.time"
      python3 -c "import json,sys; d=json.load(open('$OUT/cmp.json')); assert d['read']==d['stored']+d['duplicates']+d['quarantined'], d; print(f\"round $r $mode $bin $s s {$kb//1024} MB cpu {$us+$ss:.2f} s load $load stored {d['stored']}\")"
    done
  done
done
rm -f "$OUT/cmp.db" "$OUT/cmp.db-wal" "$OUT/cmp.db-shm"
