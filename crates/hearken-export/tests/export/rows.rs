//! Row exports: snapshots, CSV read back by the `csv` crate, every filter against SQL, the
//! data scope, and the refusals.

use hearken_export::{CsvOptions, Dataset, ExportRequest, Format, RowsRequest};
use hearken_query::Scope;
use serde_json::Value;

use crate::helpers::*;

#[test]
fn every_dataset_in_csv_and_jsonl_is_pinned() {
    let f = fixture();
    for &d in Dataset::ALL {
        insta::assert_snapshot!(
            format!("{}_csv", d.as_str().replace('-', "_")),
            f.text(&all(d), Format::Csv)
        );
        insta::assert_snapshot!(
            format!("{}_jsonl", d.as_str().replace('-', "_")),
            f.text(&all(d), Format::Jsonl)
        );
    }
}

/// Every CSV cell, read by the `csv` crate (RFC 4180 quoting), says what the JSON Lines export
/// says: the same texts (a defused formula with its leading `'`), numbers, booleans and times.
#[test]
fn csv_reads_back_as_the_jsonl_values() {
    let f = fixture();
    for &d in Dataset::ALL {
        let csv = f.export(&all(d), Format::Csv);
        assert!(!csv.starts_with(b"\xEF\xBB\xBF"), "no byte-order mark");
        let mut reader = csv::ReaderBuilder::new().from_reader(csv.as_slice());
        let header: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_string)
            .collect();
        let json = f.jsonl(&all(d));
        let records: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(records.len(), json.len(), "{d}");
        for (rec, obj) in records.iter().zip(&json) {
            let mut keys: Vec<&String> = obj.as_object().unwrap().keys().collect();
            let mut names: Vec<&String> = header.iter().collect();
            keys.sort();
            names.sort();
            assert_eq!(keys, names, "{d}: the same columns");
            for (cell, key) in rec.iter().zip(&header) {
                let want = &obj[key.as_str()];
                match want {
                    Value::Null => assert_eq!(cell, "", "{d}.{key}"),
                    Value::String(s) => {
                        let defused =
                            matches!(s.chars().next(), Some('=' | '+' | '-' | '@' | '\t' | '\r'));
                        if defused {
                            assert_eq!(cell, format!("'{s}"), "{d}.{key}");
                        } else {
                            assert_eq!(cell, s, "{d}.{key}");
                        }
                    }
                    Value::Number(n) => {
                        assert_eq!(
                            cell.parse::<f64>().unwrap(),
                            n.as_f64().unwrap(),
                            "{d}.{key}"
                        )
                    }
                    Value::Bool(b) => assert_eq!(cell, b.to_string(), "{d}.{key}"),
                    other => panic!("{d}.{key}: {other}"),
                }
            }
        }
    }
}

#[test]
fn csv_is_rfc_4180_and_defuses_formulas_only_when_asked() {
    let f = fixture();
    let csv = f.text(&all(Dataset::Signals), Format::Csv);
    assert!(csv.ends_with("\r\n"));
    // A text with a line break is quoted and keeps it; quotes are doubled.
    assert!(csv.contains("\"Line 1\nLine 2 after a break\""), "{csv}");
    assert!(
        csv.contains("\"She said \"\"call back\"\" and never did\""),
        "{csv}"
    );
    assert!(csv.contains(",\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\"\r\n"));
    assert!(csv.contains(",'-1 star? No: five stars!\r\n"), "{csv}");
    assert!(csv.contains(",'@team please add a FAQ\r\n"), "{csv}");
    assert!(csv.contains(",'+31 6 1234 5678 call me\r\n"), "{csv}");
    // Numbers are never touched: a negative sentiment stays a number.
    assert!(csv.contains(",-0."), "{csv}");
    let customers = f.text(&all(Dataset::Customers), Format::Csv);
    assert!(
        customers.contains("C3,'=SUM(A1:A9),consumer"),
        "{customers}"
    );

    let mut raw = Vec::new();
    hearken_export::export(
        &f.store,
        &Scope::all(),
        &all(Dataset::Signals),
        Format::Csv,
        &mut raw,
        CsvOptions {
            defuse_formulas: false,
        },
    )
    .unwrap();
    let raw = String::from_utf8(raw).unwrap();
    assert!(raw.contains(",-1 star? No: five stars!\r\n"), "{raw}");
    // JSON Lines is data, never changed.
    let json = f.text(&all(Dataset::Signals), Format::Jsonl);
    assert!(json.contains("\"text\":\"=HYPERLINK("), "{json}");
}

#[test]
fn rows_carry_names_beside_ids_and_times_in_utc() {
    let f = fixture();
    let s = f.jsonl(&all(Dataset::Signals));
    assert_eq!(ids(&s, "signal_id").len(), 12);
    assert_eq!(s[0]["customer_name"], "Smith, \"Jo\"");
    assert_eq!(s[0]["product_name"], "Router X");
    assert_eq!(s[0]["agent_name"], "Cleo");
    assert_eq!(s[0]["team"], "billing");
    assert_eq!(s[0]["segment"], "smb");
    // 11:00 at +01:00 is 10:00 UTC.
    assert_eq!(s[2]["at"], "2024-03-06T10:00:00Z");
    // A customer only referenced (C9) has an id and no name or segment.
    assert_eq!(
        (&s[6]["customer_id"], &s[6]["customer_name"]),
        (&Value::from("C9"), &Value::Null)
    );
    assert_eq!(s[5]["source"], "employee");
    assert_eq!(s[7]["text"], "Überweisung fehlgeschlagen – 😀 ✓");
    // Case events take their case's customer and product (from its signals) and channel.
    let e = f.jsonl(&all(Dataset::CaseEvents));
    let k2: Vec<&Value> = e.iter().filter(|r| r["case_id"] == "K2").collect();
    assert_eq!(k2.len(), 3);
    for r in &k2 {
        assert_eq!(
            (r["customer_id"].as_str(), r["segment"].as_str()),
            (Some("C2"), Some("enterprise"))
        );
        assert_eq!(
            (r["product_name"].as_str(), r["channel"].as_str()),
            (Some("Router X"), Some("chat"))
        );
    }
    // The event's own team, else its agent's.
    assert_eq!(e[2]["team"], "tech", "E3: agent A2's team");
    assert_eq!(e[5]["team"], "tier2", "E6: its own team");
    // Survey aspects are columns, as the import reads them.
    let v = f.jsonl(&all(Dataset::Surveys));
    assert_eq!(
        (
            v[0]["aspect_service"].as_f64(),
            v[0]["aspect_price"].as_f64()
        ),
        (Some(9.0), Some(6.0))
    );
    assert_eq!(v[3]["aspect_price"], Value::Null);
    assert_eq!(v[0]["overall"].as_f64(), Some(8.5));
}

/// Each filter alone selects what SQL selects.
#[test]
fn every_filter_selects_what_sql_selects() {
    let f = fixture();
    let sig = |r: RowsRequest| ids(&f.jsonl(&rows(Dataset::Signals, r)), "signal_id");
    let sql = |cond: &str| {
        f.strings(&format!(
            "SELECT s.ext_id FROM signals s LEFT JOIN customers c ON c.id = s.customer_id
             LEFT JOIN agents a ON a.id = s.agent_id LEFT JOIN products p ON p.id = s.product_id
             WHERE {cond} ORDER BY s.id"
        ))
    };
    let cases: Vec<(RowsRequest, &str)> = vec![
        (
            RowsRequest {
                from: Some("2024-03-11".into()),
                to: Some("2024-03-20".into()),
                ..Default::default()
            },
            "s.at >= strftime('%s','2024-03-11') AND s.at < strftime('%s','2024-03-20')",
        ),
        (
            RowsRequest {
                segment: Some("smb".into()),
                ..Default::default()
            },
            "c.segment = 'smb'",
        ),
        (
            RowsRequest {
                product: Some("P2".into()),
                ..Default::default()
            },
            "p.ext_id = 'P2'",
        ),
        (
            RowsRequest {
                channel: Some("phone".into()),
                ..Default::default()
            },
            "s.channel = 1",
        ),
        (
            RowsRequest {
                agent: Some("A2".into()),
                ..Default::default()
            },
            "a.ext_id = 'A2'",
        ),
        (
            RowsRequest {
                team: Some("billing".into()),
                ..Default::default()
            },
            "a.team = 'billing'",
        ),
        (
            RowsRequest {
                kind: Some("complaint".into()),
                ..Default::default()
            },
            "s.kind = 2",
        ),
        (
            RowsRequest {
                topic: Some("outage".into()),
                ..Default::default()
            },
            "s.topic = 'outage'",
        ),
    ];
    for (req, cond) in cases {
        let want = sql(cond);
        assert!(!want.is_empty() && want.len() < 12, "{cond}: {want:?}");
        assert_eq!(sig(req.clone()), want, "{req:?}");
    }
    // Surveys and case events take the same filters.
    let v = ids(
        &f.jsonl(&rows(
            Dataset::Surveys,
            RowsRequest {
                team: Some("tech".into()),
                ..Default::default()
            },
        )),
        "response_id",
    );
    assert_eq!(v, ["R2", "R4"]);
    let e = ids(
        &f.jsonl(&rows(
            Dataset::CaseEvents,
            RowsRequest {
                segment: Some("enterprise".into()),
                ..Default::default()
            },
        )),
        "event_id",
    );
    assert_eq!(e, ["E4", "E5", "E6"]);
    let e = ids(
        &f.jsonl(&rows(
            Dataset::CaseEvents,
            RowsRequest {
                product: Some("P1".into()),
                channel: Some("phone".into()),
                ..Default::default()
            },
        )),
        "event_id",
    );
    assert_eq!(e, ["E1", "E2", "E3", "E7", "E8", "E9"]);
    let c = ids(
        &f.jsonl(&rows(
            Dataset::Customers,
            RowsRequest {
                segment: Some("consumer".into()),
                ..Default::default()
            },
        )),
        "customer_id",
    );
    assert_eq!(c, ["C3"]);
}

#[test]
fn a_scope_limits_every_row_export_to_its_slice() {
    let f = fixture();
    let smb = Scope {
        segments: vec!["smb".into()],
        teams: Vec::new(),
    };
    let tech = Scope {
        segments: Vec::new(),
        teams: vec!["tech".into()],
    };
    let get = |d: Dataset, scope: &Scope, r: RowsRequest, key: &str| {
        let out = f.try_export(&rows(d, r), Format::Jsonl, scope).unwrap();
        String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| {
                serde_json::from_str::<Value>(l).unwrap()[key]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(
        get(Dataset::Signals, &smb, RowsRequest::default(), "signal_id"),
        f.strings("SELECT s.ext_id FROM signals s JOIN customers c ON c.id = s.customer_id WHERE c.segment = 'smb' ORDER BY s.id")
    );
    assert_eq!(
        get(Dataset::Signals, &tech, RowsRequest::default(), "signal_id"),
        ["S02", "S03", "S09", "S11"]
    );
    let both = Scope {
        segments: vec!["enterprise".into()],
        teams: vec!["tech".into()],
    };
    assert_eq!(
        get(Dataset::Signals, &both, RowsRequest::default(), "signal_id"),
        ["S03", "S11"]
    );
    assert_eq!(
        get(
            Dataset::Surveys,
            &smb,
            RowsRequest::default(),
            "response_id"
        ),
        ["R1", "R4"]
    );
    assert_eq!(
        get(
            Dataset::CaseEvents,
            &tech,
            RowsRequest::default(),
            "event_id"
        ),
        ["E3", "E5"]
    );
    assert_eq!(
        get(
            Dataset::Customers,
            &smb,
            RowsRequest::default(),
            "customer_id"
        ),
        ["C1"]
    );
    // A team scope does not hide customers, only their rows.
    assert_eq!(
        get(
            Dataset::Customers,
            &tech,
            RowsRequest::default(),
            "customer_id"
        )
        .len(),
        5
    );
    // A filter inside the scope narrows within it.
    assert_eq!(
        get(
            Dataset::Signals,
            &tech,
            RowsRequest {
                segment: Some("smb".into()),
                ..Default::default()
            },
            "signal_id"
        ),
        ["S02", "S09"]
    );

    // Outside the scope: refused, not answered with nothing.
    let e = f
        .try_export(
            &rows(
                Dataset::Signals,
                RowsRequest {
                    segment: Some("enterprise".into()),
                    ..Default::default()
                },
            ),
            Format::Csv,
            &smb,
        )
        .unwrap_err();
    assert_eq!((e.code(), e.status()), ("out_of_scope", 403), "{e}");
    let e = f
        .try_export(
            &rows(
                Dataset::Signals,
                RowsRequest {
                    team: Some("billing".into()),
                    ..Default::default()
                },
            ),
            Format::Csv,
            &tech,
        )
        .unwrap_err();
    assert_eq!(e.code(), "out_of_scope", "{e}");
    // An agent of another team is unknown to a team-scoped caller; the list names only its own.
    let e = f
        .try_export(
            &rows(
                Dataset::Signals,
                RowsRequest {
                    agent: Some("A1".into()),
                    ..Default::default()
                },
            ),
            Format::Csv,
            &tech,
        )
        .unwrap_err();
    assert_eq!(e.code(), "unknown_filter_value", "{e}");
    assert_eq!(e.to_string(), "unknown agent 'A1' (known: A2)");
    // A segment of the scope that no customer has is unknown; the list names only the scope's.
    let wide = Scope {
        segments: vec!["smb".into(), "ghost".into()],
        teams: Vec::new(),
    };
    let e = f
        .try_export(
            &rows(
                Dataset::Surveys,
                RowsRequest {
                    segment: Some("ghost".into()),
                    ..Default::default()
                },
            ),
            Format::Csv,
            &wide,
        )
        .unwrap_err();
    assert_eq!(e.to_string(), "unknown segment 'ghost' (known: smb)");
}

#[test]
fn what_cannot_be_honoured_is_refused_with_a_code_and_the_known_values() {
    let f = fixture();
    let refuse = |d: Dataset, r: RowsRequest| {
        f.try_export(&rows(d, r), Format::Csv, &Scope::all())
            .map(|_| ())
            .unwrap_err()
    };
    let e = refuse(
        Dataset::Signals,
        RowsRequest {
            segment: Some("gold".into()),
            ..Default::default()
        },
    );
    assert_eq!(e.code(), "unknown_filter_value");
    assert_eq!(
        e.to_string(),
        "unknown segment 'gold' (known: consumer, enterprise, smb)"
    );
    assert_eq!(e.status(), 400);
    let e = refuse(
        Dataset::Signals,
        RowsRequest {
            channel: Some("fax".into()),
            ..Default::default()
        },
    );
    assert!(
        e.to_string()
            .starts_with("unknown channel 'fax' (known: chat, email,"),
        "{e}"
    );
    let e = refuse(
        Dataset::Signals,
        RowsRequest {
            kind: Some("rant".into()),
            ..Default::default()
        },
    );
    assert!(e.to_string().contains("complaint"), "{e}");
    let e = refuse(
        Dataset::Signals,
        RowsRequest {
            topic: Some("weather".into()),
            ..Default::default()
        },
    );
    assert_eq!(
        e.to_string(),
        "unknown topic 'weather' (known: billing, outage, praise)"
    );
    let e = refuse(
        Dataset::Surveys,
        RowsRequest {
            product: Some("P7".into()),
            ..Default::default()
        },
    );
    assert_eq!(e.to_string(), "unknown product 'P7' (known: P1, P2)");
    let e = refuse(
        Dataset::Signals,
        RowsRequest {
            agent: Some("A9".into()),
            ..Default::default()
        },
    );
    assert_eq!(e.to_string(), "unknown agent 'A9' (known: A1, A2, A3)");
    let e = refuse(
        Dataset::Surveys,
        RowsRequest {
            kind: Some("complaint".into()),
            ..Default::default()
        },
    );
    assert_eq!(e.code(), "unsupported_filter", "{e}");
    let e = refuse(
        Dataset::CaseEvents,
        RowsRequest {
            topic: Some("billing".into()),
            ..Default::default()
        },
    );
    assert_eq!(e.code(), "unsupported_filter", "{e}");
    let e = refuse(
        Dataset::Customers,
        RowsRequest {
            from: Some("2024-01-01".into()),
            ..Default::default()
        },
    );
    assert_eq!(e.code(), "unsupported_filter", "{e}");
    let e = refuse(
        Dataset::Signals,
        RowsRequest {
            from: Some("soon".into()),
            ..Default::default()
        },
    );
    assert_eq!(e.code(), "invalid_date", "{e}");
    let e = refuse(
        Dataset::Signals,
        RowsRequest {
            from: Some("2024-03-10".into()),
            to: Some("2024-03-01".into()),
            ..Default::default()
        },
    );
    assert_eq!(e.code(), "empty_window", "{e}");
    assert!(e.hint().is_some());
}

/// The request reads from a query string as the server will (axum's `Query` uses
/// serde_urlencoded), unknown fields refused.
#[test]
fn the_rows_request_reads_from_a_query_string() {
    let r: RowsRequest =
        serde_json::from_value(serde_json::json!({"segment": "smb", "kind": "complaint"})).unwrap();
    assert_eq!(
        (r.segment.as_deref(), r.kind.as_deref()),
        (Some("smb"), Some("complaint"))
    );
    assert!(serde_json::from_value::<RowsRequest>(serde_json::json!({"segmnt": "smb"})).is_err());
    let d: Dataset = serde_json::from_value(serde_json::json!("case-events")).unwrap();
    assert_eq!(d, Dataset::CaseEvents);
    assert_eq!("case-events".parse::<Dataset>(), Ok(Dataset::CaseEvents));
    for f in Format::ALL {
        assert_eq!(f.extension(), f.as_str());
        assert!(!f.content_type().is_empty());
    }
    assert_eq!(
        Format::Csv.content_type(),
        "text/csv; charset=utf-8; header=present"
    );
    let _: ExportRequest = all(Dataset::Signals);
}

/// Nothing is written before every check has passed: a refused export writes no byte.
#[test]
fn a_refused_export_writes_nothing() {
    let f = fixture();
    let mut out = Vec::new();
    let r = hearken_export::export(
        &f.store,
        &Scope::all(),
        &rows(
            Dataset::Signals,
            RowsRequest {
                segment: Some("gold".into()),
                ..Default::default()
            },
        ),
        Format::Parquet,
        &mut out,
        CsvOptions::default(),
    );
    assert!(r.is_err());
    assert!(out.is_empty());
}

/// docs/formats.md lists every column of every row export with its type, in order.
#[test]
fn formats_md_documents_every_row_export_column() {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/formats.md"
    ))
    .unwrap();
    let exports = doc
        .split("## Exports")
        .nth(1)
        .expect("docs/formats.md has ## Exports");
    for (section, spec) in [
        ("### signals", hearken_export::SIGNAL_COLUMNS),
        ("### surveys", hearken_export::SURVEY_COLUMNS),
        ("### case-events", hearken_export::CASE_EVENT_COLUMNS),
        ("### customers", hearken_export::CUSTOMER_COLUMNS),
    ] {
        let body = exports
            .split(section)
            .nth(1)
            .unwrap_or_else(|| panic!("no {section}"));
        let body = body.split("\n### ").next().unwrap();
        let documented: Vec<(String, String)> = body
            .lines()
            .filter(|l| l.starts_with("| `"))
            .map(|l| {
                let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                (cells[1].trim_matches('`').to_string(), cells[2].to_string())
            })
            .filter(|(name, _)| name != "aspect_NAME")
            .collect();
        let code: Vec<(String, String)> = spec
            .iter()
            .map(|(n, t)| (n.to_string(), t.name().to_string()))
            .collect();
        assert_eq!(documented, code, "{section}");
    }
}
