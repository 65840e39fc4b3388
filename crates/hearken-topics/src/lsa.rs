//! Latent semantic analysis by randomised SVD (Halko, Martinsson & Tropp 2011) and the small
//! dense linear algebra it needs: sparse x dense products, Gram-Schmidt orthonormalisation and a
//! Jacobi eigensolver. Dense matrices are row-major `Vec<f64>`.

use crate::features::Csr;
use crate::linear::{Rng, axpy64, dot64};

/// A standard normal draw (Box-Muller); one of the pair is discarded for simplicity.
fn normal(rng: &mut Rng) -> f64 {
    let u1 = rng.unit().max(f64::MIN_POSITIVE);
    let u2 = rng.unit();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// `X (n x d sparse) * M (d x l)`, an n x l matrix.
fn mul(x: &Csr, m: &[f64], l: usize) -> Vec<f64> {
    let n = x.rows();
    let mut out = vec![0.0; n * l];
    for i in 0..n {
        let (idx, val) = x.row(i);
        let o = &mut out[i * l..(i + 1) * l];
        for (&j, &v) in idx.iter().zip(val) {
            let j = j as usize;
            let v = f64::from(v);
            axpy64(v, &m[j * l..(j + 1) * l], o);
        }
    }
    out
}

/// `X^T (d x n) * Q (n x l)`, a d x l matrix.
fn mul_t(x: &Csr, dim: usize, q: &[f64], l: usize) -> Vec<f64> {
    let mut out = vec![0.0; dim * l];
    for i in 0..x.rows() {
        let (idx, val) = x.row(i);
        let qi = &q[i * l..(i + 1) * l];
        for (&j, &v) in idx.iter().zip(val) {
            let j = j as usize;
            let v = f64::from(v);
            axpy64(v, qi, &mut out[j * l..(j + 1) * l]);
        }
    }
    out
}

/// Orthonormalises the columns of the row-major r x l matrix `m` in place (modified
/// Gram-Schmidt on a column-major copy, so every dot product reads contiguous memory). A column
/// that collapses to zero (rank deficiency) is left at zero.
fn orthonormalise(m: &mut [f64], r: usize, l: usize) {
    let mut cols = vec![0.0; r * l];
    for i in 0..r {
        for c in 0..l {
            cols[c * r + i] = m[i * l + c];
        }
    }
    for c in 0..l {
        let (done, rest) = cols.split_at_mut(c * r);
        let col = &mut rest[..r];
        for p in done.chunks_exact(r) {
            let dot = dot64(col, p);
            axpy64(-dot, p, col);
        }
        let norm = dot64(col, col).sqrt();
        let inv = if norm > 1e-12 { 1.0 / norm } else { 0.0 };
        col.iter_mut().for_each(|a| *a *= inv);
    }
    for i in 0..r {
        for c in 0..l {
            m[i * l + c] = cols[c * r + i];
        }
    }
}

/// Eigen-decomposition of a symmetric l x l matrix by cyclic Jacobi rotations. Returns the
/// eigenvalues, descending, and the eigenvectors as columns of a row-major l x l matrix.
fn symmetric_eigen(mut a: Vec<f64>, l: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0.0; l * l];
    for i in 0..l {
        v[i * l + i] = 1.0;
    }
    for _sweep in 0..60 {
        let off: f64 = (0..l)
            .flat_map(|i| (0..l).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| a[i * l + j] * a[i * l + j])
            .sum();
        let diag: f64 = (0..l).map(|i| a[i * l + i] * a[i * l + i]).sum();
        if off <= 1e-22 * diag.max(1e-300) {
            break;
        }
        for p in 0..l {
            for q in p + 1..l {
                let apq = a[p * l + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let theta = (a[q * l + q] - a[p * l + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..l {
                    let akp = a[k * l + p];
                    let akq = a[k * l + q];
                    a[k * l + p] = c * akp - s * akq;
                    a[k * l + q] = s * akp + c * akq;
                }
                for k in 0..l {
                    let apk = a[p * l + k];
                    let aqk = a[q * l + k];
                    a[p * l + k] = c * apk - s * aqk;
                    a[q * l + k] = s * apk + c * aqk;
                }
                for k in 0..l {
                    let vkp = v[k * l + p];
                    let vkq = v[k * l + q];
                    v[k * l + p] = c * vkp - s * vkq;
                    v[k * l + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..l).collect();
    order.sort_by(|&i, &j| a[j * l + j].total_cmp(&a[i * l + i]));
    let values = order.iter().map(|&i| a[i * l + i]).collect();
    let mut vectors = vec![0.0; l * l];
    for (new, &old) in order.iter().enumerate() {
        for k in 0..l {
            vectors[k * l + new] = v[k * l + old];
        }
    }
    (values, vectors)
}

/// The rank-`d` LSA embedding `U_d * S_d` of the rows of `x` (as scikit-learn's
/// `TruncatedSVD(algorithm="randomized").fit_transform`), row-major n x d. `d` is cut to what the
/// data supports.
pub(crate) fn lsa(
    x: &Csr,
    dim: usize,
    d: usize,
    power_iters: usize,
    seed: u64,
) -> (Vec<f64>, usize) {
    let n = x.rows();
    let d = d.min(n).min(dim);
    if d == 0 {
        return (Vec::new(), 0);
    }
    let l = (d + 10).min(n).min(dim);
    let mut rng = Rng::new(seed);
    let omega: Vec<f64> = (0..dim * l).map(|_| normal(&mut rng)).collect();
    let mut y = mul(x, &omega, l);
    orthonormalise(&mut y, n, l);
    for _ in 0..power_iters {
        let mut z = mul_t(x, dim, &y, l);
        orthonormalise(&mut z, dim, l);
        y = mul(x, &z, l);
        orthonormalise(&mut y, n, l);
    }
    // B = Q^T X is l x dim; B B^T = Z^T Z with Z = X^T Q.
    let z = mul_t(x, dim, &y, l);
    let mut c = vec![0.0; l * l];
    for row in z.chunks_exact(l) {
        for i in 0..l {
            if row[i] == 0.0 {
                continue;
            }
            for j in 0..l {
                c[i * l + j] += row[i] * row[j];
            }
        }
    }
    let (values, vectors) = symmetric_eigen(c, l);
    // Embedding = Q U S, first d columns.
    let mut out = vec![0.0; n * d];
    for i in 0..n {
        for k in 0..d {
            let s = values[k].max(0.0).sqrt();
            let dot: f64 = (0..l).map(|m| y[i * l + m] * vectors[m * l + k]).sum();
            out[i * d + k] = dot * s;
        }
    }
    (out, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jacobi_recovers_a_known_spectrum() {
        // [[2,1],[1,2]] has eigenvalues 3 and 1.
        let (vals, vecs) = symmetric_eigen(vec![2.0, 1.0, 1.0, 2.0], 2);
        assert!((vals[0] - 3.0).abs() < 1e-12 && (vals[1] - 1.0).abs() < 1e-12);
        let r = std::f64::consts::FRAC_1_SQRT_2;
        assert!((vecs[0].abs() - r).abs() < 1e-12 && (vecs[2].abs() - r).abs() < 1e-12);
    }

    #[test]
    fn lsa_of_a_rank_two_matrix_keeps_its_norm() {
        // Rows are combinations of two patterns: a rank-2 embedding preserves row lengths.
        let mut x = Csr::new();
        let rows: [&[(u32, f32)]; 4] = [
            &[(0, 1.0), (1, 1.0)],
            &[(2, 1.0), (3, 2.0)],
            &[(0, 2.0), (1, 2.0)],
            &[(0, 1.0), (1, 1.0), (2, 1.0), (3, 2.0)],
        ];
        for r in rows {
            x.push(&crate::features::SparseVec {
                idx: r.iter().map(|p| p.0).collect(),
                val: r.iter().map(|p| p.1).collect(),
            });
        }
        let (emb, d) = lsa(&x, 4, 2, 2, 1);
        assert_eq!(d, 2);
        for (i, r) in rows.iter().enumerate() {
            let want: f64 = r.iter().map(|p| f64::from(p.1 * p.1)).sum();
            let got: f64 = emb[i * 2..i * 2 + 2].iter().map(|v| v * v).sum();
            assert!((want - got).abs() < 1e-9, "row {i}: {want} vs {got}");
        }
    }
}
