//! `run_query`: every filter selects the cases it names (and nothing is ignored), a time window
//! selects the cases that started in it with all their events, every grouping partitions the
//! cases and answers like the filter on its value, escalations and closing activities are
//! recognised by default and the rule in force is reported.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};

use hearken_flow::{
    CaseFilter, Dimension, Event, EventLog, EventLogBuilder, FlowConfig, FlowQuery, FlowReport,
    GroupBy, Period, QueryError, RuleSource, analyze, render_text, run_query,
};
use proptest::prelude::*;

const H: i64 = 3_600_000;

/// (case, activity, hour, agent, team, product)
type Row = (u8, u8, i64, Option<u8>, Option<u8>, Option<u8>);

fn build(rows: &[Row], activities: &[&str]) -> EventLog {
    let mut b = EventLogBuilder::new();
    let product = b.attribute_column("product");
    for &(c, a, t, agent, team, prod) in rows {
        let case = format!("c{c}");
        let agent = agent.map(|x| format!("a{x}"));
        let team = team.map(|x| format!("t{x}"));
        let prod = prod.map(|x| format!("p{x}"));
        let attrs: Vec<(usize, &str)> = prod.as_deref().map(|p| (product, p)).into_iter().collect();
        b.push(&Event {
            case: &case,
            activity: activities[a as usize % activities.len()],
            time_ms: t * H,
            resource: agent.as_deref(),
            team: team.as_deref(),
            text: None,
            attributes: &attrs,
        })
        .unwrap();
    }
    b.finish()
}

const ACTS: &[&str] = &[
    "new",
    "assigned",
    "Escalated",
    "resolved",
    "reopened",
    "closed",
];

fn rows() -> impl Strategy<Value = Vec<Row>> {
    prop::collection::vec(
        (
            0u8..15,
            0u8..6,
            0i64..200,
            prop::option::weighted(0.8, 0u8..4),
            prop::option::weighted(0.7, 0u8..3),
            prop::option::weighted(0.6, 0u8..3),
        ),
        1..150,
    )
}

/// The figures that must agree between a group and the filter on its value.
fn figures(r: &FlowReport) -> (u64, u64, u64, u64, u64, u64, Option<f64>) {
    (
        r.cases,
        r.events,
        r.transfers_total,
        r.loops_total,
        r.escalation.escalations_total,
        r.first_owner_resolved,
        r.median_case_duration_hours,
    )
}

/// A naive case value: sorts a case's events by (time, input order) and takes the first (or
/// last) one that has a value.
fn naive_values(rows: &[Row], pick: impl Fn(&Row) -> Option<u8>, last: bool) -> BTreeMap<u8, u8> {
    let mut by_case: BTreeMap<u8, Vec<(i64, usize)>> = BTreeMap::new();
    for (i, r) in rows.iter().enumerate() {
        by_case.entry(r.0).or_default().push((r.2, i));
    }
    let mut out = BTreeMap::new();
    for (case, mut evs) in by_case {
        evs.sort();
        if last {
            evs.reverse();
        }
        if let Some(v) = evs.iter().find_map(|&(_, i)| pick(&rows[i])) {
            out.insert(case, v);
        }
    }
    out
}

proptest! {
    #[test]
    fn a_group_answers_like_the_filter_on_its_value(rows in rows()) {
        let log = build(&rows, ACTS);
        for (by, dim) in [
            (GroupBy::Team, Dimension::Team),
            (GroupBy::Agent, Dimension::Agent),
            (GroupBy::Attribute("product".into()), Dimension::Attribute("product".into())),
        ] {
            let grouped = run_query(&log, &FlowQuery {
                config: FlowConfig { group_by: Some(by.clone()), ..FlowConfig::default() },
                ..FlowQuery::default()
            });
            let Ok(grouped) = grouped else {
                // Only when the log has no value at all for the dimension.
                continue;
            };
            let groups = grouped.groups.as_ref().unwrap();
            prop_assert_eq!(groups.groups.iter().map(|g| g.report.cases).sum::<u64>(), grouped.cases);
            prop_assert_eq!(groups.groups.iter().map(|g| g.report.events).sum::<u64>(), grouped.events);
            for g in groups.groups.iter().filter(|g| g.key != "(none)") {
                let filtered = run_query(&log, &FlowQuery {
                    filter: CaseFilter { equals: vec![(dim.clone(), g.key.clone())], ..CaseFilter::default() },
                    ..FlowQuery::default()
                }).unwrap();
                prop_assert_eq!(figures(&filtered), figures(&g.report), "{:?} = {}", by, g.key);
            }
        }
    }

    #[test]
    fn case_values_are_the_first_or_last_event_that_has_one(rows in rows()) {
        let log = build(&rows, ACTS);
        let count = |dim: Dimension, value: String| {
            run_query(&log, &FlowQuery {
                filter: CaseFilter { equals: vec![(dim, value)], ..CaseFilter::default() },
                ..FlowQuery::default()
            }).map(|r| r.cases)
        };
        let checks: [(Dimension, &str, BTreeMap<u8, u8>); 3] = [
            (Dimension::Team, "t", naive_values(&rows, |r| r.4, true)),
            (Dimension::Agent, "a", naive_values(&rows, |r| r.3, false)),
            (Dimension::Attribute("product".into()), "p", naive_values(&rows, |r| r.5, false)),
        ];
        for (dim, prefix, values) in checks {
            let distinct: BTreeSet<u8> = values.values().copied().collect();
            for v in 0u8..4 {
                let want = values.values().filter(|&&x| x == v).count() as u64;
                match count(dim.clone(), format!("{prefix}{v}")) {
                    Ok(n) => prop_assert_eq!(n, want, "{:?} {}", dim, v),
                    // Refused exactly when no case has the value.
                    Err(QueryError::UnknownValue { .. }) | Err(QueryError::MissingDimension { .. }) => {
                        prop_assert!(!distinct.contains(&v), "{:?} {} refused", dim, v);
                    }
                    Err(e) => prop_assert!(false, "{e}"),
                }
            }
        }
    }

    #[test]
    fn a_window_keeps_the_cases_that_started_in_it_with_all_their_events(
        rows in rows(), from in 0i64..200, len in 1i64..100,
    ) {
        let log = build(&rows, ACTS);
        let q = FlowQuery {
            filter: CaseFilter {
                started_from_ms: Some(from * H),
                started_before_ms: Some((from + len) * H),
                ..CaseFilter::default()
            },
            ..FlowQuery::default()
        };
        let r = run_query(&log, &q).unwrap();
        let mut start: BTreeMap<u8, i64> = BTreeMap::new();
        for row in &rows {
            let s = start.entry(row.0).or_insert(row.2);
            *s = (*s).min(row.2);
        }
        let kept: BTreeSet<u8> = start
            .iter()
            .filter(|(_, s)| **s >= from && **s < from + len)
            .map(|(c, _)| *c)
            .collect();
        let events = rows.iter().filter(|r| kept.contains(&r.0)).count() as u64;
        prop_assert_eq!(r.cases, kept.len() as u64);
        prop_assert_eq!(r.events, events, "all events of a kept case, also after the window");
        let sel = r.selection.unwrap();
        prop_assert_eq!(sel.cases_in_log, start.len() as u64);
    }
}

#[test]
fn escalations_and_closings_are_recognised_by_default() {
    // c0: new, Escalated, closed; c1: new, assigned (open); c2: new, Escalated (open).
    let rows: Vec<Row> = vec![
        (0, 0, 0, Some(1), None, None),
        (0, 2, 1, Some(2), None, None),
        (0, 5, 2, Some(2), None, None),
        (1, 0, 0, Some(1), None, None),
        (1, 1, 1, Some(1), None, None),
        (2, 0, 0, Some(1), None, None),
        (2, 2, 3, Some(3), None, None),
    ];
    let log = build(&rows, ACTS);
    let r = analyze(&log, &FlowConfig::default());
    assert!(r.escalation.recognised);
    assert_eq!(r.escalation.escalations_total, 2);
    assert_eq!(r.escalation.escalated_cases, 2);
    assert_eq!(r.open_cases, Some(2));
    assert_eq!(r.escalation.open_escalated_cases, Some(1));
    let rules = r.rules.as_ref().unwrap();
    assert_eq!(rules.escalation.source, RuleSource::Default);
    assert_eq!(rules.escalation.matched, ["Escalated"]);
    assert_eq!(rules.closing.matched, ["closed"]);
    let text = render_text(&r);
    assert!(
        text.contains("escalation activities: Escalated (default rule")
            && text.contains("closing activities: closed (default rule"),
        "{text}"
    );
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["rules"]["escalation"]["matched"][0], "Escalated");
    assert_eq!(json["rules"]["closing"]["source"], "default");

    // Configured names replace the rule (compared ignoring case).
    let cfg = FlowConfig {
        escalation: Some(vec!["ASSIGNED".into()]),
        closing: Some(vec![]),
        ..FlowConfig::default()
    };
    let r = analyze(&log, &cfg);
    assert_eq!(r.escalation.escalated_cases, 1);
    assert_eq!(r.open_cases, None, "no closing activity: openness unknown");
    let rules = r.rules.as_ref().unwrap();
    assert_eq!(rules.escalation.source, RuleSource::Configured);
    assert_eq!(rules.escalation.rule, "configured: ASSIGNED");
    assert_eq!(rules.escalation.matched, ["assigned"]);
    assert!(
        r.notes.iter().all(|n| !n.contains("default rule")),
        "{:?}",
        r.notes
    );

    // A log with nothing the default rule knows says so.
    let plain = build(&rows, &["a", "b", "c"]);
    let r = analyze(&plain, &FlowConfig::default());
    assert!(!r.escalation.recognised && r.open_cases.is_none());
    assert!(
        r.notes.iter().any(|n| n.contains("escalation"))
            && r.notes.iter().any(|n| n.contains("closes")),
        "{:?}",
        r.notes
    );
}

#[test]
fn selection_and_refusals_are_said_in_words() {
    let rows: Vec<Row> = vec![
        (0, 0, 0, Some(1), Some(0), Some(0)),
        (0, 1, 30, Some(2), Some(1), None),
        (1, 0, 50, Some(1), Some(0), Some(1)),
    ];
    let log = build(&rows, ACTS);
    let q = FlowQuery {
        config: FlowConfig {
            group_by: Some(GroupBy::Period(Period::Day)),
            ..FlowConfig::default()
        },
        filter: CaseFilter {
            started_from_ms: Some(0),
            started_before_ms: Some(24 * H),
            equals: vec![(Dimension::Team, "t1".into())],
            within: Vec::new(),
        },
    };
    let r = run_query(&log, &q).unwrap();
    assert_eq!((r.cases, r.events), (1, 2));
    let text = render_text(&r);
    assert!(
        text.starts_with(
            "selection: 1 of 2 cases; started from 1970-01-01T00:00:00Z before 1970-01-02T00:00:00Z"
        ) && text.contains("team = t1 (the team the case ended with"),
        "{text}"
    );
    // A team no case ended with (t0 was only the start) is refused, naming the teams.
    let q = FlowQuery {
        filter: CaseFilter {
            equals: vec![(Dimension::Team, "t9".into())],
            ..CaseFilter::default()
        },
        ..FlowQuery::default()
    };
    let e = run_query(&log, &q).unwrap_err().to_string();
    assert!(
        e.contains("no case has team 't9'") && e.contains("t0, t1"),
        "{e}"
    );
    // A grouping the log has no values for is refused, not answered with one (none) group.
    let q = FlowQuery {
        config: FlowConfig {
            group_by: Some(GroupBy::Attribute("segment".into())),
            ..FlowConfig::default()
        },
        ..FlowQuery::default()
    };
    let e = run_query(&log, &q).unwrap_err().to_string();
    assert!(
        e.contains("cannot group cases by segment") && e.contains("product"),
        "{e}"
    );
    // A filter matching no case in the window is an empty answer that says so.
    let q = FlowQuery {
        filter: CaseFilter {
            started_from_ms: Some(100 * H),
            ..CaseFilter::default()
        },
        ..FlowQuery::default()
    };
    let r = run_query(&log, &q).unwrap();
    assert_eq!(r.cases, 0);
    assert!(
        r.notes.iter().any(|n| n.contains("no case matches")),
        "{:?}",
        r.notes
    );
}
