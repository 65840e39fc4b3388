//! Case flow through the query layer: the store's case events or a caller's log under one
//! request, names beside ids, and refusals by their codes.

use hearken_flow::{CaseEventColumns, EventLog, FlowQuery};
use hearken_query::*;

use crate::helpers::*;

#[test]
fn flow_names_agents_handover_partners_and_groups() {
    let o = org(300, 3);
    let r = flow(&o.store, &Scope::all(), &FlowRequest::default()).unwrap();
    assert_eq!(
        r.report.cases,
        o.count("SELECT count(DISTINCT case_id) FROM case_events")
    );
    assert_eq!(r.report.events, o.count("SELECT count(*) FROM case_events"));
    assert!(!r.report.agents.is_empty());
    for a in &r.report.agents {
        assert_eq!(a.name, o.name_of("agents", &a.agent), "{}", a.agent);
        let team = o.strings(&format!(
            "SELECT team FROM agents WHERE ext_id = '{}' AND team IS NOT NULL",
            a.agent
        ));
        assert_eq!(a.team, team.first().cloned(), "{}", a.agent);
    }
    assert!(r.report.agents.iter().any(|a| a.name.is_some()));
    for h in &r.report.handovers {
        assert_eq!(h.from_name, o.name_of("agents", &h.from));
        assert_eq!(h.to_name, o.name_of("agents", &h.to));
    }
    let v = json(&r);
    assert!(v["agents"][0]["name"].is_string(), "{}", v["agents"][0]);
    assert!(v.get("partial").is_some() && v.get("cases").is_some());
    for (by, table) in [
        (FlowBy::Agent, "agents"),
        (FlowBy::Product, "products"),
        (FlowBy::Customer, "customers"),
    ] {
        let g = flow(
            &o.store,
            &Scope::all(),
            &FlowRequest {
                by: Some(by),
                ..FlowRequest::default()
            },
        )
        .unwrap();
        let groups = &g.report.groups.as_ref().unwrap().groups;
        assert!(groups.len() > 1, "{by}");
        for x in groups {
            assert_eq!(x.name, o.name_of(table, &x.key), "{by} {}", x.key);
            for a in &x.report.agents {
                assert_eq!(a.name, o.name_of("agents", &a.agent));
            }
        }
        assert!(groups.iter().any(|x| x.name.is_some()), "{by}");
    }
}

#[test]
fn flow_refusals_have_codes_and_name_the_request_field() {
    let o = org(200, 2);
    let ask = |r: FlowRequest| code(flow(&o.store, &Scope::all(), &r));
    let (c, m) = ask(FlowRequest {
        team: Some("nosuch".into()),
        ..FlowRequest::default()
    });
    assert_eq!(c, "unknown_filter_value");
    assert!(
        m.starts_with("`team` nosuch: no case has team 'nosuch'"),
        "{m}"
    );
    let (c, m) = ask(FlowRequest {
        by_attribute: Some("department".into()),
        ..FlowRequest::default()
    });
    assert_eq!(c, "unsupported_group");
    assert!(m.starts_with("`by_attribute` department"), "{m}");
    let (c, _) = ask(FlowRequest {
        by: Some(FlowBy::Team),
        by_attribute: Some("department".into()),
        ..FlowRequest::default()
    });
    assert_eq!(c, "conflicting_options");
    let (c, _) = ask(FlowRequest {
        from: Some("yesterday-ish".into()),
        ..FlowRequest::default()
    });
    assert_eq!(c, "invalid_date");
    let (c, _) = ask(FlowRequest {
        from: Some("2025-03-01".into()),
        to: Some("2025-01-01".into()),
        ..FlowRequest::default()
    });
    assert_eq!(c, "empty_window");
    // A request from JSON, with the organisation's flow configuration in it.
    let req: FlowRequest = serde_json::from_str(
        r#"{"by": "month", "escalation": ["escalated"],
            "flow_config": {"closing": ["closed", "resolved"]}}"#,
    )
    .unwrap();
    let r = flow(&o.store, &Scope::all(), &req).unwrap();
    let rules = json(&r)["rules"].clone();
    assert_eq!(rules["closing"]["source"], "configured", "{rules}");
    assert_eq!(r.report.groups.unwrap().by, "month");
    assert!(serde_json::from_str::<FlowRequest>(r#"{"groupby": "month"}"#).is_err());
}

#[test]
fn a_log_answers_through_the_same_request() {
    let h = 3_600_000;
    let case = ["K1", "K1", "K1", "K2", "K2"];
    let at = [0, h, 5 * h, 2 * h, 3 * h];
    let activity = ["new", "open", "closed", "new", "closed"];
    let agent = [
        Some("ann"),
        Some("bob"),
        Some("bob"),
        Some("cy"),
        Some("cy"),
    ];
    let team = [Some("L1"), Some("L2"), Some("L2"), Some("L1"), Some("L1")];
    let text: [Option<&str>; 5] = [None; 5];
    let log = EventLog::from_columns(CaseEventColumns {
        case: &case,
        at_ms: &at,
        activity: &activity,
        agent: &agent,
        team: &team,
        text: &text,
        sentiment: None,
        attributes: &[],
    })
    .unwrap();
    let req = FlowRequest {
        team: Some("L2".into()),
        ..FlowRequest::default()
    };
    let r = flow_of_log(&log, &req).unwrap();
    let direct = hearken_flow::run_query(
        &log,
        &FlowQuery {
            filter: hearken_flow::CaseFilter {
                equals: vec![(hearken_flow::Dimension::Team, "L2".into())],
                ..hearken_flow::CaseFilter::default()
            },
            ..FlowQuery::default()
        },
    )
    .unwrap();
    assert_eq!(r.report, direct);
    assert_eq!((r.report.cases, r.report.transfers_total), (1, 1));
    assert!(r.partial.is_none());
    let (c, m) = code(flow_of_log(
        &log,
        &FlowRequest {
            segment: Some("smb".into()),
            ..FlowRequest::default()
        },
    ));
    assert_eq!(c, "unsupported_filter", "{m}");
}

#[test]
fn a_flow_request_reads_from_a_query_string() {
    let req: FlowRequest =
        serde_urlencoded::from_str("by=month&team=billing&from=2025-01-01&customer=C1").unwrap();
    assert_eq!(
        (
            req.by,
            req.team.as_deref(),
            req.from.as_deref(),
            req.customer.as_deref()
        ),
        (
            Some(FlowBy::Month),
            Some("billing"),
            Some("2025-01-01"),
            Some("C1")
        )
    );
    assert!(req.escalation.is_empty() && req.flow_config.is_none());
    assert!(serde_urlencoded::from_str::<FlowRequest>("by=fortnight").is_err());
    assert!(serde_urlencoded::from_str::<FlowRequest>("bye=month").is_err());
}

/// A report without the display names the query layer adds (a bare log has none).
fn unnamed(mut r: hearken_flow::FlowReport) -> hearken_flow::FlowReport {
    for a in &mut r.agents {
        a.name = None;
        a.team = None;
    }
    for h in &mut r.handovers {
        h.from_name = None;
        h.to_name = None;
    }
    if let Some(g) = &mut r.groups {
        for x in &mut g.groups {
            x.name = None;
            x.report = unnamed(x.report.clone());
        }
    }
    r
}

#[test]
fn a_window_reads_its_cases_only_and_answers_as_the_whole_log() {
    let o = org(300, 3);
    // The reference: hearken-flow on every case event of the store.
    let rows = o
        .store
        .case_event_rows(&hearken_store::Window::default())
        .unwrap();
    let at_ms: Vec<i64> = rows.at.iter().map(|t| t * 1000).collect();
    fn strs(v: &[String]) -> Vec<&str> {
        v.iter().map(String::as_str).collect()
    }
    fn opt(v: &[Option<String>]) -> Vec<Option<&str>> {
        v.iter().map(Option::as_deref).collect()
    }
    let whole = EventLog::from_columns(CaseEventColumns {
        case: &strs(&rows.case),
        at_ms: &at_ms,
        activity: &strs(&rows.activity),
        agent: &opt(&rows.agent),
        team: &opt(&rows.team),
        text: &opt(&rows.text),
        sentiment: Some(&rows.sentiment),
        attributes: &[],
    })
    .unwrap();
    let check = |req: FlowRequest| {
        let got = flow(&o.store, &Scope::all(), &req);
        let query = match hearken_query::flow::flow_query(&Scope::all(), &req) {
            Ok(q) => q,
            Err(e) => {
                assert_eq!(got.unwrap_err().to_string(), e.to_string(), "{req:?}");
                return;
            }
        };
        let want = hearken_flow::run_query(&whole, &query);
        match (want, got) {
            (Ok(w), Ok(g)) => {
                assert_eq!(unnamed(g.report), w, "{req:?}");
            }
            (Err(w), Err(g)) => assert!(g.to_string().contains(&w.to_string()), "{w} / {g}"),
            (w, g) => panic!("{req:?}: {w:?} / {g:?}"),
        }
    };
    let (lo, hi): (i64, i64) = o
        .sql
        .query_row("SELECT min(at), max(at) FROM case_events", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    let window = |from: Option<String>, to: Option<String>| {
        FlowRequest::default().with_filters(Filters {
            from,
            to,
            ..Filters::default()
        })
    };
    // Every week of the log, and the week before it starts (no case started then).
    let mut day = lo - 7 * 86_400;
    let mut weeks = 0;
    while day <= hi {
        check(window(Some(o.day(day)), Some(o.day(day + 7 * 86_400))));
        day += 7 * 86_400;
        weeks += 1;
    }
    assert!(weeks >= 12, "{weeks}");
    let mid = o.day((lo + hi) / 2);
    check(window(Some(mid.clone()), None));
    check(window(None, Some(mid.clone())));
    check(window(Some("2040-01-01".into()), Some("2040-02-01".into())));
    check(window(Some(mid.clone()), Some(mid.clone())));
    // Grouped by period; rules configured (one name the log does not have).
    let month = window(Some(o.day(lo + 30 * 86_400)), Some(o.day(lo + 61 * 86_400)));
    check(FlowRequest {
        by: Some(FlowBy::Week),
        ..month.clone()
    });
    check(FlowRequest {
        escalation: vec!["escalated".into(), "nosuch".into()],
        closing: vec!["resolved".into()],
        ..month.clone()
    });
    // The report says how many cases the whole log has, also for an empty window.
    let empty = flow(
        &o.store,
        &Scope::all(),
        &window(Some("2040-01-01".into()), None),
    )
    .unwrap();
    let sel = empty.report.selection.unwrap();
    assert_eq!(
        (sel.cases_in_log, sel.cases_selected),
        (
            o.count("SELECT count(DISTINCT case_id) FROM case_events"),
            0
        )
    );
    assert!(
        empty
            .report
            .notes
            .iter()
            .any(|n| n == "no case matches the selection")
    );
}

#[test]
fn the_events_of_some_cases_are_theirs_in_import_order() {
    let o = org(200, 2);
    let all = o
        .store
        .case_event_rows(&hearken_store::Window::default())
        .unwrap();
    let ids: Vec<i64> = o
        .strings("SELECT CAST(id AS TEXT) FROM cases WHERE id % 3 = 1 ORDER BY id DESC")
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
    let names: std::collections::HashSet<String> = o
        .strings("SELECT ext_id FROM cases WHERE id % 3 = 1")
        .into_iter()
        .collect();
    let some = o.store.case_event_rows_of(&ids).unwrap();
    let keep: Vec<usize> = (0..all.case.len())
        .filter(|&i| names.contains(&all.case[i]))
        .collect();
    assert!(keep.len() > 10 && keep.len() < all.case.len());
    assert_eq!(some.case.len(), keep.len());
    for (j, &i) in keep.iter().enumerate() {
        assert_eq!(
            (
                &some.case[j],
                some.at[j],
                &some.activity[j],
                &some.agent[j],
                &some.team[j],
                &some.text[j],
                some.sentiment[j]
            ),
            (
                &all.case[i],
                all.at[i],
                &all.activity[i],
                &all.agent[i],
                &all.team[i],
                &all.text[i],
                all.sentiment[i]
            )
        );
    }
}
