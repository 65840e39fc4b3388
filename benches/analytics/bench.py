#!/usr/bin/env python3
"""Analytics benchmark (issue 5): each `hearken` analytics command on a generated store against
DuckDB running the equivalent SQL on the same data, in the same run, and a check that both give
the same figures.

    python3 benches/analytics/bench.py                       # 10M signals (1M customers x 10 months)
    python3 benches/analytics/bench.py --customers 100000 --months 10    # ~1M, quicker
    python3 benches/analytics/bench.py --store /path/h.db   # an existing store (skips generate/import)

Setup (not timed): generate with Hearken's generator, import customers, products, agents,
signals (with sentiment) and surveys into a fresh store, then copy the same rows from that store
into a DuckDB database file, so both sides read identical data. Then, for each command: one
untimed warm-up of each side (Hearken's first analytics command after an import also brings the
columnar snapshot up to date: timed separately and reported), then RUNS alternating timed runs.

Hearken is timed end to end as a new process (`hearken CMD --json`: start, open the store, read
the columns, compute, print JSON). DuckDB is timed twice: as the official DuckDB CLI process
running the same SQL (`duckdb -readonly FILE -c SQL`: start, open, query, print; the like of
Hearken's process), and as the query alone on an already open
connection to a warm database (`con.execute(sql).fetchall()` plus the few lines of Python that
turn its rows into the same figures): DuckDB gets no process start, no open, no printing. DuckDB
runs with its default threads (all cores).

Needs: Python 3.11 and PyPI (a virtualenv benches/analytics/.venv with duckdb and numpy is made on
first use), a release build of hearken.
"""

import argparse
import json
import math
import os
import sqlite3
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VENV = os.path.join(ROOT, "benches", "analytics", ".venv")


def ensure_venv():
    py = os.path.join(VENV, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    if not os.path.exists(py):
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
        subprocess.check_call([py, "-m", "pip", "install", "-q", "duckdb==1.5.6", "duckdb-cli==1.5.6",
                               "numpy"])
    os.execv(py, [py] + sys.argv)


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def load_avg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def build_store(h, args, out):
    data = os.path.join(out, "data")
    db = os.path.join(out, "h.db")
    if not os.path.exists(os.path.join(data, "signals.csv")):
        print(f"== generate {args.customers} customers x {args.months} months", flush=True)
        sh([h, "generate", "--out", data, "--customers", str(args.customers), "--months",
            str(args.months), "--seed", "1", "--json"], stdout=subprocess.DEVNULL)
    if not os.path.exists(db):
        for kind in ["customers", "products", "agents", "signals", "surveys", "case_events"]:
            t = time.time()
            sh([h, "--db", db, "import", os.path.join(data, f"{kind}.csv"), "--kind", kind.replace("_", "-"), "--json"],
               stdout=subprocess.DEVNULL)
            print(f"   imported {kind} in {time.time() - t:.1f} s", flush=True)
    return db


def copy_to_duckdb(db, ddb_path):
    import duckdb
    if os.path.exists(ddb_path):
        return
    print("== copy the store's rows into DuckDB (not timed)", flush=True)
    con = duckdb.connect(ddb_path + ".tmp")
    tables = {
        "customers": ("SELECT id, ext_id, segment, persona, since, value_per_year FROM customers",
                      "id BIGINT, ext_id VARCHAR, segment VARCHAR, persona VARCHAR, since BIGINT, value_per_year DOUBLE"),
        "products": ("SELECT id, ext_id FROM products", "id BIGINT, ext_id VARCHAR"),
        "agents": ("SELECT id, ext_id, team FROM agents", "id BIGINT, ext_id VARCHAR, team VARCHAR"),
        "signals": ("SELECT id, at, channel, kind, customer_id, product_id, agent_id, "
                    "coalesce(topic, predicted_topic), sentiment FROM signals",
                    "id BIGINT, ts BIGINT, channel UTINYINT, kind UTINYINT, customer_id BIGINT, "
                    "product_id BIGINT, agent_id BIGINT, topic VARCHAR, sentiment DOUBLE"),
        "surveys": ("SELECT id, at, customer_id, product_id, agent_id, channel, nps, csat, ces, overall, case_id FROM surveys",
                    "id BIGINT, ts BIGINT, customer_id BIGINT, product_id BIGINT, agent_id BIGINT, "
                    "channel UTINYINT, nps UTINYINT, csat UTINYINT, ces UTINYINT, overall DOUBLE, case_id BIGINT"),
        "case_events": ("SELECT id, case_id, at, agent_id FROM case_events",
                        "id BIGINT, case_id BIGINT, ts BIGINT, agent_id BIGINT"),
        "survey_aspects": ("SELECT survey_id, aspect, rating FROM survey_aspects",
                           "survey_id BIGINT, aspect VARCHAR, rating DOUBLE"),
    }
    for name, (sql, schema) in tables.items():
        con.execute(f"CREATE TABLE {name} ({schema})")
        # sqlite3's own CSV output (NULL as an empty field), read back by DuckDB's CSV reader.
        csv_path = os.path.join(os.path.dirname(ddb_path), f"{name}.export.csv")
        with open(csv_path, "w") as f:
            sh(["sqlite3", "-csv", db, sql], stdout=f)
        con.execute(f"INSERT INTO {name} SELECT * FROM read_csv('{csv_path}', header = false, "
                    f"columns = {{{', '.join(repr(c.split()[0]) + ': ' + repr(c.split(maxsplit=1)[1]) for c in schema.split(', '))}}})")
        os.remove(csv_path)
        print(f"   {name}: {con.execute(f'SELECT count(*) FROM {name}').fetchone()[0]:,} rows", flush=True)
    # Aspects wide, one column per aspect, as the engine sees them.
    aspects = [r[0] for r in con.execute("SELECT DISTINCT aspect FROM survey_aspects ORDER BY 1").fetchall()]
    pivot = ", ".join(f"max(rating) FILTER (WHERE aspect = '{a}') AS \"a_{a}\"" for a in aspects)
    con.execute(f"CREATE TABLE aspects_wide AS SELECT survey_id, {pivot} FROM survey_aspects GROUP BY survey_id")
    con.execute("CHECKPOINT")
    con.close()
    os.rename(ddb_path + ".tmp", ddb_path)


# --- DuckDB's side: the SQL each command stands for, and the figures from its rows ---------------

def d_nps(con):
    n, p, d = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE nps >= 9), count(*) FILTER (WHERE nps <= 6) "
        "FROM surveys WHERE nps IS NOT NULL").fetchone()
    pp, pd = p / n, d / n
    nps = 100 * (pp - pd)
    se = 100 * math.sqrt(((pp + pd) - (pp - pd) ** 2) / n)
    return {"nps": nps, "low": nps - 1.6448536 * se, "high": nps + 1.6448536 * se, "n": n,
            "promoters": p, "detractors": d}


def d_nps_segment(con):
    rows = con.execute(
        "SELECT c.segment, count(*), count(*) FILTER (WHERE nps >= 9), count(*) FILTER (WHERE nps <= 6) "
        "FROM surveys s LEFT JOIN customers c ON c.id = s.customer_id WHERE nps IS NOT NULL GROUP BY 1").fetchall()
    return {seg or "(none)": {"n": n, "nps": 100 * (p - d) / n} for seg, n, p, d in rows}


def d_sentiment(con):
    pos, neg, n = con.execute(
        "SELECT count(*) FILTER (WHERE sentiment >= 0.05), count(*) FILTER (WHERE sentiment <= -0.05), "
        "count(sentiment) FROM signals").fetchone()
    return {"net_sentiment": 100 * (pos - neg) / n if n else None, "n": n, "positive": pos, "negative": neg}


def pareto_sql(col):
    return f"""
        WITH c AS (SELECT {col} AS e, count(*) AS n FROM signals WHERE {col} IS NOT NULL GROUP BY 1),
        r AS (SELECT n,
                 row_number() OVER (ORDER BY n DESC, e) AS rk,
                 sum(n) OVER (ORDER BY n DESC, e ROWS UNBOUNDED PRECEDING) AS cum,
                 row_number() OVER (ORDER BY n ASC, e DESC) AS asc_rank
              FROM c)
        SELECT count(*) AS k, sum(n) AS tot,
               sum(n) FILTER (WHERE rk <= ceil(0.2 * (SELECT count(*) FROM c))) AS top,
               min(rk) FILTER (WHERE cum >= 0.8 * (SELECT sum(n) FROM c)) AS k80,
               sum(asc_rank * n) AS weighted
        FROM r"""


def d_pareto(con, col):
    k, tot, top, k80, weighted = con.execute(pareto_sql(col)).fetchone()
    gini = (2 * weighted) / (k * tot) - (k + 1) / k
    return {"entities": k, "contacts": tot, "top20_share": top / tot, "k80": k80, "gini": gini}


def d_repeats(con):
    rows = con.execute("""
        WITH e AS (
            SELECT topic, product_id,
                   ts - lag(ts) OVER (PARTITION BY customer_id, topic ORDER BY ts, id) AS gap
            FROM signals WHERE customer_id IS NOT NULL AND topic IS NOT NULL)
        SELECT topic, product_id, count(*), count(*) FILTER (WHERE gap <= 7 * 86400)
        FROM e GROUP BY 1, 2""").fetchall()
    eligible = sum(r[2] for r in rows)
    repeats = sum(r[3] for r in rows)
    return {"eligible": eligible, "repeats": repeats}


def d_trends(con):
    # Weekly counts per topic (ISO weeks from Monday), the series the expected ranges run on.
    rows = con.execute("""
        SELECT coalesce(topic, ''), (ts + 3 * 86400) // 604800 AS w, count(*)
        FROM signals GROUP BY 1, 2""").fetchall()
    series = {}
    for t, w, n in rows:
        series.setdefault(t, {})[w] = n
    return {"topics": len(series), "weekly_total": sum(n for _, _, n in rows)}


def d_issues(con, limit=10, evidence=20):
    rows = con.execute("""
        SELECT s.topic, count(*) AS n, count(*) FILTER (WHERE s.sentiment <= -0.05) AS neg,
               count(s.sentiment) AS scored, avg(c.value_per_year) AS mean_value
        FROM signals s LEFT JOIN customers c ON c.id = s.customer_id
        WHERE s.topic IS NOT NULL GROUP BY 1""").fetchall()
    overall = con.execute("""
        SELECT avg(c.value_per_year) FROM signals s JOIN customers c ON c.id = s.customer_id
        WHERE s.topic IS NOT NULL""").fetchone()[0]
    ranked = []
    for topic, n, neg, scored, mean_value in rows:
        factor = mean_value / overall if mean_value is not None and overall else 1.0
        score = n * (neg / scored) * factor if scored else float("-inf")
        ranked.append((score, n, topic))
    ranked.sort(key=lambda r: (-r[0], -r[1]))
    top = [t for _, _, t in ranked[:limit]]
    ev = con.execute("""
        SELECT topic, id FROM signals WHERE topic IN (SELECT unnest(?)) AND sentiment IS NOT NULL
        QUALIFY row_number() OVER (PARTITION BY topic ORDER BY sentiment, id) <= ?""",
                     [top, evidence]).fetchall()
    return {"topics": top, "evidence": len(ev)}


def drivers_sqls(con):
    """The covariance matrix of overall satisfaction and the aspects over complete responses, and
    the case KPIs' correlations with overall satisfaction."""
    aspects = [r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'aspects_wide' "
        "AND column_name LIKE 'a_%' ORDER BY 1").fetchall()]
    cols = ["overall"] + [f'"{a}"' for a in aspects]
    complete = " AND ".join(f"{c} IS NOT NULL" for c in cols)
    pairs = [(i, j) for i in range(len(cols)) for j in range(i, len(cols))]
    sel = ", ".join(f"covar_pop({cols[i]}, {cols[j]})" for i, j in pairs)
    cov_sql = (f"SELECT count(*), {sel} FROM surveys s JOIN aspects_wide a ON a.survey_id = s.id "
               f"WHERE {complete}")
    kpi_sql = """
        WITH k AS (SELECT case_id, min(ts) AS f, max(ts) AS l,
                          min(ts) FILTER (WHERE agent_id IS NOT NULL) AS fa, count(*) AS n
                   FROM case_events GROUP BY case_id)
        SELECT corr(s.overall, (k.fa - k.f) / 3600.0), corr(s.overall, (k.l - k.f) / 3600.0),
               corr(s.overall, k.n)
        FROM surveys s JOIN k ON k.case_id = s.case_id WHERE s.overall IS NOT NULL"""
    return cov_sql, kpi_sql, aspects, pairs


def d_drivers(con):
    import numpy as np
    cov_sql, kpi_sql, aspects, pairs = drivers_sqls(con)
    row = con.execute(cov_sql).fetchone()
    n, cov = row[0], row[1:]
    # Internal KPIs of each response's case, as hearken reports beside the drivers.
    kpis = con.execute(kpi_sql).fetchone()
    k = len(aspects) + 1
    m = np.zeros((k, k))
    for (i, j), v in zip(pairs, cov):
        m[i, j] = m[j, i] = v
    sd = np.sqrt(np.diag(m))
    r = m / np.outer(sd, sd)
    rxx, rxy = r[1:, 1:], r[1:, 0]
    # Johnson's relative weights.
    evals, evecs = np.linalg.eigh(rxx)
    lam = evecs @ np.diag(np.sqrt(np.clip(evals, 0, None))) @ evecs.T
    beta = np.linalg.solve(lam, rxy)
    weights = (lam ** 2) @ (beta ** 2)
    return {"n": n, "r2": float(weights.sum()), "aspects": len(aspects), "kpis": list(kpis)}


# The same work as one DuckDB CLI process runs it (`duckdb -readonly FILE -c SQL`): the SQL of
# each command above, without the few lines of Python around it.
CLI_SQL = {
    "scores --metric nps": "SELECT count(*), count(*) FILTER (WHERE nps >= 9), count(*) FILTER (WHERE nps <= 6) "
                           "FROM surveys WHERE nps IS NOT NULL",
    "scores --metric nps --by segment": "SELECT c.segment, count(*), count(*) FILTER (WHERE nps >= 9), "
                                        "count(*) FILTER (WHERE nps <= 6) FROM surveys s LEFT JOIN customers c "
                                        "ON c.id = s.customer_id WHERE nps IS NOT NULL GROUP BY 1",
    "scores --metric sentiment": "SELECT count(*) FILTER (WHERE sentiment >= 0.05), count(*) FILTER "
                                 "(WHERE sentiment <= -0.05), count(sentiment) FROM signals",
    "pareto --by customer": None,  # filled below from d_pareto's SQL
    "pareto --by product": None,
    "trends": "SELECT coalesce(topic, ''), (ts + 3 * 86400) // 604800 AS w, count(*) FROM signals GROUP BY 1, 2",
    "repeats": """WITH e AS (SELECT topic, product_id,
                   ts - lag(ts) OVER (PARTITION BY customer_id, topic ORDER BY ts, id) AS gap
                   FROM signals WHERE customer_id IS NOT NULL AND topic IS NOT NULL)
                  SELECT topic, product_id, count(*), count(*) FILTER (WHERE gap <= 7 * 86400) FROM e GROUP BY 1, 2""",
    "issues-rank": """WITH t AS (SELECT s.topic, count(*) AS n, count(*) FILTER (WHERE s.sentiment <= -0.05) AS neg,
                          count(s.sentiment) AS scored, avg(c.value_per_year) AS v
                   FROM signals s LEFT JOIN customers c ON c.id = s.customer_id WHERE s.topic IS NOT NULL GROUP BY 1),
                   o AS (SELECT avg(c.value_per_year) AS v FROM signals s JOIN customers c ON c.id = s.customer_id
                         WHERE s.topic IS NOT NULL),
                   r AS (SELECT topic, n * neg / scored * coalesce(t.v / o.v, 1) AS score FROM t, o
                         WHERE scored > 0 ORDER BY score DESC, n DESC LIMIT 10)
                  SELECT s.topic, s.id, s.sentiment FROM signals s JOIN r ON r.topic = s.topic
                  WHERE s.sentiment IS NOT NULL
                  QUALIFY row_number() OVER (PARTITION BY s.topic ORDER BY s.sentiment, s.id) <= 20""",
    "drivers": None,
}


COMMANDS = [
    ("scores --metric nps", ["scores", "--metric", "nps"], d_nps),
    ("scores --metric nps --by segment", ["scores", "--metric", "nps", "--by", "segment"], d_nps_segment),
    ("scores --metric sentiment", ["scores", "--metric", "sentiment"], d_sentiment),
    ("pareto --by customer", ["pareto", "--by", "customer"], lambda c: d_pareto(c, "customer_id")),
    ("pareto --by product", ["pareto", "--by", "product"], lambda c: d_pareto(c, "product_id")),
    ("trends", ["trends"], d_trends),
    ("repeats", ["repeats"], d_repeats),
    ("issues-rank", ["issues-rank"], d_issues),
    ("drivers", ["drivers"], d_drivers),
]


def agree(label, h, d):
    """The figures both sides report, compared; returns a short verdict."""
    def close(a, b, tol=1e-9):
        return a is not None and b is not None and abs(a - b) <= tol * max(1.0, abs(b))
    checks = []
    if label == "scores --metric nps":
        checks = [h["n"] == d["n"], h["promoters"] == d["promoters"], h["detractors"] == d["detractors"],
                  close(h["nps"], d["nps"]), close(h["low"], d["low"], 1e-6), close(h["high"], d["high"], 1e-6)]
    elif label == "scores --metric nps --by segment":
        hs = {g["group"]: g for g in h["groups"]}
        checks = [len(hs) == len(d)] + [hs.get(k, {}).get("n") == v["n"] and close(hs[k]["nps"], v["nps"])
                                        for k, v in d.items()]
    elif label == "scores --metric sentiment":
        checks = [h["n"] == d["n"], h["positive"] == d["positive"], h["negative"] == d["negative"]]
    elif label.startswith("pareto"):
        checks = [h["entities"] == d["entities"], h["contacts"] == d["contacts"], h["k80"] == d["k80"],
                  close(h["top20_share"], d["top20_share"]), close(h["gini"], d["gini"], 1e-9)]
    elif label == "repeats":
        checks = [h["eligible"] == d["eligible"], h["repeats"] == d["repeats"]]
    elif label == "trends":
        checks = [sum(t["total"] for t in h["topics"]) + h.get("outside", 0) == d["weekly_total"]]
    elif label == "issues-rank":
        checks = [[i["topic"] for i in h["issues"]] == d["topics"],
                  sum(len(i["evidence"]) for i in h["issues"]) == d["evidence"]]
    elif label == "drivers":
        checks = [h["n"] == d["n"], close(h["r2"], d["r2"], 1e-6)] + [
            close(k["correlation"], v, 1e-4) for k, v in zip(h["kpis"], d["kpis"])]
    return "same" if checks and all(checks) else "DIFFERENT"


def main():
    ensure_venv()
    import duckdb
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=1_000_000)
    ap.add_argument("--months", type=int, default=10)
    ap.add_argument("--store")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--only", help="run only commands whose label contains this")
    args = ap.parse_args()

    sh(["cargo", "build", "--release", "-q", "-p", "hearken-cli"], cwd=ROOT)
    h = os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "hearken")
    out = os.path.join(ROOT, "benches", "out", f"analytics-{args.customers}x{args.months}")
    os.makedirs(out, exist_ok=True)
    db = args.store or build_store(h, args, out)
    ddb_path = os.path.splitext(db)[0] + ".duckdb"
    copy_to_duckdb(db, ddb_path)
    n_signals = sqlite3.connect(db).execute("SELECT max(id) FROM signals").fetchone()[0]

    t = time.time()
    sh([h, "--db", db, "status"], stdout=subprocess.DEVNULL)
    r = subprocess.run([h, "--db", db, "-v", "scores", "--json"], check=True, capture_output=True, text=True)
    print(f"== snapshot refresh + first command: {time.time() - t:.2f} s (once after an import)", flush=True)

    con = duckdb.connect(ddb_path, read_only=True)
    CLI_SQL["pareto --by customer"] = pareto_sql("customer_id")
    CLI_SQL["pareto --by product"] = pareto_sql("product_id")
    cov_sql, kpi_sql, _, _ = drivers_sqls(con)
    CLI_SQL["drivers"] = cov_sql + ";\n" + kpi_sql
    duck_cli = os.path.join(VENV, "bin", "duckdb")
    print(f"== {n_signals:,} signals; hearken {h}; duckdb {duckdb.__version__} threads "
          f"{con.execute('SELECT current_setting(' + repr('threads') + ')').fetchone()[0]}; load {load_avg()}")
    print()
    print("| command | hearken process (s, median of %d) | DuckDB CLI process (s) | ratio | "
          "DuckDB query on an open connection (s) | ratio | figures |" % args.runs)
    print("|---|---|---|---|---|---|---|")
    for label, cmd, dfn in COMMANDS:
        if args.only and args.only not in label:
            continue
        full = [h, "--db", db] + cmd + ["--json"]
        hres = json.loads(subprocess.run(full, check=True, capture_output=True, text=True).stdout)
        dres = dfn(con)
        ht, dt, ct = [], [], []
        cli = [duck_cli, "-readonly", ddb_path, "-c", CLI_SQL[label]]
        subprocess.run(cli, check=True, stdout=subprocess.DEVNULL)
        for _ in range(args.runs):
            t = time.perf_counter()
            subprocess.run(full, check=True, stdout=subprocess.DEVNULL)
            ht.append(time.perf_counter() - t)
            t = time.perf_counter()
            dfn(con)
            dt.append(time.perf_counter() - t)
            t = time.perf_counter()
            subprocess.run(cli, check=True, stdout=subprocess.DEVNULL)
            ct.append(time.perf_counter() - t)
        hm, dm, cm = statistics.median(ht), statistics.median(dt), statistics.median(ct)
        print(f"| `hearken {' '.join(cmd)} --json` | {hm:.3f} ({min(ht):.3f}-{max(ht):.3f}) | "
              f"{cm:.3f} ({min(ct):.3f}-{max(ct):.3f}) | {hm / cm:.2f} | "
              f"{dm:.3f} ({min(dt):.3f}-{max(dt):.3f}) | {hm / dm:.2f} | {agree(label, hres, dres)} |",
              flush=True)
    print(f"\nload after: {load_avg()}")


if __name__ == "__main__":
    main()
