//! Effect measurement against statsmodels: every estimate, interval bound and p-value of the
//! fixtures written by tools/reference/effect/make_reference.py (volume as quasi-Poisson and
//! quasi-binomial GLMs on weekly totals; shares as OLS and means as Poisson GLMs on group x window
//! indicators with cluster-robust covariance), and the controls the rule picks.
//!
//! Tolerances: the engine computes every figure in closed form. Shares are compared with
//! statsmodels' OLS (a direct least-squares solve) at 1e-9 relative; volume and means with
//! statsmodels' GLMs, fitted by IRLS to a deviance change below 1e-13, at 1e-8 relative. P-values
//! come from two implementations of the Student t tail (statrs, scipy) and are compared at 1e-8
//! relative plus 1e-12 absolute (tiny p-values only need to be tiny).

use std::collections::BTreeMap;

use hearken_engine::effect::{
    ClusterVariance, ControlRule, EffectOptions, Metric, Observations, Scope, TimeClusters,
    WeekCorrelation, effect,
};
use hearken_engine::{Dict, Level, NONE};
use serde_json::Value;

use crate::helpers::data;

fn expected() -> Value {
    let text = std::fs::read_to_string(data("effect/expected.json")).expect("effect/expected.json");
    serde_json::from_str(&text).expect("expected.json is JSON")
}

#[track_caller]
fn near(a: f64, b: f64, rel: f64, abs: f64, what: &str) {
    assert!(
        (a - b).abs() <= rel * b.abs() + abs,
        "{what}: engine {a} vs statsmodels {b} (diff {:e})",
        (a - b).abs()
    );
}

#[track_caller]
fn near_opt(a: Option<f64>, b: &Value, rel: f64, what: &str) {
    let b = b
        .as_f64()
        .unwrap_or_else(|| panic!("{what}: reference {b} is not a number"));
    near(
        a.unwrap_or_else(|| panic!("{what}: engine has none")),
        b,
        rel,
        1e-12,
        what,
    );
}

#[derive(Default)]
struct Columns {
    at: Vec<i64>,
    group: Vec<u32>,
    value: Vec<f64>,
    cluster: Vec<u32>,
}

fn load() -> BTreeMap<String, Columns> {
    let mut out: BTreeMap<String, Columns> = BTreeMap::new();
    let mut r = csv::Reader::from_path(data("effect/counts.csv")).expect("counts.csv");
    for row in r.records() {
        let row = row.expect("row");
        let c = out.entry(row[0].to_string()).or_default();
        let start: i64 = row[1].parse().expect("day_start");
        let count: u32 = row[3].parse().expect("count");
        for i in 0..count {
            // Spread over the day, never across midnight.
            c.at.push(start + 60 + i64::from(i % 1000) * 60);
            c.group.push(row[2].parse().expect("group"));
        }
    }
    let mut r = csv::Reader::from_path(data("effect/observations.csv")).expect("observations.csv");
    for row in r.records() {
        let row = row.expect("row");
        let c = out.entry(row[0].to_string()).or_default();
        c.at.push(row[1].parse().expect("at"));
        c.group.push(row[2].parse().expect("group"));
        c.value.push(if row[3].is_empty() {
            f64::NAN
        } else {
            row[3].parse().expect("value")
        });
        c.cluster.push(if row[4].is_empty() {
            NONE
        } else {
            row[4].parse().expect("cluster")
        });
    }
    out
}

fn codes(v: &Value) -> Vec<u32> {
    v.as_array()
        .expect("an array of codes")
        .iter()
        .map(|x| x.as_u64().expect("a code") as u32)
        .collect()
}

#[test]
fn every_interval_and_p_value_matches_statsmodels() {
    let exp = expected();
    let data = load();
    let cases = exp["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 21);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let metric = match case["metric"].as_str().unwrap() {
            "volume" => Metric::Volume,
            "nps" => Metric::Nps,
            "repeat_rate" => Metric::RepeatRate,
            "stage_time" => Metric::StageTime,
            other => panic!("{other}"),
        };
        let cols = &data[case
            .get("names_from")
            .and_then(Value::as_str)
            .unwrap_or(name)];
        let groups = Dict {
            names: case["groups"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect(),
        };
        let clustered = case
            .get("clustered")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let obs = Observations {
            at: &cols.at,
            group: &cols.group,
            value: &cols.value,
            cluster: if clustered { &cols.cluster } else { &[] },
            groups: &groups,
        };
        let scope = Scope {
            treated: codes(&case["treated"]),
            linked: codes(&case["linked"]),
        };
        let rule = match case["rule"]["rule"].as_str().unwrap() {
            "similar" => ControlRule::Similar {
                max: case["rule"]["max"].as_u64().unwrap() as usize,
            },
            _ => ControlRule::Given {
                groups: codes(&case["rule"]["groups"]),
            },
        };
        let opts = EffectOptions {
            at: case["at"].as_i64().unwrap(),
            before_days: case["before_days"].as_u64().unwrap() as u32,
            after_days: case["after_days"].as_u64().unwrap() as u32,
            data_from: case
                .get("data_from")
                .and_then(Value::as_i64)
                .unwrap_or(i64::MIN),
            data_to: case
                .get("data_to")
                .and_then(Value::as_i64)
                .unwrap_or(i64::MAX),
            level: Level::new(exp["level"].as_f64().unwrap()).unwrap(),
            min_n: case["min_n"].as_u64().unwrap(),
            controls: rule,
            variance: match case.get("variance").and_then(Value::as_str) {
                None | Some("cr1") => ClusterVariance::Cr1,
                Some("cr2") => ClusterVariance::Cr2,
                Some("cr3") => ClusterVariance::Cr3,
                Some(other) => panic!("{name}: variance {other}"),
            },
            time_clusters: match case.get("time_clusters").and_then(Value::as_str) {
                None | Some("off") => TimeClusters::Off,
                Some("day") => TimeClusters::Day,
                Some("week") => TimeClusters::Week,
                Some(other) => panic!("{name}: time_clusters {other}"),
            },
            week_correlation: match case.get("week_correlation_rule").and_then(Value::as_str) {
                None | Some("pooled") => WeekCorrelation::Pooled,
                Some("off") => WeekCorrelation::Off,
                Some(other) => panic!("{name}: week_correlation_rule {other}"),
            },
        };
        let e = effect(metric, &obs, &scope, &opts).unwrap_or_else(|err| panic!("{name}: {err}"));
        let rel = if metric == Metric::Nps || metric == Metric::RepeatRate {
            1e-9
        } else {
            1e-8
        };
        for (side, got) in [("before", &e.before), ("after", &e.after)] {
            let want = &case[side];
            near_opt(
                got.value,
                &want["value"],
                1e-12,
                &format!("{name} {side}.value"),
            );
            assert_eq!(got.n, want["n"].as_u64().unwrap(), "{name} {side}.n");
            if let Some(events) = want.get("events") {
                assert_eq!(got.events, events.as_u64(), "{name} {side}.events");
            }
            if let Some(cl) = want.get("clusters") {
                assert_eq!(got.clusters, cl.as_u64(), "{name} {side}.clusters");
            }
        }
        for (est, want, what) in [
            (&e.estimate, case, "before/after"),
            (&e.did.estimate, &case["did"], "did"),
        ] {
            near_opt(
                est.change,
                &want["change"],
                rel,
                &format!("{name} {what} change"),
            );
            near_opt(est.low, &want["low"], rel, &format!("{name} {what} low"));
            near_opt(est.high, &want["high"], rel, &format!("{name} {what} high"));
            let (p, pw) = (est.p_value.unwrap(), want["p_value"].as_f64().unwrap());
            near(p, pw, 1e-8, 1e-12, &format!("{name} {what} p"));
            if let Some(df) = want.get("t_df").and_then(Value::as_f64) {
                near(est.df.unwrap(), df, 1e-9, 0.0, &format!("{name} {what} df"));
            }
            if let Some(m) = want.get("method").and_then(Value::as_str) {
                assert_eq!(est.method, m, "{name} {what} method");
            }
            assert_eq!(est.significant, Some(pw < 0.1), "{name} {what} significant");
        }
        let controls: Vec<&str> = case["did"]["controls"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(e.did.controls, controls, "{name} controls");
        let chosen_on = case["controls_chosen_on"]
            .as_array()
            .map(|w| (w[0].as_i64().unwrap(), w[1].as_i64().unwrap()));
        assert_eq!(
            e.windows.controls_from.zip(e.windows.controls_to),
            chosen_on,
            "{name} the window the controls were chosen on"
        );
        let chosen: Vec<&str> = e
            .candidates
            .iter()
            .filter(|c| c.chosen)
            .map(|c| c.name.as_str())
            .collect();
        let mut sorted = controls.clone();
        sorted.sort_unstable();
        let mut chosen_sorted = chosen.clone();
        chosen_sorted.sort_unstable();
        assert_eq!(chosen_sorted, sorted, "{name} candidates marked chosen");
    }
}
