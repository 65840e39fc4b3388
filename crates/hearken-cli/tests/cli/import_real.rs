//! `hearken import` on files in the shapes real exports have: a social-media support export
//! mixing the organisation's replies with customers' messages, European numbers, real date
//! forms, bare carriage returns, personal data; and the quarantine's lifecycle.

use std::process::Output;

use serde_json::Value;

use crate::helpers::*;

/// Runs `import --json` and returns the output and the parsed summary (whatever the exit code).
fn import_json(env: &Env, file: &std::path::Path, kind: &str, extra: &[&str]) -> (Output, Value) {
    let out = env
        .cmd()
        .arg("import")
        .arg(file)
        .args(["--kind", kind, "--json"])
        .args(extra)
        .output()
        .expect("run import");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out, v)
}

fn reconciles(v: &Value) {
    assert_eq!(
        n(v, "read"),
        n(v, "stored") + n(v, "duplicates") + n(v, "quarantined") + n(v, "skipped"),
        "counts do not reconcile: {v}"
    );
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

fn quarantine_of(env: &Env, import: u64) -> Vec<Value> {
    let out = env.run(&["quarantine", "--json", "--import", &import.to_string()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    v["entries"].as_array().expect("entries").clone()
}

/// The Kaggle "Customer Support on Twitter" export's shape (twcs.csv): brand accounts answer
/// customers in the same file; `inbound` tells them apart.
const TWCS: &str = "tweet_id,author_id,inbound,created_at,text,response_tweet_id,in_response_to_tweet_id
1,sprintcare,False,Tue Oct 31 22:10:47 +0000 2017,@115712 I understand. I would like to assist you. We would need to get you into a private secured link to further assist.,2,3
2,115712,True,Tue Oct 31 22:11:45 +0000 2017,@sprintcare and how do you propose we do that,,1
3,115712,True,Tue Oct 31 22:08:27 +0000 2017,@sprintcare I have sent several private messages and no one is responding as usual,1,4
4,sprintcare,False,Tue Oct 31 21:54:49 +0000 2017,@115712 Please send us a Private Message so that we can further assist you. Just click ‘Message’ at the top of your profile.,3,5
5,115712,True,Tue Oct 31 21:49:35 +0000 2017,@sprintcare I did.,4,6
6,sprintcare,False,Tue Oct 31 21:46:24 +0000 2017,@115712 Can you please send us a private message so that I can gain further details about your account?,\"5,7\",8
8,115712,True,Tue Oct 31 21:45:10 +0000 2017,@sprintcare is the worst customer service,\"9,6,10\",
11,sprintcare,False,Tue Oct 31 22:10:35 +0000 2017,@115713 This is saddening to hear. Please shoot us a DM,,12
12,115713,True,Tue Oct 31 22:04:47 +0000 2017,@sprintcare You gonna magically change your connectivity for me and my whole family ? 🤥 💯,11,
15,sprintcare,False,Tue Oct 31 20:03:31 +0000 2017,@115713 We understand your concerns and we'd like for you to please send us a Direct Message,,16
16,115713,True,Tue Oct 31 20:00:43 +0000 2017,@sprintcare Since I signed up with you....Since day 1,15,17
";

const TWCS_MAPPING: &str = r#"# Kaggle "Customer Support on Twitter" (twcs.csv)
[columns]
signal_id = "tweet_id"
customer_id = "author_id"
at = "created_at"
text = "text"

[defaults]
channel = "social"
kind = "other"

# The organisation's own replies are not customer signals.
[[skip]]
column = "inbound"
equals = "False"
reason = "reply by the organisation's own account"
"#;

#[test]
fn a_social_media_support_export_keeps_brand_replies_apart() {
    let env = Env::new();
    let f = env.write("twcs.csv", TWCS);
    let m = env.write("twcs.toml", TWCS_MAPPING);
    let (out, v) = import_json(&env, &f, "signals", &["--mapping", m.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    reconciles(&v);
    assert_eq!(
        (
            n(&v, "read"),
            n(&v, "stored"),
            n(&v, "skipped"),
            n(&v, "quarantined")
        ),
        (11, 6, 5, 0),
        "{v}"
    );
    let file = &v["files"][0];
    assert_eq!(
        file["skipped_reasons"][0]["reason"],
        "reply by the organisation's own account"
    );
    assert_eq!(file["skipped_reasons"][0]["rows"], 5);
    // The brand account never became a customer; every customer tweet is a social signal with
    // its time read from Twitter's form.
    let conn = rusqlite::Connection::open(env.db()).unwrap();
    let customers: Vec<String> = conn
        .prepare("SELECT ext_id FROM customers ORDER BY ext_id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(customers, ["115712", "115713"]);
    let (at, channel): (i64, i64) = conn
        .query_row(
            "SELECT at, channel FROM signals WHERE ext_id = '2'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(at, 1_509_487_905);
    assert_eq!(channel, i64::from(hearken_model::Channel::Social.code()));
    // The text output and `hearken status` say the same.
    let out = env.run(&[
        "import",
        f.to_str().unwrap(),
        "--kind",
        "signals",
        "--mapping",
        m.to_str().unwrap(),
    ]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("skipped 5")
            && text.contains("skipped 5: reply by the organisation's own account"),
        "{text}"
    );
    let st = env.status();
    assert_eq!(n(&st, "skipped"), 10, "two imports of 5: {st}");
    assert_eq!(st["recent_imports"][0]["skipped"], 5);
    let out = env.run(&["status"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("skipped"));
}

#[test]
fn european_numbers_read_when_the_mapping_says_how() {
    let env = Env::new();
    let f = env.write(
        "klanten.csv",
        "klantnummer;jaarwaarde;segment\nK1;1.234,56;smb\nK2;1.234;smb\nK3;€ 12.500,00;enterprise\nK4;980;smb\n",
    );
    let m = env.write(
        "m.toml",
        "decimal = \",\"\nthousands = \".\"\n[columns]\ncustomer_id = \"klantnummer\"\nvalue_per_year = \"jaarwaarde\"\n",
    );
    let (out, v) = import_json(&env, &f, "customers", &["--mapping", m.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(n(&v, "stored"), 4, "{v}");
    let conn = rusqlite::Connection::open(env.db()).unwrap();
    let values: Vec<f64> = conn
        .prepare("SELECT value_per_year FROM customers ORDER BY ext_id")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(values, [1234.56, 1234.0, 12500.0, 980.0]);

    // Without the separators, the ambiguous value is quarantined with a hint, never guessed.
    let other = Env::new();
    let f = other.write("klanten.csv", std::fs::read(&f).unwrap());
    let m = other.write(
        "m.toml",
        "[columns]\ncustomer_id = \"klantnummer\"\nvalue_per_year = \"jaarwaarde\"\n",
    );
    let (out, v) = import_json(&other, &f, "customers", &["--mapping", m.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!((n(&v, "stored"), n(&v, "quarantined")), (3, 1), "{v}");
    let q = other.quarantine();
    assert_eq!(q[0]["value"], "1.234");
    let reason = q[0]["reason"].as_str().unwrap();
    assert!(
        reason.contains("ambiguous")
            && reason.contains("decimal = \",\"")
            && reason.contains("thousands = \".\""),
        "{reason}"
    );
}

#[test]
fn a_date_column_that_never_reads_fails_with_examples_and_a_format() {
    let env = Env::new();
    let mut body = String::from("id;datum;kanaal;soort\n");
    for i in 0..40 {
        body.push_str(&format!(
            "{i};{:02}.{:02}.17 14:0{};email;complaint\n",
            1 + i % 28,
            1 + i % 12,
            i % 10
        ));
    }
    let f = env.write("export.csv", body);
    let m = env.write(
        "m.toml",
        "[columns]\nat = \"datum\"\nchannel = \"kanaal\"\nkind = \"soort\"\n",
    );
    let (out, v) = import_json(&env, &f, "signals", &["--mapping", m.to_str().unwrap()]);
    let err = assert_clean_failure(&out);
    assert_eq!(n(&v, "quarantined"), 40, "{v}");
    assert!(err.contains("nothing was stored"), "{err}");
    assert!(
        err.contains("column 'datum'") && err.contains("'01.01.17 14:00'"),
        "{err}"
    );
    assert!(err.contains("date_format = \"%d.%m.%y %H:%M\""), "{err}");
    // With the suggested format the same file imports.
    let fixed = Env::new();
    let f = fixed.write("export.csv", std::fs::read(&f).unwrap());
    let m = fixed.write(
        "m.toml",
        "date_format = \"%d.%m.%y %H:%M\"\n[columns]\nat = \"datum\"\nchannel = \"kanaal\"\nkind = \"soort\"\n",
    );
    let r = fixed.import(&f, "signals", &["--mapping", m.to_str().unwrap()]);
    assert_eq!(n(&r, "stored"), 40);
}

#[test]
fn bare_carriage_returns_are_never_a_silent_cut() {
    let env = Env::new();
    let f = env.write(
        "cr.csv",
        "signal_id,at,channel,kind,text\nS1,2024-01-01,email,complaint,hello\rworld\nS2,2024-01-02,email,complaint,x\rS3\n",
    );
    let r = env.import(&f, "signals", &[]);
    assert_eq!((n(&r, "stored"), n(&r, "quarantined")), (2, 0), "{r}");
    let conn = rusqlite::Connection::open(env.db()).unwrap();
    let text: String = conn
        .query_row("SELECT text FROM signals WHERE ext_id = 'S1'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(text, "hello\rworld");
    // Two broken fragments of one file: two entries, as reported.
    let g = env.write(
        "mac.csv",
        "signal_id,at,channel,kind,text\rS1,2024-01-01,email\rcomplaint,split\rS4,2024-01-01,email,complaint,ok\r",
    );
    let (out, v) = import_json(&env, &g, "signals", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(n(&v, "quarantined"), 2, "{v}");
    let id = v["files"][0]["import_id"].as_u64().unwrap();
    assert_eq!(quarantine_of(&env, id).len(), 2);
}

/// Every text column of every table of the store file.
fn all_text(db: &std::path::Path) -> Vec<(String, String, String)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut out = Vec::new();
    for t in tables {
        let cols: Vec<String> = conn
            .prepare(&format!("SELECT name FROM pragma_table_info('{t}')"))
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        for c in cols {
            let mut stmt = conn
                .prepare(&format!(
                    "SELECT \"{c}\" FROM \"{t}\" WHERE typeof(\"{c}\") = 'text'"
                ))
                .unwrap();
            for v in stmt.query_map([], |r| r.get::<_, String>(0)).unwrap() {
                out.push((t.clone(), c.clone(), v.unwrap()));
            }
        }
    }
    out
}

#[test]
fn redaction_leaves_no_personal_data_anywhere_in_the_store() {
    let env = Env::new();
    let pii = [
        "jane.doe@example.com",
        "4111 1111 1111 1111",
        "+31 6 12345678",
        "NL91ABNA0417164300",
    ];
    let customers = env.write(
        "customers.csv",
        "customer_id,name,segment\njane.doe@example.com,Jane <jane.doe@example.com>,smb\nC2,Bob +31 6 12345678,smb\n",
    );
    let signals = env.write(
        "signals.csv",
        "signal_id,at,channel,kind,customer_id,topic,text\n\
         S1,2024-01-01,email,complaint,jane.doe@example.com,billing,card 4111 1111 1111 1111 charged twice\n\
         S2,not a date jane.doe@example.com,email,complaint,C2,,call +31 6 12345678 or IBAN NL91ABNA0417164300\n\
         S3,2024-01-01,pigeon,complaint,C2,,4111 1111 1111 1111\n",
    );
    let surveys = env.write(
        "surveys.csv",
        "response_id,at,customer_id,nps,comment\nR1,2024-01-02,jane.doe@example.com,3,write to jane.doe@example.com\nR2,2024-01-02,C2,11,IBAN NL91ABNA0417164300\n",
    );
    let events = env.write(
        "events.csv",
        "case_id,at,activity,agent_id,text\nK1,2024-01-02,new,agent@example.com,customer called from +31 6 12345678\nK1,2024-01-03,closed,A2,refund to NL91ABNA0417164300\n",
    );
    for (f, kind) in [
        (&customers, "customers"),
        (&signals, "signals"),
        (&surveys, "surveys"),
        (&events, "case-events"),
    ] {
        let (out, v) = import_json(&env, f, kind, &["--redact-pii"]);
        assert!(out.status.success(), "{kind}: {}", stderr(&out));
        reconciles(&v);
        let printed = String::from_utf8_lossy(&out.stdout);
        for p in pii {
            assert!(!printed.contains(p), "{kind} output leaks {p}: {printed}");
        }
    }
    assert!(n(&env.status(), "quarantined") >= 3);
    let text = all_text(&env.db());
    assert!(text.len() > 20, "scanned {} values", text.len());
    for (table, column, value) in &text {
        for p in pii {
            assert!(
                !value.contains(p) && !value.contains(&p.replace(' ', "")),
                "{table}.{column} keeps '{p}': {value}"
            );
        }
        assert!(
            !value.contains('@'),
            "{table}.{column} keeps an address: {value}"
        );
    }
    // The customer keyed by an e-mail address is one pseudonymous customer, linked to its rows.
    let conn = rusqlite::Connection::open(env.db()).unwrap();
    let linked: i64 = conn
        .query_row(
            "SELECT count(*) FROM signals s JOIN customers c ON c.id = s.customer_id WHERE c.ext_id LIKE 'pii-%' AND c.segment = 'smb'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(linked, 1);
    // The listing says nothing it should not either.
    let out = env.run(&["quarantine", "--all"]);
    let listed = String::from_utf8_lossy(&out.stdout);
    for p in pii {
        assert!(!listed.contains(p), "{listed}");
    }
}

#[test]
fn the_quarantine_lifecycle() {
    let env = Env::new();
    let first = env.write(
        "a.csv",
        "signal_id,at,channel,kind\nS1,yesterday,email,complaint\nS2,2024-01-01,email,complaint\nS3,2024-01-01,pigeon,complaint\n",
    );
    let (out, v) = import_json(&env, &first, "signals", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let a = v["files"][0]["import_id"].as_u64().unwrap();
    assert_eq!(quarantine_of(&env, a).len(), 2);
    // Re-importing the same file: its entries take over, the open list does not grow.
    let (_, v2) = import_json(&env, &first, "signals", &[]);
    let b = v2["files"][0]["import_id"].as_u64().unwrap();
    assert_eq!(v2["files"][0]["resolved"], 2);
    assert_eq!(env.quarantine().len(), 2);
    assert_eq!(
        quarantine_of(&env, a).len(),
        2,
        "every import lists what it reported"
    );
    assert!(
        quarantine_of(&env, a)
            .iter()
            .all(|e| e["state"] == "superseded")
    );
    // The fixed row, imported from another file, closes its entry.
    let fixed = env.write(
        "fix.csv",
        "signal_id,at,channel,kind\nS1,2024-01-03,email,complaint\n",
    );
    let (_, v3) = import_json(&env, &fixed, "signals", &[]);
    assert_eq!(v3["files"][0]["resolved"], 1, "{v3}");
    let open = env.quarantine();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0]["value"], "pigeon");
    // Cleared deliberately, and recorded.
    let out = env.run(&[
        "quarantine",
        "clear",
        "--import",
        &b.to_string(),
        "--by",
        "ana",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let c: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (c["entries"].as_u64(), c["by"].as_str()),
        (Some(1), Some("ana"))
    );
    assert!(env.quarantine().is_empty());
    let out = env.run(&["quarantine", "--all", "--json"]);
    let all: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(all["entries"].as_array().unwrap().len(), 4);
    // Clearing needs a scope; an unknown import is named.
    assert_clean_failure(&env.run(&["quarantine", "clear"]));
    let err = assert_clean_failure(&env.run(&["quarantine", "--import", "42"]));
    assert!(err.contains("no import 42"), "{err}");
}

#[test]
fn max_quarantined_and_imports_that_store_nothing_fail() {
    let env = Env::new();
    let mut body = String::from("signal_id,at,channel,kind\n");
    for i in 0..20 {
        let channel = if i % 4 == 0 { "pigeon" } else { "email" };
        body.push_str(&format!("S{i},2024-01-01,{channel},complaint\n"));
    }
    let f = env.write("s.csv", &body);
    let (out, v) = import_json(&env, &f, "signals", &["--max-quarantined", "10%"]);
    let err = assert_clean_failure(&out);
    assert_eq!((n(&v, "stored"), n(&v, "quarantined")), (15, 5), "{v}");
    assert!(
        err.contains("more than --max-quarantined 10%") && err.contains("15 rows stored are kept"),
        "{err}"
    );
    assert_eq!(n(&env.status(), "signals"), 15, "the rows stored are kept");
    assert_eq!(v["failures"].as_array().unwrap().len(), 1);
    // Within the limit: success.
    let other = Env::new();
    let g = other.write("s.csv", &body);
    let (out, _) = import_json(&other, &g, "signals", &["--max-quarantined", "5"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (out, _) = import_json(&other, &g, "signals", &["--max-quarantined", "4"]);
    assert_clean_failure(&out);
    let out = other.run(&[
        "import",
        g.to_str().unwrap(),
        "--kind",
        "signals",
        "--max-quarantined",
        "lots",
    ]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("percentage"), "{}", stderr(&out));

    // Every row quarantined: non-zero, with the reason to look at.
    let bad = env.write(
        "bad.csv",
        "signal_id,at,channel,kind\nB1,2024-01-01,pigeon,complaint\nB2,2024-01-01,owl,complaint\n",
    );
    let (out, v) = import_json(&env, &bad, "signals", &[]);
    let err = assert_clean_failure(&out);
    assert_eq!(n(&v, "quarantined"), 2);
    assert!(
        err.contains("nothing was stored") && err.contains("hearken quarantine --import"),
        "{err}"
    );
    // A file of duplicates only is not a failure: it was all stored before.
    let (out, _) = import_json(&env, &f, "signals", &[]);
    assert!(out.status.success(), "{}", stderr(&out));
}

#[test]
fn a_typo_in_a_mapping_value_is_one_error_before_any_row() {
    let env = Env::new();
    let mut body = String::from("id,at,text\n");
    for i in 0..5001 {
        body.push_str(&format!("{i},2024-01-01,hello\n"));
    }
    let f = env.write("s.csv", body);
    let g = env.write("t.csv", "id,at,text\n1,2024-01-01,x\n");
    let m = env.write(
        "m.toml",
        "[defaults]\nchannel = \"email\"\nkind = \"complain\"\n",
    );
    let out = env.run(&[
        "import",
        f.to_str().unwrap(),
        g.to_str().unwrap(),
        "--kind",
        "signals",
        "--mapping",
        m.to_str().unwrap(),
    ]);
    let err = assert_clean_failure(&out);
    assert_eq!(err.trim_end().lines().count(), 1, "one error: {err}");
    assert!(
        err.contains("m.toml")
            && err.contains("[defaults] kind = \"complain\"")
            && err.contains("complaint, compliment"),
        "{err}"
    );
    assert!(!env.db().exists(), "nothing was read or written");
    let m = env.write("m2.toml", "[values.channel]\nTelefoon = \"fone\"\n[defaults]\nkind = \"complaint\"\nchannel = \"phone\"\n");
    let err = assert_clean_failure(&env.run(&[
        "import",
        g.to_str().unwrap(),
        "--kind",
        "signals",
        "--mapping",
        m.to_str().unwrap(),
    ]));
    assert!(
        err.contains("[values.channel] \"Telefoon\" = \"fone\""),
        "{err}"
    );
}

#[test]
fn new_flags_have_help() {
    let env = Env::new();
    for (args, want) in [
        (
            vec!["import", "--help"],
            vec!["--max-quarantined", "--redact-pii", "[[skip]]"],
        ),
        (
            vec!["quarantine", "--help"],
            vec!["--import", "--all", "clear"],
        ),
        (
            vec!["quarantine", "clear", "--help"],
            vec!["--import", "--all", "--by"],
        ),
    ] {
        let out = env.run(&args);
        assert!(out.status.success(), "{args:?}");
        let help = String::from_utf8_lossy(&out.stdout);
        for w in want {
            assert!(help.contains(w), "{args:?} --help lacks {w}: {help}");
        }
    }
}
