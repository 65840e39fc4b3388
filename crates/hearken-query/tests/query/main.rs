//! The query layer against a small generated organisation: every analytic's answer checked
//! against SQL on the same store file, every refusal by its code.

mod admin;
mod cache;
mod flow;
mod helpers;
mod people;
mod pg;
mod scope;

use hearken_query::*;
use helpers::*;

/// Signals whose topic (the source's, else the classifier's) is set.
const TOPIC: &str = "coalesce(topic, predicted_topic)";

#[test]
fn scores_overall_match_sql_for_every_metric() {
    let o = org(400, 3);
    let r = scores(&o.store, &Scope::all(), &ScoresRequest::default()).unwrap();
    let ScoresResponse::Overall(nps) = &r else {
        panic!("{r:?}")
    };
    let v = json(&r);
    assert_eq!(v["kind"], "overall");
    assert_eq!(v["metric"], "nps");
    let (p, d, n) = (
        o.count("SELECT count(*) FROM surveys WHERE nps >= 9"),
        o.count("SELECT count(*) FROM surveys WHERE nps <= 6"),
        o.count("SELECT count(*) FROM surveys WHERE nps IS NOT NULL"),
    );
    assert!(n > 50, "{n}");
    assert_eq!(
        (v["promoters"].as_u64(), v["detractors"].as_u64()),
        (Some(p), Some(d))
    );
    assert_eq!(nps.estimate.n(), n);
    let want = 100.0 * (p as f64 - d as f64) / n as f64;
    assert!((nps.estimate.value().unwrap() - want).abs() < 1e-9);

    let csat = json(
        &scores(
            &o.store,
            &Scope::all(),
            &ScoresRequest {
                metric: Metric::Csat,
                ..ScoresRequest::default()
            },
        )
        .unwrap(),
    );
    assert_eq!(
        csat["satisfied"].as_u64(),
        Some(o.count("SELECT count(*) FROM surveys WHERE csat >= 4"))
    );
    assert_eq!(
        csat["n"].as_u64(),
        Some(o.count("SELECT count(*) FROM surveys WHERE csat IS NOT NULL"))
    );
    let ces = json(
        &scores(
            &o.store,
            &Scope::all(),
            &ScoresRequest {
                metric: Metric::Ces,
                ..ScoresRequest::default()
            },
        )
        .unwrap(),
    );
    let mean: f64 = o
        .sql
        .query_row("SELECT avg(ces) FROM surveys", [], |r| r.get(0))
        .unwrap();
    assert!((ces["ces"].as_f64().unwrap() - mean).abs() < 1e-9, "{ces}");
    let s = json(
        &scores(
            &o.store,
            &Scope::all(),
            &ScoresRequest {
                metric: Metric::Sentiment,
                ..ScoresRequest::default()
            },
        )
        .unwrap(),
    );
    assert_eq!(
        s["positive"].as_u64(),
        Some(o.count("SELECT count(*) FROM signals WHERE sentiment >= 0.05"))
    );
    assert_eq!(
        s["negative"].as_u64(),
        Some(o.count("SELECT count(*) FROM signals WHERE sentiment <= -0.05"))
    );
    for k in ["notes", "partial"] {
        assert!(s.get(k).is_some(), "every response carries {k}: {s}");
    }
}

#[test]
fn scores_by_group_partition_and_name_the_entities() {
    let o = org(400, 3);
    let by = |by: By| {
        let r = scores(
            &o.store,
            &Scope::all(),
            &ScoresRequest {
                by: Some(by),
                ..ScoresRequest::default()
            },
        )
        .unwrap();
        let ScoresResponse::Groups(g) = r else {
            panic!("{r:?}")
        };
        g
    };
    let products = by(By::Product);
    let want = o.counts(
        "SELECT coalesce(p.ext_id, '(none)'), count(*) FROM surveys s LEFT JOIN products p ON p.id = s.product_id
         WHERE s.nps IS NOT NULL GROUP BY 1",
    );
    let got: Vec<(String, u64)> = {
        let mut g: Vec<(String, u64)> = products
            .groups
            .iter()
            .filter(|g| g.estimate.n() > 0)
            .map(|g| (g.group.clone(), g.estimate.n()))
            .collect();
        g.sort();
        g
    };
    let mut want = want;
    want.sort();
    assert_eq!(got, want);
    for g in &products.groups {
        assert_eq!(g.name, o.name_of("products", &g.group), "{}", g.group);
    }
    assert!(products.groups.iter().any(|g| g.name.is_some()));
    let v = json(&products);
    assert!(v["groups"][0]["name"].is_string(), "{}", v["groups"][0]);

    let segments = by(By::Segment);
    let want = o.counts(
        "SELECT c.segment, count(*) FROM surveys s JOIN customers c ON c.id = s.customer_id
         WHERE s.nps IS NOT NULL AND c.segment IS NOT NULL GROUP BY 1",
    );
    for (segment, n) in want {
        let g = segments.groups.iter().find(|g| g.group == segment).unwrap();
        assert_eq!(g.estimate.n(), n, "{segment}");
        assert!(g.name.is_none(), "segments have no display name");
    }
    // Every dimension partitions the responses.
    let total = o.count("SELECT count(*) FROM surveys WHERE nps IS NOT NULL");
    for b in By::ALL.iter().filter(|b| !b.signals_only()) {
        let sum: u64 = by(*b).groups.iter().map(|g| g.estimate.n()).sum();
        assert_eq!(sum, total, "--by {b}");
    }
}

#[test]
fn filters_select_the_rows_sql_selects() {
    let o = org(400, 3);
    let n = |f: Filters| match scores(
        &o.store,
        &Scope::all(),
        &ScoresRequest::default().with_filters(f),
    )
    .unwrap()
    {
        ScoresResponse::Overall(x) => x.estimate.n(),
        other => panic!("{other:?}"),
    };
    let segment =
        o.strings("SELECT DISTINCT segment FROM customers WHERE segment IS NOT NULL")[0].clone();
    assert_eq!(
        n(Filters {
            segment: Some(segment.clone()),
            ..Filters::default()
        }),
        o.count_with(
            "SELECT count(*) FROM surveys s JOIN customers c ON c.id = s.customer_id
             WHERE c.segment = ?1 AND s.nps IS NOT NULL",
            &segment
        )
    );
    let product = o.strings(
        "SELECT p.ext_id FROM surveys s JOIN products p ON p.id = s.product_id GROUP BY 1 ORDER BY count(*) DESC LIMIT 1",
    )[0]
    .clone();
    assert_eq!(
        n(Filters {
            product: Some(product.clone()),
            ..Filters::default()
        }),
        o.count_with(
            "SELECT count(*) FROM surveys s JOIN products p ON p.id = s.product_id
             WHERE p.ext_id = ?1 AND s.nps IS NOT NULL",
            &product
        )
    );
    let team = o.strings("SELECT DISTINCT team FROM agents WHERE team IS NOT NULL")[0].clone();
    assert_eq!(
        n(Filters {
            team: Some(team.clone()),
            ..Filters::default()
        }),
        o.count_with(
            "SELECT count(*) FROM surveys s JOIN agents a ON a.id = s.agent_id
             WHERE a.team = ?1 AND s.nps IS NOT NULL",
            &team
        )
    );
    assert_eq!(
        n(Filters {
            channel: Some("E-Mail".into()),
            ..Filters::default()
        }),
        o.count("SELECT count(*) FROM surveys WHERE channel = 2 AND nps IS NOT NULL")
    );
    let (lo, hi): (i64, i64) = o
        .sql
        .query_row("SELECT min(at), max(at) FROM surveys", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    let mid = o.day((lo + hi) / 2);
    assert_eq!(
        n(Filters {
            from: Some(mid.clone()),
            ..Filters::default()
        }),
        o.count_with(
            "SELECT count(*) FROM surveys WHERE at >= unixepoch(?1) AND nps IS NOT NULL",
            &mid
        )
    );
}

#[test]
fn bad_requests_are_refused_with_stable_codes() {
    let o = org(200, 2);
    let req = |f: fn(&mut ScoresRequest)| {
        let mut r = ScoresRequest::default();
        f(&mut r);
        code(scores(&o.store, &Scope::all(), &r))
    };
    let (c, m) = req(|r| r.segment = Some("nope".into()));
    assert_eq!(c, "unknown_filter_value");
    for s in o.strings("SELECT DISTINCT segment FROM customers WHERE segment IS NOT NULL") {
        assert!(m.contains(&s), "the message lists '{s}': {m}");
    }
    assert_eq!(
        req(|r| r.product = Some("P-nope".into())).0,
        "unknown_filter_value"
    );
    assert_eq!(
        req(|r| r.team = Some("nope".into())).0,
        "unknown_filter_value"
    );
    let (c, m) = req(|r| r.channel = Some("pigeon".into()));
    assert_eq!(c, "unknown_filter_value");
    assert!(m.contains("in_person"), "{m}");
    let (c, m) = req(|r| r.from = Some("2024-13-45".into()));
    assert_eq!(c, "invalid_date");
    assert!(m.contains("`from`"), "{m}");
    assert_eq!(
        req(|r| {
            r.from = Some("2025-05-01".into());
            r.to = Some("2025-04-01".into());
        })
        .0,
        "empty_window"
    );
    assert_eq!(req(|r| r.level = 1.5).0, "out_of_range");
    assert_eq!(req(|r| r.bootstrap = Some(5)).0, "out_of_range");
    assert_eq!(req(|r| r.by = Some(By::Topic)).0, "unsupported_group");
    assert_eq!(
        req(|r| r.against_from = Some("2024-01-01".into())).0,
        "conflicting_options"
    );
    let (c, m) = req(|r| {
        r.against_from = Some("2024-01-01".into());
        r.against_to = Some("nope".into());
    });
    assert_eq!(
        (c, m.contains("`against_to`")),
        ("invalid_date", true),
        "{m}"
    );
    let (c, _) = code(pareto(
        &o.store,
        &Scope::all(),
        &ParetoRequest {
            by: By::Month,
            ..ParetoRequest::default()
        },
    ));
    assert_eq!(c, "unsupported_group");
    let e = scores(
        &o.store,
        &Scope::all(),
        &ScoresRequest {
            segment: Some("nope".into()),
            ..ScoresRequest::default()
        },
    )
    .unwrap_err();
    assert_eq!(e.status(), 400);
    let body = json(&e.body());
    assert_eq!(body["code"], "unknown_filter_value");
    assert!(
        body["hint"].as_str().unwrap().contains("`segment`"),
        "{body}"
    );
}

#[test]
fn requests_come_from_json_with_defaults_and_refuse_unknown_fields() {
    let r: ScoresRequest =
        serde_json::from_str(r#"{"metric":"csat","by":"tenure-band","segment":"smb"}"#).unwrap();
    assert_eq!(r.metric, Metric::Csat);
    assert_eq!(r.by, Some(By::TenureBand));
    assert_eq!(r.level, 0.9);
    assert_eq!(r.segment.as_deref(), Some("smb"));
    assert!(serde_json::from_str::<ScoresRequest>(r#"{"metrc":"nps"}"#).is_err());
    assert!(serde_json::from_str::<ScoresRequest>(r#"{"by":"Month"}"#).is_err());
    assert_eq!(
        serde_json::from_str::<TrendsRequest>("{}").unwrap(),
        TrendsRequest::default()
    );
    let p: ParetoRequest = serde_json::from_str(r#"{"by":"product","top":3}"#).unwrap();
    assert_eq!((p.by, p.top), (By::Product, 3));
    assert!(serde_json::from_str::<SignalsRequest>(r#"{"q":"x"}"#).is_err());
}

#[test]
fn requests_come_from_url_query_strings() {
    let r: ScoresRequest = serde_urlencoded::from_str(
        "metric=csat&by=tenure-band&level=0.95&bootstrap=500&segment=smb&from=2024-01-01",
    )
    .unwrap();
    assert_eq!(
        r,
        ScoresRequest {
            metric: Metric::Csat,
            by: Some(By::TenureBand),
            level: 0.95,
            bootstrap: Some(500),
            segment: Some("smb".into()),
            from: Some("2024-01-01".into()),
            ..ScoresRequest::default()
        }
    );
    assert_eq!(
        serde_urlencoded::from_str::<TrendsRequest>("").unwrap(),
        TrendsRequest::default()
    );
    let s: SignalsRequest =
        serde_urlencoded::from_str("search=refund%20late&limit=5&cursor=123").unwrap();
    assert_eq!((s.search.as_deref(), s.limit), (Some("refund late"), 5));
    assert!(serde_urlencoded::from_str::<ScoresRequest>("metric=nps&bogus=1").is_err());
    assert!(serde_urlencoded::from_str::<ParetoRequest>("top=many").is_err());
}

#[test]
fn score_change_counts_each_window() {
    let o = org(400, 4);
    let (lo, hi): (i64, i64) = o
        .sql
        .query_row("SELECT min(at), max(at) + 86400 FROM surveys", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    let (a, m, b) = (o.day(lo), o.day((lo + hi) / 2), o.day(hi));
    let r = scores(
        &o.store,
        &Scope::all(),
        &ScoresRequest {
            from: Some(m.clone()),
            to: Some(b.clone()),
            against_from: Some(a.clone()),
            against_to: Some(m.clone()),
            ..ScoresRequest::default()
        },
    )
    .unwrap();
    let ScoresResponse::Change(c) = r else {
        panic!("{r:?}")
    };
    let count = |x: &str, y: &str| {
        o.sql
            .query_row(
                "SELECT count(*) FROM surveys WHERE nps IS NOT NULL AND at >= unixepoch(?1) AND at < unixepoch(?2)",
                [x, y],
                |r| r.get::<_, i64>(0),
            )
            .unwrap() as u64
    };
    assert_eq!(c.baseline.n(), count(&a, &m));
    assert_eq!(c.selection.n(), count(&m, &b));
    let diff = c.change.diff.unwrap();
    assert!((diff - (c.selection.value().unwrap() - c.baseline.value().unwrap())).abs() < 1e-9);
}

#[test]
fn pareto_counts_and_names_the_top_entities() {
    let o = org(400, 3);
    let p = pareto(
        &o.store,
        &Scope::all(),
        &ParetoRequest {
            by: By::Product,
            top: 5,
            ..ParetoRequest::default()
        },
    )
    .unwrap();
    let per = o.counts(
        "SELECT p.ext_id, count(*) FROM signals s JOIN products p ON p.id = s.product_id
         GROUP BY 1 ORDER BY 2 DESC, 1",
    );
    assert_eq!(p.entities, per.len() as u64);
    assert_eq!(p.contacts, per.iter().map(|x| x.1).sum::<u64>());
    assert_eq!(
        p.unattributed,
        o.count("SELECT count(*) FROM signals WHERE product_id IS NULL")
    );
    assert_eq!(p.top.len(), 5);
    for t in &p.top {
        let n = per.iter().find(|x| x.0 == t.entity).unwrap().1;
        assert_eq!(t.contacts, n, "{}", t.entity);
        assert_eq!(t.name, o.name_of("products", &t.entity));
        assert!(t.name.is_some());
    }
    assert_eq!(p.top[0].contacts, per[0].1);
    let v = json(&p);
    assert!(v["top"][0].get("code").is_none(), "no internal codes: {v}");
}

#[test]
fn trends_count_every_signal_and_never_flag_signals_without_a_topic() {
    let o = org(600, 4);
    let t = trends(&o.store, &Scope::all(), &TrendsRequest::default()).unwrap();
    let all = o.count("SELECT count(*) FROM signals");
    let none = o.count(&format!(
        "SELECT count(*) FROM signals WHERE {TOPIC} IS NULL"
    ));
    assert_eq!(t.signals, all);
    assert_eq!(t.without_topic, none);
    assert!(
        none > 0,
        "the generator leaves some signals without a topic"
    );
    let counted: u64 = t.topics.iter().map(|s| s.total).sum::<u64>() + t.outside;
    assert_eq!(counted, all);
    for s in &t.topics {
        let want = if s.topic == "(none)" {
            none
        } else {
            o.count_with(
                &format!("SELECT count(*) FROM signals WHERE {TOPIC} = ?1"),
                &s.topic,
            )
        };
        assert_eq!(s.total, want, "{}", s.topic);
        // The series' own flags and the spikes list say the same.
        let flagged = s.points.iter().filter(|p| p.spike).count();
        assert_eq!(flagged, s.spikes, "{}", s.topic);
        assert_eq!(
            t.spikes.iter().filter(|x| x.topic == s.topic).count(),
            flagged,
            "{}",
            s.topic
        );
    }
    let none_series = t.topics.iter().find(|s| s.topic == "(none)").unwrap();
    assert_eq!(none_series.spikes, 0);
    assert!(
        t.notes.iter().any(|n| n.contains("no topic")),
        "{:?}",
        t.notes
    );
}

#[test]
fn without_any_topic_trends_repeats_and_issues_say_why_and_what_to_do() {
    let o = org(200, 2);
    o.sql
        .execute_batch("UPDATE signals SET topic = NULL, predicted_topic = NULL")
        .unwrap();
    for (analytic, r) in [
        (
            "trends",
            trends(&o.store, &Scope::all(), &TrendsRequest::default()).map(|_| ()),
        ),
        (
            "repeats",
            repeats(&o.store, &Scope::all(), &RepeatsRequest::default()).map(|_| ()),
        ),
        (
            "issues-rank",
            issues(&o.store, &Scope::all(), &IssuesRequest::default()).map(|_| ()),
        ),
    ] {
        let e = r.unwrap_err();
        assert_eq!(e.code(), "no_topics", "{analytic}");
        assert_eq!(e.status(), 422);
        assert!(e.to_string().contains(analytic), "{e}");
        let hint = e.hint().unwrap();
        for what in ["topics train", "themes", "topic column"] {
            assert!(hint.contains(what), "{analytic}: {hint}");
        }
    }
    // An empty selection is not an error: it is no data.
    let t = trends(
        &o.store,
        &Scope::all(),
        &TrendsRequest {
            from: Some("2040-01-01".into()),
            ..TrendsRequest::default()
        },
    )
    .unwrap();
    assert!(t.quality.no_data && t.topics.is_empty());
}

#[test]
fn repeats_agree_with_a_sql_window_count_and_name_products() {
    let o = org(400, 3);
    let r = repeats(
        &o.store,
        &Scope::all(),
        &RepeatsRequest {
            days: 7,
            cost_per_contact: Some(2.5),
            ..RepeatsRequest::default()
        },
    )
    .unwrap();
    let (eligible, reps): (i64, i64) = o
        .sql
        .query_row(
            &format!(
                "SELECT count(*), coalesce(sum(prev IS NOT NULL AND at - prev <= 7 * 86400), 0) FROM (
                 SELECT at, lag(at) OVER (PARTITION BY customer_id, {TOPIC} ORDER BY at, id) AS prev
                 FROM signals WHERE customer_id IS NOT NULL AND {TOPIC} IS NOT NULL)"
            ),
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!((r.eligible, r.repeats), (eligible as u64, reps as u64));
    assert!((r.cost.unwrap() - 2.5 * reps as f64).abs() < 1e-9);
    assert_eq!(
        r.by_product.iter().map(|g| g.repeats).sum::<u64>(),
        r.repeats
    );
    for g in r.by_product.iter().filter(|g| g.group != "(none)") {
        assert_eq!(g.name, o.name_of("products", &g.group), "{}", g.group);
    }
    let (c, _) = code(repeats(
        &o.store,
        &Scope::all(),
        &RepeatsRequest {
            days: 0,
            ..RepeatsRequest::default()
        },
    ));
    assert_eq!(c, "out_of_range");
    let (c, _) = code(repeats(
        &o.store,
        &Scope::all(),
        &RepeatsRequest {
            cost_per_contact: Some(-1.0),
            ..RepeatsRequest::default()
        },
    ));
    assert_eq!(c, "out_of_range");
}

#[test]
fn issues_count_their_signals_and_show_named_evidence() {
    let o = org(400, 3);
    let r = issues(
        &o.store,
        &Scope::all(),
        &IssuesRequest {
            limit: 5,
            evidence: 4,
            ..IssuesRequest::default()
        },
    )
    .unwrap();
    assert_eq!(r.issues.len(), 5);
    assert_eq!(
        r.without_topic,
        o.count(&format!(
            "SELECT count(*) FROM signals WHERE {TOPIC} IS NULL"
        ))
    );
    for (i, issue) in r.issues.iter().enumerate() {
        assert_eq!(issue.rank, i + 1);
        assert_eq!(
            issue.signals,
            o.count_with(
                &format!("SELECT count(*) FROM signals WHERE {TOPIC} = ?1"),
                &issue.topic
            )
        );
        assert_eq!(
            issue.negative,
            o.count_with(
                &format!("SELECT count(*) FROM signals WHERE {TOPIC} = ?1 AND sentiment <= -0.05"),
                &issue.topic
            )
        );
        assert!(!issue.evidence.is_empty() && issue.evidence.len() <= 4);
        for e in &issue.evidence {
            if let Some(c) = &e.customer_id {
                assert_eq!(e.customer, o.name_of("customers", c), "{c}");
            }
        }
    }
    assert!(
        r.issues
            .iter()
            .flat_map(|i| &i.evidence)
            .any(|e| e.customer.is_some()),
        "customers have names"
    );
    let scores: Vec<f64> = r.issues.iter().filter_map(|i| i.score).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
}

#[test]
fn drivers_fit_complete_responses_and_refuse_an_unknown_service_aspect() {
    let o = org(600, 3);
    let d = drivers(&o.store, &Scope::all(), &DriversRequest::default()).unwrap();
    let aspects = o.strings("SELECT DISTINCT aspect FROM survey_aspects ORDER BY 1");
    let names: Vec<&str> = d
        .drivers
        .drivers
        .iter()
        .map(|x| x.aspect.as_str())
        .collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, aspects);
    let complete = o.count(&format!(
        "SELECT count(*) FROM surveys s WHERE overall IS NOT NULL
         AND (SELECT count(*) FROM survey_aspects a WHERE a.survey_id = s.id) = {}",
        aspects.len()
    ));
    assert_eq!(d.drivers.n, complete);
    let (c, m) = code(drivers(
        &o.store,
        &Scope::all(),
        &DriversRequest {
            service: Some("nope".into()),
            ..DriversRequest::default()
        },
    ));
    assert_eq!(c, "unknown_filter_value");
    assert!(m.contains(&aspects[0]), "{m}");
    let (c, _) = code(drivers(
        &o.store,
        &Scope::all(),
        &DriversRequest {
            from: Some("2040-01-01".into()),
            ..DriversRequest::default()
        },
    ));
    assert_eq!(c, "no_data");
}

#[test]
fn themes_honour_the_filters() {
    let o = org(300, 2);
    let segment =
        o.strings("SELECT DISTINCT segment FROM customers WHERE segment IS NOT NULL")[0].clone();
    let r = themes(
        &o.store,
        &Scope::all(),
        &ThemesRequest {
            k: 4,
            segment: Some(segment.clone()),
            ..ThemesRequest::default()
        },
    )
    .unwrap();
    let texts = o.count_with(
        "SELECT count(*) FROM signals s JOIN customers c ON c.id = s.customer_id
         WHERE c.segment = ?1 AND s.text IS NOT NULL",
        &segment,
    );
    assert_eq!(r.texts, texts);
    assert!(r.themes.iter().map(|t| t.size as u64).sum::<u64>() <= texts);
    assert!(!r.themes.is_empty());
    let (c, _) = code(themes(
        &o.store,
        &Scope::all(),
        &ThemesRequest {
            agent: Some("A-nope".into()),
            ..ThemesRequest::default()
        },
    ));
    assert_eq!(c, "unknown_filter_value");
    let (c, _) = code(themes(
        &o.store,
        &Scope::all(),
        &ThemesRequest {
            k: 0,
            ..ThemesRequest::default()
        },
    ));
    assert_eq!(c, "out_of_range");
}

#[test]
fn signals_page_through_every_match_once() {
    let o = org(200, 2);
    let segment =
        o.strings("SELECT DISTINCT segment FROM customers WHERE segment IS NOT NULL")[0].clone();
    let want = o.strings(&format!(
        "SELECT s.ext_id FROM signals s JOIN customers c ON c.id = s.customer_id
         WHERE c.segment = '{segment}' AND s.channel = 2 ORDER BY s.id DESC"
    ));
    assert!(want.len() > 7, "{}", want.len());
    let mut got = Vec::new();
    let mut cursor = None;
    loop {
        let page = signals(
            &o.store,
            &Scope::all(),
            &SignalsRequest {
                segment: Some(segment.clone()),
                channel: Some("email".into()),
                limit: 7,
                cursor: cursor.clone(),
                ..SignalsRequest::default()
            },
        )
        .unwrap();
        assert!(page.signals.len() <= 7);
        got.extend(page.signals.iter().map(|s| s.id.clone()));
        for s in &page.signals {
            assert_eq!(s.segment.as_deref(), Some(segment.as_str()));
            assert_eq!(
                s.customer,
                o.name_of("customers", s.customer_id.as_ref().unwrap())
            );
        }
        match page.next_cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    assert_eq!(got, want);

    // Search is a case-insensitive substring of the text.
    let word = "invoice";
    let page = signals(
        &o.store,
        &Scope::all(),
        &SignalsRequest {
            search: Some("INVOICE".into()),
            limit: 1000,
            ..SignalsRequest::default()
        },
    )
    .unwrap();
    assert_eq!(
        page.signals.len() as u64,
        o.count(&format!(
            "SELECT min(count(*), 1000) FROM signals WHERE lower(text) LIKE '%{word}%'"
        ))
    );
    let one = &page.signals[0];
    let again = signal(&o.store, &Scope::all(), &one.id).unwrap();
    assert_eq!(&again, one);
    let v = json(&again);
    assert_eq!(v["channel"], one.channel.map(|c| c.as_str()).unwrap());
    assert_eq!(code(signal(&o.store, &Scope::all(), "nope")).0, "not_found");
    let bad = |r: SignalsRequest| code(signals(&o.store, &Scope::all(), &r)).0;
    assert_eq!(
        bad(SignalsRequest {
            cursor: Some("abc".into()),
            ..SignalsRequest::default()
        }),
        "invalid_request"
    );
    assert_eq!(
        bad(SignalsRequest {
            kind: Some("complain".into()),
            ..SignalsRequest::default()
        }),
        "unknown_filter_value"
    );
    assert_eq!(
        bad(SignalsRequest {
            topic: Some("nope/nope".into()),
            ..SignalsRequest::default()
        }),
        "unknown_filter_value"
    );
    assert_eq!(
        bad(SignalsRequest {
            limit: 0,
            ..SignalsRequest::default()
        }),
        "out_of_range"
    );
}

#[test]
fn status_quarantine_and_topic_models_read_the_store() {
    let o = org(100, 1);
    let s = status::status(&o.store, &Scope::all()).unwrap();
    assert_eq!(s.signals as u64, o.count("SELECT count(*) FROM signals"));
    let q = status::quarantine(
        &o.store,
        &Scope::all(),
        &status::QuarantineRequest::default(),
    )
    .unwrap();
    assert_eq!(
        q.entries.len() as u64,
        o.count("SELECT count(*) FROM quarantine")
    );
    assert!(
        topics::models(&o.store, &Scope::all())
            .unwrap()
            .models
            .is_empty()
    );
    let (c, m) = code(topics::evaluate_model(
        &o.store,
        &Scope::all(),
        "default",
        &[("a text", "billing")],
    ));
    assert_eq!(c, "not_found");
    assert!(m.contains("topic model"), "{m}");
}

#[test]
fn the_newest_texts_through_the_snapshot_are_the_ones_sql_sorts() {
    let o = org(300, 3);
    let (lo, hi): (i64, i64) = o
        .sql
        .query_row("SELECT min(at), max(at) FROM signals", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    // Some signals share a time, so ties are ordered by id.
    o.sql
        .execute_batch("UPDATE signals SET at = (at / 86400) * 86400 WHERE id % 5 = 0")
        .unwrap();
    let mut store = hearken_store::Store::open(o.store.path()).unwrap();
    store.set_snapshot_chunk_rows(500);
    ensure_fresh(&store).unwrap();
    let all = o.count("SELECT count(*) FROM signals WHERE text IS NOT NULL");
    assert!(all > 700, "{all}");
    for (from, to) in [
        (None, None),
        (Some(lo + (hi - lo) / 3), None),
        (None, Some(hi - (hi - lo) / 2)),
        (Some(hi + 1), None),
    ] {
        let window = hearken_store::Window { from, to };
        for limit in [1, 7, 300, all as usize, all as usize + 10] {
            let q = hearken_store::SignalQuery {
                window,
                with_text: true,
                ..hearken_store::SignalQuery::default()
            };
            assert_eq!(
                store.newest_signal_texts(&window, limit).unwrap(),
                store.signal_texts_where(&q, limit).unwrap(),
                "{window:?} {limit}"
            );
        }
    }
}
