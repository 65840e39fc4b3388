//! Actions and suggestions on a PostgreSQL store: the same commands on an SQLite store and on
//! its copy in PostgreSQL print the same answers (the times of now aside), refuse the same
//! things with the same words, and several processes moving one action at once on PostgreSQL
//! move it once.
//!
//! The server: `HEARKEN_TEST_PG` (see pg.rs).

use serde_json::Value;

use crate::helpers::*;

use crate::pg::pg_db::test_db;

/// Replaces every RFC 3339 time at or after `now` (the moment the script started; the data are
/// older) with "NOW": when a change was recorded differs between two runs by a second or so.
fn mask(v: &mut Value, now: &str) {
    match v {
        Value::String(s)
            if s.len() == now.len()
                && s.as_bytes()[..4].iter().all(u8::is_ascii_digit)
                && s.as_str() >= now =>
        {
            *s = "NOW".into();
        }
        Value::Array(a) => a.iter_mut().for_each(|x| mask(x, now)),
        Value::Object(o) => o.values_mut().for_each(|x| mask(x, now)),
        _ => {}
    }
}

/// `hearken ARGS [--db URL]`: its JSON (masked) when it succeeded, else its one-line message.
fn answer(env: &Env, args: &[&str], db: Option<&str>, now: &str) -> Result<Value, String> {
    let mut cmd = env.cmd();
    cmd.env("USER", "tester").args(args);
    if let Some(db) = db {
        cmd.args(["--db", db]);
    }
    let out = cmd.output().expect("run hearken");
    if out.status.success() {
        let mut v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stdout)));
        mask(&mut v, now);
        Ok(v)
    } else {
        Err(assert_clean_failure(&out))
    }
}

/// `hearken ARGS` in `env`, which must succeed; its output.
fn succeeded(env: &Env, args: &[&str]) -> std::process::Output {
    let out = env.run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Copies `env`'s SQLite store into the empty database `url`.
fn copy_to(env: &Env, url: &str) {
    let file = env.db();
    succeeded(
        env,
        &[
            "store",
            "copy",
            "--from",
            file.to_str().expect("utf-8 path"),
            "--to",
            url,
        ],
    );
}

/// `hearken ARGS` started `n` times at once in `env`'s folder; their outputs once all ended.
fn at_once(env: &Env, n: usize, args: &[&str]) -> Vec<std::process::Output> {
    let children: Vec<_> = (0..n)
        .map(|_| {
            std::process::Command::new(assert_cmd::cargo::cargo_bin("hearken"))
                .current_dir(env.dir.path())
                .env_remove("RUST_LOG")
                .args(args)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn hearken")
        })
        .collect();
    children
        .into_iter()
        .map(|c| c.wait_with_output().expect("wait"))
        .collect()
}

#[test]
fn actions_and_suggestions_answer_the_same_on_postgres() {
    let Some(db) = test_db("cli_actions") else {
        return;
    };
    let env = Env::new();
    succeeded(&env, &["demo", "--customers", "2000", "--months", "6"]);
    let url = db.url.as_str();
    copy_to(&env, url);
    let truth: Value = serde_json::from_str(
        &std::fs::read_to_string(env.path("hearken-demo/truth.json")).expect("truth.json"),
    )
    .expect("json");
    let imp = truth["effects"]
        .as_array()
        .expect("effects")
        .iter()
        .find(|e| e["kind"] == "improvement")
        .expect("the demo injects an improvement")
        .clone();
    let topic = imp["topic"].as_str().expect("topic");
    let done = imp["at"].as_str().expect("at");
    let suggestions = answer(&env, &["suggestions", "--json"], None, "9999").expect("listed");
    let ids: Vec<String> = suggestions["suggestions"]
        .as_array()
        .expect("suggestions")
        .iter()
        .take(2)
        .map(|s| s["id"].as_str().expect("id").to_string())
        .collect();
    assert_eq!(ids.len(), 2, "the demo has employees' suggestions");
    // A signal of a customer, to be told when the action is done.
    let signals = answer(
        &env,
        &["signals", "--topic", topic, "--limit", "3", "--json"],
        None,
        "9999",
    )
    .expect("signals");
    let signal = signals["signals"][0]["id"]
        .as_str()
        .expect("a signal of the topic")
        .to_string();

    // "Now", as the store writes it: everything the script records is at or after it.
    let now = answer(
        &env,
        &[
            "actions", "create", "--title", "clock", "--topic", topic, "--json",
        ],
        None,
        "9999",
    )
    .expect("created")["created_at"]
        .as_str()
        .expect("created_at")
        .to_string();
    let clock = answer(
        &env,
        &[
            "actions", "create", "--title", "clock", "--topic", topic, "--json",
        ],
        Some(url),
        &now,
    )
    .expect("created on postgres");
    assert_eq!(clock["id"], 1, "{clock}");

    let script: Vec<Vec<&str>> = vec![
        vec![
            "actions",
            "create",
            "--title",
            "Fix the cause",
            "--topic",
            topic,
            "--metric",
            "volume",
            "--owner",
            "billing",
            "--created-at",
            "2025-01-01",
            "--signal",
            &signal,
            "--json",
        ],
        vec![
            "actions",
            "update",
            "2",
            "--status",
            "planned",
            "--at",
            "2025-02-01",
            "--json",
        ],
        // Illegal: planned cannot go back to proposed; the allowed moves are listed.
        vec!["actions", "update", "2", "--status", "proposed", "--json"],
        vec![
            "actions",
            "update",
            "2",
            "--status",
            "in_progress",
            "--at",
            "2025-03-01",
            "--json",
        ],
        // A date before the status was reached.
        vec![
            "actions",
            "update",
            "2",
            "--status",
            "done",
            "--at",
            "2025-02-15",
            "--json",
        ],
        vec![
            "actions", "update", "2", "--status", "done", "--at", done, "--json",
        ],
        vec!["actions", "link", "2", "--suggestion", &ids[0], "--json"],
        // Linking what does not exist.
        vec![
            "actions",
            "link",
            "2",
            "--signal",
            "NO-SUCH-SIGNAL",
            "--json",
        ],
        // A customer's signal is no suggestion: nothing of the request is linked.
        vec![
            "actions",
            "link",
            "2",
            "--suggestion",
            &signal,
            "--customer",
            "C000001",
            "--json",
        ],
        vec![
            "actions",
            "update",
            "2",
            "--title",
            "Fix the cause for good",
            "--owner",
            "finance",
            "--json",
        ],
        vec!["actions", "show", "2", "--json"],
        vec!["actions", "show", "99", "--json"],
        vec!["actions", "list", "--json"],
        vec!["actions", "list", "--status", "done", "--json"],
        vec!["actions", "list", "--owner", "finance", "--json"],
        vec!["actions", "list", "--topic", topic, "--json"],
        vec![
            "actions", "effect", "2", "--before", "56", "--after", "56", "--json",
        ],
        vec!["actions", "effect", "1", "--json"],
        vec![
            "suggestions",
            "review",
            &ids[1],
            "--status",
            "declined",
            "--json",
        ],
        vec![
            "suggestions",
            "review",
            &ids[1],
            "--status",
            "declined",
            "--reason",
            "done already",
            "--json",
        ],
        vec![
            "suggestions",
            "act",
            &ids[0],
            "--created-at",
            "2025-02-01",
            "--json",
        ],
        vec!["suggestions", "show", &ids[0], "--json"],
        vec!["suggestions", "show", &ids[1], "--json"],
        vec!["suggestions", "--status", "declined", "--json"],
        vec!["suggestions", "--json"],
        vec!["actions", "show", "3", "--json"],
    ];
    let mut refusals = 0;
    for args in &script {
        let lite = answer(&env, args, None, &now);
        let pg = answer(&env, args, Some(url), &now);
        assert_eq!(pg, lite, "{args:?}");
        refusals += usize::from(lite.is_err());
    }
    // The script's refusals happened (equal answers would prove little otherwise).
    assert_eq!(
        refusals, 7,
        "illegal move, early date, two bad links, action 99, no reason, no metric"
    );
    let shown = answer(&env, &["actions", "show", "2", "--json"], Some(url), &now).expect("shown");
    assert_eq!(shown["status"], "done", "{shown}");
    assert_eq!(
        shown["links"].as_array().expect("links").len(),
        3,
        "{shown}"
    );
    let effect = answer(
        &env,
        &[
            "actions", "effect", "2", "--before", "56", "--after", "56", "--json",
        ],
        Some(url),
        &now,
    )
    .expect("effect");
    assert_eq!(effect["status"]["kind"], "estimated", "{effect}");
}

#[test]
fn processes_moving_one_action_at_once_move_it_once() {
    let Some(db) = test_db("cli_actions_race") else {
        return;
    };
    let env = Env::new();
    succeeded(&env, &["demo", "--customers", "300", "--months", "3"]);
    let url = db.url.as_str();
    copy_to(&env, url);
    succeeded(
        &env,
        &[
            "actions",
            "create",
            "--title",
            "Race",
            "--created-at",
            "2025-01-01",
            "--db",
            url,
        ],
    );

    // Eight processes at once, each trying every move of the way to verified: each move is
    // made by exactly one of them, the others are told it is no longer allowed.
    for step in ["planned", "in_progress", "done", "verified"] {
        let mut moved = 0;
        for out in at_once(
            &env,
            8,
            &["actions", "update", "1", "--status", step, "--db", url],
        ) {
            if out.status.success() {
                moved += 1;
            } else {
                let err = String::from_utf8_lossy(&out.stderr);
                assert!(err.contains("cannot move from"), "{step}: {err}");
            }
        }
        assert_eq!(moved, 1, "{step}");
    }
    let mut cmd = env.cmd();
    let shown = cmd
        .args(["actions", "show", "1", "--json", "--db", url])
        .output()
        .expect("run");
    let v: Value = serde_json::from_slice(&shown.stdout).expect("json");
    let moves: Vec<&str> = v["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter(|h| h["change"] == "status")
        .map(|h| h["to"].as_str().expect("to"))
        .collect();
    assert_eq!(moves, ["planned", "in_progress", "done", "verified"], "{v}");
}

#[test]
fn senders_on_one_postgres_store_deliver_each_notification_once() {
    use crate::outbox::{Answer, Receiver, done_action, verify, webhook_config};
    let Some(db) = test_db("cli_outbox") else {
        return;
    };
    // A done action with three people to tell (two customers, one employee), on PostgreSQL.
    let env = done_action();
    let url = db.url.as_str();
    copy_to(&env, url);
    // The first request fails (500), every later one succeeds.
    let rx = Receiver::start(vec![
        Answer::Status(500, vec![]),
        Answer::Status(200, vec![]),
    ]);
    webhook_config(
        &env,
        &rx.url,
        "timeout_secs = 2\nlease_secs = 4\nretry_base_secs = 1\nretry_max_secs = 1\n",
    );

    // Four senders at once on the database.
    let mut sent = 0;
    for out in at_once(&env, 4, &["outbox", "run", "--wait", "--json", "--db", url]) {
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r: Value = serde_json::from_slice(&out.stdout).expect("json");
        sent += r["sent"].as_u64().expect("sent");
    }
    assert_eq!(sent, 3, "each notification sent by one sender");
    // The receiver: one id per notification, each answered 2xx exactly once.
    let reqs = rx.requests();
    let mut ok_by_id: std::collections::BTreeMap<String, usize> = Default::default();
    for (i, r) in reqs.iter().enumerate() {
        assert_eq!(verify(r)["type"], "action.done");
        *ok_by_id.entry(r.headers["webhook-id"].clone()).or_default() += usize::from(i > 0);
    }
    assert_eq!(ok_by_id.len(), 3, "{ok_by_id:?}");
    assert!(ok_by_id.values().all(|&n| n == 1), "{ok_by_id:?}");
    assert_eq!(reqs.len(), 4, "one failure, three successes");

    // The listing on the database says so, and a new run has nothing to do.
    let listed = env.run(&["outbox", "list", "--json", "--db", url]);
    let rows: Value = serde_json::from_slice(&listed.stdout).expect("json");
    let states: Vec<&str> = rows
        .as_array()
        .expect("rows")
        .iter()
        .flat_map(|n| n["deliveries"].as_array().expect("deliveries"))
        .map(|d| d["state"].as_str().expect("state"))
        .collect();
    assert_eq!(states, ["sent", "sent", "sent"], "{rows}");
    let again = env.run(&["outbox", "run", "--json", "--db", url]);
    let r: Value = serde_json::from_slice(&again.stdout).expect("json");
    assert_eq!(r["attempted"], 0, "{r}");
}

#[test]
fn risk_models_on_postgres_score_as_on_the_file() {
    let Some(db) = test_db("cli_risk") else {
        return;
    };
    let env = Env::new();
    succeeded(&env, &["demo", "--customers", "900", "--months", "4"]);
    let url = db.url.as_str();
    copy_to(&env, url);
    // Before a model is stored, both say so; then one is trained on each store.
    let lite = succeeded(&env, &["risk", "--top", "3"]).stdout;
    assert_eq!(
        succeeded(&env, &["risk", "--top", "3", "--db", url]).stdout,
        lite
    );
    let train = |db: Option<&str>| -> Value {
        let mut args = vec!["risk", "train", "--json"];
        args.extend(db.map(|d| ["--db", d]).into_iter().flatten());
        let mut v: Value = serde_json::from_slice(&succeeded(&env, &args).stdout).expect("json");
        // When it was saved differs by the seconds between the two runs.
        v["model"]["created_at"] = Value::Null;
        v
    };
    let trained = train(None);
    assert_eq!(trained["model"]["version"], 1, "{trained}");
    assert_eq!(train(Some(url)), trained);
    for args in [
        &["risk", "--top", "5", "--json"][..],
        &["risk", "--top", "5"],
        &["risk", "--method", "model", "--top", "5", "--json"],
        &["risk", "matrix", "--json"],
    ] {
        let lite = succeeded(&env, args).stdout;
        let mut on_pg = args.to_vec();
        on_pg.extend(["--db", url]);
        assert_eq!(succeeded(&env, &on_pg).stdout, lite, "{args:?}");
    }
}
