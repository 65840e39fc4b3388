//! Numbers as real files write them: `1234.56`, `1.234,56`, `1,234.56`, `1 234,56`, `1'234.56`.
//!
//! A file's decimal and thousands separators can be stated (a mapping's `decimal` and
//! `thousands`); then every number is read by that rule and anything else is rejected. When they
//! are not stated, a number is read only when its form leaves no choice: `1.234,56` (both
//! separators: the last is the decimal one), `7,5` or `0.125` (one separator that cannot be
//! grouping thousands), `1.234.567` (repeated: grouping). A value such as `1.234` or `1,234`, which
//! is 1234 in one convention and 1.234 in the other, is rejected with a hint naming the mapping
//! keys. Nothing is guessed.

use crate::FieldError;

/// How a file writes numbers. `Default` states nothing: only unambiguous forms are read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NumberFormat {
    /// The decimal separator (`.` or `,`), when stated.
    pub decimal: Option<char>,
    /// The thousands separator (`.`, `,`, a space or `'`), when stated. With a stated decimal
    /// separator, `None` means numbers are written without grouping.
    pub thousands: Option<char>,
}

/// Characters accepted as a thousands separator in a mapping.
pub const THOUSANDS_SEPARATORS: &[char] = &['.', ',', ' ', '\'', '\u{a0}', '\u{202f}'];

const HINT: &str = "state how the file writes numbers in the mapping: decimal = \",\" and thousands = \".\" (or decimal = \".\" and thousands = \",\")";

impl NumberFormat {
    /// Checks a stated format; the message says what is wrong.
    pub fn check(&self) -> Result<(), String> {
        if let Some(d) = self.decimal
            && d != '.'
            && d != ','
        {
            return Err(format!(
                "decimal = \"{d}\": the decimal separator must be \".\" or \",\""
            ));
        }
        if let Some(t) = self.thousands {
            if !THOUSANDS_SEPARATORS.contains(&t) {
                return Err(format!(
                    "thousands = \"{}\": the thousands separator must be \".\", \",\", \" \" or \"'\"",
                    t.escape_default()
                ));
            }
            if Some(t) == self.decimal {
                return Err(format!(
                    "decimal and thousands are both \"{t}\": they must differ"
                ));
            }
        }
        Ok(())
    }

    /// The decimal separator in force: the stated one, else the one the thousands separator
    /// leaves (`.` groups thousands, so `,` is decimal, and the other way round).
    fn stated_decimal(&self) -> Option<char> {
        match (self.decimal, self.thousands) {
            (Some(d), _) => Some(d),
            (None, Some('.')) => Some(','),
            (None, Some(_)) => Some('.'),
            (None, None) => None,
        }
    }
}

/// Parses a number written by `fmt`'s rule (see the module docs). The error names the field and
/// value, and for an ambiguous value the mapping keys that settle it.
pub fn parse_number(field: &str, value: &str, fmt: &NumberFormat) -> Result<f64, FieldError> {
    let v = value.trim();
    let (negative, body) = match v.as_bytes().first() {
        Some(b'-') => (true, v[1..].trim_start()),
        Some(b'+') => (false, v[1..].trim_start()),
        _ => (false, v),
    };
    let not_a_number = || FieldError::new(field, value, "is not a number");
    if body.is_empty() {
        return Err(not_a_number());
    }
    let canonical = match fmt.stated_decimal() {
        Some(d) => stated(body, d, fmt.thousands).map_err(|reason| {
            FieldError::new(field, value, reason).with_hint(format!(
                "the mapping says decimal = \"{d}\"{}",
                fmt.thousands
                    .map(|t| format!(" and thousands = \"{}\"", t.escape_default()))
                    .unwrap_or_default()
            ))
        })?,
        None => unstated(body).map_err(|e| match e {
            Unstated::Ambiguous => FieldError::new(
                field,
                value,
                "is ambiguous: it reads as a whole number with a thousands separator or as a decimal fraction",
            )
            .with_hint(HINT),
            Unstated::Invalid => {
                let e = not_a_number();
                if body.contains([',', '.']) {
                    e.with_hint(HINT)
                } else {
                    e
                }
            }
        })?,
    };
    let x: f64 = canonical.parse().map_err(|_| not_a_number())?;
    if !x.is_finite() {
        return Err(not_a_number());
    }
    Ok(if negative { -x } else { x })
}

/// Whether `groups` (the integer part split at the thousands separator) groups thousands:
/// a first group of 1 to 3 digits, then groups of exactly 3.
fn grouped(groups: &[&str]) -> bool {
    let digits = |g: &str| !g.is_empty() && g.bytes().all(|b| b.is_ascii_digit());
    match groups.split_first() {
        Some((first, rest)) => {
            digits(first) && first.len() <= 3 && rest.iter().all(|g| g.len() == 3 && digits(g))
        }
        None => false,
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// With the decimal separator `d` (and thousands `t`, if any) stated: the number in Rust's form.
fn stated(body: &str, d: char, t: Option<char>) -> Result<String, String> {
    let (int, frac) = match body.split_once(d) {
        Some((i, f)) => (i, Some(f)),
        None => (body, None),
    };
    let trailing_point = |f: &str| f.is_empty() && !int.is_empty();
    if let Some(f) = frac
        && !(trailing_point(f) || all_digits(f))
    {
        return Err(if f.contains(d) {
            format!("has more than one decimal separator '{d}'")
        } else {
            "is not a number".to_string()
        });
    }
    let int_digits = match t {
        Some(t) if int.contains(t) => {
            let groups: Vec<&str> = int.split(t).collect();
            if !grouped(&groups) {
                return Err(format!(
                    "does not group thousands by '{}' in threes",
                    t.escape_default()
                ));
            }
            groups.concat()
        }
        _ => {
            let fraction_only = int.is_empty() && frac.is_some_and(|f| !f.is_empty());
            if !(fraction_only || all_digits(int)) {
                let other = if d == '.' { ',' } else { '.' };
                return Err(if int.contains(other) {
                    format!("has '{other}', which the mapping does not allow in a number")
                } else if body.contains(d) && d == '.' && body.contains(['e', 'E']) {
                    "is in scientific notation, which a stated format does not read".into()
                } else {
                    "is not a number".into()
                });
            }
            int.to_string()
        }
    };
    let int_digits = if int_digits.is_empty() {
        "0".to_string()
    } else {
        int_digits
    };
    Ok(match frac {
        Some(f) if !f.is_empty() => format!("{int_digits}.{f}"),
        _ => int_digits,
    })
}

enum Unstated {
    Ambiguous,
    Invalid,
}

/// Without a stated format: only forms that leave no choice.
fn unstated(body: &str) -> Result<String, Unstated> {
    // Spaces and apostrophes only ever group thousands.
    let body: String = if body.contains([' ', '\'', '\u{a0}', '\u{202f}']) {
        let (int, rest) = match body.find(['.', ',']) {
            Some(i) => body.split_at(i),
            None => (body, ""),
        };
        let groups: Vec<&str> = int.split([' ', '\'', '\u{a0}', '\u{202f}']).collect();
        if !grouped(&groups) {
            return Err(Unstated::Invalid);
        }
        // The rest may only hold a decimal separator: grouping is by spaces here.
        if rest.matches(['.', ',']).count() > 1 {
            return Err(Unstated::Invalid);
        }
        let rest = rest.replacen(',', ".", 1);
        if rest.len() > 1 && !all_digits(&rest[1..]) {
            return Err(Unstated::Invalid);
        }
        return Ok(format!("{}{rest}", groups.concat()));
    } else {
        body.to_string()
    };
    let dots = body.matches('.').count();
    let commas = body.matches(',').count();
    match (dots, commas) {
        (0, 0) => {
            // Digits, or scientific notation such as 1e3.
            if all_digits(&body)
                || (body
                    .bytes()
                    .all(|b| b.is_ascii_digit() || b"eE+-".contains(&b))
                    && body.as_bytes()[0].is_ascii_digit())
            {
                Ok(body)
            } else {
                Err(Unstated::Invalid)
            }
        }
        (1, 0) | (0, 1) => {
            let sep = if dots == 1 { '.' } else { ',' };
            let (int, frac) = body.split_once(sep).ok_or(Unstated::Invalid)?;
            let exp_ok = sep == '.' && frac.contains(['e', 'E']) && body.parse::<f64>().is_ok();
            if exp_ok {
                return Ok(body);
            }
            if !(int.is_empty() || all_digits(int)) || !all_digits(frac) {
                return Err(Unstated::Invalid);
            }
            // Three digits after one separator, and a first group that could lead a grouped
            // number (1 to 3 digits, not a lone 0 or a leading 0): either reading is possible.
            if frac.len() == 3 && (1..=3).contains(&int.len()) && !int.starts_with('0') {
                return Err(Unstated::Ambiguous);
            }
            Ok(format!("{}.{frac}", if int.is_empty() { "0" } else { int }))
        }
        (_, 0) | (0, _) => {
            // One separator, repeated: it groups thousands.
            let sep = if dots > 0 { '.' } else { ',' };
            let groups: Vec<&str> = body.split(sep).collect();
            if grouped(&groups) {
                Ok(groups.concat())
            } else {
                Err(Unstated::Invalid)
            }
        }
        _ => {
            // Both: the last one is the decimal separator, and appears once.
            let last_dot = body.rfind('.').unwrap_or(0);
            let last_comma = body.rfind(',').unwrap_or(0);
            let (decimal, thousands, count) = if last_dot > last_comma {
                ('.', ',', dots)
            } else {
                (',', '.', commas)
            };
            if count != 1 {
                return Err(Unstated::Invalid);
            }
            let (int, frac) = body.split_once(decimal).ok_or(Unstated::Invalid)?;
            let groups: Vec<&str> = int.split(thousands).collect();
            if !grouped(&groups) || !all_digits(frac) {
                return Err(Unstated::Invalid);
            }
            Ok(format!("{}.{frac}", groups.concat()))
        }
    }
}

/// Formats a parsed number the way Rust (and the score parsers) read it back exactly.
pub fn canonical_number(x: f64) -> String {
    format!("{x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auto(v: &str) -> Result<f64, FieldError> {
        parse_number("x", v, &NumberFormat::default())
    }

    fn with(v: &str, d: Option<char>, t: Option<char>) -> Result<f64, FieldError> {
        parse_number(
            "x",
            v,
            &NumberFormat {
                decimal: d,
                thousands: t,
            },
        )
    }

    #[test]
    fn unambiguous_forms_read_without_a_stated_format() {
        for (v, want) in [
            ("12", 12.0),
            ("-3", -3.0),
            ("+4.5", 4.5),
            ("7,5", 7.5),
            ("1234.5", 1234.5),
            ("1234,567", 1234.567),
            ("0.125", 0.125),
            ("0,125", 0.125),
            (".5", 0.5),
            ("1.234,56", 1234.56),
            ("1,234.56", 1234.56),
            ("1.234.567", 1_234_567.0),
            ("1,234,567", 1_234_567.0),
            ("1.234.567,8", 1_234_567.8),
            ("1 234,56", 1234.56),
            ("1'234.56", 1234.56),
            ("12 345", 12345.0),
            ("1e3", 1000.0),
            ("2.5e-1", 0.25),
            ("1.25", 1.25),
            ("1.2345", 1.2345),
        ] {
            assert_eq!(auto(v).unwrap_or_else(|e| panic!("{v}: {e}")), want, "{v}");
        }
    }

    #[test]
    fn ambiguous_forms_are_rejected_with_the_mapping_keys() {
        for v in ["1.234", "1,234", "12.500", "999,999", "-1.000"] {
            let e = auto(v).expect_err(v);
            assert!(e.reason.contains("ambiguous"), "{v}: {e}");
            let hint = e.hint.unwrap_or_default();
            assert!(
                hint.contains("decimal = ") && hint.contains("thousands = "),
                "{hint}"
            );
        }
    }

    #[test]
    fn invalid_forms_are_not_numbers() {
        for v in [
            "",
            "-",
            "abc",
            "1.2.3,4,5",
            "1,23,456",
            "12.34.5",
            "1..2",
            "1,2,3.4.5",
            "NaN",
            "inf",
            "1.234,5,6",
            "12 34",
            "0x10",
        ] {
            assert!(auto(v).is_err(), "{v} should not read");
        }
    }

    #[test]
    fn a_stated_format_reads_by_its_rule_only() {
        let eu = |v| with(v, Some(','), Some('.'));
        assert_eq!(eu("1.234,56").unwrap(), 1234.56);
        assert_eq!(eu("1.234").unwrap(), 1234.0);
        assert_eq!(eu("1234,5").unwrap(), 1234.5);
        assert_eq!(eu("7,5").unwrap(), 7.5);
        assert_eq!(eu("-0,5").unwrap(), -0.5);
        assert!(eu("1,234.56").is_err());
        assert!(eu("12.34").is_err(), "grouping by threes only");
        let us = |v| with(v, Some('.'), Some(','));
        assert_eq!(us("1,234.56").unwrap(), 1234.56);
        assert_eq!(us("1.234").unwrap(), 1.234);
        assert!(us("1.234,5").is_err());
        // Only a thousands separator stated: the decimal one is the other.
        assert_eq!(with("1.234,5", None, Some('.')).unwrap(), 1234.5);
        assert_eq!(with("1 234,5", Some(','), Some(' ')).unwrap(), 1234.5);
        // A decimal comma with no grouping: a dot is refused, not read as grouping.
        let e = with("1.234", Some(','), None).unwrap_err();
        assert!(e.reason.contains("'.'"), "{e}");
        assert!(e.hint.unwrap().contains("decimal = \",\""));
    }

    #[test]
    fn stated_formats_are_checked() {
        assert!(
            NumberFormat {
                decimal: Some(';'),
                thousands: None
            }
            .check()
            .is_err()
        );
        assert!(
            NumberFormat {
                decimal: Some(','),
                thousands: Some(',')
            }
            .check()
            .is_err()
        );
        assert!(
            NumberFormat {
                decimal: Some(','),
                thousands: Some('.')
            }
            .check()
            .is_ok()
        );
    }

    proptest::proptest! {
        /// Any number written in either European or US convention reads back as itself under
        /// its stated format; without one it reads the same or is rejected, never misread.
        #[test]
        fn written_numbers_read_back(int in 0u64..10_000_000_000, frac in 0u32..100, eu in proptest::prelude::any::<bool>()) {
            let (d, t) = if eu { (',', '.') } else { ('.', ',') };
            let digits = int.to_string();
            let mut grouped = String::new();
            for (i, c) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i) % 3 == 0 {
                    grouped.push(t);
                }
                grouped.push(c);
            }
            let written = format!("{grouped}{d}{frac:02}");
            let want = format!("{int}.{frac:02}").parse::<f64>().unwrap();
            let fmt = NumberFormat { decimal: Some(d), thousands: Some(t) };
            proptest::prop_assert_eq!(parse_number("x", &written, &fmt).unwrap(), want);
            if let Ok(x) = parse_number("x", &written, &NumberFormat::default()) {
                proptest::prop_assert_eq!(x, want);
            }
            // The integer alone, grouped: without a format, read right or refused.
            if let Ok(x) = parse_number("x", &grouped, &NumberFormat::default()) {
                proptest::prop_assert_eq!(x, int as f64);
            }
        }

        #[test]
        fn never_panics(s in "\\PC{0,24}") {
            let _ = parse_number("x", &s, &NumberFormat::default());
            let _ = parse_number("x", &s, &NumberFormat { decimal: Some(','), thousands: Some('.') });
        }
    }
}
