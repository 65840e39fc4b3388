#!/usr/bin/env python3
"""The Python peer for the generator benchmark: what an analyst would script to make a synthetic
signals.csv of the same shape (same columns, heavy-tailed customers, topic texts, RFC 3339
times) with the standard library's random and csv modules. Prints rows/s; it is a yardstick for
speed only, not a reimplementation of hearken-gen's model.

    python3 peer.py --rows 1000000 --out /tmp/peer-signals.csv
"""
import argparse
import csv
import datetime as dt
import random
import time

CHANNELS = ["phone", "email", "chat", "social", "web", "review", "in_person", "other"]
KINDS = ["question", "complaint", "compliment", "suggestion", "request", "other"]
STAGES = ["searching", "ready_to_buy", "purchased", "implemented", "post_installation"]
TOPICS = {
    "billing/double_charge": "I was charged twice for the same invoice this month",
    "network/outage": "my internet connection has been down since this morning",
    "delivery/late_delivery": "my order was supposed to arrive on Monday and it is still not delivered",
    "account/login": "I cannot log in to my account with my email address",
    "product/defect": "the device stopped working after two weeks and will not turn on",
}
TONES = ["", " This is terrible and I am very disappointed.", " Thank you so much, the service was excellent!"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    customers = max(1, a.rows // 10)
    weights = [rnd.lognormvariate(0.0, 1.6) for _ in range(customers)]
    start = dt.datetime(2025, 1, 1, tzinfo=dt.timezone.utc).timestamp()
    span = 304 * 86400
    topics = list(TOPICS)
    t0 = time.perf_counter()
    cust = rnd.choices(range(customers), weights=weights, k=a.rows)
    with open(a.out, "w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["signal_id", "at", "channel", "kind", "source", "customer_id", "product_id",
                    "case_id", "agent_id", "stage", "topic", "text"])
        for i in range(a.rows):
            at = dt.datetime.fromtimestamp(start + rnd.randrange(span), dt.timezone.utc)
            topic = rnd.choice(topics)
            w.writerow([
                f"S{i:09d}", at.strftime("%Y-%m-%dT%H:%M:%SZ"), rnd.choice(CHANNELS),
                rnd.choice(KINDS), "customer", f"C{cust[i] + 1:07d}", f"P{rnd.randrange(120) + 1:04d}",
                f"K{i:09d}" if rnd.random() < 0.25 else "", f"A{rnd.randrange(500) + 1:04d}",
                rnd.choice(STAGES), topic if rnd.random() < 0.6 else "",
                TOPICS[topic][0].upper() + TOPICS[topic][1:] + "." + rnd.choice(TONES),
            ])
    secs = time.perf_counter() - t0
    print(f"peer {a.rows} signal rows in {secs:.2f} s: {a.rows / secs:.0f} rows/s")


if __name__ == "__main__":
    main()
