//! Judging a risk score against what happened after the as-of date: ROC AUC and the lead time
//! between the first warning and the churn.

use serde::Serialize;

use super::{DAY, RiskIndex, Scorer, bad_option, rules};
use crate::error::Result;
use crate::stats::quantile_sorted;

/// ROC AUC of `scores` against `labels` (the Mann-Whitney statistic, ties counted half):
/// the chance that a random churner scores above a random non-churner. `None` without both
/// classes or with a NaN score.
pub fn auc(scores: &[f64], labels: &[bool]) -> Option<f64> {
    if scores.len() != labels.len() || scores.iter().any(|s| s.is_nan()) {
        return None;
    }
    let pos = labels.iter().filter(|&&l| l).count();
    let neg = labels.len() - pos;
    if pos == 0 || neg == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Sum of the (1-based, mid-) ranks of the positives.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let mid = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += mid * order[i..=j].iter().filter(|&&r| labels[r]).count() as f64;
        i = j + 1;
    }
    let (p, n) = (pos as f64, neg as f64);
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * n))
}

/// For each customer code given: did it churn in `[as_of, as_of + horizon_days)`?
pub fn labels(index: &RiskIndex, as_of: i64, horizon_days: u32, customers: &[u32]) -> Vec<bool> {
    let end = as_of + i64::from(horizon_days) * DAY;
    customers
        .iter()
        .map(|&k| index.churned_at(k).is_some_and(|c| c >= as_of && c < end))
        .collect()
}

/// When a customer counts as warned, and over which days.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeadTimeOptions {
    /// Scoring days run from `from` (inclusive) to `to` (exclusive), `step_days` apart.
    pub from: i64,
    pub to: i64,
    pub step_days: u32,
    /// On each day, the customers in the top `alert_share` of scores (and with a score above
    /// zero) are warned.
    pub alert_share: f64,
    /// A warning counts for a churn at most this many days before it. Churners are those whose
    /// churn date `c` has `c - lookback >= from` and `c < to`, so each is watched for the whole
    /// lookback.
    pub lookback_days: u32,
}

/// The lead time between the first warning and the churn.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeadTimes {
    pub options: LeadTimeOptions,
    /// Churners watched for the whole lookback.
    pub churners: u64,
    /// Churners warned at least once in the lookback before their churn.
    pub warned: u64,
    /// Days from the first warning to the churn, per warned churner, sorted.
    pub days: Vec<f64>,
    pub median_days: Option<f64>,
    pub quartile_days: Option<(f64, f64)>,
    /// Mean share of customers in scope warned per scoring day (ties can push it above
    /// `alert_share`).
    pub mean_alert_share: Option<f64>,
}

/// Scores every scoring day and finds, per churner, the first day it was warned.
pub fn lead_times(
    index: &RiskIndex,
    scorer: Scorer<'_>,
    opts: &LeadTimeOptions,
) -> Result<LeadTimes> {
    if !(opts.alert_share > 0.0 && opts.alert_share < 1.0) {
        return Err(bad_option(
            "alert share",
            format!(
                "is {}; give a fraction in (0, 1) such as 0.05",
                opts.alert_share
            ),
        ));
    }
    if opts.step_days == 0 || opts.to <= opts.from {
        return Err(bad_option(
            "scoring days",
            "need a positive step and `to` after `from`".to_string(),
        ));
    }
    let lookback = i64::from(opts.lookback_days) * DAY;
    let watched: Vec<(u32, i64)> = (0..index.n as u32)
        .filter_map(|k| index.churned_at(k).map(|c| (k, c)))
        .filter(|&(_, c)| c - lookback >= opts.from && c < opts.to)
        .collect();
    let mut first = vec![i64::MAX; index.n];
    let mut shares = Vec::new();
    let mut d = opts.from;
    let mut scored: Vec<(u32, f64)> = Vec::new();
    while d < opts.to {
        scored.clear();
        for k in 0..index.n as u32 {
            if index.in_scope(k, d) {
                let f = index.features(k, d);
                let s = match scorer {
                    Scorer::Rules => rules::score(&f).points,
                    Scorer::Model(m) => m.predict(&f, index),
                };
                scored.push((k, s));
            }
        }
        if !scored.is_empty() {
            let mut sorted: Vec<f64> = scored.iter().map(|s| s.1).collect();
            sorted.sort_by(|a, b| b.total_cmp(a));
            let top =
                ((opts.alert_share * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
            let threshold = sorted[top - 1];
            let mut warned = 0usize;
            for &(k, s) in &scored {
                if s >= threshold && s > 0.0 {
                    warned += 1;
                    if let Some(c) = index.churned_at(k)
                        && c >= d
                        && c - d <= lookback
                    {
                        first[k as usize] = first[k as usize].min(d);
                    }
                }
            }
            shares.push(warned as f64 / scored.len() as f64);
        }
        d += i64::from(opts.step_days) * DAY;
    }
    let mut days: Vec<f64> = watched
        .iter()
        .filter(|&&(k, c)| first[k as usize] <= c)
        .map(|&(k, c)| (c - first[k as usize]) as f64 / DAY as f64)
        .collect();
    days.sort_by(f64::total_cmp);
    let median = (!days.is_empty()).then(|| quantile_sorted(&days, 0.5));
    let quartiles =
        (!days.is_empty()).then(|| (quantile_sorted(&days, 0.25), quantile_sorted(&days, 0.75)));
    Ok(LeadTimes {
        options: opts.clone(),
        churners: watched.len() as u64,
        warned: days.len() as u64,
        median_days: median,
        quartile_days: quartiles,
        mean_alert_share: (!shares.is_empty())
            .then(|| shares.iter().sum::<f64>() / shares.len() as f64),
        days,
    })
}
