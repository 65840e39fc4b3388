#!/usr/bin/env python3
"""Reference values for issue 13's engine figures, from independent implementations.

Generates seeded inputs and computes with pandas / numpy / scikit-learn:

  - ROC AUC of scores with ties (sklearn.metrics.roc_auc_score);
  - customer lifetime value (m r / (1 + d - r)), the value x vulnerability quadrants (strictly
    above the medians or configured thresholds), counts, white-glove counts and new against
    long-standing customers;
  - the cost of quality per category, topic and product for a window, and the avoidable (repeat)
    contacts;
  - self-assessment say / do / gap per area and overall, and quartiles against other
    assessments (pandas quantile, linear).

Writes crates/hearken-engine/tests/data/risk/reference.json (inputs and expected values); the
Rust tests in crates/hearken-engine/tests/risk/ read it and need no Python.

Run from anywhere: `python3 tools/reference/risk/make_reference.py`. It makes its own virtualenv
(tools/reference/.venv-risk, git-ignored) with pinned numpy, pandas and scikit-learn.
"""

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
VENV = HERE.parent / ".venv-risk"
OUT = ROOT / "crates" / "hearken-engine" / "tests" / "data" / "risk"
PINS = ["numpy==2.2.6", "pandas==2.2.3", "scikit-learn==1.6.1"]


def ensure_venv():
    py = VENV / "bin" / "python"
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    if not py.exists():
        venv.create(VENV, with_pip=True)
        subprocess.check_call([str(py), "-m", "pip", "install", "--quiet", *PINS])
    os.execv(str(py), [str(py), __file__, *sys.argv[1:]])


ensure_venv()

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.metrics import roc_auc_score  # noqa: E402

DAY = 86_400
START = 1_735_689_600  # 2025-01-01T00:00:00Z


def nan_to_none(v):
    return None if (v is None or (isinstance(v, float) and np.isnan(v))) else float(v)


# ---------------------------------------------------------------- AUC


def auc_cases(rng):
    out = []
    for n, ties in [(20, False), (200, True), (1000, True), (57, True)]:
        scores = rng.integers(0, 6, n).astype(float) if ties else rng.normal(size=n)
        labels = (rng.random(n) < 0.2 + 0.1 * (scores > np.median(scores))).astype(int)
        labels[0], labels[1] = 0, 1
        out.append({"scores": scores.tolist(), "labels": labels.tolist(),
                    "auc": float(roc_auc_score(labels, scores))})
    return out


# ---------------------------------------------------------------- CLV and the matrix


def matrix_case(rng, n, value_threshold=None, risk_threshold=None, clv=None, new_days=365):
    df = pd.DataFrame({
        "customer_id": [f"C{i:04d}" for i in range(n)],
        "value_per_year": np.round(np.exp(rng.normal(6, 0.8, n))),
        "score": np.round(rng.random(n), 2),  # rounded: ties on the median happen
        "white_glove": rng.random(n) < 0.1,
        "tenure_days": np.round(rng.uniform(0, 3000, n), 1),
    })
    df.loc[rng.random(n) < 0.05, "value_per_year"] = np.nan
    df.loc[rng.random(n) < 0.05, "tenure_days"] = np.nan
    if clv:
        m, r, d = clv["margin"], clv["retention"], clv["discount"]
        df["value"] = df.value_per_year * m * r / (1 + d - r)
    else:
        df["value"] = df.value_per_year
    placed = df[df.value.notna()]
    vt = value_threshold if value_threshold is not None else placed.value.median()
    rt = risk_threshold if risk_threshold is not None else placed.score.median()
    hv = placed.value > vt
    hr = placed.score > rt
    quadrant = np.select([hv & hr, hv & ~hr, ~hv & hr], [0, 1, 2], 3)
    placed = placed.assign(quadrant=quadrant)
    df["tenure"] = np.where(df.tenure_days.isna(), "unknown",
                            np.where(df.tenure_days < new_days, "new", "long_standing"))
    placed = placed.assign(tenure=df.loc[placed.index, "tenure"])
    groups = {}
    for g, sub in df.groupby("tenure"):
        vals = sub.value.dropna()
        groups[g] = {
            "customers": int(len(sub)),
            "white_glove": int(sub.white_glove.sum()),
            "mean_score": float(sub.score.mean()),
            "median_score": float(sub.score.median()),
            "at_risk_share": float((sub.score > rt).mean()),
            "mean_value": nan_to_none(vals.mean()) if len(vals) else None,
            "median_value": nan_to_none(vals.median()) if len(vals) else None,
            "quadrants": [int((placed[placed.tenure == g].quadrant == q).sum()) for q in range(4)],
        }
    return {
        "input": {
            "rows": [{"customer_id": r.customer_id, "value_per_year": nan_to_none(r.value_per_year),
                      "score": r.score, "white_glove": bool(r.white_glove),
                      "tenure_days": nan_to_none(r.tenure_days)} for r in df.itertuples()],
            "value_threshold": value_threshold, "risk_threshold": risk_threshold, "clv": clv,
            "new_days": new_days,
        },
        "expected": {
            "value_threshold": float(vt), "risk_threshold": float(rt),
            "quadrant_of": {c: int(q) for c, q in zip(placed.customer_id, placed.quadrant)},
            "values": {c: float(v) for c, v in zip(placed.customer_id, placed.value)},
            "counts": [int((placed.quadrant == q).sum()) for q in range(4)],
            "white_glove": [int(placed[placed.quadrant == q].white_glove.sum()) for q in range(4)],
            "value_sums": [float(placed[placed.quadrant == q].value.sum()) for q in range(4)],
            "no_value": sorted(df[df.value.isna()].customer_id.tolist()),
            "tenure": groups,
        },
    }


def retention_case(rng, n):
    since = START - rng.integers(0, 3 * 365, n) * DAY + rng.integers(-200, 200, n) * DAY
    churned = np.where(rng.random(n) < 0.3, START - 100 * DAY + rng.integers(0, 500, n) * DAY, -1)
    frm, to = START, START + 200 * DAY
    df = pd.DataFrame({"since": since, "churned": churned})
    at_start = df[(df.since < frm) & ((df.churned == -1) | (df.churned >= frm))]
    gone = at_start[(at_start.churned != -1) & (at_start.churned < to)]
    kept = 1 - len(gone) / len(at_start)
    return {"since": since.tolist(), "churned_at": churned.tolist(), "from": frm, "to": to,
            "customers": int(len(at_start)), "churned": int(len(gone)),
            "yearly": float(kept ** (365.25 / 200))}


# ---------------------------------------------------------------- cost of quality


TOPICS = ["billing/double_charge", "billing/wrong_amount", "network/outage", "network/slow",
          "contract/upgrade"]
KINDS = ["question", "complaint", "compliment", "suggestion", "request"]
KIND_CODE = {k: i + 1 for i, k in enumerate(KINDS)}
ACTIVITIES = ["new", "assigned", "escalated", "Reopened", "resolved", "closed"]
COST_CFG = {
    "currency": "EUR",
    "avoidable_contact": 6.5,
    "topics": {
        "billing/double_charge": {"category": "external_failure", "unit_cost": 12.0},
        "network": {"category": "external_failure", "unit_cost": 3.0},
    },
    "kinds": {
        "complaint": {"category": "internal_failure", "unit_cost": 2.5},
        "suggestion": {"category": "prevention", "unit_cost": 1.0},
    },
    "activities": {
        "escalated": {"category": "internal_failure", "unit_cost": 25.0},
        "reopened": {"category": "internal_failure", "unit_cost": 30.0},
        "assigned": {"category": "appraisal", "unit_cost": 0.75},
    },
    "fixed": {
        "quality training": {"category": "prevention", "per_month": 2000.0},
        "audits": {"category": "appraisal", "per_month": 500.0},
    },
}
CATEGORIES = ["prevention", "appraisal", "internal_failure", "external_failure"]


def cost_case(rng, n=3000):
    customers = rng.integers(0, 150, n)
    at = START + rng.integers(0, 120 * DAY, n)
    topic = rng.integers(0, len(TOPICS) + 1, n)  # == len: no topic
    kind = rng.integers(0, len(KINDS), n)
    product = rng.integers(0, 9, n)  # 8: no product
    has_case = rng.random(n) < 0.3
    case = np.where(has_case, rng.integers(0, 400, n), -1)
    sig = pd.DataFrame({"at": at, "customer": customers, "topic": topic, "kind": kind,
                        "product": product, "case": case})
    sig["topic_name"] = [TOPICS[t] if t < len(TOPICS) else None for t in sig.topic]
    sig["product_name"] = [f"P{p}" if p < 8 else None for p in sig["product"]]
    m = 2500
    ev = pd.DataFrame({"case": rng.integers(0, 450, m),  # some cases without a signal
                       "at": START + rng.integers(0, 120 * DAY, m),
                       "activity": rng.integers(0, len(ACTIVITIES), m)})
    frm, to = START + 20 * DAY, START + 90 * DAY

    def signal_rule(r):
        t = r.topic_name
        rules = COST_CFG["topics"]
        if t is not None:
            if t in rules:
                return rules[t]
            if t.split("/")[0] in rules:
                return rules[t.split("/")[0]]
        return COST_CFG["kinds"].get(KINDS[r.kind])

    inw = sig[(sig["at"] >= frm) & (sig["at"] < to)]
    rows = []
    for r in inw.itertuples():
        rule = signal_rule(r)
        rows.append((rule["category"] if rule else None, rule["unit_cost"] if rule else 0.0,
                     r.topic_name or "(none)", r.product_name or "(none)", "signal"))
    # Case topic / product: of the case's earliest signal that has one.
    s_sorted = sig[sig.case >= 0].sort_values(["at"], kind="stable")
    case_topic = s_sorted[s_sorted.topic_name.notna()].groupby("case").topic_name.first()
    case_product = s_sorted[s_sorted.product_name.notna()].groupby("case").product_name.first()
    evw = ev[(ev["at"] >= frm) & (ev["at"] < to)]
    for r in evw.itertuples():
        rule = COST_CFG["activities"].get(ACTIVITIES[r.activity].lower())
        rows.append((rule["category"] if rule else None, rule["unit_cost"] if rule else 0.0,
                     case_topic.get(r.case, "(none)"), case_product.get(r.case, "(none)"), "event"))
    c = pd.DataFrame(rows, columns=["category", "amount", "topic", "product", "what"])
    priced = c[c.category.notna()]
    days = (to - frm) / DAY
    fixed = {k: v["per_month"] * days / (365.25 / 12) for k, v in COST_CFG["fixed"].items()}
    by_cat = {k: float(priced[priced.category == k].amount.sum()) for k in CATEGORIES}
    for k, v in COST_CFG["fixed"].items():
        by_cat[v["category"]] += fixed[k]

    # Repeats: same customer and topic within 7 days of the previous such contact (all history).
    el = sig[sig.topic_name.notna()].reset_index().sort_values(["customer", "topic", "at", "index"])
    el["prev"] = el.groupby(["customer", "topic"])["at"].shift()
    el["repeat"] = (el["at"] - el["prev"]) <= 7 * DAY
    elw = el[(el["at"] >= frm) & (el["at"] < to)]
    rep_by_topic = elw[elw.repeat].groupby("topic_name").size()
    return {
        "input": {
            "signals": {"at": sig["at"].tolist(), "customer": sig.customer.tolist(),
                        "topic": sig.topic.tolist(), "kind": [KIND_CODE[KINDS[k]] for k in sig.kind],
                        "product": sig["product"].tolist(), "case": sig.case.tolist()},
            "topics": TOPICS, "products": [f"P{i}" for i in range(8)],
            "events": {"case": ev.case.tolist(), "at": ev["at"].tolist(), "activity": ev.activity.tolist()},
            "activities": ACTIVITIES, "config": COST_CFG, "from": frm, "to": to,
        },
        "expected": {
            "by_category": by_cat,
            "total": float(sum(by_cat.values())),
            "by_topic": {k: float(v) for k, v in priced.groupby("topic").amount.sum().items()},
            "by_product": {k: float(v) for k, v in priced.groupby("product").amount.sum().items()},
            "by_topic_category": {f"{t}|{k}": float(v) for (t, k), v in priced.groupby(["topic", "category"]).amount.sum().items()},
            "unpriced_signals": int((c[c.what == "signal"].category.isna()).sum()),
            "unpriced_events": int((c[c.what == "event"].category.isna()).sum()),
            "eligible": int(len(elw)),
            "repeats": int(elw.repeat.sum()),
            "avoidable_amount": float(elw.repeat.sum() * COST_CFG["avoidable_contact"]),
            "repeats_by_topic": {k: int(v) for k, v in rep_by_topic.items()},
            "fixed": fixed,
        },
    }


# ---------------------------------------------------------------- self-assessment


def assess_case(rng):
    # Item keys of the default questionnaire, read from the engine's data file.
    import tomllib

    q = tomllib.loads((ROOT / "crates" / "hearken-engine" / "data" / "assessment.toml").read_text())
    items = [(a["key"], i["key"], i.get("level")) for a in q["areas"] for i in a["items"]]
    units = ["service", "billing", "sales", "field", "it"]
    dates = ["2024-06-30", "2024-12-31", "2025-06-30"]
    assessments = []
    for d in dates:
        for u in units:
            base = rng.uniform(1.5, 4.5)
            ans = {}
            for _, key, _ in items:
                say = int(np.clip(round(base + 0.8 + rng.normal(0, 0.7)), 1, 5))
                do = int(np.clip(round(base + rng.normal(0, 0.9)), 1, 5))
                ans[key] = {"say": say, "do": do}
            assessments.append({"unit": u, "date": d, "answers": ans})
    long = pd.DataFrame([(a["unit"], a["date"], area, key, level, v["say"], v["do"])
                         for a in assessments for (area, key, level) in items
                         for v in [a["answers"][key]]],
                        columns=["unit", "date", "area", "item", "level", "say", "do"])
    overall = long.groupby(["unit", "date"])[["say", "do"]].mean()
    expected = []
    for a in assessments:
        me = long[(long.unit == a["unit"]) & (long.date == a["date"])]
        areas = me.groupby("area", sort=False)[["say", "do"]].mean()
        levels = me[me.level.notna()].groupby("level")[["say", "do"]].mean()
        refs = overall[(overall.index.get_level_values("date") <= a["date"])
                       & ~((overall.index.get_level_values("unit") == a["unit"])
                           & (overall.index.get_level_values("date") == a["date"]))]
        ov = overall.loc[(a["unit"], a["date"])]
        e = {"unit": a["unit"], "date": a["date"], "say": float(ov.say), "do": float(ov["do"]),
             "areas": {k: [float(r.say), float(r["do"])] for k, r in areas.iterrows()},
             "levels": {k: [float(r.say), float(r["do"])] for k, r in levels.iterrows()},
             "references": int(len(refs))}
        if len(refs) >= 4:
            q1, q2, q3 = refs["do"].quantile([0.25, 0.5, 0.75]).tolist()
            v = float(ov["do"])
            e["quartiles"] = [q1, q2, q3]
            e["quartile"] = "top" if v > q3 else "second" if v > q2 else "third" if v > q1 else "bottom"
            pool = pd.concat([refs, overall.loc[[(a["unit"], a["date"])]]])
            gap = pool.say - pool["do"]
            top = gap[pool["do"] > q3]
            rest = gap[pool["do"] <= q3]
            e["gap_top"] = nan_to_none(top.mean()) if len(top) else None
            e["gap_rest"] = nan_to_none(rest.mean()) if len(rest) else None
        expected.append(e)
    return {"assessments": assessments, "units": units, "expected": expected}


def main():
    rng = np.random.default_rng(13)
    ref = {
        "auc": auc_cases(rng),
        "matrix": [
            matrix_case(rng, 300),
            matrix_case(rng, 250, value_threshold=500.0, risk_threshold=0.7, new_days=180),
            matrix_case(rng, 200, clv={"margin": 0.3, "retention": 0.85, "discount": 0.08}),
        ],
        "retention": retention_case(rng, 500),
        "cost": cost_case(rng),
        "assess": assess_case(rng),
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "reference.json").write_text(json.dumps(ref, separators=(",", ":")) + "\n")
    print(f"wrote {OUT / 'reference.json'}")


if __name__ == "__main__":
    main()
