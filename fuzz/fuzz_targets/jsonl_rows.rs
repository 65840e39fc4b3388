//! JSON Lines rows of every kind, with and without a mapping.
#![no_main]

use hearken_fuzz::{kind, mapping, read_rows};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let kind = kind(sel);
    // Mappings with a delimiter do not apply to JSON; the reader must ignore or refuse them
    // without a panic either way.
    read_rows(body, "jsonl", kind, mapping(sel >> 3, kind));
});
