#!/usr/bin/env python3
"""Case-flow speed benchmark: Hearken (read + every flow figure) against PM4Py (read_xes,
discover_dfg, get_rework_cases_per_activity, get_all_case_durations,
discover_handover_of_work_network) on the same files in the same run.

Inputs: the vendored real logs, and XES logs of about 1M, 3M and 10M events from Hearken's own
generator: `hearken generate --customers N --months 12 --seed 1` writes case_events.csv (about
17.5 case events per customer-year), and `flow_bench from-case-events` turns it into XES (one
trace per case; activity, time, agent as org:resource, team as org:group, text as comment).
PM4Py runs on the sizes up to --pm4py-max-events (default: all).

Usage: python3 benches/flow/bench.py [--sizes 1000000,3000000,10000000] [--pm4py-max-events N]
       [--runs R] [--only real|large]
Writes benches/out/flow/results-{real,large,all}.json and prints a table with the ratios.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "crates" / "hearken-eventlog" / "tests" / "data"
OUT = ROOT / "benches" / "out" / "flow"
VENV_PY = ROOT / "tools" / "reference" / ".venv-flow" / "bin" / "python"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
BIN = TARGET / "release" / "examples" / "flow_bench"
HEARKEN = TARGET / "release" / "hearken"
# Case events per customer over 12 months from `hearken generate --seed 1` (34,968 events for
# 2,000 customers); used only to pick the customer count for a wanted log size.
EVENTS_PER_CUSTOMER = 17.48


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw).stdout


def time_cmd(cmd):
    """Runs cmd and returns the JSON line it prints. Both sides time themselves in-process
    (read + figures; interpreter start-up and imports are not counted for either)."""
    return json.loads(sh(cmd).strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000000,3000000,10000000")
    ap.add_argument("--pm4py-max-events", type=int, default=1 << 62)
    ap.add_argument("--skip-build", action="store_true")
    ap.add_argument("--runs", type=int, default=1, help="alternating runs of both sides per input")
    ap.add_argument("--only", choices=["real", "large"])
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    if not VENV_PY.exists():
        sh([sys.executable, str(ROOT / "tools/reference/flow/make_reference.py"), "--venv-only"])
    if not args.skip_build:
        env = dict(os.environ, CARGO_TARGET_DIR=str(TARGET))
        subprocess.run(["cargo", "build", "--release", "-p", "hearken-eventlog", "--example", "flow_bench"],
                       check=True, cwd=ROOT, env=env)
        subprocess.run(["cargo", "build", "--release", "-p", "hearken-cli"], check=True, cwd=ROOT, env=env)
    inputs = []
    if args.only != "large":
        inputs += [DATA / "helpdesk.xes.gz", DATA / "receipt.xes.gz", DATA / "helpdesk.events.csv.gz",
                   DATA / "receipt.csv.gz"]
    for n in [int(x) for x in args.sizes.split(",") if x] if args.only != "real" else []:
        p = OUT / f"generated-{n}.xes"
        if not p.exists():
            gen = OUT / f"generated-{n}"
            customers = round(n / EVENTS_PER_CUSTOMER)
            sh([str(HEARKEN), "generate", "--out", str(gen), "--customers", str(customers),
                "--months", "12", "--seed", "1"])
            sh([str(BIN), "from-case-events", str(gen / "case_events.csv"), str(p)])
            shutil.rmtree(gen)
        inputs.append(p)
    print(f"hearken: {BIN}", flush=True)
    rows = []
    for p in [p for p in inputs for _ in range(args.runs)]:
        # Small logs run 20 times in one process so CPU clock ticks (10 ms) do not dominate.
        repeat = "20" if p.stat().st_size < 50_000_000 else "1"
        ours = time_cmd([str(BIN), "run", str(p), "--repeat", repeat])
        if repeat != "1":
            # Peak memory of a single run (repeated runs keep freed buffers in the allocator).
            ours["peak_rss_mb"] = time_cmd([str(BIN), "run", str(p)])["peak_rss_mb"]
        row = {"file": p.name, "bytes": p.stat().st_size, "events": ours["events"], "hearken": ours,
               "loadavg": os.getloadavg()}
        if ours["events"] <= args.pm4py_max_events:
            theirs = time_cmd([str(VENV_PY), str(ROOT / "benches/flow/pm4py_peer.py"), str(p)])
            row["pm4py"] = theirs
            assert theirs["dfg_total"] == ours["dfg_total"] and theirs["dfg_edges"] == ours["dfg_edges"], (p, ours, theirs)
            row["speedup_wall"] = theirs["total_s"] / ours["total_s"]
            row["speedup_cpu"] = theirs["cpu_s"] / ours["cpu_s"]
            row["memory_ratio"] = ours["peak_rss_mb"] / theirs["peak_rss_mb"]
        rows.append(row)
        print_row(row)
        (OUT / f"results-{args.only or 'all'}.json").write_text(json.dumps(rows, indent=1) + "\n")


def print_row(r):
    h = r["hearken"]
    line = (f"{r['file']:<28} {r['events']:>10} ev  hearken {h['total_s']:7.2f}s wall "
            f"{h['cpu_s']:7.2f}s cpu {h['peak_rss_mb']:8.1f} MB")
    if "pm4py" in r:
        p = r["pm4py"]
        line += (f" | pm4py {p['total_s']:8.2f}s wall {p['cpu_s']:8.2f}s cpu {p['peak_rss_mb']:8.1f} MB"
                 f" | x{r['speedup_wall']:.0f} wall, x{r['speedup_cpu']:.1f} cpu, memory {r['memory_ratio']:.3f}")
    else:
        line += " | pm4py not run at this size"
    line += " | load " + " ".join(f"{x:.1f}" for x in r["loadavg"])
    print(line, flush=True)


if __name__ == "__main__":
    main()
