//! Why a file could not be read as an event log at all (single bad events are quarantined
//! instead, see [`crate::Quarantined`]).

use hearken_flow::LogError;

#[derive(Debug, thiserror::Error)]
pub enum EventLogError {
    #[error("cannot read {path}: {source}; check the path and that the file is readable")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is empty; export the log again")]
    Empty { path: String },
    #[error(
        "{path}: malformed XML at byte {position} (of the decompressed XML), after {events} events \
         in {traces} complete traces: {message}; repair or re-export the file, or read the complete \
         traces with keep_partial"
    )]
    Xml {
        path: String,
        position: u64,
        events: u64,
        traces: u64,
        message: String,
    },
    #[error(
        "{path}: the file ends at byte {position} inside {open}, after {events} events in \
         {traces} complete traces: it is truncated; download or export it again, or read the \
         complete traces with keep_partial"
    )]
    Truncated {
        path: String,
        position: u64,
        open: String,
        events: u64,
        traces: u64,
    },
    #[error("{path}: not an XES log ({message}); XES files start with <log>")]
    NotXes { path: String, message: String },
    #[error("{path} line {line}: {message}")]
    Csv {
        path: String,
        line: u64,
        message: String,
    },
    #[error(
        "{path}: no {field} column (looked for {looked_for}; the header has {found}); name the \
         column in the read options' keys"
    )]
    MissingColumn {
        path: String,
        field: &'static str,
        looked_for: String,
        found: String,
    },
    #[error(
        "{path}: not a Zendesk ticket-event export ({message}); expected the JSON of \
         /api/v2/incremental/ticket_events, an object with a ticket_events array"
    )]
    Json { path: String, message: String },
    #[error("{path}: {source}")]
    Log {
        path: String,
        #[source]
        source: LogError,
    },
}
