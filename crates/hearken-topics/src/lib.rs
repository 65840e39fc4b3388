//! Hearken's topic understanding.
//!
//! Owns the trained topic classifier ([`train`], [`Model`]), keyword rules ([`Rules`]), the
//! topic > subtopic [`Taxonomy`], evaluation ([`evaluate`]) and theme discovery in unlabelled
//! texts ([`discover_themes`]).
//!
//! Architecture invariant: no IO, no clock, no globals. Texts, labels, timestamps and model bytes
//! come in as values; reading files and choosing where models live is the caller's job. This
//! crate depends on hearken-model only (for `Timestamp`).
//!
//! ## The classifier
//! Texts are tokenised (lowercase, letters and digits, apostrophes joined, currency signs and
//! `?` kept as tokens) into two feature blocks, each TF-IDF weighted and scaled to unit length:
//! word 1-2-grams over lightly stemmed tokens, and character 2-5-grams inside each word
//! (scikit-learn's `char_wb`), summed over the words of the text; the word block weighs twice
//! the character block. A multinomial logistic regression is trained on them by SGD with feature
//! dropout (Wager et al. 2013), class-balanced weights and a little L2, its weights averaged over
//! the last half of the epochs; two seeds are trained in parallel and their weights averaged.
//! Because the character block is a sum over words, prediction adds one precomputed row of
//! logits per known word instead of one row per character n-gram; weights are kept as bfloat16
//! in rows padded to whole 16-class chunks, and all of a text's rows are added chunk by chunk
//! (memory-bound: this keeps many rows in flight). [`Model::predict_label`] gives the label and
//! probability without allocating. Softmax probabilities are reported with their calibration
//! ([`Eval::ece`]).
//!
//! ## Themes
//! TF-IDF (same features, `min_df` 2), an LSA projection by randomised SVD, spherical k-means with
//! k-means++ seeding and restarts; key phrases are the word 1-2-grams most over-represented in a
//! cluster. Deterministic for a seed.

mod classifier;
mod error;
mod eval;
mod features;
mod linear;
mod lsa;
pub mod metrics;
mod rules;
mod taxonomy;
mod text;
mod themes;

pub use classifier::{FORMAT_VERSION, Model, PredictScratch, Prediction, TrainConfig, train};
pub use error::{Result, TopicsError};
pub use eval::{ClassEval, Eval, evaluate};
pub use features::FeatureConfig;
pub use rules::{RuleMatch, Rules, TopicRule};
pub use taxonomy::{Taxonomy, TaxonomyPrediction, split_label};
pub use text::NgramRange;
pub use themes::{Theme, ThemeConfig, WeekCount, discover_themes};
