//! Python `str` semantics that VADER's behaviour depends on: what counts as whitespace for
//! `str.split()`/`str.strip()`, what `str.isupper()` and `str.lower()` return.
//!
//! Python 3.11 uses Unicode 14; Rust's `char` tables follow a newer Unicode. The two disagree only
//! on letters added or re-cased after Unicode 14 (a few hundred code points, none of them in the
//! VADER lexicons), which can change the ALL-CAPS rule for a text containing one of them.

/// `str.isspace()` for one character, which is what `str.split()` with no argument splits on.
/// It differs from `char::is_whitespace` by also counting the four ASCII information separators
/// U+001C..U+001F.
pub(crate) fn is_space(c: char) -> bool {
    matches!(
        c,
        '\t'..='\r'
            | '\u{1c}'..='\u{20}'
            | '\u{85}'
            | '\u{a0}'
            | '\u{1680}'
            | '\u{2000}'..='\u{200a}'
            | '\u{2028}'
            | '\u{2029}'
            | '\u{202f}'
            | '\u{205f}'
            | '\u{3000}'
    )
}

/// The titlecase letters (general category Lt): `str.isupper()` is false when one is present.
fn is_titlecase(c: char) -> bool {
    matches!(
        c,
        '\u{1c5}'
            | '\u{1c8}'
            | '\u{1cb}'
            | '\u{1f2}'
            | '\u{1f88}'..='\u{1f8f}'
            | '\u{1f98}'..='\u{1f9f}'
            | '\u{1fa8}'..='\u{1faf}'
            | '\u{1fbc}'
            | '\u{1fcc}'
            | '\u{1ffc}'
    )
}

/// `str.isupper()`: at least one cased character and no lowercase or titlecase one.
pub(crate) fn is_upper(s: &str) -> bool {
    let mut cased = false;
    for c in s.chars() {
        if c.is_ascii() {
            if c.is_ascii_lowercase() {
                return false;
            }
            cased |= c.is_ascii_uppercase();
        } else {
            if c.is_lowercase() || is_titlecase(c) {
                return false;
            }
            cased |= c.is_uppercase();
        }
    }
    cased
}

/// What [`push_lower`] noticed about a word on the way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Shape {
    /// `str.isupper()` of the word.
    pub(crate) upper: bool,
    /// The word contains an ASCII apostrophe.
    pub(crate) apostrophe: bool,
}

/// Appends the UTF-8 bytes of `str.lower()` of `s` (full Unicode lowercase mapping, final sigma
/// included) to `out`, and returns the word's [`Shape`]; one pass, no allocation, for ASCII.
pub(crate) fn push_lower(out: &mut Vec<u8>, s: &str) -> Shape {
    let start = out.len();
    out.extend_from_slice(s.as_bytes());
    let (mut lower, mut upper, mut apostrophe, mut high) = (false, false, false, 0u8);
    for b in &mut out[start..] {
        lower |= b.is_ascii_lowercase();
        upper |= b.is_ascii_uppercase();
        apostrophe |= *b == b'\'';
        high |= *b;
        b.make_ascii_lowercase();
    }
    if high < 0x80 {
        return Shape {
            upper: upper && !lower,
            apostrophe,
        };
    }
    out.truncate(start);
    out.extend_from_slice(s.to_lowercase().as_bytes());
    Shape {
        upper: is_upper(s),
        apostrophe,
    }
}

/// `str.strip()` with no argument.
pub(crate) fn strip(s: &str) -> &str {
    s.trim_matches(is_space)
}

/// `str.split()` with no argument: runs of whitespace separate, empty pieces are dropped.
pub(crate) fn split(s: &str) -> impl Iterator<Item = &str> {
    s.split(is_space).filter(|piece| !piece.is_empty())
}

/// [`split`] for ASCII text, on bytes.
pub(crate) fn split_ascii(s: &str) -> impl Iterator<Item = &str> {
    let base = s.as_ptr() as usize;
    s.as_bytes()
        .split(|&b| matches!(b, b'\t'..=b'\r' | 0x1c..=b' '))
        .filter(|piece| !piece.is_empty())
        .map(move |piece| {
            // Splitting on ASCII bytes keeps char boundaries; slice by offset to stay safe.
            let start = piece.as_ptr() as usize - base;
            &s[start..start + piece.len()]
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_includes_information_separators_but_not_zero_width_space() {
        let pieces: Vec<&str> = split("a\u{1c}b\u{3000}c\u{85}d \u{200b}e\t").collect();
        assert_eq!(pieces, ["a", "b", "c", "d", "\u{200b}e"]);
        assert_eq!(strip("\u{a0} x \u{2028}"), "x");
    }

    #[test]
    fn isupper_needs_a_cased_letter_and_rejects_titlecase() {
        assert!(is_upper("GOOD!"));
        assert!(is_upper("ÉNORME"));
        assert!(!is_upper(":)"));
        assert!(!is_upper("GOOd"));
        assert!(!is_upper("ǅOG"));
        assert!(!is_upper("123"));
    }

    #[test]
    fn lower_maps_kelvin_sign_and_final_sigma() {
        let lower = |s: &str| {
            let mut out = b"x".to_vec();
            let shape = push_lower(&mut out, s);
            assert_eq!(shape.upper, is_upper(s));
            String::from_utf8(out).unwrap()
        };
        assert_eq!(lower("\u{212a}ISS"), "xkiss");
        assert_eq!(lower("ΣΊΣΥΦΟΣ"), "xσίσυφος");
        assert_eq!(lower("MiXed"), "xmixed");
        assert_eq!(lower("DON'T"), "xdon't");
    }
}
