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
//!   is quarantined with its file, line, field, value and reason.

use std::collections::HashSet;

use rustc_hash::FxHashMap as HashMap;
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use hearken_ingest::{ReadOptions, RowError, RowReader};
use hearken_model::{Record, RecordKind};
use rusqlite::{Connection, OptionalExtension, Statement, params};
use serde::Serialize;

use crate::identity::{Identity, identity};
use crate::{Store, StoreError};

mod checkpoint;
mod pipeline;
use pipeline::Prepared;

/// Rows per transaction: large enough to amortise the commit, small enough that a crash loses
/// little work and memory stays flat.
pub const DEFAULT_BATCH: usize = 20_000;

/// Entity-id caches are cleared past this many entries, so memory stays bounded on huge imports.
const CACHE_LIMIT: usize = 2_000_000;

/// What happened to the rows of one import. `read = stored + duplicates + quarantined`, always.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct ImportCounts {
    pub read: u64,
    pub stored: u64,
    pub duplicates: u64,
    pub quarantined: u64,
}

impl ImportCounts {
    pub fn add(&mut self, o: &ImportCounts) {
        self.read += o.read;
        self.stored += o.stored;
        self.duplicates += o.duplicates;
        self.quarantined += o.quarantined;
    }

    pub fn reconciles(&self) -> bool {
        self.read == self.stored + self.duplicates + self.quarantined
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ImportReport {
    pub file: String,
    pub kind: RecordKind,
    #[serde(flatten)]
    pub counts: ImportCounts,
    /// Ignored columns, recognised export formats, and so on.
    pub notes: Vec<String>,
    /// Set when the file could not be read to its end; the rows before the problem were imported.
    pub error: Option<String>,
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
type Existing = (Option<i64>, Option<i64>, Option<i64>, String);

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Store {
    /// Imports one file of one kind. A problem with the whole file before any row is read (missing,
    /// empty, no usable header, a bad mapping) is an `Err` and nothing is written. A problem part-way
    /// (a line beyond the length limit, a read error) keeps the rows before it and is reported in
    /// [`ImportReport::error`].
    pub fn import_file(
        &mut self,
        path: &Path,
        opts: &ReadOptions,
        batch: usize,
        on_progress: &mut dyn FnMut(&ImportProgress),
    ) -> Result<ImportReport, StoreError> {
        let span = tracing::info_span!("import", file = %path.display(), kind = %opts.kind);
        let _enter = span.enter();
        let fingerprint = hearken_ingest::fingerprint(path)?;
        let reader = RowReader::open(path, opts)?;
        // Checkpoint once at the end instead of every 1000 pages: pages rewritten by many batches
        // are copied to the database file once. A crash leaves a longer WAL, replayed on open.
        self.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
        let bytes = reader.progress();
        let size = reader.size();
        let file = path.display().to_string();

        self.conn.execute(
            "INSERT INTO imports (kind, file, fingerprint, started_at) VALUES (?1, ?2, ?3, ?4)",
            params![opts.kind.as_str(), file, fingerprint, now()],
        )?;
        let import_id = self.conn.last_insert_rowid();
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
                .map(|sql| self.conn.prepare(sql))
                .transpose()?,
            stubs: [
                self.conn.prepare(Entity::Customer.stub_sql().0)?,
                self.conn.prepare(Entity::Product.stub_sql().0)?,
                self.conn.prepare(Entity::Agent.stub_sql().0)?,
                self.conn.prepare(Entity::Case.stub_sql().0)?,
            ],
            conn: &self.conn,
            kind: opts.kind,
            import_id,
            file: &file,
            fingerprint: &fingerprint,
            same_file,
            customers: HashMap::default(),
            products: HashMap::default(),
            agents: HashMap::default(),
            cases: HashMap::default(),
            batch: batch as u64,
            open: false,
            pending: ImportCounts::default(),
        };

        let mut checkpointer = checkpoint::Checkpointer::start(&self.path);
        let mut total = ImportCounts::default();
        let finished = pipeline::run(reader, opts.enrich.clone(), batch, &mut |rows| {
            if let Some(c) = writer.write_rows(rows)? {
                checkpointer.committed();
                total.add(&c);
                on_progress(&ImportProgress {
                    bytes: bytes.bytes(),
                    size,
                    counts: total,
                });
            }
            Ok(())
        });
        // The rows after the last full batch, also when the file stopped part-way.
        let finished = finished.and_then(|f| {
            if let Some(c) = writer.commit()? {
                total.add(&c);
            }
            Ok(f)
        });
        let finished = match finished {
            Ok(f) => f,
            Err(e) => {
                writer.rollback();
                return Err(e);
            }
        };
        let (notes, file_error) = (finished.notes, finished.error);
        // The writer's prepared statements borrow the connection and the file name.
        drop(writer);
        checkpointer.finish();
        self.conn.pragma_update(None, "wal_autocheckpoint", 1000)?;
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        self.conn.execute(
            "UPDATE imports SET finished_at = ?1 WHERE id = ?2",
            params![now(), import_id],
        )?;
        tracing::info!(
            read = total.read,
            stored = total.stored,
            duplicates = total.duplicates,
            quarantined = total.quarantined,
            "import finished"
        );
        debug_assert!(total.reconciles());
        Ok(ImportReport {
            file,
            kind: opts.kind,
            counts: total,
            notes,
            error: file_error.map(|e| e.to_string()),
        })
    }
}

struct Writer<'a> {
    conn: &'a Connection,
    /// The INSERT of signals, surveys or case events, prepared once: it runs for every row.
    insert: Option<Statement<'a>>,
    kind: RecordKind,
    import_id: i64,
    file: &'a str,
    fingerprint: &'a str,
    /// Imports of this same file (same bytes, same kind), this one included.
    same_file: HashSet<i64>,
    customers: HashMap<String, i64>,
    products: HashMap<String, i64>,
    agents: HashMap<String, i64>,
    cases: HashMap<String, i64>,
    /// The stub INSERT of each entity (in `Entity` order), prepared once: it runs for every
    /// entity first seen.
    stubs: [Statement<'a>; 4],
    /// Rows per transaction.
    batch: u64,
    /// A transaction is open.
    open: bool,
    /// Counts of the rows written in the open transaction.
    pending: ImportCounts,
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

    /// Writes one row: stored, a duplicate, or quarantined.
    fn write_one(&mut self, p: &Prepared, c: &mut ImportCounts) -> Result<(), StoreError> {
        let Prepared { row, ident } = p;
        c.read += 1;
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
                let raw = match (&row.raw, &row.record) {
                    (Some(raw), _) => Some(raw.clone()),
                    (None, Ok(record)) => Some(format!("{record:?}")),
                    (None, Err(_)) => None,
                };
                self.quarantine(&e, raw.as_deref())?;
                c.quarantined += 1;
            }
        }
        Ok(())
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
                 quarantined = quarantined + ?4 WHERE id = ?5",
            )?
            .execute(params![
                c.read as i64,
                c.stored as i64,
                c.duplicates as i64,
                c.quarantined as i64,
                self.import_id
            ])?;
        self.conn.execute_batch("COMMIT")?;
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
        }
    }

    fn quarantine(&self, e: &RowError, raw: Option<&str>) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO quarantine (import_id, kind, file, fingerprint, line, field, value, reason, raw)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (fingerprint, kind, line) DO NOTHING",
            )?
            .execute(params![
                self.import_id,
                self.kind.as_str(),
                self.file,
                self.fingerprint,
                e.line as i64,
                e.field,
                e.value,
                e.reason,
                raw
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
                    &self.same_file,
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
                    &self.same_file,
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
                    &self.same_file,
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
    /// duplicate; the same id with other content is quarantined.
    fn insert_event(
        conn: &Connection,
        same_file: &HashSet<i64>,
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
                return Ok(Outcome::Stored);
            }
            let Some((hash, import_id, eline, efile)) = Self::existing(conn, table, &key)? else {
                // Inserted and deleted concurrently: cannot happen within our transaction.
                return Ok(Outcome::Duplicate);
            };
            let same_file = import_id.is_some_and(|i| same_file.contains(&i));
            let same_line = same_file && eline == Some(line);
            if hash == Some(ident.row_hash) {
                if ident.hashed && same_file && !same_line {
                    // An identical row repeated within one file (two identical events with no id) is
                    // a second event, keyed by its occurrence, so a re-import still finds it.
                    repeat += 1;
                    key = std::borrow::Cow::Owned(format!("{}.{repeat}", ident.key));
                    continue;
                }
                return Ok(Outcome::Duplicate);
            }
            let id_field = id_field(kind);
            let reason = if same_file && !same_line {
                format!(
                    "duplicate {id_field}: line {} of this file has the same id with other content",
                    eline.unwrap_or(0)
                )
            } else if same_line {
                "this line was imported before with other content (was the mapping changed?)"
                    .to_string()
            } else {
                format!(
                    "{id_field} is already stored (from {efile} line {}) with other content; stored {table} are never overwritten",
                    eline.unwrap_or(0)
                )
            };
            return Ok(Outcome::Quarantine(RowError {
                line: line as u64,
                field: Some(id_field.to_string()),
                value: Some(ident.key.clone()),
                reason,
            }));
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
            return Ok(Outcome::Stored);
        }
        let Some((hash, import_id, eline, _)) = Self::existing(self.conn, table, &ident.key)?
        else {
            return Ok(Outcome::Duplicate);
        };
        if hash == Some(ident.row_hash) {
            return Ok(Outcome::Duplicate);
        }
        let same_file = import_id.is_some_and(|i| self.same_file.contains(&i));
        if hash.is_some() && same_file && eline != Some(line) {
            let id_field = id_field(self.kind);
            return Ok(Outcome::Quarantine(RowError {
                line: line as u64,
                field: Some(id_field.to_string()),
                value: Some(ident.key.clone()),
                reason: format!(
                    "duplicate {id_field}: line {} of this file has the same id with other content",
                    eline.unwrap_or(0)
                ),
            }));
        }
        self.conn.prepare_cached(update)?.execute(vals)?;
        Ok(Outcome::Stored)
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
