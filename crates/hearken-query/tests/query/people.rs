//! One customer and one case: the profile, the timeline and the case with its events, checked
//! against SQL on the same store and, for the case's flow figures, against a plain reading of
//! their definitions.

use hearken_query::*;

use crate::helpers::*;

/// The cases linked to a customer: its case events name it, or its signals or responses carry
/// the case.
fn linked_cases(customer: &str) -> String {
    format!(
        "(SELECT case_id FROM case_events WHERE customer_id = (SELECT id FROM customers WHERE ext_id = '{customer}')
          UNION SELECT case_id FROM signals WHERE case_id IS NOT NULL AND customer_id = (SELECT id FROM customers WHERE ext_id = '{customer}')
          UNION SELECT case_id FROM surveys WHERE case_id IS NOT NULL AND customer_id = (SELECT id FROM customers WHERE ext_id = '{customer}'))"
    )
}

/// The customer with the most signals that also has cases and survey responses.
fn busy_customer(o: &Org) -> String {
    o.strings(
        "SELECT c.ext_id FROM customers c JOIN signals s ON s.customer_id = c.id
         WHERE EXISTS (SELECT 1 FROM surveys v WHERE v.customer_id = c.id AND v.nps IS NOT NULL)
           AND EXISTS (SELECT 1 FROM signals k WHERE k.customer_id = c.id AND k.case_id IS NOT NULL)
         GROUP BY c.id ORDER BY count(*) DESC, c.ext_id LIMIT 1",
    )[0]
    .clone()
}

#[test]
fn a_customer_profile_counts_what_sql_counts() {
    let o = org(300, 3);
    let id = busy_customer(&o);
    let p = customer::customer(&o.store, &Scope::all(), &id).unwrap();
    let of = |table: &str| {
        format!("FROM {table} WHERE customer_id = (SELECT id FROM customers WHERE ext_id = '{id}')")
    };
    assert_eq!(p.id, id);
    assert_eq!(p.name, o.name_of("customers", &id));
    assert_eq!(
        p.segment.as_deref(),
        o.strings(&format!(
            "SELECT segment FROM customers WHERE ext_id = '{id}'"
        ))
        .first()
        .map(String::as_str)
    );
    assert_eq!(
        p.signals,
        o.count(&format!("SELECT count(*) {}", of("signals")))
    );
    assert_eq!(
        p.surveys,
        o.count(&format!("SELECT count(*) {}", of("surveys")))
    );
    assert_eq!(
        p.cases,
        o.count(&format!("SELECT count(*) FROM {}", linked_cases(&id)))
    );
    assert!(p.cases > 0 && p.signals > 5, "{p:?}");
    assert_eq!(
        (p.nps.promoters, p.nps.detractors, p.nps.n),
        (
            o.count(&format!("SELECT count(*) {} AND nps >= 9", of("surveys"))),
            o.count(&format!("SELECT count(*) {} AND nps <= 6", of("surveys"))),
            o.count(&format!(
                "SELECT count(*) {} AND nps IS NOT NULL",
                of("surveys")
            )),
        )
    );
    assert_eq!(p.nps_answers.len() as u64, p.nps.n);
    assert!(
        p.nps_answers.windows(2).all(|w| w[0].at >= w[1].at),
        "newest first"
    );
    assert_eq!(
        (p.net_sentiment.positive, p.net_sentiment.negative),
        (
            o.count(&format!(
                "SELECT count(*) {} AND sentiment >= 0.05",
                of("signals")
            )),
            o.count(&format!(
                "SELECT count(*) {} AND sentiment <= -0.05",
                of("signals")
            )),
        )
    );
    let last = o.count(&format!(
        "SELECT max(at) FROM (SELECT at {s} UNION ALL SELECT at {v}
           UNION ALL SELECT at FROM case_events WHERE case_id IN {cases})",
        s = of("signals"),
        v = of("surveys"),
        cases = linked_cases(&id)
    ));
    assert_eq!(p.last_contact, Some(last as i64));
    assert_eq!(p.churned, p.churned_at.is_some());
    let v = json(&p);
    for k in ["nps", "net_sentiment", "last_contact", "notes", "partial"] {
        assert!(v.get(k).is_some(), "{k} in {v}");
    }
    assert_eq!(
        code(customer::customer(&o.store, &Scope::all(), "nope")).0,
        "not_found"
    );
}

#[test]
fn a_timeline_pages_through_every_row_once_in_time_order() {
    let o = org(300, 3);
    let id = busy_customer(&o);
    let want = o.strings(&format!(
        "SELECT ext_id FROM (
           SELECT 0 AS k, id, ext_id, at FROM signals WHERE customer_id = (SELECT id FROM customers WHERE ext_id = '{id}')
           UNION ALL SELECT 1, id, ext_id, at FROM surveys WHERE customer_id = (SELECT id FROM customers WHERE ext_id = '{id}')
           UNION ALL SELECT 2, id, ext_id, at FROM case_events WHERE case_id IN {cases})
         ORDER BY at, k, id",
        cases = linked_cases(&id)
    ));
    assert!(want.len() > 20, "{}", want.len());
    let mut got = Vec::new();
    let mut cursor = None;
    let mut pages = 0;
    loop {
        let page = customer_timeline(
            &o.store,
            &Scope::all(),
            &id,
            &TimelineRequest {
                limit: 7,
                cursor: cursor.clone(),
            },
        )
        .unwrap();
        pages += 1;
        assert_eq!(page.customer_id, id);
        for e in &page.items {
            if let Some(a) = &e.agent_id {
                assert_eq!(e.agent, o.name_of("agents", a), "{a}");
            }
            if let Some(p) = &e.product_id {
                assert_eq!(e.product, o.name_of("products", p), "{p}");
            }
        }
        got.extend(page.items.iter().map(|e| e.id.clone()));
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(got, want);
    assert_eq!(pages, want.len().div_ceil(7));
    // Under a team scope: only its rows (case events by their own team, else their agent's).
    let team = o.strings(&format!(
        "SELECT a.team FROM signals s JOIN agents a ON a.id = s.agent_id
         WHERE s.customer_id = (SELECT id FROM customers WHERE ext_id = '{id}') LIMIT 1"
    ))[0]
        .clone();
    let scope = Scope {
        segments: Vec::new(),
        teams: vec![team.clone()],
    };
    let page = customer_timeline(
        &o.store,
        &scope,
        &id,
        &TimelineRequest {
            limit: 1000,
            cursor: None,
        },
    )
    .unwrap();
    assert!(!page.items.is_empty());
    assert!(page.items.iter().all(|e| e.team.as_deref() == Some(&team)));
    let inside = o.count(&format!(
        "SELECT (SELECT count(*) FROM signals s JOIN agents a ON a.id = s.agent_id
                 WHERE s.customer_id = (SELECT id FROM customers WHERE ext_id = '{id}') AND a.team = '{team}')
              + (SELECT count(*) FROM surveys s JOIN agents a ON a.id = s.agent_id
                 WHERE s.customer_id = (SELECT id FROM customers WHERE ext_id = '{id}') AND a.team = '{team}')
              + (SELECT count(*) FROM case_events e LEFT JOIN agents a ON a.id = e.agent_id
                 WHERE e.case_id IN {cases} AND coalesce(e.team, a.team) = '{team}')",
        cases = linked_cases(&id)
    ));
    assert_eq!(page.items.len() as u64, inside);
    let bad = |c: &str| {
        code(customer_timeline(
            &o.store,
            &Scope::all(),
            &id,
            &TimelineRequest {
                limit: 5,
                cursor: Some(c.into()),
            },
        ))
        .0
    };
    assert_eq!(bad("12"), "invalid_request");
    assert_eq!(bad("1.9.3"), "invalid_request");
}

/// A case's events as SQL orders them: (agent, team), time order, ties in import order.
fn events_of(o: &Org, case: &str) -> Vec<(String, Option<String>, Option<String>, i64)> {
    let mut stmt = o
        .sql
        .prepare(
            "SELECT e.ext_id, a.ext_id, coalesce(e.team, a.team), e.at FROM case_events e
             JOIN cases c ON c.id = e.case_id LEFT JOIN agents a ON a.id = e.agent_id
             WHERE c.ext_id = ?1 ORDER BY e.at, e.id",
        )
        .expect("prepare");
    stmt.query_map([case], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .expect("query")
        .map(|r| r.expect("row"))
        .collect()
}

#[test]
fn a_case_shows_its_events_in_order_and_what_its_definitions_say() {
    let o = org(300, 3);
    // Cases with at least one transfer, and some without.
    let ids = o.strings(
        "SELECT c.ext_id FROM cases c JOIN case_events e ON e.case_id = c.id
         GROUP BY c.id HAVING count(DISTINCT e.agent_id) > 1 ORDER BY c.id LIMIT 15",
    );
    let simple = o.strings(
        "SELECT c.ext_id FROM cases c JOIN case_events e ON e.case_id = c.id
         GROUP BY c.id HAVING count(DISTINCT e.agent_id) = 1 ORDER BY c.id LIMIT 5",
    );
    assert!(ids.len() > 5, "{ids:?}");
    let attrs = o.store.case_attributes().unwrap();
    for id in ids.iter().chain(&simple) {
        let c = case(&o.store, &Scope::all(), id).unwrap();
        let want = events_of(&o, id);
        let got: Vec<&str> = c.events.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(got, want.iter().map(|e| e.0.as_str()).collect::<Vec<_>>());
        // Transfers: consecutive events whose agents are both known and differ.
        let agents: Vec<Option<&str>> = want.iter().map(|e| e.1.as_deref()).collect();
        let transfers = agents
            .windows(2)
            .filter(|w| matches!((w[0], w[1]), (Some(a), Some(b)) if a != b))
            .count() as u64;
        assert_eq!(c.transfers, transfers, "{id}");
        let known: Vec<&str> = agents.iter().flatten().copied().collect();
        assert_eq!(
            c.resolved_by_first_owner,
            known.first().map(|f| Some(f) == known.last()),
            "{id}"
        );
        assert_eq!(c.first_owner_id.as_deref(), known.first().copied());
        let span = want.last().unwrap().3 - want[0].3;
        assert!(
            (c.duration_hours.unwrap() - span as f64 / 3600.0).abs() < 1e-9,
            "{id}"
        );
        // The team it ended with: the last event that names one.
        let team = want.iter().rev().find_map(|e| e.2.clone());
        assert_eq!(c.team, team, "{id}");
        // Customer and product as the store's case attributes give them.
        let i = attrs.case.iter().position(|x| x == id);
        let (customer, product) = match i {
            Some(i) => (attrs.customer[i].clone(), attrs.product[i].clone()),
            None => (None, None),
        };
        assert_eq!(
            (c.customer_id.clone(), c.product_id.clone()),
            (customer, product),
            "{id}"
        );
        if let Some(cu) = &c.customer_id {
            assert_eq!(c.customer, o.name_of("customers", cu));
        }
        for e in &c.events {
            if let Some(a) = &e.agent_id {
                assert_eq!(e.agent, o.name_of("agents", a));
            }
        }
        assert_eq!(
            c.signals.len() as u64,
            o.count_with(
                "SELECT count(*) FROM signals WHERE case_id = (SELECT id FROM cases WHERE ext_id = ?1)",
                id
            )
        );
        // Scope: in a scope of the team it ended with, outside one of another team.
        if let Some(t) = &team {
            let inside = Scope {
                segments: Vec::new(),
                teams: vec![t.clone()],
            };
            assert!(case(&o.store, &inside, id).is_ok());
            let outside = Scope {
                segments: Vec::new(),
                teams: vec![format!("not {t}")],
            };
            assert_eq!(code(case(&o.store, &outside, id)).0, "not_found");
        }
    }
    assert!(
        ids.iter()
            .any(|id| case(&o.store, &Scope::all(), id).unwrap().transfers > 0)
    );
    assert_eq!(
        code(case(&o.store, &Scope::all(), "no-such-case")).0,
        "not_found"
    );
}
