//! `Timestamp::parse` with every kind of `DateOptions`. An accepted date must print as RFC 3339
//! and parse back to the same instant.
#![no_main]

use hearken_model::{DateOptions, DateOrder, Timestamp};
use libfuzzer_sys::fuzz_target;

const FORMATS: &[&str] = &[
    "%d-%m-%Y %H:%M",
    "%a %b %d %H:%M:%S %z %Y",
    "%d.%m.%Y",
    "%Y%m%d%H%M%S",
    "%s",
    "%Y-%m-%dT%H:%M:%S%.f%:z",
    "%e %B %Y",
];

fuzz_target!(|data: &[u8]| {
    let Some((&sel, body)) = data.split_first() else {
        return;
    };
    let Ok(value) = std::str::from_utf8(body) else {
        return;
    };
    let opts = DateOptions {
        order: match sel % 3 {
            0 => None,
            1 => Some(DateOrder::Dmy),
            _ => Some(DateOrder::Mdy),
        },
        format: (sel & 0x08 != 0)
            .then(|| FORMATS[usize::from(sel >> 4) % FORMATS.len()].to_string()),
        utc_offset_minutes: match (sel >> 2) & 3 {
            0 => 0,
            1 => 60,
            2 => -420,
            _ => 14 * 60,
        },
        // A named zone (daylight saving time, gaps and overlaps) instead of the offset.
        time_zone: (sel % 5 == 0).then_some(hearken_model::TimeZone::America__Denver),
    };
    if let Ok(ts) = Timestamp::parse("at", value, &opts) {
        let printed = ts.to_rfc3339();
        let back = Timestamp::parse("at", &printed, &DateOptions::default())
            .unwrap_or_else(|e| panic!("{value:?} -> {printed} does not parse back: {e:?}"));
        assert_eq!(
            back, ts,
            "{value:?} -> {printed} parses back to another instant"
        );
    }
});
