//! The store as people really use it: a typo'd `--db`, a read-only store, two first imports at
//! once, analytics during an import, the demo beside real data.

use std::path::Path;

use crate::helpers::*;

fn stderr(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

#[test]
fn read_only_commands_refuse_a_missing_store() {
    let env = Env::new();
    for args in [
        vec!["status"],
        vec!["quarantine"],
        vec!["scores", "--metric", "nps"],
        vec!["pareto", "--by", "customer"],
    ] {
        let mut all = vec!["--db", "tpyo.db"];
        all.extend(args.iter().copied());
        let err = assert_clean_failure(&env.run(&all));
        assert!(
            err.contains("tpyo.db") && err.contains("hearken import") && err.contains("--db"),
            "{args:?}: {err}"
        );
        assert!(!env.path("tpyo.db").exists(), "{args:?} created a store");
    }
}

fn side_files(db: &Path) -> Vec<String> {
    ["-wal", "-shm", "-journal"]
        .iter()
        .map(|s| format!("{}{s}", db.display()))
        .filter(|p| Path::new(p).exists())
        .collect()
}

#[cfg(unix)]
fn chmod(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

#[cfg(unix)]
#[test]
fn a_read_only_store_is_analysed_and_blocks_nothing_later() {
    let env = Env::new();
    let f = env.write("s.csv", signals_csv(300));
    env.import(&f, "signals", &[]);
    let before = String::from_utf8_lossy(
        &env.run(&["scores", "--metric", "sentiment", "--json"])
            .stdout,
    )
    .to_string();
    // A second import makes the snapshot stale; then the store is made read-only.
    let g = env.write(
        "t.csv",
        "signal_id,at,channel,kind,text\nT1,2024-05-01,email,complaint,awful\n",
    );
    env.import(&g, "signals", &[]);
    chmod(&env.db(), 0o444);
    let out = env.run(&["status", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let st: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(st["read_only"], true);
    let out = env.run(&["scores", "--metric", "sentiment", "--json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let after = String::from_utf8_lossy(&out.stdout).to_string();
    assert_ne!(
        before, after,
        "the stale snapshot was brought up to date (in memory)"
    );
    assert!(after.contains("\"n\":301"), "{after}");
    let err = assert_clean_failure(&env.run(&["import", g.to_str().unwrap(), "--kind", "signals"]));
    assert!(err.contains("read-only"), "{err}");
    assert!(
        side_files(&env.db()).is_empty(),
        "{:?}",
        side_files(&env.db())
    );
    chmod(&env.db(), 0o644);
    let h = env.write(
        "u.csv",
        "signal_id,at,channel,kind\nU1,2024-05-02,email,complaint\n",
    );
    let r = env.import(&h, "signals", &[]);
    assert_eq!(n(&r, "stored"), 1);
}

#[test]
fn two_first_imports_at_once_do_not_race() {
    for round in 0..4 {
        let env = Env::new();
        let files: Vec<_> = (0..4)
            .map(|i| {
                env.write(
                    &format!("s{i}.csv"),
                    format!("signal_id,at,channel,kind\nR{round}x{i},2024-01-01,email,complaint\n"),
                )
            })
            .collect();
        let children: Vec<_> = files
            .iter()
            .map(|f| {
                std::process::Command::new(assert_cmd::cargo::cargo_bin("hearken"))
                    .current_dir(env.dir.path())
                    .env("HEARKEN_DB", env.db())
                    .args([
                        "import",
                        f.to_str().unwrap(),
                        "--kind",
                        "signals",
                        "--json",
                        "--no-enrich",
                    ])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for c in children {
            let out = c.wait_with_output().unwrap();
            assert!(out.status.success(), "round {round}: {}", stderr(&out));
        }
        let st = env.status();
        assert_eq!((n(&st, "signals"), n(&st, "imports")), (4, 4), "{st}");
    }
}

#[cfg(unix)]
#[test]
fn a_running_import_is_told_from_a_killed_one() {
    let env = Env::new();
    let f = env.write("big.csv", signals_csv(200_000));
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("hearken"))
        .current_dir(env.dir.path())
        .env("HEARKEN_DB", env.db())
        .env("HEARKEN_BATCH_SIZE", "2000")
        .args([
            "import",
            f.to_str().unwrap(),
            "--kind",
            "signals",
            "--json",
            "--no-enrich",
        ])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let stored = rusqlite::Connection::open(env.db())
            .and_then(|c| c.query_row("SELECT count(*) FROM signals", [], |r| r.get::<_, i64>(0)))
            .unwrap_or(0);
        if stored >= 4000 || std::time::Instant::now() > deadline {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // Paused, not finished: it is running, and status says figures are partial.
    let pid = child.id().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-STOP", &pid])
            .status()
            .unwrap()
            .success()
    );
    let st = env.status();
    let paused_ok = n(&st, "running_imports") == 1 && n(&st, "interrupted_imports") == 0;
    let text = String::from_utf8_lossy(&env.run(&["status"]).stdout).to_string();
    child.kill().unwrap();
    let _ = std::process::Command::new("kill")
        .args(["-CONT", &pid])
        .status();
    child.wait().unwrap();
    assert!(paused_ok, "{st}");
    assert!(
        text.contains("running now") && text.contains("committed so far"),
        "{text}"
    );
    assert_eq!(st["recent_imports"][0]["state"], "running");
    // Killed: interrupted, not running.
    let st = env.status();
    assert_eq!(
        (n(&st, "running_imports"), n(&st, "interrupted_imports")),
        (0, 1),
        "{st}"
    );
    assert_eq!(st["recent_imports"][0]["state"], "interrupted");
}

#[test]
fn the_demo_never_mixes_synthetic_rows_into_real_data() {
    let env = Env::new();
    let f = env.write("s.csv", signals_csv(10));
    env.import(&f, "signals", &[]);
    let err =
        assert_clean_failure(&env.run(&["demo", "--customers", "50", "--months", "1", "--json"]));
    assert!(
        err.contains("not the demo's") && err.contains("--db"),
        "{err}"
    );
    assert!(
        !env.path("hearken-demo").exists(),
        "refused before generating anything"
    );
    assert_eq!(n(&env.status(), "signals"), 10);
    // Into its own store it runs, and importing real data there afterwards says what it mixes with.
    let out = env.run(&[
        "--db",
        "demo.db",
        "demo",
        "--customers",
        "50",
        "--months",
        "1",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = env.run(&[
        "--db",
        "demo.db",
        "import",
        f.to_str().unwrap(),
        "--kind",
        "signals",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("synthetic"));
}
