//! Vocabulary and TF-IDF weighting: turns texts into sparse, L2-normalised vectors.
//!
//! Owns the learnt vocabulary (n-gram key -> column) and the inverse document frequencies. The
//! weighting follows scikit-learn's `TfidfVectorizer(sublinear_tf=True)` per block (word n-grams,
//! character n-grams): tf = 1 + ln(count), idf = ln((1 + n) / (1 + df)) + 1, each block scaled
//! to unit length, weighted, and the whole vector scaled to unit length again.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use serde::{Deserialize, Serialize};

use crate::error::{Result, bad_option};
use crate::text::{self, NgramRange, Scratch};

/// How texts become features.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct FeatureConfig {
    /// Word n-grams over tokens, e.g. 1..=2.
    pub word_ngrams: NgramRange,
    /// Character n-grams inside words, e.g. 2..=5.
    pub char_ngrams: NgramRange,
    /// Also ordered word pairs up to this many tokens apart (0 or 1: none; bigrams are pairs 1
    /// apart and come from `word_ngrams`).
    pub pair_window: u8,
    /// An n-gram must occur in at least this many training texts to become a feature.
    pub min_df: u32,
    /// `1 + ln(count)` instead of the raw count.
    pub sublinear_tf: bool,
    /// Weight of the word block relative to the character block before the final normalisation.
    pub word_weight: f32,
    pub char_weight: f32,
}

impl Default for FeatureConfig {
    fn default() -> FeatureConfig {
        FeatureConfig {
            word_ngrams: NgramRange::new(1, 2),
            char_ngrams: NgramRange::new(2, 5),
            pair_window: 0,
            min_df: 1,
            sublinear_tf: true,
            word_weight: 1.0,
            char_weight: 1.0,
        }
    }
}

impl FeatureConfig {
    pub(crate) fn validate(&self) -> Result<()> {
        for (name, r) in [
            ("word_ngrams", self.word_ngrams),
            ("char_ngrams", self.char_ngrams),
        ] {
            if !r.is_off() && (r.min == 0 || r.min > r.max || r.max > 8) {
                return Err(bad_option(
                    name,
                    format!(
                        "is {}..={}; use 1 <= min <= max <= 8, or 0..=0 for none",
                        r.min, r.max
                    ),
                ));
            }
        }
        if self.word_ngrams.is_off() && self.char_ngrams.is_off() {
            return Err(bad_option(
                "word_ngrams",
                "and char_ngrams are both off; turn at least one on",
            ));
        }
        for (name, w) in [
            ("word_weight", self.word_weight),
            ("char_weight", self.char_weight),
        ] {
            if !(w.is_finite() && w >= 0.0) {
                return Err(bad_option(name, format!("is {w}; use a weight >= 0")));
            }
        }
        Ok(())
    }
}

/// Keys are already xxh3 hashes, so hashing them again would only cost time.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct KeyHasher(u64);

impl Hasher for KeyHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) ^ u64::from(b);
        }
    }
    fn write_u64(&mut self, k: u64) {
        self.0 = k;
    }
}

pub(crate) type KeyMap<V> = HashMap<u64, V, BuildHasherDefault<KeyHasher>>;

/// What [`KeyTable::get_many`] gives for an unknown key.
pub(crate) const NOT_FOUND: u32 = u32::MAX;

/// Vocabulary lookup for prediction: open addressing with linear probing, one `u64` per slot
/// packing the key's high 32 bits (a tag) and the column. One cache line per lookup, where a
/// general hash map needs two; lookups were the largest share of prediction time. Slots are
/// found from the key's low bits, so a false match needs an unseen n-gram to agree with a known
/// one on 32 tag bits in the same probe run (about 1e-9 per lookup), and then only borrows that
/// n-gram's weight.
#[derive(Debug, Clone, Default)]
pub(crate) struct KeyTable {
    mask: usize,
    slots: Vec<u64>,
}

impl KeyTable {
    pub(crate) fn new(keys: &[u64]) -> KeyTable {
        // Load factor between 0.375 and 0.75: short probe runs, and a table small enough to
        // stay in the L2 cache for vocabularies up to ~100k n-grams.
        let size = (keys.len() * 4 / 3 + 1).next_power_of_two().max(16);
        let mut t = KeyTable {
            mask: size - 1,
            slots: vec![0; size],
        };
        for (col, &k) in keys.iter().enumerate() {
            let mut i = k as usize & t.mask;
            while t.slots[i] != 0 {
                i = (i + 1) & t.mask;
            }
            // Column + 1 so that an empty slot (0) never looks like column 0.
            t.slots[i] = (k & 0xffff_ffff_0000_0000) | (col as u64 + 1);
        }
        t
    }

    /// Looks up every key of `keys`, pushing its column or [`NOT_FOUND`] to `out`.
    ///
    /// Loads every key's home slot first, in a loop without branches, so that the cache misses
    /// overlap; then resolves them. Looking keys up one by one, each lookup's branches (found?
    /// probe on?) depend on a load that may miss the cache, and a mispredicted branch discards
    /// the loads issued after it. (On banking77 the gain was within measurement noise.)
    pub(crate) fn get_many(
        &self,
        keys: impl Iterator<Item = u64> + Clone,
        home: &mut Vec<u64>,
        out: &mut Vec<u32>,
    ) {
        home.clear();
        home.extend(keys.clone().map(|k| self.slots[k as usize & self.mask]));
        out.clear();
        out.extend(
            keys.zip(home.iter())
                .map(|(k, &s)| self.resolve(k, s).unwrap_or(NOT_FOUND)),
        );
    }

    /// Finishes the lookup of `k` whose home slot holds `first`.
    #[inline]
    fn resolve(&self, k: u64, first: u64) -> Option<u32> {
        let tag = k & 0xffff_ffff_0000_0000;
        let mut i = k as usize & self.mask;
        let mut s = first;
        loop {
            if s == 0 {
                return None;
            }
            if s & 0xffff_ffff_0000_0000 == tag {
                return Some((s as u32).wrapping_sub(1));
            }
            i = (i + 1) & self.mask;
            s = self.slots[i];
        }
    }
}

/// A sparse vector: column indices (each once, in the order first seen) and values.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SparseVec {
    pub idx: Vec<u32>,
    pub val: Vec<f32>,
}

/// Rows of sparse vectors stored back to back (compressed sparse rows).
#[derive(Debug, Clone, Default)]
pub(crate) struct Csr {
    pub indptr: Vec<usize>,
    pub idx: Vec<u32>,
    pub val: Vec<f32>,
}

impl Csr {
    pub fn new() -> Csr {
        Csr {
            indptr: vec![0],
            ..Csr::default()
        }
    }

    pub fn push(&mut self, v: &SparseVec) {
        self.idx.extend_from_slice(&v.idx);
        self.val.extend_from_slice(&v.val);
        self.indptr.push(self.idx.len());
    }

    pub fn rows(&self) -> usize {
        self.indptr.len() - 1
    }

    pub fn row(&self, i: usize) -> (&[u32], &[f32]) {
        let (s, e) = (self.indptr[i], self.indptr[i + 1]);
        (&self.idx[s..e], &self.val[s..e])
    }
}

/// A fitted vocabulary with its idf weights.
#[derive(Debug, Clone)]
pub(crate) struct Vectorizer {
    pub config: FeatureConfig,
    /// Key of each column, in column order (what is saved).
    pub keys: Vec<u64>,
    pub idf: Vec<f32>,
    /// Block of each column.
    pub blocks: Vec<u8>,
    lookup: KeyTable,
}

/// Working memory for the n-grams of one token or one text's word block.
#[derive(Debug, Default)]
pub(crate) struct TokenScratch {
    chars: text::CharScratch,
    keys: Vec<u64>,
    /// Home slots and columns of the keys being looked up.
    home: Vec<u64>,
    cols: Vec<u32>,
    /// Per-column n-gram counts; all zero between uses.
    counts: Vec<u16>,
    touched: Vec<u32>,
    /// The entries produced: (column, weight).
    pub out: Vec<(u32, f32)>,
}

/// Per-text working memory for [`Vectorizer::transform`].
#[derive(Debug, Default)]
pub(crate) struct VecScratch {
    pub text: Scratch,
    pub tok: TokenScratch,
    /// Word-block entries of the current text (unscaled).
    pub words: Vec<(u32, f32)>,
    /// Dense accumulator of the character block and the columns it touched.
    acc: Vec<f32>,
    acc_touched: Vec<u32>,
}

/// How the blocks of one text are scaled: each block to unit length times its weight, then the
/// whole vector to unit length.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct BlockScales {
    pub word: f32,
    pub char: f32,
}

impl Vectorizer {
    /// Learns the vocabulary and idf from `docs`.
    pub fn fit<'a>(
        config: &FeatureConfig,
        docs: impl IntoIterator<Item = &'a str>,
    ) -> Result<Vectorizer> {
        config.validate()?;
        let mut scratch = Scratch::default();
        let mut df: KeyMap<(u32, u8)> = KeyMap::default();
        let mut n_docs = 0u32;
        for doc in docs {
            n_docs += 1;
            text::extract(
                doc,
                config.word_ngrams,
                config.char_ngrams,
                config.pair_window,
                &mut scratch,
            );
            scratch.keys.sort_unstable();
            scratch.keys.dedup();
            for &(k, b) in &scratch.keys {
                df.entry(k).or_insert((0, b)).0 += 1;
            }
        }
        // Column order by key makes the model bytes independent of hash-map iteration order.
        let mut kept: Vec<(u64, u32, u8)> = df
            .into_iter()
            .filter(|&(_, (d, _))| d >= config.min_df)
            .map(|(k, (d, b))| (k, d, b))
            .collect();
        kept.sort_unstable_by_key(|&(k, _, _)| k);
        let n = f64::from(n_docs);
        let idf = kept
            .iter()
            .map(|&(_, d, _)| ((1.0 + n) / (1.0 + f64::from(d))).ln() as f32 + 1.0)
            .collect();
        let blocks = kept.iter().map(|&(_, _, b)| b).collect();
        let keys = kept.iter().map(|&(k, _, _)| k).collect();
        Ok(Vectorizer::from_parts(config.clone(), keys, idf, blocks))
    }

    pub fn from_parts(
        config: FeatureConfig,
        keys: Vec<u64>,
        idf: Vec<f32>,
        blocks: Vec<u8>,
    ) -> Vectorizer {
        let lookup = KeyTable::new(&keys);
        Vectorizer {
            config,
            keys,
            idf,
            blocks,
            lookup,
        }
    }

    pub fn dim(&self) -> usize {
        self.keys.len()
    }

    /// Counts `keys` per known column and writes `(column, tf * idf)` entries to `t.out`;
    /// returns their squared norm.
    fn weigh(&self, keys: impl Iterator<Item = u64> + Clone, t: &mut TokenScratch) -> f32 {
        // A dense counter instead of sorting the keys: a text has a few hundred n-grams, and
        // sorting them was a third of the prediction time.
        if t.counts.len() != self.dim() {
            t.counts = vec![0; self.dim()];
        }
        self.lookup.get_many(keys, &mut t.home, &mut t.cols);
        t.touched.clear();
        for &col in &t.cols {
            if let Some(c) = t.counts.get_mut(col as usize) {
                if *c == 0 {
                    t.touched.push(col);
                }
                *c = c.saturating_add(1);
            }
        }
        t.out.clear();
        let mut norm = 0.0;
        for &col in &t.touched {
            let count = f32::from(std::mem::take(&mut t.counts[col as usize]));
            // Most n-grams occur once in a short text: skip the logarithm for them.
            let tf = if count == 1.0 || !self.config.sublinear_tf {
                count
            } else {
                1.0 + count.ln()
            };
            let w = tf * self.idf[col as usize];
            norm += w * w;
            t.out.push((col, w));
        }
        norm
    }

    /// Tokenises `doc` into `s.text` and puts its word-block entries in `s.words`; returns
    /// their squared norm.
    pub fn word_block(&self, doc: &str, s: &mut VecScratch) -> f32 {
        let c = &self.config;
        text::word_keys(doc, c.word_ngrams, c.pair_window, &mut s.text);
        let norm = self.weigh(s.text.keys.iter().map(|&(k, _)| k), &mut s.tok);
        std::mem::swap(&mut s.words, &mut s.tok.out);
        norm
    }

    /// The character-block vector of one token into `t.out`; returns its squared norm.
    ///
    /// The character block of a text is the sum of its tokens' vectors, scaled by the root of
    /// the sum of their squared norms. Defined per token (fastText-style subwords) rather than
    /// over the whole text so that prediction can use each known word's precomputed logits.
    pub fn token_vector(&self, token: &str, t: &mut TokenScratch) -> f32 {
        t.keys.clear();
        text::char_keys(token, self.config.char_ngrams, &mut t.chars, &mut t.keys);
        let keys = std::mem::take(&mut t.keys);
        let norm = self.weigh(keys.iter().copied(), t);
        t.keys = keys;
        norm
    }

    /// Block scales for a text whose blocks have these squared norms; `None` when both are
    /// empty (nothing known in the text).
    pub fn scales(&self, word_norm: f32, char_norm: f32) -> Option<BlockScales> {
        let c = &self.config;
        let ww = if word_norm > 0.0 { c.word_weight } else { 0.0 };
        let cw = if char_norm > 0.0 { c.char_weight } else { 0.0 };
        let total = ww * ww + cw * cw;
        if total <= 0.0 {
            return None;
        }
        let g = 1.0 / total.sqrt();
        Some(BlockScales {
            word: if ww > 0.0 {
                g * ww / word_norm.sqrt()
            } else {
                0.0
            },
            char: if cw > 0.0 {
                g * cw / char_norm.sqrt()
            } else {
                0.0
            },
        })
    }

    /// The TF-IDF vector of `doc` into `out`. A text with no known n-gram gives an empty vector.
    pub fn transform(&self, doc: &str, s: &mut VecScratch, out: &mut SparseVec) {
        out.idx.clear();
        out.val.clear();
        let word_norm = self.word_block(doc, s);
        if s.acc.len() != self.dim() {
            s.acc = vec![0.0; self.dim()];
        }
        s.acc_touched.clear();
        let mut char_norm = 0.0;
        for &(a, b) in &s.text.spans {
            char_norm += self.token_vector(&s.text.words[a..b], &mut s.tok);
            for &(col, w) in &s.tok.out {
                let slot = &mut s.acc[col as usize];
                if *slot == 0.0 {
                    s.acc_touched.push(col);
                }
                *slot += w;
            }
        }
        let Some(scale) = self.scales(word_norm, char_norm) else {
            for &col in &s.acc_touched {
                s.acc[col as usize] = 0.0;
            }
            return;
        };
        for &(col, w) in &s.words {
            out.idx.push(col);
            out.val.push(w * scale.word);
        }
        for &col in &s.acc_touched {
            out.idx.push(col);
            out.val
                .push(std::mem::take(&mut s.acc[col as usize]) * scale.char);
        }
    }

    pub fn transform_all<'a>(&self, docs: impl IntoIterator<Item = &'a str>) -> Csr {
        let mut scratch = VecScratch::default();
        let mut v = SparseVec::default();
        let mut m = Csr::new();
        for d in docs {
            self.transform(d, &mut scratch, &mut v);
            m.push(&v);
        }
        m
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectors_are_unit_length_and_unknown_text_is_empty() {
        let docs = [
            "my card has not arrived",
            "how do i top up",
            "top up failed",
        ];
        let v = Vectorizer::fit(&FeatureConfig::default(), docs).unwrap();
        // Texts whose words share no character n-gram are exactly unit length (the character
        // block treats each word's n-grams as its own; see `token_vector`).
        let m = v.transform_all(["card", "how", "failed my"]);
        for i in 0..m.rows() {
            let (_, val) = m.row(i);
            let norm: f32 = val.iter().map(|x| x * x).sum();
            assert!((norm - 1.0).abs() < 1e-5, "row {i} norm {norm}");
        }
        let mut s = VecScratch::default();
        let mut out = SparseVec::default();
        v.transform("", &mut s, &mut out);
        assert!(out.idx.is_empty());
        v.transform("zzzz qqqq", &mut s, &mut out);
        assert!(out.idx.iter().all(|&c| (c as usize) < v.dim()));
    }

    /// TF-IDF values of scikit-learn's `TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)`
    /// on a small corpus (tools/reference/topics/sklearn_baseline.py). Columns are numbered
    /// differently, so each row's sorted values are compared.
    #[test]
    fn word_tf_idf_matches_scikit_learn() {
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../tests/data/sklearn_reference.json")).unwrap();
        let case = &fixture["tfidf_case"];
        let docs: Vec<&str> = case["docs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap())
            .collect();
        let cfg = FeatureConfig {
            char_ngrams: NgramRange::OFF,
            ..FeatureConfig::default()
        };
        let v = Vectorizer::fit(&cfg, docs.iter().copied()).unwrap();
        let m = v.transform_all(docs.iter().copied());
        for (i, want) in case["sorted_rows"].as_array().unwrap().iter().enumerate() {
            let want: Vec<f64> = want
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect();
            let mut got: Vec<f64> = m.row(i).1.iter().map(|&x| f64::from(x)).collect();
            got.sort_by(f64::total_cmp);
            assert_eq!(got.len(), want.len(), "row {i}");
            for (g, w) in got.iter().zip(&want) {
                assert!((g - w).abs() < 1e-6, "row {i}: {got:?} vs {want:?}");
            }
        }
    }

    #[test]
    fn min_df_prunes_rare_ngrams_and_bad_ranges_are_rejected() {
        let docs = ["alpha beta", "alpha gamma"];
        let all = Vectorizer::fit(&FeatureConfig::default(), docs).unwrap();
        let cfg = FeatureConfig {
            min_df: 2,
            ..FeatureConfig::default()
        };
        let pruned = Vectorizer::fit(&cfg, docs).unwrap();
        assert!(pruned.dim() < all.dim() && pruned.dim() > 0);
        let bad = FeatureConfig {
            char_ngrams: NgramRange::new(5, 2),
            ..FeatureConfig::default()
        };
        assert!(Vectorizer::fit(&bad, docs).is_err());
    }
}
