//! Text to n-grams: normalisation, word tokens and character n-grams, each hashed to a 64-bit key.
//!
//! Keys rather than strings keep prediction allocation-free and the saved model small; with 64-bit
//! xxh3 keys a collision among a few hundred thousand n-grams is vanishingly unlikely (~1e-9).
//! Owns no vocabulary: that is `features`.

use xxhash_rust::xxh3::xxh3_64_with_seed;

/// Which block an n-gram belongs to; blocks are weighted and normalised separately.
pub(crate) const WORD_BLOCK: u8 = 0;
pub(crate) const CHAR_BLOCK: u8 = 1;

const WORD_SEED: u64 = 0x776f_7264;
const CHAR_SEED: u64 = 0x6368_6172;
const JOIN_SEED: u64 = 0x6a6f_696e;
const PAIR_SEED: u64 = 0x7061_6972;

/// Reusable buffers, so that featurising a text allocates nothing once warmed up.
#[derive(Debug, Default)]
pub(crate) struct Scratch {
    /// Word tokens, each followed by one space.
    pub(crate) words: String,
    /// Byte ranges of the tokens in `words`.
    pub(crate) spans: Vec<(usize, usize)>,
    /// Hash of each token (see [`token_hash`]).
    pub(crate) hashes: Vec<u64>,
    /// Hash of each token's stem (see [`stem`]), for word n-grams.
    stems: Vec<u64>,
    chars: CharScratch,
    buf: Vec<u64>,
    /// The n-gram keys of the last text, with their block.
    pub(crate) keys: Vec<(u64, u8)>,
}

/// Apostrophe look-alikes that phones and word processors put in "don’t".
fn is_apostrophe(c: char) -> bool {
    matches!(
        c,
        '\'' | '\u{2019}' | '\u{2018}' | '`' | '\u{00b4}' | '\u{02bc}'
    )
}

/// Symbols that carry meaning in customer texts and become one-character tokens: currencies
/// (a fee in £ or in $), percent, and the question mark (a question, not a statement).
fn is_symbol(c: char) -> bool {
    matches!(c, '$' | '£' | '€' | '¥' | '₹' | '%' | '?' | '+' | '@' | '&')
}

/// Splits lowercased text into word tokens: runs of letters and digits. Apostrophes inside a word
/// are dropped ("don't" -> "dont", "card's" -> "cards") so spelling variants meet; every other
/// character separates tokens. Digits are kept: "24 hours" and "3 days" matter for banking intents.
pub(crate) fn tokenize(text: &str, scratch: &mut Scratch) {
    scratch.words.clear();
    scratch.spans.clear();
    let mut start = None;
    for c in text.chars() {
        if c.is_alphanumeric() {
            if start.is_none() {
                start = Some(scratch.words.len());
            }
            if c.is_ascii() {
                scratch.words.push(c.to_ascii_lowercase());
            } else {
                scratch.words.extend(c.to_lowercase());
            }
        } else if is_apostrophe(c) && start.is_some() {
            // Joined: the word goes on after the apostrophe.
        } else {
            if let Some(s) = start.take() {
                scratch.spans.push((s, scratch.words.len()));
                scratch.words.push(' ');
            }
            if is_symbol(c) {
                let s = scratch.words.len();
                scratch.words.push(c);
                scratch.spans.push((s, scratch.words.len()));
                scratch.words.push(' ');
            }
        }
    }
    if let Some(s) = start {
        scratch.spans.push((s, scratch.words.len()));
        scratch.words.push(' ');
    }
}

/// The tokens of the last `tokenize` call.
pub(crate) fn tokens(scratch: &Scratch) -> impl Iterator<Item = &str> {
    scratch.spans.iter().map(|&(s, e)| &scratch.words[s..e])
}

/// A light English stemmer for word n-grams: strips one common inflection so that "cards
/// arrived" and "card arrive" share their bigram. Character n-grams still see the full word.
pub(crate) fn stem(token: &str) -> &str {
    const SUFFIXES: [&str; 6] = ["ing", "ed", "es", "s", "ly", "e"];
    for suf in SUFFIXES {
        if token.len() >= suf.len() + 3
            && token.ends_with(suf)
            && !(suf == "s" && token.ends_with("ss"))
        {
            return &token[..token.len() - suf.len()];
        }
    }
    token
}

fn join(a: u64, b: u64) -> u64 {
    xxh3_64_with_seed(&b.to_le_bytes(), a ^ JOIN_SEED)
}

/// Hash of a word n-gram given its token hashes, the same whether built here or from a phrase.
pub(crate) fn word_key(token_hashes: &[u64]) -> u64 {
    let mut it = token_hashes.iter();
    let first = it.next().copied().unwrap_or(0);
    it.fold(first, |k, &h| join(k, h))
}

pub(crate) fn token_hash(token: &str) -> u64 {
    xxh3_64_with_seed(token.as_bytes(), WORD_SEED)
}

/// Which n-grams to extract. `(0, 0)` turns a block off.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NgramRange {
    pub min: u8,
    pub max: u8,
}

impl NgramRange {
    pub const OFF: NgramRange = NgramRange { min: 0, max: 0 };

    pub const fn new(min: u8, max: u8) -> NgramRange {
        NgramRange { min, max }
    }

    pub(crate) fn is_off(self) -> bool {
        self.max == 0
    }
}

/// Tokenises `text` and fills `scratch.keys` with its word-block keys: word n-grams and, when
/// `pair_window > 1`, ordered word pairs. `scratch.hashes` then holds each token's hash.
pub(crate) fn word_keys(text: &str, words: NgramRange, pair_window: u8, scratch: &mut Scratch) {
    tokenize(text, scratch);
    scratch.keys.clear();
    scratch.hashes.clear();
    for &(s, e) in &scratch.spans {
        scratch.hashes.push(token_hash(&scratch.words[s..e]));
    }
    scratch.stems.clear();
    for &(s, e) in &scratch.spans {
        scratch.stems.push(token_hash(stem(&scratch.words[s..e])));
    }
    let n_tok = scratch.hashes.len();
    if !words.is_off() {
        for n in usize::from(words.min.max(1))..=usize::from(words.max) {
            if n > n_tok {
                break;
            }
            for w in scratch.stems.windows(n) {
                scratch.keys.push((word_key(w), WORD_BLOCK));
            }
        }
    }
    // Ordered word pairs with one to `pair_window - 1` words between them ("card ... arrived"):
    // word order beyond adjacent bigrams, which linear models otherwise cannot see.
    for gap in 2..=usize::from(pair_window) {
        for i in 0..n_tok.saturating_sub(gap) {
            let k = join(scratch.stems[i] ^ PAIR_SEED, scratch.stems[i + gap]);
            scratch.keys.push((k, WORD_BLOCK));
        }
    }
}

/// Buffers for [`char_keys`].
#[derive(Debug, Default)]
pub(crate) struct CharScratch {
    padded: String,
    bounds: Vec<usize>,
}

/// Appends to `out` the character n-gram keys of one token, padded with a space each side as
/// scikit-learn's `char_wb` does.
pub(crate) fn char_keys(token: &str, chars: NgramRange, s: &mut CharScratch, out: &mut Vec<u64>) {
    if chars.is_off() {
        return;
    }
    let (lo, hi) = (usize::from(chars.min.max(1)), usize::from(chars.max));
    s.padded.clear();
    s.padded.push(' ');
    s.padded.push_str(token);
    s.padded.push(' ');
    s.bounds.clear();
    s.bounds.extend(s.padded.char_indices().map(|(i, _)| i));
    s.bounds.push(s.padded.len());
    let n_chars = s.bounds.len() - 1;
    let bytes = s.padded.as_bytes();
    for n in lo..=hi {
        if n >= n_chars {
            // A short word counts once as a whole, like scikit-learn's char_wb.
            out.push(xxh3_64_with_seed(bytes, CHAR_SEED));
            break;
        }
        for i in 0..=n_chars - n {
            out.push(xxh3_64_with_seed(
                &bytes[s.bounds[i]..s.bounds[i + n]],
                CHAR_SEED,
            ));
        }
    }
}

/// Fills `scratch.keys` with all n-gram keys of `text`, word block then character block.
pub(crate) fn extract(
    text: &str,
    words: NgramRange,
    chars: NgramRange,
    pair_window: u8,
    scratch: &mut Scratch,
) {
    word_keys(text, words, pair_window, scratch);
    let mut cs = std::mem::take(&mut scratch.chars);
    let mut buf = std::mem::take(&mut scratch.buf);
    for &(s, e) in &scratch.spans {
        buf.clear();
        char_keys(&scratch.words[s..e], chars, &mut cs, &mut buf);
        scratch.keys.extend(buf.iter().map(|&k| (k, CHAR_BLOCK)));
    }
    scratch.chars = cs;
    scratch.buf = buf;
}

/// Whether a whitespace-separated piece of text is noise to theme discovery rather than words:
/// a web address, an @mention, an e-mail address, or a placeholder left by PII redaction
/// (`[EMAIL]`). Punctuation around the piece is ignored.
fn is_noise_piece(piece: &str) -> bool {
    let p = piece.trim_matches(|c: char| {
        matches!(
            c,
            '(' | ')' | '"' | '\'' | ',' | ';' | ':' | '!' | '?' | '.' | '<' | '>'
        )
    });
    if p.is_empty() {
        return false;
    }
    let lower = p.to_ascii_lowercase();
    let url = lower.contains("://")
        || lower.starts_with("www.")
        || matches!(
            (lower.find('.'), lower.rfind('/')),
            (Some(d), Some(s)) if d < s && lower[d + 1..].starts_with(|c: char| c.is_ascii_alphabetic())
        );
    let mention = p.len() > 1 && p.starts_with('@');
    let email = p
        .find('@')
        .is_some_and(|at| at > 0 && p[at..].contains('.'));
    let placeholder = p.len() > 2
        && p.starts_with('[')
        && p.ends_with(']')
        && p[1..p.len() - 1].chars().all(|c| c.is_ascii_uppercase());
    url || mention || email || placeholder
}

/// `text` without web addresses, @mentions, e-mail addresses and redaction placeholders (each
/// replaced by a space), so that themes are found in what people wrote, not in links and handles.
pub(crate) fn strip_noise(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.split_whitespace().any(is_noise_piece) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let start = rest
            .find(|c: char| !c.is_whitespace())
            .unwrap_or(rest.len());
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let piece = &rest[..end];
        out.push_str(if is_noise_piece(piece) { " " } else { piece });
        rest = &rest[end..];
    }
    std::borrow::Cow::Owned(out)
}

/// English function words, greetings, politeness and the debris of social-media exports (`rt`,
/// `amp` from `&amp;`). A key phrase should name something: "verify my" or "why" do not,
/// "verify identity" does. Other languages fall back on the lift rule alone.
#[rustfmt::skip]
pub(crate) const STOPWORDS: &[&str] = &[
    "a", "about", "above", "after", "again", "against", "ago", "all", "already", "also", "am",
    "amp", "an", "and", "any", "anyone", "anything", "are", "as", "at", "be", "because", "been",
    "before", "being", "below", "between", "both", "but", "by", "can", "cannot", "cant", "co",
    "com", "could", "couldnt", "dear", "did", "didnt", "do", "does", "doesnt", "doing", "done",
    "dont", "down", "during", "each", "even", "ever", "every", "few", "for", "from", "further",
    "get", "gets", "getting", "go", "going", "got", "gt", "had", "has", "hasnt", "have", "havent",
    "having", "he", "hello", "her", "here", "hers", "herself", "hey", "hi", "him", "himself",
    "his", "how", "http", "https", "i", "id", "if", "ill", "im", "in", "into", "is", "isnt", "it",
    "its", "itself", "ive", "just", "know", "let", "like", "lol", "lt", "many", "may", "me",
    "might", "more", "most", "much", "must", "my", "myself", "need", "needs", "no", "nor", "not",
    "now", "of", "off", "ok", "okay", "on", "once", "one", "only", "or", "other", "our", "ours",
    "ourselves", "out", "over", "own", "please", "pls", "plz", "quot", "re", "really", "regards",
    "rt", "same", "say", "see", "she", "should", "since", "so", "some", "still", "such", "than",
    "thank", "thanks", "thx", "that", "thats", "the", "their", "theirs", "them", "themselves",
    "then", "there", "these", "they", "this", "those", "through", "to", "too", "u", "under",
    "until", "up", "ur", "us", "very", "via", "want", "was", "wasnt", "we", "were", "what", "when",
    "where", "which", "while", "who", "whom", "why", "will", "with", "wont", "would", "www", "yes",
    "yet", "you", "youre", "your", "yours", "yourself",
];

/// Particles that end English phrasal verbs ("top up", "log in", "sign out"): allowed as the
/// last word of a two-word phrase although they are function words.
const PARTICLES: &[&str] = &["up", "in", "out", "off", "on", "down", "over", "back"];

/// A word that can name something: has a letter, no more digits than letters, at least two
/// characters, and is not a function word.
pub(crate) fn is_content_word(w: &str) -> bool {
    let letters = w.chars().filter(|c| c.is_alphabetic()).count();
    let digits = w.chars().filter(char::is_ascii_digit).count();
    w.chars().count() >= 2 && letters > 0 && letters >= digits && !STOPWORDS.contains(&w)
}

/// A phrase (one or two words) that reads as one: content words, except that a two-word
/// phrase may end with a phrasal-verb particle.
pub(crate) fn is_content_phrase(term: &str) -> bool {
    let words: Vec<&str> = term.split(' ').collect();
    match words.as_slice() {
        [w] => is_content_word(w),
        [a, b] => is_content_word(a) && (is_content_word(b) || PARTICLES.contains(b)),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn toks(text: &str) -> Vec<String> {
        let mut s = Scratch::default();
        tokenize(text, &mut s);
        tokens(&s).map(str::to_string).collect()
    }

    #[test]
    fn tokens_are_lowercase_words_and_digits_with_apostrophes_joined() {
        assert_eq!(
            toks("Why hasn’t my CARD arrived after 3 days?!"),
            [
                "why", "hasnt", "my", "card", "arrived", "after", "3", "days", "?"
            ]
        );
        assert_eq!(toks("I'm  owed £20,50."), ["im", "owed", "£", "20", "50"]);
        assert_eq!(toks("'quoted'"), ["quoted"]);
        assert!(toks("").is_empty());
        assert!(toks(" .,;! ").is_empty());
    }

    #[test]
    fn char_ngrams_follow_char_wb_counts() {
        let mut s = Scratch::default();
        // " ab " has 4 chars: 3 bigrams, 2 trigrams, then the whole padded word once, and no
        // longer n-grams (scikit-learn's char_wb stops at the first n that covers the word).
        extract("ab", NgramRange::OFF, NgramRange::new(2, 5), 0, &mut s);
        assert_eq!(s.keys.len(), 3 + 2 + 1);
        // Unicode is cut on char boundaries, not bytes.
        extract("çé", NgramRange::OFF, NgramRange::new(2, 2), 0, &mut s);
        assert_eq!(s.keys.len(), 3);
    }

    /// Number of n-grams scikit-learn's `char_wb` analyzer (2..=5) makes of single words.
    #[test]
    fn char_ngram_counts_match_scikit_learn() {
        let fixture: serde_json::Value =
            serde_json::from_str(include_str!("../tests/data/sklearn_reference.json")).unwrap();
        let case = &fixture["char_wb_case"];
        let words = case["words"].as_array().unwrap();
        let counts = case["counts"].as_array().unwrap();
        let mut cs = CharScratch::default();
        for (w, n) in words.iter().zip(counts) {
            let mut out = Vec::new();
            char_keys(
                w.as_str().unwrap(),
                NgramRange::new(2, 5),
                &mut cs,
                &mut out,
            );
            assert_eq!(out.len() as u64, n.as_u64().unwrap(), "{w}");
        }
    }

    #[test]
    fn links_handles_addresses_and_placeholders_are_noise() {
        let words = |t: &str| {
            strip_noise(t)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        };
        assert_eq!(
            words("@AmazonHelp my parcel https://t.co/x1Y never came (www.x.com/a) [EMAIL]."),
            "my parcel never came"
        );
        assert_eq!(
            words("mail jo@ex.com or see amazon.com/help"),
            "mail or see"
        );
        assert_eq!(
            words("10/10 would buy, 3.5/5 stars"),
            "10/10 would buy, 3.5/5 stars"
        );
        assert!(matches!(
            strip_noise("plain text"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn content_words_name_something() {
        for w in ["refund", "parcel", "4g", "wifi"] {
            assert!(is_content_word(w), "{w}");
        }
        for w in [
            "the", "my", "rt", "amp", "t", "12345", "2024", "a1b22", "?", "@",
        ] {
            assert!(!is_content_word(w), "{w}");
        }
        assert!(is_content_phrase("top up"));
        assert!(is_content_phrase("late delivery"));
        assert!(!is_content_phrase("up top"));
        assert!(!is_content_phrase("my card"));
        assert!(!is_content_phrase("order 123456"));
    }

    #[test]
    fn word_ngrams_are_order_sensitive_and_spelling_insensitive() {
        let mut s = Scratch::default();
        extract("top up", NgramRange::new(2, 2), NgramRange::OFF, 0, &mut s);
        let a = s.keys.clone();
        extract("TOP-UP!", NgramRange::new(2, 2), NgramRange::OFF, 0, &mut s);
        assert_eq!(a, s.keys);
        extract("up top", NgramRange::new(2, 2), NgramRange::OFF, 0, &mut s);
        assert_ne!(a, s.keys);
    }
}
