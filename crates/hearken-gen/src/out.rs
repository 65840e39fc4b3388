//! Byte-level CSV output: integers, zero-padded ids, RFC 3339 times and quoted text appended to a
//! chunk's buffer without allocating per field.
//!
//! The formats are the canonical ones of `docs/formats.md`; times are written exactly as
//! [`hearken_model::Timestamp::to_rfc3339`] and [`hearken_model::Timestamp::date_string`] write
//! them (a test holds the fast path to that), only without a `String` per value.

/// Appends `n` in decimal.
#[inline]
pub(crate) fn push_u64(buf: &mut Vec<u8>, n: u64) {
    push_padded(buf, n, 1);
}

/// Appends `n` in decimal, left-padded with zeros to at least `width` digits.
#[inline]
pub(crate) fn push_padded(buf: &mut Vec<u8>, n: u64, width: usize) {
    let mut tmp = [b'0'; 20];
    let mut i = tmp.len();
    let mut m = n;
    loop {
        i -= 1;
        tmp[i] = b'0' + (m % 10) as u8;
        m /= 10;
        if m == 0 {
            break;
        }
    }
    // Pushing byte by byte after one reserve beats a memset/memcpy call for these short runs.
    let digits = tmp.len() - i;
    buf.reserve(digits.max(width));
    for _ in digits..width {
        buf.push(b'0');
    }
    for &d in &tmp[i..] {
        buf.push(d);
    }
}

/// (year, month, day) of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[inline]
fn two(buf: &mut Vec<u8>, v: u32) {
    buf.push(b'0' + (v / 10) as u8);
    buf.push(b'0' + (v % 10) as u8);
}

/// Appends `YYYY-MM-DD` for the UTC day of `secs`. Years outside 0..=9999 never occur here
/// (the window is validated to lie within 1970..9000).
#[inline]
pub(crate) fn push_date(buf: &mut Vec<u8>, secs: i64) {
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let y = y.clamp(0, 9999) as u64;
    push_padded(buf, y, 4);
    buf.push(b'-');
    two(buf, m);
    buf.push(b'-');
    two(buf, d);
}

/// Appends `THH:MM:SSZ`, the time-of-day part of an RFC 3339 UTC time.
#[inline]
fn push_time(buf: &mut Vec<u8>, secs: i64) {
    let sod = secs.rem_euclid(86_400) as u32;
    buf.push(b'T');
    two(buf, sod / 3600);
    buf.push(b':');
    two(buf, sod / 60 % 60);
    buf.push(b':');
    two(buf, sod % 60);
    buf.push(b'Z');
}

/// `YYYY-MM-DD` of every day in a range, so the hot path copies ten bytes instead of converting
/// a day count to a civil date on every row. Days outside the range fall back to the conversion.
#[derive(Debug, Clone)]
pub(crate) struct Dates {
    first_day: i64,
    table: Vec<[u8; 10]>,
}

impl Dates {
    pub(crate) fn new(from: i64, to: i64) -> Dates {
        let first_day = from.div_euclid(86_400);
        let last_day = to.div_euclid(86_400);
        let table = (first_day..=last_day)
            .map(|d| {
                let mut b = Vec::with_capacity(10);
                push_date(&mut b, d * 86_400);
                let mut a = [b'0'; 10];
                a.copy_from_slice(&b[..10]);
                a
            })
            .collect();
        Dates { first_day, table }
    }

    #[inline]
    pub(crate) fn push_date(&self, buf: &mut Vec<u8>, secs: i64) {
        let i = secs.div_euclid(86_400) - self.first_day;
        match usize::try_from(i).ok().and_then(|i| self.table.get(i)) {
            Some(d) => buf.extend_from_slice(d),
            None => push_date(buf, secs),
        }
    }

    /// Appends `YYYY-MM-DDTHH:MM:SSZ`.
    #[inline]
    pub(crate) fn push_ts(&self, buf: &mut Vec<u8>, secs: i64) {
        self.push_date(buf, secs);
        push_time(buf, secs);
    }
}

/// Text fields are always written quoted. The fragments they are built from contain no `"`
/// (the catalogue parser rejects one), so nothing needs doubling.
#[inline]
pub(crate) fn open_quote(buf: &mut Vec<u8>) {
    buf.push(b'"');
}

#[inline]
pub(crate) fn close_quote(buf: &mut Vec<u8>) {
    buf.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearken_model::Timestamp;

    #[test]
    fn integers() {
        let mut b = Vec::new();
        push_u64(&mut b, 0);
        b.push(b',');
        push_u64(&mut b, u64::MAX);
        b.push(b',');
        push_padded(&mut b, 42, 5);
        b.push(b',');
        push_padded(&mut b, 123_456, 3);
        assert_eq!(
            String::from_utf8(b).unwrap(),
            format!("0,{},00042,123456", u64::MAX)
        );
    }

    proptest::proptest! {
        #[test]
        fn times_match_the_model(secs in -2_000_000_000i64..250_000_000_000i64) {
            let t = Timestamp::from_unix(secs);
            let mut d = Vec::new();
            push_date(&mut d, secs);
            proptest::prop_assert_eq!(String::from_utf8(d).unwrap(), t.date_string());
            // The table path, inside and outside its range.
            let dates = Dates::new(secs - 40 * 86_400, secs + 3 * 86_400);
            let narrow = Dates::new(secs + 86_400, secs + 2 * 86_400);
            for table in [&dates, &narrow] {
                let mut b = Vec::new();
                table.push_ts(&mut b, secs);
                proptest::prop_assert_eq!(String::from_utf8(b).unwrap(), t.to_rfc3339());
            }
        }
    }
}
