use std::path::PathBuf;

/// Errors from the store. `User` errors are things the person can fix (a wrong path, a file that
/// is not a store); the rest are internal and carry their cause.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path} is not a Hearken store: {reason}")]
    NotAStore { path: PathBuf, reason: String },
    #[error(
        "{path} has schema version {found}, newer than this hearken understands ({known}); upgrade hearken"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("cannot open store {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error(transparent)]
    Ingest(#[from] hearken_ingest::IngestError),
    #[error("reading thread stopped unexpectedly")]
    ReaderGone,
    #[error("cannot start the reading thread: {0}")]
    Thread(#[from] std::io::Error),
    #[error("{0}")]
    Snapshot(String),
    #[error("database error: {0}")]
    Sql(#[from] rusqlite::Error),
}
