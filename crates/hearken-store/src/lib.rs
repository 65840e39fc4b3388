//! Hearken's embedded store: one SQLite database file (`./hearken.db` by default).
//!
//! Owns the schema and its migrations, lossless idempotent import (rows, duplicates and
//! quarantine, counted in the same transaction), and loading columnar frames for the engine.
//!
//! Architecture invariant: SQL lives here and nowhere else. Callers see records, counts and
//! frames; a PostgreSQL backend can implement the same API later.

mod error;
mod frames;
mod identity;
mod import;
mod read;
mod schema;
mod snapshot;
mod store;
mod tokens;

pub use error::StoreError;
pub use frames::{CaseAttributeRows, CaseEventRows, SignalBrief, Window};
pub use import::{
    BatchLimits, BatchMeta, DEFAULT_BATCH, INGEST_KINDS, ImportCounts, ImportProgress,
    ImportReport, ImportSettings, IngestBatch, IngestFailure, IngestReport, IngestSettings,
    MAX_IDEMPOTENCY_KEY, RejectedRow, SkipCount,
};
pub use read::{Entity, SignalQuery, SignalRecord};
pub use schema::current_version;
pub use snapshot::{CHUNK, CaseKpis, SignalColumns, SnapshotRefresh, SurveyColumns};
pub use store::{
    Clearing, ImportRecord, ModelInfo, QuarantineEntry, QuarantineFilter, RunningImport, Status,
    Store,
};
pub use tokens::{
    CreatedToken, NewToken, Role, Scope, TOKEN_PREFIX, TokenCheck, TokenError, TokenInfo,
    looks_like_token, validate_name as validate_token_name,
};
