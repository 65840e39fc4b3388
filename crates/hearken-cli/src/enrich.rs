//! Text understanding at import: glue between `hearken-text`, `hearken-topics` and the ingest
//! pipeline. Runs on the store's enrichment workers, in parallel with reading and writing.

use std::sync::Arc;

use hearken_ingest::{Enriched, Enricher};
use hearken_model::{Record, Text};
use hearken_text::{Vader, redact_with_report};
use hearken_topics::{Model, PredictScratch};

thread_local! {
    /// Prediction buffers, reused for every text on each enrichment thread.
    static SCRATCH: std::cell::RefCell<PredictScratch> = std::cell::RefCell::new(PredictScratch::default());
}

/// Scores every text (sentiment, language), predicts its topic when a model is given, and, when
/// `redact`, replaces e-mail addresses, phone numbers, payment cards and IBANs with placeholders
/// before anything is stored.
pub fn enricher(redact: bool, model: Option<Arc<Model>>) -> Enricher {
    let vader = Vader::shared();
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
        let scored = vader.score(text.as_str());
        let (topic, topic_probability) = match (&model, is_signal) {
            (Some(m), true) => {
                let p = SCRATCH.with(|s| m.predict_with(text.as_str(), &mut s.borrow_mut()));
                (p.label, Some(p.probability))
            }
            _ => (None, None),
        };
        Enriched {
            sentiment: scored.sentiment().map(|s| s.compound as f32),
            language: Some(scored.language().code()),
            redactions,
            topic,
            topic_probability,
        }
    }))
}
