//! Helpers shared by the fuzz targets: reading a byte string through `hearken_ingest::RowReader`
//! (`from_bytes`: the same code path as a file, without one) and the invariants every read must
//! keep whatever the input.

use hearken_ingest::{Mapping, ReadOptions, RowReader};
use hearken_model::RecordKind;

/// Longest physical line the fuzzed reader accepts: small, so an input without newlines costs
/// little memory.
pub const MAX_LINE: usize = 1 << 16;

/// Reads `bytes` as a file named `*.{ext}` of `kind`, with an optional mapping, to the end or
/// the first file-level error. Returns the number of rows. Panics (a finding) when an invariant
/// breaks: every row has a line >= 1, and every row error a reason and the raw row.
pub fn read_rows(bytes: &[u8], ext: &str, kind: RecordKind, mapping: Option<Mapping>) -> usize {
    let opts = ReadOptions {
        mapping,
        max_line: MAX_LINE,
        ..ReadOptions::new(kind)
    };
    let mut rows = 0;
    if let Ok(mut reader) = RowReader::from_bytes(format!("fuzz.{ext}"), bytes, &opts) {
        while let Ok(Some(row)) = reader.next_row() {
            rows += 1;
            assert!(row.line >= 1, "row {rows} has line 0");
            if let Err(e) = &row.record {
                assert!(!e.reason.is_empty(), "row error without a reason");
                // Event logs (XES, Zendesk events: case events told by content) name the event
                // instead of keeping raw text.
                assert!(
                    row.raw.is_some() || kind == RecordKind::CaseEvents,
                    "a row error must keep its raw text"
                );
            }
        }
        let _ = reader.notes();
    }
    rows
}

/// The kind selected by a byte.
pub fn kind(b: u8) -> RecordKind {
    RecordKind::ALL[usize::from(b) % RecordKind::ALL.len()]
}

/// A few mappings of the shapes real files need (delimiter, dates, translations, defaults).
pub fn mapping(b: u8, kind: RecordKind) -> Option<Mapping> {
    let text = match (b % 7, kind) {
        (0, _) => return None,
        (1, _) => "delimiter = \";\"\ndate_order = \"dmy\"\n",
        (2, RecordKind::Signals) => {
            "date_format = \"%a %b %d %H:%M:%S %z %Y\"\n[columns]\nsignal_id = \"tweet_id\"\n\
             at = \"created_at\"\ncustomer_id = \"author_id\"\ntext = \"text\"\n\
             [defaults]\nchannel = \"social\"\nkind = \"other\"\n"
        }
        (2, RecordKind::Surveys) => {
            "[columns]\nat = \"RecordedDate\"\nnps = \"Q1\"\ncsat = \"Q2\"\n\
             [values.csat]\n\"Very satisfied\" = \"5\"\n\"Satisfied\" = \"4\"\n"
        }
        (3, _) => "delimiter = \"\\t\"\ndate_order = \"mdy\"\nutc_offset_minutes = -420\n",
        (5, _) => {
            "encoding = \"windows-1252\"\ntimezone = \"America/Denver\"\ndecimal = \",\"\nthousands = \".\"\n"
        }
        (6, RecordKind::Signals) => {
            "[columns]\nsignal_id = \"id\"\nat = \"created_at\"\nchannel = \"via.channel\"\n\
             topic = \"custom_fields[id=7].value\"\nstage = \"tags[0]\"\n\
             [defaults]\nkind = \"other\"\n[[skip]]\ncolumn = \"via.source.rel\"\nequals = \"internal\"\n"
        }
        (6, RecordKind::Surveys) => {
            "[columns]\nat = \"meta.at\"\nnps = \"answers[0]\"\n[aspects]\nservice = \"answers[q=service].score\"\n"
        }
        _ => "date_format = \"%d.%m.%Y %H:%M\"\n[values.channel]\nTelefoon = \"phone\"\n",
    };
    Mapping::parse(text, std::path::Path::new("fuzz.toml")).ok()
}
