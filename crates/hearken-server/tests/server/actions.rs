//! Improvement actions over HTTP: the same documents as `hearken actions ... --json` (the
//! effect above all), changes recorded with the token's name, and the refusals with their codes.

#![allow(clippy::unwrap_used)]

use serde_json::Value;

use crate::helpers::Env;

/// Runs `hearken ARGS --json` and returns its stdout, trimmed.
fn cli_json(env: &Env, args: &[&str]) -> String {
    let mut a = args.to_vec();
    a.push("--json");
    env.run(&a).trim_end().to_string()
}

#[test]
fn cli_and_api_give_the_same_action_and_effect_documents() {
    let env = Env::new();
    env.run(&[
        "demo",
        "--customers",
        "500",
        "--months",
        "4",
        "--out",
        "demo-files",
    ]);
    let truth: Value = serde_json::from_str(
        &std::fs::read_to_string(env.dir.path().join("demo-files/truth.json")).unwrap(),
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
    env.run(&[
        "actions",
        "create",
        "--title",
        "Fix it",
        "--topic",
        topic,
        "--metric",
        "volume",
        "--created-at",
        "2025-01-01",
    ]);
    for (s, d) in [
        ("planned", "2025-01-02"),
        ("in_progress", "2025-01-03"),
        ("done", at),
    ] {
        env.run(&["actions", "update", "1", "--status", s, "--at", d]);
    }
    let server = env.serve();
    for (args, url) in [
        (
            vec!["actions", "effect", "1"],
            "/api/v1/actions/1/effect".to_string(),
        ),
        (
            vec![
                "actions", "effect", "1", "--before", "21", "--after", "14", "--level", "0.95",
            ],
            "/api/v1/actions/1/effect?before=21&after=14&level=0.95".to_string(),
        ),
        (vec!["actions", "show", "1"], "/api/v1/actions/1".into()),
        (vec!["actions", "list"], "/api/v1/actions".into()),
        (
            vec!["actions", "list", "--status", "done"],
            "/api/v1/actions?status=done".into(),
        ),
    ] {
        let cli = cli_json(&env, &args);
        let api = server.get(&url, Some(&env.viewer));
        assert_eq!(api.status, 200, "GET {url}: {}", api.text());
        assert_eq!(api.text(), cli, "hearken {args:?} and GET {url} differ");
    }
    let e = server
        .get("/api/v1/actions/1/effect", Some(&env.viewer))
        .json();
    for k in [
        "metric",
        "before",
        "after",
        "change",
        "low",
        "high",
        "level",
        "p_value",
        "significant",
        "did",
    ] {
        assert!(e.get(k).is_some(), "{k} in {e}");
    }
    for k in ["change", "low", "high", "p_value", "controls"] {
        assert!(e["did"].get(k).is_some(), "did.{k} in {e}");
    }
    for k in ["value", "n"] {
        assert!(e["before"].get(k).is_some() && e["after"].get(k).is_some());
    }
}

#[test]
fn api_changes_carry_the_tokens_name_and_refusals_their_codes() {
    let env = Env::new();
    let s = env.write(
        "signals.csv",
        "signal_id,at,channel,kind,customer_id,topic,text\n\
         S1,2024-03-05,phone,complaint,C1,billing/double_charge,charged twice\n",
    );
    env.run(&["import", s.to_str().unwrap(), "--kind", "signals"]);
    let server = env.serve();
    let body = r#"{"title":"Stop double charges","topics":["billing/double_charge"],"metric":"volume","created_at":"2024-01-01"}"#;
    let r = server.post_json("/api/v1/actions", Some(&env.analyst), body);
    assert_eq!(r.status, 201, "{}", r.text());
    let a = r.json();
    assert_eq!(a["id"], 1);
    assert_eq!(a["created_by"], "analyst1");

    let patch = |token: &str, body: &str| {
        server.request(
            "PATCH",
            "/api/v1/actions/1",
            Some(token),
            &[("content-type", "application/json")],
            Some(body.as_bytes()),
        )
    };
    let r = patch(&env.analyst, r#"{"status":"planned","at":"2024-02-01"}"#);
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["status"], "planned");
    let last = v["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["who"], "analyst1");
    assert_eq!(last["at"], "2024-02-01T00:00:00Z");

    // An illegal move: 409 with the allowed moves.
    let err = patch(&env.analyst, r#"{"status":"verified"}"#).assert_error(409, "conflict");
    let msg = err["message"].as_str().unwrap();
    assert!(
        msg.contains("cannot move from planned to verified")
            && msg.contains("allowed: in_progress, dropped"),
        "{err}"
    );
    // A viewer may read, not change.
    patch(&env.viewer, r#"{"status":"in_progress"}"#).assert_error(403, "forbidden");
    // A date in the future; an unknown field; an unknown link.
    patch(
        &env.analyst,
        r#"{"status":"in_progress","at":"2999-01-01"}"#,
    )
    .assert_error(422, "invalid_value");
    patch(&env.analyst, r#"{"stauts":"done"}"#).assert_error(422, "invalid_body");
    let r = server.post_json(
        "/api/v1/actions/1/links",
        Some(&env.analyst),
        r#"{"signals":["S404"]}"#,
    );
    let err = r.assert_error(422, "invalid_value");
    assert!(err["message"].as_str().unwrap().contains("'S404'"), "{err}");
    server
        .get("/api/v1/actions/99", Some(&env.viewer))
        .assert_error(404, "not_found");
    // The effect of an action not done.
    server
        .get("/api/v1/actions/1/effect", Some(&env.viewer))
        .assert_error(409, "conflict");
    // Actions are organisation-wide: a token with a data scope sees none.
    let scoped = env.create_token("smb-only", "analyst", &["--segment", "smb"]);
    server
        .get("/api/v1/actions", Some(&scoped))
        .assert_error(403, "out_of_scope");
}

#[test]
fn suggestions_over_http_are_the_cli_documents_and_become_actions() {
    let env = Env::new();
    let s = env.write(
        "signals.csv",
        "signal_id,at,channel,kind,source,agent_id,topic,text\n\
         S1,2024-03-05,web,suggestion,employee,A1,billing/invoice,put the due date on top\n\
         S2,2024-03-06,web,suggestion,employee,A2,,a quieter hold music\n",
    );
    let a = env.write(
        "agents.csv",
        "agent_id,name,team\nA1,Cleo,billing\nA2,Dan,tech\n",
    );
    env.run(&["import", a.to_str().unwrap(), "--kind", "agents"]);
    env.run(&["import", s.to_str().unwrap(), "--kind", "signals"]);
    let server = env.serve();
    let r = server.post_json(
        "/api/v1/suggestions/S2/review",
        Some(&env.analyst),
        r#"{"status":"declined","reason":"not ours to change"}"#,
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["reviewed_by"], "analyst1");
    server
        .post_json(
            "/api/v1/suggestions/S2/review",
            Some(&env.analyst),
            r#"{"status":"declined"}"#,
        )
        .assert_error(422, "invalid_value");
    let r = server.post_json(
        "/api/v1/suggestions/S1/action",
        Some(&env.analyst),
        r#"{"created_at":"2024-03-05"}"#,
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let act = r.json();
    assert_eq!(act["title"], "put the due date on top");
    assert_eq!(act["created_by"], "analyst1");
    server
        .post_json("/api/v1/suggestions/S9/action", Some(&env.analyst), "{}")
        .assert_error(404, "not_found");
    for (args, url) in [
        (vec!["suggestions"], "/api/v1/suggestions"),
        (
            vec!["suggestions", "--employee", "A1"],
            "/api/v1/suggestions?employee=A1",
        ),
        (
            vec!["suggestions", "--status", "declined"],
            "/api/v1/suggestions?status=declined",
        ),
        (vec!["suggestions", "show", "S1"], "/api/v1/suggestions/S1"),
    ] {
        let cli = cli_json(&env, &args);
        let api = server.get(url, Some(&env.viewer));
        assert_eq!(api.status, 200, "GET {url}: {}", api.text());
        assert_eq!(api.text(), cli, "hearken {args:?} and GET {url} differ");
    }
    let s1 = server
        .get("/api/v1/suggestions/S1", Some(&env.viewer))
        .json();
    assert_eq!(s1["status"], "action", "{s1}");
    // A token limited to the tech team sees the tech employee's suggestion only.
    let tech = env.create_token("tech-only", "viewer", &["--team", "tech"]);
    let l = server.get("/api/v1/suggestions", Some(&tech)).json();
    assert_eq!(l["total"], 1, "{l}");
    assert_eq!(l["suggestions"][0]["id"], "S2");
    server
        .get("/api/v1/suggestions/S1", Some(&tech))
        .assert_error(404, "not_found");
}

/// A receiver on 127.0.0.1 that answers every request 204 and keeps each `webhook-id` header.
fn receiver() -> (String, std::sync::Arc<std::sync::Mutex<Vec<String>>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let ids: std::sync::Arc<std::sync::Mutex<Vec<String>>> = Default::default();
    let got = std::sync::Arc::clone(&ids);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut r = BufReader::new(stream.try_clone().unwrap());
            let (mut len, mut id) = (0usize, String::new());
            let mut line = String::new();
            while r.read_line(&mut line).is_ok() {
                let l = line.trim_end().to_ascii_lowercase();
                if l.is_empty() {
                    break;
                }
                if let Some(v) = l.strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                if let Some(v) = line.trim_end().strip_prefix("webhook-id:") {
                    id = v.trim().to_string();
                }
                line.clear();
            }
            let mut body = vec![0; len];
            let _ = r.read_exact(&mut body);
            got.lock().unwrap().push(id);
            let _ = stream.write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n");
        }
    });
    (url, ids)
}

#[test]
fn the_server_delivers_the_outbox_and_shows_each_deliverys_status() {
    let env = Env::new();
    let c = env.write("customers.csv", "customer_id,name,segment\nC1,Ann,smb\n");
    let s = env.write(
        "signals.csv",
        "signal_id,at,channel,kind,customer_id,topic,text\n\
         S1,2024-03-05,phone,complaint,C1,billing/double_charge,charged twice\n",
    );
    env.run(&["import", c.to_str().unwrap(), "--kind", "customers"]);
    env.run(&["import", s.to_str().unwrap(), "--kind", "signals"]);
    let (url, ids) = receiver();
    env.write(
        "hearken.toml",
        &format!(
            "[outbox]\nwebhook_url = \"{url}\"\nwebhook_secret = \"whsec_{}\"\n",
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
        ),
    );
    let server = env.serve();
    let r = server.post_json(
        "/api/v1/actions",
        Some(&env.analyst),
        r#"{"title":"One charge per order","signals":["S1"],"created_at":"2024-03-01"}"#,
    );
    assert_eq!(r.status, 201, "{}", r.text());
    for body in [
        r#"{"status":"planned","at":"2024-03-02"}"#,
        r#"{"status":"in_progress","at":"2024-03-03"}"#,
        r#"{"status":"done","at":"2024-03-04"}"#,
    ] {
        let r = server.request(
            "PATCH",
            "/api/v1/actions/1",
            Some(&env.analyst),
            &[("content-type", "application/json")],
            Some(body.as_bytes()),
        );
        assert_eq!(r.status, 200, "{}", r.text());
    }
    // The server's outbox thread delivers it (it looks every few seconds).
    let start = std::time::Instant::now();
    let sent = loop {
        let o = server.get("/api/v1/outbox", Some(&env.analyst));
        assert_eq!(o.status, 200, "{}", o.text());
        let o = o.json();
        if o["notifications"][0]["deliveries"][0]["state"] == "sent" {
            break o;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "not delivered: {o}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let n = &sent["notifications"][0];
    assert_eq!(n["recipient"], "customer");
    assert_eq!(n["recipient_id"], "C1");
    assert_eq!(n["deliveries"][0]["last_code"], 204);
    assert_eq!(*ids.lock().unwrap(), [n["message_id"].as_str().unwrap()]);
    // Status is for analysts; a viewer is refused.
    server
        .get("/api/v1/outbox", Some(&env.viewer))
        .assert_error(403, "forbidden");
}

/// The ISO week label (`2026-W47`) of the last week that has ended at Unix time `now`.
fn last_complete_week(now: i64) -> String {
    let day = now.div_euclid(86_400);
    // 1970-01-01 was a Thursday: days since the epoch + 3, mod 7, is days since Monday.
    let monday = day - (day + 3).rem_euclid(7) - 7;
    let thursday = monday + 3;
    let year: i32 = hearken_model::Timestamp::from_unix(thursday * 86_400).to_rfc3339()[..4]
        .parse()
        .unwrap();
    let jan1 = hearken_model::Timestamp::from_ymd(year, 1, 1)
        .unwrap()
        .unix()
        / 86_400;
    format!("{year}-W{:02}", (thursday - jan1) / 7 + 1)
}

#[test]
fn the_served_scheduler_sends_the_last_complete_week_once_and_the_api_lists_it() {
    assert_eq!(
        last_complete_week(1_764_000_000), // 2025-11-24T16:00:00Z, a Monday
        "2025-W47"
    );
    assert_eq!(last_complete_week(1_735_689_600), "2024-W52"); // 2025-01-01
    let env = Env::new();
    let c = env.write("customers.csv", "customer_id,name,segment\nC1,Ann,smb\n");
    env.run(&["import", c.to_str().unwrap(), "--kind", "customers"]);
    let (url, ids) = receiver();
    // Monday 00:00 UTC: a week is due the instant it ends, so at any time the last complete
    // week is due, and the server sends it when it starts (a catch-up).
    env.write(
        "hearken.toml",
        &format!(
            "[outbox]\nwebhook_secret = \"whsec_{}\"\n\
             [report.schedule]\nday = \"mon\"\nhour = 0\ntimezone = \"UTC\"\n\
             [[report.recipients]]\nname = \"ops\"\nwebhook = \"{url}\"\nsegments = [\"smb\"]\n",
            "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
        ),
    );
    let now = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64
    };
    let before = last_complete_week(now());
    let server = env.serve();
    let start = std::time::Instant::now();
    let sent = loop {
        let o = server.get("/api/v1/outbox", Some(&env.analyst));
        assert_eq!(o.status, 200, "{}", o.text());
        let o = o.json();
        if o["notifications"][0]["deliveries"][0]["state"] == "sent" {
            break o;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(60),
            "not delivered: {o}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let after = last_complete_week(now());
    let n = &sent["notifications"][0];
    assert_eq!(n["kind"], "report.weekly");
    assert_eq!(n["recipient"], "report");
    assert_eq!(n["recipient_id"], "ops");
    assert!(n["action_id"].is_null());
    let week = n["week"].as_str().unwrap();
    assert!(
        week == before || week == after,
        "{week}: {before} or {after}"
    );
    assert_eq!(*ids.lock().unwrap(), [n["message_id"].as_str().unwrap()]);
    drop(server);

    // A restart ticks again at start: nothing new for the same week.
    let server = env.serve();
    std::thread::sleep(std::time::Duration::from_secs(3));
    let o = server.get("/api/v1/outbox", Some(&env.analyst)).json();
    assert_eq!(o["notifications"].as_array().unwrap().len(), 1, "{o}");
    assert_eq!(ids.lock().unwrap().len(), 1);
}
