//! Where rows come from and how they are written: bytes in memory read as a file holding them,
//! JSON arrays and pretty-printed objects, paths into nested JSON, encodings other than UTF-8,
//! workbooks that are not CSV, time zones by name.

#![allow(clippy::unwrap_used)]

use std::path::Path;

use hearken_ingest::{IngestError, Mapping, ParsedRow, ReadOptions, RowReader};
use hearken_model::{Record, RecordKind, Timestamp};

struct Read {
    rows: Vec<ParsedRow>,
    notes: Vec<String>,
}

fn drain(mut r: RowReader) -> Result<Read, IngestError> {
    let mut rows = Vec::new();
    while let Some(row) = r.next_row()? {
        rows.push(row);
    }
    Ok(Read {
        rows,
        notes: r.notes(),
    })
}

fn from_file(bytes: &[u8], name: &str, opts: &ReadOptions) -> Result<Read, IngestError> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    drain(RowReader::open(&path, opts)?)
}

fn from_memory(bytes: &[u8], name: &str, opts: &ReadOptions) -> Result<Read, IngestError> {
    drain(RowReader::from_bytes(name, bytes.to_vec(), opts)?)
}

fn mapped(toml: &str, kind: RecordKind) -> ReadOptions {
    ReadOptions {
        mapping: Some(Mapping::parse(toml, Path::new("m.toml")).unwrap()),
        ..ReadOptions::new(kind)
    }
}

/// What a reader made of each row, comparable across sources.
fn summary(read: &Read) -> Vec<String> {
    read.rows
        .iter()
        .map(|r| match &r.record {
            Ok(rec) => format!("{} ok {rec:?}", r.line),
            Err(e) if r.skipped.is_some() => format!("{} skipped {}", r.line, e.reason),
            Err(e) => format!("{} err {e} raw={:?}", r.line, r.raw),
        })
        .collect()
}

fn signal(row: &ParsedRow) -> &hearken_model::Signal {
    match &row.record {
        Ok(Record::Signal(s)) => s,
        other => panic!("line {}: {other:?}", row.line),
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn eventlog(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../hearken-eventlog/tests/data")
            .join(name),
    )
    .unwrap()
}

const SIGNALS: &str = "signal_id,at,channel,kind,text\n\
S1,2024-01-01,web,complaint,\"two\nlines\"\n\
\n\
S2,2024-01-02,phone,nope,bad kind\n\
S3,2024-01-03,chat,question,fine\r\n";

#[test]
fn bytes_in_memory_read_exactly_as_a_file_holding_them() {
    let jsonl = "{\"signal_id\":\"S1\",\"at\":\"2024-01-01\",\"channel\":\"web\",\"kind\":\"complaint\"}\n\
                 not json\n\n{\"signal_id\":\"S2\",\"at\":\"2024-01-02\",\"channel\":\"x\",\"kind\":\"question\"}\n";
    let cases: Vec<(Vec<u8>, &str, RecordKind)> = vec![
        (SIGNALS.as_bytes().to_vec(), "s.csv", RecordKind::Signals),
        (gzip(SIGNALS.as_bytes()), "s.csv.gz", RecordKind::Signals),
        (
            SIGNALS.replace(',', ";").into_bytes(),
            "s.txt",
            RecordKind::Signals,
        ),
        (jsonl.as_bytes().to_vec(), "s.jsonl", RecordKind::Signals),
        (
            eventlog("running-example.xes"),
            "log.xes",
            RecordKind::CaseEvents,
        ),
        (
            eventlog("running-example.csv"),
            "log.csv",
            RecordKind::CaseEvents,
        ),
        (
            eventlog("zendesk_ticket_events.json"),
            "events.json",
            RecordKind::CaseEvents,
        ),
        (
            eventlog("receipt.xes.gz"),
            "r.xes.gz",
            RecordKind::CaseEvents,
        ),
    ];
    for (bytes, name, kind) in cases {
        let opts = ReadOptions::new(kind);
        let file = from_file(&bytes, name, &opts).unwrap();
        let memory = from_memory(&bytes, name, &opts).unwrap();
        assert!(!file.rows.is_empty(), "{name}");
        assert_eq!(summary(&file), summary(&memory), "{name}");
        assert_eq!(file.notes, memory.notes, "{name}");
    }
}

fn json_signal(id: &str) -> String {
    format!(r#"{{"signal_id": "{id}", "at": "2024-01-01", "channel": "web", "kind": "complaint"}}"#)
}

#[test]
fn a_json_array_is_read_element_by_element_with_the_line_each_starts_on() {
    let body = format!(
        "[\n  {},\n  {},\n  42,\n  {{\"signal_id\": \"S4\",\n   \"at\": \"not a date\", \"channel\": \"web\", \"kind\": \"other\"}}\n]\n",
        json_signal("S1"),
        json_signal("S2")
    );
    let read = from_memory(
        body.as_bytes(),
        "a.json",
        &ReadOptions::new(RecordKind::Signals),
    )
    .unwrap();
    let lines: Vec<u64> = read.rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, vec![2, 3, 4, 5]);
    assert_eq!(signal(&read.rows[1]).id.as_ref().unwrap().as_str(), "S2");
    let e = read.rows[2].record.as_ref().unwrap_err();
    assert!(e.reason.contains("not a JSON object"), "{e}");
    assert_eq!(read.rows[2].raw.as_deref(), Some("42"));
    let e = read.rows[3].record.as_ref().unwrap_err();
    assert_eq!(e.field.as_deref(), Some("at"));
    assert!(read.rows[3].raw.as_deref().unwrap().contains("not a date"));
    // The same array from a file.
    let file = from_file(
        body.as_bytes(),
        "a.json",
        &ReadOptions::new(RecordKind::Signals),
    )
    .unwrap();
    assert_eq!(summary(&file), summary(&read));
    // An empty array is no rows; a broken array stops with a file-level error at its line,
    // after the rows before it.
    let empty = from_memory(b" [ ] \n", "e.json", &ReadOptions::new(RecordKind::Signals)).unwrap();
    assert!(empty.rows.is_empty());
    for (bad, line) in [
        (
            format!("[{},\n{}\n", json_signal("S1"), json_signal("S2")),
            3,
        ),
        (format!("[{},\n]", json_signal("S1")), 2),
        (format!("[{} {}]", json_signal("S1"), json_signal("S2")), 1),
        (format!("[{}] x", json_signal("S1")), 1),
        (format!("[{},\n{{\"a\": }}]", json_signal("S1")), 2),
    ] {
        let mut r = RowReader::from_bytes(
            "b.json",
            bad.clone(),
            &ReadOptions::new(RecordKind::Signals),
        )
        .unwrap();
        let mut got = 0;
        let err = loop {
            match r.next_row() {
                Ok(Some(_)) => got += 1,
                Ok(None) => panic!("{bad}: no error"),
                Err(e) => break e.to_string(),
            }
        };
        assert!(got <= 1, "{bad}");
        assert!(err.contains(&format!("line {line}:")), "{bad}: {err}");
    }
}

#[test]
fn pretty_printed_objects_are_rows_and_a_broken_first_line_is_still_json_lines() {
    let one = "{\n  \"signal_id\": \"S1\",\n  \"at\": \"2024-01-01\",\n  \"channel\": \"web\",\n  \"kind\": \"complaint\"\n}\n";
    let read = from_memory(
        one.as_bytes(),
        "o.json",
        &ReadOptions::new(RecordKind::Signals),
    )
    .unwrap();
    assert_eq!(read.rows.len(), 1);
    assert_eq!(read.rows[0].line, 1);
    signal(&read.rows[0]);
    let two = format!("\n{one}{one}");
    let read = from_memory(
        two.as_bytes(),
        "o.json",
        &ReadOptions::new(RecordKind::Signals),
    )
    .unwrap();
    let lines: Vec<u64> = read.rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, vec![2, 8]);
    // A JSON Lines file whose first line is cut off: that line is quarantined and the rest read.
    let cut = format!(
        "{{\"signal_id\": \"S1\", \"at\":\n{}\n{}\n",
        json_signal("S2"),
        json_signal("S3")
    );
    let read = from_memory(
        cut.as_bytes(),
        "c.jsonl",
        &ReadOptions::new(RecordKind::Signals),
    )
    .unwrap();
    let lines: Vec<u64> = read.rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, vec![1, 2, 3]);
    assert!(read.rows[0].record.is_err());
    assert_eq!(signal(&read.rows[2]).id.as_ref().unwrap().as_str(), "S3");
}

#[test]
fn a_mapping_names_values_inside_nested_json() {
    let body = r#"{"id": 1, "created_at": "2024-03-01T10:00:00Z", "type": "incident", "via": {"channel": "email", "source": {"from": {"address": "a@b.example"}}}, "tags": ["billing"], "custom_fields": [{"id": 7, "value": null}, {"id": 360012001, "value": "outage"}], "status": "open"}
{"id": 2, "created_at": "2024-03-02T10:00:00Z", "type": "question", "via": {"channel": "voice"}, "tags": [], "custom_fields": [{"id": 360012001, "value": "billing"}], "status": "internal"}
{"id": 3, "created_at": "2024-03-03T10:00:00Z", "type": "question", "via": "web", "tags": [], "custom_fields": [], "status": "open"}
"#;
    let opts = mapped(
        r#"
[columns]
signal_id = "id"
at = "created_at"
kind = "type"
channel = "via.channel"
topic = "custom_fields[id=360012001].value"
stage = "tags[0]"
[values.channel]
voice = "phone"
[values.kind]
incident = "complaint"
[[skip]]
column = "status"
equals = "internal"
"#,
        RecordKind::Signals,
    );
    let read = from_memory(body.as_bytes(), "t.json", &opts).unwrap();
    let s = signal(&read.rows[0]);
    assert_eq!(s.channel.as_str(), "email");
    assert_eq!(s.topic.as_ref().unwrap().as_str(), "outage");
    assert_eq!(s.stage.as_ref().unwrap().as_str(), "billing");
    assert!(read.rows[1].skipped.is_some());
    // `via` is a string here: the path finds nothing, so the channel is missing (and `via`, a
    // synonym of channel, does not stand in for the mapped path).
    let e = read.rows[2].record.as_ref().unwrap_err();
    assert_eq!(e.field.as_deref(), Some("channel"), "{e}");
    assert!(
        !read
            .notes
            .iter()
            .any(|n| n.contains("ignored keys") && n.contains("via")),
        "{:?}",
        read.notes
    );
    // A path to an object is one error naming the path.
    let opts = mapped(
        "[columns]\nsignal_id = \"id\"\nat = \"created_at\"\nkind = \"type\"\nchannel = \"via.source\"\n",
        RecordKind::Signals,
    );
    let read = from_memory(body.as_bytes(), "t.json", &opts).unwrap();
    let e = read.rows[0].record.as_ref().unwrap_err();
    assert_eq!(e.field.as_deref(), Some("via.source"));
    assert!(e.reason.contains("list or object"), "{e}");
}

/// Windows-1252 bytes: "Fran\xe7ois" and a euro sign (0x80) in a text.
const CP1252: &[u8] = b"signal_id,at,channel,kind,text\r\nW1,2024-05-06,email,question,Fran\xe7ois asks about \x80 9 \x93line rental\x94\r\nW2,2024-05-06,email,question,plain\r\n";

#[test]
fn an_encoding_named_in_the_mapping_is_decoded() {
    let opts = mapped("encoding = \"windows-1252\"\n", RecordKind::Signals);
    for read in [
        from_file(CP1252, "w.csv", &opts).unwrap(),
        from_memory(CP1252, "w.csv", &opts).unwrap(),
        from_memory(&gzip(CP1252), "w.csv.gz", &opts).unwrap(),
    ] {
        let text = signal(&read.rows[0])
            .text
            .as_ref()
            .unwrap()
            .as_str()
            .to_string();
        assert_eq!(text, "François asks about € 9 “line rental”");
        assert!(
            read.notes.iter().any(|n| n.contains("windows-1252")),
            "{:?}",
            read.notes
        );
    }
    let e = Mapping::parse("encoding = \"cp-9999\"\n", Path::new("m.toml"))
        .unwrap()
        .validate(RecordKind::Signals)
        .unwrap_err()
        .to_string();
    assert!(e.contains("encoding = \"cp-9999\""), "{e}");
}

#[test]
fn a_file_that_is_not_utf8_is_refused_once_with_the_encoding_to_name() {
    let e = from_file(CP1252, "w.csv", &ReadOptions::new(RecordKind::Signals))
        .err()
        .expect("refused")
        .to_string();
    assert!(e.contains("is not UTF-8"), "{e}");
    assert!(e.contains("line 2"), "{e}");
    assert!(e.contains("0xE7 ('ç' in Windows-1252)"), "{e}");
    assert!(e.contains("encoding = \"windows-1252\""), "{e}");
    // A bad byte far into a file (after the part looked at first) quarantines its rows, and one
    // note says what to do.
    let mut big = b"signal_id,at,channel,kind,text\n".to_vec();
    for i in 0..6000 {
        big.extend_from_slice(format!("S{i},2024-01-01,web,other,{}\n", "x".repeat(60)).as_bytes());
    }
    big.extend_from_slice(
        b"S9998,2024-01-01,web,other,Fran\xe7ois\nS9999,2024-01-01,web,other,Fran\xe7ois\n",
    );
    let read = from_memory(&big, "big.csv", &ReadOptions::new(RecordKind::Signals)).unwrap();
    let bad: Vec<&ParsedRow> = read.rows.iter().filter(|r| r.record.is_err()).collect();
    assert_eq!(bad.len(), 2);
    assert!(
        bad[0]
            .record
            .as_ref()
            .unwrap_err()
            .reason
            .contains("encoding")
    );
    let note = read
        .notes
        .iter()
        .find(|n| n.contains("not UTF-8"))
        .expect("a note");
    assert!(
        note.starts_with("2 rows") && note.contains("line 6002"),
        "{note}"
    );
}

#[test]
fn utf16_with_a_byte_order_mark_is_read() {
    let text = "signal_id\tat\tchannel\tkind\ttext\r\nU1\t2024-01-01\tweb\tother\tJürgen\r\n";
    let mut bytes = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    let read = from_memory(&bytes, "u.txt", &ReadOptions::new(RecordKind::Signals)).unwrap();
    assert_eq!(
        signal(&read.rows[0]).text.as_ref().unwrap().as_str(),
        "Jürgen"
    );
    // Without the mark: refused, naming UTF-16.
    let e = from_memory(&bytes[2..], "u.txt", &ReadOptions::new(RecordKind::Signals))
        .err()
        .expect("refused")
        .to_string();
    assert!(e.contains("utf-16le"), "{e}");
}

#[test]
fn workbooks_and_archives_are_refused_before_any_row() {
    let xlsx = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../hearken-cli/tests/data/exports/excel_workbook_renamed.csv"),
    )
    .unwrap();
    let mut xls = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    xls.extend_from_slice(&[0; 512]);
    for (bytes, what) in [
        (xlsx.clone(), "an Excel workbook (.xlsx)"),
        (
            gzip(&xlsx),
            "an Excel workbook (.xlsx) (compressed with gzip)",
        ),
        (xls, "Excel 97-2003 workbook (.xls)"),
        (b"PK\x03\x04\x14\x00data.csv".to_vec(), "a zip archive"),
    ] {
        for kind in [RecordKind::Signals, RecordKind::CaseEvents] {
            let e = from_memory(&bytes, "x.csv", &ReadOptions::new(kind))
                .err()
                .expect("refused")
                .to_string();
            assert!(e.contains(what), "{e}");
            assert!(!e.contains("line"), "{e}");
        }
    }
    let e = from_memory(&xlsx, "x.csv", &ReadOptions::new(RecordKind::Signals))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("save it as \"CSV UTF-8"), "{e}");
}

#[test]
fn times_without_an_offset_read_in_the_named_time_zone() {
    let body = "signal_id,at,channel,kind\nS1,2024-03-09 12:00,web,other\nS2,2024-03-10 12:00,web,other\nS3,2024-03-10 02:30,web,other\n";
    let opts = mapped("timezone = \"America/Denver\"\n", RecordKind::Signals);
    let read = from_memory(body.as_bytes(), "s.csv", &opts).unwrap();
    let at = |i: usize| signal(&read.rows[i]).at;
    let utc = |v: &str| Timestamp::parse("at", v, &Default::default()).unwrap();
    assert_eq!(at(0), utc("2024-03-09T19:00:00Z"));
    assert_eq!(at(1), utc("2024-03-10T18:00:00Z"));
    let e = read.rows[2].record.as_ref().unwrap_err();
    assert!(e.reason.contains("does not exist in America/Denver"), "{e}");
    for (toml, want) in [
        ("timezone = \"Mars/Olympus\"\n", "IANA"),
        ("timezone = \"UTC\"\nutc_offset_minutes = 60\n", "keep one"),
    ] {
        let e = Mapping::parse(toml, Path::new("m.toml"))
            .unwrap()
            .validate(RecordKind::Signals)
            .unwrap_err()
            .to_string();
        assert!(e.contains(want), "{e}");
    }
}

const QUALTRICS: &str = "StartDate,EndDate,Status,RecordedDate,ResponseId,Q1\r\n\
Start Date,End Date,Response Type,Recorded Date,Response ID,How likely are you to recommend us?\r\n\
\"{\"\"ImportId\"\":\"\"startDate\"\",\"\"timeZone\"\":\"\"America/Denver\"\"}\",\"{\"\"ImportId\"\":\"\"endDate\"\",\"\"timeZone\"\":\"\"America/Denver\"\"}\",\"{\"\"ImportId\"\":\"\"status\"\"}\",\"{\"\"ImportId\"\":\"\"recordedDate\"\",\"\"timeZone\"\":\"\"America/Denver\"\"}\",\"{\"\"ImportId\"\":\"\"_recordId\"\"}\",\"{\"\"ImportId\"\":\"\"QID1\"\"}\"\r\n\
2024-03-09 11:00:00,2024-03-09 12:00:00,IP Address,2024-03-09 12:00:00,R_1,9\r\n\
2024-03-31 23:00:00,2024-03-31 23:41:00,IP Address,2024-03-31 23:41:00,R_2,3\r\n";

#[test]
fn a_qualtrics_export_is_read_in_the_time_zone_its_import_id_row_names() {
    let read = from_memory(
        QUALTRICS.as_bytes(),
        "q.csv",
        &mapped(
            "[columns]\nat = \"RecordedDate\"\nnps = \"Q1\"\n",
            RecordKind::Surveys,
        ),
    )
    .unwrap();
    let at = |i: usize| match &read.rows[i].record {
        Ok(Record::Survey(s)) => s.at,
        other => panic!("{other:?}"),
    };
    let utc = |v: &str| Timestamp::parse("at", v, &Default::default()).unwrap();
    assert_eq!(at(0), utc("2024-03-09T19:00:00Z"));
    assert_eq!(at(1), utc("2024-04-01T05:41:00Z"));
    assert!(
        read.notes.iter().any(|n| n.contains("America/Denver")),
        "{:?}",
        read.notes
    );
    // The mapping's word wins.
    let read = from_memory(
        QUALTRICS.as_bytes(),
        "q.csv",
        &mapped(
            "utc_offset_minutes = 0\n[columns]\nat = \"RecordedDate\"\nnps = \"Q1\"\n",
            RecordKind::Surveys,
        ),
    )
    .unwrap();
    match &read.rows[0].record {
        Ok(Record::Survey(s)) => assert_eq!(s.at, utc("2024-03-09T12:00:00Z")),
        other => panic!("{other:?}"),
    }
}
