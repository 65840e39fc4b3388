//! CSV rows of every kind, with and without a mapping: `RowReader` over the bytes.
#![no_main]

use hearken_fuzz::{kind, mapping, read_rows};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let kind = kind(sel);
    let ext = if sel & 0x80 != 0 { "tsv" } else { "csv" };
    read_rows(body, ext, kind, mapping(sel >> 3, kind));
});
