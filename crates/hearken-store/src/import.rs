//! Importing a file: rows stream from a reading thread to this one, which writes them in batched
//! transactions.
//!
//! Guarantees:
//! - **Counts reconcile**: every row read is stored, a duplicate, or quarantined, and the per-batch
//!   counts are committed in the same transaction as the rows they count.
//! - **Idempotent**: a row's key is its source id, or a hash of its content when the source has none;
//!   a row already stored with the same content is a duplicate, not a second copy.
//! - **Crash-safe and resumable**: a batch commits whole or not at all, so a killed process leaves
//!   the batches before it; running the same import again stores exactly the rest.
//! - **Nothing dropped**: a row that cannot be stored (invalid, or the same id with other content)
//!   is quarantined with its file, line, field, value and reason; a row a mapping rule skips is
//!   counted under the rule's reason. `read = stored + duplicates + quarantined + skipped`.
//! - **One entry per quarantined row**: entries are keyed by the import and the row's ordinal in
//!   it, so no two rows share one, and the entries of an import are exactly as many as it
//!   reports. Entries are closed, never deleted: when the row's id is stored by a later import,
//!   when the same file is imported again (its entries take over), or by a deliberate clearing.

use std::collections::HashSet;

use rustc_hash::FxHashMap as HashMap;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use hearken_ingest::{ReadOptions, RowError, RowReader};
use hearken_model::{Record, RecordKind};
use rusqlite::{CachedStatement, Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};

use crate::identity::{Identity, identity};
use crate::{Store, StoreError};

pub(crate) mod checkpoint;
pub(crate) mod ingest;
pub(crate) mod pipeline;
pub use ingest::{
    BatchLimits, BatchMeta, INGEST_KINDS, IngestBatch, IngestFailure, IngestReport, IngestSettings,
    MAX_IDEMPOTENCY_KEY, RejectedRow, WalSync,
};
use pipeline::Prepared;

/// Rows per transaction: large enough to amortise the commit, small enough that a crash loses
/// little work and memory stays flat.
pub const DEFAULT_BATCH: usize = 20_000;

/// Entity-id caches are cleared past this many entries, so memory stays bounded on huge imports.
pub(crate) const CACHE_LIMIT: usize = 2_000_000;

/// What happened to the rows of one import.
/// `read = stored + duplicates + quarantined + skipped`, always.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct ImportCounts {
    pub read: u64,
    pub stored: u64,
    pub duplicates: u64,
    pub quarantined: u64,
    /// Rows a mapping rule says are not records of this kind (see `[[skip]]`).
    pub skipped: u64,
}

impl ImportCounts {
    pub fn add(&mut self, o: &ImportCounts) {
        self.read += o.read;
        self.stored += o.stored;
        self.duplicates += o.duplicates;
        self.quarantined += o.quarantined;
        self.skipped += o.skipped;
    }

    pub fn reconciles(&self) -> bool {
        self.read == self.stored + self.duplicates + self.quarantined + self.skipped
    }
}

/// Rows skipped under one reason.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct SkipCount {
    pub reason: String,
    pub rows: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    /// The import's number in the store (`hearken quarantine --import ID`).
    pub import_id: i64,
    pub file: String,
    pub kind: RecordKind,
    #[serde(flatten)]
    pub counts: ImportCounts,
    /// Skipped rows per skip rule.
    pub skipped_reasons: Vec<SkipCount>,
    /// Open quarantine entries of earlier imports this import closed: their row's id is now
    /// stored, or they were found again by this import of the same file.
    pub resolved: u64,
    /// Ignored columns, recognised export formats, a date column none of whose values could be
    /// read, and so on.
    pub notes: Vec<String>,
    /// Set when the file could not be read to its end; the rows before the problem were imported.
    pub error: Option<String>,
}

/// How an import runs.
#[derive(Debug, Clone, Copy)]
pub struct ImportSettings {
    /// Rows per transaction.
    pub batch: usize,
    /// The rows are `hearken demo`'s synthetic data (recorded, so real and synthetic data are
    /// never mixed unknowingly).
    pub demo: bool,
}

impl Default for ImportSettings {
    fn default() -> ImportSettings {
        ImportSettings {
            batch: DEFAULT_BATCH,
            demo: false,
        }
    }
}

/// Progress of a running import, for a progress bar.
#[derive(Debug, Clone, Copy)]
pub struct ImportProgress {
    pub bytes: u64,
    pub size: u64,
    pub counts: ImportCounts,
}

enum Outcome {
    Stored,
    Duplicate,
    Quarantine(RowError),
}

/// Where a stored row came from: its row hash, import, line and file.
pub(crate) type Existing = (Option<i64>, Option<i64>, Option<i64>, String);

pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Store {
    /// Imports one file of one kind with `batch` rows per transaction: see
    /// [`Store::import_file_with`].
    pub fn import_file(
        &mut self,
        path: &Path,
        opts: &ReadOptions,
        batch: usize,
        on_progress: &mut dyn FnMut(&ImportProgress),
    ) -> Result<ImportReport, StoreError> {
        let settings = ImportSettings {
            batch,
            ..ImportSettings::default()
        };
        self.import_file_with(path, opts, &settings, on_progress)
    }

    /// Imports one file of one kind. A problem with the whole file before any row is read (missing,
    /// empty, no usable header, a bad mapping) is an `Err` and nothing is written. A problem part-way
    /// (a line beyond the length limit, a read error) keeps the rows before it and is reported in
    /// [`ImportReport::error`].
    pub fn import_file_with(
        &mut self,
        path: &Path,
        opts: &ReadOptions,
        settings: &ImportSettings,
        on_progress: &mut dyn FnMut(&ImportProgress),
    ) -> Result<ImportReport, StoreError> {
        let span = tracing::info_span!("import", file = %path.display(), kind = %opts.kind);
        let _enter = span.enter();
        self.writable("import")?;
        let fingerprint = hearken_ingest::fingerprint(path)?;
        let reader = RowReader::open(path, opts)?;
        let mut early_notes = Vec::new();
        if !settings.demo && self.holds_demo_data()? {
            early_notes.push(format!(
                "{} holds the synthetic data of `hearken demo`: these rows are mixed with it; import real data into its own store with --db PATH",
                self.path.display()
            ));
        }
        // Checkpoint once at the end instead of every 1000 pages: pages rewritten by many batches
        // are copied to the database file once. A crash leaves a longer WAL, replayed on open.
        self.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let bytes = reader.progress();
        let size = reader.size();
        let file = path.display().to_string();
        let source =
            std::fs::canonicalize(path).map_or_else(|_| file.clone(), |p| p.display().to_string());

        let started = now();
        self.conn.execute(
            "INSERT INTO imports (kind, file, fingerprint, started_at, pid, host, heartbeat_at, source, demo)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?4, ?7, ?8)",
            params![
                opts.kind.as_str(),
                file,
                fingerprint,
                started,
                i64::from(std::process::id()),
                crate::store::host_name(),
                source,
                settings.demo
            ],
        )?;
        let import_id = self.conn.last_insert_rowid();
        let batch = settings.batch;
        let same_file: HashSet<i64> = {
            let mut stmt = self
                .conn
                .prepare("SELECT id FROM imports WHERE fingerprint = ?1 AND kind = ?2")?;
            let ids = stmt.query_map(params![fingerprint, opts.kind.as_str()], |r| r.get(0))?;
            ids.collect::<Result<_, _>>()?
        };
        let batch = batch.max(1);
        let mut writer = Writer {
            insert: event_insert_sql(opts.kind)
                .map(|sql| self.conn.prepare_cached(sql))
                .transpose()?,
            stubs: [
                self.conn.prepare_cached(Entity::Customer.stub_sql().0)?,
                self.conn.prepare_cached(Entity::Product.stub_sql().0)?,
                self.conn.prepare_cached(Entity::Agent.stub_sql().0)?,
                self.conn.prepare_cached(Entity::Case.stub_sql().0)?,
            ],
            conn: &self.conn,
            kind: opts.kind,
            import_id,
            file: &file,
            fingerprint: &fingerprint,
            same: SameSource::Imports(same_file),
            customers: HashMap::default(),
            products: HashMap::default(),
            agents: HashMap::default(),
            cases: HashMap::default(),
            batch: batch as u64,
            open: false,
            pending: ImportCounts::default(),
            pending_skips: HashMap::default(),
            skips: HashMap::default(),
            seq: 0,
        };

        let mut checkpointer = checkpoint::Checkpointer::start(&self.path);
        let (finished, total) = pipeline::import_rows(
            reader,
            opts.enrich.clone(),
            batch,
            &mut writer,
            &mut |total| {
                checkpointer.committed();
                on_progress(&ImportProgress {
                    bytes: bytes.bytes(),
                    size,
                    counts: *total,
                });
            },
        )?;
        let (mut notes, file_error) = (finished.notes, finished.error);
        let skipped_reasons = pipeline::BatchWriter::skipped_reasons(&writer);
        // The writer's prepared statements borrow the connection and the file name.
        drop(writer);
        checkpointer.finish();
        self.conn.pragma_update(None, "wal_autocheckpoint", 1000)?;
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        let resolved =
            self.resolve_quarantine(opts.kind, import_id, &fingerprint, file_error.is_none())?;
        self.conn.execute(
            "UPDATE imports SET finished_at = ?1 WHERE id = ?2",
            params![now(), import_id],
        )?;
        tracing::info!(
            import_id,
            read = total.read,
            stored = total.stored,
            duplicates = total.duplicates,
            quarantined = total.quarantined,
            skipped = total.skipped,
            resolved,
            "import finished"
        );
        debug_assert!(total.reconciles());
        early_notes.append(&mut notes);
        Ok(ImportReport {
            import_id,
            file,
            kind: opts.kind,
            counts: total,
            skipped_reasons,
            resolved,
            notes: early_notes,
            error: file_error.map(|e| e.to_string()),
        })
    }

    /// Closes open quarantine entries of earlier imports that this one settles: rows whose id it
    /// (or any import since) stored, and, when it read the whole file, every entry of earlier
    /// imports of the same file (its own entries for the rows still bad take over). Returns how
    /// many were closed.
    fn resolve_quarantine(
        &self,
        kind: RecordKind,
        import_id: i64,
        fingerprint: &str,
        read_to_end: bool,
    ) -> Result<u64, StoreError> {
        let (table, real) = match kind {
            RecordKind::Customers => ("customers", " AND t.row_hash IS NOT NULL"),
            RecordKind::Products => ("products", " AND t.row_hash IS NOT NULL"),
            RecordKind::Agents => ("agents", " AND t.row_hash IS NOT NULL"),
            RecordKind::Signals => ("signals", ""),
            RecordKind::Surveys => ("surveys", ""),
            RecordKind::CaseEvents => ("case_events", ""),
        };
        let at = now();
        let tx = self.conn.unchecked_transaction()?;
        let mut n = tx.execute(
            &format!(
                "UPDATE quarantine SET resolved_at = ?1, resolution = 'stored', resolved_by = ?2
                 WHERE resolved_at IS NULL AND kind = ?3 AND import_id <> ?2 AND ext_key IS NOT NULL
                 AND EXISTS (SELECT 1 FROM {table} t WHERE t.ext_id = quarantine.ext_key{real})"
            ),
            params![at, import_id, kind.as_str()],
        )?;
        if read_to_end {
            n += tx.execute(
                "UPDATE quarantine SET resolved_at = ?1, resolution = 'superseded', resolved_by = ?2
                 WHERE resolved_at IS NULL AND kind = ?3 AND fingerprint = ?4 AND import_id <> ?2",
                params![at, import_id, kind.as_str(), fingerprint],
            )?;
        }
        tx.commit()?;
        Ok(n as u64)
    }
}

impl pipeline::BatchWriter for Writer<'_> {
    fn write_rows(&mut self, rows: &[Prepared]) -> Result<Option<ImportCounts>, StoreError> {
        Writer::write_rows(self, rows)
    }
    fn commit(&mut self) -> Result<Option<ImportCounts>, StoreError> {
        Writer::commit(self)
    }
    fn rollback(&mut self) {
        Writer::rollback(self);
    }
    fn skipped_reasons(&self) -> Vec<SkipCount> {
        pipeline::sorted_skips(self.skips.iter())
    }
}

struct Writer<'a> {
    conn: &'a Connection,
    /// The INSERT of signals, surveys or case events, prepared once: it runs for every row.
    insert: Option<CachedStatement<'a>>,
    kind: RecordKind,
    import_id: i64,
    file: &'a str,
    fingerprint: &'a str,
    /// What counts as the same source as this row's: a row stored from it again is a repeat
    /// within the source, not a re-import.
    same: SameSource,
    customers: HashMap<String, i64>,
    products: HashMap<String, i64>,
    agents: HashMap<String, i64>,
    cases: HashMap<String, i64>,
    /// The stub INSERT of each entity (in `Entity` order), prepared once: it runs for every
    /// entity first seen.
    stubs: [CachedStatement<'a>; 4],
    /// Rows per transaction.
    batch: u64,
    /// A transaction is open.
    open: bool,
    /// Counts of the rows written in the open transaction.
    pending: ImportCounts,
    /// Rows skipped per reason in the open transaction, and in the committed ones.
    pending_skips: HashMap<std::sync::Arc<str>, u64>,
    skips: HashMap<std::sync::Arc<str>, u64>,
    /// Rows read so far: the ordinal of the last row, which keys its quarantine entry.
    seq: u64,
}

/// What a row's source is, to tell a row repeated within it from one stored by an earlier import.
pub(crate) enum SameSource {
    /// A file: every import of its bytes (this one included).
    Imports(HashSet<i64>),
    /// A batch of rows that arrived in memory (ingestion): the keys it stored so far. Its
    /// import is shared with other batches, so the import cannot tell.
    Keys(HashSet<String>),
}

impl SameSource {
    /// Whether a stored row (of import `import_id`, key `key`) came from this source.
    pub(crate) fn holds(&self, import_id: Option<i64>, key: &str) -> bool {
        match self {
            SameSource::Imports(ids) => import_id.is_some_and(|i| ids.contains(&i)),
            SameSource::Keys(keys) => keys.contains(key),
        }
    }

    pub(crate) fn stored(&mut self, key: &str) {
        if let SameSource::Keys(keys) = self {
            keys.insert(key.to_string());
        }
    }
}

/// The entity tables a row may reference.
#[derive(Clone, Copy)]
enum Entity {
    Customer = 0,
    Product,
    Agent,
    Case,
}

impl Entity {
    fn table(self) -> &'static str {
        match self {
            Entity::Customer => "customers",
            Entity::Product => "products",
            Entity::Agent => "agents",
            Entity::Case => "cases",
        }
    }

    /// The statements that create a stub and find an entity by its id (constants: they run for
    /// every entity first seen in an import).
    fn stub_sql(self) -> (&'static str, &'static str) {
        match self {
            Entity::Customer => (
                "INSERT INTO customers (ext_id) VALUES (?1) ON CONFLICT (ext_id) DO NOTHING",
                "SELECT id FROM customers WHERE ext_id = ?1",
            ),
            Entity::Product => (
                "INSERT INTO products (ext_id) VALUES (?1) ON CONFLICT (ext_id) DO NOTHING",
                "SELECT id FROM products WHERE ext_id = ?1",
            ),
            Entity::Agent => (
                "INSERT INTO agents (ext_id) VALUES (?1) ON CONFLICT (ext_id) DO NOTHING",
                "SELECT id FROM agents WHERE ext_id = ?1",
            ),
            Entity::Case => (
                "INSERT INTO cases (ext_id) VALUES (?1) ON CONFLICT (ext_id) DO NOTHING",
                "SELECT id FROM cases WHERE ext_id = ?1",
            ),
        }
    }
}

impl Writer<'_> {
    /// Writes rows in the open transaction (opening one when needed), and commits once it holds
    /// a batch of rows: the counts committed then are returned.
    fn write_rows(&mut self, rows: &[Prepared]) -> Result<Option<ImportCounts>, StoreError> {
        if !self.open {
            self.conn.execute_batch("BEGIN")?;
            self.open = true;
        }
        let mut c = ImportCounts::default();
        for p in rows {
            self.write_one(p, &mut c)?;
        }
        self.pending.add(&c);
        if self.pending.read >= self.batch {
            return self.commit();
        }
        Ok(None)
    }

    /// Writes one row: stored, a duplicate, or quarantined (returned, for a caller that
    /// reports rows one by one).
    fn write_one(
        &mut self,
        p: &Prepared,
        c: &mut ImportCounts,
    ) -> Result<Option<RowError>, StoreError> {
        let Prepared { row, ident } = p;
        c.read += 1;
        self.seq += 1;
        if let Some(reason) = &row.skipped {
            c.skipped += 1;
            *self.pending_skips.entry(reason.clone()).or_default() += 1;
            return Ok(None);
        }
        let line = row.line as i64;
        let outcome = match (&row.record, ident) {
            (Ok(record), Some(ident)) => self.write_record(record, ident, line, &row.enriched)?,
            (Err(e), _) => Outcome::Quarantine(e.clone()),
            (Ok(record), None) => {
                let ident = identity(record);
                self.write_record(record, &ident, line, &row.enriched)?
            }
        };
        match outcome {
            Outcome::Stored => c.stored += 1,
            Outcome::Duplicate => c.duplicates += 1,
            Outcome::Quarantine(e) => {
                // The source's text when the reader kept it (a row it could not read); a row
                // that was read but conflicts with a stored one is shown as it was read.
                let raw = match (&row.raw, &row.record) {
                    (Some(raw), _) => Some(raw.clone()),
                    (None, Ok(record)) => Some(readable(record)),
                    (None, Err(_)) => None,
                };
                // Only a row that could not be read is settled by its id being stored later; a
                // conflict's id is stored already, with the other content.
                let key = row.record.is_err().then_some(row.key.as_deref()).flatten();
                self.quarantine(&e, raw.as_deref(), key)?;
                c.quarantined += 1;
                return Ok(Some(e));
            }
        }
        Ok(None)
    }

    /// Commits the open transaction with its counts, in the same transaction as the rows they
    /// count. None when no transaction is open.
    fn commit(&mut self) -> Result<Option<ImportCounts>, StoreError> {
        if !self.open {
            return Ok(None);
        }
        let c = self.pending;
        self.conn
            .prepare_cached(
                "UPDATE imports SET read = read + ?1, stored = stored + ?2, duplicates = duplicates + ?3,
                 quarantined = quarantined + ?4, skipped = skipped + ?5, heartbeat_at = ?6 WHERE id = ?7",
            )?
            .execute(params![
                c.read as i64,
                c.stored as i64,
                c.duplicates as i64,
                c.quarantined as i64,
                c.skipped as i64,
                now(),
                self.import_id
            ])?;
        if !self.pending_skips.is_empty() {
            let mut upsert = self.conn.prepare_cached(
                "INSERT INTO import_skips (import_id, reason, rows) VALUES (?1, ?2, ?3)
                 ON CONFLICT (import_id, reason) DO UPDATE SET rows = rows + excluded.rows",
            )?;
            for (reason, rows) in &self.pending_skips {
                upsert.execute(params![self.import_id, reason.as_ref(), *rows as i64])?;
            }
        }
        self.conn.execute_batch("COMMIT")?;
        for (reason, rows) in self.pending_skips.drain() {
            *self.skips.entry(reason).or_default() += rows;
        }
        self.open = false;
        self.pending = ImportCounts::default();
        Ok(Some(c))
    }

    /// Abandons the open transaction after an error: the batches committed before it stay.
    fn rollback(&mut self) {
        if self.open {
            // Best effort: if even this fails, closing the connection rolls back.
            let _ = self.conn.execute_batch("ROLLBACK");
            self.open = false;
            self.pending = ImportCounts::default();
            self.pending_skips.clear();
        }
    }

    /// One entry per quarantined row, keyed by the import and the row's ordinal: never shared,
    /// never overwritten.
    fn quarantine(
        &self,
        e: &RowError,
        raw: Option<&str>,
        key: Option<&str>,
    ) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO quarantine (import_id, seq, kind, file, fingerprint, line, field, value, reason, raw, ext_key)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?
            .execute(params![
                self.import_id,
                self.seq as i64,
                self.kind.as_str(),
                self.file,
                self.fingerprint,
                e.line as i64,
                e.field,
                e.value,
                e.reason,
                raw,
                key
            ])?;
        Ok(())
    }

    /// The integer id of an entity, creating a stub row when it is referenced before it is imported.
    fn resolve(&mut self, entity: Entity, ext: &str) -> Result<i64, StoreError> {
        let cache = match entity {
            Entity::Customer => &mut self.customers,
            Entity::Product => &mut self.products,
            Entity::Agent => &mut self.agents,
            Entity::Case => &mut self.cases,
        };
        if let Some(id) = cache.get(ext) {
            return Ok(*id);
        }
        if cache.len() >= CACHE_LIMIT {
            cache.clear();
        }
        let select = entity.stub_sql().1;
        let insert = &mut self.stubs[entity as usize];
        // A new entity costs one statement; only one created meanwhile needs the lookup.
        let id: i64 = if insert.execute([ext])? == 1 {
            self.conn.last_insert_rowid()
        } else {
            self.conn
                .prepare_cached(select)?
                .query_row([ext], |r| r.get(0))?
        };
        cache.insert(ext.to_string(), id);
        Ok(id)
    }

    fn opt_resolve(
        &mut self,
        entity: Entity,
        ext: Option<&str>,
    ) -> Result<Option<i64>, StoreError> {
        ext.map(|e| self.resolve(entity, e)).transpose()
    }

    fn write_record(
        &mut self,
        record: &Record,
        ident: &Identity,
        line: i64,
        enriched: &hearken_ingest::Enriched,
    ) -> Result<Outcome, StoreError> {
        match record {
            Record::Customer(x) => {
                let import_id = self.import_id;
                let since = x.since.map(|t| t.unix());
                let churned = x.churned_at.map(|t| t.unix());
                let value = x.value_per_year.map(|m| m.get());
                let (seg, per) = (
                    x.segment.as_ref().map(|l| l.as_str()),
                    x.persona.as_ref().map(|l| l.as_str()),
                );
                let vals = params![
                    ident.key,
                    x.name,
                    seg,
                    per,
                    since,
                    value,
                    x.white_glove,
                    churned,
                    ident.row_hash,
                    import_id,
                    line
                ];
                self.upsert_entity(
                    Entity::Customer,
                    ident,
                    line,
                    "INSERT INTO customers (ext_id, name, segment, persona, since, value_per_year, white_glove, churned_at, row_hash, import_id, line)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT (ext_id) DO NOTHING",
                    "UPDATE customers SET name = ?2, segment = ?3, persona = ?4, since = ?5, value_per_year = ?6,
                     white_glove = ?7, churned_at = ?8, row_hash = ?9, import_id = ?10, line = ?11 WHERE ext_id = ?1",
                    vals,
                )
            }
            Record::Product(x) => {
                let import_id = self.import_id;
                let cat = x.category.as_ref().map(|l| l.as_str());
                let vals = params![ident.key, x.name, cat, ident.row_hash, import_id, line];
                self.upsert_entity(
                    Entity::Product,
                    ident,
                    line,
                    "INSERT INTO products (ext_id, name, category, row_hash, import_id, line)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (ext_id) DO NOTHING",
                    "UPDATE products SET name = ?2, category = ?3, row_hash = ?4, import_id = ?5, line = ?6 WHERE ext_id = ?1",
                    vals,
                )
            }
            Record::Agent(x) => {
                let import_id = self.import_id;
                let team = x.team.as_ref().map(|l| l.as_str());
                let vals = params![ident.key, x.name, team, ident.row_hash, import_id, line];
                self.upsert_entity(
                    Entity::Agent,
                    ident,
                    line,
                    "INSERT INTO agents (ext_id, name, team, row_hash, import_id, line)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (ext_id) DO NOTHING",
                    "UPDATE agents SET name = ?2, team = ?3, row_hash = ?4, import_id = ?5, line = ?6 WHERE ext_id = ?1",
                    vals,
                )
            }
            Record::Signal(x) => {
                let customer =
                    self.opt_resolve(Entity::Customer, x.customer.as_ref().map(|i| i.as_str()))?;
                let product =
                    self.opt_resolve(Entity::Product, x.product.as_ref().map(|i| i.as_str()))?;
                let case = self.opt_resolve(Entity::Case, x.case.as_ref().map(|i| i.as_str()))?;
                let agent =
                    self.opt_resolve(Entity::Agent, x.agent.as_ref().map(|i| i.as_str()))?;
                let stage = x.stage.as_ref().map(|l| l.as_str());
                let topic = x.topic.as_ref().map(|l| l.as_str());
                let text = x.text.as_ref().map(|t| t.as_str());
                let (conn, import_id) = (self.conn, self.import_id);
                let Some(stmt) = self.insert.as_mut() else {
                    return Err(StoreError::Sql(rusqlite::Error::InvalidQuery));
                };
                Self::insert_event(
                    conn,
                    &mut self.same,
                    self.kind,
                    "signals",
                    ident,
                    line,
                    |key| {
                        stmt.execute(params![
                            key,
                            x.at.unix(),
                            x.channel.code(),
                            x.kind.code(),
                            x.source.code(),
                            customer,
                            product,
                            case,
                            agent,
                            stage,
                            topic,
                            text,
                            ident.row_hash,
                            import_id,
                            line,
                            enriched.sentiment,
                            enriched.language,
                            enriched.redactions,
                            enriched.topic,
                            enriched.topic_probability
                        ])
                    },
                )
            }
            Record::Survey(x) => {
                let customer =
                    self.opt_resolve(Entity::Customer, x.customer.as_ref().map(|i| i.as_str()))?;
                let product =
                    self.opt_resolve(Entity::Product, x.product.as_ref().map(|i| i.as_str()))?;
                let case = self.opt_resolve(Entity::Case, x.case.as_ref().map(|i| i.as_str()))?;
                let agent =
                    self.opt_resolve(Entity::Agent, x.agent.as_ref().map(|i| i.as_str()))?;
                let (conn, import_id) = (self.conn, self.import_id);
                let Some(stmt) = self.insert.as_mut() else {
                    return Err(StoreError::Sql(rusqlite::Error::InvalidQuery));
                };
                let outcome = Self::insert_event(
                    conn,
                    &mut self.same,
                    self.kind,
                    "surveys",
                    ident,
                    line,
                    |key| {
                        stmt.execute(params![
                            key,
                            x.at.unix(),
                            customer,
                            product,
                            case,
                            agent,
                            x.channel.map(|c| c.code()),
                            x.nps.map(|v| v.get()),
                            x.csat.map(|v| v.get()),
                            x.ces.map(|v| v.get()),
                            x.overall.map(|r| r.get()),
                            x.comment.as_ref().map(|t| t.as_str()),
                            ident.row_hash,
                            import_id,
                            line,
                            enriched.sentiment,
                            enriched.language,
                            enriched.redactions
                        ])
                    },
                )?;
                if matches!(outcome, Outcome::Stored) {
                    let survey_id = conn.last_insert_rowid();
                    let mut aspect = conn.prepare_cached(
                        "INSERT INTO survey_aspects (survey_id, aspect, rating) VALUES (?1, ?2, ?3)",
                    )?;
                    for (name, rating) in &x.aspects {
                        aspect.execute(params![survey_id, name.as_str(), rating.get()])?;
                    }
                }
                Ok(outcome)
            }
            Record::CaseEvent(x) => {
                let case = self.resolve(Entity::Case, x.case.as_str())?;
                let agent =
                    self.opt_resolve(Entity::Agent, x.agent.as_ref().map(|i| i.as_str()))?;
                let customer =
                    self.opt_resolve(Entity::Customer, x.customer.as_ref().map(|i| i.as_str()))?;
                let product =
                    self.opt_resolve(Entity::Product, x.product.as_ref().map(|i| i.as_str()))?;
                let team = x.team.as_ref().map(|l| l.as_str());
                let text = x.text.as_ref().map(|t| t.as_str());
                let (conn, import_id) = (self.conn, self.import_id);
                let Some(stmt) = self.insert.as_mut() else {
                    return Err(StoreError::Sql(rusqlite::Error::InvalidQuery));
                };
                Self::insert_event(
                    conn,
                    &mut self.same,
                    self.kind,
                    "case_events",
                    ident,
                    line,
                    |key| {
                        stmt.execute(params![
                            key,
                            case,
                            x.at.unix(),
                            x.activity.as_str(),
                            agent,
                            team,
                            text,
                            ident.row_hash,
                            import_id,
                            line,
                            enriched.sentiment,
                            enriched.language,
                            enriched.redactions,
                            customer,
                            product
                        ])
                    },
                )
            }
        }
    }

    /// Where an existing row with this key came from.
    fn existing(conn: &Connection, table: &str, key: &str) -> Result<Option<Existing>, StoreError> {
        Ok(conn
            .prepare_cached(&format!(
                "SELECT t.row_hash, t.import_id, t.line, coalesce(i.file, '') FROM {table} t
                 LEFT JOIN imports i ON i.id = t.import_id WHERE t.ext_id = ?1"
            ))?
            .query_row([key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .optional()?)
    }

    /// Signals, surveys and case events are facts: never overwritten. The same content again is a
    /// duplicate; the same id with other content is quarantined ([`judge_event`]).
    fn insert_event(
        conn: &Connection,
        same: &mut SameSource,
        kind: RecordKind,
        table: &str,
        ident: &Identity,
        line: i64,
        mut insert: impl FnMut(&str) -> rusqlite::Result<usize>,
    ) -> Result<Outcome, StoreError> {
        // The key is only rebuilt for an identical row repeated within the file.
        let mut key = std::borrow::Cow::Borrowed(ident.key.as_str());
        let mut repeat = 0u32;
        loop {
            if insert(&key)? == 1 {
                same.stored(&key);
                return Ok(Outcome::Stored);
            }
            let Some(existing) = Self::existing(conn, table, &key)? else {
                // Inserted and deleted concurrently: cannot happen within our transaction.
                return Ok(Outcome::Duplicate);
            };
            match judge_event(&existing, same, kind, table, ident, &key, line) {
                EventVerdict::Duplicate => return Ok(Outcome::Duplicate),
                EventVerdict::Quarantine(e) => return Ok(Outcome::Quarantine(e)),
                EventVerdict::Repeat => {
                    repeat += 1;
                    key = std::borrow::Cow::Owned(format!("{}.{repeat}", ident.key));
                }
            }
        }
    }

    /// Customers, products and agents are reference data: a stub or an older version is updated,
    /// the same content is a duplicate, and the same id twice in one file is quarantined.
    fn upsert_entity(
        &mut self,
        entity: Entity,
        ident: &Identity,
        line: i64,
        insert: &str,
        update: &str,
        vals: &[&dyn rusqlite::ToSql],
    ) -> Result<Outcome, StoreError> {
        let table = entity.table();
        if self.conn.prepare_cached(insert)?.execute(vals)? == 1 {
            let id = self.conn.last_insert_rowid();
            self.cache(entity).insert(ident.key.clone(), id);
            self.same.stored(&ident.key);
            return Ok(Outcome::Stored);
        }
        let Some(existing) = Self::existing(self.conn, table, &ident.key)? else {
            return Ok(Outcome::Duplicate);
        };
        match judge_entity(&existing, &self.same, self.kind, ident, line) {
            EntityVerdict::Duplicate => Ok(Outcome::Duplicate),
            EntityVerdict::Quarantine(e) => Ok(Outcome::Quarantine(e)),
            EntityVerdict::Update => {
                self.conn.prepare_cached(update)?.execute(vals)?;
                Ok(Outcome::Stored)
            }
        }
    }

    fn cache(&mut self, entity: Entity) -> &mut HashMap<String, i64> {
        match entity {
            Entity::Customer => &mut self.customers,
            Entity::Product => &mut self.products,
            Entity::Agent => &mut self.agents,
            Entity::Case => &mut self.cases,
        }
    }
}

/// What a fact row (signal, survey, case event) whose key is already stored is: the rules of
/// ADR 0002, shared by the SQLite and the PostgreSQL import.
pub(crate) enum EventVerdict {
    /// The same content: counted, not stored.
    Duplicate,
    /// An identical row without an id repeated within one file: a second event, to be keyed by
    /// its occurrence (`#hash.1`, `#hash.2` ...) and tried again.
    Repeat,
    /// The same id with other content.
    Quarantine(RowError),
}

/// Judges a fact row of `kind` whose key `key` (its identity's, or a repeat's) is stored as
/// `existing` in `table`.
pub(crate) fn judge_event(
    existing: &Existing,
    same: &SameSource,
    kind: RecordKind,
    table: &str,
    ident: &Identity,
    key: &str,
    line: i64,
) -> EventVerdict {
    let (hash, import_id, eline, efile) = existing;
    let same_file = same.holds(*import_id, key);
    let same_line = same_file && *eline == Some(line);
    if *hash == Some(ident.row_hash) {
        if ident.hashed && same_file && !same_line {
            return EventVerdict::Repeat;
        }
        return EventVerdict::Duplicate;
    }
    let id_field = id_field(kind);
    let reason = if same_file && !same_line {
        format!(
            "duplicate {id_field}: line {} of this file has the same id with other content",
            eline.unwrap_or(0)
        )
    } else if same_line {
        "this line was imported before with other content (was the mapping changed?)".to_string()
    } else {
        format!(
            "{id_field} is already stored (from {efile} line {}) with other content; stored {table} are never overwritten",
            eline.unwrap_or(0)
        )
    };
    EventVerdict::Quarantine(RowError {
        line: line as u64,
        field: Some(id_field.to_string()),
        value: Some(ident.key.clone()),
        reason,
    })
}

/// What a reference row (customer, product, agent) whose id is already stored is.
pub(crate) enum EntityVerdict {
    Duplicate,
    /// A stub or a row of another file: this row replaces its attributes.
    Update,
    /// The same id twice in one file with other content.
    Quarantine(RowError),
}

/// Judges a reference row whose id is stored as `existing` (ADR 0002).
pub(crate) fn judge_entity(
    existing: &Existing,
    same: &SameSource,
    kind: RecordKind,
    ident: &Identity,
    line: i64,
) -> EntityVerdict {
    let (hash, import_id, eline, _) = existing;
    if *hash == Some(ident.row_hash) {
        return EntityVerdict::Duplicate;
    }
    let same_file = same.holds(*import_id, &ident.key);
    if hash.is_some() && same_file && *eline != Some(line) {
        let id_field = id_field(kind);
        return EntityVerdict::Quarantine(RowError {
            line: line as u64,
            field: Some(id_field.to_string()),
            value: Some(ident.key.clone()),
            reason: format!(
                "duplicate {id_field}: line {} of this file has the same id with other content",
                eline.unwrap_or(0)
            ),
        });
    }
    EntityVerdict::Update
}

/// The INSERT that runs for every row of an event kind (entities go through `upsert_entity`).
fn event_insert_sql(kind: RecordKind) -> Option<&'static str> {
    match kind {
        RecordKind::Signals => Some(
            "INSERT INTO signals (ext_id, at, channel, kind, source, customer_id, product_id, case_id, agent_id, stage, topic, text, row_hash, import_id, line, sentiment, language, redactions, predicted_topic, topic_probability) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20) ON CONFLICT (ext_id) DO NOTHING",
        ),
        RecordKind::Surveys => Some(
            "INSERT INTO surveys (ext_id, at, customer_id, product_id, case_id, agent_id, channel, nps, csat, ces, overall, comment, row_hash, import_id, line, comment_sentiment, comment_language, redactions) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18) ON CONFLICT (ext_id) DO NOTHING",
        ),
        RecordKind::CaseEvents => Some(
            "INSERT INTO case_events (ext_id, case_id, at, activity, agent_id, team, text, row_hash, import_id, line, sentiment, language, redactions, customer_id, product_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15) ON CONFLICT (ext_id) DO NOTHING",
        ),
        RecordKind::Customers | RecordKind::Products | RecordKind::Agents => None,
    }
}

/// A record as Hearken read it, for the quarantine's raw text when the row itself was valid (it
/// conflicts with a stored one): a JSON object of its canonical fields, the shape the canonical
/// files and the ingestion API take, so it can be corrected and sent again.
pub(crate) fn readable(record: &Record) -> String {
    use serde_json::{Map, Value};
    let mut m = Map::new();
    let mut put = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            m.insert(k.to_string(), v);
        }
    };
    let s = |v: &str| Some(Value::from(v));
    let t = |v: hearken_model::Timestamp| Some(Value::from(v.to_rfc3339()));
    match record {
        Record::Customer(x) => {
            put("customer_id", s(x.id.as_str()));
            put("name", x.name.as_deref().and_then(s));
            put("segment", x.segment.as_ref().and_then(|l| s(l.as_str())));
            put("persona", x.persona.as_ref().and_then(|l| s(l.as_str())));
            put("customer_since", x.since.and_then(t));
            put(
                "value_per_year",
                x.value_per_year.map(|v| Value::from(v.get())),
            );
            put("white_glove", Some(Value::from(x.white_glove)));
            put("churned_at", x.churned_at.and_then(t));
        }
        Record::Product(x) => {
            put("product_id", s(x.id.as_str()));
            put("name", x.name.as_deref().and_then(s));
            put("category", x.category.as_ref().and_then(|l| s(l.as_str())));
        }
        Record::Agent(x) => {
            put("agent_id", s(x.id.as_str()));
            put("name", x.name.as_deref().and_then(s));
            put("team", x.team.as_ref().and_then(|l| s(l.as_str())));
        }
        Record::Signal(x) => {
            put("signal_id", x.id.as_ref().and_then(|i| s(i.as_str())));
            put("at", t(x.at));
            put("channel", s(x.channel.as_str()));
            put("kind", s(x.kind.as_str()));
            put("source", s(x.source.as_str()));
            put(
                "customer_id",
                x.customer.as_ref().and_then(|i| s(i.as_str())),
            );
            put("product_id", x.product.as_ref().and_then(|i| s(i.as_str())));
            put("case_id", x.case.as_ref().and_then(|i| s(i.as_str())));
            put("agent_id", x.agent.as_ref().and_then(|i| s(i.as_str())));
            put("stage", x.stage.as_ref().and_then(|l| s(l.as_str())));
            put("topic", x.topic.as_ref().and_then(|l| s(l.as_str())));
            put("text", x.text.as_ref().and_then(|v| s(v.as_str())));
        }
        Record::Survey(x) => {
            put("response_id", x.id.as_ref().and_then(|i| s(i.as_str())));
            put("at", t(x.at));
            put(
                "customer_id",
                x.customer.as_ref().and_then(|i| s(i.as_str())),
            );
            put("product_id", x.product.as_ref().and_then(|i| s(i.as_str())));
            put("case_id", x.case.as_ref().and_then(|i| s(i.as_str())));
            put("agent_id", x.agent.as_ref().and_then(|i| s(i.as_str())));
            put("channel", x.channel.and_then(|c| s(c.as_str())));
            put("nps", x.nps.map(|v| Value::from(v.get())));
            put("csat", x.csat.map(|v| Value::from(v.get())));
            put("ces", x.ces.map(|v| Value::from(v.get())));
            put("overall", x.overall.map(|v| Value::from(v.get())));
            for (name, rating) in &x.aspects {
                put(
                    &format!("aspect_{}", name.as_str()),
                    Some(Value::from(rating.get())),
                );
            }
            put("comment", x.comment.as_ref().and_then(|v| s(v.as_str())));
        }
        Record::CaseEvent(x) => {
            put("event_id", x.id.as_ref().and_then(|i| s(i.as_str())));
            put("case_id", s(x.case.as_str()));
            put("at", t(x.at));
            put("activity", s(x.activity.as_str()));
            put("agent_id", x.agent.as_ref().and_then(|i| s(i.as_str())));
            put("team", x.team.as_ref().and_then(|l| s(l.as_str())));
            put("text", x.text.as_ref().and_then(|v| s(v.as_str())));
            put(
                "customer_id",
                x.customer.as_ref().and_then(|i| s(i.as_str())),
            );
            put("product_id", x.product.as_ref().and_then(|i| s(i.as_str())));
        }
    }
    Value::Object(m).to_string()
}

fn id_field(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Customers => "customer_id",
        RecordKind::Products => "product_id",
        RecordKind::Agents => "agent_id",
        RecordKind::Signals => "signal_id",
        RecordKind::Surveys => "response_id",
        RecordKind::CaseEvents => "event_id",
    }
}
