//! `--engine` and `--lake` (ADR 0014): bad input gives one clear line and no panic, with or
//! without the `spark` build feature; with a cluster running (`HEARKEN_SPARK=sc://...` as
//! tools/spark/cluster.sh prints it), `hearken scores --json` on Spark is byte-equal to the
//! embedded engine's.

use std::path::Path;

use crate::helpers::*;

/// A demo store and its lake (signals and surveys, partitioned by month).
fn demo_with_lake() -> Env {
    let env = Env::new();
    let out = env.run(&["demo", "--customers", "300", "--months", "3", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for table in ["signals", "surveys"] {
        let dir = format!("lake/{table}");
        let out = env.run(&["export", table, "--partition", "month", "--out", &dir]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    env
}

/// Runs `hearken scores` with `args`, expecting a failure with one line on stderr containing
/// `want`.
fn refused(env: &Env, args: &[&str], want: &str) {
    let out = env
        .cmd()
        .arg("scores")
        .args(args)
        .output()
        .expect("run hearken");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{args:?} succeeded");
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.contains(want), "{args:?}: {err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
}

fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

#[test]
fn a_wrong_engine_or_lake_is_one_clear_line() {
    let env = demo_with_lake();
    let down = format!("spark://127.0.0.1:{}", closed_port());
    refused(
        &env,
        &["--engine", "http://x:1", "--lake", "lake"],
        "unknown engine 'http://x:1'",
    );
    refused(&env, &["--engine", &down], "give --lake DIR");
    refused(
        &env,
        &["--lake", "lake"],
        "--lake is read by the Spark engine only",
    );
    refused(
        &env,
        &["--engine", "spark://127.0.0.1", "--lake", "lake"],
        "give spark://HOST:PORT",
    );
    // The cluster is down (or, in a lean build, not built in).
    let want = if hearken_spark::SPARK_BUILT {
        "cannot reach the Spark Connect server at sc://127.0.0.1:"
    } else {
        "built without the Spark engine"
    };
    refused(&env, &["--engine", &down, "--lake", "lake"], want);
    // The same through HEARKEN_ENGINE and HEARKEN_LAKE.
    let out = env
        .cmd()
        .arg("scores")
        .env("HEARKEN_ENGINE", &down)
        .env("HEARKEN_LAKE", env.path("lake"))
        .output()
        .expect("run");
    assert!(String::from_utf8_lossy(&out.stderr).contains(want));

    // A missing partition (a month folder without its file) and a foreign one.
    let month = first_month(&env.path("lake/signals"));
    let part = env
        .path("lake/signals")
        .join(&month)
        .join("part-00000.parquet");
    let saved = std::fs::read(&part).expect("read part");
    std::fs::remove_file(&part).expect("remove part");
    refused(
        &env,
        &["--engine", &down, "--lake", "lake"],
        "the partition is missing",
    );
    std::fs::write(&part, saved).expect("restore part");
    std::fs::create_dir_all(env.path("lake/surveys/region=eu")).expect("mkdir");
    refused(
        &env,
        &["--engine", &down, "--lake", "lake"],
        "a foreign partition",
    );
    refused(
        &env,
        &["--engine", &down, "--lake", "no-such-lake"],
        "is not a folder",
    );
}

#[test]
fn an_analytic_spark_does_not_compute_refuses_a_spark_engine_rather_than_ignore_it() {
    let env = Env::new();
    let out = env.run(&["demo", "--customers", "300", "--months", "3"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let down = format!("spark://127.0.0.1:{}", closed_port());
    let one_line = |out: std::process::Output, want: &str| {
        let err = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(!out.status.success(), "succeeded: {want}");
        assert!(err.contains(want), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    };
    for analytic in ["drivers", "issues-rank"] {
        let by_option = env.run(&[analytic, "--engine", &down]);
        one_line(by_option, &format!("{analytic} does not run on the engine"));
        let by_env = env
            .cmd()
            .arg(analytic)
            .env("HEARKEN_ENGINE", &down)
            .output()
            .expect("run");
        one_line(by_env, "give --engine embedded");
        one_line(env.run(&[analytic, "--lake", "lake"]), "leave out --lake");
    }
    // hearken.toml's engine is refused the same way, and --engine embedded overrides it.
    env.write("hearken.toml", format!("engine = \"{down}\"\n"));
    one_line(
        env.run(&["drivers", "--json"]),
        "drivers does not run on the engine",
    );
    let here = env.run(&["drivers", "--engine", "embedded", "--json"]);
    assert!(
        here.status.success(),
        "{}",
        String::from_utf8_lossy(&here.stderr)
    );
    std::fs::remove_file(env.path("hearken.toml")).expect("remove");
    assert_eq!(
        here.stdout,
        env.run(&["drivers", "--json"]).stdout,
        "the embedded answer, with or without the option"
    );
}

fn first_month(table: &Path) -> String {
    let mut months: Vec<String> = std::fs::read_dir(table)
        .expect("read lake")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    months.sort();
    months.into_iter().next().expect("a month")
}

/// Byte-equal `--json` on Spark, when the binary has the Spark engine (the `spark` feature of
/// hearken-cli, or `--features hearken-spark/spark` on the workspace) and a cluster is running
/// (HEARKEN_SPARK).
#[test]
fn analytics_json_on_spark_is_byte_equal_to_the_embedded_engine() {
    if !hearken_spark::SPARK_BUILT {
        eprintln!("skipped: built without the Spark engine (the `spark` feature)");
        return;
    }
    let Some(url) = std::env::var("HEARKEN_SPARK")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        if std::env::var("HEARKEN_REQUIRE_SPARK").as_deref() == Ok("1") {
            panic!("HEARKEN_REQUIRE_SPARK=1 but HEARKEN_SPARK (a running cluster) is not set");
        }
        eprintln!("skipped: HEARKEN_SPARK is not set (tools/spark/cluster.sh start DIR prints it)");
        return;
    };
    let engine = url.replacen("sc://", "spark://", 1);
    let env = demo_with_lake();
    let cases: &[&[&str]] = &[
        &["scores"],
        &["scores", "--by", "segment"],
        &["scores", "--metric", "csat", "--by", "channel"],
        &["scores", "--metric", "ces", "--by", "month"],
        &["scores", "--metric", "sentiment", "--by", "topic"],
        &["scores", "--by", "week", "--from", "2025-02-01"],
        &["pareto", "--by", "product", "--top", "5"],
        &["trends", "--period", "month"],
        &["repeats"],
        &[
            "repeats",
            "--days",
            "3",
            "--cost-per-contact",
            "12.5",
            "--from",
            "2025-02-01",
        ],
    ];
    for args in cases {
        let embedded = env.cmd().args(*args).arg("--json").output().expect("run");
        assert!(
            embedded.status.success(),
            "{}",
            String::from_utf8_lossy(&embedded.stderr)
        );
        let spark = env
            .cmd()
            .args(*args)
            .args(["--json", "--engine", &engine, "--lake", "lake"])
            .output()
            .expect("run");
        assert!(
            spark.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&spark.stderr)
        );
        assert_eq!(
            String::from_utf8_lossy(&spark.stdout),
            String::from_utf8_lossy(&embedded.stdout),
            "{args:?}"
        );
    }
    // An entity filter is refused on Spark, not ignored.
    let out = env
        .cmd()
        .args([
            "repeats",
            "--product",
            "p-1",
            "--engine",
            &engine,
            "--lake",
            "lake",
        ])
        .output()
        .expect("run");
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("--product cannot be used with repeats"), "{e}");
}
