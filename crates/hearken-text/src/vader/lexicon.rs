//! The embedded VADER lexicons and the fixed word lists of the algorithm (negations, boosters,
//! idioms), parsed the way vaderSentiment 3.3.2 parses them.

use crate::fxhash::FxMap;
use crate::pystr;

/// The sentiment lexicon, vendored under `data/` (MIT, see `data/PROVENANCE.md`).
pub(crate) const VADER_LEXICON: &str = include_str!("../../data/vader_lexicon.txt");
/// The emoji → description lexicon, vendored under `data/`.
pub(crate) const EMOJI_LEXICON: &str = include_str!("../../data/emoji_utf8_lexicon.txt");

/// Booster increment (Hutto & Gilbert's empirically derived mean intensity change).
pub(crate) const B_INCR: f64 = 0.293;
/// Dampener decrement.
pub(crate) const B_DECR: f64 = -0.293;
/// Added to a word in ALL CAPS when the rest of the text is not.
pub(crate) const C_INCR: f64 = 0.733;
/// Multiplier for a negated valence.
pub(crate) const N_SCALAR: f64 = -0.74;

/// token -> mean valence. Like a Python dict load, a token listed twice keeps its later value.
pub(crate) fn parse_lexicon(text: &'static str) -> FxMap<&'static str, f64> {
    let mut map = FxMap::default();
    map.reserve(8192);
    for line in text.trim_end_matches('\n').split('\n') {
        if line.is_empty() {
            continue;
        }
        let mut fields = pystr::strip(line).split('\t');
        let (Some(word), Some(measure)) = (fields.next(), fields.next()) else {
            continue;
        };
        if let Ok(value) = measure.trim().parse::<f64>() {
            map.insert(word, value);
        }
    }
    map
}

/// emoji -> description. VADER replaces emoji one code point at a time, so only keys that are a
/// single code point can ever match; the multi-code-point entries are left out.
pub(crate) fn parse_emoji(text: &'static str) -> FxMap<char, &'static str> {
    let mut map = FxMap::default();
    for line in text.trim_end_matches('\n').split('\n') {
        let mut fields = pystr::strip(line).split('\t');
        let (Some(emoji), Some(description)) = (fields.next(), fields.next()) else {
            continue;
        };
        let mut chars = emoji.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            map.insert(c, description);
        }
    }
    map
}

/// Single-word entries of VADER's `BOOSTER_DICT` (the multi-word ones are in [`booster_bigram`]).
pub(crate) const BOOSTERS: [(&str, f64); 81] = [
    ("absolutely", B_INCR),
    ("amazingly", B_INCR),
    ("awfully", B_INCR),
    ("completely", B_INCR),
    ("considerable", B_INCR),
    ("considerably", B_INCR),
    ("decidedly", B_INCR),
    ("deeply", B_INCR),
    ("effing", B_INCR),
    ("enormous", B_INCR),
    ("enormously", B_INCR),
    ("entirely", B_INCR),
    ("especially", B_INCR),
    ("exceptional", B_INCR),
    ("exceptionally", B_INCR),
    ("extreme", B_INCR),
    ("extremely", B_INCR),
    ("fabulously", B_INCR),
    ("flipping", B_INCR),
    ("flippin", B_INCR),
    ("frackin", B_INCR),
    ("fracking", B_INCR),
    ("fricking", B_INCR),
    ("frickin", B_INCR),
    ("frigging", B_INCR),
    ("friggin", B_INCR),
    ("fully", B_INCR),
    ("fuckin", B_INCR),
    ("fucking", B_INCR),
    ("fuggin", B_INCR),
    ("fugging", B_INCR),
    ("greatly", B_INCR),
    ("hella", B_INCR),
    ("highly", B_INCR),
    ("hugely", B_INCR),
    ("incredible", B_INCR),
    ("incredibly", B_INCR),
    ("intensely", B_INCR),
    ("major", B_INCR),
    ("majorly", B_INCR),
    ("more", B_INCR),
    ("most", B_INCR),
    ("particularly", B_INCR),
    ("purely", B_INCR),
    ("quite", B_INCR),
    ("really", B_INCR),
    ("remarkably", B_INCR),
    ("so", B_INCR),
    ("substantially", B_INCR),
    ("thoroughly", B_INCR),
    ("total", B_INCR),
    ("totally", B_INCR),
    ("tremendous", B_INCR),
    ("tremendously", B_INCR),
    ("uber", B_INCR),
    ("unbelievably", B_INCR),
    ("unusually", B_INCR),
    ("utter", B_INCR),
    ("utterly", B_INCR),
    ("very", B_INCR),
    ("almost", B_DECR),
    ("barely", B_DECR),
    ("hardly", B_DECR),
    ("kinda", B_DECR),
    ("kindof", B_DECR),
    ("kind-of", B_DECR),
    ("less", B_DECR),
    ("little", B_DECR),
    ("marginal", B_DECR),
    ("marginally", B_DECR),
    ("occasional", B_DECR),
    ("occasionally", B_DECR),
    ("partly", B_DECR),
    ("scarce", B_DECR),
    ("scarcely", B_DECR),
    ("slight", B_DECR),
    ("slightly", B_DECR),
    ("somewhat", B_DECR),
    ("sorta", B_DECR),
    ("sortof", B_DECR),
    ("sort-of", B_DECR),
];

/// The increment of a single-word booster.
#[cfg(test)]
pub(crate) fn booster(word: &str) -> Option<f64> {
    BOOSTERS.iter().find(|(w, _)| *w == word).map(|&(_, v)| v)
}

/// Two-word entries of `BOOSTER_DICT`, matched against pairs of lowercased tokens.
pub(crate) fn booster_bigram(first: &[u8], second: &[u8]) -> Option<f64> {
    match (first, second) {
        (b"just", b"enough") | (b"kind", b"of") | (b"sort", b"of") => Some(B_DECR),
        _ => None,
    }
}

/// VADER's `SPECIAL_CASES` idioms, matched against runs of lowercased tokens. (The single-word
/// entry "badass" can never equal a run of two or three tokens, so it never applies.)
pub(crate) fn special_case(words: &[&[u8]]) -> Option<f64> {
    let value = match words {
        [b"the", b"shit"] | [b"the", b"bomb"] | [b"to", b"die", b"for"] => 3.0,
        [b"bad", b"ass"] => 1.5,
        [b"bus", b"stop"] => 0.0,
        [b"yeah", b"right"] => -2.0,
        [b"kiss", b"of", b"death"] => -1.5,
        [b"beating", b"heart"] => 3.5,
        _ => return None,
    };
    Some(value)
}

/// VADER's `NEGATE` list.
pub(crate) const NEGATE: [&str; 59] = [
    "aint",
    "arent",
    "cannot",
    "cant",
    "couldnt",
    "darent",
    "didnt",
    "doesnt",
    "ain't",
    "aren't",
    "can't",
    "couldn't",
    "daren't",
    "didn't",
    "doesn't",
    "dont",
    "hadnt",
    "hasnt",
    "havent",
    "isnt",
    "mightnt",
    "mustnt",
    "neither",
    "don't",
    "hadn't",
    "hasn't",
    "haven't",
    "isn't",
    "mightn't",
    "mustn't",
    "neednt",
    "needn't",
    "never",
    "none",
    "nope",
    "nor",
    "not",
    "nothing",
    "nowhere",
    "oughtnt",
    "shant",
    "shouldnt",
    "uhuh",
    "wasnt",
    "werent",
    "oughtn't",
    "shan't",
    "shouldn't",
    "uh-uh",
    "wasn't",
    "weren't",
    "without",
    "wont",
    "wouldnt",
    "won't",
    "wouldn't",
    "rarely",
    "seldom",
    "despite",
];

/// VADER's `negated([word])` for one lowercased word: a negation word, or any word with "n't".
#[cfg(test)]
pub(crate) fn negates(word: &str) -> bool {
    NEGATE.contains(&word) || word.contains("n't")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lexicons_parse_completely() {
        let lexicon = parse_lexicon(VADER_LEXICON);
        // 7,520 lines, 14 tokens listed twice (data/PROVENANCE.md).
        assert_eq!(VADER_LEXICON.lines().count(), 7520);
        assert_eq!(lexicon.len(), 7506);
        let emoji = parse_emoji(EMOJI_LEXICON);
        let single = EMOJI_LEXICON
            .lines()
            .filter(|l| l.split('\t').next().is_some_and(|e| e.chars().count() == 1))
            .count();
        assert_eq!(emoji.len(), single);
        assert!(emoji.len() > 1000);
    }

    #[test]
    fn duplicate_lexicon_tokens_keep_the_later_line() {
        let lexicon = parse_lexicon(VADER_LEXICON);
        let last_ok = VADER_LEXICON
            .lines()
            .rfind(|l| l.starts_with("ok\t"))
            .and_then(|l| l.split('\t').nth(1))
            .and_then(|v| v.parse::<f64>().ok());
        assert_eq!(lexicon.get("ok").copied(), last_ok);
    }
}

#[cfg(test)]
mod reference_tests {
    //! The hand-written lists above against the ones dumped from vaderSentiment 3.3.2 by
    //! tools/reference/vader/make_reference.py.
    use super::*;
    use serde_json::Value;

    fn constants() -> Value {
        serde_json::from_str(include_str!("../../tests/data/vader_constants.json")).unwrap()
    }

    #[test]
    fn numeric_constants_match_the_reference() {
        let c = constants();
        for (name, value) in [
            ("B_INCR", B_INCR),
            ("B_DECR", B_DECR),
            ("C_INCR", C_INCR),
            ("N_SCALAR", N_SCALAR),
        ] {
            assert_eq!(c[name].as_f64(), Some(value), "{name}");
        }
    }

    #[test]
    fn negation_words_match_the_reference() {
        let c = constants();
        let words = c["NEGATE"].as_array().unwrap();
        assert_eq!(words.len(), 59);
        for word in words {
            assert!(negates(word.as_str().unwrap()), "{word}");
        }
        for word in ["no", "nt", "notice", "never-ending", "knot"] {
            assert!(!negates(word), "{word}");
        }
    }

    #[test]
    fn booster_words_match_the_reference() {
        let c = constants();
        let dict = c["BOOSTER_DICT"].as_object().unwrap();
        for (key, value) in dict {
            let words: Vec<&str> = key.split(' ').collect();
            let ours = match words.as_slice() {
                [one] => booster(one),
                [first, second] => booster_bigram(first.as_bytes(), second.as_bytes()),
                _ => None,
            };
            assert_eq!(ours, value.as_f64(), "{key}");
        }
        let singles = dict.keys().filter(|k| !k.contains(' ')).count();
        let ours = VADER_LEXICON
            .lines()
            .chain(dict.keys().map(String::as_str))
            .filter(|w| booster(w).is_some())
            .count();
        assert!(ours >= singles);
        assert_eq!(booster("good"), None);
    }

    #[test]
    fn special_cases_match_the_reference() {
        let c = constants();
        let dict = c["SPECIAL_CASES"].as_object().unwrap();
        assert_eq!(dict.len(), 9);
        for (key, value) in dict {
            let words: Vec<&[u8]> = key.split(' ').map(str::as_bytes).collect();
            if words.len() == 1 {
                // "badass": a run of two or three tokens can never equal it.
                continue;
            }
            assert_eq!(special_case(&words), value.as_f64(), "{key}");
        }
        assert_eq!(special_case(&[b"the", b"good"]), None);
    }
}
