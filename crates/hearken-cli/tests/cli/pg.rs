//! The command line on a PostgreSQL store (ADR 0012): `hearken store copy` both ways with its
//! reconcile, the analytics with `--db postgres://...` printing what they print on the SQLite
//! file, and the refusals (a non-empty target, a server that refuses, a bad URL, a command
//! that does not run on PostgreSQL yet) as one clean line.
//!
//! The server: `HEARKEN_TEST_PG` (.ci/run starts one with tools/pg/cluster.sh). Without it the
//! test fails where `HEARKEN_REQUIRE_PG=1`, and skips with a printed reason elsewhere.

use serde_json::Value;

use crate::helpers::*;

#[path = "../../../hearken-store/tests/pg_db.rs"]
pub mod pg_db;
use pg_db::test_db;

fn ok(env: &Env, args: &[&str]) -> String {
    let out = env.run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8")
}

#[test]
fn a_store_moves_to_postgres_and_answers_the_same() {
    let Some(db) = test_db("cli") else { return };
    let env = Env::new();
    ok(
        &env,
        &["demo", "--customers", "300", "--months", "3", "--json"],
    );
    let file = env.db();
    let file = file.to_str().expect("utf-8 path");
    let url = db.url.as_str();

    let copied: Value = serde_json::from_str(&ok(
        &env,
        &["store", "copy", "--from", file, "--to", url, "--json"],
    ))
    .expect("JSON");
    let tables = copied["tables"].as_array().expect("tables");
    let signals = tables
        .iter()
        .find(|t| t["table"] == "signals")
        .expect("signals copied");
    assert!(signals["rows"].as_u64().expect("rows") > 500, "{signals}");
    let total: u64 = tables
        .iter()
        .map(|t| t["rows"].as_u64().expect("rows"))
        .sum();
    assert_eq!(copied["rows"].as_u64(), Some(total));

    // The analytics on PostgreSQL print what they print on the file, text and JSON.
    for args in [
        &["scores", "--json"][..],
        &["scores", "--metric", "csat", "--by", "segment"],
        &["scores", "--metric", "sentiment", "--by", "topic", "--json"],
        &["pareto", "--by", "product"],
        &["drivers", "--json"],
        &["trends", "--period", "month", "--json"],
        &["repeats", "--json"],
        &["issues-rank", "--json"],
    ]
    .into_iter()
    .chain(ASKED_OF_BOTH.iter().copied())
    {
        let lite = ok(&env, args);
        let mut on_pg = args.to_vec();
        on_pg.extend(["--db", url]);
        assert_eq!(ok(&env, &on_pg), lite, "{args:?}");
    }
    // A customer with cases, its profile, its timeline page by page, and its cases: the same
    // statements on both stores (read_entities.rs).
    let listed: Value =
        serde_json::from_str(&ok(&env, &["signals", "--limit", "500", "--json"])).expect("json");
    let with_case = listed["signals"]
        .as_array()
        .expect("signals")
        .iter()
        .find(|s| s["customer_id"].is_string() && s["case_id"].is_string())
        .expect("a customer's signal on a case");
    let (customer, case) = (
        with_case["customer_id"].as_str().expect("id"),
        with_case["case_id"].as_str().expect("id"),
    );
    let page: Value = serde_json::from_str(&ok(
        &env,
        &["customer", customer, "--timeline", "--limit", "2", "--json"],
    ))
    .expect("json");
    let cursor = page["next_cursor"]
        .as_str()
        .expect("a second page")
        .to_string();
    for args in [
        &["customer", customer][..],
        &["customer", customer, "--json"],
        &["customer", customer, "--timeline", "--limit", "2", "--json"],
        &[
            "customer",
            customer,
            "--timeline",
            "--cursor",
            &cursor,
            "--json",
        ],
        &["customer", customer, "--timeline"],
        &["case", case, "--json"],
        &["case", case],
        // The weekly report's page (HTML), the latest week and an earlier one.
        &["report"],
        &["report", "--week", "2025-W05"],
    ] {
        let lite = ok(&env, args);
        let mut on_pg = args.to_vec();
        on_pg.extend(["--db", url]);
        assert_eq!(ok(&env, &on_pg), lite, "{args:?}");
    }
    // The cost of quality from hearken.toml's mapping (case events and signals of both).
    env.write("hearken.toml", crate::risk::COST);
    for args in [
        &["cost", "--json"][..],
        &["cost", "--by", "product", "--json"],
        &["cost"],
    ] {
        let lite = ok(&env, args);
        let mut on_pg = args.to_vec();
        on_pg.extend(["--db", url]);
        assert_eq!(ok(&env, &on_pg), lite, "{args:?}");
    }
    std::fs::remove_file(env.path("hearken.toml")).expect("remove hearken.toml");
    for args in [&["customer", "NO-SUCH"][..], &["case", "NO-SUCH"]] {
        let lite = assert_clean_failure(&env.run(args));
        let mut on_pg = args.to_vec();
        on_pg.extend(["--db", url]);
        assert_eq!(assert_clean_failure(&env.run(&on_pg)), lite, "{args:?}");
    }

    // The search above found rows by folding case (else equal answers would prove little).
    let found: Value = serde_json::from_str(&ok(
        &env,
        &[
            "signals", "--search", "THE", "--limit", "5", "--json", "--db", url,
        ],
    ))
    .expect("json");
    let texts: Vec<&str> = found["signals"]
        .as_array()
        .expect("signals")
        .iter()
        .filter_map(|s| s["text"].as_str())
        .collect();
    assert!(
        texts.iter().all(|t| t.to_ascii_lowercase().contains("the"))
            && texts.iter().any(|t| !t.contains("THE")),
        "{texts:?}"
    );

    // HEARKEN_DB names the database as --db does.
    let out = env
        .cmd()
        .env("HEARKEN_DB", url)
        .args(["pareto", "--by", "customer", "--json"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8(out.stdout).expect("UTF-8"),
        ok(&env, &["pareto", "--by", "customer", "--json"])
    );

    // And back into a new file: the same rows and checksums, table by table.
    let back: Value = serde_json::from_str(&ok(
        &env,
        &["store", "copy", "--from", url, "--to", "back.db", "--json"],
    ))
    .expect("JSON");
    assert_eq!(back["tables"], copied["tables"]);
    let text = ok(&env, &["status", "--db", "back.db"]);
    assert!(text.contains("signals"), "{text}");

    // Refusals: one line each, the password never shown.
    let with_password = url.replacen("postgres://hearken@", "postgres://hearken:s3cret@", 1);
    let err =
        assert_clean_failure(&env.run(&["store", "copy", "--from", file, "--to", &with_password]));
    assert!(
        err.contains("is not empty") && err.contains("signals ("),
        "{err}"
    );
    assert!(!err.contains("s3cret"), "{err}");
    let err = assert_clean_failure(&env.run(&["store", "copy", "--from", file, "--to", "back.db"]));
    assert!(err.contains("is not empty"), "{err}");
    let err = assert_clean_failure(&env.run(&[
        "store",
        "copy",
        "--from",
        file,
        "--to",
        "postgres://hearken:s3cret@127.0.0.1:1/nothing",
    ]));
    assert!(
        err.contains("cannot connect") && err.contains("refused"),
        "{err}"
    );
    assert!(!err.contains("s3cret"), "{err}");
    let err = assert_clean_failure(&env.run(&["scores", "--db", "postgres://h@127.0.0.1:port/x"]));
    assert!(err.contains("is not a store location"), "{err}");
    let err = assert_clean_failure(&env.run(&["topics", "list", "--db", url]));
    assert!(
        err.contains("does not run on a PostgreSQL store yet"),
        "{err}"
    );
}

/// Questions about case flow, themes and signals asked of both stores by the tests above: each
/// answer must be the same bytes.
const ASKED_OF_BOTH: &[&[&str]] = &[
    &["signals", "--limit", "4"],
    &["signals", "--limit", "6", "--segment", "smb", "--json"],
    // The search ignores the case of ASCII letters on both (SQLite's LIKE).
    &["signals", "--search", "THE", "--limit", "5", "--json"],
    &["signals", "--search", "50%_", "--limit", "5", "--json"],
    &[
        "signals",
        "--channel",
        "email",
        "--from",
        "2025-02-01",
        "--limit",
        "3",
        "--json",
    ],
    &["flow", "--json"],
    &["flow", "--by", "agent", "--json"],
    &["flow", "--by", "segment"],
    &["flow", "--by-attribute", "channel", "--json"],
    &["flow", "--segment", "smb", "--json"],
    &[
        "flow",
        "--from",
        "2025-02-01",
        "--to",
        "2025-03-01",
        "--json",
    ],
    &["flow", "--from", "2025-02-01", "--by", "month", "--json"],
    &["themes", "--k", "5", "--json"],
    &[
        "themes",
        "--k",
        "4",
        "--sample",
        "200",
        "--from",
        "2025-02-01",
        "--json",
    ],
    &[
        "themes",
        "--k",
        "3",
        "--segment",
        "smb",
        "--channel",
        "email",
        "--json",
    ],
    &["themes", "--k", "3", "--team", "frontline"],
];

const GENERATED: [(&str, &str); 6] = [
    ("customers.csv", "customers"),
    ("products.csv", "products"),
    ("agents.csv", "agents"),
    ("signals.csv", "signals"),
    ("surveys.csv", "surveys"),
    ("case_events.csv", "case-events"),
];

fn import_json(env: &Env, file: &str, kind: &str, db: Option<&str>) -> Value {
    let mut args = vec!["import", file, "--kind", kind, "--json"];
    if let Some(db) = db {
        args.extend(["--db", db]);
    }
    let v: Value = serde_json::from_str(&ok(env, &args)).expect("JSON");
    assert_reconciles(&v);
    v
}

fn pg_count(url: &str, sql: &str) -> i64 {
    postgres::Client::connect(url, postgres::NoTls)
        .and_then(|mut c| c.query_one(sql, &[]))
        .map_or(-1, |r| r.get(0))
}

#[test]
fn generated_files_import_into_postgres_as_into_sqlite() {
    let Some(db) = test_db("cli_import") else {
        return;
    };
    let url = db.url.as_str();
    let env = Env::new();
    ok(
        &env,
        &[
            "generate",
            "--customers",
            "300",
            "--months",
            "3",
            "--seed",
            "5",
            "--out",
            "data",
            "--json",
        ],
    );
    // A file with a row that cannot be read and a conflicting id, for the quarantine.
    env.write(
        "data/odd.csv",
        "signal_id,at,channel,kind,text\nq1,not a date,email,complaint,hi\nq2,2025-01-05T10:00:00Z,email,complaint,one\nq2,2025-01-05T10:00:00Z,email,complaint,two\n",
    );
    let mut files: Vec<(String, &str)> = GENERATED
        .iter()
        .map(|(f, k)| (format!("data/{f}"), *k))
        .collect();
    files.push(("data/odd.csv".into(), "signals"));
    for (file, kind) in &files {
        let lite = import_json(&env, file, kind, None);
        let pg = import_json(&env, file, kind, Some(url));
        assert_eq!(lite, pg, "{file}");
    }
    let last = import_json(&env, "data/odd.csv", "signals", Some(url));
    assert_eq!((n(&last, "stored"), n(&last, "quarantined")), (0, 2));
    let lite = import_json(&env, "data/odd.csv", "signals", None);
    assert_eq!(last, lite);
    // Every file again: nothing new on either, the same report.
    for (file, kind) in &files {
        let lite = import_json(&env, file, kind, None);
        assert_eq!(n(&lite, "stored"), 0, "{lite}");
        assert_eq!(lite, import_json(&env, file, kind, Some(url)), "{file}");
    }
    let signals = pg_count(url, "SELECT count(*) FROM signals");
    assert!(signals > 500, "{signals}");
    assert_eq!(
        signals as u64,
        n(&env.status(), "signals"),
        "the same rows stored"
    );

    // The six analytics answer the same bytes.
    for args in [
        &["scores", "--json"][..],
        &["scores", "--metric", "csat", "--by", "segment"],
        &["scores", "--metric", "sentiment", "--by", "topic", "--json"],
        &["pareto", "--by", "customer", "--json"],
        &["drivers", "--json"],
        &["trends", "--period", "month", "--json"],
        &["repeats", "--json"],
        &["issues-rank", "--json"],
    ]
    .into_iter()
    .chain(ASKED_OF_BOTH.iter().copied())
    {
        let lite = ok(&env, args);
        let mut on_pg = args.to_vec();
        on_pg.extend(["--db", url]);
        assert_eq!(ok(&env, &on_pg), lite, "{args:?}");
    }

    // A filter value the store does not know is refused the same way, with the same known
    // values listed.
    for args in [
        &["themes", "--segment", "nope"][..],
        &["themes", "--team", "nope"],
        &["themes", "--agent", "nope"],
        &["themes", "--product", "nope"],
    ] {
        let lite = String::from_utf8(env.run(args).stderr).expect("utf-8");
        let mut on_pg = args.to_vec();
        on_pg.extend(["--db", url]);
        let pg = assert_clean_failure(&env.run(&on_pg));
        assert!(pg.contains("nope"), "{pg}");
        assert_eq!(pg, lite, "{args:?}");
    }

    // The imports listed the same, but for when and by which process each ran.
    let imports = |db: &str| -> Value {
        let mut v: Value = serde_json::from_str(&ok(
            &env,
            &["imports", "--json", "--limit", "100", "--db", db],
        ))
        .expect("JSON");
        for i in v["imports"].as_array_mut().expect("imports") {
            for k in ["started_at", "finished_at", "pid"] {
                assert!(!i[k].is_null(), "{k} recorded: {i}");
                i[k] = Value::Null;
            }
        }
        v
    };
    let listed = imports(env.db().to_str().expect("utf-8"));
    assert_eq!(
        listed["imports"].as_array().map(Vec::len),
        Some(2 * files.len() + 1)
    );
    assert_eq!(imports(url), listed);

    // `hearken status` counts the same, but for where the store is and when each import ran.
    let status = |db: &str| -> Value {
        let mut v: Value =
            serde_json::from_str(&ok(&env, &["status", "--json", "--db", db])).expect("JSON");
        v["path"] = Value::Null;
        for i in v["recent_imports"].as_array_mut().expect("recent imports") {
            for k in ["started_at", "finished_at"] {
                assert!(!i[k].is_null(), "{k} recorded: {i}");
                i[k] = Value::Null;
            }
        }
        v
    };
    let lite_status = status(env.db().to_str().expect("utf-8"));
    assert_eq!(
        lite_status["snapshot_fresh"],
        Value::Bool(true),
        "{lite_status}"
    );
    assert_eq!(lite_status["quarantined"], Value::from(2), "{lite_status}");
    assert_eq!(status(url), lite_status);
    let table = ok(&env, &["status", "--db", url]);
    assert!(table.contains("postgres://"), "{table}");

    // The stores are the same rows: PostgreSQL copied back into a file quarantines the same
    // entries and counts the same.
    ok(&env, &["store", "copy", "--from", url, "--to", "back.db"]);
    let quarantine = |db: &str| -> Vec<Value> {
        let v: Value =
            serde_json::from_str(&ok(&env, &["quarantine", "--json", "--db", db])).expect("JSON");
        v["entries"].as_array().expect("entries").clone()
    };
    let lite_q = quarantine(env.db().to_str().expect("utf-8"));
    assert_eq!(lite_q.len(), 2, "{lite_q:?}");
    assert_eq!(quarantine("back.db"), lite_q);
    assert_eq!(quarantine(url), lite_q, "listed from PostgreSQL");
    // Every entry, the closed ones with their state (when they were closed aside), and one
    // import's, and a refusal for an import that does not exist: the same on both.
    let all = |db: &str, extra: &[&str]| -> Vec<Value> {
        let mut args = vec!["quarantine", "--json", "--db", db];
        args.extend(extra);
        let v: Value = serde_json::from_str(&ok(&env, &args)).expect("JSON");
        let mut entries = v["entries"].as_array().expect("entries").clone();
        for e in &mut entries {
            if !e["resolved_at"].is_null() {
                e["resolved_at"] = Value::from(0);
            }
        }
        entries
    };
    let lite_all = all(env.db().to_str().expect("utf-8"), &["--all"]);
    assert_eq!(lite_all.len(), 6, "three imports of odd.csv: {lite_all:?}");
    assert_eq!(all(url, &["--all"]), lite_all);
    assert_eq!(
        all(url, &["--import", "7"]),
        all(env.db().to_str().expect("utf-8"), &["--import", "7"])
    );
    let lite_err =
        String::from_utf8(env.run(&["quarantine", "--import", "999"]).stderr).expect("utf-8");
    let pg_err = assert_clean_failure(&env.run(&["quarantine", "--import", "999", "--db", url]));
    assert!(pg_err.contains("no import 999"), "{pg_err}");
    assert_eq!(pg_err, lite_err);

    // Clearing: the same entries closed, recorded the same, and the same refusal.
    let lite_db = env.db().to_str().expect("utf-8").to_string();
    let open = |db: &str| {
        let v: Value =
            serde_json::from_str(&ok(&env, &["status", "--json", "--db", db])).expect("JSON");
        v["quarantined"].as_i64().expect("quarantined")
    };
    assert_eq!(open(url), 2);
    let clear = |db: &str, which: &[&str]| -> Value {
        let mut args = vec!["quarantine", "clear", "--by", "ann", "--json", "--db", db];
        args.extend(which);
        let mut v: Value = serde_json::from_str(&ok(&env, &args)).expect("JSON");
        assert!(v["at"].as_i64().is_some_and(|t| t > 1_700_000_000), "{v}");
        v["at"] = Value::Null;
        v
    };
    let last_odd = listed["imports"][0]["id"].as_i64().expect("id").to_string();
    let lite_cleared = clear(&lite_db, &["--import", &last_odd]);
    assert_eq!(lite_cleared["entries"], Value::from(2), "{lite_cleared}");
    assert_eq!(clear(url, &["--import", &last_odd]), lite_cleared);
    assert_eq!((open(url), open(&lite_db)), (0, 0));
    assert_eq!(all(url, &["--all"]), all(&lite_db, &["--all"]));
    let again = clear(url, &["--all"]);
    assert_eq!(again["entries"], Value::from(0), "{again}");
    assert_eq!(again, clear(&lite_db, &["--all"]));
    let lite_err = String::from_utf8(
        env.run(&["quarantine", "clear", "--import", "999", "--db", &lite_db])
            .stderr,
    )
    .expect("utf-8");
    let pg_err =
        assert_clean_failure(&env.run(&["quarantine", "clear", "--import", "999", "--db", url]));
    assert!(pg_err.contains("no import 999"), "{pg_err}");
    assert_eq!(pg_err, lite_err);
}

#[test]
fn a_killed_import_into_postgres_resumes_exactly() {
    let Some(db) = test_db("cli_kill") else {
        return;
    };
    let url = db.url.as_str();
    let env = Env::new();
    let rows = 200_000;
    let f = env.write(
        "big.csv",
        signals_csv(rows) + "X1,bad,phone,complaint,,,,,,,,\n",
    );
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("hearken"))
        .current_dir(env.dir.path())
        .env("HEARKEN_DB", url)
        .env("HEARKEN_BATCH_SIZE", "2000")
        .args([
            "import",
            f.to_str().expect("utf-8"),
            "--kind",
            "signals",
            "--json",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while pg_count(url, "SELECT count(*) FROM signals") < 10_000
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().expect("SIGKILL");
    let status = child.wait().expect("wait");
    let partial = pg_count(url, "SELECT count(*) FROM signals") as usize;
    assert!(!status.success(), "killed before it finished ({partial})");
    assert!(partial > 0 && partial < rows, "killed mid-way: {partial}");
    assert_eq!(partial % 2000, 0, "only whole batches are committed");
    assert_eq!(
        pg_count(url, "SELECT read FROM imports WHERE id = 1"),
        partial as i64,
        "the counts committed with the rows"
    );
    assert_eq!(
        pg_count(
            url,
            "SELECT count(*) FROM imports WHERE finished_at IS NULL"
        ),
        1
    );

    let rerun = import_json(&env, f.to_str().expect("utf-8"), "signals", Some(url));
    assert_eq!(n(&rerun, "read"), rows as u64 + 1);
    assert_eq!(n(&rerun, "duplicates"), partial as u64);
    assert_eq!(n(&rerun, "stored"), (rows - partial) as u64);
    assert_eq!(n(&rerun, "quarantined"), 1);

    // Exactly the rows (ids included) a clean import into SQLite stores.
    import_json(&env, f.to_str().expect("utf-8"), "signals", None);
    ok(&env, &["store", "copy", "--from", url, "--to", "back.db"]);
    let rows_of = |db: &std::path::Path| -> Vec<String> {
        let conn = rusqlite::Connection::open(db).expect("open");
        let mut stmt = conn
            .prepare(
                "SELECT id, ext_id, at, channel, customer_id, product_id, case_id, agent_id, text,
                        row_hash, line, sentiment, language FROM signals ORDER BY id",
            )
            .expect("select");
        stmt.query_map([], |r| {
            Ok((0..13)
                .map(|i| format!("{:?}", r.get::<_, rusqlite::types::Value>(i)))
                .collect::<Vec<_>>()
                .join("|"))
        })
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("rows")
    };
    let lite = rows_of(&env.db());
    assert_eq!(lite.len(), rows);
    assert_eq!(rows_of(&env.path("back.db")), lite);
}

#[test]
fn a_connection_lost_mid_import_is_one_line_and_a_retry_completes() {
    let Some(db) = test_db("cli_lost") else {
        return;
    };
    let url = db.url.as_str();
    let env = Env::new();
    let rows = 200_000;
    let f = env.write("big.csv", signals_csv(rows));
    let child = std::process::Command::new(assert_cmd::cargo::cargo_bin("hearken"))
        .current_dir(env.dir.path())
        .env("HEARKEN_BATCH_SIZE", "2000")
        .args(["import", f.to_str().expect("utf-8"), "--kind", "signals"])
        .args(["--db", url])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while pg_count(url, "SELECT count(*) FROM signals") < 10_000
        && std::time::Instant::now() < deadline
    {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // What a server restart does to the import's connection.
    let name = url.rsplit('/').next().expect("database");
    let ended = pg_count(
        url,
        &format!(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
             WHERE datname = '{name}' AND application_name = 'hearken') t"
        ),
    );
    assert!(ended >= 1, "the import's connection was found: {ended}");
    let out = child.wait_with_output().expect("wait");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!out.status.success(), "{err}");
    assert_ne!(out.status.code(), Some(101), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        err.starts_with("error: ") && err.contains("PostgreSQL"),
        "{err}"
    );
    let partial = pg_count(url, "SELECT count(*) FROM signals");
    assert!(partial > 0 && partial < rows as i64, "{partial}");
    assert_eq!(partial % 2000, 0, "only whole batches are committed");
    let rerun = import_json(&env, f.to_str().expect("utf-8"), "signals", Some(url));
    assert_eq!(n(&rerun, "stored") + partial as u64, rows as u64);
    assert_eq!(pg_count(url, "SELECT count(*) FROM signals"), rows as i64);
}

#[test]
fn import_refusals_are_one_line_without_the_password() {
    let Some(db) = test_db("cli_import_refusals") else {
        return;
    };
    let env = Env::new();
    let f = env.write("s.csv", signals_csv(10));
    let file = f.to_str().expect("utf-8");
    // A server that is down (nothing listens on port 1).
    let err = assert_clean_failure(&env.run(&[
        "import",
        file,
        "--kind",
        "signals",
        "--db",
        "postgres://hearken:s3cret@127.0.0.1:1/nothing",
    ]));
    assert!(
        err.contains("cannot connect") && err.contains("refused"),
        "{err}"
    );
    assert!(!err.contains("s3cret"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    // A URL that is not one.
    let err = assert_clean_failure(&env.run(&[
        "import",
        file,
        "--kind",
        "signals",
        "--db",
        "postgres://hearken:s3cret@127.0.0.1:port/x",
    ]));
    assert!(err.contains("is not a store location"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
    // A database that does not exist, through HEARKEN_DB.
    let missing = db
        .url
        .replacen("postgres://hearken@", "postgres://hearken:s3cret@", 1)
        + "_none";
    let out = env
        .cmd()
        .env("HEARKEN_DB", &missing)
        .args(["import", file, "--kind", "signals"])
        .output()
        .expect("run");
    let err = assert_clean_failure(&out);
    assert!(err.contains("does not exist"), "{err}");
    assert!(!err.contains("s3cret"), "{err}");
    // A schema from a newer hearken: refused before anything is written.
    import_json(&env, file, "signals", Some(&db.url));
    let mut c = postgres::Client::connect(&db.url, postgres::NoTls).expect("client");
    c.batch_execute("UPDATE hearken_schema SET version = version + 1")
        .expect("bump");
    let err =
        assert_clean_failure(&env.run(&["import", file, "--kind", "signals", "--db", &db.url]));
    assert!(err.contains("newer than this hearken"), "{err}");
    assert_eq!(pg_count(&db.url, "SELECT count(*) FROM imports"), 1);
}
