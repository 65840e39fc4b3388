//! Per-group and windowed figures of real logs (`flow --by`, `--from/--to`, the filters) against
//! pandas on PM4Py's dataframe (fixture: tools/reference/flow/make_reference.py, "groups" and
//! "windows"); and the promise that a filter on a value answers exactly the group of that value.

use hearken_eventlog::{ReadOptions, read_path};
use hearken_flow::{
    CaseFilter, Dimension, FlowConfig, FlowQuery, FlowReport, GroupBy, QueryError, run_query,
};
use serde_json::Value;

use crate::helpers::{close, data, reference};

fn log_of(file: &str) -> hearken_flow::EventLog {
    let (log, q) = read_path(&data(file), &ReadOptions::default()).unwrap();
    assert!(q.is_empty(), "{q:?}");
    log
}

fn fixture(file: &str) -> Value {
    reference()["logs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["file"] == file)
        .unwrap()
        .clone()
}

fn same_figures(r: &FlowReport, want: &Value, what: &str) {
    let u = |k: &str| want[k].as_u64().unwrap();
    assert_eq!(r.cases, u("cases"), "{what}: cases");
    assert_eq!(r.events, u("events"), "{what}: events");
    assert_eq!(r.transfers_total, u("transfers_total"), "{what}: transfers");
    assert_eq!(
        r.first_owner_cases,
        u("first_owner_cases"),
        "{what}: first-owner cases"
    );
    assert_eq!(
        r.first_owner_resolved,
        u("first_owner_resolved"),
        "{what}: first-owner resolved"
    );
    close(
        r.median_case_duration_hours,
        &want["median_case_duration_hours"],
        &format!("{what}: median"),
    );
    close(
        r.p90_case_duration_hours,
        &want["p90_case_duration_hours"],
        &format!("{what}: p90"),
    );
}

fn group_by(name: &str) -> GroupBy {
    match name {
        "team" => GroupBy::Team,
        "agent" => GroupBy::Agent,
        other => GroupBy::Attribute(other.to_string()),
    }
}

fn dimension(name: &str) -> Dimension {
    match name {
        "team" => Dimension::Team,
        "agent" => Dimension::Agent,
        other => Dimension::Attribute(other.to_string()),
    }
}

fn check_groups(file: &str) {
    let log = log_of(file);
    let want = fixture(file);
    let groups = want["groups"].as_object().unwrap();
    assert!(!groups.is_empty());
    for (name, expected) in groups {
        let q = FlowQuery {
            config: FlowConfig {
                group_by: Some(group_by(name)),
                ..FlowConfig::default()
            },
            ..FlowQuery::default()
        };
        let r = run_query(&log, &q).unwrap();
        let g = r.groups.as_ref().unwrap();
        let expected = expected.as_object().unwrap();
        let keys: Vec<&str> = g.groups.iter().map(|x| x.key.as_str()).collect();
        let mut want_keys: Vec<&str> = expected.keys().map(String::as_str).collect();
        want_keys.sort_unstable();
        assert_eq!(keys, want_keys, "{file} by {name}: the groups");
        for grp in &g.groups {
            let what = format!("{file} by {name} = {}", grp.key);
            same_figures(&grp.report, &expected[&grp.key], &what);
            if grp.key == "(none)" {
                continue;
            }
            // The filter on this value answers exactly this group.
            let filtered = run_query(
                &log,
                &FlowQuery {
                    filter: CaseFilter {
                        equals: vec![(dimension(name), grp.key.clone())],
                        ..CaseFilter::default()
                    },
                    ..FlowQuery::default()
                },
            )
            .unwrap();
            same_figures(&filtered, &expected[&grp.key], &format!("{what} (filter)"));
            let sel = filtered.selection.as_ref().unwrap();
            assert_eq!(sel.cases_selected, grp.report.cases);
            assert_eq!(sel.cases_in_log, r.cases);
        }
    }
}

fn check_windows(file: &str) {
    let log = log_of(file);
    for w in fixture(file)["windows"].as_array().unwrap() {
        let ms = |k: &str| {
            chrono::DateTime::parse_from_rfc3339(w[k].as_str().unwrap())
                .unwrap()
                .timestamp_millis()
        };
        let q = FlowQuery {
            filter: CaseFilter {
                started_from_ms: Some(ms("from")),
                started_before_ms: Some(ms("before")),
                ..CaseFilter::default()
            },
            ..FlowQuery::default()
        };
        let r = run_query(&log, &q).unwrap();
        same_figures(&r, &w["figures"], &format!("{file} window {w}"));
        let s = r.selection.unwrap();
        assert_eq!(s.cases_selected, r.cases);
        assert!(s.cases_selected < s.cases_in_log);
        assert!(s.window.unwrap().meaning.contains("started"));
    }
}

#[test]
fn receipt_groups_match_pandas() {
    check_groups("receipt.xes.gz");
}

#[test]
fn helpdesk_groups_match_pandas() {
    check_groups("helpdesk.xes.gz");
}

#[test]
fn windows_select_cases_that_started_in_them_like_pandas() {
    check_windows("receipt.xes.gz");
    check_windows("helpdesk.xes.gz");
}

/// What a log lacks is refused with what it has, and a value no case has lists the values.
#[test]
fn missing_attributes_and_unknown_values_are_refused() {
    let log = log_of("helpdesk.xes.gz");
    let ask = |filter: CaseFilter, group_by: Option<GroupBy>| {
        run_query(
            &log,
            &FlowQuery {
                config: FlowConfig {
                    group_by,
                    ..FlowConfig::default()
                },
                filter,
            },
        )
    };
    let segment = CaseFilter {
        equals: vec![(Dimension::Attribute("segment".into()), "smb".into())],
        ..CaseFilter::default()
    };
    let e = ask(segment, None).unwrap_err();
    let m = e.to_string();
    assert!(matches!(e, QueryError::MissingDimension { .. }), "{m}");
    assert!(
        m.contains("segment") && m.contains("customer, product") && m.contains("workgroup"),
        "{m}"
    );
    let e = ask(CaseFilter::default(), Some(GroupBy::Team)).unwrap_err();
    assert!(e.to_string().contains("names a team"), "{e}");
    let nosuch = CaseFilter {
        equals: vec![(Dimension::Attribute("product".into()), "value 1".into())],
        ..CaseFilter::default()
    };
    let m = ask(nosuch, None).unwrap_err().to_string();
    assert!(
        m.contains("no case has product 'value 1'")
            && m.contains("did you mean 'Value 1'")
            && m.contains("Value 10"),
        "{m}"
    );
    let empty = CaseFilter {
        started_from_ms: Some(10),
        started_before_ms: Some(10),
        ..CaseFilter::default()
    };
    assert!(matches!(
        ask(empty, None),
        Err(QueryError::EmptyWindow { .. })
    ));
}
