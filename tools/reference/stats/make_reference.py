#!/usr/bin/env python3
"""Reference values for hearken-engine's statistics, from independent implementations.

Generates a few seeded datasets, computes every figure the engine's tests check with
scipy / statsmodels / numpy / pandas, and writes them as fixtures:

    crates/hearken-engine/tests/data/surveys.csv     survey responses (scores, ratings, aspects)
    crates/hearken-engine/tests/data/signals.csv     contacts (time, customer, topic, product, sentiment)
    crates/hearken-engine/tests/data/customers.csv   customer value per year
    crates/hearken-engine/tests/data/expected.json   inputs too small for CSV, and every expected value

Run from anywhere: `python3 tools/reference/stats/make_reference.py`. It creates its own virtualenv
(tools/reference/.venv-stats, gitignored), installs pinned scipy, statsmodels, numpy and pandas
into it and re-runs itself there. The Rust tests read the fixtures and need no Python.

Data are stored the way the engine holds them (sentiment and ratings as 32-bit floats; integer
codes for customers, topics, products), and this script rounds the same way, so the maths is the
same and the tests compare at ~1e-9 relative.
"""

import json
import math
import os
import subprocess
import sys
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
VENV = HERE.parent / ".venv-stats"
OUT = ROOT / "crates" / "hearken-engine" / "tests" / "data"
PINS = ["numpy==2.2.6", "scipy==1.15.3", "pandas==2.2.3", "statsmodels==0.14.4"]


def ensure_venv():
    py = VENV / "bin" / "python"
    if Path(sys.prefix).resolve() == VENV.resolve():
        return
    if not py.exists():
        venv.create(VENV, with_pip=True)
        subprocess.check_call([str(py), "-m", "pip", "install", "--quiet", *PINS])
    os.execv(str(py), [str(py), __file__, *sys.argv[1:]])


ensure_venv()

import itertools  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import statsmodels.api as sm  # noqa: E402
from scipy import stats  # noqa: E402
from statsmodels.stats.proportion import (  # noqa: E402
    confint_proportions_2indep,
    proportion_confint,
    proportions_ztest,
)
from statsmodels.stats.weightstats import CompareMeans, DescrStatsW  # noqa: E402

DAY = 86_400
START = 1_704_067_200  # 2024-01-01T00:00:00Z, a Monday
F32_NEG = float(np.float32(-0.05))
F32_POS = float(np.float32(0.05))


def f32(x):
    return np.asarray(x, dtype=np.float32).astype(np.float64)


# ---------------------------------------------------------------- scores


def nps_ref(values, level):
    v = np.asarray(values)
    n = len(v)
    if n == 0:
        return None
    prom = int((v >= 9).sum())
    det = int((v <= 6).sum())
    pp, pd_ = prom / n, det / n
    nps = 100 * (pp - pd_)
    se = 100 * math.sqrt(max((pp + pd_) - (pp - pd_) ** 2, 0.0) / n)
    z = stats.norm.ppf(0.5 + level / 2)
    return {
        "nps": nps,
        "low": max(nps - z * se, -100.0),
        "high": min(nps + z * se, 100.0),
        "se": se,
        "n": n,
        "promoters": prom,
        "detractors": det,
        "degenerate": se == 0.0,
    }


def net_sentiment_ref(compound, level):
    c = f32(compound)
    c = c[~np.isnan(c)]
    n = len(c)
    if n == 0:
        return None
    pos = int((c >= F32_POS).sum())
    neg = int((c <= F32_NEG).sum())
    pp, pn = pos / n, neg / n
    val = 100 * (pp - pn)
    se = 100 * math.sqrt(max((pp + pn) - (pp - pn) ** 2, 0.0) / n)
    z = stats.norm.ppf(0.5 + level / 2)
    return {
        "net_sentiment": val,
        "low": max(val - z * se, -100.0),
        "high": min(val + z * se, 100.0),
        "se": se,
        "n": n,
        "positive": pos,
        "negative": neg,
        "mean_compound": float(c.mean()),
    }


def csat_ref(values, level):
    v = np.asarray(values)
    n = len(v)
    if n == 0:
        return None
    sat = int((v >= 4).sum())
    lo, hi = proportion_confint(sat, n, alpha=1 - level, method="wilson")
    return {"csat": 100 * sat / n, "low": 100 * max(lo, 0.0), "high": 100 * min(hi, 1.0),
            "n": n, "satisfied": sat}


def ces_ref(values, level):
    v = np.asarray(values, dtype=float)
    n = len(v)
    if n == 0:
        return None
    out = {"ces": float(v.mean()), "n": n, "low": None, "high": None, "sd": None}
    if n >= 2:
        d = DescrStatsW(v)
        lo, hi = d.tconfint_mean(alpha=1 - level)
        # Cross-check statsmodels against scipy's t quantile directly.
        sd = float(v.std(ddof=1))
        half = stats.t.ppf(0.5 + level / 2, n - 1) * sd / math.sqrt(n)
        assert abs((lo + half) - v.mean()) < 1e-9 * max(1, abs(lo)) or sd == 0
        out.update({"low": float(lo), "high": float(hi), "sd": sd})
    return out


def nps_change_ref(before, after, level):
    b, a = nps_ref(before, level), nps_ref(after, level)
    diff = a["nps"] - b["nps"]
    se = math.hypot(a["se"], b["se"])
    z = stats.norm.ppf(0.5 + level / 2)
    return {"before": b["nps"], "after": a["nps"], "diff": diff, "low": diff - z * se,
            "high": diff + z * se, "p_value": float(2 * stats.norm.sf(abs(diff / se)))}


def csat_change_ref(before, after, level):
    b, a = np.asarray(before), np.asarray(after)
    sb, sa = int((b >= 4).sum()), int((a >= 4).sum())
    _, p = proportions_ztest([sa, sb], [len(a), len(b)])
    lo, hi = confint_proportions_2indep(sa, len(a), sb, len(b), method="newcomb",
                                        compare="diff", alpha=1 - level)
    return {"before": 100 * sb / len(b), "after": 100 * sa / len(a),
            "diff": 100 * (sa / len(a) - sb / len(b)), "low": 100 * lo, "high": 100 * hi,
            "p_value": float(p)}


def ces_change_ref(before, after, level):
    b, a = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    t = stats.ttest_ind(a, b, equal_var=False)
    lo, hi = CompareMeans(DescrStatsW(a), DescrStatsW(b)).tconfint_diff(
        alpha=1 - level, usevar="unequal")
    return {"before": b.mean(), "after": a.mean(), "diff": a.mean() - b.mean(),
            "low": float(lo), "high": float(hi), "p_value": float(t.pvalue)}


def score_cases(rng):
    def survey(n, p_nps, p_csat, p_ces):
        return {
            "nps": rng.choice(11, size=n, p=p_nps).tolist(),
            "csat": (rng.choice(5, size=n, p=p_csat) + 1).tolist(),
            "ces": (rng.choice(7, size=n, p=p_ces) + 1).tolist(),
            "sentiment": np.round(np.clip(rng.normal(0.1, 0.45, n), -1, 1), 4).tolist(),
        }

    p11 = np.array([2, 1, 1, 2, 2, 4, 5, 9, 14, 20, 40], dtype=float)
    p11 /= p11.sum()
    p5 = np.array([0.08, 0.1, 0.17, 0.35, 0.3])
    p7 = np.array([0.04, 0.06, 0.1, 0.15, 0.25, 0.25, 0.15])
    cases = []
    for name, n, level in [("n2", 2, 0.9), ("n12", 12, 0.9), ("n29", 29, 0.9),
                           ("n30", 30, 0.8), ("n200", 200, 0.9), ("n5000", 5000, 0.95)]:
        cases.append({"name": name, "level": level, **survey(n, p11, p5, p7)})
    cases.append({"name": "one_response", "level": 0.9, "nps": [7], "csat": [4], "ces": [5],
                  "sentiment": [0.3]})
    cases.append({"name": "all_top", "level": 0.9, "nps": [9, 10] * 20, "csat": [5] * 40,
                  "ces": [7] * 40, "sentiment": [0.6] * 40})
    for c in cases:
        lv = c["level"]
        c["expected"] = {
            "nps": nps_ref(c["nps"], lv),
            "csat": csat_ref(c["csat"], lv),
            "ces": ces_ref(c["ces"], lv),
            "net_sentiment": net_sentiment_ref(c["sentiment"], lv),
        }
    changes = []
    for name, nb, na, shift, level in [("small", 25, 40, 0.0, 0.9), ("medium", 300, 280, 0.15, 0.9),
                                       ("large", 3000, 3500, -0.05, 0.95)]:
        q11 = p11.copy()
        q11[9:] *= 1 + shift
        q11 /= q11.sum()
        before = survey(nb, p11, p5, p7)
        after = survey(na, q11, p5[::-1] * 0.3 + p5 * 0.7, p7)
        changes.append({
            "name": name, "level": level, "before": before, "after": after,
            "expected": {
                "nps": nps_change_ref(before["nps"], after["nps"], level),
                "csat": csat_change_ref(before["csat"], after["csat"], level),
                "ces": ces_change_ref(before["ces"], after["ces"], level),
            },
        })
    return cases, changes


# ---------------------------------------------------------------- surveys


def make_surveys(rng, n=1200):
    at = START + rng.integers(0, 91 * DAY, n)
    seg = rng.choice(["consumer", "smb", "enterprise", ""], size=n, p=[0.58, 0.3, 0.1, 0.02])
    base = rng.normal(7, 1.6, n)

    def rating(noise, shift=0.0):
        return np.clip(np.round(base + shift + rng.normal(0, noise, n)), 0, 10)

    service = rating(1.2)
    product = rating(1.6, 0.3)
    price = rating(2.2, -0.8)
    ease = rating(1.8, 0.1)
    overall = np.clip(np.round(0.55 * service + 0.2 * product + 0.12 * price + 0.1 * ease
                               + rng.normal(0, 0.9, n)), 0, 10)
    nps = np.clip(np.round(overall + rng.normal(0.3, 1.0, n)), 0, 10)
    csat = np.clip(np.round(overall / 2.2 + rng.normal(0, 0.6, n)), 1, 5)
    ces = np.clip(np.round(ease * 0.55 + 1 + rng.normal(0, 0.8, n)), 1, 7)

    def holes(x, share):
        x = x.astype(float)
        x[rng.random(n) < share] = np.nan
        return x

    df = pd.DataFrame({
        "at": at, "segment": seg,
        "nps": holes(nps, 0.1), "csat": holes(csat, 0.15), "ces": holes(ces, 0.2),
        "overall": holes(overall, 0.04),
        "aspect_service": holes(service, 0.05), "aspect_product": holes(product, 0.05),
        "aspect_price": holes(price, 0.08), "aspect_ease": holes(ease, 0.05),
    })
    return df.sort_values("at", kind="stable").reset_index(drop=True)


def month_name(ts):
    return pd.to_datetime(ts, unit="s", utc=True).strftime("%Y-%m")


def survey_groups(df):
    out = {"nps_by_segment": {}, "csat_by_segment": {}, "nps_by_month": {}, "ces_by_month": {}}
    seg = df["segment"].replace("", "(none)")
    for s, g in df.groupby(seg):
        out["nps_by_segment"][s] = nps_ref(g["nps"].dropna().to_numpy(), 0.9)
        out["csat_by_segment"][s] = csat_ref(g["csat"].dropna().to_numpy(), 0.9)
    months = df["at"].map(month_name)
    for m, g in df.groupby(months):
        out["nps_by_month"][m] = nps_ref(g["nps"].dropna().to_numpy(), 0.9)
        out["ces_by_month"][m] = ces_ref(g["ces"].dropna().to_numpy(), 0.9)
    return out


def r2_of(y, X, cols):
    if not cols:
        return 0.0
    return sm.OLS(y, sm.add_constant(X[list(cols)])).fit().rsquared


def relative_weights(X, y):
    R = np.corrcoef(np.column_stack([X.to_numpy(), y.to_numpy()]), rowvar=False)
    rxx, rxy = R[:-1, :-1], R[:-1, -1]
    vals, vecs = np.linalg.eigh(rxx)
    lam = vecs @ np.diag(np.sqrt(vals)) @ vecs.T
    beta = np.linalg.solve(lam, rxy)
    return (lam ** 2) @ (beta ** 2)


def drivers_ref(df, target, aspects, level=0.9):
    d = df[[target, *aspects]].dropna()
    y = f32(d[target].to_numpy())
    X = pd.DataFrame({a: f32(d[a].to_numpy()) for a in aspects})
    y = pd.Series(y)
    fit = sm.OLS(y, sm.add_constant(X)).fit()
    ci = fit.conf_int(alpha=1 - level)
    # Shapley by brute force: average marginal gain in R² over every order of entry.
    cache = {}

    def r2(s):
        key = frozenset(s)
        if key not in cache:
            cache[key] = r2_of(y, X, sorted(key, key=aspects.index))
        return cache[key]

    shap = {a: 0.0 for a in aspects}
    perms = list(itertools.permutations(aspects))
    for order in perms:
        seen = []
        for a in order:
            shap[a] += r2(seen + [a]) - r2(seen)
            seen.append(a)
    shap = {a: v / len(perms) for a, v in shap.items()}
    rw = relative_weights(X, y)
    coef = lambda name: {  # noqa: E731
        "coef": float(fit.params[name]), "se": float(fit.bse[name]),
        "t": float(fit.tvalues[name]), "p_value": float(fit.pvalues[name]),
        "low": float(ci.loc[name, 0]), "high": float(ci.loc[name, 1]),
    }
    return {
        "n": int(len(d)), "r2": float(fit.rsquared), "adj_r2": float(fit.rsquared_adj),
        "intercept": coef("const"),
        "drivers": [{"aspect": a, "ols": coef(a), "shapley": shap[a],
                     "relative_weight": float(rw[i]),
                     "correlation": float(np.corrcoef(X[a], y)[0, 1])}
                    for i, a in enumerate(aspects)],
        "service_of_explained": shap["aspect_service"] / fit.rsquared,
    }


# ---------------------------------------------------------------- signals


TOPICS = ["billing", "login", "delivery", "outage", "refund", "app_crash", "pricing", "praise"]
PRODUCTS = ["basic", "plus", "pro", "family", "business", "legacy"]


def make_signals(rng, n=6000, customers=400, weeks=20):
    w = 1.0 / np.arange(1, customers + 1) ** 1.1
    w = rng.permutation(w / w.sum())
    cust = rng.choice(customers, size=n, p=w).astype(float)
    tp = np.array([18, 14, 12, 6, 10, 8, 7, 9], dtype=float)
    topic = rng.choice(len(TOPICS), size=n, p=tp / tp.sum()).astype(float)
    at = START + rng.integers(0, weeks * 7 * DAY, n)
    # A spike: outage doubles and more in week 15.
    extra = 90
    at = np.concatenate([at, START + 15 * 7 * DAY + rng.integers(0, 7 * DAY, extra)])
    topic = np.concatenate([topic, np.full(extra, TOPICS.index("outage"), dtype=float)])
    cust = np.concatenate([cust, rng.choice(customers, size=extra, p=w).astype(float)])
    m = len(at)
    product = rng.choice(len(PRODUCTS), size=m).astype(float)
    mood = np.array([-0.3, -0.35, -0.15, -0.6, -0.25, -0.45, -0.1, 0.7])
    sent = np.round(np.clip(mood[topic.astype(int)] + rng.normal(0, 0.35, m), -1, 1), 4)
    cust[rng.random(m) < 0.03] = np.nan
    topic[rng.random(m) < 0.04] = np.nan
    product[rng.random(m) < 0.1] = np.nan
    sent[rng.random(m) < 0.05] = np.nan
    df = pd.DataFrame({"at": at, "customer": cust, "topic": topic, "product": product,
                       "sentiment": sent})
    df = df.sort_values("at", kind="stable").reset_index(drop=True)
    value = np.round(rng.lognormal(6.5, 1.0, customers), 2)
    value[rng.random(customers) < 0.1] = np.nan
    cdf = pd.DataFrame({"customer": np.arange(customers), "value_per_year": value})
    return df, cdf


def pareto_ref(codes, n_entities):
    c = codes.dropna().astype(int).to_numpy()
    counts = np.bincount(c, minlength=n_entities)
    x = counts[counts > 0]
    total = int(x.sum())
    e = len(x)
    desc = np.sort(x)[::-1]
    cum = np.cumsum(desc)
    top = math.ceil(0.2 * e)
    k80 = int(np.argmax(5 * cum >= 4 * total)) + 1
    asc = np.sort(x).astype(float)
    gini = np.abs(asc[:, None] - asc[None, :]).sum() / (2 * e * e * asc.mean())
    lx = np.arange(e + 1) / e
    ly = np.concatenate([[0.0], np.cumsum(asc)]) / total
    grid = np.linspace(0, 1, 101)
    return {"entities": e, "contacts": total, "unattributed": int(codes.isna().sum()),
            "top20_entities": top, "top20_share": float(desc[:top].sum() / total), "k80": k80,
            "gini": float(gini), "lorenz": np.column_stack([grid, np.interp(grid, lx, ly)]).tolist()}


def repeats_ref(df, window_days, cost, level=0.9):
    d = df.assign(row=np.arange(len(df)))
    el = d.dropna(subset=["customer", "topic"]).sort_values(["customer", "topic", "at", "row"])
    gap = el.groupby(["customer", "topic"])["at"].diff()
    el = el.assign(repeat=(gap <= window_days * DAY))
    rep = int(el["repeat"].sum())
    lo, hi = proportion_confint(rep, len(el), alpha=1 - level, method="wilson")

    def by(col, names):
        key = el[col].map(lambda v: "(none)" if np.isnan(v) else names[int(v)])
        g = el.groupby(key)["repeat"].agg(["count", "sum"])
        return {k: {"eligible": int(r["count"]), "repeats": int(r["sum"])} for k, r in g.iterrows()}

    return {"window_days": window_days, "contacts": len(df), "eligible": len(el), "repeats": rep,
            "rate": rep / len(el), "low": lo, "high": hi, "cost": rep * cost,
            "cost_per_contact": cost,
            "by_topic": by("topic", TOPICS), "by_product": by("product", PRODUCTS),
            "flags_first_200": [None if pd.isna(r) else bool(r) for r in
                                el["repeat"].reindex(range(200)).tolist()]}


def expected_range(hist, z, level):
    """The engine's rule (crates/hearken-engine/src/trends.rs docs), with numpy and scipy."""
    h = np.sort(np.asarray(hist, dtype=float))
    n = len(h)
    m = float(np.median(h))
    if n >= 3:
        w = h.copy()
        w[-1] = w[-2]  # winsorise the largest value
        sd = float(np.std(w, ddof=1))
    else:
        sd = 0.0
    t = stats.t.ppf(level, max(n - 2.0, 1.0))
    half = max(t * sd, z * math.sqrt(max(m, 1.0))) * math.sqrt(1.0 + math.pi / (2.0 * n))
    return m, max(0.0, m - half), m + half


def series_ref(series, season, history=8, min_history=4, level=0.99, min_count=5):
    z = stats.norm.ppf(level)
    out = []
    for i, c in enumerate(series):
        hist = [series[i - h * season] for h in range(1, history + 1) if i - h * season >= 0]
        if len(hist) < min_history:
            out.append({"count": int(c), "expected": None, "low": None, "high": None,
                        "spike": False})
            continue
        m, lo, hi = expected_range(hist, z, level)
        out.append({"count": int(c), "expected": m, "low": lo, "high": hi,
                    "spike": bool(c > hi and c >= min_count)})
    return out


def trends_ref(df):
    days = (df["at"] // DAY).astype(int)
    weeks = (days + 3) // 7
    first_w, last_w = int(weeks.min()), int(weeks.max())
    first_d, last_d = int(days.min()), int(days.max())
    topic = df["topic"].map(lambda v: "(none)" if np.isnan(v) else TOPICS[int(v)])
    weekly, daily = {}, {}
    for t in [*TOPICS, "(none)"]:
        mask = topic == t
        wc = np.bincount(weeks[mask] - first_w, minlength=last_w - first_w + 1)
        dc = np.bincount(days[mask] - first_d, minlength=last_d - first_d + 1)
        weekly[t] = series_ref(wc.tolist(), 1)
        daily[t] = series_ref(dc.tolist(), 7)
    return {"first_week": first_w, "last_week": last_w, "first_day": first_d,
            "last_day": last_d, "weekly": weekly, "daily": daily}


def issues_ref(df, cdf, evidence=5):
    s = f32(df["sentiment"].to_numpy())
    value = cdf.set_index("customer")["value_per_year"]
    v = df["customer"].map(lambda c: np.nan if np.isnan(c) else value.get(int(c), np.nan))
    d = pd.DataFrame({"topic": df["topic"], "s": s, "v": v, "row": np.arange(len(df))})
    d["neg"] = d["s"] <= F32_NEG
    overall = d["v"].mean()
    out = []
    for key, g in d.groupby(d["topic"].fillna(-1)):
        scored = g["s"].notna().sum()
        share = g.loc[g["s"].notna(), "neg"].mean() if scored else None
        vf = g["v"].mean() / overall if g["v"].notna().any() else 1.0
        ev = g.assign(k=g["s"].fillna(np.inf)).sort_values(["k", "row"])["row"].head(evidence)
        out.append({"topic": "(none)" if key == -1 else TOPICS[int(key)],
                    "code": None if key == -1 else int(key),
                    "signals": len(g), "negative": int(g["neg"].sum()),
                    "negative_share": share, "mean_sentiment": g["s"].mean(),
                    "value_factor": vf, "score": None if share is None else len(g) * share * vf,
                    "evidence": ev.astype(int).tolist()})
    out.sort(key=lambda i: (-(i["score"] if i["score"] is not None else -math.inf),
                            -i["signals"], i["code"] if i["code"] is not None else 1 << 40))
    return out


def kpis_ref(rng, surveys, level=0.9):
    """Internal KPIs beside the drivers: per-response KPI columns (20% unknown), Pearson
    correlation with overall satisfaction over complete pairs and its Fisher-z interval, by
    scipy.stats.pearsonr. Values are float32, as the engine holds them."""
    n = len(surveys)
    y = surveys["overall"].to_numpy(dtype=np.float32).astype(float)
    kpis = {
        # Handle time: longer cases, slightly less satisfied customers.
        "handle_hours": np.round(rng.gamma(2.0, 6.0, n) - 0.3 * np.nan_to_num(y, nan=5.0), 3),
        # Unrelated to satisfaction.
        "events": rng.integers(1, 12, n).astype(float),
        # Constant: no correlation is defined.
        "constant": np.full(n, 3.0),
    }
    out = {"values": {}, "links": {}}
    for name, x in kpis.items():
        x = x.astype(np.float32).astype(float)
        x[rng.random(n) < 0.2] = np.nan
        out["values"][name] = [None if math.isnan(v) else v for v in x]
        ok = ~np.isnan(x) & ~np.isnan(y)
        if np.ptp(x[ok]) == 0:
            out["links"][name] = {"n": int(ok.sum()), "correlation": None, "low": None, "high": None}
            continue
        r = stats.pearsonr(x[ok], y[ok])
        ci = r.confidence_interval(confidence_level=level)
        out["links"][name] = {"n": int(ok.sum()), "correlation": float(r.statistic),
                              "low": float(ci.low), "high": float(ci.high)}
    return out


def to_json(x):
    if isinstance(x, dict):
        return {k: to_json(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [to_json(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating, float)):
        return None if math.isnan(x) else float(x)
    if isinstance(x, np.bool_):
        return bool(x)
    return x


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    cases, changes = score_cases(np.random.default_rng(20240601))
    surveys = make_surveys(np.random.default_rng(7))
    signals, customers = make_signals(np.random.default_rng(11))
    surveys.to_csv(OUT / "surveys.csv", index=False, float_format="%.10g")
    signals.to_csv(OUT / "signals.csv", index=False, float_format="%.10g")
    customers.to_csv(OUT / "customers.csv", index=False, float_format="%.10g")
    aspects = ["aspect_service", "aspect_product", "aspect_price", "aspect_ease"]
    expected = {
        "provenance": "generated by tools/reference/stats/make_reference.py with "
                      + ", ".join(PINS) + "; do not edit by hand",
        "score_cases": cases,
        "changes": changes,
        "survey_groups": survey_groups(surveys),
        "drivers": {"overall": drivers_ref(surveys, "overall", aspects),
                    "nps": drivers_ref(surveys, "nps", aspects)},
        "dicts": {"topics": TOPICS, "products": PRODUCTS,
                  "customers": [f"c{i:04d}" for i in range(len(customers))]},
        "pareto": {"customer": pareto_ref(signals["customer"], len(customers)),
                   "topic": pareto_ref(signals["topic"], len(TOPICS)),
                   "product": pareto_ref(signals["product"], len(PRODUCTS))},
        "repeats": [repeats_ref(signals, 7, 4.5), repeats_ref(signals, 2, 12.0)],
        "trends": trends_ref(signals),
        "issues": issues_ref(signals, customers),
        "kpis": kpis_ref(np.random.default_rng(23), surveys),
    }
    with open(OUT / "expected.json", "w") as f:
        json.dump(to_json(expected), f, indent=1)
        f.write("\n")
    print(f"wrote {OUT}/expected.json, surveys.csv, signals.csv, customers.csv")


if __name__ == "__main__":
    main()
