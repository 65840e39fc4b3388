//! Mapping files: `Mapping::parse` and `validate` on any text, then a parsed mapping used to read
//! a small file of each kind (binding columns, translating values, applying defaults).
#![no_main]

use std::path::Path;

use hearken_fuzz::read_rows;
use hearken_ingest::Mapping;
use hearken_model::RecordKind;
use libfuzzer_sys::fuzz_target;

const SIGNALS: &[u8] = b"signal_id,at,channel,kind,customer_id,text,Via,Ticket type,Id\n\
S1,2024-03-05T10:00:00Z,phone,complaint,C1,charged twice,Mail,Incident,7\n\
S2,05/03/2024,Telefoon,question,,\"a \"\"quoted\"\" text\",Chat,,8\n";
const SURVEYS: &[u8] =
    b"response_id,at,nps,csat,Q1,Q2,comment\nR1,2024-03-08,9,5,10,Satisfied,great\n";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(mapping) = Mapping::parse(text, Path::new("fuzz.toml")) else {
        return;
    };
    for &kind in RecordKind::ALL.iter() {
        let _ = mapping.validate(kind);
        let _ = mapping.date_options();
        let _ = mapping.delimiter_byte();
    }
    read_rows(SIGNALS, "csv", RecordKind::Signals, Some(mapping.clone()));
    read_rows(SURVEYS, "csv", RecordKind::Surveys, Some(mapping.clone()));
    read_rows(
        b"{\"id\":\"S1\",\"at\":\"2024-01-01\",\"channel\":\"web\",\"kind\":\"other\"}\n",
        "jsonl",
        RecordKind::Signals,
        Some(mapping),
    );
});
