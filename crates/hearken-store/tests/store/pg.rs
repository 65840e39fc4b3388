//! The PostgreSQL store (feature `postgres`) against a real server: the schema from the same
//! migrations, `copy_store` both ways exactly, refusals with clear messages, and the frames the
//! analytics read equal to the SQLite snapshot's on the same rows.
//!
//! The server: `HEARKEN_TEST_PG`, a URL of a database on a cluster where the user may create
//! databases (`tools/pg/cluster.sh start DIR` prints one; .ci/run starts it). Each test creates
//! its own database and drops it at the end. Without the variable the tests fail where
//! `HEARKEN_REQUIRE_PG=1` (CI), and skip with a printed reason elsewhere.

use std::collections::BTreeMap;
use std::path::Path;

use hearken_ingest::ReadOptions;
use hearken_model::RecordKind;
use hearken_store::pg::PgStore;

#[path = "../pg_db.rs"]
pub(crate) mod pg_db;
use hearken_store::{
    FrameSource, Location, NewToken, Role, Scope, SignalColumns, Store, StoreError, SurveyColumns,
    Window, copy_store, current_version,
};
use pg_db::test_db;

/// A small generated organisation imported into a new SQLite store, with a token, a topic
/// generation and the snapshot built (so BLOBs, REALs, NULLs and every kind of row exist).
fn org(dir: &Path) -> std::path::PathBuf {
    let data = dir.join("data");
    let cfg = hearken_gen::GenConfig {
        customers: 150,
        months: 3,
        seed: 7,
        threads: 1,
        ..hearken_gen::GenConfig::default()
    };
    hearken_gen::generate(&cfg, &data, &|_| {}).expect("generate");
    let db = dir.join("a.db");
    let mut store = Store::open(&db).expect("open");
    for kind in [
        RecordKind::Customers,
        RecordKind::Products,
        RecordKind::Agents,
        RecordKind::Signals,
        RecordKind::Surveys,
        RecordKind::CaseEvents,
    ] {
        store
            .import_file(
                &data.join(kind.file_name()),
                &ReadOptions::new(kind),
                500,
                &mut |_| {},
            )
            .expect("import");
    }
    // A row with a quarantined line, so the quarantine table is copied too.
    let bad = dir.join("bad.csv");
    std::fs::write(
        &bad,
        "signal_id,at,channel,kind,text\nx1,not a date,email,complaint,hi\n",
    )
    .expect("write");
    store
        .import_file(
            &bad,
            &ReadOptions::new(RecordKind::Signals),
            500,
            &mut |_| {},
        )
        .expect("import bad");
    store
        .create_token(&NewToken {
            name: "ann".into(),
            role: Role::Analyst,
            scope: Scope::default(),
        })
        .expect("token");
    let conn = rusqlite::Connection::open(&db).expect("sql");
    conn.execute_batch(
        "UPDATE signals SET sentiment = ((id * 7919) % 2001 - 1000) / 1000.0 WHERE text IS NOT NULL",
    )
    .expect("sentiment");
    store
        .refresh_snapshot(false, &mut |_, _| {})
        .expect("snapshot");
    db
}

/// Every table of an SQLite store as text, rows sorted: what "the same store" means here.
fn dump(db: &Path) -> BTreeMap<String, Vec<String>> {
    let conn = rusqlite::Connection::open(db).expect("open");
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .expect("tables")
        .query_map([], |r| r.get(0))
        .expect("tables")
        .collect::<Result<_, _>>()
        .expect("tables");
    let mut out = BTreeMap::new();
    for t in tables {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM \"{t}\""))
            .expect("select");
        let n = stmt.column_count();
        let mut rows: Vec<String> = stmt
            .query_map([], |r| {
                Ok((0..n)
                    .map(|i| format!("{:?}", r.get::<_, rusqlite::types::Value>(i)))
                    .collect::<Vec<_>>()
                    .join("|"))
            })
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("rows");
        rows.sort();
        out.insert(t, rows);
    }
    out
}

#[test]
fn the_schema_is_the_same_migrations_in_postgres() {
    let Some(db) = test_db("schema") else { return };
    let pg = PgStore::connect(&db.url).expect("connect");
    assert_eq!(pg.schema_version().expect("version"), current_version());
    // A second process on the same database finds the schema done.
    let again = PgStore::connect(&db.url).expect("reconnect");
    assert_eq!(again.schema_version().expect("version"), current_version());

    // The same tables and columns, in the same order, as SQLite's.
    let dir = tempfile::tempdir().expect("dir");
    let sqlite = rusqlite::Connection::open(dir.path().join("s.db")).expect("sqlite");
    drop(Store::open(&dir.path().join("s.db")).expect("store"));
    let mut lite: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let tables: Vec<String> = sqlite
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
        .expect("tables")
        .query_map([], |r| r.get(0))
        .expect("tables")
        .collect::<Result<_, _>>()
        .expect("tables");
    for t in tables {
        let cols: Vec<String> = sqlite
            .prepare(&format!("PRAGMA table_info(\"{t}\")"))
            .expect("info")
            .query_map([], |r| r.get(1))
            .expect("info")
            .collect::<Result<_, _>>()
            .expect("info");
        lite.insert(t, cols);
    }
    let mut client = postgres::Client::connect(&db.url, postgres::NoTls).expect("client");
    let mut pgt: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for r in client
        .query(
            "SELECT table_name::text, column_name::text FROM information_schema.columns
             WHERE table_schema = 'public' AND table_name <> 'hearken_schema'
             ORDER BY table_name, ordinal_position",
            &[],
        )
        .expect("columns")
    {
        pgt.entry(r.get(0)).or_default().push(r.get(1));
    }
    assert_eq!(pgt, lite);

    // The same foreign keys: a table rebuilt by a migration (notifications, migration 14) is
    // still pointed at by the tables that pointed at the old one.
    let mut lite_fks: Vec<(String, String, String)> = Vec::new();
    for t in lite.keys() {
        let mut stmt = sqlite
            .prepare(&format!("PRAGMA foreign_key_list(\"{t}\")"))
            .expect("fks");
        let rows = stmt
            .query_map([], |r| {
                Ok((t.clone(), r.get::<_, String>(3)?, r.get::<_, String>(2)?))
            })
            .expect("fks");
        for r in rows {
            lite_fks.push(r.expect("fk"));
        }
    }
    lite_fks.sort();
    let mut pg_fks: Vec<(String, String, String)> = client
        .query(
            "SELECT c.conrelid::regclass::text, a.attname::text, c.confrelid::regclass::text
             FROM pg_constraint c
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
             WHERE c.contype = 'f'",
            &[],
        )
        .expect("fks")
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    pg_fks.sort();
    assert_eq!(pg_fks, lite_fks);
    assert!(
        pg_fks.contains(&(
            "outbox".into(),
            "notification_id".into(),
            "notifications".into()
        )),
        "{pg_fks:?}"
    );

    // A database with other tables is not adopted.
    let Some(other) = test_db("schema_other") else {
        return;
    };
    postgres::Client::connect(&other.url, postgres::NoTls)
        .and_then(|mut c| c.batch_execute("CREATE TABLE t (x int)"))
        .expect("other table");
    let e = PgStore::connect(&other.url).expect_err("refused");
    assert!(matches!(e, StoreError::NotAStore { .. }), "{e}");
    assert!(e.to_string().contains("name an empty database"), "{e}");

    // A database written by a newer hearken is refused, not downgraded.
    client
        .execute("UPDATE hearken_schema SET version = version + 1", &[])
        .expect("bump");
    match PgStore::connect(&db.url) {
        Err(StoreError::TooNew { found, known, .. }) => {
            assert_eq!((found, known), (current_version() + 1, current_version()))
        }
        other => panic!("expected TooNew, got {other:?}"),
    }
}

#[test]
fn a_store_copied_to_postgres_and_back_is_the_same_store() {
    let Some(db) = test_db("roundtrip") else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let a = org(dir.path());
    let pg = Location::Postgres(db.url.clone());
    let mut seen: Vec<String> = Vec::new();
    let there = copy_store(&Location::Sqlite(a.clone()), &pg, &mut |t, done, total| {
        assert!(done <= total, "{t}: {done} of {total}");
        if seen.last().map(String::as_str) != Some(t) {
            seen.push(t.to_string());
        }
    })
    .expect("copy to postgres");
    assert!(there.rows > 1_500, "{there:?}");
    assert!(seen.iter().any(|t| t == "signals") && seen.iter().any(|t| t == "snapshot_chunks"));
    // Every table with rows in SQLite has as many in PostgreSQL, counted independently.
    let mut client = postgres::Client::connect(&db.url, postgres::NoTls).expect("client");
    let lite = dump(&a);
    for t in &there.tables {
        let n: i64 = client
            .query_one(&format!("SELECT count(*) FROM \"{}\"", t.table), &[])
            .expect("count")
            .get(0);
        assert_eq!(n as usize, lite[&t.table].len(), "{}", t.table);
        assert_eq!(n as u64, t.rows, "{}", t.table);
    }
    assert_eq!(there.tables.len(), lite.len());

    // Back into a new SQLite file: every row of every table as it was.
    let b = dir.path().join("b.db");
    let back = copy_store(&pg, &Location::Sqlite(b.clone()), &mut |_, _, _| {}).expect("copy back");
    assert_eq!(
        back.tables, there.tables,
        "the same rows and checksums both ways"
    );
    assert_eq!(dump(&b), lite);

    // Ids continue after the copied ones in PostgreSQL (a new row does not collide).
    client
        .execute(
            "INSERT INTO imports (kind, file, fingerprint, started_at) VALUES ('signals', 'f', 'x', 0)",
            &[],
        )
        .expect("a new row takes the next id");

    // A target with rows is refused, naming what it holds; the source is left as it was.
    let e = copy_store(&Location::Sqlite(a.clone()), &pg, &mut |_, _, _| {}).expect_err("refused");
    let text = e.to_string();
    assert!(
        text.contains("is not empty") && text.contains("signals ("),
        "{text}"
    );
    assert!(!text.contains("password"), "{text}");
    let e = copy_store(&pg, &Location::Sqlite(b.clone()), &mut |_, _, _| {}).expect_err("refused");
    assert!(e.to_string().contains("is not empty"), "{e}");
    let e = copy_store(
        &Location::Sqlite(a.clone()),
        &Location::Sqlite(a.clone()),
        &mut |_, _, _| {},
    )
    .expect_err("same");
    assert!(e.to_string().contains("both name"), "{e}");
    let e = copy_store(
        &Location::Sqlite(dir.path().join("nothing.db")),
        &Location::Sqlite(dir.path().join("c.db")),
        &mut |_, _, _| {},
    )
    .expect_err("missing source");
    assert!(matches!(e, StoreError::Missing { .. }), "{e}");
    assert_eq!(dump(&a), lite);
}

#[test]
fn postgres_frames_equal_the_sqlite_snapshot() {
    let Some(db) = test_db("frames") else { return };
    let dir = tempfile::tempdir().expect("dir");
    let a = org(dir.path());
    copy_store(
        &Location::Sqlite(a.clone()),
        &Location::Postgres(db.url.clone()),
        &mut |_, _, _| {},
    )
    .expect("copy");
    let lite = Store::open(&a).expect("open");
    let pg = PgStore::connect(&db.url).expect("connect");
    assert!(FrameSource::snapshot_is_fresh(&lite).expect("fresh"));
    // The generator's months start on 2025-01-01.
    let (from, to) = (1_735_689_600 + 30 * 86_400, 1_735_689_600 + 60 * 86_400);
    let some = SignalColumns {
        topic: true,
        customer: true,
        ..SignalColumns::default()
    };
    // No string column: only the window's rows travel from PostgreSQL.
    let uncoded = SignalColumns {
        customer: true,
        channel: true,
        sentiment: true,
        at: true,
        ..SignalColumns::default()
    };
    let few_answers = SurveyColumns {
        nps: true,
        customer: true,
        ..SurveyColumns::default()
    };
    for window in [
        Window::default(),
        Window {
            from: Some(from),
            to: None,
        },
        Window {
            from: Some(from),
            to: Some(to),
        },
    ] {
        for cols in [SignalColumns::ALL, some, uncoded] {
            let l = format!(
                "{:?}",
                FrameSource::snapshot_signals(&lite, &window, &cols).expect("lite")
            );
            let p = format!("{:?}", pg.snapshot_signals(&window, &cols).expect("pg"));
            assert_eq!(l, p, "signals {window:?} {cols:?}");
        }
        for cols in [SurveyColumns::ALL, few_answers] {
            let l = format!(
                "{:?}",
                FrameSource::snapshot_surveys(&lite, &window, &cols).expect("lite")
            );
            let p = format!("{:?}", pg.snapshot_surveys(&window, &cols).expect("pg"));
            assert_eq!(l, p, "surveys {window:?} {cols:?}");
        }
    }
    let f =
        FrameSource::snapshot_signals(&lite, &Window::default(), &SignalColumns::ALL).expect("f");
    assert!(
        f.at.len() > 400 && !f.topics.names.is_empty() && !f.stages.names.is_empty(),
        "a real frame: {} signals, topics {:?}, stages {:?}",
        f.at.len(),
        f.topics.names,
        f.stages.names
    );
    assert_eq!(
        format!(
            "{:?}",
            FrameSource::snapshot_customers(&lite).expect("lite")
        ),
        format!("{:?}", pg.snapshot_customers().expect("pg"))
    );
    assert_eq!(
        format!("{:?}", FrameSource::snapshot_agents(&lite).expect("lite")),
        format!("{:?}", pg.snapshot_agents().expect("pg"))
    );
    assert_eq!(
        format!(
            "{:?}",
            FrameSource::snapshot_case_kpis(&lite).expect("lite")
        ),
        format!("{:?}", pg.snapshot_case_kpis().expect("pg"))
    );
    let named: Vec<String> = rusqlite::Connection::open(&a)
        .expect("sql")
        .prepare("SELECT ext_id FROM customers WHERE name IS NOT NULL ORDER BY id LIMIT 2")
        .expect("named")
        .query_map([], |r| r.get(0))
        .expect("named")
        .collect::<Result<_, _>>()
        .expect("named");
    assert_eq!(named.len(), 2, "the generator names customers");
    let ids = [named[0].as_str(), "nobody", named[1].as_str()];
    assert_eq!(
        FrameSource::display_names(&lite, hearken_store::Entity::Customer, &ids).expect("lite"),
        pg.display_names(hearken_store::Entity::Customer, &ids)
            .expect("pg")
    );
    assert_eq!(
        FrameSource::signal_briefs(&lite, &[3, 1, 999_999, 3]).expect("lite"),
        pg.signal_briefs(&[3, 1, 999_999, 3]).expect("pg")
    );
}

#[test]
fn a_copy_that_fails_leaves_the_target_empty_and_says_where() {
    let Some(db) = test_db("failed_copy") else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let a = org(dir.path());
    // A value SQLite accepted in an INTEGER column (it does not enforce types) that no
    // PostgreSQL BIGINT can hold: the copy stops at it rather than guessing.
    rusqlite::Connection::open(&a)
        .and_then(|c| c.execute("UPDATE signals SET at = 'soon' WHERE id = 7", []))
        .expect("corrupt one value");
    let pg = Location::Postgres(db.url.clone());
    let e = copy_store(&Location::Sqlite(a.clone()), &pg, &mut |_, _, _| {}).expect_err("refused");
    let text = e.to_string();
    assert!(
        text.contains("of signals: column at holds text where the schema says Int"),
        "{text}"
    );
    // Tables copied before signals were rolled back with it: the target holds nothing, so the
    // copy can be run again once the source is repaired.
    let mut client = postgres::Client::connect(&db.url, postgres::NoTls).expect("client");
    for table in ["customers", "imports", "products", "cases", "signals"] {
        let n: i64 = client
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .expect("count")
            .get(0);
        assert_eq!(n, 0, "{table}");
    }
    rusqlite::Connection::open(&a)
        .and_then(|c| c.execute("UPDATE signals SET at = 1735700000 WHERE id = 7", []))
        .expect("repair");
    let report = copy_store(&Location::Sqlite(a), &pg, &mut |_, _, _| {}).expect("copy again");
    assert!(report.rows > 1_500);
}
