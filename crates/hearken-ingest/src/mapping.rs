//! Mapping files: how an organisation's own export maps onto the canonical fields.
//!
//! ```toml
//! delimiter = ";"            # optional; sniffed from the header otherwise
//! date_order = "dmy"         # for numeric dates such as 03/04/2024
//! date_format = "%d-%m-%Y %H:%M"
//! utc_offset_minutes = 60    # for times written without an offset
//!
//! [columns]                  # canonical field = column in the file
//! at = "Aangemaakt op"
//! text = "Omschrijving"
//!
//! [aspects]                  # surveys: aspect name = column
//! service = "Q5_1"
//!
//! [values.channel]           # value translations, per field
//! Telefoon = "phone"
//!
//! [defaults]                 # a constant for a field the file does not have
//! channel = "email"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hearken_model::{DateOptions, DateOrder, RecordKind};
use serde::Deserialize;

use crate::IngestError;
use crate::fields::{fields, slot};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub delimiter: Option<String>,
    pub date_order: Option<DateOrder>,
    pub date_format: Option<String>,
    #[serde(default)]
    pub utc_offset_minutes: i32,
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    #[serde(default)]
    pub aspects: BTreeMap<String, String>,
    #[serde(default)]
    pub values: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default)]
    pub defaults: BTreeMap<String, String>,
    /// Where it was read from, for messages.
    #[serde(skip)]
    pub path: PathBuf,
}

impl Mapping {
    pub fn load(path: &Path) -> Result<Mapping, IngestError> {
        let text = std::fs::read_to_string(path).map_err(|source| IngestError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Mapping::parse(&text, path)
    }

    pub fn parse(text: &str, path: &Path) -> Result<Mapping, IngestError> {
        let mut m: Mapping = toml::from_str(text).map_err(|e| IngestError::Mapping {
            mapping: path.to_path_buf(),
            message: e.to_string(),
        })?;
        m.path = path.to_path_buf();
        Ok(m)
    }

    fn err(&self, message: String) -> IngestError {
        IngestError::Mapping {
            mapping: self.path.clone(),
            message,
        }
    }

    /// Checks field names against the kind, so a typo fails before any row is read.
    pub fn validate(&self, kind: RecordKind) -> Result<(), IngestError> {
        let known = || {
            fields(kind)
                .iter()
                .map(|f| f.name)
                .collect::<Vec<_>>()
                .join(", ")
        };
        for section in [&self.columns, &self.defaults] {
            for name in section.keys() {
                if slot(kind, name).is_none() {
                    return Err(self.err(format!(
                        "'{name}' is not a field of {kind} (fields: {})",
                        known()
                    )));
                }
            }
        }
        for name in self.values.keys() {
            if slot(kind, name).is_none() {
                return Err(self.err(format!(
                    "[values.{name}]: '{name}' is not a field of {kind} (fields: {})",
                    known()
                )));
            }
        }
        if !self.aspects.is_empty() && kind != RecordKind::Surveys {
            return Err(self.err(format!("[aspects] applies to surveys, not {kind}")));
        }
        if let Some(d) = &self.delimiter {
            self.delimiter_byte().ok_or_else(|| {
                self.err(format!("delimiter '{d}' must be a single ASCII character"))
            })?;
        }
        Ok(())
    }

    pub fn delimiter_byte(&self) -> Option<u8> {
        let d = self.delimiter.as_deref()?;
        let d = if d == "\\t" || d.eq_ignore_ascii_case("tab") {
            "\t"
        } else {
            d
        };
        match d.as_bytes() {
            [b] if b.is_ascii() => Some(*b),
            _ => None,
        }
    }

    pub fn date_options(&self) -> DateOptions {
        DateOptions {
            order: self.date_order,
            format: self.date_format.clone(),
            utc_offset_minutes: self.utc_offset_minutes,
        }
    }
}
