//! A small generated organisation in a fresh store, and SQL on the same file to check answers.

use hearken_ingest::ReadOptions;
use hearken_model::RecordKind;
use hearken_query::QueryError;
use hearken_store::Store;
use rusqlite::Connection;

pub struct Org {
    /// Kept so the store's directory lives as long as the test.
    _dir: tempfile::TempDir,
    pub store: Store,
    pub sql: Connection,
}

/// Generates `customers` customers over `months` months (seed 5), imports every file, gives
/// signal texts a sentiment (a deterministic spread in [-1, 1]; the enrichment pool is the CLI's)
/// and opens a second connection for reference SQL. The columnar snapshot is built by the first
/// query, so rows may be changed through `sql` until then.
pub fn org(customers: u64, months: u32) -> Org {
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    let cfg = hearken_gen::GenConfig {
        customers,
        months,
        seed: 5,
        threads: 1,
        ..hearken_gen::GenConfig::default()
    };
    hearken_gen::generate(&cfg, &data, &|_| {}).expect("generate");
    let db = dir.path().join("q.db");
    let mut store = Store::open(&db).expect("open store");
    for kind in [
        RecordKind::Customers,
        RecordKind::Products,
        RecordKind::Agents,
        RecordKind::Signals,
        RecordKind::Surveys,
        RecordKind::CaseEvents,
    ] {
        let report = store
            .import_file(
                &data.join(kind.file_name()),
                &ReadOptions::new(kind),
                5_000,
                &mut |_| {},
            )
            .expect("import");
        assert_eq!(report.counts.quarantined, 0, "{kind:?} imports cleanly");
    }
    let sql = Connection::open(&db).expect("sql connection");
    sql.execute_batch(
        "UPDATE signals SET sentiment = ((id * 7919) % 2001 - 1000) / 1000.0 WHERE text IS NOT NULL",
    )
    .expect("sentiment");
    Org {
        _dir: dir,
        store,
        sql,
    }
}

impl Org {
    /// One integer from SQL.
    pub fn count(&self, sql: &str) -> u64 {
        self.sql
            .query_row(sql, [], |r| r.get::<_, i64>(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}")) as u64
    }

    /// One integer from SQL with one text parameter.
    pub fn count_with(&self, sql: &str, p: &str) -> u64 {
        self.sql
            .query_row(sql, [p], |r| r.get::<_, i64>(0))
            .unwrap_or_else(|e| panic!("{sql}: {e}")) as u64
    }

    /// A column of texts from SQL.
    pub fn strings(&self, sql: &str) -> Vec<String> {
        let mut stmt = self.sql.prepare(sql).expect("prepare");
        stmt.query_map([], |r| r.get(0))
            .expect("query")
            .map(|r| r.expect("row"))
            .collect()
    }

    /// (text, count) rows from SQL.
    pub fn counts(&self, sql: &str) -> Vec<(String, u64)> {
        let mut stmt = self.sql.prepare(sql).expect("prepare");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? as u64)))
            .expect("query")
            .map(|r| r.expect("row"))
            .collect()
    }

    /// The display name of an entity, as stored.
    pub fn name_of(&self, table: &str, ext_id: &str) -> Option<String> {
        self.sql
            .query_row(
                &format!("SELECT name FROM {table} WHERE ext_id = ?1"),
                [ext_id],
                |r| r.get(0),
            )
            .ok()
            .flatten()
    }

    /// `YYYY-MM-DD` of a Unix time.
    pub fn day(&self, unix: i64) -> String {
        self.sql
            .query_row("SELECT date(?1, 'unixepoch')", [unix], |r| r.get(0))
            .expect("date")
    }
}

/// The error's code, failing the test when the call succeeded.
pub fn code<T: std::fmt::Debug>(r: Result<T, QueryError>) -> (&'static str, String) {
    match r {
        Ok(v) => panic!("expected an error, got {v:?}"),
        Err(e) => (e.code(), e.to_string()),
    }
}

/// The serialised response as JSON.
pub fn json<T: serde::Serialize>(v: &T) -> serde_json::Value {
    serde_json::to_value(v).expect("serialise")
}
