//! Reading files as real exports write them: odd line endings, rows that are not records,
//! numbers with decimal commas, dates in the forms tools emit, personal data.

#![allow(clippy::unwrap_used)]

use std::path::Path;
use std::sync::Arc;

use hearken_ingest::{IngestError, Mapping, ParsedRow, ReadOptions, Redact, Redactor, RowReader};
use hearken_model::{Record, RecordKind};

struct Read {
    rows: Vec<ParsedRow>,
    notes: Vec<String>,
}

fn read_with(bytes: &[u8], name: &str, opts: ReadOptions) -> Result<Read, IngestError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    let mut r = RowReader::open(&path, &opts)?;
    let mut rows = Vec::new();
    while let Some(row) = r.next_row()? {
        rows.push(row);
    }
    Ok(Read {
        rows,
        notes: r.notes(),
    })
}

fn read(bytes: &[u8], name: &str, kind: RecordKind) -> Vec<ParsedRow> {
    read_with(bytes, name, ReadOptions::new(kind)).unwrap().rows
}

fn mapped(toml: &str, kind: RecordKind) -> ReadOptions {
    ReadOptions {
        mapping: Some(Mapping::parse(toml, Path::new("m.toml")).unwrap()),
        ..ReadOptions::new(kind)
    }
}

fn signal(row: &ParsedRow) -> &hearken_model::Signal {
    match &row.record {
        Ok(Record::Signal(s)) => s,
        other => panic!("line {}: {other:?}", row.line),
    }
}

fn text(row: &ParsedRow) -> &str {
    signal(row).text.as_ref().map_or("", |t| t.as_str())
}

const HEADER: &str = "signal_id,at,channel,kind,text\n";

#[test]
fn a_bare_cr_inside_an_unquoted_field_stays_in_its_field() {
    let body = format!(
        "{HEADER}S1,2024-01-01,email,complaint,hello\rworld and more\n\
         S2,2024-01-02,email,complaint,fine\r\n\
         S3,2024-01-03,email,complaint,\"quoted\rtoo\"\n"
    );
    let rows = read(body.as_bytes(), "cr.csv", RecordKind::Signals);
    assert_eq!(rows.len(), 3);
    assert_eq!(text(&rows[0]), "hello\rworld and more", "never cut");
    assert_eq!(text(&rows[1]), "fine", "the CR of a CRLF is not text");
    assert_eq!(text(&rows[2]), "quoted\rtoo");
    assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2, 3, 4]);
}

#[test]
fn files_that_end_lines_with_a_bare_cr_read_line_by_line() {
    let body = "signal_id,at,channel,kind,text\rS1,2024-01-01,email,complaint,a\rS2,2024-01-02,email,complaint,b\r\rS3,2024-01-03,email,complaint,c";
    for name in ["mac.csv", "mac.csv.gz"] {
        let bytes = if name.ends_with(".gz") {
            use std::io::Write;
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(body.as_bytes()).unwrap();
            gz.finish().unwrap()
        } else {
            body.as_bytes().to_vec()
        };
        let rows = read(&bytes, name, RecordKind::Signals);
        assert_eq!(
            rows.iter().map(text).collect::<Vec<_>>(),
            ["a", "b", "c"],
            "{name}"
        );
        // Lines are counted as the file shows them: the empty line counts.
        assert_eq!(
            rows.iter().map(|r| r.line).collect::<Vec<_>>(),
            [2, 3, 5],
            "{name}"
        );
    }
}

#[test]
fn rows_after_empty_lines_and_quoted_line_breaks_carry_their_own_line() {
    let body = "signal_id,at,channel,kind,text\nS1,2024-01-01,email,complaint,a\n\n\nS2,2024-01-02,email,complaint,\"b\n\nc\"\n\nS3,2024-01-03,email,complaint,c\nS4,2024-01-03,email,complaint,\"d\ne\"";
    let rows = read(body.as_bytes(), "lf.csv", RecordKind::Signals);
    assert_eq!(
        rows.iter().map(|r| r.line).collect::<Vec<_>>(),
        [2, 5, 9, 10]
    );
}

#[test]
fn crlf_files_and_lines_holding_only_a_cr() {
    let body = "signal_id,at,channel,kind,text\r\nS1,2024-01-01,email,complaint,a\r\n\r\nS2,2024-01-02,email,complaint,\"b\r\nc\"\r\n";
    let rows = read(body.as_bytes(), "crlf.csv", RecordKind::Signals);
    assert_eq!(rows.iter().map(text).collect::<Vec<_>>(), ["a", "b\r\nc"]);
}

#[test]
fn a_split_row_is_explained_and_every_fragment_kept() {
    // The CR ends a row in a file whose other lines end with LF: one row of 9 fields, quarantined
    // whole (both fragments in its raw text), never a cut row plus a stray one.
    let body = format!(
        "{HEADER}S3,2024-01-01,email,complaint,abc\r,2024-01-01,email,complaint,\nS4,2024-01-01,email,complaint,x\n"
    );
    let rows = read(body.as_bytes(), "cr2.csv", RecordKind::Signals);
    assert_eq!(rows.len(), 2);
    let e = rows[0].record.as_ref().unwrap_err();
    assert!(e.reason.contains("carriage return"), "{e}");
    assert!(rows[0].raw.as_ref().unwrap().contains("abc\r,2024"));
    // An unbalanced quote joins lines: the message says which.
    let body = format!(
        "{HEADER}S1,2024-01-01,email,complaint,\"open\nS2,2024-01-01,email,complaint,x\nS3,2024-01-01,email,complaint,y\n"
    );
    let rows = read(body.as_bytes(), "q.csv", RecordKind::Signals);
    assert_eq!(rows.len(), 1, "one row took in the rest of the file");
    let e = rows[0].record.as_ref().unwrap_err();
    assert!(
        e.reason.contains("never closed") && e.reason.contains("lines 2 to"),
        "{e}"
    );
    assert!(rows[0].raw.as_ref().unwrap().contains("S3,2024"));
    // In a middle column it leaves too few fields, and the span is named.
    let body =
        format!("{HEADER}S1,2024-01-01,\"email,complaint,x\nS2,2024-01-01,email,complaint,x\n");
    let rows = read(body.as_bytes(), "q2.csv", RecordKind::Signals);
    let e = rows[0].record.as_ref().unwrap_err();
    assert!(e.reason.contains("runs over 2 lines (2 to 3)"), "{e}");
    assert_eq!(rows.len(), 1);
    // A closed multi-line last field at the end of the file is a row like any other.
    let body = format!("{HEADER}S1,2024-01-01,email,complaint,\"two\nlines\"");
    let rows = read(body.as_bytes(), "q3.csv", RecordKind::Signals);
    assert_eq!(text(&rows[0]), "two\nlines");
    // A line break in an unquoted field: fewer fields, and the cause named.
    let body = format!("{HEADER}S1,2024-01-01,email,complaint,x\nonly,two\n");
    let rows = read(body.as_bytes(), "s.csv", RecordKind::Signals);
    let e = rows[1].record.as_ref().unwrap_err();
    assert!(e.reason.contains("splits a row"), "{e}");
}

#[test]
fn skip_rules_skip_rows_in_csv_and_json_and_say_why() {
    let m = "[columns]\nsignal_id = \"tweet_id\"\nat = \"created_at\"\n\
             [defaults]\nchannel = \"social\"\nkind = \"other\"\n\
             [[skip]]\ncolumn = \"inbound\"\nequals = \"False\"\nreason = \"reply by our own account\"\n\
             [[skip]]\ncolumn = \"text\"\nmatches = \"^RT @\"\n";
    let csv = "tweet_id,created_at,inbound,text\n\
               1,2017-10-31 22:10:47,True,my phone is broken\n\
               2,2017-10-31 22:11:47,False,sorry to hear that\n\
               3,2017-10-31 22:12:47,true,RT @someone hi\n\
               4,2017-10-31 22:13:47,TRUE,still broken\n";
    let got = read_with(csv.as_bytes(), "t.csv", mapped(m, RecordKind::Signals)).unwrap();
    let skipped: Vec<Option<&str>> = got.rows.iter().map(|r| r.skipped.as_deref()).collect();
    assert_eq!(
        skipped,
        [
            None,
            Some("reply by our own account"),
            Some("text matches ^RT @"),
            None
        ]
    );
    assert!(got.rows[0].record.is_ok() && got.rows[3].record.is_ok());
    assert!(
        !got.notes.iter().any(|n| n.contains("inbound")),
        "a rule's column is not 'ignored': {:?}",
        got.notes
    );
    let json = "{\"tweet_id\":1,\"created_at\":\"2017-10-31 22:10:47\",\"inbound\":true,\"text\":\"hi\"}\n\
                {\"tweet_id\":2,\"created_at\":\"2017-10-31 22:10:47\",\"inbound\":false,\"text\":\"ok\"}\n";
    let got = read_with(json.as_bytes(), "t.jsonl", mapped(m, RecordKind::Signals)).unwrap();
    assert!(got.rows[0].skipped.is_none() && got.rows[1].skipped.is_some());
    assert!(
        got.notes.iter().any(|n| n.contains("matched no row")),
        "{:?}",
        got.notes
    );
    // A rule naming a column the file lacks fails before any row is read.
    let bad = "[[skip]]\ncolumn = \"inbund\"\nequals = \"False\"\n";
    match read_with(
        b"signal_id,at,channel,kind,inbound\n",
        "t.csv",
        mapped(bad, RecordKind::Signals),
    ) {
        Err(e) => {
            let e = e.to_string();
            assert!(
                e.contains("m.toml") && e.contains("'inbund'") && e.contains("inbound"),
                "{e}"
            )
        }
        Ok(_) => panic!("expected an error"),
    }
}

fn value_per_year(row: &ParsedRow) -> Result<Option<f64>, String> {
    match &row.record {
        Ok(Record::Customer(c)) => Ok(c.value_per_year.map(|m| m.get())),
        Ok(other) => panic!("{other:?}"),
        Err(e) => Err(e.to_string()),
    }
}

#[test]
fn decimal_commas_read_when_stated_and_ambiguity_is_refused_otherwise() {
    let csv = "customer_id;value_per_year\nC1;1.234,56\nC2;1.234\nC3;€ 7,5\nC4;12\n";
    let stated = read_with(
        csv.as_bytes(),
        "c.csv",
        mapped(
            "decimal = \",\"\nthousands = \".\"\n",
            RecordKind::Customers,
        ),
    )
    .unwrap();
    let got: Vec<_> = stated.rows.iter().map(value_per_year).collect();
    assert_eq!(
        got,
        [
            Ok(Some(1234.56)),
            Ok(Some(1234.0)),
            Ok(Some(7.5)),
            Ok(Some(12.0))
        ]
    );
    let plain = read(csv.as_bytes(), "c.csv", RecordKind::Customers);
    assert_eq!(value_per_year(&plain[0]), Ok(Some(1234.56)), "unambiguous");
    let e = value_per_year(&plain[1]).unwrap_err();
    assert!(
        e.contains("ambiguous") && e.contains("decimal = ") && e.contains("thousands = "),
        "{e}"
    );
    assert_eq!(value_per_year(&plain[2]), Ok(Some(7.5)));
    // Survey scores read by the same rule, and JSON numbers are numbers whatever the format.
    let surveys = "response_id;at;overall\nR1;2024-01-01;7,5\nR2;2024-01-01;8\n";
    let rows = read_with(
        surveys.as_bytes(),
        "s.csv",
        mapped("decimal = \",\"\n", RecordKind::Surveys),
    )
    .unwrap()
    .rows;
    match &rows[0].record {
        Ok(Record::Survey(s)) => assert_eq!(s.overall.map(|r| r.get()), Some(7.5)),
        other => panic!("{other:?}"),
    }
    let json = "{\"customer_id\":\"C1\",\"value_per_year\":1.234}\n";
    let rows = read_with(
        json.as_bytes(),
        "c.jsonl",
        mapped(
            "decimal = \",\"\nthousands = \".\"\n",
            RecordKind::Customers,
        ),
    )
    .unwrap()
    .rows;
    assert_eq!(value_per_year(&rows[0]), Ok(Some(1.234)));
    let rows = read(json.as_bytes(), "c.jsonl", RecordKind::Customers);
    assert_eq!(value_per_year(&rows[0]), Ok(Some(1.234)));
}

#[test]
fn real_date_forms_and_a_column_where_every_date_fails() {
    let csv = format!(
        "{HEADER}1,Tue Oct 31 22:10:47 +0000 2017,social,question,a\n\
         2,2017-10-31 22:10:47,social,question,b\n\
         3,10/31/2017 10:10 PM,social,question,c\n"
    );
    let rows = read(csv.as_bytes(), "d.csv", RecordKind::Signals);
    let at: Vec<i64> = rows.iter().map(|r| signal(r).at.unix()).collect();
    assert_eq!(at, [1_509_487_847, 1_509_487_847, 1_509_487_800]);

    let csv =
        "signal_id,when,channel,kind\n1,31/10/17,social,question\n2,01/11/17,social,question\n";
    let got = read_with(
        csv.as_bytes(),
        "d.csv",
        mapped("[columns]\nat = \"when\"\n", RecordKind::Signals),
    )
    .unwrap();
    assert!(got.rows.iter().all(|r| r.record.is_err()));
    let note = got
        .notes
        .iter()
        .find(|n| n.starts_with("no date in"))
        .unwrap_or_else(|| panic!("{:?}", got.notes));
    assert!(note.contains("column 'when'"), "{note}");
    assert!(
        note.contains("'31/10/17'") && note.contains("'01/11/17'"),
        "{note}"
    );
    assert!(note.contains("date_format = \"%d/%m/%y\""), "{note}");
    // The suggestion reads them.
    let got = read_with(
        csv.as_bytes(),
        "d.csv",
        mapped(
            "date_format = \"%d/%m/%y\"\n[columns]\nat = \"when\"\n",
            RecordKind::Signals,
        ),
    )
    .unwrap();
    assert!(got.rows.iter().all(|r| r.record.is_ok()));
    // Epoch seconds, when the mapping says so.
    let csv = "signal_id,at,channel,kind\n1,1509487847,social,question\n";
    let got = read_with(
        csv.as_bytes(),
        "e.csv",
        ReadOptions::new(RecordKind::Signals),
    )
    .unwrap();
    assert!(
        got.notes.iter().any(|n| n.contains("\"epoch\"")),
        "{:?}",
        got.notes
    );
    let got = read_with(
        csv.as_bytes(),
        "e.csv",
        mapped("date_format = \"epoch\"\n", RecordKind::Signals),
    )
    .unwrap();
    assert_eq!(signal(&got.rows[0]).at.unix(), 1_509_487_847);
}

struct Emails;

impl Redact for Emails {
    fn text(&self, text: &str) -> Option<String> {
        text.contains('@').then(|| {
            text.split(' ')
                .map(|w| if w.contains('@') { "[EMAIL]" } else { w })
                .collect::<Vec<_>>()
                .join(" ")
        })
    }
}

#[test]
fn redaction_reaches_ids_names_labels_and_unreadable_rows() {
    let opts = ReadOptions {
        redact: Some(Redactor::new(Arc::new(Emails), "key")),
        ..ReadOptions::new(RecordKind::Signals)
    };
    let csv = "signal_id,at,channel,kind,customer_id,topic,text\n\
               S1,2024-01-01,email,complaint,ann@example.com,from ann@example.com,hi ann@example.com\n\
               S2,bad ann@example.com,email,complaint,ann@example.com,,x\n";
    let rows = read_with(csv.as_bytes(), "p.csv", opts.clone())
        .unwrap()
        .rows;
    let s = signal(&rows[0]);
    let customer = s.customer.as_ref().unwrap().as_str();
    assert!(
        customer.starts_with("pii-") && !customer.contains('@'),
        "{customer}"
    );
    assert_eq!(s.topic.as_ref().unwrap().as_str(), "from [EMAIL]");
    // Without an enricher the reader redacts texts too.
    assert_eq!(s.text.as_ref().unwrap().as_str(), "hi [EMAIL]");
    let e = rows[1].record.as_ref().unwrap_err();
    assert!(!e.to_string().contains('@'), "{e}");
    assert!(!rows[1].raw.as_ref().unwrap().contains('@'));
    // The same id gets the same pseudonym: one customer stays one.
    let again = read_with(csv.as_bytes(), "p.csv", opts).unwrap().rows;
    assert_eq!(
        signal(&again[0]).customer.as_ref().unwrap().as_str(),
        customer
    );
}

#[test]
fn mapping_errors_come_before_any_row() {
    let opts = mapped("[defaults]\nkind = \"complain\"\n", RecordKind::Signals);
    let body = format!(
        "signal_id,at,channel\n{}",
        "1,2024-01-01,email\n".repeat(5001)
    );
    match read_with(body.as_bytes(), "s.csv", opts) {
        Err(e) => {
            let e = e.to_string();
            assert!(
                e.contains("m.toml")
                    && e.contains("kind = \"complain\"")
                    && e.contains("complaint"),
                "{e}"
            );
        }
        Ok(r) => panic!("expected one error, got {} rows", r.rows.len()),
    }
}
