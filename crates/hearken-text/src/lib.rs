//! Hearken's text understanding: what a signal's free text says and what it must not keep.
//!
//! - [`Vader`] / [`polarity_scores`]: VADER sentiment, identical to Python vaderSentiment 3.3.2
//!   at its rounding ([`Sentiment::to_json`]).
//! - [`redact`]: e-mail addresses, phone numbers, payment card numbers and IBANs replaced by typed
//!   placeholders before text is stored.
//! - [`detect_language`] and [`score`]: English (or too short to tell) text gets a sentiment;
//!   text in another language gets a defined "not scored" result instead of a misleading number
//!   from the English lexicon.
//!
//! Architecture invariant: this crate is pure. It does no IO (the lexicons are embedded in the
//! binary), keeps no state between calls (beyond reusable per-thread scratch buffers), depends
//! on no other crate, and never panics on any input string.

mod fxhash;
mod lang;
mod pii;
mod pystr;
mod score;
mod sentiment;
mod vader;

pub use lang::{Language, detect_language};
pub use pii::{PiiKind, Redaction, redact, redact_with_report};
pub use score::{Scored, score};
pub use sentiment::{Sentiment, py_round};
pub use vader::Vader;

/// VADER scores of `text` with the process-wide [`Vader`] (built on first use).
pub fn polarity_scores(text: &str) -> Sentiment {
    Vader::shared().polarity_scores(text)
}
