#!/usr/bin/env python3
"""Reference case-flow figures from PM4Py (and pandas, for what PM4Py has no function for).

Runs on the event logs vendored in crates/hearken-eventlog/tests/data and writes
crates/hearken-flow/tests/data/pm4py_reference.json, which the Rust tests
(crates/hearken-eventlog/tests/flow/main.rs) compare against: counts identical, durations within
one second.

Which figure comes from where is written into the fixture under "sources". In short:
- PM4Py functions: read_xes, discover_dfg (dfg_edges, dfg_total, every edge count),
  get_rework_cases_per_activity, get_all_case_durations (median and p90 via numpy's default
  linear interpolation), discover_handover_of_work_network (beta=0).
- PM4Py's handover network counts every pair of consecutive resources, *including* a resource
  followed by itself, and weights them by frequency. Hearken's transfers are consecutive events
  whose known resources differ, so Hearken's handover_pairs = PM4Py's pairs minus the self pairs
  (checked here against the pandas computation of our definition).
- pandas on PM4Py's dataframe (our definitions, no PM4Py function): transfers, handovers per
  pair and per agent, first-owner resolution, stage times, loops.
- pandas, per group of cases and for a time window (Hearken's `flow --by` and `--from/--to`):
  a case's attribute is its value at its first event (stable order by case, time, file order)
  that has one, its team the org:group of its last event that has one; a window keeps the
  cases whose first event is in it, with all their events. Per group: cases, events, median
  and p90 case duration, transfers, first-owner cases and resolved.

Usage: python3 tools/reference/flow/make_reference.py   (creates tools/reference/.venv-flow)
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
VENV = ROOT / "tools" / "reference" / ".venv-flow"
DATA = ROOT / "crates" / "hearken-eventlog" / "tests" / "data"
OUT = ROOT / "crates" / "hearken-flow" / "tests" / "data" / "pm4py_reference.json"
PINS = ["pm4py==2.7.23.11", "pandas==3.1.1", "numpy==2.4.6"]

CASE, ACT, TS, RES = "case:concept:name", "concept:name", "time:timestamp", "org:resource"


def ensure_venv():
    py = VENV / "bin" / "python"
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    if not py.exists():
        subprocess.check_call([sys.executable, "-m", "venv", str(VENV)])
    subprocess.check_call([str(py), "-m", "pip", "install", "-q", *PINS])
    os.execv(str(py), [str(py), __file__, *sys.argv[1:]])


def load(path):
    import pandas as pd
    import pm4py

    if path.name.endswith(".xes") or path.name.endswith(".xes.gz"):
        return pm4py.read_xes(str(path))
    df = pd.read_csv(path, dtype={CASE: str})
    df[TS] = pd.to_datetime(df[TS], utc=True, format="ISO8601")
    return pm4py.format_dataframe(df, case_id=CASE, activity_key=ACT, timestamp_key=TS)


def figures(path):
    import numpy as np
    import pandas as pd
    import pm4py

    df = load(path)
    out = {"file": path.name}
    out["events"] = int(len(df))
    out["cases"] = int(df[CASE].nunique())

    dfg, _, _ = pm4py.discover_dfg(df, case_id_key=CASE, activity_key=ACT, timestamp_key=TS)
    out["dfg_edges"] = len(dfg)
    out["dfg_total"] = int(sum(dfg.values()))
    out["dfg"] = sorted([a, b, int(n)] for (a, b), n in dfg.items())

    rework = pm4py.get_rework_cases_per_activity(
        df, case_id_key=CASE, activity_key=ACT, timestamp_key=TS
    )
    out["rework_cases"] = {k: int(v) for k, v in sorted(rework.items())}

    durs = np.array(
        pm4py.get_all_case_durations(df, case_id_key=CASE, activity_key=ACT, timestamp_key=TS),
        dtype=float,
    )
    out["median_case_duration_hours"] = float(np.median(durs)) / 3600.0
    out["p90_case_duration_hours"] = float(np.percentile(durs, 90)) / 3600.0

    sna = pm4py.discover_handover_of_work_network(
        df, beta=0, resource_key=RES, case_id_key=CASE, timestamp_key=TS
    )
    conns = sna.connections
    out["pm4py_handover_pairs_including_self"] = len(conns)
    out["handover_pairs_from_pm4py"] = len([k for k in conns if k[0] != k[1]])

    # --- pandas: our definitions on the same dataframe --------------------------------------
    d = df[[CASE, ACT, TS, RES]].copy()
    d["_i"] = np.arange(len(d))
    d = d.sort_values([CASE, TS, "_i"], kind="stable").reset_index(drop=True)
    nxt = d.shift(-1)
    same = d[CASE] == nxt[CASE]
    pairs = d[same].copy()
    pairs["next_res"] = nxt.loc[same, RES]
    pairs["dt_h"] = (nxt.loc[same, TS] - d.loc[same, TS]).dt.total_seconds() / 3600.0
    known = pairs[RES].notna() & pairs["next_res"].notna()
    tr = pairs[known & (pairs[RES] != pairs["next_res"])]
    out["transfers_total"] = int(len(tr))
    hand = tr.groupby([RES, "next_res"]).size()
    out["handover_pairs"] = int(len(hand))
    out["handovers"] = sorted([a, b, int(n)] for (a, b), n in hand.items())
    assert out["handover_pairs"] == out["handover_pairs_from_pm4py"], (
        "our handover pairs (pandas) differ from PM4Py's network without self pairs"
    )

    owned = d[d[RES].notna()]
    first = owned.groupby(CASE, sort=False)[RES].first()
    last = owned.groupby(CASE, sort=False)[RES].last()
    resolved = first == last
    out["first_owner_cases"] = int(len(first))
    out["first_owner_resolved"] = int(resolved.sum())
    out["first_owner_unknown"] = out["cases"] - out["first_owner_cases"]
    out["first_owner_resolution_pct"] = 100.0 * resolved.sum() / len(first) if len(first) else None

    prev_act = d.groupby(CASE, sort=False)[ACT].shift(1)
    seen_before = d.groupby([CASE, ACT], sort=False).cumcount() > 0
    loops = d[seen_before & (prev_act != d[ACT])].groupby(ACT).size()
    out["loops_total"] = int(loops.sum())

    stages = {}
    for act, g in pairs.groupby(ACT):
        v = g["dt_h"].to_numpy()
        stages[act] = {
            "intervals": int(len(v)),
            "median_hours": float(np.median(v)),
            "p90_hours": float(np.percentile(v, 90)),
        }
    for act in d[ACT].unique():
        s = stages.setdefault(act, {"intervals": 0, "median_hours": None, "p90_hours": None})
        s["events"] = int((d[ACT] == act).sum())
        s["loops"] = int(loops.get(act, 0))
    out["stages"] = dict(sorted(stages.items()))

    agents = {}
    outs = tr.groupby(RES).size()
    ins = tr.groupby("next_res").size()
    fo_cases = first.groupby(first).size()
    fo_res = first[resolved].groupby(first[resolved]).size()
    for r in sorted(d[RES].dropna().unique()):
        agents[r] = {
            "events": int((d[RES] == r).sum()),
            "transfers_out": int(outs.get(r, 0)),
            "transfers_in": int(ins.get(r, 0)),
            "first_owner_cases": int(fo_cases.get(r, 0)),
            "first_owner_resolved": int(fo_res.get(r, 0)),
        }
    out["agents"] = agents
    groups, windows = GROUPS.get(path.name, ({}, []))
    if groups or windows:
        d2, cases = per_case(df)
        if groups:
            out["groups"] = {}
            for name, (column, pick) in groups.items():
                col = d2[d2[column].notna() & (d2[column].astype(str).str.strip() != "")]
                g = col.groupby(CASE, sort=False)[column]
                value = (g.first() if pick == "first" else g.last()).astype(str)
                key = value.reindex(cases.index).fillna("(none)")
                out["groups"][name] = {k: summarise(cases[key == k]) for k in sorted(key.unique())}
        if windows:
            out["windows"] = []
            for frm, before in windows:
                a = pd.Timestamp(frm, tz="UTC")
                b = pd.Timestamp(before, tz="UTC")
                sel = cases[(cases["start"] >= a) & (cases["start"] < b)]
                out["windows"].append({"from": frm, "before": before, "figures": summarise(sel)})
    return out


# Per-group and windowed figures: file -> ({group name: (column, first|last)}, [(from, before)]).
GROUPS = {
    "receipt.xes.gz": (
        {"channel": ("case:channel", "first"), "department": ("case:department", "first"),
         "team": ("org:group", "last"), "agent": (RES, "first")},
        [("2011-01-01T00:00:00Z", "2011-07-01T00:00:00Z")],
    ),
    "helpdesk.xes.gz": (
        {"product": ("product", "first"), "customer": ("customer", "first")},
        [("2012-01-01T00:00:00Z", "2013-01-01T00:00:00Z")],
    ),
}


def per_case(df):
    """The events in Hearken's order and one row per case: start, events, duration, transfers,
    first owner and whether the first owner is the last."""
    import numpy as np
    import pandas as pd

    d = df.copy()
    d["_i"] = np.arange(len(d))
    d = d.sort_values([CASE, TS, "_i"], kind="stable").reset_index(drop=True)
    g = d.groupby(CASE, sort=False)
    cases = pd.DataFrame({"start": g[TS].first(), "end": g[TS].last(), "events": g.size()})
    cases["hours"] = (cases["end"] - cases["start"]).dt.total_seconds() / 3600.0
    nxt = d.shift(-1)
    tr = (d[CASE] == nxt[CASE]) & d[RES].notna() & nxt[RES].notna() & (d[RES] != nxt[RES])
    cases["transfers"] = tr.groupby(d[CASE]).sum().reindex(cases.index).fillna(0)
    owned = d[d[RES].notna()].groupby(CASE, sort=False)[RES]
    first, last = owned.first(), owned.last()
    cases["owned"] = first.reindex(cases.index).notna()
    cases["resolved"] = (first == last).reindex(cases.index).fillna(False)
    return d, cases


def summarise(cases):
    import numpy as np

    h = cases["hours"].to_numpy(dtype=float)
    return {
        "cases": int(len(cases)),
        "events": int(cases["events"].sum()),
        "median_case_duration_hours": float(np.median(h)) if len(h) else None,
        "p90_case_duration_hours": float(np.percentile(h, 90)) if len(h) else None,
        "transfers_total": int(cases["transfers"].sum()),
        "first_owner_cases": int(cases["owned"].sum()),
        "first_owner_resolved": int(cases["resolved"].sum()),
    }


def main():
    ensure_venv()
    if "--venv-only" in sys.argv:
        return
    import numpy
    import pandas
    import pm4py

    files = [
        "running-example.xes",
        "running-example.csv",
        "helpdesk.xes.gz",
        "helpdesk.events.csv.gz",
        "receipt.xes.gz",
        "receipt.csv.gz",
    ]
    logs = [figures(DATA / f) for f in files]
    fixture = {
        "generator": "tools/reference/flow/make_reference.py",
        "versions": {"pm4py": pm4py.__version__, "pandas": pandas.__version__, "numpy": numpy.__version__},
        "sources": {
            "events, cases": "len / nunique of pm4py.read_xes (XES) or pm4py.format_dataframe (CSV)",
            "dfg_edges, dfg_total, dfg": "pm4py.discover_dfg",
            "rework_cases": "pm4py.get_rework_cases_per_activity",
            "median/p90_case_duration_hours": "pm4py.get_all_case_durations, numpy median / percentile(90)",
            "pm4py_handover_pairs_including_self": "pm4py.discover_handover_of_work_network(beta=0): all consecutive resource pairs incl. (r, r)",
            "handover_pairs_from_pm4py": "the same network without (r, r) pairs",
            "transfers_total, handover_pairs, handovers, agents": "pandas on PM4Py's dataframe: consecutive events (stable sort by case, time, input order) with known, different resources",
            "first_owner_*": "pandas: first vs last non-null resource per case",
            "stages, loops_total": "pandas: time to the next event of the case per activity (numpy median / p90); re-entries into an activity seen earlier in the case but not at the previous event",
            "groups, windows": "pandas: per case value (first non-empty in case/time/file order; team: last org:group), cases whose first event is in the window; per group cases, events, median/p90 duration, transfers, first owner",
        },
        "logs": logs,
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(fixture, indent=1, ensure_ascii=False) + "\n")
    for l in logs:
        print(l["file"], l["events"], l["cases"], l["dfg_edges"], l["dfg_total"], l["handover_pairs"],
              l["pm4py_handover_pairs_including_self"], round(l["first_owner_resolution_pct"], 3))
    print("wrote", OUT.relative_to(ROOT))


if __name__ == "__main__":
    main()
