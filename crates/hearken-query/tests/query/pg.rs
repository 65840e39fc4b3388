//! Parity of the analytics between the SQLite store and the PostgreSQL store (ADR 0012): a
//! generated organisation imported into SQLite, copied into a real PostgreSQL database with
//! `copy_store`, and every analytic that reads through `FrameSource` asked the same questions
//! on both; the JSON answers (and refusals) must be the same bytes.
//!
//! The server: `HEARKEN_TEST_PG` (see crates/hearken-store/tests/store/pg.rs; .ci/run starts a
//! cluster with tools/pg/cluster.sh). Without it the test fails where `HEARKEN_REQUIRE_PG=1`,
//! and skips with a printed reason elsewhere.

use hearken_query::*;
use hearken_store::pg::PgStore;
use hearken_store::{FrameSource, Location, copy_store};
use serde::Serialize;

use crate::helpers::org;

#[path = "../../../hearken-store/tests/pg_db.rs"]
mod pg_db;
use pg_db::test_db;

/// The answer as the CLI's `--json` prints it, or the refusal's code and message.
fn answer<R: Serialize>(r: hearken_query::Result<R>) -> String {
    match r {
        Ok(v) => serde_json::to_string(&v).expect("json"),
        Err(e) => format!("error {}: {e}", e.code()),
    }
}

fn req<T: serde::de::DeserializeOwned>(q: &str) -> T {
    serde_urlencoded::from_str(q).unwrap_or_else(|e| panic!("{q}: {e}"))
}

#[test]
fn every_snapshot_analytic_answers_the_same_on_postgres() {
    let Some(db) = test_db("parity") else { return };
    let o = org(400, 4);
    // The SQLite store's snapshot is built by its first question; the copy takes the tables
    // as they are (snapshot included, if any).
    copy_store(
        &Location::Sqlite(o.store.path().to_path_buf()),
        &Location::Postgres(db.url.clone()),
        &mut |_, _, _| {},
    )
    .expect("copy to postgres");
    let pg = PgStore::connect(&db.url).expect("connect");
    let stores: [(&str, &dyn FrameSource); 2] = [("sqlite", &o.store), ("postgres", &pg)];
    let all = Scope::all();
    let team = Scope {
        teams: vec![
            o.strings("SELECT team FROM agents WHERE team IS NOT NULL ORDER BY id LIMIT 1")[0]
                .clone(),
        ],
        ..Scope::all()
    };
    let window = "from=2025-02-01&to=2025-04-01";

    // (what, answer) for every question, on one store.
    let ask = |s: &dyn FrameSource| -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut put = |what: String, a: String| out.push((what, a));
        for scope in [&all, &team] {
            let sc = if scope.is_limited() {
                "team scope"
            } else {
                "all"
            };
            for metric in ["nps", "csat", "ces", "sentiment"] {
                for extra in [
                    "",
                    window,
                    "by=segment",
                    "by=product",
                    "by=agent",
                    "by=team",
                    "by=week",
                    "by=month",
                    "by=tenure-band",
                    "by=cohort",
                    "by=channel",
                    "by=topic",
                    "by=stage",
                    "by=kind",
                    "by=customer",
                    "against_from=2025-01-01&against_to=2025-02-15&from=2025-02-15",
                ] {
                    let q = format!("metric={metric}&{extra}");
                    put(
                        format!("scores {q} ({sc})"),
                        answer(scores(s, scope, &req(&q))),
                    );
                }
            }
            for by in [
                "customer", "product", "segment", "channel", "agent", "team", "topic", "kind",
            ] {
                for extra in ["", window] {
                    let q = format!("by={by}&top=5&{extra}");
                    put(
                        format!("pareto {q} ({sc})"),
                        answer(pareto(s, scope, &req(&q))),
                    );
                }
            }
            for q in ["", "target=nps", window] {
                put(
                    format!("drivers {q} ({sc})"),
                    answer(drivers(s, scope, &req(q))),
                );
            }
            for q in ["", "period=month", window] {
                put(
                    format!("trends {q} ({sc})"),
                    answer(trends(s, scope, &req(q))),
                );
            }
            for q in ["", "days=30&cost_per_contact=4.5", window] {
                put(
                    format!("repeats {q} ({sc})"),
                    answer(repeats(s, scope, &req(q))),
                );
            }
            for q in ["", "limit=3&evidence=5", window] {
                put(
                    format!("issues {q} ({sc})"),
                    answer(issues(s, scope, &req(q))),
                );
            }
        }
        out
    };
    let [(_, lite), (_, post)] = stores.map(|(n, s)| (n, ask(s)));
    assert_eq!(lite.len(), post.len());
    let mut answered = 0;
    for ((what, a), (_, b)) in lite.iter().zip(&post) {
        assert_eq!(a, b, "{what}: SQLite and PostgreSQL differ");
        if !a.starts_with("error ") {
            answered += 1;
        }
    }
    // Most questions have real answers (not refusals), so the comparison compares figures.
    assert!(
        answered * 10 >= lite.len() * 8,
        "{answered} of {} answered",
        lite.len()
    );
    let busy = lite
        .iter()
        .find(|(w, _)| w == "pareto by=customer&top=5& (all)")
        .expect("pareto");
    assert!(busy.1.contains("\"share\""), "{}", busy.1);
}
