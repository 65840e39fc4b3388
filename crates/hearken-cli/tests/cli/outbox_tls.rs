//! The outbox's e-mail over TLS and its address file, against a real SMTP server on loopback
//! (mailin-embedded) that speaks STARTTLS with a certificate from a private CA
//! (tests/data/tls, made by its make.sh): the certificate is checked (an unknown CA is refused
//! and nothing is sent), `ca_file` makes the private CA trusted, and a server that does not
//! offer STARTTLS gets nothing in plain text. `tls = "tls"` (TLS from the first byte) is sent to
//! a server built here from mailin's SMTP state machine behind a rustls server connection. `hearken outbox addresses FILE` sets many
//! addresses at once, lists every row it cannot use, and changes nothing when run again.

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;

use crate::helpers::*;
use crate::outbox::{Mailbox, Message, config, done_action, list, states};

fn tls_file(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/tls")
        .join(name)
        .display()
        .to_string()
}

/// Starts an SMTP server on 127.0.0.1; with `tls`, it offers STARTTLS with the test CA's
/// server certificate. Returns its port and what it received.
pub(crate) fn smtp_server(tls: bool) -> (u16, Arc<std::sync::Mutex<Vec<Message>>>) {
    // The server's rustls has two crypto providers in this build: name one (a second call,
    // from another test, finds it installed).
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mailbox = Mailbox::default();
    let messages = Arc::clone(&mailbox.messages);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let ssl = if tls {
        mailin_embedded::SslConfig::SelfSigned {
            cert_path: tls_file("server.pem"),
            key_path: tls_file("server.key"),
        }
    } else {
        mailin_embedded::SslConfig::None
    };
    let mut server = mailin_embedded::Server::new(mailbox);
    server
        .with_name("loopback.test")
        .with_ssl(ssl)
        .unwrap()
        .with_tcp_listener(listener);
    std::thread::spawn(move || {
        let _ = server.serve();
    });
    (port, messages)
}

/// Starts an SMTP server on 127.0.0.1 that speaks TLS from the first byte (what `tls = "tls"`
/// expects, port 465 style), one connection at a time. Returns its port and what it received.
fn implicit_tls_server() -> (u16, Arc<std::sync::Mutex<Vec<Message>>>) {
    use rustls::pki_types::pem::PemObject;
    use std::io::{Read, Write};
    let _ = rustls::crypto::ring::default_provider().install_default();
    let certs = rustls::pki_types::CertificateDer::pem_file_iter(tls_file("server.pem"))
        .unwrap()
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
    let key = rustls::pki_types::PrivateKeyDer::from_pem_file(tls_file("server.key")).unwrap();
    let tls = Arc::new(
        rustls::ServerConfig::builder()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap(),
    );
    let mailbox = Mailbox::default();
    let messages = Arc::clone(&mailbox.messages);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for tcp in listener.incoming() {
            let Ok(tcp) = tcp else { continue };
            let peer = tcp.peer_addr().unwrap().ip();
            let conn = rustls::ServerConnection::new(Arc::clone(&tls)).unwrap();
            let mut stream = rustls::StreamOwned::new(conn, tcp);
            let mut session =
                mailin::SessionBuilder::new("loopback.test").build(peer, mailbox.clone());
            let reply = |stream: &mut rustls::StreamOwned<_, _>, r: &mailin::Response| {
                r.write_to(stream).is_ok() && stream.flush().is_ok()
            };
            if !reply(&mut stream, &session.greeting()) {
                continue;
            }
            let mut line = Vec::new();
            let mut byte = [0u8; 1];
            // One byte at a time: a test's few lines; a handshake failure ends the connection.
            while matches!(stream.read(&mut byte), Ok(1)) {
                line.push(byte[0]);
                if byte[0] != b'\n' {
                    continue;
                }
                let r = session.process(&line);
                line.clear();
                match r.action {
                    mailin::Action::NoReply => {}
                    mailin::Action::Reply => {
                        if !reply(&mut stream, &r) {
                            break;
                        }
                    }
                    mailin::Action::Close | mailin::Action::UpgradeTls => {
                        reply(&mut stream, &r);
                        break;
                    }
                }
            }
        }
    });
    (port, messages)
}

fn smtp_config(env: &Env, port: u16, ca_file: Option<&str>) {
    smtp_config_mode(env, port, "starttls", ca_file);
}

fn smtp_config_mode(env: &Env, port: u16, mode: &str, ca_file: Option<&str>) {
    let ca = ca_file.map_or(String::new(), |f| format!("ca_file = \"{f}\"\n"));
    config(
        env,
        &format!(
            "[outbox]\nretry_base_secs = 1\nretry_max_secs = 1\n[outbox.smtp]\nhost = \"127.0.0.1\"\nport = {port}\ntls = \"{mode}\"\nfrom = \"Hearken <feedback@example.com>\"\n{ca}"
        ),
    );
}

fn run_ok(env: &Env, args: &[&str]) -> std::process::Output {
    let out = env.run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn last_errors(env: &Env) -> Vec<String> {
    list(env)
        .iter()
        .flat_map(|n| n["deliveries"].as_array().unwrap().clone())
        .filter_map(|d| d["last_error"].as_str().map(str::to_string))
        .collect()
}

#[test]
fn starttls_mail_is_sent_only_to_a_server_whose_certificate_is_trusted() {
    let env = done_action();
    let addresses = env.write(
        "addresses.csv",
        "kind,id,email\ncustomer,C1,ann@example.com\nemployee,A1,cleo@example.com\n",
    );
    run_ok(&env, &["outbox", "addresses", addresses.to_str().unwrap()]);
    let (port, messages) = smtp_server(true);

    // The system's roots do not know the test CA: the handshake fails, nothing is sent, the
    // delivery waits for a retry with the reason.
    smtp_config(&env, port, None);
    run_ok(&env, &["outbox", "run"]);
    assert!(messages.lock().unwrap().is_empty());
    let s = states(&env);
    assert!(
        s.iter()
            .filter(|d| d.0 != "customer C2")
            .all(|d| d.2 == "pending" && d.3 == 1),
        "{s:?}"
    );
    let errors = last_errors(&env);
    assert_eq!(errors.len(), 2, "{errors:?}");
    for e in &errors {
        assert!(e.to_lowercase().contains("certificate"), "{e}");
    }

    // With the private CA trusted, the same deliveries go out, once each.
    smtp_config(&env, port, Some(&tls_file("ca.pem")));
    run_ok(&env, &["outbox", "run", "--wait"]);
    let s = states(&env);
    assert_eq!(
        s,
        [
            ("customer C1".into(), "email".into(), "sent".into(), 2),
            ("customer C2".into(), "email".into(), "no_address".into(), 0),
            ("employee A1".into(), "email".into(), "sent".into(), 2),
        ]
    );
    let mut to: Vec<String> = messages
        .lock()
        .unwrap()
        .iter()
        .flat_map(|(to, _)| to.clone())
        .collect();
    to.sort();
    assert_eq!(to, ["ann@example.com", "cleo@example.com"]);
    run_ok(&env, &["outbox", "run"]);
    assert_eq!(messages.lock().unwrap().len(), 2, "nothing sent twice");
}

#[test]
fn starttls_is_required_a_server_without_it_gets_nothing_in_plain_text() {
    let env = done_action();
    run_ok(
        &env,
        &[
            "outbox",
            "address",
            "--customer",
            "C1",
            "--email",
            "ann@example.com",
        ],
    );
    let (port, messages) = smtp_server(false);
    smtp_config(&env, port, Some(&tls_file("ca.pem")));
    run_ok(&env, &["outbox", "run"]);
    assert!(messages.lock().unwrap().is_empty());
    let s = states(&env);
    assert_eq!(
        s[0],
        ("customer C1".into(), "email".into(), "pending".into(), 1)
    );
    let errors = last_errors(&env);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(
        errors[0].contains("STARTTLS is not supported"),
        "{errors:?}"
    );
}

#[test]
fn implicit_tls_mail_is_verified_and_sent_once() {
    let env = done_action();
    run_ok(
        &env,
        &[
            "outbox",
            "address",
            "--employee",
            "A1",
            "--email",
            "cleo@example.com",
        ],
    );
    let (port, messages) = implicit_tls_server();
    smtp_config_mode(&env, port, "tls", None);
    run_ok(&env, &["outbox", "run"]);
    assert!(messages.lock().unwrap().is_empty());
    let errors = last_errors(&env);
    assert!(
        errors.len() == 1 && errors[0].to_lowercase().contains("certificate"),
        "{errors:?}"
    );
    smtp_config_mode(&env, port, "tls", Some(&tls_file("ca.pem")));
    run_ok(&env, &["outbox", "run", "--wait"]);
    let got = messages.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, ["cleo@example.com"]);
    assert!(got[0].1.contains("One charge per order"), "{}", got[0].1);
    let a1 = states(&env)
        .into_iter()
        .find(|d| d.0 == "employee A1")
        .unwrap();
    assert_eq!((a1.2.as_str(), a1.3), ("sent", 2));
}

#[test]
fn a_bad_ca_file_is_refused_at_start_naming_the_setting() {
    let env = done_action();
    let bad = env.write("ca.pem", "not a certificate\n");
    smtp_config(&env, 25, Some(bad.to_str().unwrap()));
    let err = assert_clean_failure(&env.run(&["outbox", "run"]));
    assert!(
        err.contains("smtp.ca_file") && err.contains("no PEM certificate"),
        "{err}"
    );
}

#[test]
fn an_address_file_sets_the_good_rows_lists_every_bad_one_and_is_idempotent() {
    let env = done_action();
    // A BOM, CRLF line ends, a semicolon separator, columns in another order and case.
    let file = env.write(
        "addresses.csv",
        "\u{feff}Email;Kind;ID\r\n\
         ann@example.com;customer;C1\r\n\
         cleo@example.com;employee;A1\r\n\
         not-an-address;customer;C2\r\n\
         dan@example.com;partner;P1\r\n\
         eve@example.com;customer;\r\n\
         ann@example.com;customer;C1\r\n\
         ann.other@example.com;customer;C1\r\n\
         zed@example.com;customer;C9\r\n",
    );
    let path = file.to_str().unwrap();
    let out = env.run(&["outbox", "addresses", path, "--json"]);
    assert_eq!(out.status.code(), Some(1), "a rejected row fails the run");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(n(&v, "read"), 8);
    assert_eq!(
        (
            n(&v, "added"),
            n(&v, "changed"),
            n(&v, "unchanged"),
            n(&v, "repeated"),
            n(&v, "rejected")
        ),
        (3, 0, 0, 1, 4)
    );
    assert_eq!(
        n(&v, "added")
            + n(&v, "changed")
            + n(&v, "unchanged")
            + n(&v, "repeated")
            + n(&v, "rejected"),
        n(&v, "read"),
        "the counts reconcile"
    );
    let rejected: Vec<(u64, String, String)> = v["rejected_rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["line"].as_u64().unwrap(),
                r["field"].as_str().unwrap().to_string(),
                r["value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        rejected,
        [
            (4, "email".into(), "not-an-address".into()),
            (5, "kind".into(), "partner".into()),
            (6, "id".into(), String::new()),
            (8, "email".into(), "ann.other@example.com".into()),
        ]
    );
    assert!(
        v["rejected_rows"][3]["reason"]
            .as_str()
            .unwrap()
            .contains("line 2"),
        "{v}"
    );

    // The text form names the file and line of each rejected row.
    let out = env.run(&["outbox", "addresses", path]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("addresses.csv: line 4: email 'not-an-address' is not an e-mail address"),
        "{err}"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("0 added, 0 changed, 3 unchanged, 1 repeated in the file, 4 rejected"),
        "run again, nothing changes: {text}"
    );

    // A corrected file: C2 gets an address, which releases its waiting e-mail.
    let fixed = env.write(
        "fixed.csv",
        "kind,id,email\ncustomer,C1,ann@example.com\ncustomer,C2,bob@example.com\n",
    );
    config(
        &env,
        "[outbox.smtp]\nhost = \"127.0.0.1\"\nport = 1\ntls = \"none\"\nfrom = \"a@example.com\"\n",
    );
    // Plan the deliveries (the server on port 1 refuses the connection: they stay pending),
    // so that C2's e-mail waits as no_address.
    run_ok(&env, &["outbox", "run"]);
    assert!(states(&env).contains(&("customer C2".into(), "email".into(), "no_address".into(), 0)));
    let out = run_ok(
        &env,
        &["outbox", "addresses", fixed.to_str().unwrap(), "--json"],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (n(&v, "added"), n(&v, "unchanged"), n(&v, "released")),
        (1, 1, 1)
    );
    let c2 = states(&env)
        .into_iter()
        .find(|d| d.0 == "customer C2")
        .unwrap();
    assert_eq!(c2.2, "pending");
}

#[test]
fn an_address_file_without_the_columns_is_refused_naming_them() {
    let env = done_action();
    let file = env.write("a.csv", "customer,mail\nC1,ann@example.com\n");
    let err = assert_clean_failure(&env.run(&["outbox", "addresses", file.to_str().unwrap()]));
    assert!(
        err.contains("line 1")
            && err.contains("kind, id and email")
            && err.contains("customer, mail"),
        "{err}"
    );
}
