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

/// The common XES form `YYYY-MM-DDTHH:MM:SS[.fff…](Z|±HH:MM)`, read straight from the bytes
/// (most of an XES event's parsing time was its timestamp). `None` for any other form, a
/// leap second or a custom date format: [`parse_time_ms`] decides those. Agrees with it on
/// every value it reads (a property test checks).
pub fn fast_time_ms(b: &[u8], opts: &DateOptions) -> Option<i64> {
    if opts.format.is_some() || b.len() < 20 {
        return None;
    }
    let d = |i: usize| -> Option<i64> {
        let (x, y) = (b[i].wrapping_sub(b'0'), b[i + 1].wrapping_sub(b'0'));
        (x < 10 && y < 10).then_some(i64::from(x) * 10 + i64::from(y))
    };
    if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let year = d(0)? * 100 + d(2)?;
    let (month, day) = (d(5)?, d(8)?);
    let (hour, minute, second) = (d(11)?, d(14)?, d(17)?);
    // Year 0 is left to the full parser, which refuses years outside 1..=9999 with a reason.
    if year == 0 || !(1..=12).contains(&month) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = match month {
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => 31,
    };
    if day == 0 || day > month_days {
        return None;
    }
    let mut i = 19;
    let mut ms = 0;
    if b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 3 {
                ms = ms * 10 + i64::from(b[i] - b'0');
            }
            i += 1;
        }
        match i - start {
            0 => return None,
            1 => ms *= 100,
            2 => ms *= 10,
            _ => {}
        }
    }
    let offset = match &b[i..] {
        [b'Z'] => 0,
        [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
            let (h, m) = (d(i + 1)?, d(i + 4)?);
            if h > 23 || m > 59 {
                return None;
            }
            let o = h * 3600 + m * 60;
            if *sign == b'-' { -o } else { o }
        }
        _ => return None,
    };
    // Days from the civil date (Howard Hinnant's algorithm), as hearken-model does.
    let y = year - i64::from(month <= 2);
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + day - 1;
    let days = era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468;
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset;
    Some(secs * 1000 + ms)
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
        assert_eq!(
            fast_time_ms(b"2011-10-11T13:45:40.276+02:00", &DateOptions::default()),
            Some(base + 276)
        );
        // The fast path leaves year 0 to the parser, which refuses it like any date outside
        // the years 1 to 9999.
        assert_eq!(
            fast_time_ms(b"0000-01-01T00:00:00Z", &DateOptions::default()),
            None
        );
        assert!(parse_time_ms("t", "0000-01-01T00:00:00Z", &DateOptions::default()).is_err());
    }

    proptest::proptest! {
        /// The fast path reads exactly what the general parser reads, or leaves it to it.
        #[test]
        fn fast_path_agrees_with_the_parser(
            y in 0u32..10_000, mo in 0u32..14, d in 0u32..33, h in 0u32..25, mi in 0u32..61,
            s in 0u32..61, frac in proptest::option::of("[0-9]{0,7}"),
            zone in proptest::sample::select(vec!["Z", "+02:00", "-11:30", "+23:59", "+24:00", "z", "", " Z", "+0200"]),
        ) {
            let frac = frac.map(|f| format!(".{f}")).unwrap_or_default();
            let v = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}{frac}{zone}");
            let opts = DateOptions::default();
            if let Some(fast) = fast_time_ms(v.as_bytes(), &opts) {
                proptest::prop_assert_eq!(Ok(fast), parse_time_ms("t", &v, &opts).map_err(|e| e.to_string()), "{}", v);
            }
        }
    }
}
