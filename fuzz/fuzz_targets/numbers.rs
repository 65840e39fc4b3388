//! The number parsers of the model: scores on their scales, ratings, money, booleans. An
//! accepted value is on its scale and finite.
#![no_main]

use hearken_model::{CesScore, CsatScore, Money, NpsScore, Rating, parse_bool};
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
});
