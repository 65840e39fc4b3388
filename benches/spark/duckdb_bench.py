"""DuckDB, the peer, on the same Parquet lake as the Spark and embedded paths (benches/spark/run.sh).

    python duckdb_bench.py LAKE OUT_DIR

Runs the SQL of the same three partials (sentiment classes and compound sum per segment, signals
per product, signals per Monday-week index and topic) with DuckDB's Python API on a new
in-memory connection (default threads: the machine's cores), times each query, writes the
partials as sorted TSV into OUT_DIR (compare.py checks them against the embedded path's) and
prints one JSON line. The compound is rounded to float as the store keeps it, as Spark's query
does; the thresholds are the engine's f32 0.05 and -0.05 widened to double.
"""
import json
import os
import struct
import sys
import time

import duckdb


def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def main():
    lake, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    src = f"read_parquet('{lake}/signals/*/*.parquet', hive_partitioning = true)"
    c = "CAST(CAST(sentiment AS FLOAT) AS DOUBLE)"
    scored = f"({c} IS NOT NULL AND NOT isnan({c}))"
    pos, neg = repr(f32(0.05)), repr(f32(-0.05))
    queries = {
        "sentiment_by_segment": f"""
            SELECT segment AS g,
                   count(*) FILTER (WHERE {scored} AND {c} >= {pos}) AS positive,
                   count(*) FILTER (WHERE {scored} AND {c} <= {neg}) AS negative,
                   count(*) FILTER (WHERE NOT {scored}) AS unscored,
                   count(*) AS n,
                   sum(CASE WHEN {scored} THEN {c} ELSE 0 END) AS s
            FROM {src} GROUP BY 1""",
        "pareto_by_product": f"SELECT product_id AS g, count(*) AS n FROM {src} GROUP BY 1",
        # Days since 1970-01-01 floored; Monday weeks by shifting 3 days (as hearken_engine::keys).
        "trends_week_topic": f"""
            SELECT CAST(floor((floor(epoch_us("at") / 86400000000.0) + 3) / 7) AS BIGINT) AS p,
                   topic AS t, count(*) AS n
            FROM {src} GROUP BY 1, 2""",
    }
    con = duckdb.connect()
    times = {}
    for name, sql in queries.items():
        t = time.perf_counter()
        rows = con.execute(sql).fetchall()
        times[name + "_s"] = round(time.perf_counter() - t, 3)
        lines = []
        for r in rows:
            if name == "sentiment_by_segment":
                g, p, ng, u, n, s = r
                lines.append(f"{g if g is not None else '(none)'}\t{p}\t{n - p - ng - u}\t{ng}\t{u}\t{float(s or 0):.9e}")
            elif name == "pareto_by_product":
                lines.append(f"{r[0] if r[0] is not None else '(none)'}\t{r[1]}")
            else:
                lines.append(f"{r[0]}\t{r[1] if r[1] is not None else '(none)'}\t{r[2]}")
        with open(os.path.join(out, name + ".tsv"), "w") as f:
            f.writelines(line + "\n" for line in sorted(lines))
    times["total_s"] = round(sum(times.values()), 3)
    times["duckdb"] = duckdb.__version__
    times["threads"] = con.execute("SELECT current_setting('threads')").fetchone()[0]
    print(json.dumps(times))


if __name__ == "__main__":
    main()
