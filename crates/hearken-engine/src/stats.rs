//! Distributions, interval formulas and the bootstrap shared by every estimate.
//!
//! Quantiles and tail probabilities come from `statrs` (no hand-rolled approximations). Every
//! function here is total: an argument outside its domain gives NaN or `None`, never a panic, so
//! callers can pass counts straight from the data.

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand_distr::{Binomial, Distribution};
use serde::Serialize;
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

use crate::error::{EngineError, Result};

/// A two-sided confidence level in (0, 1). 90% by default, as Hubbard recommends for decisions.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct Level(f64);

impl Level {
    pub const NINETY: Level = Level(0.9);

    pub fn new(level: f64) -> Result<Level> {
        if level.is_finite() && level > 0.0 && level < 1.0 {
            Ok(Level(level))
        } else {
            Err(EngineError::BadLevel(level))
        }
    }

    pub fn get(self) -> f64 {
        self.0
    }

    /// The normal critical value `z` with `P(|Z| <= z) = level`.
    pub fn z(self) -> f64 {
        normal_quantile(0.5 + self.0 / 2.0)
    }

    /// The Student t critical value with `df` degrees of freedom; NaN when `df <= 0`.
    pub fn t(self, df: f64) -> f64 {
        t_quantile(0.5 + self.0 / 2.0, df)
    }
}

impl Default for Level {
    fn default() -> Level {
        Level::NINETY
    }
}

/// How an interval is computed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IntervalMethod {
    /// The closed-form interval of each score: normal (trinomial variance) for NPS and net
    /// sentiment, Wilson for proportions, Student t for means.
    #[default]
    Analytic,
    /// Percentile bootstrap: `resamples` multinomial resamples of the response counts, drawn from
    /// a generator seeded with `seed`, so the same input and seed give the same interval.
    Bootstrap { resamples: u32, seed: u64 },
}

/// What every estimate says about how far to trust it. Serialised inline in the estimate.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Quality {
    /// No observation: the value and its interval are absent, not zero.
    pub no_data: bool,
    /// Fewer observations than the configured minimum: the interval is wide, read it, not the
    /// point estimate.
    pub small_sample: bool,
    /// The interval has zero width (e.g. all responses promoters) or could not be formed (one
    /// response): the data cannot show the uncertainty, which is still there.
    pub degenerate: bool,
    /// Human-readable notes, one per issue, for reports and `--json` readers.
    pub warnings: Vec<String>,
}

impl Quality {
    /// The flags every estimate on `n` observations starts with.
    pub(crate) fn for_n(n: u64, min_n: u64) -> Quality {
        let mut q = Quality::default();
        if n == 0 {
            q.no_data = true;
            q.warnings
                .push("no data: no response in this selection, so no estimate".into());
        } else if n < min_n {
            q.small_sample = true;
            q.warnings.push(format!(
                "small sample: n = {n} (< {min_n}); the interval is wide and the point estimate unreliable"
            ));
        }
        q
    }

    pub(crate) fn degenerate(&mut self, why: impl Into<String>) {
        self.degenerate = true;
        self.warnings.push(why.into());
    }
}

/// Standard normal quantile; NaN outside (0, 1).
pub fn normal_quantile(p: f64) -> f64 {
    if p > 0.0 && p < 1.0 {
        Normal::standard().inverse_cdf(p)
    } else {
        f64::NAN
    }
}

/// Two-sided p-value of a standard normal statistic.
pub fn normal_p_two_sided(z: f64) -> f64 {
    if z.is_nan() {
        return f64::NAN;
    }
    (2.0 * Normal::standard().sf(z.abs())).min(1.0)
}

/// Student t quantile with `df` degrees of freedom (fractional allowed); NaN outside the domain.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    if !(p > 0.0 && p < 1.0) {
        return f64::NAN;
    }
    match StudentsT::new(0.0, 1.0, df) {
        Ok(t) => t.inverse_cdf(p),
        Err(_) => f64::NAN,
    }
}

/// Two-sided p-value of a Student t statistic.
pub fn t_p_two_sided(t: f64, df: f64) -> f64 {
    if t.is_nan() {
        return f64::NAN;
    }
    match StudentsT::new(0.0, 1.0, df) {
        Ok(d) => (2.0 * d.sf(t.abs())).min(1.0),
        Err(_) => f64::NAN,
    }
}

/// Wilson score interval for `successes` out of `n`, as fractions in [0, 1]; `None` when `n = 0`.
pub fn wilson(successes: u64, n: u64, level: Level) -> Option<(f64, f64)> {
    if n == 0 || successes > n {
        return None;
    }
    let nf = n as f64;
    let p = successes as f64 / nf;
    let z = level.z();
    let z2 = z * z;
    let denom = 1.0 + z2 / nf;
    let center = (p + z2 / (2.0 * nf)) / denom;
    let half = z * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt() / denom;
    // Clamped to [0, 1] and, against rounding at p = 0 or 1, to contain the estimate.
    Some((
        (center - half).max(0.0).min(p),
        (center + half).min(1.0).max(p),
    ))
}

/// The `q` quantile of sorted data, linear interpolation between order statistics (numpy's
/// default, "type 7"). NaN for no data.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        len => {
            let h = (len - 1) as f64 * q.clamp(0.0, 1.0);
            let lo = h.floor() as usize;
            let hi = (lo + 1).min(len - 1);
            sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
        }
    }
}

/// The seeded generator behind every bootstrap: the same seed gives the same stream on every
/// platform.
pub(crate) fn rng(seed: u64) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::seed_from_u64(seed)
}

/// One multinomial resample of `counts` (same total), by sequential conditional binomials, so a
/// resample costs O(categories) whatever the number of responses.
pub(crate) fn resample<const K: usize>(
    counts: &[u64; K],
    rng: &mut Xoshiro256PlusPlus,
) -> [u64; K] {
    let mut out = [0u64; K];
    let mut left_n: u64 = counts.iter().sum();
    let mut left_w = left_n;
    for (i, &c) in counts.iter().enumerate() {
        if left_n == 0 || left_w == 0 {
            break;
        }
        if i + 1 == K || c == left_w {
            out[i] = left_n;
            break;
        }
        let p = (c as f64 / left_w as f64).clamp(0.0, 1.0);
        // `p` is in [0, 1] and `left_n` is finite, the only ways `Binomial::new` fails.
        let draw = Binomial::new(left_n, p).map_or(0, |b| b.sample(rng));
        out[i] = draw;
        left_n -= draw;
        left_w -= c;
    }
    out
}

/// Percentile bootstrap interval of `stat` over multinomial resamples of `counts`.
pub(crate) fn bootstrap_interval<const K: usize>(
    counts: &[u64; K],
    resamples: u32,
    seed: u64,
    level: Level,
    stat: impl Fn(&[u64; K]) -> Option<f64>,
) -> Option<(f64, f64)> {
    let mut rng = rng(seed);
    let mut draws: Vec<f64> = (0..resamples)
        .filter_map(|_| stat(&resample(counts, &mut rng)))
        .filter(|x| x.is_finite())
        .collect();
    if draws.is_empty() {
        return None;
    }
    draws.sort_by(f64::total_cmp);
    let a = (1.0 - level.get()) / 2.0;
    Some((quantile_sorted(&draws, a), quantile_sorted(&draws, 1.0 - a)))
}

/// Percentile bootstrap of a difference `stat(after) - stat(before)`, with the two-sided
/// bootstrap p-value of "no change" (twice the smaller tail share at zero, at most 1).
pub(crate) fn bootstrap_difference<const K: usize>(
    before: &[u64; K],
    after: &[u64; K],
    resamples: u32,
    seed: u64,
    level: Level,
    stat: impl Fn(&[u64; K]) -> Option<f64>,
) -> Option<(f64, f64, f64)> {
    let mut rng = rng(seed);
    let mut draws = Vec::with_capacity(resamples as usize);
    for _ in 0..resamples {
        let b = stat(&resample(before, &mut rng));
        let a = stat(&resample(after, &mut rng));
        if let (Some(b), Some(a)) = (b, a)
            && (a - b).is_finite()
        {
            draws.push(a - b);
        }
    }
    if draws.is_empty() {
        return None;
    }
    draws.sort_by(f64::total_cmp);
    let m = draws.len() as f64;
    let below = draws.iter().filter(|&&d| d <= 0.0).count() as f64 / m;
    let above = draws.iter().filter(|&&d| d >= 0.0).count() as f64 / m;
    let p = (2.0 * below.min(above)).min(1.0);
    let a = (1.0 - level.get()) / 2.0;
    Some((
        quantile_sorted(&draws, a),
        quantile_sorted(&draws, 1.0 - a),
        p,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_rejects_outside_unit_interval() {
        for bad in [0.0, 1.0, -0.1, 90.0, f64::NAN] {
            assert!(Level::new(bad).is_err(), "{bad}");
        }
        let z = Level::new(0.95).unwrap().z();
        assert!((z - 1.959_963_984_540_054).abs() < 1e-12, "{z}");
    }

    #[test]
    fn out_of_domain_is_nan_not_panic() {
        assert!(normal_quantile(1.5).is_nan());
        assert!(t_quantile(0.5, 0.0).is_nan());
        assert!(t_quantile(0.5, f64::NAN).is_nan());
        assert!(t_p_two_sided(1.0, -3.0).is_nan());
        assert_eq!(wilson(3, 0, Level::NINETY), None);
        assert_eq!(wilson(4, 3, Level::NINETY), None);
    }

    #[test]
    fn resample_keeps_the_total_and_empty_categories() {
        let mut r = rng(7);
        let counts = [5u64, 0, 12, 3];
        for _ in 0..200 {
            let out = resample(&counts, &mut r);
            assert_eq!(out.iter().sum::<u64>(), 20);
            assert_eq!(out[1], 0);
        }
        assert_eq!(resample(&[0u64; 3], &mut r), [0, 0, 0]);
    }

    #[test]
    fn quantile_interpolates_like_numpy() {
        let xs = [1.0, 2.0, 4.0, 8.0];
        assert_eq!(quantile_sorted(&xs, 0.5), 3.0);
        assert_eq!(quantile_sorted(&xs, 1.0), 8.0);
        assert!((quantile_sorted(&xs, 0.9) - 6.8).abs() < 1e-12);
    }
}
