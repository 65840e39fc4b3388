//! The injected effects beyond the volume spike and improvement: a sentiment shift, fewer repeat
//! contacts, an NPS shift in a segment, a longer or shorter stage, a season and day-to-day
//! volume noise — each with its truth, visible in the files, and the same bytes for the same
//! seed.

use std::collections::BTreeMap;

use hearken_gen::{
    Effect, GenConfig, GenError, NpsShift, RepeatShift, Season, SentimentShift, StageTimeShift,
    VolumeNoise, generate,
};
use hearken_model::{DateOptions, Timestamp};

use crate::helpers::read;

fn ts(v: &str) -> i64 {
    Timestamp::parse("at", v, &DateOptions::default())
        .unwrap_or_else(|e| panic!("{v}: {e}"))
        .unix()
}

fn config() -> GenConfig {
    GenConfig {
        customers: 6_000,
        months: 4,
        seed: 21,
        labelled_topic_share: 1.0,
        spike: None,
        improvement: None,
        sentiment_shift: Some(SentimentShift {
            topic: "billing/double_charge".into(),
            at: None,
            share: 0.8,
        }),
        repeat_shift: Some(RepeatShift {
            topic: "network/outage".into(),
            at: None,
            factor: 0.2,
        }),
        nps_shift: Some(NpsShift {
            segment: "smb".into(),
            at: None,
            shift: 1.5,
        }),
        stage_time_shift: Some(StageTimeShift {
            stage: "waiting_on_customer".into(),
            at: None,
            factor: 0.5,
        }),
        season: Some(Season {
            at: None,
            factor: 0.8,
        }),
        noise: Some(VolumeNoise {
            sd: 0.3,
            rho: 0.5,
            common: 0.3,
        }),
        ..GenConfig::default()
    }
}

#[test]
fn every_new_effect_has_its_truth_and_the_same_seed_gives_the_same_bytes() {
    let tmp = tempfile::tempdir().unwrap();
    let run = |name: &str, threads: usize| {
        let dir = tmp.path().join(name);
        let s = generate(
            &GenConfig {
                threads,
                ..config()
            },
            &dir,
            &|_| {},
        )
        .unwrap();
        let bytes: Vec<Vec<u8>> = [
            "signals.csv",
            "surveys.csv",
            "case_events.csv",
            "truth.json",
        ]
        .iter()
        .map(|f| std::fs::read(dir.join(f)).unwrap())
        .collect();
        (s, bytes, dir)
    };
    let (s, one, dir) = run("one", 1);
    let (_, three, _) = run("three", 3);
    assert!(one == three, "same config, other thread count: same bytes");
    let t = &s.truth;
    assert_eq!(t.effects.len(), 5);
    assert_eq!(t.config.noise.as_ref().map(|n| n.sd), Some(0.3));
    let at = ts("2025-03-01");
    for e in &t.effects {
        match e {
            Effect::SentimentShift {
                true_change,
                signals_after,
                converted,
                at: date,
                ..
            } => {
                assert_eq!(ts(date), at);
                assert!(*converted > 20 && *signals_after > *converted);
                // Negative signals written neutral raise net sentiment by about 100 points each.
                let per = true_change / 100.0 * *signals_after as f64 / *converted as f64;
                assert!((0.7..=1.3).contains(&per), "{true_change} {per}");
            }
            Effect::RepeatShift {
                true_change,
                dropped,
                contacts_after,
                window_days,
                ..
            } => {
                assert_eq!(*window_days, 7);
                assert!(*dropped > 0 && *contacts_after > 0);
                assert!(*true_change < 0.0, "{true_change}");
            }
            Effect::NpsShift {
                true_change,
                responses_after,
                segment,
                ..
            } => {
                assert_eq!(segment, "smb");
                assert!(*responses_after > 50);
                assert!((10.0..=60.0).contains(true_change), "{true_change}");
            }
            Effect::StageTimeShift {
                true_change,
                visits_after,
                ..
            } => {
                assert!(*visits_after > 50);
                assert!((true_change + 0.5).abs() < 0.002, "{true_change}");
            }
            Effect::Season { factor, .. } => assert_eq!(*factor, 0.8),
            other => panic!("not configured: {other:?}"),
        }
    }

    // The files show the season (every topic lower after) and the stage shift.
    let signals = read(&dir, "signals.csv");
    let (mut before, mut after) = (0u64, 0u64);
    let start = ts(&t.config.start);
    for r in &signals.rows {
        let x = ts(&r[1]);
        if (at - 28 * 86_400..at).contains(&x) && r[4] == "customer" {
            before += 1;
        } else if (at..at + 28 * 86_400).contains(&x) && r[4] == "customer" {
            after += 1;
        }
    }
    assert!(start < at);
    let ratio = after as f64 / before as f64;
    assert!((0.65..=0.95).contains(&ratio), "season ratio {ratio}");
    let events = read(&dir, "case_events.csv");
    let mut cases: BTreeMap<&str, Vec<(i64, &str)>> = BTreeMap::new();
    for r in &events.rows {
        cases
            .entry(r[1].as_str())
            .or_default()
            .push((ts(&r[2]), r[3].as_str()));
    }
    let (mut wait_before, mut wait_after) = (Vec::new(), Vec::new());
    for evs in cases.values() {
        for pair in evs.windows(2) {
            if pair[0].1 == "waiting_on_customer" {
                let d = (pair[1].0 - pair[0].0) as f64;
                if pair[0].0 < at {
                    wait_before.push(d);
                } else {
                    wait_after.push(d);
                }
            }
        }
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let r = mean(&wait_after) / mean(&wait_before);
    assert!((0.35..=0.7).contains(&r), "waiting time ratio {r}");
}

#[test]
fn bad_effect_settings_name_the_field() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: Vec<(GenConfig, &str)> = vec![
        (
            GenConfig {
                nps_shift: Some(NpsShift {
                    segment: "galactic".into(),
                    at: None,
                    shift: 1.0,
                }),
                ..GenConfig::default()
            },
            "nps_shift.segment",
        ),
        (
            GenConfig {
                stage_time_shift: Some(StageTimeShift {
                    stage: "lunch".into(),
                    at: None,
                    factor: 0.5,
                }),
                ..GenConfig::default()
            },
            "stage_time_shift.stage",
        ),
        (
            GenConfig {
                season: Some(Season {
                    at: None,
                    factor: 1.5,
                }),
                ..GenConfig::default()
            },
            "season.factor",
        ),
        (
            GenConfig {
                sentiment_shift: Some(SentimentShift {
                    topic: "billing/nonsense".into(),
                    at: None,
                    share: 0.5,
                }),
                ..GenConfig::default()
            },
            "sentiment_shift.topic",
        ),
        (
            GenConfig {
                repeat_shift: Some(RepeatShift {
                    topic: "network/outage".into(),
                    at: Timestamp::from_ymd(2030, 1, 1),
                    factor: 0.5,
                }),
                ..GenConfig::default()
            },
            "repeat_shift.at",
        ),
        (
            GenConfig {
                noise: Some(VolumeNoise {
                    sd: 0.3,
                    rho: 1.0,
                    common: 0.0,
                }),
                ..GenConfig::default()
            },
            "noise.rho",
        ),
    ];
    for (cfg, field) in cases {
        match generate(&cfg, tmp.path(), &|_| {}) {
            Err(GenError::InvalidConfig { field: f, reason }) => {
                assert_eq!(f, field, "{reason}")
            }
            other => panic!("{field}: {other:?}"),
        }
    }
}

/// The improvement's truth is counted against the same run with nothing removed: its draws come
/// from a stream of their own and a removed contact is simulated and taken back, so with
/// `factor: 1.0` the run is the counterfactual itself, row for row before the date, and the
/// topic's signals after it are the written ones plus the removed ones.
#[test]
fn the_improvements_truth_counts_the_run_without_it() {
    let tmp = tempfile::tempdir().unwrap();
    let topic = "billing/double_charge";
    let run = |name: &str, factor: f64| {
        let dir = tmp.path().join(name);
        let s = generate(
            &GenConfig {
                improvement: Some(hearken_gen::Improvement {
                    topic: topic.into(),
                    at: None,
                    factor,
                }),
                sentiment_shift: None,
                nps_shift: None,
                stage_time_shift: None,
                noise: None,
                // The repeat shift on the same topic: a removed contact must not move its
                // repeat tracking either.
                repeat_shift: Some(RepeatShift {
                    topic: topic.into(),
                    at: None,
                    factor: 0.5,
                }),
                ..config()
            },
            &dir,
            &|_| {},
        )
        .unwrap();
        (dir, s.truth)
    };
    let (with_dir, with) = run("with", 0.5);
    let (without_dir, without) = run("without", 1.0);
    let improvement = |t: &hearken_gen::Truth| {
        t.effects
            .iter()
            .find_map(|e| match e {
                Effect::Improvement {
                    at,
                    true_change,
                    signals_after,
                    removed_after,
                    ..
                } => Some((ts(at), *true_change, *signals_after, *removed_after)),
                _ => None,
            })
            .expect("an improvement")
    };
    let (at, true_change, written, removed) = improvement(&with);
    let (_, _, unremoved, none_removed) = improvement(&without);
    assert_eq!(none_removed, 0);
    assert!(removed > 0);
    let signals = |dir: &std::path::Path| read(dir, "signals.csv").rows;
    let (a, b) = (signals(&with_dir), signals(&without_dir));
    let count = |rows: &[Vec<String>]| {
        rows.iter()
            .filter(|r| r[10] == topic && ts(&r[1]) >= at)
            .count() as u64
    };
    assert_eq!(count(&a), written);
    assert_eq!(count(&b), unremoved);
    assert_eq!(
        written + removed,
        unremoved,
        "written + removed = the run without removals"
    );
    let expected = written as f64 / unremoved as f64 - 1.0;
    assert!(
        (true_change - expected).abs() < 1e-6,
        "{true_change} vs {expected}"
    );
    // Before the date the two runs are the same rows.
    let before = |rows: &[Vec<String>]| -> Vec<Vec<String>> {
        rows.iter().filter(|r| ts(&r[1]) < at).cloned().collect()
    };
    assert_eq!(before(&a), before(&b));
    // After it, the other topics' signals are the same (only the improved topic's rows and the
    // survey comments of its removed cases are missing).
    let others = |rows: &[Vec<String>]| -> Vec<(String, String, String)> {
        let mut v: Vec<_> = rows
            .iter()
            .filter(|r| !r[10].is_empty() && r[10] != topic && ts(&r[1]) >= at)
            .map(|r| (r[1].clone(), r[5].clone(), r[10].clone()))
            .collect();
        v.sort();
        v
    };
    assert_eq!(others(&a), others(&b));
    // The repeat shift's counts see the written contacts only, in both runs the same way.
    let repeat = |t: &hearken_gen::Truth| {
        t.effects
            .iter()
            .find_map(|e| match e {
                Effect::RepeatShift { contacts_after, .. } => Some(*contacts_after),
                _ => None,
            })
            .expect("a repeat shift")
    };
    assert!(repeat(&with) < repeat(&without));
}
