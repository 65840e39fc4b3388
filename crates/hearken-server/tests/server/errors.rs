//! Bad requests get JSON errors with stable codes; limits hold; request ids and metrics.

use std::io::Write;

use crate::helpers::{Env, head, read_response};

#[test]
fn unknown_route_and_wrong_method_are_json_errors() {
    let env = Env::new();
    let server = env.serve();
    server
        .get("/api/v1/nope", Some(&env.admin))
        .assert_error(404, "not_found");
    server
        .get("/../../etc/passwd", None)
        .assert_error(404, "not_found");
    let r = server.request("PUT", "/api/v1/status", Some(&env.admin), &[], None);
    r.assert_error(405, "method_not_allowed");
    assert!(
        r.header("allow").is_some_and(|a| a.contains("GET")),
        "{:?}",
        r.headers
    );
}

#[test]
fn bad_bodies_get_their_codes() {
    let env = Env::new();
    let server = env.serve();
    let admin = Some(env.admin.as_str());
    server
        .post_json("/api/v1/tokens", admin, "{\"name\": ")
        .assert_error(400, "malformed_json");
    server
        .post_json(
            "/api/v1/tokens",
            admin,
            r#"{"name":"a","role":"viewer","extra":1}"#,
        )
        .assert_error(422, "invalid_body");
    server
        .post_json("/api/v1/tokens", admin, r#"{"name":"a","role":"root"}"#)
        .assert_error(422, "invalid_body");
    let v = server
        .post_json(
            "/api/v1/tokens",
            admin,
            r#"{"name":"../etc","role":"viewer"}"#,
        )
        .assert_error(422, "invalid_value");
    assert!(
        v["message"].as_str().is_some_and(|m| m.contains("../etc")),
        "{v}"
    );
    server
        .request(
            "POST",
            "/api/v1/tokens",
            admin,
            &[("content-type", "text/plain")],
            Some(br#"{"name":"a","role":"viewer"}"#),
        )
        .assert_error(415, "unsupported_media_type");
    // The name of an active token is taken.
    server
        .post_json(
            "/api/v1/tokens",
            admin,
            r#"{"name":"viewer1","role":"viewer"}"#,
        )
        .assert_error(409, "conflict");
    // Nothing was created by the refused requests.
    let list = server.get("/api/v1/tokens", admin).json();
    assert_eq!(list.as_array().map(Vec::len), Some(3), "{list}");
}

#[test]
fn bodies_over_the_configured_limit_are_413() {
    let env = Env::new();
    env.write("hearken.toml", "[server]\nbody_limit_bytes = 2048\n");
    let server = env.serve();
    let admin = Some(env.admin.as_str());
    let big = format!(
        r#"{{"name":"big","role":"viewer","segments":["{}"]}}"#,
        "x".repeat(4000)
    );
    // Refused on Content-Length, before the body is read (so none is sent).
    let mut s = server.connect();
    s.write_all(&head(
        "POST",
        "/api/v1/tokens",
        admin,
        &[("content-type", "application/json")],
        Some(big.len()),
    ))
    .expect("send head");
    let v = read_response(&mut s).assert_error(413, "body_too_large");
    assert!(
        v["message"].as_str().is_some_and(|m| m.contains("2048")),
        "{v}"
    );

    // Without Content-Length (chunked), refused while reading.
    let mut s = server.connect();
    let mut req = head(
        "POST",
        "/api/v1/tokens",
        admin,
        &[
            ("content-type", "application/json"),
            ("transfer-encoding", "chunked"),
        ],
        None,
    );
    // Three chunks of 1000 bytes cross the limit; nothing more is sent, so the server has read
    // all there is when it answers.
    for piece in big.as_bytes().chunks(1000).take(3) {
        req.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        req.extend_from_slice(piece);
        req.extend_from_slice(b"\r\n");
    }
    let _ = s.write_all(&req);
    read_response(&mut s).assert_error(413, "body_too_large");

    // Under the limit it works, and nothing of the refused bodies was stored.
    let ok = server.post_json(
        "/api/v1/tokens",
        admin,
        r#"{"name":"small","role":"viewer"}"#,
    );
    assert_eq!(ok.status, 201, "{}", ok.text());
    let names: Vec<String> = server
        .get("/api/v1/tokens", admin)
        .json()
        .as_array()
        .expect("list")
        .iter()
        .map(|t| t["name"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(!names.contains(&"big".to_string()), "{names:?}");
}

#[test]
fn a_slow_body_is_cut_off_by_the_request_timeout() {
    let env = Env::new();
    env.write("hearken.toml", "[server]\nrequest_timeout_secs = 1\n");
    let server = env.serve();
    let mut s = server.connect();
    let body = br#"{"name":"slow","role":"viewer"}"#;
    s.write_all(&head(
        "POST",
        "/api/v1/tokens",
        Some(&env.admin),
        &[("content-type", "application/json")],
        Some(body.len()),
    ))
    .expect("send head");
    s.write_all(&body[..5]).expect("send the start of the body");
    // ... and never the rest: the server answers on its own once the timeout passes.
    read_response(&mut s).assert_error(408, "request_timeout");
    let list = server.get("/api/v1/tokens", Some(&env.admin)).json();
    assert!(
        !list.to_string().contains("\"slow\""),
        "nothing stored: {list}"
    );
}

#[test]
fn request_ids_are_echoed_or_generated_and_in_the_log() {
    let env = Env::new();
    let server = env.serve();
    let r = server.request(
        "GET",
        "/api/v1/status",
        None,
        &[("x-request-id", "client-id-42")],
        None,
    );
    let v = r.assert_error(401, "missing_token");
    assert_eq!(v["request_id"], "client-id-42");
    let generated = server.get("/health", None);
    let id = generated.header("x-request-id").expect("an id").to_string();
    assert_eq!(id.len(), 32);
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
    // An id that could forge a log line is replaced.
    let forged = server.request("GET", "/health", None, &[("x-request-id", "a b\"c")], None);
    assert_ne!(forged.header("x-request-id"), Some("a b\"c"));
    let log = server.log_text();
    assert!(
        log.lines()
            .any(|l| l.contains("client-id-42") && l.contains("missing_token")),
        "the request's log lines carry its id: {log}"
    );
    assert!(log.contains(&id));
}

#[test]
fn metrics_count_requests_by_route_template_and_status() {
    let env = Env::new();
    let server = env.serve();
    for _ in 0..3 {
        server.get("/health", None);
    }
    server.get("/api/v1/status", None);
    server.request(
        "DELETE",
        "/api/v1/tokens/ghost",
        Some(&env.admin),
        &[],
        None,
    );
    server.get("/nowhere/42", None);
    let m = server.get("/metrics", Some(&env.viewer));
    assert_eq!(m.status, 200);
    assert!(
        m.header("content-type")
            .is_some_and(|c| c.starts_with("text/plain; version=0.0.4"))
    );
    let text = m.text();
    for line in [
        "hearken_http_requests_total{method=\"GET\",route=\"/health\",status=\"200\"} 3",
        "hearken_http_requests_total{method=\"GET\",route=\"/api/v1/status\",status=\"401\"} 1",
        "hearken_http_requests_total{method=\"DELETE\",route=\"/api/v1/tokens/{name_or_id}\",status=\"404\"} 1",
        "hearken_http_requests_total{method=\"GET\",route=\"unmatched\",status=\"404\"} 1",
        "hearken_http_request_duration_seconds_count{method=\"GET\",route=\"/health\"} 3",
        "hearken_ingest_rows_total 0",
        "hearken_ingest_rows_quarantined_total 0",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{text}");
    }
    // Raw paths never become labels.
    assert!(!text.contains("/nowhere/42") && !text.contains("ghost"));
}

#[test]
fn docs_page_lists_every_route_and_public_docs_opens_it() {
    let env = Env::new();
    let server = env.serve();
    server
        .get("/api/docs", None)
        .assert_error(401, "missing_token");
    let page = server.get("/api/docs", Some(&env.viewer));
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let html = page.text();
    assert!(!html.contains("<script"), "no script on the page");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing fetched from elsewhere"
    );
    let spec = server.get("/api/openapi.json", Some(&env.viewer)).json();
    for path in spec["paths"].as_object().expect("paths").keys() {
        assert!(
            html.contains(&format!("<code>{path}</code>")),
            "{path} on the page"
        );
    }
    assert!(
        html.contains("token_in_url") && html.contains("body_too_large"),
        "error codes on the page"
    );
    assert_eq!(
        spec["components"]["securitySchemes"]["bearer"]["scheme"],
        "bearer"
    );
    drop(server);

    env.write("hearken.toml", "[server]\npublic_docs = true\n");
    let open = env.serve();
    assert_eq!(open.get("/api/docs", None).status, 200);
    assert_eq!(open.get("/api/openapi.json", None).status, 200);
    open.get("/api/v1/status", None)
        .assert_error(401, "missing_token");
}
