//! Opening the store file, migrations, and read-only views (status, quarantine).

use std::any::Any;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rusqlite::{Connection, OpenFlags, OptionalExtension};
use serde::Serialize;

use crate::StoreError;
use crate::schema::{MIGRATIONS, current_version};

fn not_a_store(path: &Path, e: rusqlite::Error) -> StoreError {
    if matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::NotADatabase)
    ) {
        StoreError::NotAStore {
            path: path.to_path_buf(),
            reason: e.to_string(),
        }
    } else {
        StoreError::Open {
            path: path.to_path_buf(),
            source: e,
        }
    }
}

/// Page size of new store files, in bytes.
/// 16 KiB measured 12-20% faster imports than SQLite's 4 KiB default (docs/benchmarks.md).
const PAGE_SIZE: u32 = 16_384;

/// The embedded store: one SQLite database file.
pub struct Store {
    pub(crate) conn: Connection,
    pub(crate) path: PathBuf,
    /// Rows per chunk of the columnar snapshot (see snapshot.rs).
    pub(crate) chunk_rows: usize,
    /// Opened read-only (the file or its directory is not writable): see [`Store::open_existing`].
    pub(crate) read_only: bool,
    /// What the layer above keeps beside this connection ([`Store::attach`]); never read here.
    pub(crate) attachment: Option<Arc<dyn Any + Send + Sync>>,
    /// The entity ids live ingestion has resolved on this connection, kept from one committed
    /// group to the next (see `import/ingest.rs`).
    pub(crate) ingest_ids: crate::import::ingest::EntityIds,
    /// Live ingestion's background checkpoints on this connection's file, started by the first
    /// ingested group (see `import/ingest.rs`).
    pub(crate) ingest_checkpoints: Option<crate::import::checkpoint::Checkpointer>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.path)
            .field("read_only", &self.read_only)
            .finish()
    }
}

/// Row counts per kind and the schema version: what `hearken status` prints.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Status {
    pub path: String,
    pub schema_version: i64,
    /// Opened read-only: analytics work, imports and clearing do not.
    pub read_only: bool,
    pub customers: i64,
    pub products: i64,
    pub agents: i64,
    pub signals: i64,
    pub surveys: i64,
    pub cases: i64,
    pub case_events: i64,
    /// Open quarantine entries: rows not imported and not since resolved or cleared.
    pub quarantined: i64,
    /// Rows skipped by mapping rules, over all imports.
    pub skipped: i64,
    pub imports: i64,
    /// Imports whose process is still running: counts read now may be partial.
    pub running_imports: i64,
    /// Imports that started but never finished and are not running (the process was stopped);
    /// rerunning the same import completes them.
    pub interrupted_imports: i64,
    /// Whether the store holds data from `hearken demo` (synthetic).
    pub demo_data: bool,
    /// Whether the columnar snapshot the analytics read is up to date with the tables (the next
    /// analytics command refreshes it when not).
    pub snapshot_fresh: bool,
    /// The most recent imports, newest first.
    pub recent_imports: Vec<ImportRecord>,
}

/// One quarantined row.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct QuarantineEntry {
    pub id: i64,
    /// The import that found the row.
    pub import_id: i64,
    pub kind: String,
    pub file: String,
    pub line: i64,
    pub field: Option<String>,
    pub value: Option<String>,
    pub reason: String,
    pub raw: Option<String>,
    /// `open`, or how it was closed: `stored` (the row's id was imported since), `superseded`
    /// (the same file was imported again, with its own entries), `cleared`.
    pub state: String,
    pub resolved_at: Option<i64>,
}

/// Which quarantine entries to list.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuarantineFilter {
    /// Only the entries of this import (open or closed: every row it quarantined).
    pub import: Option<i64>,
    /// Closed entries too (always the case with `import`).
    pub all: bool,
    /// At most this many; 0 means all.
    pub limit: usize,
}

/// A deliberate clearing of quarantine entries, as recorded.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Clearing {
    pub id: i64,
    pub at: i64,
    pub by: String,
    pub import_id: Option<i64>,
    pub entries: i64,
}

/// One import, as recorded.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ImportRecord {
    pub id: i64,
    pub kind: String,
    pub file: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    /// `finished`, `running` or `interrupted`.
    pub state: String,
    pub read: i64,
    pub stored: i64,
    pub duplicates: i64,
    pub quarantined: i64,
    pub skipped: i64,
    /// Skipped rows per mapping rule reason.
    pub skipped_reasons: Vec<(String, i64)>,
    pub demo: bool,
}

/// An import whose process is running now.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RunningImport {
    pub id: i64,
    pub kind: String,
    pub file: String,
    pub started_at: i64,
    /// Rows committed so far.
    pub read: i64,
}

/// How long an import on another machine (or where processes cannot be looked up) counts as
/// running after its last committed batch.
const HEARTBEAT_SECS: i64 = 300;

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// This machine's name, to tell this machine's imports from others' (a store on a shared disk).
pub(crate) fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// Whether process `pid` of this machine is alive and started no later than `started_at` (a
/// process started after the import began cannot be the one running it: its pid was reused).
/// None when processes cannot be looked up here (no /proc).
/// Whether an unfinished import is still writing: its process is alive (on this host), else its
/// heartbeat is recent (another host). Shared by the SQLite and the PostgreSQL store.
pub(crate) fn import_alive(
    pid: Option<i64>,
    host: Option<&str>,
    started_at: i64,
    heartbeat: i64,
) -> bool {
    let recent = now() - heartbeat <= HEARTBEAT_SECS;
    match (pid, host) {
        (Some(pid), Some(host)) if host == host_name() => {
            process_alive(pid, started_at).unwrap_or(recent)
        }
        // Imports recorded before processes were (schema 5) are never running.
        (None, _) => false,
        _ => recent,
    }
}

fn process_alive(pid: i64, started_at: i64) -> Option<bool> {
    if pid == i64::from(std::process::id()) {
        return Some(true);
    }
    let proc_dir = Path::new("/proc");
    if !proc_dir.join("self").exists() {
        return None;
    }
    let Ok(stat) = std::fs::read_to_string(proc_dir.join(pid.to_string()).join("stat")) else {
        return Some(false);
    };
    // Field 22 (start time in clock ticks since boot) follows the command name in parentheses.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    // A zombie (state Z) has exited.
    if fields.first() == Some(&"Z") {
        return Some(false);
    }
    let start_ticks: Option<i64> = fields.get(19).and_then(|v| v.parse().ok());
    let boot: Option<i64> = std::fs::read_to_string(proc_dir.join("stat"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("btime ").and_then(|v| v.trim().parse().ok()))
        });
    Some(match (start_ticks, boot) {
        // USER_HZ is 100 on Linux. A second of slack for rounding.
        (Some(t), Some(b)) => b + t / 100 <= started_at + 1,
        _ => true,
    })
}

/// The SQLite URI of a file path, opened read-only and immutable.
fn read_only_uri(path: &Path, immutable: bool) -> String {
    let mut uri = String::from("file:");
    for b in path.to_string_lossy().bytes() {
        match b {
            b'?' | b'#' | b'%' => uri.push_str(&format!("%{b:02X}")),
            _ => uri.push(char::from(b)),
        }
    }
    uri.push_str(if immutable {
        "?mode=ro&immutable=1"
    } else {
        "?mode=ro"
    });
    uri
}

/// Whether the store file (and the directory its journal files go in) can be written: marked
/// read-only by its permission bits (even for an administrator, who could write it anyway), or
/// refusing to be opened for writing.
fn writable(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    if meta.permissions().readonly() {
        return false;
    }
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if std::fs::metadata(&dir).is_ok_and(|m| m.permissions().readonly()) {
        return false;
    }
    std::fs::OpenOptions::new().write(true).open(path).is_ok()
}

fn is_read_only_error(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(
            rusqlite::ErrorCode::ReadOnly
                | rusqlite::ErrorCode::CannotOpen
                | rusqlite::ErrorCode::PermissionDenied
        )
    )
}

/// Puts the database in WAL mode (a no-op once it is). Switching needs the file to itself, and
/// SQLite does not wait for that through the busy handler: while another process opens the same
/// new store the switch is retried, for up to 30 seconds.
fn wal_mode(conn: &Connection) -> Result<(), StoreError> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let mut pause = std::time::Duration::from_millis(2);
    loop {
        let mode: String = conn.query_row("PRAGMA journal_mode", [], |r| r.get(0))?;
        if mode.eq_ignore_ascii_case("wal") {
            return Ok(());
        }
        match conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get::<_, String>(0)) {
            Ok(m) if m.eq_ignore_ascii_case("wal") => return Ok(()),
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.sqlite_error_code(),
                    Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
                ) => {}
            Err(e) => return Err(e.into()),
        }
        if std::time::Instant::now() > deadline {
            return Err(StoreError::Busy);
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(std::time::Duration::from_millis(100));
    }
}

impl Store {
    /// Opens (creating if needed) the store at `path` and brings its schema up to date. Only the
    /// commands that write data (import, demo) create a store; the others use
    /// [`Store::open_existing`].
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        // An existing store opens as for reading: read-only when marked so, which the commands
        // that write then refuse with a clear message.
        if path.exists() {
            return Store::open_existing(path);
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        Store::open_with(path, flags)
    }

    /// Opens an existing store; a missing file is an error naming the path (a typo'd `--db` never
    /// creates an empty store). When the file or its directory is not writable the store is
    /// opened read-only and immutable: it can be analysed (a stale snapshot is brought up to date
    /// in memory), nothing is written, and no `-wal`/`-shm` file is left beside it.
    pub fn open_existing(path: &Path) -> Result<Store, StoreError> {
        if !path.exists() {
            return Err(StoreError::Missing {
                path: path.to_path_buf(),
            });
        }
        if path.is_dir() {
            return Err(StoreError::NotAStore {
                path: path.to_path_buf(),
                reason: "it is a directory".into(),
            });
        }
        if writable(path) {
            let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
            match Store::open_with(path, flags) {
                Err(StoreError::Open { source, .. }) | Err(StoreError::Sql(source))
                    if is_read_only_error(&source) => {}
                other => return other,
            }
        }
        Store::open_read_only(path)
    }

    fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        // An immutable open takes no locks and creates no files, but does not read a write-ahead
        // log: when one holds data (a killed import), the log must be read through shared memory.
        let mut wal = path.as_os_str().to_owned();
        wal.push("-wal");
        let pending_log = std::fs::metadata(PathBuf::from(wal)).is_ok_and(|m| m.len() > 0);
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_URI
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(read_only_uri(path, !pending_log), flags)
            .map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.query_row("PRAGMA schema_version", [], |r| r.get::<_, i64>(0))
            .map_err(|e| {
                if pending_log && is_read_only_error(&e) {
                    StoreError::ReadOnlyLog {
                        path: path.to_path_buf(),
                    }
                } else {
                    not_a_store(path, e)
                }
            })?;
        conn.execute_batch("PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536;")?;
        stable_plans(&conn)?;
        let store = Store {
            conn,
            path: path.to_path_buf(),
            chunk_rows: crate::snapshot::CHUNK,
            read_only: true,
            attachment: None,
            ingest_ids: Default::default(),
            ingest_checkpoints: None,
        };
        let version = store.schema_version()?;
        if version > current_version() {
            return Err(StoreError::TooNew {
                path: path.to_path_buf(),
                found: version,
                known: current_version(),
            });
        }
        if version < current_version() {
            return Err(StoreError::ReadOnlyOld {
                path: path.to_path_buf(),
                found: version,
            });
        }
        // The analytics bring a stale snapshot up to date: in memory, in temporary tables of
        // the same names (SQLite looks names up in `temp` first), copied from the file's.
        if !store.snapshot_is_fresh()? {
            store.conn.execute_batch(
                "CREATE TEMP TABLE snapshot_parts (part TEXT PRIMARY KEY, key TEXT NOT NULL,
                     last_id INTEGER NOT NULL, rows INTEGER NOT NULL, format INTEGER NOT NULL);
                 CREATE TEMP TABLE snapshot_chunks (part TEXT NOT NULL, col TEXT NOT NULL,
                     chunk INTEGER NOT NULL, rows INTEGER NOT NULL, min_at INTEGER, max_at INTEGER,
                     data BLOB NOT NULL, PRIMARY KEY (part, col, chunk));
                 INSERT INTO temp.snapshot_parts SELECT part, key, last_id, rows, format FROM main.snapshot_parts;
                 INSERT INTO temp.snapshot_chunks SELECT part, col, chunk, rows, min_at, max_at, data FROM main.snapshot_chunks;",
            )?;
        }
        Ok(store)
    }

    fn open_with(path: &Path, flags: OpenFlags) -> Result<Store, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
        // Before anything reads the file: a store another process is creating or importing
        // into is waited for, not mistaken for a broken one.
        conn.busy_timeout(std::time::Duration::from_secs(30))?;
        // The first read of the header tells a database from any other file.
        conn.query_row("PRAGMA schema_version", [], |r| r.get::<_, i64>(0))
            .map_err(|e| not_a_store(path, e))?;
        // A new file gets larger pages: fewer page fetches and splits per imported row. It must be
        // set before the first table (and before WAL mode) to take effect.
        let fresh: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
        if fresh == 0 {
            conn.pragma_update(None, "page_size", PAGE_SIZE)?;
        }
        wal_mode(&conn)?;
        conn.execute_batch(
            "PRAGMA synchronous = NORMAL;
             PRAGMA foreign_keys = ON;
             PRAGMA temp_store = MEMORY;
             PRAGMA cache_size = -65536;",
        )?;
        stable_plans(&conn)?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
            chunk_rows: crate::snapshot::CHUNK,
            read_only: false,
            attachment: None,
            ingest_ids: Default::default(),
            ingest_checkpoints: None,
        };
        store.migrate()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Opened read-only (see [`Store::open_existing`]).
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Fails with a clear message when the store was opened read-only.
    pub(crate) fn writable(&self, what: &str) -> Result<(), StoreError> {
        if self.read_only {
            return Err(StoreError::ReadOnly {
                path: self.path.clone(),
                what: what.to_string(),
            });
        }
        Ok(())
    }

    /// Brings the schema up to date. Each migration runs in its own IMMEDIATE transaction that
    /// reads the version again once it holds the write lock, so two processes opening a new
    /// store at once apply each migration once: the second waits, then finds it done.
    fn migrate(&mut self) -> Result<(), StoreError> {
        // Foreign keys cannot be switched inside a transaction: off while migrating (each
        // migration is checked with `foreign_key_check` before it commits), on again after.
        self.conn.pragma_update(None, "foreign_keys", false)?;
        let r = self.migrate_steps();
        self.conn.pragma_update(None, "foreign_keys", true)?;
        r
    }

    fn migrate_steps(&mut self) -> Result<(), StoreError> {
        loop {
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
            if version == current_version() {
                return Ok(());
            }
            let tx = rusqlite::Transaction::new_unchecked(
                &self.conn,
                rusqlite::TransactionBehavior::Immediate,
            )?;
            let version: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
            if version >= current_version() {
                tx.commit()?;
                continue;
            }
            if version == 0 {
                // A database file that is not ours (tables, but no version) is not silently
                // adopted.
                let tables: i64 = tx.query_row(
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
            let to = version + 1;
            // version < current_version() = MIGRATIONS.len(), so the index is in range.
            tx.execute_batch(MIGRATIONS[version as usize])?;
            // A migration that rebuilds a table other tables refer to (14) runs with foreign
            // keys off (SQLite's procedure for changing a table); they must hold before commit.
            let broken: Option<String> = tx
                .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
                .optional()?;
            if let Some(table) = broken {
                return Err(StoreError::Snapshot(format!(
                    "migration {to} would leave rows of {table} pointing at nothing; the store is unchanged"
                )));
            }
            tx.pragma_update(None, "user_version", to)?;
            tx.commit()?;
            tracing::info!(version = to, "store migrated");
        }
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
        let recent_imports = self.imports(10)?;
        let running = self.imports_in_progress()?;
        Ok(Status {
            path: self.path.display().to_string(),
            schema_version: self.schema_version()?,
            read_only: self.read_only,
            customers: count("SELECT count(*) FROM customers")?,
            products: count("SELECT count(*) FROM products")?,
            agents: count("SELECT count(*) FROM agents")?,
            signals: count("SELECT count(*) FROM signals")?,
            surveys: count("SELECT count(*) FROM surveys")?,
            cases: count("SELECT count(*) FROM cases")?,
            case_events: count("SELECT count(*) FROM case_events")?,
            quarantined: count("SELECT count(*) FROM quarantine WHERE resolved_at IS NULL")?,
            skipped: count("SELECT coalesce(sum(skipped), 0) FROM imports")?,
            imports: count("SELECT count(*) FROM imports")?,
            running_imports: running.len() as i64,
            interrupted_imports: self.interrupted_imports(&running)?,
            demo_data: self.holds_demo_data()?,
            snapshot_fresh: self.snapshot_is_fresh()?,
            recent_imports,
        })
    }

    /// Unfinished imports that are not running and were not completed by a later import of the
    /// same file.
    fn interrupted_imports(&self, running: &[RunningImport]) -> Result<i64, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT i.id FROM imports i WHERE finished_at IS NULL
             AND NOT EXISTS (SELECT 1 FROM imports j WHERE j.fingerprint = i.fingerprint
                             AND j.kind = i.kind AND j.id > i.id AND j.finished_at IS NOT NULL)",
        )?;
        let ids = stmt.query_map([], |r| r.get::<_, i64>(0))?;
        let mut n = 0;
        for id in ids {
            let id = id?;
            if !running.iter().any(|r| r.id == id) {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Imports whose process is running now (on this machine: the process is alive; elsewhere:
    /// a batch was committed in the last five minutes). Analytics read while one runs see a
    /// partial n. A killed import is not running: it is interrupted (see [`Status`]).
    pub fn imports_in_progress(&self) -> Result<Vec<RunningImport>, StoreError> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, kind, file, started_at, read, pid, host, coalesce(heartbeat_at, started_at)
             FROM imports WHERE finished_at IS NULL ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                RunningImport {
                    id: r.get(0)?,
                    kind: r.get(1)?,
                    file: r.get(2)?,
                    started_at: r.get(3)?,
                    read: r.get(4)?,
                },
                r.get::<_, Option<i64>>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, i64>(7)?,
            ))
        })?;
        let mut running = Vec::new();
        for row in rows {
            let (import, pid, host, heartbeat) = row?;
            if import_alive(pid, host.as_deref(), import.started_at, heartbeat) {
                running.push(import);
            }
        }
        Ok(running)
    }

    /// The most recent imports, newest first; `limit` 0 means all.
    pub fn imports(&self, limit: usize) -> Result<Vec<ImportRecord>, StoreError> {
        let limit = if limit == 0 { i64::MAX } else { limit as i64 };
        let running: Vec<i64> = self.imports_in_progress()?.iter().map(|r| r.id).collect();
        let mut stmt = self.conn.prepare(
            "SELECT id, kind, file, started_at, finished_at, read, stored, duplicates, quarantined,
                    skipped, demo
             FROM imports ORDER BY id DESC LIMIT ?1",
        )?;
        let mut reasons = self.conn.prepare(
            "SELECT reason, rows FROM import_skips WHERE import_id = ?1 ORDER BY rows DESC, reason",
        )?;
        let rows = stmt.query_map([limit], |r| {
            let id: i64 = r.get(0)?;
            let finished_at: Option<i64> = r.get(4)?;
            let state = match finished_at {
                Some(_) => "finished",
                None if running.contains(&id) => "running",
                None => "interrupted",
            };
            Ok(ImportRecord {
                id,
                kind: r.get(1)?,
                file: r.get(2)?,
                started_at: r.get(3)?,
                finished_at,
                state: state.into(),
                read: r.get(5)?,
                stored: r.get(6)?,
                duplicates: r.get(7)?,
                quarantined: r.get(8)?,
                skipped: r.get(9)?,
                skipped_reasons: Vec::new(),
                demo: r.get::<_, i64>(10)? == 1,
            })
        })?;
        let mut out = Vec::new();
        for row in rows {
            let mut rec = row?;
            rec.skipped_reasons = reasons
                .query_map([rec.id], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<Result<_, _>>()?;
            out.push(rec);
        }
        Ok(out)
    }

    /// Whether any import came from `hearken demo` (synthetic data).
    pub fn holds_demo_data(&self) -> Result<bool, StoreError> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM imports WHERE demo = 1)",
            [],
            |r| r.get(0),
        )?)
    }

    /// Whether the store holds anything imported other than by `hearken demo`.
    pub fn holds_non_demo_data(&self) -> Result<bool, StoreError> {
        Ok(self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM imports WHERE demo = 0
                            AND (read > 0 OR stored > 0 OR quarantined > 0))",
            [],
            |r| r.get(0),
        )?)
    }

    /// Open quarantine entries, oldest first; `limit` 0 means all.
    pub fn quarantine(&self, limit: usize) -> Result<Vec<QuarantineEntry>, StoreError> {
        self.quarantine_entries(&QuarantineFilter {
            limit,
            ..QuarantineFilter::default()
        })
    }

    /// Quarantine entries: the open ones, all of them (`all`), or every entry of one import
    /// (as many as the rows it reported quarantined). Oldest first.
    pub fn quarantine_entries(
        &self,
        filter: &QuarantineFilter,
    ) -> Result<Vec<QuarantineEntry>, StoreError> {
        if let Some(id) = filter.import {
            self.import_exists(id)?;
        }
        let limit = if filter.limit == 0 {
            i64::MAX
        } else {
            filter.limit as i64
        };
        let mut stmt = self.conn.prepare(
            "SELECT id, import_id, kind, file, line, field, value, reason, raw,
                    coalesce(resolution, 'open'), resolved_at
             FROM quarantine
             WHERE (?1 IS NULL OR import_id = ?1) AND (?2 OR ?1 IS NOT NULL OR resolved_at IS NULL)
             ORDER BY id LIMIT ?3",
        )?;
        let rows = stmt.query_map(rusqlite::params![filter.import, filter.all, limit], |r| {
            Ok(QuarantineEntry {
                id: r.get(0)?,
                import_id: r.get(1)?,
                kind: r.get(2)?,
                file: r.get(3)?,
                line: r.get(4)?,
                field: r.get(5)?,
                value: r.get(6)?,
                reason: r.get(7)?,
                raw: r.get(8)?,
                state: r.get(9)?,
                resolved_at: r.get(10)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn import_exists(&self, id: i64) -> Result<(), StoreError> {
        let exists: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM imports WHERE id = ?1)",
            [id],
            |r| r.get(0),
        )?;
        if exists {
            return Ok(());
        }
        let last: Option<i64> = self
            .conn
            .query_row("SELECT max(id) FROM imports", [], |r| r.get(0))?;
        Err(StoreError::NoSuchImport {
            id,
            known: match last {
                Some(l) => format!("imports are numbered 1 to {l}"),
                None => "the store has no imports yet".into(),
            },
        })
    }

    /// Closes the open quarantine entries (of one import, or all) deliberately, and records who
    /// did it, when and how many. The entries stay, marked `cleared`.
    pub fn clear_quarantine(&self, import: Option<i64>, by: &str) -> Result<Clearing, StoreError> {
        self.writable("clear the quarantine")?;
        if let Some(id) = import {
            self.import_exists(id)?;
        }
        let at = now();
        let tx = rusqlite::Transaction::new_unchecked(
            &self.conn,
            rusqlite::TransactionBehavior::Immediate,
        )?;
        tx.execute(
            "INSERT INTO quarantine_clearings (at, by, import_id, entries) VALUES (?1, ?2, ?3, 0)",
            rusqlite::params![at, by, import],
        )?;
        let id = tx.last_insert_rowid();
        let entries = tx.execute(
            "UPDATE quarantine SET resolved_at = ?1, resolution = 'cleared', resolved_by = ?2
             WHERE resolved_at IS NULL AND (?3 IS NULL OR import_id = ?3)",
            rusqlite::params![at, id, import],
        )? as i64;
        tx.execute(
            "UPDATE quarantine_clearings SET entries = ?1 WHERE id = ?2",
            [entries, id],
        )?;
        tx.commit()?;
        Ok(Clearing {
            id,
            at,
            by: by.to_string(),
            import_id: import,
            entries,
        })
    }

    /// Every clearing of the quarantine, oldest first.
    pub fn clearings(&self) -> Result<Vec<Clearing>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, at, by, import_id, entries FROM quarantine_clearings ORDER BY id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(Clearing {
                id: r.get(0)?,
                at: r.get(1)?,
                by: r.get(2)?,
                import_id: r.get(3)?,
                entries: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// The store's secret for pseudonyms of ids that hold personal data (created on first use),
    /// so the same id gets the same pseudonym in every import into this store.
    pub fn pseudonym_key(&self) -> Result<String, StoreError> {
        self.writable("create a pseudonym key")?;
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u64(now() as u64);
        h.write_u32(std::process::id());
        let mut h2 = std::collections::hash_map::RandomState::new().build_hasher();
        h2.write_u64(h.finish());
        let fresh = format!("{:016x}{:016x}", h.finish(), h2.finish());
        self.conn.execute(
            "INSERT INTO store_meta (key, value) VALUES ('pseudonym_key', ?1) ON CONFLICT (key) DO NOTHING",
            [fresh],
        )?;
        Ok(self.conn.query_row(
            "SELECT value FROM store_meta WHERE key = 'pseudonym_key'",
            [],
            |r| r.get(0),
        )?)
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
        self.writable("save a topic model")?;
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
        self.writable("classify the stored signals")?;
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

/// Plans that do not depend on bound values (SQLite's query planner stability guarantee).
/// Without it SQLite re-prepares a cached statement whenever a value bound to it changes if the
/// planner looked at the value (a partial index's WHERE, a LIMIT): every live-ingestion request
/// re-prepared statements (17% of the server's instructions, measured with callgrind;
/// docs/benchmarks.md).
fn stable_plans(conn: &Connection) -> Result<(), StoreError> {
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    Ok(())
}
