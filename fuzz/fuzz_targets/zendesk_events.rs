//! Zendesk incremental ticket-event exports (a page object, an array, or JSON Lines).
#![no_main]

use hearken_eventlog::{Format, ReadOptions, read_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let opts = ReadOptions {
        format: Some(Format::ZendeskTicketEvents),
        ..ReadOptions::default()
    };
    if let Ok((_log, quarantined)) = read_bytes("fuzz.json", data, &opts) {
        for q in &quarantined {
            assert!(!q.reason.is_empty());
        }
    }
});
