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
mod pg_db;
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
    ] {
        let lite = ok(&env, args);
        let mut on_pg = args.to_vec();
        on_pg.extend(["--db", url]);
        assert_eq!(ok(&env, &on_pg), lite, "{args:?}");
    }

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
    let err = assert_clean_failure(&env.run(&["status", "--db", url]));
    assert!(
        err.contains("does not run on a PostgreSQL store yet"),
        "{err}"
    );
}
