//! CSV event logs (PM4Py's columns or Hearken's canonical case_events columns).
#![no_main]

use hearken_eventlog::{Format, ReadOptions, read_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = ReadOptions {
        format: Some(Format::Csv),
        ..ReadOptions::default()
    };
    if let Ok((_log, quarantined)) = read_bytes("fuzz.csv", data, &opts) {
        for q in &quarantined {
            assert!(!q.reason.is_empty());
        }
    }
});
