//! The output formats, each with its HTTP content type and file extension.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// RFC 4180 CSV, UTF-8, a header row, CRLF line ends; texts that a spreadsheet would run
    /// as a formula are defused (see [`crate::CsvOptions`]).
    Csv,
    /// JSON Lines: one object per row, the columns as keys.
    Jsonl,
    /// Apache Parquet, Snappy-compressed, times as UTC microseconds.
    Parquet,
}

impl Format {
    pub const ALL: &'static [Format] = &[Format::Csv, Format::Jsonl, Format::Parquet];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Jsonl => "jsonl",
            Format::Parquet => "parquet",
        }
    }

    /// The HTTP `Content-Type` of a response carrying this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8; header=present",
            Format::Jsonl => "application/x-ndjson",
            Format::Parquet => "application/vnd.apache.parquet",
        }
    }

    /// The file extension (without the dot).
    pub fn extension(self) -> &'static str {
        self.as_str()
    }

    /// The format a file name's extension names (`.csv`, `.jsonl` or `.ndjson`, `.parquet`).
    pub fn from_path(path: &std::path::Path) -> Option<Format> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "csv" => Some(Format::Csv),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            "parquet" => Some(Format::Parquet),
            _ => None,
        }
    }

    /// Whether a terminal or a text pipe can take it.
    pub fn is_text(self) -> bool {
        !matches!(self, Format::Parquet)
    }

    /// Whether this build writes it (Parquet is a cargo feature, on by default).
    pub fn is_available(self) -> bool {
        cfg!(feature = "parquet") || self != Format::Parquet
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Format, String> {
        Format::ALL
            .iter()
            .copied()
            .find(|f| f.as_str() == s)
            .ok_or_else(|| format!("'{s}' is not one of: csv, jsonl, parquet"))
    }
}
