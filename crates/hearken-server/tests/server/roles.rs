//! Who may call what: the role matrix, built against the served OpenAPI document so that a route
//! added without a row here fails the test.

use std::collections::BTreeSet;

use crate::helpers::Env;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Min {
    /// No token needed.
    Public,
    /// No token: the delivery's signature authenticates it (`POST /hooks/{name}`).
    Signed,
    Viewer,
    Analyst,
    Admin,
}

/// Every route of the API with the least role it needs. A new route needs a row here.
const MATRIX: &[(&str, &str, Min)] = &[
    ("GET", "/health", Min::Public),
    ("GET", "/metrics", Min::Viewer),
    ("GET", "/api/openapi.json", Min::Viewer),
    ("GET", "/api/docs", Min::Viewer),
    ("GET", "/api/v1/status", Min::Viewer),
    ("GET", "/api/v1/tokens", Min::Admin),
    ("POST", "/api/v1/tokens", Min::Admin),
    ("DELETE", "/api/v1/tokens/{name_or_id}", Min::Admin),
    ("GET", "/api/v1/scores", Min::Viewer),
    ("GET", "/api/v1/pareto", Min::Viewer),
    ("GET", "/api/v1/drivers", Min::Viewer),
    ("GET", "/api/v1/trends", Min::Viewer),
    ("GET", "/api/v1/repeats", Min::Viewer),
    ("GET", "/api/v1/issues", Min::Viewer),
    ("GET", "/api/v1/themes", Min::Viewer),
    ("GET", "/api/v1/topics", Min::Viewer),
    ("GET", "/api/v1/signals", Min::Viewer),
    ("GET", "/api/v1/signals/{id}", Min::Viewer),
    ("POST", "/api/v1/signals", Min::Analyst),
    ("GET", "/api/v1/customers/{id}", Min::Viewer),
    ("GET", "/api/v1/customers/{id}/timeline", Min::Viewer),
    ("GET", "/api/v1/cases/{id}", Min::Viewer),
    ("GET", "/api/v1/flow", Min::Viewer),
    ("GET", "/api/v1/overview", Min::Viewer),
    ("GET", "/api/v1/imports", Min::Viewer),
    ("POST", "/api/v1/imports", Min::Analyst),
    ("GET", "/api/v1/export/{what}", Min::Analyst),
    ("POST", "/api/v1/surveys", Min::Analyst),
    ("POST", "/api/v1/case-events", Min::Analyst),
    ("GET", "/api/v1/quarantine", Min::Viewer),
    ("GET", "/api/v1/risk", Min::Viewer),
    ("GET", "/api/v1/risk/matrix", Min::Viewer),
    ("GET", "/api/v1/cost", Min::Viewer),
    ("GET", "/api/v1/assess/report", Min::Viewer),
    ("GET", "/api/v1/webhooks", Min::Admin),
    ("POST", "/api/v1/webhooks", Min::Admin),
    ("DELETE", "/api/v1/webhooks/{name}", Min::Admin),
    ("POST", "/hooks/{name}", Min::Signed),
    ("GET", "/api/v1/actions", Min::Viewer),
    ("POST", "/api/v1/actions", Min::Analyst),
    ("GET", "/api/v1/actions/{id}", Min::Viewer),
    ("PATCH", "/api/v1/actions/{id}", Min::Analyst),
    ("POST", "/api/v1/actions/{id}/links", Min::Analyst),
    ("GET", "/api/v1/actions/{id}/effect", Min::Viewer),
    ("GET", "/api/v1/outbox", Min::Analyst),
    ("GET", "/api/v1/suggestions", Min::Viewer),
    ("GET", "/api/v1/suggestions/{id}", Min::Viewer),
    ("POST", "/api/v1/suggestions/{id}/review", Min::Analyst),
    ("POST", "/api/v1/suggestions/{id}/action", Min::Analyst),
];

/// A concrete request for a row: path parameters filled with a value that names nothing, and a
/// valid body where the route takes one.
fn concrete(method: &str, path: &str, n: usize) -> (String, Option<String>) {
    let path = path
        .replace("{name_or_id}", "no-such-token")
        .replace("{id}", "no-such-signal")
        .replace("{what}", "customers")
        .replace("/api/v1/webhooks/{name}", "/api/v1/webhooks/no-such-hook")
        .replace("/hooks/{name}", "/hooks/matrix-hook");
    let body = match (method, path.as_str()) {
        ("POST", "/api/v1/tokens") => Some(format!(r#"{{"name":"matrix{n}","role":"viewer"}}"#)),
        ("POST", "/api/v1/webhooks") => Some(format!(
            r#"{{"name":"matrix{n}","format":"standard","kind":"signals"}}"#
        )),
        ("POST", _) => Some("{}".to_string()),
        _ => None,
    };
    (path, body)
}

#[test]
fn role_matrix_covers_every_route_of_the_openapi_document() {
    let env = Env::new();
    // A hook to deliver to: without a signature, every caller is refused, tokens or not.
    env.run(&[
        "webhooks",
        "add",
        "matrix-hook",
        "--format",
        "standard",
        "--kind",
        "signals",
    ]);
    let server = env.serve();
    let spec = server.get("/api/openapi.json", Some(&env.admin));
    assert_eq!(spec.status, 200, "{}", spec.text());
    let spec = spec.json();

    let mut served = BTreeSet::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for method in item.as_object().expect("path item").keys() {
            if [
                "get", "put", "post", "delete", "patch", "head", "options", "trace",
            ]
            .contains(&method.as_str())
            {
                served.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    let rows: BTreeSet<(String, String)> = MATRIX
        .iter()
        .map(|(m, p, _)| (m.to_string(), p.to_string()))
        .collect();
    let missing: Vec<_> = served.difference(&rows).collect();
    let stale: Vec<_> = rows.difference(&served).collect();
    assert!(
        missing.is_empty(),
        "routes in /api/openapi.json without a row in MATRIX (add one with the least role): {missing:?}"
    );
    assert!(
        stale.is_empty(),
        "rows in MATRIX for routes the server does not have: {stale:?}"
    );

    let tokens = [
        (Min::Viewer, env.viewer.as_str()),
        (Min::Analyst, env.analyst.as_str()),
        (Min::Admin, env.admin.as_str()),
    ];
    let mut n = 0;
    for &(method, path, min) in MATRIX {
        // The spec says whether the route needs a token: it must agree with the row.
        let op = &spec["paths"][path][method.to_lowercase()];
        let secured = op["security"].as_array().is_some_and(|s| !s.is_empty());
        assert_eq!(
            secured,
            !matches!(min, Min::Public | Min::Signed),
            "{method} {path}: security in the spec"
        );

        n += 1;
        let (p, body) = concrete(method, path, n);
        let call = |token: Option<&str>| {
            let headers: &[(&str, &str)] = if body.is_some() {
                &[("content-type", "application/json")]
            } else {
                &[]
            };
            server.request(
                method,
                &p,
                token,
                headers,
                body.as_deref().map(str::as_bytes),
            )
        };
        let anonymous = call(None);
        if min == Min::Public {
            assert!(
                anonymous.status < 400,
                "{method} {path} without a token: {} {}",
                anonymous.status,
                anonymous.text()
            );
        } else if min == Min::Signed {
            anonymous.assert_error(401, "missing_signature");
        } else {
            anonymous.assert_error(401, "missing_token");
        }
        for (role, token) in tokens {
            n += 1;
            let (p2, body2) = concrete(method, path, n);
            let headers: &[(&str, &str)] = if body2.is_some() {
                &[("content-type", "application/json")]
            } else {
                &[]
            };
            let r = server.request(
                method,
                &p2,
                Some(token),
                headers,
                body2.as_deref().map(str::as_bytes),
            );
            if min == Min::Signed {
                // A bearer token is no signature.
                r.assert_error(401, "missing_signature");
            } else if role < min {
                r.assert_error(403, "forbidden");
            } else {
                assert!(
                    ![401, 403].contains(&r.status) && r.status < 500,
                    "{method} {path} as {role:?}: {} {}",
                    r.status,
                    r.text()
                );
            }
        }
    }
}

#[test]
fn health_needs_no_token_and_status_needs_one() {
    let env = Env::new();
    let server = env.serve();
    let h = server.get("/health", None);
    assert_eq!(h.status, 200);
    assert_eq!(h.json()["status"], "ok");
    server
        .get("/api/v1/status", None)
        .assert_error(401, "missing_token");
    let s = server.get("/api/v1/status", Some(&env.viewer));
    assert_eq!(s.status, 200, "{}", s.text());
    let v = s.json();
    assert_eq!(v["signals"], 0);
    assert!(v["schema_version"].as_i64().is_some_and(|n| n > 0));
    assert!(
        v.get("path").is_none(),
        "the store's file path is not disclosed"
    );
}

#[test]
fn invalid_revoked_and_malformed_tokens_are_401_with_their_codes() {
    let env = Env::new();
    let server = env.serve();
    let doomed = env.create_token("doomed", "admin", &[]);
    assert_eq!(server.get("/api/v1/status", Some(&doomed)).status, 200);
    env.run(&["tokens", "revoke", "doomed"]);
    let r = server.get("/api/v1/status", Some(&doomed));
    r.assert_error(401, "revoked_token");
    assert_eq!(
        r.header("www-authenticate"),
        Some("Bearer realm=\"hearken\"")
    );

    // One hex digit changed: same lookup prefix, other hash.
    let mut wrong = env.viewer.clone();
    let last = wrong.pop().expect("non-empty");
    wrong.push(if last == 'a' { 'b' } else { 'a' });
    server
        .get("/api/v1/status", Some(&wrong))
        .assert_error(401, "invalid_token");
    server
        .get("/api/v1/status", Some("not-a-token"))
        .assert_error(401, "invalid_token");
    let basic = server.request(
        "GET",
        "/api/v1/status",
        None,
        &[("authorization", "Basic dXNlcjpwYXNz")],
        None,
    );
    basic.assert_error(401, "invalid_token");
    let empty = server.request(
        "GET",
        "/api/v1/status",
        None,
        &[("authorization", "Bearer ")],
        None,
    );
    empty.assert_error(401, "missing_token");
}

#[test]
fn token_in_the_url_is_refused_and_never_logged() {
    let env = Env::new();
    let server = env.serve();
    let secret = env.admin.clone();
    for url in [
        format!("/api/v1/status?token={secret}"),
        format!("/api/v1/status?access_token={secret}"),
        "/api/v1/status?x=1&api_key=whatever".to_string(),
        format!("/api/v1/status?q=Bearer%20{secret}"),
        format!("/api/v1/tokens/{secret}"),
        format!("/health?token={}", &secret[..20]),
    ] {
        let r = server.get(&url, Some(&env.admin));
        let v = r.assert_error(400, "token_in_url");
        assert!(
            !v.to_string().contains(&secret[3..]),
            "the answer does not repeat the token"
        );
    }
    // Refused with or without a valid header: the URL alone is the problem.
    server
        .get(&format!("/api/v1/status?token={secret}"), None)
        .assert_error(400, "token_in_url");
    // A harmless query passes.
    assert_eq!(server.get("/health?verbose=1", None).status, 200);
    let log = server.log_text();
    assert!(log.contains("token_in_url"), "the refusal is logged: {log}");
    assert!(
        !log.contains(&secret[3..]),
        "the token never reaches the log"
    );
}
