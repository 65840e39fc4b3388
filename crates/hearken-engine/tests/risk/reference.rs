//! AUC, CLV, quadrants, cost of quality and self-assessment quartiles against pandas and
//! scikit-learn (the fixture's expected values; nothing here computes one).

use std::collections::BTreeMap;

use hearken_engine::assess::{Assessment, Questionnaire, report};
use hearken_engine::clv::{MatrixCustomer, MatrixOptions, ValueBasis, matrix, observed_retention};
use hearken_engine::cost::{CaseActivities, CostConfig, cost_of_quality};
use hearken_engine::risk::auc;
use hearken_engine::{CustomerFrame, Dict, NONE, SignalFrame};
use serde_json::Value;

use crate::helpers::{close, reference};

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| x.as_f64().unwrap_or(f64::NAN))
        .collect()
}

fn i64s(v: &Value) -> Vec<i64> {
    v.as_array()
        .expect("an array")
        .iter()
        .map(|x| x.as_i64().expect("an integer"))
        .collect()
}

fn codes(v: &Value, none_from: i64) -> Vec<u32> {
    i64s(v)
        .into_iter()
        .map(|c| {
            if c < 0 || c >= none_from {
                NONE
            } else {
                c as u32
            }
        })
        .collect()
}

fn names(v: &Value) -> Dict {
    Dict {
        names: v
            .as_array()
            .expect("names")
            .iter()
            .map(|x| x.as_str().expect("a name").to_string())
            .collect(),
    }
}

#[test]
fn auc_matches_scikit_learn_with_ties() {
    for case in reference()["auc"].as_array().expect("auc cases") {
        let scores = f64s(&case["scores"]);
        let labels: Vec<bool> = i64s(&case["labels"]).iter().map(|&l| l == 1).collect();
        let got = auc(&scores, &labels).expect("both classes");
        close(got, case["auc"].as_f64().expect("auc"), "roc auc");
    }
    assert_eq!(auc(&[0.1, 0.2], &[true, true]), None);
    assert_eq!(auc(&[f64::NAN, 0.2], &[true, false]), None);
}

#[test]
fn clv_and_quadrants_match_pandas() {
    for case in reference()["matrix"].as_array().expect("matrix cases") {
        let input = &case["input"];
        let want = &case["expected"];
        let rows: Vec<MatrixCustomer> = input["rows"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| MatrixCustomer {
                customer_id: r["customer_id"].as_str().expect("id").to_string(),
                value_per_year: r["value_per_year"].as_f64().unwrap_or(f64::NAN),
                score: r["score"].as_f64().expect("score"),
                white_glove: r["white_glove"].as_bool().expect("flag"),
                tenure_days: r["tenure_days"].as_f64().unwrap_or(f64::NAN),
            })
            .collect();
        let value = match input["clv"].as_object() {
            None => ValueBasis::ValuePerYear,
            Some(c) => ValueBasis::Clv {
                margin: c["margin"].as_f64().expect("margin"),
                retention: c["retention"].as_f64().expect("retention"),
                discount: c["discount"].as_f64().expect("discount"),
            },
        };
        let opts = MatrixOptions {
            value,
            value_threshold: input["value_threshold"].as_f64(),
            risk_threshold: input["risk_threshold"].as_f64(),
            new_days: input["new_days"].as_u64().expect("days") as u32,
        };
        let m = matrix(&rows, &opts).unwrap();
        close(
            m.value_threshold.expect("threshold"),
            want["value_threshold"].as_f64().expect("v"),
            "value threshold",
        );
        close(
            m.risk_threshold.expect("threshold"),
            want["risk_threshold"].as_f64().expect("r"),
            "risk threshold",
        );
        let quadrant_of = want["quadrant_of"].as_object().expect("map");
        let values = want["values"].as_object().expect("map");
        let mut placed = 0;
        for (q, quad) in m.quadrants.iter().enumerate() {
            assert_eq!(
                quad.count,
                want["counts"][q].as_u64().expect("count"),
                "{}",
                quad.key
            );
            assert_eq!(
                quad.white_glove,
                want["white_glove"][q].as_u64().expect("wg"),
                "{}",
                quad.key
            );
            close(
                quad.value,
                want["value_sums"][q].as_f64().expect("sum"),
                "quadrant value",
            );
            for c in &quad.customers {
                assert_eq!(
                    quadrant_of[&c.customer_id].as_u64(),
                    Some(q as u64),
                    "{}",
                    c.customer_id
                );
                close(
                    c.value,
                    values[&c.customer_id].as_f64().expect("value"),
                    "customer value",
                );
                placed += 1;
            }
        }
        assert_eq!(placed, quadrant_of.len());
        let no_value: Vec<String> = {
            let mut v = m.no_value.clone();
            v.sort();
            v
        };
        let want_no: Vec<&str> = want["no_value"]
            .as_array()
            .expect("ids")
            .iter()
            .map(|x| x.as_str().expect("id"))
            .collect();
        assert_eq!(no_value, want_no);
        for g in &m.tenure {
            let w = &want["tenure"][g.group];
            if w.is_null() {
                assert_eq!(g.customers, 0, "{}", g.group);
                continue;
            }
            assert_eq!(g.customers, w["customers"].as_u64().expect("n"));
            assert_eq!(g.white_glove, w["white_glove"].as_u64().expect("wg"));
            for (got, key) in [
                (g.mean_score, "mean_score"),
                (g.median_score, "median_score"),
                (g.at_risk_share, "at_risk_share"),
                (g.mean_value, "mean_value"),
                (g.median_value, "median_value"),
            ] {
                match (got, w[key].as_f64()) {
                    (Some(a), Some(b)) => close(a, b, key),
                    (None, None) => {}
                    other => panic!("{} {key}: {other:?}", g.group),
                }
            }
            let qs: Vec<u64> = w["quadrants"]
                .as_array()
                .expect("q")
                .iter()
                .map(|x| x.as_u64().expect("n"))
                .collect();
            assert_eq!(g.quadrants.to_vec(), qs, "{}", g.group);
        }
    }
}

#[test]
fn observed_retention_matches_pandas() {
    let r = &reference()["retention"];
    let since = i64s(&r["since"]);
    let churned: Vec<i64> = i64s(&r["churned_at"])
        .into_iter()
        .map(|c| if c < 0 { i64::MIN } else { c })
        .collect();
    let customers = CustomerFrame {
        segment: vec![NONE; since.len()],
        since,
        churned_at: churned,
        ..CustomerFrame::default()
    };
    let got = observed_retention(
        &customers,
        r["from"].as_i64().expect("from"),
        r["to"].as_i64().expect("to"),
    )
    .expect("customers at the start");
    assert_eq!(got.customers, r["customers"].as_u64().expect("n"));
    assert_eq!(got.churned, r["churned"].as_u64().expect("n"));
    close(
        got.yearly,
        r["yearly"].as_f64().expect("rate"),
        "yearly retention",
    );
}

#[test]
fn cost_of_quality_matches_pandas() {
    let c = &reference()["cost"];
    let input = &c["input"];
    let want = &c["expected"];
    let s = &input["signals"];
    let topics = names(&input["topics"]);
    let products = names(&input["products"]);
    let n_cases = 400;
    let signals = SignalFrame {
        at: i64s(&s["at"]),
        customer: codes(&s["customer"], i64::MAX),
        topic: codes(&s["topic"], topics.len() as i64),
        kind: i64s(&s["kind"]).into_iter().map(|k| k as u8).collect(),
        product: codes(&s["product"], products.len() as i64),
        case: codes(&s["case"], i64::MAX),
        topics,
        products,
        cases: Dict {
            names: (0..n_cases).map(|k| format!("K{k}")).collect(),
        },
        ..SignalFrame::default()
    };
    let e = &input["events"];
    let events = CaseActivities {
        case: codes(&e["case"], i64::MAX),
        at: i64s(&e["at"]),
        activity: codes(&e["activity"], i64::MAX),
        activities: names(&input["activities"]),
    };
    let cfg: CostConfig = serde_json::from_value(input["config"].clone()).expect("config");
    cfg.validate(&signals.topics.names, Some(&events.activities.names))
        .unwrap();
    let r = cost_of_quality(
        &cfg,
        &signals,
        &events,
        input["from"].as_i64().expect("from"),
        input["to"].as_i64().expect("to"),
    )
    .unwrap();

    for cat in &r.by_category {
        close(
            cat.amount,
            want["by_category"][cat.category.as_str()]
                .as_f64()
                .expect("amount"),
            cat.category.as_str(),
        );
    }
    close(r.total, want["total"].as_f64().expect("total"), "total");
    let check = |groups: &[hearken_engine::cost::GroupCost], key: &str| {
        let w = want[key].as_object().expect("map");
        let priced: BTreeMap<&str, f64> = groups
            .iter()
            .filter(|g| g.amount > 0.0)
            .map(|g| (g.group.as_str(), g.amount))
            .collect();
        let expected: BTreeMap<&str, f64> = w
            .iter()
            .filter(|(_, v)| v.as_f64().unwrap_or(0.0) > 0.0)
            .map(|(k, v)| (k.as_str(), v.as_f64().expect("amount")))
            .collect();
        assert_eq!(
            priced.keys().collect::<Vec<_>>(),
            expected.keys().collect::<Vec<_>>(),
            "{key}"
        );
        for (g, a) in priced {
            close(a, expected[g], &format!("{key} {g}"));
        }
    };
    check(&r.by_topic, "by_topic");
    check(&r.by_product, "by_product");
    let by_tc = want["by_topic_category"].as_object().expect("map");
    for g in &r.by_topic {
        for (i, cat) in hearken_engine::cost::Category::ALL.iter().enumerate() {
            let w = by_tc
                .get(&format!("{}|{}", g.group, cat.as_str()))
                .and_then(Value::as_f64)
                .unwrap_or(0.0);
            close(
                g.by_category.0[i],
                w,
                &format!("{} {}", g.group, cat.as_str()),
            );
        }
    }
    assert_eq!(
        r.unpriced_signals,
        want["unpriced_signals"].as_u64().expect("n")
    );
    assert_eq!(
        r.unpriced_events,
        want["unpriced_events"].as_u64().expect("n")
    );
    assert_eq!(r.avoidable.eligible, want["eligible"].as_u64().expect("n"));
    assert_eq!(r.avoidable.repeats, want["repeats"].as_u64().expect("n"));
    close(
        r.avoidable.amount.expect("priced"),
        want["avoidable_amount"].as_f64().expect("a"),
        "avoidable",
    );
    for t in &r.avoidable.by_topic {
        assert_eq!(
            Some(t.repeats),
            want["repeats_by_topic"][&t.topic].as_u64(),
            "{}",
            t.topic
        );
    }
    for f in &r.fixed {
        close(
            f.amount,
            want["fixed"][&f.name].as_f64().expect("fixed"),
            &f.name,
        );
    }
}

#[test]
fn self_assessment_scores_and_quartiles_match_pandas() {
    let a = &reference()["assess"];
    let q = Questionnaire::default_questionnaire();
    let all: Vec<Assessment> =
        serde_json::from_value(a["assessments"].clone()).expect("assessments");
    let units: Vec<String> = serde_json::from_value(a["units"].clone()).expect("units");
    for want in a["expected"].as_array().expect("expected") {
        let this = all
            .iter()
            .find(|x| {
                x.unit == want["unit"].as_str().expect("unit")
                    && x.date == want["date"].as_str().expect("date")
            })
            .expect("the assessment");
        let r = report(&q, this, &all, &units).unwrap();
        let what = format!("{} {}", r.unit, r.date);
        close(r.overall.say, want["say"].as_f64().expect("say"), &what);
        close(r.overall.practice, want["do"].as_f64().expect("do"), &what);
        close(
            r.overall.gap,
            want["say"].as_f64().expect("say") - want["do"].as_f64().expect("do"),
            &what,
        );
        for area in &r.areas {
            let w = &want["areas"][&area.key];
            close(area.scores.say, w[0].as_f64().expect("say"), &area.key);
            close(area.scores.practice, w[1].as_f64().expect("do"), &area.key);
        }
        for level in &r.levels {
            let key = serde_json::to_value(level.level).expect("level");
            let w = &want["levels"][key.as_str().expect("name")];
            close(level.scores.say, w[0].as_f64().expect("say"), "level say");
            close(
                level.scores.practice,
                w[1].as_f64().expect("do"),
                "level do",
            );
        }
        assert_eq!(
            r.standing.references as u64,
            want["references"].as_u64().expect("n"),
            "{what}"
        );
        match want.get("quartile").and_then(Value::as_str) {
            Some(quartile) => {
                assert_eq!(r.standing.quartile, Some(quartile), "{what}");
                let qs = f64s(&want["quartiles"]);
                close(r.standing.q1.expect("q1"), qs[0], "q1");
                close(r.standing.median.expect("q2"), qs[1], "median");
                close(r.standing.q3.expect("q3"), qs[2], "q3");
                for (got, key) in [
                    (r.standing.gap_top_quartile, "gap_top"),
                    (r.standing.gap_below_top, "gap_rest"),
                ] {
                    match (got, want[key].as_f64()) {
                        (Some(x), Some(y)) => close(x, y, key),
                        (None, None) => {}
                        other => panic!("{what} {key}: {other:?}"),
                    }
                }
            }
            None => {
                assert_eq!(r.standing.quartile, None, "{what}");
                assert!(r.standing.note.is_some());
            }
        }
    }
}
