//! Customer lifetime value and the value x vulnerability matrix.
//!
//! **CLV.** The standard formula for a customer with a constant yearly margin `m`, a yearly
//! retention rate `r` and a yearly discount rate `d`, margins received at the end of each year
//! the customer stays, over an infinite horizon:
//!
//! ```text
//! CLV = sum over t >= 1 of m r^t / (1 + d)^t = m r / (1 + d - r)
//! ```
//!
//! (Gupta & Lehmann, "Customers as assets", Journal of Interactive Marketing 17(1), 2003;
//! Gupta, Lehmann & Stuart, "Valuing customers", Journal of Marketing Research 41(1), 2004.)
//! The margin is `value_per_year x margin share`. The retention rate is one figure for the
//! organisation, configured or observed from its churn history ([`observed_retention`]); it is
//! deliberately not the customer's risk score, which is the matrix's other axis.
//!
//! **Matrix.** Value (`value_per_year`, or CLV) against vulnerability (the risk score). A customer
//! is *high value* when its value is strictly above the value threshold and *at risk* when its
//! score is strictly above the risk threshold; thresholds are the medians of the customers placed
//! (numpy's linear interpolation) unless configured. Customers without a value are listed apart,
//! never placed at zero.

use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result};
use crate::frame::CustomerFrame;
use crate::stats::quantile_sorted;

const DAY: i64 = 86_400;
const YEAR_DAYS: f64 = 365.25;

/// `m r / (1 + d - r)`: the lifetime value of a yearly margin `m` at retention `r` and discount
/// `d` (see the module docs). Errors on a retention outside `[0, 1)` or a negative discount.
pub fn clv(margin_per_year: f64, retention: f64, discount: f64) -> Result<f64> {
    check_rates(retention, discount)?;
    Ok(margin_per_year * retention / (1.0 + discount - retention))
}

fn check_rates(retention: f64, discount: f64) -> Result<()> {
    if !(retention.is_finite() && (0.0..1.0).contains(&retention)) {
        return Err(EngineError::BadOption {
            name: "retention",
            reason: format!(
                "is {retention}; give the yearly retention as a fraction in [0, 1), e.g. 0.85"
            ),
        });
    }
    if !(discount.is_finite() && (0.0..=1.0).contains(&discount)) {
        return Err(EngineError::BadOption {
            name: "discount",
            reason: format!("is {discount}; give the yearly discount rate as a fraction, e.g. 0.1"),
        });
    }
    Ok(())
}

/// The organisation's yearly retention observed over `[from, to)`: of the customers who had
/// joined before `from` and had not churned before it, the share still there at `to`, scaled to a
/// year (`share^(365.25 / days)`). `None` when no customer was there at `from`.
pub fn observed_retention(customers: &CustomerFrame, from: i64, to: i64) -> Option<Retention> {
    if to <= from {
        return None;
    }
    let mut at_start = 0u64;
    let mut churned = 0u64;
    for i in 0..customers.since.len() {
        let since = customers.since[i];
        let gone = customers.churned_at.get(i).copied().unwrap_or(i64::MIN);
        if since == i64::MIN || since >= from || (gone != i64::MIN && gone < from) {
            continue;
        }
        at_start += 1;
        if gone != i64::MIN && gone < to {
            churned += 1;
        }
    }
    if at_start == 0 {
        return None;
    }
    let days = (to - from) as f64 / DAY as f64;
    let kept = 1.0 - churned as f64 / at_start as f64;
    Some(Retention {
        customers: at_start,
        churned,
        days,
        yearly: kept.powf(YEAR_DAYS / days),
    })
}

/// An observed retention rate and what it rests on.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Retention {
    pub customers: u64,
    pub churned: u64,
    pub days: f64,
    pub yearly: f64,
}

/// What a customer is worth in the matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "basis", rename_all = "snake_case", deny_unknown_fields)]
pub enum ValueBasis {
    /// `value_per_year` as given.
    ValuePerYear,
    /// Customer lifetime value of `value_per_year x margin`.
    Clv {
        /// Share of `value_per_year` that is margin, in (0, 1].
        margin: f64,
        retention: f64,
        discount: f64,
    },
}

/// How the matrix is drawn.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MatrixOptions {
    pub value: ValueBasis,
    /// Thresholds; the medians of the placed customers when not given.
    pub value_threshold: Option<f64>,
    pub risk_threshold: Option<f64>,
    /// Customers who joined fewer than this many days before the as-of date are *new*.
    pub new_days: u32,
}

impl Default for MatrixOptions {
    fn default() -> MatrixOptions {
        MatrixOptions {
            value: ValueBasis::ValuePerYear,
            value_threshold: None,
            risk_threshold: None,
            new_days: 365,
        }
    }
}

/// One customer as the matrix reads it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatrixCustomer {
    pub customer_id: String,
    /// NaN when unknown.
    pub value_per_year: f64,
    /// The risk score (higher is more at risk).
    pub score: f64,
    pub white_glove: bool,
    /// NaN when unknown.
    pub tenure_days: f64,
}

impl MatrixCustomer {
    /// The matrix rows of a risk report.
    pub fn from_report(report: &crate::risk::RiskReport) -> Vec<MatrixCustomer> {
        report
            .customers
            .iter()
            .map(|c| MatrixCustomer {
                customer_id: c.customer_id.clone(),
                value_per_year: c.value_per_year.unwrap_or(f64::NAN),
                score: c.score,
                white_glove: c.white_glove,
                tenure_days: c.tenure_days.unwrap_or(f64::NAN),
            })
            .collect()
    }
}

/// The four quadrants, in a fixed order.
pub const QUADRANTS: [&str; 4] = [
    "high_value_at_risk",
    "high_value_secure",
    "low_value_at_risk",
    "low_value_secure",
];

/// A placed customer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Placed {
    pub customer_id: String,
    pub value: f64,
    pub score: f64,
    pub white_glove: bool,
    /// `new`, `long_standing` or `unknown`.
    pub tenure: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quadrant {
    pub key: &'static str,
    pub label: &'static str,
    pub count: u64,
    pub white_glove: u64,
    pub value: f64,
    /// Highest score first, then highest value.
    pub customers: Vec<Placed>,
}

/// New against long-standing customers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TenureGroup {
    /// `new`, `long_standing` or `unknown`.
    pub group: &'static str,
    pub customers: u64,
    pub white_glove: u64,
    pub mean_score: Option<f64>,
    pub median_score: Option<f64>,
    /// Share above the risk threshold.
    pub at_risk_share: Option<f64>,
    /// Of the customers with a value.
    pub mean_value: Option<f64>,
    pub median_value: Option<f64>,
    /// Counts per quadrant, in the order of [`QUADRANTS`].
    pub quadrants: [u64; 4],
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Matrix {
    /// `value_per_year` or `clv`, and the formula in words.
    pub basis: &'static str,
    pub formula: String,
    pub value_threshold: Option<f64>,
    pub risk_threshold: Option<f64>,
    /// `median` or `configured`, per threshold.
    pub thresholds_from: [&'static str; 2],
    pub quadrants: Vec<Quadrant>,
    /// Customers with a score but no value (not placed).
    pub no_value: Vec<String>,
    pub tenure: Vec<TenureGroup>,
    pub notes: Vec<String>,
}

fn median(v: &mut [f64]) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    (!v.is_empty()).then(|| quantile_sorted(v, 0.5))
}

fn mean(v: &[f64]) -> Option<f64> {
    (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
}

/// Places every customer with a value and a score (see the module docs).
pub fn matrix(rows: &[MatrixCustomer], opts: &MatrixOptions) -> Result<Matrix> {
    let (basis, formula) = match &opts.value {
        ValueBasis::ValuePerYear => ("value_per_year", "value = value_per_year".to_string()),
        ValueBasis::Clv {
            margin,
            retention,
            discount,
        } => {
            check_rates(*retention, *discount)?;
            if !(margin.is_finite() && *margin > 0.0 && *margin <= 1.0) {
                return Err(EngineError::BadOption {
                    name: "margin",
                    reason: format!(
                        "is {margin}; give the margin as a share of value_per_year in (0, 1]"
                    ),
                });
            }
            (
                "clv",
                format!(
                    "value = m r / (1 + d - r) with m = value_per_year x {margin}, r = {retention}, d = {discount} (Gupta & Lehmann 2003)"
                ),
            )
        }
    };
    for (name, t) in [
        ("value threshold", opts.value_threshold),
        ("risk threshold", opts.risk_threshold),
    ] {
        if t.is_some_and(|t| !t.is_finite()) {
            return Err(EngineError::BadOption {
                name,
                reason: "must be a finite number".into(),
            });
        }
    }
    let value_of = |r: &MatrixCustomer| -> f64 {
        match &opts.value {
            ValueBasis::ValuePerYear => r.value_per_year,
            ValueBasis::Clv {
                margin,
                retention,
                discount,
            } => r.value_per_year * margin * retention / (1.0 + discount - retention),
        }
    };
    let mut notes = Vec::new();
    let mut no_value = Vec::new();
    let mut placed: Vec<(usize, f64)> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let v = value_of(r);
        if v.is_nan() || r.score.is_nan() {
            no_value.push(r.customer_id.clone());
        } else {
            placed.push((i, v));
        }
    }
    if !no_value.is_empty() {
        notes.push(format!(
            "{} customer(s) without a value are not placed; import customers with value_per_year to place them",
            no_value.len()
        ));
    }
    let value_threshold = opts
        .value_threshold
        .or_else(|| median(&mut placed.iter().map(|p| p.1).collect::<Vec<_>>()));
    let risk_threshold = opts
        .risk_threshold
        .or_else(|| median(&mut placed.iter().map(|p| rows[p.0].score).collect::<Vec<_>>()));
    let new_days = f64::from(opts.new_days);
    let tenure_of = |r: &MatrixCustomer| {
        if r.tenure_days.is_nan() {
            "unknown"
        } else if r.tenure_days < new_days {
            "new"
        } else {
            "long_standing"
        }
    };
    let labels = [
        "high value, at risk: act first",
        "high value, secure: keep close",
        "low value, at risk: fix the cause at low cost",
        "low value, secure: serve efficiently",
    ];
    let mut quadrants: Vec<Quadrant> = QUADRANTS
        .iter()
        .zip(labels)
        .map(|(&key, label)| Quadrant {
            key,
            label,
            count: 0,
            white_glove: 0,
            value: 0.0,
            customers: Vec::new(),
        })
        .collect();
    let quadrant_of = |v: f64, s: f64| -> usize {
        let high = value_threshold.is_some_and(|t| v > t);
        let risky = risk_threshold.is_some_and(|t| s > t);
        match (high, risky) {
            (true, true) => 0,
            (true, false) => 1,
            (false, true) => 2,
            (false, false) => 3,
        }
    };
    let mut tenure: Vec<TenureGroup> = ["new", "long_standing", "unknown"]
        .into_iter()
        .map(|group| TenureGroup {
            group,
            customers: 0,
            white_glove: 0,
            mean_score: None,
            median_score: None,
            at_risk_share: None,
            mean_value: None,
            median_value: None,
            quadrants: [0; 4],
        })
        .collect();
    for &(i, v) in &placed {
        let r = &rows[i];
        let q = quadrant_of(v, r.score);
        let t = tenure_of(r);
        let quad = &mut quadrants[q];
        quad.count += 1;
        quad.white_glove += u64::from(r.white_glove);
        quad.value += v;
        quad.customers.push(Placed {
            customer_id: r.customer_id.clone(),
            value: v,
            score: r.score,
            white_glove: r.white_glove,
            tenure: t,
        });
        if let Some(g) = tenure.iter_mut().find(|g| g.group == t) {
            g.quadrants[q] += 1;
        }
    }
    for q in &mut quadrants {
        q.customers.sort_by(|a, b| {
            b.score
                .total_cmp(&a.score)
                .then(b.value.total_cmp(&a.value))
                .then_with(|| a.customer_id.cmp(&b.customer_id))
        });
    }
    // Tenure groups over every scored customer (also those without a value).
    for g in &mut tenure {
        let members: Vec<&MatrixCustomer> = rows
            .iter()
            .filter(|r| !r.score.is_nan() && tenure_of(r) == g.group)
            .collect();
        g.customers = members.len() as u64;
        g.white_glove = members.iter().filter(|r| r.white_glove).count() as u64;
        let mut scores: Vec<f64> = members.iter().map(|r| r.score).collect();
        g.mean_score = mean(&scores);
        g.median_score = median(&mut scores);
        g.at_risk_share = risk_threshold.and_then(|t| {
            (!members.is_empty()).then(|| {
                members.iter().filter(|r| r.score > t).count() as f64 / members.len() as f64
            })
        });
        let mut values: Vec<f64> = members
            .iter()
            .map(|r| value_of(r))
            .filter(|v| !v.is_nan())
            .collect();
        g.mean_value = mean(&values);
        g.median_value = median(&mut values);
    }
    if placed.is_empty() {
        notes.push("no customer has both a value and a score: the matrix is empty".into());
    }
    Ok(Matrix {
        basis,
        formula,
        value_threshold,
        risk_threshold,
        thresholds_from: [
            if opts.value_threshold.is_some() {
                "configured"
            } else {
                "median"
            },
            if opts.risk_threshold.is_some() {
                "configured"
            } else {
                "median"
            },
        ],
        quadrants,
        no_value,
        tenure,
        notes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, value: f64, score: f64, tenure: f64) -> MatrixCustomer {
        MatrixCustomer {
            customer_id: id.into(),
            value_per_year: value,
            score,
            white_glove: id == "d",
            tenure_days: tenure,
        }
    }

    #[test]
    fn clv_is_the_geometric_sum() {
        // m r/(1+d-r) equals the sum of m r^t/(1+d)^t.
        let (m, r, d): (f64, f64, f64) = (100.0, 0.8, 0.1);
        let sum: f64 = (1..2000).map(|t| m * (r / (1.0 + d)).powi(t)).sum();
        assert!((clv(m, r, d).unwrap() - sum).abs() < 1e-9);
        assert!(clv(m, 1.0, 0.1).is_err());
        assert!(clv(m, 0.5, -0.1).is_err());
    }

    #[test]
    fn quadrants_split_strictly_above_the_medians() {
        let rows = vec![
            row("a", 100.0, 0.9, 10.0),
            row("b", 200.0, 0.1, 1000.0),
            row("c", 300.0, 0.5, f64::NAN),
            row("d", 400.0, 0.8, 2000.0),
            row("e", f64::NAN, 0.7, 5.0),
        ];
        let m = matrix(&rows, &MatrixOptions::default()).unwrap();
        assert_eq!(m.value_threshold, Some(250.0));
        assert_eq!(m.risk_threshold, Some(0.65));
        let ids = |q: usize| -> Vec<&str> {
            m.quadrants[q]
                .customers
                .iter()
                .map(|c| c.customer_id.as_str())
                .collect()
        };
        assert_eq!(ids(0), ["d"]);
        assert_eq!(ids(1), ["c"]);
        assert_eq!(ids(2), ["a"]);
        assert_eq!(ids(3), ["b"]);
        assert_eq!(m.quadrants[0].white_glove, 1);
        assert_eq!(m.no_value, ["e"]);
        let new = &m.tenure[0];
        assert_eq!(
            (new.group, new.customers, new.quadrants),
            ("new", 2, [0, 0, 1, 0])
        );
    }

    #[test]
    fn bad_options_are_refused_and_empty_input_is_defined() {
        let clv = MatrixOptions {
            value: ValueBasis::Clv {
                margin: 0.0,
                retention: 0.8,
                discount: 0.1,
            },
            ..MatrixOptions::default()
        };
        assert!(matrix(&[], &clv).is_err());
        let m = matrix(&[], &MatrixOptions::default()).unwrap();
        assert_eq!(m.value_threshold, None);
        assert!(m.quadrants.iter().all(|q| q.count == 0));
    }
}
