use std::path::PathBuf;

/// A problem with a whole file: nothing of it can be read as rows. Row-level problems are not
/// errors; they become [`crate::RowError`]s and are quarantined.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is empty: expected a header row")]
    Empty { path: PathBuf },
    #[error(
        "{path}: line {line} is longer than {limit} bytes; is this a text file of the kind asked for?"
    )]
    LineTooLong {
        path: PathBuf,
        line: u64,
        limit: usize,
    },
    #[error(
        "{path}: the header has no column for required field '{field}' (columns found: {found}); map one with --mapping"
    )]
    MissingColumn {
        path: PathBuf,
        field: String,
        found: String,
    },
    #[error(
        "{path}: the header is not valid UTF-8 or contains binary data; is this a CSV or JSON Lines file?"
    )]
    BinaryHeader { path: PathBuf },
    #[error("mapping {mapping}: {message}")]
    Mapping { mapping: PathBuf, message: String },
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
}

/// Why one row could not be read. Carries the line (1-based, of the row's first physical line)
/// and, where one field is at fault, that field and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub field: Option<String>,
    pub value: Option<String>,
    pub reason: String,
}

impl RowError {
    pub fn whole_row(line: u64, reason: impl Into<String>) -> RowError {
        RowError {
            line,
            field: None,
            value: None,
            reason: reason.into(),
        }
    }

    pub fn from_field(line: u64, e: hearken_model::FieldError) -> RowError {
        let mut reason = e.reason;
        if let Some(h) = e.hint {
            reason = format!("{reason} ({h})");
        }
        RowError {
            line,
            field: Some(e.field),
            value: Some(e.value),
            reason,
        }
    }
}

impl std::fmt::Display for RowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}", self.line)?;
        if let Some(field) = &self.field {
            write!(f, ", field '{field}'")?;
        }
        if let Some(value) = &self.value {
            write!(f, ", value '{value}'")?;
        }
        write!(f, ": {}", self.reason)
    }
}
