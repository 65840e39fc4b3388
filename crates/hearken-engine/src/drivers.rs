//! Key drivers: how much of overall satisfaction (or NPS) each aspect explains.
//!
//! One pass over the survey columns accumulates [`Moments`] (means and co-moments of the target
//! and the aspects over complete cases, Welford-style, mergeable by Chan's formula), and
//! everything else is k x k algebra on them:
//! - OLS of the target on the aspects (coefficients, standard errors, t intervals, p-values, R²);
//! - the Shapley decomposition of R² (each aspect's average gain in R² over all orders of entry,
//!   exact over all 2^k subsets; the shares add up to R²);
//! - Johnson's (2000) relative weights (a quick approximation of the same split, also adding up
//!   to R²);
//! - the share attributable to the service aspect, as a fraction of R² and of the variance.
//!
//! Missing values: a response counts only when the target and every aspect are present
//! (complete cases), and `n` says how many did. An aspect with no variance is left out of the
//! model with a warning; collinear aspects make the result degenerate instead of wrong.

use std::ops::Range;

use serde::Serialize;

use crate::error::{EngineError, Result, same_len};
use crate::group::Partial;
use crate::linalg::{cholesky, cholesky_inverse, cholesky_solve, symmetric_eigen};
use crate::scores::MISSING_SCORE;
use crate::stats::{Level, Quality, t_p_two_sided};

/// Most aspects the exact Shapley decomposition takes (2^15 subset regressions).
pub const MAX_ASPECTS: usize = 15;

/// Means and co-moments (sums of products of deviations) of `dims` variables over complete rows.
/// Variable 0 is the target.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Moments {
    pub n: u64,
    pub mean: Vec<f64>,
    /// `dims x dims`, row-major.
    pub comoment: Vec<f64>,
}

impl Moments {
    pub fn new(dims: usize) -> Moments {
        Moments {
            n: 0,
            mean: vec![0.0; dims],
            comoment: vec![0.0; dims * dims],
        }
    }

    pub fn dims(&self) -> usize {
        self.mean.len()
    }

    /// Adds one complete row (`x.len() == dims`); `delta` is scratch of the same length.
    #[inline]
    pub fn push(&mut self, x: &[f64], delta: &mut [f64]) {
        let d = self.dims();
        self.n += 1;
        let inv = 1.0 / self.n as f64;
        for ((dl, m), &v) in delta.iter_mut().zip(self.mean.iter_mut()).zip(x) {
            *dl = v - *m;
            *m += *dl * inv;
        }
        for (row, (&v, &m)) in self
            .comoment
            .chunks_exact_mut(d)
            .zip(x.iter().zip(&self.mean))
        {
            let after = v - m;
            for (c, &dl) in row.iter_mut().zip(delta.iter()) {
                *c += dl * after;
            }
        }
    }

    fn cov(&self, i: usize, j: usize) -> f64 {
        self.comoment[i * self.dims() + j]
    }
}

impl Partial for Moments {
    fn merge(&mut self, o: &Self) {
        if o.n == 0 {
            return;
        }
        if self.n == 0 {
            *self = o.clone();
            return;
        }
        let d = self.dims().min(o.dims());
        let (na, nb) = (self.n as f64, o.n as f64);
        let n = na + nb;
        let delta: Vec<f64> = (0..d).map(|i| o.mean[i] - self.mean[i]).collect();
        for i in 0..d {
            for j in 0..d {
                self.comoment[i * d + j] +=
                    o.comoment[i * d + j] + delta[i] * delta[j] * na * nb / n;
            }
            self.mean[i] += delta[i] * nb / n;
        }
        self.n += o.n;
    }
}

/// The satisfaction measure the aspects should explain.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// A 0..10 rating column, NaN when missing (e.g. `SurveyFrame::overall`).
    Rating(&'a [f32]),
    /// An integer score column, [`MISSING_SCORE`] when missing (e.g. `SurveyFrame::nps`, whose
    /// 0..10 answers are then treated as a rating).
    Score(&'a [u8]),
}

impl Target<'_> {
    fn len(&self) -> usize {
        match self {
            Target::Rating(v) => v.len(),
            Target::Score(v) => v.len(),
        }
    }

    #[inline]
    fn get(&self, row: usize) -> f64 {
        match self {
            Target::Rating(v) => f64::from(v[row]),
            Target::Score(v) if v[row] == MISSING_SCORE => f64::NAN,
            Target::Score(v) => f64::from(v[row]),
        }
    }
}

/// Accumulates the moments of `target` and `aspects` over the complete cases among `rows`.
pub fn moments(target: Target<'_>, aspects: &[&[f32]], rows: Range<usize>) -> Result<Moments> {
    for a in aspects {
        same_len("aspect", a.len(), "target", target.len())?;
    }
    let d = aspects.len() + 1;
    let mut m = Moments::new(d);
    let mut x = vec![0.0; d];
    let mut delta = vec![0.0; d];
    'rows: for row in rows.start..rows.end.min(target.len()) {
        x[0] = target.get(row);
        if !x[0].is_finite() {
            continue;
        }
        for (j, a) in aspects.iter().enumerate() {
            let v = f64::from(a[row]);
            if !v.is_finite() {
                continue 'rows;
            }
            x[j + 1] = v;
        }
        m.push(&x, &mut delta);
    }
    Ok(m)
}

/// How a driver analysis is run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DriverOptions {
    pub level: Level,
    /// The aspect reported as "service"; `None` picks the first aspect whose name contains
    /// `service` (any case).
    pub service: Option<String>,
    /// Below this many complete responses the result is flagged `small_sample`.
    pub min_n: u64,
}

impl Default for DriverOptions {
    fn default() -> DriverOptions {
        DriverOptions {
            level: Level::NINETY,
            service: None,
            min_n: 100,
        }
    }
}

/// An OLS coefficient with its uncertainty.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coefficient {
    pub coef: f64,
    pub se: f64,
    pub t: f64,
    pub p_value: f64,
    pub low: f64,
    pub high: f64,
}

/// One aspect's part in the target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Driver {
    pub aspect: String,
    /// Pearson correlation with the target.
    pub correlation: Option<f64>,
    pub ols: Option<Coefficient>,
    /// Shapley share of R² (the shares add up to R²).
    pub shapley: Option<f64>,
    /// `shapley / r2`: the fraction of the explained variance due to this aspect.
    pub shapley_share: Option<f64>,
    /// Johnson's relative weight (the weights add up to R²).
    pub relative_weight: Option<f64>,
    pub relative_weight_share: Option<f64>,
}

/// The part of the service aspect.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceShare {
    pub aspect: String,
    /// Fraction of the target's variance explained by service (its Shapley value).
    pub of_variance: f64,
    /// Fraction of the explained variance (R²) due to service.
    pub of_explained: f64,
}

/// A key driver analysis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Drivers {
    /// Complete responses used.
    pub n: u64,
    pub r2: Option<f64>,
    pub adj_r2: Option<f64>,
    pub level: f64,
    pub intercept: Option<Coefficient>,
    /// In the order given.
    pub drivers: Vec<Driver>,
    pub service: Option<ServiceShare>,
    #[serde(flatten)]
    pub quality: Quality,
}

/// Runs the driver analysis on accumulated moments; `names` are the aspects, in column order.
pub fn key_drivers(m: &Moments, names: &[&str], opts: &DriverOptions) -> Result<Drivers> {
    let k = names.len();
    same_len("aspect names", k + 1, "moments", m.dims())?;
    if k > MAX_ASPECTS {
        return Err(EngineError::TooManyAspects {
            got: k,
            max: MAX_ASPECTS,
        });
    }
    let mut quality = Quality::for_n(m.n, opts.min_n);
    let mut out = Drivers {
        n: m.n,
        r2: None,
        adj_r2: None,
        level: opts.level.get(),
        intercept: None,
        drivers: names
            .iter()
            .map(|n| Driver {
                aspect: n.to_string(),
                correlation: None,
                ols: None,
                shapley: None,
                shapley_share: None,
                relative_weight: None,
                relative_weight_share: None,
            })
            .collect(),
        service: None,
        quality: Quality::default(),
    };
    let nf = m.n as f64;
    let constant = |i: usize| {
        let sd = (m.cov(i, i).max(0.0) / nf).sqrt();
        m.n < 2 || sd <= 1e-9 * m.mean[i].abs().max(1.0)
    };
    if m.n > 0 && constant(0) {
        quality.degenerate("the target does not vary: there is nothing to explain");
    }
    // Aspects that vary; a constant one explains nothing and would make the system singular.
    let active: Vec<usize> = (1..=k).filter(|&i| !constant(i)).collect();
    for i in (1..=k).filter(|i| !active.contains(i)) {
        if m.n >= 2 {
            quality.warnings.push(format!(
                "aspect '{}' does not vary and was left out",
                names[i - 1]
            ));
        }
    }
    let p = active.len();
    if m.n as usize <= p + 1 || quality.degenerate || p == 0 {
        if !quality.no_data && !quality.degenerate {
            quality.degenerate(format!(
                "{} complete responses for {p} aspects: need more than {}",
                m.n,
                p + 1
            ));
        }
        out.quality = quality;
        return Ok(out);
    }

    // Centred cross-products of the active aspects (Sxx) and with the target (Sxy).
    let sxx: Vec<f64> = active
        .iter()
        .flat_map(|&i| active.iter().map(move |&j| m.cov(i, j)))
        .collect();
    let sxy: Vec<f64> = active.iter().map(|&i| m.cov(i, 0)).collect();
    let syy = m.cov(0, 0);
    let Some(l) = cholesky(&sxx, p) else {
        quality.degenerate(
            "the aspects are collinear (one is a combination of others): drop one and rerun",
        );
        out.quality = quality;
        return Ok(out);
    };
    let b = cholesky_solve(&l, p, &sxy);
    let explained: f64 = b.iter().zip(&sxy).map(|(b, s)| b * s).sum();
    let ssr = (syy - explained).max(0.0);
    let r2 = 1.0 - ssr / syy;
    let df = nf - p as f64 - 1.0;
    let sigma2 = ssr / df;
    let inv = cholesky_inverse(&l, p);
    let tq = opts.level.t(df);
    let coef = |c: f64, var: f64| {
        let se = var.max(0.0).sqrt();
        let t = c / se;
        Coefficient {
            coef: c,
            se,
            t,
            p_value: t_p_two_sided(t, df),
            low: c - tq * se,
            high: c + tq * se,
        }
    };
    let xbar: Vec<f64> = active.iter().map(|&i| m.mean[i]).collect();
    let intercept = m.mean[0] - b.iter().zip(&xbar).map(|(b, x)| b * x).sum::<f64>();
    let quad: f64 = (0..p)
        .flat_map(|i| (0..p).map(move |j| (i, j)))
        .map(|(i, j)| xbar[i] * inv[i * p + j] * xbar[j])
        .sum();
    out.intercept = Some(coef(intercept, sigma2 * (1.0 / nf + quad)));
    out.r2 = Some(r2);
    out.adj_r2 = Some(1.0 - (1.0 - r2) * (nf - 1.0) / df);

    // Correlations of the active aspects, for the decompositions.
    let sd: Vec<f64> = (0..=k).map(|i| m.cov(i, i).sqrt()).collect();
    let corr = |i: usize, j: usize| m.cov(i, j) / (sd[i] * sd[j]);
    let rxx: Vec<f64> = active
        .iter()
        .flat_map(|&i| active.iter().map(move |&j| corr(i, j)))
        .collect();
    let rxy: Vec<f64> = active.iter().map(|&i| corr(i, 0)).collect();
    let shapley = shapley_r2(&rxx, &rxy, p);
    let weights = relative_weights(&rxx, &rxy, p);

    for (a, &i) in active.iter().enumerate() {
        let d = &mut out.drivers[i - 1];
        d.correlation = Some(corr(i, 0));
        d.ols = Some(coef(b[a], sigma2 * inv[a * p + a]));
        d.shapley = Some(shapley[a]);
        d.relative_weight = Some(weights[a]);
        if r2 > 0.0 {
            d.shapley_share = Some(shapley[a] / r2);
            d.relative_weight_share = Some(weights[a] / r2);
        }
    }

    let service = match &opts.service {
        Some(s) => names.iter().position(|n| n == s),
        None => names
            .iter()
            .position(|n| n.to_ascii_lowercase().contains("service")),
    };
    match (service, &opts.service) {
        (Some(s), _) => {
            if let Some(sh) = out.drivers[s].shapley {
                out.service = Some(ServiceShare {
                    aspect: names[s].to_string(),
                    of_variance: sh,
                    of_explained: if r2 > 0.0 { sh / r2 } else { 0.0 },
                });
            }
        }
        (None, Some(s)) => quality
            .warnings
            .push(format!("service aspect '{s}' is not among the aspects")),
        (None, None) => {}
    }
    out.quality = quality;
    Ok(out)
}

/// Exact Shapley decomposition of R² from the predictors' correlation matrix `rxx` (p x p) and
/// their correlations with the target `rxy`.
fn shapley_r2(rxx: &[f64], rxy: &[f64], p: usize) -> Vec<f64> {
    let subsets = 1usize << p;
    let mut r2 = vec![0.0; subsets];
    let mut idx = Vec::with_capacity(p);
    let mut sub = Vec::with_capacity(p * p);
    let mut r = Vec::with_capacity(p);
    for (mask, slot) in r2.iter_mut().enumerate().skip(1) {
        idx.clear();
        idx.extend((0..p).filter(|j| mask & (1 << j) != 0));
        let s = idx.len();
        sub.clear();
        sub.extend(
            idx.iter()
                .flat_map(|&i| idx.iter().map(move |&j| rxx[i * p + j])),
        );
        r.clear();
        r.extend(idx.iter().map(|&i| rxy[i]));
        // Every principal submatrix of a positive definite matrix is positive definite.
        *slot = cholesky(&sub, s)
            .map(|l| {
                let beta = cholesky_solve(&l, s, &r);
                beta.iter().zip(&r).map(|(b, r)| b * r).sum()
            })
            .unwrap_or(0.0);
    }
    // weight(s) = s! (p - s - 1)! / p!, the chance that a given set of size s precedes j.
    let fact: Vec<f64> = (0..=p)
        .scan(1.0, |f, i| {
            if i > 0 {
                *f *= i as f64;
            }
            Some(*f)
        })
        .collect();
    let weight = |s: usize| fact[s] * fact[p - s - 1] / fact[p];
    (0..p)
        .map(|j| {
            let bit = 1 << j;
            (0..subsets)
                .filter(|m| m & bit == 0)
                .map(|m| weight(m.count_ones() as usize) * (r2[m | bit] - r2[m]))
                .sum()
        })
        .collect()
}

/// Johnson's (2000) relative weights: with `Rxx = Q Λ Qᵀ` and `Λ* = Q Λ^½ Qᵀ` (the correlations of
/// the predictors with their closest orthogonal counterparts), `β = Λ*⁻¹ rxy` and
/// `εⱼ = Σₘ Λ*ⱼₘ² βₘ²`.
fn relative_weights(rxx: &[f64], rxy: &[f64], p: usize) -> Vec<f64> {
    let (vals, vecs) = symmetric_eigen(rxx, p);
    let root = |i: usize, j: usize, f: &dyn Fn(f64) -> f64| -> f64 {
        (0..p)
            .map(|m| vecs[i * p + m] * f(vals[m]) * vecs[j * p + m])
            .sum()
    };
    let half: Vec<f64> = (0..p * p)
        .map(|ij| root(ij / p, ij % p, &|v| v.max(0.0).sqrt()))
        .collect();
    let inv_half: Vec<f64> = (0..p * p)
        .map(|ij| root(ij / p, ij % p, &|v| 1.0 / v.max(f64::MIN_POSITIVE).sqrt()))
        .collect();
    let beta: Vec<f64> = (0..p)
        .map(|i| (0..p).map(|j| inv_half[i * p + j] * rxy[j]).sum())
        .collect();
    (0..p)
        .map(|j| {
            (0..p)
                .map(|m| half[j * p + m].powi(2) * beta[m].powi(2))
                .sum()
        })
        .collect()
}

/// An internal KPI (time to first answer, handle time, ...) set beside what customers value: how
/// it moves with the target, over the responses where both are known.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KpiLink {
    pub kpi: String,
    /// Responses with both the KPI and the target.
    pub n: u64,
    /// Pearson correlation with the target.
    pub correlation: Option<f64>,
    /// Its interval (Fisher z transform) at `level`.
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub level: f64,
}

/// Pearson correlation of each KPI column (NaN when unknown) with the target, with Fisher-z
/// intervals; a KPI known for fewer than 4 responses, or constant, has no correlation.
pub fn kpi_links(
    target: Target<'_>,
    kpis: &[(&str, &[f32])],
    level: Level,
) -> Result<Vec<KpiLink>> {
    let z = level.z();
    kpis.iter()
        .map(|&(name, col)| {
            same_len("kpi", col.len(), "target", target.len())?;
            let (mut n, mut sx, mut sy, mut sxx, mut syy, mut sxy) =
                (0u64, 0.0, 0.0, 0.0, 0.0, 0.0);
            // Two passes (means, then centred sums) keep the sums exact enough for large counts.
            for (row, &x) in col.iter().enumerate() {
                let y = target.get(row);
                if x.is_nan() || y.is_nan() {
                    continue;
                }
                n += 1;
                sx += f64::from(x);
                sy += y;
            }
            let (mx, my) = (sx / n.max(1) as f64, sy / n.max(1) as f64);
            for (row, &x) in col.iter().enumerate() {
                let y = target.get(row);
                if x.is_nan() || y.is_nan() {
                    continue;
                }
                let (dx, dy) = (f64::from(x) - mx, y - my);
                sxx += dx * dx;
                syy += dy * dy;
                sxy += dx * dy;
            }
            let r = (n >= 4 && sxx > 0.0 && syy > 0.0)
                .then(|| (sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0));
            let interval = r.filter(|r| r.abs() < 1.0).map(|r| {
                let half = z / ((n - 3) as f64).sqrt();
                ((r.atanh() - half).tanh(), (r.atanh() + half).tanh())
            });
            Ok(KpiLink {
                kpi: name.to_string(),
                n,
                correlation: r,
                low: interval.map(|i| i.0),
                high: interval.map(|i| i.1),
                level: level.get(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data(n: usize) -> (Vec<f32>, Vec<Vec<f32>>) {
        // Deterministic pseudo-random aspects; the target leans on the first.
        let mut s: u64 = 42;
        let mut next = || {
            s = s.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            ((s >> 33) % 1000) as f32 / 100.0
        };
        let aspects: Vec<Vec<f32>> = (0..3).map(|_| (0..n).map(|_| next()).collect()).collect();
        let y = (0..n)
            .map(|i| 0.6 * aspects[0][i] + 0.2 * aspects[1][i] + 0.3 * next())
            .collect();
        (y, aspects)
    }

    #[test]
    fn shares_add_up_to_r2_and_chunks_merge() {
        let (y, a) = data(500);
        let cols: Vec<&[f32]> = a.iter().map(Vec::as_slice).collect();
        let m = moments(Target::Rating(&y), &cols, 0..500).unwrap();
        let mut parts = moments(Target::Rating(&y), &cols, 0..123).unwrap();
        parts.merge(&moments(Target::Rating(&y), &cols, 123..500).unwrap());
        for (x, y) in m.comoment.iter().zip(&parts.comoment) {
            assert!((x - y).abs() < 1e-9 * x.abs().max(1.0));
        }
        let d = key_drivers(
            &m,
            &["service", "product", "price"],
            &DriverOptions::default(),
        )
        .unwrap();
        let r2 = d.r2.unwrap();
        let sh: f64 = d.drivers.iter().map(|d| d.shapley.unwrap()).sum();
        let rw: f64 = d.drivers.iter().map(|d| d.relative_weight.unwrap()).sum();
        assert!(
            (sh - r2).abs() < 1e-12 && (rw - r2).abs() < 1e-9,
            "{sh} {rw} {r2}"
        );
        assert_eq!(d.service.as_ref().unwrap().aspect, "service");
        assert!(d.service.unwrap().of_explained > 0.5);
    }

    #[test]
    fn thin_constant_and_collinear_inputs_are_flagged() {
        let m = Moments::new(3);
        let d = key_drivers(&m, &["a", "b"], &DriverOptions::default()).unwrap();
        assert!(d.quality.no_data && d.r2.is_none());
        assert!(key_drivers(&m, &["a"], &DriverOptions::default()).is_err());

        let y: Vec<f32> = (0..50).map(|i| (i % 7) as f32).collect();
        let same: Vec<f32> = (0..50).map(|i| (i % 5) as f32).collect();
        let flat = vec![3.0f32; 50];
        let m = moments(Target::Rating(&y), &[&same, &same], 0..50).unwrap();
        let d = key_drivers(&m, &["a", "b"], &DriverOptions::default()).unwrap();
        assert!(d.quality.degenerate && d.r2.is_none());
        let m = moments(Target::Rating(&y), &[&same, &flat], 0..50).unwrap();
        let d = key_drivers(&m, &["a", "flat"], &DriverOptions::default()).unwrap();
        assert!(d.r2.is_some() && d.drivers[1].shapley.is_none());
        assert!(d.quality.warnings.iter().any(|w| w.contains("'flat'")));
    }

    #[test]
    fn incomplete_rows_are_skipped() {
        let y = [1.0, f32::NAN, 3.0, 4.0];
        let a = [1.0, 2.0, f32::NAN, 4.0];
        let m = moments(Target::Rating(&y), &[&a], 0..4).unwrap();
        assert_eq!(m.n, 2);
        let s = moments(Target::Score(&[3, MISSING_SCORE, 5, 9]), &[&a], 0..4).unwrap();
        assert_eq!(s.n, 2);
    }
}
