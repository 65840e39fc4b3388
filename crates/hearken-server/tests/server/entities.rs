//! A customer's profile and timeline, a case with its events, the flow, the overview and the
//! imports: `GET /api/v1/...` answers the very document `hearken ... --json` prints, on a
//! generated store; a scoped token is refused the store-wide imports.

use serde_json::Value;

use crate::helpers::Env;

#[test]
fn entity_routes_answer_the_cli_json_documents() {
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
    // A customer and a case that exist, taken from the signals listing.
    let page: Value =
        serde_json::from_str(&env.run(&["signals", "--limit", "200", "--json"])).expect("json");
    let signals = page["signals"].as_array().expect("signals");
    let customer = signals
        .iter()
        .find_map(|s| s["customer_id"].as_str())
        .expect("a signal with a customer")
        .to_string();
    let case = signals
        .iter()
        .find_map(|s| s["case_id"].as_str())
        .expect("a signal with a case")
        .to_string();

    let pairs: Vec<(Vec<&str>, String)> = vec![
        (
            vec!["customer", &customer, "--json"],
            format!("/api/v1/customers/{customer}"),
        ),
        (
            vec![
                "customer",
                &customer,
                "--timeline",
                "--limit",
                "5",
                "--json",
            ],
            format!("/api/v1/customers/{customer}/timeline?limit=5"),
        ),
        (
            vec!["case", &case, "--json"],
            format!("/api/v1/cases/{case}"),
        ),
        (vec!["flow", "--json"], "/api/v1/flow".to_string()),
        (
            vec!["flow", "--by", "team", "--json"],
            "/api/v1/flow?by=team".to_string(),
        ),
        (vec!["imports", "--json"], "/api/v1/imports".to_string()),
    ];
    for (args, url) in pairs {
        let cli = env.run(&args);
        let api = server.get(&url, Some(&env.viewer));
        assert_eq!(api.status, 200, "GET {url}: {}", api.text());
        assert!(
            api.text() == cli.trim_end(),
            "hearken {} and GET {url} differ:\ncli: {}\napi: {}",
            args.join(" "),
            &cli[..cli.len().min(400)],
            &api.text()[..api.text().len().min(400)]
        );
    }
    // The timeline's next page follows its cursor.
    let first = server
        .get(
            &format!("/api/v1/customers/{customer}/timeline?limit=1"),
            Some(&env.viewer),
        )
        .json();
    if let Some(cursor) = first["next_cursor"].as_str() {
        let next = server.get(
            &format!("/api/v1/customers/{customer}/timeline?limit=1&cursor={cursor}"),
            Some(&env.viewer),
        );
        assert_eq!(next.status, 200, "{}", next.text());
        assert_ne!(next.json(), first);
    }
    let o = server.get("/api/v1/overview", Some(&env.viewer));
    assert_eq!(o.status, 200, "{}", o.text());
    assert!(o.json().is_object());

    server
        .get("/api/v1/customers/no-such-customer", Some(&env.viewer))
        .assert_error(404, "not_found");
    server
        .get("/api/v1/cases/no-such-case", Some(&env.viewer))
        .assert_error(404, "not_found");
    server
        .get("/api/v1/imports?limit=0", Some(&env.viewer))
        .assert_error(400, "out_of_range");
    server
        .get("/api/v1/imports?colour=blue", Some(&env.viewer))
        .assert_error(400, "invalid_query");
    let segment = page["signals"]
        .as_array()
        .and_then(|s| s.iter().find_map(|s| s["segment"].as_str()))
        .expect("a segment")
        .to_string();
    let scoped = env.create_token("scoped", "viewer", &["--segment", &segment]);
    server
        .get("/api/v1/imports", Some(&scoped))
        .assert_error(403, "out_of_scope");
}
