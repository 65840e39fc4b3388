//! Survey scores and net sentiment, each with its confidence interval, and the change between
//! two periods with its significance.
//!
//! Every score is computed from a [`Tally`]: counts per scale point. A tally is tiny (at most 11
//! counters), is filled by one pass over a column and merges by addition, so the same code serves
//! the whole window, each group of a group-by and each chunk of a parallel scan. Intervals come
//! from the tally alone: the trinomial normal interval for NPS and net sentiment, Wilson for CSAT,
//! Student t for CES, or a seeded multinomial bootstrap for any of them.
//!
//! Scores outside their scale cannot reach the engine through the model types (`NpsScore`,
//! `CsatScore`, `CesScore` reject them at import); a raw code that is neither a scale point nor
//! [`MISSING_SCORE`] is still counted, as `invalid`, and reported, never folded into a score.

use std::ops::Range;

use serde::Serialize;

use crate::error::{Result, same_len};
use crate::group::{GroupEstimate, Grouped, Partial, estimates, fold_grouped};
use crate::keys::GroupKey;
use crate::stats::{
    IntervalMethod, Level, Quality, bootstrap_difference, bootstrap_interval, normal_p_two_sided,
    t_p_two_sided, wilson,
};

/// The code of a missing integer score in a [`crate::SurveyFrame`] column.
pub const MISSING_SCORE: u8 = u8::MAX;

/// A sentiment compound score at or above this is positive (VADER's convention).
pub const POSITIVE_AT: f32 = 0.05;
/// A sentiment compound score at or below this is negative.
pub const NEGATIVE_AT: f32 = -0.05;

/// How scores are estimated.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ScoreOptions {
    pub level: Level,
    /// Below this many responses an estimate is flagged `small_sample`.
    pub min_n: u64,
    pub method: IntervalMethod,
}

impl Default for ScoreOptions {
    fn default() -> ScoreOptions {
        ScoreOptions {
            level: Level::NINETY,
            min_n: 30,
            method: IntervalMethod::Analytic,
        }
    }
}

/// Counts per point of a `K`-point scale. Index `i` is scale point `lo + i`, where `lo` is 0 for
/// NPS and 1 for CSAT and CES.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tally<const K: usize> {
    pub counts: [u64; K],
    /// Rows with no answer ([`MISSING_SCORE`]).
    pub missing: u64,
    /// Rows with a code off the scale (cannot come from the model types; counted, not scored).
    pub invalid: u64,
}

/// NPS answers 0..=10, index = score.
pub type NpsTally = Tally<11>;
/// CSAT answers 1..=5, index = score - 1.
pub type CsatTally = Tally<5>;
/// CES answers 1..=7, index = score - 1.
pub type CesTally = Tally<7>;

impl<const K: usize> Default for Tally<K> {
    fn default() -> Self {
        Tally {
            counts: [0; K],
            missing: 0,
            invalid: 0,
        }
    }
}

impl<const K: usize> Partial for Tally<K> {
    fn merge(&mut self, other: &Self) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
        self.missing += other.missing;
        self.invalid += other.invalid;
    }
}

impl<const K: usize> Tally<K> {
    /// Adds one raw code on a scale starting at `lo`.
    #[inline]
    pub fn push(&mut self, raw: u8, lo: u8) {
        if raw == MISSING_SCORE {
            self.missing += 1;
            return;
        }
        match self.counts.get_mut(raw.wrapping_sub(lo) as usize) {
            Some(c) => *c += 1,
            None => self.invalid += 1,
        }
    }

    /// Tallies `rows` of a column on a scale starting at `lo`.
    pub fn from_column(values: &[u8], lo: u8, rows: Range<usize>) -> Self {
        let mut t = Self::default();
        let end = rows.end.min(values.len());
        for &v in values.get(rows.start..end).unwrap_or(&[]) {
            t.push(v, lo);
        }
        t
    }

    /// Answered responses.
    pub fn n(&self) -> u64 {
        self.counts.iter().sum()
    }

    fn invalid_warning(&self, q: &mut Quality) {
        if self.invalid > 0 {
            q.warnings.push(format!(
                "{} values off the scale were ignored; re-import the data to validate it",
                self.invalid
            ));
        }
    }
}

/// Tallies one score column per group of `key` (see [`crate::keys`]).
pub fn tally_by<const K: usize>(
    values: &[u8],
    lo: u8,
    key: &GroupKey<'_>,
    rows: Range<usize>,
) -> Result<Grouped<Tally<K>>> {
    same_len("score", values.len(), "group key", key.codes.len())?;
    Ok(fold_grouped(
        &key.codes,
        key.dict.len(),
        rows,
        |t: &mut Tally<K>, row| t.push(values[row], lo),
    ))
}

/// Counts of signals by sentiment class.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct SentimentTally {
    pub positive: u64,
    pub neutral: u64,
    pub negative: u64,
    /// Signals without a sentiment score (NaN).
    pub unscored: u64,
    /// Sum of compound scores of scored signals.
    pub sum: f64,
}

impl Partial for SentimentTally {
    fn merge(&mut self, o: &Self) {
        self.positive += o.positive;
        self.neutral += o.neutral;
        self.negative += o.negative;
        self.unscored += o.unscored;
        self.sum += o.sum;
    }
}

impl SentimentTally {
    #[inline]
    pub fn push(&mut self, compound: f32) {
        if compound.is_nan() {
            self.unscored += 1;
            return;
        }
        if compound >= POSITIVE_AT {
            self.positive += 1;
        } else if compound <= NEGATIVE_AT {
            self.negative += 1;
        } else {
            self.neutral += 1;
        }
        self.sum += f64::from(compound);
    }

    pub fn from_column(values: &[f32], rows: Range<usize>) -> SentimentTally {
        let end = rows.end.min(values.len());
        let values = values.get(rows.start..end).unwrap_or(&[]);
        // Branch-free over eight lanes (signs are unpredictable, so branches would mispredict
        // about half the time), with eight partial sums the compiler can keep in registers.
        const LANES: usize = 8;
        let (mut pos, mut neg, mut nan) = ([0u64; LANES], [0u64; LANES], [0u64; LANES]);
        let mut sum = [0f64; LANES];
        let mut chunks = values.chunks_exact(LANES);
        for c in &mut chunks {
            for i in 0..LANES {
                let v = c[i];
                pos[i] += u64::from(v >= POSITIVE_AT);
                neg[i] += u64::from(v <= NEGATIVE_AT);
                nan[i] += u64::from(v.is_nan());
                sum[i] += if v.is_nan() { 0.0 } else { f64::from(v) };
            }
        }
        let mut t = SentimentTally {
            positive: pos.iter().sum(),
            negative: neg.iter().sum(),
            unscored: nan.iter().sum(),
            sum: sum.iter().sum(),
            ..SentimentTally::default()
        };
        let lanes = (values.len() - chunks.remainder().len()) as u64;
        t.neutral = lanes - t.positive - t.negative - t.unscored;
        for &v in chunks.remainder() {
            t.push(v);
        }
        t
    }

    /// Scored signals.
    pub fn n(&self) -> u64 {
        self.positive + self.neutral + self.negative
    }

    /// `[negative, neutral, positive]`, the trinomial the interval is computed on.
    fn classes(&self) -> [u64; 3] {
        [self.negative, self.neutral, self.positive]
    }
}

/// Tallies sentiment per group of `key`.
pub fn sentiment_by(
    compound: &[f32],
    key: &GroupKey<'_>,
    rows: Range<usize>,
) -> Result<Grouped<SentimentTally>> {
    same_len("sentiment", compound.len(), "group key", key.codes.len())?;
    Ok(fold_grouped(
        &key.codes,
        key.dict.len(),
        rows,
        |t: &mut SentimentTally, row| t.push(compound[row]),
    ))
}

/// Net Promoter Score, -100..100.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Nps {
    /// `None` when there is no response.
    pub nps: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub level: f64,
    pub method: &'static str,
    /// Standard error of the NPS (points), from the trinomial variance.
    pub se: Option<f64>,
    pub n: u64,
    pub promoters: u64,
    pub passives: u64,
    pub detractors: u64,
    /// Responses in the selection without an NPS answer.
    pub unanswered: u64,
    #[serde(flatten)]
    pub quality: Quality,
}

/// Customer satisfaction: % of responses 4 or 5 on 1..5.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Csat {
    pub csat: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub level: f64,
    pub method: &'static str,
    pub n: u64,
    pub satisfied: u64,
    pub unanswered: u64,
    #[serde(flatten)]
    pub quality: Quality,
}

/// Customer effort: the mean on 1..7.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ces {
    pub ces: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub level: f64,
    pub method: &'static str,
    /// Sample standard deviation (n - 1); `None` below two responses.
    pub sd: Option<f64>,
    pub n: u64,
    pub unanswered: u64,
    #[serde(flatten)]
    pub quality: Quality,
}

/// Net sentiment: % positive minus % negative signals, -100..100.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetSentiment {
    pub net_sentiment: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub level: f64,
    pub method: &'static str,
    pub se: Option<f64>,
    pub n: u64,
    pub positive: u64,
    pub neutral: u64,
    pub negative: u64,
    pub unscored: u64,
    /// Mean compound score of the scored signals.
    pub mean_compound: Option<f64>,
    #[serde(flatten)]
    pub quality: Quality,
}

/// `100 * (share of last class - share of first class)` and its standard error, for a
/// `[bad, neutral, good]` trinomial (detractors/passives/promoters, negative/neutral/positive).
fn net_score(c: &[u64; 3]) -> Option<(f64, f64)> {
    let n = (c[0] + c[1] + c[2]) as f64;
    if n == 0.0 {
        return None;
    }
    let (bad, good) = (c[0] as f64 / n, c[2] as f64 / n);
    let d = good - bad;
    // Var(p+ - p-) for one multinomial draw is (p+ + p-) - (p+ - p-)^2; `max` absorbs rounding
    // below zero when every response is in one class.
    let var = ((good + bad) - d * d).max(0.0) / n;
    Some((100.0 * d, 100.0 * var.sqrt()))
}

/// An interval for a `[bad, neutral, good]` net score.
fn net_interval(
    classes: &[u64; 3],
    opts: &ScoreOptions,
    q: &mut Quality,
    what: &str,
) -> (
    Option<f64>,
    Option<f64>,
    Option<f64>,
    Option<f64>,
    &'static str,
) {
    let Some((value, se)) = net_score(classes) else {
        return (None, None, None, None, "none");
    };
    let (low, high, method) = match opts.method {
        IntervalMethod::Analytic => {
            let z = opts.level.z();
            (value - z * se, value + z * se, "normal")
        }
        IntervalMethod::Bootstrap { resamples, seed } => {
            match bootstrap_interval(classes, resamples, seed, opts.level, |c| {
                net_score(c).map(|v| v.0)
            }) {
                Some((l, h)) => (l, h, "bootstrap"),
                None => (value, value, "bootstrap"),
            }
        }
    };
    let n: u64 = classes.iter().sum();
    if high - low <= 0.0 {
        let share = classes.iter().filter(|&&c| c == n).count();
        let note = if n == 1 {
            format!("one {what} only: the interval has zero width but says nothing; collect more")
        } else if share == 1 {
            format!(
                "all {n} {what}s fall in one category: the interval has zero width, yet the true \
                 score can differ; collect more"
            )
        } else {
            "the interval has zero width".to_string()
        };
        q.degenerate(note);
    }
    (
        Some(value),
        Some(low.max(-100.0)),
        Some(high.min(100.0)),
        Some(se),
        method,
    )
}

/// NPS of a tally with its interval. The analytic interval is `nps ± z·se` with
/// `se = 100·sqrt(((p+ + p-) - (p+ - p-)²) / n)`, clipped to -100..100.
pub fn nps(t: &NpsTally, opts: &ScoreOptions) -> Nps {
    let n = t.n();
    let detractors: u64 = t.counts[..7].iter().sum();
    let promoters = t.counts[9] + t.counts[10];
    let passives = n - detractors - promoters;
    let mut quality = Quality::for_n(n, opts.min_n);
    t.invalid_warning(&mut quality);
    let (nps, low, high, se, method) = net_interval(
        &[detractors, passives, promoters],
        opts,
        &mut quality,
        "response",
    );
    Nps {
        nps,
        low,
        high,
        level: opts.level.get(),
        method,
        se,
        n,
        promoters,
        passives,
        detractors,
        unanswered: t.missing,
        quality,
    }
}

/// Net sentiment of a tally with its interval (same trinomial interval as NPS).
pub fn net_sentiment(t: &SentimentTally, opts: &ScoreOptions) -> NetSentiment {
    let n = t.n();
    let mut quality = Quality::for_n(n, opts.min_n);
    let (net, low, high, se, method) = net_interval(&t.classes(), opts, &mut quality, "signal");
    NetSentiment {
        net_sentiment: net,
        low,
        high,
        level: opts.level.get(),
        method,
        se,
        n,
        positive: t.positive,
        neutral: t.neutral,
        negative: t.negative,
        unscored: t.unscored,
        mean_compound: (n > 0).then(|| t.sum / n as f64),
        quality,
    }
}

fn csat_share(c: &[u64; 2]) -> Option<f64> {
    let n = c[0] + c[1];
    (n > 0).then(|| 100.0 * c[1] as f64 / n as f64)
}

/// CSAT of a tally with its Wilson (or bootstrap) interval, in percent.
pub fn csat(t: &CsatTally, opts: &ScoreOptions) -> Csat {
    let n = t.n();
    let satisfied = t.counts[3] + t.counts[4];
    let mut quality = Quality::for_n(n, opts.min_n);
    t.invalid_warning(&mut quality);
    let split = [n - satisfied, satisfied];
    let value = csat_share(&split);
    let (low, high, method) = match (value, opts.method) {
        (None, _) => (None, None, "none"),
        (Some(_), IntervalMethod::Analytic) => match wilson(satisfied, n, opts.level) {
            Some((l, h)) => (Some(100.0 * l), Some(100.0 * h), "wilson"),
            None => (None, None, "wilson"),
        },
        (Some(v), IntervalMethod::Bootstrap { resamples, seed }) => {
            let (l, h) = bootstrap_interval(&split, resamples, seed, opts.level, csat_share)
                .unwrap_or((v, v));
            if h - l <= 0.0 {
                quality.degenerate(format!(
                    "all {n} responses are {}: the bootstrap interval has zero width; use the \
                     Wilson interval",
                    if satisfied == n {
                        "satisfied"
                    } else {
                        "unsatisfied"
                    }
                ));
            }
            (Some(l), Some(h), "bootstrap")
        }
    };
    Csat {
        csat: value,
        low,
        high,
        level: opts.level.get(),
        method,
        n,
        satisfied,
        unanswered: t.missing,
        quality,
    }
}

/// Mean and sample variance of a tally on a scale starting at `lo`.
fn tally_moments<const K: usize>(c: &[u64; K], lo: u8) -> Option<(f64, Option<f64>)> {
    let n: u64 = c.iter().sum();
    if n == 0 {
        return None;
    }
    let nf = n as f64;
    let point = |i: usize| f64::from(lo) + i as f64;
    let mean = c
        .iter()
        .enumerate()
        .map(|(i, &k)| point(i) * k as f64)
        .sum::<f64>()
        / nf;
    let var = (n > 1).then(|| {
        c.iter()
            .enumerate()
            .map(|(i, &k)| k as f64 * (point(i) - mean).powi(2))
            .sum::<f64>()
            / (nf - 1.0)
    });
    Some((mean, var))
}

/// CES (mean effort) of a tally with its Student t (or bootstrap) interval.
pub fn ces(t: &CesTally, opts: &ScoreOptions) -> Ces {
    let n = t.n();
    let mut quality = Quality::for_n(n, opts.min_n);
    t.invalid_warning(&mut quality);
    let moments = tally_moments(&t.counts, 1);
    let mean = moments.map(|m| m.0);
    let sd = moments.and_then(|m| m.1).map(f64::sqrt);
    let (low, high, method) = match (moments, opts.method) {
        (None, _) => (None, None, "none"),
        (Some((_, None)), _) => {
            quality.degenerate("one response only: no spread to build an interval from");
            (None, None, "none")
        }
        (Some((m, Some(var))), IntervalMethod::Analytic) => {
            let half = opts.level.t((n - 1) as f64) * (var / n as f64).sqrt();
            (Some(m - half), Some(m + half), "t")
        }
        (Some((m, Some(_))), IntervalMethod::Bootstrap { resamples, seed }) => {
            let (l, h) = bootstrap_interval(&t.counts, resamples, seed, opts.level, |c| {
                tally_moments(c, 1).map(|m| m.0)
            })
            .unwrap_or((m, m));
            (Some(l), Some(h), "bootstrap")
        }
    };
    if let (Some(l), Some(h)) = (low, high)
        && h - l <= 0.0
    {
        quality.degenerate(format!(
            "all {n} responses give the same effort score: the interval has zero width; collect more"
        ));
    }
    Ces {
        ces: mean,
        low,
        high,
        level: opts.level.get(),
        method,
        sd,
        n,
        unanswered: t.missing,
        quality,
    }
}

/// The change of a score from one period (`before`) to the next (`after`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub metric: &'static str,
    pub before: Option<f64>,
    pub after: Option<f64>,
    /// `after - before`, in the score's unit (points for NPS, net sentiment and CSAT).
    pub diff: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub level: f64,
    /// Two-sided p-value of "no change".
    pub p_value: Option<f64>,
    /// `p_value < 1 - level`: the interval of the difference excludes zero (for the analytic
    /// tests the two agree up to the pooled/unpooled variance of CSAT).
    pub significant: Option<bool>,
    /// How the interval and p-value were computed.
    pub method: &'static str,
    pub n_before: u64,
    pub n_after: u64,
    #[serde(flatten)]
    pub quality: Quality,
}

fn change_quality(n_before: u64, n_after: u64, min_n: u64) -> Quality {
    let mut q = Quality::for_n(n_before.min(n_after), min_n);
    if q.no_data {
        q.warnings = vec![format!(
            "no data in the {} period: no change can be computed",
            if n_before == 0 { "earlier" } else { "later" }
        )];
    }
    q
}

struct ChangeParts {
    diff: f64,
    low: f64,
    high: f64,
    p: Option<f64>,
    method: &'static str,
}

#[allow(clippy::too_many_arguments)]
fn change(
    metric: &'static str,
    before: Option<f64>,
    after: Option<f64>,
    n_before: u64,
    n_after: u64,
    opts: &ScoreOptions,
    mut quality: Quality,
    parts: Option<ChangeParts>,
) -> Change {
    let alpha = 1.0 - opts.level.get();
    let (diff, low, high, p_value, method) = match parts {
        Some(c) => {
            if c.p.is_none() {
                quality.degenerate(
                    "both periods show no spread: the change has no standard error and no p-value",
                );
            }
            (Some(c.diff), Some(c.low), Some(c.high), c.p, c.method)
        }
        None => (None, None, None, None, "none"),
    };
    Change {
        metric,
        before,
        after,
        diff,
        low,
        high,
        level: opts.level.get(),
        p_value,
        significant: p_value.map(|p| p < alpha),
        method,
        n_before,
        n_after,
        quality,
    }
}

fn net_change(b: &[u64; 3], a: &[u64; 3], opts: &ScoreOptions) -> Option<ChangeParts> {
    let (vb, seb) = net_score(b)?;
    let (va, sea) = net_score(a)?;
    let diff = va - vb;
    Some(match opts.method {
        IntervalMethod::Analytic => {
            let se = (seb * seb + sea * sea).sqrt();
            let z = opts.level.z();
            ChangeParts {
                diff,
                low: diff - z * se,
                high: diff + z * se,
                p: (se > 0.0).then(|| normal_p_two_sided(diff / se)),
                method: "normal",
            }
        }
        IntervalMethod::Bootstrap { resamples, seed } => {
            let (low, high, p) = bootstrap_difference(b, a, resamples, seed, opts.level, |c| {
                net_score(c).map(|v| v.0)
            })
            .unwrap_or((diff, diff, 1.0));
            ChangeParts {
                diff,
                low,
                high,
                p: (high > low).then_some(p),
                method: "bootstrap",
            }
        }
    })
}

fn nps_classes(t: &NpsTally) -> [u64; 3] {
    let d: u64 = t.counts[..7].iter().sum();
    let p = t.counts[9] + t.counts[10];
    [d, t.counts[7] + t.counts[8], p]
}

/// Change in NPS: difference of two independent trinomial estimates, normal interval and
/// two-sided z test on `se = sqrt(se_before² + se_after²)`.
pub fn nps_change(before: &NpsTally, after: &NpsTally, opts: &ScoreOptions) -> Change {
    let (b, a) = (nps_classes(before), nps_classes(after));
    let q = change_quality(before.n(), after.n(), opts.min_n);
    change(
        "nps",
        net_score(&b).map(|v| v.0),
        net_score(&a).map(|v| v.0),
        before.n(),
        after.n(),
        opts,
        q,
        net_change(&b, &a, opts),
    )
}

/// Change in net sentiment, as [`nps_change`].
pub fn net_sentiment_change(
    before: &SentimentTally,
    after: &SentimentTally,
    opts: &ScoreOptions,
) -> Change {
    let (b, a) = (before.classes(), after.classes());
    let q = change_quality(before.n(), after.n(), opts.min_n);
    change(
        "net_sentiment",
        net_score(&b).map(|v| v.0),
        net_score(&a).map(|v| v.0),
        before.n(),
        after.n(),
        opts,
        q,
        net_change(&b, &a, opts),
    )
}

/// Change in CSAT (points): Newcombe's hybrid score interval (from the two Wilson intervals) and
/// the pooled two-proportion z test.
pub fn csat_change(before: &CsatTally, after: &CsatTally, opts: &ScoreOptions) -> Change {
    let split = |t: &CsatTally| {
        let s = t.counts[3] + t.counts[4];
        [t.n() - s, s]
    };
    let (b, a) = (split(before), split(after));
    let (nb, na) = (before.n(), after.n());
    let q = change_quality(nb, na, opts.min_n);
    let parts = (nb > 0 && na > 0).then(|| {
        let (pb, pa) = (b[1] as f64 / nb as f64, a[1] as f64 / na as f64);
        let diff = 100.0 * (pa - pb);
        match opts.method {
            IntervalMethod::Analytic => {
                // Both n > 0, so both Wilson intervals exist.
                let (lb, ub) = wilson(b[1], nb, opts.level).unwrap_or((pb, pb));
                let (la, ua) = wilson(a[1], na, opts.level).unwrap_or((pa, pa));
                let low = (pa - pb) - ((pa - la).powi(2) + (ub - pb).powi(2)).sqrt();
                let high = (pa - pb) + ((ua - pa).powi(2) + (pb - lb).powi(2)).sqrt();
                let pool = (a[1] + b[1]) as f64 / (na + nb) as f64;
                let se = (pool * (1.0 - pool) * (1.0 / na as f64 + 1.0 / nb as f64)).sqrt();
                ChangeParts {
                    diff,
                    low: 100.0 * low,
                    high: 100.0 * high,
                    p: (se > 0.0).then(|| normal_p_two_sided((pa - pb) / se)),
                    method: "newcombe",
                }
            }
            IntervalMethod::Bootstrap { resamples, seed } => {
                let (low, high, p) =
                    bootstrap_difference(&b, &a, resamples, seed, opts.level, csat_share)
                        .unwrap_or((diff, diff, 1.0));
                ChangeParts {
                    diff,
                    low,
                    high,
                    p: (high > low).then_some(p),
                    method: "bootstrap",
                }
            }
        }
    });
    change(
        "csat",
        csat_share(&b),
        csat_share(&a),
        nb,
        na,
        opts,
        q,
        parts,
    )
}

/// Change in CES (mean): Welch's t interval and test (Welch–Satterthwaite degrees of freedom).
pub fn ces_change(before: &CesTally, after: &CesTally, opts: &ScoreOptions) -> Change {
    let (nb, na) = (before.n(), after.n());
    let mb = tally_moments(&before.counts, 1);
    let ma = tally_moments(&after.counts, 1);
    let mut q = change_quality(nb, na, opts.min_n);
    let parts = match (mb, ma) {
        (Some((mb, Some(vb))), Some((ma, Some(va)))) => {
            let diff = ma - mb;
            Some(match opts.method {
                IntervalMethod::Analytic => {
                    let (wb, wa) = (vb / nb as f64, va / na as f64);
                    let se = (wb + wa).sqrt();
                    let df =
                        (wb + wa).powi(2) / (wb * wb / (nb - 1) as f64 + wa * wa / (na - 1) as f64);
                    if se > 0.0 {
                        let half = opts.level.t(df) * se;
                        ChangeParts {
                            diff,
                            low: diff - half,
                            high: diff + half,
                            p: Some(t_p_two_sided(diff / se, df)),
                            method: "welch",
                        }
                    } else {
                        ChangeParts {
                            diff,
                            low: diff,
                            high: diff,
                            p: None,
                            method: "welch",
                        }
                    }
                }
                IntervalMethod::Bootstrap { resamples, seed } => {
                    let (low, high, p) = bootstrap_difference(
                        &before.counts,
                        &after.counts,
                        resamples,
                        seed,
                        opts.level,
                        |c| tally_moments(c, 1).map(|m| m.0),
                    )
                    .unwrap_or((diff, diff, 1.0));
                    ChangeParts {
                        diff,
                        low,
                        high,
                        p: (high > low).then_some(p),
                        method: "bootstrap",
                    }
                }
            })
        }
        (Some(_), Some(_)) => {
            q.degenerate("a period has one response only: Welch's test needs two in each");
            None
        }
        _ => None,
    };
    change(
        "ces",
        mb.map(|m| m.0),
        ma.map(|m| m.0),
        nb,
        na,
        opts,
        q,
        parts,
    )
}

/// NPS per group of `key`.
pub fn nps_by(
    values: &[u8],
    key: &GroupKey<'_>,
    opts: &ScoreOptions,
) -> Result<Vec<GroupEstimate<Nps>>> {
    let g = tally_by::<11>(values, 0, key, 0..values.len())?;
    Ok(estimates(&g, &key.dict, |t| t.n() == 0, |t| nps(t, opts)))
}

/// CSAT per group of `key`.
pub fn csat_by(
    values: &[u8],
    key: &GroupKey<'_>,
    opts: &ScoreOptions,
) -> Result<Vec<GroupEstimate<Csat>>> {
    let g = tally_by::<5>(values, 1, key, 0..values.len())?;
    Ok(estimates(&g, &key.dict, |t| t.n() == 0, |t| csat(t, opts)))
}

/// CES per group of `key`.
pub fn ces_by(
    values: &[u8],
    key: &GroupKey<'_>,
    opts: &ScoreOptions,
) -> Result<Vec<GroupEstimate<Ces>>> {
    let g = tally_by::<7>(values, 1, key, 0..values.len())?;
    Ok(estimates(&g, &key.dict, |t| t.n() == 0, |t| ces(t, opts)))
}

/// Net sentiment per group of `key`.
pub fn net_sentiment_by(
    compound: &[f32],
    key: &GroupKey<'_>,
    opts: &ScoreOptions,
) -> Result<Vec<GroupEstimate<NetSentiment>>> {
    let g = sentiment_by(compound, key, 0..compound.len())?;
    Ok(estimates(
        &g,
        &key.dict,
        |t| t.n() == 0,
        |t| net_sentiment(t, opts),
    ))
}

/// The estimate for one named group; a name the dictionary does not have gives a `no_data`
/// estimate saying so, not an error and not a zero.
pub fn nps_of_group(
    grouped: &Grouped<NpsTally>,
    key: &GroupKey<'_>,
    name: &str,
    opts: &ScoreOptions,
) -> Nps {
    match grouped.find(&key.dict, name) {
        Some(t) => nps(t, opts),
        None => {
            let mut e = nps(&NpsTally::default(), opts);
            e.quality
                .warnings
                .push(format!("unknown group '{name}': no response carries it"));
            e
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tally_nps(v: &[u8]) -> NpsTally {
        NpsTally::from_column(v, 0, 0..v.len())
    }

    #[test]
    fn no_data_is_absent_not_zero() {
        let e = nps(&NpsTally::default(), &ScoreOptions::default());
        assert!(e.quality.no_data);
        assert_eq!((e.nps, e.low, e.high), (None, None, None));
        let j = serde_json::to_value(&e).unwrap();
        assert!(j["nps"].is_null());
        assert_eq!(j["no_data"], true);
        let c = ces(&CesTally::default(), &ScoreOptions::default());
        assert!(c.quality.no_data && c.ces.is_none());
        let s = net_sentiment(&SentimentTally::default(), &ScoreOptions::default());
        assert!(s.quality.no_data && s.net_sentiment.is_none());
    }

    #[test]
    fn all_promoters_is_flagged_degenerate() {
        let e = nps(&tally_nps(&[9, 10, 10, 9]), &ScoreOptions::default());
        assert_eq!(e.nps, Some(100.0));
        assert_eq!((e.low, e.high), (Some(100.0), Some(100.0)));
        assert!(e.quality.degenerate && e.quality.small_sample);
        assert!(
            e.quality
                .warnings
                .iter()
                .any(|w| w.contains("one category"))
        );
    }

    #[test]
    fn one_response_is_flagged() {
        let e = nps(&tally_nps(&[3]), &ScoreOptions::default());
        assert_eq!(e.nps, Some(-100.0));
        assert!(e.quality.degenerate && e.quality.small_sample);
        let c = ces(
            &CesTally::from_column(&[4], 1, 0..1),
            &ScoreOptions::default(),
        );
        assert_eq!(c.ces, Some(4.0));
        assert_eq!((c.low, c.sd), (None, None));
        assert!(c.quality.degenerate);
    }

    #[test]
    fn missing_and_off_scale_codes_are_counted_not_scored() {
        let t = NpsTally::from_column(&[10, MISSING_SCORE, 42, 0], 0, 0..4);
        assert_eq!((t.n(), t.missing, t.invalid), (2, 1, 1));
        let e = nps(&t, &ScoreOptions::default());
        assert_eq!(e.unanswered, 1);
        assert!(
            e.quality
                .warnings
                .iter()
                .any(|w| w.contains("off the scale"))
        );
        let c = CsatTally::from_column(&[0, 1, 5, 6], 1, 0..4);
        assert_eq!((c.n(), c.invalid), (2, 2));
    }

    #[test]
    fn bootstrap_is_deterministic_and_close_to_normal() {
        let v: Vec<u8> = (0..400).map(|i| (i * 7 % 11) as u8).collect();
        let t = tally_nps(&v);
        let boot = ScoreOptions {
            method: IntervalMethod::Bootstrap {
                resamples: 4000,
                seed: 11,
            },
            ..ScoreOptions::default()
        };
        let a = nps(&t, &boot);
        assert_eq!(a, nps(&t, &boot));
        let n = nps(&t, &ScoreOptions::default());
        let width = n.high.unwrap() - n.low.unwrap();
        assert!(
            (a.low.unwrap() - n.low.unwrap()).abs() < 0.1 * width,
            "{a:?} {n:?}"
        );
        assert!((a.high.unwrap() - n.high.unwrap()).abs() < 0.1 * width);
    }

    #[test]
    fn bootstrap_means_proportions_and_changes_track_the_analytic_ones() {
        let boot = ScoreOptions {
            method: IntervalMethod::Bootstrap {
                resamples: 3000,
                seed: 5,
            },
            ..ScoreOptions::default()
        };
        let plain = ScoreOptions::default();
        let before: Vec<u8> = (0..300u32).map(|i| (i * 5 % 7 + 1) as u8).collect();
        let after: Vec<u8> = (0..250u32).map(|i| ((i * 3 + 2) % 7 + 1) as u8).collect();
        let (cb, ca) = (
            CesTally::from_column(&before, 1, 0..300),
            CesTally::from_column(&after, 1, 0..250),
        );
        let near = |a: (Option<f64>, Option<f64>), b: (Option<f64>, Option<f64>)| {
            let (al, ah, bl, bh) = (a.0.unwrap(), a.1.unwrap(), b.0.unwrap(), b.1.unwrap());
            let w = bh - bl;
            assert!(
                (al - bl).abs() < 0.15 * w && (ah - bh).abs() < 0.15 * w,
                "{a:?} {b:?}"
            );
        };
        let (x, y) = (ces(&ca, &boot), ces(&ca, &plain));
        assert_eq!(x.method, "bootstrap");
        near((x.low, x.high), (y.low, y.high));
        let (x, y) = (ces_change(&cb, &ca, &boot), ces_change(&cb, &ca, &plain));
        near((x.low, x.high), (y.low, y.high));
        assert_eq!(x, ces_change(&cb, &ca, &boot));
        assert_eq!(x.significant, y.significant);
        let (sb, sa) = (
            CsatTally::from_column(&before[..], 1, 0..300),
            CsatTally::from_column(&after[..], 1, 0..250),
        );
        let (x, y) = (csat(&sa, &boot), csat(&sa, &plain));
        near((x.low, x.high), (y.low, y.high));
        let (x, y) = (csat_change(&sb, &sa, &boot), csat_change(&sb, &sa, &plain));
        near((x.low, x.high), (y.low, y.high));
        let nb = NpsTally::from_column(&before, 0, 0..300);
        let na = NpsTally::from_column(&after.iter().map(|v| v + 3).collect::<Vec<_>>(), 0, 0..250);
        let (x, y) = (nps_change(&nb, &na, &boot), nps_change(&nb, &na, &plain));
        near((x.low, x.high), (y.low, y.high));
        assert!(
            (x.p_value.unwrap() - y.p_value.unwrap()).abs() < 0.02,
            "{x:?} {y:?}"
        );
    }

    #[test]
    fn bootstrap_of_a_single_category_is_degenerate() {
        let boot = ScoreOptions {
            method: IntervalMethod::Bootstrap {
                resamples: 200,
                seed: 1,
            },
            ..ScoreOptions::default()
        };
        let c = csat(&CsatTally::from_column(&[5; 40], 1, 0..40), &boot);
        assert_eq!((c.low, c.high), (Some(100.0), Some(100.0)));
        assert!(c.quality.degenerate);
        let n = nps(&NpsTally::from_column(&[10; 40], 0, 0..40), &boot);
        assert!(n.quality.degenerate);
    }

    #[test]
    fn change_with_an_empty_period_is_no_data() {
        let c = nps_change(
            &NpsTally::default(),
            &tally_nps(&[9, 9, 2]),
            &ScoreOptions::default(),
        );
        assert!(c.quality.no_data);
        assert_eq!((c.diff, c.p_value, c.significant), (None, None, None));
        assert!((c.after.unwrap() - 100.0 / 3.0).abs() < 1e-12);
    }

    #[test]
    fn unknown_group_is_defined() {
        let dict = crate::frame::Dict {
            names: vec!["a".into()],
        };
        let key = GroupKey::borrowed(&[0, 0], &dict);
        let g = tally_by::<11>(&[9, 10], 0, &key, 0..2).unwrap();
        let e = nps_of_group(&g, &key, "zzz", &ScoreOptions::default());
        assert!(e.quality.no_data);
        assert!(
            e.quality
                .warnings
                .iter()
                .any(|w| w.contains("unknown group"))
        );
        assert_eq!(
            nps_of_group(&g, &key, "a", &ScoreOptions::default()).nps,
            Some(100.0)
        );
    }
}
