//! `import` into the PostgreSQL store (issue 14) against a real server: the same files imported
//! into SQLite and into PostgreSQL give the same rows in every table (ids included), the same
//! counts per import, the same quarantine; a re-import stores nothing new on both; the frames
//! the analytics read are equal.
//!
//! The server: `HEARKEN_TEST_PG` (see `pg.rs`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hearken_ingest::ReadOptions;
use hearken_model::{Record, RecordKind};
use hearken_store::pg::PgStore;
use hearken_store::{
    FrameSource, ImportCounts, ImportReport, ImportSettings, Location, SignalColumns, Store,
    SurveyColumns, Window, copy_store,
};

use crate::pg::pg_db::test_db;

const KINDS: [RecordKind; 6] = [
    RecordKind::Customers,
    RecordKind::Products,
    RecordKind::Agents,
    RecordKind::Signals,
    RecordKind::Surveys,
    RecordKind::CaseEvents,
];

/// A generated organisation's files, and files that exercise every rule of ADR 0002: rows that
/// cannot be read, the same id with other content (within the file and against a stored row),
/// identical rows without ids repeated within one file, a customer updating a stub, a customer
/// twice in one file.
fn files(dir: &Path) -> Vec<(PathBuf, RecordKind)> {
    let data = dir.join("data");
    let cfg = hearken_gen::GenConfig {
        customers: 150,
        months: 3,
        seed: 11,
        threads: 1,
        ..hearken_gen::GenConfig::default()
    };
    hearken_gen::generate(&cfg, &data, &|_| {}).expect("generate");
    let mut out: Vec<(PathBuf, RecordKind)> = KINDS
        .iter()
        .map(|k| (data.join(k.file_name()), *k))
        .collect();
    let write = |name: &str, body: &str| {
        let p = dir.join(name);
        std::fs::write(&p, body).expect("write");
        p
    };
    out.push((
        write(
            "odd_signals.csv",
            "signal_id,at,channel,kind,customer_id,text\n\
             x1,not a date,email,complaint,C-NEW-1,hi\n\
             x2,2026-01-02T10:00:00Z,email,complaint,C-NEW-1,first\n\
             x2,2026-01-02T10:00:00Z,email,complaint,C-NEW-2,other content\n\
             ,2026-01-03T10:00:00Z,phone,complaint,C-NEW-2,same again\n\
             ,2026-01-03T10:00:00Z,phone,complaint,C-NEW-2,same again\n\
             ,2026-01-03T10:00:00Z,phone,complaint,C-NEW-2,same again\n\
             x3,2026-01-04T10:00:00Z,chat,praise,C-NEW-3,ok\n",
        ),
        RecordKind::Signals,
    ));
    out.push((
        write(
            "odd_signals_later.csv",
            "signal_id,at,channel,kind,customer_id,text\n\
             x3,2026-01-04T10:00:00Z,chat,praise,C-NEW-3,changed\n\
             x1,2026-01-01T10:00:00Z,email,complaint,C-NEW-1,now readable\n",
        ),
        RecordKind::Signals,
    ));
    // Rows that repeat rows more than a chunk (1,024 rows) before them, within one batch when
    // the batch is larger: identical rows without ids (stored again as repeats), the same row
    // with an id (a duplicate), and the same id with other content (quarantined).
    let mut far = String::from("signal_id,at,channel,kind,customer_id,text\n");
    let row = |n: usize, changed: bool| {
        let id = if n.is_multiple_of(2) {
            String::new()
        } else {
            format!("f{n}")
        };
        let text = if changed { "changed" } else { "far text" };
        format!(
            "{id},2026-01-05T10:00:00Z,email,complaint,CF{},{text} {}\n",
            n % 50,
            n % 300
        )
    };
    for n in 0..1_500 {
        far.push_str(&row(n, false));
    }
    for n in 0..1_500 {
        far.push_str(&row(n, n % 2 == 1 && n.is_multiple_of(7)));
    }
    out.push((write("far_signals.csv", &far), RecordKind::Signals));
    out.push((
        write(
            "odd_customers.csv",
            "customer_id,name,segment\n\
             C-NEW-1,Ann,smb\n\
             C-NEW-2,Bob,smb\n\
             C-NEW-2,Bobby,enterprise\n",
        ),
        RecordKind::Customers,
    ));
    out
}

/// The reader options of both imports: with an enrichment (a score from the text's length), so
/// the rows come in chunks of 1,024 as with `hearken import`'s enrichment workers.
fn options(kind: RecordKind) -> ReadOptions {
    let mut opts = ReadOptions::new(kind);
    opts.enrich = Some(hearken_ingest::Enricher(std::sync::Arc::new(
        |r: &mut Record| {
            let len = match r {
                Record::Signal(x) => x.text.as_ref().map(|t| t.as_str().len()),
                Record::CaseEvent(x) => x.text.as_ref().map(|t| t.as_str().len()),
                Record::Survey(x) => x.comment.as_ref().map(|t| t.as_str().len()),
                _ => None,
            };
            hearken_ingest::Enriched {
                sentiment: len.map(|n| (n % 200) as f32 / 100.0 - 1.0),
                language: len.map(|_| "en"),
                redactions: len.map_or(0, |n| (n % 3) as u32),
                topic: None,
                topic_probability: None,
            }
        },
    )));
    opts
}

fn import_sqlite(store: &mut Store, path: &Path, kind: RecordKind, batch: usize) -> ImportReport {
    let settings = ImportSettings {
        batch,
        ..ImportSettings::default()
    };
    store
        .import_file_with(path, &options(kind), &settings, &mut |_| {})
        .expect("import into SQLite")
}

fn import_pg(store: &mut PgStore, path: &Path, kind: RecordKind, batch: usize) -> ImportReport {
    let settings = ImportSettings {
        batch,
        ..ImportSettings::default()
    };
    store
        .import_file_with(path, &options(kind), &settings, &mut |_| {})
        .expect("import into PostgreSQL")
}

/// Every table of an SQLite store as text, rows sorted, with the clock's columns (when an
/// import ran, a quarantine entry was closed) and the process's blanked: the two imports ran
/// at other moments.
pub(crate) fn dump(db: &Path) -> BTreeMap<String, Vec<String>> {
    let conn = rusqlite::Connection::open(db).expect("open");
    conn.execute_batch(
        "UPDATE imports SET started_at = 0, heartbeat_at = 0, pid = 0,
            finished_at = CASE WHEN finished_at IS NULL THEN NULL ELSE 0 END;
         UPDATE quarantine SET resolved_at = CASE WHEN resolved_at IS NULL THEN NULL ELSE 0 END;
         UPDATE ingest_keys SET created_at = 0;",
    )
    .expect("blank the clock");
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

/// The PostgreSQL store copied into a new SQLite file, dumped.
pub(crate) fn dump_pg(url: &str, dir: &Path, name: &str) -> BTreeMap<String, Vec<String>> {
    let file = dir.join(name);
    copy_store(
        &Location::Postgres(url.to_string()),
        &Location::Sqlite(file.clone()),
        &mut |_, _, _| {},
    )
    .expect("copy out of PostgreSQL");
    dump(&file)
}

/// A copy of an SQLite store's file (dumping blanks columns in place).
pub(crate) fn dump_copy(db: &Path, dir: &Path, name: &str) -> BTreeMap<String, Vec<String>> {
    let file = dir.join(name);
    let src = rusqlite::Connection::open(db).expect("open");
    src.execute("VACUUM INTO ?1", [file.to_str().expect("utf-8")])
        .expect("vacuum into");
    dump(&file)
}

pub(crate) fn assert_same(
    lite: &BTreeMap<String, Vec<String>>,
    pg: &BTreeMap<String, Vec<String>>,
) {
    assert_eq!(
        lite.keys().collect::<Vec<_>>(),
        pg.keys().collect::<Vec<_>>()
    );
    for (t, rows) in lite {
        let other = &pg[t];
        if rows != other {
            let only_lite: Vec<&String> = rows.iter().filter(|r| !other.contains(r)).collect();
            let only_pg: Vec<&String> = other.iter().filter(|r| !rows.contains(r)).collect();
            panic!(
                "{t}: {} rows in SQLite, {} in PostgreSQL; only in SQLite (first 3): {:?}; only in PostgreSQL: {:?}",
                rows.len(),
                other.len(),
                &only_lite[..only_lite.len().min(3)],
                &only_pg[..only_pg.len().min(3)]
            );
        }
    }
}

#[test]
fn the_same_files_give_the_same_store_in_postgres() {
    let Some(db) = test_db("import_parity") else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let files = files(dir.path());
    let lite_path = dir.path().join("lite.db");
    let mut lite = Store::open(&lite_path).expect("open");
    let mut pg = PgStore::connect(&db.url).expect("connect");

    // Batches smaller than the files, and not dividing them, so rows cross batches; in
    // PostgreSQL batches of several chunks, so rows are judged against earlier chunks' rows not
    // yet written.
    let batch = 377;
    let mut first = Vec::new();
    for (path, kind) in &files {
        let a = import_sqlite(&mut lite, path, *kind, batch);
        let b = import_pg(&mut pg, path, *kind, 2_500);
        assert!(a.counts.reconciles() && b.counts.reconciles(), "{a:?}");
        assert_eq!(
            (
                a.import_id,
                a.counts,
                a.resolved,
                &a.skipped_reasons,
                &a.error
            ),
            (
                b.import_id,
                b.counts,
                b.resolved,
                &b.skipped_reasons,
                &b.error
            ),
            "{}",
            path.display()
        );
        first.push(a.counts);
    }
    // The odd files did what they are for, on both.
    let odd = &first[6];
    assert_eq!(
        (odd.read, odd.stored, odd.quarantined, odd.duplicates),
        (7, 5, 2, 0),
        "{odd:?}"
    );
    assert_eq!(first[7].quarantined, 1, "x3 with other content");
    let far = &first[8];
    assert_eq!(
        (far.read, far.stored, far.duplicates, far.quarantined),
        (3_000, 2_250, 643, 107),
        "{far:?}"
    );
    assert_eq!(first[9].quarantined, 1, "C-NEW-2 twice in one file");
    assert!(first[3].stored > 300, "{:?}", first[3]);

    let lite_dump = dump_copy(&lite_path, dir.path(), "lite1.db");
    assert!(
        lite_dump["quarantine"].len() >= 4,
        "{:?}",
        lite_dump["quarantine"]
    );
    assert!(lite_dump["survey_aspects"].len() > 100);
    assert_same(&lite_dump, &dump_pg(&db.url, dir.path(), "pg1.db"));

    // Re-importing every file stores nothing new, on both, with the same counts.
    for (path, kind) in &files {
        let a = import_sqlite(&mut lite, path, *kind, batch);
        let b = import_pg(&mut pg, path, *kind, 1_000);
        assert_eq!(a.counts.stored, 0, "{}: {a:?}", path.display());
        assert_eq!(
            (a.import_id, a.counts, a.resolved),
            (b.import_id, b.counts, b.resolved),
            "{}",
            path.display()
        );
    }
    let lite_dump = dump_copy(&lite_path, dir.path(), "lite2.db");
    assert_same(&lite_dump, &dump_pg(&db.url, dir.path(), "pg2.db"));

    // What the analytics read is the same (SQLite's from its snapshot, built now).
    lite.refresh_snapshot(false, &mut |_, _| {})
        .expect("snapshot");
    let from = 1_735_689_600 + 30 * 86_400;
    for window in [
        Window::default(),
        Window {
            from: Some(from),
            to: None,
        },
    ] {
        let l = FrameSource::snapshot_signals(&lite, &window, &SignalColumns::ALL).expect("lite");
        assert!(l.at.len() > 300, "{}", l.at.len());
        assert_eq!(
            format!("{l:?}"),
            format!(
                "{:?}",
                pg.snapshot_signals(&window, &SignalColumns::ALL)
                    .expect("pg")
            ),
            "signals {window:?}"
        );
        assert_eq!(
            format!(
                "{:?}",
                FrameSource::snapshot_surveys(&lite, &window, &SurveyColumns::ALL).expect("lite")
            ),
            format!(
                "{:?}",
                pg.snapshot_surveys(&window, &SurveyColumns::ALL)
                    .expect("pg")
            ),
            "surveys {window:?}"
        );
    }
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
    // `hearken status`: the same counts, and the same slice counts for every data scope.
    let (ls, ps) = (
        FrameSource::status(&lite).expect("lite"),
        FrameSource::status(&pg).expect("pg"),
    );
    let counts = |s: &hearken_store::Status| {
        (
            s.schema_version,
            [
                s.customers,
                s.products,
                s.agents,
                s.signals,
                s.surveys,
                s.cases,
                s.case_events,
                s.quarantined,
                s.skipped,
                s.imports,
                s.interrupted_imports,
            ],
            s.demo_data,
            s.recent_imports
                .iter()
                .map(|i| {
                    (
                        i.id,
                        i.kind.clone(),
                        i.state.clone(),
                        i.read,
                        i.stored,
                        i.skipped,
                    )
                })
                .collect::<Vec<_>>(),
        )
    };
    assert!(ls.signals > 300, "{ls:?}");
    assert_eq!(counts(&ps), counts(&ls));
    let segments: Vec<String> = FrameSource::snapshot_customers(&lite)
        .expect("customers")
        .segments
        .names;
    assert!(segments.len() > 1, "{segments:?}");
    let teams = ["frontline".to_string(), "no such team".to_string()];
    for (seg, team) in [
        (&segments[..], &[][..]),
        (&segments[..1], &teams[..]),
        (&[][..], &teams[..1]),
        (&[][..], &[][..]),
    ] {
        let l = FrameSource::scope_counts(&lite, seg, team).expect("lite");
        assert_eq!(
            FrameSource::scope_counts(&pg, seg, team).expect("pg"),
            l,
            "{seg:?} {team:?}"
        );
    }
    let total = |r: &[ImportCounts]| r.iter().map(|c| c.read).sum::<u64>();
    assert!(total(&first) > 1_000);
}

#[test]
fn a_failed_batch_leaves_nothing_and_a_retry_completes() {
    let Some(db) = test_db("import_retry") else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("s.csv");
    let mut body = String::from("signal_id,at,channel,kind,customer_id,text\n");
    for n in 0..2_500 {
        body.push_str(&format!(
            "s{n},2026-01-0{}T10:00:00Z,email,complaint,C{},text {n}\n",
            1 + n % 9,
            n % 1_300
        ));
    }
    std::fs::write(&path, &body).expect("write");
    let mut pg = PgStore::connect(&db.url).expect("connect");
    // A row the database refuses (a trigger stands in for a server that fails mid-import):
    // the batch holding it is rolled back whole, the batches before it stay.
    let mut admin = postgres::Client::connect(&db.url, postgres::NoTls).expect("admin");
    admin
        .batch_execute(
            "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$
             BEGIN IF NEW.ext_id = 's1500' THEN RAISE EXCEPTION 'refused for the test'; END IF;
             RETURN NEW; END $$;
             CREATE TRIGGER refuse BEFORE INSERT ON signals FOR EACH ROW EXECUTE FUNCTION refuse();",
        )
        .expect("trigger");
    let settings = ImportSettings {
        batch: 1_000,
        ..ImportSettings::default()
    };
    let opts = options(RecordKind::Signals);
    let e = pg
        .import_file_with(&path, &opts, &settings, &mut |_| {})
        .expect_err("refused");
    let text = e.to_string();
    assert!(text.contains("refused for the test"), "{text}");
    let count =
        |c: &mut postgres::Client, sql: &str| -> i64 { c.query_one(sql, &[]).expect(sql).get(0) };
    assert_eq!(count(&mut admin, "SELECT count(*) FROM signals"), 1_000);
    assert_eq!(
        count(&mut admin, "SELECT read FROM imports WHERE id = 1"),
        1_000,
        "the counts committed with their rows"
    );
    assert_eq!(
        count(
            &mut admin,
            "SELECT count(*) FROM imports WHERE finished_at IS NULL"
        ),
        1
    );
    admin
        .batch_execute("DROP TRIGGER refuse ON signals")
        .expect("drop");
    let again = pg
        .import_file_with(&path, &opts, &settings, &mut |_| {})
        .expect("retry");
    assert_eq!(
        (
            again.counts.read,
            again.counts.stored,
            again.counts.duplicates
        ),
        (2_500, 1_500, 1_000)
    );
    // The same rows and ids a clean SQLite import gives.
    let lite_path = dir.path().join("lite.db");
    let mut lite = Store::open(&lite_path).expect("open");
    import_sqlite(&mut lite, &path, RecordKind::Signals, 1_000);
    let signals = |d: &BTreeMap<String, Vec<String>>| -> Vec<String> {
        // Without import_id (the retry's rows are import 2's in PostgreSQL).
        d["signals"]
            .iter()
            .map(|r| {
                let mut f: Vec<&str> = r.split('|').collect();
                f.remove(14);
                f.join("|")
            })
            .collect()
    };
    let lite_dump = dump_copy(&lite_path, dir.path(), "lite.copy.db");
    let pg_dump = dump_pg(&db.url, dir.path(), "pg.copy.db");
    assert_eq!(signals(&lite_dump), signals(&pg_dump));
    assert_eq!(lite_dump["customers"], pg_dump["customers"]);
}

#[test]
fn two_imports_at_once_write_one_batch_at_a_time() {
    let Some(db) = test_db("import_concurrent") else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    // Two files with rows of their own, 500 rows in common (the same content under the same
    // ids) and customers in common: each shared row is stored once, a duplicate in the other.
    let file = |name: &str, prefix: &str, customers: usize| {
        let mut body = String::from("signal_id,at,channel,kind,customer_id,text\n");
        for n in 0..3_000 {
            body.push_str(&format!(
                "{prefix}{n},2026-01-0{}T10:00:00Z,email,complaint,C{},text {n}\n",
                1 + n % 9,
                n % customers
            ));
            if n % 6 == 0 {
                let m = n / 6;
                body.push_str(&format!(
                    "shared{m},2026-01-01T10:00:00Z,chat,praise,C{m},shared {m}\n"
                ));
            }
        }
        let p = dir.path().join(name);
        std::fs::write(&p, body).expect("write");
        p
    };
    let (a, b) = (file("a.csv", "a", 500), file("b.csv", "b", 700));
    PgStore::connect(&db.url).expect("schema");
    let reports: Vec<ImportReport> = std::thread::scope(|s| {
        let run = |path: &Path| {
            let url = db.url.clone();
            let path = path.to_path_buf();
            s.spawn(move || {
                let mut pg = PgStore::connect(&url).expect("connect");
                import_pg(&mut pg, &path, RecordKind::Signals, 100)
            })
        };
        let (x, y) = (run(&a), run(&b));
        vec![x.join().expect("a"), y.join().expect("b")]
    });
    let stored: u64 = reports.iter().map(|r| r.counts.stored).sum();
    let duplicates: u64 = reports.iter().map(|r| r.counts.duplicates).sum();
    assert_eq!((stored, duplicates), (6_500, 500), "{reports:?}");
    let mut c = postgres::Client::connect(&db.url, postgres::NoTls).expect("client");
    let one =
        |c: &mut postgres::Client, sql: &str| -> i64 { c.query_one(sql, &[]).expect(sql).get(0) };
    assert_eq!(one(&mut c, "SELECT count(*) FROM signals"), 6_500);
    assert_eq!(one(&mut c, "SELECT max(id) FROM signals"), 6_500, "no gaps");
    assert_eq!(one(&mut c, "SELECT count(*) FROM customers"), 700);
    assert_eq!(one(&mut c, "SELECT max(id) FROM customers"), 700, "no gaps");
    assert_eq!(
        one(&mut c, "SELECT sum(read)::bigint FROM imports")
            - one(
                &mut c,
                "SELECT sum(stored + duplicates)::bigint FROM imports"
            ),
        0
    );
}
