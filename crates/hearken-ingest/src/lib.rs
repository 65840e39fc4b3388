//! Reading signal files into validated records.
//!
//! Owns file formats (CSV with any delimiter, JSON Lines, gzip of either), header recognition,
//! mapping files and the conversion of one row into a [`hearken_model::Record`]. A row that cannot
//! be converted is returned as a [`RowError`] with its line, field, value and reason, for the store
//! to quarantine: nothing is dropped here.
//!
//! Architecture invariant: this crate reads files and nothing else; it knows nothing about the
//! store, SQL or the analytics.

mod convert;
mod error;
mod eventlog;
pub mod fields;
mod input;
mod json;
mod mapping;
mod reader;
pub mod redact;

pub use error::{IngestError, RowError};
pub use input::{Format, MAX_LINE, Progress, fingerprint, fingerprint_bytes};
pub use mapping::{Mapping, SkipRule};
pub use reader::{Enriched, Enricher, MAX_RAW, ParsedRow, ReadOptions, RowReader};
pub use redact::{Redact, Redactor};
