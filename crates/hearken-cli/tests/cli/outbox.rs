//! The outbox end to end: an action reaches done, the people whose signals motivated it get one
//! notification each, and `hearken outbox run` delivers them to a real HTTP receiver on loopback
//! (Standard Webhooks signatures checked with the server's own verifier) and to a real SMTP
//! server on loopback (mailin-embedded): retries with backoff, `Retry-After`, a timeout, 410,
//! a redirect, a refusing SMTP server, a person without an address, and a sender killed in the
//! middle of a delivery and restarted.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::Value;

use crate::helpers::*;

/// The secret's key bytes (32) and its text.
const KEY: [u8; 32] = [7; 32];

pub(crate) fn secret_text() -> String {
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(KEY)
    )
}

/// What the receiver does with the n-th request.
#[derive(Clone, Debug)]
pub(crate) enum Answer {
    Status(u16, Vec<(&'static str, String)>),
    /// Read the request, then answer nothing and keep the connection open.
    Hang,
}

#[derive(Clone, Debug)]
pub(crate) struct Received {
    at: Instant,
    pub(crate) headers: BTreeMap<String, String>,
    pub(crate) body: Vec<u8>,
}

/// An HTTP/1.1 receiver on 127.0.0.1: answers request n with `script[n]` (the last entry for
/// every later one) and records every request.
pub(crate) struct Receiver {
    pub(crate) url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    pub(crate) fn start(script: Vec<Answer>) -> Receiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let got: Arc<Mutex<Vec<Received>>> = Arc::default();
        let g = Arc::clone(&got);
        std::thread::spawn(move || {
            let mut held: Vec<TcpStream> = Vec::new();
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let Some(req) = read_request(&stream) else {
                    continue;
                };
                let n = {
                    let mut v = g.lock().unwrap();
                    v.push(req);
                    v.len() - 1
                };
                let answer = script
                    .get(n)
                    .or(script.last())
                    .cloned()
                    .unwrap_or(Answer::Status(200, vec![]));
                match answer {
                    Answer::Hang => held.push(stream),
                    Answer::Status(code, headers) => {
                        let mut s = stream;
                        let mut head = format!(
                            "HTTP/1.1 {code} X\r\ncontent-length: 0\r\nconnection: close\r\n"
                        );
                        for (k, v) in headers {
                            head.push_str(&format!("{k}: {v}\r\n"));
                        }
                        head.push_str("\r\n");
                        let _ = s.write_all(head.as_bytes());
                    }
                }
            }
        });
        Receiver { url, got }
    }

    pub(crate) fn requests(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

fn read_request(stream: &TcpStream) -> Option<Received> {
    let mut r = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (k, v) = h.split_once(':')?;
        headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    r.read_exact(&mut body).ok()?;
    Some(Received {
        at: Instant::now(),
        headers,
        body,
    })
}

/// A store with an action done for three people: customers C1 (S1) and C2 (S2), employee A1
/// (suggestion S3).
pub(crate) fn done_action() -> Env {
    let env = Env::new();
    let c = env.write(
        "customers.csv",
        "customer_id,name,segment\nC1,Ann,smb\nC2,Bob,enterprise\n",
    );
    let a = env.write("agents.csv", "agent_id,name,team\nA1,Cleo,billing\n");
    let s = env.write(
        "signals.csv",
        "signal_id,at,channel,kind,source,customer_id,agent_id,topic,text\n\
         S1,2024-03-05,phone,complaint,customer,C1,,billing/double_charge,charged twice\n\
         S2,2024-03-06,email,complaint,customer,C2,,billing/double_charge,two charges\n\
         S3,2024-03-07,web,suggestion,employee,,A1,,check the card twice\n",
    );
    for (f, kind) in [(&c, "customers"), (&a, "agents"), (&s, "signals")] {
        env.import(f, kind, &[]);
    }
    let run = |args: &[&str]| {
        let out = env.run(args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    };
    run(&[
        "actions",
        "create",
        "--title",
        "One charge per order",
        "--description",
        "the payment page now blocks a second charge",
        "--signal",
        "S1",
        "--signal",
        "S2",
        "--suggestion",
        "S3",
        "--created-at",
        "2024-03-01",
    ]);
    for (st, at) in [
        ("planned", "2024-03-10"),
        ("in_progress", "2024-03-11"),
        ("done", "2024-03-20"),
    ] {
        run(&["actions", "update", "1", "--status", st, "--at", at]);
    }
    env
}

pub(crate) fn config(env: &Env, body: &str) {
    env.write("hearken.toml", body);
}

pub(crate) fn webhook_config(env: &Env, url: &str, extra: &str) {
    config(
        env,
        &format!(
            "[outbox]\nwebhook_url = \"{url}\"\nwebhook_secret = \"{}\"\n{extra}",
            secret_text()
        ),
    );
}

pub(crate) fn list(env: &Env) -> Vec<Value> {
    let out = env.run(&["outbox", "list", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice::<Value>(&out.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

/// (notification recipient, channel, state, attempts) of every delivery.
pub(crate) fn states(env: &Env) -> Vec<(String, String, String, i64)> {
    let mut v: Vec<_> = list(env)
        .iter()
        .flat_map(|n| {
            let who = format!(
                "{} {}",
                n["recipient"].as_str().unwrap(),
                n["recipient_id"].as_str().unwrap()
            );
            n["deliveries"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |d| {
                    (
                        who.clone(),
                        d["channel"].as_str().unwrap().to_string(),
                        d["state"].as_str().unwrap().to_string(),
                        d["attempts"].as_i64().unwrap(),
                    )
                })
                .collect::<Vec<_>>()
        })
        .collect();
    v.sort();
    v
}

pub(crate) fn verify(req: &Received) -> Value {
    let headers = axum_headers(&req.headers);
    let secret = hearken_server::webhooks::verify::Secret::parse(
        hearken_server::webhooks::verify::Scheme::Standard,
        &secret_text(),
    )
    .unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    hearken_server::webhooks::verify::verify_standard(&secret, &headers, &req.body, now)
        .unwrap_or_else(|e| panic!("the signature verifies: {e}"));
    serde_json::from_slice(&req.body).unwrap()
}

fn axum_headers(h: &BTreeMap<String, String>) -> axum::http::HeaderMap {
    let mut m = axum::http::HeaderMap::new();
    for (k, v) in h {
        m.insert(
            axum::http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
            v.parse().unwrap(),
        );
    }
    m
}

#[test]
fn done_writes_one_notification_per_person_and_run_delivers_each_once_despite_failures() {
    let env = done_action();
    // 500, then 429 with Retry-After, then a receiver that never answers (a timeout), then 200.
    let rx = Receiver::start(vec![
        Answer::Status(500, vec![]),
        Answer::Status(429, vec![("retry-after", "3".into())]),
        Answer::Hang,
        Answer::Status(200, vec![]),
    ]);
    webhook_config(
        &env,
        &rx.url,
        "timeout_secs = 2\nlease_secs = 4\nretry_base_secs = 1\nretry_max_secs = 2\n",
    );
    let out = env.run(&["outbox", "run", "--wait", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (report["sent"].as_u64(), report["open"].as_i64()),
        (Some(3), Some(0)),
        "{report}"
    );
    assert_eq!(report["retried"], 3, "{report}");

    let reqs = rx.requests();
    assert_eq!(reqs.len(), 6, "three failures, then three successes");
    // Every request is signed; one id per notification, each delivered (2xx) exactly once.
    let mut ids = BTreeMap::new();
    for (i, r) in reqs.iter().enumerate() {
        let body = verify(r);
        assert_eq!(body["type"], "action.done");
        assert_eq!(body["action"]["title"], "One charge per order");
        ids.entry(r.headers["webhook-id"].clone())
            .or_insert_with(Vec::new)
            .push(i);
    }
    assert_eq!(ids.len(), 3, "{ids:?}");
    assert!(ids.values().all(|v| v.len() == 2), "{ids:?}");
    let recipients: Vec<String> = reqs[3..]
        .iter()
        .map(|r| {
            let b: Value = serde_json::from_slice(&r.body).unwrap();
            format!(
                "{} {}",
                b["recipient"]["kind"].as_str().unwrap(),
                b["recipient"]["id"].as_str().unwrap()
            )
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(recipients, ["customer C1", "customer C2", "employee A1"]);
    // Retry-After: the 429's notification was not tried again sooner than 3 s.
    let id_429 = &reqs[1].headers["webhook-id"];
    let again = ids[id_429][1];
    assert!(
        reqs[again].at.duration_since(reqs[1].at) >= Duration::from_secs(3),
        "Retry-After honoured"
    );
    let s = states(&env);
    assert!(
        s.iter()
            .all(|(_, c, st, n)| c == "webhook" && st == "sent" && *n == 2),
        "{s:?}"
    );

    // Nothing is sent again: a second run finds nothing to do.
    let out = env.run(&["outbox", "run", "--json"]);
    let again: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(again["attempted"], 0, "{again}");
    assert_eq!(rx.requests().len(), 6);
    // Linking another signal to the done action does not notify the same person twice.
    let out = env.run(&["actions", "link", "1", "--customer", "C1", "--json"]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["notifications_written"], 0);
}

#[test]
fn an_endpoint_that_answers_410_is_disabled_and_a_redirect_is_not_followed() {
    let env = done_action();
    let gone = Receiver::start(vec![Answer::Status(410, vec![])]);
    webhook_config(&env, &gone.url, "retry_base_secs = 1\n");
    let out = env.run(&["outbox", "run", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        gone.requests().len(),
        1,
        "the other deliveries stop with the endpoint"
    );
    let s = states(&env);
    assert!(s.iter().all(|(_, _, st, _)| st == "disabled"), "{s:?}");
    // One was answered 410; the others, claimed in the same batch, were not sent.
    let n = list(&env);
    let errors: Vec<(Option<i64>, String)> = n
        .iter()
        .map(|x| {
            let d = &x["deliveries"][0];
            (
                d["last_code"].as_i64(),
                d["last_error"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        errors.iter().filter(|(c, _)| *c == Some(410)).count(),
        1,
        "{errors:?}"
    );
    assert_eq!(
        errors
            .iter()
            .filter(|(_, e)| e.starts_with("not sent"))
            .count(),
        2,
        "{errors:?}"
    );
    // Turned back on, the same endpoint (now answering) gets them.
    let out = env.run(&["outbox", "enable", &gone.url]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("3 deliveries"));

    let env = done_action();
    let moved = Receiver::start(vec![Answer::Status(
        302,
        vec![("location", "http://127.0.0.1:9/elsewhere".into())],
    )]);
    webhook_config(&env, &moved.url, "");
    env.run(&["outbox", "run"]);
    assert_eq!(moved.requests().len(), 3, "each tried once, none followed");
    let n = list(&env);
    for x in &n {
        let d = &x["deliveries"][0];
        assert_eq!(d["state"], "failed", "{x}");
        assert!(
            d["last_error"].as_str().unwrap().contains("redirect"),
            "{x}"
        );
    }
}

#[test]
fn a_sender_killed_mid_delivery_is_replaced_and_the_receiver_sees_one_id_per_notification() {
    let env = done_action();
    let rx = Receiver::start(vec![Answer::Hang, Answer::Status(200, vec![])]);
    webhook_config(
        &env,
        &rx.url,
        "timeout_secs = 20\nlease_secs = 21\nretry_base_secs = 1\n",
    );
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("hearken"))
        .current_dir(env.dir.path())
        .env("HEARKEN_DB", env.db())
        .args(["outbox", "run"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the first delivery is in the receiver's hands, then kill the sender.
    let start = Instant::now();
    while rx.requests().is_empty() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the sender never called"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let s = states(&env);
    assert!(
        s.iter().all(|(_, _, st, n)| st == "sending" && *n == 1),
        "claimed, not finished: {s:?}"
    );

    // A new sender waits for the dead one's lease to run out, then delivers everything.
    let out = env.run(&["outbox", "run", "--wait", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = states(&env);
    assert!(
        s.iter().all(|(_, _, st, n)| st == "sent" && *n == 2),
        "{s:?}"
    );
    let reqs = rx.requests();
    let mut by_id: BTreeMap<String, usize> = BTreeMap::new();
    for r in &reqs {
        verify(r);
        *by_id.entry(r.headers["webhook-id"].clone()).or_default() += 1;
    }
    // The interrupted one was sent again with the same id (the receiver can drop the repeat);
    // the two never sent by the killed sender once each.
    assert_eq!(by_id.len(), 3, "{by_id:?}");
    let mut counts: Vec<usize> = by_id.values().copied().collect();
    counts.sort_unstable();
    assert_eq!(counts, [1, 1, 2]);
    assert_eq!(by_id[&reqs[0].headers["webhook-id"]], 2);
}

/// A received message: its recipients and its text.
pub(crate) type Message = (Vec<String>, String);

#[derive(Clone, Default)]
pub(crate) struct Mailbox {
    pub(crate) messages: Arc<Mutex<Vec<Message>>>,
    to: Vec<String>,
    data: Vec<u8>,
}

impl mailin_embedded::Handler for Mailbox {
    fn rcpt(&mut self, to: &str) -> mailin_embedded::Response {
        if to.starts_with("refuse@") {
            mailin_embedded::response::NO_MAILBOX
        } else {
            mailin_embedded::response::OK
        }
    }

    fn data_start(
        &mut self,
        _domain: &str,
        _from: &str,
        _is8bit: bool,
        to: &[String],
    ) -> mailin_embedded::Response {
        self.to = to.to_vec();
        self.data.clear();
        mailin_embedded::response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> mailin_embedded::Response {
        self.messages.lock().unwrap().push((
            std::mem::take(&mut self.to),
            String::from_utf8_lossy(&self.data).to_string(),
        ));
        mailin_embedded::response::OK
    }
}

#[test]
fn email_goes_to_each_address_once_and_refusals_and_missing_addresses_are_shown() {
    let env = done_action();
    let mailbox = Mailbox::default();
    let messages = Arc::clone(&mailbox.messages);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut server = mailin_embedded::Server::new(mailbox);
    server
        .with_name("loopback.test")
        .with_ssl(mailin_embedded::SslConfig::None)
        .unwrap()
        .with_tcp_listener(listener);
    std::thread::spawn(move || {
        let _ = server.serve();
    });
    config(
        &env,
        &format!(
            "[outbox]\nretry_base_secs = 1\n[outbox.smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nfrom = \"Hearken <feedback@example.com>\"\n"
        ),
    );
    for (who, id, email) in [
        ("--customer", "C1", "ann@example.com"),
        ("--employee", "A1", "cleo@example.com"),
    ] {
        let out = env.run(&["outbox", "address", who, id, "--email", email]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let err = assert_clean_failure(&env.run(&[
        "outbox",
        "address",
        "--customer",
        "C2",
        "--email",
        "not-an-address",
    ]));
    assert!(
        err.contains("not-an-address") && err.contains("not an e-mail address"),
        "{err}"
    );

    let out = env.run(&["outbox", "run", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = states(&env);
    assert_eq!(
        s,
        [
            ("customer C1".into(), "email".into(), "sent".into(), 1),
            ("customer C2".into(), "email".into(), "no_address".into(), 0),
            ("employee A1".into(), "email".into(), "sent".into(), 1),
        ]
    );
    let got = messages.lock().unwrap().clone();
    assert_eq!(got.len(), 2);
    let notes = list(&env);
    for (to, data) in &got {
        let n = notes
            .iter()
            .find(|n| data.contains(&format!("<{}@hearken>", n["message_id"].as_str().unwrap())))
            .expect("the Message-ID is the notification's id");
        assert!(data.contains("One charge per order"), "{data}");
        assert!(
            data.contains("the payment page now blocks a second charge"),
            "{data}"
        );
        let want = if n["recipient_id"] == "C1" {
            "ann@example.com"
        } else {
            "cleo@example.com"
        };
        assert_eq!(to, &[want.to_string()]);
    }
    // C2 gets an address the server refuses: a permanent failure, not retried.
    env.run(&[
        "outbox",
        "address",
        "--customer",
        "C2",
        "--email",
        "refuse@example.com",
    ]);
    env.run(&["outbox", "run"]);
    let s = states(&env);
    assert_eq!(
        s[1],
        ("customer C2".into(), "email".into(), "failed".into(), 1)
    );
    let c2 = list(&env)
        .into_iter()
        .find(|n| n["recipient_id"] == "C2")
        .unwrap();
    assert!(
        c2["deliveries"][0]["last_error"]
            .as_str()
            .unwrap()
            .contains("refused"),
        "{c2}"
    );
    assert_eq!(messages.lock().unwrap().len(), 2, "nothing sent twice");
}
