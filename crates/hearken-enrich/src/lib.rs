//! Text understanding at import: glue between `hearken-text`, `hearken-topics` and the ingest
//! reader, shared by every way rows enter the store (`hearken import` and the HTTP server's live
//! ingestion and webhook deliveries), so a row is enriched and redacted the same way whichever
//! door it came in by. Runs on the store's enrichment workers (file imports) or the server's
//! parsing threads (live rows), in parallel with reading and writing.
//!
//! [`read_options`] gives the reader options a store imports with: the store's topic model for
//! signals, its pseudonym key for redaction. [`enricher`] and [`redactor`] are the parts.
//!
//! Texts repeat (templated messages, auto-replies, "thanks"), and scoring one is a pure function
//! of its characters, so each worker remembers the scores of recent texts in a small
//! direct-mapped table: a repeated text costs a hash and a comparison instead of VADER, the
//! language gate and the topic model. A hit compares the whole text, so the result is exactly
//! that of scoring it again.

use std::sync::Arc;

use hearken_ingest::{Enriched, Enricher, Mapping, ReadOptions, Redact, Redactor};
use hearken_model::{Record, RecordKind, Text};
use hearken_store::{ModelInfo, Store, StoreError};
use hearken_text::{Vader, redact_with_report};
use hearken_topics::{Model, PredictScratch};

/// The topic model signals are classified with at import.
pub const TOPIC_MODEL: &str = "default";

/// What happens to texts at import.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextOptions {
    /// Sentiment, language and (for signals, when the store has a topic model) topic.
    pub enrich: bool,
    /// Replace personal data with placeholders (texts) and pseudonyms (ids) before storing.
    pub redact: bool,
}

/// Why the reader options of a store cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum EnrichError {
    #[error("topic model '{name}' version {version} cannot be read")]
    Model {
        name: String,
        version: i64,
        #[source]
        source: hearken_topics::TopicsError,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The store's topic model for signals (the newest version of [`TOPIC_MODEL`]), if one has been
/// trained, with its description.
pub fn topic_model(store: &Store) -> Result<Option<(ModelInfo, Arc<Model>)>, EnrichError> {
    model_from(store.load_model(TOPIC_MODEL)?)
}

/// A stored topic model's bytes (what `load_model` of either store gives) as a model.
pub fn model_from(
    stored: Option<(ModelInfo, Vec<u8>)>,
) -> Result<Option<(ModelInfo, Arc<Model>)>, EnrichError> {
    match stored {
        Some((info, bytes)) => match Model::from_bytes(&bytes) {
            Ok(model) => Ok(Some((info, Arc::new(model)))),
            Err(source) => Err(EnrichError::Model {
                name: info.name,
                version: info.version,
                source,
            }),
        },
        None => Ok(None),
    }
}

/// The reader options rows of `kind` are imported into `store` with: the enrichment and
/// redaction `text` asks for, with the store's topic model (signals only) and pseudonym key, and
/// the mapping, if any.
pub fn read_options(
    store: &Store,
    kind: RecordKind,
    mapping: Option<Mapping>,
    text: TextOptions,
) -> Result<ReadOptions, EnrichError> {
    // Signals are classified by the store's topic model, when one has been trained.
    let model = if text.enrich && kind == RecordKind::Signals {
        topic_model(store)?.map(|(_, m)| m)
    } else {
        None
    };
    Ok(read_options_with(
        kind,
        mapping,
        text,
        model,
        text.redact
            .then(|| store.pseudonym_key())
            .transpose()?
            .as_deref(),
    ))
}

/// [`read_options`] from parts already loaded: the topic model (used for signals only) and the
/// store's pseudonym key (needed when `text.redact`; without it ids are not pseudonymised).
pub fn read_options_with(
    kind: RecordKind,
    mapping: Option<Mapping>,
    text: TextOptions,
    model: Option<Arc<Model>>,
    pseudonym_key: Option<&str>,
) -> ReadOptions {
    let model = model.filter(|_| text.enrich && kind == RecordKind::Signals);
    let enrich = (text.enrich || text.redact).then(|| enricher(text.redact, model));
    let redact = if text.redact {
        pseudonym_key.map(redactor)
    } else {
        None
    };
    ReadOptions {
        mapping,
        enrich,
        redact,
        ..ReadOptions::new(kind)
    }
}

thread_local! {
    /// Prediction buffers, reused for every text on each enrichment thread.
    static SCRATCH: std::cell::RefCell<PredictScratch> = std::cell::RefCell::new(PredictScratch::default());
    /// Scores of recent texts, per enrichment thread.
    static MEMO: std::cell::RefCell<Memo> = std::cell::RefCell::new(Memo::default());
}

/// Slots of the per-thread memo: a power of two. About 64 bytes plus the text per filled slot.
const MEMO_SLOTS: usize = 1 << 16;

/// Texts longer than this are not remembered: long texts rarely repeat and would hold memory.
const MEMO_MAX_TEXT: usize = 1024;

/// What scoring a text gives, whatever record it belongs to.
#[derive(Clone)]
struct Scores {
    sentiment: Option<f32>,
    language: &'static str,
    topic: Option<String>,
    topic_probability: Option<f32>,
}

/// A direct-mapped table from a text (by hash, then compared in full) to its scores. Entries are
/// tagged with the enricher's serial number, so a thread that outlives one enricher (and its
/// topic model) never sees another's scores, and with whether the text was a signal's (only
/// those are classified).
#[derive(Default)]
struct Memo {
    slots: Vec<Option<(u64, Box<str>, Scores)>>,
}

/// Serial numbers of enrichers, for [`Memo`].
static ENRICHERS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

impl Memo {
    fn slot(hash: u64) -> usize {
        (hash as usize) & (MEMO_SLOTS - 1)
    }

    fn get(&self, tag: u64, hash: u64, text: &str) -> Option<Scores> {
        match self.slots.get(Self::slot(hash)) {
            Some(Some((t, remembered, scores))) if *t == tag && &**remembered == text => {
                Some(scores.clone())
            }
            _ => None,
        }
    }

    fn put(&mut self, tag: u64, hash: u64, text: &str, scores: &Scores) {
        if text.len() > MEMO_MAX_TEXT {
            return;
        }
        if self.slots.is_empty() {
            self.slots.resize_with(MEMO_SLOTS, || None);
        }
        self.slots[Self::slot(hash)] = Some((tag, text.into(), scores.clone()));
    }
}

fn text_hash(text: &str) -> u64 {
    use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
    BuildHasherDefault::<DefaultHasher>::default().hash_one(text)
}

/// Removes personal data (e-mail addresses, phone numbers, payment cards, IBANs) from everything
/// the reader keeps besides free texts: placeholders in names, labels and the quarantine's
/// values, reasons and raw rows; pseudonyms for ids, keyed with the store's `key` (see
/// `hearken_ingest::Redactor`).
pub fn redactor(key: &str) -> Redactor {
    Redactor::new(Arc::new(Pii), key)
}

struct Pii;

impl Redact for Pii {
    fn text(&self, text: &str) -> Option<String> {
        match hearken_text::redact(text) {
            std::borrow::Cow::Borrowed(_) => None,
            std::borrow::Cow::Owned(s) => Some(s),
        }
    }
}

/// Scores every text (sentiment, language), predicts its topic when a model is given, and, when
/// `redact`, replaces e-mail addresses, phone numbers, payment cards and IBANs with placeholders
/// before anything is stored.
pub fn enricher(redact: bool, model: Option<Arc<Model>>) -> Enricher {
    let vader = Vader::shared();
    let serial = ENRICHERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    Enricher(Arc::new(move |record: &mut Record| {
        let is_signal = matches!(record, Record::Signal(_));
        let text = match record {
            Record::Signal(s) => s.text.as_mut(),
            Record::Survey(s) => s.comment.as_mut(),
            Record::CaseEvent(e) => e.text.as_mut(),
            Record::Customer(_) | Record::Product(_) | Record::Agent(_) => None,
        };
        let Some(text) = text else {
            return Enriched::default();
        };
        let mut redactions = 0;
        if redact {
            let r = redact_with_report(text.as_str());
            if !r.is_clean() {
                redactions = r.counts.iter().sum::<usize>() as u32;
                let replaced = r.text.into_owned();
                *text = Text::redacted(replaced);
            }
        }
        let (tag, hash) = (serial << 1 | u64::from(is_signal), text_hash(text.as_str()));
        let scores = match MEMO.with(|m| m.borrow().get(tag, hash, text.as_str())) {
            Some(scores) => scores,
            None => {
                let scored = vader.score(text.as_str());
                let (topic, topic_probability) = match (&model, is_signal) {
                    (Some(m), true) => SCRATCH.with(|s| {
                        // The label and its probability only: no full ranking per signal.
                        let (label, p) = m.predict_label(text.as_str(), &mut s.borrow_mut());
                        (label.map(str::to_owned), Some(p))
                    }),
                    _ => (None, None),
                };
                let scores = Scores {
                    sentiment: scored.sentiment().map(|s| s.compound as f32),
                    language: scored.language().code(),
                    topic,
                    topic_probability,
                };
                MEMO.with(|m| m.borrow_mut().put(tag, hash, text.as_str(), &scores));
                scores
            }
        };
        Enriched {
            sentiment: scores.sentiment,
            language: Some(scores.language),
            redactions,
            topic: scores.topic,
            topic_probability: scores.topic_probability,
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearken_model::{Channel, Signal, SignalKind, Source, Timestamp};

    fn signal(text: &str) -> Record {
        Record::Signal(Signal {
            id: None,
            at: Timestamp::from_unix(0),
            channel: Channel::Email,
            kind: SignalKind::Complaint,
            source: Source::Customer,
            customer: None,
            product: None,
            case: None,
            agent: None,
            stage: None,
            topic: None,
            text: Text::parse("text", text).ok().flatten(),
        })
    }

    #[test]
    fn a_remembered_text_gets_the_scores_of_scoring_it_afresh() {
        let texts = [
            "I love the new app, great job!",
            "The outage is terrible and nobody answers.",
            "I love the new app, great job!",
            "Je voudrais annuler mon abonnement, s'il vous plaît.",
            "The outage is terrible and nobody answers.",
            "Je voudrais annuler mon abonnement, s'il vous plaît.",
        ];
        let enrich = enricher(false, None);
        for text in texts {
            let got = (enrich.0)(&mut signal(text));
            let fresh = hearken_text::score(text);
            assert_eq!(
                got.sentiment,
                fresh.sentiment().map(|s| s.compound as f32),
                "{text}"
            );
            assert_eq!(got.language, Some(fresh.language().code()), "{text}");
        }
    }

    #[test]
    fn texts_sharing_a_slot_are_told_apart() {
        let mut memo = Memo::default();
        let scores = |sentiment| Scores {
            sentiment: Some(sentiment),
            language: "en",
            topic: None,
            topic_probability: None,
        };
        memo.put(0, 7, "good", &scores(0.5));
        assert_eq!(memo.get(0, 7, "good").and_then(|s| s.sentiment), Some(0.5));
        // Same slot (hash), other text or other enricher: not a hit.
        assert!(memo.get(0, 7, "bad").is_none());
        assert!(memo.get(2, 7, "good").is_none());
        memo.put(0, 7 + MEMO_SLOTS as u64, "bad", &scores(-0.5));
        assert!(memo.get(0, 7, "good").is_none());
        assert_eq!(memo.get(0, 7, "bad").and_then(|s| s.sentiment), Some(-0.5));
    }
}
