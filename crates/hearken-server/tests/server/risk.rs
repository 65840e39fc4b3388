//! Issue 13's routes against the CLI: `GET /api/v1/risk` answers what `hearken risk --json`
//! prints (its `customers`), `risk/matrix`, `cost` and `assess/report` the very bytes of
//! `hearken risk matrix|cost|assess report --json`; the cost mapping and the questionnaire come
//! from the hearken.toml the server was started with; a scoped token sees its slice only.

use serde_json::Value;

use crate::helpers::Env;

const COST: &str = r#"
[cost]
avoidable_contact = 6.5
[cost.topics]
"billing" = { category = "external_failure", unit_cost = 8 }
"network/outage" = { category = "external_failure", unit_cost = 12 }
[cost.kinds]
complaint = { category = "external_failure", unit_cost = 3 }
[cost.activities]
escalated = { category = "internal_failure", unit_cost = 25 }
[cost.fixed]
"quality training" = { category = "prevention", per_month = 2000 }
"#;

#[test]
fn risk_matrix_cost_and_assessments_are_the_cli_documents() {
    let env = Env::new();
    env.run(&[
        "demo",
        "--customers",
        "600",
        "--months",
        "4",
        "--out",
        "demo-files",
    ]);
    env.write("hearken.toml", COST);
    let mut answers = String::from("unit = \"service\"\ndate = \"2025-02-28\"\n[answers]\n");
    let q = hearken_query::AssessSettings::default().questionnaire;
    for a in &q.areas {
        for i in &a.items {
            answers.push_str(&format!("\"{}\" = {{ say = 4, do = 2 }}\n", i.key));
        }
    }
    env.write("service.toml", &answers);
    env.run(&["assess", "import", "service.toml"]);
    env.run(&["risk", "train"]);
    let server = env.serve();

    let cases: &[(&[&str], &str)] = &[
        (&["risk", "matrix", "--json"], "/api/v1/risk/matrix"),
        (
            &[
                "risk", "matrix", "--value", "clv", "--margin", "0.4", "--limit", "3", "--json",
            ],
            "/api/v1/risk/matrix?value=clv&margin=0.4&limit=3",
        ),
        (&["cost", "--json"], "/api/v1/cost"),
        (
            &["cost", "--by", "product", "--from", "2025-02-01", "--json"],
            "/api/v1/cost?by=product&from=2025-02-01",
        ),
        (&["assess", "report", "--json"], "/api/v1/assess/report"),
        (
            &["assess", "report", "--unit", "service", "--all", "--json"],
            "/api/v1/assess/report?unit=service&all=true",
        ),
    ];
    for (args, url) in cases {
        let cli = env.run(args);
        let api = server.get(url, Some(&env.viewer));
        assert_eq!(api.status, 200, "GET {url}: {}", api.text());
        assert_eq!(
            api.text(),
            cli.trim_end(),
            "hearken {args:?} and GET {url} differ"
        );
    }

    // risk: the CLI prints the answer's customers; the API adds method, model and lead time.
    for (args, url) in [
        (vec!["risk", "--json"], "/api/v1/risk"),
        (
            vec![
                "risk",
                "--method",
                "rules",
                "--top",
                "7",
                "--as-of",
                "2025-03-01",
                "--json",
            ],
            "/api/v1/risk?method=rules&top=7&as_of=2025-03-01",
        ),
    ] {
        let cli: Value = serde_json::from_str(&env.run(&args)).expect("JSON");
        let api = server.get(url, Some(&env.viewer));
        assert_eq!(api.status, 200, "GET {url}: {}", api.text());
        let api = api.json();
        assert_eq!(api["customers"], cli, "GET {url}");
        assert!(api["scored"].as_u64() >= Some(cli.as_array().map_or(0, Vec::len) as u64));
    }
    let v = server.get("/api/v1/risk", Some(&env.viewer)).json();
    assert_eq!(v["method"], "model");
    assert_eq!(v["model"]["version"], 1);
    assert!(
        v["lead_time"]["churners"].as_u64().is_some(),
        "{}",
        v["lead_time"]
    );

    // Refusals keep their code.
    server
        .get("/api/v1/risk?top=0", Some(&env.viewer))
        .assert_error(400, "out_of_range");
    server
        .get("/api/v1/risk?as_of=nonsense", Some(&env.viewer))
        .assert_error(400, "invalid_date");
    server
        .get("/api/v1/risk?mapping=x", Some(&env.viewer))
        .assert_error(400, "invalid_query");
    server
        .get("/api/v1/cost?mapping=x", Some(&env.viewer))
        .assert_error(400, "invalid_query");
    server
        .get("/api/v1/assess/report?unit=nosuch", Some(&env.viewer))
        .assert_error(400, "unknown_filter_value");

    // A scoped token: the customers of its segment only; no assessments.
    let smb = env.create_token("smb-only", "viewer", &["--segment", "smb"]);
    let scoped = server.get("/api/v1/risk?method=rules", Some(&smb)).json();
    let all = server
        .get("/api/v1/risk?method=rules", Some(&env.viewer))
        .json();
    let customers = scoped["customers"].as_array().expect("customers");
    assert!(!customers.is_empty());
    assert!(customers.iter().all(|c| c["segment"] == "smb"), "{scoped}");
    assert!(customers.len() < all["customers"].as_array().map_or(0, Vec::len));
    server
        .get("/api/v1/risk?segment=enterprise", Some(&smb))
        .assert_error(403, "out_of_scope");
    server
        .get("/api/v1/assess/report", Some(&smb))
        .assert_error(403, "out_of_scope");
}
