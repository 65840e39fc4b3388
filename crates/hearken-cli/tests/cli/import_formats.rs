//! `hearken import` on what the fuzzers and real files found: a Qualtrics question row longer than
//! its header, years outside 1..=9999, long digit runs, CRLF line numbers; JSON arrays and
//! pretty-printed objects; a conflicting row's quarantined text; and `flow --config` given a
//! flow configuration.

use serde_json::Value;

use crate::helpers::*;

fn quarantine_of(env: &Env, import: &Value) -> Vec<Value> {
    let id = import["files"][0]["import_id"].as_u64().expect("import id");
    let out = env.run(&["quarantine", "--json", "--import", &id.to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    page["entries"].as_array().expect("entries").clone()
}

/// Runs `import --json` whatever its exit code (an import that stores nothing exits non-zero).
fn import_any(env: &Env, file: &std::path::Path, kind: &str) -> Value {
    let out = env
        .cmd()
        .arg("import")
        .arg(file)
        .args(["--kind", kind, "--json"])
        .output()
        .expect("run");
    assert_ne!(
        out.status.code(),
        Some(101),
        "panicked: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON")
}

#[test]
fn a_qualtrics_question_row_longer_than_its_header_is_read_not_a_panic() {
    let env = Env::new();
    let f = env.write(
        "q.csv",
        "ResponseId,RecordedDate,Q1\nResponse ID,Recorded Date,How likely are you to recommend us?,extra\nR1,2024-01-02,9\n",
    );
    let r = env.import(&f, "surveys", &[]);
    assert_eq!(n(&r, "stored"), 1, "{r}");
    let notes = r["files"][0]["notes"].to_string();
    assert!(
        notes.contains("has 4 fields but the header has 3"),
        "{notes}"
    );
}

#[test]
fn dates_outside_years_1_to_9999_and_long_digit_runs_are_quarantined_with_a_reason() {
    let env = Env::new();
    let f = env.write(
        "s.csv",
        "signal_id,at,channel,kind\nS1,6 Mar -2,web,other\nS2,06 Mar +18671,web,other\nS3,1-1-2024030514300000,web,other\nS4,2024-03-06,web,other\n",
    );
    let r = env.import(&f, "signals", &[]);
    assert_eq!((n(&r, "stored"), n(&r, "quarantined")), (1, 3), "{r}");
    let q = quarantine_of(&env, &r);
    assert!(
        q[0]["reason"]
            .as_str()
            .unwrap()
            .contains("outside the years 1 to 9999"),
        "{q:?}"
    );
    assert!(
        q[1]["reason"]
            .as_str()
            .unwrap()
            .contains("outside the years 1 to 9999"),
        "{q:?}"
    );
    assert!(
        q[2]["reason"].as_str().unwrap().contains("not a date"),
        "{q:?}"
    );
}

#[test]
fn a_crlf_file_reports_the_lines_an_lf_file_does() {
    let env = Env::new();
    let lf = "signal_id,at,channel,kind\nS1,2024-01-01,web,nope\n\nS2,2024-01-01,web,\"a\nb\"\nS3,2024-01-01,web,nope\n";
    let a = env.write("lf.csv", lf);
    let b = env.write("crlf.csv", lf.replace('\n', "\r\n"));
    let lines = |v: &Value| -> Vec<u64> {
        quarantine_of(&env, v)
            .iter()
            .map(|e| e["line"].as_u64().unwrap())
            .collect()
    };
    let (x, y) = (
        import_any(&env, &a, "signals"),
        import_any(&env, &b, "signals"),
    );
    assert_eq!(lines(&x), vec![2, 4, 6]);
    assert_eq!(lines(&y), vec![2, 4, 6]);
}

#[test]
fn json_arrays_and_pretty_printed_objects_import_like_json_lines() {
    let env = Env::new();
    let arr = env.write(
        "a.json",
        "[\n  {\"signal_id\": \"J1\", \"at\": \"2024-01-01\", \"channel\": \"web\", \"kind\": \"other\"},\n  {\"signal_id\": \"J2\", \"at\": \"someday\", \"channel\": \"web\", \"kind\": \"other\"}\n]\n",
    );
    let r = import_any(&env, &arr, "signals");
    assert_eq!((n(&r, "stored"), n(&r, "quarantined")), (1, 1), "{r}");
    assert_eq!(quarantine_of(&env, &r)[0]["line"], 3);
    let one = env.write(
        "o.json",
        "{\n  \"signal_id\": \"J3\",\n  \"at\": \"2024-01-02\",\n  \"channel\": \"email\",\n  \"kind\": \"question\"\n}\n",
    );
    let r = env.import(&one, "signals", &[]);
    assert_eq!(n(&r, "stored"), 1, "{r}");
}

#[test]
fn a_conflicting_row_is_quarantined_as_it_was_read_not_as_a_rust_value() {
    let env = Env::new();
    let a = env.write(
        "a.csv",
        "signal_id,at,channel,kind,text\nS1,2024-01-01,web,other,first\n",
    );
    let b = env.write(
        "b.csv",
        "signal_id,at,channel,kind,text\nS1,2024-01-01,web,other,second\n",
    );
    env.import(&a, "signals", &["--no-enrich"]);
    let r = import_any(&env, &b, "signals");
    let q = quarantine_of(&env, &r);
    let raw = q[0]["raw"].as_str().expect("raw");
    let row: Value = serde_json::from_str(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
    assert_eq!(row["signal_id"], "S1");
    assert_eq!(row["text"], "second");
    assert_eq!(row["at"], "2024-01-01T00:00:00Z");
    assert!(!raw.contains("Signal {") && !raw.contains("Some("), "{raw}");
}

#[test]
fn a_flow_configuration_given_to_config_gets_the_flag_it_needs() {
    let env = Env::new();
    let flow = env.write(
        "flow.toml",
        "escalation = [\"escalated\"]\n\n[lifecycle]\nnew = \"open\"\n",
    );
    let out = env.run(&["flow", "--config", flow.to_str().unwrap()]);
    let err = assert_clean_failure(&out);
    assert!(
        err.contains("for a flow configuration use `hearken flow --flow-config FILE`"),
        "{err}"
    );
    assert!(err.contains("escalation, lifecycle"), "{err}");
    // A hearken.toml with a plain typo keeps its own message.
    let typo = env.write("hearken2.toml", "batch_sise = 10\n");
    let err = assert_clean_failure(&env.run(&["status", "--config", typo.to_str().unwrap()]));
    assert!(
        err.contains("is invalid") && err.contains("batch_sise"),
        "{err}"
    );
    assert!(!err.contains("flow-config"), "{err}");
}
