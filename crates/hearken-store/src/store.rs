//! Opening the store file, migrations, and read-only views (status, quarantine).

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde::Serialize;

use crate::StoreError;
use crate::schema::{MIGRATIONS, current_version};

/// Page size of new store files, in bytes.
/// 16 KiB measured 12-20% faster imports than SQLite's 4 KiB default (docs/benchmarks.md).
const PAGE_SIZE: u32 = 16_384;

/// The embedded store: one SQLite database file.
pub struct Store {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
    /// Rows per chunk of the columnar snapshot (see snapshot.rs).
    pub(crate) chunk_rows: usize,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

/// Row counts per kind and the schema version: what `hearken status` prints.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Status {
    pub path: String,
    pub schema_version: i64,
    pub customers: i64,
    pub products: i64,
    pub agents: i64,
    pub signals: i64,
    pub surveys: i64,
    pub cases: i64,
    pub case_events: i64,
    pub quarantined: i64,
    pub imports: i64,
    /// Imports that started but never finished (the process was stopped); rerunning the same
    /// import completes them.
    pub interrupted_imports: i64,
    /// Whether the columnar snapshot the analytics read is up to date with the tables (the next
    /// analytics command refreshes it when not).
    pub snapshot_fresh: bool,
}

/// One quarantined row.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct QuarantineEntry {
    pub kind: String,
    pub file: String,
    pub line: i64,
    pub field: Option<String>,
    pub value: Option<String>,
    pub reason: String,
    pub raw: Option<String>,
}

impl Store {
    /// Opens (creating if needed) the store at `path` and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
        let not_a_store = |e: rusqlite::Error| StoreError::NotAStore {
            path: path.to_path_buf(),
            reason: e.to_string(),
        };
        // The first read of the header tells a database from any other file.
        conn.query_row("PRAGMA schema_version", [], |r| r.get::<_, i64>(0))
            .map_err(not_a_store)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        // A new file gets larger pages: fewer page fetches and splits per imported row. It must be
        // set before the first table (and before WAL mode) to take effect.
        let fresh: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
        if fresh == 0 {
            conn.pragma_update(None, "page_size", PAGE_SIZE)?;
        }
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;
             PRAGMA temp_store = MEMORY;
             PRAGMA cache_size = -65536;",
        )?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
            chunk_rows: crate::snapshot::CHUNK,
        };
        store.migrate()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let version: i64 = self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if version > current_version() {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found: version,
                known: current_version(),
            });
        }
        if version == 0 {
            // A database file that is not ours (tables, but no version) is not silently adopted.
            let tables: i64 = self.conn.query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
                [],
                |r| r.get(0),
            )?;
            if tables > 0 {
                return Err(StoreError::NotAStore {
                    path: self.path.clone(),
                    reason: "it is an SQLite database with other tables".into(),
                });
            }
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            let to = i as i64 + 1;
            let tx = self.conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", to)?;
            tx.commit()?;
            tracing::info!(version = to, "store migrated");
        }
        Ok(())
    }

    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    pub fn status(&self) -> Result<Status, StoreError> {
        let count = |sql: &str| -> Result<i64, StoreError> {
            Ok(self.conn.query_row(sql, [], |r| r.get(0))?)
        };
        Ok(Status {
            path: self.path.display().to_string(),
            schema_version: self.schema_version()?,
            customers: count("SELECT count(*) FROM customers")?,
            products: count("SELECT count(*) FROM products")?,
            agents: count("SELECT count(*) FROM agents")?,
            signals: count("SELECT count(*) FROM signals")?,
            surveys: count("SELECT count(*) FROM surveys")?,
            cases: count("SELECT count(*) FROM cases")?,
            case_events: count("SELECT count(*) FROM case_events")?,
            quarantined: count("SELECT count(*) FROM quarantine")?,
            imports: count("SELECT count(*) FROM imports")?,
            interrupted_imports: count(
                "SELECT count(*) FROM imports i WHERE finished_at IS NULL
                 AND NOT EXISTS (SELECT 1 FROM imports j WHERE j.fingerprint = i.fingerprint
                                 AND j.kind = i.kind AND j.id > i.id AND j.finished_at IS NOT NULL)",
            )?,
            snapshot_fresh: self.snapshot_is_fresh()?,
        })
    }

    /// Quarantined rows, oldest first; `limit` 0 means all.
    pub fn quarantine(&self, limit: usize) -> Result<Vec<QuarantineEntry>, StoreError> {
        let limit = if limit == 0 { i64::MAX } else { limit as i64 };
        let mut stmt = self.conn.prepare(
            "SELECT kind, file, line, field, value, reason, raw FROM quarantine ORDER BY id LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], |r| {
            Ok(QuarantineEntry {
                kind: r.get(0)?,
                file: r.get(1)?,
                line: r.get(2)?,
                field: r.get(3)?,
                value: r.get(4)?,
                reason: r.get(5)?,
                raw: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Runs a read-only query returning one integer (used by tests and the demo overview).
    pub fn scalar(&self, sql: &str) -> Result<Option<i64>, StoreError> {
        Ok(self.conn.query_row(sql, [], |r| r.get(0)).optional()?)
    }
}

/// A stored topic model's description (the bytes are loaded separately).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ModelInfo {
    pub name: String,
    pub version: i64,
    pub created_at: i64,
    pub labels: i64,
    pub examples: i64,
}

impl Store {
    /// Saves a new version of the named model and returns its version number.
    pub fn save_model(
        &self,
        name: &str,
        labels: usize,
        examples: usize,
        bytes: &[u8],
    ) -> Result<i64, StoreError> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let tx = self.conn.unchecked_transaction()?;
        let version: i64 = tx.query_row(
            "SELECT coalesce(max(version), 0) + 1 FROM topic_models WHERE name = ?1",
            [name],
            |r| r.get(0),
        )?;
        tx.execute(
            "INSERT INTO topic_models (name, version, created_at, labels, examples, bytes) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            rusqlite::params![name, version, now, labels as i64, examples as i64, bytes],
        )?;
        tx.commit()?;
        Ok(version)
    }

    /// The newest version of the named model, if any.
    pub fn load_model(&self, name: &str) -> Result<Option<(ModelInfo, Vec<u8>)>, StoreError> {
        Ok(self
            .conn
            .query_row(
                "SELECT name, version, created_at, labels, examples, bytes FROM topic_models
                 WHERE name = ?1 ORDER BY version DESC LIMIT 1",
                [name],
                |r| {
                    Ok((
                        ModelInfo {
                            name: r.get(0)?,
                            version: r.get(1)?,
                            created_at: r.get(2)?,
                            labels: r.get(3)?,
                            examples: r.get(4)?,
                        },
                        r.get(5)?,
                    ))
                },
            )
            .optional()?)
    }
}

impl Store {
    /// Runs `classify` over every stored signal text and stores its label and probability,
    /// 10,000 signals per transaction. Returns how many signals were classified.
    pub fn reclassify(
        &mut self,
        classify: &mut dyn FnMut(&str) -> (Option<String>, f32),
        on_progress: &mut dyn FnMut(u64),
    ) -> Result<u64, StoreError> {
        // The topic generation changes before the first row and after the last one is
        // rewritten, so a snapshot taken in between is rebuilt (snapshot.rs).
        self.bump_generation("topics")?;
        let mut after = 0i64;
        let mut done = 0u64;
        loop {
            let batch: Vec<(i64, String)> = {
                let mut stmt = self.conn.prepare_cached(
                    "SELECT id, text FROM signals WHERE id > ?1 AND text IS NOT NULL ORDER BY id LIMIT 10000",
                )?;
                let rows = stmt.query_map([after], |r| Ok((r.get(0)?, r.get(1)?)))?;
                rows.collect::<Result<_, _>>()?
            };
            let Some(last) = batch.last() else { break };
            after = last.0;
            let tx = self.conn.transaction()?;
            {
                let mut update = tx.prepare_cached(
                    "UPDATE signals SET predicted_topic = ?2, topic_probability = ?3 WHERE id = ?1",
                )?;
                for (id, text) in &batch {
                    let (label, p) = classify(text);
                    update.execute(rusqlite::params![id, label, p])?;
                }
            }
            tx.commit()?;
            done += batch.len() as u64;
            on_progress(done);
        }
        self.bump_generation("topics")?;
        Ok(done)
    }

    fn bump_generation(&self, name: &str) -> Result<(), StoreError> {
        self.conn.execute(
            "INSERT INTO store_generations (name, value) VALUES (?1, 1)
             ON CONFLICT (name) DO UPDATE SET value = value + 1",
            [name],
        )?;
        Ok(())
    }
}
