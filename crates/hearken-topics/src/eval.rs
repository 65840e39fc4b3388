//! Evaluation of a trained [`Model`] on labelled texts: accuracy, macro-F1, per-topic scores,
//! coverage at the model's threshold, and calibration of its probabilities.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::classifier::{Model, PredictScratch};
use crate::metrics::{self, ReliabilityBin};

/// Scores of one topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClassEval {
    pub label: String,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Number of evaluation texts with this label.
    pub support: usize,
}

/// How well a model does on labelled texts.
///
/// Texts whose label the model does not know are not scored (no prediction could be right); they
/// are counted in `unknown_labels`. Scores are over the top-ranked topic regardless of the
/// threshold; `coverage` and `accuracy_classified` show what the threshold changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Eval {
    /// Texts scored (those with a label the model knows).
    pub n: usize,
    pub accuracy: f64,
    pub macro_f1: f64,
    /// Texts whose label is not one of the model's topics, by label.
    pub unknown_labels: BTreeMap<String, usize>,
    /// Scored texts with no feature the model knows (empty text, unseen words); counted wrong.
    pub featureless: usize,
    /// Share of scored texts whose top probability reaches the threshold.
    pub coverage: f64,
    /// Accuracy over the texts that reach the threshold.
    pub accuracy_classified: f64,
    pub threshold: f32,
    /// Expected calibration error of the top probability (10 equal bins).
    pub ece: f64,
    pub reliability: Vec<ReliabilityBin>,
    pub per_class: Vec<ClassEval>,
}

impl Eval {
    /// Texts not scored because their label is unknown to the model.
    pub fn n_unknown(&self) -> usize {
        self.unknown_labels.values().sum()
    }
}

/// Evaluates `model` on `(text, label)` examples. Never fails: unknown labels are counted,
/// empty texts are scored as misses.
pub fn evaluate(model: &Model, examples: &[(&str, &str)]) -> Eval {
    let labels = model.labels();
    let index: HashMap<&str, usize> = labels
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i))
        .collect();
    // "No prediction" is class `k`, which the metrics do not average over.
    let none = labels.len();
    let mut truth = Vec::with_capacity(examples.len());
    let mut pred = Vec::with_capacity(examples.len());
    let mut conf = Vec::with_capacity(examples.len());
    let mut unknown_labels = BTreeMap::new();
    let mut featureless = 0;
    let mut scratch = PredictScratch::default();
    for (text, label) in examples {
        let Some(&t) = index.get(label.trim()) else {
            *unknown_labels.entry(label.trim().to_string()).or_insert(0) += 1;
            continue;
        };
        let (p, c) = match model.predict_index(text, &mut scratch) {
            Some((p, c)) => (p, f64::from(c)),
            None => {
                featureless += 1;
                (none, 0.0)
            }
        };
        truth.push(t);
        pred.push(p);
        conf.push(c);
    }
    let correct: Vec<bool> = truth.iter().zip(&pred).map(|(t, p)| t == p).collect();
    let (reliability, ece) = metrics::calibration(&conf, &correct, 10);
    let threshold = model.threshold();
    let (mut covered, mut covered_hits) = (0usize, 0usize);
    for (&c, &ok) in conf.iter().zip(&correct) {
        if c > 0.0 && c >= f64::from(threshold) {
            covered += 1;
            covered_hits += usize::from(ok);
        }
    }
    let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
    let per_class = metrics::class_scores(&truth, &pred, labels.len())
        .into_iter()
        .zip(labels)
        .map(|(s, l)| ClassEval {
            label: l.clone(),
            precision: s.precision,
            recall: s.recall,
            f1: s.f1,
            support: s.support,
        })
        .collect();
    Eval {
        n: truth.len(),
        accuracy: metrics::accuracy(&truth, &pred),
        macro_f1: metrics::macro_f1(&truth, &pred, labels.len()),
        unknown_labels,
        featureless,
        coverage: ratio(covered, truth.len()),
        accuracy_classified: ratio(covered_hits, covered),
        threshold,
        ece,
        reliability,
        per_class,
    }
}
