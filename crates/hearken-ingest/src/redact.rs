//! Personal data out of everything an import keeps: with a [`Redactor`] configured, the reader
//! rewrites ids, names and labels of every record, and the value, reason and raw text of every
//! row it cannot read, before they leave the reader. Free texts (a signal's text, a survey
//! comment, a case-event comment) are rewritten by the [`crate::Enricher`] on the enrichment
//! workers when one is configured, here otherwise.
//!
//! An id cannot be replaced by a placeholder (two customers would become one), so an id holding
//! personal data becomes a pseudonym: the same value always gives the same pseudonym, and the
//! value cannot be read back from it.

use std::sync::Arc;

use hearken_model::{ExtId, Label, Record, Text};

/// The detection of personal data; implemented by the glue that owns it (`hearken-text`).
pub trait Redact: Send + Sync {
    /// The text with personal data replaced by placeholders; None when it holds none.
    fn text(&self, text: &str) -> Option<String>;
}

/// A [`Redact`] implementation and the secret its pseudonyms are keyed with (one per store, so
/// the same id gets the same pseudonym in every import into that store).
#[derive(Clone)]
pub struct Redactor {
    detect: Arc<dyn Redact>,
    key: Arc<str>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Redactor")
    }
}

impl Redactor {
    pub fn new(detect: Arc<dyn Redact>, key: &str) -> Redactor {
        Redactor {
            detect,
            key: key.into(),
        }
    }

    /// The text, redacted; None when it holds no personal data.
    pub fn text(&self, text: &str) -> Option<String> {
        self.detect.text(text)
    }

    /// A pseudonym for an id that holds personal data (`pii-` and 16 hex digits of a keyed hash
    /// of the trimmed id); None when it holds none.
    pub fn id(&self, id: &str) -> Option<String> {
        self.detect.text(id)?;
        let mut keyed = Vec::with_capacity(self.key.len() + id.len() + 1);
        keyed.extend_from_slice(self.key.as_bytes());
        keyed.push(0x1f);
        keyed.extend_from_slice(id.trim().as_bytes());
        Some(format!("pii-{:016x}", xxhash_rust::xxh3::xxh3_64(&keyed)))
    }

    pub fn string(&self, s: &mut String) {
        if let Some(r) = self.text(s) {
            *s = r;
        }
    }

    fn ext(&self, id: &mut ExtId) {
        if let Some(p) = self.id(id.as_str())
            && let Ok(new) = ExtId::parse("id", &p)
        {
            *id = new;
        }
    }

    fn label(&self, l: &mut Label) {
        if let Some(r) = self.text(l.as_str())
            && let Ok(new) = Label::parse("label", &r)
        {
            *l = new;
        }
    }

    fn free_text(&self, t: &mut Text) {
        if let Some(r) = self.text(t.as_str()) {
            *t = Text::redacted(r);
        }
    }

    /// Rewrites the ids, names and labels of a record (and its texts when `texts`).
    pub fn record(&self, record: &mut Record, texts: bool) {
        macro_rules! ids {
            ($($id:expr),*) => { $( if let Some(x) = $id.as_mut() { self.ext(&mut x.0); } )* };
        }
        macro_rules! labels {
            ($($l:expr),*) => { $( if let Some(x) = $l.as_mut() { self.label(x); } )* };
        }
        match record {
            Record::Customer(x) => {
                self.ext(&mut x.id.0);
                if let Some(n) = x.name.as_mut() {
                    self.string(n);
                }
                labels!(x.segment, x.persona);
            }
            Record::Product(x) => {
                self.ext(&mut x.id.0);
                if let Some(n) = x.name.as_mut() {
                    self.string(n);
                }
                labels!(x.category);
            }
            Record::Agent(x) => {
                self.ext(&mut x.id.0);
                if let Some(n) = x.name.as_mut() {
                    self.string(n);
                }
                labels!(x.team);
            }
            Record::Signal(x) => {
                ids!(x.id, x.customer, x.product, x.case, x.agent);
                labels!(x.stage, x.topic);
                if texts && let Some(t) = x.text.as_mut() {
                    self.free_text(t);
                }
            }
            Record::Survey(x) => {
                ids!(x.id, x.customer, x.product, x.case, x.agent);
                for (name, _) in &mut x.aspects {
                    self.label(name);
                }
                if texts && let Some(t) = x.comment.as_mut() {
                    self.free_text(t);
                }
            }
            Record::CaseEvent(x) => {
                ids!(x.id, x.agent, x.customer, x.product);
                self.ext(&mut x.case.0);
                self.label(&mut x.activity);
                labels!(x.team);
                if texts && let Some(t) = x.text.as_mut() {
                    self.free_text(t);
                }
            }
        }
    }
}
