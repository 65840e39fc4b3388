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
    /// The time zone (IANA name) of times written without an offset, daylight saving time
    /// included; when set, `utc_offset_minutes` is not used.
    #[serde(default)]
    pub time_zone: Option<chrono_tz::Tz>,
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

/// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z: the instants [`Timestamp::parse`] accepts.
const MIN_SECS: i64 = -62_135_596_800;
const MAX_SECS: i64 = 253_402_300_799;

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

    /// Reads a date or time as the options say. Whatever the form, the result is within the
    /// years 1 to 9999 (UTC), the range RFC 3339 can write and Hearken reads back: a signed or
    /// five-digit year is refused, never stored.
    pub fn parse(field: &str, value: &str, opts: &DateOptions) -> Result<Timestamp, FieldError> {
        let ts = Timestamp::parse_any(field, value, opts)?;
        if (MIN_SECS..=MAX_SECS).contains(&ts.0) {
            return Ok(ts);
        }
        let year = DateTime::from_timestamp(ts.0, 0).map_or_else(
            || {
                if ts.0 < 0 {
                    "before year -262143".to_string()
                } else {
                    "after year 262142".to_string()
                }
            },
            |d| format!("year {}", chrono::Datelike::year(&d)),
        );
        Err(FieldError::new(
            field,
            value,
            format!("is outside the years 1 to 9999 (it reads as {year} UTC)"),
        )
        .with_hint(
            "check the year: a date needs a year of four digits, without a sign; with date_format \"epoch\" or \"%s\", check the column holds seconds",
        ))
    }

    fn parse_any(field: &str, value: &str, opts: &DateOptions) -> Result<Timestamp, FieldError> {
        let v = value.trim();
        if v.is_empty() {
            return Err(FieldError::new(field, value, "is empty").with_hint(HINT));
        }
        // A time written without an offset is a wall-clock time where it was written.
        let local = |naive_secs: i64| -> Result<Timestamp, FieldError> {
            opts.to_utc(naive_secs)
                .map(Timestamp)
                .map_err(|(reason, hint)| FieldError::new(field, value, reason).with_hint(hint))
        };
        if let Some(fmt) = &opts.format {
            if let Some(unit) = Epoch::named(fmt) {
                return unit
                    .parse(v)
                    .ok_or_else(|| FieldError::new(field, value, unit.expected()));
            }
            // A format with an offset (%z) gives the instant itself.
            if let Ok(dt) = DateTime::parse_from_str(v, fmt) {
                return Ok(Timestamp(dt.timestamp()));
            }
            if let Ok(dt) = NaiveDateTime::parse_from_str(v, fmt) {
                // %s counts seconds since the epoch: an instant, not a wall-clock time.
                if fmt.contains("%s") {
                    return Ok(Timestamp(dt.and_utc().timestamp()));
                }
                return local(dt.and_utc().timestamp());
            }
            if let Ok(d) = NaiveDate::parse_from_str(v, fmt) {
                return local(d.and_time(NaiveTime::MIN).and_utc().timestamp());
            }
            return Err(FieldError::new(
                field,
                value,
                format!("does not match date_format '{fmt}'"),
            ));
        }
        if let Some(ts) = parse_iso(v) {
            return match ts {
                Ok((secs, Some(offset))) => Ok(Timestamp(secs - offset)),
                Ok((secs, None)) => local(secs),
                Err(reason) => Err(FieldError::new(field, value, reason).with_hint(HINT)),
            };
        }
        if let Some(secs) = parse_numeric_dmy(field, value, v, opts)? {
            return local(secs);
        }
        if let Ok(dt) = DateTime::parse_from_rfc2822(v) {
            return Ok(Timestamp(dt.timestamp()));
        }
        for fmt in ZONED {
            if let Ok(dt) = DateTime::parse_from_str(v, fmt) {
                return Ok(Timestamp(dt.timestamp()));
            }
        }
        for fmt in NAMED_MONTH_DATETIMES {
            if let Ok(dt) = NaiveDateTime::parse_from_str(v, fmt) {
                return local(dt.and_utc().timestamp());
            }
        }
        for fmt in NAMED_MONTH_DATES {
            if let Ok(d) = NaiveDate::parse_from_str(v, fmt) {
                return local(d.and_time(NaiveTime::MIN).and_utc().timestamp());
            }
        }
        Err(
            FieldError::new(field, value, "is not a date or time Hearken understands")
                .with_hint(unreadable_hint(v)),
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

/// Date formats that carry their own UTC offset, such as Twitter's `Tue Oct 31 22:10:47 +0000 2017`.
const ZONED: &[&str] = &[
    "%a %b %d %H:%M:%S %z %Y",
    "%a %b %e %H:%M:%S %z %Y",
    "%a, %d %b %Y %H:%M:%S %z",
    "%d %b %Y %H:%M:%S %z",
    "%Y-%m-%d %H:%M:%S %z",
];

/// Numbers that count time from an epoch, read only when the mapping's `date_format` says so:
/// a bare number is never guessed to be a date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Epoch {
    /// Seconds since 1970-01-01 UTC.
    Seconds,
    /// Milliseconds since 1970-01-01 UTC.
    Millis,
    /// Excel's serial day number: days since 1899-12-30, the fraction the time of day.
    Excel,
}

/// The `date_format` names of the epoch forms.
pub const EPOCH_FORMATS: &[&str] = &["epoch", "epoch_ms", "excel"];

impl Epoch {
    fn named(format: &str) -> Option<Epoch> {
        match format.trim().to_ascii_lowercase().as_str() {
            "epoch" | "epoch_s" | "epoch_seconds" | "unix" => Some(Epoch::Seconds),
            "epoch_ms" | "epoch_millis" | "epoch_milliseconds" | "unix_ms" => Some(Epoch::Millis),
            "excel" | "excel_serial" => Some(Epoch::Excel),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Epoch::Seconds => "epoch",
            Epoch::Millis => "epoch_ms",
            Epoch::Excel => "excel",
        }
    }

    fn expected(self) -> String {
        let what = match self {
            Epoch::Seconds => "whole seconds since 1970-01-01",
            Epoch::Millis => "whole milliseconds since 1970-01-01",
            Epoch::Excel => "an Excel serial date (days since 1899-12-30)",
        };
        format!("is not {what} (date_format = \"{}\")", self.name())
    }

    /// Years 1900..=2200 only: a number far outside is a mis-mapped column, not a date.
    fn parse(self, v: &str) -> Option<Timestamp> {
        let secs = match self {
            Epoch::Seconds | Epoch::Millis => {
                let digits = v.strip_prefix('-').unwrap_or(v);
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                let n: i64 = v.parse().ok()?;
                if self == Epoch::Millis {
                    n.div_euclid(1000)
                } else {
                    n
                }
            }
            Epoch::Excel => {
                let x: f64 = v.parse().ok()?;
                if !x.is_finite() || x < 1.0 {
                    return None;
                }
                // Day 25569 is 1970-01-01; rounded to the second.
                ((x - 25_569.0) * 86_400.0).round() as i64
            }
        };
        (-2_208_988_800..=7_258_118_400)
            .contains(&secs)
            .then_some(Timestamp(secs))
    }
}

/// What to suggest for a value no rule reads: an epoch form when it looks like one.
fn unreadable_hint(v: &str) -> String {
    let digits = v.bytes().all(|b| b.is_ascii_digit());
    if digits && (9..=10).contains(&v.len()) {
        return "it looks like seconds since 1970: set date_format = \"epoch\" in the mapping"
            .into();
    }
    if digits && (12..=13).contains(&v.len()) {
        return "it looks like milliseconds since 1970: set date_format = \"epoch_ms\" in the mapping".into();
    }
    if v.parse::<f64>()
        .is_ok_and(|x| (20_000.0..80_000.0).contains(&x))
    {
        return "it looks like an Excel serial date: set date_format = \"excel\" in the mapping"
            .into();
    }
    if let Some(f) = suggest_date_format(&[v]) {
        return format!("set date_format = \"{f}\" in the mapping to read it");
    }
    HINT.into()
}

/// Formats tried when suggesting a `date_format` for values no built-in rule reads.
const SUGGESTIONS: &[&str] = &[
    "%d/%m/%y",
    "%m/%d/%y",
    "%d-%m-%y",
    "%d.%m.%y",
    "%y-%m-%d",
    "%d/%m/%y %H:%M",
    "%m/%d/%y %H:%M",
    "%m/%d/%y %I:%M %p",
    "%d.%m.%y %H:%M",
    "%Y%m%d",
    "%Y%m%d%H%M%S",
    "%Y%m%dT%H%M%S",
    "%Y.%m.%d",
    "%Y.%m.%d %H:%M:%S",
    "%d/%m/%Y %H.%M",
    "%d-%m-%Y %H.%M",
    "%d.%m.%Y %H.%M",
    "%d/%m/%Y %Hh%M",
    "%H:%M %d/%m/%Y",
    "%H:%M:%S %d/%m/%Y",
    "%d %B %Y %H:%M",
    "%A, %B %d, %Y",
    "%A %d %B %Y",
    "%a %b %d %H:%M:%S %Y",
    "%a %b %d %Y %H:%M:%S",
    "%b %d %Y %I:%M%p",
    "%d-%b-%y",
    "%d-%b-%y %H:%M",
    "%d-%b-%Y %I:%M %p",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d-%H.%M.%S",
    "%Y-%m-%d %H.%M.%S",
];

/// A `date_format` (or `date_order`) setting that reads every one of `samples`, for a column whose
/// dates all fail. None when nothing tried reads them all.
pub fn suggest_date_format(samples: &[&str]) -> Option<String> {
    let samples: Vec<&str> = samples
        .iter()
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .collect();
    if samples.is_empty() {
        return None;
    }
    for unit in [Epoch::Seconds, Epoch::Millis] {
        let plausible = |s: &&str| {
            let n = s.len();
            match unit {
                Epoch::Seconds => (9..=10).contains(&n),
                _ => (12..=13).contains(&n),
            }
        };
        if samples.iter().all(plausible) && samples.iter().all(|s| unit.parse(s).is_some()) {
            return Some(unit.name().to_string());
        }
    }
    if samples.iter().all(|s| {
        s.parse::<f64>()
            .is_ok_and(|x| (20_000.0..80_000.0).contains(&x))
    }) {
        return Some(Epoch::Excel.name().to_string());
    }
    for order in [DateOrder::Dmy, DateOrder::Mdy] {
        let opts = DateOptions {
            order: Some(order),
            ..DateOptions::default()
        };
        if samples
            .iter()
            .all(|s| matches!(parse_numeric_dmy("at", s, s, &opts), Ok(Some(_))))
        {
            let name = match order {
                DateOrder::Dmy => "dmy",
                DateOrder::Mdy => "mdy",
            };
            return Some(format!("date_order = \"{name}\" (day/month order)"));
        }
    }
    SUGGESTIONS
        .iter()
        .find(|fmt| {
            samples.iter().all(|s| {
                NaiveDateTime::parse_from_str(s, fmt).is_ok()
                    || NaiveDate::parse_from_str(s, fmt).is_ok()
            })
        })
        .map(|f| (*f).to_string())
}

/// Reads a time zone's IANA name (`America/Denver`, `Europe/Berlin`, `UTC`); the error says
/// what is expected.
pub fn parse_time_zone(name: &str) -> Result<chrono_tz::Tz, String> {
    name.trim().parse::<chrono_tz::Tz>().map_err(|_| {
        format!(
            "\"{name}\" is not a time zone of the IANA database: write its name as Region/City, e.g. \"Europe/Berlin\" or \"America/New_York\" (or \"UTC\"), or give utc_offset_minutes instead"
        )
    })
}

impl DateOptions {
    /// The UTC instant of a wall-clock time (seconds since the epoch as if it were UTC): the
    /// named zone's offset at that time, else the fixed offset. In a zone, a time the clocks
    /// skipped or passed twice is refused with a reason and hint, never guessed.
    fn to_utc(&self, naive_secs: i64) -> Result<i64, (String, String)> {
        let Some(tz) = self.time_zone else {
            return Ok(naive_secs - i64::from(self.utc_offset_minutes) * 60);
        };
        let Some(naive) = DateTime::from_timestamp(naive_secs, 0).map(|d| d.naive_utc()) else {
            return Err((
                "is outside the years 1 to 9999".to_string(),
                HINT.to_string(),
            ));
        };
        let hint = "write the time with its UTC offset (e.g. 2024-03-10T02:30:00-06:00) so it is unambiguous".to_string();
        match chrono::TimeZone::from_local_datetime(&tz, &naive) {
            chrono::LocalResult::Single(dt) => Ok(dt.timestamp()),
            chrono::LocalResult::Ambiguous(a, b) => Err((
                format!(
                    "happened twice in {tz} (the clocks went back: offsets {} and {})",
                    a.format("%:z"),
                    b.format("%:z")
                ),
                hint,
            )),
            chrono::LocalResult::None => Err((
                format!("does not exist in {tz}: the clocks went forward past it"),
                hint,
            )),
        }
    }

    /// Checks a mapping's `date_format`: an epoch name, or a strftime format chrono can use.
    pub fn check(&self) -> Result<(), String> {
        let Some(fmt) = &self.format else {
            return Ok(());
        };
        if Epoch::named(fmt).is_some() {
            return Ok(());
        }
        let bad = chrono::format::StrftimeItems::new(fmt)
            .any(|item| matches!(item, chrono::format::Item::Error));
        if bad || !fmt.contains('%') {
            return Err(format!(
                "date_format = \"{fmt}\" is not a strftime format (e.g. \"%d-%m-%Y %H:%M\") or one of {}",
                EPOCH_FORMATS.join(", ")
            ));
        }
        Ok(())
    }
}

const NAMED_MONTH_DATETIMES: &[&str] = &[
    "%d %b %Y %I:%M %p",
    "%b %d, %Y %I:%M %p",
    "%b %d, %Y %I:%M:%S %p",
    "%B %d, %Y %I:%M %p",
    "%b %d, %Y %H:%M",
    "%B %d, %Y %H:%M",
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

/// A run of at most nine ASCII digits as a number (nine digits always fit a `u32`); None for
/// anything else, so no part of a date can overflow.
fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0')))
}

/// ISO 8601 / RFC 3339: `YYYY-MM-DD`, optionally `[T ]HH:MM[:SS[.frac]]` and `Z`, `±HH`,
/// `±HHMM` or `±HH:MM`. Also `YYYY/MM/DD`. Returns the wall-clock seconds (as if UTC) and the
/// offset in seconds when the value gives one. None when the value is not of this shape at all,
/// Some(Err) when it is but names an impossible date or time.
fn parse_iso(v: &str) -> Option<Result<(i64, Option<i64>), String>> {
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
        return Some(Ok((secs, None)));
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
        [] => return Some(Ok((secs, None))),
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
    Some(Ok((secs, Some(offset))))
}

/// Times of day after a numeric date: 24-hour, or 12-hour with AM/PM as spreadsheets write them.
const TIMES_OF_DAY: &[&str] = &[
    "%H:%M:%S",
    "%H:%M",
    "%H:%M:%S%.f",
    "%I:%M %p",
    "%I:%M:%S %p",
    "%I:%M%p",
    "%I:%M:%S%p",
];

/// `DD/MM/YYYY`, `MM/DD/YYYY`, `DD.MM.YYYY`, `DD-MM-YYYY`, each optionally followed by
/// ` HH:MM[:SS]` or a 12-hour time (`10:10 PM`).
/// Returns the wall-clock seconds (as if UTC).
fn parse_numeric_dmy(
    field: &str,
    raw: &str,
    v: &str,
    opts: &DateOptions,
) -> Result<Option<i64>, FieldError> {
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
        let Some(t) = TIMES_OF_DAY
            .iter()
            .find_map(|f| NaiveTime::parse_from_str(t, f).ok())
        else {
            return Err(
                FieldError::new(field, raw, "has a time part Hearken cannot read").with_hint(HINT),
            );
        };
        secs += i64::from(chrono::Timelike::num_seconds_from_midnight(&t));
    }
    Ok(Some(secs))
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

    #[test]
    fn real_export_forms() {
        let t = Timestamp::from_ymd(2017, 10, 31).unwrap().unix() + 22 * 3600 + 10 * 60;
        // Twitter's API and the Kaggle "Customer Support on Twitter" export.
        assert_eq!(ts("Tue Oct 31 22:10:47 +0000 2017").unwrap().unix(), t + 47);
        assert_eq!(ts("Tue Oct 31 23:10:47 +0100 2017").unwrap().unix(), t + 47);
        assert_eq!(ts("2017-10-31 22:10:47").unwrap().unix(), t + 47);
        // Excel and US spreadsheets.
        assert_eq!(ts("10/31/2017 10:10 PM").unwrap().unix(), t);
        assert_eq!(ts("10/31/2017 10:10:47 PM").unwrap().unix(), t + 47);
        assert_eq!(ts("31/10/2017 22:10").unwrap().unix(), t);
        assert_eq!(ts("Oct 31, 2017 10:10 PM").unwrap().unix(), t);
        // 12 AM is midnight.
        assert_eq!(
            ts("10/31/2017 12:00 AM").unwrap(),
            Timestamp::from_ymd(2017, 10, 31).unwrap()
        );
    }

    #[test]
    fn epoch_forms_only_when_the_mapping_says_so() {
        let t = 1_509_487_847;
        let with = |f: &str| DateOptions {
            format: Some(f.into()),
            ..DateOptions::default()
        };
        assert_eq!(
            Timestamp::parse("at", "1509487847", &with("epoch"))
                .unwrap()
                .unix(),
            t
        );
        assert_eq!(
            Timestamp::parse("at", "1509487847123", &with("epoch_ms"))
                .unwrap()
                .unix(),
            t
        );
        // 2017-10-31 22:10:47 as Excel writes it.
        let excel = Timestamp::parse("at", "43039.92415509", &with("excel")).unwrap();
        assert_eq!(excel.unix(), t);
        assert!(Timestamp::parse("at", "2017-10-31", &with("epoch")).is_err());
        // Without the setting a bare number is not a date, and the hint names the setting.
        let e = ts("1509487847").unwrap_err();
        assert!(e.hint.unwrap().contains("date_format = \"epoch\""));
        let e = ts("1509487847123").unwrap_err();
        assert!(e.hint.unwrap().contains("\"epoch_ms\""));
        let e = ts("43039.92").unwrap_err();
        assert!(e.hint.unwrap().contains("\"excel\""));
    }

    #[test]
    fn suggestions_read_every_sample() {
        assert_eq!(
            suggest_date_format(&["31/10/17", "01/11/17"]).as_deref(),
            Some("%d/%m/%y")
        );
        assert_eq!(
            suggest_date_format(&["20171031", "20171101"]).as_deref(),
            Some("%Y%m%d")
        );
        assert_eq!(
            suggest_date_format(&["1509487847", "1509487848"]).as_deref(),
            Some("epoch")
        );
        assert!(
            suggest_date_format(&["03/04/2024", "05/06/2024"])
                .unwrap()
                .contains("date_order")
        );
        assert_eq!(suggest_date_format(&["soon", "later"]), None);
        for s in [
            "31/10/17",
            "20171031",
            "31.10.2017 22.10",
            "Tuesday, October 31, 2017",
        ] {
            let f = suggest_date_format(&[s]).unwrap_or_else(|| panic!("{s}"));
            let opts = DateOptions {
                format: Some(f.clone()),
                ..DateOptions::default()
            };
            assert!(Timestamp::parse("at", s, &opts).is_ok(), "{s} with {f}");
        }
    }

    #[test]
    fn date_formats_are_checked() {
        let with = |f: &str| DateOptions {
            format: Some(f.into()),
            ..DateOptions::default()
        };
        assert!(with("%d-%m-%Y").check().is_ok());
        assert!(with("epoch_ms").check().is_ok());
        assert!(with("dd-mm-yyyy").check().is_err());
        assert!(with("%Q").check().is_err());
    }

    /// Fuzz findings (docs/fuzzing.md): a signed or five-digit year, and a number read with
    /// `%s`, gave instants outside the years 1 to 9999, which print as RFC 3339 that does not
    /// read back.
    #[test]
    fn years_outside_1_to_9999_are_refused_with_a_reason() {
        let with = |order: Option<DateOrder>, format: Option<&str>| DateOptions {
            order,
            format: format.map(str::to_string),
            ..DateOptions::default()
        };
        for (value, opts) in [
            ("6 Mar -2", DateOptions::default()),
            ("06 Mar +18671", DateOptions::default()),
            ("Mar6-46020", DateOptions::default()),
            ("Mar 05,-06", with(Some(DateOrder::Mdy), None)),
            ("888888888888", with(None, Some("%s"))),
            ("0001-01-01T00:00:00+01:00", DateOptions::default()),
            ("9999-12-31T23:00:00-05:00", DateOptions::default()),
        ] {
            let e = Timestamp::parse("at", value, &opts)
                .expect_err(&format!("{value} must be refused"));
            assert!(
                e.reason.contains("outside the years 1 to 9999"),
                "{value}: {e}"
            );
            assert!(e.hint.is_some(), "{value}");
        }
        // The edges themselves are read, and print as RFC 3339 that reads back.
        for v in ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"] {
            let t = ts(v).unwrap();
            assert_eq!(t.to_rfc3339(), v);
        }
    }

    /// A named zone follows daylight saving time; a time the clocks skipped or passed twice is
    /// refused. Expected instants: America/Denver is UTC-7 in winter, UTC-6 from 2024-03-10
    /// 02:00 local to 2024-11-03 02:00 local.
    #[test]
    fn a_named_time_zone_follows_daylight_saving_time() {
        let denver = DateOptions {
            time_zone: Some(parse_time_zone("America/Denver").unwrap()),
            ..DateOptions::default()
        };
        let at = |v: &str| Timestamp::parse("at", v, &denver);
        let utc = |v: &str| ts(v).unwrap();
        assert_eq!(
            at("2024-03-09 12:00:00").unwrap(),
            utc("2024-03-09T19:00:00Z")
        );
        assert_eq!(
            at("2024-03-10 12:00:00").unwrap(),
            utc("2024-03-10T18:00:00Z")
        );
        assert_eq!(at("2024-03-31 23:41").unwrap(), utc("2024-04-01T05:41:00Z"));
        assert_eq!(at("03/31/2024 23:41").unwrap(), utc("2024-04-01T05:41:00Z"));
        assert_eq!(at("2024-03-05").unwrap(), utc("2024-03-05T07:00:00Z"));
        // A written offset wins over the zone.
        assert_eq!(
            at("2024-03-09T12:00:00Z").unwrap(),
            utc("2024-03-09T12:00:00Z")
        );
        let e = at("2024-03-10 02:30:00").unwrap_err();
        assert!(e.reason.contains("does not exist in America/Denver"), "{e}");
        let e = at("2024-11-03 01:30:00").unwrap_err();
        assert!(e.reason.contains("happened twice"), "{e}");
        assert!(e.hint.unwrap().contains("offset"));
        assert!(
            parse_time_zone("America/Denvr")
                .unwrap_err()
                .contains("IANA")
        );
        assert!(parse_time_zone("UTC").is_ok());
    }

    /// A `date_format` with an offset (%z) reads the instant; `%s` is seconds since the epoch,
    /// whatever `utc_offset_minutes` says.
    #[test]
    fn a_date_format_with_an_offset_or_epoch_seconds_is_an_instant() {
        let with = |f: &str, minutes: i32| DateOptions {
            format: Some(f.into()),
            utc_offset_minutes: minutes,
            ..DateOptions::default()
        };
        let t = Timestamp::parse(
            "at",
            "Tue Oct 31 23:10:47 +0100 2017",
            &with("%a %b %d %H:%M:%S %z %Y", 0),
        )
        .unwrap();
        assert_eq!(t, ts("2017-10-31T22:10:47Z").unwrap());
        let t = Timestamp::parse("at", "1509487847", &with("%s", 60)).unwrap();
        assert_eq!(t, ts("2017-10-31T22:10:47Z").unwrap());
        let t = Timestamp::parse("at", "31-10-2017 23:10", &with("%d-%m-%Y %H:%M", 60)).unwrap();
        assert_eq!(t, ts("2017-10-31T22:10:00Z").unwrap());
    }

    /// Fuzz finding: a long numeric part (`1-1-2024030514300000`) overflowed a `u32` in debug
    /// builds. It is now simply not a date.
    #[test]
    fn long_digit_runs_do_not_overflow() {
        for v in [
            "1-1-2024030514300000",
            "1--22222222222",
            "99999999999-01-01",
            "2024-01-01T99999999999:00",
            "4294967296/1/2024",
        ] {
            assert!(ts(v).is_err(), "{v}");
        }
        assert_eq!(digits(b"999999999"), Some(999_999_999));
        assert_eq!(digits(b"4294967295"), None);
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = ts(&s);
        }

        /// Whatever is accepted prints as RFC 3339 and reads back as the same instant (the
        /// fuzz target `dates`' property), for every kind of options.
        #[test]
        fn accepted_dates_read_back(s in "[0-9A-Za-z:+,./ -]{1,30}", sel in 0u8..=255) {
            const FORMATS: &[&str] = &["%d-%m-%Y %H:%M", "%a %b %d %H:%M:%S %z %Y", "%s", "%Y%m%d%H%M%S", "%e %B %Y"];
            let opts = DateOptions {
                order: match sel % 3 { 0 => None, 1 => Some(DateOrder::Dmy), _ => Some(DateOrder::Mdy) },
                format: (sel & 0x08 != 0).then(|| FORMATS[usize::from(sel >> 4) % FORMATS.len()].to_string()),
                utc_offset_minutes: [0, 60, -420, 840][usize::from((sel >> 2) & 3)],
                time_zone: (sel % 7 == 0).then_some(chrono_tz::America::Denver),
            };
            if let Ok(t) = Timestamp::parse("at", &s, &opts) {
                proptest::prop_assert_eq!(ts(&t.to_rfc3339()).unwrap(), t);
            }
        }

        #[test]
        fn rfc3339_round_trips(secs in -2_000_000_000i64..4_000_000_000i64) {
            let t = Timestamp::from_unix(secs);
            proptest::prop_assert_eq!(ts(&t.to_rfc3339()).unwrap(), t);
        }
    }
}
