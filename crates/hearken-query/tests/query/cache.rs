//! The answer cache (ADR 0013): a store with a cache attached answers exactly as one without,
//! a repeated question is answered from the cache, new rows are in the next answer, and a
//! scoped caller never gets another scope's answer.

use std::sync::{Arc, Barrier};

use hearken_ingest::ReadOptions;
use hearken_model::RecordKind;
use hearken_query::*;
use hearken_store::Store;

use crate::helpers::*;

/// A second handle on the organisation's store, with `cache` attached.
fn cached(o: &Org, cache: &Arc<AnswerCache>) -> Store {
    let mut s = Store::open(o.store.path()).expect("open store");
    s.attach(cache.clone());
    s
}

/// Every analytic's answer for a few requests, as JSON (the answers' wire form; every field).
fn answers(store: &Store, scope: &Scope, segment: &str) -> Vec<(String, String)> {
    let j = |v: Result<String>| v.unwrap_or_else(|e| format!("error {}: {e}", e.code()));
    let s = |v: &dyn erased::Json| v.json();
    let seg = Filters {
        segment: Some(segment.to_string()),
        ..Filters::default()
    };
    let mut out = vec![
        (
            "scores".to_string(),
            j(scores(store, scope, &ScoresRequest::default()).map(|r| s(&r))),
        ),
        (
            "scores by segment".into(),
            j(scores(
                store,
                scope,
                &ScoresRequest {
                    by: Some(By::Segment),
                    ..ScoresRequest::default()
                },
            )
            .map(|r| s(&r))),
        ),
        (
            "scores of a segment".into(),
            j(scores(
                store,
                scope,
                &ScoresRequest::default().with_filters(seg.clone()),
            )
            .map(|r| s(&r))),
        ),
        (
            "pareto".into(),
            j(pareto(store, scope, &ParetoRequest::default()).map(|r| s(&r))),
        ),
        (
            "drivers".into(),
            j(drivers(store, scope, &DriversRequest::default()).map(|r| s(&r))),
        ),
        (
            "trends".into(),
            j(trends(store, scope, &TrendsRequest::default()).map(|r| s(&r))),
        ),
        (
            "repeats".into(),
            j(repeats(store, scope, &RepeatsRequest::default()).map(|r| s(&r))),
        ),
        (
            "issues".into(),
            j(issues(store, scope, &IssuesRequest::default()).map(|r| s(&r))),
        ),
        (
            "themes".into(),
            j(themes(
                store,
                scope,
                &ThemesRequest {
                    k: 4,
                    ..ThemesRequest::default()
                },
            )
            .map(|r| s(&r))),
        ),
        (
            "flow".into(),
            j(flow(store, scope, &FlowRequest::default()).map(|r| s(&r))),
        ),
        ("overview".into(), j(overview(store, scope).map(|r| s(&r)))),
    ];
    // A refusal is not kept, and is the same refusal again.
    out.push((
        "pareto of an unknown segment".into(),
        j(pareto(
            store,
            scope,
            &ParetoRequest::default().with_filters(Filters {
                segment: Some("nosuch".into()),
                ..Filters::default()
            }),
        )
        .map(|r| s(&r))),
    ));
    out
}

/// JSON of any answer, behind one object-safe trait so `answers` can list them.
mod erased {
    pub trait Json {
        fn json(&self) -> String;
    }
    impl<T: serde::Serialize> Json for T {
        fn json(&self) -> String {
            serde_json::to_string(self).expect("answers serialise")
        }
    }
}

#[test]
fn cached_answers_are_the_computed_ones_for_every_analytic() {
    let o = org(300, 3);
    let segment =
        o.strings("SELECT DISTINCT segment FROM customers WHERE segment IS NOT NULL")[0].clone();
    let cache = Arc::new(AnswerCache::new(CacheLimits::default()));
    let store = cached(&o, &cache);
    let plain = answers(&o.store, &Scope::all(), &segment);
    assert!(
        plain.iter().filter(|(_, a)| a.starts_with("error")).count() == 1,
        "only the unknown segment is refused: {plain:?}"
    );
    let first = answers(&store, &Scope::all(), &segment);
    assert_eq!(first, plain);
    let after_first = cache.stats();
    let second = answers(&store, &Scope::all(), &segment);
    assert_eq!(second, plain);
    let after_second = cache.stats();
    // Every answer but the refusal came from the cache the second time; the refusal was
    // computed again.
    let kept = plain.len() as u64 - 1;
    assert!(
        after_second.hits >= after_first.hits + kept,
        "{after_first:?} {after_second:?}"
    );
    assert_eq!(
        after_second.computed,
        after_first.computed + 1,
        "{after_second:?}"
    );
    assert!(after_second.bytes > 0 && after_second.entries >= kept);
    // Without a cache nothing is kept anywhere: the plain store computes every time (the
    // analytics' answers are equal because they are computed, not remembered).
    assert_eq!(answers(&o.store, &Scope::all(), &segment), plain);
}

/// A signals file with `n` new rows, written beside the store.
fn new_signals(o: &Org, n: usize, tag: &str) -> std::path::PathBuf {
    let dir = o.store.path().parent().expect("store dir");
    let mut out = String::from("signal_id,at,channel,kind,text\n");
    for i in 0..n {
        out.push_str(&format!(
            "{tag}-{i},2025-01-15T10:{:02}:00Z,email,complaint,the parcel came late again {i}\n",
            i % 60
        ));
    }
    let path = dir.join(format!("{tag}.csv"));
    std::fs::write(&path, out).expect("write");
    path
}

#[test]
fn new_rows_are_in_the_next_answer() {
    let mut o = org(200, 2);
    let cache = Arc::new(AnswerCache::new(CacheLimits::default()));
    let store = cached(&o, &cache);
    let ask = |s: &Store| {
        let p = pareto(s, &Scope::all(), &ParetoRequest::default()).unwrap();
        p.contacts + p.unattributed
    };
    let before = ask(&store);
    assert_eq!(ask(&store), before);
    let hits = cache.stats().hits;
    assert!(hits >= 1);
    let file = new_signals(&o, 25, "late");
    let report = o
        .store
        .import_file(
            &file,
            &ReadOptions::new(RecordKind::Signals),
            5_000,
            &mut |_| {},
        )
        .expect("import");
    assert_eq!(report.counts.stored, 25, "{report:?}");
    // The next answer counts the new rows, and is computed, not remembered.
    let after = ask(&store);
    assert_eq!(after, before + 25);
    assert_eq!(after, ask(&o.store));
    assert_eq!(cache.stats().hits, hits);
    assert_eq!(
        after,
        o.count("SELECT count(*) FROM signals"),
        "every signal is counted"
    );
}

#[test]
fn warming_asks_the_last_generations_questions_again_on_the_new_data() {
    let mut o = org(200, 2);
    let cache = Arc::new(AnswerCache::new(CacheLimits::default()));
    let store = cached(&o, &cache);
    let team = Scope {
        segments: Vec::new(),
        teams: o
            .strings("SELECT DISTINCT team FROM agents WHERE team IS NOT NULL ORDER BY 1 LIMIT 1"),
    };
    let by_product = ParetoRequest {
        by: By::Product,
        ..ParetoRequest::default()
    };
    let p = pareto(&store, &Scope::all(), &by_product).unwrap();
    scores(&store, &team, &ScoresRequest::default()).unwrap();
    let defaults_asked = std::sync::atomic::AtomicUsize::new(0);
    let defaults = |_: &Store| {
        defaults_asked.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    };

    // Nothing changed: nothing to ask again.
    let r = cache.warm(&store, &defaults, &|| true).unwrap();
    assert_eq!((r.asked, r.interrupted), (0, false), "{r:?}");

    let file = new_signals(&o, 30, "warm");
    let imported = o
        .store
        .import_file(
            &file,
            &ReadOptions::new(RecordKind::Signals),
            5_000,
            &mut |_| {},
        )
        .expect("import");
    assert_eq!(imported.counts.stored, 30);

    // Told to stop at once: nothing asked, the questions wait for the next warming.
    let before = cache.stats();
    let r = cache.warm(&store, &defaults, &|| false).unwrap();
    assert_eq!((r.asked, r.interrupted), (0, true), "{r:?}");
    assert_eq!(cache.stats().computed, before.computed);

    let r = cache.warm(&store, &defaults, &|| true).unwrap();
    assert_eq!((r.asked, r.interrupted), (2, false), "{r:?}");
    assert_eq!(defaults_asked.load(std::sync::atomic::Ordering::Relaxed), 2);
    let warmed = cache.stats();
    assert_eq!(warmed.computed, before.computed + 2, "{warmed:?}");
    assert_eq!(warmed.warmed, 2);

    // Both are now answered from the cache, and are the new data's answers, equal to those
    // computed by a store without a cache.
    let p2 = pareto(&store, &Scope::all(), &by_product).unwrap();
    let t2 = scores(&store, &team, &ScoresRequest::default()).unwrap();
    assert_eq!(cache.stats().hits, warmed.hits + 2);
    assert_eq!(cache.stats().computed, warmed.computed);
    assert_eq!(p2, pareto(&o.store, &Scope::all(), &by_product).unwrap());
    assert_eq!(
        t2,
        scores(&o.store, &team, &ScoresRequest::default()).unwrap()
    );
    assert_eq!(
        p2.contacts + p2.unattributed,
        p.contacts + p.unattributed + 30
    );
}

#[test]
fn a_scoped_caller_never_gets_another_scopes_answer() {
    let o = org(300, 2);
    let segments =
        o.strings("SELECT DISTINCT segment FROM customers WHERE segment IS NOT NULL ORDER BY 1");
    assert!(segments.len() >= 2, "{segments:?}");
    let cache = Arc::new(AnswerCache::new(CacheLimits::default()));
    let store = cached(&o, &cache);
    let scope = |s: &str| Scope {
        segments: vec![s.to_string()],
        ..Scope::default()
    };
    let n = |st: &Store, sc: &Scope| {
        let p = pareto(st, sc, &ParetoRequest::default()).unwrap();
        p.contacts + p.unattributed
    };
    // Ask the whole store first, then each segment: each answer is its own scope's.
    let all = n(&store, &Scope::all());
    let mut sum = 0;
    for s in &segments {
        let got = n(&store, &scope(s));
        assert_eq!(got, n(&o.store, &scope(s)), "{s}");
        assert_eq!(
            got,
            o.count_with(
                "SELECT count(*) FROM signals s JOIN customers c ON c.id = s.customer_id WHERE c.segment = ?1",
                s
            ),
            "{s}"
        );
        assert!(got < all, "{s}");
        sum += got;
        // And again, now from the cache: still its own.
        assert_eq!(n(&store, &scope(s)), got, "{s}");
    }
    assert!(sum <= all);
    assert_eq!(n(&store, &Scope::all()), all);
}

#[test]
fn identical_questions_at_once_are_computed_once() {
    let o = org(200, 2);
    let cache = Arc::new(AnswerCache::new(CacheLimits::default()));
    let threads = 6;
    let barrier = Arc::new(Barrier::new(threads));
    let req = ThemesRequest {
        k: 5,
        ..ThemesRequest::default()
    };
    let got: Vec<ThemesResponse> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let store = cached(&o, &cache);
                let barrier = barrier.clone();
                let req = req.clone();
                s.spawn(move || {
                    barrier.wait();
                    themes(&store, &Scope::all(), &req).unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let want = themes(&o.store, &Scope::all(), &req).unwrap();
    assert!(got.iter().all(|g| *g == want));
    let stats = cache.stats();
    assert_eq!(stats.computed, 1, "{stats:?}");
    assert_eq!(stats.hits, threads as u64 - 1, "{stats:?}");
}

#[test]
fn the_least_recently_used_answers_go_beyond_the_limit() {
    let o = org(150, 2);
    let cache = Arc::new(AnswerCache::new(CacheLimits {
        max_entries: 2,
        max_bytes: usize::MAX,
        ..CacheLimits::default()
    }));
    let store = cached(&o, &cache);
    let ask = |by: By| {
        pareto(
            &store,
            &Scope::all(),
            &ParetoRequest {
                by,
                ..ParetoRequest::default()
            },
        )
        .unwrap()
    };
    let a = ask(By::Customer);
    ask(By::Product);
    ask(By::Customer); // now the most recently used
    ask(By::Channel); // evicts product
    let s = cache.stats();
    assert_eq!((s.entries, s.computed, s.hits), (2, 3, 1), "{s:?}");
    assert_eq!(ask(By::Customer), a);
    assert_eq!(cache.stats().hits, 2);
    ask(By::Product);
    assert_eq!(
        cache.stats().computed,
        4,
        "product was evicted and computed again"
    );

    // A byte limit smaller than any answer keeps nothing, and still answers.
    let tiny = Arc::new(AnswerCache::new(CacheLimits {
        max_entries: 100,
        max_bytes: 10,
        ..CacheLimits::default()
    }));
    let store = cached(&o, &tiny);
    let p = pareto(&store, &Scope::all(), &ParetoRequest::default()).unwrap();
    assert_eq!(p, a);
    assert_eq!(tiny.stats().entries, 0);
}
