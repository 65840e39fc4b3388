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
