//! Language detection on a labelled sample (tests/data/lang_sample.tsv) and on the 23,703
//! English ground-truth texts of the VADER fixture.

use hearken_text::{Language, detect_language};

use crate::helpers::{read_fixture, vader_cases};

fn sample() -> Vec<(Language, String)> {
    labelled("lang_sample.tsv")
}

fn labelled(name: &str) -> Vec<(Language, String)> {
    read_fixture(name)
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let (code, text) = line.split_once('\t').unwrap();
            (
                Language::from_code(code).unwrap_or_else(|| panic!("unknown code {code}")),
                text.to_owned(),
            )
        })
        .collect()
}

#[test]
fn english_sample_texts_are_never_flagged_as_another_language() {
    let flagged: Vec<String> = sample()
        .into_iter()
        .filter(|(label, _)| *label == Language::English)
        .filter_map(|(_, text)| {
            let got = detect_language(&text);
            (!got.is_scored_as_english()).then(|| format!("{text:?} -> {}", got.code()))
        })
        .collect();
    assert!(flagged.is_empty(), "English texts flagged: {flagged:#?}");
}

#[test]
fn non_english_sample_texts_are_mostly_recognised() {
    let mut right = 0;
    let mut not_scored = 0;
    let mut misses = Vec::new();
    let foreign: Vec<_> = sample()
        .into_iter()
        .filter(|(l, _)| *l != Language::English)
        .collect();
    for (label, text) in &foreign {
        let got = detect_language(text);
        if got == *label {
            right += 1;
        } else {
            misses.push(format!("{} {text:?} -> {}", label.code(), got.code()));
        }
        not_scored += usize::from(!got.is_scored_as_english());
    }
    eprintln!(
        "{right}/{} right, {not_scored} kept from the English lexicon",
        foreign.len()
    );
    eprintln!("misses: {misses:#?}");
    // Every non-English text must at least be kept away from the English lexicon, bar a few
    // single words; the exact language may be confused between close ones.
    assert!(
        not_scored * 100 >= foreign.len() * 95,
        "{not_scored}/{} not scored",
        foreign.len()
    );
    assert!(
        right * 100 >= foreign.len() * 90,
        "{right}/{} right",
        foreign.len()
    );
}

#[test]
fn english_ground_truth_texts_stay_english() {
    let cases = vader_cases();
    let flagged: Vec<String> = cases
        .iter()
        .filter(|c| c.set != "extra")
        .filter_map(|c| {
            let got = detect_language(&c.text);
            (!got.is_scored_as_english())
                .then(|| format!("{}/{} {} {:?}", c.set, c.id, got.code(), c.text))
        })
        .collect();
    eprintln!("{} of 23703 flagged: {:#?}", flagged.len(), flagged);
    // The corpus is English (a few tweets quote other languages); fewer than 1 in 1,000 may go.
    assert!(
        flagged.len() * 1000 < 23_703,
        "{} English texts flagged",
        flagged.len()
    );
}

#[test]
fn held_out_sample_accuracy() {
    // Not used to tune the word lists: these figures are the honest estimate.
    let cases = labelled("lang_heldout.tsv");
    let english: Vec<_> = cases
        .iter()
        .filter(|(l, _)| *l == Language::English)
        .collect();
    let foreign: Vec<_> = cases
        .iter()
        .filter(|(l, _)| *l != Language::English)
        .collect();
    let english_kept = english
        .iter()
        .filter(|(_, t)| detect_language(t).is_scored_as_english())
        .count();
    let foreign_right = foreign
        .iter()
        .filter(|(l, t)| detect_language(t) == *l)
        .count();
    let foreign_kept_out = foreign
        .iter()
        .filter(|(_, t)| !detect_language(t).is_scored_as_english())
        .count();
    for (label, text) in &cases {
        let got = detect_language(text);
        if got != *label && !(label == &Language::English && got.is_scored_as_english()) {
            eprintln!("miss {} -> {} {text:?}", label.code(), got.code());
        }
    }
    eprintln!(
        "held out: English kept {english_kept}/{}, foreign right {foreign_right}/{}, \
         foreign not scored {foreign_kept_out}/{}",
        english.len(),
        foreign.len(),
        foreign.len()
    );
    assert_eq!(
        english_kept,
        english.len(),
        "an English text lost its score"
    );
    assert!(
        foreign_right * 100 >= foreign.len() * 80,
        "{foreign_right}/{}",
        foreign.len()
    );
}

#[test]
fn mixed_huge_and_empty_inputs_get_a_defined_result() {
    use hearken_text::{Scored, score};
    // Mixed English and French: whichever dominates, the result is one of the two.
    let mixed = "The delivery was late again. Le colis est arrivé cassé et personne ne répond.";
    assert!(matches!(
        detect_language(mixed),
        Language::English | Language::French
    ));
    // A megabyte: only the first 64 KiB are read, and the answer is the same as for a page.
    let page = "Le colis est arrivé cassé et personne ne répond au téléphone. ";
    let big = page.repeat((1 << 20) / page.len() + 1);
    assert_eq!(detect_language(&big), detect_language(page));
    assert_eq!(
        score(&big),
        Scored::NotScored {
            language: Language::French
        }
    );
    // Cut inside a multi-byte character at the 64 KiB boundary: still fine.
    let awkward = format!("{}é{}", "a".repeat(64 * 1024 - 1), "é".repeat(10));
    let _ = detect_language(&awkward);
    for text in ["", "😁😁😁", "?!...", "\u{200b}", "12:30 05/03/2024"] {
        assert_eq!(detect_language(text), Language::Unknown, "{text:?}");
        assert!(score(text).sentiment().is_some(), "{text:?}");
    }
}
