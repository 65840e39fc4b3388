//! Event times to the millisecond.
//!
//! hearken-model's [`Timestamp::parse`] reads every accepted form to the second; event logs (XES
//! in particular) carry milliseconds, and events of a case a few hundred milliseconds apart must
//! keep their order, so the fraction of an ISO time is added back here.

use hearken_model::{DateOptions, FieldError, Timestamp};

/// Milliseconds since the Unix epoch (UTC) of a time value in any form Hearken accepts.
pub fn parse_time_ms(field: &str, value: &str, opts: &DateOptions) -> Result<i64, FieldError> {
    let secs = Timestamp::parse(field, value, opts)?.unix();
    Ok(secs
        .saturating_mul(1000)
        .saturating_add(iso_millis(value.trim(), opts)))
}

/// The milliseconds of `YYYY-MM-DD[T ]HH:MM:SS.fff…` (truncated, as the seconds are); 0 for
/// any other form. A custom date format is read by chrono to the second only.
fn iso_millis(v: &str, opts: &DateOptions) -> i64 {
    if opts.format.is_some() {
        return 0;
    }
    let b = v.as_bytes();
    if b.len() < 21 || !matches!(b[10], b'T' | b't' | b' ') || !matches!(b[19], b'.' | b',') {
        return 0;
    }
    let mut ms = 0i64;
    let mut digits = 0;
    for &c in &b[20..] {
        if !c.is_ascii_digit() {
            break;
        }
        if digits < 3 {
            ms = ms * 10 + i64::from(c - b'0');
        }
        digits += 1;
    }
    for _ in digits..3 {
        ms *= 10;
    }
    ms
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: &str) -> i64 {
        parse_time_ms("t", v, &DateOptions::default()).unwrap()
    }

    #[test]
    fn keeps_milliseconds_and_offsets() {
        let base = ms("2011-10-11T13:45:40+02:00");
        assert_eq!(base % 1000, 0);
        assert_eq!(ms("2011-10-11T13:45:40.276+02:00"), base + 276);
        assert_eq!(ms("2011-10-11 13:45:40.276000+02:00"), base + 276);
        assert_eq!(ms("2011-10-11T13:45:40.2+02:00"), base + 200);
        assert_eq!(ms("2011-10-11T11:45:40.999999Z"), base + 999);
        assert_eq!(ms("1969-12-31T23:59:59.500Z"), -500);
        assert_eq!(ms("25/03/2024"), ms("2024-03-25"));
        assert!(parse_time_ms("t", "", &DateOptions::default()).is_err());
        assert!(parse_time_ms("t", "soon", &DateOptions::default()).is_err());
    }
}
