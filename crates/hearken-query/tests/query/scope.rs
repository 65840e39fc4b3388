//! Data scopes: a scoped caller's figures are the figures of its slice. Where a request filter
//! says the same (one segment, one team), the scoped answer equals the unscoped answer with that
//! filter; for scopes of several segments or teams, the figures equal SQL on that slice. A scoped
//! caller never sees a row outside its scope, is refused a filter outside it, and is told only of
//! values inside it.

use hearken_query::*;
use serde_json::Value;

use crate::helpers::*;

fn scope(segments: &[&str], teams: &[&str]) -> Scope {
    Scope {
        segments: segments.iter().map(|s| s.to_string()).collect(),
        teams: teams.iter().map(|s| s.to_string()).collect(),
    }
}

/// The JSON of a response without what legitimately differs between a scoped call and a
/// filtered one (nothing, for the analytics; flow's selection summary names its filters).
fn figures(v: &impl serde::Serialize) -> Value {
    let mut v = json(v);
    if let Some(o) = v.as_object_mut() {
        o.remove("selection");
    }
    v
}

/// `SQL IN` list of quoted values.
fn list(values: &[&str]) -> String {
    values
        .iter()
        .map(|v| format!("'{}'", v.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The two largest segments and teams of the org (by signals).
fn slices(o: &Org) -> (Vec<String>, Vec<String>) {
    let segments = o.strings(
        "SELECT c.segment FROM signals s JOIN customers c ON c.id = s.customer_id
         WHERE c.segment IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 2",
    );
    let teams = o.strings(
        "SELECT a.team FROM signals s JOIN agents a ON a.id = s.agent_id
         WHERE a.team IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 2",
    );
    assert_eq!(
        (segments.len(), teams.len()),
        (2, 2),
        "two segments, two teams"
    );
    (segments, teams)
}

#[test]
fn a_scope_of_one_segment_or_team_equals_the_filter_in_every_analytic() {
    let o = org(500, 3);
    let (segments, teams) = slices(&o);
    let (seg, team) = (segments[0].as_str(), teams[0].as_str());
    let all = Scope::all();
    let cases: [(Scope, Filters); 3] = [
        (
            scope(&[seg], &[]),
            Filters {
                segment: Some(seg.into()),
                ..Filters::default()
            },
        ),
        (
            scope(&[], &[team]),
            Filters {
                team: Some(team.into()),
                ..Filters::default()
            },
        ),
        (
            scope(&[seg], &[team]),
            Filters {
                segment: Some(seg.into()),
                team: Some(team.into()),
                ..Filters::default()
            },
        ),
    ];
    for (s, f) in &cases {
        let what = format!("{s:?}");
        // Scores: overall, per group, and against an earlier window, for every metric.
        for metric in Metric::ALL {
            for by in [None, Some(By::Product), Some(By::Month)] {
                let req = ScoresRequest {
                    metric: *metric,
                    by,
                    ..ScoresRequest::default()
                };
                assert_eq!(
                    figures(&scores(&o.store, s, &req).unwrap()),
                    figures(&scores(&o.store, &all, &req.clone().with_filters(f.clone())).unwrap()),
                    "scores {metric} {by:?} {what}"
                );
            }
        }
        let req = ParetoRequest {
            by: By::Customer,
            top: 20,
            ..ParetoRequest::default()
        };
        assert_eq!(
            figures(&pareto(&o.store, s, &req).unwrap()),
            figures(&pareto(&o.store, &all, &req.clone().with_filters(f.clone())).unwrap()),
            "pareto {what}"
        );
        let req = DriversRequest::default();
        assert_eq!(
            figures(&drivers(&o.store, s, &req).unwrap()),
            figures(&drivers(&o.store, &all, &req.clone().with_filters(f.clone())).unwrap()),
            "drivers {what}"
        );
        let req = TrendsRequest::default();
        assert_eq!(
            figures(&trends(&o.store, s, &req).unwrap()),
            figures(&trends(&o.store, &all, &req.clone().with_filters(f.clone())).unwrap()),
            "trends {what}"
        );
        let req = RepeatsRequest::default();
        assert_eq!(
            figures(&repeats(&o.store, s, &req).unwrap()),
            figures(&repeats(&o.store, &all, &req.clone().with_filters(f.clone())).unwrap()),
            "repeats {what}"
        );
        let req = IssuesRequest::default();
        assert_eq!(
            figures(&issues(&o.store, s, &req).unwrap()),
            figures(&issues(&o.store, &all, &req.clone().with_filters(f.clone())).unwrap()),
            "issues {what}"
        );
        let req = ThemesRequest {
            k: 4,
            sample: 2_000,
            ..ThemesRequest::default()
        };
        assert_eq!(
            figures(&themes(&o.store, s, &req).unwrap()),
            figures(&themes(&o.store, &all, &req.clone().with_filters(f.clone())).unwrap()),
            "themes {what}"
        );
        let req = SignalsRequest {
            limit: 200,
            ..SignalsRequest::default()
        };
        assert_eq!(
            figures(&signals(&o.store, s, &req).unwrap()),
            figures(&signals(&o.store, &all, &req.clone().with_filters(f.clone())).unwrap()),
            "signals {what}"
        );
    }
    // Flow: a case's team is the team it ended with, its segment its customer's; the filters
    // mean the same, so the figures are the same (the selection summary says how they were
    // chosen: the scope is not a filter the caller gave).
    for (s, f) in &cases {
        let req = FlowRequest::default();
        let scoped = flow(&o.store, s, &req).unwrap();
        let filtered = flow(&o.store, &all, &req.clone().with_filters(f.clone())).unwrap();
        assert!(scoped.report.cases > 0, "{s:?}");
        assert_eq!(figures(&scoped), figures(&filtered), "flow {s:?}");
        let sel = scoped.report.selection.as_ref().unwrap();
        assert_eq!(
            sel.cases_in_log, scoped.report.cases,
            "a scoped caller's log is its cases"
        );
    }
}

#[test]
fn scopes_of_several_segments_or_teams_count_what_sql_counts_on_the_slice() {
    let o = org(500, 3);
    let (segments, teams) = slices(&o);
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let tms: Vec<&str> = teams.iter().map(String::as_str).collect();
    let (seg_in, team_in) = (list(&segs), list(&tms));
    for (s, cond) in [
        (
            scope(&segs, &[]),
            format!("x.customer_id IN (SELECT id FROM customers WHERE segment IN ({seg_in}))"),
        ),
        (
            scope(&[], &tms),
            format!("x.agent_id IN (SELECT id FROM agents WHERE team IN ({team_in}))"),
        ),
        (
            scope(&segs, &tms),
            format!(
                "x.customer_id IN (SELECT id FROM customers WHERE segment IN ({seg_in}))
                 AND x.agent_id IN (SELECT id FROM agents WHERE team IN ({team_in}))"
            ),
        ),
    ] {
        let v = json(&scores(&o.store, &s, &ScoresRequest::default()).unwrap());
        assert_eq!(
            (
                v["n"].as_u64(),
                v["promoters"].as_u64(),
                v["detractors"].as_u64()
            ),
            (
                Some(o.count(&format!(
                    "SELECT count(*) FROM surveys x WHERE nps IS NOT NULL AND {cond}"
                ))),
                Some(o.count(&format!(
                    "SELECT count(*) FROM surveys x WHERE nps >= 9 AND {cond}"
                ))),
                Some(o.count(&format!(
                    "SELECT count(*) FROM surveys x WHERE nps <= 6 AND {cond}"
                ))),
            ),
            "nps {s:?}"
        );
        let sentiment = json(
            &scores(
                &o.store,
                &s,
                &ScoresRequest {
                    metric: Metric::Sentiment,
                    ..ScoresRequest::default()
                },
            )
            .unwrap(),
        );
        assert_eq!(
            sentiment["negative"].as_u64(),
            Some(o.count(&format!(
                "SELECT count(*) FROM signals x WHERE sentiment <= -0.05 AND {cond}"
            ))),
            "net sentiment {s:?}"
        );
        let p = pareto(
            &o.store,
            &s,
            &ParetoRequest {
                by: By::Segment,
                ..ParetoRequest::default()
            },
        )
        .unwrap();
        assert_eq!(
            p.contacts + p.unattributed,
            o.count(&format!("SELECT count(*) FROM signals x WHERE {cond}")),
            "pareto {s:?}"
        );
        // Groups outside the scope are not there at all.
        for t in &p.top {
            assert!(s.allows_segment(Some(&t.entity)), "{} in {s:?}", t.entity);
        }
        let st = status(&o.store, &s).unwrap();
        assert_eq!(
            (st.signals as u64, st.surveys as u64),
            (
                o.count(&format!("SELECT count(*) FROM signals x WHERE {cond}")),
                o.count(&format!("SELECT count(*) FROM surveys x WHERE {cond}")),
            ),
            "status {s:?}"
        );
        assert_eq!((st.path, st.quarantined, st.imports), (None, None, None));
    }
    // Flow over several teams: the cases whose last event naming a team names one of them
    // (time order, ties in import order), counted in SQL.
    let ended_in = o.count(&format!(
        "WITH t AS (SELECT e.case_id, coalesce(e.team, a.team) AS team,
                      row_number() OVER (PARTITION BY e.case_id ORDER BY e.at DESC, e.id DESC) AS r
                    FROM case_events e LEFT JOIN agents a ON a.id = e.agent_id
                    WHERE coalesce(e.team, a.team) IS NOT NULL)
         SELECT count(*) FROM t WHERE r = 1 AND team IN ({team_in})"
    ));
    let case_teams = o.strings(
        "SELECT DISTINCT coalesce(e.team, a.team) FROM case_events e
         LEFT JOIN agents a ON a.id = e.agent_id WHERE coalesce(e.team, a.team) IS NOT NULL",
    );
    assert!(
        case_teams.iter().any(|t| teams.contains(t)),
        "{case_teams:?}"
    );
    let f = flow(&o.store, &scope(&[], &tms), &FlowRequest::default()).unwrap();
    assert_eq!(f.report.cases, ended_in);
    assert!(ended_in > 0);
}

#[test]
fn filters_outside_the_scope_are_refused_and_messages_list_only_what_is_inside() {
    let o = org(400, 2);
    let (segments, teams) = slices(&o);
    let s = scope(&[&segments[0]], &[&teams[0]]);
    let outside_segment = ScoresRequest {
        segment: Some(segments[1].clone()),
        ..ScoresRequest::default()
    };
    let e = scores(&o.store, &s, &outside_segment).unwrap_err();
    assert_eq!((e.code(), e.status()), ("out_of_scope", 403), "{e}");
    let outside_team = Filters {
        team: Some(teams[1].clone()),
        ..Filters::default()
    };
    for r in [
        pareto(
            &o.store,
            &s,
            &ParetoRequest::default().with_filters(outside_team.clone()),
        )
        .map(|_| ()),
        trends(
            &o.store,
            &s,
            &TrendsRequest::default().with_filters(outside_team.clone()),
        )
        .map(|_| ()),
        signals(
            &o.store,
            &s,
            &SignalsRequest::default().with_filters(outside_team.clone()),
        )
        .map(|_| ()),
        themes(
            &o.store,
            &s,
            &ThemesRequest::default().with_filters(outside_team.clone()),
        )
        .map(|_| ()),
        flow(
            &o.store,
            &s,
            &FlowRequest::default().with_filters(outside_team.clone()),
        )
        .map(|_| ()),
    ] {
        assert_eq!(code(r).0, "out_of_scope");
    }
    // An agent of another team is unknown to the caller; the list names only agents of its team.
    let other_agent = o.strings(&format!(
        "SELECT ext_id FROM agents WHERE team = '{}' ORDER BY ext_id LIMIT 1",
        teams[1]
    ))[0]
        .clone();
    let in_team = o.strings(&format!(
        "SELECT ext_id FROM agents WHERE team = '{}' ORDER BY ext_id",
        teams[0]
    ));
    let req = ScoresRequest {
        agent: Some(other_agent.clone()),
        ..ScoresRequest::default()
    };
    for e in [
        scores(&o.store, &s, &req).unwrap_err(),
        signals(
            &o.store,
            &s,
            &SignalsRequest {
                agent: Some(other_agent.clone()),
                ..SignalsRequest::default()
            },
        )
        .unwrap_err(),
    ] {
        let QueryError::UnknownValue { known, .. } = &e else {
            panic!("{e:?}")
        };
        assert!(!known.is_empty());
        assert!(known.iter().all(|a| in_team.contains(a)), "{known:?}");
        assert!(!e.to_string().contains(&format!("{other_agent},")), "{e}");
    }
    // The same agent unscoped is fine.
    assert!(scores(&o.store, &Scope::all(), &req).is_ok());
    // A topic only out-of-scope signals carry is unknown, and the list is the scope's topics.
    let in_scope_topics = o.strings(&format!(
        "SELECT DISTINCT coalesce(s.topic, s.predicted_topic) FROM signals s
         JOIN customers c ON c.id = s.customer_id JOIN agents a ON a.id = s.agent_id
         WHERE c.segment = '{}' AND a.team = '{}' AND coalesce(s.topic, s.predicted_topic) IS NOT NULL",
        segments[0], teams[0]
    ));
    let e = signals(
        &o.store,
        &s,
        &SignalsRequest {
            topic: Some("no/such".into()),
            ..SignalsRequest::default()
        },
    )
    .unwrap_err();
    let QueryError::UnknownValue { known, .. } = &e else {
        panic!("{e:?}")
    };
    let mut want = in_scope_topics.clone();
    want.sort();
    assert_eq!(known, &want);
    // Flow lists the values of the caller's cases only.
    let e = flow(
        &o.store,
        &s,
        &FlowRequest {
            agent: Some("no-such-agent".into()),
            ..FlowRequest::default()
        },
    )
    .unwrap_err();
    assert_eq!(e.code(), "unknown_filter_value", "{e}");
    assert!(!e.to_string().contains(&other_agent), "{e}");
    // Store-wide records are refused to a scope.
    assert_eq!(
        code(quarantine(&o.store, &s, &QuarantineRequest::default())).0,
        "out_of_scope"
    );
    assert_eq!(
        code(imports(&o.store, &s, &ImportsRequest::default())).0,
        "out_of_scope"
    );
}

#[test]
fn scoped_signals_never_show_a_row_outside_the_scope() {
    let o = org(400, 2);
    let (segments, teams) = slices(&o);
    let segs: Vec<&str> = segments.iter().map(String::as_str).collect();
    let s = scope(&segs, &[&teams[0]]);
    let cond = format!(
        "s.customer_id IN (SELECT id FROM customers WHERE segment IN ({}))
         AND s.agent_id IN (SELECT id FROM agents WHERE team = '{}')",
        list(&segs),
        teams[0]
    );
    // Listing: page through everything; every row is inside, and all inside rows come.
    let mut seen = 0u64;
    let mut cursor = None;
    loop {
        let page = signals(
            &o.store,
            &s,
            &SignalsRequest {
                limit: 500,
                cursor: cursor.clone(),
                ..SignalsRequest::default()
            },
        )
        .unwrap();
        for r in &page.signals {
            assert!(s.allows_segment(r.segment.as_deref()), "{r:?}");
            assert!(s.allows_team(r.team.as_deref()), "{r:?}");
        }
        seen += page.signals.len() as u64;
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(
        seen,
        o.count(&format!("SELECT count(*) FROM signals s WHERE {cond}"))
    );
    assert!(seen > 0);
    // Search: the same, for a word in many texts.
    let word = "the";
    let page = signals(
        &o.store,
        &s,
        &SignalsRequest {
            search: Some(word.into()),
            limit: 1000,
            ..SignalsRequest::default()
        },
    )
    .unwrap();
    assert_eq!(
        page.signals.len() as u64,
        o.count(&format!(
            "SELECT min(count(*), 1000) FROM signals s WHERE {cond} AND lower(text) LIKE '%{word}%'"
        ))
    );
    assert!(
        page.signals
            .iter()
            .all(|r| s.allows_segment(r.segment.as_deref()))
    );
    // By id: a signal outside is `not_found` (as one that does not exist), one inside is found.
    let outside = o.strings(&format!(
        "SELECT ext_id FROM signals s WHERE NOT ({cond}) ORDER BY id LIMIT 3"
    ));
    assert_eq!(outside.len(), 3);
    for id in &outside {
        let e = signal(&o.store, &s, id).unwrap_err();
        assert_eq!((e.code(), e.status()), ("not_found", 404), "{id}");
        assert!(signal(&o.store, &Scope::all(), id).is_ok());
    }
    let inside = o.strings(&format!(
        "SELECT ext_id FROM signals s WHERE {cond} LIMIT 1"
    ));
    assert!(signal(&o.store, &s, &inside[0]).is_ok());
    // A customer outside is not found either, as a filter and by id.
    let customer = o.strings(&format!(
        "SELECT ext_id FROM customers WHERE segment NOT IN ({}) LIMIT 1",
        list(&segs)
    ));
    if let Some(c) = customer.first() {
        let r = signals(
            &o.store,
            &s,
            &SignalsRequest {
                customer: Some(c.clone()),
                ..SignalsRequest::default()
            },
        );
        assert_eq!(code(r).0, "not_found");
        assert_eq!(code(customer::customer(&o.store, &s, c)).0, "not_found");
        assert_eq!(
            code(customer_timeline(
                &o.store,
                &s,
                c,
                &TimelineRequest::default()
            ))
            .0,
            "not_found"
        );
    }
}
