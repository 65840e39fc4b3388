//! The trained topic classifier: TF-IDF features into a softmax regression (optionally an
//! average of a few), calibrated probabilities, an "unclassified" threshold, and a versioned
//! on-disk form.
//!
//! Owns training, prediction and (de)serialisation of [`Model`]. Reads no file: callers pass
//! texts and bytes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::error::{Result, TopicsError, bad_option};
use crate::features::{Csr, FeatureConfig, KeyMap, KeyTable, NOT_FOUND, VecScratch, Vectorizer};
#[cfg(test)]
use crate::linear::softmax;
use crate::linear::{Bf16Rows, Compact, Linear, SgdConfig, exp_neg, from_bf16, to_bf16};
use crate::taxonomy::{Taxonomy, TaxonomyPrediction};
use crate::text;

/// Version of the saved model layout; bumped whenever [`Model::to_bytes`] or the JSON form
/// changes meaning. Loading another version is an error, never a silent misread.
pub const FORMAT_VERSION: u32 = 1;

/// How to train a [`Model`]. The defaults were chosen by 5-fold cross-validation on banking77's
/// training file only (`examples/topics_tune.rs`; the test file was not used to choose): 40
/// epochs averaged over the last 20 and the word block weighted 2:1 raised cross-validated
/// accuracy from 91.19% to 91.51% (word weights 1.7-2.2 all within 0.03 points; 0.8 and 3.0
/// worse; dropout 0.5 and 0.7 no better than 0.6; 50 epochs no better than 40).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainConfig {
    pub features: FeatureConfig,
    /// Passes of stochastic gradient descent over the training texts.
    pub epochs: u32,
    /// Initial step size; it decays linearly to zero.
    pub learning_rate: f32,
    /// L2 penalty per example; larger is a simpler model.
    pub l2: f32,
    /// Share of a text's features hidden at each training step; regularises like noisy copies
    /// of the training texts (Wager et al., 2013, "Dropout training as adaptive regularization").
    pub dropout: f32,
    /// Give every topic the same total weight in training, however many examples it has: how
    /// many examples someone labelled per topic says little about how often the topic occurs.
    pub balance_classes: bool,
    /// Average the weights of this many final epochs (1: keep the last iterate only; more than
    /// `epochs`: all of them).
    pub average_epochs: u32,
    /// Number of softmax models trained with different seeds and averaged.
    pub ensemble: u32,
    /// Threads used for training (the members of the ensemble train in parallel).
    pub threads: usize,
    pub seed: u64,
    /// Below this top probability a text is "unclassified" (`label: None`).
    pub threshold: f32,
    /// How many ranked topics a [`Prediction`] lists.
    pub top_k: usize,
}

impl Default for TrainConfig {
    fn default() -> TrainConfig {
        TrainConfig {
            features: FeatureConfig {
                word_weight: 2.0,
                ..FeatureConfig::default()
            },
            epochs: 40,
            learning_rate: 1.0,
            l2: 1e-6,
            dropout: 0.6,
            balance_classes: true,
            average_epochs: 20,
            ensemble: 2,
            threads: 2,
            seed: 77,
            threshold: 0.3,
            top_k: 3,
        }
    }
}

impl TrainConfig {
    fn validate(&self) -> Result<()> {
        self.features.validate()?;
        if self.epochs == 0 || self.epochs > 1000 {
            return Err(bad_option(
                "epochs",
                format!("is {}; use 1..=1000", self.epochs),
            ));
        }
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(bad_option(
                "learning_rate",
                format!("is {}; use a positive step such as 1.0", self.learning_rate),
            ));
        }
        if !(self.l2.is_finite() && self.l2 >= 0.0 && self.l2 * self.learning_rate < 1.0) {
            return Err(bad_option(
                "l2",
                format!("is {}; use 0 <= l2 < 1/learning_rate, e.g. 1e-5", self.l2),
            ));
        }
        if !(0.0..0.95).contains(&self.dropout) {
            return Err(bad_option(
                "dropout",
                format!("is {}; use a share in 0..0.95", self.dropout),
            ));
        }
        // Not bounded by `epochs` (at most all epochs are averaged): models saved before this
        // option existed read it as the default, whatever their number of epochs.
        if self.average_epochs == 0 || self.average_epochs > 1000 {
            return Err(bad_option(
                "average_epochs",
                format!("is {}; use 1..=1000", self.average_epochs),
            ));
        }
        if self.ensemble == 0 || self.ensemble > 64 {
            return Err(bad_option(
                "ensemble",
                format!("is {}; use 1..=64", self.ensemble),
            ));
        }
        check_threshold(self.threshold)?;
        Ok(())
    }
}

fn check_threshold(t: f32) -> Result<()> {
    if (0.0..=1.0).contains(&t) {
        Ok(())
    } else {
        Err(bad_option(
            "threshold",
            format!("is {t}; use a probability in 0..=1"),
        ))
    }
}

/// A topic prediction for one text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// The most probable topic, or `None` when its probability is below the model's threshold
    /// or the text has no feature the model knows (e.g. an empty text).
    pub label: Option<String>,
    /// Probability of the most probable topic (0 when the text has no known feature).
    pub probability: f32,
    /// The most probable topics, best first, with their probabilities.
    pub top: Vec<(String, f32)>,
}

impl Prediction {
    pub fn unclassified() -> Prediction {
        Prediction {
            label: None,
            probability: 0.0,
            top: Vec::new(),
        }
    }
}

/// A trained topic classifier.
#[derive(Debug, Clone)]
pub struct Model {
    labels: Vec<String>,
    vectorizer: Vectorizer,
    weights: Compact,
    words: WordTable,
    threshold: f32,
    top_k: usize,
    config: TrainConfig,
}

/// Trains a classifier from `(text, label)` examples.
///
/// Fails when there are no examples, only one distinct label, an empty label, or nothing to learn
/// from (all texts empty). Empty texts among others are allowed and teach only the topic priors.
pub fn train(examples: &[(&str, &str)], config: &TrainConfig) -> Result<Model> {
    config.validate()?;
    if examples.is_empty() {
        return Err(TopicsError::NoExamples);
    }
    let mut label_ids: BTreeMap<&str, u32> = BTreeMap::new();
    for (row, (_, label)) in examples.iter().enumerate() {
        if label.trim().is_empty() {
            return Err(TopicsError::EmptyLabel { row });
        }
        label_ids.insert(label.trim(), 0);
    }
    if label_ids.len() < 2 {
        let only = label_ids.keys().next().copied().unwrap_or_default();
        return Err(TopicsError::OneClass(only.to_string()));
    }
    for (i, id) in label_ids.values_mut().enumerate() {
        *id = i as u32;
    }
    let labels: Vec<String> = label_ids.keys().map(|l| l.to_string()).collect();
    let y: Vec<u32> = examples.iter().map(|(_, l)| label_ids[l.trim()]).collect();
    let vectorizer = Vectorizer::fit(&config.features, examples.iter().map(|(t, _)| *t))?;
    if vectorizer.dim() == 0 {
        return Err(TopicsError::NoFeatures);
    }
    let x = vectorizer.transform_all(examples.iter().map(|(t, _)| *t));
    let members = train_members(&x, &y, vectorizer.dim(), labels.len(), config);
    // Averaging the members' weights averages their logits: the ensemble's benefit at the
    // prediction cost of one model.
    let weights = Compact::from_linear(&average(members));
    let words = WordTable::build(&vectorizer, &weights, examples.iter().map(|(t, _)| *t));
    Ok(Model {
        labels,
        vectorizer,
        weights,
        words,
        threshold: config.threshold,
        top_k: config.top_k,
        config: config.clone(),
    })
}

fn train_members(x: &Csr, y: &[u32], dim: usize, k: usize, config: &TrainConfig) -> Vec<Linear> {
    let sgd = |m: u32| SgdConfig {
        epochs: config.epochs,
        learning_rate: config.learning_rate,
        l2: config.l2,
        dropout: config.dropout,
        balance: config.balance_classes,
        average_epochs: config.average_epochs,
        seed: config
            .seed
            .wrapping_add(u64::from(m).wrapping_mul(0x9e37_79b9)),
    };
    let seeds: Vec<u32> = (0..config.ensemble).collect();
    let threads = config.threads.max(1);
    let mut out = Vec::with_capacity(seeds.len());
    for chunk in seeds.chunks(threads) {
        std::thread::scope(|s| {
            let handles: Vec<_> = chunk
                .iter()
                .map(|&m| s.spawn(move || Linear::train(x, y, dim, k, &sgd(m))))
                .collect();
            for h in handles {
                match h.join() {
                    Ok(lin) => out.push(lin),
                    // A panic in training is a bug, not an input problem; surface it as one.
                    Err(e) => std::panic::resume_unwind(e),
                }
            }
        });
    }
    out
}

fn average(mut members: Vec<Linear>) -> Linear {
    let n = members.len() as f32;
    let Some(mut first) = members.pop() else {
        // train_members returns `ensemble >= 1` members (validated); keep a valid value anyway.
        return Linear {
            k: 0,
            w: Vec::new(),
            b: Vec::new(),
        };
    };
    for m in &members {
        first.w.iter_mut().zip(&m.w).for_each(|(a, b)| *a += b);
        first.b.iter_mut().zip(&m.b).for_each(|(a, b)| *a += b);
    }
    first.w.iter_mut().for_each(|a| *a /= n);
    first.b.iter_mut().for_each(|a| *a /= n);
    first
}

/// The character-block logits and squared norm of every word seen in training, so that
/// prediction adds one row per known word instead of one per character n-gram (five times fewer
/// memory reads; see `Vectorizer::token_vector` for why this is exact).
#[derive(Debug, Clone, Default)]
struct WordTable {
    keys: Vec<u64>,
    norms: Vec<f32>,
    /// `k` per word.
    logits: Bf16Rows,
    lookup: KeyTable,
}

impl WordTable {
    fn build<'a>(v: &Vectorizer, w: &Compact, texts: impl Iterator<Item = &'a str>) -> WordTable {
        let mut s = VecScratch::default();
        let mut entries: KeyMap<(f32, Vec<f32>)> = KeyMap::default();
        for t in texts {
            text::tokenize(t, &mut s.text);
            for &(a, b) in &s.text.spans {
                let token = &s.text.words[a..b];
                let h = text::token_hash(token);
                if entries.contains_key(&h) {
                    continue;
                }
                let norm = v.token_vector(token, &mut s.tok);
                let mut logits = vec![0.0; w.k];
                w.accumulate(&s.tok.out, &mut logits);
                entries.insert(h, (norm, logits));
            }
        }
        let mut sorted: Vec<(u64, (f32, Vec<f32>))> = entries.into_iter().collect();
        sorted.sort_unstable_by_key(|e| e.0);
        let keys: Vec<u64> = sorted.iter().map(|e| e.0).collect();
        WordTable {
            lookup: KeyTable::new(&keys),
            keys,
            norms: sorted.iter().map(|e| e.1.0).collect(),
            logits: Bf16Rows::new(
                w.k,
                sorted
                    .iter()
                    .flat_map(|e| e.1.1.iter().map(|&x| to_bf16(x))),
            ),
        }
    }

    fn from_parts(keys: Vec<u64>, norms: Vec<f32>, logits: Bf16Rows) -> WordTable {
        WordTable {
            lookup: KeyTable::new(&keys),
            keys,
            norms,
            logits,
        }
    }
}

/// Reusable working memory for predicting many texts on one thread.
#[derive(Debug, Default)]
pub struct PredictScratch {
    vec: VecScratch,
    /// Rows of the weight matrix and of the word table to add, with their coefficients.
    w_rows: Vec<(u32, f32)>,
    t_rows: Vec<(u32, f32)>,
    /// Character-block entries of words not in the word table.
    unknown: Vec<(u32, f32)>,
    /// Logits (padded to the rows' stride), then the probabilities.
    p: Vec<f32>,
    /// Labels ranked by [`Model::predict_with`], and the probabilities not ranked yet.
    order: Vec<usize>,
    rest: Vec<f32>,
    /// Word-table lookups: home slots, rows found.
    home: Vec<u64>,
    found: Vec<u32>,
}

impl Model {
    /// The topics this model knows, sorted.
    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// Changes the probability below which a text is unclassified.
    pub fn set_threshold(&mut self, threshold: f32) -> Result<()> {
        check_threshold(threshold)?;
        self.threshold = threshold;
        Ok(())
    }

    pub fn config(&self) -> &TrainConfig {
        &self.config
    }

    /// Number of features (n-grams) in the vocabulary.
    pub fn n_features(&self) -> usize {
        self.vectorizer.dim()
    }

    /// Probabilities of every label (in [`Model::labels`] order) into `scratch.p`; false when the
    /// text has no known feature.
    fn probabilities(&self, text: &str, s: &mut PredictScratch) -> bool {
        if !self.logits(text, s) {
            return false;
        }
        let max = max8(&s.p);
        // Separate loops, so that the exponentials vectorise (the sum is a reduction, which
        // the compiler may not reorder) and the sum runs over eight partial sums.
        s.p.iter_mut().for_each(|z| *z = exp_neg(*z - max));
        let inv = 1.0 / sum8(&s.p);
        s.p.iter_mut().for_each(|p| *p *= inv);
        true
    }

    /// Logits of every label into `s.p` (length `k`); false when the text has no known feature.
    ///
    /// First collects which rows to add and with what coefficient (the block scales need both
    /// blocks' norms), then adds them all in one pass over the rows (see [`Bf16Rows::gather`]).
    fn logits(&self, text: &str, s: &mut PredictScratch) -> bool {
        let v = &self.vectorizer;
        let word_norm = v.word_block(text, &mut s.vec);
        s.unknown.clear();
        s.t_rows.clear();
        let mut char_norm = 0.0;
        if !v.config.char_ngrams.is_off() {
            let t = &s.vec.text;
            let lookup = &self.words.lookup;
            lookup.get_many(t.hashes.iter().copied(), &mut s.home, &mut s.found);
            for (&(a, b), &j) in t.spans.iter().zip(&s.found) {
                if j != NOT_FOUND {
                    char_norm += self.words.norms[j as usize];
                    s.t_rows.push((j, 1.0));
                } else {
                    char_norm += v.token_vector(&t.words[a..b], &mut s.vec.tok);
                    s.unknown.extend_from_slice(&s.vec.tok.out);
                }
            }
        }
        let Some(scale) = v.scales(word_norm, char_norm) else {
            return false;
        };
        s.w_rows.clear();
        s.w_rows
            .extend(s.vec.words.iter().map(|&(j, x)| (j, x * scale.word)));
        s.w_rows
            .extend(s.unknown.iter().map(|&(j, x)| (j, x * scale.char)));
        s.t_rows.iter_mut().for_each(|r| r.1 = scale.char);
        let w = &self.weights;
        s.p.clear();
        s.p.resize(w.w.stride(), 0.0);
        w.w.gather(&s.w_rows, &mut s.p);
        self.words.logits.gather(&s.t_rows, &mut s.p);
        s.p.truncate(w.k);
        s.p.iter_mut().zip(&w.b).for_each(|(p, b)| *p += b);
        true
    }

    /// Predicts the topic of one text.
    pub fn predict(&self, text: &str) -> Prediction {
        self.predict_with(text, &mut PredictScratch::default())
    }

    /// Like [`Model::predict`], reusing `scratch` across calls (faster for many texts).
    pub fn predict_with(&self, text: &str, scratch: &mut PredictScratch) -> Prediction {
        if !self.probabilities(text, scratch) {
            return Prediction::unclassified();
        }
        let p = &scratch.p;
        let order = &mut scratch.order;
        order.clear();
        // Top-k by k passes of a vectorised maximum, each taking the first label at the maximum
        // (ties keep label order): k is small, and this beats sorting or a branchy insertion.
        let rest = &mut scratch.rest;
        rest.clear();
        rest.extend_from_slice(p);
        for _ in 0..self.top_k.max(1).min(p.len()) {
            let max = max8(rest);
            let i = rest.iter().position(|&z| z == max).unwrap_or(0);
            order.push(i);
            rest[i] = f32::NEG_INFINITY;
        }
        let best = order[0];
        let probability = p[best];
        Prediction {
            label: (probability >= self.threshold).then(|| self.labels[best].clone()),
            probability,
            top: order
                .iter()
                .take(self.top_k)
                .map(|&i| (self.labels[i].clone(), p[i]))
                .collect(),
        }
    }

    /// The most probable topic and its probability, allocating nothing: what import needs for
    /// every text. Agrees with [`Model::predict_with`]'s `label` and `probability`: the label is
    /// `None` below the threshold, and `(None, 0.0)` for a text with no known feature.
    pub fn predict_label(&self, text: &str, scratch: &mut PredictScratch) -> (Option<&str>, f32) {
        if !self.logits(text, scratch) {
            return (None, 0.0);
        }
        let p = &mut scratch.p;
        let max = max8(p);
        // The first label with the largest logit, as `predict_with` ranks them.
        let best = p.iter().position(|&z| z == max).unwrap_or(0);
        // The top probability is exp(0) / sum of exp(z - max): no need to normalise the rest.
        p.iter_mut().for_each(|z| *z = exp_neg(*z - max));
        let probability = 1.0 / sum8(p);
        let label = (probability >= self.threshold).then(|| self.labels[best].as_str());
        (label, probability)
    }

    /// The index of the most probable label and its probability, without allocating; `None` for
    /// a text with no known feature. For evaluation and benchmarks.
    pub(crate) fn predict_index(&self, text: &str, s: &mut PredictScratch) -> Option<(usize, f32)> {
        if !self.probabilities(text, s) {
            return None;
        }
        let mut best = 0;
        for (i, &p) in s.p.iter().enumerate() {
            if p > s.p[best] {
                best = i;
            }
        }
        Some((best, s.p[best]))
    }

    /// The probability of every label, in [`Model::labels`] order; empty for a text with no
    /// feature the model knows.
    pub fn distribution(&self, text: &str) -> Vec<(&str, f32)> {
        let mut s = PredictScratch::default();
        if !self.probabilities(text, &mut s) {
            return Vec::new();
        }
        self.labels.iter().map(String::as_str).zip(s.p).collect()
    }

    /// The model's labels read as a `topic/subtopic` tree.
    pub fn taxonomy(&self) -> Result<Taxonomy> {
        Taxonomy::from_labels(self.labels.iter().map(String::as_str))
    }

    /// Predicts topic and subtopic, rolling subtopic probabilities up to their topic, with the
    /// model's threshold applied at each level.
    pub fn predict_in(&self, taxonomy: &Taxonomy, text: &str) -> TaxonomyPrediction {
        taxonomy.roll_up(&self.distribution(text), self.threshold)
    }

    pub fn predict_batch(&self, texts: &[&str]) -> Vec<Prediction> {
        let mut s = PredictScratch::default();
        texts.iter().map(|t| self.predict_with(t, &mut s)).collect()
    }
}

/// Maximum with eight partial maxima (vectorises, unlike a fold with `f32::max`). Logits are
/// finite, so the comparison's NaN rules do not matter.
fn max8(x: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; 8];
    let chunks = x.chunks_exact(8);
    let rest = chunks
        .remainder()
        .iter()
        .fold(f32::NEG_INFINITY, |a, &b| if b > a { b } else { a });
    for c in chunks {
        for (a, &v) in acc.iter_mut().zip(c) {
            *a = if v > *a { v } else { *a };
        }
    }
    acc.iter().fold(rest, |a, &b| if b > a { b } else { a })
}

/// Sum with eight partial sums (vectorises; a plain fold is one long dependency chain).
fn sum8(x: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let chunks = x.chunks_exact(8);
    let rest: f32 = chunks.remainder().iter().sum();
    for c in chunks {
        for (a, v) in acc.iter_mut().zip(c) {
            *a += v;
        }
    }
    acc.iter().sum::<f32>() + rest
}

const MAGIC: &[u8; 8] = b"HKTOPICS";

/// Everything of a model but its arrays; the JSON header of the binary form.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Header {
    format_version: u32,
    labels: Vec<String>,
    config: TrainConfig,
    threshold: f32,
    top_k: usize,
    n_features: usize,
    n_words: usize,
}

/// The JSON form: the header plus the arrays, for inspection and interchange.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct ModelJson {
    #[serde(flatten)]
    header: Header,
    feature_keys: Vec<u64>,
    idf: Vec<f32>,
    blocks: Vec<u8>,
    /// Feature-major weights, `n_features * labels.len()` values (bf16 precision).
    weights: Vec<f32>,
    bias: Vec<f32>,
    /// Token hashes of the training words, their character-block squared norms and logits
    /// (`n_words * labels.len()`, bf16 precision).
    word_keys: Vec<u64>,
    word_norms: Vec<f32>,
    word_logits: Vec<f32>,
}

#[derive(Deserialize)]
struct VersionOnly {
    format_version: u32,
}

fn bad(reason: impl Into<String>) -> TopicsError {
    TopicsError::BadModel(reason.into())
}

/// Reads little-endian arrays off the front of a byte slice, failing on a short input.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8]> {
        if self.0.len() < n {
            return Err(bad(format!("truncated in {what}")));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn u32(&mut self, what: &str) -> Result<u32> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn array<const W: usize, T>(
        &mut self,
        n: usize,
        what: &str,
        conv: fn([u8; W]) -> T,
    ) -> Result<Vec<T>> {
        let len = n
            .checked_mul(W)
            .ok_or_else(|| bad(format!("{what} too large")))?;
        let bytes = self.take(len, what)?;
        Ok(bytes
            .chunks_exact(W)
            .map(|c| {
                let mut a = [0u8; W];
                a.copy_from_slice(c);
                conv(a)
            })
            .collect())
    }
}

impl Model {
    fn header(&self) -> Header {
        Header {
            format_version: FORMAT_VERSION,
            labels: self.labels.clone(),
            config: self.config.clone(),
            threshold: self.threshold,
            top_k: self.top_k,
            n_features: self.vectorizer.dim(),
            n_words: self.words.keys.len(),
        }
    }

    /// The compact binary form: magic `HKTOPICS`, format version (u32 LE), header length (u32
    /// LE), a JSON header, then the feature keys (u64), idf (f32), blocks (u8), weights
    /// (bf16, feature-major), biases (f32), word keys (u64), word norms (f32) and word logits
    /// (bf16), all little-endian.
    pub fn to_bytes(&self) -> Vec<u8> {
        let header = serde_json::to_vec(&self.header())
            // Serialising plain strings and numbers into memory cannot fail.
            .unwrap_or_default();
        let v = &self.vectorizer;
        let k = self.labels.len();
        let nw = self.words.keys.len();
        let size = 16 + header.len() + v.dim() * (13 + k * 2) + k * 4 + nw * (12 + k * 2);
        let mut out = Vec::with_capacity(size);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&(header.len() as u32).to_le_bytes());
        out.extend_from_slice(&header);
        v.keys
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
        v.idf
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
        out.extend_from_slice(&v.blocks);
        let w = &self.weights;
        w.w.values()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
        w.b.iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
        let t = &self.words;
        t.keys
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
        t.norms
            .iter()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
        t.logits
            .values()
            .for_each(|x| out.extend_from_slice(&x.to_le_bytes()));
        out
    }

    /// Reads a model written by [`Model::to_bytes`], checking its version and every length.
    pub fn from_bytes(bytes: &[u8]) -> Result<Model> {
        let mut r = Reader(bytes);
        if r.take(8, "magic").ok() != Some(MAGIC.as_slice()) {
            return Err(bad("the bytes do not start with HKTOPICS"));
        }
        let version = r.u32("version")?;
        check_version(version)?;
        let header_len = r.u32("header length")? as usize;
        let header: Header = serde_json::from_slice(r.take(header_len, "header")?)
            .map_err(|e| bad(format!("header: {e}")))?;
        let (d, k) = (header.n_features, header.labels.len());
        let keys = r.array(d, "feature keys", u64::from_le_bytes)?;
        let idf = r.array(d, "idf", f32::from_le_bytes)?;
        let blocks = r.take(d, "blocks")?.to_vec();
        let n = d.checked_mul(k).ok_or_else(|| bad("weights too large"))?;
        let weights = r.array(n, "weights", |b| from_bf16(u16::from_le_bytes(b)))?;
        let bias = r.array(k, "bias", f32::from_le_bytes)?;
        let nw = header.n_words;
        let word_keys = r.array(nw, "word keys", u64::from_le_bytes)?;
        let word_norms = r.array(nw, "word norms", f32::from_le_bytes)?;
        let n = nw
            .checked_mul(k)
            .ok_or_else(|| bad("word table too large"))?;
        let word_logits = r.array(n, "word logits", |b| from_bf16(u16::from_le_bytes(b)))?;
        if !r.0.is_empty() {
            return Err(bad(format!("{} unexpected bytes at the end", r.0.len())));
        }
        Model::assemble(ModelJson {
            header,
            feature_keys: keys,
            idf,
            blocks,
            weights,
            bias,
            word_keys,
            word_norms,
            word_logits,
        })
    }

    /// The JSON form (larger than [`Model::to_bytes`]; for inspection and interchange).
    pub fn to_json(&self) -> String {
        let json = ModelJson {
            header: self.header(),
            feature_keys: self.vectorizer.keys.clone(),
            idf: self.vectorizer.idf.clone(),
            blocks: self.vectorizer.blocks.clone(),
            weights: self.weights.w.values().map(from_bf16).collect(),
            bias: self.weights.b.clone(),
            word_keys: self.words.keys.clone(),
            word_norms: self.words.norms.clone(),
            word_logits: self.words.logits.values().map(from_bf16).collect(),
        };
        // Only strings and finite numbers: serialising to a String cannot fail.
        serde_json::to_string(&json).unwrap_or_default()
    }

    pub fn from_json(json: &str) -> Result<Model> {
        let v: VersionOnly =
            serde_json::from_str(json).map_err(|e| bad(format!("no format_version: {e}")))?;
        check_version(v.format_version)?;
        let m: ModelJson = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
        Model::assemble(m)
    }

    /// Checks a deserialised model for consistency before anything can index with it.
    fn assemble(m: ModelJson) -> Result<Model> {
        let h = m.header;
        check_version(h.format_version)?;
        h.config.validate()?;
        check_threshold(h.threshold)?;
        let (d, k) = (h.n_features, h.labels.len());
        if k < 2 {
            return Err(bad("fewer than two labels"));
        }
        if h.labels.windows(2).any(|w| w[0] >= w[1]) {
            return Err(bad("labels are not sorted and unique"));
        }
        if m.feature_keys.len() != d || m.idf.len() != d || m.blocks.len() != d {
            return Err(bad("feature arrays disagree with n_features"));
        }
        if m.blocks.iter().any(|&b| b > 1) {
            return Err(bad("unknown feature block"));
        }
        if m.feature_keys.windows(2).any(|w| w[0] >= w[1]) {
            return Err(bad("feature keys are not strictly ascending"));
        }
        if Some(m.weights.len()) != d.checked_mul(k) || m.bias.len() != k {
            return Err(bad("weight matrix has the wrong shape"));
        }
        if !m.weights.iter().chain(&m.bias).all(|x| x.is_finite()) {
            return Err(bad("weights contain NaN or infinity"));
        }
        let weights = Compact {
            k,
            w: Bf16Rows::from_f32(k, &m.weights),
            b: m.bias,
        };
        let nw = h.n_words;
        if m.word_keys.len() != nw
            || m.word_norms.len() != nw
            || Some(m.word_logits.len()) != nw.checked_mul(k)
        {
            return Err(bad("word table arrays disagree with n_words"));
        }
        if m.word_keys.windows(2).any(|w| w[0] >= w[1]) {
            return Err(bad("word keys are not strictly ascending"));
        }
        if !m
            .word_norms
            .iter()
            .chain(&m.word_logits)
            .all(|x| x.is_finite())
        {
            return Err(bad("word table contains NaN or infinity"));
        }
        let words = WordTable::from_parts(
            m.word_keys,
            m.word_norms,
            Bf16Rows::from_f32(k, &m.word_logits),
        );
        if !m.idf.iter().all(|x| x.is_finite()) {
            return Err(bad("idf contains NaN or infinity"));
        }
        Ok(Model {
            vectorizer: Vectorizer::from_parts(
                h.config.features.clone(),
                m.feature_keys,
                m.idf,
                m.blocks,
            ),
            labels: h.labels,
            weights,
            words,
            threshold: h.threshold,
            top_k: h.top_k,
            config: h.config,
        })
    }
}

fn check_version(found: u32) -> Result<()> {
    if found == FORMAT_VERSION {
        Ok(())
    } else {
        Err(TopicsError::UnsupportedVersion {
            found,
            supported: FORMAT_VERSION,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLES: [(&str, &str); 12] = [
        ("my card has not arrived yet", "card_arrival"),
        ("when will my new card arrive", "card_arrival"),
        ("still waiting for the card", "card_arrival"),
        ("the card never came in the post", "card_arrival"),
        ("how do i top up with cash", "top_up"),
        ("top up by bank transfer please", "top_up"),
        ("can i add money with apple pay", "top_up"),
        ("topping up failed twice", "top_up"),
        ("i was charged a fee for paying", "fee"),
        ("why is there an extra charge of £1", "fee"),
        ("what fees do you charge for transfers", "fee"),
        ("a fee was taken from my account", "fee"),
    ];

    fn small() -> TrainConfig {
        TrainConfig {
            threads: 1,
            ..TrainConfig::default()
        }
    }

    fn model() -> Model {
        train(&EXAMPLES, &small()).unwrap()
    }

    #[test]
    fn learns_the_examples_and_ranks_topics() {
        let m = model();
        assert_eq!(m.labels(), ["card_arrival", "fee", "top_up"]);
        let p = m.predict("my card still has not arrived");
        assert_eq!(p.label.as_deref(), Some("card_arrival"));
        assert_eq!(p.top.len(), 3);
        assert!(p.top.windows(2).all(|w| w[0].1 >= w[1].1));
        let total: f32 = m.distribution("charged a fee").iter().map(|x| x.1).sum();
        assert!((total - 1.0).abs() < 1e-4);
        assert_eq!(m.predict("charged a fee").label.as_deref(), Some("fee"));
    }

    #[test]
    fn empty_and_unknown_texts_are_unclassified() {
        let m = model();
        assert_eq!(m.predict(""), Prediction::unclassified());
        assert_eq!(m.predict("  ?? "), Prediction::unclassified());
        // Unknown words still have character n-grams in common with the vocabulary.
        let p = m.predict("zzqx");
        assert!(p.probability > 0.0 || p.label.is_none());
    }

    #[test]
    fn predict_label_agrees_with_predict() {
        let mut m = model();
        let mut s = PredictScratch::default();
        // Over 1 MB each: many words, one word, no word at all.
        let long = "my card has not arrived ".repeat(45_000);
        let one_word = "a".repeat(1 << 20);
        let emoji = "😀".repeat(1 << 18);
        let texts = [
            "my card has not arrived",
            "fee?",
            "",
            "  ?? ",
            "zzqx",
            "top up top up top up",
            "😀😀",
            long.as_str(),
            one_word.as_str(),
            emoji.as_str(),
        ];
        for threshold in [0.0, 0.5, 1.0] {
            m.set_threshold(threshold).unwrap();
            for text in texts {
                let p = m.predict_with(text, &mut s);
                let (label, probability) = m.predict_label(text, &mut s);
                assert_eq!(label, p.label.as_deref(), "{text:.40}");
                assert_eq!(probability, p.probability, "{text:.40}");
            }
        }
    }

    #[test]
    fn a_one_megabyte_training_text_is_just_another_example() {
        let mut examples = EXAMPLES.to_vec();
        let long = "card arrived late ".repeat(60_000);
        examples.push((long.as_str(), "card_arrival"));
        let m = train(&examples, &small()).unwrap();
        assert_eq!(
            m.predict("my card has not arrived").label.as_deref(),
            Some("card_arrival")
        );
        assert!(m.predict(&long).probability.is_finite());
    }

    #[test]
    fn threshold_turns_low_confidence_into_unclassified() {
        let mut m = model();
        let p = m.predict("card fee");
        m.set_threshold(1.0).unwrap();
        let q = m.predict("card fee");
        assert_eq!(q.label, None);
        assert_eq!(q.probability, p.probability);
        assert_eq!(q.top, p.top);
        assert!(m.set_threshold(1.5).is_err());
    }

    #[test]
    fn bad_training_data_gives_clear_errors() {
        assert_eq!(train(&[], &small()).unwrap_err(), TopicsError::NoExamples);
        let one = train(&[("a", "x"), ("b", "x")], &small()).unwrap_err();
        assert_eq!(one, TopicsError::OneClass("x".into()));
        assert!(one.to_string().contains("only one topic"));
        let empty = train(&[("a", "x"), ("b", " ")], &small()).unwrap_err();
        assert_eq!(empty, TopicsError::EmptyLabel { row: 1 });
        let blank = train(&[("", "x"), ("...", "y")], &small()).unwrap_err();
        assert_eq!(blank, TopicsError::NoFeatures);
        for bad in [
            TrainConfig {
                epochs: 0,
                ..small()
            },
            TrainConfig {
                learning_rate: f32::NAN,
                ..small()
            },
            TrainConfig {
                dropout: 1.0,
                ..small()
            },
            TrainConfig {
                ensemble: 0,
                ..small()
            },
            TrainConfig {
                average_epochs: 0,
                ..small()
            },
            TrainConfig {
                threshold: -0.1,
                ..small()
            },
        ] {
            assert!(matches!(
                train(&EXAMPLES, &bad),
                Err(TopicsError::BadOption { .. })
            ));
        }
    }

    #[test]
    fn fast_prediction_matches_the_tf_idf_vector_it_was_trained_on() {
        // Prediction adds precomputed per-word logits; training sees the full TF-IDF vector.
        // Both must give the same probabilities (up to bf16 rounding of the word logits).
        let m = model();
        let mut s = VecScratch::default();
        let mut x = crate::features::SparseVec::default();
        let mut z = vec![0.0; m.labels.len()];
        for text in [
            "my card has not arrived",
            "unseen wording of a fee",
            "top-up top-up",
            "a",
        ] {
            m.vectorizer.transform(text, &mut s, &mut x);
            m.weights.scores(&x.idx, &x.val, &mut z);
            softmax(&mut z);
            let fast: Vec<f32> = m.distribution(text).iter().map(|p| p.1).collect();
            for (a, b) in z.iter().zip(&fast) {
                assert!((a - b).abs() < 2e-3, "{text}: {z:?} vs {fast:?}");
            }
        }
    }

    #[test]
    fn training_is_deterministic_and_serialisation_round_trips() {
        let a = model();
        let b = model();
        assert_eq!(a.to_bytes(), b.to_bytes());
        let from_bytes = Model::from_bytes(&a.to_bytes()).unwrap();
        let from_json = Model::from_json(&a.to_json()).unwrap();
        for text in ["card not here", "fee?", "", "top up"] {
            assert_eq!(from_bytes.predict(text), a.predict(text));
            assert_eq!(from_json.predict(text), a.predict(text));
        }
        assert_eq!(from_json.to_bytes(), a.to_bytes());
        assert_eq!(from_bytes.config(), a.config());
    }

    #[test]
    fn models_saved_before_epoch_averaging_still_load() {
        let old = TrainConfig {
            epochs: 5,
            average_epochs: 1,
            ..small()
        };
        let m = train(&EXAMPLES, &old).unwrap();
        let json = m.to_json().replacen("\"average_epochs\":1,", "", 1);
        assert_ne!(json, m.to_json());
        let loaded = Model::from_json(&json).unwrap();
        assert_eq!(loaded.predict("fee?"), m.predict("fee?"));
    }

    #[test]
    fn damaged_or_foreign_model_bytes_are_rejected() {
        let bytes = model().to_bytes();
        for cut in [0, 7, 12, 40, bytes.len() / 2, bytes.len() - 1] {
            assert!(Model::from_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Model::from_bytes(&longer).is_err());
        let mut version = bytes.clone();
        version[8] = 99;
        assert_eq!(
            Model::from_bytes(&version).unwrap_err(),
            TopicsError::UnsupportedVersion {
                found: 99,
                supported: FORMAT_VERSION
            }
        );
        let json = model().to_json().replacen(
            &format!("\"format_version\":{FORMAT_VERSION}"),
            "\"format_version\":0",
            1,
        );
        assert!(matches!(
            Model::from_json(&json),
            Err(TopicsError::UnsupportedVersion { found: 0, .. })
        ));
        assert!(Model::from_json("{}").is_err());
        assert!(Model::from_bytes(b"not a model at all").is_err());
    }

    #[test]
    fn taxonomy_predictions_roll_subtopics_up() {
        let examples: Vec<(&str, &str)> = EXAMPLES
            .iter()
            .map(|&(t, l)| {
                let label = match l {
                    "card_arrival" => "cards/arrival",
                    "top_up" => "money/top_up",
                    _ => "money/fee",
                };
                (t, label)
            })
            .collect();
        let m = train(&examples, &small()).unwrap();
        let tax = m.taxonomy().unwrap();
        assert_eq!(tax.topics().collect::<Vec<_>>(), ["cards", "money"]);
        let p = m.predict_in(&tax, "how much is the fee to top up");
        assert_eq!(p.topic.as_deref(), Some("money"));
        assert!(p.topic_probability >= p.subtopic_probability);
    }
}
