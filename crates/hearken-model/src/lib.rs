//! Hearken's domain model.
//!
//! This crate owns the vocabulary every other crate speaks: validated identifiers, scores on their
//! scales, timestamps, the closed sets (channel, kind, source) and the records a store holds.
//! Every value is parsed once, at the boundary, into a type that cannot hold an invalid value
//! ("parse, don't validate"); a failure is a [`FieldError`] naming the field, the value and what to
//! do about it.
//!
//! Architecture invariant: this crate does no IO and knows nothing about files, SQL or HTTP.

mod enums;
mod error;
mod ids;
mod number;
mod records;
mod scores;
mod time;

/// Time zones of the IANA database, as `DateOptions::time_zone` holds them.
pub use chrono_tz::Tz as TimeZone;
pub use enums::{ActionStatus, Channel, RecordKind, SignalKind, Source};
pub use error::FieldError;
pub use ids::{
    ActionId, AgentId, CaseId, CustomerId, EventId, ExtId, ProductId, ResponseId, SignalId,
};
pub use number::{NumberFormat, THOUSANDS_SEPARATORS, canonical_number, parse_number};
pub use records::{
    Action, Agent, CaseEvent, Customer, Label, Notification, Product, Record, Signal,
    SurveyResponse, Text,
};
pub use scores::{CesScore, CsatScore, Money, NpsScore, Rating};
pub use time::{
    DateOptions, DateOrder, EPOCH_FORMATS, Timestamp, parse_time_zone, suggest_date_format,
};

/// Parses a boolean the way spreadsheets and survey tools write them.
pub fn parse_bool(field: &str, value: &str) -> Result<bool, FieldError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "y" | "t" | "x" => Ok(true),
        "0" | "false" | "no" | "n" | "f" | "" => Ok(false),
        _ => Err(FieldError::new(field, value, "is not a boolean")
            .with_hint("use true/false, yes/no or 1/0")),
    }
}
