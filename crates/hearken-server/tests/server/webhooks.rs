//! Inbound webhooks against the real server: the registry from the CLI and over HTTP, and
//! deliveries to `POST /hooks/{name}` refused without a valid, fresh signature, a replayed
//! delivery id acknowledged with nothing stored, and a verified new delivery's rows stored as
//! live ingestion stores them (Zendesk tickets and ticket events as the Zendesk readers make
//! them).

use std::io::Write;
use std::process::Stdio;
use std::time::{SystemTime, UNIX_EPOCH};

use hearken_server::webhooks::verify::{Scheme, Secret, sign_standard, sign_zendesk};

use crate::helpers::{Env, Resp, Server};

const ZENDESK_SECRET: &str = "dGhpc19zZWNyZXRfaXNfZm9yX3Rlc3Rpbmdfb25seQ==";

pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// `hearken webhooks add ARGS` with `stdin` piped in; returns (success, stdout, stderr).
pub(crate) fn add(env: &Env, args: &[&str], stdin: Option<&str>) -> (bool, String, String) {
    let mut child = env
        .cmd()
        .args(["webhooks", "add"])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run hearken");
    {
        let mut input = child.stdin.take().expect("stdin");
        if let Some(text) = stdin {
            input.write_all(text.as_bytes()).expect("write stdin");
        }
    }
    let out = child.wait_with_output().expect("wait");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn post(server: &Server, path: &str, headers: &[(&str, &str)], body: &str) -> Resp {
    let mut all = vec![("content-type", "application/json")];
    all.extend_from_slice(headers);
    server.request("POST", path, None, &all, Some(body.as_bytes()))
}

pub(crate) fn standard_headers(
    secret: &str,
    id: &str,
    ts: i64,
    body: &str,
) -> Vec<(String, String)> {
    let key = Secret::parse(Scheme::Standard, secret).expect("a standard secret");
    vec![
        ("webhook-id".into(), id.into()),
        ("webhook-timestamp".into(), ts.to_string()),
        (
            "webhook-signature".into(),
            sign_standard(&key, id, ts, body.as_bytes()),
        ),
    ]
}

pub(crate) fn refs(h: &[(String, String)]) -> Vec<(&str, &str)> {
    h.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

#[test]
fn cli_adds_lists_and_removes_hooks_and_prints_the_secret_once() {
    let env = Env::new();
    let (ok, out, err) = add(
        &env,
        &["tickets", "--format", "standard", "--kind", "signals"],
        None,
    );
    assert!(ok, "{err}");
    let secret = out
        .lines()
        .next()
        .expect("the secret line")
        .trim()
        .to_string();
    assert!(secret.starts_with("whsec_"), "{out}");
    assert!(Secret::parse(Scheme::Standard, &secret).is_ok());
    assert!(err.contains("POST /hooks/tickets"), "{err}");

    // Zendesk makes its own secret: it must be given, on stdin (never in argv).
    let (ok, _, err) = add(
        &env,
        &["zd", "--format", "zendesk", "--kind", "case-events"],
        None,
    );
    assert!(!ok);
    assert!(err.contains("--secret-stdin"), "{err}");
    let (ok, out, err) = add(
        &env,
        &[
            "zd",
            "--format",
            "zendesk",
            "--kind",
            "case-events",
            "--secret-stdin",
        ],
        Some(&format!("{ZENDESK_SECRET}\n")),
    );
    assert!(ok, "{err}");
    assert!(out.is_empty(), "a given secret is not printed: {out}");

    // A mapping is checked for the hook's kind before the hook is added.
    env.write("bad.toml", "[columns]\nnot_a_field = \"x\"\n");
    let (ok, _, err) = add(
        &env,
        &[
            "mapped",
            "--format",
            "standard",
            "--kind",
            "signals",
            "--mapping",
            "bad.toml",
        ],
        None,
    );
    assert!(!ok);
    assert!(
        err.contains("bad.toml") && err.contains("not_a_field"),
        "{err}"
    );
    env.write("good.toml", "[columns]\ntext = \"body\"\n");
    let (ok, _, err) = add(
        &env,
        &[
            "mapped",
            "--format",
            "standard",
            "--kind",
            "signals",
            "--mapping",
            "good.toml",
        ],
        None,
    );
    assert!(ok, "{err}");

    for bad in ["../etc", "a/b", "hk_0123abcd", "1x"] {
        let (ok, _, err) = add(
            &env,
            &[bad, "--format", "standard", "--kind", "signals"],
            None,
        );
        assert!(!ok, "{bad}");
        assert!(err.contains("name"), "{err}");
    }
    let (ok, _, err) = add(
        &env,
        &["tickets", "--format", "standard", "--kind", "signals"],
        None,
    );
    assert!(!ok && err.contains("already exists"), "{err}");

    let listed = env.run(&["webhooks", "list", "--json"]);
    assert!(
        !listed.contains(&secret[6..]),
        "the list never holds a secret"
    );
    assert!(
        !listed.contains(ZENDESK_SECRET),
        "the list never holds a secret"
    );
    let v: serde_json::Value = serde_json::from_str(&listed).expect("json");
    let names: Vec<&str> = v
        .as_array()
        .expect("array")
        .iter()
        .map(|h| h["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["tickets", "zd", "mapped"]);
    assert_eq!(v[2]["mapping"], "good.toml");
    let table = env.run(&["webhooks", "list"]);
    assert!(
        table.contains("/hooks/zd") && table.contains("case-events"),
        "{table}"
    );

    env.run(&["webhooks", "remove", "tickets"]);
    let out = env
        .cmd()
        .args(["webhooks", "remove", "tickets"])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let v: serde_json::Value =
        serde_json::from_str(&env.run(&["webhooks", "list", "--json"])).expect("json");
    assert!(v[0]["removed_at"].is_i64());
}

#[test]
fn deliveries_need_a_valid_fresh_signature_and_replays_store_nothing() {
    let env = Env::new();
    let (ok, out, err) = add(
        &env,
        &["tickets", "--format", "standard", "--kind", "signals"],
        None,
    );
    assert!(ok, "{err}");
    let secret = out.lines().next().expect("secret").trim().to_string();
    let (ok, _, err) = add(
        &env,
        &[
            "zd",
            "--format",
            "zendesk",
            "--kind",
            "signals",
            "--secret-stdin",
        ],
        Some(ZENDESK_SECRET),
    );
    assert!(ok, "{err}");
    let server = env.serve();
    let body = r#"{"signal_id":"S1","at":"2024-05-01T10:00:00Z","channel":"email","kind":"complaint","text":"the router is <script>alert(1)</script> broken"}"#;
    let t = now();

    // A valid, fresh signature: verified, then stored.
    let h = standard_headers(&secret, "msg_1", t, body);
    let r = post(&server, "/hooks/tickets", &refs(&h), body);
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["status"], "stored", "{v}");
    assert_eq!(v["result"]["stored"], 1, "{v}");
    let s1 = server.get("/api/v1/signals/S1", Some(&env.viewer));
    assert_eq!(s1.status, 200, "{}", s1.text());
    assert_eq!(
        s1.json()["text"],
        "the router is <script>alert(1)</script> broken",
        "script in a text is stored as text"
    );

    // No signature, a wrong one, one for another body, an expired or future one.
    post(&server, "/hooks/tickets", &[], body).assert_error(401, "missing_signature");
    let mut wrong = h.clone();
    wrong[2].1 = "v1,Ceo5qEr07ixe2NLpvHk3FH9bwy/WavXrAFQ/9tdO6mc=".into();
    post(&server, "/hooks/tickets", &refs(&wrong), body).assert_error(401, "invalid_signature");
    post(
        &server,
        "/hooks/tickets",
        &refs(&h),
        &body.replace("S1", "S2"),
    )
    .assert_error(401, "invalid_signature");
    for ts in [t - 600, t + 600] {
        let h = standard_headers(&secret, "msg_2", ts, body);
        post(&server, "/hooks/tickets", &refs(&h), body).assert_error(401, "expired_signature");
    }
    let mut not_a_number = h.clone();
    not_a_number[1].1 = "hello".into();
    post(&server, "/hooks/tickets", &refs(&not_a_number), body)
        .assert_error(401, "invalid_signature");
    // A bearer token does not replace a signature.
    server
        .request(
            "POST",
            "/hooks/tickets",
            Some(&env.admin),
            &[("content-type", "application/json")],
            Some(body.as_bytes()),
        )
        .assert_error(401, "missing_signature");
    // Another hook's secret does not sign for this one; an unknown hook is 404.
    let other = standard_headers("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "msg_1", t, body);
    post(&server, "/hooks/tickets", &refs(&other), body).assert_error(401, "invalid_signature");
    post(&server, "/hooks/nope", &refs(&h), body).assert_error(404, "not_found");

    // A delivery id already stored is acknowledged and stores nothing, however many times it
    // comes back.
    let before = server.get("/api/v1/status", Some(&env.viewer)).json();
    {
        use hearken_store::WebhookStore;
        let mut store = hearken_store::Store::open(&env.db()).expect("open the store");
        let hook = store
            .webhook_config("tickets")
            .expect("read")
            .expect("the hook");
        assert!(
            !store
                .record_webhook_delivery(hook.info.id, "msg_1", t)
                .expect("record"),
            "storing the delivery recorded its id"
        );
    }
    for _ in 0..2 {
        let r = post(&server, "/hooks/tickets", &refs(&h), body);
        assert_eq!(r.status, 200, "{}", r.text());
        let v = r.json();
        assert_eq!(v["status"], "duplicate");
        assert_eq!(v["id"], "msg_1");
    }
    // A replay is still verified first: a forged signature on a known id is refused.
    post(&server, "/hooks/tickets", &refs(&wrong), body).assert_error(401, "invalid_signature");
    let after = server.get("/api/v1/status", Some(&env.viewer)).json();
    assert_eq!(before, after, "nothing was stored");

    // Zendesk: timestamp + body, the secret's text as the key.
    let zkey = Secret::parse(Scheme::Zendesk, ZENDESK_SECRET).expect("secret");
    let zts = hearken_model::Timestamp::from_unix(t).to_rfc3339();
    let zsig = sign_zendesk(&zkey, &zts, body.as_bytes());
    let zh = [
        ("x-zendesk-webhook-signature", zsig.as_str()),
        ("x-zendesk-webhook-signature-timestamp", zts.as_str()),
        ("x-zendesk-webhook-invocation-id", "8350205582"),
    ];
    let r = post(&server, "/hooks/zd", &zh, body);
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["status"], "stored", "{v}");
    assert_eq!(v["result"]["duplicates"], 1, "S1 is stored already: {v}");
    post(&server, "/hooks/zd", &zh, &format!("{body} ")).assert_error(401, "invalid_signature");
    post(&server, "/hooks/zd", &refs(&h), body).assert_error(401, "missing_signature");
    let old = hearken_model::Timestamp::from_unix(t - 3600).to_rfc3339();
    let old_sig = sign_zendesk(&zkey, &old, body.as_bytes());
    post(
        &server,
        "/hooks/zd",
        &[
            ("x-zendesk-webhook-signature", old_sig.as_str()),
            ("x-zendesk-webhook-signature-timestamp", old.as_str()),
        ],
        body,
    )
    .assert_error(401, "expired_signature");

    // A removed hook refuses deliveries.
    env.run(&["webhooks", "remove", "tickets"]);
    post(&server, "/hooks/tickets", &refs(&h), body).assert_error(404, "not_found");
    let log = server.log_text();
    assert!(
        !log.contains(&secret[6..]),
        "the secret never reaches the log"
    );
}

#[test]
fn admin_manages_hooks_over_http() {
    let env = Env::new();
    let server = env.serve();
    let admin = Some(env.admin.as_str());
    let r = server.post_json(
        "/api/v1/webhooks",
        admin,
        r#"{"name":"tickets","format":"standard","kind":"signals"}"#,
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let v = r.json();
    let secret = v["secret"].as_str().expect("a new secret").to_string();
    assert!(secret.starts_with("whsec_"));
    assert_eq!(v["webhook"]["path"], "/hooks/tickets");
    assert_eq!(v["webhook"]["kind"], "signals");

    // The new secret verifies deliveries at once.
    let body = "{}";
    let h = standard_headers(&secret, "msg_9", now(), body);
    let r = post(&server, "/hooks/tickets", &refs(&h), body);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["result"]["quarantined"], 1, "{}", r.text());

    server
        .post_json(
            "/api/v1/webhooks",
            admin,
            r#"{"name":"tickets","format":"standard","kind":"signals"}"#,
        )
        .assert_error(409, "conflict");
    server
        .post_json(
            "/api/v1/webhooks",
            admin,
            r#"{"name":"zd","format":"zendesk","kind":"case-events"}"#,
        )
        .assert_error(422, "invalid_value");
    let r = server.post_json(
        "/api/v1/webhooks",
        admin,
        &format!(
            r#"{{"name":"zd","format":"zendesk","kind":"case-events","secret":"{ZENDESK_SECRET}"}}"#
        ),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    assert!(r.json()["secret"].is_null(), "a given secret is not echoed");
    server
        .post_json(
            "/api/v1/webhooks",
            admin,
            r#"{"name":"m","format":"standard","kind":"signals","mapping":"[columns]\nnope = \"x\"\n"}"#,
        )
        .assert_error(422, "invalid_value");
    server
        .post_json(
            "/api/v1/webhooks",
            admin,
            r#"{"name":"../x","format":"standard","kind":"signals"}"#,
        )
        .assert_error(422, "invalid_value");
    server
        .post_json(
            "/api/v1/webhooks",
            admin,
            r#"{"name":"x","format":"github","kind":"signals"}"#,
        )
        .assert_error(422, "invalid_body");

    let list = server.get("/api/v1/webhooks", admin);
    assert_eq!(list.status, 200);
    assert!(!list.text().contains(&secret[6..]) && !list.text().contains(ZENDESK_SECRET));
    assert_eq!(list.json().as_array().map(Vec::len), Some(2));

    let r = server.request("DELETE", "/api/v1/webhooks/tickets", admin, &[], None);
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json()["removed_at"].is_i64());
    server
        .request("DELETE", "/api/v1/webhooks/tickets", admin, &[], None)
        .assert_error(404, "not_found");
    post(&server, "/hooks/tickets", &refs(&h), body).assert_error(404, "not_found");
}

#[test]
fn serve_logs_one_line_per_request_without_v_and_other_commands_stay_quiet() {
    let env = Env::new();
    let server = env.serve_with(&[]);
    let r = server.request(
        "GET",
        "/api/v1/status",
        Some(&env.viewer),
        &[("x-request-id", "log-check-1")],
        None,
    );
    assert_eq!(r.status, 200);
    server.sigterm();
    let mut server = server;
    let _ = server.child.wait();
    let log = server.log_text();
    let lines: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("log-check-1") && l.contains("answered"))
        .collect();
    assert_eq!(lines.len(), 1, "one line for the request: {log}");
    assert!(
        lines[0].contains("/api/v1/status") && lines[0].contains("status=200"),
        "{}",
        lines[0]
    );
    assert!(!log.contains("DEBUG"), "no debug lines by default: {log}");

    let out = env.cmd().args(["tokens", "list"]).output().expect("run");
    assert!(out.status.success());
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn zendesk_tickets_become_signals_and_ticket_events_case_events() {
    let env = Env::new();
    for (name, kind) in [("zd-tickets", "signals"), ("zd-events", "case-events")] {
        let (ok, _, err) = add(
            &env,
            &[
                name,
                "--format",
                "zendesk",
                "--kind",
                kind,
                "--secret-stdin",
            ],
            Some(ZENDESK_SECRET),
        );
        assert!(ok, "{err}");
    }
    let server = env.serve();
    let zkey = Secret::parse(Scheme::Zendesk, ZENDESK_SECRET).expect("secret");
    let deliver = |hook: &str, id: &str, body: &str| {
        let ts = hearken_model::Timestamp::from_unix(now()).to_rfc3339();
        let sig = sign_zendesk(&zkey, &ts, body.as_bytes());
        post(
            &server,
            &format!("/hooks/{hook}"),
            &[
                ("x-zendesk-webhook-signature", sig.as_str()),
                ("x-zendesk-webhook-signature-timestamp", ts.as_str()),
                ("x-zendesk-webhook-invocation-id", id),
            ],
            body,
        )
    };

    // A trigger's body holding the ticket, and an event-subscription delivery (`detail`).
    let ticket = r#"{"ticket":{"id":4711,"created_at":"2024-05-02T09:30:00Z","type":"incident","via":{"channel":"web"},"requester_id":901,"assignee_id":77,"subject":"Logged out","description":"The invoice portal keeps logging me out"}}"#;
    let r = deliver("zd-tickets", "inv-1", ticket);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["result"]["stored"], 1, "{}", r.text());
    let event = r#"{"type":"zen:event-type:ticket.created","id":"01HX","detail":{"id":"4712","created_at":"2024-05-02T10:00:00Z","type":null,"via":{"channel":"api"},"requester_id":"902","description":"Where is my order?"}}"#;
    let r = deliver("zd-tickets", "inv-2", event);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["result"]["stored"], 1, "{}", r.text());
    let s = server.get("/api/v1/signals/4711", Some(&env.viewer)).json();
    assert_eq!(s["kind"], "complaint", "{s}");
    assert_eq!(s["channel"], "web");
    assert_eq!(s["customer_id"], "901");
    assert_eq!(s["agent_id"], "77");
    assert_eq!(s["case_id"], "4711");
    assert_eq!(s["text"], "The invoice portal keeps logging me out");
    assert!(s["sentiment"].is_number(), "enriched: {s}");
    let s = server.get("/api/v1/signals/4712", Some(&env.viewer)).json();
    assert_eq!(s["kind"], "question", "{s}");
    assert_eq!(s["channel"], "other");
    // The same invocation again: acknowledged, nothing stored.
    let again = deliver("zd-tickets", "inv-1", ticket);
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["status"], "duplicate");

    // Ticket events, as a Zendesk incremental ticket-event export holds them.
    let events = r#"{"ticket_events":[{"id":1,"ticket_id":4711,"timestamp":1714642200,"created_at":"2024-05-02T09:30:00Z","updater_id":901,"via":"Web form","event_type":"Audit","child_events":[{"id":11,"event_type":"Create","status":"new"},{"id":12,"event_type":"Comment","body":"The invoice portal keeps logging me out","author_id":901,"public":true}]},{"id":2,"ticket_id":4711,"timestamp":1714645800,"created_at":"2024-05-02T10:30:00Z","updater_id":77,"via":"Web form","event_type":"Audit","child_events":[{"id":21,"event_type":"Change","status":"solved","previous_value":"new"}]}]}"#;
    let r = deliver("zd-events", "inv-3", events);
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert!(
        v["result"]["stored"].as_u64().is_some_and(|n| n >= 2),
        "{v}"
    );
    let st: serde_json::Value =
        serde_json::from_str(&env.run(&["status", "--json"])).expect("status");
    assert_eq!(st["case_events"], v["result"]["stored"], "{st}");
}
