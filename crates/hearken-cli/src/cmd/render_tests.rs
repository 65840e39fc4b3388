//! The tables people read, pinned: each analytic's answer on a small hand-made organisation,
//! rendered as text and compared with its snapshot (`src/cmd/snapshots/`; review changes with
//! `cargo insta review`).

#![allow(clippy::unwrap_used)]

use std::fmt::Write as _;

use hearken_ingest::ReadOptions;
use hearken_model::RecordKind;
use hearken_query::*;
use hearken_store::Store;

/// Six weeks of a small organisation: 12 customers in two segments, 4 products, 3 agents in two
/// teams, 3 topics (one spiking in the last week), a survey per customer per fortnight.
fn org() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, body: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        p
    };
    let mut customers = String::from("customer_id,name,segment,customer_since,value_per_year\n");
    for c in 0..12 {
        let segment = if c % 3 == 0 { "business" } else { "consumer" };
        let _ = writeln!(
            customers,
            "C{c:02},Customer {c},{segment},2023-0{}-01,{}",
            1 + c % 9,
            200 + 150 * c
        );
    }
    let products = "product_id,name,category\nP1,Router X,network\nP2,Fibre Box,network\nP3,TV Basic,tv\nP4,Energy Plus,energy\n";
    let agents =
        "agent_id,name,team\nA1,Ann Smith,billing\nA2,Bo Jansen,billing\nA3,Cy Ortiz,tech\n";
    let topics = ["billing/refund", "network/outage", "app/login"];
    let texts = [
        "the refund never arrived",
        "internet down again tonight",
        "cannot log in to the app",
    ];
    let mut signals = String::from(
        "signal_id,at,channel,kind,source,customer_id,product_id,agent_id,topic,text\n",
    );
    let mut n = 0;
    for day in 0..42 {
        let per_day = if day >= 35 { 4 } else { 2 };
        for k in 0..per_day {
            let t = if day >= 35 && k >= 2 {
                1
            } else {
                (day + k) % 3
            };
            let topic = if (day + k) % 7 == 6 { "" } else { topics[t] };
            let _ = writeln!(
                signals,
                "S{n:03},{}T{:02}:00:00Z,{},complaint,customer,C{:02},P{},A{},{topic},{}",
                date(day),
                8 + k,
                ["email", "phone", "chat"][n % 3],
                (n * 5) % 12,
                1 + n % 4,
                1 + n % 3,
                texts[t]
            );
            n += 1;
        }
    }
    let mut surveys = String::from(
        "response_id,at,customer_id,product_id,agent_id,nps,csat,overall,aspect_service,aspect_price\n",
    );
    let mut r = 0;
    for fortnight in 0..3 {
        for c in 0..12 {
            let service = (c * 3 + fortnight) % 11;
            let price = (c * 7 + 2 * fortnight) % 11;
            let overall = (0.6 * service as f64 + 0.4 * price as f64).round();
            let _ = writeln!(
                surveys,
                "R{r:03},{}T12:00:00Z,C{c:02},P{},A{},{},{},{overall},{service},{price}",
                date(1 + 14 * fortnight),
                1 + c % 4,
                1 + c % 3,
                (c * 3 + fortnight * 2) % 11,
                1 + (c + fortnight) % 5,
            );
            r += 1;
        }
    }
    let mut store = Store::open(&dir.path().join("r.db")).unwrap();
    for (name, kind, body) in [
        ("customers.csv", RecordKind::Customers, customers),
        ("products.csv", RecordKind::Products, products.to_string()),
        ("agents.csv", RecordKind::Agents, agents.to_string()),
        ("signals.csv", RecordKind::Signals, signals),
        ("surveys.csv", RecordKind::Surveys, surveys),
    ] {
        let p = write(name, body);
        let report = store
            .import_file(&p, &ReadOptions::new(kind), 1000, &mut |_| {})
            .unwrap();
        assert_eq!(report.counts.quarantined, 0, "{name}: {report:?}");
    }
    // Sentiment as the enrichment pool would give it, fixed per text.
    let sql = rusqlite::Connection::open(dir.path().join("r.db")).unwrap();
    sql.execute_batch(
        "UPDATE signals SET sentiment = CASE
             WHEN text LIKE '%refund%' THEN -0.6
             WHEN text LIKE '%down%' THEN -0.4
             ELSE 0.1 END",
    )
    .unwrap();
    (dir, store)
}

/// The date `day` days after Monday 2024-03-04.
fn date(day: usize) -> String {
    let d = 4 + day;
    if d <= 31 {
        format!("2024-03-{d:02}")
    } else {
        format!("2024-04-{:02}", d - 31)
    }
}

#[test]
fn tables_as_people_read_them() {
    let (_dir, store) = org();
    let mut out = String::new();
    let mut section = |title: &str, text: String| {
        let _ = writeln!(out, "$ {title}\n{text}");
    };
    let scores = |req: ScoresRequest| {
        hearken_query::scores(&store, &hearken_query::Scope::all(), &req).unwrap()
    };
    section(
        "scores",
        super::scores::render(&scores(ScoresRequest::default())),
    );
    section(
        "scores --metric csat --by product",
        super::scores::render(&scores(ScoresRequest {
            metric: Metric::Csat,
            by: Some(By::Product),
            ..ScoresRequest::default()
        })),
    );
    section(
        "scores --from 2024-03-15 --against-from 2024-03-01 --against-to 2024-03-15",
        super::scores::render(&scores(ScoresRequest {
            from: Some("2024-03-15".into()),
            against_from: Some("2024-03-01".into()),
            against_to: Some("2024-03-15".into()),
            ..ScoresRequest::default()
        })),
    );
    section(
        "pareto --by product",
        super::pareto::render(
            &hearken_query::pareto(
                &store,
                &hearken_query::Scope::all(),
                &ParetoRequest {
                    by: By::Product,
                    ..ParetoRequest::default()
                },
            )
            .unwrap(),
        ),
    );
    section(
        "drivers",
        super::drivers::render(
            &hearken_query::drivers(
                &store,
                &hearken_query::Scope::all(),
                &DriversRequest::default(),
            )
            .unwrap(),
        ),
    );
    section(
        "trends",
        super::trends::render(
            &hearken_query::trends(
                &store,
                &hearken_query::Scope::all(),
                &TrendsRequest::default(),
            )
            .unwrap(),
        ),
    );
    section(
        "trends --period day",
        super::trends::render(
            &hearken_query::trends(
                &store,
                &hearken_query::Scope::all(),
                &TrendsRequest {
                    period: Period::Day,
                    ..TrendsRequest::default()
                },
            )
            .unwrap(),
        ),
    );
    section(
        "repeats --cost-per-contact 12.5 (currency €)",
        super::repeats::render(
            &hearken_query::repeats(
                &store,
                &hearken_query::Scope::all(),
                &RepeatsRequest {
                    cost_per_contact: Some(12.5),
                    ..RepeatsRequest::default()
                },
            )
            .unwrap(),
            Some("€"),
        ),
    );
    section(
        "issues-rank",
        super::issues_rank::render(
            &hearken_query::issues(
                &store,
                &hearken_query::Scope::all(),
                &IssuesRequest::default(),
            )
            .unwrap(),
            None,
        ),
    );
    section(
        "signals --customer C03 --limit 3",
        super::signals::render(
            &hearken_query::signals(
                &store,
                &hearken_query::Scope::all(),
                &SignalsRequest {
                    customer: Some("C03".into()),
                    limit: 3,
                    ..SignalsRequest::default()
                },
            )
            .unwrap(),
        ),
    );
    section(
        "signals --id S007",
        super::signals::render_one(
            &hearken_query::signal(&store, &hearken_query::Scope::all(), "S007").unwrap(),
        ),
    );
    insta::assert_snapshot!("tables", out);
}
