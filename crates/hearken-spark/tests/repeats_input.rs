//! Repeats on Spark without a cluster: what cannot be honoured is refused before a query is
//! sent, and result rows that are not a lake of this store, or not counts of a subset, are
//! refused rather than folded (a stub stands for Spark). The figures against a real cluster are
//! in tests/spark.rs.

#[allow(dead_code)]
mod common;

use std::cell::RefCell;

use hearken_model::RecordKind;
use hearken_query::{RepeatsRequest, Scope};
use hearken_spark::{Cell, Lake, Sql};

/// Answers every query with the same rows, and keeps the queries it was sent.
struct Stub {
    rows: Vec<Vec<Cell>>,
    sent: RefCell<Vec<String>>,
}

impl Stub {
    fn new(rows: Vec<Vec<Cell>>) -> Stub {
        Stub {
            rows,
            sent: RefCell::new(Vec::new()),
        }
    }
}

impl Sql for Stub {
    fn rows(&self, query: &str) -> hearken_spark::Result<Vec<Vec<Cell>>> {
        self.sent.borrow_mut().push(query.to_string());
        Ok(self.rows.clone())
    }
}

fn text(s: &str) -> Cell {
    Cell::Text(s.to_string())
}

#[test]
fn repeats_on_spark_refuse_what_they_cannot_honour_and_rows_that_do_not_add_up() {
    let work = tempfile::tempdir().expect("temp dir");
    let (store, _) = common::generated_store(
        work.path(),
        20,
        2,
        3,
        &[
            RecordKind::Customers,
            RecordKind::Products,
            RecordKind::Agents,
            RecordKind::Signals,
        ],
        5_000,
    );
    store
        .refresh_snapshot(false, &mut |_, _| {})
        .expect("snapshot");
    let lake_dir = work.path().join("lake");
    common::export(
        &store,
        hearken_export::Dataset::Signals,
        &lake_dir.join("signals"),
    );
    let lake = Lake::open(&lake_dir).expect("lake");
    let all = Scope::all();
    let embedded =
        hearken_query::repeats::repeats_partials(&store, &all, &RepeatsRequest::default())
            .expect("embedded");
    let topic = embedded.topics.names[0].clone();
    let product = embedded.products.names[0].clone();

    // Refused before any query reaches the cluster: an entity filter, a limited scope, options
    // out of range.
    let stub = Stub::new(Vec::new());
    let limited = Scope {
        segments: vec!["smb".into()],
        teams: Vec::new(),
    };
    for (scope, req, want) in [
        (
            &all,
            RepeatsRequest {
                segment: Some("smb".into()),
                ..RepeatsRequest::default()
            },
            "`segment` cannot be used with repeats",
        ),
        (
            &all,
            RepeatsRequest {
                team: Some("billing".into()),
                ..RepeatsRequest::default()
            },
            "`team` cannot be used with repeats",
        ),
        (
            &limited,
            RepeatsRequest::default(),
            "a scope limited to segments or teams",
        ),
        (
            &all,
            RepeatsRequest {
                days: 366,
                ..RepeatsRequest::default()
            },
            "give 1 to 365 days",
        ),
        (
            &all,
            RepeatsRequest {
                cost_per_contact: Some(-1.0),
                ..RepeatsRequest::default()
            },
            "give a non-negative amount",
        ),
    ] {
        let e = hearken_spark::repeats(&stub, &lake, &store, scope, &req)
            .expect_err(want)
            .to_string();
        assert!(e.contains(want), "{want}: {e}");
    }
    assert!(stub.sent.borrow().is_empty(), "{:?}", stub.sent.borrow());

    // The query counts over the window the request gives, with its days.
    let req = RepeatsRequest {
        days: 3,
        from: Some("2025-02-01".into()),
        ..RepeatsRequest::default()
    };
    let ok = Stub::new(vec![
        vec![
            text(&topic),
            text(&product),
            Cell::Int(5),
            Cell::Int(4),
            Cell::Int(1),
        ],
        vec![
            Cell::Null,
            Cell::Null,
            Cell::Int(2),
            Cell::Int(0),
            Cell::Int(0),
        ],
    ]);
    let p =
        hearken_spark::repeats::repeats_partials(&ok, &lake, &store, &all, &req).expect("partials");
    let sent = ok.sent.borrow();
    assert_eq!(sent.len(), 1);
    assert!(sent[0].contains("<= 259200"), "{}", sent[0]);
    assert!(sent[0].contains("unix_seconds(at) >= "), "{}", sent[0]);
    assert!(sent[0].contains("_metadata.row_index"), "{}", sent[0]);
    assert_eq!(p.tallies.contacts, 7);
    assert_eq!(p.without_topic, 2);
    assert_eq!(p.topics, embedded.topics);
    assert_eq!(p.products, embedded.products);
    assert_eq!(p.tallies.by_topic.groups[0].eligible, 4);
    assert_eq!(p.tallies.by_product.groups[0].repeats, 1);

    // Rows a lake of this store cannot give are refused, not folded.
    for (rows, want) in [
        (
            vec![vec![
                text("no/such-topic"),
                Cell::Null,
                Cell::Int(1),
                Cell::Int(1),
                Cell::Int(0),
            ]],
            "which the store does not know",
        ),
        (
            vec![vec![
                text(&topic),
                text("no-such-product"),
                Cell::Int(1),
                Cell::Int(1),
                Cell::Int(0),
            ]],
            "which the store does not know",
        ),
        (
            vec![vec![
                text(&topic),
                Cell::Null,
                Cell::Int(2),
                Cell::Int(1),
                Cell::Int(2),
            ]],
            "not a subset",
        ),
        (
            vec![vec![
                text(&topic),
                Cell::Null,
                Cell::Int(-1),
                Cell::Int(0),
                Cell::Int(0),
            ]],
            "a negative count",
        ),
        (
            vec![vec![
                text(&topic),
                Cell::Null,
                text("3"),
                Cell::Int(0),
                Cell::Int(0),
            ]],
            "expected an integer",
        ),
    ] {
        let e = hearken_spark::repeats(&Stub::new(rows), &lake, &store, &all, &req)
            .expect_err(want)
            .to_string();
        assert!(e.contains(want), "{want}: {e}");
    }

    // Signals, none with a topic: the query layer's refusal, as on the embedded path.
    let e = hearken_spark::repeats(
        &Stub::new(vec![vec![
            Cell::Null,
            Cell::Null,
            Cell::Int(9),
            Cell::Int(0),
            Cell::Int(0),
        ]]),
        &lake,
        &store,
        &all,
        &req,
    )
    .expect_err("no topics")
    .to_string();
    assert!(e.contains("topic"), "{e}");
}
