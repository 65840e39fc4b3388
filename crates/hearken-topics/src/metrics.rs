//! Agreement measures between label sequences: accuracy, macro-F1, adjusted Rand index,
//! normalised mutual information, and calibration error. Pure functions over class indices,
//! written to agree with scikit-learn's definitions (checked against its output in the tests).

use std::collections::HashMap;

/// Share of positions where `truth` and `pred` agree; 0 for empty input.
pub fn accuracy(truth: &[usize], pred: &[usize]) -> f64 {
    let n = truth.len().min(pred.len());
    if n == 0 {
        return 0.0;
    }
    let hits = truth.iter().zip(pred).filter(|(a, b)| a == b).count();
    hits as f64 / n as f64
}

/// Precision, recall, F1 and support of one class.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ClassScores {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

/// Per-class scores for classes `0..n_classes`; precision of a never-predicted class and recall of
/// an absent class are 0, as scikit-learn's `zero_division=0`.
pub fn class_scores(truth: &[usize], pred: &[usize], n_classes: usize) -> Vec<ClassScores> {
    let mut tp = vec![0usize; n_classes];
    let mut n_true = vec![0usize; n_classes];
    let mut n_pred = vec![0usize; n_classes];
    for (&t, &p) in truth.iter().zip(pred) {
        if t < n_classes {
            n_true[t] += 1;
        }
        if p < n_classes {
            n_pred[p] += 1;
        }
        if t == p && t < n_classes {
            tp[t] += 1;
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    (0..n_classes)
        .map(|c| {
            let precision = ratio(tp[c], n_pred[c]);
            let recall = ratio(tp[c], n_true[c]);
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            ClassScores {
                precision,
                recall,
                f1,
                support: n_true[c],
            }
        })
        .collect()
}

/// Unweighted mean F1 over the classes that occur in `truth` or `pred` (scikit-learn's
/// `f1_score(average="macro")`). Indices `>= n_classes` stand for "no class" and are not averaged.
pub fn macro_f1(truth: &[usize], pred: &[usize], n_classes: usize) -> f64 {
    let scores = class_scores(truth, pred, n_classes);
    let mut present = vec![false; n_classes];
    for &c in truth.iter().chain(pred) {
        if c < n_classes {
            present[c] = true;
        }
    }
    let (sum, n) = scores
        .iter()
        .zip(&present)
        .filter(|(_, p)| **p)
        .fold((0.0, 0usize), |(s, n), (c, _)| (s + c.f1, n + 1));
    if n == 0 { 0.0 } else { sum / n as f64 }
}

/// Contingency counts of two labelings with their row and column sums.
struct Contingency {
    cells: HashMap<(usize, usize), u64>,
    rows: HashMap<usize, u64>,
    cols: HashMap<usize, u64>,
    n: u64,
}

fn contingency(a: &[usize], b: &[usize]) -> Contingency {
    let mut c = Contingency {
        cells: HashMap::new(),
        rows: HashMap::new(),
        cols: HashMap::new(),
        n: 0,
    };
    for (&x, &y) in a.iter().zip(b) {
        *c.cells.entry((x, y)).or_default() += 1;
        *c.rows.entry(x).or_default() += 1;
        *c.cols.entry(y).or_default() += 1;
        c.n += 1;
    }
    c
}

fn pairs(n: u64) -> f64 {
    let n = n as f64;
    n * (n - 1.0) / 2.0
}

/// Adjusted Rand index of two clusterings (Hubert & Arabie), 1 for identical partitions, about 0
/// for chance. Identical trivial partitions (all in one cluster, or all singletons) give 1.
pub fn adjusted_rand_index(a: &[usize], b: &[usize]) -> f64 {
    let c = contingency(a, b);
    let sum_cells: f64 = c.cells.values().map(|&v| pairs(v)).sum();
    let sum_rows: f64 = c.rows.values().map(|&v| pairs(v)).sum();
    let sum_cols: f64 = c.cols.values().map(|&v| pairs(v)).sum();
    let total = pairs(c.n);
    if total == 0.0 {
        return 1.0;
    }
    let expected = sum_rows * sum_cols / total;
    let max = (sum_rows + sum_cols) / 2.0;
    if max == expected {
        return 1.0;
    }
    (sum_cells - expected) / (max - expected)
}

fn entropy(counts: impl Iterator<Item = u64>, n: f64) -> f64 {
    counts
        .filter(|&v| v > 0)
        .map(|v| {
            let p = v as f64 / n;
            -p * p.ln()
        })
        .sum()
}

/// Normalised mutual information with the arithmetic-mean normaliser (scikit-learn's default).
/// Two single-cluster labelings give 1; one single-cluster labeling against another gives 0.
pub fn normalized_mutual_info(a: &[usize], b: &[usize]) -> f64 {
    let c = contingency(a, b);
    if c.n == 0 {
        return 1.0;
    }
    if c.rows.len() == 1 && c.cols.len() == 1 {
        return 1.0;
    }
    let n = c.n as f64;
    let mi: f64 = c
        .cells
        .iter()
        .map(|(&(x, y), &v)| {
            let pxy = v as f64 / n;
            let px = c.rows[&x] as f64 / n;
            let py = c.cols[&y] as f64 / n;
            pxy * (pxy / (px * py)).ln()
        })
        .sum();
    let ha = entropy(c.rows.values().copied(), n);
    let hb = entropy(c.cols.values().copied(), n);
    let norm = (ha + hb) / 2.0;
    if norm <= 0.0 {
        return 0.0;
    }
    (mi.max(0.0) / norm).min(1.0)
}

/// One confidence bin of a reliability diagram.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReliabilityBin {
    /// Bin bounds on the predicted probability, `(lower, upper]`.
    pub lower: f64,
    pub upper: f64,
    pub count: usize,
    /// Mean predicted probability of the texts in the bin.
    pub confidence: f64,
    /// Share of them predicted correctly.
    pub accuracy: f64,
}

/// Reliability diagram with `bins` equal-width bins and the expected calibration error
/// (the count-weighted mean of |accuracy - confidence| over bins).
pub fn calibration(
    confidence: &[f64],
    correct: &[bool],
    bins: usize,
) -> (Vec<ReliabilityBin>, f64) {
    let bins = bins.max(1);
    let mut sum_conf = vec![0.0; bins];
    let mut hits = vec![0usize; bins];
    let mut count = vec![0usize; bins];
    for (&p, &ok) in confidence.iter().zip(correct) {
        // (lower, upper] bins; a probability of exactly 0 goes to the first.
        let b = ((p * bins as f64).ceil() as usize).clamp(1, bins) - 1;
        sum_conf[b] += p;
        count[b] += 1;
        hits[b] += usize::from(ok);
    }
    let n: usize = count.iter().sum();
    let mut ece = 0.0;
    let out = (0..bins)
        .map(|b| {
            let (conf, acc) = if count[b] > 0 {
                (
                    sum_conf[b] / count[b] as f64,
                    hits[b] as f64 / count[b] as f64,
                )
            } else {
                (0.0, 0.0)
            };
            if n > 0 {
                ece += count[b] as f64 / n as f64 * (acc - conf).abs();
            }
            ReliabilityBin {
                lower: b as f64 / bins as f64,
                upper: (b + 1) as f64 / bins as f64,
                count: count[b],
                confidence: conf,
                accuracy: acc,
            }
        })
        .collect();
    (out, ece)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perfect_and_permuted_clusterings_score_one() {
        let a = [0, 0, 1, 1, 2, 2];
        let b = [5, 5, 3, 3, 9, 9];
        assert!((adjusted_rand_index(&a, &b) - 1.0).abs() < 1e-12);
        assert!((normalized_mutual_info(&a, &b) - 1.0).abs() < 1e-12);
        assert!(adjusted_rand_index(&a, &[0, 1, 0, 1, 0, 1]) < 0.0);
    }

    #[test]
    fn degenerate_inputs_have_defined_values() {
        assert_eq!(accuracy(&[], &[]), 0.0);
        assert_eq!(macro_f1(&[], &[], 3), 0.0);
        assert_eq!(adjusted_rand_index(&[], &[]), 1.0);
        assert_eq!(normalized_mutual_info(&[0, 0], &[1, 1]), 1.0);
        assert_eq!(normalized_mutual_info(&[0, 0], &[0, 1]), 0.0);
        let (bins, ece) = calibration(&[], &[], 10);
        assert_eq!((bins.len(), ece), (10, 0.0));
    }

    #[test]
    fn calibration_of_a_perfectly_calibrated_set_is_zero() {
        // Half right at 0.5 confidence, all right at 1.0.
        let conf = [0.5, 0.5, 1.0, 1.0];
        let ok = [true, false, true, true];
        let (bins, ece) = calibration(&conf, &ok, 10);
        assert!(ece.abs() < 1e-12);
        assert_eq!(bins[4].count, 2);
        assert_eq!(bins[9].count, 2);
    }
}
