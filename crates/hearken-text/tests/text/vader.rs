//! VADER against Python vaderSentiment 3.3.2 on every ICWSM-2014 ground-truth text.

use hearken_text::{Sentiment, Vader};

use crate::helpers::vader_cases;

#[test]
fn every_reference_text_matches_python_at_its_rounding_and_bit_for_bit() {
    let cases = vader_cases();
    let ground_truth = cases.iter().filter(|c| c.set != "extra").count();
    assert_eq!(ground_truth, 23_703);
    assert!(
        cases.len() > ground_truth,
        "the edge cases are missing from the fixture"
    );

    let vader = Vader::new();
    let mut rounded_mismatches = Vec::new();
    let mut raw_mismatches = 0usize;
    for case in cases {
        let scores = vader.polarity_scores(&case.text);
        let json = scores.to_json();
        if json != case.json {
            rounded_mismatches.push(format!(
                "{}/{} {:?}\n  python {}\n  rust   {}",
                case.set, case.id, case.text, case.json, json
            ));
        }
        let ours = [scores.neg, scores.neu, scores.pos, scores.compound];
        if ours
            .iter()
            .zip(&case.raw)
            .any(|(a, b)| a.to_bits() != b.to_bits())
        {
            raw_mismatches += 1;
            if raw_mismatches <= 5 {
                eprintln!(
                    "raw differs {}/{}: python {:?} rust {:?}",
                    case.set, case.id, case.raw, ours
                );
            }
        }
    }
    assert!(
        rounded_mismatches.is_empty(),
        "{} of {} texts differ at Python's rounding:\n{}",
        rounded_mismatches.len(),
        cases.len(),
        rounded_mismatches
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert_eq!(
        raw_mismatches, 0,
        "unrounded scores differ from Python's doubles"
    );
}

#[test]
fn rounded_scores_are_the_doubles_python_prints() {
    for case in vader_cases().iter().filter(|c| c.set == "extra") {
        let rounded = Vader::shared().polarity_scores(&case.text).rounded();
        let v: serde_json::Value = serde_json::from_str(&case.json).unwrap();
        let python = Sentiment {
            neg: v["neg"].as_f64().unwrap(),
            neu: v["neu"].as_f64().unwrap(),
            pos: v["pos"].as_f64().unwrap(),
            compound: v["compound"].as_f64().unwrap(),
        };
        assert_eq!(rounded, python, "{:?}", case.text);
    }
}

#[test]
fn a_megabyte_of_text_scores_without_panicking() {
    let vader = Vader::shared();
    let sentence = "The support was GREAT but the delivery was not good at all!!! 😁 ";
    let big = sentence.repeat((1 << 20) / sentence.len() + 1);
    assert!(big.len() > 1_000_000);
    let s = vader.polarity_scores(&big);
    assert!((-1.0..=1.0).contains(&s.compound));
    let total = s.neg + s.neu + s.pos;
    assert!((total - 1.0).abs() < 1e-9);
    // One long word and a megabyte of punctuation are defined too.
    assert_eq!(vader.polarity_scores(&"x".repeat(1 << 20)).neu, 1.0);
    assert_eq!(vader.polarity_scores(&"!?".repeat(1 << 19)).compound, 0.0);
}
