//! The generator's files read back as an importer would, and the truth checked against them.

mod effect_recovery;
mod effects;
mod helpers;
mod stationary;

use std::collections::{BTreeMap, BTreeSet};

use hearken_gen::{GenConfig, GenError, Progress, STAGES, TEAMS, generate, header};
use hearken_model::{
    CesScore, Channel, CsatScore, DateOptions, ExtId, Label, Money, NpsScore, Rating, RecordKind,
    SignalKind, Source, Text, Timestamp, parse_bool,
};
use helpers::{Table, canonical_columns, data, ols, pearson, read, top20};

const FILES: [&str; 6] = [
    "customers.csv",
    "products.csv",
    "agents.csv",
    "signals.csv",
    "surveys.csv",
    "case_events.csv",
];

fn ts(v: &str) -> i64 {
    Timestamp::parse("at", v, &DateOptions::default())
        .unwrap_or_else(|e| panic!("{v}: {e}"))
        .unix()
}

fn day(date: &str) -> i64 {
    ts(date)
}

#[test]
fn same_seed_same_bytes_whatever_the_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = GenConfig {
        customers: 5_000,
        months: 2,
        seed: 42,
        ..GenConfig::default()
    };
    let run = |name: &str, cfg: &GenConfig| {
        let dir = tmp.path().join(name);
        generate(cfg, &dir, &|_| {}).unwrap();
        let mut files: Vec<Vec<u8>> = FILES
            .iter()
            .map(|f| std::fs::read(dir.join(f)).unwrap())
            .collect();
        files.push(std::fs::read(dir.join("truth.json")).unwrap());
        files
    };
    let one = run(
        "one",
        &GenConfig {
            threads: 1,
            ..cfg.clone()
        },
    );
    let two = run(
        "two",
        &GenConfig {
            threads: 2,
            ..cfg.clone()
        },
    );
    let three = run(
        "three",
        &GenConfig {
            threads: 3,
            ..cfg.clone()
        },
    );
    for (i, name) in FILES.iter().chain(["truth.json"].iter()).enumerate() {
        assert!(
            one[i] == two[i] && two[i] == three[i],
            "{name} differs between runs"
        );
    }
    assert!(one[3].len() > 10_000, "signals were written");
    let other = run("other", &GenConfig { seed: 43, ..cfg });
    assert_ne!(one[3], other[3], "another seed gives other signals");
    assert_ne!(one[0], other[0], "and other customers");
}

#[test]
fn headers_are_the_canonical_columns() {
    let d = data();
    let canon = canonical_columns();
    for file in FILES {
        let t = read(&d.dir, file);
        let mut expected: Vec<String> = Vec::new();
        for c in &canon[file] {
            if c == "aspect_*" {
                expected.extend(d.cfg.aspects.iter().map(|a| format!("aspect_{}", a.name)));
            } else {
                expected.push(c.clone());
            }
        }
        assert_eq!(t.header, expected, "{file}");
        let kind = RecordKind::ALL
            .iter()
            .find(|k| k.file_name() == file)
            .copied()
            .unwrap();
        assert_eq!(header(kind, &d.cfg), expected, "{file}: header()");
        for (i, row) in t.rows.iter().enumerate() {
            assert_eq!(row.len(), t.header.len(), "{file} row {}", i + 2);
        }
        assert_eq!(
            d.truth.rows[file],
            t.rows.len() as u64,
            "{file}: truth row count"
        );
    }
}

fn ids(t: &Table, col: &str) -> BTreeSet<String> {
    let c = t.col(col);
    t.rows.iter().map(|r| r[c].clone()).collect()
}

fn id_ok(field: &str, v: &str) {
    ExtId::parse(field, v).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn every_value_parses_with_the_model() {
    let d = data();
    let start = day(&d.truth.config.start);
    let end = day(&d.truth.config.end);
    let customers = read(&d.dir, "customers.csv");
    let products = read(&d.dir, "products.csv");
    let agents = read(&d.dir, "agents.csv");
    let (cust_ids, prod_ids, agent_ids) = (
        ids(&customers, "customer_id"),
        ids(&products, "product_id"),
        ids(&agents, "agent_id"),
    );
    assert_eq!(
        cust_ids.len() as u64,
        d.cfg.customers,
        "customer ids are unique"
    );
    for r in &customers.rows {
        id_ok("customer_id", &r[0]);
        Label::parse("segment", &r[2]).unwrap();
        Label::parse("persona", &r[3]).unwrap();
        assert!(ts(&r[4]) < end, "customer_since before the end");
        Money::parse("value_per_year", &r[5]).unwrap();
        parse_bool("white_glove", &r[6]).unwrap();
        if !r[7].is_empty() {
            let c = ts(&r[7]);
            assert!(c >= start && c < end, "churned_at inside the window");
        }
    }
    for r in &agents.rows {
        assert!(TEAMS.contains(&r[2].as_str()), "{}", r[2]);
    }
    for team in TEAMS {
        assert!(
            agents.rows.iter().any(|r| r[2] == team),
            "team {team} has agents"
        );
    }

    let signals = read(&d.dir, "signals.csv");
    let events = read(&d.dir, "case_events.csv");
    let case_ids = ids(&events, "case_id");
    let taxonomy: BTreeSet<&str> = d.truth.taxonomy.iter().map(String::as_str).collect();
    let (mut kinds, mut channels, mut sources, mut stages) = (
        BTreeSet::new(),
        BTreeSet::new(),
        BTreeSet::new(),
        BTreeSet::new(),
    );
    let mut signal_ids = BTreeSet::new();
    for r in &signals.rows {
        id_ok("signal_id", &r[0]);
        assert!(
            signal_ids.insert(r[0].clone()),
            "duplicate signal id {}",
            r[0]
        );
        let at = ts(&r[1]);
        assert!(at >= start && at < end, "{} outside the window", r[1]);
        channels.insert(Channel::parse("channel", &r[2]).unwrap());
        let kind = SignalKind::parse("kind", &r[3]).unwrap();
        kinds.insert(kind);
        let source = Source::parse("source", &r[4]).unwrap();
        sources.insert(source);
        if source == Source::Employee {
            assert_eq!(
                kind,
                SignalKind::Suggestion,
                "employee signals are suggestions"
            );
            assert!(r[5].is_empty() && agent_ids.contains(&r[8]));
        } else {
            assert!(cust_ids.contains(&r[5]), "unknown customer {}", r[5]);
        }
        assert!(
            r[6].is_empty() || prod_ids.contains(&r[6]),
            "product {}",
            r[6]
        );
        assert!(r[7].is_empty() || case_ids.contains(&r[7]), "case {}", r[7]);
        assert!(
            r[8].is_empty() || agent_ids.contains(&r[8]),
            "agent {}",
            r[8]
        );
        if !r[9].is_empty() {
            assert!(STAGES.contains(&r[9].as_str()));
            stages.insert(r[9].clone());
        }
        assert!(
            r[10].is_empty() || taxonomy.contains(r[10].as_str()),
            "{}",
            r[10]
        );
        assert!(
            Text::parse("text", &r[11]).unwrap().is_some(),
            "every signal has text"
        );
    }
    assert_eq!(
        kinds.len(),
        SignalKind::ALL.len(),
        "every kind occurs: {kinds:?}"
    );
    assert_eq!(sources.len(), 2);
    assert_eq!(stages.len(), STAGES.len());
    assert!(channels.len() >= 8, "{channels:?}");

    let surveys = read(&d.dir, "surveys.csv");
    let aspect_cols: Vec<usize> = (0..surveys.header.len())
        .filter(|i| surveys.header[*i].starts_with("aspect_"))
        .collect();
    for r in &surveys.rows {
        id_ok("response_id", &r[0]);
        let at = ts(&r[1]);
        assert!(at >= start && at < end);
        assert!(cust_ids.contains(&r[2]));
        assert!(r[4].is_empty() || case_ids.contains(&r[4]));
        if !r[6].is_empty() {
            Channel::parse("channel", &r[6]).unwrap();
        }
        NpsScore::parse("nps", &r[7]).unwrap();
        if !r[8].is_empty() {
            CsatScore::parse("csat", &r[8]).unwrap();
            CesScore::parse("ces", &r[9]).unwrap();
        }
        Rating::parse("overall", &r[10]).unwrap();
        for c in &aspect_cols {
            Rating::parse(&surveys.header[*c], &r[*c]).unwrap();
        }
    }

    let activities = [
        "new",
        "assigned",
        "in_progress",
        "waiting_on_customer",
        "escalated",
        "resolved",
        "reopened",
        "closed",
    ];
    let mut event_ids = BTreeSet::new();
    for r in &events.rows {
        assert!(event_ids.insert(r[0].clone()), "duplicate event id");
        let at = ts(&r[2]);
        assert!(at >= start && at < end);
        assert!(activities.contains(&r[3].as_str()), "{}", r[3]);
        assert!(r[4].is_empty() || agent_ids.contains(&r[4]));
        assert!(r[5].is_empty() || TEAMS.contains(&r[5].as_str()));
    }
}

#[test]
fn contacts_are_heavy_tailed_as_the_truth_says() {
    let d = data();
    let signals = read(&d.dir, "signals.csv");
    let customers = read(&d.dir, "customers.csv");
    let mut per_customer: BTreeMap<&str, u64> =
        customers.rows.iter().map(|r| (r[0].as_str(), 0)).collect();
    let mut per_product: BTreeMap<String, u64> = read(&d.dir, "products.csv")
        .rows
        .iter()
        .map(|r| (r[0].clone(), 0))
        .collect();
    for r in &signals.rows {
        if let Some(n) = per_customer.get_mut(r[5].as_str()) {
            *n += 1;
        }
        if let Some(n) = per_product.get_mut(&r[6]) {
            *n += 1;
        }
    }
    let c = top20(per_customer.values().copied().collect());
    let p = top20(per_product.values().copied().collect());
    let truth = &d.truth.pareto;
    assert!(
        (c - truth.customers.realised_top20_share).abs() < 1e-6,
        "{c}"
    );
    assert!(
        (p - truth.products.realised_top20_share).abs() < 1e-6,
        "{p}"
    );
    assert!((0.70..=0.85).contains(&c), "top 20% of customers send {c}");
    assert!((0.60..=0.85).contains(&p), "top 20% of products get {p}");
    // The shape follows sigma: a flatter weight gives a flatter realised share.
    let tmp = tempfile::tempdir().unwrap();
    let flat = GenConfig {
        customer_sigma: 0.3,
        customers: 2_000,
        months: 3,
        ..helpers::config()
    };
    let s = generate(&flat, tmp.path(), &|_| {}).unwrap();
    assert!(s.truth.pareto.customers.realised_top20_share < c - 0.15);
    // About one signal per customer per month.
    let ratio = d.truth.signals_per_customer_month;
    assert!(
        (0.9..=1.1).contains(&ratio),
        "{ratio} signals per customer-month"
    );
}

#[test]
fn driver_weights_are_recoverable_by_regression() {
    let d = data();
    let surveys = read(&d.dir, "surveys.csv");
    let names: Vec<String> = d.cfg.aspects.iter().map(|a| a.name.clone()).collect();
    let cols: Vec<usize> = names
        .iter()
        .map(|n| surveys.col(&format!("aspect_{n}")))
        .collect();
    let overall = surveys.col("overall");
    let x: Vec<Vec<f64>> = surveys
        .rows
        .iter()
        .map(|r| cols.iter().map(|c| r[*c].parse().unwrap()).collect())
        .collect();
    let y: Vec<f64> = surveys
        .rows
        .iter()
        .map(|r| r[overall].parse().unwrap())
        .collect();
    assert!(y.len() > 1_500, "{} responses", y.len());
    let beta = ols(&x, &y);
    // Standard error of each weight here is about 0.01 (noise sd ~0.55 incl. rounding, aspect sd
    // ~1.6, ~2,000+ responses, aspects correlated through the customer); 0.05 is ~5 SE and
    // also covers the small bias from clamping at 0 and 10.
    for (name, b) in names.iter().zip(&beta[1..]) {
        let w = d.truth.driver_weights[name];
        assert!((b - w).abs() < 0.05, "{name}: fitted {b}, true {w}");
        let own = d.truth.drivers.realised_ols[name];
        assert!((b - own).abs() < 1e-4, "{name}: truth's OLS {own} vs {b}");
    }
    assert!(beta[0].abs() < 0.3, "intercept {}", beta[0]);
    let service = d.truth.driver_weights["service"];
    assert!((0.5..=0.6).contains(&service));
    let nps: Vec<f64> = surveys
        .rows
        .iter()
        .map(|r| r[surveys.col("nps")].parse().unwrap())
        .collect();
    let r = pearson(&nps, &y);
    assert!(r > 0.6, "nps and overall correlate: {r}");
}

#[test]
fn churners_warn_then_go_silent() {
    let d = data();
    let churned: BTreeMap<&str, i64> = d
        .truth
        .churned
        .iter()
        .map(|c| (c.customer_id.as_str(), day(&c.churned_at)))
        .collect();
    assert!(churned.len() > 40, "{} churners", churned.len());
    assert_eq!(churned.len() as u64, d.truth.churn.customers);
    let customers = read(&d.dir, "customers.csv");
    for r in &customers.rows {
        match churned.get(r[0].as_str()) {
            Some(at) => assert_eq!(day(&r[7]), *at, "{}", r[0]),
            None => assert!(r[7].is_empty(), "{} churned but not in truth", r[0]),
        }
    }
    let [warn_min, warn_max] = d.truth.churn.warning_days_before.map(i64::from);
    let silent_min = i64::from(d.truth.churn.silent_days_before[0]);
    let signals = read(&d.dir, "signals.csv");
    let mut warned = BTreeSet::new();
    for r in &signals.rows {
        let Some(churn) = churned.get(r[5].as_str()) else {
            continue;
        };
        let at = ts(&r[1]);
        assert!(
            at < churn - silent_min * 86_400,
            "{} spoke during its silence",
            r[5]
        );
        if r[3] == "complaint" && at >= churn - warn_max * 86_400 && at < churn - warn_min * 86_400
        {
            warned.insert(r[5].clone());
        }
    }
    assert_eq!(
        warned.len(),
        churned.len(),
        "every churner complained before leaving"
    );
    let surveys = read(&d.dir, "surveys.csv");
    for r in &surveys.rows {
        if let Some(churn) = churned.get(r[2].as_str()) {
            assert!(
                ts(&r[1]) < churn - silent_min * 86_400,
                "survey during silence"
            );
        }
    }
    // Churners were less satisfied: their mean NPS is lower.
    let (mut a, mut b) = (Vec::new(), Vec::new());
    for r in &surveys.rows {
        let nps: f64 = r[7].parse().unwrap();
        if churned.contains_key(r[2].as_str()) {
            a.push(nps);
        } else {
            b.push(nps);
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert!(
        mean(&a) + 0.5 < mean(&b),
        "churners {} vs others {}",
        mean(&a),
        mean(&b)
    );
}

#[test]
fn injected_effects_show_in_the_labelled_topics() {
    let d = data();
    let signals = read(&d.dir, "signals.csv");
    let start = day(&d.truth.config.start);
    for effect in &d.truth.effects {
        match effect {
            hearken_gen::Effect::Spike {
                topic,
                week_start,
                multiplier,
                realised_count_in_week,
                realised_mean_weekly_count_elsewhere,
                ..
            } => {
                let ratio = *realised_count_in_week as f64 / realised_mean_weekly_count_elsewhere;
                assert!(
                    (multiplier * 0.7..=multiplier * 1.3).contains(&ratio),
                    "spike {ratio} vs {multiplier}"
                );
                // The labelled rows alone show it too: full weeks aligned with the spike week.
                let (w0, end, week) = (day(week_start), day(&d.truth.config.end), 7 * 86_400);
                let mut per_week: BTreeMap<i64, u64> = BTreeMap::new();
                for r in signals.rows.iter().filter(|r| &r[10] == topic) {
                    *per_week
                        .entry((ts(&r[1]) - w0).div_euclid(week))
                        .or_insert(0) += 1;
                }
                let full = |i: i64| w0 + i * week >= start && w0 + (i + 1) * week <= end;
                let others: Vec<u64> = (-60..60)
                    .filter(|i| *i != 0 && full(*i))
                    .map(|i| per_week.get(&i).copied().unwrap_or(0))
                    .collect();
                let mean = others.iter().sum::<u64>() as f64 / others.len() as f64;
                let labelled_ratio = per_week.get(&0).copied().unwrap_or(0) as f64 / mean;
                assert!(
                    labelled_ratio > multiplier * 0.6,
                    "labelled spike {labelled_ratio}"
                );
            }
            hearken_gen::Effect::Improvement {
                factor,
                realised_weekly_rate_before,
                realised_weekly_rate_after,
                ..
            } => {
                let ratio = realised_weekly_rate_after / realised_weekly_rate_before;
                assert!(
                    (factor - 0.15..=factor + 0.15).contains(&ratio),
                    "improvement {ratio} vs {factor}"
                );
            }
            other => {
                panic!("the default config injects a spike and an improvement only: {other:?}")
            }
        }
    }
    assert_eq!(d.truth.effects.len(), 2);
    let with_topic: u64 = d.truth.mix.topics.values().sum();
    let share = d.truth.mix.labelled as f64 / with_topic as f64;
    assert!((0.57..=0.63).contains(&share), "labelled share {share}");
    let labelled_rows = signals.rows.iter().filter(|r| !r[10].is_empty()).count();
    assert_eq!(labelled_rows as u64, d.truth.mix.labelled);
}

#[test]
fn cases_transfer_loop_escalate_and_some_stay_open() {
    let d = data();
    let events = read(&d.dir, "case_events.csv");
    let mut cases: BTreeMap<&str, Vec<&Vec<String>>> = BTreeMap::new();
    for r in &events.rows {
        cases.entry(r[1].as_str()).or_default().push(r);
    }
    let (mut transfers, mut escalated, mut reopened, mut open, mut noted) = (0, 0, 0, 0, 0);
    for (id, evs) in &cases {
        assert_eq!(evs[0][3], "new", "{id} starts with new");
        assert!(
            evs.windows(2).all(|w| ts(&w[0][2]) <= ts(&w[1][2])),
            "{id} in time order"
        );
        let assigned = evs.iter().filter(|e| e[3] == "assigned").count();
        transfers += assigned.saturating_sub(1) as u64;
        escalated += evs.iter().filter(|e| e[3] == "escalated").count() as u64;
        reopened += evs.iter().filter(|e| e[3] == "reopened").count() as u64;
        if evs.last().is_some_and(|e| e[3] != "closed") {
            open += 1;
        }
        noted += evs.iter().filter(|e| !e[6].is_empty()).count() as u64;
    }
    let t = &d.truth.cases;
    assert_eq!(cases.len() as u64, t.cases);
    assert_eq!(transfers, t.transfers);
    assert_eq!(escalated, t.escalated);
    assert_eq!(reopened, t.reopened);
    assert_eq!(open, t.open_at_end);
    assert!(transfers > 0 && escalated > 0 && reopened > 0 && open > 0 && noted > 0);
    // Several teams take part in a transferred case.
    let multi_team = cases.values().any(|evs| {
        let teams: BTreeSet<&str> = evs
            .iter()
            .map(|e| e[5].as_str())
            .filter(|t| !t.is_empty())
            .collect();
        teams.len() >= 2
    });
    assert!(multi_team);
}

/// A nearest-centroid bag-of-words classifier trained on half the labelled signals gets the
/// other half's topics mostly right: the texts carry learnable topic words.
#[test]
fn texts_carry_learnable_topic_words() {
    let d = data();
    let signals = read(&d.dir, "signals.csv");
    let labelled: Vec<(&str, &str)> = signals
        .rows
        .iter()
        .filter(|r| !r[10].is_empty())
        .map(|r| (r[10].as_str(), r[11].as_str()))
        .collect();
    let words = |t: &str| -> Vec<String> {
        t.split(|c: char| !c.is_alphanumeric())
            .filter(|w| w.len() > 2)
            .map(str::to_lowercase)
            .collect()
    };
    let mut model: BTreeMap<&str, BTreeMap<String, f64>> = BTreeMap::new();
    for (topic, text) in labelled.iter().step_by(2) {
        let m = model.entry(topic).or_default();
        for w in words(text) {
            *m.entry(w).or_insert(0.0) += 1.0;
        }
    }
    for m in model.values_mut() {
        let total: f64 = m.values().sum();
        m.values_mut().for_each(|v| *v /= total);
    }
    let (mut right, mut all) = (0, 0);
    for (topic, text) in labelled.iter().skip(1).step_by(2) {
        let ws = words(text);
        let best = model
            .iter()
            .map(|(t, m)| {
                (
                    ws.iter()
                        .map(|w| m.get(w).copied().unwrap_or(0.0))
                        .sum::<f64>(),
                    *t,
                )
            })
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map(|(_, t)| t);
        right += usize::from(best == Some(*topic));
        all += 1;
    }
    let acc = right as f64 / all as f64;
    assert!(acc > 0.8, "topic accuracy {acc}");
}

#[test]
fn progress_reaches_every_customer_and_errors_name_the_problem() {
    let tmp = tempfile::tempdir().unwrap();
    let seen = std::sync::Mutex::new(Vec::<Progress>::new());
    let cfg = GenConfig {
        customers: 5_000,
        months: 1,
        ..GenConfig::default()
    };
    let s = generate(&cfg, tmp.path(), &|p| seen.lock().unwrap().push(p)).unwrap();
    let seen = seen.into_inner().unwrap();
    assert!(seen.len() >= 2);
    assert!(
        seen.windows(2)
            .all(|w| w[0].customers_done < w[1].customers_done)
    );
    let last = seen.last().unwrap();
    assert_eq!(last.customers_done, 5_000);
    assert_eq!(last.signals_written, s.rows["signals.csv"]);
    assert_eq!(last.rows_written, s.rows.values().sum::<u64>());

    let bad = GenConfig {
        months: 0,
        ..GenConfig::default()
    };
    let e = generate(&bad, tmp.path(), &|_| {}).unwrap_err();
    assert!(
        matches!(
            e,
            GenError::InvalidConfig {
                field: "months",
                ..
            }
        ),
        "{e}"
    );
    let unknown = GenConfig {
        spike: Some(hearken_gen::Spike {
            topic: "billing/nonsense".into(),
            week_start: None,
            multiplier: 2.0,
        }),
        ..cfg.clone()
    };
    let e = generate(&unknown, tmp.path(), &|_| {}).unwrap_err();
    assert!(e.to_string().contains("billing/nonsense"), "{e}");
    let file = tmp.path().join("a-file");
    std::fs::write(&file, b"x").unwrap();
    let e = generate(&cfg, &file, &|_| {}).unwrap_err();
    assert!(matches!(e, GenError::Io { .. }), "{e}");
    assert!(e.to_string().contains("a-file"), "{e}");
}

#[test]
fn other_aspects_and_no_effects_are_honoured() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = GenConfig {
        customers: 300,
        months: 1,
        seed: 5,
        products: 3,
        agents: 5,
        aspects: vec![
            hearken_gen::Aspect {
                name: "quality".into(),
                weight: 0.7,
            },
            hearken_gen::Aspect {
                name: "value_for_money".into(),
                weight: 0.3,
            },
        ],
        spike: None,
        improvement: None,
        ..GenConfig::default()
    };
    let s = generate(&cfg, tmp.path(), &|_| {}).unwrap();
    assert!(s.truth.effects.is_empty());
    assert_eq!(
        s.truth.driver_weights.keys().collect::<Vec<_>>(),
        ["quality", "value_for_money"]
    );
    let surveys = read(tmp.path(), "surveys.csv");
    assert!(
        surveys
            .header
            .contains(&"aspect_value_for_money".to_string())
    );
    assert_eq!(s.rows["agents.csv"], 5);
    assert_eq!(s.rows["products.csv"], 3);
    let signals = read(tmp.path(), "signals.csv");
    let end = day(&s.truth.config.end);
    assert_eq!(s.truth.config.end, "2025-02-01");
    assert!(signals.rows.iter().all(|r| ts(&r[1]) < end));
}
