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
    #[error(
        "{path} is {what}, not a CSV or JSON Lines file: {}",
        not_text_advice(what)
    )]
    NotText { path: PathBuf, what: String },
    #[error(
        "{path} is not UTF-8 text: line {line} holds the byte 0x{byte:02X}{}, which UTF-8 never has; it is probably {guess}: save the file as \"CSV UTF-8\", or add encoding = \"{guess}\" to the mapping (--mapping FILE.toml)",
        in_windows_1252(*byte)
    )]
    NotUtf8 {
        path: PathBuf,
        line: u64,
        byte: u8,
        guess: &'static str,
    },
    #[error("mapping {mapping}: {message}")]
    Mapping { mapping: PathBuf, message: String },
    #[error("{path}: {message}")]
    Format { path: PathBuf, message: String },
}

fn not_text_advice(what: &str) -> &'static str {
    if what.contains("Excel") || what.contains("spreadsheet") {
        "open it in its spreadsheet program and save it as \"CSV UTF-8 (Comma delimited)\" (Excel: File > Save As), then import the .csv file"
    } else if what.contains("zip") {
        "unzip it and import the files inside"
    } else {
        "export the data as CSV (UTF-8) or JSON Lines and import that file"
    }
}

/// What a byte means in Windows-1252, for a message about a file that is not UTF-8.
fn in_windows_1252(byte: u8) -> String {
    let bytes = [byte];
    let (text, _, _) = encoding_rs::WINDOWS_1252.decode(&bytes);
    match text.chars().next() {
        Some(c) if !c.is_control() => format!(" ('{c}' in Windows-1252)"),
        _ => String::new(),
    }
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
