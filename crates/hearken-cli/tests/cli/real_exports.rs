//! The "real exports" suite (issue 9): every fixture of `tests/data/exports` (files in the exact
//! shapes of real exports: Zendesk CSV, JSON and ticket events, Qualtrics, a Twitter/X support
//! export, Windows-1252, European numbers, bare CRs, an Excel workbook renamed .csv, a slice of
//! the CFPB complaints) and the helpdesk and receipt event logs, imported end to end with the
//! `hearken` binary. Counts, quarantined rows and figures are checked against
//! `tests/data/exports/expected.json` (pandas 2.2.3 and vaderSentiment 3.3.2, written by
//! tools/reference/exports/make_reference.py) and hearken-flow's PM4Py reference: no expected
//! value is typed in here. Figures are read through the analytics commands' `--json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::helpers::*;

fn exports() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/exports")
}

fn expected() -> Value {
    let text = std::fs::read_to_string(exports().join("expected.json")).expect("expected.json");
    serde_json::from_str(&text).expect("expected.json is JSON")
}

fn fixture(name: &str) -> Value {
    let all = expected();
    let f = all["fixtures"][name].clone();
    assert!(f.is_object(), "expected.json has no fixture {name}");
    f
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

fn f(v: &Value) -> f64 {
    v.as_f64().unwrap_or_else(|| panic!("not a number: {v}"))
}

/// Equal to the 6 decimals the reference writes.
fn close(got: f64, want: f64, what: &str) {
    assert!(
        (got - want).abs() <= 1e-6 * want.abs().max(1.0),
        "{what}: hearken {got}, pandas {want}"
    );
}

/// Runs a read-only command with `--json` and returns its output.
fn json(env: &Env, args: &[&str]) -> Value {
    let mut all: Vec<&str> = args.to_vec();
    all.push("--json");
    let out = env.run(&all);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}"))
}

/// The kind the import is run with, from the fixture's description.
fn kind_of(exp: &Value) -> &str {
    let k = exp["kind"].as_str().expect("kind");
    if k.starts_with("case-events") {
        "case-events"
    } else {
        k
    }
}

/// Imports a fixture with its mapping and checks the counts: read, stored, duplicates,
/// quarantined and skipped as pandas counted them (and that they reconcile). Returns the
/// import's report.
fn import_fixture(env: &Env, name: &str) -> Value {
    let exp = fixture(name);
    let mut extra = Vec::new();
    let mapping;
    if let Some(m) = exp["mapping"].as_str() {
        mapping = exports().join(m).display().to_string();
        extra.extend(["--mapping", mapping.as_str()]);
    }
    let r = env.import(&exports().join(name), kind_of(&exp), &extra);
    let stored_key = match kind_of(&exp) {
        "signals" => "signals",
        "surveys" => "responses",
        "customers" => "customers",
        _ => "case_events",
    };
    assert_eq!(n(&r, "read"), u(&exp["rows_read"]), "{name}: read {r}");
    assert_eq!(n(&r, "stored"), u(&exp[stored_key]), "{name}: stored {r}");
    assert_eq!(
        n(&r, "quarantined"),
        u(&exp["quarantined"]["count"]),
        "{name}: quarantined {r}"
    );
    if let Some(d) = exp["duplicates"].as_u64() {
        assert_eq!(n(&r, "duplicates"), d, "{name}: duplicates");
    }
    let skipped = exp["skipped"]["count"].as_u64().unwrap_or(0);
    assert_eq!(n(&r, "skipped"), skipped, "{name}: skipped {r}");
    r
}

/// The quarantined rows of the import: line, canonical field and value, as pandas found them.
fn check_quarantine(env: &Env, report: &Value, name: &str) {
    let exp = fixture(name);
    let import = report["files"][0]["import_id"].as_u64().expect("import id");
    let out = env.run(&["quarantine", "--json", "--import", &import.to_string()]);
    assert!(out.status.success());
    let page: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let entries: Vec<Value> = page["entries"].as_array().expect("entries").clone();
    let got: Vec<(u64, String, Option<String>)> = entries
        .iter()
        .map(|e| {
            let field = e["field"].as_str().unwrap_or("");
            let canonical = field.split(" (column").next().unwrap_or(field).to_string();
            (
                u(&e["line"]),
                canonical,
                e["value"].as_str().map(str::to_string),
            )
        })
        .collect();
    let want: Vec<(u64, String, Option<String>)> = exp["quarantined"]["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                u(&e["line"]),
                e["field"].as_str().expect("field").to_string(),
                e["value"].as_str().map(str::to_string),
            )
        })
        .collect();
    assert_eq!(got.len(), want.len(), "{name}: {entries:?}");
    for (g, w) in got.iter().zip(&want) {
        assert_eq!((g.0, &g.1), (w.0, &w.1), "{name}");
        if w.2.is_some() {
            assert_eq!(g.2, w.2, "{name}: value at line {}", w.0);
        }
        // Every entry keeps the row's text.
    }
    for e in &entries {
        assert!(e["raw"].as_str().is_some_and(|r| !r.is_empty()), "{e}");
    }
}

/// Contacts per entity of `pareto --by BY`, every entity.
fn per(env: &Env, by: &str) -> BTreeMap<String, u64> {
    let v = json(env, &["pareto", "--by", by, "--top", "100000"]);
    v["top"]
        .as_array()
        .expect("top")
        .iter()
        .map(|e| {
            (
                e["entity"].as_str().expect("entity").to_string(),
                u(&e["contacts"]),
            )
        })
        .collect()
}

/// A reference's `{name: count}` object.
fn counts(v: &Value) -> BTreeMap<String, u64> {
    v.as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .iter()
        .map(|(k, c)| (k.clone(), u(c)))
        .collect()
}

/// The k largest, ties by id as text (the reference's order).
fn top(counts: &BTreeMap<String, u64>, k: usize) -> Vec<(String, u64)> {
    let mut v: Vec<(String, u64)> = counts.iter().map(|(a, b)| (a.clone(), *b)).collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(k);
    v
}

fn reference_top(v: &Value) -> Vec<(String, u64)> {
    v.as_array()
        .expect("top list")
        .iter()
        .map(|e| (e["id"].as_str().expect("id").to_string(), u(&e["contacts"])))
        .collect()
}

/// Every stored signal as `hearken signals --json` lists them.
fn all_signals(env: &Env) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut args = vec!["signals", "--limit", "1000"];
        if let Some(c) = &cursor {
            args.extend(["--cursor", c.as_str()]);
        }
        let page = json(env, &args);
        out.extend(page["signals"].as_array().expect("signals").iter().cloned());
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return out,
        }
    }
}

fn by_key(signals: &[Value], key: &str) -> BTreeMap<String, u64> {
    let mut m = BTreeMap::new();
    for s in signals {
        *m.entry(s[key].as_str().unwrap_or("(none)").to_string())
            .or_default() += 1;
    }
    m
}

fn rfc3339(secs: i64) -> String {
    hearken_model::Timestamp::from_unix(secs).to_rfc3339()
}

fn first_and_last(signals: &[Value]) -> (String, String) {
    let at: Vec<i64> = signals
        .iter()
        .map(|s| s["at"].as_i64().expect("at"))
        .collect();
    let (lo, hi) = (
        at.iter().min().expect("rows"),
        at.iter().max().expect("rows"),
    );
    (rfc3339(*lo), rfc3339(*hi))
}

/// Net sentiment of the stored signals (`scores --metric sentiment`) against the reference's.
fn check_sentiment(env: &Env, want: &Value, what: &str) {
    let v = json(env, &["scores", "--metric", "sentiment"]);
    for k in ["n", "positive", "neutral", "negative"] {
        assert_eq!(u(&v[k]), u(&want[k]), "{what}: {k}");
    }
    close(f(&v["net_sentiment"]), f(&want["net_sentiment"]), what);
    // vaderSentiment rounds each compound to 4 decimals; Hearken keeps it unrounded (as f32):
    // the means agree within half a unit of the 4th decimal.
    let (got, mean) = (f(&v["mean_compound"]), f(&want["mean_compound"]));
    assert!(
        (got - mean).abs() <= 5e-5 + 1e-6,
        "{what}: mean compound hearken {got}, vaderSentiment {mean}"
    );
}

/// Stored lines of the signals, in order (the store's own record of where each row came from).
fn stored_lines(env: &Env) -> Vec<u64> {
    let conn = rusqlite::Connection::open(env.db()).expect("open store");
    let mut stmt = conn
        .prepare("SELECT line FROM signals ORDER BY line")
        .expect("prepare");
    stmt.query_map([], |r| r.get::<_, i64>(0))
        .expect("query")
        .map(|r| r.expect("line") as u64)
        .collect()
}

#[test]
fn zendesk_csv_export_keeps_staff_tickets_out_and_matches_pandas() {
    let name = "zendesk_tickets.csv";
    let exp = fixture(name);
    let env = Env::new();
    let r = import_fixture(&env, name);
    check_quarantine(&env, &r, name);
    let figures = &exp["figures"];
    assert_eq!(
        per(&env, "channel"),
        counts(&figures["signals_per_channel"])
    );
    assert_eq!(per(&env, "topic"), counts(&figures["signals_per_topic"]));
    assert_eq!(
        top(&per(&env, "customer"), 5),
        reference_top(&figures["top_customers"])
    );
    let signals = all_signals(&env);
    assert_eq!(
        by_key(&signals, "kind"),
        counts(&figures["signals_per_kind"])
    );
    let (first, last) = first_and_last(&signals);
    assert_eq!(first, figures["first_at_utc"].as_str().expect("first"));
    assert_eq!(last, figures["last_at_utc"].as_str().expect("last"));
    // The staff tickets were counted under the rule's reason.
    let reasons = &r["files"][0]["skipped_reasons"];
    assert_eq!(
        u(&reasons[0]["rows"]),
        u(&exp["skipped"]["count"]),
        "{reasons}"
    );
}

#[test]
fn zendesk_json_export_reads_nested_keys_and_matches_pandas() {
    let name = "zendesk_tickets.json";
    let exp = fixture(name);
    let env = Env::new();
    import_fixture(&env, name);
    let figures = &exp["figures"];
    assert_eq!(
        per(&env, "channel"),
        counts(&figures["signals_per_channel"])
    );
    assert_eq!(per(&env, "topic"), counts(&figures["signals_per_topic"]));
    assert_eq!(
        top(&per(&env, "customer"), 5),
        reference_top(&figures["top_customers"])
    );
    let signals = all_signals(&env);
    assert_eq!(
        by_key(&signals, "kind"),
        counts(&figures["signals_per_kind"])
    );
    check_sentiment(&env, &figures["sentiment_of_descriptions"], name);
}

#[test]
fn zendesk_ticket_events_become_case_events_of_every_ticket() {
    let name = "zendesk_ticket_events.json";
    let exp = fixture(name);
    let env = Env::new();
    import_fixture(&env, name);
    let flow = json(&env, &["flow"]);
    assert_eq!(u(&flow["events"]), u(&exp["case_events"]));
    assert_eq!(u(&flow["cases"]), u(&exp["cases"]));
}

#[test]
fn qualtrics_export_skips_previews_reads_denver_time_and_matches_pandas() {
    let name = "qualtrics_nps_csat.csv";
    let exp = fixture(name);
    let env = Env::new();
    let r = import_fixture(&env, name);
    check_quarantine(&env, &r, name);
    let figures = &exp["figures"];
    let nps = json(&env, &["scores", "--metric", "nps"]);
    for k in ["n", "promoters", "passives", "detractors"] {
        assert_eq!(u(&nps[k]), u(&figures["nps"][k]), "nps {k}");
    }
    close(f(&nps["nps"]), f(&figures["nps"]["score"]), "nps");
    let csat = json(&env, &["scores", "--metric", "csat"]);
    assert_eq!(u(&csat["n"]), u(&figures["csat"]["n"]));
    assert_eq!(u(&csat["satisfied"]), u(&figures["csat"]["satisfied"]));
    close(
        f(&csat["csat"]),
        f(&figures["csat"]["percent_satisfied"]),
        "csat",
    );
    // Responses per month in UTC: the response at 23:41 on 31 March in Denver is April's.
    let months = json(&env, &["scores", "--metric", "nps", "--by", "month"]);
    let per_month: BTreeMap<String, u64> = months["groups"]
        .as_array()
        .expect("groups")
        .iter()
        .map(|g| (g["group"].as_str().expect("month").to_string(), u(&g["n"])))
        .collect();
    assert_eq!(per_month, counts(&figures["responses_per_month_utc"]));
}

#[test]
fn twitter_support_export_keeps_brand_replies_out_of_customers_and_sentiment() {
    let name = "twitter_support.csv";
    let exp = fixture(name);
    let env = Env::new();
    import_fixture(&env, name);
    let figures = &exp["figures"];
    check_sentiment(&env, &figures["customer_sentiment"], name);
    let customers = per(&env, "customer");
    assert_eq!(top(&customers, 5), reference_top(&figures["top_customers"]));
    assert_eq!(customers.len() as u64, u(&figures["distinct_customers"]));
    // No brand account among the customers.
    for brand in counts(&figures["brand_replies_per_brand"]).keys() {
        assert!(
            !customers.contains_key(brand),
            "{brand} counted as a customer"
        );
    }
    let (first, last) = first_and_last(&all_signals(&env));
    assert_eq!(first, figures["first_at_utc"].as_str().expect("first"));
    assert_eq!(last, figures["last_at_utc"].as_str().expect("last"));
}

#[test]
fn a_windows_1252_file_is_refused_with_its_encoding_then_read_with_it() {
    let name = "windows1252_contacts.csv";
    let exp = fixture(name);
    let env = Env::new();
    // Without the mapping's encoding: one message naming the line and the encoding, nothing read.
    let out = env.run(&[
        "import",
        exports().join(name).to_str().expect("path"),
        "--kind",
        "signals",
    ]);
    let err = assert_clean_failure(&out);
    let bytes = std::fs::read(exports().join(name)).expect("fixture");
    let offset = u(&exp["first_non_utf8_byte"]["offset"]) as usize;
    let line = 1 + bytes[..offset].iter().filter(|&&b| b == b'\n').count();
    assert!(err.contains(&format!("line {line}")), "{err}");
    assert!(
        err.contains(exp["first_non_utf8_byte"]["byte"].as_str().expect("byte")),
        "{err}"
    );
    assert!(err.contains("encoding = \"windows-1252\""), "{err}");
    assert_eq!(n(&env.status(), "signals"), 0);
    // With it: every row, every character.
    import_fixture(&env, name);
    let figures = &exp["figures"];
    assert_eq!(
        per(&env, "channel"),
        counts(&figures["signals_per_channel"])
    );
    let signals = all_signals(&env);
    assert_eq!(
        by_key(&signals, "kind"),
        counts(&figures["signals_per_kind"])
    );
    check_sentiment(&env, &figures["sentiment"], name);
    let euro = signals
        .iter()
        .filter(|s| s["text"].as_str().is_some_and(|t| t.contains('€')))
        .count() as u64;
    assert_eq!(euro, u(&figures["texts_with_euro_sign"]));
    let conn = rusqlite::Connection::open(env.db()).expect("open");
    let first: String = conn
        .query_row("SELECT text FROM signals WHERE line = 2", [], |r| r.get(0))
        .expect("first row");
    assert_eq!(first, figures["text_of_first_row"].as_str().expect("text"));
}

#[test]
fn european_numbers_are_read_as_stated_and_the_ambiguous_ones_quarantined() {
    let name = "european_customers.csv";
    let exp = fixture(name);
    let env = Env::new();
    let r = import_fixture(&env, name);
    check_quarantine(&env, &r, name);
    let figures = &exp["figures"];
    // The values' mean through the analytics: one complaint per customer of the file under one
    // topic, and one more for DE-40112 under another; issues-rank's mean customer value.
    let text = std::fs::read_to_string(exports().join(name)).expect("fixture");
    let mut signals = String::from("signal_id,at,channel,kind,customer_id,topic,text\n");
    for (i, line) in text
        .trim_start_matches('\u{feff}')
        .lines()
        .skip(1)
        .enumerate()
    {
        let id = line.split(';').next().expect("id");
        signals.push_str(&format!("E{i},2024-01-01,web,complaint,{id},all,awful\n"));
    }
    signals.push_str("X1,2024-01-02,email,complaint,DE-40112,one,awful\n");
    let s = env.write("eu_signals.csv", signals);
    env.import(&s, "signals", &[]);
    let issues = json(&env, &["issues-rank"]);
    let mean = |topic: &str| {
        issues["issues"]
            .as_array()
            .expect("issues")
            .iter()
            .find(|i| i["topic"] == topic)
            .map(|i| f(&i["mean_value"]))
            .unwrap_or_else(|| panic!("no topic {topic}: {issues}"))
    };
    close(
        mean("all"),
        f(&figures["value_per_year"]["mean"]),
        "mean value",
    );
    close(
        mean("one"),
        f(&figures["value_of_customer_DE-40112"]),
        "DE-40112",
    );
    // The sum and the count as stored.
    let conn = rusqlite::Connection::open(env.db()).expect("open");
    let (sum, count): (f64, i64) = conn
        .query_row(
            "SELECT sum(value_per_year), count(value_per_year) FROM customers",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("sum");
    close(sum, f(&figures["value_per_year"]["sum"]), "sum");
    assert_eq!(count as u64, u(&figures["value_per_year"]["n"]));
    // Customers per segment: the web complaints are one per customer of the file (the
    // quarantined customers' stubs have no segment).
    let mut segments = json(
        &env,
        &[
            "pareto",
            "--by",
            "segment",
            "--channel",
            "web",
            "--top",
            "100",
        ],
    )["top"]
        .as_array()
        .expect("top")
        .iter()
        .map(|e| {
            (
                e["entity"].as_str().expect("segment").to_string(),
                u(&e["contacts"]),
            )
        })
        .collect::<BTreeMap<_, _>>();
    segments.retain(|k, _| !k.starts_with('('));
    assert_eq!(segments, counts(&figures["customers_per_segment"]));
    let white_glove: i64 = conn
        .query_row(
            "SELECT count(*) FROM customers WHERE white_glove = 1",
            [],
            |r| r.get(0),
        )
        .expect("white glove");
    assert_eq!(white_glove as u64, u(&figures["white_glove"]));
}

#[test]
fn cr_line_ends_and_bare_crs_in_fields_keep_every_row_and_its_line() {
    for name in ["old_mac_cr.csv", "bare_cr_in_field.csv"] {
        let exp = fixture(name);
        let env = Env::new();
        import_fixture(&env, name);
        let figures = &exp["figures"];
        assert_eq!(
            per(&env, "channel"),
            counts(&figures["signals_per_channel"]),
            "{name}"
        );
        let want: Vec<u64> = figures["record_lines"]
            .as_array()
            .expect("lines")
            .iter()
            .map(u)
            .collect();
        assert_eq!(stored_lines(&env), want, "{name}");
        for (id, text) in figures["texts_with_a_cr"].as_object().expect("texts") {
            let v = json(&env, &["signals", "--id", id]);
            let got = v["text"]
                .as_str()
                .or_else(|| v["signal"]["text"].as_str())
                .unwrap_or_else(|| panic!("{name} {id}: {v}"));
            let mut want = text.as_str().expect("text").to_string();
            if name == "old_mac_cr.csv" {
                // In a file whose lines end with a bare CR, every CR is that file's line break,
                // inside a quoted field too: Hearken reads it as one (LF); Python's csv keeps
                // the CR. Elsewhere a bare CR is kept as it is.
                want = want.replace('\r', "\n");
            }
            assert_eq!(got, want, "{name} {id}");
        }
    }
}

#[test]
fn an_excel_workbook_renamed_csv_is_refused_before_any_row() {
    let name = "excel_workbook_renamed.csv";
    let exp = fixture(name);
    assert_eq!(u(&exp["rows_read"]), 0);
    let env = Env::new();
    let out = env.run(&[
        "import",
        exports().join(name).to_str().expect("path"),
        "--kind",
        "signals",
    ]);
    let err = assert_clean_failure(&out);
    assert!(err.contains("is an Excel workbook (.xlsx)"), "{err}");
    assert!(err.contains("save it as \"CSV UTF-8"), "{err}");
    assert!(!err.contains("line "), "{err}");
    let st = env.status();
    assert_eq!(n(&st, "signals"), 0);
    assert_eq!(n(&st, "quarantined"), 0);
}

#[test]
fn cfpb_complaints_match_pandas() {
    let name = "cfpb_complaints.csv";
    let exp = fixture(name);
    let env = Env::new();
    import_fixture(&env, name);
    let figures = &exp["figures"];
    assert_eq!(
        per(&env, "channel"),
        counts(&figures["signals_per_channel"])
    );
    assert_eq!(
        top(&per(&env, "product"), 5),
        reference_top(&figures["top_products"])
    );
    assert_eq!(
        top(&per(&env, "topic"), 5),
        reference_top(&figures["top_issues"])
    );
    check_sentiment(&env, &figures["narrative_sentiment"], name);
    let signals = all_signals(&env);
    let (first, last) = first_and_last(&signals);
    assert_eq!(first, figures["first_at_utc"].as_str().expect("first"));
    assert_eq!(last, figures["last_at_utc"].as_str().expect("last"));
    let narratives = signals
        .iter()
        .filter(|s| s["text"].as_str().is_some_and(|t| !t.is_empty()))
        .count() as u64;
    assert_eq!(narratives, u(&figures["narratives"]));
}

/// The helpdesk and receipt logs (vendored in hearken-eventlog) as case events: every event
/// stored, and the store's flow figures equal PM4Py's.
#[test]
fn helpdesk_and_receipt_logs_import_as_case_events_with_pm4py_counts() {
    let reference: Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../hearken-flow/tests/data/pm4py_reference.json"),
        )
        .expect("pm4py reference"),
    )
    .expect("JSON");
    let logs = reference["logs"].as_array().expect("logs");
    for file in [
        "helpdesk.xes.gz",
        "helpdesk.events.csv.gz",
        "receipt.xes.gz",
        "receipt.csv.gz",
    ] {
        let want = logs
            .iter()
            .find(|l| l["file"] == file)
            .unwrap_or_else(|| panic!("no reference for {file}"));
        let env = Env::new();
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../hearken-eventlog/tests/data")
            .join(file);
        let r = env.import(&path, "case-events", &[]);
        assert_eq!(n(&r, "stored"), u(&want["events"]), "{file}");
        assert_eq!(n(&r, "quarantined"), 0, "{file}");
        let flow = json(&env, &["flow"]);
        for k in ["events", "cases", "dfg_edges", "dfg_total"] {
            assert_eq!(u(&flow[k]), u(&want[k]), "{file}: {k}");
        }
        assert_eq!(
            flow["rework_cases"], want["rework_cases"],
            "{file}: rework per activity"
        );
    }
}
