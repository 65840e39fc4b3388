//! The risk model learned from the organisation's own churn history, on the [`Features`]
//! (log-scaled counts and days, missing-value indicators, one column per segment). Two learners:
//! small gradient-boosted trees ([`super::boost`], the default: churn warnings interact, e.g. a
//! negative contact followed by silence) and L2-regularised logistic regression fitted by
//! Newton's method (a weight per column, for a reader who wants one). Both are written here
//! rather than taken from a crate: some forty columns and a few hundred thousand rows need no
//! more, the fits stay deterministic, and the bytes stay ours.
//!
//! **Training without leakage.** [`train`] is given `now`, the date the history is known up to.
//! Examples are (customer, as-of date) pairs: the features as of `t` (rows before `t` only) and
//! the label "churned in `[t, t + horizon)`". The as-of dates are `t0 = now - horizon` (to the
//! day) and every `step_days` before it, back to `min_history_days` after the first data, so
//! every label is known by `now`; churn dates on or after `now` are never read. The held-out
//! quality: a model fitted on the as-of dates whose label windows close by `t0` is scored on the
//! customers as of `t0` (ROC AUC, the split shown); the stored model is then refitted on every
//! as-of date, `t0` included.
//!
//! **Bytes.** `HKRISKMD`, the format version (u32 LE), the length of a JSON header (u32 LE), the
//! header (learner, horizon, dates, options, column names, segments, quality, tree sizes), then
//! the numbers, little-endian: for logistic regression `mean`, `scale` and `weights` (one f64 per
//! column) and the bias (f64); for boosted trees the base (f64) and every node (feature u32,
//! threshold f32, left u32, right u32, value f64). Binary, so that a model read back scores bit
//! for bit as it did when saved.

use serde::{Deserialize, Serialize};

use super::boost::{self, BoostOptions, Boosted, Node};
use super::eval::auc;
use super::features::Features;
use super::rules::{self, Sign, describe};
use super::{DAY, RiskIndex, bad_option, date};
use crate::error::{EngineError, Result};
use crate::linalg::{cholesky, cholesky_solve};

/// The version of the model bytes this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;
const MAGIC: &[u8; 8] = b"HKRISKMD";

/// One model column: its name, the sign its contribution is reported under, and how it is read
/// from the features.
struct Column {
    name: &'static str,
    sign: Sign,
    get: fn(&Features) -> f64,
}

fn l1p(x: f64) -> f64 {
    if x.is_nan() { 0.0 } else { x.max(0.0).ln_1p() }
}
fn or0(x: f64) -> f64 {
    if x.is_nan() { 0.0 } else { x }
}
fn has(x: f64) -> f64 {
    if x.is_nan() { 0.0 } else { 1.0 }
}
fn flag(b: bool) -> f64 {
    if b { 1.0 } else { 0.0 }
}

const COLUMNS: &[Column] = &[
    Column {
        name: "contacts_30",
        sign: Sign::Activity,
        get: |f| l1p(f64::from(f.contacts_30)),
    },
    Column {
        name: "contacts_90",
        sign: Sign::Activity,
        get: |f| l1p(f64::from(f.contacts_90)),
    },
    Column {
        // A rate, not the count: training as-of dates have shorter histories than the date
        // the model scores, and a count would mean something else there.
        name: "contacts_per_30_days",
        sign: Sign::Activity,
        get: |f| l1p(30.0 * f64::from(f.contacts) / f.history_days.max(30.0)),
    },
    Column {
        name: "days_since_contact",
        sign: Sign::Activity,
        get: |f| l1p(f.days_since_contact),
    },
    Column {
        name: "usual_gap_days",
        sign: Sign::Activity,
        get: |f| l1p(f.usual_gap_days),
    },
    Column {
        name: "has_usual_gap",
        sign: Sign::Activity,
        get: |f| has(f.usual_gap_days),
    },
    Column {
        name: "silence_ratio",
        sign: Sign::Activity,
        get: |f| l1p((f.days_since_contact / f.usual_gap_days.max(1.0)).min(100.0)),
    },
    Column {
        name: "negative_30",
        sign: Sign::NegativeSignals,
        get: |f| l1p(f64::from(f.negative_30)),
    },
    Column {
        name: "negative_90",
        sign: Sign::NegativeSignals,
        get: |f| l1p(f64::from(f.negative_90)),
    },
    Column {
        name: "complaints_30",
        sign: Sign::NegativeSignals,
        get: |f| l1p(f64::from(f.complaints_30)),
    },
    Column {
        name: "worst_sentiment_60",
        sign: Sign::NegativeSignals,
        get: |f| f.worst_sentiment_60,
    },
    Column {
        name: "mean_sentiment",
        sign: Sign::NegativeHistory,
        get: |f| or0(f.mean_sentiment),
    },
    Column {
        name: "negative_share",
        sign: Sign::NegativeHistory,
        get: |f| or0(f.negative_share),
    },
    Column {
        name: "last_contact_negative",
        sign: Sign::SilentAfterComplaint,
        get: |f| flag(f.last_contact_negative),
    },
    Column {
        name: "silent_after_complaint_days",
        sign: Sign::SilentAfterComplaint,
        get: |f| {
            if f.last_contact_negative {
                l1p(f.days_since_contact)
            } else {
                0.0
            }
        },
    },
    Column {
        name: "detractors_90",
        sign: Sign::Detractor,
        get: |f| l1p(f64::from(f.detractors_90)),
    },
    Column {
        name: "last_nps",
        sign: Sign::Detractor,
        get: |f| f.last_nps.map_or(0.0, |n| f64::from(n) - 7.0),
    },
    Column {
        name: "has_nps",
        sign: Sign::Detractor,
        get: |f| flag(f.last_nps.is_some()),
    },
    Column {
        name: "worst_overall_90",
        sign: Sign::Detractor,
        get: |f| or0(f.worst_overall_90 - 7.0),
    },
    Column {
        name: "has_overall_90",
        sign: Sign::Detractor,
        get: |f| has(f.worst_overall_90),
    },
    Column {
        name: "open_cases",
        sign: Sign::OpenCase,
        get: |f| l1p(f64::from(f.open_cases)),
    },
    Column {
        name: "oldest_open_case_days",
        sign: Sign::OpenCase,
        get: |f| l1p(f.oldest_open_case_days),
    },
    Column {
        name: "escalated_90",
        sign: Sign::Escalated,
        get: |f| l1p(f64::from(f.escalated_90)),
    },
    Column {
        name: "repeats_30",
        sign: Sign::RepeatTopic,
        get: |f| l1p(f64::from(f.repeats_30)),
    },
    Column {
        name: "top_topic_30",
        sign: Sign::RepeatTopic,
        get: |f| l1p(f.top_topic_30.map_or(0.0, |t| f64::from(t.1))),
    },
    Column {
        name: "tenure_days",
        sign: Sign::Tenure,
        get: |f| l1p(f.tenure_days),
    },
    Column {
        name: "has_tenure",
        sign: Sign::Tenure,
        get: |f| has(f.tenure_days),
    },
    Column {
        name: "new_customer",
        sign: Sign::Tenure,
        get: |f| flag(f.tenure_days < 90.0),
    },
    Column {
        name: "white_glove",
        sign: Sign::Profile,
        get: |f| flag(f.white_glove),
    },
    Column {
        name: "value_per_year",
        sign: Sign::Profile,
        get: |f| l1p(f.value_per_year),
    },
    Column {
        name: "has_value",
        sign: Sign::Profile,
        get: |f| has(f.value_per_year),
    },
];

/// How a model is trained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrainOptions {
    /// Churn within this many days after the as-of date is the label.
    pub horizon_days: u32,
    /// Days between training as-of dates.
    pub step_days: u32,
    /// The first as-of date is this many days after the first data (so features have history).
    pub min_history_days: u32,
    /// L2 penalty on the standardised weights (per example).
    pub l2: f64,
    /// Fewer churners than this in the history: no model (the rules score instead).
    pub min_churners: u64,
    /// Above this many examples, non-churners are sampled (deterministically) and weighted.
    pub max_examples: usize,
    pub learner: LearnerKind,
    /// How the trees grow (boosted learner only).
    pub boost: BoostOptions,
}

/// Which learner to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LearnerKind {
    Boosted,
    Logistic,
}

impl Default for TrainOptions {
    fn default() -> TrainOptions {
        TrainOptions {
            horizon_days: 30,
            step_days: 7,
            min_history_days: 56,
            l2: 1e-3,
            min_churners: 20,
            max_examples: 250_000,
            learner: LearnerKind::Boosted,
            boost: BoostOptions::default(),
        }
    }
}

impl TrainOptions {
    fn validate(&self) -> Result<()> {
        if !(1..=730).contains(&self.horizon_days) {
            return Err(bad_option(
                "horizon_days",
                format!("is {}; give 1 to 730 days", self.horizon_days),
            ));
        }
        if !(1..=365).contains(&self.step_days) {
            return Err(bad_option(
                "step_days",
                format!("is {}; give 1 to 365 days", self.step_days),
            ));
        }
        if !(self.l2.is_finite() && self.l2 > 0.0) {
            return Err(bad_option(
                "l2",
                format!("is {}; give a positive penalty such as 0.001", self.l2),
            ));
        }
        if self.max_examples < 1000 {
            return Err(bad_option(
                "max_examples",
                format!("is {}; give 1000 or more", self.max_examples),
            ));
        }
        self.boost.validate()
    }
}

/// How the held-out quality was measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Split {
    /// The first and last training as-of dates (UTC seconds) and how many there were.
    pub train_from: i64,
    pub train_to: i64,
    pub train_dates: u32,
    pub train_examples: u64,
    pub train_churners: u64,
    /// The held-out as-of date: its label window `[test_as_of, test_as_of + horizon)` starts
    /// after every training label window has closed.
    pub test_as_of: i64,
    pub test_examples: u64,
    pub test_churners: u64,
}

/// What the model is worth, measured on data it was not fitted to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelQuality {
    pub split: Option<Split>,
    /// ROC AUC of the split's model on the held-out as-of date.
    pub auc: Option<f64>,
    /// ROC AUC of the rule score on the same held-out customers, for comparison.
    pub rules_auc: Option<f64>,
    /// Examples and churners the stored model was fitted on (every as-of date).
    pub examples: u64,
    pub churners: u64,
    pub notes: Vec<String>,
}

/// A fitted model: standardisation, weights, and what it was trained on.
#[derive(Debug, Clone, PartialEq)]
pub struct RiskModel {
    pub horizon_days: u32,
    /// Labels are churn dates before this date; the last training as-of date is
    /// `trained_until - horizon`.
    pub trained_until: i64,
    pub options: TrainOptions,
    /// Column names (the fixed columns, then `segment=<name>` per segment).
    pub columns: Vec<String>,
    pub segments: Vec<String>,
    pub learner: Learner,
    pub quality: ModelQuality,
}

/// A fitted learner.
#[derive(Debug, Clone, PartialEq)]
pub enum Learner {
    Logistic(Logistic),
    Boosted(Boosted),
}

/// Logistic regression on standardised columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Logistic {
    pub mean: Vec<f64>,
    pub scale: Vec<f64>,
    pub weights: Vec<f64>,
    pub bias: f64,
}

impl Learner {
    fn kind(&self) -> LearnerKind {
        match self {
            Learner::Logistic(_) => LearnerKind::Logistic,
            Learner::Boosted(_) => LearnerKind::Boosted,
        }
    }

    /// The log-odds of churn within the horizon for one row of columns.
    pub fn logit(&self, row: &[f32]) -> f64 {
        match self {
            Learner::Logistic(m) => m.logit(row),
            Learner::Boosted(m) => m.logit(row),
        }
    }

    /// Per-column contributions to the log-odds (added into `out`) against the average
    /// customer; returns the rest of the log-odds.
    pub fn contributions(&self, row: &[f32], out: &mut [f64]) -> f64 {
        match self {
            Learner::Logistic(m) => {
                for (j, o) in out.iter_mut().enumerate().take(m.weights.len()) {
                    *o += m.weights[j] * (f64::from(row[j]) - m.mean[j]) / m.scale[j];
                }
                m.bias
            }
            Learner::Boosted(m) => m.contributions(row, out),
        }
    }
}

impl Logistic {
    fn logit(&self, row: &[f32]) -> f64 {
        let mut eta = self.bias;
        for (j, x) in row.iter().enumerate().take(self.weights.len()) {
            eta += self.weights[j] * (f64::from(*x) - self.mean[j]) / self.scale[j];
        }
        eta
    }
}

/// The JSON header of the bytes.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Header {
    format_version: u32,
    learner: LearnerKind,
    /// Nodes per tree (boosted learner).
    #[serde(default)]
    trees: Vec<u32>,
    horizon_days: u32,
    trained_until: i64,
    options: TrainOptions,
    columns: Vec<String>,
    segments: Vec<String>,
    quality: ModelQuality,
}

/// What [`train`] gives: a model, or why there is none.
#[derive(Debug, Clone, PartialEq)]
pub enum Trained {
    Model(Box<RiskModel>),
    /// Too little churn history to learn from: score with the rules.
    NoHistory {
        churners: u64,
        needed: u64,
        note: String,
    },
}

fn columns(segments: &[String]) -> Vec<String> {
    COLUMNS
        .iter()
        .map(|c| c.name.to_string())
        .chain(segments.iter().map(|s| format!("segment={s}")))
        .collect()
}

/// The column vector of one customer's features.
fn vector(f: &Features, index: &RiskIndex, segments: &[String], out: &mut Vec<f32>) {
    out.clear();
    out.extend(COLUMNS.iter().map(|c| (c.get)(f) as f32));
    let seg = index.segments.name(f.segment);
    out.extend(
        segments
            .iter()
            .map(|s| flag(Some(s.as_str()) == seg) as f32),
    );
}

fn sign_of(j: usize) -> Sign {
    COLUMNS.get(j).map_or(Sign::Segment, |c| c.sign)
}

/// Signs the rules do not score: a reason from them says what the history taught the model.
fn learned_only(s: Sign) -> bool {
    matches!(
        s,
        Sign::NegativeHistory | Sign::Activity | Sign::Tenure | Sign::Segment | Sign::Profile
    )
}

/// Training examples: column values (f32, row-major), labels and weights.
#[derive(Debug, Default)]
struct Examples {
    x: Vec<f32>,
    y: Vec<bool>,
    w: Vec<f64>,
    /// Customer codes, for the held-out comparison with the rules.
    rules: Vec<f64>,
}

impl Examples {
    fn churners(&self) -> u64 {
        self.y.iter().filter(|&&y| y).count() as u64
    }
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Whether a non-churner example is kept when sampling at `rate` (deterministic per customer
/// and date).
fn keep(customer: u32, t: i64, rate: f64) -> bool {
    rate >= 1.0
        || (splitmix(u64::from(customer) ^ ((t as u64) << 21)) >> 11) as f64 / (1u64 << 53) as f64
            <= rate
}

/// The label of a customer at `t`: a churn date in `[t, t + horizon)`, read only when before
/// `now`.
fn label(index: &RiskIndex, k: u32, t: i64, horizon: i64, now: i64) -> bool {
    index
        .churned_at(k)
        .is_some_and(|c| c < now && c >= t && c < t + horizon)
}

fn collect(
    index: &RiskIndex,
    dates: &[i64],
    horizon: i64,
    now: i64,
    segments: &[String],
    rate: f64,
) -> Examples {
    let mut e = Examples::default();
    let mut v = Vec::new();
    for &t in dates {
        for k in 0..index.n as u32 {
            if !index.in_scope(k, t) {
                continue;
            }
            let y = label(index, k, t, horizon, now);
            if !y && !keep(k, t, rate) {
                continue;
            }
            let f = index.features(k, t);
            vector(&f, index, segments, &mut v);
            e.x.extend_from_slice(&v);
            e.y.push(y);
            e.w.push(if y { 1.0 } else { 1.0 / rate.min(1.0) });
            e.rules.push(rules::score(&f).points);
        }
    }
    e
}

/// Counts the in-scope customers over the dates, to choose the sampling rate.
fn count(index: &RiskIndex, dates: &[i64]) -> usize {
    dates
        .iter()
        .map(|&t| {
            (0..index.n as u32)
                .filter(|&k| index.in_scope(k, t))
                .count()
        })
        .sum()
}

/// Trains a model on the history known at `now` (see the module docs).
pub fn train(index: &RiskIndex, now: i64, opts: &TrainOptions) -> Result<Trained> {
    opts.validate()?;
    let horizon = i64::from(opts.horizon_days) * DAY;
    let needed = opts.min_churners;
    let Some((first, _)) = index.data_span() else {
        return Ok(Trained::NoHistory {
            churners: 0,
            needed,
            note: "no signal or answer names a customer: nothing to learn from".into(),
        });
    };
    let t0 = (now - horizon).div_euclid(DAY) * DAY;
    let earliest = first + i64::from(opts.min_history_days) * DAY;
    let step = i64::from(opts.step_days) * DAY;
    let mut dates: Vec<i64> = Vec::new();
    let mut t = t0;
    while t >= earliest {
        dates.push(t);
        t -= step;
    }
    dates.reverse();
    if dates.is_empty() {
        return Ok(Trained::NoHistory {
            churners: 0,
            needed,
            note: format!(
                "the history from {} to {} is too short for a {}-day horizon after {} days of history; the rules score instead",
                date(first),
                date(now),
                opts.horizon_days,
                opts.min_history_days
            ),
        });
    }
    let segments: Vec<String> = index.segments.names.clone();
    let total = count(index, &dates);
    let rate = if total > opts.max_examples {
        opts.max_examples as f64 / total as f64
    } else {
        1.0
    };
    let all = collect(index, &dates, horizon, now, &segments, rate);
    let churners = all.churners();
    if churners < needed {
        return Ok(Trained::NoHistory {
            churners,
            needed,
            note: format!(
                "{churners} churn(s) within {} days of the {} as-of dates from {} to {}; {needed} are needed to learn from, so the rules score instead",
                opts.horizon_days,
                dates.len(),
                date(dates[0]),
                date(t0)
            ),
        });
    }
    let k = COLUMNS.len() + segments.len();
    let mut notes = Vec::new();
    if rate < 1.0 {
        notes.push(format!(
            "non-churners sampled at {:.3} (weighted back) to keep {} examples at most",
            rate, opts.max_examples
        ));
    }

    // The held-out split: as-of dates whose label windows close by t0, tested at t0.
    let train_dates: Vec<i64> = dates
        .iter()
        .copied()
        .filter(|&t| t + horizon <= t0)
        .collect();
    let mut quality = ModelQuality {
        split: None,
        auc: None,
        rules_auc: None,
        examples: all.y.len() as u64,
        churners,
        notes: Vec::new(),
    };
    if let (Some(&from), Some(&to)) = (train_dates.first(), train_dates.last()) {
        let tr = collect(index, &train_dates, horizon, now, &segments, rate);
        let te = collect(index, &[t0], horizon, now, &segments, 1.0);
        let split = Split {
            train_from: from,
            train_to: to,
            train_dates: train_dates.len() as u32,
            train_examples: tr.y.len() as u64,
            train_churners: tr.churners(),
            test_as_of: t0,
            test_examples: te.y.len() as u64,
            test_churners: te.churners(),
        };
        if split.train_churners >= needed.max(1) && split.test_churners > 0 {
            let fit = fit_learner(&tr, k, opts)?;
            let scores: Vec<f64> = te.x.chunks_exact(k).map(|row| fit.logit(row)).collect();
            quality.auc = auc(&scores, &te.y);
            quality.rules_auc = auc(&te.rules, &te.y);
        } else {
            quality.notes.push(format!(
                "no held-out quality: {} training churners (need {}) and {} held-out churners (need 1)",
                split.train_churners,
                needed.max(1),
                split.test_churners
            ));
        }
        quality.split = Some(split);
    } else {
        quality.notes.push(format!(
            "no held-out quality: the history holds no as-of date whose {}-day label window closes before {}",
            opts.horizon_days,
            date(t0)
        ));
    }
    quality.notes.extend(notes);
    quality
        .notes
        .push("the stored model is refitted on every as-of date, the held-out one included".into());
    let learner = fit_learner(&all, k, opts)?;
    Ok(Trained::Model(Box::new(RiskModel {
        horizon_days: opts.horizon_days,
        trained_until: now,
        options: opts.clone(),
        columns: columns(&segments),
        segments,
        learner,
        quality,
    })))
}

fn fit_learner(e: &Examples, k: usize, opts: &TrainOptions) -> Result<Learner> {
    Ok(match opts.learner {
        LearnerKind::Logistic => Learner::Logistic(fit(e, k, opts.l2)?),
        LearnerKind::Boosted => Learner::Boosted(boost::fit(&e.x, k, &e.y, &e.w, &opts.boost)?),
    })
}

fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

/// Weighted mean negative log-likelihood plus the penalty.
fn loss(z: &[f64], e: &Examples, k: usize, w: &[f64], b: f64, l2: f64) -> f64 {
    let mut total = 0.0;
    let mut wsum = 0.0;
    for (i, row) in z.chunks_exact(k).enumerate() {
        let eta = b + row.iter().zip(w).map(|(x, w)| x * w).sum::<f64>();
        // log(1 + exp(eta)) - y eta, computed without overflow.
        let softplus = if eta > 0.0 {
            eta + (-eta).exp().ln_1p()
        } else {
            eta.exp().ln_1p()
        };
        total += e.w[i] * (softplus - if e.y[i] { eta } else { 0.0 });
        wsum += e.w[i];
    }
    total / wsum + 0.5 * l2 * w.iter().map(|x| x * x).sum::<f64>()
}

/// L2-penalised logistic regression by Newton's method with step halving.
fn fit(e: &Examples, k: usize, l2: f64) -> Result<Logistic> {
    let n = e.y.len();
    let wsum: f64 = e.w.iter().sum();
    let mut mean = vec![0.0; k];
    let mut scale = vec![0.0; k];
    for (i, row) in e.x.chunks_exact(k).enumerate() {
        for j in 0..k {
            mean[j] += e.w[i] * f64::from(row[j]);
        }
    }
    mean.iter_mut().for_each(|m| *m /= wsum);
    for (i, row) in e.x.chunks_exact(k).enumerate() {
        for j in 0..k {
            let d = f64::from(row[j]) - mean[j];
            scale[j] += e.w[i] * d * d;
        }
    }
    // A constant column gets scale 1 (its standardised value is 0 and its weight stays 0).
    scale
        .iter_mut()
        .for_each(|s| *s = if *s > 0.0 { (*s / wsum).sqrt() } else { 1.0 });
    let mut z = vec![0.0; n * k];
    for (i, row) in e.x.chunks_exact(k).enumerate() {
        for j in 0..k {
            z[i * k + j] = (f64::from(row[j]) - mean[j]) / scale[j];
        }
    }
    let d = k + 1;
    let mut w = vec![0.0; k];
    // Start the bias at the log-odds of the base rate.
    let pos: f64 =
        e.y.iter()
            .zip(&e.w)
            .filter(|(y, _)| **y)
            .map(|(_, w)| w)
            .sum();
    let p0 = (pos / wsum).clamp(1e-9, 1.0 - 1e-9);
    let mut b = (p0 / (1.0 - p0)).ln();
    let mut current = loss(&z, e, k, &w, b, l2);
    for _ in 0..100 {
        let mut g = vec![0.0; d];
        let mut h = vec![0.0; d * d];
        let mut xi = vec![0.0; d];
        for (i, row) in z.chunks_exact(k).enumerate() {
            let eta = b + row.iter().zip(&w).map(|(x, w)| x * w).sum::<f64>();
            let p = sigmoid(eta);
            let r = e.w[i] * (p - if e.y[i] { 1.0 } else { 0.0 });
            let v = e.w[i] * p * (1.0 - p);
            xi[..k].copy_from_slice(row);
            xi[k] = 1.0;
            for a in 0..d {
                g[a] += r * xi[a];
                let va = v * xi[a];
                for c in 0..=a {
                    h[a * d + c] += va * xi[c];
                }
            }
        }
        for a in 0..d {
            g[a] /= wsum;
            for c in 0..=a {
                h[a * d + c] /= wsum;
                h[c * d + a] = h[a * d + c];
            }
        }
        for j in 0..k {
            g[j] += l2 * w[j];
            h[j * d + j] += l2;
        }
        // The bias is not penalised; a tiny ridge keeps the solve defined when all p are 0 or 1.
        h[k * d + k] += 1e-12;
        let Some(l) = cholesky(&h, d) else {
            return Err(EngineError::BadOption {
                name: "l2",
                reason: "the training problem is singular; raise the penalty".into(),
            });
        };
        let step = cholesky_solve(&l, d, &g);
        let mut t = 1.0;
        let mut accepted = false;
        for _ in 0..30 {
            let nw: Vec<f64> = w.iter().zip(&step).map(|(w, s)| w - t * s).collect();
            let nb = b - t * step[k];
            let nl = loss(&z, e, k, &nw, nb, l2);
            if nl <= current + 1e-15 {
                w = nw;
                b = nb;
                current = nl;
                accepted = true;
                break;
            }
            t /= 2.0;
        }
        let size = step.iter().fold(0.0f64, |m, s| m.max(s.abs())) * t;
        if !accepted || size < 1e-8 {
            break;
        }
    }
    Ok(Logistic {
        mean,
        scale,
        weights: w,
        bias: b,
    })
}

impl RiskModel {
    /// The probability of churn within the horizon, and the reasons: the signs whose columns
    /// push this customer's log-odds up the most against the average customer, largest first.
    pub fn explain(&self, f: &Features, index: &RiskIndex) -> (f64, Vec<String>) {
        let mut v = Vec::with_capacity(self.columns.len());
        vector(f, index, &self.segments, &mut v);
        let mut contrib = vec![0.0; v.len()];
        let rest = self.learner.contributions(&v, &mut contrib);
        let eta = rest + contrib.iter().sum::<f64>();
        let mut by_sign: Vec<(Sign, f64)> = Vec::new();
        for (j, &c) in contrib.iter().enumerate() {
            let s = sign_of(j);
            match by_sign.iter_mut().find(|(t, _)| *t == s) {
                Some((_, sum)) => *sum += c,
                None => by_sign.push((s, c)),
            }
        }
        by_sign.retain(|&(_, c)| c > 0.05);
        by_sign.sort_by(|a, b| b.1.total_cmp(&a.1));
        let reasons = by_sign
            .iter()
            .take(4)
            .map(|&(s, _)| {
                let text = describe(s, f, index);
                if learned_only(s) {
                    format!("{text} (linked to churn in the history)")
                } else {
                    text
                }
            })
            .collect();
        (sigmoid(eta), reasons)
    }

    /// The probability of churn within the horizon.
    pub fn predict(&self, f: &Features, index: &RiskIndex) -> f64 {
        let mut v = Vec::with_capacity(self.columns.len());
        vector(f, index, &self.segments, &mut v);
        sigmoid(self.learner.logit(&v))
    }

    /// What the model leans on, per column, largest first: the weight on the standardised
    /// scale (logistic regression) or the number of splits on the column (boosted trees).
    pub fn weights_by_column(&self) -> Vec<(String, f64)> {
        let values: Vec<f64> = match &self.learner {
            Learner::Logistic(m) => m.weights.clone(),
            Learner::Boosted(m) => {
                let mut counts = vec![0.0; self.columns.len()];
                for n in m.trees.iter().flatten() {
                    if let Some(c) = counts.get_mut(n.feature as usize) {
                        *c += 1.0;
                    }
                }
                counts
            }
        };
        let mut out: Vec<(String, f64)> = self.columns.iter().cloned().zip(values).collect();
        out.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
        out
    }

    /// The versioned bytes (see the module docs).
    pub fn to_bytes(&self) -> Vec<u8> {
        let header = Header {
            format_version: FORMAT_VERSION,
            learner: self.learner.kind(),
            trees: match &self.learner {
                Learner::Boosted(m) => m.trees.iter().map(|t| t.len() as u32).collect(),
                Learner::Logistic(_) => Vec::new(),
            },
            horizon_days: self.horizon_days,
            trained_until: self.trained_until,
            options: self.options.clone(),
            columns: self.columns.clone(),
            segments: self.segments.clone(),
            quality: self.quality.clone(),
        };
        // Plain strings, integers and finite floats: serialising into memory cannot fail.
        let json = serde_json::to_vec(&header).unwrap_or_default();
        let mut out = Vec::with_capacity(16 + json.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(json.len() as u32).to_le_bytes());
        out.extend_from_slice(&json);
        match &self.learner {
            Learner::Logistic(m) => {
                for v in [&m.mean, &m.scale, &m.weights] {
                    v.iter()
                        .for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
                }
                out.extend_from_slice(&m.bias.to_le_bytes());
            }
            Learner::Boosted(m) => {
                out.extend_from_slice(&m.base.to_le_bytes());
                for n in m.trees.iter().flatten() {
                    out.extend_from_slice(&n.feature.to_le_bytes());
                    out.extend_from_slice(&n.threshold.to_le_bytes());
                    out.extend_from_slice(&n.left.to_le_bytes());
                    out.extend_from_slice(&n.right.to_le_bytes());
                    out.extend_from_slice(&n.value.to_le_bytes());
                }
            }
        }
        out
    }

    /// Reads bytes written by [`RiskModel::to_bytes`], checking the version, every length and
    /// that the columns are the ones this build computes.
    pub fn from_bytes(bytes: &[u8]) -> Result<RiskModel> {
        let mut r = Reader(bytes);
        if r.take(8, "magic")? != MAGIC {
            return Err(bad(
                "the bytes do not start with HKRISKMD: not a risk model".into(),
            ));
        }
        let version = r.u32("version")?;
        if version != FORMAT_VERSION {
            return Err(bad(format!(
                "format version {version}, this build reads {FORMAT_VERSION}; train the model again"
            )));
        }
        let len = r.u32("header length")? as usize;
        let h: Header = serde_json::from_slice(r.take(len, "header")?).map_err(|e| {
            bad(format!(
                "the header is not valid ({e}); train the model again"
            ))
        })?;
        if h.format_version != FORMAT_VERSION || h.columns != columns(&h.segments) {
            return Err(bad(
                "its columns are not the ones this build computes; train the model again".into(),
            ));
        }
        h.options.validate()?;
        let k = h.columns.len();
        let learner = match h.learner {
            LearnerKind::Logistic => {
                let mean = r.f64s(k, "means")?;
                let scale = r.f64s(k, "scales")?;
                let weights = r.f64s(k, "weights")?;
                let bias = r.f64("bias")?;
                let finite = mean
                    .iter()
                    .chain(&weights)
                    .chain([&bias])
                    .all(|x| x.is_finite());
                if !finite || !scale.iter().all(|s| s.is_finite() && *s > 0.0) {
                    return Err(bad(
                        "it holds NaN, infinite or non-positive scales; train the model again"
                            .into(),
                    ));
                }
                Learner::Logistic(Logistic {
                    mean,
                    scale,
                    weights,
                    bias,
                })
            }
            LearnerKind::Boosted => {
                let base = r.f64("base")?;
                let mut trees = Vec::with_capacity(h.trees.len());
                for &size in &h.trees {
                    let mut t = Vec::with_capacity((size as usize).min(1 << 16));
                    for _ in 0..size {
                        t.push(Node {
                            feature: r.u32("node")?,
                            threshold: f32::from_bits(r.u32("node")?),
                            left: r.u32("node")?,
                            right: r.u32("node")?,
                            value: r.f64("node")?,
                        });
                    }
                    trees.push(t);
                }
                let m = Boosted { base, trees };
                if !m.check(k) {
                    return Err(bad("its trees are malformed; train the model again".into()));
                }
                Learner::Boosted(m)
            }
        };
        if !r.0.is_empty() {
            return Err(bad(format!("{} unexpected bytes at the end", r.0.len())));
        }
        Ok(RiskModel {
            horizon_days: h.horizon_days,
            trained_until: h.trained_until,
            options: h.options,
            columns: h.columns,
            segments: h.segments,
            learner,
            quality: h.quality,
        })
    }
}

fn bad(why: String) -> EngineError {
    bad_option("risk model", why)
}

/// Little-endian numbers off the front of a byte slice, failing on a short input.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        if self.0.len() < n {
            return Err(bad(format!(
                "the bytes end inside the {what}: truncated; save the model again"
            )));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }
    fn u32(&mut self, what: &str) -> Result<u32> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn f64(&mut self, what: &str) -> Result<f64> {
        let b = self.take(8, what)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(f64::from_le_bytes(a))
    }
    fn f64s(&mut self, n: usize, what: &str) -> Result<Vec<f64>> {
        (0..n).map(|_| self.f64(what)).collect()
    }
}
