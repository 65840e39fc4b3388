//! Starting, settings, and stopping with requests in flight.

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use crate::helpers::{Env, head, read_response};

#[test]
fn sigterm_lets_the_request_in_flight_finish() {
    let env = Env::new();
    let mut server = env.serve();
    let body = br#"{"name":"in-flight","role":"viewer"}"#;
    let mut s = server.connect();
    s.write_all(&head(
        "POST",
        "/api/v1/tokens",
        Some(&env.admin),
        &[("content-type", "application/json")],
        Some(body.len()),
    ))
    .expect("send head");
    s.write_all(&body[..10]).expect("send part of the body");
    s.flush().expect("flush");
    // Wait until the server is serving our request (its headers parsed, the handler waiting for
    // the body): /metrics then counts two requests in flight, ours and itself.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let m = server.get("/metrics", Some(&env.viewer)).text();
        if m.lines().any(|l| l == "hearken_http_requests_in_flight 2") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "our request never reached the server:\n{m}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    server.sigterm();
    // The server has stopped listening once a new connection is refused: then it is shutting
    // down with our request still open. (Bounded wait; the assertion is on order, not time.)
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(server.addr).is_ok() {
        assert!(
            Instant::now() < deadline,
            "the server still accepts connections after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }

    s.write_all(&body[10..]).expect("send the rest of the body");
    let r = read_response(&mut s);
    assert_eq!(
        r.status,
        201,
        "the request in flight is answered: {}",
        r.text()
    );
    let status = server.child.wait().expect("wait for the server");
    assert!(status.success(), "clean exit after SIGTERM: {status:?}");
    assert!(server.log_text().contains("SIGTERM received"));
    // Its work was committed.
    assert!(env.run(&["tokens", "list"]).contains("in-flight"));
}

#[test]
fn bad_settings_and_a_taken_port_fail_at_start_with_clear_messages() {
    let env = Env::new();
    let fails = |args: &[&str]| {
        let out = env.cmd().args(args).output().expect("run hearken");
        assert!(!out.status.success(), "{args:?} should fail");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let e = fails(&["serve", "--bind", "localhost"]);
    assert!(e.contains("bind = 'localhost' is invalid"), "{e}");

    env.write("hearken.toml", "[server]\nrequest_timeout_secs = 0\n");
    let e = fails(&["serve", "--bind", "127.0.0.1:0"]);
    assert!(
        e.contains("request_timeout_secs = '0' is invalid: use 1..=3600"),
        "{e}"
    );

    env.write("hearken.toml", "[server]\nbind_adress = \"127.0.0.1:1\"\n");
    let e = fails(&["serve"]);
    assert!(
        e.contains("unknown field") && e.contains("bind_adress"),
        "{e}"
    );

    std::fs::remove_file(env.dir.path().join("hearken.toml")).expect("remove config");
    let server = env.serve();
    let e = fails(&["serve", "--bind", &server.addr.to_string()]);
    assert!(e.contains("cannot listen on"), "{e}");
}
