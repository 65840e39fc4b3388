//! Live ingestion against the real server: `POST /api/v1/signals`, `/surveys`, `/case-events`
//! store rows as `hearken import` stores them, list every rejected row, answer only after the
//! commit, make a retry with the same `Idempotency-Key` a no-op, and refuse bad input with
//! stable codes, storing nothing.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Value, json};

use crate::helpers::{Env, Resp, Server};

fn post(server: &Server, path: &str, token: &str, key: Option<&str>, body: &str) -> Resp {
    post_as(server, path, token, key, "application/json", body)
}

fn post_as(
    server: &Server,
    path: &str,
    token: &str,
    key: Option<&str>,
    content_type: &str,
    body: &str,
) -> Resp {
    let mut headers = vec![("content-type", content_type)];
    if let Some(k) = key {
        headers.push(("idempotency-key", k));
    }
    server.request("POST", path, Some(token), &headers, Some(body.as_bytes()))
}

fn status(env: &Env) -> Value {
    serde_json::from_str(&env.run(&["status", "--json"])).expect("status --json")
}

fn signal(id: &str, text: &str) -> Value {
    json!({
        "signal_id": id,
        "at": "2024-05-01T10:00:00Z",
        "channel": "email",
        "kind": "complaint",
        "customer_id": "C1",
        "text": text,
    })
}

const TEXTS: &[&str] = &[
    "I love the new app, great job!",
    "The outage is terrible and nobody answers.",
    "Je voudrais annuler mon abonnement, s'il vous plaît.",
    "Billing is fine I guess",
    "WORST. SUPPORT. EVER!!!",
];

#[test]
fn live_rows_are_stored_as_a_file_import_stores_them_and_rejected_rows_are_listed() {
    let env = Env::new();
    // The same texts through both doors: a JSON Lines file with `hearken import`, and a request.
    let file: String = TEXTS
        .iter()
        .enumerate()
        .map(|(i, t)| format!("{}\n", signal(&format!("F{i}"), t)))
        .collect();
    let path = env.write("signals.jsonl", &file);
    env.run(&[
        "import",
        "--kind",
        "signals",
        path.to_str().expect("utf-8 path"),
    ]);
    let server = env.serve();

    let mut rows: Vec<Value> = TEXTS
        .iter()
        .enumerate()
        .map(|(i, t)| signal(&format!("L{i}"), t))
        .collect();
    // Two rows the file import would quarantine too: a channel outside the set, a missing time.
    let mut bad = signal("L-bad-channel", "hello");
    bad["channel"] = json!("pigeon");
    rows.insert(2, bad);
    let mut no_time = signal("L-no-time", "hello");
    no_time.as_object_mut().expect("object").remove("at");
    rows.push(no_time);
    let r = post(
        &server,
        "/api/v1/signals",
        &env.analyst,
        None,
        &Value::Array(rows).to_string(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["read"], 7, "{v}");
    assert_eq!(v["stored"], 5, "{v}");
    assert_eq!(v["quarantined"], 2, "{v}");
    assert_eq!(v["replayed"], false);
    let rejected = v["rejected"].as_array().expect("rejected");
    assert_eq!(rejected.len(), 2, "{v}");
    assert_eq!(rejected[0]["index"], 2);
    assert_eq!(rejected[0]["field"], "channel");
    assert_eq!(rejected[0]["value"], "pigeon");
    assert!(
        rejected[0]["reason"]
            .as_str()
            .is_some_and(|r| !r.is_empty())
    );
    assert_eq!(rejected[1]["index"], 6);
    assert_eq!(rejected[1]["field"], "at");

    // The rejected rows are in the quarantine, under the import the answer names.
    let q = server.get(
        &format!("/api/v1/quarantine?import={}", v["import_id"]),
        Some(&env.viewer),
    );
    assert_eq!(q.status, 200, "{}", q.text());
    assert!(q.text().contains("pigeon"), "{}", q.text());

    // Every live row got what the imported row with the same text got.
    let list = server.get("/api/v1/signals?limit=100", Some(&env.viewer));
    assert_eq!(list.status, 200, "{}", list.text());
    let by_id: BTreeMap<String, Value> = list.json()["signals"]
        .as_array()
        .expect("signals")
        .iter()
        .map(|s| (s["id"].as_str().expect("id").to_string(), s.clone()))
        .collect();
    assert_eq!(by_id.len(), 10, "{by_id:?}");
    for i in 0..TEXTS.len() {
        let (f, l) = (&by_id[&format!("F{i}")], &by_id[&format!("L{i}")]);
        for field in [
            "text",
            "sentiment",
            "language",
            "channel",
            "kind",
            "customer_id",
            "at",
            "topic",
        ] {
            assert_eq!(f[field], l[field], "{field} of text {i}");
        }
    }
    assert!(
        by_id["L0"]["sentiment"].as_f64().is_some_and(|s| s > 0.5),
        "live rows are enriched: {}",
        by_id["L0"]
    );
    let m = server.get("/metrics", Some(&env.viewer)).text();
    assert!(
        m.lines().any(|l| l == "hearken_ingest_rows_total 5")
            || m.contains("hearken_ingest_rows_total 5"),
        "{m}"
    );
}

#[test]
fn one_object_an_array_and_json_lines_are_each_read_for_every_kind() {
    let env = Env::new();
    let server = env.serve();
    let one = signal("O1", "one object").to_string();
    let r = post(&server, "/api/v1/signals", &env.analyst, None, &one);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["stored"], 1);
    let lines = format!(
        "{}\n{}\n",
        signal("J1", "first line"),
        signal("J2", "second line")
    );
    let r = post_as(
        &server,
        "/api/v1/signals",
        &env.analyst,
        None,
        "application/x-ndjson",
        &lines,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["stored"], 2);

    let surveys = json!([
        {"response_id": "R1", "at": "2024-05-01T10:00:00Z", "customer_id": "C1", "nps": 9, "comment": "Great"},
        {"response_id": "R2", "at": "2024-05-01T11:00:00Z", "customer_id": "C2", "nps": 11},
    ]);
    let r = post(
        &server,
        "/api/v1/surveys",
        &env.analyst,
        None,
        &surveys.to_string(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(
        (v["stored"].as_u64(), v["quarantined"].as_u64()),
        (Some(1), Some(1)),
        "{v}"
    );
    assert_eq!(v["rejected"][0]["field"], "nps");
    assert_eq!(v["rejected"][0]["value"], "11");
    assert_eq!(v["kind"], "surveys");

    let events = json!([
        {"event_id": "E1", "case_id": "K1", "at": "2024-05-01T10:00:00Z", "activity": "opened"},
        {"event_id": "E2", "case_id": "K1", "at": "2024-05-01T12:00:00Z", "activity": "closed"},
    ]);
    let r = post(
        &server,
        "/api/v1/case-events",
        &env.analyst,
        None,
        &events.to_string(),
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["stored"], 2, "{}", r.text());

    let s = status(&env);
    assert_eq!(s["signals"], 3, "{s}");
    assert_eq!(s["surveys"], 1, "{s}");
    assert_eq!(s["case_events"], 2, "{s}");
}

#[test]
fn an_idempotency_key_makes_a_retry_a_no_op() {
    let env = Env::new();
    let server = env.serve();
    let body = json!([signal("I1", "first"), signal("I2", "second")]).to_string();
    let first = post(
        &server,
        "/api/v1/signals",
        &env.analyst,
        Some("req-1"),
        &body,
    );
    assert_eq!(first.status, 200, "{}", first.text());
    let first = first.json();
    assert_eq!(first["stored"], 2);
    for _ in 0..3 {
        let again = post(
            &server,
            "/api/v1/signals",
            &env.analyst,
            Some("req-1"),
            &body,
        );
        assert_eq!(again.status, 200, "{}", again.text());
        let again = again.json();
        assert_eq!(again["replayed"], true, "{again}");
        // The first answer, as it was: two stored (not "two duplicates").
        assert_eq!(again["stored"], 2);
        assert_eq!(again["import_id"], first["import_id"]);
    }
    // Without the key, the same rows are duplicates, not stored twice.
    let plain = post(&server, "/api/v1/signals", &env.analyst, None, &body).json();
    assert_eq!(plain["duplicates"], 2, "{plain}");
    // The key with other rows is refused.
    let other = json!([signal("I3", "third")]).to_string();
    post(
        &server,
        "/api/v1/signals",
        &env.analyst,
        Some("req-1"),
        &other,
    )
    .assert_error(422, "idempotency_key_reused");
    // Keys are per token: another analyst's "req-1" is its own.
    let other_analyst = env.create_token("analyst2", "analyst", &[]);
    let r = post(
        &server,
        "/api/v1/signals",
        &other_analyst,
        Some("req-1"),
        &other,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["replayed"], false);
    let long = "k".repeat(256);
    post(
        &server,
        "/api/v1/signals",
        &env.analyst,
        Some(&long),
        &other,
    )
    .assert_error(400, "invalid_idempotency_key");
    assert_eq!(status(&env)["signals"], 3);
}

#[test]
fn bad_input_gets_a_clear_error_with_a_stable_code_and_stores_nothing() {
    let env = Env::new();
    env.write(
        "hearken.toml",
        "[server]\nbody_limit_bytes = 4096\nmax_rows_per_request = 3\n",
    );
    let server = env.serve();
    let ok = signal("B1", "fine").to_string();
    let at = "/api/v1/signals";

    let v = post(&server, at, &env.analyst, None, "{\"signal_id\": \"B1\", ")
        .assert_error(400, "malformed_json");
    assert!(
        v["message"].as_str().is_some_and(|m| m.contains("body")),
        "{v}"
    );
    post(
        &server,
        at,
        &env.analyst,
        None,
        "signal_id,at\nB1,2024-01-01",
    )
    .assert_error(400, "malformed_json");
    post(&server, at, &env.analyst, None, "").assert_error(400, "malformed_json");
    post(&server, at, &env.analyst, None, "[1, 2]").assert_error(400, "malformed_json");
    post_as(&server, at, &env.analyst, None, "text/csv", &ok)
        .assert_error(415, "unsupported_media_type");
    server
        .request("POST", at, Some(&env.analyst), &[], Some(ok.as_bytes()))
        .assert_error(415, "unsupported_media_type");
    let big = json!([signal("B2", &"x".repeat(5000))]).to_string();
    post(&server, at, &env.analyst, None, &big).assert_error(413, "body_too_large");
    let four: Vec<Value> = (0..4).map(|i| signal(&format!("M{i}"), "many")).collect();
    let v = post(
        &server,
        at,
        &env.analyst,
        None,
        &Value::Array(four).to_string(),
    )
    .assert_error(413, "too_many_rows");
    assert!(
        v["message"].as_str().is_some_and(|m| m.contains('3')),
        "{v}"
    );
    let mut unknown = signal("U1", "unknown");
    unknown["colour"] = json!("blue");
    let v = post(&server, at, &env.analyst, None, &unknown.to_string())
        .assert_error(422, "unknown_field");
    assert!(
        v["message"].as_str().is_some_and(|m| m.contains("colour")),
        "{v}"
    );
    assert!(
        v["hint"].as_str().is_some_and(|h| h.contains("signal_id")),
        "{v}"
    );
    // Invalid UTF-8.
    let mut bytes = br#"{"signal_id":"U2","at":"2024-05-01T10:00:00Z","channel":"email","kind":"complaint","text":""#.to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe]);
    bytes.extend_from_slice(b"\"}");
    server
        .request(
            "POST",
            at,
            Some(&env.analyst),
            &[("content-type", "application/json")],
            Some(&bytes),
        )
        .assert_error(400, "malformed_json");
    // Roles: a viewer may not ingest; no token is 401.
    post(&server, at, &env.viewer, None, &ok).assert_error(403, "forbidden");
    server
        .request(
            "POST",
            at,
            None,
            &[("content-type", "application/json")],
            Some(ok.as_bytes()),
        )
        .assert_error(401, "missing_token");
    assert_eq!(status(&env)["signals"], 0, "nothing was stored");
    assert_eq!(status(&env)["quarantined"], 0, "nothing was quarantined");

    // Values out of range are rows, quarantined and listed, not a refused request.
    let mut odd = signal("B3", "<script>alert(1)</script>");
    odd["at"] = json!("2024-13-45");
    let r = post(&server, at, &env.analyst, None, &odd.to_string());
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["rejected"][0]["field"], "at");
    // The server kept serving throughout.
    assert_eq!(server.get("/health", None).status, 200);
}

#[test]
fn concurrent_requests_are_all_committed_and_counted_once() {
    let env = Env::new();
    let server = Arc::new(env.serve());
    let threads: Vec<_> = (0..16)
        .map(|t| {
            let server = Arc::clone(&server);
            let token = env.analyst.clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    let body = signal(&format!("T{t}-{i}"), &format!("thread {t} row {i}"));
                    let r = post(&server, "/api/v1/signals", &token, None, &body.to_string());
                    assert_eq!(r.status, 200, "{}", r.text());
                    assert_eq!(r.json()["stored"], 1, "{}", r.text());
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("a client thread");
    }
    assert_eq!(status(&env)["signals"], 400);
    // One import records the token's signals of the day; its counts reconcile.
    let imports = env.run(&["imports", "--json"]);
    let v: Value = serde_json::from_str(&imports).expect("imports --json");
    let api: Vec<&Value> = v
        .as_array()
        .or_else(|| v["imports"].as_array())
        .expect("a list")
        .iter()
        .filter(|i| i["file"].as_str().is_some_and(|f| f.starts_with("api (")))
        .collect();
    assert_eq!(api.len(), 1, "{imports}");
    assert_eq!(api[0]["read"], 400, "{imports}");
    assert_eq!(api[0]["stored"], 400, "{imports}");
}

/// One request on a fresh connection that tolerates a server that dies: `None` when no answer
/// came back (refused, reset, cut off).
fn try_post(
    addr: std::net::SocketAddr,
    token: &str,
    key: &str,
    body: &str,
) -> Option<(u16, Value)> {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .ok()?;
    let mut req = crate::helpers::head(
        "POST",
        "/api/v1/signals",
        Some(token),
        &[
            ("content-type", "application/json"),
            ("idempotency-key", key),
        ],
        Some(body.len()),
    );
    req.extend_from_slice(body.as_bytes());
    s.write_all(&req).ok()?;
    let mut raw = Vec::new();
    let _ = s.read_to_end(&mut raw);
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&raw[..split]);
    let status: u16 = head.split_whitespace().nth(1)?.parse().ok()?;
    let body: Value = serde_json::from_slice(&raw[split + 4..]).ok()?;
    Some((status, body))
}

/// Requests of 3 rows each, with their idempotency keys: `clients` lists of `per_client`.
fn crash_requests(clients: usize, per_client: usize) -> Vec<Vec<(String, String)>> {
    (0..clients)
        .map(|c| {
            (0..per_client)
                .map(|i| {
                    let rows: Vec<Value> = (0..3)
                        .map(|j| {
                            signal(
                                &format!("K{c}-{i}-{j}"),
                                &format!("client {c} request {i} row {j}"),
                            )
                        })
                        .collect();
                    (format!("key-{c}-{i}"), Value::Array(rows).to_string())
                })
                .collect()
        })
        .collect()
}

/// Sends each client's requests in order until the server stops answering; returns the keys
/// of the requests answered 200 (acknowledged). Any other answer fails the test.
fn send_until_gone(
    addr: std::net::SocketAddr,
    token: &str,
    requests: Vec<Vec<(String, String)>>,
    acked: &Arc<std::sync::atomic::AtomicUsize>,
) -> Vec<String> {
    let threads: Vec<_> = requests
        .into_iter()
        .map(|list| {
            let token = token.to_string();
            let acked = Arc::clone(acked);
            std::thread::spawn(move || {
                let mut mine = Vec::new();
                for (key, body) in list {
                    match try_post(addr, &token, &key, &body) {
                        Some((200, v)) => {
                            assert_eq!(v["stored"], 3, "{v}");
                            mine.push(key);
                            acked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        }
                        // Refused while shutting down: not acknowledged, retried later.
                        Some((503, _)) | None => break,
                        Some((status, v)) => panic!("{key}: {status} {v}"),
                    }
                }
                mine
            })
        })
        .collect();
    threads
        .into_iter()
        .flat_map(|t| t.join().expect("a client thread"))
        .collect()
}

/// Every acknowledged request's rows are in the store (read with a fresh connection, the
/// server stopped).
fn assert_stored(env: &Env, acked: &[String]) {
    let store = hearken_store::Store::open(&env.db()).expect("open the store");
    for key in acked {
        let (c, i) = key
            .trim_start_matches("key-")
            .split_once('-')
            .expect("key-c-i");
        for j in 0..3 {
            let id = format!("K{c}-{i}-{j}");
            let found = hearken_query::signal(&store, &hearken_query::Scope::default(), &id);
            assert!(found.is_ok(), "acknowledged row {id} is lost: {found:?}");
        }
    }
}

#[test]
fn a_server_killed_during_ingestion_loses_no_acknowledged_row_and_doubles_none_after_retry() {
    let env = Env::new();
    let mut server = env.serve();
    let requests = crash_requests(8, 40);
    let acked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let senders = {
        let (addr, token, requests, acked) = (
            server.addr,
            env.analyst.clone(),
            requests.clone(),
            Arc::clone(&acked),
        );
        std::thread::spawn(move || send_until_gone(addr, &token, requests, &acked))
    };
    // Kill it once some requests are acknowledged and others are on their way (a bounded
    // wait; the assertions are on what was acknowledged, not on time).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while acked.load(std::sync::atomic::Ordering::SeqCst) < 40 {
        assert!(std::time::Instant::now() < deadline, "no progress");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    server.child.kill().expect("SIGKILL the server");
    server.child.wait().expect("reap the server");
    let acked_keys = senders.join().expect("the senders");
    assert!(acked_keys.len() >= 40);
    assert!(
        acked_keys.len() < 320,
        "the server was killed before every request was sent"
    );
    assert_stored(&env, &acked_keys);

    // Restart; every client sends every request again with its key.
    let server = env.serve();
    let mut replayed = 0;
    for list in &requests {
        for (key, body) in list {
            let (status, v) = try_post(server.addr, &env.analyst, key, body).expect("an answer");
            assert_eq!(status, 200, "{key}: {v}");
            assert_eq!(v["stored"], 3, "{key}: {v}");
            if acked_keys.contains(key) {
                assert_eq!(
                    v["replayed"], true,
                    "an acknowledged request is not redone: {v}"
                );
            }
            if v["replayed"] == true {
                replayed += 1;
            }
        }
    }
    assert!(replayed >= acked_keys.len());
    // Every row once: 8 clients x 40 requests x 3 rows, no duplicates in the import's counts.
    assert_eq!(status(&env)["signals"], 960);
}

#[test]
fn sigterm_commits_queued_ingestion_and_answers_requests_in_flight() {
    let env = Env::new();
    let server = env.serve();
    let requests = crash_requests(8, 40);
    let acked = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let senders = {
        let (addr, token, requests, acked) = (
            server.addr,
            env.analyst.clone(),
            requests,
            Arc::clone(&acked),
        );
        std::thread::spawn(move || send_until_gone(addr, &token, requests, &acked))
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while acked.load(std::sync::atomic::Ordering::SeqCst) < 40 {
        assert!(std::time::Instant::now() < deadline, "no progress");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    server.sigterm();
    let acked_keys = senders.join().expect("the senders");
    let mut server = server;
    let exit = server.child.wait().expect("wait for the server");
    assert!(exit.success(), "clean exit: {exit:?}");
    assert!(
        server.log_text().contains("writer stopped"),
        "{}",
        server.log_text()
    );
    assert_stored(&env, &acked_keys);
    // Nothing beyond whole requests: the store holds a multiple of 3 rows, at least those
    // acknowledged.
    let n = status(&env)["signals"].as_u64().expect("a count");
    assert!(
        n >= 3 * acked_keys.len() as u64 && n.is_multiple_of(3),
        "{n}"
    );
}

/// The server keeps analytic answers per data generation (ADR 0013): a row acknowledged by a
/// 2xx is counted by the very next answer, with the cache on (the default).
#[test]
fn an_acknowledged_row_is_in_the_next_answer() {
    let env = Env::new();
    let server = env.serve();
    let analyst = env.create_token("analyst", "analyst", &[]);
    let contacts = |server: &Server| {
        let v = server
            .get("/api/v1/pareto?by=channel", Some(&analyst))
            .json();
        v["contacts"].as_u64().expect("contacts") + v["unattributed"].as_u64().expect("count")
    };
    for i in 0..3 {
        let before = contacts(&server);
        // Asked twice: the second answer may come from the cache, and is the same.
        assert_eq!(contacts(&server), before);
        let r = post(
            &server,
            "/api/v1/signals",
            &analyst,
            None,
            &signal(&format!("N{i}"), "The parcel came late").to_string(),
        );
        assert!((200..300).contains(&r.status), "{}", r.text());
        assert_eq!(contacts(&server), before + 1, "after row {i}");
    }
}

/// The value of a metric in `/metrics` text.
fn metric(text: &str, name: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.trim().parse().ok())
        .unwrap_or_else(|| panic!("no metric {name} in:\n{text}"))
}

/// After rows arrive and the data rests (`answer_cache_warm_secs`), the server asks the
/// questions of the previous data again in the background: the next request for one of them is
/// answered from the cache, and the answer counts the new row.
#[test]
fn after_the_data_rests_the_views_asked_before_are_computed_before_anyone_asks() {
    let env = Env::new();
    env.write("hearken.toml", "[server]\nanswer_cache_warm_secs = 1\n");
    let server = env.serve();
    let analyst = env.create_token("analyst", "analyst", &[]);
    let contacts = |server: &Server| {
        let v = server
            .get("/api/v1/pareto?by=channel", Some(&analyst))
            .json();
        v["contacts"].as_u64().expect("contacts") + v["unattributed"].as_u64().expect("count")
    };
    let before = contacts(&server);
    let r = post(
        &server,
        "/api/v1/signals",
        &analyst,
        None,
        &signal("W1", "The parcel came late").to_string(),
    );
    assert!((200..300).contains(&r.status), "{}", r.text());
    // A warming that asked something again (only the data changed by the row has questions
    // of a previous generation to ask); a hang guard, not a timing assertion.
    let warmed_again = |log: &str| {
        log.lines().any(|l| {
            l.contains("answer cache warmed")
                && l.split_whitespace()
                    .find_map(|w| w.strip_prefix("asked="))
                    .and_then(|n| n.parse::<u64>().ok())
                    .is_some_and(|n| n > 0)
        })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !warmed_again(&server.log_text()) {
        assert!(
            std::time::Instant::now() < deadline,
            "no warming after the row:\n{}",
            server.log_text()
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    let m = server.get("/metrics", Some(&env.viewer)).text();
    let (hits, computed) = (
        metric(&m, "hearken_answer_cache_hits_total"),
        metric(&m, "hearken_answer_cache_computed_total"),
    );
    assert!(metric(&m, "hearken_answer_cache_warmed_total") >= 1, "{m}");
    assert_eq!(contacts(&server), before + 1);
    let m = server.get("/metrics", Some(&env.viewer)).text();
    assert_eq!(
        metric(&m, "hearken_answer_cache_computed_total"),
        computed,
        "the answer was ready: nothing computed"
    );
    assert_eq!(metric(&m, "hearken_answer_cache_hits_total"), hits + 1);
}
