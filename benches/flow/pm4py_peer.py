"""PM4Py doing what `flow_bench run` does: read the log and compute the flow figures PM4Py has
functions for. Prints one JSON line (times, CPU time, peak RSS). Run with the venv made by
tools/reference/flow/make_reference.py; called by bench.py."""

import json
import resource
import sys
import time
import warnings

warnings.filterwarnings("ignore")


def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main(path):
    import pm4py

    t0, c0 = time.perf_counter(), cpu()
    if path.endswith(".xes") or path.endswith(".xes.gz"):
        df = pm4py.read_xes(path)
    else:
        import pandas as pd

        df = pd.read_csv(path, dtype={"case:concept:name": str})
        df["time:timestamp"] = pd.to_datetime(df["time:timestamp"], utc=True, format="ISO8601")
        df = pm4py.format_dataframe(df)
    if "org:resource" in df.columns and df["org:resource"].isna().any():
        # PM4Py's handover network sorts resources and fails on missing ones (NaN): events
        # without an agent (Hearken's generator has them: a new, unassigned case) get "".
        df["org:resource"] = df["org:resource"].fillna("")
    t1 = time.perf_counter()
    dfg, _, _ = pm4py.discover_dfg(df)
    pm4py.get_rework_cases_per_activity(df)
    pm4py.get_all_case_durations(df)
    sna = pm4py.discover_handover_of_work_network(df)
    t2, c2 = time.perf_counter(), cpu()
    print(json.dumps({
        "events": int(len(df)),
        "dfg_edges": len(dfg),
        "dfg_total": int(sum(dfg.values())),
        "handover_pairs_incl_self": len(sna.connections),
        "read_s": t1 - t0,
        "analyze_s": t2 - t1,
        "total_s": t2 - t0,
        "cpu_s": c2 - c0,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
    }))


if __name__ == "__main__":
    main(sys.argv[1])
