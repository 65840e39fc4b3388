//! Live ingestion: rows that arrive in memory (an HTTP request's body: one JSON object, a JSON
//! array or JSON Lines) go through exactly the conversion, identity, dedupe, redaction,
//! enrichment and quarantine of a file import: the body is read by
//! `hearken_ingest::RowReader::from_bytes`, the same reader as a file's, and written by the same
//! `Writer` as a file's rows.
//!
//! Built for group commit. [`IngestBatch::parse`] does everything that needs no store (reading,
//! identity, enrichment) and can run on any thread; [`Store::ingest_many`] writes several
//! batches in ONE transaction and tells each batch its result only once the transaction is
//! committed (and, by default, synced to disk: `synchronous = FULL` for the commit). A batch
//! refused before it writes (a reused idempotency key) fails alone; a database error fails the
//! group (no savepoints: they would copy every page a batch touches). A process killed during
//! the write leaves the whole group or none of it.
//!
//! Recorded as imports: one per sender (`who`, an API token's name), kind and UTC day, named
//! `api (<who>)`, whose counts grow with every batch and always reconcile. A rejected row is a
//! quarantine entry of that import (its `file` is the batch's `origin`, its line the row's line
//! in the body) and is reported back with its index in the body.
//!
//! Idempotency: a batch may carry a key (per sender). The first batch with a key stores its
//! result with the key, in the same transaction as its rows; a later batch with the same key
//! and the same request (kind and body) gets that result back, marked `replayed`, and stores
//! nothing; with another request it is refused. Keys expire after
//! [`IngestSettings::key_ttl_days`].
//!
//! What differs from a file: rows of different batches are never "repeated within one file";
//! the same row again (same content, or the same id) in a later batch is a duplicate (or a
//! conflict, quarantined), as in a re-import.

use std::collections::{HashMap, HashSet};

use rustc_hash::FxHashMap;

use hearken_ingest::{IngestError, ReadOptions, RowReader};
use hearken_model::RecordKind;
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};

use super::{Entity, ImportCounts, SameSource, SkipCount, Writer, event_insert_sql, now};
use crate::identity::identity;
use crate::import::checkpoint::Checkpointer;
use crate::import::pipeline::Prepared;
use crate::{Store, StoreError};

/// Longest idempotency key accepted, in characters.
pub const MAX_IDEMPOTENCY_KEY: usize = 255;

/// Kinds that can be ingested.
pub const INGEST_KINDS: &[RecordKind] = &[
    RecordKind::Signals,
    RecordKind::Surveys,
    RecordKind::CaseEvents,
];

/// Who sent a batch, with what key, and how its rejected rows are located.
#[derive(Debug, Clone)]
pub struct BatchMeta {
    /// The sender: an API token's name. Imports and idempotency keys are per sender.
    pub who: String,
    /// Makes a retried request a no-op (the `Idempotency-Key` header).
    pub idempotency_key: Option<String>,
    /// What the quarantine's `file` column says for this batch's rejected rows (e.g.
    /// `POST /api/v1/signals` and a request id); `api` when empty.
    pub origin: String,
}

impl BatchMeta {
    pub fn new(who: &str) -> BatchMeta {
        BatchMeta {
            who: who.to_string(),
            idempotency_key: None,
            origin: String::new(),
        }
    }
}

/// Limits on one batch.
#[derive(Debug, Clone, Copy)]
pub struct BatchLimits {
    /// Rows (objects) per batch.
    pub max_rows: usize,
}

impl Default for BatchLimits {
    fn default() -> BatchLimits {
        BatchLimits { max_rows: 10_000 }
    }
}

/// How [`Store::ingest_many`] writes.
#[derive(Debug, Clone, Copy)]
pub struct IngestSettings {
    /// Sync the commit to disk before [`Store::ingest_many`] returns (`PRAGMA synchronous =
    /// FULL` for the write): an answered batch survives a power cut, not only a crash. A caller
    /// that sets it to false must itself make the commit durable before answering, with a
    /// [`WalSync`] started after `ingest_many` returned (as the server's writer does, so that
    /// the next group is written while this one is synced).
    pub durable: bool,
    /// Days an idempotency key is remembered.
    pub key_ttl_days: u32,
}

impl Default for IngestSettings {
    fn default() -> IngestSettings {
        IngestSettings {
            durable: true,
            key_ttl_days: 7,
        }
    }
}

/// Makes everything committed to a store so far durable, from any thread: `fdatasync` of the
/// store's write-ahead log, where a commit lives until a checkpoint copies it (and a checkpoint
/// syncs the database file before the log is reused). What a `PRAGMA synchronous = FULL` commit
/// does at its end, done after it instead: a commit that returned before [`WalSync::sync`] was
/// called is on disk when it returns.
#[derive(Debug, Clone)]
pub struct WalSync {
    wal: std::path::PathBuf,
    dir: std::path::PathBuf,
    /// The log's directory entry was synced once (it does not change while the store is open).
    dir_synced: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl WalSync {
    /// Syncs the log. The file is opened each time: a log SQLite deleted and made again (when
    /// every connection closed) is never synced through a stale handle.
    pub fn sync(&self) -> std::io::Result<()> {
        use std::sync::atomic::Ordering;
        std::fs::File::open(&self.wal)?.sync_data()?;
        // The log's directory entry, for a log made since the store was opened.
        #[cfg(unix)]
        if !self.dir_synced.load(Ordering::Acquire) {
            std::fs::File::open(&self.dir)?.sync_all()?;
            self.dir_synced.store(true, Ordering::Release);
        }
        Ok(())
    }
}

impl Store {
    /// A [`WalSync`] for this store's file (writable stores are always in WAL mode).
    pub fn wal_sync(&self) -> Result<WalSync, StoreError> {
        if self.read_only {
            return Err(StoreError::ReadOnly {
                path: self.path.clone(),
                what: "sync the write-ahead log".into(),
            });
        }
        let mut wal = self.path.clone().into_os_string();
        wal.push("-wal");
        let dir = match self.path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => std::path::PathBuf::from("."),
        };
        Ok(WalSync {
            wal: wal.into(),
            dir,
            dir_synced: Default::default(),
        })
    }
}

/// Groups of at least this many rows commit without checkpointing; a background checkpoint
/// copies their log (see `Store::ingest_many`).
const BACKGROUND_CHECKPOINT_ROWS: usize = 256;

/// A batch read and prepared, ready to be written: see [`IngestBatch::parse`].
pub struct IngestBatch {
    pub(crate) kind: RecordKind,
    pub(crate) meta: BatchMeta,
    /// A hash of the kind and the body: what an idempotency key is bound to.
    pub(crate) request: String,
    pub(crate) rows: Vec<Prepared>,
    pub(crate) notes: Vec<String>,
    pub(crate) skipped: Vec<(String, u64)>,
    ignored_keys: Vec<String>,
}

impl std::fmt::Debug for IngestBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IngestBatch")
            .field("kind", &self.kind)
            .field("who", &self.meta.who)
            .field("rows", &self.rows.len())
            .finish()
    }
}

/// One row that was not stored: where it is in the body and why.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct RejectedRow {
    /// 0-based position of the row in the body (the element of an array, the n-th object).
    pub index: u64,
    /// The line of the body it starts on.
    pub line: u64,
    pub field: Option<String>,
    pub value: Option<String>,
    pub reason: String,
}

/// What happened to one batch. `read = stored + duplicates + quarantined + skipped`, and
/// `rejected` lists every quarantined row.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IngestReport {
    /// The import the rows were recorded under (`hearken quarantine --import ID`).
    pub import_id: i64,
    pub kind: RecordKind,
    #[serde(flatten)]
    pub counts: ImportCounts,
    pub rejected: Vec<RejectedRow>,
    pub skipped_reasons: Vec<SkipCount>,
    /// Open quarantine entries of earlier imports whose row's id this batch stored.
    pub resolved: u64,
    pub notes: Vec<String>,
    /// This is the stored result of an earlier request with the same idempotency key: nothing
    /// was written now.
    #[serde(default)]
    pub replayed: bool,
}

/// Why a batch was not written.
#[derive(Debug, thiserror::Error)]
pub enum IngestFailure {
    /// The body cannot be read as rows at all (not JSON, a broken array, a workbook ...).
    #[error("{0}")]
    Body(String),
    #[error("{kind} cannot be sent as rows; send signals, surveys or case-events")]
    Kind { kind: RecordKind },
    #[error("the body holds more than {max} rows: send at most {max} rows per request")]
    TooManyRows { max: usize },
    #[error(
        "idempotency key '{key}' was first used for another request (other rows or another kind): send new rows with a new key"
    )]
    KeyReused { key: String },
    #[error(
        "the idempotency key must be 1 to {MAX_IDEMPOTENCY_KEY} characters, without control characters"
    )]
    BadKey,
    #[error("{0}")]
    Store(#[from] StoreError),
    /// Something the store wrote cannot be read back.
    #[error("{0}")]
    Internal(String),
    /// The group's transaction did not commit: nothing of this batch was stored.
    #[error("the write was not committed ({0}); nothing was stored: send the rows again")]
    Commit(String),
    /// The group committed, but the disk did not confirm it ([`WalSync::sync`] failed): the
    /// rows are stored unless the machine loses power before the next sync.
    #[error("the rows were committed but the disk did not confirm them ({0})")]
    NotSynced(String),
}

impl IngestBatch {
    /// Reads a body of `opts.kind` rows (one JSON object, a JSON array of objects, or JSON
    /// Lines; objects may be pretty-printed) as a file holding it would be read, and prepares
    /// every row for writing: its identity, then the enrichment `opts` asks for. Needs no store:
    /// run it on any thread. The redaction and enrichment in `opts` must be the store's (its
    /// pseudonym key, its topic model) for rows to be stored as a file import would store them.
    pub fn parse(
        body: &[u8],
        opts: &ReadOptions,
        meta: BatchMeta,
        limits: BatchLimits,
    ) -> Result<IngestBatch, IngestFailure> {
        let kind = opts.kind;
        if !INGEST_KINDS.contains(&kind) {
            return Err(IngestFailure::Kind { kind });
        }
        if let Some(key) = &meta.idempotency_key
            && (key.is_empty()
                || key.chars().count() > MAX_IDEMPOTENCY_KEY
                || key.chars().any(char::is_control))
        {
            return Err(IngestFailure::BadKey);
        }
        match body.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{' | b'[') => {}
            Some(_) => {
                return Err(IngestFailure::Body(
                    "the body is not JSON: send one object, an array of objects, or JSON Lines"
                        .into(),
                ));
            }
            None => {
                return Err(IngestFailure::Body(
                    "the body is empty: send one object, an array of objects, or JSON Lines".into(),
                ));
            }
        }
        let body_error = |e: IngestError| {
            IngestFailure::Body(match e {
                IngestError::Format { message, .. } => format!("the body: {message}"),
                IngestError::NotUtf8 { line, byte, .. } => format!(
                    "the body is not UTF-8: line {line} holds the byte 0x{byte:02X}; send JSON encoded as UTF-8"
                ),
                IngestError::NotText { what, .. } => format!("the body is {what}, not JSON"),
                IngestError::LineTooLong { line, limit, .. } => {
                    format!("the body's line {line} is longer than {limit} bytes")
                }
                IngestError::Empty { .. } => "the body is empty".to_string(),
                other => other.to_string(),
            })
        };
        let mut reader = RowReader::from_bytes("request.json", body, opts).map_err(body_error)?;
        let mut rows = Vec::new();
        while let Some(mut row) = reader.next_row().map_err(body_error)? {
            if rows.len() == limits.max_rows {
                return Err(IngestFailure::TooManyRows {
                    max: limits.max_rows,
                });
            }
            // As the file import's reading thread: identity from the source row, before
            // enrichment (redaction) rewrites its text.
            let ident = row.record.as_ref().ok().map(identity);
            reader.enrich(&mut row);
            rows.push(Prepared { row, ident });
        }
        let mut request = xxhash_rust::xxh3::Xxh3::new();
        request.update(kind.as_str().as_bytes());
        request.update(&[0]);
        request.update(body);
        Ok(IngestBatch {
            kind,
            meta,
            request: format!("{:032x}", request.digest128()),
            rows,
            notes: reader.notes(),
            skipped: reader.skipped(),
            ignored_keys: reader.ignored_keys(),
        })
    }

    pub fn kind(&self) -> RecordKind {
        self.kind
    }

    /// The answer to this batch when its key was used before (`request` and `result` stored
    /// with it): the stored result, marked replayed, for the same request; a refusal for another.
    pub(crate) fn replay(
        &self,
        key: &str,
        request: &str,
        result: &str,
    ) -> Result<IngestReport, IngestFailure> {
        if request != self.request {
            return Err(IngestFailure::KeyReused {
                key: key.to_string(),
            });
        }
        let mut report: IngestReport = serde_json::from_str(result).map_err(|e| {
            IngestFailure::Internal(format!(
                "the stored result of idempotency key '{key}' cannot be read: {e}"
            ))
        })?;
        report.replayed = true;
        Ok(report)
    }

    /// What happened to this batch, written as import `import_id`.
    pub(crate) fn report(
        &self,
        import_id: i64,
        counts: ImportCounts,
        rejected: Vec<RejectedRow>,
        resolved: u64,
    ) -> IngestReport {
        IngestReport {
            import_id,
            kind: self.kind,
            counts,
            rejected,
            skipped_reasons: self.skipped_reasons(),
            resolved,
            notes: self.notes.clone(),
            replayed: false,
        }
    }

    /// The idempotency key and the report stored with it (JSON), when the batch has a key.
    pub(crate) fn key_result(
        &self,
        report: &IngestReport,
    ) -> Result<Option<(&str, String)>, IngestFailure> {
        let Some(key) = &self.meta.idempotency_key else {
            return Ok(None);
        };
        let json = serde_json::to_string(report).map_err(|e| {
            IngestFailure::Internal(format!("cannot record idempotency key '{key}': {e}"))
        })?;
        Ok(Some((key.as_str(), json)))
    }

    /// The rows the reader skipped (not customer signals), by reason, most first.
    pub(crate) fn skipped_reasons(&self) -> Vec<SkipCount> {
        let mut reasons: Vec<SkipCount> = self
            .skipped
            .iter()
            .filter(|(_, rows)| *rows > 0)
            .map(|(reason, rows)| SkipCount {
                reason: reason.clone(),
                rows: *rows,
            })
            .collect();
        reasons.sort_by(|a, b| b.rows.cmp(&a.rows).then(a.reason.cmp(&b.reason)));
        reasons
    }

    /// The fingerprint of the import recording this batch's sender and kind on the day of `at`.
    #[cfg(feature = "postgres")]
    pub(crate) fn rolling_fingerprint(&self, at: i64) -> String {
        rolling_fingerprint(self.kind, &self.meta.who, at)
    }

    /// Rows read from the body.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Keys of the body that name no field of the kind (nor an entry of the mapping): they would
    /// not be stored. A caller that wants a strict schema refuses the batch when any exist.
    pub fn ignored_keys(&self) -> &[String] {
        &self.ignored_keys
    }

    /// Rows that could not be read as a row at all (not a JSON object, broken JSON, not UTF-8):
    /// errors of the whole row, with no field. A caller that treats a syntax error as the
    /// request's refuses the batch when any exist; written, they are quarantined.
    pub fn unreadable_rows(&self) -> Vec<RejectedRow> {
        self.rows
            .iter()
            .enumerate()
            .filter_map(|(index, p)| match &p.row.record {
                Err(e) if e.field.is_none() && p.row.skipped.is_none() => Some(RejectedRow {
                    index: index as u64,
                    line: p.row.line,
                    field: None,
                    value: None,
                    reason: e.reason.clone(),
                }),
                _ => None,
            })
            .collect()
    }
}

impl Store {
    /// Writes one batch: [`Store::ingest_many`] with a group of one.
    pub fn ingest(
        &mut self,
        batch: IngestBatch,
        settings: &IngestSettings,
    ) -> Result<IngestReport, IngestFailure> {
        self.ingest_many(vec![batch], settings)
            .pop()
            .unwrap_or_else(|| Err(IngestFailure::Commit("no result".into())))
    }

    /// Writes a group of batches in one transaction and returns each batch's result, in order,
    /// once the transaction is committed. A batch refused before it writes anything (a reused
    /// idempotency key) fails alone; a database error while writing, or a commit that fails,
    /// fails every batch of the group, and nothing of it is stored.
    pub fn ingest_many(
        &mut self,
        batches: Vec<IngestBatch>,
        settings: &IngestSettings,
    ) -> Vec<Result<IngestReport, IngestFailure>> {
        let n = batches.len();
        if n == 0 {
            return Vec::new();
        }
        let span = tracing::info_span!("ingest", batches = n);
        let _enter = span.enter();
        if let Err(e) = self.writable("ingest rows") {
            return not_committed(n, &e);
        }
        self.ingest_group(batches, settings)
            .unwrap_or_else(|e| not_committed(n, &e))
    }

    fn ingest_group(
        &mut self,
        batches: Vec<IngestBatch>,
        settings: &IngestSettings,
    ) -> Result<Vec<Result<IngestReport, IngestFailure>>, IngestFailure> {
        let rows: usize = batches.iter().map(IngestBatch::len).sum();
        // A large group's commit does not checkpoint (see below); a small one's checkpoints in
        // its commit as any other write does (every 1000 pages of log): with single rows, a
        // background checkpoint every three commits, or only every 60,000 rows, both cost more
        // (measured 2026-12-04: 9.5k and 8.2k rows/s against 10.3-10.9k).
        let background = rows >= BACKGROUND_CHECKPOINT_ROWS;
        // The statements of every kind run once per row or entity: cached, so a group of
        // one-row batches prepares nothing.
        self.conn.set_prepared_statement_cache_capacity(64);
        if settings.durable {
            self.conn
                .pragma_update(None, "synchronous", "FULL")
                .map_err(StoreError::from)?;
        }
        // A large group's commit does not checkpoint: the WAL frames are copied into the
        // database file by a passive checkpoint on another thread and connection (as during a
        // file import), so the writer every request waits for goes on to the next group.
        // Measured 2026-12-04: a commit that checkpointed took 10 ms of a 40 ms group.
        if background {
            self.conn
                .pragma_update(None, "wal_autocheckpoint", 0)
                .map_err(StoreError::from)?;
        }
        let result = self.ingest_transaction(batches, settings);
        // Back to the store's settings for everything else.
        let restored = if background {
            self.conn.pragma_update(None, "wal_autocheckpoint", 1000)
        } else {
            Ok(())
        }
        .and_then(|()| {
            if settings.durable {
                self.conn.pragma_update(None, "synchronous", "NORMAL")
            } else {
                Ok(())
            }
        });
        if result.is_ok() {
            restored.map_err(StoreError::from)?;
            if background {
                let path = self.path.clone();
                self.ingest_checkpoints
                    .get_or_insert_with(|| Checkpointer::start(&path))
                    .committed();
            }
        }
        result
    }

    fn ingest_transaction(
        &mut self,
        batches: Vec<IngestBatch>,
        settings: &IngestSettings,
    ) -> Result<Vec<Result<IngestReport, IngestFailure>>, IngestFailure> {
        let at = now();
        let expired = at - i64::from(settings.key_ttl_days) * 86_400;
        self.conn
            .execute_batch("BEGIN IMMEDIATE")
            .map_err(StoreError::from)?;
        // The ids resolved by earlier committed groups: an entity's id never changes once
        // committed (entities are never deleted), so they stay true; this group's additions are
        // kept only if it commits.
        let known = std::mem::take(&mut self.ingest_ids);
        let conn = &self.conn;
        let body =
            || -> Result<(Vec<Result<IngestReport, IngestFailure>>, EntityIds), IngestFailure> {
                conn.prepare_cached("DELETE FROM ingest_keys WHERE created_at < ?1")
                    .and_then(|mut s| s.execute([expired]))
                    .map_err(StoreError::from)?;
                let mut results = Vec::with_capacity(batches.len());
                let mut group = Group {
                    ids: known,
                    ..Group::default()
                };
                for batch in batches {
                    // A batch is refused (a reused key) before it writes anything; any other
                    // failure is the database's, and fails the whole group.
                    match group.write(conn, &batch, at, expired) {
                        Ok(report) => results.push(Ok(report)),
                        Err(e @ (IngestFailure::KeyReused { .. } | IngestFailure::Kind { .. })) => {
                            results.push(Err(e));
                        }
                        Err(e) => return Err(e),
                    }
                }
                group.finish(conn, at)?;
                Ok((results, group.ids))
            };
        // On a failure the ids are dropped (some may be of rows rolled back) and found again
        // by their lookups.
        let (results, ids) = match body() {
            Ok(r) => r,
            Err(e) => {
                let _ = self.conn.execute_batch("ROLLBACK");
                return Err(e);
            }
        };
        if let Err(e) = self.conn.execute_batch("COMMIT") {
            let _ = self.conn.execute_batch("ROLLBACK");
            return Err(StoreError::from(e).into());
        }
        self.ingest_ids = ids;
        for r in results.iter().flatten() {
            tracing::debug!(
                import_id = r.import_id,
                read = r.counts.read,
                stored = r.counts.stored,
                quarantined = r.counts.quarantined,
                replayed = r.replayed,
                "batch ingested"
            );
        }
        Ok(results)
    }
}

/// Each of a group's `n` batches failed because the group was not committed.
pub(crate) fn not_committed(
    n: usize,
    why: &dyn std::fmt::Display,
) -> Vec<Result<IngestReport, IngestFailure>> {
    let message = why.to_string();
    (0..n)
        .map(|_| Err(IngestFailure::Commit(message.clone())))
        .collect()
}

/// The fingerprint of the import that records `who`'s rows of `kind` on the UTC day of `at`.
fn rolling_fingerprint(kind: RecordKind, who: &str, at: i64) -> String {
    let day = hearken_model::Timestamp::from_unix(at).date_string();
    format!("api:{kind}:{day}:{who}")
}

/// An import that records a sender's rows of one kind on one day, as the group sees it.
struct Rolling {
    id: i64,
    fingerprint: String,
    /// Rows read by it so far: the last quarantine ordinal.
    read: u64,
    /// What the group's batches add to its counts, written once before the commit.
    counts: ImportCounts,
    skips: HashMap<String, u64>,
}

/// The integer ids of entities by external id, as the import's writer resolves them.
#[derive(Default)]
pub(crate) struct EntityIds {
    customers: FxHashMap<String, i64>,
    products: FxHashMap<String, i64>,
    agents: FxHashMap<String, i64>,
    cases: FxHashMap<String, i64>,
}

/// What the batches of one group share: their imports, the ids of the entities they resolved
/// (with those of earlier committed groups), and whether open quarantine entries may be settled
/// by the ids they store. Everything but the ids is written in the group's transaction, so
/// nothing else here outlives it.
#[derive(Default)]
struct Group {
    imports: HashMap<(RecordKind, String), Rolling>,
    ids: EntityIds,
    /// Per kind: whether open quarantine entries with ids exist (looked up once).
    open_keys: HashMap<RecordKind, bool>,
}

impl Group {
    /// The import that records `who`'s rows of `kind` on the day of `at`, created when needed.
    fn rolling(
        &mut self,
        conn: &rusqlite::Connection,
        kind: RecordKind,
        who: &str,
        at: i64,
    ) -> Result<&mut Rolling, StoreError> {
        let entry = self.imports.entry((kind, who.to_string()));
        let rolling = match entry {
            std::collections::hash_map::Entry::Occupied(o) => return Ok(o.into_mut()),
            std::collections::hash_map::Entry::Vacant(v) => v,
        };
        let fingerprint = rolling_fingerprint(kind, who, at);
        let found: Option<(i64, i64)> = conn
            .prepare_cached(
                "SELECT id, read FROM imports WHERE fingerprint = ?1 AND kind = ?2
                 AND source = 'api' ORDER BY id DESC LIMIT 1",
            )?
            .query_row(params![fingerprint, kind.as_str()], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let (id, read) = match found {
            Some((id, read)) => (id, read.max(0) as u64),
            None => {
                conn.prepare_cached(
                    "INSERT INTO imports (kind, file, fingerprint, started_at, finished_at, pid,
                                          host, heartbeat_at, source, who)
                     VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?4, 'api', ?7)",
                )?
                .execute(params![
                    kind.as_str(),
                    format!("api ({who})"),
                    fingerprint,
                    at,
                    i64::from(std::process::id()),
                    crate::store::host_name(),
                    who
                ])?;
                (conn.last_insert_rowid(), 0)
            }
        };
        Ok(rolling.insert(Rolling {
            id,
            fingerprint,
            read,
            counts: ImportCounts::default(),
            skips: HashMap::new(),
        }))
    }

    fn write(
        &mut self,
        conn: &rusqlite::Connection,
        batch: &IngestBatch,
        at: i64,
        expired: i64,
    ) -> Result<IngestReport, IngestFailure> {
        let who = batch.meta.who.as_str();
        if let Some(key) = &batch.meta.idempotency_key {
            let first: Option<(String, String)> = conn
                .prepare_cached(
                    "SELECT request, result FROM ingest_keys WHERE who = ?1 AND key = ?2
                     AND created_at >= ?3",
                )
                .and_then(|mut s| {
                    s.query_row(params![who, key, expired], |r| Ok((r.get(0)?, r.get(1)?)))
                        .optional()
                })
                .map_err(StoreError::from)?;
            if let Some((request, result)) = first {
                return batch.replay(key, &request, &result);
            }
        }
        let insert =
            event_insert_sql(batch.kind).ok_or(IngestFailure::Kind { kind: batch.kind })?;
        let origin = if batch.meta.origin.is_empty() {
            "api"
        } else {
            batch.meta.origin.as_str()
        };
        let (import_id, fingerprint, read_before) = {
            let r = self.rolling(conn, batch.kind, who, at)?;
            (r.id, r.fingerprint.clone(), r.read)
        };
        let mut writer = Writer {
            insert: Some(conn.prepare_cached(insert).map_err(StoreError::from)?),
            stubs: [
                conn.prepare_cached(Entity::Customer.stub_sql().0)
                    .map_err(StoreError::from)?,
                conn.prepare_cached(Entity::Product.stub_sql().0)
                    .map_err(StoreError::from)?,
                conn.prepare_cached(Entity::Agent.stub_sql().0)
                    .map_err(StoreError::from)?,
                conn.prepare_cached(Entity::Case.stub_sql().0)
                    .map_err(StoreError::from)?,
            ],
            conn,
            kind: batch.kind,
            import_id,
            file: origin,
            fingerprint: &fingerprint,
            same: SameSource::Keys(HashSet::new()),
            // The entities resolved by the group's earlier batches, given back below.
            customers: std::mem::take(&mut self.ids.customers),
            products: std::mem::take(&mut self.ids.products),
            agents: std::mem::take(&mut self.ids.agents),
            cases: std::mem::take(&mut self.ids.cases),
            batch: u64::MAX,
            open: false,
            pending: ImportCounts::default(),
            pending_skips: Default::default(),
            skips: Default::default(),
            seq: read_before,
        };
        let mut counts = ImportCounts::default();
        let mut rejected = Vec::new();
        let mut stored_keys = Vec::new();
        let mut keyed_quarantine = false;
        let mut failure = None;
        for (index, p) in batch.rows.iter().enumerate() {
            let before = counts.stored;
            match writer.write_one(p, &mut counts) {
                Ok(Some(e)) => {
                    keyed_quarantine |= p.row.record.is_err() && p.row.key.is_some();
                    rejected.push(RejectedRow {
                        index: index as u64,
                        line: p.row.line,
                        field: e.field,
                        value: e.value,
                        reason: e.reason,
                    });
                }
                Ok(None) => {
                    if counts.stored > before
                        && let Some(ident) = &p.ident
                        && !ident.hashed
                    {
                        stored_keys.push(ident.key.clone());
                    }
                }
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        self.ids.customers = std::mem::take(&mut writer.customers);
        self.ids.products = std::mem::take(&mut writer.products);
        self.ids.agents = std::mem::take(&mut writer.agents);
        self.ids.cases = std::mem::take(&mut writer.cases);
        let skips = std::mem::take(&mut writer.pending_skips);
        drop(writer);
        if let Some(e) = failure {
            return Err(e.into());
        }
        debug_assert!(counts.reconciles());
        {
            let r = self.rolling(conn, batch.kind, who, at)?;
            r.read += counts.read;
            r.counts.add(&counts);
            for (reason, rows) in skips {
                *r.skips.entry(reason.to_string()).or_default() += rows;
            }
        }
        let open = match self.open_keys.get(&batch.kind) {
            Some(&open) => open,
            None => {
                let open = open_keyed_entries(conn, batch.kind)?;
                self.open_keys.insert(batch.kind, open);
                open
            }
        };
        let resolved = if open {
            resolve_stored(conn, batch.kind, import_id, read_before, &stored_keys, at)?
        } else {
            0
        };
        if keyed_quarantine {
            self.open_keys.insert(batch.kind, true);
        }
        let report = batch.report(import_id, counts, rejected, resolved);
        if let Some((key, json)) = batch.key_result(&report)? {
            conn.prepare_cached(
                "INSERT OR REPLACE INTO ingest_keys (who, key, request, created_at, import_id, result)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut s| s.execute(params![who, key, batch.request, at, import_id, json]))
            .map_err(StoreError::from)?;
        }
        Ok(report)
    }

    /// Adds what the group's batches read to their imports' counts (in the group's transaction,
    /// so the counts commit with the rows they count).
    fn finish(&self, conn: &rusqlite::Connection, at: i64) -> Result<(), StoreError> {
        for r in self.imports.values() {
            let c = r.counts;
            conn.prepare_cached(
                "UPDATE imports SET read = read + ?1, stored = stored + ?2,
                 duplicates = duplicates + ?3, quarantined = quarantined + ?4,
                 skipped = skipped + ?5, heartbeat_at = ?6, finished_at = ?6 WHERE id = ?7",
            )?
            .execute(params![
                c.read as i64,
                c.stored as i64,
                c.duplicates as i64,
                c.quarantined as i64,
                c.skipped as i64,
                at,
                r.id
            ])?;
            for (reason, rows) in &r.skips {
                conn.prepare_cached(
                    "INSERT INTO import_skips (import_id, reason, rows) VALUES (?1, ?2, ?3)
                     ON CONFLICT (import_id, reason) DO UPDATE SET rows = rows + excluded.rows",
                )?
                .execute(params![r.id, reason, *rows as i64])?;
            }
        }
        Ok(())
    }
}

/// Whether any open quarantine entry of `kind` has an id a stored row could settle.
fn open_keyed_entries(conn: &rusqlite::Connection, kind: RecordKind) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM quarantine WHERE resolved_at IS NULL AND kind = ?1
             AND ext_key IS NOT NULL)",
        )?
        .query_row([kind.as_str()], |r| r.get(0))?)
}

/// Closes open quarantine entries whose row's id this batch stored, as a file import does at
/// its end: entries of other imports, and of earlier batches of this one (ordinals up to
/// `before`).
fn resolve_stored(
    conn: &rusqlite::Connection,
    kind: RecordKind,
    import_id: i64,
    before: u64,
    keys: &[String],
    at: i64,
) -> Result<u64, StoreError> {
    let mut n = 0;
    let mut update = conn.prepare_cached(
        "UPDATE quarantine SET resolved_at = ?1, resolution = 'stored', resolved_by = ?2
         WHERE resolved_at IS NULL AND kind = ?3 AND ext_key = ?4
         AND (import_id <> ?2 OR seq <= ?5)",
    )?;
    for key in keys {
        n += update.execute(params![at, import_id, kind.as_str(), key, before as i64])?;
    }
    Ok(n as u64)
}
