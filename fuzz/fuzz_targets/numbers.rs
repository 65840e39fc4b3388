//! The number parsers of the model: scores on their scales, ratings, money, booleans, and
//! numbers read by a stated (or sniffed) decimal and thousands separator. An accepted value is on
//! its scale and finite; a number read with separators prints back in canonical form and reads
//! as the same number.
#![no_main]

use hearken_model::{
    CesScore, CsatScore, Money, NpsScore, NumberFormat, Rating, canonical_number, parse_bool,
    parse_number,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(v) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(x) = NpsScore::parse("nps", v) {
        assert!(x.get() <= 10);
    }
    if let Ok(x) = CsatScore::parse("csat", v) {
        assert!((1..=5).contains(&x.get()));
    }
    if let Ok(x) = CesScore::parse("ces", v) {
        assert!((1..=7).contains(&x.get()));
    }
    if let Ok(x) = Rating::parse("overall", v) {
        assert!(x.get().is_finite() && (0.0..=10.0).contains(&x.get()));
    }
    if let Ok(x) = Money::parse("value_per_year", v) {
        assert!(x.get().is_finite() && x.get() >= 0.0);
    }
    let _ = parse_bool("white_glove", v);
    for (decimal, thousands) in [
        (None, None),
        (Some(','), Some('.')),
        (Some('.'), Some(',')),
        (Some(','), None),
        (Some('.'), Some(' ')),
        (Some('.'), Some('\'')),
    ] {
        let fmt = NumberFormat { decimal, thousands };
        if let Ok(x) = parse_number("value", v, &fmt) {
            assert!(x.is_finite(), "{v:?} read as {x}");
            let canonical = canonical_number(x);
            let plain = NumberFormat {
                decimal: Some('.'),
                thousands: None,
            };
            let back = parse_number("value", &canonical, &plain)
                .unwrap_or_else(|e| panic!("{v:?} -> {canonical} does not read back: {e:?}"));
            assert_eq!(back, x, "{v:?} -> {canonical}");
        }
    }
});
