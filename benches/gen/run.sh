#!/usr/bin/env bash
# Benchmarks `hearken generate` (the hearken-gen library via its example binary): signal rows per
# second, wall clock, release build, all six files plus truth.json written to a fresh directory
# under /tmp, at about 1M and 10M signals (100k and 1M customers x 10 months), then the plain
# Python peer (peer.py) writing 1M signal rows, and the ratio. Outputs are deleted afterwards
# (10M signals is ~3.5 GB). The machine is shared: the load average is printed with each run.
#
#   bash benches/gen/run.sh            # both sizes
#   SIZES="100000" bash benches/gen/run.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
SIZES="${SIZES:-100000 1000000}"
cargo build --quiet --release -p hearken-gen --example generate --manifest-path "$ROOT/Cargo.toml"
BIN="$CARGO_TARGET_DIR/release/examples/generate"
OUT="$(mktemp -d /tmp/hearken-gen-bench.XXXXXX)"
trap 'rm -rf "$OUT"' EXIT

rate_1m=""
for customers in $SIZES; do
  echo "== hearken-gen: $customers customers x 10 months (load: $(cut -d' ' -f1-3 /proc/loadavg))"
  if [ -x /usr/bin/time ]; then
    line="$(/usr/bin/time -f 'cpu %U user + %S sys s, max rss %M KB' -o "$OUT/time" \
      "$BIN" --out "$OUT/gen" --customers "$customers" --months 10 --seed 1 2>/dev/null | tail -1)"
    echo "$line"
    # CPU seconds say what the run costs whatever else the shared machine is doing.
    echo "$(cat "$OUT/time")"
  else
    line="$("$BIN" --out "$OUT/gen" --customers "$customers" --months 10 --seed 1 2>/dev/null | tail -1)"
    echo "$line"
  fi
  if [ "$customers" = "100000" ]; then
    rate_1m="$(echo "$line" | sed -E 's/.* ([0-9]+) signal rows\/s.*/\1/')"
  fi
  rm -rf "$OUT/gen"
done

echo "== python peer: 1000000 signal rows (load: $(cut -d' ' -f1-3 /proc/loadavg))"
peer_line="$(python3 "$ROOT/benches/gen/peer.py" --rows 1000000 --out "$OUT/peer.csv")"
echo "$peer_line"
peer_rate="$(echo "$peer_line" | sed -E 's/.*: ([0-9]+) rows\/s.*/\1/')"
if [ -n "$rate_1m" ]; then
  python3 -c "print(f'ratio at 1M signals: hearken-gen {int($rate_1m)/int($peer_rate):.1f}x the Python peer')"
fi
