//! The Spark engine against a real cluster on loopback (tools/spark/cluster.sh: a master, two
//! workers, a Spark Connect server): a generated organisation imported into SQLite and exported
//! as the lake; the partials Spark computes equal the embedded path's, the JSON of each answer is
//! byte-equal to the embedded one (which is what `hearken scores --json` prints), both workers
//! ran tasks, and every process is stopped by its id at the end, also when a check fails.
//!
//! Skipped with a message when the cluster cannot be started (no Java, no python3-venv, no
//! network for PyPI), unless `HEARKEN_REQUIRE_SPARK=1` (`.ci/run` sets it for this test): then it fails.
#![cfg(feature = "spark")]

mod common;
use common::start;

use std::path::{Path, PathBuf};
use std::process::Command;

use hearken_model::RecordKind;
use hearken_query::scores::{ScoresRequest, score_partials};
use hearken_query::{By, Metric, ParetoRequest, Period, RepeatsRequest, Scope, TrendsRequest};
use hearken_spark::{Lake, Sql};
use hearken_store::Store;

/// A small generated organisation in SQLite, with the same sentiment spread as the query
/// layer's tests, and its lake.
fn org(dir: &Path) -> (Store, PathBuf) {
    let (store, db) = common::generated_store(
        dir,
        120,
        4,
        5,
        &[
            RecordKind::Customers,
            RecordKind::Products,
            RecordKind::Agents,
            RecordKind::Signals,
            RecordKind::Surveys,
            RecordKind::CaseEvents,
        ],
        5_000,
    );
    // Signal texts get a deterministic sentiment spread in [-1, 1] (the enrichment pool is
    // the CLI's), as in the query layer's tests.
    rusqlite::Connection::open(&db)
        .expect("sql connection")
        .execute_batch(
            "UPDATE signals SET sentiment = ((id * 7919) % 2001 - 1000) / 1000.0 WHERE text IS NOT NULL",
        )
        .expect("sentiment");
    // Contacts at the same second (ADR 0014, repeats): a copy of every seventh signal with a
    // customer and a topic, imported after it, against another product. Of the two, the later
    // row is the repeat, so the products' repeat counts depend on how ties are ordered.
    let ties = rusqlite::Connection::open(&db)
        .expect("sql connection")
        .execute(
            "INSERT INTO signals (ext_id, at, channel, kind, source, customer_id, product_id,
                 case_id, agent_id, stage, topic, text, row_hash, import_id, line, sentiment,
                 language, redactions, predicted_topic, topic_probability)
             SELECT ext_id || '-same-second', at, channel, kind, source, customer_id,
                 (SELECT min(p.id) FROM products p WHERE p.id IS NOT s.product_id),
                 case_id, agent_id, stage, topic, text, row_hash, import_id, line, sentiment,
                 language, redactions, predicted_topic, topic_probability
             FROM signals s
             WHERE customer_id IS NOT NULL AND coalesce(topic, predicted_topic) IS NOT NULL
                 AND id % 7 = 0
             ORDER BY id",
            [],
        )
        .expect("same-second contacts");
    assert!(ties > 20, "{ties} same-second contacts");
    store
        .refresh_snapshot(false, &mut |_, _| {})
        .expect("snapshot");
    let lake = dir.join("lake");
    for (dataset, folder) in [
        (hearken_export::Dataset::Signals, "signals"),
        (hearken_export::Dataset::Surveys, "surveys"),
    ] {
        common::export(&store, dataset, &lake.join(folder));
    }
    (store, lake)
}

/// The scores requests checked: every metric overall, every Spark grouping that applies, a
/// window, and a change against an earlier window.
fn requests() -> Vec<ScoresRequest> {
    let mut out = Vec::new();
    for metric in Metric::ALL.iter().copied() {
        out.push(ScoresRequest {
            metric,
            ..ScoresRequest::default()
        });
        for by in hearken_spark::scores::SPARK_BY.iter().copied() {
            if by.signals_only() && metric != Metric::Sentiment {
                continue;
            }
            out.push(ScoresRequest {
                metric,
                by: Some(by),
                ..ScoresRequest::default()
            });
        }
        out.push(ScoresRequest {
            metric,
            by: Some(By::Segment),
            from: Some("2025-02-01".into()),
            to: Some("2025-04-01".into()),
            level: 0.95,
            ..ScoresRequest::default()
        });
        out.push(ScoresRequest {
            metric,
            from: Some("2025-03-01".into()),
            to: Some("2025-05-01".into()),
            against_from: Some("2025-01-01".into()),
            against_to: Some("2025-03-01".into()),
            bootstrap: Some(200),
            ..ScoresRequest::default()
        });
    }
    out
}

fn get(url: &str) -> serde_json::Value {
    let out = Command::new("curl")
        .args(["-fsS", url])
        .output()
        .expect("run curl");
    assert!(
        out.status.success(),
        "GET {url}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn scores_on_spark_equal_the_embedded_path_and_both_workers_run() {
    let Some(cluster) = start() else { return };
    let work = tempfile::tempdir().expect("temp dir");
    let (store, lake_dir) = org(work.path());
    let spark = hearken_spark::connect(&cluster.engine).expect("connect");
    let lake = Lake::open(&lake_dir).expect("lake");
    let scope = Scope::all();
    let mut checked = 0;
    for req in requests() {
        let what = serde_json::to_string(&req).expect("request JSON");
        // (a) the partials.
        let plan = hearken_query::scores::plan(&req).expect("plan");
        let embedded = score_partials(&store, &scope, req.metric, &plan).expect("embedded");
        let on_spark = hearken_spark::scores::score_partials(&spark, &lake, &store, &scope, &req)
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(on_spark, embedded, "partials of {what}");
        // (b) the answers' JSON, byte for byte (`hearken scores --json` prints this string).
        let a =
            serde_json::to_string(&hearken_query::scores(&store, &scope, &req).expect("embedded"))
                .expect("JSON");
        // `hearken_spark::scores` is these partials through the query layer's builder; it runs
        // once in full below, and from the partials here (half the queries).
        let b = serde_json::to_string(
            &hearken_query::scores::scores_from_partials(&store, &scope, &req, on_spark)
                .expect("spark"),
        )
        .expect("JSON");
        assert_eq!(a, b, "JSON of {what}");
        checked += 1;
    }
    assert!(checked > 30, "{checked} requests");
    let req = ScoresRequest {
        metric: Metric::Sentiment,
        by: Some(By::Week),
        ..ScoresRequest::default()
    };
    assert_eq!(
        serde_json::to_string(&hearken_query::scores(&store, &scope, &req).expect("embedded"))
            .expect("JSON"),
        serde_json::to_string(
            &hearken_spark::scores(&spark, &lake, &store, &scope, &req).expect("spark")
        )
        .expect("JSON"),
    );

    // Pareto per entity and trends per period: partials and JSON.
    for by in hearken_query::pareto::PARETO_BY.iter().copied() {
        if !hearken_spark::scores::SPARK_BY.contains(&by) {
            continue;
        }
        let req = ParetoRequest {
            by,
            top: 7,
            ..ParetoRequest::default()
        };
        let embedded =
            hearken_query::pareto::pareto_partials(&store, &scope, &req).expect("embedded");
        let on_spark = hearken_spark::counts::pareto_partials(&spark, &lake, &store, &scope, &req)
            .unwrap_or_else(|e| panic!("pareto by {by}: {e}"));
        assert_eq!(on_spark, embedded, "pareto partials by {by}");
        if by == By::Customer {
            assert_eq!(
                serde_json::to_string(
                    &hearken_spark::pareto(&spark, &lake, &store, &scope, &req).expect("spark")
                )
                .expect("JSON"),
                serde_json::to_string(
                    &hearken_query::pareto(&store, &scope, &req).expect("embedded")
                )
                .expect("JSON"),
            );
        }
        let a =
            serde_json::to_string(&hearken_query::pareto(&store, &scope, &req).expect("embedded"))
                .expect("JSON");
        let (dict, counts) = on_spark;
        let b = serde_json::to_string(
            &hearken_query::pareto::pareto_from_partials(&store, &scope, &req, &dict, &counts)
                .expect("spark"),
        )
        .expect("JSON");
        assert_eq!(a, b, "pareto JSON by {by}");
    }
    for period in Period::ALL.iter().copied() {
        for from in [None, Some("2025-02-10".to_string())] {
            let req = TrendsRequest {
                period,
                from: from.clone(),
                ..TrendsRequest::default()
            };
            let embedded =
                hearken_query::trends::trends_partials(&store, &scope, &req).expect("embedded");
            let on_spark =
                hearken_spark::counts::trends_partials(&spark, &lake, &store, &scope, &req)
                    .unwrap_or_else(|e| panic!("trends per {period}: {e}"));
            assert_eq!(
                on_spark, embedded,
                "trends partials per {period} from {from:?}"
            );
            if period == Period::Month && from.is_none() {
                assert_eq!(
                    serde_json::to_string(
                        &hearken_spark::trends(&spark, &lake, &store, &scope, &req).expect("spark")
                    )
                    .expect("JSON"),
                    serde_json::to_string(
                        &hearken_query::trends(&store, &scope, &req).expect("embedded")
                    )
                    .expect("JSON"),
                );
            }
            let a = serde_json::to_string(
                &hearken_query::trends(&store, &scope, &req).expect("embedded"),
            )
            .expect("JSON");
            let b = serde_json::to_string(
                &hearken_query::trends::trends_from_partials(&store, &scope, &req, on_spark)
                    .expect("spark"),
            )
            .expect("JSON");
            assert_eq!(a, b, "trends JSON per {period}");
        }
    }

    repeats(&spark, &lake, &store, &scope);

    // What Spark cannot honour is refused, not ignored.
    let refused = hearken_spark::scores(
        &spark,
        &lake,
        &store,
        &scope,
        &ScoresRequest {
            segment: Some("smb".into()),
            ..ScoresRequest::default()
        },
    )
    .expect_err("an entity filter is refused")
    .to_string();
    assert!(
        refused.contains("`segment` cannot be used with scores"),
        "{refused}"
    );
    let refused = hearken_spark::scores(
        &spark,
        &lake,
        &store,
        &scope,
        &ScoresRequest {
            by: Some(By::Cohort),
            ..ScoresRequest::default()
        },
    )
    .expect_err("cohort is refused")
    .to_string();
    assert!(refused.contains("cohort"), "{refused}");

    // The equality can fail: a lake missing a month gives other partials.
    let (_, months) = lake.table(hearken_spark::Table::Surveys).expect("surveys");
    assert!(months.len() > 1);
    let cut = work.path().join("cut");
    copy_dir(&lake_dir, &cut);
    std::fs::remove_dir_all(cut.join("surveys").join(format!("month={}", months[0])))
        .expect("remove a month");
    let cut_lake = Lake::open(&cut).expect("lake");
    let req = ScoresRequest::default();
    let plan = hearken_query::scores::plan(&req).expect("plan");
    assert_ne!(
        hearken_spark::scores::score_partials(&spark, &cut_lake, &store, &scope, &req)
            .expect("spark"),
        score_partials(&store, &scope, req.metric, &plan).expect("embedded"),
    );

    // (c) both workers' executors ran tasks.
    let apps = get(&format!("{}/api/v1/applications", cluster.ui));
    let app = apps[0]["id"].as_str().expect("an application id");
    let executors = get(&format!(
        "{}/api/v1/applications/{app}/executors",
        cluster.ui
    ));
    let tasks: Vec<(String, i64)> = executors
        .as_array()
        .expect("executors")
        .iter()
        .filter(|e| e["id"] != "driver")
        .map(|e| {
            (
                e["hostPort"].as_str().unwrap_or("").to_string(),
                e["totalTasks"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    eprintln!("tasks per executor: {tasks:?}");
    assert_eq!(tasks.len(), 2, "{tasks:?}");
    assert!(tasks.iter().all(|(_, n)| *n > 0), "{tasks:?}");
    // (d) the guard stops every process by its id; checked after the drop.
    let pids: Vec<u32> = ["master", "worker-1", "worker-2", "connect"]
        .iter()
        .map(|p| cluster.pid(p).expect("a pid file with a pid"))
        .collect();
    drop(cluster);
    for pid in pids {
        assert!(
            !Path::new(&format!("/proc/{pid}")).exists(),
            "process {pid} still runs after stop"
        );
    }
}

#[test]
fn a_cluster_that_is_down_and_a_bad_url_give_one_clear_line() {
    // A loopback port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let e = hearken_spark::connect(&format!("spark://127.0.0.1:{port}"))
        .expect_err("nothing listens")
        .to_string();
    assert!(
        e.starts_with("cannot reach the Spark Connect server"),
        "{e}"
    );
    assert!(!e.contains('\n'), "{e}");
    let e = hearken_spark::connect("spark://127.0.0.1")
        .expect_err("no port")
        .to_string();
    assert!(e.contains("give spark://HOST:PORT"), "{e}");
}

/// Repeat contacts: the partials of the window function on Spark equal the embedded scan's, and
/// the JSON is byte-equal, for the default, a shorter window with a time window, a cost and
/// another level, and a longer window; a window ordered the other way on ties, or counting
/// another number of days, gives other partials (so the equality can fail).
fn repeats(spark: &hearken_spark::Spark, lake: &Lake, store: &Store, scope: &Scope) {
    let requests = [
        RepeatsRequest::default(),
        RepeatsRequest {
            days: 3,
            cost_per_contact: Some(12.5),
            level: 0.95,
            from: Some("2025-02-01".into()),
            to: Some("2025-04-01".into()),
            ..RepeatsRequest::default()
        },
        RepeatsRequest {
            days: 30,
            from: Some("2025-01-15".into()),
            ..RepeatsRequest::default()
        },
    ];
    for (i, req) in requests.iter().enumerate() {
        let what = serde_json::to_string(req).expect("request JSON");
        let embedded =
            hearken_query::repeats::repeats_partials(store, scope, req).expect("embedded");
        let on_spark = hearken_spark::repeats::repeats_partials(spark, lake, store, scope, req)
            .unwrap_or_else(|e| panic!("repeats {what}: {e}"));
        assert!(
            embedded.tallies.by_topic.total().repeats > 10,
            "{what}: {embedded:?}"
        );
        assert_eq!(on_spark, embedded, "repeats partials of {what}");
        let a =
            serde_json::to_string(&hearken_query::repeats(store, scope, req).expect("embedded"))
                .expect("JSON");
        let b = if i == 0 {
            serde_json::to_string(
                &hearken_spark::repeats(spark, lake, store, scope, req).expect("spark"),
            )
        } else {
            serde_json::to_string(
                &hearken_query::repeats::repeats_from_partials(store, scope, req, on_spark)
                    .expect("spark"),
            )
        }
        .expect("JSON");
        assert_eq!(a, b, "repeats JSON of {what}");
    }

    // The equality can fail: the same-second contacts the other way round (the earlier row the
    // repeat), or another number of days, give other partials.
    let req = RepeatsRequest::default();
    let embedded = hearken_query::repeats::repeats_partials(store, scope, &req).expect("embedded");
    let (dir, _) = lake.table(hearken_spark::Table::Signals).expect("signals");
    let query =
        hearken_spark::repeats::repeats_query(&dir, req.days, &req.filters()).expect("query");
    let reversed = query.replace("_metadata.row_index", "_metadata.row_index DESC");
    assert_ne!(reversed, query);
    let reversed =
        hearken_spark::repeats::fold(store, &spark.rows(&reversed).expect("rows")).expect("fold");
    assert_eq!(
        reversed.tallies.by_topic, embedded.tallies.by_topic,
        "ties do not change the counts per topic"
    );
    assert_ne!(
        reversed.tallies.by_product, embedded.tallies.by_product,
        "ties ordered the other way change the counts per product"
    );
    let other_days = hearken_spark::repeats::repeats_partials(
        spark,
        lake,
        store,
        scope,
        &RepeatsRequest {
            days: 2,
            ..RepeatsRequest::default()
        },
    )
    .expect("spark");
    assert_ne!(other_days.tallies, embedded.tallies);

    // What Spark cannot honour is refused, not ignored.
    for (req, want) in [
        (
            RepeatsRequest {
                product: Some("p1".into()),
                ..RepeatsRequest::default()
            },
            "`product` cannot be used with repeats",
        ),
        (
            RepeatsRequest {
                days: 0,
                ..RepeatsRequest::default()
            },
            "days",
        ),
    ] {
        let e = hearken_spark::repeats(spark, lake, store, scope, &req)
            .expect_err(want)
            .to_string();
        assert!(e.contains(want), "{e}");
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read dir") {
        let e = e.expect("entry");
        let dest = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), dest).expect("copy");
        }
    }
}
