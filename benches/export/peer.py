#!/usr/bin/env python3
"""The peer of `hearken export signals`: pandas reading the same rows from the store file with
sqlite3 (the same joins for names, segment and team; codes turned into names; times as UTC) and
writing CSV or Parquet (pyarrow, Snappy), as an analyst would without Hearken.

    peer.py STORE.db csv OUT.csv
    peer.py STORE.db parquet OUT.parquet
    peer.py STORE.db check DIR      # row counts of DIR/{h,p}.{csv,jsonl,parquet} against the store
"""
import sqlite3
import sys
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

SQL = """SELECT s.ext_id AS signal_id, s.at, s.channel, s.kind, s.source,
    c.ext_id AS customer_id, c.name AS customer_name, c.segment, p.ext_id AS product_id,
    p.name AS product_name, a.ext_id AS agent_id, a.name AS agent_name, a.team,
    k.ext_id AS case_id, s.stage, coalesce(s.topic, s.predicted_topic) AS topic,
    s.topic IS NULL AND s.predicted_topic IS NOT NULL AS topic_predicted,
    CASE WHEN s.topic IS NULL THEN s.topic_probability END AS topic_probability,
    s.sentiment, s.language, s.redactions, s.text
  FROM signals s
  LEFT JOIN customers c ON c.id = s.customer_id
  LEFT JOIN products p ON p.id = s.product_id
  LEFT JOIN agents a ON a.id = s.agent_id
  LEFT JOIN cases k ON k.id = s.case_id
  ORDER BY s.id"""

# The model's stable codes (crates/hearken-model/src/enums.rs).
CHANNELS = {1: "phone", 2: "email", 3: "chat", 4: "social", 5: "survey", 6: "review", 7: "web",
            8: "in_person", 9: "other"}
KINDS = {1: "question", 2: "complaint", 3: "compliment", 4: "suggestion", 5: "request",
         6: "survey_response", 7: "other"}
SOURCES = {1: "customer", 2: "employee"}


def count_csv(path):
    import csv
    with open(path, newline="", encoding="utf-8") as f:
        return sum(1 for _ in csv.reader(f)) - 1


def main():
    db, what, out = sys.argv[1], sys.argv[2], sys.argv[3]
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    if what == "check":
        n = con.execute("SELECT count(*) FROM signals").fetchone()[0]
        d = Path(out)
        counts = {
            "h.csv": count_csv(d / "h.csv"),
            "p.csv": count_csv(d / "p.csv"),
            "h.jsonl": sum(1 for _ in open(d / "h.jsonl", encoding="utf-8")),
            "h.parquet": pq.read_metadata(d / "h.parquet").num_rows,
            "p.parquet": pq.read_metadata(d / "p.parquet").num_rows,
        }
        print(f"store: {n} signals; files: {counts}")
        sys.exit(0 if all(v == n for v in counts.values()) else 1)
    df = pd.read_sql_query(SQL, con)
    df["at"] = pd.to_datetime(df["at"], unit="s", utc=True)
    df["channel"] = df["channel"].map(CHANNELS)
    df["kind"] = df["kind"].map(KINDS)
    df["source"] = df["source"].map(SOURCES)
    df["topic_predicted"] = df["topic_predicted"].astype(bool)
    if what == "csv":
        df.to_csv(out, index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
    else:
        df.to_parquet(out, engine="pyarrow", compression="snappy", index=False)
    print(len(df))


if __name__ == "__main__":
    main()
