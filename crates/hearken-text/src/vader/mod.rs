//! VADER sentiment (Hutto & Gilbert, ICWSM 2014), written from the published algorithm to give
//! the same numbers as Python vaderSentiment 3.3.2, bit for bit.
//!
//! This module owns the scoring rules and the embedded lexicons. It does no IO and keeps no state
//! between calls beyond per-thread scratch buffers that save allocations. The rules are applied in the reference implementation's order, including the
//! order of floating-point operations, so that the unrounded doubles match and therefore so does
//! every rounded score (`tests/text/vader.rs` checks all 23,703 ground-truth texts).
//!
//! Behaviour kept from the reference on purpose, though it is arguably a bug, because callers
//! compare against Python VADER: the "but" rule rescales the *first* earlier sentiment equal in
//! value to each one (Python's `list.index`), not the one at the same position; the single-word
//! idiom "badass" never applies; a capitalised booster with a zero valence is treated as negative.

mod lexicon;

use std::borrow::Cow;
use std::collections::BTreeSet;

use crate::fxhash::FxMap;
use crate::pystr;
use crate::sentiment::Sentiment;
use lexicon::{C_INCR, N_SCALAR};

/// The VADER scorer: the parsed lexicons, built once (about a millisecond) and then shared.
pub struct Vader {
    /// Every word the rules look up: lexicon words, boosters and negations, one lookup per token.
    words: FxMap<&'static [u8], WordInfo>,
    emoji: FxMap<char, &'static str>,
    /// The smallest code point with an emoji description: anything below it skips the lookup.
    first_emoji: char,
}

impl Default for Vader {
    fn default() -> Self {
        Vader::new()
    }
}

impl std::fmt::Debug for Vader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vader")
            .field("words", &self.words.len())
            .field("emoji", &self.emoji.len())
            .finish()
    }
}

/// What the rules need to know about a lowercased word.
#[derive(Debug, Clone, Copy, Default)]
struct WordInfo {
    /// Valence when the word is in the lexicon.
    lex: Option<f64>,
    /// Increment when the word is a single-word booster or dampener.
    booster: Option<f64>,
    /// In VADER's `NEGATE` list.
    negation: bool,
}

/// One whitespace-separated word after VADER's punctuation stripping.
#[derive(Clone, Copy)]
struct Token {
    /// Byte range of the lowercased word in [`Tokens::lowered`].
    lower: (usize, usize),
    lex: Option<f64>,
    booster: Option<f64>,
    /// `str.isupper()` of the word as written.
    upper: bool,
    /// VADER's `negated([word])`: a negation word or one containing "n't".
    negates: bool,
}

/// The words of a text with their lowercase forms in one buffer.
#[derive(Default)]
struct Tokens {
    /// Lowercased words back to back, as bytes: every comparison is with ASCII words.
    lowered: Vec<u8>,
    tokens: Vec<Token>,
}

impl Tokens {
    fn lower(&self, i: usize) -> &[u8] {
        let (start, end) = self.tokens[i].lower;
        &self.lowered[start..end]
    }

    fn len(&self) -> usize {
        self.tokens.len()
    }
}

/// Buffers reused between calls on one thread, so scoring a short text allocates nothing.
#[derive(Default)]
struct Scratch {
    tokens: Tokens,
    sentiments: Vec<f64>,
}

/// Above this many bytes of text, the buffers are given back after use.
const SCRATCH_KEEP_BYTES: usize = 64 * 1024;

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

impl Vader {
    /// Parses the embedded lexicons.
    pub fn new() -> Vader {
        let emoji = lexicon::parse_emoji(lexicon::EMOJI_LEXICON);
        let first_emoji = emoji.keys().copied().min().unwrap_or(char::MAX);
        let mut words: FxMap<&'static [u8], WordInfo> = FxMap::default();
        for (word, valence) in lexicon::parse_lexicon(lexicon::VADER_LEXICON) {
            words.entry(word.as_bytes()).or_default().lex = Some(valence);
        }
        for (word, increment) in lexicon::BOOSTERS {
            words.entry(word.as_bytes()).or_default().booster = Some(increment);
        }
        for word in lexicon::NEGATE {
            words.entry(word.as_bytes()).or_default().negation = true;
        }
        Vader {
            words,
            emoji,
            first_emoji,
        }
    }

    /// The scorer shared by the whole process, built on first use.
    pub fn shared() -> &'static Vader {
        static SHARED: std::sync::LazyLock<Vader> = std::sync::LazyLock::new(Vader::new);
        &SHARED
    }

    /// The four VADER scores of `text`, unrounded (see [`Sentiment::rounded`] and
    /// [`Sentiment::to_json`] for Python's rounding). Any string is accepted; a text without
    /// words scores all zeros.
    pub fn polarity_scores(&self, text: &str) -> Sentiment {
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => {
                let sentiment = self.polarity_scores_with(text, &mut scratch);
                if scratch.tokens.lowered.capacity() > SCRATCH_KEEP_BYTES {
                    *scratch = Scratch::default();
                }
                sentiment
            }
            // Only reachable if scoring ever re-entered itself on this thread.
            Err(_) => self.polarity_scores_with(text, &mut Scratch::default()),
        })
    }

    fn polarity_scores_with(&self, text: &str, scratch: &mut Scratch) -> Sentiment {
        let ascii = text.is_ascii();
        let text = self.replace_emoji(text, ascii);
        let text = pystr::strip(&text);
        let tokens = &mut scratch.tokens;
        self.tokenize(text, ascii, tokens);
        let cap_diff = allcap_differential(&tokens.tokens);

        let sentiments = &mut scratch.sentiments;
        sentiments.clear();
        for (i, token) in tokens.tokens.iter().enumerate() {
            let kind_of =
                tokens.lower(i) == b"kind" && i + 1 < tokens.len() && tokens.lower(i + 1) == b"of";
            if token.booster.is_some() || kind_of {
                sentiments.push(0.0);
            } else {
                sentiments.push(sentiment_valence(tokens, i, cap_diff));
            }
        }
        if let Some(but) = (0..tokens.len()).find(|&i| tokens.lower(i) == b"but") {
            but_check(sentiments, but);
        }
        score_valence(sentiments, text)
    }

    /// Replaces each emoji code point by its description, with a space before it unless one is
    /// already there (and none after, as the reference does).
    fn replace_emoji<'a>(&self, text: &'a str, ascii: bool) -> Cow<'a, str> {
        // All emoji are outside ASCII, and an ASCII check is far cheaper than decoding chars.
        if self.first_emoji > '\x7f' && ascii {
            return Cow::Borrowed(text);
        }
        let is_emoji = |c: char| c >= self.first_emoji && self.emoji.contains_key(&c);
        let Some(start) = text
            .char_indices()
            .find(|&(_, c)| is_emoji(c))
            .map(|(i, _)| i)
        else {
            return Cow::Borrowed(text);
        };
        let mut out = String::with_capacity(text.len() + 64);
        out.push_str(&text[..start]);
        let mut prev_space = start == 0 || text[..start].ends_with(' ');
        for c in text[start..].chars() {
            let description = if c >= self.first_emoji {
                self.emoji.get(&c)
            } else {
                None
            };
            match description {
                Some(description) => {
                    if !prev_space {
                        out.push(' ');
                    }
                    out.push_str(description);
                    prev_space = false;
                }
                None => {
                    out.push(c);
                    prev_space = c == ' ';
                }
            }
        }
        Cow::Owned(out)
    }

    /// Splits on whitespace, strips punctuation and looks every word up once.
    /// `ascii`: whether the text (before emoji replacement, which only adds ASCII) is ASCII.
    fn tokenize(&self, text: &str, ascii: bool, tokens: &mut Tokens) {
        tokens.lowered.clear();
        tokens.tokens.clear();
        if ascii {
            self.push_words(pystr::split_ascii(text), tokens);
        } else {
            self.push_words(pystr::split(text), tokens);
        }
    }

    fn push_words<'a>(&self, words: impl Iterator<Item = &'a str>, tokens: &mut Tokens) {
        for word in words {
            let word = strip_punc_if_word(word);
            let start = tokens.lowered.len();
            let shape = pystr::push_lower(&mut tokens.lowered, word);
            let lower = &tokens.lowered[start..];
            let info = self.words.get(lower).copied().unwrap_or_default();
            let negates =
                info.negation || (shape.apostrophe && lower.windows(3).any(|w| w == b"n't"));
            tokens.tokens.push(Token {
                lower: (start, tokens.lowered.len()),
                lex: info.lex,
                booster: info.booster,
                upper: shape.upper,
                negates,
            });
        }
    }
}

/// Strips leading and trailing ASCII punctuation unless that leaves two characters or fewer (then
/// the word was probably an emoticon such as ":)" or ":D" and is kept whole).
fn strip_punc_if_word(word: &str) -> &str {
    let bytes = word.as_bytes();
    // ASCII punctuation is one byte, so the stripped word is a byte range of a char boundary.
    let start = bytes
        .iter()
        .position(|b| !b.is_ascii_punctuation())
        .unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_punctuation())
        .map_or(start, |i| i + 1);
    let stripped = &word[start..end];
    let short = if stripped.is_ascii() {
        stripped.len() <= 2
    } else {
        stripped.chars().nth(2).is_none()
    };
    if short { word } else { stripped }
}

/// True when some but not all words are in ALL CAPS.
fn allcap_differential(tokens: &[Token]) -> bool {
    let upper = tokens.iter().filter(|t| t.upper).count();
    let differential = tokens.len() - upper;
    0 < differential && differential < tokens.len()
}

/// The valence of token `i` after the lexicon, "no", ALL-CAPS, booster, negation, idiom and
/// "least" rules; 0 for a word outside the lexicon.
fn sentiment_valence(words: &Tokens, i: usize, cap_diff: bool) -> f64 {
    let tokens = &words.tokens;
    let item = &tokens[i];
    let Some(lex) = item.lex else {
        return 0.0;
    };
    let lower = |j: usize| words.lower(j);
    let mut valence = lex;
    // "no" right before a lexicon word negates that word instead of counting as negative.
    if lower(i) == b"no" && tokens.get(i + 1).is_some_and(|t| t.lex.is_some()) {
        valence = 0.0;
    }
    if (i > 0 && lower(i - 1) == b"no")
        || (i > 1 && lower(i - 2) == b"no")
        || (i > 2 && lower(i - 3) == b"no" && matches!(lower(i - 1), b"or" | b"nor"))
    {
        valence = lex * N_SCALAR;
    }
    if item.upper && cap_diff {
        if valence > 0.0 {
            valence += C_INCR;
        } else {
            valence -= C_INCR;
        }
    }
    for start_i in 0..3 {
        let j = match i.checked_sub(start_i + 1) {
            Some(j) if tokens[j].lex.is_none() => j,
            _ => continue,
        };
        let mut scalar = scalar_inc_dec(&tokens[j], valence, cap_diff);
        // Boosters further away count less.
        if start_i == 1 && scalar != 0.0 {
            scalar *= 0.95;
        }
        if start_i == 2 && scalar != 0.0 {
            scalar *= 0.9;
        }
        valence += scalar;
        valence = negation_check(valence, words, start_i, i);
        if start_i == 2 {
            valence = special_idioms_check(valence, words, i);
        }
    }
    least_check(valence, words, i)
}

/// The increment a booster/dampener word adds to a following valence, signed with it.
fn scalar_inc_dec(word: &Token, valence: f64, cap_diff: bool) -> f64 {
    let Some(mut scalar) = word.booster else {
        return 0.0;
    };
    if valence < 0.0 {
        scalar *= -1.0;
    }
    if word.upper && cap_diff {
        if valence > 0.0 {
            scalar += C_INCR;
        } else {
            scalar -= C_INCR;
        }
    }
    scalar
}

fn negation_check(valence: f64, words: &Tokens, start_i: usize, i: usize) -> f64 {
    let tokens = &words.tokens;
    let lower = |j: usize| words.lower(j);
    match start_i {
        0 if tokens[i - 1].negates => valence * N_SCALAR,
        1 => {
            if lower(i - 2) == b"never" && matches!(lower(i - 1), b"so" | b"this") {
                valence * 1.25
            } else if lower(i - 2) == b"without" && lower(i - 1) == b"doubt" {
                valence
            } else if tokens[i - 2].negates {
                valence * N_SCALAR
            } else {
                valence
            }
        }
        2 => {
            // The reference's operator precedence: "so"/"this" right before the word boosts even
            // without "never".
            if (lower(i - 3) == b"never" && matches!(lower(i - 2), b"so" | b"this"))
                || matches!(lower(i - 1), b"so" | b"this")
            {
                valence * 1.25
            } else if lower(i - 3) == b"without"
                && (lower(i - 2) == b"doubt" || lower(i - 1) == b"doubt")
            {
                valence
            } else if tokens[i - 3].negates {
                valence * N_SCALAR
            } else {
                valence
            }
        }
        _ => valence,
    }
}

/// Idioms around word `i` (which has at least three words before it) replace its valence;
/// "kind of"-style dampeners before it lower it.
fn special_idioms_check(mut valence: f64, words: &Tokens, i: usize) -> f64 {
    let w = |j: usize| words.lower(j);
    let before: [&[&[u8]]; 5] = [
        &[w(i - 1), w(i)],
        &[w(i - 2), w(i - 1), w(i)],
        &[w(i - 2), w(i - 1)],
        &[w(i - 3), w(i - 2), w(i - 1)],
        &[w(i - 3), w(i - 2)],
    ];
    if let Some(value) = before.iter().find_map(|words| lexicon::special_case(words)) {
        valence = value;
    }
    if i + 1 < words.len()
        && let Some(value) = lexicon::special_case(&[w(i), w(i + 1)])
    {
        valence = value;
    }
    if i + 2 < words.len()
        && let Some(value) = lexicon::special_case(&[w(i), w(i + 1), w(i + 2)])
    {
        valence = value;
    }
    // Of the reference's three n-grams only the two bigrams can match a two-word booster.
    for (first, second) in [(w(i - 3), w(i - 2)), (w(i - 2), w(i - 1))] {
        if let Some(value) = lexicon::booster_bigram(first, second) {
            valence += value;
        }
    }
    valence
}

/// "least" before a word negates it, except in "at least" and "very least".
fn least_check(valence: f64, words: &Tokens, i: usize) -> f64 {
    let is_least = |j: usize| words.tokens[j].lex.is_none() && words.lower(j) == b"least";
    if i > 1 && is_least(i - 1) {
        if words.lower(i - 2) != b"at" && words.lower(i - 2) != b"very" {
            return valence * N_SCALAR;
        }
    } else if i == 1 && is_least(0) {
        return valence * N_SCALAR;
    }
    valence
}

/// Below this many words the "but" rule scans linearly; above it, it keeps an index by value.
const BUT_LINEAR_LIMIT: usize = 128;

/// The contrastive "but" rule as the reference runs it: for each position k in order, the first
/// position holding a value equal to the original value at k is halved if it lies before the
/// "but" and multiplied by 1.5 if after. That first position is at most k (position k still holds
/// its original value when it is reached), so usually it is k itself; when an earlier sentiment
/// already became equal to the value, that earlier one is rescaled again instead.
fn but_check(sentiments: &mut [f64], but: usize) {
    if sentiments.len() <= BUT_LINEAR_LIMIT {
        but_check_linear(sentiments, but);
    } else {
        but_check_indexed(sentiments, but);
    }
}

fn but_factor(position: usize, but: usize) -> f64 {
    if position < but { 0.5 } else { 1.5 }
}

fn but_check_linear(sentiments: &mut [f64], but: usize) {
    for k in 0..sentiments.len() {
        let value = sentiments[k];
        if value == 0.0 {
            // Zero times a factor stays zero: no change, and the "but" word itself is always 0.
            continue;
        }
        if let Some(first) = sentiments[..=k].iter().position(|&s| s == value) {
            sentiments[first] = value * but_factor(first, but);
        }
    }
}

/// The same rule in O(n log n) for long texts: positions grouped by current value.
fn but_check_indexed(sentiments: &mut [f64], but: usize) {
    let mut by_value: FxMap<u64, BTreeSet<usize>> = FxMap::default();
    for k in 0..sentiments.len() {
        let value = sentiments[k];
        if value == 0.0 {
            continue;
        }
        // Non-zero values: equal doubles have equal bits.
        let positions = by_value.entry(value.to_bits()).or_default();
        positions.insert(k);
        let Some(first) = positions.pop_first() else {
            continue;
        };
        let scaled = value * but_factor(first, but);
        sentiments[first] = scaled;
        if scaled != 0.0 {
            by_value.entry(scaled.to_bits()).or_default().insert(first);
        }
    }
}

/// Combines the word sentiments into neg/neu/pos proportions and the normalised compound score,
/// with the "!" and "?" emphasis.
fn score_valence(sentiments: &[f64], text: &str) -> Sentiment {
    if sentiments.is_empty() {
        return Sentiment::default();
    }
    let mut sum_s = sentiments.iter().fold(0.0, |sum, &s| sum + s);
    let punct_emph_amplifier = punctuation_emphasis(text);
    if sum_s > 0.0 {
        sum_s += punct_emph_amplifier;
    } else if sum_s < 0.0 {
        sum_s -= punct_emph_amplifier;
    }
    let compound = normalize(sum_s);

    let (mut pos_sum, mut neg_sum, mut neu_count) = (0.0f64, 0.0f64, 0usize);
    for &s in sentiments {
        // +1/-1 compensate for neutral words being counted as 1.
        if s > 0.0 {
            pos_sum += s + 1.0;
        }
        if s < 0.0 {
            neg_sum += s - 1.0;
        }
        if s == 0.0 {
            neu_count += 1;
        }
    }
    if pos_sum > neg_sum.abs() {
        pos_sum += punct_emph_amplifier;
    } else if pos_sum < neg_sum.abs() {
        neg_sum -= punct_emph_amplifier;
    }
    let total = pos_sum + neg_sum.abs() + neu_count as f64;
    Sentiment {
        neg: (neg_sum / total).abs(),
        neu: (neu_count as f64 / total).abs(),
        pos: (pos_sum / total).abs(),
        compound,
    }
}

/// Up to four "!" add 0.292 each; two or three "?" add 0.18 each, more add 0.96.
fn punctuation_emphasis(text: &str) -> f64 {
    let (mut exclamations, mut questions) = (0usize, 0usize);
    for &b in text.as_bytes() {
        exclamations += usize::from(b == b'!');
        questions += usize::from(b == b'?');
    }
    let exclamations = exclamations.min(4);
    let ep_amplifier = exclamations as f64 * 0.292;
    let qm_amplifier = match questions {
        0 | 1 => 0.0,
        2 | 3 => questions as f64 * 0.18,
        _ => 0.96,
    };
    ep_amplifier + qm_amplifier
}

/// Maps a sum of valences to -1..=1 with alpha = 15, the approximate maximum expected value.
fn normalize(score: f64) -> f64 {
    let norm_score = score / (score * score + 15.0).sqrt();
    norm_score.clamp(-1.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn punctuation_stripping_keeps_short_emoticons() {
        assert_eq!(strip_punc_if_word(":)"), ":)");
        assert_eq!(strip_punc_if_word(":-D"), ":-D");
        assert_eq!(strip_punc_if_word("good!!"), "good");
        assert_eq!(strip_punc_if_word("(ok)"), "(ok)");
        assert_eq!(strip_punc_if_word("'yes'"), "yes");
    }

    #[test]
    fn empty_and_wordless_texts_score_zero_or_neutral() {
        let vader = Vader::shared();
        assert_eq!(vader.polarity_scores(""), Sentiment::default());
        assert_eq!(vader.polarity_scores(" \t\u{3000}\n"), Sentiment::default());
        let punct = vader.polarity_scores("?!?!");
        assert_eq!((punct.neu, punct.compound), (1.0, 0.0));
    }

    proptest! {
        #[test]
        fn but_rule_indexed_matches_linear(
            values in proptest::collection::vec(
                prop_oneof![Just(0.0), Just(1.0), Just(2.0), Just(0.5), Just(-1.0), Just(-2.0),
                            Just(3.0), Just(1.5), Just(0.75), Just(-0.5)],
                1..300),
            but_at in 0usize..300,
        ) {
            let but = but_at % values.len();
            let mut values = values;
            values[but] = 0.0;
            let mut linear = values.clone();
            let mut indexed = values;
            but_check_linear(&mut linear, but);
            but_check_indexed(&mut indexed, but);
            prop_assert_eq!(linear, indexed);
        }

        #[test]
        fn any_text_gets_finite_scores_in_range(text in any::<String>()) {
            let s = Vader::shared().polarity_scores(&text);
            for v in [s.neg, s.neu, s.pos] {
                prop_assert!((0.0..=1.0).contains(&v));
            }
            prop_assert!((-1.0..=1.0).contains(&s.compound));
        }

        #[test]
        fn texts_of_lexicon_words_and_rule_words_score_in_range(
            words in proptest::collection::vec(
                prop_oneof![Just("good"), Just("BAD"), Just("but"), Just("not"), Just("no"),
                            Just("very"), Just("kind"), Just("of"), Just("least"), Just("at"),
                            Just("never"), Just("so"), Just("the"), Just("shit"), Just("😁"),
                            Just("!"), Just("??"), Just("without"), Just("doubt"), Just(":)")],
                0..200)
        ) {
            let text = words.join(" ");
            let s = Vader::shared().polarity_scores(&text);
            prop_assert!(s.neg.is_finite() && s.neu.is_finite() && s.pos.is_finite());
            prop_assert!((-1.0..=1.0).contains(&s.compound));
        }
    }
}
