//! The generator's injected improvements, measured by Hearken's effect engine on the files it
//! wrote: the true change of truth.json lies inside the 90% interval (one seed, so the test is
//! deterministic; docs/validation.md has the rates over many seeds, from
//! `cargo run --release -p hearken-gen --example effect_validation`).

use std::collections::HashMap;

use hearken_engine::effect::{EffectOptions, Metric, Observations, Scope, effect};
use hearken_engine::{Dict, NONE};
use hearken_gen::{Effect, GenConfig, Improvement, StageTimeShift, generate};
use hearken_model::{DateOptions, Timestamp};

use crate::helpers::read;

fn ts(v: &str) -> i64 {
    Timestamp::parse("at", v, &DateOptions::default())
        .unwrap_or_else(|e| panic!("{v}: {e}"))
        .unix()
}

fn code(names: &mut Vec<String>, map: &mut HashMap<String, u32>, s: &str) -> u32 {
    if s.is_empty() {
        return NONE;
    }
    *map.entry(s.to_string()).or_insert_with(|| {
        names.push(s.to_string());
        names.len() as u32 - 1
    })
}

#[test]
fn injected_volume_and_stage_time_changes_are_inside_the_intervals() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = GenConfig {
        customers: 15_000,
        months: 6,
        seed: 5,
        labelled_topic_share: 1.0,
        spike: None,
        improvement: Some(Improvement {
            topic: "billing/wrong_amount".into(),
            at: None,
            factor: 0.5,
        }),
        stage_time_shift: Some(StageTimeShift {
            stage: "waiting_on_customer".into(),
            at: None,
            factor: 0.6,
        }),
        ..GenConfig::default()
    };
    let s = generate(&cfg, tmp.path(), &|_| {}).unwrap();
    let (start, end) = (ts(&s.truth.config.start), ts(&s.truth.config.end));

    // Volume: signals by topic, clustered by customer.
    let signals = read(tmp.path(), "signals.csv");
    let (mut topics, mut tmap) = (Vec::new(), HashMap::new());
    let (mut customers, mut cmap) = (Vec::new(), HashMap::new());
    let (mut at, mut group, mut cluster) = (Vec::new(), Vec::new(), Vec::new());
    for r in &signals.rows {
        let t = code(&mut topics, &mut tmap, &r[10]);
        if t == NONE {
            continue;
        }
        at.push(ts(&r[1]));
        group.push(t);
        cluster.push(code(&mut customers, &mut cmap, &r[5]));
    }
    let topic_dict = Dict { names: topics };
    // Stage visits: from an event to the case's next event, by the first event's activity.
    let events = read(tmp.path(), "case_events.csv");
    let (mut stages, mut smap) = (Vec::new(), HashMap::new());
    let (mut cases, mut kmap) = (Vec::new(), HashMap::new());
    let (mut v_at, mut v_group, mut v_value, mut v_case) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for pair in events.rows.windows(2) {
        if pair[0][1] != pair[1][1] {
            continue;
        }
        v_at.push(ts(&pair[0][2]));
        v_group.push(code(&mut stages, &mut smap, &pair[0][3]));
        v_value.push((ts(&pair[1][2]) - ts(&pair[0][2])) as f64);
        v_case.push(code(&mut cases, &mut kmap, &pair[0][1]));
    }
    let stage_dict = Dict { names: stages };

    let mut checked = 0;
    for e in &s.truth.effects {
        let (metric, obs, group_code, date, truth) = match e {
            Effect::Improvement {
                topic,
                at: date,
                true_change,
                ..
            } => (
                Metric::Volume,
                Observations {
                    at: &at,
                    group: &group,
                    value: &[],
                    cluster: &cluster,
                    groups: &topic_dict,
                },
                tmap[topic],
                date,
                *true_change,
            ),
            Effect::StageTimeShift {
                stage,
                at: date,
                true_change,
                ..
            } => (
                Metric::StageTime,
                Observations {
                    at: &v_at,
                    group: &v_group,
                    value: &v_value,
                    cluster: &v_case,
                    groups: &stage_dict,
                },
                smap[stage],
                date,
                *true_change,
            ),
            other => panic!("not configured: {other:?}"),
        };
        let opts = EffectOptions {
            before_days: 56,
            after_days: 56,
            data_from: start,
            data_to: end,
            ..EffectOptions::around(ts(date))
        };
        let scope = Scope {
            treated: vec![group_code],
            linked: vec![],
        };
        let m = effect(metric, &obs, &scope, &opts).unwrap();
        for (what, est) in [("before/after", &m.estimate), ("did", &m.did.estimate)] {
            let (lo, hi) = (est.low.unwrap(), est.high.unwrap());
            assert!(
                lo <= truth && truth <= hi,
                "{metric:?} {what}: truth {truth} outside [{lo}, {hi}] (estimate {:?})",
                est.change
            );
        }
        assert!(!m.did.controls.is_empty());
        checked += 1;
    }
    assert_eq!(checked, 2);
}
