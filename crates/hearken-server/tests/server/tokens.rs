//! Tokens: `hearken tokens` and /api/v1/tokens manage the same tokens; only a hash is stored.

use crate::helpers::Env;

#[test]
fn cli_prints_the_token_once_and_stores_only_its_hash() {
    let env = Env::new();
    let secret = env.create_token(
        "eu-dashboard",
        "viewer",
        &["--segment", "smb", "--team", "billing"],
    );
    assert!(secret.starts_with("hk_") && secret.len() == 67, "{secret}");
    let list = env.run(&["tokens", "list"]);
    assert!(
        list.contains("eu-dashboard") && list.contains("segments smb; teams billing"),
        "{list}"
    );
    assert!(
        list.contains(&secret[3..11]),
        "the prefix identifies it: {list}"
    );
    assert!(!list.contains(&secret[11..]), "the secret is not listed");
    let json: serde_json::Value =
        serde_json::from_str(&env.run(&["tokens", "list", "--json"])).expect("JSON list");
    let t = json
        .as_array()
        .and_then(|a| a.iter().find(|t| t["name"] == "eu-dashboard"))
        .expect("listed");
    assert_eq!(t["role"], "viewer");
    assert_eq!(t["scope"]["segments"][0], "smb");
    assert!(t["revoked_at"].is_null() && t["last_used_at"].is_null());
    // The secret appears nowhere in the store's files.
    for entry in std::fs::read_dir(env.dir.path()).expect("dir") {
        let path = entry.expect("entry").path();
        if path.to_string_lossy().contains("test.db") {
            let bytes = std::fs::read(&path).expect("read store file");
            let needle = &secret.as_bytes()[11..];
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{} holds the secret",
                path.display()
            );
        }
    }
    // Revoke by name; again is refused; by id works too; bad names are refused with the reason.
    assert!(
        env.run(&["tokens", "revoke", "eu-dashboard"])
            .contains("revoked")
    );
    let again = env
        .cmd()
        .args(["tokens", "revoke", "eu-dashboard"])
        .output()
        .expect("run");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("no active token"));
    env.run(&["tokens", "revoke", "1"]);
    let bad = env
        .cmd()
        .args(["tokens", "create", "--name", "a b", "--role", "viewer"])
        .output()
        .expect("run");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("name 'a b' is invalid"));
}

#[test]
fn http_token_management_and_last_use() {
    let env = Env::new();
    let server = env.serve();
    let admin = Some(env.admin.as_str());
    let created = server.post_json(
        "/api/v1/tokens",
        admin,
        r#"{"name":"grafana","role":"viewer","segments":["enterprise"]}"#,
    );
    assert_eq!(created.status, 201, "{}", created.text());
    let c = created.json();
    let secret = c["token"].as_str().expect("token").to_string();
    assert_eq!(c["info"]["segments"][0], "enterprise");
    assert_eq!(server.get("/api/v1/status", Some(&secret)).status, 200);
    server
        .get("/api/v1/tokens", Some(&secret))
        .assert_error(403, "forbidden");

    let list = server.get("/api/v1/tokens", admin).json();
    let listed = list
        .as_array()
        .and_then(|a| a.iter().find(|t| t["name"] == "grafana"))
        .expect("listed")
        .clone();
    assert!(
        listed.get("token").is_none(),
        "the list never holds secrets"
    );

    // A token cannot revoke itself over HTTP; another admin can revoke it.
    server
        .request("DELETE", "/api/v1/tokens/admin1", admin, &[], None)
        .assert_error(409, "conflict");
    let id = listed["id"].as_i64().expect("id").to_string();
    let revoked = server.request("DELETE", &format!("/api/v1/tokens/{id}"), admin, &[], None);
    assert_eq!(revoked.status, 200, "{}", revoked.text());
    assert!(revoked.json()["revoked_at"].is_string());
    server
        .get("/api/v1/status", Some(&secret))
        .assert_error(401, "revoked_token");
    server
        .request("DELETE", "/api/v1/tokens/grafana", admin, &[], None)
        .assert_error(404, "not_found");

    // The CLI sees the same tokens, with the last use recorded.
    let cli: serde_json::Value =
        serde_json::from_str(&env.run(&["tokens", "list", "--json"])).expect("JSON");
    let g = cli
        .as_array()
        .and_then(|a| a.iter().find(|t| t["name"] == "grafana"))
        .expect("grafana");
    assert!(g["revoked_at"].is_i64());
    let admin_row = cli
        .as_array()
        .and_then(|a| a.iter().find(|t| t["name"] == "admin1"))
        .expect("admin1");
    assert!(
        admin_row["last_used_at"].is_i64(),
        "last use recorded: {admin_row}"
    );
}
