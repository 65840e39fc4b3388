#!/usr/bin/env python3
"""Early-warning validation (issue 13): Hearken's risk model against a scikit-learn gradient-
boosted model on generated organisations, in the same run.

    python3 benches/risk/run.py                  # every organisation in ORGS
    python3 benches/risk/run.py --orgs s1 s2     # some of them
    python3 benches/risk/run.py --out DIR        # where stores and results go (benches/out/risk)

For each organisation:
  1. generate it (`hearken generate`, or the engine's `risk_gen` example for settings the CLI does
     not expose), with truth.json;
  2. import customers.csv WITHOUT its churned_at column, products, agents, signals (sentiment
     scored at import), surveys and case events into a fresh store: the store holds no churn;
  3. Hearken: `risk_eval` (crates/hearken-engine/examples) trains the model as of the as-of date
     on the churn history before it (read from truth.json; the engine reads only churn dates
     before the as-of date), scores every customer with a signal or answer before the as-of date,
     and reports ROC AUC for churn within 30, 60 and 90 days of the as-of date, the model's own
     held-out AUC with its split, and the lead time between the first warning and the churn;
     its per-customer scores go to hearken_scores.jsonl;
  4. peer: features computed with pandas and the Python vaderSentiment from the same CSV files
     (rows before the as-of date only; customers.csv without churned_at), labels from truth.json,
     scikit-learn's HistGradientBoostingClassifier
       - "cv": 5-fold stratified cross-validation on the as-of date's own labels (out-of-fold
         scores), as the issue asks;
       - "past": trained on earlier as-of dates (every 14 days, label windows closed by the as-of
         date), scored at the as-of date: the protocol Hearken's model follows;
  5. the difference of the two AUCs on the same customers, with a 90% paired bootstrap interval;
  6. what the generator's warning allows: the share of churners within each horizon that sent a
     warning contact (text with one of the generator's churn sentences, read from
     crates/hearken-gen/data/phrases.txt) before the as-of date, and the AUC of that oracle flag.

Needs: Python 3.11 and PyPI (a virtualenv benches/risk/.venv with pinned numpy, pandas,
scikit-learn and vaderSentiment is made on first use), cargo (release builds of hearken and the
engine's examples).
"""

import argparse
import csv
import json
import os
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
VENV = os.path.join(ROOT, "benches", "risk", ".venv")
PINS = ["numpy==2.2.6", "pandas==2.2.3", "scikit-learn==1.6.1", "vaderSentiment==3.3.2"]
DAY = 86_400

# name: (generator, seed, customers, months, extra settings, as-of date)
ORGS = {
    "s1": ("cli", 1, 10_000, 12, {}, "2025-10-01"),
    "s2": ("cli", 2, 10_000, 12, {}, "2025-10-01"),
    "s3": ("cli", 3, 20_000, 9, {}, "2025-07-01"),
    "churn2": ("lib", 4, 10_000, 12, {"--monthly-churn": "0.02"}, "2025-10-01"),
    "busy": ("lib", 5, 8_000, 12, {"--signals-per-customer-month": "2.5"}, "2025-10-01"),
    "flat": ("lib", 6, 10_000, 12, {"--customer-sigma": "0.8"}, "2025-10-01"),
}
HORIZONS = [30, 60, 90]


def ensure_venv():
    py = os.path.join(VENV, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    if not os.path.exists(py):
        subprocess.check_call([sys.executable, "-m", "venv", VENV])
        subprocess.check_call([py, "-m", "pip", "install", "-q", *PINS])
    os.execv(py, [py] + sys.argv)


def sh(cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def build():
    sh(["cargo", "build", "--release", "-q", "-p", "hearken-cli"], cwd=ROOT)
    sh(["cargo", "build", "--release", "-q", "-p", "hearken-engine", "--examples"], cwd=ROOT)
    rel = os.path.join(ROOT, "target", "release")
    return os.path.join(rel, "hearken"), os.path.join(rel, "examples")


def make_org(name, spec, out, hearken, examples):
    gen, seed, customers, months, extra, _ = spec
    data = os.path.join(out, name, "data")
    db = os.path.join(out, name, "h.db")
    if not os.path.exists(os.path.join(data, "truth.json")):
        if gen == "cli":
            sh([hearken, "generate", "--out", data, "--customers", str(customers), "--months",
                str(months), "--seed", str(seed), "--json"], stdout=subprocess.DEVNULL)
        else:
            args = [os.path.join(examples, "risk_gen"), "--out", data, "--customers", str(customers),
                    "--months", str(months), "--seed", str(seed)]
            for k, v in extra.items():
                args += [k, v]
            sh(args, stdout=subprocess.DEVNULL)
        # The churn column is withheld from what Hearken imports.
        with open(os.path.join(data, "customers.csv"), newline="") as f:
            rows = list(csv.reader(f))
        churn_col = rows[0].index("churned_at")
        with open(os.path.join(data, "customers_nochurn.csv"), "w", newline="") as f:
            w = csv.writer(f)
            for r in rows:
                w.writerow(r[:churn_col] + r[churn_col + 1:])
    if not os.path.exists(db):
        for kind, file in [("customers", "customers_nochurn"), ("products", "products"),
                           ("agents", "agents"), ("signals", "signals"), ("surveys", "surveys"),
                           ("case-events", "case_events")]:
            sh([hearken, "--db", db, "import", os.path.join(data, f"{file}.csv"), "--kind", kind,
                "--json"], stdout=subprocess.DEVNULL)
    return data, db


# ---------------------------------------------------------------- the peer


def load(data):
    import pandas as pd
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    t = time.time()
    sig = pd.read_csv(f"{data}/signals.csv", dtype={"case_id": str}, keep_default_na=False,
                      na_values={"customer_id": [""], "case_id": [""], "topic": [""]})
    sig = sig[sig.customer_id.notna()].copy()
    sig["t"] = pd.to_datetime(sig["at"]).astype("int64") // 10**9
    an = SentimentIntensityAnalyzer()
    sig["sent"] = [an.polarity_scores(x)["compound"] for x in sig.text.fillna("")]
    vader_s = time.time() - t
    sur = pd.read_csv(f"{data}/surveys.csv")
    sur["t"] = pd.to_datetime(sur["at"]).astype("int64") // 10**9
    cus = pd.read_csv(f"{data}/customers_nochurn.csv")
    cus["since_t"] = pd.to_datetime(cus.customer_since).astype("int64") // 10**9
    ev = pd.read_csv(f"{data}/case_events.csv", usecols=["case_id", "at", "activity"])
    ev["t"] = pd.to_datetime(ev["at"]).astype("int64") // 10**9
    case_cust = sig[sig.case_id.notna()].groupby("case_id").customer_id.first()
    ev["customer_id"] = ev.case_id.map(case_cust)
    phrases = churn_phrases()
    sig["warning"] = sig.text.fillna("").map(lambda x: any(p in x for p in phrases))
    return dict(sig=sig, sur=sur, cus=cus.set_index("customer_id"), ev=ev, vader_s=vader_s)


def churn_phrases():
    path = os.path.join(ROOT, "crates", "hearken-gen", "data", "phrases.txt")
    out, on = [], False
    for line in open(path):
        line = line.strip()
        if line.startswith("["):
            on = line == "[churn]"
        elif on and line:
            out.append(line)
    return out


def features(d, T, churn):
    """Per customer with a signal or answer before T and no churn before T (the same scope as
    Hearken's), from rows before T."""
    import numpy as np
    import pandas as pd

    s = d["sig"][d["sig"].t < T]
    g = s.groupby("customer_id")
    f = pd.DataFrame({"n_all": g.size(), "first": g.t.min(), "last": g.t.max(),
                      "mean_sent": g.sent.mean(), "neg_share": (s.sent <= -0.05).groupby(s.customer_id).mean()})
    for w in (30, 60, 90):
        r = s[s.t >= T - w * DAY]
        gr = r.groupby("customer_id")
        f[f"n_{w}"] = gr.size()
        f[f"neg_{w}"] = (r.sent <= -0.05).groupby(r.customer_id).sum()
        f[f"compl_{w}"] = (r.kind == "complaint").groupby(r.customer_id).sum()
        f[f"minsent_{w}"] = gr.sent.min()
    q = d["sur"][d["sur"].t < T]
    gq = q.groupby("customer_id")
    f = f.join(pd.DataFrame({"n_surveys": gq.size(), "first_q": gq.t.min()}), how="outer")
    f = f.fillna({c: 0 for c in f.columns if c.startswith(("n_", "neg_", "compl_"))})
    f["silence"] = (T - f["last"]) / DAY
    f["gap"] = (f["last"] - f["first"]) / DAY / (f.n_all - 1).clip(lower=1)
    f["ratio"] = f.silence / f.gap.clip(lower=1)
    lastrow = s.sort_values("t").groupby("customer_id").tail(1).set_index("customer_id")
    f["last_neg"] = ((lastrow.sent <= -0.05) | (lastrow.kind == "complaint")).astype(float)
    f["last_nps"] = q.sort_values("t").groupby("customer_id").nps.last()
    q90 = q[q.t >= T - 90 * DAY]
    f["det_90"] = (q90.nps <= 6).groupby(q90.customer_id).sum()
    f["minov_90"] = q90.groupby("customer_id").overall.min()
    e = d["ev"][d["ev"].t < T]
    esc = e[(e.activity == "escalated") & (e.t >= T - 90 * DAY)]
    f["esc_90"] = esc.groupby("customer_id").case_id.nunique()
    last_act = e.sort_values("t").groupby("case_id").tail(1)
    openc = last_act[~last_act.activity.isin(["closed", "resolved"])]
    f["open_cases"] = openc.groupby("customer_id").size()
    c = d["cus"]
    f["tenure"] = (T - c.since_t.reindex(f.index)) / DAY
    f["value"] = c.value_per_year.reindex(f.index)
    f["white_glove"] = c.white_glove.reindex(f.index).astype(float)
    for seg in sorted(c.segment.dropna().unique()):
        f[f"seg_{seg}"] = (c.segment.reindex(f.index) == seg).astype(float)
    f = f.fillna({"n_surveys": 0, "det_90": 0, "esc_90": 0, "open_cases": 0})
    ch = np.array([churn.get(x, 1 << 62) for x in f.index])
    f = f[ch >= T]
    return f.drop(columns=["first", "last", "first_q"])


def labels(index, T, H, churn):
    import numpy as np

    ch = np.array([churn.get(x, 1 << 62) for x in index])
    return ((ch >= T) & (ch < T + H * DAY)).astype(int)


def peer(data, as_of, churn):
    import numpy as np
    import pandas as pd
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.metrics import roc_auc_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    t0 = time.time()
    scores = {}
    d = load(data)
    fe = features(d, as_of, churn)
    first = int(d["sig"].t.min())
    grid = {}
    out = {"customers": int(len(fe)), "vader_seconds": round(d["vader_s"], 1)}
    warn = d["sig"][(d["sig"].t < as_of) & d["sig"].warning].groupby("customer_id").t.max()
    for H in HORIZONS:
        y = labels(fe.index, as_of, H, churn)
        X = fe.fillna(-1).values
        gb = lambda: HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, random_state=0)
        p = cross_val_predict(gb(), X, y, cv=StratifiedKFold(5, shuffle=True, random_state=0),
                              method="predict_proba")[:, 1]
        Xs, ys = [], []
        t = as_of - H * DAY
        while t >= first + 56 * DAY:
            if t not in grid:
                grid[t] = features(d, t, churn)
            ft = grid[t]
            Xs.append(ft.fillna(-1).values)
            ys.append(labels(ft.index, t, H, {k: v for k, v in churn.items() if v < as_of}))
            t -= 14 * DAY
        past = gb().fit(np.vstack(Xs), np.concatenate(ys))
        warned = np.array([1.0 if (x in warn.index and as_of - warn[x] <= 49 * DAY) else 0.0 for x in fe.index])
        scores[H] = pd.DataFrame({"cv": p, "past": past.predict_proba(X)[:, 1], "y": y}, index=fe.index)
        out[str(H)] = {
            "churners": int(y.sum()),
            "cv_auc": float(roc_auc_score(y, p)),
            "past_auc": float(roc_auc_score(y, past.predict_proba(X)[:, 1])),
            "churners_warned_before_as_of": float(warned[y == 1].mean()),
            "warning_oracle_auc": float(roc_auc_score(y, warned)),
        }
    out["seconds"] = round(time.time() - t0, 1)
    return out, scores


def paired(hearken_scores, peer_scores, resamples=1000):
    """AUC of Hearken's model minus the peer's on the same customers, with a 90% percentile
    bootstrap interval (customers resampled, both scores kept together)."""
    import numpy as np
    import pandas as pd
    from sklearn.metrics import roc_auc_score

    out = {}
    for H, peer_df in peer_scores.items():
        j = peer_df.join(hearken_scores[str(H)].rename("hearken"), how="inner")
        y, a, cv, past = j.y.values, j.hearken.values, j.cv.values, j.past.values
        rng = np.random.default_rng(H)
        diffs = {"cv": [], "past": []}
        for _ in range(resamples):
            i = rng.integers(0, len(y), len(y))
            if y[i].min() == y[i].max():
                continue
            ha = roc_auc_score(y[i], a[i])
            diffs["cv"].append(ha - roc_auc_score(y[i], cv[i]))
            diffs["past"].append(ha - roc_auc_score(y[i], past[i]))
        out[str(H)] = {"customers": int(len(j)), **{
            f"minus_{k}": [float(roc_auc_score(y, a) - roc_auc_score(y, {"cv": cv, "past": past}[k])),
                           float(np.percentile(v, 5)), float(np.percentile(v, 95))]
            for k, v in diffs.items()}}
    return out


def main():
    ensure_venv()
    ap = argparse.ArgumentParser()
    ap.add_argument("--orgs", nargs="*", default=list(ORGS))
    ap.add_argument("--out", default=os.path.join(ROOT, "benches", "out", "risk"))
    args = ap.parse_args()
    hearken, examples = build()
    results = {}
    for name in args.orgs:
        spec = ORGS[name]
        print(f"== {name}: {spec}", flush=True)
        data, db = make_org(name, spec, args.out, hearken, examples)
        truth = json.load(open(os.path.join(data, "truth.json")))
        import pandas as pd

        churn = {c["customer_id"]: int(pd.Timestamp(c["churned_at"]).value // 10**9) for c in truth["churned"]}
        as_of_t = int(pd.Timestamp(spec[5]).value // 10**9)
        t = time.time()
        scores_path = os.path.join(args.out, name, "hearken_scores.jsonl")
        hk = json.loads(subprocess.run(
            [os.path.join(examples, "risk_eval"), "--db", db, "--truth", os.path.join(data, "truth.json"),
             "--as-of", spec[5], "--horizons", ",".join(map(str, HORIZONS)), "--scores-out", scores_path],
            check=True, capture_output=True, text=True).stdout)
        hk_s = time.time() - t
        pr, peer_scores = peer(data, as_of_t, churn)
        hs = pd.read_json(scores_path, lines=True, convert_dates=False, dtype={"customer_id": str}).set_index("customer_id")
        hs.columns = [str(c) for c in hs.columns]
        diff = paired(hs, peer_scores)
        row = {"spec": spec, "hearken_seconds": round(hk_s, 1), "peer": pr, "hearken": hk, "paired": diff}
        results[name] = row
        for h in hk["horizons"]:
            H = str(h["horizon_days"])
            lead = h.get("lead_time_model") or {}
            print(f"  {H:>2} d: churners {h['churners']:>4}  hearken model {h.get('model_auc', 0):.3f}"
                  f"  rules {h['rules_auc']:.3f}  held-out {h['held_out'].get('auc') or 0:.3f}"
                  f" | sklearn cv {pr[H]['cv_auc']:.3f} past {pr[H]['past_auc']:.3f}"
                  f" | warned before as-of {pr[H]['churners_warned_before_as_of']:.2f}"
                  f" oracle {pr[H]['warning_oracle_auc']:.3f}"
                  + f" | minus cv {diff[H]['minus_cv'][0]:+.3f} [{diff[H]['minus_cv'][1]:+.3f}, {diff[H]['minus_cv'][2]:+.3f}]"
                  f" minus past {diff[H]['minus_past'][0]:+.3f} [{diff[H]['minus_past'][1]:+.3f}, {diff[H]['minus_past'][2]:+.3f}]"
                  + (f" | lead median {lead.get('median_days')} d ({lead.get('warned')}/{lead.get('churners')})" if lead else ""),
                  flush=True)
        print(f"  hearken {hk_s:.1f} s, peer {pr['seconds']} s (vader {pr['vader_seconds']} s)", flush=True)
        os.makedirs(args.out, exist_ok=True)
        with open(os.path.join(args.out, "results.json"), "w") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
