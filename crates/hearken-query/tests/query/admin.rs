//! The store's bookkeeping through the query layer: the list of past imports with their counts,
//! the quarantine per import, and `partial` on every response while an import is running.

use hearken_ingest::ReadOptions;
use hearken_model::RecordKind;
use hearken_query::*;

use crate::helpers::*;

#[test]
fn imports_list_every_import_with_its_counts_page_by_page() {
    let o = org(100, 1);
    let n = o.count("SELECT count(*) FROM imports");
    assert_eq!(n, 6, "one import per file");
    let mut got = Vec::new();
    let mut cursor = None;
    loop {
        let page = imports(
            &o.store,
            &Scope::all(),
            &ImportsRequest {
                limit: 4,
                cursor: cursor.clone(),
            },
        )
        .unwrap();
        got.extend(page.imports);
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(got.len() as u64, n);
    assert!(got.windows(2).all(|w| w[0].id > w[1].id), "newest first");
    for i in &got {
        let row =
            |col: &str| o.count(&format!("SELECT {col} FROM imports WHERE id = {}", i.id)) as i64;
        assert_eq!(
            (i.read, i.stored, i.duplicates, i.quarantined, i.skipped),
            (
                row("read"),
                row("stored"),
                row("duplicates"),
                row("quarantined"),
                row("skipped")
            )
        );
        assert_eq!(i.read, i.stored + i.duplicates + i.quarantined + i.skipped);
        assert_eq!(i.state, "finished");
        assert!(i.finished_at.is_some() && i.host.is_some() && i.pid.is_some());
        assert!(i.file.ends_with(".csv"), "{}", i.file);
    }
    let kinds: Vec<&str> = got.iter().map(|i| i.kind.as_str()).collect();
    assert!(
        kinds.contains(&"signals") && kinds.contains(&"case-events"),
        "{kinds:?}"
    );
    let bad = |r: ImportsRequest| code(imports(&o.store, &Scope::all(), &r)).0;
    assert_eq!(
        bad(ImportsRequest {
            limit: 0,
            cursor: None
        }),
        "out_of_range"
    );
    assert_eq!(
        bad(ImportsRequest {
            limit: 5,
            cursor: Some("x".into())
        }),
        "invalid_request"
    );
}

#[test]
fn quarantine_lists_the_rows_of_an_import_and_an_unknown_import_is_not_found() {
    let mut o = org(50, 1);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.csv");
    std::fs::write(
        &file,
        "signal_id,at,channel,kind,source,text\n\
         B1,2024-03-05,phone,complaint,customer,fine\n\
         B2,not a date,phone,complaint,customer,broken\n\
         B3,2024-03-06,pigeon,complaint,customer,broken too\n",
    )
    .unwrap();
    let report = o
        .store
        .import_file(
            &file,
            &ReadOptions::new(RecordKind::Signals),
            100,
            &mut |_| {},
        )
        .unwrap();
    assert_eq!(report.counts.quarantined, 2);
    let id = o.count("SELECT max(id) FROM imports") as i64;
    let q = quarantine(
        &o.store,
        &Scope::all(),
        &QuarantineRequest {
            import: Some(id),
            ..QuarantineRequest::default()
        },
    )
    .unwrap();
    assert_eq!(q.entries.len(), 2);
    assert_eq!(
        q.entries.iter().map(|e| e.line).collect::<Vec<_>>(),
        [3, 4],
        "{q:?}"
    );
    assert!(
        q.entries
            .iter()
            .all(|e| e.state == "open" && e.import_id == id)
    );
    let open = quarantine(&o.store, &Scope::all(), &QuarantineRequest::default()).unwrap();
    assert_eq!(
        open.entries.len() as u64,
        o.count("SELECT count(*) FROM quarantine WHERE resolved_at IS NULL")
    );
    let listed = imports(&o.store, &Scope::all(), &ImportsRequest::default()).unwrap();
    assert_eq!(listed.imports[0].open_quarantine, 2);
    let (c, m) = code(quarantine(
        &o.store,
        &Scope::all(),
        &QuarantineRequest {
            import: Some(999),
            ..QuarantineRequest::default()
        },
    ));
    assert_eq!(c, "not_found");
    assert!(m.contains("no import 999"), "{m}");
}

/// This machine's name as the store records it.
fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(target_os = "linux")]
#[test]
fn every_response_says_when_an_import_is_running() {
    let o = org(150, 2);
    let all = Scope::all();
    let before = json(&scores(&o.store, &all, &ScoresRequest::default()).unwrap());
    assert!(before["partial"].is_null(), "{before}");
    // An unfinished import whose process is alive (this one) is running.
    o.sql
        .execute(
            "INSERT INTO imports (kind, file, fingerprint, started_at, pid, host, heartbeat_at)
             VALUES ('signals', 'big.csv', 'x', strftime('%s','now') - 5, ?1, ?2, strftime('%s','now'))",
            rusqlite::params![i64::from(std::process::id()), host()],
        )
        .unwrap();
    let running = o.count("SELECT max(id) FROM imports") as i64;
    let partial_of = |v: serde_json::Value| v["partial"].clone();
    let answers = [
        json(&scores(&o.store, &all, &ScoresRequest::default()).unwrap()),
        json(&pareto(&o.store, &all, &ParetoRequest::default()).unwrap()),
        json(&trends(&o.store, &all, &TrendsRequest::default()).unwrap()),
        json(&repeats(&o.store, &all, &RepeatsRequest::default()).unwrap()),
        json(&issues(&o.store, &all, &IssuesRequest::default()).unwrap()),
        json(&drivers(&o.store, &all, &DriversRequest::default()).unwrap()),
        json(&signals(&o.store, &all, &SignalsRequest::default()).unwrap()),
        json(&flow(&o.store, &all, &FlowRequest::default()).unwrap()),
        json(&status(&o.store, &all).unwrap()),
        json(&imports(&o.store, &all, &ImportsRequest::default()).unwrap()),
        json(&quarantine(&o.store, &all, &QuarantineRequest::default()).unwrap()),
        json(&overview(&o.store, &all).unwrap()),
    ];
    for a in answers {
        let p = partial_of(a);
        let m = p["message"].as_str().unwrap_or_else(|| panic!("{p}"));
        assert!(m.contains("running now") && m.contains("big.csv"), "{m}");
        assert_eq!(p["imports"][0], running);
    }
    let listed = imports(&o.store, &all, &ImportsRequest::default()).unwrap();
    assert_eq!(listed.imports[0].state, "running");
    // A scoped caller is told too, without the file.
    let scoped = Scope {
        segments: o.strings("SELECT segment FROM customers WHERE segment IS NOT NULL LIMIT 1"),
        teams: Vec::new(),
    };
    let p = scores(&o.store, &scoped, &ScoresRequest::default()).unwrap();
    let ScoresResponse::Overall(p) = p else {
        panic!("overall")
    };
    let note = p.partial.expect("partial");
    assert!(
        !note.message.contains("big.csv") && note.imports.is_empty(),
        "{note:?}"
    );
    // Killed (the process is gone): interrupted, not running, and answers are whole.
    o.sql
        .execute(
            "UPDATE imports SET pid = 2147483646 WHERE id = ?1",
            [running],
        )
        .unwrap();
    let after = json(&scores(&o.store, &all, &ScoresRequest::default()).unwrap());
    assert!(after["partial"].is_null(), "{after}");
    let listed = imports(&o.store, &all, &ImportsRequest::default()).unwrap();
    assert_eq!(listed.imports[0].state, "interrupted");
}

#[test]
fn the_overview_counts_signals_per_channel_and_kind_as_sql_does() {
    let o = org(200, 2);
    let v = overview(&o.store, &Scope::all()).unwrap();
    assert_eq!(v.signals, o.count("SELECT count(*) FROM signals"));
    let per = |col: &str, names: &dyn Fn(u8) -> &'static str| -> Vec<(String, u64)> {
        let mut rows: Vec<(String, u64)> = o
            .counts(&format!("SELECT {col}, count(*) FROM signals GROUP BY 1"))
            .into_iter()
            .map(|(c, n)| (names(c.parse().unwrap()).to_string(), n))
            .collect();
        rows.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        rows
    };
    let sorted = |mut v: Vec<(String, u64)>| {
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    };
    assert_eq!(
        sorted(v.by_channel.clone()),
        per("CAST(channel AS TEXT)", &|c| {
            hearken_model::Channel::from_code(c).unwrap().as_str()
        })
    );
    assert_eq!(
        sorted(v.by_kind.clone()),
        per("CAST(kind AS TEXT)", &|c| {
            hearken_model::SignalKind::from_code(c).unwrap().as_str()
        })
    );
    let ScoresResponse::Overall(nps) =
        scores(&o.store, &Scope::all(), &ScoresRequest::default()).unwrap()
    else {
        panic!("overall")
    };
    assert_eq!(json(&v)["nps"]["nps"], json(&nps)["nps"]);
    assert_eq!(v.quarantined, Some(0));
}
