"""The executors' time in one round of benches/spark/run.sh, from Spark's REST API.

    python3 round_time.py --now UI            prints the CPU seconds and task run seconds the
                                              Connect server's application has spent so far
    python3 round_time.py JSON BEFORE AFTER   adds executor_cpu_s and executor_run_s (AFTER
                                              minus BEFORE) to a round's JSON line
"""
import json
import sys
import urllib.request


def now(ui):
    app = json.load(urllib.request.urlopen(f"{ui}/api/v1/applications"))[0]["id"]
    stages = json.load(urllib.request.urlopen(f"{ui}/api/v1/applications/{app}/stages"))
    cpu = sum(s.get("executorCpuTime", 0) for s in stages) / 1e9
    run = sum(s.get("executorRunTime", 0) for s in stages) / 1e3
    print(cpu, run)


def main():
    if sys.argv[1] == "--now":
        now(sys.argv[2])
        return
    body = json.loads(sys.argv[1])
    a, z = sys.argv[2].split(), sys.argv[3].split()
    body["executor_cpu_s"] = round(float(z[0]) - float(a[0]), 1)
    body["executor_run_s"] = round(float(z[1]) - float(a[1]), 1)
    print(json.dumps(body))


if __name__ == "__main__":
    main()
