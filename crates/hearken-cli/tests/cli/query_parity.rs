//! Text and JSON of the same question say the same: for every analytic, the table is rendered
//! from the very response `--json` prints, and `--json` prints exactly
//! `serde_json::to_string(&response)` of the query layer's answer (what the API will return).

use serde_json::Value;

use crate::helpers::*;

/// A demo store (600 customers, 4 months) shared by the checks of one test.
fn demo() -> Env {
    let env = Env::new();
    let out = env.run(&["demo", "--customers", "600", "--months", "4", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    env
}

/// stdout of a successful run.
fn stdout(env: &Env, args: &[&str]) -> String {
    let out = env.run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// The text and the JSON of one question.
fn both(env: &Env, args: &[&str]) -> (String, Value, String) {
    let text = stdout(env, args);
    let mut json_args = args.to_vec();
    json_args.push("--json");
    let raw = stdout(env, &json_args);
    let v: Value = serde_json::from_str(&raw).expect("--json prints JSON");
    (text, v, raw.trim_end().to_string())
}

/// The whitespace-separated tokens of the first line whose first token is `first`.
fn row<'a>(text: &'a str, first: &str) -> Vec<&'a str> {
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|t| t.first() == Some(&first))
        .unwrap_or_else(|| panic!("no row '{first}' in:\n{text}"))
}

fn one(v: &Value) -> String {
    v.as_f64().map_or("-".into(), |x| format!("{x:.1}"))
}

fn pct(v: &Value) -> String {
    v.as_f64()
        .map_or("-".into(), |x| format!("{:.1}%", x * 100.0))
}

fn count(v: &Value) -> String {
    let n = v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"));
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn store(env: &Env) -> hearken_store::Store {
    hearken_store::Store::open(&env.db()).expect("open the demo store")
}

#[test]
fn scores_text_and_json_agree_and_json_is_the_query_response() {
    let env = demo();
    let (text, v, raw) = both(&env, &["scores"]);
    let all = row(&text, "all");
    assert_eq!(all[1], one(&v["nps"]), "{text}\n{v}");
    assert_eq!(all[2], one(&v["low"]));
    assert_eq!(all[4], one(&v["high"]));
    assert_eq!(all[5], count(&v["n"]));
    let direct = hearken_query::scores(
        &store(&env),
        &hearken_query::Scope::all(),
        &hearken_query::ScoresRequest::default(),
    )
    .unwrap();
    assert_eq!(raw, serde_json::to_string(&direct).unwrap());

    let (text, v, raw) = both(&env, &["scores", "--metric", "csat", "--by", "product"]);
    let groups = v["groups"].as_array().unwrap();
    assert!(groups.len() > 5);
    for g in groups {
        let r = row(&text, g["group"].as_str().unwrap());
        let name = g["name"].as_str().unwrap_or("");
        let words = name.split_whitespace().count();
        assert_eq!(r[1..=words].join(" "), name, "{text}");
        assert_eq!(r[1 + words], one(&g["csat"]), "{g}");
        assert_eq!(r[5 + words], count(&g["n"]), "{g}");
    }
    let direct = hearken_query::scores(
        &store(&env),
        &hearken_query::Scope::all(),
        &hearken_query::ScoresRequest {
            metric: hearken_query::Metric::Csat,
            by: Some(hearken_query::By::Product),
            ..hearken_query::ScoresRequest::default()
        },
    )
    .unwrap();
    assert_eq!(raw, serde_json::to_string(&direct).unwrap());

    let (text, v, _) = both(&env, &["scores", "--by", "segment"]);
    for g in v["groups"].as_array().unwrap() {
        let r = row(&text, g["group"].as_str().unwrap());
        assert_eq!(
            (r[1], r[5]),
            (one(&g["nps"]).as_str(), count(&g["n"]).as_str())
        );
    }

    let (text, v, _) = both(
        &env,
        &[
            "scores",
            "--from",
            "2025-03-01",
            "--against-from",
            "2025-01-01",
            "--against-to",
            "2025-03-01",
        ],
    );
    assert_eq!(row(&text, "baseline")[1], one(&v["baseline"]["nps"]));
    assert_eq!(row(&text, "selection")[1], one(&v["selection"]["nps"]));
    let change = row(&text, "change");
    let diff = v["change"]["diff"].as_f64().unwrap();
    assert_eq!(change[1], format!("{diff:+.1}"), "{text}");
    let p = v["change"]["p_value"].as_f64().unwrap();
    assert!(text.contains(&format!("p = {p:.3}")), "{text}");
}

#[test]
fn pareto_drivers_and_repeats_text_and_json_agree() {
    let env = demo();
    let (text, v, raw) = both(&env, &["pareto", "--by", "agent", "--top", "5"]);
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with(&format!(
            "{} contacts from {} agent entities",
            count(&v["contacts"]),
            count(&v["entities"])
        )),
        "{first}\n{v}"
    );
    assert!(first.contains(&pct(&v["top20_share"])), "{first}");
    assert!(
        first.contains(&format!("{} cover 80%", count(&v["k80"]))),
        "{first}"
    );
    for t in v["top"].as_array().unwrap() {
        let r = row(&text, t["entity"].as_str().unwrap());
        let name = t["name"].as_str().expect("agents have names");
        let words = name.split_whitespace().count();
        assert_eq!(r[1..=words].join(" "), name);
        assert_eq!(r[1 + words], count(&t["contacts"]));
        assert_eq!(r[2 + words], pct(&t["share"]));
    }
    let direct = hearken_query::pareto(
        &store(&env),
        &hearken_query::Scope::all(),
        &hearken_query::ParetoRequest {
            by: hearken_query::By::Agent,
            top: 5,
            ..hearken_query::ParetoRequest::default()
        },
    )
    .unwrap();
    assert_eq!(raw, serde_json::to_string(&direct).unwrap());

    let (text, v, _) = both(&env, &["drivers"]);
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with(&format!("{} complete responses", count(&v["n"]))),
        "{first}"
    );
    assert!(first.contains(&pct(&v["r2"])), "{first}");
    assert!(
        first.ends_with("overall satisfaction"),
        "no internal names: {first}"
    );
    for d in v["drivers"].as_array().unwrap() {
        let r = row(&text, d["aspect"].as_str().unwrap());
        assert_eq!(r[1], format!("{:.3}", d["ols"]["coef"].as_f64().unwrap()));
        assert_eq!(r[5], pct(&d["shapley_share"]));
    }
    for k in v["kpis"].as_array().unwrap() {
        let name = k["kpi"].as_str().unwrap();
        let line = text
            .lines()
            .find(|l| l.starts_with(name))
            .unwrap_or_else(|| panic!("{name} in {text}"));
        let corr = k["correlation"].as_f64().unwrap();
        assert!(line.contains(&format!("{corr:+.3}")), "{line}");
    }

    let (text, v, _) = both(&env, &["repeats", "--days", "10"]);
    let first = text.lines().next().unwrap();
    assert!(
        first.starts_with(&format!(
            "{} of {} contacts with a customer and a topic were repeats within 10 days: {}",
            count(&v["repeats"]),
            count(&v["eligible"]),
            pct(&v["rate"])
        )),
        "{first}\n{v}"
    );
    for g in v["by_topic"].as_array().unwrap().iter().take(15) {
        let r = row(&text, g["group"].as_str().unwrap());
        assert_eq!(
            (r[1], r[2]),
            (
                count(&g["repeats"]).as_str(),
                count(&g["eligible"]).as_str()
            )
        );
    }
    for g in v["by_product"].as_array().unwrap().iter().take(15) {
        let r = row(&text, g["group"].as_str().unwrap());
        let words = g["name"]
            .as_str()
            .map_or(0, |n| n.split_whitespace().count());
        assert_eq!(r[1 + words], count(&g["repeats"]), "{g}");
    }
}

#[test]
fn trends_issues_and_themes_text_and_json_agree() {
    let env = Env::new();
    // Long enough for expected ranges, so spikes can be flagged.
    let out = env.run(&["demo", "--customers", "1500", "--months", "8", "--json"]);
    assert!(out.status.success());
    let (text, v, raw) = both(&env, &["trends"]);
    let spikes = v["spikes"].as_array().unwrap();
    assert!(!spikes.is_empty(), "the demo has an injected spike: {text}");
    assert!(text.contains(&format!("{} spike", spikes.len())), "{text}");
    assert!(!text.contains("no spikes"), "{text}");
    for s in spikes {
        let line = text
            .lines()
            .find(|l| {
                l.starts_with(s["period"].as_str().unwrap())
                    && l.contains(s["topic"].as_str().unwrap())
            })
            .unwrap_or_else(|| panic!("{s} in {text}"));
        assert!(
            line.split_whitespace().any(|t| t == count(&s["count"])),
            "{line}"
        );
    }
    // Every flagged point is in the spikes list, and no signal without a topic is flagged.
    let flagged: usize = v["topics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["spikes"].as_u64().unwrap() as usize)
        .sum();
    assert_eq!(flagged, spikes.len());
    if v["without_topic"].as_u64().unwrap() > 0 {
        assert!(text.contains("have no topic"), "{text}");
    }
    let direct = hearken_query::trends(
        &store(&env),
        &hearken_query::Scope::all(),
        &hearken_query::TrendsRequest::default(),
    )
    .unwrap();
    assert_eq!(raw, serde_json::to_string(&direct).unwrap());

    let (text, v, _) = both(&env, &["issues-rank", "--limit", "6"]);
    for i in v["issues"].as_array().unwrap() {
        let r = row(&text, &i["rank"].to_string());
        assert_eq!(r[1], i["topic"].as_str().unwrap());
        assert_eq!(r[2], count(&i["signals"]));
        assert_eq!(r[r.len() - 1], one(&i["score"]));
    }

    let (text, v, _) = both(&env, &["themes", "--k", "5", "--sample", "3000"]);
    let themes = v["themes"].as_array().unwrap();
    assert!(
        text.starts_with(&format!(
            "{} themes in {} texts",
            themes.len(),
            count(&v["texts"])
        )),
        "{text}"
    );
    for t in themes {
        let phrases: Vec<&str> = t["key_phrases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().unwrap())
            .collect();
        let line = format!("{} texts  {}", count(&t["size"]), phrases.join(" | "));
        assert!(text.contains(&line), "'{line}' in {text}");
    }
}

#[test]
fn signals_text_and_json_list_the_same_page() {
    let env = demo();
    let (text, v, _) = both(&env, &["signals", "--channel", "email", "--limit", "8"]);
    let page = v["signals"].as_array().unwrap();
    assert_eq!(page.len(), 8);
    for s in page {
        assert_eq!(s["channel"], "email");
        // id, time, channel, kind, ...
        let r = row(&text, s["id"].as_str().unwrap());
        assert_eq!(r[2], "email");
    }
    let cursor = v["next_cursor"].as_str().unwrap();
    assert!(text.contains(&format!("--cursor {cursor}")), "{text}");
    let next: Value = serde_json::from_str(&stdout(
        &env,
        &[
            "signals",
            "--channel",
            "email",
            "--limit",
            "8",
            "--cursor",
            cursor,
            "--json",
        ],
    ))
    .unwrap();
    let first_ids: Vec<&Value> = page.iter().map(|s| &s["id"]).collect();
    assert!(
        next["signals"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| !first_ids.contains(&&s["id"])),
        "pages do not overlap"
    );
    let id = page[0]["id"].as_str().unwrap();
    let (text, one_signal, _) = both(&env, &["signals", "--id", id]);
    assert_eq!(&one_signal, &page[0]);
    assert!(text.starts_with(&format!("id         {id}")), "{text}");
}
