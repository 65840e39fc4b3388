//! One question, one document: for every analytic (and the signals and topic-model listings),
//! `hearken <analytic> ... --json` and `GET /api/v1/<analytic>?...` print the same bytes, on a
//! generated store, for several option combinations each (grouping, filters, windows). Both
//! sides are built from one table, so the CLI flag `--against-from X` and the query parameter
//! `against_from=X` always ask the same question.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::helpers::{Env, Server};

/// A generated organisation (300 customers, 2 months from 2025-01-01) in the Env's store.
fn demo() -> Env {
    let env = Env::new();
    env.run(&[
        "demo",
        "--customers",
        "300",
        "--months",
        "2",
        "--out",
        "demo-files",
    ]);
    env
}

/// `%`-encodes a query-string value (RFC 3986 unreserved characters stay).
fn encode(v: &str) -> String {
    let mut out = String::new();
    for b in v.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One question: the command words, the API path, and its options as `(name, value)`.
struct Case {
    command: &'static [&'static str],
    path: &'static str,
    options: Vec<(&'static str, String)>,
}

impl Case {
    fn new(
        command: &'static [&'static str],
        path: &'static str,
        options: &[(&'static str, &str)],
    ) -> Case {
        Case {
            command,
            path,
            options: options.iter().map(|(k, v)| (*k, v.to_string())).collect(),
        }
    }

    /// `hearken <command> --<name-with-hyphens> <value>... --json`
    fn cli(&self) -> Vec<String> {
        let mut args: Vec<String> = self.command.iter().map(|s| s.to_string()).collect();
        for (k, v) in &self.options {
            args.push(format!("--{}", k.replace('_', "-")));
            args.push(v.clone());
        }
        args.push("--json".into());
        args
    }

    /// `/api/v1/<path>?<name>=<value>&...`
    fn url(&self) -> String {
        let query: Vec<String> = self
            .options
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        if query.is_empty() {
            format!("/api/v1/{}", self.path)
        } else {
            format!("/api/v1/{}?{}", self.path, query.join("&"))
        }
    }
}

/// Asks both surfaces; asserts the same bytes and returns the document.
fn same_document(env: &Env, server: &Server, case: &Case) -> Value {
    let args = case.cli();
    let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let cli = env.run(&arg_refs);
    let cli = cli.trim_end();
    let url = case.url();
    let api = server.get(&url, Some(&env.viewer));
    assert_eq!(api.status, 200, "GET {url}: {}", api.text());
    assert_eq!(api.header("content-type"), Some("application/json"));
    assert!(
        api.text() == cli,
        "hearken {} and GET {url} differ:\ncli: {}\napi: {}",
        args.join(" "),
        &cli[..cli.len().min(600)],
        &api.text()[..api.text().len().min(600)]
    );
    serde_json::from_str(cli).expect("--json prints JSON")
}

#[test]
fn cli_json_and_api_answer_are_the_same_document_for_every_analytic() {
    let env = demo();
    let server = env.serve();

    // A labelled file from the generated signals' own topics, so that a topic model exists to list.
    let page = server.get(
        "/api/v1/signals?topic=network%2Foutage&limit=40",
        Some(&env.viewer),
    );
    assert_eq!(page.status, 200, "{}", page.text());
    let mut labelled = String::from("text,category\n");
    for topic in [
        "network/outage",
        "billing/wrong_amount",
        "product/slow_performance",
    ] {
        let url = format!("/api/v1/signals?topic={}&limit=40", encode(topic));
        for s in server.get(&url, Some(&env.viewer)).json()["signals"]
            .as_array()
            .expect("signals")
        {
            let text = s["text"].as_str().expect("a text").replace('"', "\"\"");
            labelled.push_str(&format!("\"{text}\",{topic}\n"));
        }
    }
    env.write("labelled.csv", &labelled);
    env.run(&["topics", "train", "--data", "labelled.csv"]);

    // A quarantined row, so that the quarantine has something to list.
    env.write(
        "late.csv",
        "signal_id,at,channel,kind,customer_id,text\n\
         L1,2025-02-20T10:00:00Z,email,complaint,C0000004,still waiting for the refund\n\
         L2,not-a-date,email,complaint,C0000004,this row has no readable date\n",
    );
    env.run(&["import", "--kind", "signals", "late.csv"]);

    let first = server
        .get("/api/v1/signals?limit=3", Some(&env.viewer))
        .json();
    let cursor = first["next_cursor"]
        .as_str()
        .expect("more than one page of signals")
        .to_string();
    let signal_id = first["signals"][0]["id"]
        .as_str()
        .expect("an id")
        .to_string();
    let customer = first["signals"]
        .as_array()
        .expect("signals")
        .iter()
        .find_map(|s| s["customer_id"].as_str())
        .unwrap_or("C0000004")
        .to_string();

    let (from, to) = ("2025-01-15", "2025-02-15");
    let cases = vec![
        // scores: overall, each metric, groups, filters, windows, a change, bootstrap
        Case::new(&["scores"], "scores", &[]),
        Case::new(&["scores"], "scores", &[("metric", "csat")]),
        Case::new(
            &["scores"],
            "scores",
            &[("metric", "ces"), ("level", "0.95")],
        ),
        Case::new(&["scores"], "scores", &[("by", "segment")]),
        Case::new(
            &["scores"],
            "scores",
            &[("metric", "csat"), ("by", "tenure-band")],
        ),
        Case::new(
            &["scores"],
            "scores",
            &[("by", "product"), ("from", from), ("to", to)],
        ),
        Case::new(
            &["scores"],
            "scores",
            &[
                ("metric", "sentiment"),
                ("by", "topic"),
                ("channel", "email"),
            ],
        ),
        Case::new(
            &["scores"],
            "scores",
            &[("metric", "sentiment"), ("by", "week"), ("segment", "smb")],
        ),
        Case::new(
            &["scores"],
            "scores",
            &[
                ("from", "2025-02-01"),
                ("against_from", "2025-01-01"),
                ("against_to", "2025-02-01"),
            ],
        ),
        Case::new(
            &["scores"],
            "scores",
            &[("by", "channel"), ("bootstrap", "200")],
        ),
        // pareto: each kind of entity, top, filters
        Case::new(&["pareto"], "pareto", &[]),
        Case::new(&["pareto"], "pareto", &[("by", "product"), ("top", "5")]),
        Case::new(
            &["pareto"],
            "pareto",
            &[("by", "topic"), ("segment", "enterprise")],
        ),
        Case::new(
            &["pareto"],
            "pareto",
            &[
                ("by", "agent"),
                ("from", from),
                ("to", to),
                ("team", "frontline"),
            ],
        ),
        // drivers
        Case::new(&["drivers"], "drivers", &[]),
        Case::new(
            &["drivers"],
            "drivers",
            &[("target", "nps"), ("level", "0.8")],
        ),
        Case::new(
            &["drivers"],
            "drivers",
            &[
                ("service", "ease"),
                ("from", "2025-01-01"),
                ("to", "2025-03-01"),
            ],
        ),
        // trends
        Case::new(&["trends"], "trends", &[]),
        Case::new(
            &["trends"],
            "trends",
            &[("period", "day"), ("from", from), ("to", to)],
        ),
        Case::new(
            &["trends"],
            "trends",
            &[("period", "month"), ("channel", "phone")],
        ),
        // repeats
        Case::new(&["repeats"], "repeats", &[]),
        Case::new(
            &["repeats"],
            "repeats",
            &[("days", "14"), ("cost_per_contact", "12.5")],
        ),
        Case::new(
            &["repeats"],
            "repeats",
            &[("level", "0.95"), ("segment", "consumer")],
        ),
        // issues
        Case::new(&["issues-rank"], "issues", &[]),
        Case::new(
            &["issues-rank"],
            "issues",
            &[("limit", "3"), ("evidence", "2")],
        ),
        Case::new(
            &["issues-rank"],
            "issues",
            &[("evidence", "0"), ("from", from), ("to", to)],
        ),
        // themes
        Case::new(&["themes"], "themes", &[("k", "5"), ("sample", "300")]),
        Case::new(
            &["themes"],
            "themes",
            &[("k", "3"), ("sample", "200"), ("segment", "smb")],
        ),
        // topic models
        Case::new(&["topics", "list"], "topics", &[]),
        // signals: pages, search, filters, a customer, the next page
        Case::new(&["signals"], "signals", &[("limit", "5")]),
        Case::new(
            &["signals"],
            "signals",
            &[("limit", "3"), ("search", "internet connection")],
        ),
        Case::new(
            &["signals"],
            "signals",
            &[("kind", "complaint"), ("channel", "phone"), ("limit", "4")],
        ),
        Case::new(
            &["signals"],
            "signals",
            &[("topic", "network/outage"), ("limit", "2")],
        ),
        Case::new(
            &["signals"],
            "signals",
            &[("customer", &customer), ("limit", "50")],
        ),
        Case::new(
            &["signals"],
            "signals",
            &[("limit", "3"), ("cursor", &cursor)],
        ),
        // the quarantine
        Case::new(&["quarantine"], "quarantine", &[("limit", "5")]),
    ];

    let mut by_path: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for case in &cases {
        let doc = same_document(&env, &server, case);
        by_path.entry(case.path).or_default().push(doc);
    }
    // Every analytic was asked, and its options were honoured (both sides changed the answer).
    for path in [
        "scores", "pareto", "drivers", "trends", "repeats", "issues", "themes", "topics", "signals",
    ] {
        let docs = &by_path[path];
        for (i, a) in docs.iter().enumerate() {
            assert!(
                a.get("no_data") != Some(&Value::Bool(true)),
                "{path} case {i} has no data: {a}"
            );
            for b in &docs[i + 1..] {
                assert_ne!(a, b, "two option sets of {path} gave the same answer");
            }
        }
    }
    assert_eq!(
        by_path["topics"][0]["models"].as_array().map(Vec::len),
        Some(1),
        "the trained model is listed"
    );
    assert_eq!(
        by_path["quarantine"][0]["entries"].as_array().map(Vec::len),
        Some(1),
        "the quarantined row is listed"
    );

    // One signal by id.
    let case = Case {
        command: &["signals"],
        path: "signals",
        options: vec![("id", signal_id.clone())],
    };
    let args = case.cli();
    let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let cli = env.run(&arg_refs);
    let api = server.get(
        &format!("/api/v1/signals/{}", encode(&signal_id)),
        Some(&env.viewer),
    );
    assert_eq!(api.status, 200, "{}", api.text());
    assert_eq!(api.text(), cli.trim_end());
    assert_eq!(api.json()["id"], signal_id.as_str());
}

#[test]
fn refusals_are_the_query_layers_with_their_codes() {
    let env = demo();
    let server = env.serve();
    let viewer = Some(env.viewer.as_str());

    // An unknown filter value: 400 listing the known ones, as the CLI says it.
    let v = server
        .get("/api/v1/scores?segment=nope", viewer)
        .assert_error(400, "unknown_filter_value");
    let message = v["message"].as_str().expect("message");
    for known in ["consumer", "enterprise", "smb"] {
        assert!(message.contains(known), "{message}");
    }
    let out = env
        .cmd()
        .args(["scores", "--segment", "nope"])
        .output()
        .expect("run hearken");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown segment 'nope' (known: consumer, enterprise, smb)"),
        "{stderr}"
    );

    // An unknown parameter, a wrong type, a closed set's unknown name: 400 invalid_query.
    for url in [
        "/api/v1/scores?bogus=1",
        "/api/v1/pareto?top=many",
        "/api/v1/scores?by=galaxy",
        "/api/v1/trends?period=fortnight",
    ] {
        server.get(url, viewer).assert_error(400, "invalid_query");
    }
    // The query layer's own refusals keep their code and status.
    for (url, status, code) in [
        ("/api/v1/scores?from=yesterday-ish", 400, "invalid_date"),
        (
            "/api/v1/scores?from=2025-02-01&to=2025-01-01",
            400,
            "empty_window",
        ),
        ("/api/v1/scores?level=1.5", 400, "out_of_range"),
        ("/api/v1/pareto?by=month", 400, "unsupported_group"),
        (
            "/api/v1/scores?metric=nps&by=topic",
            400,
            "unsupported_group",
        ),
        (
            "/api/v1/scores?against_from=2025-01-01",
            400,
            "conflicting_options",
        ),
        ("/api/v1/signals?cursor=abc", 400, "invalid_request"),
        ("/api/v1/signals/no-such-signal", 404, "not_found"),
        ("/api/v1/signals?customer=nobody", 404, "not_found"),
        ("/api/v1/drivers?service=nope", 400, "unknown_filter_value"),
        ("/api/v1/repeats?days=0", 400, "out_of_range"),
        ("/api/v1/issues?limit=0", 400, "out_of_range"),
        ("/api/v1/themes?k=1000", 400, "out_of_range"),
    ] {
        let v = server.get(url, viewer).assert_error(status, code);
        assert!(
            !v["message"].as_str().unwrap_or("").is_empty(),
            "{url}: {v}"
        );
    }
}

#[test]
fn without_topics_trends_repeats_and_issues_are_422_no_topics() {
    let env = Env::new();
    env.write(
        "signals.csv",
        "signal_id,at,channel,kind,customer_id,text\n\
         s1,2025-01-02T10:00:00Z,email,complaint,c1,the router is broken\n\
         s2,2025-01-03T10:00:00Z,phone,compliment,c2,thanks for the quick help\n",
    );
    env.run(&["import", "--kind", "signals", "signals.csv"]);
    let server = env.serve();
    let viewer = Some(env.viewer.as_str());
    for path in ["trends", "repeats", "issues"] {
        let v = server
            .get(&format!("/api/v1/{path}"), viewer)
            .assert_error(422, "no_topics");
        assert!(
            v["hint"]
                .as_str()
                .is_some_and(|h| h.contains("topics train")),
            "{v}"
        );
    }
    // No survey with aspect ratings: drivers has no data to work on.
    server
        .get("/api/v1/drivers", viewer)
        .assert_error(422, "no_data");
}

/// A scoped token's figures are the CLI's figures filtered to that slice: the same document as
/// `hearken <analytic> ... --segment S --json` (or `--team T`), for every analytic; a filter
/// outside the slice, and store-wide records, are refused with 403 `out_of_scope`.
#[test]
fn a_scoped_tokens_figures_are_the_cli_figures_of_its_slice() {
    let env = demo();
    let smb = env.create_token("smb-only", "viewer", &["--segment", "smb"]);
    let team = env.create_token("frontline-only", "viewer", &["--team", "frontline"]);
    let server = env.serve();

    let cases = [
        Case::new(&["scores"], "scores", &[]),
        Case::new(&["scores"], "scores", &[("by", "channel")]),
        Case::new(
            &["scores"],
            "scores",
            &[("metric", "sentiment"), ("by", "topic")],
        ),
        Case::new(&["pareto"], "pareto", &[("by", "product")]),
        Case::new(&["drivers"], "drivers", &[]),
        Case::new(&["trends"], "trends", &[("period", "month")]),
        Case::new(&["repeats"], "repeats", &[]),
        Case::new(
            &["issues-rank"],
            "issues",
            &[("limit", "3"), ("evidence", "2")],
        ),
        Case::new(&["themes"], "themes", &[("k", "3"), ("sample", "200")]),
        Case::new(&["signals"], "signals", &[("limit", "5")]),
    ];
    for (token, filter, value) in [(&smb, "segment", "smb"), (&team, "team", "frontline")] {
        let mut compared = 0;
        for case in &cases {
            let url = case.url();
            let api = server.get(&url, Some(token));
            // The CLI sees everything; filtered to the token's slice it must say the same.
            let mut args = case.cli();
            args.insert(args.len() - 1, format!("--{filter}"));
            args.insert(args.len() - 1, value.to_string());
            let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = env.cmd().args(&arg_refs).output().expect("run hearken");
            if out.status.success() {
                assert_eq!(
                    api.status,
                    200,
                    "GET {url} as {filter} {value}: {}",
                    api.text()
                );
                assert!(
                    api.text() == String::from_utf8_lossy(&out.stdout).trim_end(),
                    "GET {url} with a {filter} token and hearken {} differ:\napi: {}",
                    args.join(" "),
                    &api.text()[..api.text().len().min(400)]
                );
                compared += 1;
            } else {
                // Refused on both sides (a slice with no aspect ratings, say), with the same code.
                assert!(api.status >= 400, "GET {url}: {}", api.text());
            }
            let unscoped = server.get(&url, Some(&env.viewer));
            if case.path != "drivers" {
                assert_ne!(
                    api.text(),
                    unscoped.text(),
                    "{url}: the slice differs from the whole"
                );
            }
        }
        assert!(
            compared >= 8,
            "{filter} {value}: only {compared} documents compared"
        );
    }
    server
        .get("/api/v1/scores?segment=enterprise", Some(&smb))
        .assert_error(403, "out_of_scope");
    server
        .get("/api/v1/pareto?team=billing", Some(&team))
        .assert_error(403, "out_of_scope");
    server
        .get("/api/v1/quarantine", Some(&smb))
        .assert_error(403, "out_of_scope");
    // A signal outside the slice does not exist for the token.
    let outside = server
        .get(
            "/api/v1/signals?segment=enterprise&limit=1",
            Some(&env.viewer),
        )
        .json();
    let id = outside["signals"][0]["id"]
        .as_str()
        .expect("a signal")
        .to_string();
    assert_eq!(
        server
            .get(
                &format!("/api/v1/signals/{}", encode(&id)),
                Some(&env.viewer)
            )
            .status,
        200
    );
    server
        .get(&format!("/api/v1/signals/{}", encode(&id)), Some(&smb))
        .assert_error(404, "not_found");
}
