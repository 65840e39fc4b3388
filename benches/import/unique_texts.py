#!/usr/bin/env python3
"""Writes a copy of the import benchmark's signals.csv in which no text repeats (" (ref N)" is
appended to every text), to measure enrichment without the per-worker memo of recent texts.

    python3 benches/import/unique_texts.py benches/out/import-83334 benches/out/import-unique
    cp benches/out/import-83334/model.db benches/out/import-unique/
    OUT=benches/out/import-unique bash benches/import/compare.sh 3 plain,enrich,topics target/release/hearken
"""
import csv
import os
import sys

src, dst = sys.argv[1], sys.argv[2]
os.makedirs(os.path.join(dst, "data"), exist_ok=True)
with open(os.path.join(src, "data", "signals.csv"), newline="") as f, \
        open(os.path.join(dst, "data", "signals.csv"), "w", newline="") as g:
    r, w = csv.reader(f), csv.writer(g)
    header = next(r)
    w.writerow(header)
    text = header.index("text")
    for i, row in enumerate(r):
        if row[text]:
            row[text] += f" (ref {i})"
        w.writerow(row)
