#!/usr/bin/env bash
# Clean release build cost of the `parquet` crate as hearken-export uses it (no arrow, Snappy)
# against the same crate with its arrow writer, each in a fresh crate and target directory
# (docs/adr/0007-exports.md). Prints wall and CPU time and the number of crates.
#
#   bash benches/export/build_cost.sh
set -euo pipefail
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/src" && echo 'fn main() {}' > "$WORK/src/main.rs"
cd "$WORK"
for variant in minimal arrow; do
  if [ $variant = minimal ]; then
    F='default-features = false, features = ["snap"]'
  else
    F='default-features = false, features = ["arrow", "snap"]'
  fi
  cat > Cargo.toml <<TOML
[package]
name = "parquet-build-cost"
version = "0.1.0"
edition = "2024"
[dependencies]
parquet = { version = "=60.1.0", $F }
[profile.release]
debug = "line-tables-only"
TOML
  echo "== $variant (load $(cut -d' ' -f1-3 /proc/loadavg))"
  /usr/bin/time -f "$variant: %e s wall, %U s user, %S s sys" \
    env CARGO_TARGET_DIR="$WORK/target-$variant" cargo build --release -j2 -q
  echo "$variant: $(cargo tree -e normal --prefix none | sort -u | wc -l) crates"
done
echo "== done (load $(cut -d' ' -f1-3 /proc/loadavg))"
