//! XES event logs (hearken-eventlog's tag scanner and trace parser), with and without
//! `keep_partial`, plain or behind a gzip header.
#![no_main]

use hearken_eventlog::{Format, ReadOptions, read_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let opts = ReadOptions {
        format: Some(Format::Xes),
        keep_partial: sel & 1 == 1,
        ..ReadOptions::default()
    };
    if let Ok((_log, quarantined)) = read_bytes("fuzz.xes", body, &opts) {
        for q in &quarantined {
            assert!(!q.reason.is_empty());
        }
    }
});
