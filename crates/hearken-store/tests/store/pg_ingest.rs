//! Live ingestion into the PostgreSQL store (issue 14) against a real server: the same groups of
//! batches give the same results and the same rows in every table as in SQLite (ids, imports,
//! quarantine, idempotency keys); two writers on one database at once store every row once and
//! replay a key used at both.
//!
//! The server: `HEARKEN_TEST_PG` (see `pg.rs`).

use hearken_model::RecordKind;
use hearken_store::pg::PgStore;
use hearken_store::{IngestBatch, IngestFailure, IngestReport, IngestSettings, Store};

use crate::ingest::{CASE_EVENTS, SIGNALS, SURVEYS, batch, signals_body};
use crate::pg::pg_db::test_db;
use crate::pg_import::{assert_same, dump_copy, dump_pg};

/// Groups of batches covering every outcome: stored, duplicates within a body and against the
/// store, quarantined rows (reported by index), a conflicting id, three kinds and two senders,
/// an idempotency key used, replayed and reused for other rows, an entry settled by the row
/// sent again correctly, and a group of many small batches.
fn script() -> Vec<Vec<IngestBatch>> {
    let signals =
        |body: &str, who: &str, key: Option<&str>| batch(RecordKind::Signals, body, who, key);
    vec![
        vec![signals(SIGNALS, "zendesk", None)],
        vec![
            batch(RecordKind::Surveys, SURVEYS, "qualtrics", Some("k1")),
            batch(RecordKind::CaseEvents, CASE_EVENTS, "crm", None),
        ],
        vec![
            signals(SIGNALS, "zendesk", None),
            batch(RecordKind::Surveys, SURVEYS, "qualtrics", Some("k1")),
            batch(
                RecordKind::Surveys,
                "{\"at\": \"2024-03-10\", \"nps\": 3}",
                "qualtrics",
                Some("k1"),
            ),
            signals(
                r#"{"signal_id": "X2", "at": "never", "channel": "web", "kind": "other"}"#,
                "zendesk",
                None,
            ),
        ],
        vec![signals(
            r#"[{"signal_id": "X2", "at": "2024-01-01", "channel": "web", "kind": "other"},
                {"signal_id": "X3", "at": "2024-01-02", "channel": "web", "kind": "other"}]"#,
            "zendesk",
            Some("fix"),
        )],
        (0..12)
            .map(|i| signals(&signals_body(&format!("G{}", i % 5), 3 + i), "bulk", None))
            .collect(),
    ]
}

/// A result as text: the report's JSON, or the refusal's message.
fn text(r: &Result<IngestReport, IngestFailure>) -> String {
    match r {
        Ok(report) => serde_json::to_string(report).expect("json"),
        Err(e) => format!("refused: {e}"),
    }
}

#[test]
fn the_same_batches_give_the_same_results_and_rows_as_sqlite() {
    let Some(db) = test_db("pg_ingest_parity") else {
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let lite_path = dir.path().join("lite.db");
    let mut lite = Store::open(&lite_path).expect("sqlite");
    let mut pg = PgStore::connect(&db.url).expect("postgres");
    let settings = IngestSettings::default();
    let mut results = 0;
    for (a, b) in script().into_iter().zip(script()) {
        let from_lite: Vec<String> = lite.ingest_many(a, &settings).iter().map(text).collect();
        let from_pg: Vec<String> = pg.ingest_many(b, &settings).iter().map(text).collect();
        assert_eq!(from_lite, from_pg);
        results += from_pg.len();
    }
    assert_eq!(results, 20);
    // The script reaches every outcome (else the comparison above proves less than it says).
    let all: Vec<String> = script()
        .into_iter()
        .flat_map(|g| {
            PgStore::connect(&db.url)
                .expect("connect")
                .ingest_many(g, &settings)
        })
        .map(|r| text(&r))
        .collect();
    assert!(
        all.iter().any(|t| t.contains("\"replayed\":true")),
        "{all:?}"
    );
    assert!(
        all.iter()
            .any(|t| t.starts_with("refused: idempotency key 'k1'"))
    );
    drop(lite);
    let lite = dump_copy(&lite_path, dir.path(), "lite-copy.db");
    // The second run added only duplicates and replays to PostgreSQL: run it on SQLite too.
    let mut again = Store::open(&lite_path).expect("sqlite");
    for g in script() {
        again.ingest_many(g, &settings);
    }
    drop(again);
    let lite_twice = dump_copy(&lite_path, dir.path(), "lite-twice.db");
    assert_ne!(lite, lite_twice, "the second run counted its duplicates");
    assert_same(&lite_twice, &dump_pg(&db.url, dir.path(), "pg.db"));
    let quarantined = &lite_twice["quarantine"];
    assert!(
        quarantined.iter().any(|r| r.contains("\"stored\"")),
        "an entry was settled: {quarantined:?}"
    );
}

#[test]
fn two_writers_at_once_store_every_row_once() {
    let Some(db) = test_db("pg_ingest_two_writers") else {
        return;
    };
    const GROUPS: usize = 25;
    let writer = |me: usize| {
        let url = db.url.clone();
        std::thread::spawn(move || {
            let mut pg = PgStore::connect(&url).expect("connect");
            let settings = IngestSettings::default();
            let mut out = Vec::new();
            for g in 0..GROUPS {
                let group = vec![
                    // Rows only this writer sends.
                    batch(
                        RecordKind::Signals,
                        &signals_body(&format!("W{me}-{g}"), 4),
                        &format!("writer{me}"),
                        None,
                    ),
                    // The same rows sent to both.
                    batch(
                        RecordKind::Signals,
                        &signals_body(&format!("S-{g}"), 3),
                        &format!("writer{me}"),
                        None,
                    ),
                    // The same request with the same key at both: stored once, replayed once.
                    batch(
                        RecordKind::Signals,
                        &signals_body(&format!("K-{g}"), 2),
                        "both-writers",
                        Some(&format!("key-{g}")),
                    ),
                ];
                out.push(pg.ingest_many(group, &settings));
            }
            out
        })
    };
    let (a, b) = (writer(0), writer(1));
    let results: Vec<Vec<Result<IngestReport, IngestFailure>>> = a
        .join()
        .expect("writer 0")
        .into_iter()
        .chain(b.join().expect("writer 1"))
        .collect();
    let mut stored = [0u64; 3];
    let mut replayed = 0;
    for group in &results {
        for (i, r) in group.iter().enumerate() {
            let r = r.as_ref().expect("every batch is written");
            assert!(r.counts.reconciles());
            if r.replayed {
                replayed += 1;
            } else {
                stored[i] += r.counts.stored;
            }
        }
    }
    assert_eq!(
        stored,
        [2 * GROUPS as u64 * 4, GROUPS as u64 * 3, GROUPS as u64 * 2]
    );
    assert_eq!(replayed, GROUPS);
    let mut c = postgres::Client::connect(&db.url, postgres::NoTls).expect("connect");
    let one =
        |c: &mut postgres::Client, sql: &str| -> i64 { c.query_one(sql, &[]).expect(sql).get(0) };
    let signals = one(&mut c, "SELECT count(*) FROM signals");
    assert_eq!(signals as u64, stored.iter().sum::<u64>());
    assert_eq!(
        one(&mut c, "SELECT count(DISTINCT ext_id) FROM signals"),
        signals
    );
    assert_eq!(
        one(&mut c, "SELECT max(id) FROM signals"),
        signals,
        "ids as SQLite gives them"
    );
    assert_eq!(
        one(&mut c, "SELECT sum(stored)::bigint FROM imports"),
        signals
    );
    assert_eq!(
        one(
            &mut c,
            "SELECT count(*) FROM imports WHERE read <> stored + duplicates + quarantined + skipped"
        ),
        0
    );
    assert_eq!(
        one(&mut c, "SELECT count(*) FROM ingest_keys"),
        GROUPS as i64
    );
}
