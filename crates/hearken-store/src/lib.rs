//! Hearken's embedded store: one SQLite database file (`./hearken.db` by default).
//!
//! Owns the schema and its migrations, lossless idempotent import (rows, duplicates and
//! quarantine, counted in the same transaction), and loading columnar frames for the engine.
//!
//! Architecture invariant: SQL lives here and nowhere else. Callers see records, counts and
//! frames; a PostgreSQL backend can implement the same API later.

mod actions;
#[cfg(feature = "postgres")]
mod copy;
mod error;
mod export;
mod frames;
mod generation;
mod identity;
mod import;
mod outbox;
#[cfg(feature = "postgres")]
pub mod pg;
mod read;
mod read_entities;
mod read_imports;
mod report_sends;
mod risk;
mod schema;
mod snapshot;
mod source;
mod sql;
mod store;
pub(crate) mod tokens;
mod webhooks;

pub use actions::{
    ActionChange, ActionError, ActionFilter, ActionLink, ActionRecord, ActionStore, ActionUpdate,
    HistoryEntry, Link, LinkKind, NewAction, Review, SuggestionAction, SuggestionReview,
    SuggestionState, TeamStore, day_of,
};
#[cfg(feature = "postgres")]
pub use copy::{CopyReport, Location, TableCopy, copy_store};
pub use error::StoreError;
pub use export::{
    CaseEventExportRow, CustomerExportRow, ExportFilter, SignalExportRow, SurveyExportRow,
};
pub use frames::{CaseAttributeRows, CaseEventRows, SignalBrief, Window};
pub use import::{
    BatchLimits, BatchMeta, DEFAULT_BATCH, INGEST_KINDS, ImportCounts, ImportProgress,
    ImportReport, ImportSettings, IngestBatch, IngestFailure, IngestReport, IngestSettings,
    MAX_IDEMPOTENCY_KEY, RejectedRow, SkipCount, WalSync,
};
pub use outbox::{
    AddressCounts, AddressRow, AttemptRow, Channels, ClaimedDelivery, DeliveryRow, NotificationRow,
    OutboxCounts, OutboxError, OutboxFilter, OutboxStore, Outcome, check_email,
};
pub use read::{Entity, SignalQuery, SignalRecord};
pub use read_entities::{
    CaseEventRow, CaseHeader, CustomerProfile, TimelineCursor, TimelineItem, TimelineKind,
};
pub use read_imports::{ImportHistoryRow, ScopeCounts};
pub use report_sends::{NewReportSend, ReportHow, ReportSendRow};
pub use risk::{NewRiskModel, RiskModelInfo, RiskStore, StoredAssessment};
pub use schema::current_version;
pub use snapshot::{CHUNK, CaseKpis, SignalColumns, SnapshotRefresh, SurveyColumns};
pub use source::{FrameSource, is_postgres_url};
pub use store::{
    Clearing, ImportRecord, ModelInfo, QuarantineEntry, QuarantineFilter, RunningImport, Status,
    Store,
};
pub use tokens::{
    CreatedToken, NewToken, Role, Scope, TOKEN_PREFIX, TokenCheck, TokenError, TokenInfo,
    looks_like_token, validate_name as validate_token_name,
};
pub use webhooks::{
    DELIVERY_TTL_SECS, NewWebhook, WebhookConfig, WebhookError, WebhookFormat, WebhookInfo,
    WebhookKind, WebhookStore, record_webhook_delivery_in, validate_webhook_name,
};
