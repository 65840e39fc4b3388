//! Points in time. Stored as whole seconds since the Unix epoch, UTC.
//!
//! Parsing accepts ISO 8601 / RFC 3339 (the fast path, what every export should use) and the
//! common forms analysts meet in spreadsheets. A day/month order that cannot be told from the
//! value itself (03/04/2024) is rejected with a hint unless the mapping names the order.

use std::fmt;

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime};
use serde::{Deserialize, Serialize};

use crate::FieldError;

/// How to read dates whose form leaves a choice.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DateOptions {
    /// Day/month order for numeric dates such as 03/04/2024.
    pub order: Option<DateOrder>,
    /// A strftime format tried before anything else (e.g. "%d-%m-%Y %H.%M").
    pub format: Option<String>,
    /// Offset, in minutes east of UTC, for times written without one. Default 0 (UTC).
    pub utc_offset_minutes: i32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DateOrder {
    /// Day, month, year (most of the world).
    Dmy,
    /// Month, day, year (United States).
    Mdy,
}

/// A point in time, UTC, to the second.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

const HINT: &str =
    "write ISO 8601, e.g. 2024-03-05 or 2024-03-05T14:30:00Z, or set date_format in the mapping";

impl Timestamp {
    pub const fn from_unix(secs: i64) -> Timestamp {
        Timestamp(secs)
    }

    pub const fn unix(self) -> i64 {
        self.0
    }

    /// Midnight UTC of a calendar date.
    pub fn from_ymd(year: i32, month: u32, day: u32) -> Option<Timestamp> {
        civil_to_days(year, month, day).map(|d| Timestamp(d * 86_400))
    }

    pub fn parse(field: &str, value: &str, opts: &DateOptions) -> Result<Timestamp, FieldError> {
        let v = value.trim();
        if v.is_empty() {
            return Err(FieldError::new(field, value, "is empty").with_hint(HINT));
        }
        let offset = i64::from(opts.utc_offset_minutes) * 60;
        if let Some(fmt) = &opts.format {
            if let Ok(dt) = NaiveDateTime::parse_from_str(v, fmt) {
                return Ok(Timestamp(dt.and_utc().timestamp() - offset));
            }
            if let Ok(d) = NaiveDate::parse_from_str(v, fmt) {
                return Ok(Timestamp(
                    d.and_time(NaiveTime::MIN).and_utc().timestamp() - offset,
                ));
            }
            if let Ok(dt) = DateTime::parse_from_str(v, fmt) {
                return Ok(Timestamp(dt.timestamp()));
            }
            return Err(FieldError::new(
                field,
                value,
                format!("does not match date_format '{fmt}'"),
            ));
        }
        if let Some(ts) = parse_iso(v, offset) {
            return ts.map_err(|reason| FieldError::new(field, value, reason).with_hint(HINT));
        }
        if let Some(ts) = parse_numeric_dmy(field, value, v, opts, offset)? {
            return Ok(ts);
        }
        if let Ok(dt) = DateTime::parse_from_rfc2822(v) {
            return Ok(Timestamp(dt.timestamp()));
        }
        for fmt in NAMED_MONTH_DATETIMES {
            if let Ok(dt) = NaiveDateTime::parse_from_str(v, fmt) {
                return Ok(Timestamp(dt.and_utc().timestamp() - offset));
            }
        }
        for fmt in NAMED_MONTH_DATES {
            if let Ok(d) = NaiveDate::parse_from_str(v, fmt) {
                return Ok(Timestamp(
                    d.and_time(NaiveTime::MIN).and_utc().timestamp() - offset,
                ));
            }
        }
        Err(
            FieldError::new(field, value, "is not a date or time Hearken understands")
                .with_hint(HINT),
        )
    }

    /// RFC 3339 in UTC, e.g. `2024-03-05T14:30:00Z`.
    pub fn to_rfc3339(self) -> String {
        match DateTime::from_timestamp(self.0, 0) {
            Some(dt) => dt.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            None => format!("@{}", self.0),
        }
    }

    /// The calendar date, `YYYY-MM-DD`.
    pub fn date_string(self) -> String {
        match DateTime::from_timestamp(self.0, 0) {
            Some(dt) => dt.format("%Y-%m-%d").to_string(),
            None => format!("@{}", self.0),
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

const NAMED_MONTH_DATETIMES: &[&str] = &[
    "%d %b %Y %H:%M:%S",
    "%d %b %Y %H:%M",
    "%d-%b-%Y %H:%M:%S",
    "%b %d, %Y %H:%M:%S",
    "%b %d %Y %H:%M:%S",
    "%B %d, %Y %H:%M:%S",
    "%d %B %Y %H:%M:%S",
    "%d %B %Y %H:%M",
];

const NAMED_MONTH_DATES: &[&str] = &[
    "%d %b %Y",
    "%d-%b-%Y",
    "%d %B %Y",
    "%b %d, %Y",
    "%b %d %Y",
    "%B %d, %Y",
    "%B %d %Y",
    "%a, %d %b %Y",
];

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm), or None for
/// an impossible date such as February 30.
fn civil_to_days(year: i32, month: u32, day: u32) -> Option<i64> {
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    let y = i64::from(year) - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0')))
}

/// ISO 8601 / RFC 3339: `YYYY-MM-DD`, optionally `[T ]HH:MM[:SS[.frac]]` and `Z`, `±HH`,
/// `±HHMM` or `±HH:MM`. Also `YYYY/MM/DD`. Returns None when the value is not of this shape at all,
/// Some(Err) when it is but names an impossible date or time.
fn parse_iso(v: &str, default_offset: i64) -> Option<Result<Timestamp, String>> {
    let b = v.as_bytes();
    if b.len() < 10 || !(b[4] == b'-' || b[4] == b'/') || b[7] != b[4] {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[5..7])?;
    let day = digits(&b[8..10])?;
    // year has four digits, so it fits in i32.
    let Some(days) = civil_to_days(year as i32, month, day) else {
        return Some(Err(format!(
            "is not a calendar date (month {month}, day {day})"
        )));
    };
    let mut secs = days * 86_400;
    let rest = &b[10..];
    if rest.is_empty() {
        return Some(Ok(Timestamp(secs - default_offset)));
    }
    if !(rest[0] == b'T' || rest[0] == b't' || rest[0] == b' ') || rest.len() < 6 || rest[3] != b':'
    {
        return None;
    }
    let hour = digits(&rest[1..3])?;
    let minute = digits(&rest[4..6])?;
    let mut i = 6;
    let mut second = 0;
    if rest.len() >= 9 && rest[6] == b':' {
        second = digits(&rest[7..9])?;
        i = 9;
        if i < rest.len() && (rest[i] == b'.' || rest[i] == b',') {
            i += 1;
            let start = i;
            while i < rest.len() && rest[i].is_ascii_digit() {
                i += 1;
            }
            if i == start {
                return None;
            }
        }
    }
    if hour > 23 || minute > 59 || second > 60 {
        return Some(Err(format!(
            "is not a time of day ({hour:02}:{minute:02}:{second:02})"
        )));
    }
    // A leap second is folded into the next minute's first second.
    secs += i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second.min(59));
    let zone = &rest[i..];
    let zone = zone.strip_prefix(b" ").unwrap_or(zone);
    let offset = match zone {
        [] => default_offset,
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), tail @ ..] => {
            let (h, m) = match tail {
                [h1, h2] => (digits(&[*h1, *h2])?, 0),
                [h1, h2, m1, m2] => (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?),
                [h1, h2, b':', m1, m2] => (digits(&[*h1, *h2])?, digits(&[*m1, *m2])?),
                _ => return None,
            };
            if h > 23 || m > 59 {
                return Some(Err("has an impossible UTC offset".to_string()));
            }
            let o = i64::from(h) * 3600 + i64::from(m) * 60;
            if *sign == b'-' { -o } else { o }
        }
        _ => return None,
    };
    Some(Ok(Timestamp(secs - offset)))
}

/// `DD/MM/YYYY`, `MM/DD/YYYY`, `DD.MM.YYYY`, `DD-MM-YYYY`, each optionally followed by
/// ` HH:MM[:SS]`.
fn parse_numeric_dmy(
    field: &str,
    raw: &str,
    v: &str,
    opts: &DateOptions,
    offset: i64,
) -> Result<Option<Timestamp>, FieldError> {
    let (date, time) = match v.split_once([' ', 'T']) {
        Some((d, t)) => (d, Some(t.trim())),
        None => (v, None),
    };
    let sep = match date.chars().find(|c| matches!(c, '/' | '.' | '-')) {
        Some(c) => c,
        None => return Ok(None),
    };
    let parts: Vec<&str> = date.split(sep).collect();
    let [a, b, y] = parts.as_slice() else {
        return Ok(None);
    };
    let (Some(a), Some(b), Some(y)) = (
        digits(a.as_bytes()),
        digits(b.as_bytes()),
        digits(y.as_bytes()),
    ) else {
        return Ok(None);
    };
    if !(1..=2).contains(&parts[0].len())
        || !(1..=2).contains(&parts[1].len())
        || parts[2].len() != 4
    {
        if parts[2].len() == 2 {
            return Err(FieldError::new(field, raw, "has a two-digit year").with_hint(HINT));
        }
        return Ok(None);
    }
    let order = match (opts.order, sep) {
        (Some(o), _) => o,
        // Dotted dates are a day-first convention everywhere they are used.
        (None, '.') => DateOrder::Dmy,
        (None, _) if a > 12 && b <= 12 => DateOrder::Dmy,
        (None, _) if b > 12 && a <= 12 => DateOrder::Mdy,
        (None, _) if a == b => DateOrder::Dmy,
        (None, _) => {
            return Err(FieldError::new(field, raw, "is ambiguous: day/month order cannot be told").with_hint(
                "set date_order = \"dmy\" or \"mdy\" in the mapping, or write ISO 8601 (2024-03-05)",
            ));
        }
    };
    let (day, month) = match order {
        DateOrder::Dmy => (a, b),
        DateOrder::Mdy => (b, a),
    };
    // y has four digits, so it fits in i32.
    let Some(days) = civil_to_days(y as i32, month, day) else {
        return Err(FieldError::new(
            field,
            raw,
            format!("is not a calendar date (day {day}, month {month})"),
        ));
    };
    let mut secs = days * 86_400;
    if let Some(t) = time.filter(|t| !t.is_empty()) {
        let Ok(t) = NaiveTime::parse_from_str(t, "%H:%M:%S")
            .or_else(|_| NaiveTime::parse_from_str(t, "%H:%M"))
        else {
            return Err(
                FieldError::new(field, raw, "has a time part Hearken cannot read").with_hint(HINT),
            );
        };
        secs += i64::from(chrono::Timelike::num_seconds_from_midnight(&t));
    }
    Ok(Some(Timestamp(secs - offset)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(v: &str) -> Result<Timestamp, FieldError> {
        Timestamp::parse("at", v, &DateOptions::default())
    }

    #[test]
    fn iso_forms() {
        let base = Timestamp::from_ymd(2024, 3, 5).unwrap();
        assert_eq!(base.unix(), 1_709_596_800);
        assert_eq!(ts("2024-03-05").unwrap(), base);
        assert_eq!(ts("2024/03/05").unwrap(), base);
        assert_eq!(
            ts("2024-03-05T14:30:00Z").unwrap().unix(),
            base.unix() + 52_200
        );
        assert_eq!(ts("2024-03-05 14:30").unwrap().unix(), base.unix() + 52_200);
        assert_eq!(
            ts("2024-03-05T14:30:00.123+01:00").unwrap().unix(),
            base.unix() + 48_600
        );
        assert_eq!(
            ts("2024-03-05T14:30:00-0500").unwrap().unix(),
            base.unix() + 70_200
        );
        assert_eq!(
            ts("2024-03-05T14:30:00+02").unwrap().unix(),
            base.unix() + 45_000
        );
        assert!(ts("2024-02-30").unwrap_err().reason.contains("calendar"));
        assert!(ts("2024-03-05T25:00:00Z").is_err());
        assert_eq!(
            ts("2024-02-29").unwrap(),
            Timestamp::from_ymd(2024, 2, 29).unwrap()
        );
        assert!(ts("2023-02-29").is_err());
        assert_eq!(ts("1969-12-31T23:59:59Z").unwrap().unix(), -1);
    }

    #[test]
    fn common_forms_and_ambiguity() {
        let d = Timestamp::from_ymd(2024, 3, 25).unwrap();
        assert_eq!(ts("25/03/2024").unwrap(), d);
        assert_eq!(ts("03/25/2024").unwrap(), d);
        assert_eq!(ts("25.03.2024").unwrap(), d);
        assert_eq!(ts("25 Mar 2024").unwrap(), d);
        assert_eq!(ts("Mar 25, 2024").unwrap(), d);
        assert_eq!(ts("25-Mar-2024").unwrap(), d);
        assert_eq!(ts("Mon, 25 Mar 2024 00:00:00 +0000").unwrap(), d);
        let e = ts("03/04/2024").unwrap_err();
        assert!(e.reason.contains("ambiguous"), "{e}");
        assert!(e.hint.unwrap().contains("date_order"));
        let dmy = DateOptions {
            order: Some(DateOrder::Dmy),
            ..DateOptions::default()
        };
        assert_eq!(
            Timestamp::parse("at", "03/04/2024", &dmy).unwrap(),
            Timestamp::from_ymd(2024, 4, 3).unwrap()
        );
        assert!(ts("03/04/24").unwrap_err().reason.contains("two-digit"));
        assert!(ts("yesterday").is_err());
        assert!(ts("").is_err());
    }

    #[test]
    fn offsets_and_formats() {
        let o = DateOptions {
            utc_offset_minutes: 60,
            ..DateOptions::default()
        };
        assert_eq!(
            Timestamp::parse("at", "2024-03-05 01:00", &o).unwrap(),
            Timestamp::from_ymd(2024, 3, 5).unwrap()
        );
        let f = DateOptions {
            format: Some("%d-%m-%Y %H.%M".into()),
            ..DateOptions::default()
        };
        assert_eq!(
            Timestamp::parse("at", "05-03-2024 00.00", &f).unwrap(),
            Timestamp::from_ymd(2024, 3, 5).unwrap()
        );
        assert!(Timestamp::parse("at", "2024-03-05", &f).is_err());
        assert_eq!(
            Timestamp::from_unix(1_709_596_800).to_rfc3339(),
            "2024-03-05T00:00:00Z"
        );
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = ts(&s);
        }

        #[test]
        fn rfc3339_round_trips(secs in -2_000_000_000i64..4_000_000_000i64) {
            let t = Timestamp::from_unix(secs);
            proptest::prop_assert_eq!(ts(&t.to_rfc3339()).unwrap(), t);
        }
    }
}
