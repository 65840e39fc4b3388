//! End-to-end tests of the `hearken` binary: every import path, every kind of bad input, and the
//! store's guarantees (counts reconcile, re-imports are idempotent, a killed import resumes exactly).

#![allow(clippy::unwrap_used)]

mod actions;
mod export;
mod flow;
mod helpers;
mod import_formats;
mod import_real;
mod import_store;
pub(crate) mod outbox;
mod outbox_tls;
#[cfg(feature = "postgres")]
mod pg;
#[cfg(feature = "postgres")]
mod pg_actions;
mod query_help;
mod query_parity;
mod query_people;
mod real_exports;
mod report_delivery;
pub(crate) mod risk;
mod spark;

use std::io::Write;

use helpers::*;
use serde_json::Value;

// ---------------------------------------------------------------------------------------------
// Import paths

#[test]
fn canonical_csv_of_every_kind() {
    let env = Env::new();
    let c = env.write(
        "customers.csv",
        "customer_id,name,segment,persona,customer_since,value_per_year,white_glove,churned_at\n\
         C1,Ann,smb,pragmatist,2020-01-01,1200.50,true,\n\
         C2,Bob,enterprise,,2021-06-30,90000,no,2024-02-01\n",
    );
    let p = env.write(
        "products.csv",
        "product_id,name,category\nP1,Router,hardware\nP2,Fibre,subscription\n",
    );
    let a = env.write(
        "agents.csv",
        "agent_id,name,team\nA1,Cleo,billing\nA2,Dan,tech\n",
    );
    let s = env.write(
        "signals.csv",
        "signal_id,at,channel,kind,source,customer_id,product_id,case_id,agent_id,stage,topic,text\n\
         S1,2024-03-05T10:00:00Z,phone,complaint,customer,C1,P1,K1,A1,purchased,billing/double_charge,charged twice\n\
         S2,2024-03-06T11:00:00+01:00,e-mail,question,customer,C2,P2,,A2,implemented,,how do I\n\
         S3,2024-03-07,web,suggestion,employee,,,,A1,,,\"idea: a \"\"status\"\" page\"\n",
    );
    let v = env.write(
        "surveys.csv",
        "response_id,at,customer_id,product_id,case_id,agent_id,channel,nps,csat,ces,overall,aspect_service,aspect_price,comment\n\
         R1,2024-03-08,C1,P1,K1,A1,phone,9,5,6,8.5,9,7,great help\n\
         R2,2024-03-09,C2,,,,,3,,,,,,\n",
    );
    let e = env.write(
        "case_events.csv",
        "event_id,case_id,at,activity,agent_id,team,text\n\
         E1,K1,2024-03-05T10:00:00Z,new,A1,billing,\n\
         E2,K1,2024-03-05T11:00:00Z,escalated,A2,tech,customer is angry\n\
         E3,K1,2024-03-06T09:00:00Z,resolved,A2,tech,fixed\n",
    );
    for (file, kind, stored) in [
        (&c, "customers", 2),
        (&p, "products", 2),
        (&a, "agents", 2),
        (&s, "signals", 3),
        (&v, "surveys", 2),
        (&e, "case-events", 3),
    ] {
        let r = env.import(file, kind, &[]);
        assert_eq!(n(&r, "stored"), stored, "{kind}: {r}");
        assert_eq!(
            n(&r, "quarantined"),
            0,
            "{kind}: {r} {:?}",
            env.quarantine()
        );
    }
    let st = env.status();
    for (k, want) in [
        ("customers", 2),
        ("products", 2),
        ("agents", 2),
        ("signals", 3),
        ("surveys", 2),
        ("cases", 1),
        ("case_events", 3),
        ("quarantined", 0),
    ] {
        assert_eq!(n(&st, k), want, "status {k}: {st}");
    }
    assert_eq!(
        n(&st, "schema_version"),
        hearken_store::current_version() as u64
    );
}

#[test]
fn jsonl_gzip_bom_crlf_semicolons_tabs() {
    let env = Env::new();
    let jsonl = env.write(
        "s.jsonl",
        "{\"id\":\"J1\",\"created_at\":\"2024-03-05T10:00:00Z\",\"channel\":\"chat\",\"type\":\"question\",\"customer\":42,\"extra\":1}\n\
         \n\
         {\"id\":\"J2\",\"created_at\":\"2024-03-05\",\"channel\":\"phone\",\"type\":\"complaint\",\"body\":\"bad\"}\n",
    );
    let r = env.import(&jsonl, "signals", &[]);
    assert_eq!((n(&r, "read"), n(&r, "stored")), (2, 2), "{r}");
    assert!(
        r["files"][0]["notes"].to_string().contains("extra"),
        "ignored keys are reported: {r}"
    );

    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(signals_csv(50).as_bytes()).unwrap();
    let gz_path = env.write("s.csv.gz", gz.finish().unwrap());
    assert_eq!(n(&env.import(&gz_path, "signals", &[]), "stored"), 50);

    let bom = env.write(
        "bom.csv",
        "\u{feff}Signal ID;Created At;Channel;Type;Text\r\nB1;2024-03-05;phone;question;\"multi\r\nline; with semicolon\"\r\nB2;2024-03-05;email;request;x\r\n",
    );
    let r = env.import(&bom, "signals", &[]);
    assert_eq!(n(&r, "stored"), 2, "{r} {:?}", env.quarantine());

    let tsv = env.write(
        "t.tsv",
        "id\tat\tchannel\tkind\nT1\t2024-03-05\tsms\tquestion\n",
    );
    assert_eq!(n(&env.import(&tsv, "signals", &[]), "stored"), 1);

    let mut gzj = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gzj.write_all(
        b"{\"id\":\"G1\",\"at\":\"2024-01-01\",\"channel\":\"web\",\"kind\":\"request\"}\n",
    )
    .unwrap();
    let gzj_path = env.write("g.jsonl.gz", gzj.finish().unwrap());
    assert_eq!(n(&env.import(&gzj_path, "signals", &[]), "stored"), 1);
    assert_eq!(n(&env.status(), "signals"), 56);
}

#[test]
fn qualtrics_export_with_three_header_rows() {
    let env = Env::new();
    let f = env.write(
        "qualtrics.csv",
        "StartDate,EndDate,Status,RecordedDate,ResponseId,ExternalReference,Q1,Q1_NPS_GROUP,Q2,Q3,Q4_TEXT\n\
         Start Date,End Date,Response Type,Recorded Date,Response ID,External Data Reference,\"How likely are you to recommend us to a friend?\",Q1 - Group,How satisfied were you with the service?,How easy was it to get your issue resolved? (effort),Why did you give this score?\n\
         \"{\"\"ImportId\"\":\"\"startDate\"\",\"\"timeZone\"\":\"\"UTC\"\"}\",\"{\"\"ImportId\"\":\"\"endDate\"\"}\",\"{\"\"ImportId\"\":\"\"status\"\"}\",\"{\"\"ImportId\"\":\"\"recordedDate\"\"}\",\"{\"\"ImportId\"\":\"\"_recordId\"\"}\",\"{\"\"ImportId\"\":\"\"externalDataReference\"\"}\",\"{\"\"ImportId\"\":\"\"QID1\"\"}\",\"{\"\"ImportId\"\":\"\"QID1_NPS_GROUP\"\"}\",\"{\"\"ImportId\"\":\"\"QID2\"\"}\",\"{\"\"ImportId\"\":\"\"QID3\"\"}\",\"{\"\"ImportId\"\":\"\"QID4_TEXT\"\"}\"\n\
         2024-03-01 10:00:00,2024-03-01 10:05:00,0,2024-03-01 10:05:01,R_abc,C1,10,3,5,6,Quick and kind\n\
         2024-03-02 10:00:00,2024-03-02 10:05:00,0,2024-03-02 10:05:01,R_def,C2,4,1,2,2,Took forever\n",
    );
    let r = env.import(&f, "surveys", &[]);
    assert_eq!(n(&r, "stored"), 2, "{r} {:?}", env.quarantine());
    assert!(
        r["files"][0]["notes"].to_string().contains("Qualtrics"),
        "{r}"
    );
    let conn = rusqlite::Connection::open(env.db()).unwrap();
    let (nps, csat, ces, comment): (i64, i64, i64, String) = conn
        .query_row(
            "SELECT nps, csat, ces, comment FROM surveys WHERE ext_id = 'R_def'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap();
    assert_eq!(
        (nps, csat, ces, comment.as_str()),
        (4, 2, 2, "Took forever")
    );
    // The first data row is at line 4 of the file.
    let line: i64 = conn
        .query_row("SELECT line FROM surveys WHERE ext_id = 'R_abc'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(line, 4);
}

#[test]
fn mapping_renames_translates_and_defaults() {
    let env = Env::new();
    let f = env.write(
        "export.csv",
        "Nummer|Aangemaakt|Kanaal|Omschrijving\n1|03/04/2024 14:30|Telefoon|Kapot\n2|25/12/2024|Brief|Hallo\n",
    );
    let m = env.write(
        "map.toml",
        "delimiter = \"|\"\ndate_order = \"dmy\"\n\
         [columns]\nsignal_id = \"Nummer\"\nat = \"Aangemaakt\"\nchannel = \"Kanaal\"\ntext = \"Omschrijving\"\n\
         [values.channel]\nTelefoon = \"phone\"\nBrief = \"other\"\n\
         [defaults]\nkind = \"complaint\"\n",
    );
    let r = env.import(&f, "signals", &["--mapping", m.to_str().unwrap()]);
    assert_eq!(n(&r, "stored"), 2, "{r} {:?}", env.quarantine());
    let conn = rusqlite::Connection::open(env.db()).unwrap();
    let (at, channel): (i64, i64) = conn
        .query_row(
            "SELECT at, channel FROM signals WHERE ext_id = '1'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(at, 1_712_154_600, "3 April 2024 14:30 UTC");
    assert_eq!(channel, 1, "phone");
}

#[test]
fn mapping_naming_a_missing_column_is_a_clear_error() {
    let env = Env::new();
    let f = env.write("s.csv", SIGNALS_HEADER);
    let m = env.write("m.toml", "[columns]\ntext = \"Description\"\n");
    let out = env.run(&[
        "import",
        f.to_str().unwrap(),
        "--kind",
        "signals",
        "--mapping",
        m.to_str().unwrap(),
    ]);
    let err = assert_clean_failure(&out);
    assert!(
        err.contains("m.toml") && err.contains("'Description'") && err.contains("text"),
        "{err}"
    );
    let m2 = env.write("m2.toml", "[columns]\ntexxt = \"text\"\n");
    let out = env.run(&[
        "import",
        f.to_str().unwrap(),
        "--kind",
        "signals",
        "--mapping",
        m2.to_str().unwrap(),
    ]);
    let err = assert_clean_failure(&out);
    assert!(err.contains("'texxt' is not a field of signals"), "{err}");
    assert_eq!(n(&env.status(), "signals"), 0);
}

// ---------------------------------------------------------------------------------------------
// Bad input

/// Imports `body` as signals and returns the one quarantine entry it must produce.
fn quarantined_one(body: &str) -> Value {
    let env = Env::new();
    // A good row after the bad one: an import that stores nothing fails (tested elsewhere).
    let f = env.write(
        "bad.csv",
        format!("{SIGNALS_HEADER}{body}S9,2024-03-05,phone,complaint,,,,,,,,fine\n"),
    );
    let r = env.import(&f, "signals", &[]);
    assert_eq!(n(&r, "quarantined"), 1, "{r}");
    let q = env.quarantine();
    assert_eq!(q.len(), 1, "{q:?}");
    assert!(q[0]["file"].as_str().unwrap().ends_with("bad.csv"));
    assert_eq!(q[0]["line"], 2);
    q[0].clone()
}

#[test]
fn each_bad_value_is_quarantined_with_field_value_and_reason() {
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "S1,not-a-date,phone,complaint,,,,,,,,\n",
            "at",
            "not-a-date",
            "not a date",
        ),
        (
            "S1,2024-03-05,pigeon,complaint,,,,,,,,\n",
            "channel",
            "pigeon",
            "not a known channel",
        ),
        (
            "S1,2024-03-05,phone,rant,,,,,,,,\n",
            "kind",
            "rant",
            "not a known kind",
        ),
        (
            "S1,2024-03-05,phone,complaint,robot,,,,,,,\n",
            "source",
            "robot",
            "not a known source",
        ),
        ("S1,,phone,complaint,,,,,,,,\n", "at", "", "required"),
        (
            "S1,05/06/2024,phone,complaint,,,,,,,,\n",
            "at",
            "05/06/2024",
            "ambiguous",
        ),
        (
            "S1,2024-02-30,phone,complaint,,,,,,,,\n",
            "at",
            "2024-02-30",
            "calendar date",
        ),
        (
            "S1,2024-03-05,phone,complaint,,,,,,,a\u{1}b,\n",
            "topic",
            "a\u{1}b",
            "control",
        ),
    ];
    for (row, field, value, reason) in cases {
        let q = quarantined_one(row);
        assert_eq!(q["field"], *field, "{row}: {q}");
        assert_eq!(q["value"], *value, "{row}: {q}");
        assert!(q["reason"].as_str().unwrap().contains(reason), "{row}: {q}");
        assert!(
            q["raw"].as_str().unwrap().contains("S1"),
            "the raw row is kept: {q}"
        );
    }
    let q = quarantined_one("S1,2024-03-05,phone\n");
    assert!(
        q["reason"]
            .as_str()
            .unwrap()
            .contains("has 3 fields but the header has 12"),
        "{q}"
    );
}

#[test]
fn survey_scores_out_of_range_and_wrong_types() {
    let env = Env::new();
    let f = env.write(
        "s.csv",
        "response_id,at,nps,csat,ces,overall,aspect_service\n\
         R1,2024-03-05,11,,,,\n\
         R2,2024-03-05,,0,,,\n\
         R3,2024-03-05,,,8,,\n\
         R4,2024-03-05,,,,10.5,\n\
         R5,2024-03-05,,,,,eleven\n\
         R6,2024-03-05,seven,,,,\n\
         R7,2024-03-05,,,,,\n\
         R8,2024-03-05,7,3,4,6.5,7\n",
    );
    let r = env.import(&f, "surveys", &[]);
    assert_eq!((n(&r, "stored"), n(&r, "quarantined")), (1, 7), "{r}");
    let q = env.quarantine();
    let fields: Vec<&str> = q
        .iter()
        .map(|e| e["field"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        fields,
        [
            "nps",
            "csat",
            "ces",
            "overall",
            "aspect_service",
            "nps",
            "nps"
        ]
    );
    assert!(q[0]["reason"].as_str().unwrap().contains("0..10"));
    assert!(
        q[6]["reason"]
            .as_str()
            .unwrap()
            .contains("at least one score")
    );
}

#[test]
fn duplicate_ids_within_one_file() {
    let env = Env::new();
    let f = env.write(
        "d.csv",
        format!("{SIGNALS_HEADER}S1,2024-03-05,phone,complaint,,,,,,,,first\nS1,2024-03-05,phone,complaint,,,,,,,,first\nS1,2024-03-05,phone,complaint,,,,,,,,changed\n"),
    );
    let r = env.import(&f, "signals", &[]);
    assert_eq!(
        (n(&r, "stored"), n(&r, "duplicates"), n(&r, "quarantined")),
        (1, 1, 1),
        "{r}"
    );
    let q = env.quarantine();
    assert_eq!(q[0]["line"], 4);
    assert_eq!(q[0]["field"], "signal_id");
    assert_eq!(q[0]["value"], "S1");
    assert!(
        q[0]["reason"]
            .as_str()
            .unwrap()
            .contains("line 2 of this file"),
        "{q:?}"
    );

    let c = env.write("c.csv", "customer_id,segment\nC1,smb\nC1,enterprise\n");
    let r = env.import(&c, "customers", &[]);
    assert_eq!((n(&r, "stored"), n(&r, "quarantined")), (1, 1), "{r}");
}

#[test]
fn rows_without_ids_dedupe_by_content_but_keep_true_repeats() {
    let env = Env::new();
    let body = "case_id,at,activity,agent_id\nK1,2024-03-05T10:00:00Z,new,A1\nK1,2024-03-05T10:00:00Z,new,A1\nK1,2024-03-05T11:00:00Z,closed,A1\n";
    let f = env.write("e.csv", body);
    let r = env.import(&f, "case-events", &[]);
    assert_eq!(
        n(&r, "stored"),
        3,
        "two identical events in one file are two events: {r}"
    );
    let r = env.import(&f, "case-events", &[]);
    assert_eq!((n(&r, "stored"), n(&r, "duplicates")), (0, 3), "{r}");
    // The same rows in another file (another export) are the same events.
    let g = env.write("e.jsonl", "{\"case_id\":\"K1\",\"at\":\"2024-03-05T11:00:00Z\",\"activity\":\"closed\",\"agent_id\":\"A1\"}\n");
    let r = env.import(&g, "case-events", &[]);
    assert_eq!((n(&r, "stored"), n(&r, "duplicates")), (0, 1), "{r}");
    assert_eq!(n(&env.status(), "case_events"), 3);
}

#[test]
fn empty_header_only_and_binary_files() {
    let env = Env::new();
    let empty = env.write("empty.csv", "");
    let err =
        assert_clean_failure(&env.run(&["import", empty.to_str().unwrap(), "--kind", "signals"]));
    assert!(err.contains("empty.csv is empty"), "{err}");

    let header = env.write("header.csv", SIGNALS_HEADER);
    let r = env.import(&header, "signals", &[]);
    assert_eq!(n(&r, "read"), 0);

    let missing = env.write(
        "missing.csv",
        "signal_id,channel,kind\nS1,phone,complaint\n",
    );
    let err =
        assert_clean_failure(&env.run(&["import", missing.to_str().unwrap(), "--kind", "signals"]));
    assert!(
        err.contains("required field 'at'") && err.contains("--mapping"),
        "{err}"
    );

    let mut garbage = Vec::new();
    let mut x: u32 = 12345;
    for _ in 0..200_000 {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        garbage.push((x >> 16) as u8);
    }
    let bin = env.write("garbage.csv", &garbage);
    let out = env.run(&["import", bin.to_str().unwrap(), "--kind", "signals"]);
    let err = assert_clean_failure(&out);
    assert!(err.contains("garbage.csv"), "{err}");
    assert_eq!(n(&env.status(), "signals"), 0);
}

/// A file that is not UTF-8 is refused before any row, with the line, the byte and the
/// encoding to name (rows with bad bytes far into a file are quarantined instead: see
/// hearken-ingest's tests/sources.rs).
#[test]
fn invalid_utf8_is_refused_naming_the_line_byte_and_encoding() {
    let env = Env::new();
    let mut bytes = SIGNALS_HEADER.as_bytes().to_vec();
    bytes.extend_from_slice(b"S1,2024-03-05,phone,complaint,,,,,,,,caf\xe9 latte\nS2,2024-03-05,phone,complaint,,,,,,,,ok\n");
    let f = env.write("latin1.csv", bytes);
    let out = env.run(&["import", f.to_str().unwrap(), "--kind", "signals"]);
    let err = assert_clean_failure(&out);
    assert!(err.contains("line 2") && err.contains("0xE9"), "{err}");
    assert!(err.contains("encoding = \"windows-1252\""), "{err}");
    assert_eq!(n(&env.status(), "signals"), 0);
}

#[test]
fn a_100_mb_single_line_is_quarantined_not_fatal() {
    let env = Env::new();
    let mut body = String::with_capacity(101 << 20);
    body.push_str(SIGNALS_HEADER);
    body.push_str("S1,2024-03-05,phone,complaint,,,,,,,,");
    body.push_str(&"a".repeat(100 << 20));
    body.push('\n');
    body.push_str("S2,2024-03-05,phone,complaint,,,,,,,,fine\n");
    let f = env.write("huge.csv", body);
    let r = env.import(&f, "signals", &[]);
    assert_eq!((n(&r, "stored"), n(&r, "quarantined")), (1, 1), "{r}");
    let q = env.quarantine();
    assert_eq!(q[0]["field"], "text");
    assert!(
        q[0]["reason"].as_str().unwrap().contains("104857600 bytes"),
        "{q:?}"
    );
    assert!(
        q[0]["raw"].as_str().unwrap().len() < 70_000,
        "the raw copy is capped"
    );
}

// ---------------------------------------------------------------------------------------------
// Store guarantees

#[test]
fn importing_the_same_file_twice_changes_nothing() {
    let env = Env::new();
    let f = env.write(
        "s.csv",
        signals_csv(2_000) + "X1,bad,phone,complaint,,,,,,,,\n",
    );
    let first = env.import(&f, "signals", &[]);
    assert_eq!((n(&first, "stored"), n(&first, "quarantined")), (2_000, 1));
    let before = env.status();
    let second = env.import(&f, "signals", &[]);
    assert_eq!(
        (
            n(&second, "stored"),
            n(&second, "duplicates"),
            n(&second, "quarantined")
        ),
        (0, 2_000, 1)
    );
    let after = env.status();
    for k in [
        "customers",
        "products",
        "agents",
        "signals",
        "cases",
        "quarantined",
    ] {
        assert_eq!(before[k], after[k], "{k} changed on re-import");
    }
}

fn table_digest(db: &std::path::Path) -> Vec<(String, i64, i64)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let mut stmt = conn
        .prepare("SELECT s.ext_id, s.row_hash, s.line FROM signals s ORDER BY s.ext_id")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

#[test]
fn a_killed_import_resumes_exactly() {
    let env = Env::new();
    let rows = 300_000;
    let f = env.write(
        "big.csv",
        signals_csv(rows) + "X1,bad,phone,complaint,,,,,,,,\n",
    );

    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("hearken"))
        .current_dir(env.dir.path())
        .env("HEARKEN_DB", env.db())
        .env("HEARKEN_BATCH_SIZE", "2000")
        .args(["import", f.to_str().unwrap(), "--kind", "signals", "--json"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until some batches are committed, then SIGKILL mid-import.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let stored = rusqlite::Connection::open(env.db())
            .and_then(|c| c.query_row("SELECT count(*) FROM signals", [], |r| r.get::<_, i64>(0)))
            .unwrap_or(0);
        if stored >= 10_000 || std::time::Instant::now() > deadline {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    let status = child.wait().unwrap();
    let partial = n(&env.status(), "signals") as usize;
    assert!(
        !status.success(),
        "the import was killed before it finished (it stored {partial})"
    );
    assert!(
        partial > 0 && partial < rows,
        "killed mid-way: {partial} of {rows}"
    );
    assert_eq!(partial % 2000, 0, "only whole batches are committed");
    assert_eq!(n(&env.status(), "interrupted_imports"), 1);

    let rerun = env.import(&f, "signals", &[]);
    assert_eq!(n(&rerun, "read"), rows as u64 + 1);
    assert_eq!(n(&rerun, "duplicates"), partial as u64);
    assert_eq!(n(&rerun, "stored"), (rows - partial) as u64);
    assert_eq!(n(&rerun, "quarantined"), 1);
    let st = env.status();
    assert_eq!(n(&st, "signals"), rows as u64);
    assert_eq!(n(&st, "quarantined"), 1);
    assert_eq!(n(&st, "interrupted_imports"), 0);

    // Exactly the rows a clean import stores.
    let clean = Env::new();
    let g = clean.write("big.csv", std::fs::read(&f).unwrap());
    clean.import(&g, "signals", &[]);
    assert_eq!(table_digest(&env.db()), table_digest(&clean.db()));
}

#[test]
fn every_command_has_help_and_fails_in_one_line() {
    let env = Env::new();
    for cmd in ["import", "quarantine", "status"] {
        let out = env.run(&[cmd, "--help"]);
        assert!(out.status.success(), "{cmd} --help");
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("--db"),
            "{cmd} --help mentions --db"
        );
    }
    let not_db = env.write(
        "notes.txt",
        "hello, this is not a database at all, just some text",
    );
    let out = env
        .cmd()
        .args(["--db", not_db.to_str().unwrap(), "status"])
        .output()
        .unwrap();
    let err = assert_clean_failure(&out);
    assert!(err.contains("not a Hearken store"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    let out = env.run(&["import", "nope.csv", "--kind", "signals"]);
    let err = assert_clean_failure(&out);
    assert!(err.contains("nope.csv"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// Generator and demo

#[test]
fn generate_is_deterministic_and_its_files_import_cleanly() {
    let env = Env::new();
    let generate = |dir: &str, seed: &str| {
        let out = env.run(&[
            "generate",
            "--out",
            dir,
            "--customers",
            "300",
            "--months",
            "3",
            "--seed",
            seed,
            "--json",
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let a = generate("a", "5");
    generate("b", "5");
    generate("c", "6");
    for f in [
        "customers.csv",
        "signals.csv",
        "surveys.csv",
        "case_events.csv",
        "truth.json",
    ] {
        assert_eq!(
            std::fs::read(env.path("a").join(f)).unwrap(),
            std::fs::read(env.path("b").join(f)).unwrap(),
            "{f}"
        );
    }
    assert_ne!(
        std::fs::read(env.path("a/signals.csv")).unwrap(),
        std::fs::read(env.path("c/signals.csv")).unwrap()
    );
    for (file, kind) in [
        ("customers.csv", "customers"),
        ("products.csv", "products"),
        ("agents.csv", "agents"),
        ("signals.csv", "signals"),
        ("surveys.csv", "surveys"),
        ("case_events.csv", "case-events"),
    ] {
        let r = env.import(&env.path("a").join(file), kind, &[]);
        assert_eq!(
            n(&r, "quarantined"),
            0,
            "{file}: {:?}",
            env.quarantine().first()
        );
        assert_eq!(n(&r, "stored"), a["rows"][file].as_u64().unwrap(), "{file}");
    }
}

#[test]
fn demo_imports_a_whole_organisation_and_is_idempotent() {
    let env = Env::new();
    let run = || {
        let out = env.run(&["demo", "--customers", "400", "--months", "3", "--json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice::<Value>(&out.stdout).unwrap()
    };
    let first = run();
    let status = env.status();
    assert_eq!(n(&first, "signals"), n(&status, "signals"));
    assert!(n(&first, "signals") > 400, "{first}");
    let share = first["customers_top20_share"].as_f64().unwrap();
    assert!((0.2..1.0).contains(&share), "heavy-tailed: {share}");
    assert!(first["nps"]["n"].as_u64().unwrap() > 0);
    let (nps, lo, hi) = (
        first["nps"]["nps"].as_f64().unwrap(),
        first["nps"]["low"].as_f64().unwrap(),
        first["nps"]["high"].as_f64().unwrap(),
    );
    assert!(lo < nps && nps < hi, "{}", first["nps"]);
    assert_eq!(first["quarantined"], 0);
    let by_channel: u64 = first["by_channel"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[1].as_u64().unwrap())
        .sum();
    assert_eq!(by_channel, n(&first, "signals"));

    let second = run();
    assert_eq!(first, second, "the same demo again changes nothing");
    assert_eq!(status["signals"], env.status()["signals"]);
}

// ---------------------------------------------------------------------------------------------
// Text

#[test]
fn sentiment_json_matches_python_vader_on_every_reference_text() {
    use std::io::Read;
    let fixture = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../hearken-text/tests/data/vader_reference.jsonl.gz"
    );
    let mut text = String::new();
    flate2::read::GzDecoder::new(std::fs::File::open(fixture).unwrap())
        .read_to_string(&mut text)
        .unwrap();
    let cases: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // One text per line: texts with line breaks cannot be fed this way.
    let cases: Vec<&Value> = cases
        .iter()
        .filter(|c| !c["text"].as_str().unwrap().contains(['\n', '\r']))
        .collect();
    assert!(cases.len() > 23_000, "{}", cases.len());
    let input: String = cases
        .iter()
        .map(|c| format!("{}\n", c["text"].as_str().unwrap()))
        .collect();
    let env = Env::new();
    let out = env
        .cmd()
        .args(["sentiment", "--json"])
        .write_stdin(input)
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    let got: Vec<&str> = stdout.lines().collect();
    assert_eq!(got.len(), cases.len());
    let mismatches: Vec<String> = cases
        .iter()
        .zip(&got)
        .filter(|(c, g)| c["json"].as_str().unwrap() != **g)
        .map(|(c, g)| format!("{} {}: python {} hearken {g}", c["set"], c["id"], c["json"]))
        .take(5)
        .collect();
    assert!(mismatches.is_empty(), "{mismatches:#?}");
}

#[test]
fn sentiment_handles_empty_emoji_and_invalid_utf8_lines() {
    let env = Env::new();
    let out = env
        .cmd()
        .args(["sentiment", "--json"])
        .write_stdin(&b"\n\xf0\x9f\x98\x8a\n!!!\n\xff\xfe\n"[..])
        .output()
        .unwrap();
    assert!(out.status.success());
    let lines: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(
        lines[0],
        r#"{"neg":0.0,"neu":0.0,"pos":0.0,"compound":0.0}"#
    );
    let smile: Value = serde_json::from_str(&lines[1]).unwrap();
    assert!(
        smile["compound"].as_f64().unwrap() > 0.0,
        "an emoji is scored by its description"
    );
    assert!(lines[3].contains("not valid UTF-8"), "{}", lines[3]);
}

// ---------------------------------------------------------------------------------------------
// Quantify

fn demo_env() -> Env {
    let env = Env::new();
    let out = env.run(&["demo", "--customers", "600", "--months", "4", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    env
}

fn json_of(env: &Env, args: &[&str]) -> Value {
    let out = env.run(args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn scores_and_pareto_agree_with_direct_counts_in_the_store() {
    let env = demo_env();
    let conn = rusqlite::Connection::open(env.db()).unwrap();
    let count = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap() as u64;

    let nps = json_of(&env, &["scores", "--metric", "nps", "--json"]);
    for k in [
        "nps",
        "low",
        "high",
        "level",
        "n",
        "promoters",
        "detractors",
    ] {
        assert!(!nps[k].is_null(), "scores --json has {k}: {nps}");
    }
    let (p, d, total_n) = (
        count("SELECT count(*) FROM surveys WHERE nps >= 9"),
        count("SELECT count(*) FROM surveys WHERE nps <= 6"),
        count("SELECT count(*) FROM surveys WHERE nps IS NOT NULL"),
    );
    assert_eq!(
        (n(&nps, "promoters"), n(&nps, "detractors"), n(&nps, "n")),
        (p, d, total_n)
    );
    let expected = 100.0 * (p as f64 - d as f64) / total_n as f64;
    assert!((nps["nps"].as_f64().unwrap() - expected).abs() < 1e-9);
    assert_eq!(nps["level"], 0.9);

    let by_segment = json_of(
        &env,
        &["scores", "--metric", "nps", "--by", "segment", "--json"],
    );
    // `--by` answers an object with the groups (and notes), not a bare array.
    let total: u64 = by_segment["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["n"].as_u64().unwrap())
        .sum();
    assert_eq!(total, total_n, "groups partition the responses");
    let smb = json_of(
        &env,
        &["scores", "--metric", "nps", "--segment", "smb", "--json"],
    );
    let smb_n = count(
        "SELECT count(*) FROM surveys s JOIN customers c ON c.id = s.customer_id WHERE c.segment = 'smb' AND s.nps IS NOT NULL",
    );
    assert_eq!(n(&smb, "n"), smb_n);

    let pareto = json_of(&env, &["pareto", "--by", "customer", "--json"]);
    let mut per: Vec<u64> = {
        let mut stmt = conn
            .prepare(
                "SELECT count(*) FROM signals WHERE customer_id IS NOT NULL GROUP BY customer_id",
            )
            .unwrap();
        stmt.query_map([], |r| r.get::<_, i64>(0))
            .unwrap()
            .map(|v| v.unwrap() as u64)
            .collect()
    };
    per.sort_unstable_by(|a, b| b.cmp(a));
    let contacts: u64 = per.iter().sum();
    let top = per.len().div_ceil(5);
    let share = per[..top].iter().sum::<u64>() as f64 / contacts as f64;
    let mut acc = 0;
    let k80 = per
        .iter()
        .position(|c| {
            acc += c;
            acc as f64 >= 0.8 * contacts as f64
        })
        .unwrap()
        + 1;
    assert_eq!(n(&pareto, "entities"), per.len() as u64);
    assert_eq!(n(&pareto, "contacts"), contacts);
    assert!((pareto["top20_share"].as_f64().unwrap() - share).abs() < 1e-12);
    assert_eq!(n(&pareto, "k80"), k80 as u64);
    let gini = pareto["gini"].as_f64().unwrap();
    assert!((0.0..1.0).contains(&gini));
}

#[test]
fn score_changes_bootstrap_and_net_sentiment_agree_with_the_store() {
    let env = demo_env();
    let conn = rusqlite::Connection::open(env.db()).unwrap();
    let (first, mid, end): (String, String, String) = conn
        .query_row(
            "SELECT strftime('%Y-%m-%dT%H:%M:%SZ', min(at), 'unixepoch'),
                    strftime('%Y-%m-%dT%H:%M:%SZ', (min(at) + max(at)) / 2, 'unixepoch'),
                    strftime('%Y-%m-%dT%H:%M:%SZ', max(at) + 1, 'unixepoch') FROM surveys",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .unwrap();
    let count = |sql: &str, a: &str, b: &str| -> u64 {
        conn.query_row(sql, [a, b], |r| r.get::<_, i64>(0)).unwrap() as u64
    };
    let in_window = "SELECT count(*) FROM surveys WHERE nps IS NOT NULL
                     AND at >= unixepoch(?1) AND at < unixepoch(?2)";
    let c = json_of(
        &env,
        &[
            "scores",
            "--metric",
            "nps",
            "--from",
            &mid,
            "--to",
            &end,
            "--against-from",
            &first,
            "--against-to",
            &mid,
            "--json",
        ],
    );
    assert_eq!(
        n(&c["baseline"], "n"),
        count(in_window, &first, &mid),
        "{c}"
    );
    assert_eq!(n(&c["selection"], "n"), count(in_window, &mid, &end), "{c}");
    let (before, after) = (
        c["baseline"]["nps"].as_f64().unwrap(),
        c["selection"]["nps"].as_f64().unwrap(),
    );
    let diff = c["change"]["diff"].as_f64().unwrap();
    assert!((diff - (after - before)).abs() < 1e-9, "{c}");
    let (lo, hi) = (
        c["change"]["low"].as_f64().unwrap(),
        c["change"]["high"].as_f64().unwrap(),
    );
    assert!(lo < diff && diff < hi, "{c}");
    let p = c["change"]["p_value"].as_f64().unwrap();
    assert!(p > 0.0 && p <= 1.0);
    assert_eq!(c["change"]["significant"], (p < 0.1), "{c}");
    let err = assert_clean_failure(&env.run(&[
        "scores",
        "--against-from",
        &first,
        "--against-to",
        &mid,
        "--by",
        "segment",
    ]));
    assert!(err.contains("leave out --by"), "{err}");

    // Bootstrap intervals: deterministic, and close to the closed-form ones at this size.
    let analytic = json_of(&env, &["scores", "--metric", "nps", "--json"]);
    let boot = json_of(
        &env,
        &["scores", "--metric", "nps", "--bootstrap", "2000", "--json"],
    );
    assert_eq!(
        boot,
        json_of(
            &env,
            &["scores", "--metric", "nps", "--bootstrap", "2000", "--json"]
        )
    );
    assert_eq!(boot["method"], "bootstrap", "{boot}");
    for k in ["low", "high"] {
        let (a, b) = (analytic[k].as_f64().unwrap(), boot[k].as_f64().unwrap());
        assert!((a - b).abs() < 2.0, "{k}: analytic {a}, bootstrap {b}");
    }

    // Lifecycle stage, tenure band and signup cohort partition the selection.
    let total_n = |v: &Value| -> u64 {
        v["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["n"].as_u64().unwrap())
            .sum()
    };
    let by_stage = json_of(
        &env,
        &["scores", "--metric", "sentiment", "--by", "stage", "--json"],
    );
    let one = |sql: &str| conn.query_row(sql, [], |r| r.get::<_, i64>(0)).unwrap() as u64;
    assert_eq!(
        total_n(&by_stage),
        one("SELECT count(*) FROM signals WHERE sentiment IS NOT NULL")
    );
    assert!(
        by_stage["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["group"] == "onboarding" || g["group"] == "post_installation"),
        "{by_stage}"
    );
    let all_nps = one("SELECT count(*) FROM surveys WHERE nps IS NOT NULL");
    for by in ["tenure-band", "cohort"] {
        let g = json_of(&env, &["scores", "--metric", "nps", "--by", by, "--json"]);
        assert_eq!(total_n(&g), all_nps, "--by {by}: {g}");
    }
    let err = assert_clean_failure(&env.run(&["scores", "--metric", "nps", "--by", "stage"]));
    assert!(err.contains("applies to signals"), "{err}");

    // Net sentiment counts every scored signal once.
    let s = json_of(&env, &["scores", "--metric", "sentiment", "--json"]);
    assert_eq!(
        n(&s, "positive"),
        one("SELECT count(*) FROM signals WHERE sentiment >= 0.05")
    );
    assert_eq!(
        n(&s, "negative"),
        one("SELECT count(*) FROM signals WHERE sentiment <= -0.05")
    );
    assert_eq!(
        n(&s, "n"),
        one("SELECT count(*) FROM signals WHERE sentiment IS NOT NULL")
    );
}

#[test]
fn analytics_bad_input_gives_a_clear_message_or_a_defined_result() {
    let env = demo_env();
    let err = assert_clean_failure(&env.run(&["scores", "--segment", "nope"]));
    assert!(
        err.contains("unknown segment 'nope'") && err.contains("known:"),
        "{err}"
    );
    let err = assert_clean_failure(&env.run(&["scores", "--channel", "pigeon"]));
    assert!(
        err.contains("unknown channel 'pigeon'") && err.contains("--channel"),
        "{err}"
    );
    let err =
        assert_clean_failure(&env.run(&["scores", "--from", "2025-05-01", "--to", "2025-04-01"]));
    assert!(err.contains("--from must be before --to"), "{err}");
    // `--help` offers only what each command accepts, and the parser refuses the rest.
    let err = assert_clean_failure(&env.run(&["pareto", "--by", "month"]));
    assert!(
        err.contains("'month'") && err.contains("possible values: customer"),
        "{err}"
    );
    let empty = json_of(&env, &["scores", "--from", "2031-01-01", "--json"]);
    assert_eq!(empty["no_data"], true);
    assert_eq!(empty["n"], 0);
    assert!(empty["nps"].is_null(), "no silent zero: {empty}");
}

#[test]
fn import_scores_sentiment_flags_language_and_redacts_when_asked() {
    let env = Env::new();
    let body = "signal_id,at,channel,kind,text\n\
        T1,2024-03-05,email,complaint,The service was terrible and the app keeps crashing\n\
        T2,2024-03-05,email,compliment,Great help from Anna thank you so much\n\
        T3,2024-03-05,email,complaint,Le service était vraiment très mauvais et je suis déçu\n\
        T4,2024-03-05,email,question,Mail me at jane.doe@example.com or call +44 20 7946 0958 about order 123456\n\
        T5,2024-03-05,email,question,\n";
    let f = env.write("s.csv", body);
    env.import(&f, "signals", &["--redact-pii"]);
    let conn = rusqlite::Connection::open(env.db()).unwrap();
    let row = |id: &str| -> (Option<f64>, Option<String>, i64, Option<String>) {
        conn.query_row(
            "SELECT sentiment, language, redactions, text FROM signals WHERE ext_id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .unwrap()
    };
    let (s1, l1, _, _) = row("T1");
    assert!(
        s1.unwrap() <= -0.05 && l1.as_deref() == Some("en"),
        "{s1:?} {l1:?}"
    );
    assert!(row("T2").0.unwrap() >= 0.05);
    let (s3, l3, _, _) = row("T3");
    assert_eq!(
        (s3, l3.as_deref()),
        (None, Some("fr")),
        "French is flagged, not scored as English"
    );
    let (_, _, redactions, text) = row("T4");
    let text = text.unwrap();
    assert_eq!(redactions, 2, "{text}");
    assert!(
        !text.contains("jane.doe") && !text.contains("7946"),
        "{text}"
    );
    assert!(
        text.contains("[EMAIL]") && text.contains("[PHONE]") && text.contains("order 123456"),
        "{text}"
    );
    assert_eq!(row("T5"), (None, None, 0, None));

    // The same file again without redaction is the same rows: identity is the source content.
    let again = env.import(&f, "signals", &[]);
    assert_eq!(
        (
            n(&again, "stored"),
            n(&again, "duplicates"),
            n(&again, "quarantined")
        ),
        (0, 5, 0),
        "{again}"
    );

    // Without --redact-pii the text is kept as written.
    let env2 = Env::new();
    let f2 = env2.write("s.csv", body);
    env2.import(&f2, "signals", &[]);
    let conn2 = rusqlite::Connection::open(env2.db()).unwrap();
    let text: String = conn2
        .query_row("SELECT text FROM signals WHERE ext_id = 'T4'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert!(text.contains("jane.doe@example.com"));
}

#[test]
fn drivers_recover_the_generators_known_weights_and_issues_are_ranked() {
    let env = Env::new();
    let out = env.run(&["demo", "--customers", "3000", "--months", "6", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let truth: Value = serde_json::from_str(
        &std::fs::read_to_string(env.path("hearken-demo/truth.json")).unwrap(),
    )
    .unwrap();
    let d = json_of(&env, &["drivers", "--json"]);
    for driver in d["drivers"].as_array().unwrap() {
        let aspect = driver["aspect"].as_str().unwrap();
        let want = truth["driver_weights"][aspect]
            .as_f64()
            .unwrap_or_else(|| panic!("truth has {aspect}"));
        let got = driver["ols"]["coef"].as_f64().unwrap();
        let (lo, hi) = (
            driver["ols"]["low"].as_f64().unwrap(),
            driver["ols"]["high"].as_f64().unwrap(),
        );
        // Ratings are rounded and clamped to 0..10 by the generator, which biases the fit slightly.
        assert!(
            (got - want).abs() < 0.03,
            "{aspect}: fitted {got:.3} ({lo:.3}..{hi:.3}), true {want}"
        );
    }
    assert_eq!(d["service"]["aspect"], "service");
    // Internal KPIs of the responses' cases, beside the drivers.
    let kpis = d["kpis"].as_array().unwrap();
    let names: Vec<&str> = kpis.iter().map(|k| k["kpi"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        ["hours to first answer", "handle hours", "case events"],
        "{d}"
    );
    for k in kpis {
        assert!(k["n"].as_u64().unwrap() > 100, "{k}");
        let r = k["correlation"].as_f64().unwrap();
        assert!(k["low"].as_f64().unwrap() <= r && r <= k["high"].as_f64().unwrap());
    }
    let share: f64 = d["drivers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["shapley"].as_f64().unwrap())
        .sum();
    assert!(
        (share - d["r2"].as_f64().unwrap()).abs() < 1e-9,
        "Shapley shares add up to R²"
    );

    // An object with the issues (and notes), each issue without the engine's internal code.
    let issues = json_of(&env, &["issues-rank", "--limit", "5", "--json"]);
    let issues = issues["issues"].as_array().unwrap();
    assert_eq!(issues.len(), 5);
    assert!(
        issues.iter().all(|i| i["topic"] != "(none)"),
        "signals without a topic are not an issue"
    );
    let scores: Vec<f64> = issues
        .iter()
        .map(|i| i["score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
    assert_eq!(issues[0]["rank"], 1);
    // The evidence is the signals themselves: the most negative of the topic first, each one
    // stored with that topic.
    let conn = rusqlite::Connection::open(env.db()).unwrap();
    for issue in issues {
        let topic = issue["topic"].as_str().unwrap();
        let evidence = issue["evidence"].as_array().unwrap();
        assert!(!evidence.is_empty(), "{topic} has evidence");
        let mut last = f64::NEG_INFINITY;
        for e in evidence {
            let (stored_topic, sentiment): (String, f64) = conn
                .query_row(
                    "SELECT coalesce(topic, predicted_topic), sentiment FROM signals WHERE ext_id = ?1",
                    [e["id"].as_str().unwrap()],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            assert_eq!(stored_topic, topic);
            // (serde_json parses floats to within one ulp)
            assert!((e["sentiment"].as_f64().unwrap() - sentiment).abs() < 1e-12);
            assert!(sentiment >= last, "most negative first");
            last = sentiment;
        }
        let most_negative: f64 = conn
            .query_row(
                "SELECT min(sentiment) FROM signals WHERE coalesce(topic, predicted_topic) = ?1",
                [topic],
                |r| r.get(0),
            )
            .unwrap();
        assert!((evidence[0]["sentiment"].as_f64().unwrap() - most_negative).abs() < 1e-12);
    }
}

#[test]
fn trends_find_the_generators_injected_spike() {
    let env = Env::new();
    let out = env.run(&["demo", "--customers", "5000", "--months", "12", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let truth: Value = serde_json::from_str(
        &std::fs::read_to_string(env.path("hearken-demo/truth.json")).unwrap(),
    )
    .unwrap();
    let spike = truth["effects"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "spike")
        .unwrap();
    let t = json_of(&env, &["trends", "--json"]);
    let biggest = t["spikes"]
        .as_array()
        .unwrap()
        .iter()
        .max_by(|a, b| {
            a["excess"]
                .as_f64()
                .unwrap()
                .total_cmp(&b["excess"].as_f64().unwrap())
        })
        .unwrap();
    assert_eq!(biggest["topic"], spike["topic"], "{biggest}");
    assert_eq!(biggest["period"], spike["week_start"], "{biggest}");
}

// ---------------------------------------------------------------------------------------------
// Case flow

fn pm4py_reference(file: &str) -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../hearken-flow/tests/data/pm4py_reference.json"
    );
    let all: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    all["logs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["file"] == file)
        .unwrap()
        .clone()
}

fn assert_flow_matches(got: &Value, want: &Value) {
    for k in [
        "events",
        "cases",
        "dfg_edges",
        "dfg_total",
        "transfers_total",
        "handover_pairs",
        "rework_cases",
    ] {
        assert_eq!(got[k], want[k], "{k}");
    }
    for k in ["median_case_duration_hours", "p90_case_duration_hours"] {
        let (g, w) = (got[k].as_f64().unwrap(), want[k].as_f64().unwrap());
        assert!((g - w).abs() * 3600.0 <= 1.0, "{k}: {g} vs PM4Py {w}");
    }
    let (g, w) = (
        got["first_owner_resolution_pct"].as_f64().unwrap(),
        want["first_owner_resolution_pct"].as_f64().unwrap(),
    );
    assert!((g - w).abs() < 1e-9, "first owner: {g} vs {w}");
}

#[test]
fn flow_on_a_log_file_and_on_the_store_matches_pm4py() {
    let logs = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../hearken-eventlog/tests/data"
    );
    let env = Env::new();
    // Straight from the XES file.
    let xes = format!("{logs}/receipt.xes.gz");
    let got = json_of(&env, &["flow", &xes, "--json"]);
    assert_flow_matches(&got, &pm4py_reference("receipt.xes.gz"));
    // Imported into the store with PM4Py's column names, then analysed from the store.
    let csv = std::path::PathBuf::from(format!("{logs}/helpdesk.events.csv.gz"));
    let r = env.import(&csv, "case-events", &[]);
    assert_eq!((n(&r, "stored"), n(&r, "quarantined")), (21_348, 0), "{r}");
    let got = json_of(&env, &["flow", "--json"]);
    assert_flow_matches(&got, &pm4py_reference("helpdesk.events.csv.gz"));
    // The handover matrix is exportable.
    let matrix = env.path("handover.csv");
    let out = env.run(&["flow", "--handover-csv", matrix.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(std::fs::read_to_string(&matrix).unwrap().lines().count() > 10);
}

// ---------------------------------------------------------------------------------------------
// Topics and themes

fn labelled_csv(
    env: &Env,
    name: &str,
    classes: &[(&str, &[&str])],
    repeat: usize,
) -> std::path::PathBuf {
    let mut s = String::from("text,category\n");
    for (label, phrases) in classes {
        for i in 0..repeat {
            for p in *phrases {
                s.push_str(&format!(
                    "\"{p} {}\",{label}\n",
                    ["please", "today", "again", "now"][i % 4]
                ));
            }
        }
    }
    env.write(name, s)
}

#[test]
fn topics_train_eval_predict_and_version_models() {
    let env = Env::new();
    let classes: &[(&str, &[&str])] = &[
        (
            "billing/double_charge",
            &[
                "I was charged twice",
                "double payment on my card",
                "two charges for one order",
            ],
        ),
        (
            "delivery/late",
            &[
                "my parcel is late",
                "the delivery has not arrived",
                "where is my package",
            ],
        ),
        (
            "account/login",
            &[
                "I cannot log in",
                "password reset does not work",
                "locked out of my account",
            ],
        ),
    ];
    let train = labelled_csv(&env, "train.csv", classes, 8);
    let v1 = json_of(
        &env,
        &[
            "topics",
            "train",
            "--data",
            train.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(
        (v1["version"].as_i64(), v1["labels"].as_i64()),
        (Some(1), Some(3))
    );
    let v2 = json_of(
        &env,
        &[
            "topics",
            "train",
            "--data",
            train.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(v2["version"], 2, "each training adds a version");

    let test = env.write(
        "test.csv",
        "text,category\n\"charged twice on my card\",billing/double_charge\n\"the parcel is late again\",delivery/late\n\"cannot log in to my account\",account/login\n\"a new kind of question\",other/new\n",
    );
    let e = json_of(
        &env,
        &["topics", "eval", "--data", test.to_str().unwrap(), "--json"],
    );
    assert_eq!(e["n"], 3, "unknown labels are left out: {e}");
    assert_eq!(e["unknown_labels"]["other/new"], 1);
    assert_eq!(e["accuracy"], 1.0, "{e}");

    let out = env
        .cmd()
        .args(["topics", "predict", "--json"])
        .write_stdin("where is my package\n\n")
        .output()
        .unwrap();
    assert!(out.status.success());
    let lines: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["label"], "delivery/late");
    assert!(lines[1]["label"].is_null(), "an empty text is unclassified");

    // Signals imported after training are classified at import; stored ones can be re-classified.
    let sig = env.write(
        "sig.csv",
        "signal_id,at,channel,kind,text\nQ1,2024-03-05,email,complaint,I was charged twice for my order\nQ2,2024-03-05,chat,question,where is my package please\n",
    );
    env.import(&sig, "signals", &[]);
    let conn = rusqlite::Connection::open(env.db()).unwrap();
    let predicted = |id: &str| -> Option<String> {
        conn.query_row(
            "SELECT predicted_topic FROM signals WHERE ext_id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert_eq!(predicted("Q1").as_deref(), Some("billing/double_charge"));
    assert_eq!(predicted("Q2").as_deref(), Some("delivery/late"));
    conn.execute("UPDATE signals SET predicted_topic = NULL", [])
        .unwrap();
    let c = json_of(&env, &["topics", "classify", "--json"]);
    assert_eq!(c["classified"], 2);
    assert_eq!(predicted("Q1").as_deref(), Some("billing/double_charge"));
    let p = json_of(&env, &["pareto", "--by", "topic", "--json"]);
    assert_eq!(
        p["entities"], 2,
        "analytics use the predicted topic where the source gave none: {p}"
    );

    let one = labelled_csv(&env, "one.csv", &classes[..1], 3);
    let err = assert_clean_failure(&env.run(&["topics", "train", "--data", one.to_str().unwrap()]));
    assert!(err.to_lowercase().contains("one"), "{err}");
    let fresh = Env::new();
    let err = assert_clean_failure(&fresh.run(&["topics", "predict"]));
    // No store at all: the missing store is named (a read-only command never creates one).
    assert!(
        err.contains("no topic model") || err.contains("no store at"),
        "{err}"
    );
}

#[test]
fn themes_group_unlabelled_signal_texts() {
    let env = demo_env();
    let t = json_of(&env, &["themes", "--k", "6", "--json"]);
    let themes = t["themes"].as_array().unwrap();
    assert_eq!(themes.len(), 6);
    let total: u64 = themes.iter().map(|x| x["size"].as_u64().unwrap()).sum();
    let conn = rusqlite::Connection::open(env.db()).unwrap();
    let texts: u64 = conn
        .query_row(
            "SELECT count(*) FROM signals WHERE text IS NOT NULL",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap() as u64;
    assert_eq!(total, texts.min(20_000), "every text is in one theme");
    for th in themes {
        let k = th["key_phrases"].as_array().unwrap().len();
        assert!((3..=5).contains(&k), "{th}");
        assert!(!th["examples"].as_array().unwrap().is_empty());
    }
}

#[test]
fn a_closed_pipe_is_not_a_panic() {
    let env = demo_env();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("hearken"))
        .current_dir(env.dir.path())
        .env("HEARKEN_DB", env.db())
        .args(["pareto", "--by", "customer", "--top", "100000"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn repeat_contacts_agree_with_a_sql_window_count() {
    let env = demo_env();
    let r = json_of(
        &env,
        &[
            "repeats",
            "--days",
            "7",
            "--cost-per-contact",
            "4.5",
            "--json",
        ],
    );
    let conn = rusqlite::Connection::open(env.db()).unwrap();
    let (eligible, repeats): (i64, i64) = conn
        .query_row(
            "SELECT count(*), coalesce(sum(prev IS NOT NULL AND at - prev <= 7 * 86400), 0) FROM (
                 SELECT at, lag(at) OVER (PARTITION BY customer_id, topic ORDER BY at, id) AS prev
                 FROM signals WHERE customer_id IS NOT NULL AND topic IS NOT NULL)",
            [],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .unwrap();
    assert_eq!(n(&r, "eligible"), eligible as u64);
    assert_eq!(n(&r, "repeats"), repeats as u64, "{r}");
    assert!((r["cost"].as_f64().unwrap() - 4.5 * repeats as f64).abs() < 1e-6);
    let by_topic: u64 = r["by_topic"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["repeats"].as_u64().unwrap())
        .sum();
    assert_eq!(by_topic, repeats as u64);
}
