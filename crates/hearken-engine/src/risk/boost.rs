//! Small gradient-boosted trees for the risk model: logistic loss, second-order (Newton) leaf
//! values with an L2 penalty, level-wise trees of a fixed depth over histogram bins (quantile cut
//! points, at most 64 bins a column), rows subsampled per round by a hash (deterministic, no
//! random state). The same family as scikit-learn's `HistGradientBoostingClassifier` and
//! XGBoost's `hist` method, in a few hundred lines: a risk model has some forty columns and at
//! most a few hundred thousand rows.
//!
//! Contributions per column (for reasons) are Saabas's path attribution: along a row's path in
//! each tree, the change of the node value at a split is credited to the split's column; base,
//! root values and contributions sum to the row's log-odds.

use serde::{Deserialize, Serialize};

use super::bad_option;
use crate::error::Result;

/// How the trees are grown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct BoostOptions {
    pub rounds: u32,
    pub depth: u32,
    pub learning_rate: f64,
    /// L2 penalty on leaf values (XGBoost's `lambda`).
    pub l2: f64,
    /// A child needs at least this much hessian (weighted `p (1 - p)`).
    pub min_child_weight: f64,
    /// Share of rows each round sees.
    pub subsample: f64,
}

impl Default for BoostOptions {
    fn default() -> BoostOptions {
        BoostOptions {
            rounds: 150,
            depth: 3,
            learning_rate: 0.1,
            l2: 1.0,
            min_child_weight: 1.0,
            subsample: 0.8,
        }
    }
}

impl BoostOptions {
    pub(crate) fn validate(&self) -> Result<()> {
        if !(1..=2000).contains(&self.rounds) {
            return Err(bad_option(
                "rounds",
                format!("is {}; give 1 to 2000", self.rounds),
            ));
        }
        if !(1..=8).contains(&self.depth) {
            return Err(bad_option(
                "depth",
                format!("is {}; give 1 to 8", self.depth),
            ));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate <= 1.0) {
            return Err(bad_option(
                "learning_rate",
                format!("is {}; give a value in (0, 1]", self.learning_rate),
            ));
        }
        if !(self.l2.is_finite()
            && self.l2 >= 0.0
            && self.min_child_weight.is_finite()
            && self.min_child_weight >= 0.0)
        {
            return Err(bad_option(
                "l2 / min_child_weight",
                "give non-negative numbers",
            ));
        }
        if !(self.subsample > 0.0 && self.subsample <= 1.0) {
            return Err(bad_option(
                "subsample",
                format!("is {}; give a share in (0, 1]", self.subsample),
            ));
        }
        Ok(())
    }
}

/// A node: a split (`feature < LEAF`: rows with `x <= threshold` go left) or a leaf. `value` is
/// the node's Newton value times the learning rate, as if it were a leaf.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Node {
    pub feature: u32,
    pub threshold: f32,
    pub left: u32,
    pub right: u32,
    pub value: f64,
}

pub const LEAF: u32 = u32::MAX;

/// The fitted ensemble: log-odds = `base` + the leaf value of each tree.
#[derive(Debug, Clone, PartialEq)]
pub struct Boosted {
    pub base: f64,
    /// Trees, each a list of nodes with the root first.
    pub trees: Vec<Vec<Node>>,
}

impl Boosted {
    /// The log-odds of a row (values as f32, as the trees were fitted on).
    pub fn logit(&self, row: &[f32]) -> f64 {
        let mut s = self.base;
        for t in &self.trees {
            let mut i = 0usize;
            loop {
                let n = &t[i];
                if n.feature == LEAF {
                    s += n.value;
                    break;
                }
                let x = row.get(n.feature as usize).copied().unwrap_or(0.0);
                i = if x <= n.threshold { n.left } else { n.right } as usize;
            }
        }
        s
    }

    /// Saabas contributions per column (added into `out`); returns the sum of the base and the
    /// root values, so that `bias + sum(out) == logit(row)`.
    pub fn contributions(&self, row: &[f32], out: &mut [f64]) -> f64 {
        let mut bias = self.base;
        for t in &self.trees {
            let mut i = 0usize;
            bias += t[0].value;
            loop {
                let n = &t[i];
                if n.feature == LEAF {
                    break;
                }
                let x = row.get(n.feature as usize).copied().unwrap_or(0.0);
                let next = if x <= n.threshold { n.left } else { n.right } as usize;
                if let Some(o) = out.get_mut(n.feature as usize) {
                    *o += t[next].value - n.value;
                }
                i = next;
            }
        }
        bias
    }

    /// Checks that every tree is well formed over `k` columns (for bytes read back).
    pub(crate) fn check(&self, k: usize) -> bool {
        self.base.is_finite()
            && self.trees.iter().all(|t| {
                !t.is_empty()
                    && t.iter().enumerate().all(|(i, n)| {
                        n.value.is_finite()
                            && (n.feature == LEAF
                                || ((n.feature as usize) < k
                                    && n.threshold.is_finite()
                                    && (n.left as usize) > i
                                    && (n.right as usize) > i
                                    && (n.left as usize) < t.len()
                                    && (n.right as usize) < t.len()))
                    })
            })
    }
}

fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

const MAX_BINS: usize = 64;

/// Cut points of one column: up to 63 distinct values at quantiles of the column.
fn cuts(values: &mut [f32]) -> Vec<f32> {
    values.sort_by(f32::total_cmp);
    let n = values.len();
    let mut out: Vec<f32> = Vec::new();
    if n == 0 {
        return out;
    }
    for b in 1..MAX_BINS {
        let v = values[(b * n / MAX_BINS).min(n - 1)];
        if out.last().is_none_or(|&l| v > l) {
            out.push(v);
        }
    }
    // The largest value needs no cut (everything is <= it).
    if out.last() == values.last() {
        out.pop();
    }
    out
}

/// Fits the ensemble to rows `x` (`k` columns, row-major), labels and weights.
pub fn fit(x: &[f32], k: usize, y: &[bool], w: &[f64], opts: &BoostOptions) -> Result<Boosted> {
    opts.validate()?;
    let n = y.len();
    // Bin every column: bins[j * n + i] is the number of cut points below x.
    let mut col_cuts: Vec<Vec<f32>> = Vec::with_capacity(k);
    let mut bins = vec![0u8; n * k];
    let mut column = vec![0f32; n];
    for j in 0..k {
        for i in 0..n {
            column[i] = x[i * k + j];
        }
        let mut sample: Vec<f32> = column.clone();
        let c = cuts(&mut sample);
        for i in 0..n {
            bins[j * n + i] = c.partition_point(|&cut| cut < column[i]) as u8;
        }
        col_cuts.push(c);
    }
    let wsum: f64 = w.iter().sum();
    let pos: f64 = y.iter().zip(w).filter(|(y, _)| **y).map(|(_, w)| w).sum();
    let p0 = (pos / wsum.max(f64::MIN_POSITIVE)).clamp(1e-9, 1.0 - 1e-9);
    let base = (p0 / (1.0 - p0)).ln();
    let mut f = vec![base; n];
    let mut g = vec![0.0; n];
    let mut h = vec![0.0; n];
    let mut trees = Vec::with_capacity(opts.rounds as usize);
    let mut rows: Vec<u32> = Vec::with_capacity(n);
    let threshold = (opts.subsample * u64::MAX as f64) as u64;
    for round in 0..opts.rounds {
        for i in 0..n {
            let p = sigmoid(f[i]);
            g[i] = w[i] * (p - if y[i] { 1.0 } else { 0.0 });
            h[i] = w[i] * p * (1.0 - p);
        }
        rows.clear();
        rows.extend((0..n as u32).filter(|&i| {
            opts.subsample >= 1.0 || splitmix((u64::from(round) << 32) | u64::from(i)) <= threshold
        }));
        let tree = grow(&mut rows, &bins, n, k, &col_cuts, &g, &h, opts);
        for i in 0..n {
            let mut t = 0usize;
            loop {
                let nd = &tree[t];
                if nd.feature == LEAF {
                    f[i] += nd.value;
                    break;
                }
                let x_ij = x[i * k + nd.feature as usize];
                t = if x_ij <= nd.threshold {
                    nd.left
                } else {
                    nd.right
                } as usize;
            }
        }
        trees.push(tree);
    }
    Ok(Boosted { base, trees })
}

#[allow(clippy::too_many_arguments)]
fn grow(
    rows: &mut [u32],
    bins: &[u8],
    n: usize,
    k: usize,
    cuts: &[Vec<f32>],
    g: &[f64],
    h: &[f64],
    opts: &BoostOptions,
) -> Vec<Node> {
    let lr = opts.learning_rate;
    let lambda = opts.l2;
    let sums = |r: &[u32]| {
        r.iter().fold((0.0, 0.0), |(a, b), &i| {
            (a + g[i as usize], b + h[i as usize])
        })
    };
    let value = |gs: f64, hs: f64| -lr * gs / (hs + lambda);
    let (g0, h0) = sums(rows);
    let mut nodes = vec![Node {
        feature: LEAF,
        threshold: 0.0,
        left: 0,
        right: 0,
        value: value(g0, h0),
    }];
    // Histograms, `MAX_BINS` (G, H) pairs per column; a child's is the parent's minus its
    // sibling's, so only the smaller child's rows are scanned.
    let build = |r: &[u32]| {
        let mut hist = vec![(0.0f64, 0.0f64); k * MAX_BINS];
        for j in 0..k {
            let col = &bins[j * n..(j + 1) * n];
            let hj = &mut hist[j * MAX_BINS..(j + 1) * MAX_BINS];
            for &i in r {
                let e = &mut hj[col[i as usize] as usize];
                e.0 += g[i as usize];
                e.1 += h[i as usize];
            }
        }
        hist
    };
    // (node, range in rows, depth, G, H, histogram)
    type Open = (usize, usize, usize, u32, f64, f64, Vec<(f64, f64)>);
    let root_hist = build(rows);
    let mut frontier: Vec<Open> = vec![(0, 0, rows.len(), 0, g0, h0, root_hist)];
    while let Some((node, lo, hi, depth, gs, hs, hist)) = frontier.pop() {
        if depth >= opts.depth || hi - lo < 2 {
            continue;
        }
        let parent = gs * gs / (hs + lambda);
        let mut best: Option<(f64, usize, usize)> = None; // (gain, feature, split bin)
        for j in 0..k {
            let nb = cuts[j].len() + 1;
            if nb < 2 {
                continue;
            }
            let hj = &hist[j * MAX_BINS..j * MAX_BINS + nb];
            let (mut gl, mut hl) = (0.0, 0.0);
            for (s, e) in hj.iter().enumerate().take(nb - 1) {
                gl += e.0;
                hl += e.1;
                let (gr, hr) = (gs - gl, hs - hl);
                if hl < opts.min_child_weight || hr < opts.min_child_weight {
                    continue;
                }
                let gain = gl * gl / (hl + lambda) + gr * gr / (hr + lambda) - parent;
                if gain > 1e-12 && best.is_none_or(|b| gain > b.0) {
                    best = Some((gain, j, s));
                }
            }
        }
        let Some((_, j, s)) = best else { continue };
        let col = &bins[j * n..(j + 1) * n];
        // Partition rows[lo..hi]: bin <= s to the left.
        let mut mid = lo;
        for r in lo..hi {
            if (col[rows[r] as usize] as usize) <= s {
                rows.swap(mid, r);
                mid += 1;
            }
        }
        let (gl, hl) = sums(&rows[lo..mid]);
        let (gr, hr) = (gs - gl, hs - hl);
        let left = nodes.len();
        nodes.push(Node {
            feature: LEAF,
            threshold: 0.0,
            left: 0,
            right: 0,
            value: value(gl, hl),
        });
        nodes.push(Node {
            feature: LEAF,
            threshold: 0.0,
            left: 0,
            right: 0,
            value: value(gr, hr),
        });
        nodes[node].feature = j as u32;
        nodes[node].threshold = cuts[j][s];
        nodes[node].left = left as u32;
        nodes[node].right = left as u32 + 1;
        if depth + 1 < opts.depth {
            let small = if mid - lo <= hi - mid {
                (lo, mid)
            } else {
                (mid, hi)
            };
            let small_hist = build(&rows[small.0..small.1]);
            let large_hist: Vec<(f64, f64)> = hist
                .iter()
                .zip(&small_hist)
                .map(|(p, c)| (p.0 - c.0, p.1 - c.1))
                .collect();
            let (lh, rh) = if small.0 == lo {
                (small_hist, large_hist)
            } else {
                (large_hist, small_hist)
            };
            frontier.push((left, lo, mid, depth + 1, gl, hl, lh));
            frontier.push((left + 1, mid, hi, depth + 1, gr, hr, rh));
        }
    }
    nodes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn learns_an_interaction_a_linear_model_cannot() {
        // y = x0 XOR x1 (x0, x1 independent, each 1 with probability 0.7), with a noise column.
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..400u32 {
            let a = f32::from(u8::from(i % 10 < 7));
            let b = f32::from(u8::from((i / 10) % 10 < 7));
            x.extend([a, b, (i % 7) as f32]);
            y.push((a > 0.5) != (b > 0.5));
        }
        let w = vec![1.0; y.len()];
        let m = fit(
            &x,
            3,
            &y,
            &w,
            &BoostOptions {
                subsample: 1.0,
                ..BoostOptions::default()
            },
        )
        .unwrap();
        for (row, &label) in x.chunks_exact(3).zip(&y) {
            assert_eq!(m.logit(row) > 0.0, label);
            let mut c = [0.0; 3];
            let bias = m.contributions(row, &mut c);
            assert!((bias + c.iter().sum::<f64>() - m.logit(row)).abs() < 1e-9);
            // The noise column earns (almost) nothing.
            assert!(c[2].abs() < 0.5 * (c[0].abs() + c[1].abs()));
        }
        assert!(m.check(3));
        assert!(!m.check(2));
    }

    #[test]
    fn bad_options_are_refused() {
        let bad = BoostOptions {
            depth: 0,
            ..BoostOptions::default()
        };
        assert!(fit(&[], 1, &[], &[], &bad).is_err());
    }
}
