//! Several `hearken serve` processes on one PostgreSQL store (issue 14), each a real process on
//! port 0 against a real PostgreSQL server (`HEARKEN_TEST_PG`, see the store's `pg_db.rs`):
//! clients sending to both at once lose and double nothing (rows sent to both are stored once,
//! a key used at both is stored once and replayed), both answer every analytic identically, and
//! identically to a server on an SQLite copy of the same store; tokens made on the database
//! work at both and a revocation reaches both; a route that needs the embedded store says so.

use std::sync::Arc;

use serde_json::{Value, json};

use crate::helpers::{Env, Resp, Server};

#[path = "../../../hearken-store/tests/pg_db.rs"]
mod pg_db;

const THREADS: usize = 8;
const REQUESTS: usize = 12;

fn signal(id: &str, customer: usize, text: &str) -> Value {
    json!({
        "signal_id": id,
        "at": format!("2024-05-{:02}T10:00:00Z", 1 + customer % 28),
        "channel": if customer.is_multiple_of(2) { "email" } else { "phone" },
        "kind": "complaint",
        "customer_id": format!("C{}", customer % 9),
        "topic": if customer.is_multiple_of(3) { "billing" } else { "delivery" },
        "text": text,
    })
}

fn survey(id: &str, n: usize) -> Value {
    json!({
        "response_id": id,
        "at": format!("2024-05-{:02}T12:00:00Z", 1 + n % 28),
        "customer_id": format!("C{}", n % 9),
        "nps": n % 11,
    })
}

fn post(server: &Server, path: &str, token: &str, key: Option<&str>, body: &Value) -> Resp {
    let mut headers = vec![("content-type", "application/json")];
    if let Some(k) = key {
        headers.push(("idempotency-key", k));
    }
    server.request(
        "POST",
        path,
        Some(token),
        &headers,
        Some(body.to_string().as_bytes()),
    )
}

/// The questions both servers (and the SQLite one) are asked.
const QUESTIONS: &[&str] = &[
    "/api/v1/scores",
    "/api/v1/scores?metric=sentiment",
    "/api/v1/scores?metric=nps&by=segment",
    "/api/v1/pareto",
    "/api/v1/pareto?by=topic",
    "/api/v1/trends",
    "/api/v1/trends?period=week",
    "/api/v1/repeats",
    "/api/v1/issues",
    "/api/v1/quarantine",
    "/api/v1/imports",
    "/api/v1/flow",
    "/api/v1/overview",
    "/api/v1/customers/C1",
    "/api/v1/customers/C1/timeline?limit=3",
];

/// The dashboard's pages asked of every server (HTML).
const PAGES: &[&str] = &[
    "/",
    "/topics",
    "/pareto",
    "/drivers",
    "/flow",
    "/customers",
    "/customers/C1",
    "/signals",
    "/quarantine",
    "/actions",
    "/report",
];

fn answers(server: &Server, token: &str) -> Vec<(String, u16, String)> {
    let mut out: Vec<(String, u16, String)> = QUESTIONS
        .iter()
        .map(|q| {
            let r = server.get(q, Some(token));
            (q.to_string(), r.status, r.text())
        })
        .collect();
    // The dashboard's pages, signed in by the session cookie (the token).
    let cookie = format!("hearken_session={token}");
    for page in PAGES {
        let r = server.request("GET", page, None, &[("cookie", &cookie)], None);
        out.push((page.to_string(), r.status, r.text()));
    }
    let mut status = server.get("/api/v1/status", Some(token)).json();
    // PostgreSQL has no snapshot to be stale; the copy's is built on first need.
    status["snapshot_fresh"] = Value::Null;
    out.push(("/api/v1/status".into(), 200, status.to_string()));
    out
}

/// Asserts two lists of answers are equal, naming the first question answered differently.
fn same(a: &[(String, u16, String)], b: &[(String, u16, String)], who: &str) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert_eq!(x, y, "{} answered {who} differently", x.0);
    }
}

#[test]
fn two_servers_on_one_postgres_store_lose_and_double_nothing() {
    let Some(db) = pg_db::test_db("two_servers") else {
        return;
    };
    let env = Env::postgres(&db.url);
    let servers = Arc::new([env.serve(), env.serve()]);
    let clients: Vec<_> = (0..THREADS)
        .map(|t| {
            let servers = Arc::clone(&servers);
            let token = env.analyst.clone();
            std::thread::spawn(move || {
                let mut stored = 0u64;
                let mut replayed = 0u64;
                for i in 0..REQUESTS {
                    let server = &servers[(t + i) % 2];
                    // Rows only this client sends, and rows every client sends.
                    let mine = json!([
                        signal(&format!("T{t}-{i}-a"), t + i, "the parcel never came"),
                        signal(&format!("T{t}-{i}-b"), t * i, "great help, thank you"),
                    ]);
                    let shared = signal(&format!("S-{i}"), i, "billing is wrong again");
                    // The same request with the same key, at one server or the other.
                    let keyed = survey(&format!("R-{i}"), i);
                    for (path, body, key) in [
                        ("/api/v1/signals", &mine, None),
                        ("/api/v1/signals", &shared, None),
                        ("/api/v1/surveys", &keyed, Some(format!("survey-{i}"))),
                    ] {
                        let r = post(server, path, &token, key.as_deref(), body);
                        assert_eq!(r.status, 200, "{}", r.text());
                        let v = r.json();
                        assert_eq!(
                            v["read"],
                            v["stored"].as_u64().unwrap_or(0)
                                + v["duplicates"].as_u64().unwrap_or(0)
                                + v["quarantined"].as_u64().unwrap_or(0)
                                + v["skipped"].as_u64().unwrap_or(0),
                            "{v}"
                        );
                        if v["replayed"] == true {
                            replayed += 1;
                        } else {
                            stored += v["stored"].as_u64().unwrap_or(0);
                        }
                    }
                }
                (stored, replayed)
            })
        })
        .collect();
    let (mut stored, mut replayed) = (0, 0);
    for c in clients {
        let (s, r) = c.join().expect("a client");
        stored += s;
        replayed += r;
    }
    let signals = (THREADS * REQUESTS * 2 + REQUESTS) as u64;
    let surveys = REQUESTS as u64;
    assert_eq!(stored, signals + surveys, "each row stored once");
    assert_eq!(replayed, ((THREADS - 1) * REQUESTS) as u64);

    // Both servers see every row, and answer every question alike.
    for s in servers.iter() {
        let v = s.get("/api/v1/status", Some(&env.viewer)).json();
        assert_eq!(
            (v["signals"].as_u64(), v["surveys"].as_u64()),
            (Some(signals), Some(surveys)),
            "{v}"
        );
    }
    let first = answers(&servers[0], &env.viewer);
    same(
        &first,
        &answers(&servers[1], &env.viewer),
        "the second server",
    );
    for (q, status, body) in &first {
        // The surveys sent here rate no aspects: the drivers page says so (422), alike everywhere.
        let wanted = if q == "/drivers" { 422 } else { 200 };
        assert_eq!(*status, wanted, "{q}: {body}");
    }
    for s in servers.iter() {
        s.get("/api/v1/customers/C404", Some(&env.viewer))
            .assert_error(404, "not_found");
    }

    // The same answers from a server on an SQLite copy of the store.
    let copy = env.dir.path().join("copy.db");
    env.run(&[
        "store",
        "copy",
        "--from",
        &db.url,
        "--to",
        copy.to_str().expect("utf-8"),
    ]);
    let lite_server = Env::existing(copy.to_str().expect("utf-8")).serve();
    same(
        &first,
        &answers(&lite_server, &env.viewer),
        "a server on an SQLite copy",
    );

    // An action made at one server is moved at the other; both show the same action. Moves
    // sent to both servers at once are made once: the loser is told the move is not allowed.
    let r = servers[0].post_json(
        "/api/v1/actions",
        Some(&env.analyst),
        r#"{"title":"Fix billing","topics":["billing"],"metric":"volume","created_at":"2025-01-01"}"#,
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert_eq!(r.json()["created_by"], "analyst1");
    for step in ["planned", "in_progress", "done"] {
        let body = format!(r#"{{"status":"{step}"}}"#);
        let racers: Vec<_> = (0..2)
            .map(|k| {
                let servers = Arc::clone(&servers);
                let (token, body) = (env.analyst.clone(), body.clone());
                std::thread::spawn(move || {
                    servers[k].request(
                        "PATCH",
                        "/api/v1/actions/1",
                        Some(&token),
                        &[("content-type", "application/json")],
                        Some(body.as_bytes()),
                    )
                })
            })
            .collect();
        let statuses: Vec<u16> = racers
            .into_iter()
            .map(|t| t.join().expect("a racer").status)
            .collect();
        let mut sorted = statuses.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, [200, 409], "{step}: {statuses:?}");
    }
    let shown: Vec<String> = servers
        .iter()
        .map(|s| s.get("/api/v1/actions/1", Some(&env.viewer)).text())
        .collect();
    assert_eq!(shown[0], shown[1]);
    let v: Value = serde_json::from_str(&shown[0]).expect("json");
    assert_eq!(v["status"], "done", "{v}");
    let moves = v["history"]
        .as_array()
        .expect("history")
        .iter()
        .filter(|h| h["change"] == "status")
        .count();
    assert_eq!(moves, 3, "{v}");

    // The outbox answers from the database (the action links no one to tell).
    let r = servers[1].get("/api/v1/outbox", Some(&env.analyst));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["counts"]["notifications"], 0, "{}", r.text());

    // What needs the embedded store says so.
    servers[0]
        .get("/api/v1/topics", Some(&env.viewer))
        .assert_error(501, "not_implemented");
    // Risk answers on the database (no customer has churned here: scored by the rules).
    let r = servers[1].get("/api/v1/risk", Some(&env.viewer));
    assert_eq!(r.status, 200, "{}", r.text());

    // A token revoked on the database is refused by both servers.
    env.run(&["tokens", "revoke", "viewer1"]);
    for s in servers.iter() {
        s.get("/api/v1/status", Some(&env.viewer))
            .assert_error(401, "revoked_token");
    }
}

/// Ends every connection the servers hold to the database, as a PostgreSQL restart does.
fn terminate_connections(url: &str) {
    let mut c = postgres::Client::connect(url, postgres::NoTls).expect("connect");
    c.batch_execute(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .expect("terminate the servers' connections");
}

#[test]
fn a_lost_connection_is_invisible_to_readers_and_a_retried_write_completes() {
    let Some(db) = pg_db::test_db("lost_connection") else {
        return;
    };
    let env = Env::postgres(&db.url);
    let server = env.serve();
    let body = json!([
        signal("L-1", 1, "where is my refund"),
        signal("L-2", 2, "thanks")
    ]);
    let first = post(
        &server,
        "/api/v1/signals",
        &env.analyst,
        Some("lost-1"),
        &body,
    );
    assert_eq!(first.status, 200, "{}", first.text());
    assert_eq!(
        server
            .get("/api/v1/scores?metric=sentiment", Some(&env.viewer))
            .status,
        200
    );

    terminate_connections(&db.url);
    // Reads (the token's check, the analytics) run again on a new connection.
    let r = server.get("/api/v1/status", Some(&env.viewer));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["signals"], 2);

    terminate_connections(&db.url);
    // A write on a lost connection is refused as not committed, never half-stored; its retry
    // with the same key completes.
    let more = json!([
        signal("L-3", 3, "the app crashes"),
        signal("L-4", 4, "ok now")
    ]);
    let mut answers = Vec::new();
    for _ in 0..3 {
        let r = post(
            &server,
            "/api/v1/signals",
            &env.analyst,
            Some("lost-2"),
            &more,
        );
        let done = r.status == 200;
        answers.push((r.status, r.text()));
        if done {
            break;
        }
        r.assert_error(503, "unavailable");
    }
    let (status, last) = answers.last().expect("an answer");
    assert_eq!(*status, 200, "{answers:?}");
    let v: Value = serde_json::from_str(last).expect("json");
    assert_eq!(v["stored"], 2, "{answers:?}");
    let r = server.get("/api/v1/status", Some(&env.viewer));
    assert_eq!(r.json()["signals"], 4, "{}", r.text());
    assert!(
        !server.log_text().contains("panicked"),
        "{}",
        server.log_text()
    );
}

#[test]
fn a_webhook_delivery_sent_to_two_servers_on_postgres_is_stored_once() {
    use crate::webhooks::{add, now, refs, standard_headers};
    let Some(db) = pg_db::test_db("webhooks") else {
        return;
    };
    let env = Env::postgres(&db.url);
    // The hook is added with the CLI on the database; both servers verify with its secret.
    let (ok, out, err) = add(
        &env,
        &["tickets", "--format", "standard", "--kind", "signals"],
        None,
    );
    assert!(ok, "{err}");
    let secret = out.lines().next().expect("secret").trim().to_string();
    let (ok, _, err) = add(
        &env,
        &["tickets", "--format", "standard", "--kind", "signals"],
        None,
    );
    assert!(!ok && err.contains("already exists"), "{err}");
    let servers = [env.serve(), env.serve()];
    let body = r#"{"signal_id":"W1","at":"2024-05-01T10:00:00Z","channel":"email","kind":"complaint","text":"the router is broken"}"#;
    let h = standard_headers(&secret, "msg_pg_1", now(), body);
    let mut all = vec![("content-type", "application/json")];
    all.extend(refs(&h));
    // The same delivery at one server, then at the other, then at both again: the second
    // server knows the first stored it (the id is the ingestion's idempotency key).
    let mut stored = 0;
    for k in [0, 1, 0, 1] {
        let r = servers[k].request("POST", "/hooks/tickets", None, &all, Some(body.as_bytes()));
        assert_eq!(r.status, 200, "{}", r.text());
        let v = r.json();
        if v["status"] == "stored" {
            stored += v["result"]["stored"].as_u64().unwrap_or(0);
        }
    }
    assert_eq!(stored, 1, "the delivery's row is stored once");
    for s in &servers {
        let v = s.get("/api/v1/status", Some(&env.viewer)).json();
        assert_eq!(v["signals"], 1, "{v}");
    }
    // Listed by the API on the database (admin), without its secret.
    let r = servers[1].get("/api/v1/webhooks", Some(&env.admin));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().contains("tickets") && !r.text().contains(&secret));
}
