//! The store against real database files: migrations, refusal of foreign files, imports and
//! frames.

use hearken_ingest::ReadOptions;
use hearken_model::RecordKind;
use hearken_store::{Store, StoreError, Window, current_version};

fn import(
    store: &mut Store,
    dir: &std::path::Path,
    name: &str,
    kind: RecordKind,
    body: &str,
) -> hearken_store::ImportReport {
    let path = dir.join(name);
    std::fs::write(&path, body).expect("write");
    store
        .import_file(&path, &ReadOptions::new(kind), 1000, &mut |_| {})
        .expect("import")
}

#[test]
fn a_new_store_is_migrated_and_reopens() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("h.db");
    {
        let store = Store::open(&path).expect("create");
        assert_eq!(store.schema_version().expect("version"), current_version());
    }
    let store = Store::open(&path).expect("reopen");
    assert_eq!(store.status().expect("status").signals, 0);
}

#[test]
fn foreign_and_newer_files_are_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let text = dir.path().join("notes.txt");
    std::fs::write(&text, "plain text, not a database ".repeat(100)).expect("write");
    assert!(matches!(
        Store::open(&text),
        Err(StoreError::NotAStore { .. })
    ));

    let other = dir.path().join("other.db");
    rusqlite::Connection::open(&other)
        .and_then(|c| c.execute_batch("CREATE TABLE t (x)"))
        .expect("other db");
    assert!(matches!(
        Store::open(&other),
        Err(StoreError::NotAStore { .. })
    ));

    let newer = dir.path().join("newer.db");
    drop(Store::open(&newer).expect("create"));
    rusqlite::Connection::open(&newer)
        .and_then(|c| c.pragma_update(None, "user_version", current_version() + 1))
        .expect("bump");
    match Store::open(&newer) {
        Err(StoreError::TooNew { found, known, .. }) => {
            assert_eq!((found, known), (current_version() + 1, current_version()))
        }
        other => panic!("expected TooNew, got {other:?}"),
    }
}

#[test]
fn stubs_are_filled_when_entities_arrive_later() {
    let dir = tempfile::tempdir().expect("dir");
    let mut store = Store::open(&dir.path().join("h.db")).expect("open");
    import(
        &mut store,
        dir.path(),
        "s.csv",
        RecordKind::Signals,
        "id,at,channel,kind,customer_id\nS1,2024-01-01,web,request,C9\n",
    );
    let r = import(
        &mut store,
        dir.path(),
        "c.csv",
        RecordKind::Customers,
        "customer_id,segment\nC9,smb\n",
    );
    assert_eq!(r.counts.stored, 1, "the stub is filled in, not duplicated");
    assert_eq!(store.status().expect("status").customers, 1);
    let customers = store.customer_frame().expect("frame");
    assert_eq!(customers.segments.name(customers.segment[0]), Some("smb"));
    // A later export with changed attributes updates reference data.
    let r = import(
        &mut store,
        dir.path(),
        "c2.csv",
        RecordKind::Customers,
        "customer_id,segment\nC9,enterprise\n",
    );
    assert_eq!(r.counts.stored, 1);
    let customers = store.customer_frame().expect("frame");
    assert_eq!(
        customers.segments.name(customers.segment[0]),
        Some("enterprise")
    );
}

#[test]
fn frames_hold_the_window_dictionary_coded() {
    let dir = tempfile::tempdir().expect("dir");
    let mut store = Store::open(&dir.path().join("h.db")).expect("open");
    import(
        &mut store,
        dir.path(),
        "s.csv",
        RecordKind::Signals,
        "id,at,channel,kind,customer_id,topic\nS1,2024-01-01,web,request,C1,billing\nS2,2024-02-01,phone,complaint,C2,billing\nS3,2024-03-01,phone,complaint,C1,\n",
    );
    import(
        &mut store,
        dir.path(),
        "v.csv",
        RecordKind::Surveys,
        "id,at,nps,aspect_service,aspect_price\nR1,2024-01-05,9,8,\nR2,2024-02-05,3,,4\n",
    );
    let all = store.signal_frame(&Window::default()).expect("frame");
    assert_eq!(all.len(), 3);
    assert_eq!(all.customers.name(all.customer[0]), Some("C1"));
    assert_eq!(all.customer[0], all.customer[2]);
    assert_eq!(all.topics.name(all.topic[1]), Some("billing"));
    assert_eq!(all.topic[2], hearken_engine::NONE);
    let feb = Window {
        from: Some(1_706_745_600),
        to: Some(1_709_251_200),
    };
    let f = store.signal_frame(&feb).expect("frame");
    assert_eq!(f.len(), 1);
    assert_eq!(f.channel[0], hearken_model::Channel::Phone.code());

    let s = store.survey_frame(&Window::default()).expect("surveys");
    assert_eq!(s.nps, vec![9, 3]);
    let names: Vec<&str> = s.aspects.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["price", "service"]);
    assert!(s.aspects[0].1[0].is_nan() && s.aspects[0].1[1] == 4.0);
    assert!(s.aspects[1].1[0] == 8.0 && s.aspects[1].1[1].is_nan());
}
mod import_promises;
mod ingest;
#[cfg(feature = "postgres")]
mod pg;
#[cfg(feature = "postgres")]
mod pg_import;
#[cfg(feature = "postgres")]
mod pg_ingest;
mod snapshot;
