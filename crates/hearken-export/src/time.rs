//! Unix seconds as ISO 8601 UTC text, without allocating: an export writes one per row.

/// `YYYY-MM-DDTHH:MM:SSZ` (years 0000 to 9999; outside them, RFC 3339 cannot say it and the
/// seconds are written as `@<seconds>`, as `hearken_model::Timestamp` does).
pub fn iso8601(secs: i64, out: &mut Vec<u8>) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    if !(0..=9999).contains(&y) {
        out.extend_from_slice(format!("@{secs}").as_bytes());
        return;
    }
    let (hh, mm, ss) = (rem / 3600, rem / 60 % 60, rem % 60);
    let mut b = *b"0000-00-00T00:00:00Z";
    let y = y as u32;
    b[0] = b'0' + (y / 1000) as u8;
    b[1] = b'0' + (y / 100 % 10) as u8;
    b[2] = b'0' + (y / 10 % 10) as u8;
    b[3] = b'0' + (y % 10) as u8;
    two(&mut b[5..7], m as i64);
    two(&mut b[8..10], d as i64);
    two(&mut b[11..13], hh);
    two(&mut b[14..16], mm);
    two(&mut b[17..19], ss);
    out.extend_from_slice(&b);
}

fn two(b: &mut [u8], v: i64) {
    b[0] = b'0' + (v / 10) as u8;
    b[1] = b'0' + (v % 10) as u8;
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar (Howard
/// Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// `YYYY-MM` of unix seconds (UTC); years outside 0000 to 9999 as `@<year>-MM`.
pub fn year_month(secs: i64) -> String {
    let (y, m, _) = civil_from_days(secs.div_euclid(86_400));
    if (0..=9999).contains(&y) {
        format!("{y:04}-{m:02}")
    } else {
        format!("@{y}-{m:02}")
    }
}

/// The same text as a `String`.
pub fn iso8601_string(secs: i64) -> String {
    let mut v = Vec::with_capacity(20);
    iso8601(secs, &mut v);
    // Only ASCII digits and punctuation are written.
    String::from_utf8_lossy(&v).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hearken_model::Timestamp;
    use proptest::prelude::*;

    #[test]
    fn known_instants() {
        assert_eq!(iso8601_string(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601_string(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(iso8601_string(1_709_649_000), "2024-03-05T14:30:00Z");
        assert_eq!(iso8601_string(-1), "1969-12-31T23:59:59Z");
    }

    proptest! {
        /// The same text as the model's (chrono's) formatting for every instant from year 0 to
        /// 9999.
        #[test]
        fn agrees_with_chrono(secs in -62_167_219_200i64..253_402_300_800i64) {
            prop_assert_eq!(iso8601_string(secs), Timestamp::from_unix(secs).to_rfc3339());
        }
    }
}
