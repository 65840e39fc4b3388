//! The Poisson generalised linear model (log link) behind volume effects: iteratively reweighted
//! least squares for the fit and a kernel-weighted sandwich for the covariance (Newey–West for one
//! series; Driscoll–Kraay, the Newey–West of per-day score sums, for a panel of series).
//!
//! Dense and small: designs have at most a few hundred columns (one per day of the windows plus
//! a weekday per control series). Matrices are row-major `Vec<f64>`.

use crate::linalg::{cholesky, cholesky_inverse, cholesky_solve};

/// A dense design: `rows` x `cols`, row-major, with the count and the time index of each row.
#[derive(Debug, Clone, Default)]
pub(super) struct Design {
    pub x: Vec<f64>,
    pub cols: usize,
    pub y: Vec<f64>,
    /// Time index of each row (day of the window), for the autocorrelation-robust covariance.
    pub time: Vec<usize>,
}

impl Design {
    pub fn rows(&self) -> usize {
        self.y.len()
    }

    fn row(&self, r: usize) -> &[f64] {
        &self.x[r * self.cols..(r + 1) * self.cols]
    }
}

/// A converged fit: coefficients, fitted means and the robust covariance.
#[derive(Debug, Clone)]
pub(super) struct Fit {
    pub beta: Vec<f64>,
    pub cov: Vec<f64>,
    #[allow(dead_code)]
    pub iterations: u32,
}

/// Why a model could not be fitted.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum FitError {
    /// Collinear columns (e.g. a fixed effect with no row left).
    Singular,
    /// IRLS did not settle (an estimate runs off to infinity: a count of zero where the model
    /// needs a positive one).
    NoConvergence,
}

const MAX_ITER: u32 = 200;

/// Poisson deviance of counts `y` at means `mu`.
fn deviance(y: &[f64], mu: &[f64]) -> f64 {
    2.0 * y
        .iter()
        .zip(mu)
        .map(|(&y, &m)| {
            let t = if y > 0.0 { y * (y / m).ln() } else { 0.0 };
            t - (y - m)
        })
        .sum::<f64>()
}

/// `X' W X` (cols x cols) and `X' W z`.
fn weighted_normal_equations(d: &Design, w: &[f64], z: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let p = d.cols;
    let mut xtwx = vec![0.0; p * p];
    let mut xtwz = vec![0.0; p];
    for r in 0..d.rows() {
        let row = d.row(r);
        // Designs are mostly dummies: visit only the non-zero entries of the row.
        let nz: Vec<(usize, f64)> = row
            .iter()
            .enumerate()
            .filter(|(_, v)| **v != 0.0)
            .map(|(j, v)| (j, *v))
            .collect();
        for &(i, xi) in &nz {
            xtwz[i] += w[r] * xi * z[r];
            for &(j, xj) in &nz {
                xtwx[i * p + j] += w[r] * xi * xj;
            }
        }
    }
    (xtwx, xtwz)
}

/// Fits `log E[y] = X b` by IRLS, starting (as statsmodels does) from `mu = (y + mean y) / 2`,
/// until the deviance changes by less than 1e-13 of itself. Returns the coefficients, the fitted
/// means and the Cholesky factor of the information `X' diag(mu) X` at the solution.
pub(super) fn poisson_irls(d: &Design) -> Result<(Vec<f64>, Vec<f64>, Vec<f64>, u32), FitError> {
    let n = d.rows();
    let p = d.cols;
    let mean = d.y.iter().sum::<f64>() / n.max(1) as f64;
    let mut mu: Vec<f64> = d.y.iter().map(|y| (y + mean) / 2.0).collect();
    let mut eta: Vec<f64> = mu.iter().map(|m| m.ln()).collect();
    let mut dev = deviance(&d.y, &mu);
    for iter in 1..=MAX_ITER {
        let z: Vec<f64> = (0..n).map(|r| eta[r] + (d.y[r] - mu[r]) / mu[r]).collect();
        let (xtwx, xtwz) = weighted_normal_equations(d, &mu, &z);
        let l = cholesky(&xtwx, p).ok_or(FitError::Singular)?;
        let beta = cholesky_solve(&l, p, &xtwz);
        for r in 0..n {
            eta[r] = d.row(r).iter().zip(&beta).map(|(x, b)| x * b).sum();
            mu[r] = eta[r].exp();
        }
        if mu.iter().any(|m| !m.is_finite() || *m <= 0.0) {
            return Err(FitError::NoConvergence);
        }
        let new = deviance(&d.y, &mu);
        let settled = (new - dev).abs() <= 1e-13 * (new.abs() + 1e-3);
        dev = new;
        if settled {
            // Counts of zero where the model needs a positive mean send a coefficient off to
            // minus infinity while the deviance settles; no log-rate of real counts is that far.
            if beta.iter().any(|b| !b.is_finite() || b.abs() > 40.0) {
                return Err(FitError::NoConvergence);
            }
            let (info, _) = weighted_normal_equations(d, &mu, &vec![0.0; n]);
            let l = cholesky(&info, p).ok_or(FitError::Singular)?;
            return Ok((beta, mu, l, iter));
        }
    }
    Err(FitError::NoConvergence)
}

/// Bartlett weights `1 - l / (lags + 1)` for `l = 0..=lags`.
fn bartlett(lags: usize) -> Vec<f64> {
    (0..=lags)
        .map(|l| 1.0 - l as f64 / (lags as f64 + 1.0))
        .collect()
}

/// The sandwich `I⁻¹ S I⁻¹` with `S` the Bartlett-kernel long-run covariance of the per-time
/// sums of the scores `x_r (y_r - mu_r)`: with one row per time this is Newey–West (statsmodels
/// `cov_type="HAC"`); with several series per time it is Driscoll–Kraay (statsmodels
/// `cov_type="hac-groupsum"`). No small-sample factor (statsmodels' `use_correction=False`).
pub(super) fn hac_cov(d: &Design, mu: &[f64], info_chol: &[f64], lags: usize) -> Vec<f64> {
    let p = d.cols;
    let times = d.time.iter().copied().max().map_or(0, |t| t + 1);
    let mut h = vec![0.0; times * p];
    for r in 0..d.rows() {
        let e = d.y[r] - mu[r];
        let t = d.time[r];
        for (j, x) in d.row(r).iter().enumerate() {
            if *x != 0.0 {
                h[t * p + j] += x * e;
            }
        }
    }
    let w = bartlett(lags);
    let mut s = vec![0.0; p * p];
    for (lag, wl) in w.iter().enumerate() {
        for t in lag..times {
            let (a, b) = (&h[t * p..(t + 1) * p], &h[(t - lag) * p..(t - lag + 1) * p]);
            for i in 0..p {
                if a[i] == 0.0 && b[i] == 0.0 {
                    continue;
                }
                for j in 0..p {
                    let v = a[i] * b[j];
                    if lag == 0 {
                        s[i * p + j] += wl * v;
                    } else {
                        s[i * p + j] += wl * v;
                        s[j * p + i] += wl * v;
                    }
                }
            }
        }
    }
    let inv = cholesky_inverse(info_chol, p);
    sandwich(&inv, &s, p)
}

/// `A S A` for symmetric `A` and `S` (p x p).
fn sandwich(a: &[f64], s: &[f64], p: usize) -> Vec<f64> {
    let mut as_ = vec![0.0; p * p];
    for i in 0..p {
        for k in 0..p {
            let aik = a[i * p + k];
            if aik == 0.0 {
                continue;
            }
            for j in 0..p {
                as_[i * p + j] += aik * s[k * p + j];
            }
        }
    }
    let mut out = vec![0.0; p * p];
    for i in 0..p {
        for k in 0..p {
            let v = as_[i * p + k];
            if v == 0.0 {
                continue;
            }
            for j in 0..p {
                out[i * p + j] += v * a[k * p + j];
            }
        }
    }
    out
}

/// Fits the model and its robust covariance.
pub(super) fn fit(d: &Design, lags: usize) -> Result<Fit, FitError> {
    let (beta, mu, l, iterations) = poisson_irls(d)?;
    let cov = hac_cov(d, &mu, &l, lags);
    Ok(Fit {
        beta,
        cov,
        iterations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One binary regressor: the Poisson MLE of `log(mean after / mean before)` is closed form.
    #[test]
    fn two_group_fit_is_the_log_ratio_of_means() {
        let y = [3.0, 5.0, 4.0, 6.0, 9.0, 8.0, 10.0, 11.0];
        let mut x = Vec::new();
        for r in 0..8 {
            x.extend_from_slice(&[1.0, f64::from(u8::from(r >= 4))]);
        }
        let d = Design {
            x,
            cols: 2,
            y: y.to_vec(),
            time: (0..8).collect(),
        };
        let f = fit(&d, 0).unwrap();
        let (b, a) = (18.0 / 4.0, 38.0 / 4.0);
        assert!((f.beta[0] - f64::ln(b)).abs() < 1e-10);
        assert!((f.beta[1] - f64::ln(a / b)).abs() < 1e-10);
        // HC0 sandwich of a saturated model: var(log mean) = sum (y - m)^2 / (n m)^2.
        let v = |ys: &[f64], m: f64| {
            ys.iter().map(|y| (y - m).powi(2)).sum::<f64>() / (4.0 * m).powi(2)
        };
        let expect = v(&y[..4], b) + v(&y[4..], a);
        assert!((f.cov[3] - expect).abs() < 1e-10, "{} {}", f.cov[3], expect);
    }

    #[test]
    fn a_zero_cell_and_collinear_columns_do_not_fit() {
        let d = Design {
            x: vec![1.0, 0.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0],
            cols: 2,
            y: vec![2.0, 3.0, 0.0, 0.0],
            time: vec![0, 1, 2, 3],
        };
        // The weights of the zero cell vanish: the fit fails one way or the other, never returns.
        assert!(poisson_irls(&d).is_err());
        let d = Design {
            x: vec![1.0, 1.0, 1.0, 1.0],
            cols: 2,
            y: vec![2.0, 3.0],
            time: vec![0, 1],
        };
        assert_eq!(poisson_irls(&d).unwrap_err(), FitError::Singular);
    }
}
