#!/usr/bin/env python3
"""Do DuckDB and pandas read Hearken's Parquet exports, and do they say what the CSV says?

Builds a store from the fixture files of crates/hearken-export/tests/data/store with the real
`hearken` binary (`hearken import --no-enrich`, then the signal sentiments the Rust tests set),
exports every dataset and two analytics with `hearken export` as CSV, JSON Lines and Parquet, and
reads each Parquet file twice, with DuckDB (`read_parquet`) and with pandas (`engine="pyarrow"`).
Every cell of both is compared with the CSV export (read as text with Python's csv module: an
empty field is no value, a defused formula loses its leading `'`, times are ISO 8601 UTC) and
with the JSON Lines export. Then it writes, per file, the row count and per column the non-null
count and one aggregate (numbers: the sum; booleans: how many are true; texts: their total
length in characters; times: the sum of their Unix seconds), as DuckDB computed them, to

    crates/hearken-export/tests/data/parquet_check.json

with the tools' versions and the column types DuckDB and pandas saw. It also exports signals,
surveys and case events with `--partition month` and reads each directory with DuckDB's Hive
partitioning (`read_parquet('DIR/*/*.parquet', hive_partitioning = true)`): every row in the
month its directory names, the same rows as the whole export, and the rows per month, which go
to the fixture's `partitioned` section. Commit it: the Rust test
`parquet_reads_in_duckdb_and_pandas_as_the_fixture_says` computes the same figures from the
Parquet files it writes, so the Rust tests need no Python.

Usage (from anywhere; creates tools/reference/.venv-parquet on first run, gitignored):
    python3 tools/reference/exports/check_parquet.py [--hearken PATH]
Without --hearken it builds the binary with `cargo build -p hearken-cli`. Exit status 1 when a
difference is found (the fixture then records it and the Rust test fails).
"""

import csv
import datetime as dt
import io
import json
import math
import os
import sqlite3
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
VENV = HERE.parent / ".venv-parquet"
DATA = ROOT / "crates" / "hearken-export" / "tests" / "data"
# pytz: DuckDB needs it to hand TIMESTAMP WITH TIME ZONE values to Python.
PINS = ["pandas==3.1.1", "pyarrow==26.0.1", "duckdb==2.0.0", "pytz==2026.6"]

# The same statement as crates/hearken-export/tests/export/helpers.rs (SENTIMENT_SQL).
SENTIMENT_SQL = (
    "UPDATE signals SET sentiment = ((id * 7919) % 2001 - 1000) / 1000.0 WHERE text IS NOT NULL"
)

# name -> the `hearken export` arguments after the subcommand's name.
EXPORTS = {
    "signals": ["signals"],
    "surveys": ["surveys"],
    "case-events": ["case-events"],
    "customers": ["customers"],
    "scores-by-segment": ["scores", "--by", "segment"],
    "trends": ["trends"],
}
# Exports also written with `--partition month`.
PARTITIONED = ["signals", "surveys", "case-events"]

IMPORTS = [
    ("customers", "customers.csv"),
    ("products", "products.csv"),
    ("agents", "agents.csv"),
    ("signals", "signals.csv"),
    ("surveys", "surveys.csv"),
    ("case-events", "case_events.csv"),
]


def ensure_venv():
    py = VENV / "bin" / "python"
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    if not py.exists():
        venv.create(VENV, with_pip=True)
        subprocess.check_call([str(py), "-m", "pip", "install", "--quiet", *PINS])
    os.execv(str(py), [str(py), __file__, *sys.argv[1:]])


ensure_venv()

import duckdb  # noqa: E402
import pandas as pd  # noqa: E402
import pyarrow  # noqa: E402


def hearken_binary():
    if "--hearken" in sys.argv:
        return sys.argv[sys.argv.index("--hearken") + 1]
    subprocess.check_call(["cargo", "build", "-q", "-p", "hearken-cli"], cwd=ROOT)
    target = os.environ.get("CARGO_TARGET_DIR", str(ROOT / "target"))
    return str(Path(target) / "debug" / "hearken")


def run(hearken, db, *args):
    p = subprocess.run([hearken, "--db", str(db), *args], capture_output=True, text=True)
    if p.returncode != 0:
        raise SystemExit(f"hearken {' '.join(args)} failed: {p.stderr}")


FORMULA = ("=", "+", "-", "@", "\t", "\r")


def csv_value(cell, kind):
    """A CSV cell as the value it stands for, by the column's kind (from the JSON Lines)."""
    if cell == "":
        return None
    if kind == "text":
        if cell.startswith("'") and cell[1:2] and cell[1] in FORMULA:
            return cell[1:]
        return cell
    if kind == "bool":
        return {"true": True, "false": False}[cell]
    if kind == "time":
        return cell
    return float(cell)


def iso(ts):
    """A timezone-aware timestamp (pandas or Python) as `YYYY-MM-DDTHH:MM:SSZ`."""
    if ts is None or (isinstance(ts, float) and math.isnan(ts)) or ts is pd.NaT:
        return None
    ts = pd.Timestamp(ts)
    assert ts.tzinfo is not None, f"{ts} has no time zone: Parquet must say UTC"
    return ts.tz_convert("UTC").strftime("%Y-%m-%dT%H:%M:%SZ")


def normal(v, kind):
    """A value read from Parquet, in the CSV's terms."""
    if v is None or v is pd.NA or v is pd.NaT:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    if kind == "time":
        return iso(v)
    if kind == "bool":
        return bool(v)
    if kind == "text":
        return str(v)
    return float(v)


def kinds_of(types):
    """Each column's kind from DuckDB's types."""
    out = {}
    for name, t in types.items():
        t = t.upper()
        if t.startswith("TIMESTAMP"):
            out[name] = "time"
        elif t == "BOOLEAN":
            out[name] = "bool"
        elif t in ("VARCHAR", "STRING"):
            out[name] = "text"
        elif t in ("BIGINT", "DOUBLE", "INTEGER", "FLOAT"):
            out[name] = "number"
        else:
            raise AssertionError(f"{name}: unexpected type {t}")
    return out


def compare(name, source, rows, expected, kinds, problems):
    if len(rows) != len(expected):
        problems.append(f"{name}: {source} has {len(rows)} rows, the CSV {len(expected)}")
        return
    for i, (got, want) in enumerate(zip(rows, expected)):
        for col, kind in kinds.items():
            g = normal(got[col], kind)
            w = want[col]
            same = (
                math.isclose(g, w, rel_tol=0, abs_tol=0)
                if kind == "number" and g is not None and w is not None
                else g == w
            )
            if not same:
                problems.append(f"{name} row {i + 1} {col}: {source} {g!r}, CSV {w!r}")


def aggregate(values, kind):
    present = [v for v in values if v is not None]
    if kind == "time":
        agg = sum(
            int(dt.datetime.strptime(v, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc).timestamp())
            for v in present
        )
    elif kind == "bool":
        agg = sum(1 for v in present if v)
    elif kind == "text":
        agg = sum(len(v) for v in present)
    else:
        agg = math.fsum(present)
    return {"non_null": len(present), "agg": agg}


def main():
    hearken = hearken_binary()
    problems = []
    files = {}
    partitioned = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        db = tmp / "check.db"
        for kind, file in IMPORTS:
            run(hearken, db, "import", str(DATA / "store" / file), "--kind", kind, "--no-enrich")
        with sqlite3.connect(db) as con:
            con.execute(SENTIMENT_SQL)
        for name, args in EXPORTS.items():
            paths = {}
            for fmt in ("csv", "jsonl", "parquet"):
                paths[fmt] = tmp / f"{name}.{fmt}"
                run(hearken, db, "export", *args, "--format", fmt, "--out", str(paths[fmt]))

            con = duckdb.connect()
            rel = con.execute(f"SELECT * FROM read_parquet('{paths['parquet']}')")
            columns = [d[0] for d in rel.description]
            duck_rows = [dict(zip(columns, r)) for r in rel.fetchall()]
            duck_types = dict(
                con.execute(
                    f"SELECT column_name, column_type FROM (DESCRIBE SELECT * FROM read_parquet('{paths['parquet']}'))"
                ).fetchall()
            )
            kinds = kinds_of(duck_types)

            frame = pd.read_parquet(paths["parquet"], engine="pyarrow")
            pandas_rows = frame.astype(object).where(frame.notna(), None).to_dict("records")

            with open(paths["csv"], newline="", encoding="utf-8") as f:
                raw = f.read()
            if raw.startswith("\ufeff"):
                problems.append(f"{name}: the CSV starts with a byte-order mark")
            reader = csv.reader(io.StringIO(raw))
            header = next(reader)
            if header != columns:
                problems.append(f"{name}: CSV columns {header} != Parquet columns {columns}")
            expected = [
                {c: csv_value(cell, kinds[c]) for c, cell in zip(header, rec)} for rec in reader
            ]
            with open(paths["jsonl"], encoding="utf-8") as f:
                json_rows = [json.loads(line) for line in f]
            json_expected = [
                {c: (None if r[c] is None else (r[c] if kinds[c] in ("text", "time", "bool") else float(r[c]))) for c in columns}
                for r in json_rows
            ]
            if json_expected != expected:
                problems.append(f"{name}: the JSON Lines export differs from the CSV export")

            compare(name, "DuckDB", duck_rows, expected, kinds, problems)
            compare(name, "pandas", pandas_rows, expected, kinds, problems)

            stats = {}
            for c in columns:
                duck = aggregate([normal(r[c], kinds[c]) for r in duck_rows], kinds[c])
                pand = aggregate([normal(r[c], kinds[c]) for r in pandas_rows], kinds[c])
                if duck != pand:
                    problems.append(f"{name}.{c}: DuckDB {duck} != pandas {pand}")
                stats[c] = {
                    **duck,
                    "duckdb_type": duck_types[c],
                    "pandas_dtype": str(frame[c].dtype),
                }
            files[name] = {"rows": len(duck_rows), "columns": stats}

        for name in PARTITIONED:
            part_dir = tmp / f"{name}-by-month"
            run(hearken, db, "export", *EXPORTS[name], "--partition", "month", "--out", str(part_dir))
            whole = tmp / f"{name}.parquet"
            con = duckdb.connect()
            glob = f"{part_dir}/*/*.parquet"
            wrong = con.execute(
                f"SELECT count(*) FROM read_parquet('{glob}', hive_partitioning = true) "
                "WHERE strftime(timezone('UTC', \"at\"), '%Y-%m') <> month"
            ).fetchone()[0]
            if wrong:
                problems.append(f"{name}: {wrong} rows in another month's partition")
            cols = [d[0] for d in con.execute(f"SELECT * FROM read_parquet('{whole}')").description]
            listed = ", ".join(f'"{c}"' for c in cols)
            diff = con.execute(
                f"SELECT count(*) FROM ((SELECT {listed} FROM read_parquet('{glob}', hive_partitioning = true) "
                f"EXCEPT ALL SELECT {listed} FROM read_parquet('{whole}')) UNION ALL "
                f"(SELECT {listed} FROM read_parquet('{whole}') EXCEPT ALL "
                f"SELECT {listed} FROM read_parquet('{glob}', hive_partitioning = true)))"
            ).fetchone()[0]
            if diff:
                problems.append(f"{name}: the partitioned rows differ from the whole export in {diff} rows")
            months = con.execute(
                f"SELECT month, count(*) FROM read_parquet('{glob}', hive_partitioning = true) "
                "GROUP BY month ORDER BY month"
            ).fetchall()
            partitioned[name] = {m: n for m, n in months}
    out = {
        "made_by": "tools/reference/exports/check_parquet.py",
        "tools": {
            "duckdb": duckdb.__version__,
            "pandas": pd.__version__,
            "pyarrow": pyarrow.__version__,
        },
        "result": "ok" if not problems else problems,
        "files": files,
        "partitioned": partitioned,
    }
    path = DATA / "parquet_check.json"
    path.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    for p in problems:
        print("DIFFERENCE:", p)
    cells = sum(f["rows"] * len(f["columns"]) for f in files.values())
    print(
        f"{len(files)} exports, {cells} cells each read by DuckDB {duckdb.__version__} and "
        f"pandas {pd.__version__} (pyarrow {pyarrow.__version__}): "
        + ("identical to the CSV export" if not problems else f"{len(problems)} differences")
    )
    print(f"wrote {path.relative_to(ROOT)}")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
