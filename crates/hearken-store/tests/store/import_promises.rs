//! The import's promises on real files: every row read is stored, a duplicate, quarantined or
//! skipped; an import's quarantine entries are exactly as many as it reports, never shared or
//! overwritten, and are closed (stored later, superseded, cleared) rather than lost; the store
//! opens as people really use it (missing, read-only, two processes at once, during an import).

use std::path::{Path, PathBuf};

use hearken_ingest::ReadOptions;
use hearken_model::RecordKind;
use hearken_store::{
    ImportReport, ImportSettings, QuarantineFilter, Store, StoreError, Window, current_version,
};
use proptest::prelude::*;

fn write(dir: &Path, name: &str, body: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, body).expect("write");
    path
}

fn import_bytes(store: &mut Store, dir: &Path, name: &str, body: &[u8]) -> ImportReport {
    let path = write(dir, name, body);
    store
        .import_file(
            &path,
            &ReadOptions::new(RecordKind::Signals),
            7,
            &mut |_| {},
        )
        .expect("import")
}

fn entries(store: &Store, import: Option<i64>, all: bool) -> Vec<hearken_store::QuarantineEntry> {
    store
        .quarantine_entries(&QuarantineFilter {
            import,
            all,
            limit: 0,
        })
        .expect("entries")
}

fn scalar(store: &Store, sql: &str) -> i64 {
    store.scalar(sql).expect("query").unwrap_or(0)
}

/// Everything the store keeps that can hold a row's text: stored texts and ids, and the
/// quarantine's raw rows and values.
fn kept_text(store: &Store, path: &Path) -> String {
    let _ = store;
    let conn = rusqlite::Connection::open(path).expect("open");
    let mut out = String::new();
    for sql in [
        "SELECT coalesce(ext_id, '') || ' ' || coalesce(text, '') FROM signals",
        "SELECT coalesce(raw, '') || ' ' || coalesce(value, '') FROM quarantine",
    ] {
        let mut stmt = conn.prepare(sql).expect("prepare");
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .expect("query");
        for r in rows {
            out.push_str(&r.expect("row"));
            out.push('\n');
        }
    }
    out
}

const HEADER: &str = "signal_id,at,channel,kind,customer_id,text\n";

fn valid_file(rows: usize) -> String {
    let mut s = String::from(HEADER);
    for i in 0..rows {
        s.push_str(&format!(
            "S{i},2024-03-{:02}T10:00:00Z,email,complaint,C{},the invoice m{i}q was wrong\n",
            1 + i % 28,
            i % 5
        ));
    }
    s
}

/// Bytes that break real files: line endings, quotes, delimiters, a NUL, invalid UTF-8.
fn corruption() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\"".to_vec()),
        Just(b"\"\"".to_vec()),
        Just(b",".to_vec()),
        Just(b";".to_vec()),
        Just(b"\t".to_vec()),
        Just(b"\0".to_vec()),
        Just(vec![0xE9]),
        any::<u8>().prop_map(|b| vec![b]),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Random corruption inserted into a valid file: the counts reconcile, the entries of the
    /// import are exactly the rows it reports quarantined (all open in a fresh store), every
    /// row's content that survives in the file is kept somewhere (a stored row or a quarantine
    /// entry), and importing the same file again leaves as many open entries as it reports.
    #[test]
    fn every_row_of_a_corrupted_file_is_accounted_for(
        rows in 3usize..30,
        damage in proptest::collection::vec((0.0f64..1.0, corruption()), 1..16),
    ) {
        let dir = tempfile::tempdir().expect("dir");
        let db = dir.path().join("h.db");
        let mut store = Store::open(&db).expect("open");
        let mut body = valid_file(rows).into_bytes();
        for (at, bytes) in &damage {
            // Damage the data rows, not the header (a broken header fails the whole file, which
            // is tested elsewhere).
            let pos = HEADER.len() + ((body.len() - HEADER.len()) as f64 * at) as usize;
            let pos = pos.min(body.len());
            body.splice(pos..pos, bytes.iter().copied());
        }
        // A file that is not UTF-8 near its start is refused whole, with the encoding to name
        // (nothing is read, so nothing is lost); later bad bytes quarantine their rows.
        let path = write(dir.path(), "broken.csv", &body);
        let r = match store.import_file(&path, &ReadOptions::new(RecordKind::Signals), 7, &mut |_| {}) {
            Err(StoreError::Ingest(hearken_ingest::IngestError::NotUtf8 { .. })) => {
                prop_assert!(std::str::from_utf8(&body).is_err());
                prop_assert_eq!(scalar(&store, "SELECT count(*) FROM imports"), 0);
                return Ok(());
            }
            other => other.expect("import"),
        };
        let c = r.counts;
        prop_assert!(c.reconciles(), "{c:?}");
        prop_assert_eq!(c.skipped, 0);
        prop_assert_eq!(entries(&store, Some(r.import_id), false).len() as u64, c.quarantined);
        prop_assert_eq!(entries(&store, None, false).len() as u64, c.quarantined);
        prop_assert_eq!(store.status().expect("status").quarantined as u64, c.quarantined);
        prop_assert_eq!(scalar(&store, "SELECT count(*) FROM signals") as u64, c.stored);
        let recorded = scalar(&store, &format!(
            "SELECT read - stored - duplicates - quarantined - skipped FROM imports WHERE id = {}",
            r.import_id
        ));
        prop_assert_eq!(recorded, 0);
        let kept = kept_text(&store, &db);
        for i in 0..rows {
            let marker = format!("m{i}q");
            if body.windows(marker.len()).any(|w| w == marker.as_bytes()) {
                prop_assert!(kept.contains(&marker), "row {} ({}) is nowhere in the store", i, marker);
            }
        }
        let again = import_bytes(&mut store, dir.path(), "broken.csv", &body);
        prop_assert_eq!(again.counts.quarantined, c.quarantined);
        prop_assert_eq!(entries(&store, Some(again.import_id), false).len() as u64, again.counts.quarantined);
        prop_assert_eq!(entries(&store, None, false).len() as u64, again.counts.quarantined);
        prop_assert_eq!(entries(&store, Some(r.import_id), false).len() as u64, c.quarantined,
            "the first import's entries are still listed, closed");
    }
}

#[test]
fn fragments_of_a_split_row_get_an_entry_each() {
    // A file whose lines end with a bare CR, with a CR inside a row as well: the two fragments of
    // that row are two rows of the file, each quarantined with its own entry.
    let dir = tempfile::tempdir().expect("dir");
    let mut store = Store::open(&dir.path().join("h.db")).expect("open");
    let body = "signal_id,at,channel,kind,customer_id,text\rS1,2024-01-01,email,complaint,C1,ok\rS2,2024-01-01,email\rcomplaint,C2,split\rS3,2024-01-01,email,complaint,C3,ok\r";
    let r = import_bytes(&mut store, dir.path(), "mac.csv", body.as_bytes());
    assert_eq!((r.counts.stored, r.counts.quarantined), (2, 2), "{r:?}");
    let q = entries(&store, Some(r.import_id), false);
    assert_eq!(q.len(), 2);
    assert_eq!((q[0].line, q[1].line), (3, 4));
}

#[test]
fn a_row_that_later_imports_correctly_closes_its_entry() {
    let dir = tempfile::tempdir().expect("dir");
    let mut store = Store::open(&dir.path().join("h.db")).expect("open");
    let first = import_bytes(
        &mut store,
        dir.path(),
        "a.csv",
        b"signal_id,at,channel,kind\nS1,yesterday,email,complaint\nS2,2024-01-01,email,complaint\nS3,2024-01-01,pigeon,complaint\n",
    );
    assert_eq!(first.counts.quarantined, 2);
    let fixed = import_bytes(
        &mut store,
        dir.path(),
        "fixed.csv",
        b"signal_id,at,channel,kind\nS1,2024-01-02,email,complaint\n",
    );
    assert_eq!(fixed.resolved, 1, "{fixed:?}");
    let open = entries(&store, None, false);
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].value.as_deref(), Some("pigeon"));
    // The first import still lists both of its rows, one closed as stored.
    let all = entries(&store, Some(first.import_id), false);
    let states: Vec<&str> = all.iter().map(|e| e.state.as_str()).collect();
    assert_eq!(states, ["stored", "open"]);
    // Importing a file with the same id and other content does not close a conflict entry.
    let conflict = import_bytes(
        &mut store,
        dir.path(),
        "c.csv",
        b"signal_id,at,channel,kind\nS2,2024-05-05,phone,question\n",
    );
    assert_eq!(conflict.counts.quarantined, 1);
    import_bytes(
        &mut store,
        dir.path(),
        "d.csv",
        b"signal_id,at,channel,kind\nS9,2024-05-05,phone,question\n",
    );
    assert_eq!(
        entries(&store, Some(conflict.import_id), false)[0].state,
        "open"
    );
}

#[test]
fn clearing_is_deliberate_recorded_and_keeps_the_entries() {
    let dir = tempfile::tempdir().expect("dir");
    let mut store = Store::open(&dir.path().join("h.db")).expect("open");
    let a = import_bytes(
        &mut store,
        dir.path(),
        "a.csv",
        b"signal_id,at,channel,kind\nS1,bad,email,complaint\nS2,2024-01-01,email,complaint\n",
    );
    let b = import_bytes(
        &mut store,
        dir.path(),
        "b.csv",
        b"signal_id,at,channel,kind\nT1,bad,email,complaint\nT2,worse,email,complaint\nT3,2024-01-01,email,complaint\n",
    );
    assert_eq!(store.status().expect("status").quarantined, 3);
    let c = store
        .clear_quarantine(Some(b.import_id), "ana")
        .expect("clear");
    assert_eq!(
        (c.entries, c.by.as_str(), c.import_id),
        (2, "ana", Some(b.import_id))
    );
    assert_eq!(store.status().expect("status").quarantined, 1);
    assert_eq!(
        entries(&store, Some(b.import_id), false).len(),
        2,
        "still listed"
    );
    assert!(
        entries(&store, Some(b.import_id), false)
            .iter()
            .all(|e| e.state == "cleared")
    );
    let all = store.clear_quarantine(None, "ben").expect("clear all");
    assert_eq!(all.entries, 1);
    assert_eq!(store.clearings().expect("clearings").len(), 2);
    assert_eq!(entries(&store, None, true).len(), 3);
    assert!(entries(&store, None, false).is_empty());
    assert!(matches!(
        store.clear_quarantine(Some(99), "x"),
        Err(StoreError::NoSuchImport { .. })
    ));
    let _ = a;
}

#[test]
fn concurrent_first_opens_migrate_once() {
    for round in 0..5 {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join(format!("new{round}.db"));
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(6));
        let handles: Vec<_> = (0..6)
            .map(|i| {
                let (path, barrier, dir) =
                    (path.clone(), barrier.clone(), dir.path().to_path_buf());
                std::thread::spawn(move || {
                    barrier.wait();
                    let mut store = Store::open(&path).map_err(|e| e.to_string())?;
                    let body =
                        format!("signal_id,at,channel,kind\nT{i},2024-01-01,email,complaint\n");
                    let f = write(&dir, &format!("t{i}.csv"), body.as_bytes());
                    store
                        .import_file(&f, &ReadOptions::new(RecordKind::Signals), 100, &mut |_| {})
                        .map_err(|e| e.to_string())
                })
            })
            .collect();
        for h in handles {
            let r = h.join().expect("thread");
            assert!(r.is_ok(), "round {round}: {r:?}");
        }
        let store = Store::open_existing(&path).expect("open");
        assert_eq!(store.schema_version().expect("version"), current_version());
        assert_eq!(store.status().expect("status").signals, 6);
    }
}

fn side_files(db: &Path) -> Vec<String> {
    ["-wal", "-shm", "-journal"]
        .iter()
        .map(|s| format!("{}{s}", db.display()))
        .filter(|p| Path::new(p).exists())
        .collect()
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[test]
fn a_missing_store_is_refused_not_created() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("typo.db");
    match Store::open_existing(&path) {
        Err(e @ StoreError::Missing { .. }) => {
            let m = e.to_string();
            assert!(
                m.contains("typo.db") && m.contains("hearken import") && m.contains("--db"),
                "{m}"
            );
        }
        other => panic!("expected Missing, got {other:?}"),
    }
    assert!(!path.exists(), "nothing was created");
}

#[cfg(unix)]
#[test]
fn a_read_only_store_is_analysed_and_left_clean() {
    for read_only_dir in [false, true] {
        let dir = tempfile::tempdir().expect("dir");
        let data = tempfile::tempdir().expect("data dir");
        let store_dir = dir.path().join("store");
        std::fs::create_dir(&store_dir).expect("mkdir");
        let db = store_dir.join("h.db");
        {
            let mut store = Store::open(&db).expect("open");
            import_bytes(
                &mut store,
                data.path(),
                "s.csv",
                b"signal_id,at,channel,kind,text\nS1,2024-01-01,email,complaint,I love it\nS2,2024-01-02,email,complaint,awful\n",
            );
        }
        assert!(side_files(&db).is_empty(), "{:?}", side_files(&db));
        if read_only_dir {
            set_mode(&store_dir, 0o555);
        } else {
            set_mode(&db, 0o444);
        }
        {
            let mut store = Store::open_existing(&db).expect("open read-only");
            assert!(store.is_read_only());
            let st = store.status().expect("status");
            assert!(st.read_only && !st.snapshot_fresh);
            // The stale snapshot is brought up to date in memory; the analytics read it.
            store
                .refresh_snapshot(false, &mut |_, _| {})
                .expect("refresh");
            assert!(store.snapshot_is_fresh().expect("fresh"));
            let cols = store
                .snapshot_signals(&Window::default(), &hearken_store::SignalColumns::ALL)
                .expect("read");
            assert_eq!(cols.len(), 2);
            let f = write(
                data.path(),
                "t.csv",
                b"signal_id,at,channel,kind\nS9,2024-01-01,email,complaint\n",
            );
            match store.import_file(&f, &ReadOptions::new(RecordKind::Signals), 10, &mut |_| {}) {
                Err(e @ StoreError::ReadOnly { .. }) => {
                    assert!(e.to_string().contains("read-only"))
                }
                other => panic!("expected ReadOnly, got {other:?}"),
            }
            assert!(store.clear_quarantine(None, "x").is_err());
            // Store::open (what import uses) opens it read-only too.
            assert!(Store::open(&db).expect("open").is_read_only());
        }
        assert!(
            side_files(&db).is_empty(),
            "left behind: {:?}",
            side_files(&db)
        );
        set_mode(&store_dir, 0o755);
        set_mode(&db, 0o644);
        // Writable again: imports work, and the snapshot in the file was never touched.
        let mut store = Store::open_existing(&db).expect("open");
        assert!(!store.is_read_only());
        assert!(!store.snapshot_is_fresh().expect("fresh"));
        let r = import_bytes(
            &mut store,
            data.path(),
            "u.csv",
            b"signal_id,at,channel,kind\nS9,2024-01-01,email,complaint\n",
        );
        assert_eq!(r.counts.stored, 1);
    }
}

#[test]
fn running_imports_are_told_from_killed_ones() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("h.db");
    let mut store = Store::open(&db).expect("open");
    import_bytes(
        &mut store,
        dir.path(),
        "a.csv",
        b"signal_id,at,channel,kind\nS1,2024-01-01,email,complaint\n",
    );
    // A process that has exited: its pid is not running an import.
    let dead = std::process::Command::new("true")
        .spawn()
        .and_then(|mut c| c.wait().map(|_| c.id()))
        .expect("run true");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64;
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    let conn = rusqlite::Connection::open(&db).expect("conn");
    let add = |file: &str, pid: i64, host: &str, heartbeat: i64| {
        conn.execute(
            "INSERT INTO imports (kind, file, fingerprint, started_at, pid, host, heartbeat_at)
             VALUES ('signals', ?1, ?1, ?2, ?3, ?4, ?5)",
            rusqlite::params![file, now - 60, pid, host, heartbeat],
        )
        .expect("insert");
    };
    add("mine.csv", i64::from(std::process::id()), &host, now);
    add("killed.csv", i64::from(dead), &host, now);
    add("elsewhere.csv", 1, "another-machine", now - 10);
    add("stale.csv", 1, "another-machine", now - 3600);
    let running: Vec<String> = store
        .imports_in_progress()
        .expect("running")
        .into_iter()
        .map(|r| r.file)
        .collect();
    if Path::new("/proc/self").exists() {
        assert_eq!(running, ["mine.csv", "elsewhere.csv"]);
        let st = store.status().expect("status");
        assert_eq!((st.running_imports, st.interrupted_imports), (2, 2));
        let states: Vec<(String, String)> = st
            .recent_imports
            .iter()
            .map(|i| (i.file.clone(), i.state.clone()))
            .collect();
        assert!(
            states.contains(&("killed.csv".into(), "interrupted".into())),
            "{states:?}"
        );
        assert!(
            states.contains(&("mine.csv".into(), "running".into())),
            "{states:?}"
        );
    }
}

#[test]
fn demo_data_is_marked_and_never_mixed_unknowingly() {
    let dir = tempfile::tempdir().expect("dir");
    let mut store = Store::open(&dir.path().join("h.db")).expect("open");
    let f = write(
        dir.path(),
        "d.csv",
        b"signal_id,at,channel,kind\nD1,2024-01-01,email,complaint\n",
    );
    let demo = ImportSettings {
        demo: true,
        ..ImportSettings::default()
    };
    store
        .import_file_with(
            &f,
            &ReadOptions::new(RecordKind::Signals),
            &demo,
            &mut |_| {},
        )
        .expect("demo import");
    assert!(store.holds_demo_data().expect("demo"));
    assert!(!store.holds_non_demo_data().expect("real"));
    let r = import_bytes(
        &mut store,
        dir.path(),
        "mine.csv",
        b"signal_id,at,channel,kind\nM1,2024-01-01,email,complaint\n",
    );
    assert!(
        r.notes.iter().any(|n| n.contains("synthetic")),
        "importing into a demo store says so: {:?}",
        r.notes
    );
    assert!(store.holds_non_demo_data().expect("real"));
}

#[test]
fn skipped_rows_are_counted_per_reason_with_the_batch() {
    let dir = tempfile::tempdir().expect("dir");
    let mut store = Store::open(&dir.path().join("h.db")).expect("open");
    let m = hearken_ingest::Mapping::parse(
        "[[skip]]\ncolumn = \"who\"\nequals = \"us\"\nreason = \"our own reply\"\n",
        Path::new("m.toml"),
    )
    .expect("mapping");
    let mut body = String::from("signal_id,at,channel,kind,who\n");
    for i in 0..25 {
        body.push_str(&format!(
            "S{i},2024-01-01,social,question,{}\n",
            if i % 3 == 0 { "us" } else { "them" }
        ));
    }
    let f = write(dir.path(), "s.csv", body.as_bytes());
    let opts = ReadOptions {
        mapping: Some(m),
        ..ReadOptions::new(RecordKind::Signals)
    };
    let r = store
        .import_file(&f, &opts, 4, &mut |_| {})
        .expect("import");
    assert_eq!(
        (r.counts.read, r.counts.stored, r.counts.skipped),
        (25, 16, 9)
    );
    assert!(r.counts.reconciles());
    assert_eq!(r.skipped_reasons[0].reason, "our own reply");
    assert_eq!(r.skipped_reasons[0].rows, 9);
    let rec = &store.imports(1).expect("imports")[0];
    assert_eq!(
        (rec.skipped, rec.skipped_reasons.clone()),
        (9, vec![("our own reply".to_string(), 9)])
    );
    assert_eq!(store.status().expect("status").skipped, 9);
}
