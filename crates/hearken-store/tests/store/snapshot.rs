//! The columnar snapshot against the tables: after every kind of change (new rows, a second
//! file, changed customer attributes, re-classified topics) the frames read from the snapshot
//! hold exactly what the row-by-row SQL frames hold, for the whole store and for windows that
//! cut chunks.

use hearken_engine::{Dict, NONE, SignalFrame, SurveyFrame};
use hearken_ingest::ReadOptions;
use hearken_model::RecordKind;
use hearken_store::{SignalColumns, Store, SurveyColumns, Window};

/// A small deterministic generator (an LCG), so the test needs no data files.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

const T0: i64 = 1_704_067_200; // 2024-01-01

fn signals_csv(rng: &mut Lcg, first: usize, n: usize) -> String {
    let channels = ["web", "phone", "email", "chat"];
    let kinds = ["question", "complaint", "compliment", "request"];
    let topics = ["", "billing", "delivery", "login", "refund"];
    let stages = ["", "onboarding", "renewal"];
    let texts = [
        "",
        "great service thank you",
        "this is terrible",
        "where is my order",
    ];
    let mut s =
        String::from("id,at,channel,kind,customer_id,product_id,agent_id,stage,topic,text\n");
    for i in first..first + n {
        // Mostly in time order, with some rows out of order.
        let at = T0 + (i as i64) * 600 + rng.next(5000) as i64;
        let cust = rng.next(300);
        let customer = if cust < 290 {
            format!("C{cust}")
        } else {
            String::new()
        };
        s.push_str(&format!(
            "S{i},{},{},{},{customer},P{},{},{},{},{}\n",
            hearken_model::Timestamp::from_unix(at).to_rfc3339(),
            channels[rng.next(4) as usize],
            kinds[rng.next(4) as usize],
            rng.next(12),
            if rng.next(3) == 0 {
                String::new()
            } else {
                format!("A{}", rng.next(20))
            },
            stages[rng.next(3) as usize],
            topics[rng.next(5) as usize],
            texts[rng.next(4) as usize],
        ));
    }
    s
}

fn surveys_csv(rng: &mut Lcg, first: usize, n: usize, aspects: &[&str]) -> String {
    let mut s = String::from("id,at,customer_id,nps,csat,overall");
    for a in aspects {
        s.push_str(&format!(",aspect_{a}"));
    }
    s.push('\n');
    for i in first..first + n {
        let at = T0 + (i as i64) * 3000 + rng.next(9000) as i64;
        s.push_str(&format!(
            "R{i},{},C{},{},{},{}",
            hearken_model::Timestamp::from_unix(at).to_rfc3339(),
            rng.next(300),
            rng.next(11),
            if rng.next(4) == 0 {
                String::new()
            } else {
                (1 + rng.next(5)).to_string()
            },
            rng.next(11),
        ));
        for _ in aspects {
            if rng.next(5) == 0 {
                s.push(',');
            } else {
                s.push_str(&format!(",{}", rng.next(11)));
            }
        }
        s.push('\n');
    }
    s
}

fn import(store: &mut Store, dir: &std::path::Path, name: &str, kind: RecordKind, body: &str) {
    let path = dir.join(name);
    std::fs::write(&path, body).expect("write");
    let r = store
        .import_file(&path, &ReadOptions::new(kind), 500, &mut |_| {})
        .expect("import");
    let q = store.quarantine(3).expect("quarantine");
    assert_eq!(
        r.counts.quarantined, 0,
        "{name}: the test's own rows are valid: {q:?}"
    );
}

fn name(d: &Dict, code: u32) -> Option<String> {
    (code != NONE).then(|| d.name(code).unwrap_or("?").to_string())
}

/// A signal frame as rows of names, so frames with other dictionary codes compare.
fn signal_rows(f: &SignalFrame) -> Vec<String> {
    (0..f.len())
        .map(|r| {
            format!(
                "{} {} {} {} {:?} {:?} {:?} {:?} {:?} {:?} {}",
                f.at[r],
                f.channel[r],
                f.kind[r],
                f.source[r],
                name(&f.customers, f.customer[r]),
                name(&f.products, f.product[r]),
                name(&f.agents, f.agent[r]),
                name(&f.cases, f.case[r]),
                name(&f.stages, f.stage[r]),
                name(&f.topics, f.topic[r]),
                f.sentiment[r].to_bits()
            )
        })
        .collect()
}

fn survey_rows(f: &SurveyFrame) -> Vec<String> {
    (0..f.len())
        .map(|r| {
            let aspects: Vec<String> = f
                .aspects
                .iter()
                .map(|(n, v)| format!("{n}={}", v[r].to_bits()))
                .collect();
            format!(
                "{} {:?} {:?} {:?} {} {} {} {} {} {}",
                f.at[r],
                name(&f.customers, f.customer[r]),
                name(&f.products, f.product[r]),
                name(&f.agents, f.agent[r]),
                f.channel[r],
                f.nps[r],
                f.csat[r],
                f.ces[r],
                f.overall[r].to_bits(),
                aspects.join(",")
            )
        })
        .collect()
}

fn case_events_csv(rng: &mut Lcg, first: usize, n: usize, activities: u64) -> String {
    let mut s = String::from("event_id,case_id,at,activity,agent_id\n");
    for i in first..first + n {
        let at = T0 + (i as i64) * 900;
        let agent = if rng.next(3) == 0 {
            String::new()
        } else {
            format!("A{}", rng.next(20))
        };
        s.push_str(&format!(
            "E{i},K{},{},step{},{agent}\n",
            rng.next(40),
            hearken_model::Timestamp::from_unix(at).to_rfc3339(),
            rng.next(activities)
        ));
    }
    s
}

/// Case KPIs of the snapshot against one SQL aggregate per case.
fn check_case_kpis(store: &Store, db: &std::path::Path, what: &str) {
    let k = store.snapshot_case_kpis().expect("case kpis");
    let conn = rusqlite::Connection::open(db).expect("open");
    let mut stmt = conn
        .prepare(
            "SELECT c.id, min(e.at), max(e.at), min(CASE WHEN e.agent_id IS NOT NULL THEN e.at END),
             count(e.id) FROM cases c LEFT JOIN case_events e ON e.case_id = c.id GROUP BY c.id",
        )
        .expect("sql");
    type Row = (i64, Option<i64>, Option<i64>, Option<i64>, i64);
    let rows: Vec<Row> = stmt
        .query_map([], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .expect("query")
        .map(|r| r.expect("row"))
        .collect();
    assert_eq!(k.events.len(), rows.len(), "{what}: one entry per case");
    // The log's activity names: kept by the snapshot's case part, equal to a scan.
    let scanned = store.case_activities_scanned().expect("scan");
    assert_eq!(
        store.case_activities().expect("activities"),
        scanned,
        "{what}"
    );
    let kept: i64 = conn
        .query_row(
            "SELECT rows FROM snapshot_chunks WHERE part = 'case_kpis' AND col = 'dict:activity'",
            [],
            |r| r.get(0),
        )
        .expect("the case part keeps the activity names");
    assert_eq!(kept, scanned.len() as i64, "{what}");
    for (id, first, last, agent, n) in rows {
        let i = (id - 1) as usize;
        assert_eq!(
            (
                k.first_at[i],
                k.last_at[i],
                k.first_agent_at[i],
                i64::from(k.events[i])
            ),
            (
                first.unwrap_or(i64::MIN),
                last.unwrap_or(i64::MIN),
                agent.unwrap_or(i64::MIN),
                n
            ),
            "{what}: case {id}"
        );
    }
}

fn check(store: &Store, what: &str) {
    let windows = [
        Window::default(),
        Window {
            from: Some(T0 + 400_000),
            to: Some(T0 + 1_300_000),
        },
        Window {
            from: Some(T0 + 777_777),
            to: None,
        },
        Window {
            from: None,
            to: Some(T0 + 5),
        },
    ];
    for w in &windows {
        let sql = store.signal_frame(w).expect("sql frame");
        let snap = store
            .snapshot_signals(w, &SignalColumns::ALL)
            .expect("snapshot frame");
        assert_eq!(snap.len(), sql.len(), "{what}: signal rows in {w:?}");
        assert_eq!(
            signal_rows(&snap),
            signal_rows(&sql),
            "{what}: signals in {w:?}"
        );
        let sql = store.survey_frame(w).expect("sql surveys");
        let snap = store
            .snapshot_surveys(w, &SurveyColumns::ALL)
            .expect("snapshot surveys");
        assert_eq!(
            survey_rows(&snap),
            survey_rows(&sql),
            "{what}: surveys in {w:?}"
        );
    }
    let (sql, snap) = (
        store.customer_frame().expect("customers"),
        store.snapshot_customers().expect("snapshot customers"),
    );
    let names = |f: &hearken_engine::CustomerFrame| -> Vec<String> {
        (0..f.segment.len())
            .map(|i| {
                format!(
                    "{:?} {:?} {} {} {} {}",
                    name(&f.segments, f.segment[i]),
                    name(&f.personas, f.persona[i]),
                    f.since[i],
                    f.value_per_year[i].to_bits(),
                    f.white_glove[i],
                    f.churned_at[i]
                )
            })
            .collect()
    };
    assert_eq!(names(&snap), names(&sql), "{what}: customers");
    let (sql, snap) = (
        store.agent_frame().expect("agents"),
        store.snapshot_agents().expect("snapshot agents"),
    );
    let teams = |f: &hearken_engine::AgentFrame| -> Vec<Option<String>> {
        f.team.iter().map(|&t| name(&f.teams, t)).collect()
    };
    assert_eq!(teams(&snap), teams(&sql), "{what}: agents");
}

#[test]
fn snapshot_frames_equal_the_tables_through_every_change() {
    let dir = tempfile::tempdir().expect("dir");
    let mut store = Store::open(&dir.path().join("h.db")).expect("open");
    // Small chunks, so appends land in partial chunks and windows cut chunks.
    store.set_snapshot_chunk_rows(700);
    let mut rng = Lcg(7);

    // An empty store has a fresh, empty snapshot once refreshed.
    store
        .refresh_snapshot(false, &mut |_, _| {})
        .expect("refresh");
    assert!(store.snapshot_is_fresh().expect("fresh"));
    assert_eq!(
        store
            .snapshot_signals(&Window::default(), &SignalColumns::ALL)
            .expect("empty")
            .len(),
        0
    );

    import(
        &mut store,
        dir.path(),
        "agents.csv",
        RecordKind::Agents,
        &(0..20).fold(String::from("agent_id,team\n"), |s, i| {
            s + &format!("A{i},T{}\n", i % 3)
        }),
    );
    import(
        &mut store,
        dir.path(),
        "s1.csv",
        RecordKind::Signals,
        &signals_csv(&mut rng, 0, 2000),
    );
    import(
        &mut store,
        dir.path(),
        "v1.csv",
        RecordKind::Surveys,
        &surveys_csv(&mut rng, 0, 500, &["price", "service"]),
    );
    assert!(!store.snapshot_is_fresh().expect("stale after import"));
    import(
        &mut store,
        dir.path(),
        "e1.csv",
        RecordKind::CaseEvents,
        &case_events_csv(&mut rng, 0, 300, 4),
    );
    let first = store
        .refresh_snapshot(false, &mut |_, _| {})
        .expect("refresh");
    assert!(
        first
            .rebuilt
            .iter()
            .any(|(p, n)| p == "signals" && *n == 2000)
    );
    assert!(store.snapshot_is_fresh().expect("fresh"));
    check(&store, "first import");
    check_case_kpis(&store, &dir.path().join("h.db"), "first case events");

    // New rows are appended: the partial last chunk is completed and new chunks follow.
    import(
        &mut store,
        dir.path(),
        "s2.csv",
        RecordKind::Signals,
        &signals_csv(&mut rng, 2000, 1234),
    );
    import(
        &mut store,
        dir.path(),
        "v2.csv",
        RecordKind::Surveys,
        &surveys_csv(&mut rng, 500, 900, &["service", "speed"]),
    );
    // New events of old cases (and new cases): the case KPIs are rebuilt.
    import(
        &mut store,
        dir.path(),
        "e2.csv",
        RecordKind::CaseEvents,
        &case_events_csv(&mut rng, 300, 250, 7),
    );
    let second = store
        .refresh_snapshot(false, &mut |_, _| {})
        .expect("refresh");
    check_case_kpis(&store, &dir.path().join("h.db"), "more case events");
    assert!(
        second
            .appended
            .iter()
            .any(|(p, n)| p == "signals" && *n == 1234),
        "{second:?}"
    );
    check(&store, "appended rows and a new aspect");

    // Changed customer attributes rebuild the customers part.
    import(
        &mut store,
        dir.path(),
        "c.csv",
        RecordKind::Customers,
        &(0..300).fold(
            String::from("customer_id,segment,value_per_year\n"),
            |s, i| s + &format!("C{i},{},{}\n", ["smb", "enterprise"][i % 2], i * 10),
        ),
    );
    store
        .refresh_snapshot(false, &mut |_, _| {})
        .expect("refresh");
    check(&store, "customer attributes");
    import(
        &mut store,
        dir.path(),
        "c2.csv",
        RecordKind::Customers,
        "customer_id,segment\nC1,public sector\n",
    );
    store
        .refresh_snapshot(false, &mut |_, _| {})
        .expect("refresh");
    check(&store, "an updated customer");

    // Re-classification rewrites predicted topics in place: the signals part is rebuilt.
    let mut n = 0u64;
    store
        .reclassify(
            &mut |text| {
                n += 1;
                (Some(format!("predicted-{}", text.len() % 3)), 0.9)
            },
            &mut |_| {},
        )
        .expect("reclassify");
    assert!(n > 0);
    assert!(!store.snapshot_is_fresh().expect("stale after reclassify"));
    let third = store
        .refresh_snapshot(false, &mut |_, _| {})
        .expect("refresh");
    assert!(
        third.rebuilt.iter().any(|(p, _)| p == "signals"),
        "{third:?}"
    );
    check(&store, "re-classified topics");

    // Another chunk size rebuilds everything, with the same frames.
    store.set_snapshot_chunk_rows(1 << 20);
    assert!(!store.snapshot_is_fresh().expect("other chunk size"));
    store
        .refresh_snapshot(false, &mut |_, _| {})
        .expect("refresh");
    check(&store, "one chunk");
    // A snapshot written by an older build (another layout) is rebuilt, not read without the
    // columns it lacks.
    rusqlite::Connection::open(dir.path().join("h.db"))
        .and_then(|c| c.execute("UPDATE snapshot_parts SET format = 3", []))
        .expect("old layout");
    assert!(!store.snapshot_is_fresh().expect("older layout"));
    let again = store
        .refresh_snapshot(false, &mut |_, _| {})
        .expect("refresh");
    assert_eq!(again.rebuilt.len(), 7, "{again:?}");
    check(&store, "rebuilt after a layout change");
    // Only the asked-for columns are read.
    let some = store
        .snapshot_signals(
            &Window::default(),
            &SignalColumns {
                topic: true,
                ..SignalColumns::default()
            },
        )
        .expect("topic only");
    assert_eq!(some.len(), 3234);
    assert!(some.at.is_empty() && some.customer.is_empty() && some.customers.is_empty());
}
