//! `hearken customer`, `hearken case`, `hearken imports`, `status`, `quarantine` and `flow` through
//! the query layer: `--json` prints exactly the query function's answer, and the table says the
//! same things.

use serde_json::Value;

use crate::helpers::*;

fn demo() -> Env {
    let env = Env::new();
    let out = env.run(&["demo", "--customers", "400", "--months", "3", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    env
}

fn stdout(env: &Env, args: &[&str]) -> String {
    let out = env.run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// The text, and the JSON as printed, of one question.
fn both(env: &Env, args: &[&str]) -> (String, String) {
    let text = stdout(env, args);
    let mut json_args = args.to_vec();
    json_args.push("--json");
    (text, stdout(env, &json_args).trim_end().to_string())
}

fn store(env: &Env) -> hearken_store::Store {
    hearken_store::Store::open(&env.db()).expect("open the demo store")
}

fn sql(env: &Env) -> rusqlite::Connection {
    rusqlite::Connection::open(env.db()).unwrap()
}

fn one(env: &Env, q: &str) -> String {
    sql(env).query_row(q, [], |r| r.get(0)).unwrap()
}

fn count(n: u64) -> String {
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

#[test]
fn customer_and_case_print_the_query_answers() {
    let env = demo();
    let all = hearken_query::Scope::all();
    let id = one(
        &env,
        "SELECT c.ext_id FROM customers c JOIN signals s ON s.customer_id = c.id
         GROUP BY c.id ORDER BY count(*) DESC, c.ext_id LIMIT 1",
    );
    let (text, raw) = both(&env, &["customer", &id]);
    let direct = hearken_query::customer(&store(&env), &all, &id).unwrap();
    assert_eq!(raw, serde_json::to_string(&direct).unwrap());
    let v: Value = serde_json::from_str(&raw).unwrap();
    assert!(text.starts_with(&format!("customer      {id}\n")), "{text}");
    if let Some(name) = v["name"].as_str() {
        assert!(text.contains(&format!("name          {name}\n")), "{text}");
    }
    let signals = v["signals"].as_u64().unwrap();
    assert!(
        text.contains(&format!("signals       {}\n", count(signals))),
        "{text}"
    );
    for a in v["nps_answers"].as_array().unwrap() {
        assert!(
            text.contains(a["response_id"].as_str().unwrap()),
            "{a} in {text}"
        );
    }

    let (text, raw) = both(&env, &["customer", &id, "--timeline", "--limit", "5"]);
    let direct = hearken_query::customer_timeline(
        &store(&env),
        &all,
        &id,
        &hearken_query::TimelineRequest {
            limit: 5,
            cursor: None,
        },
    )
    .unwrap();
    assert_eq!(raw, serde_json::to_string(&direct).unwrap());
    let v: Value = serde_json::from_str(&raw).unwrap();
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 5);
    for i in items {
        assert!(text.contains(i["id"].as_str().unwrap()), "{i} in {text}");
    }
    let cursor = v["next_cursor"].as_str().unwrap();
    assert!(text.contains(&format!("--cursor {cursor}")), "{text}");
    let next = stdout(
        &env,
        &[
            "customer",
            &id,
            "--timeline",
            "--limit",
            "5",
            "--cursor",
            cursor,
            "--json",
        ],
    );
    let next: Value = serde_json::from_str(&next).unwrap();
    assert_ne!(next["items"][0]["id"], items[0]["id"]);

    // A case with a transfer.
    let case = one(
        &env,
        "SELECT c.ext_id FROM cases c JOIN case_events e ON e.case_id = c.id
         GROUP BY c.id HAVING count(DISTINCT e.agent_id) > 1 ORDER BY c.id LIMIT 1",
    );
    let (text, raw) = both(&env, &["case", &case]);
    let direct = hearken_query::case(&store(&env), &all, &case).unwrap();
    assert_eq!(raw, serde_json::to_string(&direct).unwrap());
    let v: Value = serde_json::from_str(&raw).unwrap();
    assert!(v["transfers"].as_u64().unwrap() > 0, "{v}");
    assert!(
        text.contains(&format!("transfers                {}", v["transfers"])),
        "{text}"
    );
    for e in v["events"].as_array().unwrap() {
        let agent = e["agent_id"].as_str().unwrap_or("");
        let line = text
            .lines()
            .find(|l| l.contains(e["stage"].as_str().unwrap()) && l.contains(agent))
            .unwrap_or_else(|| panic!("{e} in {text}"));
        if let Some(name) = e["agent"].as_str() {
            assert!(line.contains(&format!("{agent} ({name})")), "{line}");
        }
    }

    // Unknown ids: one line, what to do.
    let err = assert_clean_failure(&env.run(&["customer", "nope"]));
    assert!(
        err.contains("no customer 'nope'") && err.contains("customer_id column"),
        "{err}"
    );
    let err = assert_clean_failure(&env.run(&["case", "nope"]));
    assert!(err.contains("no case 'nope'"), "{err}");
    let err = assert_clean_failure(&env.run(&["customer", &id, "--limit", "5"]));
    assert!(err.contains("--timeline"), "{err}");
}

#[test]
fn imports_status_and_quarantine_print_the_query_answers() {
    let env = Env::new();
    let ok = env.write("s.csv", signals_csv(30));
    env.import(&ok, "signals", &[]);
    let bad = env.write(
        "bad.csv",
        format!(
            "{SIGNALS_HEADER}X1,not a date,phone,complaint,customer,,,,,,,text\n\
             X2,2024-03-01,phone,complaint,customer,,,,,,,text\n"
        ),
    );
    env.import(&bad, "signals", &[]);
    let all = hearken_query::Scope::all();

    let (text, raw) = both(&env, &["imports"]);
    let direct = hearken_query::imports(
        &store(&env),
        &all,
        &hearken_query::ImportsRequest::default(),
    )
    .unwrap();
    assert_eq!(raw, serde_json::to_string(&direct).unwrap());
    let v: Value = serde_json::from_str(&raw).unwrap();
    let list = v["imports"].as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(
        (list[0]["quarantined"].as_u64(), list[1]["stored"].as_u64()),
        (Some(1), Some(30))
    );
    for i in list {
        let row: Vec<&str> = text
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{} ", i["id"])))
            .unwrap_or_else(|| panic!("{i} in {text}"))
            .split_whitespace()
            .collect();
        assert!(row.contains(&"finished"), "{row:?}");
        assert!(row.contains(&i["file"].as_str().unwrap()), "{row:?}");
    }
    let (_, raw) = both(&env, &["imports", "--limit", "1"]);
    let v: Value = serde_json::from_str(&raw).unwrap();
    assert_eq!(v["imports"].as_array().unwrap().len(), 1);
    assert!(v["next_cursor"].is_string());

    let (_, raw) = both(&env, &["status"]);
    let direct = hearken_query::status(&store(&env), &all).unwrap();
    assert_eq!(raw, serde_json::to_string(&direct).unwrap());

    let (text, raw) = both(&env, &["quarantine"]);
    let direct = hearken_query::quarantine(
        &store(&env),
        &all,
        &hearken_query::QuarantineRequest::default(),
    )
    .unwrap();
    assert_eq!(raw, serde_json::to_string(&direct).unwrap());
    assert!(text.contains("not a date"), "{text}");
}

#[cfg(target_os = "linux")]
#[test]
fn a_running_import_is_said_once_in_every_table() {
    let env = demo();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown".into());
    // An import held by a live process of this machine (a sleeping child) is running.
    let mut child = std::process::Command::new("sleep")
        .arg("60")
        .spawn()
        .unwrap();
    sql(&env)
        .execute(
            "INSERT INTO imports (kind, file, fingerprint, started_at, pid, host, heartbeat_at)
             VALUES ('signals', 'live.csv', 'x', strftime('%s','now'), ?1, ?2, strftime('%s','now'))",
            rusqlite::params![i64::from(child.id()), host],
        )
        .unwrap();
    let outputs: Vec<String> = [
        vec!["status"],
        vec!["scores"],
        vec!["pareto"],
        vec!["flow"],
        vec!["imports"],
        vec!["signals", "--limit", "3"],
    ]
    .iter()
    .map(|args| stdout(&env, args))
    .collect();
    child.kill().unwrap();
    child.wait().unwrap();
    for text in &outputs {
        let said = text
            .lines()
            .filter(|l| l.contains("running now") && l.contains("live.csv"))
            .count();
        assert_eq!(said, 1, "{text}");
        assert!(text.contains("committed so far"), "{text}");
    }
    let text = stdout(&env, &["scores"]);
    assert!(!text.contains("running now"), "{text}");
}

#[test]
fn flow_prints_the_query_answer_with_names_and_formatted_counts() {
    let env = demo();
    let (text, raw) = both(&env, &["flow", "--by", "agent"]);
    let direct = hearken_query::flow(
        &store(&env),
        &hearken_query::Scope::all(),
        &hearken_query::FlowRequest {
            by: Some(hearken_query::FlowBy::Agent),
            ..hearken_query::FlowRequest::default()
        },
    )
    .unwrap();
    assert_eq!(raw, serde_json::to_string(&direct).unwrap());
    let v: Value = serde_json::from_str(&raw).unwrap();
    let events = v["events"].as_u64().unwrap();
    assert!(events >= 1000, "{events}");
    assert!(
        text.contains(&format!(
            "{} events in {} cases",
            count(events),
            count(v["cases"].as_u64().unwrap())
        )),
        "{text}"
    );
    let named = v["agents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"].is_string())
        .expect("agents have names");
    let label = format!(
        "{} ({})",
        named["agent"].as_str().unwrap(),
        named["name"].as_str().unwrap()
    );
    assert!(text.contains(&label), "{label} in {text}");
    let group = &v["groups"]["groups"][0];
    if let Some(name) = group["name"].as_str() {
        assert!(
            text.contains(&format!("{} ({name})", group["key"].as_str().unwrap())),
            "{text}"
        );
    }
}

#[test]
fn the_demo_overview_is_the_query_layers_overview() {
    let env = Env::new();
    let out = env.run(&["demo", "--customers", "300", "--months", "2", "--json"]);
    assert!(out.status.success());
    let printed = String::from_utf8(out.stdout).unwrap();
    let direct = hearken_query::overview(&store(&env), &hearken_query::Scope::all()).unwrap();
    assert_eq!(printed.trim_end(), serde_json::to_string(&direct).unwrap());
    let v: Value = serde_json::from_str(&printed).unwrap();
    let kinds: u64 = v["by_kind"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k[1].as_u64().unwrap())
        .sum();
    assert_eq!(kinds, v["signals"].as_u64().unwrap());
    let pareto = stdout(&env, &["pareto", "--by", "kind", "--json"]);
    let p: Value = serde_json::from_str(&pareto).unwrap();
    assert_eq!(p["top"][0]["entity"], v["by_kind"][0][0]);
    assert_eq!(p["top"][0]["contacts"], v["by_kind"][0][1]);
}
