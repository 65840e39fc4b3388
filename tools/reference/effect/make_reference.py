#!/usr/bin/env python3
"""Reference values for hearken-engine's effect measurement (crates/hearken-engine/src/effect.rs).

Makes a few seeded scenarios (overdispersed weekly-seasonal counts with a season, NPS responses
clustered by customer, repeat flags, stage times clustered by case), picks the controls by the
rule written in docs/effects.md, fits the models with statsmodels, and writes:

    crates/hearken-engine/tests/data/effect/counts.csv        volume scenarios: events per group per day
    crates/hearken-engine/tests/data/effect/observations.csv  other scenarios: one row per observation
    crates/hearken-engine/tests/data/effect/expected.json     options of each scenario and every expected figure

The models, fitted by statsmodels (not by re-typing the engine's formulas):
- volume, before/after: GLM Poisson on weekly totals with an after indicator, scale="X2"
  (quasi-Poisson: the scale fixed at pearson_chi2 / df_resid of the Poisson fit), use_t=True
  (Student t on weeks - 2 df);
- volume, difference-in-differences: GLM Binomial of (treated, pooled controls) per week on an
  after indicator, the scale fixed at pearson_chi2 / df_resid of the binomial fit, use_t=True;
- volume with correlated adjacent weeks (the default since 2026-12-05): the correlation pooled
  over the groups from statsmodels' Pearson residuals, solved with scipy's brentq against its
  expectation computed from the design matrices with numpy; the variance the sandwich of the
  unscaled GLM's cov_params (bread) around X' phi diag(sqrt w) R diag(sqrt w) X, phi the
  Pearson statistic over tr(Q R), Student t on Satterthwaite's tr(Q R)^2 / tr((Q R)^2) df;
- shares: OLS of the scores on group x window indicators, cov_type="cluster" (CR1, groups = the
  customer, or one group per row when there are no clusters), use_t=True; the before/after
  change is the coefficient of the after indicator in the treated rows, the
  difference-in-differences a t_test of the contrast (treated after - before) - sum w_j (control j
  after - before), w_j the controls' shares of the before rows;
- means: the same with GLM Poisson (log link; a quasi-likelihood fit of the means) instead of
  OLS, so changes are ratios.

Run from anywhere: `python3 tools/reference/effect/make_reference.py`. It creates its own
virtualenv (tools/reference/.venv-effect, gitignored), installs pinned numpy, scipy, pandas and
statsmodels into it and re-runs itself there. The Rust test (crates/hearken-engine/tests/engine/
effect.rs) reads the fixtures and needs no Python.
"""

import json
import os
import subprocess
import sys
import venv
from types import SimpleNamespace
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
VENV = HERE.parent / ".venv-effect"
OUT = ROOT / "crates" / "hearken-engine" / "tests" / "data" / "effect"
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

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import statsmodels.api as sm  # noqa: E402

DAY = 86_400
AT = 1_706_486_400  # 2024-01-29T00:00:00Z, a Monday
LEVEL = 0.9


# ---------------------------------------------------------------- windows


def day_bins(at, before_days, after_days, data_from, data_to):
    """Bin k covers [at + (k - before_days) DAY, +DAY); valid when inside the data."""
    start = at - before_days * DAY
    total = before_days + after_days
    valid = [start + k * DAY >= data_from and start + (k + 1) * DAY <= data_to for k in range(total)]
    return start, total, valid


def whole_weeks(before_days, total, valid):
    """Blocks of 7 valid days counted outwards from the action's date."""
    before, k = [], before_days
    while k >= 7 and all(valid[k - 7:k]):
        before.insert(0, list(range(k - 7, k)))
        k -= 7
    after, k = [], before_days
    while k + 7 <= total and all(valid[k:k + 7]):
        after.append(list(range(k, k + 7)))
        k += 7
    return before, after


def estimate(b, lo, hi, p, relative):
    f = (lambda v: float(np.exp(v) - 1.0)) if relative else float
    return {"change": f(b), "low": f(lo), "high": f(hi), "p_value": float(p)}


# ---------------------------------------------------------------- volume


def larger(res, clustered, est):
    """Replaces the interval and p-value of the after coefficient of `res` when the clustered
    variance is larger than the fit's own: scipy's t on clusters - 1 degrees of freedom."""
    from scipy import stats
    var, clusters = clustered
    if var <= res.bse[1] ** 2:
        est["method"] = "quasi_likelihood_weekly"
        return est
    b, se, df = res.params[1], np.sqrt(var), clusters - 1
    q = stats.t.ppf(0.5 + LEVEL / 2, df)
    out = estimate(b, b - q * se, b + q * se, 2 * stats.t.sf(abs(b / se), df), True)
    out["method"] = "customer_clustered"
    if "week_correlation" in est:
        out["week_correlation"] = est["week_correlation"]
    return out


def quasi_fit(endog, exog, family):
    """A quasi-likelihood fit: the GLM, then the same GLM with its scale fixed at the Pearson
    dispersion pearson_chi2 / df_resid. (statsmodels' own scale="X2" is not that dispersion for a
    binomial with trial counts, so it is computed from the unscaled fit.)"""
    first = sm.GLM(endog, exog, family=family).fit(tol=1e-13)
    phi = first.pearson_chi2 / first.df_resid
    return sm.GLM(endog, exog, family=family).fit(scale=phi, use_t=True, tol=1e-13)


def week_matrices(window, index, weight):
    """Q = I - H, the residual projection of the weighted regression on the window indicators
    on the standardised scale (built from the design matrix with numpy, not the engine's
    closed form), and A, the adjacency of weeks next to each other in time."""
    window, index, weight = np.asarray(window), np.asarray(index), np.asarray(weight, dtype=float)
    X = np.column_stack([window == 0, window == 1]).astype(float) * np.sqrt(weight)[:, None]
    Q = np.eye(len(window)) - X @ np.linalg.inv(X.T @ X) @ X.T
    A = (np.abs(np.subtract.outer(index, index)) == 1).astype(float)
    return Q, A


def pooled_week_correlation(series, nb):
    """The correlation of adjacent weeks pooled over series: the Pearson residuals of a Poisson
    GLM of each series' weekly counts on an after indicator (statsmodels' resid_pearson), the
    ratio of their lag-1 to lag-0 sums, and the rho whose expected ratio
    tr(Q J Q R) / tr(Q R), R = I + rho A, equals it (scipy's brentq), clamped to [0, 0.5]."""
    from scipy import optimize
    n = len(series[0])
    post = np.array([0] * nb + [1] * (n - nb), dtype=float)
    s0 = s1 = 0.0
    for y in series:
        e = sm.GLM(np.asarray(y, dtype=float), sm.add_constant(post), family=sm.families.Poisson()).fit(tol=1e-13).resid_pearson
        s0 += float(e @ e)
        s1 += float(e[:-1] @ e[1:])
    Q, A = week_matrices(post.astype(int), np.arange(n), np.ones(n))
    J = A / 2

    def expected(rho):
        R = np.eye(n) + rho * A
        return np.trace(Q @ J @ Q @ R) / np.trace(Q @ R)
    q = s1 / s0
    if q <= expected(0.0):
        return 0.0
    if q >= expected(0.5):
        return 0.5
    return float(optimize.brentq(lambda r: expected(r) - q, 0.0, 0.5, xtol=1e-15))


def converged(model):
    """An IRLS fit whose covariance (the bread) is computed at the converged fitted values: the
    fit restarted from its own solution (IRLS computes its weights from the previous
    iteration's means, which differ from the final ones in the 8th digit)."""
    first = model.fit(tol=1e-13)
    return model.fit(start_params=first.params, tol=1e-13)


def correlated_weeks(res, weight, window, index, rho):
    """The after coefficient's variance of a statsmodels GLM fitted without scale (Poisson on
    weekly counts, or binomial on the treated share), when adjacent weeks are correlated: the
    sandwich bread (X'WX)^-1 (the unscaled fit's cov_params), meat X' Cov(y) X with
    Cov(y) = phi diag(sqrt(w)) R diag(sqrt(w)) on the model's linear-predictor scale, phi =
    pearson_chi2 / tr(Q R), and Satterthwaite's degrees of freedom tr(Q R)^2 / tr((Q R)^2)."""
    Q, A = week_matrices(window, index, weight)
    R = np.eye(len(window)) + rho * A
    QR = Q @ R
    tr = np.trace(QR)
    phi = res.pearson_chi2 / tr
    X = res.model.exog
    sw = np.sqrt(np.asarray(weight, dtype=float))
    meat = X.T @ (phi * (sw[:, None] * R * sw[None, :])) @ X
    bread = res.cov_params()
    return float((bread @ meat @ bread)[1, 1]), float(tr * tr / np.trace(QR @ QR))


def correlated_estimate(b, var, df):
    from scipy import stats
    se = np.sqrt(var)
    q = stats.t.ppf(0.5 + LEVEL / 2, df)
    return estimate(b, b - q * se, b + q * se, 2 * stats.t.sf(abs(b / se), df), True)


def clustered_log_var(events, weeks_b, weeks_a, start, cells):
    """The customer-clustered variance of a log-ratio contrast, from statsmodels: a Poisson GLM
    on one row per customer and cell (series x window, zeros included) with an offset for the
    window's days, cov_type="cluster" by customer. `cells` lists (groups, window) pairs; the
    contrast is after - before for the first series, minus the same for the second if any."""
    days = {0: 7 * len(weeks_b), 1: 7 * len(weeks_a)}
    lo_b, hi_b = start + weeks_b[0][0] * DAY, start + (weeks_b[-1][-1] + 1) * DAY
    lo_a, hi_a = start + weeks_a[0][0] * DAY, start + (weeks_a[-1][-1] + 1) * DAY
    ev = events.copy()
    t = ev["at"]
    ev["window"] = np.where((t >= lo_b) & (t < hi_b), 0, np.where((t >= lo_a) & (t < hi_a), 1, -1))
    ev = ev[ev.window >= 0]
    ev["cell"] = -1
    for i, (groups, window) in enumerate(cells):
        ev.loc[ev.group.isin(groups) & (ev.window == window), "cell"] = i
    ev = ev[ev.cell >= 0]
    ev["cl"] = np.where(ev.cluster >= 0, ev.cluster, -1 - np.arange(len(ev)))
    ids = np.unique(ev.cl)
    counts = ev.groupby(["cl", "cell"]).size()
    rows_y, rows_x, rows_off, rows_g = [], [], [], []
    for c in ids:
        for i, (_, window) in enumerate(cells):
            rows_y.append(float(counts.get((c, i), 0)))
            x = np.zeros(len(cells))
            x[i] = 1.0
            rows_x.append(x)
            rows_off.append(np.log(days[window]))
            rows_g.append(c)
    res = sm.GLM(np.array(rows_y), np.array(rows_x), family=sm.families.Poisson(),
                 offset=np.array(rows_off)).fit(cov_type="cluster", cov_kwds={"groups": pd.factorize(np.array(rows_g))[0]}, tol=1e-13)
    contrast = np.zeros(len(cells))
    contrast[0], contrast[1] = -1.0, 1.0
    if len(cells) == 4:
        contrast[2], contrast[3] = 1.0, -1.0
    return float(contrast @ res.cov_params() @ contrast), len(ids)


def selection_window(at, before_days, after_days, data_from, data_to):
    """The window the controls are chosen on: the before_days just before the before window's
    first day inside the data, when the data cover all of it; else None."""
    start, total, valid = day_bins(at, before_days, after_days, data_from, data_to)
    first = next((k for k in range(before_days) if valid[k]), None)
    if first is None:
        return None
    to = start + first * DAY
    frm = to - before_days * DAY
    return (frm, to) if frm >= data_from else None


def volume_case(name, counts, names, treated, linked, rule, at, before_days, after_days,
                data_from, data_to, min_n, events=None, pre_counts=None, week_correlation="pooled"):
    """pre_counts: dict group -> events in the selection window (selection_window), when the
    data have any there."""
    """counts: dict group -> array of daily counts over the bins (before then after).
    week_correlation "pooled" (the engine's default since 2026-12-05): adjacent weeks correlated,
    the correlation pooled over the series (pooled_week_correlation, correlated_weeks), customers
    not used; "off": weeks independent and, with `events` (columns at, group, cluster), the
    variance the larger of the weekly quasi-likelihood one (t on weeks - 2 df) and the
    customer-clustered one (t on clusters - 1)."""
    start, total, valid = day_bins(at, before_days, after_days, data_from, data_to)
    wb, wa = whole_weeks(before_days, total, valid)
    weeks = wb + wa
    nb = len(wb)

    def weekly(series):
        return np.array([sum(series[k] for k in w) for w in weeks], dtype=float)

    t_daily = sum(np.asarray(counts[g]) for g in treated)
    tw = weekly(t_daily)
    post = np.array([0] * nb + [1] * len(wa), dtype=float)
    X = sm.add_constant(post)
    res = quasi_fit(tw, X, sm.families.Poisson())
    lo, hi = res.conf_int(alpha=1 - LEVEL)[1]
    naive = estimate(res.params[1], lo, hi, res.pvalues[1], True)
    # The correlation of adjacent weeks, pooled over every series with min_n events in each
    # window (the treated one and each other group).
    rho = 0.0
    if week_correlation == "pooled":
        others = [weekly(counts[g]) for g in range(len(names)) if g not in treated]
        pool = [w for w in [tw] + others if w[:nb].sum() >= max(min_n, 1) and w[nb:].sum() >= max(min_n, 1)]
        if pool:
            rho = pooled_week_correlation(pool, nb)
    if rho > 0:
        unscaled = converged(sm.GLM(tw, X, family=sm.families.Poisson()))
        var, t_df = correlated_weeks(unscaled, unscaled.fittedvalues, post.astype(int), np.arange(len(tw)), rho)
        naive = correlated_estimate(res.params[1], var, t_df)
        res = SimpleNamespace(params=res.params, bse=[0.0, np.sqrt(var)], df_resid=res.df_resid)
        naive["t_df"] = t_df
    naive["week_correlation"] = rho
    # Customers are used only with independent weeks (with correlated weeks the weekly variance
    # carries their contacts' correlation over weeks).
    if events is not None and week_correlation == "off":
        var = clustered_log_var(events, wb, wa, start, [(treated, 0), (treated, 1)])
        naive = larger(res, var, naive)
    days_b, days_a = 7 * nb, 7 * len(wa)
    before = {"value": tw[:nb].sum() / days_b, "n": days_b, "events": int(tw[:nb].sum())}
    after = {"value": tw[nb:].sum() / days_a, "n": days_a, "events": int(tw[nb:].sum())}

    # Controls: not treated, not linked, >= min_n events in the before weeks; closest in
    # log events per day in the selection window when the treated series has min_n events
    # there, else in the before weeks; ties to the larger, then the lower code.
    sel = selection_window(at, before_days, after_days, data_from, data_to)
    pre = None
    if sel is not None and pre_counts is None and events is not None:
        inside = events[(events["at"] >= sel[0]) & (events["at"] < sel[1])]
        pre_counts = {int(g): int(n) for g, n in inside.groupby("group").size().items()}
    if sel is not None and pre_counts is not None:
        if sum(pre_counts.get(g, 0) for g in treated) >= max(min_n, 1):
            pre = pre_counts
    t_rate = tw[:nb].sum() / days_b if pre is None else float(sum(pre.get(g, 0) for g in treated))
    rows = []
    for g in range(len(names)):
        if g in treated:
            continue
        w = weekly(counts[g])
        eb, ea = w[:nb].sum(), w[nb:].sum()
        if eb == 0 and ea == 0 and g not in linked:
            continue
        eligible = g not in linked and eb >= min_n and (pre is None or pre.get(g, 0) > 0)
        rate = eb / days_b if pre is None else float(pre.get(g, 0))
        dist = abs(np.log(rate / t_rate)) if rate > 0 else np.inf
        rows.append({"g": g, "eligible": eligible, "dist": dist, "eb": eb, "w": w})
    cand = pd.DataFrame(rows)
    if rule["rule"] == "similar":
        el = cand[cand.eligible].sort_values(["dist", "eb", "g"], ascending=[True, False, True])
        chosen = list(el.g[: rule["max"]])
    else:
        chosen = [g for g in rule["groups"] if bool(cand[cand.g == g].eligible.iloc[0])]
    cw = sum(cand[cand.g == g].w.iloc[0] for g in chosen)
    keep = (tw + cw) > 0
    endog = np.column_stack([tw, cw])[keep]
    res = quasi_fit(endog, X[keep], sm.families.Binomial())
    lo, hi = res.conf_int(alpha=1 - LEVEL)[1]
    did = estimate(res.params[1], lo, hi, res.pvalues[1], True)
    if rho > 0:
        unscaled = converged(sm.GLM(endog, X[keep], family=sm.families.Binomial()))
        n_t = endog.sum(axis=1)
        p_t = unscaled.fittedvalues
        var, t_df = correlated_weeks(unscaled, n_t * p_t * (1 - p_t), post[keep].astype(int),
                                     np.arange(len(tw))[keep], rho)
        did = correlated_estimate(res.params[1], var, t_df)
        res = SimpleNamespace(params=res.params, bse=[0.0, np.sqrt(var)], df_resid=res.df_resid)
        did["t_df"] = t_df
    if events is not None and week_correlation == "off":
        var = clustered_log_var(events, wb, wa, start, [(treated, 0), (treated, 1), (chosen, 0), (chosen, 1)])
        did = larger(res, var, did)
    did["controls"] = [names[g] for g in chosen]
    return {
        "name": name, "metric": "volume", "treated": treated, "linked": linked, "rule": rule,
        "at": at, "before_days": before_days, "after_days": after_days,
        "data_from": data_from, "data_to": data_to, "min_n": min_n,
        "week_correlation_rule": week_correlation,
        "before": before, "after": after, **naive, "did": did, "df": float(res.df_resid),
        "controls_chosen_on": list(sel) if pre is not None else None,
    }


def make_counts(rng, names, rates, season, effect, days_before, days_after, dispersion):
    """Gamma-Poisson daily counts with a weekly cycle, a season after the date for every group
    and an effect for group 0."""
    out = {}
    weekly = np.array([1.2, 1.1, 1.0, 1.0, 1.1, 0.5, 0.4])  # Monday first; bin 0 is a weekday
    for g, r in enumerate(rates):
        ys = []
        for k in range(days_before + days_after):
            d = k - days_before
            wd = (AT // DAY + 3 + d) % 7
            mu = r * weekly[wd] * (season if d >= 0 else 1.0) * (effect if (d >= 0 and g == 0) else 1.0)
            lam = rng.gamma(1.0 / dispersion, mu * dispersion)
            ys.append(int(rng.poisson(lam)))
        out[g] = ys
    return out


# ---------------------------------------------------------------- shares and means


def small_sample_cov(res, X, y, groups, variance):
    """The CR2 or CR3 covariance of OLS coefficients, by the general formulas (numpy linear
    algebra and statsmodels refits, not the engine's closed form):
    CR2 (Bell and McCaffrey 2002): (X'X)^-1 sum_g X_g' A_g e_g e_g' A_g X_g (X'X)^-1 with
    A_g = (I - H_gg)^(-1/2) (eigendecomposition; the pseudo-inverse square root, zero for a zero
    eigenvalue);
    CR3 (the jackknife, MacKinnon, Nielsen and Webb 2023): (G-1)/G sum_g (b_(g) - b)(b_(g) - b)'
    with b_(g) statsmodels' OLS refitted without cluster g."""
    b = res.params
    bread = np.linalg.inv(X.T @ X)
    ids = np.unique(groups)
    k = X.shape[1]
    if variance == "cr2":
        e = y - X @ b
        meat = np.zeros((k, k))
        for g in ids:
            m = groups == g
            Xg = X[m]
            H = Xg @ bread @ Xg.T
            lam, V = np.linalg.eigh(np.eye(len(Xg)) - H)
            inv_sqrt = np.array([1.0 / np.sqrt(v) if v > 1e-12 else 0.0 for v in lam])
            A = V @ np.diag(inv_sqrt) @ V.T
            s = Xg.T @ (A @ e[m])
            meat += np.outer(s, s)
        return bread @ meat @ bread
    if variance == "cr3":
        G = len(ids)
        acc = np.zeros((k, k))
        for g in ids:
            m = groups != g
            bg = sm.OLS(y[m], X[m]).fit().params
            d = bg - b
            acc += np.outer(d, d)
        return (G - 1) / G * acc
    raise ValueError(variance)


class Small:
    """A CR2 / CR3 fit with the t_test interface used below: Student t on clusters - 1 degrees
    of freedom (scipy), on the log scale by the delta method; two-way when `time` is set."""

    time = None

    def __init__(self, sub, X):
        self.sub, self.X = sub, X

    def t_test(self, contrast):
        from scipy import stats
        y = self.sub.value.to_numpy()
        groups = pd.factorize(self.sub.cl.to_numpy())[0]
        res = sm.OLS(y, self.X).fit()
        cov = small_sample_cov(res, self.X, y, groups, Small.variance)
        a = np.asarray(contrast, dtype=float)[0]
        m = res.params
        if Small.log:
            grad, eff = a / m, float(a @ np.log(m))
        else:
            grad, eff = a, float(a @ m)
        var, df = float(grad @ cov @ grad), len(np.unique(groups)) - 1
        if Small.time is not None:
            # Two-way (Cameron, Gelbach and Miller 2011): V_cluster + V_time - V_both, each
            # by the general formula.
            blocks = pd.factorize(self.sub.block.to_numpy())[0]
            both = pd.factorize(pd.Series(list(zip(self.sub.cl, self.sub.block))))[0]
            excess = float(grad @ (small_sample_cov(res, self.X, y, blocks, Small.variance)
                                   - small_sample_cov(res, self.X, y, both, Small.variance)) @ grad)
            var, df = two_way(var, excess, len(np.unique(groups)), len(np.unique(blocks)))
        se = float(np.sqrt(var))
        q = stats.t.ppf(0.5 + LEVEL / 2, df)
        return TT(eff, eff - q * se, eff + q * se, 2 * stats.t.sf(abs(eff / se), df), df)


def two_way(v_cluster, excess, g_cluster, g_time):
    """The two-way variance of a contrast, `V_cluster + (V_time - V_both)` when the time part is
    positive (else the one-way variance on G - 1 degrees of freedom), and its Satterthwaite
    degrees of freedom `V^2 / (V_cluster^2 / (G - 1) + excess^2 / (T - 1))`."""
    if not excess > 0:
        return v_cluster, g_cluster - 1
    v = v_cluster + excess
    return v, v * v / (v_cluster ** 2 / (g_cluster - 1) + excess ** 2 / (g_time - 1))


class TwoWayCR1:
    """statsmodels' cluster-robust fit with two group columns (customer or case, time block) and
    its one-way parts: the contrast's variance is the two-way fit's (checked to equal the
    customers' one-way variance plus the time blocks' minus their intersection's, each a
    statsmodels fit) and the reference Student t has Satterthwaite's degrees of freedom
    (`two_way`), from scipy."""

    def __init__(self, fit_groups, cl, block):
        gc = pd.factorize(cl)[0]
        gt = pd.factorize(block)[0]
        gb = pd.factorize(pd.Series(list(zip(gc, gt))))[0]
        self.res2 = fit_groups(np.column_stack([gc, gt]))
        self.parts = [fit_groups(g) for g in (gc, gt, gb)]
        self.g = (len(np.unique(gc)), len(np.unique(gt)))

    def t_test(self, contrast):
        from scipy import stats
        a = np.asarray(contrast, dtype=float)[0]
        eff = float(a @ self.res2.params)
        v2 = float(a @ self.res2.cov_params() @ a)
        vc, vt, vb = (float(a @ r.cov_params() @ a) for r in self.parts)
        assert abs(vc + vt - vb - v2) <= 1e-9 * abs(v2), (vc + vt - vb, v2)
        var, df = two_way(vc, vt - vb, *self.g)
        se = float(np.sqrt(var))
        q = stats.t.ppf(0.5 + LEVEL / 2, df)
        return TT(eff, eff - q * se, eff + q * se, 2 * stats.t.sf(abs(eff / se), df), df)


class TT:
    def __init__(self, effect, lo, hi, p, df=None):
        self.effect, self.lo, self.hi, self.pvalue = np.array([effect]), lo, hi, p
        self.df = df

    def conf_int(self, alpha):
        return np.array([[self.lo, self.hi]])


def block_of(at, start, before_days, days):
    """The time cluster of a time: blocks of `days` days counted outward from the action's
    date (the engine's codes: before blocks 0, 1, ... backwards, after blocks 2^21 + 0, 1, ...)."""
    k = (at - start) // DAY
    return np.where(k < before_days, (before_days - 1 - k) // days, 2**21 + (k - before_days) // days)


def cells_case(name, metric, df, names, treated, linked, rule, at, before_days, after_days,
               min_n, clustered, variance="cr1", time=None):
    """df: columns at, group, value, cluster (-1 = none). Shares on the identity scale, means
    (stage time, transfers) on the log scale. `variance`: "cr1" (statsmodels' cluster-robust
    covariance), "cr2" or "cr3" (small_sample_cov of the OLS on cell indicators; on the log
    scale, the delta method on it: the GLM's cell means are the OLS ones). `time`: None, "day"
    or "week": two-way clustering by cluster and day (7-day block), statsmodels' cov_type="cluster"
    with two group columns for CR1 (`TwoWayCR1`), Satterthwaite's degrees of freedom."""
    log = metric in ("stage_time", "transfers_per_case")
    Small.variance, Small.log, Small.time = variance, log, time
    start, total, valid = day_bins(at, before_days, after_days, -(2**62), 2**62)
    # The selection window (the data span is unbounded here, as the test gives it): the
    # controls' levels there, when the treated series has min_n.
    sel = selection_window(at, before_days, after_days, -(2**62), 2**62)
    pre = None
    if sel is not None:
        p = df[(df["at"] >= sel[0]) & (df["at"] < sel[1]) & ~df.value.isna()].copy()
        p["slot"] = np.where(p.group.isin(treated), -1, p.group)
        if (p.slot == -1).sum() >= max(min_n, 2):
            pre = p
    k = (df["at"] - start) // DAY
    df = df[(df["at"] >= start) & (k < total)].copy()
    df["after"] = ((df["at"] - start) // DAY >= before_days).astype(int)
    df["slot"] = np.where(df.group.isin(treated), -1, df.group)
    df = df[~df.value.isna()]
    if clustered:
        df["cl"] = np.where(df.cluster >= 0, df.cluster, -1 - np.arange(len(df)))
    else:
        df["cl"] = np.arange(len(df))
    if time is not None:
        df["block"] = block_of(df["at"].to_numpy(), start, before_days, {"day": 1, "week": 7}[time])

    def mean(slot, w):
        v = df[(df.slot == slot) & (df.after == w)].value
        return (float(v.mean()) if len(v) else None), int(len(v))

    def fit(sub, cols):
        """Fits the values of `sub` on indicators of `cols` (list of (slot, window))."""
        X = np.column_stack([((sub.slot == s) & (sub.after == w)).astype(float) for s, w in cols])
        if variance != "cr1":
            return Small(sub, X)
        def fit_groups(groups):
            if log:
                model = sm.GLM(sub.value.to_numpy(), X, family=sm.families.Poisson())
                return model.fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True, tol=1e-13)
            return sm.OLS(sub.value.to_numpy(), X).fit(cov_type="cluster", cov_kwds={"groups": groups}, use_t=True)

        if time is not None:
            return TwoWayCR1(fit_groups, sub.cl.to_numpy(), sub.block.to_numpy())
        return fit_groups(sub.cl.to_numpy())

    def level(slot):
        """The level the controls are chosen on."""
        if pre is None:
            return mean(slot, 0)[0]
        v = pre[pre.slot == slot].value
        return float(v.mean()) if len(v) else None

    tb, nb = mean(-1, 0)
    ta, na = mean(-1, 1)
    sub = df[df.slot == -1]
    res = fit(sub, [(-1, 0), (-1, 1)])
    tt = res.t_test(np.array([[-1.0, 1.0]]))
    lo, hi = tt.conf_int(alpha=1 - LEVEL)[0]
    naive = estimate(float(tt.effect[0]), lo, hi, float(tt.pvalue), log)
    if time is not None:
        naive["t_df"] = float(tt.df)

    def clusters(slot, w):
        s = df[(df.slot == slot) & (df.after == w)]
        return int(s.cl.nunique())

    rows = []
    for g in range(len(names)):
        if g in treated:
            continue
        mb, cb = mean(g, 0)
        ma, ca = mean(g, 1)
        if cb == 0 and ca == 0 and g not in linked:
            continue
        blocked = cb < 2 or ca < 2 or (log and (mb <= 0 or ma <= 0))
        lc, lt = level(g), level(-1)
        eligible = g not in linked and cb >= min_n and ca > 0 and not blocked and lc is not None
        if lc is None:
            dist = np.inf
        elif log:
            dist = abs(np.log(lc / lt)) if lc > 0 else np.inf
        else:
            dist = abs(lc - lt)
        rows.append({"g": g, "eligible": eligible, "dist": dist, "nb": cb})
    cand = pd.DataFrame(rows)
    if rule["rule"] == "similar":
        el = cand[cand.eligible].sort_values(["dist", "nb", "g"], ascending=[True, False, True])
        chosen = list(el.g[: rule["max"]])
    else:
        chosen = [g for g in rule["groups"] if bool(cand[cand.g == g].eligible.iloc[0])]
    cols = [(-1, 0), (-1, 1)]
    for g in chosen:
        cols += [(g, 0), (g, 1)]
    sub = df[df.slot.isin([-1, *chosen])]
    res = fit(sub, cols)
    nbs = np.array([mean(g, 0)[1] for g in chosen], dtype=float)
    w = nbs / nbs.sum()
    contrast = [-1.0, 1.0]
    for wj in w:
        contrast += [wj, -wj]
    tt = res.t_test(np.array([contrast]))
    lo, hi = tt.conf_int(alpha=1 - LEVEL)[0]
    did = estimate(float(tt.effect[0]), lo, hi, float(tt.pvalue), log)
    if time is not None:
        did["t_df"] = float(tt.df)
    did["controls"] = [names[g] for g in chosen]
    side = lambda v, n, w: {"value": v, "n": n, **({"clusters": clusters(-1, w)} if clustered else {})}
    return {
        "name": name, "metric": metric, "treated": treated, "linked": linked, "rule": rule,
        "at": at, "before_days": before_days, "after_days": after_days, "min_n": min_n,
        "clustered": clustered, "variance": variance, "time_clusters": time or "off", "before": side(tb, nb, 0), "after": side(ta, na, 1),
        "controls_chosen_on": list(sel) if pre is not None else None,
        **naive, "did": did,
    }


def obs_frame(obs_rows, case):
    """The observations of an earlier case, as the frame it was made from."""
    rows = [(r[1], r[2], r[3], r[4]) for r in obs_rows if r[0] == case]
    return pd.DataFrame(rows, columns=["at", "group", "value", "cluster"])


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20240129)
    cases, count_rows, obs_rows = [], [], []

    # Volume: two treated topics merged, a season of 0.75 on everything and 0.6 on the treated.
    names = ["billing/double_charge", "billing/refund", "billing/invoice", "network/outage",
             "network/slow", "app/login", "app/crash", "tiny"]
    rates = [9.0, 4.0, 10.0, 14.0, 6.0, 12.0, 30.0, 0.3]
    bd, ad = 38, 35
    counts = make_counts(rng, names, rates, 0.75, 0.6, bd, ad, 0.05)
    counts[1] = make_counts(rng, names[:1], [4.0], 0.75, 0.6, bd, ad, 0.05)[0]
    for g, ys in counts.items():
        for k, c in enumerate(ys):
            count_rows.append(("volume_season", AT + (k - bd) * DAY, g, c))
    cases.append(volume_case("volume_season", counts, names, [0, 1], [2], {"rule": "similar", "max": 3},
                             AT, bd, ad, -(2**62), 2**62, 30))
    # The same data, the data ending 23 days after the date: three whole weeks after.
    cases.append(volume_case("volume_cut_short", counts, names, [0, 1], [2], {"rule": "given", "groups": [3, 5]},
                             AT, bd, ad, -(2**62), AT + 23 * DAY, 30))
    cases[-1]["names_from"] = "volume_season"

    # Null volume: no season, no effect, strong overdispersion.
    counts = make_counts(rng, names, rates, 1.0, 1.0, 56, 56, 0.3)
    for g, ys in counts.items():
        for k, c in enumerate(ys):
            count_rows.append(("volume_null", AT + (k - 56) * DAY, g, c))
    cases.append(volume_case("volume_null", counts, names, [3], [], {"rule": "similar", "max": 5},
                             AT, 56, 56, -(2**62), 2**62, 30))

    # Volume with customers: heavy-tailed contacters (a few customers send much of a topic's
    # volume), some joining or leaving between the windows.
    vnames = ["t0", "t1", "t2", "t3", "t4", "t5"]
    rows = []
    for cust in range(1500):
        weight = float(rng.lognormal(-1.2, 1.4))
        first = int(rng.integers(-70, 0)) if rng.random() < 0.15 else -70
        last = int(rng.integers(0, 70)) if rng.random() < 0.15 else 70
        for g in range(6):
            rate = weight * [0.3, 0.25, 0.35, 0.2, 0.3, 0.28][g] * (0.7 if g == 0 else 1.0)
            for d in range(first, last):
                for _ in range(int(rng.poisson(rate * (0.8 if (g == 0 and d >= 0) else 1.0) / 7.0))):
                    rows.append((AT + d * DAY + int(rng.integers(0, DAY)), g, float("nan"), cust))
    ev = pd.DataFrame(rows, columns=["at", "group", "value", "cluster"])
    for r in ev.itertuples():
        obs_rows.append(("volume_clustered", r.at, r.group, r.value, r.cluster))
    vcounts = {}
    for g in range(6):
        sub = ev[ev.group == g]
        k = (sub["at"] - (AT - 63 * DAY)) // DAY
        vcounts[g] = [int((k == i).sum()) for i in range(126)]
    case = volume_case("volume_clustered", vcounts, vnames, [0], [], {"rule": "similar", "max": 3},
                       AT, 63, 63, -(2**62), 2**62, 30, events=ev)
    case["clustered"] = True
    cases.append(case)
    volume_clustered_off = volume_case("volume_clustered_off", vcounts, vnames, [0], [], {"rule": "similar", "max": 3},
                                       AT, 63, 63, -(2**62), 2**62, 30, events=ev, week_correlation="off")
    volume_clustered_off["clustered"] = True
    volume_clustered_off["names_from"] = "volume_clustered"

    # NPS by segment, responses clustered by customer (some customers answer several times).
    seg = ["consumer", "smb", "enterprise", "public"]
    rows = []
    for g, (n, p) in enumerate([(700, (0.2, 0.3, 0.5)), (400, (0.25, 0.35, 0.4)), (250, (0.3, 0.3, 0.4)), (60, (0.2, 0.3, 0.5))]):
        customers = rng.integers(0, n // 2, size=n) + 10_000 * g
        for i in range(n):
            t = AT + int(rng.integers(-28 * DAY, 28 * DAY))
            shift = 0.08 if (g == 0 and t >= AT) else 0.0
            pp = np.array([p[0] - shift, p[1], p[2] + shift])
            v = [-100.0, 0.0, 100.0][rng.choice(3, p=pp / pp.sum())]
            rows.append((t, g, v, int(customers[i])))
    rows.append((AT - 3 * DAY, 0, float("nan"), 17))  # a missing answer
    df = pd.DataFrame(rows, columns=["at", "group", "value", "cluster"])
    for r in df.itertuples():
        obs_rows.append(("nps_clustered", r.at, r.group, r.value, r.cluster))
    cases.append(cells_case("nps_clustered", "nps", df, seg, [0], [], {"rule": "similar", "max": 2}, AT, 28, 28, 30, True))

    # Repeat flags by topic, no clusters, given controls.
    topics = ["t0", "t1", "t2", "t3", "t4"]
    rows = []
    for g, (n, p) in enumerate([(500, 0.3), (300, 0.25), (400, 0.2), (350, 0.35), (20, 0.3)]):
        for i in range(n):
            t = AT + int(rng.integers(-21 * DAY, 21 * DAY))
            q = p * (0.7 if (g == 0 and t >= AT) else 1.0)
            rows.append((t, g, 100.0 * (rng.random() < q), -1))
    df = pd.DataFrame(rows, columns=["at", "group", "value", "cluster"])
    for r in df.itertuples():
        obs_rows.append(("repeat_plain", r.at, r.group, r.value, r.cluster))
    cases.append(cells_case("repeat_plain", "repeat_rate", df, topics, [0], [1], {"rule": "given", "groups": [2, 3]}, AT, 21, 21, 30, False))

    # Stage times (hours), lognormal, clustered by case (a case may visit a stage twice).
    stages = ["new", "waiting", "in_progress", "escalated"]
    rows = []
    case = 0
    for g, (n, m) in enumerate([(300, 8.0), (400, 30.0), (500, 20.0), (80, 50.0)]):
        for i in range(n):
            case += 1
            t = AT + int(rng.integers(-28 * DAY, 28 * DAY))
            f = 0.7 if (g == 1 and t >= AT) else 1.0
            for _ in range(1 + int(rng.random() < 0.2)):
                rows.append((t, g, float(m * f * rng.lognormal(-0.5, 1.0)), case))
                t += 3600
    df = pd.DataFrame(rows, columns=["at", "group", "value", "cluster"])
    for r in df.itertuples():
        obs_rows.append(("stage_time", r.at, r.group, r.value, r.cluster))
    cases.append(cells_case("stage_time", "stage_time", df, stages, [1], [], {"rule": "similar", "max": 2}, AT, 28, 28, 30, True))

    # Controls chosen on the window before the before window: stage times over three windows
    # (the first one only chooses), one stage's level moving between the first two.
    rows = []
    for g, (n, m) in enumerate([(450, 8.0), (600, 30.0), (750, 20.0), (120, 50.0), (500, 26.0)]):
        for i in range(n):
            case += 1
            t = AT + int(rng.integers(-56 * DAY, 28 * DAY))
            f = 0.7 if (g == 1 and t >= AT) else 1.0
            drift = 1.3 if (g == 4 and t >= AT - 28 * DAY) else 1.0
            for _ in range(1 + int(rng.random() < 0.2)):
                rows.append((t, g, float(m * f * drift * rng.lognormal(-0.5, 1.0)), case))
                t += 3600
    df = pd.DataFrame(rows, columns=["at", "group", "value", "cluster"])
    for r in df.itertuples():
        obs_rows.append(("stage_time_pre", r.at, r.group, r.value, r.cluster))
    pstages = stages + ["review"]
    cases.append(cells_case("stage_time_pre", "stage_time", df, pstages, [1], [], {"rule": "similar", "max": 2}, AT, 28, 28, 30, True, "cr2"))

    # Volume over three windows of 21 days: the controls are chosen on the first.
    pcounts = make_counts(rng, names, rates, 1.0, 0.7, 42, 21, 0.05)
    for g, ys in pcounts.items():
        for k, c in enumerate(ys):
            count_rows.append(("volume_pre", AT + (k - 42) * DAY, g, c))
    inside = {g: ys[21:] for g, ys in pcounts.items()}
    pre_counts = {g: int(sum(ys[:21])) for g, ys in pcounts.items()}
    cases.append(volume_case("volume_pre", inside, names, [0], [], {"rule": "similar", "max": 3},
                             AT, 21, 21, AT - 42 * DAY, 2**62, 30, pre_counts=pre_counts))

    # The small-sample forms on the same data: NPS with CR2, stage times with CR3.
    c = cells_case("nps_clustered_cr2", "nps", obs_frame(obs_rows, "nps_clustered"), seg, [0], [],
                   {"rule": "similar", "max": 2}, AT, 28, 28, 30, True, "cr2")
    c["names_from"] = "nps_clustered"
    cases.append(c)
    c = cells_case("stage_time_cr3", "stage_time", obs_frame(obs_rows, "stage_time"), stages, [1], [],
                   {"rule": "similar", "max": 2}, AT, 28, 28, 30, True, "cr3")
    c["names_from"] = "stage_time"
    cases.append(c)

    # Repeat flags of heavy-tailed contacters: a few customers hold a large share of a topic's
    # contacts (and their flags move together), where CR1, CR2 and CR3 differ most.
    htopics = ["h0", "h1", "h2", "h3"]
    rows = []
    for cust in range(400):
        weight = float(rng.lognormal(-1.5, 1.6))
        prone = float(rng.beta(1.0, 3.0))
        for g in range(4):
            for _ in range(int(rng.poisson(weight * [6.0, 4.0, 5.0, 3.0][g]))):
                t = AT + int(rng.integers(-21 * DAY, 21 * DAY))
                q = prone * (0.6 if (g == 0 and t >= AT) else 1.0)
                rows.append((t, g, 100.0 * (rng.random() < q), cust))
    df = pd.DataFrame(rows, columns=["at", "group", "value", "cluster"])
    for r in df.itertuples():
        obs_rows.append(("repeat_heavy", r.at, r.group, r.value, r.cluster))
    for variance in ["cr1", "cr2", "cr3"]:
        c = cells_case(f"repeat_heavy_{variance}", "repeat_rate", df, htopics, [0], [],
                       {"rule": "similar", "max": 2}, AT, 21, 21, 30, True, variance)
        c["names_from"] = "repeat_heavy"
        cases.append(c)

    # Repeat flags with shocks common to every customer on a day (AR(1) from day to day, shared
    # by the topics): two-way clustering by customer and day (CR1, statsmodels' two group
    # columns) and by customer and week (CR2, the general formula), and stage times with the
    # same day shocks, two-way by case and week (CR1, the GLM's two group columns).
    dtopics = ["d0", "d1", "d2", "d3", "d4"]
    shock, z = {}, 0.0
    for d in range(-28, 28):
        z = 0.5 * z + np.sqrt(0.75) * rng.normal()
        shock[d] = z
    rows = []
    for cust in range(300):
        weight = float(rng.lognormal(-0.5, 1.0))
        prone = float(rng.beta(2.0, 6.0))
        for g in range(5):
            for _ in range(int(rng.poisson(weight * [5.0, 4.0, 5.0, 3.0, 4.0][g]))):
                d = int(rng.integers(-28, 28))
                t = AT + d * DAY + int(rng.integers(0, DAY))
                q = min(0.95, prone * np.exp(0.5 * shock[d]) * (0.7 if (g == 0 and d >= 0) else 1.0))
                rows.append((t, g, 100.0 * (rng.random() < q), cust))
    df = pd.DataFrame(rows, columns=["at", "group", "value", "cluster"])
    for r in df.itertuples():
        obs_rows.append(("repeat_days", r.at, r.group, r.value, r.cluster))
    for variance, time in [("cr1", "day"), ("cr2", "week"), ("cr2", "day")]:
        c = cells_case(f"repeat_days_{variance}_{time}", "repeat_rate", df, dtopics, [0], [],
                       {"rule": "similar", "max": 2}, AT, 28, 28, 30, True, variance, time)
        c["names_from"] = "repeat_days"
        cases.append(c)
    rows = []
    for g, (n, m) in enumerate([(300, 8.0), (400, 30.0), (500, 20.0), (250, 12.0)]):
        for i in range(n):
            case += 1
            d = int(rng.integers(-28, 28))
            t = AT + d * DAY + int(rng.integers(0, DAY))
            f = (0.7 if (g == 1 and d >= 0) else 1.0) * np.exp(0.3 * shock[d])
            for _ in range(1 + int(rng.random() < 0.2)):
                rows.append((t, g, float(m * f * rng.lognormal(-0.5, 1.0)), case))
                t += 3600
    df = pd.DataFrame(rows, columns=["at", "group", "value", "cluster"])
    for r in df.itertuples():
        obs_rows.append(("stage_time_days", r.at, r.group, r.value, r.cluster))
    c = cells_case("stage_time_days_cr1_week", "stage_time", df, stages, [1], [],
                   {"rule": "similar", "max": 2}, AT, 28, 28, 30, True, "cr1", "week")
    c["names_from"] = "stage_time_days"
    cases.append(c)

    # Volume with day shocks lasting several days (daily AR(1) 0.7, half of them common to
    # every topic): adjacent weeks are correlated, the pooled correlation is positive, and the
    # weekly variance allows for it; the same data with weeks taken as independent.
    cnames = ["c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7"]
    crates = [40.0, 25.0, 60.0, 35.0, 50.0, 30.0, 45.0, 0.2]
    days = 112

    def ar1(n, rho):
        z = np.empty(n)
        z[0] = rng.normal()
        for i in range(1, n):
            z[i] = rho * z[i - 1] + np.sqrt(1 - rho * rho) * rng.normal()
        return z
    common = ar1(days, 0.7)
    ccounts = {}
    for g, r in enumerate(crates):
        z = np.sqrt(0.5) * ar1(days, 0.7) + np.sqrt(0.5) * common
        ccounts[g] = [int(rng.poisson(r * np.exp(0.3 * z[k] - 0.045))) for k in range(days)]
        for k, c in enumerate(ccounts[g]):
            count_rows.append(("volume_correlated", AT + (k - 56) * DAY, g, c))
    cases.append(volume_case("volume_correlated", ccounts, cnames, [0], [1], {"rule": "similar", "max": 3},
                             AT, 56, 56, -(2**62), 2**62, 30))
    c = volume_case("volume_correlated_off", ccounts, cnames, [0], [1], {"rule": "similar", "max": 3},
                    AT, 56, 56, -(2**62), 2**62, 30, week_correlation="off")
    c["names_from"] = "volume_correlated"
    cases.append(c)

    cases.append(volume_clustered_off)

    group_names = {"volume_season": names, "volume_cut_short": names, "volume_null": names,
                   "nps_clustered": seg, "volume_clustered": vnames, "repeat_plain": topics, "stage_time": stages,
                   "nps_clustered_cr2": seg, "stage_time_pre": pstages, "volume_pre": names, "stage_time_cr3": stages, "repeat_heavy_cr1": htopics,
                   "repeat_heavy_cr2": htopics, "repeat_heavy_cr3": htopics,
                   "repeat_days_cr1_day": dtopics, "repeat_days_cr2_week": dtopics,
                   "repeat_days_cr2_day": dtopics, "stage_time_days_cr1_week": stages,
                   "volume_correlated": cnames, "volume_correlated_off": cnames,
                   "volume_clustered_off": vnames}
    for c in cases:
        c["groups"] = group_names[c["name"]]
    with open(OUT / "counts.csv", "w") as f:
        f.write("case,day_start,group,count\n")
        for r in count_rows:
            f.write(f"{r[0]},{r[1]},{r[2]},{r[3]}\n")
    with open(OUT / "observations.csv", "w") as f:
        f.write("case,at,group,value,cluster\n")
        for r in obs_rows:
            v = "" if np.isnan(r[3]) else repr(float(r[3]))
            cl = "" if r[4] < 0 else str(r[4])
            f.write(f"{r[0]},{r[1]},{r[2]},{v},{cl}\n")

    def clean(x):
        if isinstance(x, dict):
            return {k: clean(v) for k, v in x.items()}
        if isinstance(x, list):
            return [clean(v) for v in x]
        if isinstance(x, (np.integer,)):
            return int(x)
        if isinstance(x, (np.floating,)):
            return float(x)
        return x

    meta = {
        "generated_by": "tools/reference/effect/make_reference.py",
        "versions": {"numpy": np.__version__, "pandas": pd.__version__, "statsmodels": sm.__version__ if hasattr(sm, "__version__") else __import__("statsmodels").__version__},
        "level": LEVEL,
        "cases": clean(cases),
    }
    with open(OUT / "expected.json", "w") as f:
        json.dump(meta, f, indent=1, allow_nan=False)
    print(f"wrote {len(cases)} cases, {len(count_rows)} count rows, {len(obs_rows)} observations to {OUT}")


main()
