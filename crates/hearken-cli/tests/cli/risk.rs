//! Issue 13 through the binary: `hearken risk` (rules without churn history, the stored model
//! after `risk train`), `risk matrix`, `cost` and `assess import|report`, their text against
//! their JSON, and the issue's bad input: a customer with no value, no signals or one signal; an
//! as-of date before any data or after all of it; a cost mapping naming an unknown topic or a
//! negative cost; an assessment with missing items, out-of-range scores or an unknown unit.

use serde_json::Value;

use crate::helpers::*;

fn demo() -> Env {
    let env = Env::new();
    let out = env.run(&["demo", "--customers", "900", "--months", "4", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    env
}

fn ok(env: &Env, args: &[&str]) -> String {
    let out = env.run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn json(env: &Env, args: &[&str]) -> Value {
    serde_json::from_str(&ok(env, args)).expect("--json prints JSON")
}

/// stderr of a run that must fail (exit code 1 or 2, never a panic's 101).
fn fails(env: &Env, args: &[&str]) -> String {
    let out = env.run(args);
    assert!(!out.status.success(), "{args:?} should fail");
    assert_ne!(out.status.code(), Some(101), "{args:?} panicked");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn store(env: &Env) -> hearken_store::Store {
    hearken_store::Store::open(&env.db()).expect("open the store")
}

#[test]
fn risk_lists_every_scored_customer_with_reasons_and_the_table_says_the_same() {
    let env = demo();
    let all = json(&env, &["risk", "--json", "--method", "rules"]);
    let rows = all.as_array().expect("risk --json prints an array");
    assert!(rows.len() > 100, "{} customers scored", rows.len());
    for w in rows.windows(2) {
        assert!(
            w[0]["score"].as_f64() >= w[1]["score"].as_f64(),
            "highest first"
        );
    }
    for r in rows {
        assert!(r["customer_id"].is_string() && r["score"].is_f64());
        assert!(r["reasons"].is_array());
        assert_eq!(r["method"], "rules");
    }
    // The riskiest customers have reasons in words.
    assert!(rows[0]["reasons"].as_array().is_some_and(
        |r| !r.is_empty() && r.iter().all(|x| x.as_str().is_some_and(|s| s.len() > 5))
    ));
    // --json is the query layer's answer, byte for byte.
    let direct = hearken_query::risk(
        &store(&env),
        &hearken_query::Scope::all(),
        &hearken_query::RiskRequest {
            method: hearken_query::RiskMethod::Rules,
            ..hearken_query::RiskRequest::default()
        },
    )
    .expect("risk");
    assert_eq!(
        ok(&env, &["risk", "--json", "--method", "rules"]).trim_end(),
        serde_json::to_string(&direct.customers).expect("serialise")
    );
    // The table lists the same customers in the same order, with their names and scores.
    let text = ok(&env, &["risk", "--method", "rules", "--top", "5"]);
    let top = json(&env, &["risk", "--method", "rules", "--top", "5", "--json"]);
    let top = top.as_array().expect("array");
    assert_eq!(top.len(), 5);
    let lines: Vec<&str> = text.lines().skip(2).take(5).collect();
    for (line, r) in lines.iter().zip(top) {
        let id = r["customer_id"].as_str().expect("id");
        assert!(line.starts_with(id), "{line} / {id}");
        let name = r["name"].as_str().expect("the demo's customers have names");
        assert!(line.contains(name), "{line} / {name}");
        assert!(
            line.contains(&format!("{:.1}", r["score"].as_f64().expect("score"))),
            "{line}"
        );
    }
    assert!(
        text.lines()
            .next()
            .is_some_and(|l| l.contains("rule score")),
        "{text}"
    );
    assert!(text.contains("lead time"), "{text}");
}

#[test]
fn a_trained_model_is_stored_versioned_and_used() {
    let env = demo();
    let before = ok(&env, &["risk", "--top", "3"]);
    assert!(before.contains("no risk model is stored"), "{before}");
    fails(&env, &["risk", "--method", "model"]);
    let t = json(&env, &["risk", "train", "--json"]);
    assert_eq!(t["model"]["version"], 1);
    assert!(t["model"]["churners"].as_u64().is_some_and(|n| n >= 20));
    let t2 = json(
        &env,
        &[
            "risk",
            "train",
            "--learner",
            "logistic",
            "--horizon-days",
            "60",
            "--json",
        ],
    );
    assert_eq!(t2["model"]["version"], 2);
    assert_eq!(t2["model"]["learner"], "logistic");
    let rows = json(&env, &["risk", "--json"]);
    let rows = rows.as_array().expect("array");
    assert!(rows.iter().all(|r| r["method"] == "model"));
    for r in rows {
        let s = r["score"].as_f64().expect("score");
        assert!(
            (0.0..=1.0).contains(&s),
            "a model score is a probability: {s}"
        );
    }
    let text = ok(&env, &["risk", "--top", "3"]);
    assert!(
        text.contains("model v2 (logistic, churn within 60 days"),
        "{text}"
    );
    // The rules stay available beside the model.
    let rules = json(&env, &["risk", "--method", "rules", "--top", "1", "--json"]);
    assert_eq!(rules[0]["method"], "rules");
}

#[test]
fn the_matrix_places_every_valued_customer_once_and_compares_tenure() {
    let env = demo();
    let m = json(&env, &["risk", "matrix", "--json", "--limit", "1000"]);
    let scored = json(&env, &["risk", "--json"]);
    let scored = scored.as_array().expect("array");
    let quadrants = m["matrix"]["quadrants"].as_array().expect("quadrants");
    assert_eq!(quadrants.len(), 4);
    let placed: u64 = quadrants
        .iter()
        .map(|q| q["count"].as_u64().expect("count"))
        .sum();
    let no_value = m["matrix"]["no_value"].as_array().expect("no_value").len() as u64;
    assert_eq!(placed + no_value, scored.len() as u64);
    let mut ids: Vec<&str> = quadrants
        .iter()
        .flat_map(|q| q["customers"].as_array().expect("customers"))
        .map(|c| c["customer_id"].as_str().expect("id"))
        .collect();
    ids.sort_unstable();
    let n = ids.len();
    ids.dedup();
    assert_eq!(ids.len(), n, "a customer is in one quadrant");
    // White-glove customers are counted per quadrant as they are listed.
    for q in quadrants {
        let listed = q["customers"]
            .as_array()
            .expect("customers")
            .iter()
            .filter(|c| c["white_glove"] == true)
            .count() as u64;
        assert_eq!(q["white_glove"].as_u64(), Some(listed));
    }
    let tenure = m["matrix"]["tenure"].as_array().expect("tenure");
    let groups: Vec<&str> = tenure
        .iter()
        .map(|t| t["group"].as_str().expect("group"))
        .collect();
    assert!(
        groups.contains(&"new") && groups.contains(&"long_standing"),
        "{groups:?}"
    );
    let text = ok(&env, &["risk", "matrix"]);
    for q in quadrants {
        let key = q["key"].as_str().expect("key");
        let line = text
            .lines()
            .find(|l| l.starts_with(key))
            .unwrap_or_else(|| panic!("{key} in\n{text}"));
        let count = q["count"].as_u64().expect("count");
        assert!(
            line.split_whitespace().nth(1) == Some(&count.to_string()),
            "{line}"
        );
    }
    // CLV needs a retention: given, or observed from the churn in the store.
    let clv = json(
        &env,
        &[
            "risk", "matrix", "--value", "clv", "--margin", "0.3", "--json",
        ],
    );
    assert_eq!(clv["matrix"]["basis"], "clv");
    assert_eq!(clv["retention_from"], "observed");
    let err = fails(&env, &["risk", "matrix", "--retention", "0.9"]);
    assert!(err.contains("--value clv"), "{err}");
    let err = fails(
        &env,
        &["risk", "matrix", "--value", "clv", "--retention", "1.5"],
    );
    assert!(err.contains("retention"), "{err}");
}

/// A small organisation for the bad-input cases: C1 without a value, C2 with one signal, C3
/// without any signal, C4 and C5 with several.
fn small() -> Env {
    let env = Env::new();
    let c = env.write(
        "customers.csv",
        "customer_id,name,segment,customer_since,value_per_year,white_glove\n\
         C1,Ann,smb,2023-01-01,,false\n\
         C2,Bob,smb,2024-01-01,500,false\n\
         C3,Cat,enterprise,2022-01-01,9000,true\n\
         C4,Dan,enterprise,2021-06-01,12000,true\n\
         C5,Eve,smb,2024-02-01,300,false\n",
    );
    let s = env.write(
        "signals.csv",
        "signal_id,at,channel,kind,customer_id,case_id,topic,text\n\
         S1,2024-03-01,phone,complaint,C1,K1,billing/double_charge,\"I was charged twice and this is terrible\"\n\
         S2,2024-03-03,phone,complaint,C1,K1,billing/double_charge,\"still charged twice, awful service\"\n\
         S3,2024-03-05,e-mail,question,C2,,network/outage,\"is there an outage\"\n\
         S4,2024-03-02,web,praise,C4,,network/outage,\"great fix, thank you\"\n\
         S5,2024-03-20,web,complaint,C4,K2,network/outage,\"the outage is back and I am angry\"\n\
         S6,2024-03-21,web,complaint,C5,,billing/double_charge,\"double charge again, horrible\"\n\
         S7,2024-03-25,web,complaint,C5,,billing/double_charge,\"charged twice again, the worst\"\n",
    );
    let e = env.write(
        "case_events.csv",
        "event_id,case_id,at,activity\n\
         E1,K1,2024-03-01T10:00:00Z,new\n\
         E2,K1,2024-03-02T10:00:00Z,escalated\n\
         E3,K2,2024-03-20T10:00:00Z,new\n",
    );
    env.import(&c, "customers", &[]);
    env.import(&s, "signals", &[]);
    env.import(&e, "case-events", &[]);
    env
}

#[test]
fn customers_with_no_value_no_signals_or_one_signal_are_defined() {
    let env = small();
    let rows = json(&env, &["risk", "--json"]);
    let rows = rows.as_array().expect("array");
    let ids: Vec<&str> = rows
        .iter()
        .map(|r| r["customer_id"].as_str().expect("id"))
        .collect();
    // C3 has no signal: not scored (counted as not yet seen); the others are.
    assert!(!ids.contains(&"C3"), "{ids:?}");
    for id in ["C1", "C2", "C4", "C5"] {
        assert!(ids.contains(&id), "{id} in {ids:?}");
    }
    let one = rows.iter().find(|r| r["customer_id"] == "C2").expect("C2");
    assert!(one["score"].as_f64().is_some_and(f64::is_finite));
    let text = ok(&env, &["risk"]);
    assert!(text.contains("1 without a signal or answer"), "{text}");
    assert!(text.contains("no churn history"), "{text}");
    // C1 has no value: listed apart in the matrix, never placed at zero.
    let m = json(&env, &["risk", "matrix", "--json"]);
    assert_eq!(m["matrix"]["no_value"], serde_json::json!(["C1"]));
    let placed: u64 = m["matrix"]["quadrants"]
        .as_array()
        .expect("quadrants")
        .iter()
        .map(|q| q["count"].as_u64().expect("count"))
        .sum();
    assert_eq!(placed, 3);
    // Without churn in the store there is nothing to learn from, and CLV has no retention.
    let err = fails(&env, &["risk", "train"]);
    assert!(err.contains("too little churn history"), "{err}");
    let err = fails(&env, &["risk", "matrix", "--value", "clv"]);
    assert!(err.contains("--retention"), "{err}");
}

#[test]
fn as_of_dates_before_any_data_after_all_of_it_or_not_dates() {
    let env = small();
    let early = ok(&env, &["risk", "--as-of", "2020-01-01"]);
    assert!(early.contains("no data before the as-of date"), "{early}");
    assert_eq!(
        json(&env, &["risk", "--as-of", "2020-01-01", "--json"]),
        serde_json::json!([])
    );
    let late = ok(&env, &["risk", "--as-of", "2030-01-01"]);
    assert!(late.contains("after the last data"), "{late}");
    assert_eq!(
        json(&env, &["risk", "--as-of", "2030-01-01", "--json"])
            .as_array()
            .map(Vec::len),
        Some(4)
    );
    let err = fails(&env, &["risk", "--as-of", "yesterday-ish"]);
    assert!(err.contains("--as-of"), "{err}");
    let err = fails(&env, &["risk", "--top", "0"]);
    assert!(err.contains("--top"), "{err}");
    let err = fails(&env, &["risk", "--segment", "nosuch"]);
    assert!(err.contains("nosuch") && err.contains("smb"), "{err}");

    // Signals that name no customer (a complaints database's export): nothing to score, said
    // as of today, not of 1970.
    let anon = Env::new();
    let s = anon.write(
        "signals.csv",
        "signal_id,at,channel,kind,topic,text\nS1,2024-03-01,web,complaint,billing,charged twice\n",
    );
    anon.import(&s, "signals", &[]);
    let text = ok(&anon, &["risk"]);
    let today = hearken_model::Timestamp::from_unix(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64,
    )
    .date_string();
    assert!(
        text.starts_with(&format!("0 customers scored as of {today}")),
        "{text}"
    );
    assert!(
        text.contains("no signal or survey answer names a customer"),
        "{text}"
    );
}

pub(crate) const COST: &str = r#"
[cost]
currency = "EUR"
avoidable_contact = 6.5
[cost.topics]
"billing/double_charge" = { category = "external_failure", unit_cost = 12 }
"network" = { category = "external_failure", unit_cost = 8 }
[cost.kinds]
praise = { category = "appraisal", unit_cost = 1 }
[cost.activities]
escalated = { category = "internal_failure", unit_cost = 25 }
[cost.fixed]
"quality training" = { category = "prevention", per_month = 300 }
"#;

#[test]
fn cost_of_quality_from_the_mapping_reconciles_and_bad_mappings_are_refused() {
    let env = small();
    let err = fails(&env, &["cost"]);
    assert!(err.contains("[cost]"), "{err}");
    env.write("hearken.toml", COST);
    let v = json(
        &env,
        &[
            "cost",
            "--from",
            "2024-03-01",
            "--to",
            "2024-04-01",
            "--json",
        ],
    );
    // 4 double-charge signals x 12, 3 network signals x 8 (the network topic prices its
    // subtopics before the kind rule), one escalation x 25, 31 days of 300 a month.
    let fixed = 300.0 * 31.0 / (365.25 / 12.0);
    let expected = 4.0 * 12.0 + 3.0 * 8.0 + 25.0 + fixed;
    let total = v["total"].as_f64().expect("total");
    assert!((total - expected).abs() < 1e-9, "{total} vs {expected}");
    let by_category: f64 = v["by_category"]
        .as_array()
        .expect("categories")
        .iter()
        .map(|c| c["amount"].as_f64().expect("amount"))
        .sum();
    assert!((by_category - total).abs() < 1e-9);
    let by_topic: f64 = v["by_topic"]
        .as_array()
        .expect("topics")
        .iter()
        .map(|g| g["amount"].as_f64().expect("amount"))
        .sum();
    assert!((by_topic + fixed - total).abs() < 1e-9);
    // Repeats: S2 repeats S1 and S7 repeats S6 (same customer, same topic within 7 days).
    assert_eq!(v["avoidable"]["repeats"], 2);
    assert_eq!(v["avoidable"]["amount"], 13.0);
    let by_topic_only = json(&env, &["cost", "--by", "topic", "--json"]);
    assert_eq!(by_topic_only["by_product"], serde_json::json!([]));
    let text = ok(
        &env,
        &["cost", "--from", "2024-03-01", "--to", "2024-04-01"],
    );
    assert!(text.contains("external failure"), "{text}");

    env.write("hearken.toml", COST.replace("\"network\"", "\"netwrk\""));
    let err = fails(&env, &["cost"]);
    assert!(
        err.contains("netwrk") && err.contains("did you mean 'network'"),
        "{err}"
    );
    env.write(
        "hearken.toml",
        COST.replace("unit_cost = 12", "unit_cost = -12"),
    );
    let err = fails(&env, &["cost"]);
    assert!(err.contains("-12") && err.contains("0 or more"), "{err}");
    env.write("hearken.toml", COST.replace("escalated", "escalatd"));
    let err = fails(&env, &["cost"]);
    assert!(err.contains("escalatd"), "{err}");
    env.write("hearken.toml", COST.replace("praise", "applause"));
    let err = fails(&env, &["cost"]);
    assert!(
        err.contains("applause") && err.contains("complaint"),
        "{err}"
    );
    env.write("hearken.toml", COST);
    let err = fails(
        &env,
        &["cost", "--from", "2024-04-01", "--to", "2024-03-01"],
    );
    assert!(err.contains("--from"), "{err}");
}

/// Item keys of the default questionnaire.
fn items() -> Vec<String> {
    let q = hearken_engine::assess::Questionnaire::default_questionnaire();
    q.areas
        .iter()
        .flat_map(|a| a.items.iter().map(|i| i.key.clone()))
        .collect()
}

fn answers(unit: &str, date: &str, say: i64, practice: i64) -> String {
    let mut s = format!("unit = \"{unit}\"\ndate = \"{date}\"\n[answers]\n");
    for k in items() {
        s.push_str(&format!("\"{k}\" = {{ say = {say}, do = {practice} }}\n"));
    }
    s
}

#[test]
fn assessments_are_checked_stored_and_reported_with_quartiles() {
    let env = Env::new();
    for (i, unit) in ["service", "sales", "billing", "it", "field"]
        .iter()
        .enumerate()
    {
        let f = env.write(
            &format!("{unit}.toml"),
            answers(unit, "2025-01-31", 4, 1 + i as i64 % 4),
        );
        ok(&env, &["assess", "import", f.to_str().expect("path")]);
    }
    let later = env.write("service2.toml", answers("service", "2025-06-30", 5, 4));
    let imported = json(
        &env,
        &["assess", "import", later.to_str().expect("path"), "--json"],
    );
    assert_eq!(imported["replaced"], false);
    let again = json(
        &env,
        &["assess", "import", later.to_str().expect("path"), "--json"],
    );
    assert_eq!(again["replaced"], true);
    let r = json(&env, &["assess", "report", "--json"]);
    assert_eq!(r["assessments"], 6);
    let reports = r["reports"].as_array().expect("reports");
    assert_eq!(reports.len(), 5, "each unit's latest");
    let service = reports
        .iter()
        .find(|x| x["unit"] == "service")
        .expect("service");
    assert_eq!(service["date"], "2025-06-30");
    assert_eq!(service["overall"]["gap"], 1.0);
    assert_eq!(service["standing"]["quartile"], "top");
    let text = ok(&env, &["assess", "report", "--unit", "service"]);
    assert!(
        text.lines()
            .any(|l| l.starts_with("service") && l.contains("+1.00") && l.contains("top")),
        "{text}"
    );
    let all = json(
        &env,
        &["assess", "report", "--unit", "service", "--all", "--json"],
    );
    assert_eq!(all["reports"].as_array().map(Vec::len), Some(2));

    // Bad answers: refused with the file, unit, item and value; nothing stored.
    let missing = env.write(
        "missing.toml",
        answers("it", "2025-02-28", 3, 3)
            .lines()
            .take(6)
            .collect::<Vec<_>>()
            .join("\n"),
    );
    let err = fails(&env, &["assess", "import", missing.to_str().expect("path")]);
    assert!(
        err.contains("missing.toml") && err.contains("not answered"),
        "{err}"
    );
    let range = env.write(
        "range.toml",
        answers("it", "2025-02-28", 3, 3).replacen("say = 3", "say = 9", 1),
    );
    let err = fails(&env, &["assess", "import", range.to_str().expect("path")]);
    assert!(err.contains("say = 9") && err.contains("1 to 5"), "{err}");
    let unknown_item = env.write(
        "item.toml",
        answers("it", "2025-02-28", 3, 3) + "\"nosuch.item\" = { say = 1, do = 1 }\n",
    );
    let err = fails(
        &env,
        &["assess", "import", unknown_item.to_str().expect("path")],
    );
    assert!(err.contains("nosuch.item"), "{err}");
    env.write(
        "hearken.toml",
        "[assess]\nunits = [\"service\", \"sales\"]\n",
    );
    let unit = env.write("unit.toml", answers("marketing", "2025-02-28", 3, 3));
    let err = fails(&env, &["assess", "import", unit.to_str().expect("path")]);
    assert!(
        err.contains("'marketing'") && err.contains("service, sales"),
        "{err}"
    );
    assert_eq!(
        json(&env, &["assess", "report", "--json"])["assessments"],
        6
    );
    let err = fails(&env, &["assess", "report", "--unit", "nosuch"]);
    assert!(err.contains("nosuch") && err.contains("billing"), "{err}");
}

#[test]
fn a_questionnaire_file_replaces_the_default() {
    let env = Env::new();
    env.write(
        "q.toml",
        "name = \"Ours\"\nversion = 2\n[scale]\nmin = 0\nmax = 10\n\
         [[areas]]\nkey = \"a\"\ntitle = \"Area A\"\n\
         [[areas.items]]\nkey = \"a.one\"\ntext = \"One\"\nlevel = \"help\"\n\
         [[areas.items]]\nkey = \"a.two\"\ntext = \"Two\"\n",
    );
    env.write("hearken.toml", "[assess]\nquestionnaire = \"q.toml\"\n");
    let f = env.write(
        "x.toml",
        "unit = \"u\"\ndate = \"2025-01-01\"\n[answers]\n\"a.one\" = { say = 10, do = 4 }\n\"a.two\" = { say = 8, do = 6 }\n",
    );
    ok(&env, &["assess", "import", f.to_str().expect("path")]);
    let r = json(&env, &["assess", "report", "--json"]);
    assert_eq!(r["questionnaire"], "Ours");
    assert_eq!(r["reports"][0]["overall"]["say"], 9.0);
    assert_eq!(r["reports"][0]["overall"]["do"], 5.0);
    env.write(
        "q.toml",
        "name = \"Broken\"\nversion = 1\n[scale]\nmin = 5\nmax = 1\n\
         [[areas]]\nkey = \"a\"\ntitle = \"A\"\n[[areas.items]]\nkey = \"a.one\"\ntext = \"One\"\n",
    );
    let err = fails(&env, &["assess", "report"]);
    assert!(err.contains("q.toml") && err.contains("scale.min"), "{err}");
}
