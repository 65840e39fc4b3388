//! The early warning on synthetic organisations: no look-ahead, defined results at the edges,
//! the learned model against the rules, model bytes, lead times.

use hearken_engine::risk::{
    self, LeadTimeOptions, LearnerKind, RiskModel, Scorer, TrainOptions, Trained,
};
use hearken_engine::{CustomerFrame, EngineError, NONE};
use proptest::prelude::*;

use crate::helpers::{DAY, Org, START, org};

fn features_json(o: &Org, t: i64) -> Vec<String> {
    let index = o.index();
    (0..index.customers() as u32)
        .map(|k| serde_json::to_string(&index.features(k, t)).expect("features serialise"))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// Whatever happens on or after the as-of date, no feature and no scope changes: the
    /// features from every row equal those from the rows before the as-of date.
    #[test]
    fn features_do_not_see_past_the_as_of_date(seed in 0u64..1000, day in 0i64..200) {
        let o = org(seed, 40, 200);
        let t = START + day * DAY + (seed as i64 % DAY);
        prop_assert_eq!(features_json(&o, t), features_json(&o.before(t), t));
        let (a, b) = (o.index(), o.before(t).index());
        for k in 0..a.customers() as u32 {
            prop_assert_eq!(a.in_scope(k, t), b.in_scope(k, t));
        }
    }
}

#[test]
fn training_never_reads_churn_on_or_after_now() {
    let o = org(7, 400, 300);
    let now = START + 240 * DAY;
    let opts = TrainOptions {
        step_days: 14,
        ..TrainOptions::default()
    };
    let bytes = |o: &Org| match risk::train(&o.index(), now, &opts).unwrap() {
        Trained::Model(m) => m.to_bytes(),
        Trained::NoHistory { note, .. } => panic!("{note}"),
    };
    let mut other = o.clone();
    // Churn on or after `now`: moved, dropped or invented; the model must not change.
    for (i, c) in other.customers.churned_at.iter_mut().enumerate() {
        if *c >= now {
            *c = if i % 2 == 0 { i64::MIN } else { *c + 9 * DAY };
        } else if *c == i64::MIN && i % 5 == 0 {
            *c = now + (i as i64 % 40) * DAY;
        }
    }
    assert_ne!(o.customers.churned_at, other.customers.churned_at);
    assert_eq!(bytes(&o), bytes(&other));
}

#[test]
fn learned_model_finds_the_warning_and_explains_itself() {
    let o = org(11, 600, 330);
    let index = o.index();
    let now = START + 270 * DAY;
    let trained = risk::train(
        &index,
        now,
        &TrainOptions {
            step_days: 10,
            ..TrainOptions::default()
        },
    )
    .unwrap();
    let Trained::Model(model) = trained else {
        panic!("600 customers with churn should train a model")
    };
    let q = &model.quality;
    let split = q.split.as_ref().expect("a held-out split");
    assert_eq!(split.test_as_of, now - 30 * DAY);
    assert!(split.train_to + 30 * DAY <= split.test_as_of, "{split:?}");
    let held_out = q.auc.expect("held-out AUC");
    assert!(held_out > 0.75, "held-out AUC {held_out}");

    // Judged on churn after `now`, which it never saw.
    let report = risk::assess(&index, now, Scorer::Model(&model)).unwrap();
    let codes: Vec<u32> = report.customers.iter().map(|c| c.code).collect();
    let labels = risk::labels(&index, now, 30, &codes);
    let scores: Vec<f64> = report.customers.iter().map(|c| c.score).collect();
    let auc = risk::auc(&scores, &labels).unwrap();
    assert!(auc > 0.8, "model AUC {auc}");
    assert!(scores.iter().all(|s| (0.0..=1.0).contains(s)));
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "highest first");
    assert!(!report.customers[0].reasons.is_empty());

    let rules = risk::assess(&index, now, Scorer::Rules).unwrap();
    let by_code: std::collections::HashMap<u32, f64> =
        rules.customers.iter().map(|c| (c.code, c.score)).collect();
    let rule_scores: Vec<f64> = codes.iter().map(|k| by_code[k]).collect();
    let rules_auc = risk::auc(&rule_scores, &labels).unwrap();
    assert!(rules_auc > 0.65, "rules AUC {rules_auc}");

    // The logistic learner trains on the same examples.
    let logistic = risk::train(
        &index,
        now,
        &TrainOptions {
            step_days: 10,
            learner: LearnerKind::Logistic,
            ..TrainOptions::default()
        },
    )
    .unwrap();
    let Trained::Model(logistic) = logistic else {
        panic!("logistic model")
    };
    assert!(logistic.quality.auc.expect("held-out AUC") > 0.7);
    assert_eq!(logistic.weights_by_column().len(), logistic.columns.len());
}

#[test]
fn no_churn_history_means_the_rules_score() {
    let mut o = org(3, 200, 200);
    o.customers.churned_at = vec![i64::MIN; o.customers.churned_at.len()];
    match risk::train(&o.index(), START + 190 * DAY, &TrainOptions::default()).unwrap() {
        Trained::NoHistory {
            churners,
            needed,
            note,
        } => {
            assert_eq!((churners, needed), (0, 20));
            assert!(note.contains("rules score instead"), "{note}");
        }
        Trained::Model(_) => panic!("no churn, no model"),
    }
    // A history too short for the horizon.
    let short = risk::train(&o.index(), START + 40 * DAY, &TrainOptions::default()).unwrap();
    assert!(matches!(short, Trained::NoHistory { .. }));
    let bad = TrainOptions {
        horizon_days: 0,
        ..TrainOptions::default()
    };
    assert!(matches!(
        risk::train(&o.index(), START + 190 * DAY, &bad),
        Err(EngineError::BadOption {
            name: "horizon_days",
            ..
        })
    ));
}

#[test]
fn model_bytes_round_trip_and_damage_is_refused() {
    let o = org(5, 300, 300);
    let index = o.index();
    let Trained::Model(model) =
        risk::train(&index, START + 280 * DAY, &TrainOptions::default()).unwrap()
    else {
        panic!("model")
    };
    let bytes = model.to_bytes();
    let back = RiskModel::from_bytes(&bytes).unwrap();
    assert_eq!(back, *model);
    let f = index.features(1, START + 280 * DAY);
    assert_eq!(
        back.predict(&f, &index).to_bits(),
        model.predict(&f, &index).to_bits()
    );

    let err = |b: &[u8]| RiskModel::from_bytes(b).unwrap_err().to_string();
    assert!(err(&bytes[..bytes.len() - 3]).contains("truncated"));
    assert!(err(b"HKTOPICS\x01\x00\x00\x00").contains("not a risk model"));
    let mut v = bytes.clone();
    v[8] = 99;
    assert!(err(&v).contains("format version 99"));
    let mut v = bytes.clone();
    v.push(0);
    assert!(err(&v).contains("unexpected bytes"));
}

#[test]
fn as_of_before_any_data_or_after_all_of_it_is_defined() {
    let o = org(9, 50, 120);
    let index = o.index();
    let before = risk::assess(&index, START - DAY, Scorer::Rules).unwrap();
    assert!(before.customers.is_empty());
    assert_eq!(before.not_yet_seen, 50);
    assert!(
        before.notes[0].contains("no data before the as-of date"),
        "{:?}",
        before.notes
    );

    let after = risk::assess(&index, START + 400 * DAY, Scorer::Rules).unwrap();
    let churned = o
        .customers
        .churned_at
        .iter()
        .filter(|&&c| c != i64::MIN)
        .count() as u64;
    assert_eq!(after.already_churned, churned);
    assert_eq!(
        after.customers.len() as u64 + churned + after.not_yet_seen,
        50
    );
    assert!(
        after.notes[0].contains("days after the last data"),
        "{:?}",
        after.notes
    );

    // Nothing at all.
    let empty = Org::default().index();
    let r = risk::assess(&empty, START, Scorer::Rules).unwrap();
    assert!(r.customers.is_empty());
    assert!(r.notes[0].starts_with("no data"));
    assert!(matches!(
        risk::train(&empty, START, &TrainOptions::default()).unwrap(),
        Trained::NoHistory { .. }
    ));
}

#[test]
fn customers_with_one_signal_or_none_are_defined() {
    let mut o = Org::default();
    o.signals.at = vec![START + 10 * DAY];
    o.signals.customer = vec![0];
    o.signals.kind = vec![2];
    o.signals.topic = vec![NONE];
    o.signals.sentiment = vec![-0.6];
    o.signals.case = vec![NONE];
    o.customers = CustomerFrame {
        segment: vec![NONE, NONE],
        persona: vec![NONE, NONE],
        since: vec![i64::MIN, START],
        value_per_year: vec![f64::NAN, 100.0],
        white_glove: vec![false, true],
        churned_at: vec![i64::MIN, i64::MIN],
        ..CustomerFrame::default()
    };
    let index = o.index();
    let f = index.features(0, START + 30 * DAY);
    assert_eq!(f.contacts, 1);
    assert!(f.usual_gap_days.is_nan() && f.tenure_days.is_nan());
    assert_eq!(f.days_since_contact, 20.0);
    let r = risk::assess(&index, START + 30 * DAY, Scorer::Rules).unwrap();
    // Customer 1 has no signal: not scored, counted.
    assert_eq!((r.customers.len(), r.not_yet_seen), (1, 1));
    let c = &r.customers[0];
    assert_eq!(c.customer_id, "#0");
    assert!(c.score > 0.0);
    assert!(
        c.reasons
            .iter()
            .any(|r| r == "silent for 20 days since a negative contact"),
        "{:?}",
        c.reasons
    );
    // A customer code past every frame has empty features, not a panic.
    let none = index.features(99, START);
    assert_eq!(none.contacts, 0);
}

#[test]
fn columns_of_different_lengths_are_refused() {
    let mut o = org(1, 10, 60);
    o.signals.customer.pop();
    let e = risk::RiskIndex::build(&risk::RiskData {
        signals: &o.signals,
        surveys: &o.surveys,
        customers: &o.customers,
        cases: &o.cases,
    })
    .unwrap_err();
    assert!(matches!(e, EngineError::LengthMismatch { .. }), "{e}");
}

#[test]
fn lead_time_runs_from_the_first_warning_to_the_churn() {
    let o = org(21, 400, 300);
    let index = o.index();
    let opts = LeadTimeOptions {
        from: START + 150 * DAY,
        to: START + 300 * DAY,
        step_days: 2,
        alert_share: 0.1,
        lookback_days: 60,
    };
    let lead = risk::lead_times(&index, Scorer::Rules, &opts).unwrap();
    let watched = o
        .customers
        .churned_at
        .iter()
        .filter(|&&c| c != i64::MIN && c - 60 * DAY >= opts.from && c < opts.to)
        .count() as u64;
    assert_eq!(lead.churners, watched);
    assert!(
        lead.warned > watched / 2,
        "{} of {watched} warned",
        lead.warned
    );
    let median = lead.median_days.expect("a median");
    assert!((0.0..=60.0).contains(&median));
    assert!(lead.days.iter().all(|d| (0.0..=60.0).contains(d)));
    assert!(lead.mean_alert_share.expect("a share") >= 0.1 - 1e-9);
    let bad = LeadTimeOptions {
        alert_share: 1.5,
        ..opts
    };
    assert!(risk::lead_times(&index, Scorer::Rules, &bad).is_err());
}

#[test]
fn a_case_counts_for_a_customer_only_once_a_signal_ties_it_to_them() {
    use hearken_engine::risk::CaseStep;
    let mut o = Org::default();
    // Case 0: events from day 1 (opened, escalated), its only signal (naming customer 0) on
    // day 20, closed on day 30.
    o.signals.at = vec![START + 20 * DAY];
    o.signals.customer = vec![0];
    o.signals.kind = vec![2];
    o.signals.topic = vec![NONE];
    o.signals.sentiment = vec![-0.5];
    o.signals.case = vec![0];
    o.cases.case = vec![0, 0, 0];
    o.cases.at = vec![START + DAY, START + 2 * DAY, START + 30 * DAY];
    o.cases.step = vec![CaseStep::Other, CaseStep::Escalated, CaseStep::Closed];
    o.customers = CustomerFrame {
        segment: vec![NONE],
        persona: vec![NONE],
        since: vec![START],
        value_per_year: vec![f64::NAN],
        white_glove: vec![false],
        churned_at: vec![i64::MIN],
        ..CustomerFrame::default()
    };
    let index = o.index();
    let at = |day: i64| index.features(0, START + day * DAY);
    // Day 10: the data does not yet say whose case it is.
    assert_eq!((at(10).open_cases, at(10).escalated_90), (0, 0));
    // Day 25: tied to customer 0, open since day 1, escalated.
    let f = at(25);
    assert_eq!((f.open_cases, f.escalated_90), (1, 1));
    assert_eq!(f.oldest_open_case_days, 24.0);
    // Day 31: closed; the escalation still counts for 90 days.
    assert_eq!((at(31).open_cases, at(31).escalated_90), (0, 1));
    assert_eq!(at(93).escalated_90, 0);
}

#[test]
fn case_steps_come_from_named_activities() {
    use hearken_engine::cost::CaseActivities;
    use hearken_engine::risk::{CaseStep, CaseSteps};
    let events = CaseActivities {
        case: vec![0, 0, 1],
        at: vec![1, 2, 3],
        activity: vec![0, 1, 7],
        activities: hearken_engine::Dict {
            names: vec!["Escalated to tier 2".into(), "Ticket closed".into()],
        },
    };
    let steps = CaseSteps::from_activities(&events, |a| {
        if a.contains("closed") {
            CaseStep::Closed
        } else if a.starts_with("Escalated") {
            CaseStep::Escalated
        } else {
            CaseStep::Other
        }
    });
    // An activity code outside the dictionary is an ordinary step.
    assert_eq!(
        steps.step,
        [CaseStep::Escalated, CaseStep::Closed, CaseStep::Other]
    );
}
