//! PII redaction: e-mail addresses, phone numbers, payment card numbers and IBANs are replaced by
//! typed placeholders (`[EMAIL]`, `[PHONE]`, `[CARD]`, `[IBAN]`) before text is stored.
//!
//! This module owns the detectors and the rewrite. It is a hand-written single pass over the text
//! (plus one `memchr`-style pass for '@'), so it costs little on every imported text and needs no
//! regex engine. It leans towards not redacting what is probably not PII: dates (2024-03-05,
//! 05/03/2024), times, amounts (€1,234.56), version numbers, order numbers after '#', and digit
//! strings that fail the card (Luhn) or IBAN (mod-97) check digit all stay.
//!
//! What counts as a phone number:
//! - international: `+` and 8 to 15 digits (`+44 20 7946 0958`, `+31 (0)20 123 4567`), or `00`,
//!   a non-zero digit and 9 to 15 digits with at least one separator (`0044 20 7946 0958`);
//! - national with a trunk `0`: 9 to 11 digits, first group at least two digits
//!   (`020 7946 0958`, `06-12345678`, `01 23 45 67 89`, `030/1234567`, `0612345678`);
//! - North American: 3-3-4 digit groups with separators or parentheses, optionally after a `1`
//!   (`(555) 123-4567`, `555.123.4567`, `1-800-555-0199`). Ten bare digits are not taken as a
//!   phone number: they are as likely an order or account number.
//!
//! Separators inside a number are single spaces, `-`, `.`, `/` (once) and parentheses around a
//! group. A card number is 13 to 19 digits, undivided or in groups of three or more split by one
//! kind of separator (space or `-`), with a plausible issuer prefix and a valid Luhn digit.
//! An IBAN is a known country code, its exact length for that country, in capitals and digits,
//! optionally grouped by single spaces, with a valid mod-97 check.

use std::borrow::Cow;

/// A kind of personal data [`redact`] replaces.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PiiKind {
    Email,
    Phone,
    Card,
    Iban,
}

impl PiiKind {
    /// The placeholder written in place of the data.
    pub fn placeholder(self) -> &'static str {
        match self {
            PiiKind::Email => "[EMAIL]",
            PiiKind::Phone => "[PHONE]",
            PiiKind::Card => "[CARD]",
            PiiKind::Iban => "[IBAN]",
        }
    }

    /// Lowercase name, as used in reports and JSON.
    pub fn name(self) -> &'static str {
        match self {
            PiiKind::Email => "email",
            PiiKind::Phone => "phone",
            PiiKind::Card => "card",
            PiiKind::Iban => "iban",
        }
    }

    const ALL: [PiiKind; 4] = [PiiKind::Email, PiiKind::Phone, PiiKind::Card, PiiKind::Iban];
}

/// A redacted text and how many of each kind were replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redaction<'a> {
    /// The text with each finding replaced by its placeholder; borrowed when nothing was found.
    pub text: Cow<'a, str>,
    /// Number of replacements per kind, in [`PiiKind`] order: email, phone, card, IBAN.
    pub counts: [usize; 4],
}

impl Redaction<'_> {
    /// How many of `kind` were replaced.
    pub fn count(&self, kind: PiiKind) -> usize {
        self.counts[kind as usize]
    }

    /// The kinds found at least once.
    pub fn kinds(&self) -> impl Iterator<Item = PiiKind> + '_ {
        PiiKind::ALL
            .into_iter()
            .filter(|&kind| self.count(kind) > 0)
    }

    /// True when nothing was redacted.
    pub fn is_clean(&self) -> bool {
        self.counts.iter().all(|&n| n == 0)
    }
}

/// `text` with e-mail addresses, phone numbers, card numbers and IBANs replaced by placeholders.
/// Borrows `text` when there is nothing to replace.
pub fn redact(text: &str) -> Cow<'_, str> {
    redact_with_report(text).text
}

/// [`redact`], also saying what was found.
pub fn redact_with_report(text: &str) -> Redaction<'_> {
    let spans = find(text);
    if spans.is_empty() {
        return Redaction {
            text: Cow::Borrowed(text),
            counts: [0; 4],
        };
    }
    let mut counts = [0; 4];
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in &spans {
        out.push_str(&text[at..span.start]);
        out.push_str(span.kind.placeholder());
        counts[span.kind as usize] += 1;
        at = span.end;
    }
    out.push_str(&text[at..]);
    Redaction {
        text: Cow::Owned(out),
        counts,
    }
}

/// A finding: byte range in the text and its kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: usize,
    end: usize,
    kind: PiiKind,
}

/// All findings, in order and non-overlapping.
fn find(text: &str) -> Vec<Span> {
    let bytes = text.as_bytes();
    let emails = find_emails(bytes);
    let mut spans = Vec::new();
    let mut next_email = emails.iter().peekable();
    let mut i = 0;
    while i < bytes.len() {
        if let Some(email) = next_email.next_if(|email| i >= email.start) {
            spans.push(*email);
            i = email.end;
            continue;
        }
        let limit = next_email.peek().map_or(bytes.len(), |e| e.start);
        let b = bytes[i];
        let found = if b.is_ascii_uppercase() && left_boundary(text, i) {
            match iban_at(bytes, i, limit) {
                IbanScan::Found(end) => Some((end, PiiKind::Iban)),
                IbanScan::Skip(to) => {
                    i = to.max(i + 1);
                    continue;
                }
            }
        } else if (b.is_ascii_digit() || b == b'+' || b == b'(') && left_boundary(text, i) {
            match number_at(bytes, i, limit) {
                NumberScan::Found { end, kind } => Some((end, kind)),
                NumberScan::Skip { to } => {
                    i = to.max(i + 1);
                    continue;
                }
            }
        } else {
            None
        };
        match found {
            Some((end, kind)) => {
                spans.push(Span {
                    start: i,
                    end,
                    kind,
                });
                i = end;
            }
            None => i += 1,
        }
    }
    spans
}

/// Whether a number or IBAN may start at byte `i`: not inside a word, a bigger number, an
/// amount (`€12`, `1,234`) or an identifier (`#123`, `ID-123`).
fn left_boundary(text: &str, i: usize) -> bool {
    // Only ever called at an ASCII byte, so `i` is a char boundary.
    let mut before = text[..i].chars().rev();
    let Some(prev) = before.next() else {
        return true;
    };
    if prev.is_alphanumeric() || matches!(prev, '_' | '#' | '@' | '€' | '$' | '£' | '¥') {
        return false;
    }
    let prev2 = before.next();
    match prev {
        '.' | ',' => !prev2.is_some_and(|c| c.is_ascii_digit()),
        '-' | '/' | '+' => !prev2.is_some_and(|c| c.is_alphanumeric()),
        _ => true,
    }
}

/// Whether the byte after a finding ends it: not a letter or digit, and not a separator that
/// carries the number on (`-5`, `.5`, `,00`).
fn right_boundary(bytes: &[u8], end: usize) -> bool {
    let Some(&next) = bytes.get(end) else {
        return true;
    };
    if next.is_ascii_alphanumeric()
        || next == b'_'
        || next == b'@'
        || (next >= 0x80 && !next_is_non_letter(bytes, end))
    {
        return false;
    }
    let continues = bytes.get(end + 1).is_some_and(u8::is_ascii_digit);
    !(matches!(next, b'-' | b'.' | b',' | b'/') && continues)
}

/// For a non-ASCII byte after a finding: true unless it starts a letter or digit.
fn next_is_non_letter(bytes: &[u8], at: usize) -> bool {
    let rest = &bytes[at..bytes.len().min(at + 4)];
    let prefix = match std::str::from_utf8(rest) {
        Ok(s) => s,
        Err(e) => std::str::from_utf8(&rest[..e.valid_up_to()]).unwrap_or(""),
    };
    !prefix.chars().next().is_some_and(char::is_alphanumeric)
}

// ---------------------------------------------------------------------------------------------
// E-mail

fn is_local_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'%' | b'+' | b'-')
}

fn is_domain_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-')
}

/// `local@domain.tld` around each '@': an ASCII local part, at least two domain labels, and a
/// final label of two or more letters.
fn find_emails(bytes: &[u8]) -> Vec<Span> {
    let mut spans: Vec<Span> = Vec::new();
    let mut from = 0;
    while let Some(offset) = bytes[from..].iter().position(|&b| b == b'@') {
        let at = from + offset;
        from = at + 1;
        let floor = spans.last().map_or(0, |s| s.end);
        let mut start = at;
        while start > floor && is_local_byte(bytes[start - 1]) {
            start -= 1;
        }
        while start < at && matches!(bytes[start], b'.' | b'-' | b'+') {
            start += 1;
        }
        if start == at || bytes[at - 1] == b'.' {
            continue;
        }
        let mut end = at + 1;
        while end < bytes.len() && is_domain_byte(bytes[end]) {
            end += 1;
        }
        while end > at + 1 && matches!(bytes[end - 1], b'.' | b'-') {
            end -= 1;
        }
        if !valid_domain(&bytes[at + 1..end]) {
            continue;
        }
        spans.push(Span {
            start,
            end,
            kind: PiiKind::Email,
        });
        from = end;
    }
    spans
}

fn valid_domain(domain: &[u8]) -> bool {
    let mut labels = 0;
    let mut last: &[u8] = &[];
    for label in domain.split(|&b| b == b'.') {
        if label.is_empty() || label[0] == b'-' || label[label.len() - 1] == b'-' {
            return false;
        }
        labels += 1;
        last = label;
    }
    labels >= 2 && last.len() >= 2 && last.iter().all(u8::is_ascii_alphabetic)
}

// ---------------------------------------------------------------------------------------------
// Phone and card numbers

enum NumberScan {
    Found {
        end: usize,
        kind: PiiKind,
    },
    /// Nothing here; resume scanning at `to`.
    Skip {
        to: usize,
    },
}

/// A run of digit groups: `+`, `(`, digits and single separators, as far as it goes.
struct Run {
    plus: bool,
    /// Byte ranges of the digit groups.
    groups: Vec<(usize, usize)>,
    /// The separator before each group after the first: b' ', b'-', b'.', b'/' or b'(' for
    /// anything involving parentheses.
    seps: Vec<u8>,
    /// End of each group's text, including a closing parenthesis right after it.
    ends: Vec<usize>,
}

/// Longest numbers worth looking at: 19 card digits, 15 phone digits plus prefixes.
const MAX_RUN_DIGITS: usize = 24;
const MAX_RUN_GROUPS: usize = 10;

fn scan_run(bytes: &[u8], start: usize, limit: usize) -> Option<Run> {
    let digit = |i: usize| i < limit && bytes[i].is_ascii_digit();
    let mut i = start;
    let mut plus = false;
    let mut open = false;
    if bytes[i] == b'+' {
        plus = true;
        i += 1;
    } else if bytes[i] == b'(' {
        open = true;
        i += 1;
    }
    if !digit(i) {
        return None;
    }
    let mut run = Run {
        plus,
        groups: Vec::new(),
        seps: Vec::new(),
        ends: Vec::new(),
    };
    let mut digits = 0;
    let mut slashes = 0;
    loop {
        let group_start = i;
        while digit(i) {
            i += 1;
        }
        digits += i - group_start;
        run.groups.push((group_start, i));
        let mut end = i;
        // What joins this group to the next one, if anything.
        let peek = |k: usize| if k < limit { bytes[k] } else { 0 };
        let mut sep = None;
        if open && peek(i) == b')' {
            open = false;
            end = i + 1;
            match peek(i + 1) {
                b' ' | b'-' if digit(i + 2) => sep = Some((b'(', i + 2)),
                _ if digit(i + 1) => sep = Some((b'(', i + 1)),
                _ => {}
            }
        } else if !open && peek(i) == b'(' && digit(i + 1) {
            open = true;
            sep = Some((b'(', i + 1));
        } else if !open && peek(i) == b' ' && peek(i + 1) == b'(' && digit(i + 2) {
            open = true;
            sep = Some((b'(', i + 2));
        } else if matches!(peek(i), b' ' | b'-' | b'.' | b'/') && digit(i + 1) {
            sep = Some((peek(i), i + 1));
        }
        run.ends.push(end);
        let Some((kind, next)) = sep else { break };
        if kind == b'/' {
            slashes += 1;
        }
        if digits >= MAX_RUN_DIGITS || run.groups.len() >= MAX_RUN_GROUPS || slashes > 2 {
            break;
        }
        run.seps.push(kind);
        i = next;
    }
    Some(run)
}

fn number_at(bytes: &[u8], start: usize, limit: usize) -> NumberScan {
    let Some(run) = scan_run(bytes, start, limit) else {
        return NumberScan::Skip { to: start + 1 };
    };
    let run_end = run.ends[run.ends.len() - 1];
    if let Some(date_end) = date_prefix(&run) {
        return NumberScan::Skip { to: date_end };
    }
    let mut digits = Vec::with_capacity(MAX_RUN_DIGITS);
    for count in (1..=run.groups.len()).rev() {
        digits.clear();
        for &(a, b) in &run.groups[..count] {
            digits.extend_from_slice(&bytes[a..b]);
        }
        let end = run.ends[count - 1];
        if !right_boundary(bytes, end) {
            continue;
        }
        if let Some(kind) = classify(&run, count, &digits) {
            return NumberScan::Found { end, kind };
        }
    }
    // A short count before a space may be a separate number ("3 020 7946 0958"): look again from
    // the second group. Otherwise the run is one token (a date, a version, an id, a long number)
    // and nothing inside it is looked at again.
    let first_len = run.groups[0].1 - run.groups[0].0;
    match run.seps.first() {
        Some(b' ') if first_len <= 2 => NumberScan::Skip {
            to: run.groups[1].0,
        },
        _ => NumberScan::Skip { to: run_end },
    }
}

/// A leading `d.m.y`, `d/m/y`, `d-m-y` or `y-m-d` (same separator twice) ends a date, which is
/// skipped whole.
fn date_prefix(run: &Run) -> Option<usize> {
    if run.plus || run.groups.len() < 3 {
        return None;
    }
    let sep = run.seps[0];
    if !matches!(sep, b'/' | b'.' | b'-') || run.seps[1] != sep {
        return None;
    }
    // A fourth group joined the same way makes it a phone number ("06-12-34-56-78").
    if run.seps.get(2) == Some(&sep) {
        return None;
    }
    let len = |g: usize| run.groups[g].1 - run.groups[g].0;
    let day_first = len(0) <= 2 && len(1) <= 2 && matches!(len(2), 2 | 4);
    let year_first = len(0) == 4 && len(1) <= 2 && len(2) <= 2;
    (day_first || year_first).then(|| run.ends[2])
}

/// What the first `count` groups of `run` (digits `d`) are, if anything.
fn classify(run: &Run, count: usize, d: &[u8]) -> Option<PiiKind> {
    let n = d.len();
    let seps = &run.seps[..count - 1];
    let group_lens: Vec<usize> = run.groups[..count].iter().map(|(a, b)| b - a).collect();
    let slashes = seps.iter().filter(|&&s| s == b'/').count();

    if run.plus {
        return ((8..=15).contains(&n) || (n == 16 && seps.contains(&b'(')))
            .then_some(PiiKind::Phone)
            .filter(|_| d[0] != b'0' && slashes == 0);
    }
    if is_card(d, seps, &group_lens) {
        return Some(PiiKind::Card);
    }
    if slashes > 1 {
        return None;
    }
    // 00 international prefix.
    if n >= 11 && d[..2] == *b"00" && d[2] != b'0' && n - 2 <= 15 && !seps.is_empty() {
        return Some(PiiKind::Phone);
    }
    // National number with a trunk 0.
    if (9..=11).contains(&n) && d[0] == b'0' && d[1] != b'0' && group_lens[0] >= 2 {
        return Some(PiiKind::Phone);
    }
    // North American 3-3-4 (area code 2-9), optionally after a 1.
    let nanp = |lens: &[usize], area: u8| lens == [3, 3, 4] && (b'2'..=b'9').contains(&area);
    if n == 10 && nanp(&group_lens, d[0]) && slashes == 0 {
        return Some(PiiKind::Phone);
    }
    if n == 11 && d[0] == b'1' && group_lens[0] == 1 && nanp(&group_lens[1..], d[1]) && slashes == 0
    {
        return Some(PiiKind::Phone);
    }
    None
}

fn is_card(d: &[u8], seps: &[u8], group_lens: &[usize]) -> bool {
    if !(13..=19).contains(&d.len()) {
        return false;
    }
    if let Some(&first) = seps.first() {
        if !matches!(first, b' ' | b'-') || seps.iter().any(|&s| s != first) {
            return false;
        }
        if group_lens.iter().any(|&len| len < 3) {
            return false;
        }
    }
    plausible_issuer(d) && luhn_valid(d)
}

/// Issuer prefixes in use: Visa 4, Mastercard 51-55 and 2221-2720, Amex 34/37, Diners 30/36/38,
/// JCB 35, Discover/UnionPay/Maestro 6, Maestro 50 and 56-59.
fn plausible_issuer(d: &[u8]) -> bool {
    let prefix = |k: usize| {
        d[..k]
            .iter()
            .fold(0u32, |acc, &b| acc * 10 + u32::from(b - b'0'))
    };
    match d[0] {
        b'4' | b'5' | b'6' => true,
        b'3' => matches!(prefix(2), 30 | 34..=38),
        b'2' => (2221..=2720).contains(&prefix(4)),
        _ => false,
    }
}

/// The Luhn check digit test over ASCII digits.
pub(crate) fn luhn_valid(d: &[u8]) -> bool {
    let mut sum = 0u32;
    for (i, &b) in d.iter().rev().enumerate() {
        let mut v = u32::from(b - b'0');
        if i % 2 == 1 {
            v *= 2;
            if v > 9 {
                v -= 9;
            }
        }
        sum += v;
    }
    sum.is_multiple_of(10)
}

// ---------------------------------------------------------------------------------------------
// IBAN

/// IBAN length per country (the SWIFT IBAN registry, 89 countries).
fn iban_length(country: [u8; 2]) -> Option<usize> {
    let len = match &country {
        b"NO" => 15,
        b"BE" => 16,
        b"DK" | b"FI" | b"FK" | b"FO" | b"GL" | b"NL" | b"SD" => 18,
        b"MK" | b"SI" => 19,
        b"AT" | b"BA" | b"EE" | b"KZ" | b"LT" | b"LU" | b"MN" | b"XK" => 20,
        b"CH" | b"HR" | b"LI" | b"LV" => 21,
        b"BG" | b"BH" | b"CR" | b"DE" | b"GB" | b"GE" | b"IE" | b"ME" | b"RS" | b"VA" => 22,
        b"AE" | b"GI" | b"IL" | b"IQ" | b"OM" | b"SO" | b"TL" => 23,
        b"AD" | b"CZ" | b"ES" | b"MD" | b"PK" | b"RO" | b"SA" | b"SE" | b"SK" | b"TN" | b"VG" => 24,
        b"LY" | b"PT" | b"ST" => 25,
        b"IS" | b"TR" => 26,
        b"BI" | b"DJ" | b"FR" | b"GR" | b"IT" | b"MC" | b"MR" | b"SM" => 27,
        b"AL" | b"AZ" | b"BY" | b"CY" | b"DO" | b"GT" | b"HN" | b"HU" | b"LB" | b"NI" | b"PL"
        | b"SV" => 28,
        b"BR" | b"EG" | b"PS" | b"QA" | b"UA" => 29,
        b"JO" | b"KW" | b"MU" | b"YE" => 30,
        b"MT" | b"SC" => 31,
        b"LC" => 32,
        b"RU" => 33,
        _ => return None,
    };
    Some(len)
}

enum IbanScan {
    Found(usize),
    /// Not an IBAN; resume at this byte (past the whole IBAN-shaped token when it looked like one).
    Skip(usize),
}

/// An IBAN starting at `start`.
fn iban_at(bytes: &[u8], start: usize, limit: usize) -> IbanScan {
    let not_here = IbanScan::Skip(start + 1);
    let Some(head) = bytes.get(start..start + 4) else {
        return not_here;
    };
    if start + 4 > limit
        || !head[1].is_ascii_uppercase()
        || !head[2].is_ascii_digit()
        || !head[3].is_ascii_digit()
    {
        return not_here;
    }
    let Some(length) = iban_length([head[0], head[1]]) else {
        return not_here;
    };
    // Read the whole IBAN-shaped token (capitals and digits, single spaces between groups of
    // four), then check it; a failed check skips the token so no number inside it is redacted.
    let mut chars = Vec::with_capacity(40);
    let mut i = start;
    while i < limit && chars.len() <= 34 {
        let b = bytes[i];
        if b.is_ascii_uppercase() || b.is_ascii_digit() {
            chars.push(b);
            i += 1;
        } else if b == b' '
            && chars.len() % 4 == 0
            && bytes
                .get(i + 1)
                .is_some_and(|n| n.is_ascii_uppercase() || n.is_ascii_digit())
        {
            i += 1;
        } else {
            break;
        }
    }
    if chars.len() == length && right_boundary(bytes, i) && mod97_valid(&chars) {
        IbanScan::Found(i)
    } else {
        IbanScan::Skip(i)
    }
}

/// ISO 7064 mod 97-10 over an IBAN in capitals and digits: the country code and check digits
/// move to the end, letters become 10..35, and the number must leave remainder 1.
pub(crate) fn mod97_valid(iban: &[u8]) -> bool {
    if iban.len() < 5 {
        return false;
    }
    let mut remainder = 0u32;
    for &b in iban[4..].iter().chain(&iban[..4]) {
        remainder = match b {
            b'0'..=b'9' => (remainder * 10 + u32::from(b - b'0')) % 97,
            b'A'..=b'Z' => (remainder * 100 + u32::from(b - b'A') + 10) % 97,
            _ => return false,
        };
    }
    remainder == 1
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn check(text: &str, expected: &str) {
        assert_eq!(redact(text), expected, "input {text:?}");
    }

    #[test]
    fn emails() {
        check(
            "mail jane.doe+tag@example.co.uk today",
            "mail [EMAIL] today",
        );
        check("Write to support@hearken.example.", "Write to [EMAIL].");
        check("<a.b@c.io>,x_y@sub.domain.org", "<[EMAIL]>,[EMAIL]");
        check("0612345678@sms.example.com", "[EMAIL]");
    }

    #[test]
    fn near_miss_emails() {
        for text in [
            "@username thanks",
            "a@b",
            "me@localhost",
            "x@y.c",
            "user@.com",
            "@@",
            "a@-b.com",
        ] {
            check(text, text);
        }
    }

    #[test]
    fn phone_numbers() {
        check("call +44 20 7946 0958 now", "call [PHONE] now");
        check("+31 (0)20 123 4567", "[PHONE]");
        check("+1-555-123-4567.", "[PHONE].");
        check("tel:+31612345678", "tel:[PHONE]");
        check("0044 20 7946 0958", "[PHONE]");
        check(
            "ring 020 7946 0958 or 06-12345678",
            "ring [PHONE] or [PHONE]",
        );
        check("01 23 45 67 89", "[PHONE]");
        check("01.23.45.67.89", "[PHONE]");
        check("06-12-34-56-78", "[PHONE]");
        check("030/1234567", "[PHONE]");
        check("0612345678", "[PHONE]");
        check("(555) 123-4567", "[PHONE]");
        check("555.234.5678 and 555-987-6543", "[PHONE] and [PHONE]");
        check("1-800-555-0199", "[PHONE]");
        check("2 x 020 7946 0958", "2 x [PHONE]");
        check(
            "my number is 0612345678, thanks",
            "my number is [PHONE], thanks",
        );
    }

    #[test]
    fn card_numbers() {
        check(
            "card 4111 1111 1111 1111 exp 12/25",
            "card [CARD] exp 12/25",
        );
        check("5555-5555-5555-4444", "[CARD]");
        check("3782 822463 10005", "[CARD]");
        check("4111111111111111", "[CARD]");
        check("6011111111111117!", "[CARD]!");
    }

    #[test]
    fn ibans() {
        check(
            "IBAN: GB82 WEST 1234 5698 7654 32, thanks",
            "IBAN: [IBAN], thanks",
        );
        check("DE89370400440532013000", "[IBAN]");
        check("pay to NL91 ABNA 0417 1643 00.", "pay to [IBAN].");
        check("FR14 2004 1010 0505 0001 3M02 606", "[IBAN]");
    }

    #[test]
    fn near_misses_are_kept() {
        for text in [
            "Order #100234567 arrived",
            "order 2024-000123",
            "order number 1234567890123",
            "ticket 0012345678",
            "INV-2024-0042",
            "on 2024-03-05 at 14:30",
            "on 05/03/2024 14:30",
            "05.03.2024",
            "05-03-24",
            "it cost €1,234.56",
            "it cost 1.234.567,89 €",
            "$1 234 567 890",
            "version 10.0.19045.3803",
            "v2.3.1",
            "192.168.100.200",
            "ISBN 978-3-16-148410-0",
            "4111 1111 1111 1112",
            "4111111111111112",
            "20240305143000",
            "5551234567",
            "GB82 WEST 1234 5698 7654 33",
            "DE89 3704 0044 0532 0130 0012",
            "AB12 3456",
            "Room 101, floor 3",
            "call 112",
        ] {
            check(text, text);
        }
    }

    #[test]
    fn report_counts_kinds() {
        let r = redact_with_report("a@b.io, +44 20 7946 0958, 4111 1111 1111 1111, a@b.io");
        assert_eq!(r.text, "[EMAIL], [PHONE], [CARD], [EMAIL]");
        assert_eq!(r.count(PiiKind::Email), 2);
        assert_eq!(
            r.kinds().collect::<Vec<_>>(),
            [PiiKind::Email, PiiKind::Phone, PiiKind::Card]
        );
        let clean = redact_with_report("nothing here 123");
        assert!(clean.is_clean() && matches!(clean.text, Cow::Borrowed(_)));
    }

    #[test]
    fn luhn_and_mod97_catch_every_single_digit_change() {
        let card = b"4111111111111111";
        let iban = b"GB82WEST12345698765432";
        assert!(luhn_valid(card) && mod97_valid(iban));
        for i in 0..card.len() {
            for d in b'0'..=b'9' {
                let mut c = *card;
                if c[i] != d {
                    c[i] = d;
                    assert!(!luhn_valid(&c));
                }
            }
        }
        // Same-class substitutions: a letter for a digit changes the number's length, which
        // mod 97 does not promise to catch.
        for i in 0..iban.len() {
            let class: Vec<u8> = if iban[i].is_ascii_digit() {
                (b'0'..=b'9').collect()
            } else {
                (b'A'..=b'Z').collect()
            };
            for d in class {
                let mut c = *iban;
                if c[i] != d {
                    c[i] = d;
                    assert!(!mod97_valid(&c), "{}", String::from_utf8_lossy(&c));
                }
            }
        }
    }

    proptest! {
        #[test]
        fn redact_never_panics_and_keeps_clean_text(text in any::<String>()) {
            let r = redact_with_report(&text);
            if r.is_clean() {
                prop_assert_eq!(r.text.as_ref(), text.as_str());
            }
        }

        #[test]
        fn redact_handles_number_soup(text in "[0-9 +()./@a-zA-Z#,:-]{0,80}") {
            let r = redact_with_report(&text);
            let placeholders: usize = r.counts.iter().sum();
            prop_assert!(r.text.len() <= text.len() + 8 * placeholders);
        }

        #[test]
        fn redacted_text_redacts_to_itself(text in "[0-9 +()./@a-zA-Z#,:-]{0,80}") {
            let once = redact(&text).into_owned();
            let twice = redact(&once);
            prop_assert_eq!(twice.as_ref(), once.as_str());
        }
    }
}
