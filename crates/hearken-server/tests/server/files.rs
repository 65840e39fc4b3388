//! Files over HTTP: an uploaded file is imported as `hearken import` imports it, and
//! `GET /api/v1/export/...` streams the very bytes `hearken export ...` writes, a scoped token's
//! export being the CLI's export of its slice.

use serde_json::Value;

use crate::helpers::{Env, Server};

const SIGNALS_CSV: &str = "signal_id,at,channel,kind,customer_id,text\n\
U1,2024-05-01T10:00:00Z,email,complaint,C1,The app crashes on login\n\
U2,2024-05-01T11:00:00Z,chat,question,C2,How do I reset my password?\n\
U3,2024-05-01T12:00:00Z,pigeon,question,C3,Carrier pigeon\n";

fn upload(server: &Server, token: &str, query: &str, body: &[u8]) -> crate::helpers::Resp {
    server.request(
        "POST",
        &format!("/api/v1/imports?{query}"),
        Some(token),
        &[("content-type", "text/csv")],
        Some(body),
    )
}

#[test]
fn an_uploaded_file_is_imported_as_the_command_imports_it() {
    let env = Env::new();
    let server = env.serve();
    let r = upload(
        &server,
        &env.analyst,
        "kind=signals&filename=tickets.csv",
        SIGNALS_CSV.as_bytes(),
    );
    assert_eq!(r.status, 201, "{}", r.text());
    let api = r.json();

    // The same file with the command, into another store.
    let other = Env::new();
    let path = other.write("tickets.csv", SIGNALS_CSV);
    let cli: Value = serde_json::from_str(&other.run(&[
        "import",
        "--kind",
        "signals",
        "--json",
        path.to_str().expect("utf-8"),
    ]))
    .expect("import --json");
    let cli = cli.as_array().map_or(cli.clone(), |a| a[0].clone());
    for field in ["read", "stored", "duplicates", "quarantined", "skipped"] {
        assert_eq!(api[field], cli[field], "{field}: api {api} cli {cli}");
    }
    assert_eq!(api["stored"], 2, "{api}");
    assert_eq!(api["quarantined"], 1, "{api}");
    // Recorded as an import; the same rows again are duplicates.
    let again = upload(
        &server,
        &env.analyst,
        "kind=signals&filename=tickets.csv",
        SIGNALS_CSV.as_bytes(),
    );
    assert_eq!(again.status, 201, "{}", again.text());
    assert_eq!(again.json()["stored"], 0, "{}", again.text());
    let list = server.get("/api/v1/imports", Some(&env.viewer)).json();
    assert_eq!(list["imports"].as_array().map(Vec::len), Some(2), "{list}");

    // Bad names, kinds and roles.
    for bad in [
        "kind=signals&filename=..%2F..%2Fetc%2Fpasswd.csv",
        "kind=signals&filename=.hidden.csv",
        "kind=signals&filename=a%00b.csv",
        "kind=signals&filename=notes.exe",
    ] {
        upload(&server, &env.analyst, bad, b"x").assert_error(422, "invalid_value");
    }
    upload(&server, &env.analyst, "kind=tweets", b"x").assert_error(400, "invalid_query");
    upload(&server, &env.analyst, "filename=a.csv", b"x").assert_error(400, "invalid_query");
    upload(&server, &env.analyst, "kind=signals&colour=blue", b"x")
        .assert_error(400, "invalid_query");
    upload(&server, &env.viewer, "kind=signals", b"x").assert_error(403, "forbidden");
    let r = upload(
        &server,
        &env.analyst,
        "kind=signals&filename=broken.jsonl",
        b"{\"signal_id\": 1, \n\x00\xff",
    );
    assert!(r.status < 500, "{} {}", r.status, r.text());
    assert_eq!(server.get("/health", None).status, 200);
}

#[test]
fn exports_stream_the_commands_bytes_and_honour_the_tokens_scope() {
    let env = Env::new();
    env.run(&[
        "demo",
        "--customers",
        "120",
        "--months",
        "2",
        "--out",
        "demo-files",
    ]);
    let server = env.serve();
    let segment = {
        let page: Value =
            serde_json::from_str(&env.run(&["signals", "--limit", "50", "--json"])).expect("json");
        page["signals"]
            .as_array()
            .and_then(|s| s.iter().find_map(|s| s["segment"].as_str()))
            .expect("a segment")
            .to_string()
    };
    let scoped = env.create_token("scoped-analyst", "analyst", &["--segment", &segment]);
    let cases: Vec<(Vec<String>, String, &str)> = vec![
        (
            vec!["signals".into(), "--format".into(), "csv".into()],
            "/api/v1/export/signals".into(),
            "analyst",
        ),
        (
            vec!["case-events".into(), "--format".into(), "jsonl".into()],
            "/api/v1/export/case-events?format=jsonl".into(),
            "analyst",
        ),
        (
            vec![
                "surveys".into(),
                "--format".into(),
                "csv".into(),
                "--from".into(),
                "2025-01-15".into(),
            ],
            "/api/v1/export/surveys?from=2025-01-15".into(),
            "analyst",
        ),
        (
            vec![
                "scores".into(),
                "--format".into(),
                "csv".into(),
                "--by".into(),
                "segment".into(),
            ],
            "/api/v1/export/scores?by=segment".into(),
            "analyst",
        ),
        (
            vec![
                "signals".into(),
                "--format".into(),
                "csv".into(),
                "--segment".into(),
                segment.clone(),
            ],
            "/api/v1/export/signals".into(),
            "scoped",
        ),
    ];
    for (args, url, who) in cases {
        let out = env.dir.path().join("export.out");
        let mut full = vec!["export".to_string()];
        full.extend(args.iter().cloned());
        full.push("--out".into());
        full.push(out.to_str().expect("utf-8").into());
        let refs: Vec<&str> = full.iter().map(String::as_str).collect();
        env.run(&refs);
        let want = std::fs::read(&out).expect("the CLI's file");
        let token = if who == "scoped" {
            &scoped
        } else {
            &env.analyst
        };
        let r = server.get(&url, Some(token));
        assert_eq!(r.status, 200, "GET {url}: {}", r.text());
        assert!(
            r.body == want,
            "GET {url} ({who}) differs from hearken {}: {} vs {} bytes",
            full.join(" "),
            r.body.len(),
            want.len()
        );
        assert!(want.len() > 100, "{url}: a non-trivial export");
    }
    server
        .get("/api/v1/export/passwords", Some(&env.analyst))
        .assert_error(404, "not_found");
    server
        .get("/api/v1/export/signals?format=xlsx", Some(&env.analyst))
        .assert_error(400, "invalid_query");
    server
        .get("/api/v1/export/signals?segment=nope", Some(&env.analyst))
        .assert_error(400, "unknown_filter_value");
    server
        .get("/api/v1/export/signals?colour=blue", Some(&env.analyst))
        .assert_error(400, "invalid_query");
    server
        .get("/api/v1/export/signals", Some(&env.viewer))
        .assert_error(403, "forbidden");
    let other_segment = if segment == "enterprise" {
        "smb"
    } else {
        "enterprise"
    };
    let r = server.get(
        &format!("/api/v1/export/signals?segment={other_segment}"),
        Some(&scoped),
    );
    assert!(
        [400, 403].contains(&r.status),
        "a segment outside the scope is refused: {} {}",
        r.status,
        r.text()
    );
}
