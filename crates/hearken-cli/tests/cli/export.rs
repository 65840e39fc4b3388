//! `hearken export`: the CSV of every analytic has the numbers of `hearken <analytic> --json`;
//! row exports count what the store holds; the format from the file name; refusals; a failed
//! export leaves no file behind.

use serde_json::Value;

use crate::helpers::*;

/// A demo store (600 customers, 4 months).
fn demo() -> Env {
    let env = Env::new();
    let out = env.run(&["demo", "--customers", "600", "--months", "4", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    env
}

fn stdout(env: &Env, args: &[&str]) -> String {
    let out = env.run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// The CSV as header names and records.
fn csv_rows(text: &str) -> Vec<Vec<(String, String)>> {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    r.records()
        .map(|rec| {
            header
                .iter()
                .cloned()
                .zip(rec.unwrap().iter().map(str::to_string))
                .collect()
        })
        .collect()
}

/// Checks a CSV cell against a JSON value: the same number (to the last bits a JSON parser may
/// round), text, boolean, list (as JSON text) or nothing.
fn agrees(cell: &str, v: &Value, what: &str) {
    match v {
        Value::Null => assert_eq!(cell, "", "{what}"),
        Value::Bool(b) => assert_eq!(cell, b.to_string(), "{what}"),
        Value::Number(n) => {
            let got: f64 = cell.parse().unwrap_or_else(|_| panic!("{what}: {cell}"));
            let want = n.as_f64().unwrap();
            assert!(
                (got - want).abs() <= 1e-12 * want.abs().max(1.0),
                "{what}: CSV {got}, JSON {want}"
            );
        }
        Value::String(s) => {
            let cell = cell
                .strip_prefix('\'')
                .filter(|rest| rest.starts_with(['=', '+', '-', '@']))
                .unwrap_or(cell);
            assert_eq!(cell, s, "{what}")
        }
        Value::Array(_) => {
            let parsed: Value = serde_json::from_str(cell).unwrap();
            assert_eq!(&parsed, v, "{what}")
        }
        Value::Object(_) => panic!("{what}: an object"),
    }
}

/// Compares every CSV row with its JSON entry on every column the entry has; returns how many
/// values, and how many numbers, were compared.
fn same_values(rows: &[Vec<(String, String)>], entries: &[&Value], what: &str) -> (usize, usize) {
    assert_eq!(rows.len(), entries.len(), "{what}: one row per entry");
    let (mut compared, mut numbers) = (0, 0);
    for (i, (row, entry)) in rows.iter().zip(entries).enumerate() {
        for (col, cell) in row {
            if col == "start" {
                continue; // Unix seconds in JSON, ISO 8601 in the table (checked below)
            }
            if let Some(v) = entry.get(col) {
                agrees(cell, v, &format!("{what}[{i}].{col}"));
                compared += 1;
                numbers += usize::from(v.is_number());
            }
        }
    }
    (compared, numbers)
}

/// One analytic: the CSV export against the command's `--json`.
fn check(env: &Env, command: &[&str], export: &[&str], entries: impl Fn(&Value) -> Vec<Value>) {
    let mut json_args = command.to_vec();
    json_args.push("--json");
    let json: Value = serde_json::from_str(&stdout(env, &json_args)).unwrap();
    let mut export_args = vec!["export"];
    export_args.extend_from_slice(export);
    export_args.extend_from_slice(&["--format", "csv", "--out", "-"]);
    let rows = csv_rows(&stdout(env, &export_args));
    let entries = entries(&json);
    let refs: Vec<&Value> = entries.iter().collect();
    let (n, numbers) = same_values(&rows, &refs, &command.join(" "));
    assert!(
        n >= rows.len() * 3 && numbers >= rows.len() && !rows.is_empty(),
        "{command:?}: only {n} values ({numbers} numbers) compared over {} rows",
        rows.len()
    );
}

fn list(v: &Value, key: &str) -> Vec<Value> {
    v[key].as_array().cloned().unwrap_or_default()
}

#[test]
fn every_analytic_csv_has_the_numbers_of_its_json() {
    let env = demo();
    check(&env, &["scores"], &["scores"], |v| vec![v.clone()]);
    check(
        &env,
        &["scores", "--by", "segment"],
        &["scores", "--by", "segment"],
        |v| list(v, "groups"),
    );
    check(
        &env,
        &["scores", "--metric", "csat", "--by", "month"],
        &["scores", "--metric", "csat", "--by", "month"],
        |v| list(v, "groups"),
    );
    check(
        &env,
        &["scores", "--metric", "sentiment", "--by", "channel"],
        &["scores", "--metric", "sentiment", "--by", "channel"],
        |v| list(v, "groups"),
    );
    // The later half of the surveys' time span against the earlier half.
    let sql = rusqlite::Connection::open(env.db()).unwrap();
    let (first, last): (i64, i64) = sql
        .query_row("SELECT min(at), max(at) FROM surveys", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    let day = |t: i64| hearken_model::Timestamp::from_unix(t).date_string();
    let (start, mid) = (day(first), day((first + last) / 2));
    let change = [
        "scores",
        "--from",
        mid.as_str(),
        "--against-from",
        start.as_str(),
        "--against-to",
        mid.as_str(),
    ];
    check(&env, &change, &change, |v| vec![v["change"].clone()]);
    check(
        &env,
        &["pareto", "--by", "product"],
        &["pareto", "--by", "product"],
        |v| list(v, "top"),
    );
    check(&env, &["drivers"], &["drivers"], |v| list(v, "drivers"));
    check(&env, &["repeats"], &["repeats"], |v| {
        let mut all = vec![v.clone()];
        all.extend(list(v, "by_topic"));
        all.extend(list(v, "by_product"));
        all
    });
    check(&env, &["issues-rank"], &["issues"], |v| list(v, "issues"));
    check(
        &env,
        &["themes", "--k", "5"],
        &["themes", "--k", "5"],
        |v| list(v, "themes"),
    );
    check(&env, &["trends"], &["trends"], |v| {
        list(v, "topics")
            .iter()
            .flat_map(|t| {
                list(t, "points").into_iter().map(move |mut p| {
                    p["topic"] = t["topic"].clone();
                    p["topic_total"] = t["total"].clone();
                    p
                })
            })
            .collect()
    });
}

#[test]
fn row_exports_hold_every_row_in_each_format() {
    let env = demo();
    let status = env.status();
    for (what, key) in [
        ("signals", "signals"),
        ("surveys", "surveys"),
        ("case-events", "case_events"),
        ("customers", "customers"),
    ] {
        let want = n(&status, key) as usize;
        let csv = stdout(&env, &["export", what, "--format", "csv", "--out", "-"]);
        assert_eq!(csv_rows(&csv).len(), want, "{what} csv");
        // The format from the file's extension; the summary on stderr.
        let file = env.path(&format!("{what}.jsonl"));
        let out = env.run(&["export", what, "--out", file.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(String::from_utf8_lossy(&out.stderr).contains("as jsonl"));
        let lines = std::fs::read_to_string(&file).unwrap();
        assert_eq!(lines.lines().count(), want, "{what} jsonl");
        let parquet = env.path(&format!("{what}.parquet"));
        let out = env.run(&["export", what, "--out", parquet.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let bytes = std::fs::read(&parquet).unwrap();
        assert!(
            bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"),
            "{what}"
        );
    }
    // Filters narrow as the analytics do: the segment's signals, counted by SQL.
    let csv = stdout(
        &env,
        &[
            "export",
            "signals",
            "--segment",
            "smb",
            "--kind",
            "complaint",
            "--format",
            "csv",
            "--out",
            "-",
        ],
    );
    let sql = rusqlite::Connection::open(env.db()).unwrap();
    let want: i64 = sql
        .query_row(
            "SELECT count(*) FROM signals s JOIN customers c ON c.id = s.customer_id
             WHERE c.segment = 'smb' AND s.kind = 2",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(want > 0);
    assert_eq!(csv_rows(&csv).len() as i64, want);
}

#[test]
fn export_refuses_what_it_cannot_do_and_never_leaves_half_a_file() {
    let env = demo();
    let err = assert_clean_failure(&env.run(&[
        "export",
        "signals",
        "--segment",
        "gold",
        "--out",
        "x.csv",
    ]));
    assert!(err.contains("unknown segment 'gold' (known: "), "{err}");
    assert!(err.contains("--segment"), "{err}");
    assert!(!env.path("x.csv").exists());
    let err = assert_clean_failure(&env.run(&["export", "signals", "--out", "signals.txt"]));
    assert!(err.contains("--format"), "{err}");
    let err =
        assert_clean_failure(&env.run(&["export", "signals", "--format", "parquet", "--out", "-"]));
    assert!(err.contains("standard output"), "{err}");
    let err = assert_clean_failure(&env.run(&[
        "export",
        "surveys",
        "--kind",
        "complaint",
        "--out",
        "-",
        "--format",
        "csv",
    ]));
    assert!(err.contains("unexpected argument"), "{err}");
    let err = assert_clean_failure(&env.run(&[
        "export",
        "signals",
        "--from",
        "2025-05-01",
        "--to",
        "2025-01-01",
        "--out",
        "y.csv",
    ]));
    assert!(err.contains("--from must be before --to"), "{err}");
    // An existing file is replaced only by a complete export.
    let keep = env.write("keep.csv", "old");
    let err = assert_clean_failure(&env.run(&[
        "export",
        "signals",
        "--team",
        "nope",
        "--out",
        keep.to_str().unwrap(),
    ]));
    assert!(err.contains("unknown team"), "{err}");
    assert_eq!(std::fs::read_to_string(&keep).unwrap(), "old");
    let leftovers: Vec<_> = std::fs::read_dir(env.dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains(".partial-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn a_month_partitioned_export_is_a_hive_directory_of_every_row() {
    let env = demo();
    let dir = env.path("lake");
    let out = env.run(&[
        "export",
        "signals",
        "--partition",
        "month",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("as parquet, in") && err.contains("month partitions"),
        "{err}"
    );
    // One directory per month of the signals (SQL on the store), each with one Parquet file.
    let sql = rusqlite::Connection::open(env.db()).unwrap();
    let mut stmt = sql
        .prepare("SELECT DISTINCT strftime('%Y-%m', at, 'unixepoch') FROM signals ORDER BY 1")
        .unwrap();
    let months: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert!(months.len() >= 4, "{months:?}");
    let mut dirs: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    dirs.sort();
    let want: Vec<String> = months.iter().map(|m| format!("month={m}")).collect();
    assert_eq!(dirs, want);
    for d in &dirs {
        let bytes = std::fs::read(dir.join(d).join("part-00000.parquet")).unwrap();
        assert!(
            bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"),
            "{d}"
        );
    }
    // Nothing is left beside it, and a second export into the same directory is refused.
    let leftovers: Vec<_> = std::fs::read_dir(env.path(""))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains(".partial-"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    let err = assert_clean_failure(&env.run(&[
        "export",
        "signals",
        "--partition",
        "month",
        "--out",
        dir.to_str().unwrap(),
    ]));
    assert!(err.contains("already holds files"), "{err}");
    // Customers have no time to split by: refused before anything is written.
    let other = env.path("customers-lake");
    let err = assert_clean_failure(&env.run(&[
        "export",
        "customers",
        "--partition",
        "month",
        "--out",
        other.to_str().unwrap(),
    ]));
    assert!(err.contains("cannot be split by month"), "{err}");
    assert!(!other.exists());
}
