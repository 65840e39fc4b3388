#!/usr/bin/env bash
# A short smoke run of every fuzz target (docs/fuzzing.md), for .ci/run: builds the targets with
# cargo fuzz (libFuzzer) on the stable toolchain, then runs each for SECS seconds (default 15)
# from its committed seeds in a fresh corpus. Fails on the first crash, with the target's log and
# the input libFuzzer saved under fuzz/artifacts/<target>/.
#
#   bash fuzz/smoke.sh            # SECS=15 for each of the 9 targets
#   SECS=60 bash fuzz/smoke.sh
set -euo pipefail
cd "$(dirname "$0")/.."

# cargo fuzz passes nightly-only flags (-Z...) to rustc; the stable compiler accepts them when
# RUSTC_BOOTSTRAP=1. Only the fuzz build sees it: it is exported in this script alone.
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked --version 0.13.2
SECS=${SECS:-15}
FLAGS=(-O -a --sanitizer none)

start=$(date +%s)
cargo fuzz build "${FLAGS[@]}"
echo "fuzz targets built in $(( $(date +%s) - start )) s"

log=$(mktemp -d)
for t in $(cargo fuzz list); do
  corpus=$(mktemp -d)
  if cargo fuzz run "${FLAGS[@]}" "$t" "$corpus" "fuzz/seeds/$t" -- \
      -max_total_time="$SECS" -max_len=8192 -timeout=10 -rss_limit_mb=2048 >"$log/$t" 2>&1; then
    echo "fuzz $t: $(grep -E '^Done [0-9]+ runs' "$log/$t" || echo 'done') (no crash)"
  else
    echo "fuzz $t: CRASH" >&2
    grep -E -A12 'panicked at|ERROR: libFuzzer|SUMMARY' "$log/$t" | head -40 >&2
    grep -E 'Test unit written to' "$log/$t" >&2 || true
    echo "reproduce: RUSTC_BOOTSTRAP=1 cargo fuzz run ${FLAGS[*]} $t fuzz/artifacts/$t/<file>" >&2
    exit 1
  fi
  rm -rf "$corpus"
done
echo "fuzz smoke run: every target ran ${SECS} s without a crash"
