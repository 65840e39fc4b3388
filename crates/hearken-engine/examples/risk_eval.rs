//! Judges the early warning (issue 13) on a store built from a generated organisation: trains the
//! risk model as of a date on the churn history before it, scores every customer, and measures
//! ROC AUC for churn within each horizon and the lead time between the first warning and the
//! churn, for the model and for the rule score. Prints one JSON object.
//!
//! ```text
//! hearken generate --out org --seed 1
//! # customers.csv imported without its churned_at column (see benches/risk/run.py)
//! cargo run --release -p hearken-engine --example risk_eval -- \
//!     --db org.db --truth org/truth.json --as-of 2025-10-01 --horizons 30,60,90
//! ```
//!
//! The store holds no churn date. The organisation's churn history is read from `truth.json` and
//! put in the customer frame; the engine reads a churn date only when it is before the as-of date
//! (to leave out customers already gone) or, for training, before `now` = the as-of date. The
//! labels the scores are judged against (churn on or after the as-of date) are read here, by
//! [`risk::labels`], after scoring.
//!
//! This is the glue the query layer will own (store -> frames -> engine); it lives here so that
//! the engine can be validated before that wiring exists.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

use hearken_engine::risk::{
    self, CaseStep, CaseSteps, LeadTimeOptions, RiskData, RiskIndex, Scorer, TrainOptions, Trained,
};
use hearken_model::Timestamp;
use hearken_store::{SignalColumns, Store, SurveyColumns, Window};
use serde_json::{Value, json};

const DAY: i64 = 86_400;

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

struct Args {
    db: PathBuf,
    truth: PathBuf,
    as_of: i64,
    horizons: Vec<u32>,
    lookback_days: u32,
    alert_share: f64,
    dump_features: Option<PathBuf>,
    scores_out: Option<PathBuf>,
    train: TrainOptions,
}

fn date(s: &str) -> Result<i64, String> {
    let bad = || format!("`{s}` is not a date; give YYYY-MM-DD");
    let parts: Vec<&str> = s.split('-').collect();
    let num = |i: usize| {
        parts
            .get(i)
            .and_then(|p| p.parse::<u32>().ok())
            .ok_or_else(bad)
    };
    Timestamp::from_ymd(num(0)? as i32, num(1)?, num(2)?)
        .map(Timestamp::unix)
        .ok_or_else(bad)
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        db: PathBuf::new(),
        truth: PathBuf::new(),
        as_of: 0,
        horizons: vec![30, 60, 90],
        lookback_days: 60,
        alert_share: 0.05,
        dump_features: None,
        scores_out: None,
        train: TrainOptions::default(),
    };
    let mut it = std::env::args().skip(1);
    let mut as_of = None;
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--db" => a.db = value()?.into(),
            "--truth" => a.truth = value()?.into(),
            "--as-of" => as_of = Some(date(&value()?)?),
            "--horizons" => {
                a.horizons = value()?
                    .split(',')
                    .map(|h| h.trim().parse().map_err(|_| format!("bad horizon `{h}`")))
                    .collect::<Result<_, _>>()?
            }
            "--lookback-days" => {
                a.lookback_days = value()?.parse().map_err(|_| "bad --lookback-days")?
            }
            "--alert-share" => a.alert_share = value()?.parse().map_err(|_| "bad --alert-share")?,
            "--dump-features" => a.dump_features = Some(value()?.into()),
            "--scores-out" => a.scores_out = Some(value()?.into()),
            "--train" => {
                // TrainOptions as JSON (without the horizon), e.g. '{"step_days": 14}'.
                a.train = serde_json::from_str(&value()?).map_err(|e| format!("--train: {e}"))?
            }
            other => return Err(format!("unknown flag {other}")),
        }
    }
    if a.db.as_os_str().is_empty() || a.truth.as_os_str().is_empty() {
        return Err("give --db STORE --truth truth.json --as-of YYYY-MM-DD".into());
    }
    a.as_of = as_of.ok_or("give --as-of YYYY-MM-DD")?;
    Ok(a)
}

fn run() -> Result<(), String> {
    let a = args()?;
    let started = Instant::now();
    let store = Store::open(&a.db).map_err(|e| e.to_string())?;
    store
        .refresh_snapshot(false, &mut |_, _| {})
        .map_err(|e| e.to_string())?;
    let all = Window::default();
    let signals = store
        .snapshot_signals(&all, &SignalColumns::ALL)
        .map_err(|e| e.to_string())?;
    let surveys = store
        .snapshot_surveys(
            &all,
            &SurveyColumns {
                at: true,
                customer: true,
                nps: true,
                overall: true,
                customer_names: true,
                ..SurveyColumns::default()
            },
        )
        .map_err(|e| e.to_string())?;
    let mut customers = store.snapshot_customers().map_err(|e| e.to_string())?;
    let events = store.case_event_rows(&all).map_err(|e| e.to_string())?;
    let case_code: HashMap<&str, u32> = signals
        .cases
        .names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i as u32))
        .collect();
    let mut cases = CaseSteps::default();
    for i in 0..events.case.len() {
        let Some(&code) = case_code.get(events.case[i].as_str()) else {
            continue;
        };
        let activity = &events.activity[i];
        cases.case.push(code);
        cases.at.push(events.at[i]);
        cases
            .step
            .push(if hearken_flow::rules::is_default_closing(activity) {
                CaseStep::Closed
            } else if hearken_flow::rules::is_default_escalation(activity) {
                CaseStep::Escalated
            } else {
                CaseStep::Other
            });
    }

    // The organisation's churn history, from truth.json (the store holds none).
    let truth: Value = serde_json::from_str(
        &std::fs::read_to_string(&a.truth).map_err(|e| format!("{}: {e}", a.truth.display()))?,
    )
    .map_err(|e| format!("{}: {e}", a.truth.display()))?;
    let code_of: HashMap<&str, usize> = signals
        .customers
        .names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i))
        .collect();
    let n = customers.segment.len().max(signals.customers.len());
    customers.churned_at = vec![i64::MIN; n];
    customers.segment.resize(n, hearken_engine::NONE);
    for c in truth["churned"].as_array().into_iter().flatten() {
        let (Some(id), Some(at)) = (c["customer_id"].as_str(), c["churned_at"].as_str()) else {
            continue;
        };
        if let Some(&k) = code_of.get(id) {
            customers.churned_at[k] = date(at)?;
        }
    }
    customers.since.resize(n, i64::MIN);
    customers.value_per_year.resize(n, f64::NAN);
    customers.white_glove.resize(n, false);
    customers.persona.resize(n, hearken_engine::NONE);
    let loaded = started.elapsed().as_secs_f64();

    let index = RiskIndex::build(&RiskData {
        signals: &signals,
        surveys: &surveys,
        customers: &customers,
        cases: &cases,
    })
    .map_err(|e| e.to_string())?;
    let (_, last) = index.data_span().ok_or("the store has no customer data")?;
    let in_scope: Vec<u32> = (0..index.customers() as u32)
        .filter(|&k| index.in_scope(k, a.as_of))
        .collect();

    if let Some(path) = &a.dump_features {
        let mut out = String::new();
        for &k in &in_scope {
            let f = index.features(k, a.as_of);
            out.push_str(
                &serde_json::to_string(&json!({"customer_id": index.name(k), "features": f}))
                    .unwrap_or_default(),
            );
            out.push('\n');
        }
        std::fs::write(path, out).map_err(|e| e.to_string())?;
    }

    let rules_report = risk::assess(&index, a.as_of, Scorer::Rules).map_err(|e| e.to_string())?;
    let rule_score: HashMap<u32, f64> = rules_report
        .customers
        .iter()
        .map(|c| (c.code, c.score))
        .collect();
    let mut horizons = Vec::new();
    // customer id -> {"rules": score, "<horizon>": model score}
    let mut per_customer: Vec<serde_json::Map<String, Value>> = in_scope
        .iter()
        .map(|k| {
            let mut m = serde_json::Map::new();
            m.insert("customer_id".into(), json!(index.name(*k)));
            m.insert("rules".into(), json!(rule_score[k]));
            m
        })
        .collect();
    for &h in &a.horizons {
        let t = Instant::now();
        let opts = TrainOptions {
            horizon_days: h,
            ..a.train.clone()
        };
        let trained = risk::train(&index, a.as_of, &opts).map_err(|e| e.to_string())?;
        let train_secs = t.elapsed().as_secs_f64();
        let labels = risk::labels(&index, a.as_of, h, &in_scope);
        let rules: Vec<f64> = in_scope.iter().map(|k| rule_score[k]).collect();
        let mut entry = json!({
            "horizon_days": h,
            "customers": in_scope.len(),
            "churners": labels.iter().filter(|&&l| l).count(),
            "rules_auc": risk::auc(&rules, &labels),
            "train_seconds": train_secs,
        });
        if let Trained::Model(model) = &trained {
            let report =
                risk::assess(&index, a.as_of, Scorer::Model(model)).map_err(|e| e.to_string())?;
            let by: HashMap<u32, f64> =
                report.customers.iter().map(|c| (c.code, c.score)).collect();
            let scores: Vec<f64> = in_scope.iter().map(|k| by[k]).collect();
            for (m, s) in per_customer.iter_mut().zip(&scores) {
                m.insert(h.to_string(), json!(s));
            }
            let bytes = model.to_bytes();
            let back = risk::RiskModel::from_bytes(&bytes).map_err(|e| e.to_string())?;
            entry["model_auc"] = json!(risk::auc(&scores, &labels));
            entry["model_bytes"] = json!(bytes.len());
            entry["model_roundtrip_equal"] = json!(back == **model);
            entry["held_out"] = serde_json::to_value(&model.quality).unwrap_or_default();
            entry["weights"] = json!(
                model
                    .weights_by_column()
                    .into_iter()
                    .take(12)
                    .map(|(c, w)| json!([c, (w * 1000.0).round() / 1000.0]))
                    .collect::<Vec<_>>()
            );
            entry["top"] = json!(report
                .customers
                .iter()
                .take(3)
                .map(|c| json!({"customer_id": c.customer_id, "score": c.score, "reasons": c.reasons}))
                .collect::<Vec<_>>());
            if h == a.horizons[0] {
                let t = Instant::now();
                let lead = |scorer| {
                    risk::lead_times(
                        &index,
                        scorer,
                        &LeadTimeOptions {
                            from: a.as_of,
                            to: last + DAY,
                            step_days: 1,
                            alert_share: a.alert_share,
                            lookback_days: a.lookback_days,
                        },
                    )
                    .map_err(|e| e.to_string())
                };
                let strip = |mut l: risk::LeadTimes| {
                    l.days.clear();
                    l
                };
                entry["lead_time_model"] =
                    serde_json::to_value(strip(lead(Scorer::Model(model))?)).unwrap_or_default();
                entry["lead_time_rules"] =
                    serde_json::to_value(strip(lead(Scorer::Rules)?)).unwrap_or_default();
                entry["lead_seconds"] = json!(t.elapsed().as_secs_f64());
            }
        } else if let Trained::NoHistory { note, .. } = &trained {
            entry["model"] = json!(note);
        }
        horizons.push(entry);
    }
    if let Some(path) = &a.scores_out {
        let lines: Vec<String> = per_customer
            .into_iter()
            .map(|m| Value::Object(m).to_string())
            .collect();
        std::fs::write(path, lines.join("\n") + "\n").map_err(|e| e.to_string())?;
    }
    let out = json!({
        "db": a.db.display().to_string(),
        "as_of": Timestamp::from_unix(a.as_of).date_string(),
        "last_data": Timestamp::from_unix(last).date_string(),
        "load_seconds": loaded,
        "rules_top": rules_report.customers.iter().take(3).map(|c| json!({"customer_id": c.customer_id, "score": c.score, "reasons": c.reasons})).collect::<Vec<_>>(),
        "horizons": horizons,
        "seconds": started.elapsed().as_secs_f64(),
    });
    println!("{}", serde_json::to_string_pretty(&out).unwrap_or_default());
    Ok(())
}
