#!/usr/bin/env bash
# The Spark path against the embedded path and DuckDB on the same Parquet lake (issue 14;
# docs/benchmarks.md, "Spark path at scale").
#
#   ROWS=100000000 RUNS=2 bash benches/spark/run.sh
#
# 1. Writes ROWS generated signals straight into a Parquet lake (the lake's documented schema,
#    month partitions; crates/hearken-spark/examples/bench_lake.rs) into $LAKE, unless it is
#    there already. No CSV or store of that size is written.
# 2. RUNS rounds of: the embedded path (examples/bench_embedded.rs: the lake read into code
#    columns, then Hearken's engine folds the partials) and DuckDB (duckdb_bench.py, the peer, on
#    the same files), each a new process.
# 3. For 1 and then 2 Spark workers (tools/spark/cluster.sh with HEARKEN_SPARK_WORKERS; 1 core
#    each), a warm-up round 0 and RUNS rounds of the Spark path (examples/bench_spark.rs: the
#    SQL hearken_spark sends, through Spark Connect); the cluster is started before and stopped
#    (each process by its pid) after.
# Every run's partials are compared with the first embedded run's (compare.py). Every timing is
# written to $OUT/results-$ROWS.jsonl with the load average before it.
#
# Environment: ROWS (default 10000000), RUNS (2), OUT (benches/out/spark), WORKERS ("1 2"),
# SPARK_ONLY=1 (skip the embedded and DuckDB rounds when an earlier run left its reference),
# LAKE (the lake's folder, default $OUT/lake-$ROWS; e.g. /dev/shm/lake-$ROWS, a RAM-backed
# tmpfs, when the disk is short: bench_lake refuses to leave less than 8 GiB free where it
# writes), KEEP_LAKE=1 keeps the lake at the end (default: removed, it is large).
# Needs: Java 17 and PyPI for tools/spark/cluster.sh, protobuf-compiler for the Spark client,
# python3 -m venv (benches/spark/.venv gets duckdb, pinned below).
set -euo pipefail

ROWS=${ROWS:-10000000}
RUNS=${RUNS:-2}
WORKERS=${WORKERS:-1 2}
repo=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${OUT:-$repo/benches/out/spark}
DUCKDB_VERSION=2.0.0
mkdir -p "$OUT"
lake=${LAKE:-$OUT/lake-$ROWS}
results=$OUT/results-$ROWS.jsonl
venv=$repo/benches/spark/.venv

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import duckdb, sys; sys.exit(duckdb.__version__ != '$DUCKDB_VERSION')" 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q "duckdb==$DUCKDB_VERSION"
fi

cd "$repo"
cargo build --locked --release -p hearken-spark --example bench_lake --example bench_embedded
cargo build --locked -p hearken-spark --features spark --example bench_spark
bin_release=$repo/target/release/examples
bin_debug=$repo/target/debug/examples

load() { cut -d' ' -f1-3 /proc/loadavg; }
# Seconds of executor CPU and of task run time the Connect server's application has spent so far.
executor_time() { python3 benches/spark/round_time.py --now "$HEARKEN_SPARK_UI"; }
record() { # engine workers round json same load_before
  python3 - "$1" "$2" "$3" "$4" "$(load)" "$5" "$ROWS" "$6" >>"$results" <<'EOF'
import json, sys
engine, workers, rnd, body, load, same, rows, before = sys.argv[1:9]
row = {"engine": engine, "workers": int(workers), "round": int(rnd), "rows": int(rows)}
row["load_before"] = before
row.update(json.loads(body))
row["load_after"] = load
row["same_as_embedded"] = same
print(json.dumps(row))
EOF
  tail -1 "$results" >&2
}

if [ ! -d "$lake" ]; then
  echo "# writing $ROWS signals to $lake (load $(load))" >&2
  /usr/bin/time -v "$bin_release/bench_lake" --rows "$ROWS" --out "$lake" \
    2> >(grep -E "Elapsed|Maximum resident|signals in" >&2) | tee "$OUT/lake-$ROWS.json" >&2
fi
du -sh "$lake" >&2
df -h "$OUT" | tail -1 >&2

ref=$OUT/partials-$ROWS/embedded-1
for r in $(seq "$RUNS"); do
  if [ "${SPARK_ONLY:-0}" = 1 ] && [ -d "$ref" ]; then break; fi
  before=$(load); echo "# round $r: embedded (load $before)" >&2
  dir=$OUT/partials-$ROWS/embedded-$r
  body=$("$bin_release/bench_embedded" --lake "$lake" --out "$dir" --threads 2)
  record embedded 0 "$r" "$body" "$(python3 benches/spark/compare.py "$ref" "$dir" || true)" "$before"
  before=$(load); echo "# round $r: duckdb (load $before)" >&2
  dir=$OUT/partials-$ROWS/duckdb-$r
  body=$("$venv/bin/python" benches/spark/duckdb_bench.py "$lake" "$dir")
  record duckdb 0 "$r" "$body" "$(python3 benches/spark/compare.py "$ref" "$dir" || true)" "$before"
done

for w in $WORKERS; do
  cluster=$OUT/cluster-$w-$$
  echo "# starting a cluster of $w worker(s) (load $(load))" >&2
  env_lines=$(HEARKEN_SPARK_WORKERS=$w bash tools/spark/cluster.sh start "$cluster")
  eval "$env_lines"
  trap 'bash tools/spark/cluster.sh stop "$cluster"' EXIT
  # Round 0 is the JVMs' warm-up (class loading, JIT, the first plans): recorded, not compared.
  for r in $(seq 0 "$RUNS"); do
    before=$(load); echo "# round $r: spark, $w worker(s) (load $before)" >&2
    dir=$OUT/partials-$ROWS/spark$w-$r
    cpu0=$(executor_time)
    body=$("$bin_debug/bench_spark" --engine "$HEARKEN_SPARK" --lake "$lake" --out "$dir")
    # The executors' CPU and task run time in the round, from the application's stages.
    body=$(python3 benches/spark/round_time.py "$body" "$cpu0" "$(executor_time)")
    record spark "$w" "$r" "$body" "$(python3 benches/spark/compare.py "$ref" "$dir" || true)" "$before"
  done
  bash tools/spark/cluster.sh stop "$cluster"
  trap - EXIT
  rm -rf "$cluster"
done

if [ "${KEEP_LAKE:-0}" != 1 ]; then rm -rf "$lake"; fi
echo "# results: $results" >&2
