use std::path::PathBuf;

/// Errors from the store. `User` errors are things the person can fix (a wrong path, a file that
/// is not a store); the rest are internal and carry their cause.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "no store at {path}: create one by importing (`hearken import FILE --kind KIND`) or with `hearken demo`, or name an existing store with --db PATH (or HEARKEN_DB)"
    )]
    Missing { path: PathBuf },
    #[error("{path} is read-only: cannot {what}; make the file and its directory writable")]
    ReadOnly { path: PathBuf, what: String },
    #[error(
        "{path} is read-only and was written by an older hearken (schema version {found}): make it writable once so it can be upgraded"
    )]
    ReadOnlyOld { path: PathBuf, found: i64 },
    #[error(
        "{path} is read-only and has an unfinished write-ahead log ({path}-wal, left by a stopped import): make the store writable and run `hearken status` once to fold the log in"
    )]
    ReadOnlyLog { path: PathBuf },
    #[error(
        "the store is busy: another process has held it for 30 seconds; try again when it has finished"
    )]
    Busy,
    #[error("there is no import {id}: {known} (`hearken status` lists the recent ones)")]
    NoSuchImport { id: i64, known: String },
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
    /// A store location that is neither a file path nor a usable `postgres://` URL.
    #[error("{location} is not a store location: {reason}")]
    BadLocation { location: String, reason: String },
    /// PostgreSQL: what was being done and the server's (or the connection's) error. The URL in
    /// messages never carries its password.
    #[error("PostgreSQL {what}: {message}")]
    Postgres { what: String, message: String },
    /// `store copy` refused: the target already holds rows, or the source cannot be copied.
    #[error("cannot copy the store: {0}")]
    Copy(String),
}

impl StoreError {
    /// Whether the error is a PostgreSQL server that went away or refused the connection (a
    /// restart, a terminated backend, a network cut): trying again on a new connection may
    /// succeed, where any other error would repeat.
    pub fn is_connection_lost(&self) -> bool {
        match self {
            StoreError::Postgres { message, .. } => {
                let m = message.to_ascii_lowercase();
                // SQLSTATE class 08 (connection exception) and 57P01-57P03 (the server shut
                // down or cannot connect now), or the client's own view of a lost connection.
                m.contains("(08")
                    || m.contains("(57p0")
                    || m.contains("connection closed")
                    || m.contains("error communicating with the server")
                    || m.contains("connection refused")
                    || m.contains("unexpected eof")
            }
            _ => false,
        }
    }
}
