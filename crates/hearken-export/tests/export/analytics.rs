//! Analytic exports: each analytic's table pinned by a snapshot, and every cell of it equal to
//! the value of the query layer's JSON answer it comes from.

use hearken_export::{AnalyticRequest as A, Format};
use hearken_query::*;
use serde_json::Value;

use crate::helpers::*;

/// The analytics on the fixture store, with a name for the snapshot and how to find the JSON
/// answer's entries that are the table's rows.
fn cases() -> Vec<(&'static str, A)> {
    vec![
        ("scores_overall", A::Scores(ScoresRequest::default())),
        (
            "scores_by_segment",
            A::Scores(ScoresRequest {
                by: Some(By::Segment),
                ..ScoresRequest::default()
            }),
        ),
        (
            "scores_sentiment_by_topic",
            A::Scores(ScoresRequest {
                metric: Metric::Sentiment,
                by: Some(By::Topic),
                ..ScoresRequest::default()
            }),
        ),
        (
            "scores_change",
            A::Scores(ScoresRequest {
                metric: Metric::Csat,
                from: Some("2024-03-15".into()),
                to: Some("2024-04-15".into()),
                against_from: Some("2024-03-01".into()),
                against_to: Some("2024-03-15".into()),
                ..ScoresRequest::default()
            }),
        ),
        (
            "pareto_by_product",
            A::Pareto(ParetoRequest {
                by: By::Product,
                ..ParetoRequest::default()
            }),
        ),
        ("drivers", A::Drivers(DriversRequest::default())),
        ("trends", A::Trends(TrendsRequest::default())),
        (
            "repeats",
            A::Repeats(RepeatsRequest {
                days: 30,
                cost_per_contact: Some(4.5),
                ..RepeatsRequest::default()
            }),
        ),
        ("issues", A::Issues(IssuesRequest::default())),
        (
            "themes",
            A::Themes(ThemesRequest {
                k: 2,
                ..ThemesRequest::default()
            }),
        ),
    ]
}

/// The query layer's answer as JSON (what `hearken <analytic> --json` prints).
fn answer(f: &Fixture, a: &A) -> Result<Value, QueryError> {
    let s = &f.store;
    Ok(match a {
        A::Scores(r) => serde_json::to_value(scores(s, &hearken_query::Scope::all(), r)?),
        A::Pareto(r) => serde_json::to_value(pareto(s, &hearken_query::Scope::all(), r)?),
        A::Drivers(r) => serde_json::to_value(drivers(s, &hearken_query::Scope::all(), r)?),
        A::Trends(r) => serde_json::to_value(trends(s, &hearken_query::Scope::all(), r)?),
        A::Repeats(r) => serde_json::to_value(repeats(s, &hearken_query::Scope::all(), r)?),
        A::Issues(r) => serde_json::to_value(issues(s, &hearken_query::Scope::all(), r)?),
        A::Themes(r) => serde_json::to_value(themes(s, &hearken_query::Scope::all(), r)?),
    }
    .unwrap())
}

#[test]
fn every_analytic_table_is_pinned() {
    let f = fixture();
    for (name, a) in cases() {
        let req = analytic(a);
        match f.try_export(&req, Format::Csv, &hearken_query::Scope::all()) {
            Ok(csv) => insta::assert_snapshot!(name, String::from_utf8(csv).unwrap()),
            Err(e) => insta::assert_snapshot!(name, format!("refused: {} {e}", e.code())),
        }
    }
}

/// Compares one table row with a JSON entry: every column named like a scalar of the entry
/// has exactly its value (lists as JSON text).
fn same(row: &Value, entry: &Value, what: &str) -> usize {
    let mut compared = 0;
    for (k, v) in row.as_object().unwrap() {
        let Some(want) = entry.get(k) else { continue };
        let want = match want {
            Value::Array(_) => Value::String(want.to_string()),
            w => w.clone(),
        };
        if k == "start" {
            // Unix seconds in JSON, ISO 8601 in the export.
            let secs = want.as_i64().unwrap();
            assert_eq!(
                v.as_str().unwrap(),
                hearken_export::iso8601_string(secs),
                "{what}.{k}"
            );
        } else if let (Some(a), Some(b)) = (v.as_f64(), want.as_f64()) {
            assert_eq!(a, b, "{what}.{k}");
        } else {
            assert_eq!(v, &want, "{what}.{k}");
        }
        compared += 1;
    }
    compared
}

#[test]
fn every_cell_is_the_value_of_the_json_answer() {
    let f = fixture();
    for (name, a) in cases() {
        let Ok(json) = answer(&f, &a) else { continue };
        let rows = f.jsonl(&analytic(a.clone()));
        let entries: Vec<Value> = match &a {
            A::Scores(_) => match json["kind"].as_str() {
                Some("groups") => json["groups"].as_array().unwrap().clone(),
                Some("change") => vec![json["change"].clone()],
                _ => vec![json.clone()],
            },
            A::Pareto(_) => json["top"].as_array().unwrap().clone(),
            A::Drivers(_) => json["drivers"].as_array().unwrap().clone(),
            A::Trends(_) => json["topics"]
                .as_array()
                .unwrap()
                .iter()
                .flat_map(|t| t["points"].as_array().unwrap().clone())
                .collect(),
            A::Repeats(_) => std::iter::once(json.clone())
                .chain(json["by_topic"].as_array().unwrap().iter().cloned())
                .chain(json["by_product"].as_array().unwrap().iter().cloned())
                .collect(),
            A::Issues(_) => json["issues"].as_array().unwrap().clone(),
            A::Themes(_) => json["themes"].as_array().unwrap().clone(),
        };
        assert_eq!(rows.len(), entries.len(), "{name}: one row per entry");
        assert!(!rows.is_empty(), "{name}");
        let mut compared = 0;
        for (i, (row, entry)) in rows.iter().zip(&entries).enumerate() {
            compared += same(row, entry, &format!("{name}[{i}]"));
        }
        assert!(
            compared >= rows.len() * 3,
            "{name}: {compared} values compared"
        );
    }
}

#[test]
fn a_scoped_callers_analytic_table_is_the_table_of_its_slice() {
    let f = fixture();
    let scope = hearken_query::Scope {
        segments: vec!["smb".into()],
        teams: Vec::new(),
    };
    let scoped = f
        .try_export(
            &analytic(A::Scores(ScoresRequest::default())),
            Format::Csv,
            &scope,
        )
        .unwrap();
    let filtered = f.export(
        &analytic(A::Scores(ScoresRequest {
            segment: Some("smb".into()),
            ..ScoresRequest::default()
        })),
        Format::Csv,
    );
    let whole = f.export(&analytic(A::Scores(ScoresRequest::default())), Format::Csv);
    assert_eq!(scoped, filtered, "the scope is the slice's figures");
    assert_ne!(scoped, whole, "the slice differs from the whole store");
}

#[test]
fn analytic_refusals_keep_the_query_layer_codes() {
    let f = fixture();
    let e = f
        .try_export(
            &analytic(A::Scores(ScoresRequest {
                segment: Some("gold".into()),
                ..ScoresRequest::default()
            })),
            Format::Jsonl,
            &hearken_query::Scope::all(),
        )
        .unwrap_err();
    assert_eq!(e.code(), "unknown_filter_value", "{e}");
}
