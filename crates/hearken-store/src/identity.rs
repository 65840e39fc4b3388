//! A record's identity in the store: its key (the source id, or a hash of its content when the
//! source gives none) and a hash of its content, which tells a re-import (same hash) from a
//! conflicting row (same key, other content).

use hearken_model::{Label, Record, Timestamp};
use xxhash_rust::xxh3::{xxh3_64, xxh3_128};

/// Builds the canonical byte form of a record: fields in a fixed order, each ended by a unit
/// separator, absent values written as a record separator. Two records are the same content
/// exactly when these bytes are equal, whatever file format they came from.
#[derive(Default)]
struct Canon(Vec<u8>);

impl Canon {
    fn s(&mut self, v: Option<&str>) -> &mut Self {
        match v {
            Some(v) => self.0.extend_from_slice(v.as_bytes()),
            None => self.0.push(0x1E),
        }
        self.0.push(0x1F);
        self
    }
    fn i(&mut self, v: Option<i64>) -> &mut Self {
        match v {
            Some(v) => self.0.extend_from_slice(&v.to_le_bytes()),
            None => self.0.push(0x1E),
        }
        self.0.push(0x1F);
        self
    }
    fn f(&mut self, v: Option<f64>) -> &mut Self {
        self.i(v.map(|x| x.to_bits() as i64))
    }
    fn t(&mut self, v: Option<Timestamp>) -> &mut Self {
        self.i(v.map(Timestamp::unix))
    }
    fn l(&mut self, v: Option<&Label>) -> &mut Self {
        self.s(v.map(Label::as_str))
    }
}

pub struct Identity {
    /// Given id, or `#` and 32 hex digits of the content hash.
    pub key: String,
    pub row_hash: i64,
    /// True when the key is a content hash (the source gave no id).
    pub hashed: bool,
}

pub fn identity(record: &Record) -> Identity {
    // Sized for a typical row with text, so the buffer rarely grows.
    let mut c = Canon(Vec::with_capacity(512));
    let id: Option<&str> = match record {
        Record::Customer(x) => {
            c.s(Some(x.id.as_str()))
                .s(x.name.as_deref())
                .l(x.segment.as_ref())
                .l(x.persona.as_ref())
                .t(x.since)
                .f(x.value_per_year.map(|m| m.get()))
                .i(Some(i64::from(x.white_glove)))
                .t(x.churned_at);
            Some(x.id.as_str())
        }
        Record::Product(x) => {
            c.s(Some(x.id.as_str()))
                .s(x.name.as_deref())
                .l(x.category.as_ref());
            Some(x.id.as_str())
        }
        Record::Agent(x) => {
            c.s(Some(x.id.as_str()))
                .s(x.name.as_deref())
                .l(x.team.as_ref());
            Some(x.id.as_str())
        }
        Record::Signal(x) => {
            c.s(x.id.as_ref().map(|i| i.as_str()))
                .t(Some(x.at))
                .i(Some(i64::from(x.channel.code())))
                .i(Some(i64::from(x.kind.code())))
                .i(Some(i64::from(x.source.code())))
                .s(x.customer.as_ref().map(|i| i.as_str()))
                .s(x.product.as_ref().map(|i| i.as_str()))
                .s(x.case.as_ref().map(|i| i.as_str()))
                .s(x.agent.as_ref().map(|i| i.as_str()))
                .l(x.stage.as_ref())
                .l(x.topic.as_ref())
                .s(x.text.as_ref().map(|t| t.as_str()));
            x.id.as_ref().map(|i| i.as_str())
        }
        Record::Survey(x) => {
            c.s(x.id.as_ref().map(|i| i.as_str()))
                .t(Some(x.at))
                .s(x.customer.as_ref().map(|i| i.as_str()))
                .s(x.product.as_ref().map(|i| i.as_str()))
                .s(x.case.as_ref().map(|i| i.as_str()))
                .s(x.agent.as_ref().map(|i| i.as_str()))
                .i(x.channel.map(|ch| i64::from(ch.code())))
                .i(x.nps.map(|v| i64::from(v.get())))
                .i(x.csat.map(|v| i64::from(v.get())))
                .i(x.ces.map(|v| i64::from(v.get())))
                .f(x.overall.map(|r| r.get()));
            for (name, rating) in &x.aspects {
                c.l(Some(name)).f(Some(rating.get()));
            }
            c.s(x.comment.as_ref().map(|t| t.as_str()));
            x.id.as_ref().map(|i| i.as_str())
        }
        Record::CaseEvent(x) => {
            c.s(x.id.as_ref().map(|i| i.as_str()))
                .s(Some(x.case.as_str()))
                .t(Some(x.at))
                .l(Some(&x.activity))
                .s(x.agent.as_ref().map(|i| i.as_str()))
                .l(x.team.as_ref())
                .s(x.text.as_ref().map(|t| t.as_str()));
            // Added later: only when present, so rows without them keep their identity.
            if x.customer.is_some() || x.product.is_some() {
                c.s(x.customer.as_ref().map(|i| i.as_str()))
                    .s(x.product.as_ref().map(|i| i.as_str()));
            }
            x.id.as_ref().map(|i| i.as_str())
        }
    };
    let row_hash = xxh3_64(&c.0) as i64;
    match id {
        Some(id) => Identity {
            key: id.to_string(),
            row_hash,
            hashed: false,
        },
        None => Identity {
            key: format!("#{:032x}", xxh3_128(&c.0)),
            row_hash,
            hashed: true,
        },
    }
}
