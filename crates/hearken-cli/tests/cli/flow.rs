//! `hearken flow` answers only the question it heard: every filter and grouping applies (from
//! the store and from a log file) or is refused with the reason; escalations and closing
//! activities are recognised by default and the rule is printed; the flow config is read with
//! `--flow-config`; event logs import as case events, told by their content.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::helpers::*;

fn logs(file: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../hearken-eventlog/tests/data"
    ))
    .join(file)
}

fn ok_json(env: &Env, args: &[&str]) -> Value {
    let out = env.run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn refused(env: &Env, args: &[&str]) -> String {
    assert_clean_failure(&env.run(args))
}

/// A small demo organisation in the store; its files stay in `hearken-demo/`.
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

/// The demo's CSV rows as fields, header left out (RFC 4180: quoted fields may hold commas,
/// quotes doubled and line breaks).
fn rows(env: &Env, file: &str) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(env.path("hearken-demo").join(file)).unwrap();
    let (mut rows, mut row, mut field) = (Vec::new(), Vec::new(), String::new());
    let (mut quoted, mut chars) = (false, text.chars().peekable());
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (_, '"') => quoted = !quoted,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, '\r') => {}
            (_, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows.remove(0);
    rows
}

/// What the demo's files say about each case, computed here without the store: start time,
/// events, last team, first agent, customer and product (earliest signal of the case), the
/// customer's segment, and whether an `escalated` event occurs.
#[derive(Debug, Default, Clone)]
struct Case {
    start: String,
    events: u64,
    team: Option<String>,
    agent: Option<String>,
    customer: Option<String>,
    product: Option<String>,
    channel: Option<String>,
    segment: Option<String>,
    escalated: bool,
}

fn cases_from_files(env: &Env) -> BTreeMap<String, Case> {
    let mut cases: BTreeMap<String, Case> = BTreeMap::new();
    // event_id,case_id,at,activity,agent_id,team,text (file order = time order per case)
    for r in rows(env, "case_events.csv") {
        let c = cases.entry(r[1].clone()).or_default();
        if c.events == 0 {
            c.start = r[2].clone();
        }
        c.events += 1;
        if !r[5].is_empty() {
            c.team = Some(r[5].clone());
        }
        if c.agent.is_none() && !r[4].is_empty() {
            c.agent = Some(r[4].clone());
        }
        c.escalated |= r[3] == "escalated";
    }
    // signal_id,at,channel,kind,source,customer_id,product_id,case_id,...
    let mut signals = rows(env, "signals.csv");
    signals.sort_by(|a, b| a[1].cmp(&b[1]));
    for r in signals {
        let Some(c) = cases.get_mut(&r[7]) else {
            continue;
        };
        let set = |slot: &mut Option<String>, v: &str| {
            if slot.is_none() && !v.is_empty() {
                *slot = Some(v.to_string());
            }
        };
        set(&mut c.customer, &r[5]);
        set(&mut c.product, &r[6]);
        set(&mut c.channel, &r[2]);
    }
    let segment: BTreeMap<String, String> = rows(env, "customers.csv")
        .into_iter()
        .map(|r| (r[0].clone(), r[2].clone()))
        .collect();
    for c in cases.values_mut() {
        c.segment = c.customer.as_ref().and_then(|k| segment.get(k)).cloned();
    }
    cases
}

fn group_keys(v: &Value) -> Vec<String> {
    v["groups"]["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["key"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn every_filter_and_grouping_applies_to_the_store() {
    let env = demo();
    let truth = cases_from_files(&env);
    let all = ok_json(&env, &["flow", "--json"]);
    assert_eq!(n(&all, "cases"), truth.len() as u64);

    type Pick = fn(&Case) -> Option<String>;
    let dims: [(&str, Pick); 6] = [
        ("team", |c| c.team.clone()),
        ("agent", |c| c.agent.clone()),
        ("customer", |c| c.customer.clone()),
        ("product", |c| c.product.clone()),
        ("segment", |c| c.segment.clone()),
        ("channel", |c| c.channel.clone()),
    ];
    for (dim, pick) in dims {
        // Grouping: the groups partition the cases, with the case counts the files give.
        let by = ok_json(&env, &["flow", "--by", dim, "--json"]);
        let mut want: BTreeMap<String, u64> = BTreeMap::new();
        for c in truth.values() {
            *want
                .entry(pick(c).unwrap_or_else(|| "(none)".into()))
                .or_default() += 1;
        }
        let got: BTreeMap<String, u64> = by["groups"]["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| {
                (
                    g["key"].as_str().unwrap().to_string(),
                    n(&g["report"], "cases"),
                )
            })
            .collect();
        if dim == "customer" {
            // Hundreds of customers: the groups are folded past 1,000 only, so all are here.
            assert_eq!(got.values().sum::<u64>(), truth.len() as u64);
        }
        assert_eq!(got, want, "--by {dim}");
        assert!(want.len() > 1, "--by {dim} has more than one group");
        // Filtering: the cases of one value, exactly the group's.
        let (value, count) = want.iter().find(|(k, _)| *k != "(none)").unwrap();
        let flag = format!("--{dim}");
        let one = ok_json(&env, &["flow", &flag, value, "--json"]);
        assert_eq!(n(&one, "cases"), *count, "{flag} {value}");
        assert!(n(&one, "cases") < n(&all, "cases"), "{flag} narrows");
        let sel = &one["selection"];
        assert_eq!(n(sel, "cases_selected"), *count);
        assert_eq!(n(sel, "cases_in_log"), truth.len() as u64);
        assert_eq!(sel["filters"][0]["dimension"], dim);
        // A value no case has is refused, listing the values cases have.
        let e = refused(&env, &["flow", &flag, "nosuch"]);
        assert!(
            e.contains(&format!("{flag} nosuch")) && e.contains(value.as_str()),
            "{e}"
        );
    }
    let e = refused(&env, &["flow", "--segment", "nosuch"]);
    assert!(e.contains("consumer") && e.contains("smb"), "{e}");

    // Periods: by the month the case started.
    let months = ok_json(&env, &["flow", "--by", "month", "--json"]);
    let mut want: BTreeMap<String, u64> = BTreeMap::new();
    for c in truth.values() {
        *want.entry(c.start[..7].to_string()).or_default() += 1;
    }
    assert_eq!(
        group_keys(&months),
        want.keys().cloned().collect::<Vec<_>>()
    );

    // A window: the cases that started in it, with all their events.
    let (from, to) = ("2025-02-01", "2025-03-01");
    let inside: Vec<&Case> = truth
        .values()
        .filter(|c| c.start.as_str() >= from && c.start.as_str() < to)
        .collect();
    let w = ok_json(&env, &["flow", "--from", from, "--to", to, "--json"]);
    assert_eq!(n(&w, "cases"), inside.len() as u64);
    assert_eq!(
        n(&w, "events"),
        inside.iter().map(|c| c.events).sum::<u64>()
    );
    assert!(
        w["selection"]["window"]["meaning"]
            .as_str()
            .unwrap()
            .contains("started")
    );
    let text = env.run(&["flow", "--from", from, "--to", to]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.starts_with(&format!(
            "selection: {} of {} cases; started from 2025-02-01",
            inside.len(),
            truth.len()
        )),
        "{text}"
    );
    let e = refused(&env, &["flow", "--from", to, "--to", from]);
    assert!(e.contains("--from must be before --to"), "{e}");
}

#[test]
fn escalations_are_recognised_by_default_and_the_rule_is_printed() {
    let env = demo();
    let truth = cases_from_files(&env);
    let escalated = truth.values().filter(|c| c.escalated).count() as u64;
    assert!(escalated > 0);
    let r = ok_json(&env, &["flow", "--json"]);
    assert_eq!(n(&r["escalation"], "escalated_cases"), escalated);
    assert_eq!(r["escalation"]["recognised"], true);
    assert_eq!(r["rules"]["escalation"]["source"], "default");
    assert_eq!(
        r["rules"]["escalation"]["matched"],
        serde_json::json!(["escalated"])
    );
    assert_eq!(
        r["rules"]["closing"]["matched"],
        serde_json::json!(["closed", "resolved"])
    );
    assert!(r["open_cases"].is_u64());
    let out = env.run(&["flow"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("escalation activities: escalated (default rule")
            && text.contains("closing activities: closed, resolved (default rule")
            && text.contains(&format!("in {escalated} cases")),
        "{text}"
    );
    // Names given replace the rule.
    let r = ok_json(&env, &["flow", "--escalation", "reopened", "--json"]);
    assert_eq!(r["rules"]["escalation"]["source"], "configured");
    assert_eq!(
        r["rules"]["escalation"]["matched"],
        serde_json::json!(["reopened"])
    );
    assert_ne!(n(&r["escalation"], "escalated_cases"), escalated);
}

/// The README's flow configuration, as printed there, read with `--flow-config`.
#[test]
fn the_readmes_flow_config_works() {
    let env = demo();
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md")).unwrap();
    let section = readme
        .split("### Case-flow configuration")
        .nth(1)
        .expect("README has a Case-flow configuration section");
    let toml = section
        .split("```toml\n")
        .nth(1)
        .and_then(|s| s.split("```").next())
        .expect("a toml block in the section");
    assert!(
        section.contains("hearken flow --flow-config flow.toml"),
        "the README shows the flag"
    );
    let path = env.write("flow.toml", toml);
    let r = ok_json(
        &env,
        &["flow", "--flow-config", path.to_str().unwrap(), "--json"],
    );
    assert_eq!(r["rules"]["escalation"]["source"], "configured");
    assert_eq!(
        r["rules"]["escalation"]["matched"],
        serde_json::json!(["escalated"])
    );
    let stages: BTreeSet<&str> = r["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stage"].as_str().unwrap())
        .collect();
    assert!(
        stages.contains("intake") && !stages.contains("new"),
        "{stages:?}"
    );
    // Flags add to the file's names.
    let r = ok_json(
        &env,
        &[
            "flow",
            "--flow-config",
            path.to_str().unwrap(),
            "--escalation",
            "reopened",
            "--json",
        ],
    );
    assert_eq!(
        r["rules"]["escalation"]["matched"],
        serde_json::json!(["escalated", "reopened"])
    );
    // A file that is not a flow config says what it takes.
    let bad = env.write("bad.toml", "escalations = [\"x\"]\n");
    let e = refused(&env, &["flow", "--flow-config", bad.to_str().unwrap()]);
    assert!(e.contains("lifecycle, escalation, closing"), "{e}");
}

#[test]
fn log_files_answer_or_refuse_every_filter_and_grouping() {
    let env = Env::new();
    let helpdesk = logs("helpdesk.xes.gz");
    let receipt = logs("receipt.xes.gz");
    let (h, r) = (helpdesk.to_str().unwrap(), receipt.to_str().unwrap());
    // What the log does not have is refused, naming what it has.
    let e = refused(&env, &["flow", h, "--segment", "smb"]);
    assert!(
        e.contains("--segment smb")
            && e.contains("no segment attribute")
            && e.contains("customer, product"),
        "{e}"
    );
    let e = refused(&env, &["flow", h, "--by", "team"]);
    assert!(e.contains("--by team") && e.contains("names a team"), "{e}");
    let e = refused(&env, &["flow", r, "--by", "segment"]);
    assert!(e.contains("channel") && e.contains("department"), "{e}");
    let e = refused(&env, &["flow", r, "--channel", "Fax"]);
    assert!(e.contains("Desk") && e.contains("Internet"), "{e}");
    // What it has works: trace attributes, teams, first owners, periods, windows.
    for by in ["channel", "team", "agent", "quarter"] {
        let v = ok_json(&env, &["flow", r, "--by", by, "--json"]);
        assert!(group_keys(&v).len() > 1, "--by {by}");
    }
    let v = ok_json(&env, &["flow", r, "--by-attribute", "department", "--json"]);
    assert_eq!(group_keys(&v), ["Customer contact", "Experts", "General"]);
    let v = ok_json(&env, &["flow", r, "--channel", "Desk", "--json"]);
    assert_eq!(
        n(&v, "cases"),
        109,
        "pandas: 109 receipt cases came in by Desk"
    );
    let v = ok_json(
        &env,
        &[
            "flow",
            h,
            "--product",
            "Value 1",
            "--from",
            "2012-01-01",
            "--json",
        ],
    );
    assert!(n(&v, "cases") > 0 && n(&v, "cases") < 1694);
    let all = ok_json(&env, &["flow", h, "--json"]);
    let late = ok_json(&env, &["flow", h, "--from", "2013-01-01", "--json"]);
    assert!(n(&late, "cases") < n(&all, "cases"));
}

#[test]
fn flow_help_offers_the_groupings_it_accepts() {
    let env = Env::new();
    let out = env.run(&["flow", "--help"]);
    let help = String::from_utf8_lossy(&out.stdout);
    for by in [
        "team", "agent", "customer", "product", "segment", "channel", "day", "week", "month",
        "quarter", "year",
    ] {
        assert!(help.contains(by), "{by} in --help");
        let v = env.run(&[
            "flow",
            &logs("receipt.xes.gz").to_string_lossy(),
            "--by",
            by,
        ]);
        // Accepted by the parser: either figures or a refusal with a reason, never a usage error.
        assert_ne!(v.status.code(), Some(2), "--by {by}");
    }
    assert!(help.contains("--flow-config"));
}

fn copy(env: &Env, from: &Path, name: &str) -> PathBuf {
    env.write(name, std::fs::read(from).unwrap())
}

#[test]
fn event_logs_import_as_case_events_told_by_their_content() {
    let env = Env::new();
    // An XES log under a name that says nothing.
    let file = copy(&env, &logs("helpdesk.xes.gz"), "export.data");
    let r = env.import(&file, "case-events", &[]);
    assert_eq!((n(&r, "read"), n(&r, "stored")), (21_348, 21_348), "{r}");
    let again = env.import(&file, "case-events", &[]);
    assert_eq!(n(&again, "duplicates"), 21_348, "{again}");
    // From the store, the same figures as from the file (whole-second times in both).
    let from_store = ok_json(&env, &["flow", "--json"]);
    let from_file = ok_json(&env, &["flow", file.to_str().unwrap(), "--json"]);
    for k in [
        "events",
        "cases",
        "dfg_total",
        "dfg_edges",
        "transfers_total",
        "first_owner_resolved",
        "median_case_duration_hours",
        "loops_total",
    ] {
        assert_eq!(from_store[k], from_file[k], "{k}");
    }
    // The case attributes came along: grouping by product answers from the store as from the file.
    let a = ok_json(&env, &["flow", "--by", "product", "--json"]);
    let b = ok_json(
        &env,
        &["flow", file.to_str().unwrap(), "--by", "product", "--json"],
    );
    assert_eq!(group_keys(&a), group_keys(&b));
    assert_eq!(a["groups"], b["groups"]);

    // A Zendesk export named .txt.
    let z = copy(&env, &logs("zendesk_ticket_events.json"), "tickets.txt");
    let r = env.import(&z, "case-events", &[]);
    assert_eq!((n(&r, "stored"), n(&r, "quarantined")), (8, 0), "{r}");

    // An event without a timestamp is quarantined at its line; the rest is stored.
    let xml = std::fs::read_to_string(logs("running-example.xes")).unwrap();
    let first_event = xml.find("<event>").unwrap();
    let ts = first_event
        + xml[first_event..]
            .find("<date key=\"time:timestamp\"")
            .unwrap();
    let end = ts + xml[ts..].find("/>").unwrap() + 2;
    let broken = format!("{}{}", &xml[..ts], &xml[end..]);
    let line = broken[..first_event].matches('\n').count() as u64 + 1;
    let p = env.write("broken.xes", &broken);
    let r = env.import(&p, "case-events", &[]);
    assert_eq!((n(&r, "stored"), n(&r, "quarantined")), (41, 1), "{r}");
    let q = env.quarantine();
    let entry = q
        .iter()
        .find(|e| e["file"].as_str().unwrap().ends_with("broken.xes"))
        .unwrap();
    assert_eq!(entry["line"].as_u64(), Some(line), "{entry}");
    assert!(
        entry["reason"].as_str().unwrap().contains("time:timestamp"),
        "{entry}"
    );
    // A mapping does not apply to an event log: said, not ignored.
    let m = env.write("m.toml", "[columns]\nat = \"when\"\n");
    let out = env.run(&[
        "import",
        p.to_str().unwrap(),
        "--kind",
        "case-events",
        "--mapping",
        m.to_str().unwrap(),
    ]);
    let e = assert_clean_failure(&out);
    assert!(e.contains("event log") && e.contains("--mapping"), "{e}");
}

#[test]
fn case_event_csvs_carry_customer_and_product() {
    let env = Env::new();
    let c = env.write(
        "customers.csv",
        "customer_id,segment\nC1,smb\nC2,enterprise\n",
    );
    env.import(&c, "customers", &[]);
    let e = env.write(
        "events.csv",
        "case_id,at,activity,agent_id,team,customer_id,product_id\n\
         K1,2024-01-01T10:00:00Z,new,A1,L1,C1,P1\n\
         K1,2024-01-01T12:00:00Z,closed,A1,L1,C1,P1\n\
         K2,2024-01-02T10:00:00Z,new,A2,L2,C2,P2\n\
         K2,2024-01-03T10:00:00Z,escalated,A3,L2,C2,P2\n\
         K3,2024-01-04T10:00:00Z,new,A2,L1,,\n",
    );
    let r = env.import(&e, "case-events", &[]);
    assert_eq!(n(&r, "stored"), 5, "{r}");
    let v = ok_json(&env, &["flow", "--by", "segment", "--json"]);
    assert_eq!(group_keys(&v), ["(none)", "enterprise", "smb"]);
    let v = ok_json(&env, &["flow", "--product", "P2", "--json"]);
    assert_eq!(
        (n(&v, "cases"), n(&v["escalation"], "escalated_cases")),
        (1, 1)
    );
    let v = ok_json(&env, &["flow", "--segment", "smb", "--json"]);
    assert_eq!(n(&v, "cases"), 1);
    assert_eq!(v["open_cases"], 0);
    // Re-importing the file stores nothing new (the new columns are part of the identity).
    let again = env.import(&e, "case-events", &[]);
    assert_eq!(n(&again, "duplicates"), 5, "{again}");
}
