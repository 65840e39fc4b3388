//! Scheduled delivery of the weekly report end to end (issue 12): three recipients with their
//! data scopes, the scheduler's tick at a given instant (`hearken report tick --now`, hidden,
//! for tests), the outbox delivering to a real SMTP server (mailin-embedded) and a real HTTP
//! receiver on loopback, a recipient whose mail bounces, and nothing sent twice: ticks again,
//! new processes, two ticks at once, `report send` without and with `--again`.

use std::sync::{Arc, Mutex};

use base64::Engine as _;
use serde_json::Value;

use crate::helpers::*;
use crate::outbox::{Answer, Message, Receiver, secret_text, verify};

/// Two segments with different figures in 2026-W47 (Mon 16 Nov to Mon 23 Nov 2026 UTC):
/// smb NPS +33.3 (10, 9, 3), enterprise NPS -33.3 (2, 9, 5); and a week before.
fn store() -> Env {
    let env = Env::new();
    let c = env.write(
        "customers.csv",
        "customer_id,name,segment\nC1,Ann,smb\nC2,Bob,smb\nC3,Cy,enterprise\nC4,Di,enterprise\n",
    );
    let s = env.write(
        "signals.csv",
        "signal_id,at,channel,kind,source,customer_id,topic,text\n\
         S1,2026-11-17T10:00:00Z,email,complaint,customer,C1,billing,the invoice was wrong and I am angry\n\
         S2,2026-11-18T10:00:00Z,chat,compliment,customer,C2,delivery,great fast delivery thank you\n\
         S3,2026-11-18T11:00:00Z,phone,complaint,customer,C3,billing,charged twice terrible\n\
         S4,2026-11-19T11:00:00Z,phone,complaint,customer,C4,login,cannot log in awful\n\
         S5,2026-11-19T12:00:00Z,web,complaint,customer,C3,login,still cannot log in\n\
         S6,2026-11-10T12:00:00Z,web,complaint,customer,C1,billing,last week problem\n",
    );
    let r = env.write(
        "surveys.csv",
        "response_id,at,customer_id,nps\nR1,2026-11-17,C1,10\nR2,2026-11-17,C2,9\nR3,2026-11-18,C1,3\n\
         R4,2026-11-18,C3,2\nR5,2026-11-19,C4,9\nR6,2026-11-19,C3,5\nR7,2026-11-10,C1,8\n",
    );
    for (f, kind) in [(&c, "customers"), (&s, "signals"), (&r, "surveys")] {
        env.import(f, kind, &[]);
    }
    env
}

fn ok(env: &Env, args: &[&str]) -> String {
    let out = env.run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// A real SMTP server on loopback, without TLS.
fn smtp_server() -> (u16, Arc<Mutex<Vec<Message>>>) {
    crate::outbox_tls::smtp_server(false)
}

fn configure(env: &Env, port: u16, hook: &str) {
    env.write(
        "hearken.toml",
        format!(
            "[outbox]\nwebhook_secret = \"{}\"\nretry_base_secs = 1\n\
             [outbox.smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"none\"\nfrom = \"Hearken <report@example.com>\"\n\
             [report]\npublic_url = \"https://hearken.example.com\"\n\
             [report.schedule]\nday = \"mon\"\nhour = 8\ntimezone = \"Europe/Brussels\"\n\
             [[report.recipients]]\nname = \"smb desk\"\nemail = \"smb@example.com\"\nsegments = [\"smb\"]\n\
             [[report.recipients]]\nname = \"enterprise desk\"\nemail = \"ent@example.com\"\nwebhook = \"{hook}\"\nsegments = [\"enterprise\"]\n\
             [[report.recipients]]\nname = \"board\"\nemail = \"refuse@example.com\"\n",
            secret_text()
        ),
    );
}

/// The decoded text of each part of a MIME message (quoted-printable and base64 undone), joined.
fn decoded(raw: &str) -> String {
    let raw = raw.replace("\r\n", "\n");
    let mut out = String::new();
    for part in raw.split("\n--") {
        let Some((head, body)) = part.split_once("\n\n") else {
            continue;
        };
        let head = head.to_ascii_lowercase();
        if head.contains("content-transfer-encoding: base64") {
            let b: String = body.lines().take_while(|l| !l.starts_with("--")).collect();
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b.trim())
                .unwrap_or_default();
            out.push_str(&String::from_utf8_lossy(&bytes));
        } else if head.contains("content-transfer-encoding: quoted-printable") {
            let joined = body.replace("=\n", "");
            let bytes = joined.as_bytes();
            let mut v = Vec::new();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'='
                    && i + 2 < bytes.len()
                    && let Ok(x) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
                {
                    v.push(x);
                    i += 3;
                } else {
                    v.push(bytes[i]);
                    i += 1;
                }
            }
            out.push_str(&String::from_utf8_lossy(&v));
        } else {
            out.push_str(body);
        }
        out.push('\n');
    }
    out
}

/// The NPS the e-mail's text part prints (`NPS: +33.3 (last week ...`).
fn mail_nps(text: &str) -> f64 {
    let at = text
        .find("NPS: ")
        .unwrap_or_else(|| panic!("no NPS line in {text}"));
    text[at + 5..]
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("no NPS value in {text}"))
}

/// `hearken scores --metric nps` of the week for one segment, as JSON.
fn scores_nps(env: &Env, segment: &str) -> f64 {
    let out = ok(
        env,
        &[
            "scores",
            "--metric",
            "nps",
            "--from",
            "2026-11-16",
            "--to",
            "2026-11-23",
            "--segment",
            segment,
            "--json",
        ],
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    v["nps"].as_f64().unwrap()
}

fn list(env: &Env) -> Vec<Value> {
    serde_json::from_str::<Value>(&ok(env, &["outbox", "list", "--json"]))
        .unwrap()
        .as_array()
        .unwrap()
        .clone()
}

fn mails_to(messages: &Arc<Mutex<Vec<Message>>>, to: &str) -> Vec<String> {
    messages
        .lock()
        .unwrap()
        .iter()
        .filter(|(rcpt, _)| rcpt.iter().any(|r| r == to))
        .map(|(_, data)| data.clone())
        .collect()
}

#[test]
fn scheduled_reports_reach_each_recipient_once_with_its_slice_and_a_bounce_fails_clearly() {
    let env = store();
    let (port, messages) = smtp_server();
    let hook = Receiver::start(vec![Answer::Status(200, vec![])]);
    configure(&env, port, &hook.url);

    // Monday 23 Nov 2026 08:00 in Brussels is 07:00 UTC: not due a minute before.
    let before: Value = serde_json::from_str(&ok(
        &env,
        &["report", "tick", "--now", "2026-11-23T06:59:00Z", "--json"],
    ))
    .unwrap();
    assert!(before["due"].is_null(), "{before}");
    assert_eq!(before["next_week"], "2026-W47");
    assert!(
        list(&env).is_empty(),
        "nothing enqueued before the due hour"
    );

    let tick: Value = serde_json::from_str(&ok(
        &env,
        &["report", "tick", "--now", "2026-11-23T07:00:00Z", "--json"],
    ))
    .unwrap();
    assert_eq!(tick["due"], "2026-W47", "{tick}");
    let outcomes: Vec<(&str, &str)> = tick["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["recipient"].as_str().unwrap(),
                r["outcome"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("smb desk", "enqueued"),
            ("enterprise desk", "enqueued"),
            ("board", "enqueued")
        ]
    );

    ok(&env, &["outbox", "run"]);

    // Each slice's mail, once, with its slice's figure: the NPS of `hearken scores` filtered to
    // the same segment (+33.3 and -33.3; the whole organisation's is 0).
    for (to, segment) in [
        ("smb@example.com", "smb"),
        ("ent@example.com", "enterprise"),
    ] {
        let mails = mails_to(&messages, to);
        assert_eq!(mails.len(), 1, "{to} gets one mail");
        let text = decoded(&mails[0]);
        assert!(text.contains("Hearken weekly report 2026-W47"), "{text}");
        assert!(text.contains(&format!("segments {segment}")), "{text}");
        assert!(
            text.contains("<html") || text.contains("<!DOCTYPE"),
            "the page is the HTML part"
        );
        assert!(
            mails[0]
                .to_ascii_lowercase()
                .contains("multipart/alternative"),
            "text and HTML"
        );
        let want = scores_nps(&env, segment);
        assert!(
            (mail_nps(&text) - want).abs() < 0.05,
            "{to}: the mail's NPS {} is the segment's {want}",
            mail_nps(&text)
        );
        assert!(
            text.contains("https://hearken.example.com/report?week=2026-W47"),
            "{text}"
        );
    }
    assert_ne!(scores_nps(&env, "smb"), scores_nps(&env, "enterprise"));

    // The enterprise desk's webhook: signed like every outbox webhook, its slice's figures.
    let reqs = hook.requests();
    assert_eq!(reqs.len(), 1);
    let p = verify(&reqs[0]);
    assert_eq!(p["type"], "report.weekly");
    assert_eq!(p["week"], "2026-W47");
    assert_eq!(p["recipient"], "enterprise desk");
    assert_eq!(p["scope"]["segments"], serde_json::json!(["enterprise"]));
    assert_eq!(p["url"], "https://hearken.example.com/report?week=2026-W47");
    let nps = p["scores"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["metric"] == "NPS")
        .unwrap();
    let v: f64 = nps["value"].as_str().unwrap().parse().unwrap();
    assert!((v - scores_nps(&env, "enterprise")).abs() < 0.05, "{p}");

    // The board's mail bounced: failed with the SMTP server's answer, the others delivered.
    let notes = list(&env);
    let state = |name: &str| -> Vec<(String, String, String)> {
        notes
            .iter()
            .filter(|n| n["recipient_id"] == name)
            .flat_map(|n| {
                assert_eq!(n["kind"], "report.weekly");
                assert_eq!(n["week"], "2026-W47");
                n["deliveries"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|d| {
                        (
                            d["channel"].as_str().unwrap().to_string(),
                            d["state"].as_str().unwrap().to_string(),
                            d["last_error"].as_str().unwrap_or("").to_string(),
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    };
    let board = state("board");
    assert_eq!(board.len(), 1);
    assert_eq!(
        (board[0].0.as_str(), board[0].1.as_str()),
        ("email", "failed")
    );
    assert!(
        board[0].2.contains("refused") && board[0].2.contains("Mailbox unavailable"),
        "{board:?}"
    );
    assert!(state("smb desk").iter().all(|d| d.1 == "sent"));
    assert_eq!(state("enterprise desk").len(), 2);
    assert!(state("enterprise desk").iter().all(|d| d.1 == "sent"));
    let table = ok(&env, &["outbox", "list"]);
    assert!(
        table.contains("report 2026-W47") && table.contains("Mailbox unavailable"),
        "{table}"
    );

    // Never twice: the tick again (a new process each time, as after a restart), later in the
    // week, and `report send` without --again.
    for now in ["2026-11-23T07:00:00Z", "2026-11-25T12:00:00Z"] {
        let t: Value =
            serde_json::from_str(&ok(&env, &["report", "tick", "--now", now, "--json"])).unwrap();
        assert!(
            t["results"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["outcome"] == "already_sent"),
            "{t}"
        );
    }
    let out = ok(&env, &["report", "send", "--week", "2026-W47"]);
    assert!(
        out.contains("already sent for 2026-W47") && out.contains("--again"),
        "{out}"
    );
    ok(&env, &["outbox", "run"]);
    assert_eq!(messages.lock().unwrap().len(), 2, "nothing sent twice");
    assert_eq!(hook.requests().len(), 1, "nothing posted twice");
    assert_eq!(list(&env).len(), 3);

    // --again sends once more, on purpose, and says so.
    let out = ok(
        &env,
        &[
            "report",
            "send",
            "--week",
            "2026-W47",
            "--recipient",
            "smb desk",
            "--again",
        ],
    );
    assert!(out.contains("enqueued again (round 1)"), "{out}");
    ok(&env, &["outbox", "run"]);
    assert_eq!(mails_to(&messages, "smb@example.com").len(), 2);
    assert_eq!(mails_to(&messages, "ent@example.com").len(), 1);

    // `report schedule` shows the schedule, the next due time in both zones, and what was sent.
    let s: Value = serde_json::from_str(&ok(&env, &["report", "schedule", "--json"])).unwrap();
    assert_eq!(s["schedule"], "mon 08:00 Europe/Brussels");
    assert_eq!(s["recipients"][0]["segments"], serde_json::json!(["smb"]));
    let sends = s["sends"].as_array().unwrap();
    assert_eq!(sends.len(), 4);
    assert!(
        sends
            .iter()
            .any(|x| x["recipient"] == "smb desk" && x["round"] == 1 && x["how"] == "again")
    );
    let text = ok(&env, &["report", "schedule"]);
    assert!(
        text.contains("schedule: mon 08:00 Europe/Brussels") && text.contains("next: "),
        "{text}"
    );
    assert!(
        text.contains("CET") && text.contains("Z)"),
        "local and UTC: {text}"
    );
    assert!(
        text.contains("email failed (the SMTP server refused"),
        "{text}"
    );
}

#[test]
fn a_week_without_data_says_so_and_two_ticks_at_once_enqueue_it_once() {
    let env = store();
    let (port, messages) = smtp_server();
    let hook = Receiver::start(vec![Answer::Status(200, vec![])]);
    configure(&env, port, &hook.url);

    // 2026-W48 has no data at all; its due time is Mon 30 Nov 07:00 UTC. Two schedulers (two
    // server processes) tick at the same moment.
    let spawn = || {
        std::process::Command::new(assert_cmd::cargo::cargo_bin("hearken"))
            .current_dir(env.dir.path())
            .env("HEARKEN_DB", env.db())
            .args(["report", "tick", "--now", "2026-11-30T07:00:30Z", "--json"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    let mut enqueued = 0;
    for o in &outs {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let v: Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["due"], "2026-W48");
        enqueued += v["results"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["outcome"] == "enqueued")
            .count();
    }
    assert_eq!(enqueued, 3, "one per recipient across both processes");
    assert_eq!(list(&env).len(), 3);

    ok(&env, &["outbox", "run"]);
    let mails = mails_to(&messages, "smb@example.com");
    assert_eq!(mails.len(), 1);
    let text = decoded(&mails[0]);
    assert!(
        text.contains("No data for 2026-W48 in segments smb"),
        "{text}"
    );
    assert!(!text.contains("NPS: "), "no zeros, no figures: {text}");
    let p = verify(&hook.requests()[0]);
    assert_eq!(p["no_data"], true);
    assert_eq!(p["scores"], serde_json::json!([]));
    assert!(p["signals"].is_null());
}

#[test]
fn bad_report_settings_are_refused_naming_the_key_and_value() {
    let env = store();
    let base = "[outbox.smtp]\nhost = \"127.0.0.1\"\ntls = \"none\"\nfrom = \"r@example.com\"\n";
    for (extra, want) in [
        (
            "[report.schedule]\nday = \"mon\"\nhour = 25\ntimezone = \"UTC\"\n[[report.recipients]]\nname = \"a\"\nemail = \"a@x.org\"\n",
            "[report.schedule] hour 25",
        ),
        (
            "[report.schedule]\nday = \"mon\"\nhour = 8\ntimezone = \"Europe/Bruxelles\"\n[[report.recipients]]\nname = \"a\"\nemail = \"a@x.org\"\n",
            "timezone 'Europe/Bruxelles'",
        ),
        (
            "[[report.recipients]]\nname = \"ops\"\n",
            "'ops' has neither email nor webhook",
        ),
        (
            "[[report.recipients]]\nname = \"ops\"\nwebhook = \"http://127.0.0.1:9/h\"\n",
            "set [outbox] webhook_secret",
        ),
    ] {
        env.write("hearken.toml", format!("{base}{extra}"));
        let err = assert_clean_failure(&env.run(&["report", "schedule"]));
        assert!(err.contains(want), "{err} should name {want}");
    }
    // A segment no customer has is refused when checked against the store.
    env.write(
        "hearken.toml",
        format!(
            "{base}[[report.recipients]]\nname = \"ops\"\nemail = \"ops@example.com\"\nsegments = [\"smbb\"]\n"
        ),
    );
    let err = assert_clean_failure(&env.run(&["report", "send", "--week", "2026-W47"]));
    assert!(
        err.contains("'ops' segments 'smbb'") && err.contains("known: enterprise, smb"),
        "{err}"
    );
    env.write(
        "hearken.toml",
        format!("{base}[[report.recipients]]\nname = \"ops\"\nemail = \"ops@example.com\"\n"),
    );
    let err = assert_clean_failure(&env.run(&[
        "report",
        "send",
        "--week",
        "2026-W47",
        "--recipient",
        "nobody",
    ]));
    assert!(
        err.contains("'nobody'") && err.contains("known: ops"),
        "{err}"
    );
    assert!(list(&env).is_empty());
}
