#!/usr/bin/env bash
# Clean release build cost of the PostgreSQL client the `postgres` feature adds (the sync
# `postgres` crate on tokio-postgres, no TLS), in a fresh crate and target directory
# (docs/adr/0012-postgresql-store.md). Prints wall and CPU time and the number of crates.
#
#   bash benches/store/build_cost.sh
set -euo pipefail
[ -x /usr/bin/time ] || { apt-get update -qq && apt-get install -y -qq time >/dev/null; }
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/src" && echo 'fn main() { let _ = postgres::Config::new(); }' > "$WORK/src/main.rs"
cd "$WORK"
cat > Cargo.toml <<TOML
[package]
name = "postgres-build-cost"
version = "0.1.0"
edition = "2024"
[dependencies]
postgres = "=0.19.14"
[profile.release]
debug = "line-tables-only"
TOML
echo "== postgres (load $(cut -d' ' -f1-3 /proc/loadavg))"
/usr/bin/time -f "postgres: %e s wall, %U s user, %S s sys" \
  env CARGO_TARGET_DIR="$WORK/target" cargo build --release -j2 -q
echo "postgres: $(cargo tree -e normal --prefix none | sort -u | wc -l) crates"
echo "== done (load $(cut -d' ' -f1-3 /proc/loadavg))"
