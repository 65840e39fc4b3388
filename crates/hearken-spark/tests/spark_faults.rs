//! Bad input on the cluster's side (issue 14): a Spark worker lost in the middle of a query, and
//! a Spark Connect server that goes away, against a real cluster on loopback
//! (tools/spark/cluster.sh). The worker is killed (SIGKILL, by its pid, with its executor) while
//! a query's shuffle stage runs: Spark reruns the lost tasks on the other worker and the
//! partials are still equal to the embedded path's; should the query fail instead, its error is
//! one clear line and a retry completes with the same partials. The Connect server killed
//! during a query, and then before one, gives one line saying it cannot be reached (at once,
//! not after the client's ten minutes of retries), never a panic. Every process is stopped by
//! its id at the end.
//!
//! Skipped with a message when the cluster cannot be started, unless `HEARKEN_REQUIRE_SPARK=1`.
#![cfg(feature = "spark")]

mod common;
use common::start;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use hearken_model::RecordKind;
use hearken_query::{By, ParetoRequest, Scope};
use hearken_spark::{Lake, Sql};
use hearken_store::Store;

/// A generated organisation's customers, products, agents and signals in SQLite (about 30,000
/// signals from 5,000 customers), and its signals exported as the lake.
fn org(dir: &Path) -> (PathBuf, PathBuf) {
    let (store, db) = common::generated_store(
        dir,
        5_000,
        6,
        11,
        &[
            RecordKind::Customers,
            RecordKind::Products,
            RecordKind::Agents,
            RecordKind::Signals,
        ],
        20_000,
    );
    store
        .refresh_snapshot(false, &mut |_, _| {})
        .expect("snapshot");
    let lake = dir.join("lake");
    common::export(
        &store,
        hearken_export::Dataset::Signals,
        &lake.join("signals"),
    );
    (db, lake)
}

fn get(url: &str) -> Option<serde_json::Value> {
    let out = Command::new("curl").args(["-fsS", url]).output().ok()?;
    if !out.status.success() {
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}

/// Contacts per customer, on a session of its own whose shuffle has many partitions (and no
/// adaptive coalescing), so the query's second stage runs long enough to lose a worker in it.
fn slow_pareto(
    engine: &str,
    db: &Path,
    lake: &Path,
) -> Result<(hearken_engine::Dict, hearken_engine::pareto::EntityCounts), String> {
    let spark = hearken_spark::connect(engine).map_err(|e| e.to_string())?;
    for set in [
        "SET spark.sql.adaptive.enabled=false",
        "SET spark.sql.shuffle.partitions=400",
    ] {
        spark.rows(set).map_err(|e| e.to_string())?;
    }
    let store = Store::open(db).map_err(|e| e.to_string())?;
    let lake = Lake::open(lake).map_err(|e| e.to_string())?;
    hearken_spark::counts::pareto_partials(
        &spark,
        &lake,
        &store,
        &Scope::all(),
        &ParetoRequest {
            by: By::Customer,
            ..ParetoRequest::default()
        },
    )
    .map_err(|e| e.to_string())
}

/// Waits until the application runs a stage of 400 tasks with some done and some running.
fn wait_for_the_shuffle_stage(ui: &str, app: &str, query: &std::thread::JoinHandle<impl Sized>) {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        assert!(
            !query.is_finished(),
            "the query ended before its shuffle stage was seen running"
        );
        assert!(
            Instant::now() < deadline,
            "no running shuffle stage in 300 s"
        );
        let stages = get(&format!(
            "{ui}/api/v1/applications/{app}/stages?status=active"
        ));
        let running = stages.as_ref().and_then(|s| s.as_array()).is_some_and(|s| {
            s.iter().any(|st| {
                st["numTasks"].as_i64() == Some(400)
                    && st["numCompleteTasks"].as_i64().unwrap_or(0) >= 10
                    && st["numActiveTasks"].as_i64().unwrap_or(0) > 0
            })
        });
        if running {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_worker_lost_mid_query_and_a_connect_server_gone() {
    let Some(cluster) = start() else { return };
    let work = tempfile::tempdir().expect("temp dir");
    let (db, lake) = org(work.path());
    let store = Store::open(&db).expect("store");
    let req = ParetoRequest {
        by: By::Customer,
        ..ParetoRequest::default()
    };
    let embedded =
        hearken_query::pareto::pareto_partials(&store, &Scope::all(), &req).expect("embedded");
    assert!(embedded.1.counts.len() > 1000, "a real shuffle");
    // Healthy: the slow query gives the embedded partials.
    let healthy = slow_pareto(&cluster.engine, &db, &lake).expect("a healthy run");
    assert_eq!(healthy, embedded);
    let apps = get(&format!("{}/api/v1/applications", cluster.ui)).expect("applications");
    let app = apps[0]["id"]
        .as_str()
        .expect("an application id")
        .to_string();

    // (1) Worker 2 (and its executor) killed while the query's shuffle stage runs.
    let (engine, db2, lake2) = (cluster.engine.clone(), db.clone(), lake.clone());
    let query = std::thread::spawn(move || slow_pareto(&engine, &db2, &lake2));
    wait_for_the_shuffle_stage(&cluster.ui, &app, &query);
    let worker = cluster.pid("worker-2").expect("worker 2's pid");
    let killed = Command::new("bash")
        .arg(&cluster.script)
        .arg("kill-worker")
        .arg(cluster.folder())
        .arg("2")
        .status()
        .expect("run kill-worker");
    assert!(killed.success());
    assert!(
        !query.is_finished(),
        "the worker was killed after the query ended"
    );
    eprintln!("killed worker 2 (pid {worker}) and its executor mid-query");
    match query.join().expect("the query's thread does not panic") {
        Ok(got) => assert_eq!(got, embedded, "partials after losing a worker"),
        Err(e) => {
            // Spark gave up: one clear line, and a retry on the surviving worker completes.
            assert!(e.starts_with("the Spark query failed: "), "{e}");
            assert!(!e.contains('\n'), "{e}");
            eprintln!("the query failed with: {e}; retrying");
            let again = slow_pareto(&cluster.engine, &db, &lake).expect("the retry");
            assert_eq!(again, embedded, "partials of the retry");
        }
    }
    assert!(!running(worker), "worker 2 still runs");
    // The driver saw the executor go, and the other one ran the rest.
    let executors = get(&format!(
        "{}/api/v1/applications/{app}/allexecutors",
        cluster.ui
    ))
    .expect("executors");
    let states: Vec<(String, bool, i64, i64)> = executors
        .as_array()
        .expect("executors")
        .iter()
        .filter(|e| e["id"] != "driver")
        .map(|e| {
            (
                e["id"].as_str().unwrap_or("").to_string(),
                e["isActive"].as_bool().unwrap_or(false),
                e["totalTasks"].as_i64().unwrap_or(0),
                e["failedTasks"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    eprintln!("executors (id, active, tasks, failed): {states:?}");
    assert_eq!(
        states.iter().filter(|s| s.1).count(),
        1,
        "one executor left: {states:?}"
    );
    // A new query on the one worker left.
    assert_eq!(
        slow_pareto(&cluster.engine, &db, &lake).expect("one worker"),
        embedded
    );

    // (2) The Connect server (the driver) killed during a query: one line, at once.
    let (engine, db2, lake2) = (cluster.engine.clone(), db.clone(), lake.clone());
    let query = std::thread::spawn(move || slow_pareto(&engine, &db2, &lake2));
    wait_for_the_shuffle_stage(&cluster.ui, &app, &query);
    let connect = cluster.pid("connect").expect("the Connect server's pid");
    let status = Command::new("kill")
        .args(["-KILL", &connect.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success());
    let e = query
        .join()
        .expect("the query's thread does not panic")
        .expect_err("the server is gone");
    eprintln!("with the Connect server killed mid-query: {e}");
    assert!(
        e.starts_with("cannot reach the Spark Connect server")
            && e.contains("went away during the query"),
        "{e}"
    );
    assert!(!e.contains('\n'), "{e}");
    // (3) And a query once it is down: the same line, from connect or from the query.
    let e = slow_pareto(&cluster.engine, &db, &lake).expect_err("the server is down");
    assert!(
        e.starts_with("cannot reach the Spark Connect server"),
        "{e}"
    );
    assert!(e.contains("tools/spark/cluster.sh start"), "{e}");

    // Every process stopped by its id.
    let pids: Vec<u32> = ["master", "worker-1"]
        .iter()
        .filter_map(|p| cluster.pid(p))
        .chain([worker, connect])
        .collect();
    drop(cluster);
    for pid in pids {
        assert!(!running(pid), "process {pid} still runs after stop");
    }
}

/// Whether a process runs (a zombie waiting for its parent to reap it does not).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        // The state follows the command name in parentheses.
        s.rsplit_once(") ")
            .is_some_and(|(_, rest)| !rest.starts_with('Z'))
    })
}
