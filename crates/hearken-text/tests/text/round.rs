//! Python's round() and float repr, checked value by value against CPython 3.11.

use hearken_text::{Sentiment, py_round};

use crate::helpers::read_fixture;

#[test]
fn py_round_and_repr_match_cpython() {
    let fixture = read_fixture("py_round_reference.tsv");
    let mut checked = 0;
    for line in fixture.lines() {
        let mut fields = line.split('\t');
        let (x, digits, expected) = (
            fields.next().unwrap(),
            fields.next().unwrap(),
            fields.next().unwrap(),
        );
        let x: f64 = x.parse().unwrap();
        let digits: u32 = digits.parse().unwrap();
        let expected_value: f64 = expected.parse().unwrap();
        assert_eq!(
            py_round(x, digits).to_bits(),
            expected_value.to_bits(),
            "round({x:?}, {digits})"
        );
        // The JSON writer prints the same text Python's repr does.
        let sentiment = Sentiment {
            neg: x.abs(),
            neu: 0.0,
            pos: 0.0,
            compound: x,
        };
        let json = sentiment.to_json();
        if digits == 4 {
            let printed = json
                .rsplit("\"compound\":")
                .next()
                .unwrap()
                .trim_end_matches('}');
            assert_eq!(printed, expected, "repr(round({x:?}, 4))");
        }
        checked += 1;
    }
    assert!(checked > 10_000);
}
