//! Group keys: the dimensions a number can be sliced by, as dense code columns.
//!
//! A [`GroupKey`] is a `u32` code per row plus the [`Dict`] naming the codes; it is what
//! [`crate::group`] folds over. Frame columns (product, agent, topic, stage, customer) are keys as
//! they are ([`GroupKey::borrowed`]); this module derives the others once per query, one
//! allocation per column, never per row: channel, calendar period (day, week, month), an
//! attribute looked up through another code (customer -> segment or persona, agent -> team),
//! tenure band and new vs long-standing (tenure at the time of the row), and signup cohort.

use std::borrow::Cow;

use hearken_model::Channel;
use serde::{Deserialize, Serialize};

use crate::error::{EngineError, Result, same_len};
use crate::frame::{Dict, NONE};

/// A code per row and the names of the codes.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupKey<'a> {
    pub codes: Cow<'a, [u32]>,
    pub dict: Cow<'a, Dict>,
}

impl<'a> GroupKey<'a> {
    /// A frame column used as it is, e.g. `GroupKey::borrowed(&f.product, &f.products)`.
    pub fn borrowed(codes: &'a [u32], dict: &'a Dict) -> GroupKey<'a> {
        GroupKey {
            codes: Cow::Borrowed(codes),
            dict: Cow::Borrowed(dict),
        }
    }

    fn owned(codes: Vec<u32>, names: Vec<String>) -> GroupKey<'static> {
        GroupKey {
            codes: Cow::Owned(codes),
            dict: Cow::Owned(Dict { names }),
        }
    }

    /// Every row in one group called `name` (the whole selection as a one-row table).
    pub fn all(len: usize, name: &str) -> GroupKey<'static> {
        GroupKey::owned(vec![0; len], vec![name.to_string()])
    }
}

/// Channel, from the model's channel codes (0 = not given lands in the `(none)` group).
pub fn channel(channels: &[u8]) -> GroupKey<'static> {
    let names: Vec<String> = Channel::ALL
        .iter()
        .map(|c| c.as_str().to_string())
        .collect();
    let codes = channels
        .iter()
        .map(|&c| {
            Channel::from_code(c)
                .and_then(|ch| Channel::ALL.iter().position(|x| *x == ch))
                .map_or(NONE, |i| i as u32)
        })
        .collect();
    GroupKey::owned(codes, names)
}

/// A calendar period. Weeks start on Monday (ISO 8601) and are named by that Monday's date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Day,
    Week,
    Month,
}

const DAY: i64 = 86_400;

/// Days since 1970-01-01 -> (year, month 1..=12, day 1..=31), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl Period {
    /// The period a Unix time falls in, as a running index (days, Monday-weeks or months since
    /// the epoch).
    #[inline]
    pub fn index(self, unix: i64) -> i64 {
        let days = unix.div_euclid(DAY);
        match self {
            Period::Day => days,
            // 1970-01-01 was a Thursday: shifting by 3 days puts Mondays on multiples of 7.
            Period::Week => (days + 3).div_euclid(7),
            Period::Month => {
                let (y, m, _) = civil_from_days(days);
                y * 12 + i64::from(m) - 1
            }
        }
    }

    /// The Unix time at which period `index` starts.
    pub fn start(self, index: i64) -> i64 {
        match self {
            Period::Day => index * DAY,
            Period::Week => (index * 7 - 3) * DAY,
            Period::Month => {
                days_from_civil(index.div_euclid(12), (index.rem_euclid(12) + 1) as u32, 1) * DAY
            }
        }
    }

    /// `2024-03-05` for a day or week (its Monday), `2024-03` for a month.
    pub fn name(self, index: i64) -> String {
        let (y, m, d) = civil_from_days(self.start(index).div_euclid(DAY));
        match self {
            Period::Month => format!("{y:04}-{m:02}"),
            Period::Day | Period::Week => format!("{y:04}-{m:02}-{d:02}"),
        }
    }
}

/// [`Period::index`] with a one-day memo: a column in time order (the usual case) computes the
/// calendar once per day instead of once per row.
#[derive(Debug, Clone, Copy)]
pub struct PeriodIndexer {
    period: Period,
    day: i64,
    index: i64,
}

impl PeriodIndexer {
    pub fn new(period: Period) -> PeriodIndexer {
        PeriodIndexer {
            period,
            day: i64::MIN,
            index: 0,
        }
    }

    #[inline]
    pub fn index(&mut self, unix: i64) -> i64 {
        let day = unix.div_euclid(DAY);
        if day != self.day {
            self.day = day;
            self.index = self.period.index(unix);
        }
        self.index
    }
}

/// More periods than this in one key is a window mistake (e.g. a year-1 date), not a report.
pub const MAX_PERIODS: i64 = 100_000;

/// Dense period codes from the first to the last period present in `at`.
pub fn period(at: &[i64], period: Period) -> Result<GroupKey<'static>> {
    let mut ix = PeriodIndexer::new(period);
    let Some((lo, hi)) = at.iter().fold(None, |acc: Option<(i64, i64)>, &t| {
        let i = ix.index(t);
        Some(acc.map_or((i, i), |(lo, hi)| (lo.min(i), hi.max(i))))
    }) else {
        return Ok(GroupKey::owned(Vec::new(), Vec::new()));
    };
    period_between(at, period, lo, hi)
}

/// Dense period codes for the periods `first..=last` (indices from [`Period::index`]), so that
/// chunks and empty periods line up; rows outside go to `(none)`.
pub fn period_between(
    at: &[i64],
    period: Period,
    first: i64,
    last: i64,
) -> Result<GroupKey<'static>> {
    let span = last.saturating_sub(first).saturating_add(1);
    if !(0..=MAX_PERIODS).contains(&span) {
        return Err(EngineError::BadOption {
            name: "period",
            reason: format!(
                "spans {span} {} (more than {MAX_PERIODS}); narrow the window",
                match period {
                    Period::Day => "days",
                    Period::Week => "weeks",
                    Period::Month => "months",
                }
            ),
        });
    }
    let names = (first..=last).map(|i| period.name(i)).collect();
    let mut ix = PeriodIndexer::new(period);
    let codes = at
        .iter()
        .map(|&t| {
            let i = ix.index(t);
            if (first..=last).contains(&i) {
                (i - first) as u32
            } else {
                NONE
            }
        })
        .collect();
    Ok(GroupKey::owned(codes, names))
}

/// An attribute reached through another code, e.g. the segment of each row's customer:
/// `via(&f.customer, &customers.segment, &customers.segments)`. A row whose code is missing or
/// beyond `map` lands in `(none)`.
pub fn via<'a>(codes: &[u32], map: &[u32], dict: &'a Dict) -> GroupKey<'a> {
    let codes = codes
        .iter()
        .map(|&c| map.get(c as usize).copied().unwrap_or(NONE))
        .collect();
    GroupKey {
        codes: Cow::Owned(codes),
        dict: Cow::Borrowed(dict),
    }
}

/// Tenure at the time of each row, in bands bounded by `bounds_days` (ascending, e.g.
/// `[90, 365, 730]` gives `<90d`, `90-365d`, `365-730d`, `730d+`). `since` is indexed by customer
/// code (`i64::MIN` = unknown). Unknown customers, unknown start dates and rows dated before the
/// customer's start land in `(none)`.
pub fn tenure(
    at: &[i64],
    customer: &[u32],
    since: &[i64],
    bounds_days: &[u32],
) -> Result<GroupKey<'static>> {
    same_len("customer", customer.len(), "at", at.len())?;
    if bounds_days.windows(2).any(|w| w[0] >= w[1]) {
        return Err(EngineError::BadOption {
            name: "tenure bands",
            reason: "must be strictly ascending day counts, e.g. 90,365,730".into(),
        });
    }
    let mut names = Vec::with_capacity(bounds_days.len() + 1);
    let mut prev = 0;
    for &b in bounds_days {
        names.push(if prev == 0 {
            format!("<{b}d")
        } else {
            format!("{prev}-{b}d")
        });
        prev = b;
    }
    names.push(format!("{prev}d+"));
    Ok(GroupKey::owned(
        tenure_codes(at, customer, since, bounds_days),
        names,
    ))
}

fn tenure_codes(at: &[i64], customer: &[u32], since: &[i64], bounds_days: &[u32]) -> Vec<u32> {
    at.iter()
        .zip(customer)
        .map(|(&t, &c)| match since.get(c as usize) {
            Some(&s) if s != i64::MIN && t >= s => {
                let days = (t - s) / DAY;
                bounds_days.partition_point(|&b| i64::from(b) <= days) as u32
            }
            _ => NONE,
        })
        .collect()
}

/// `new` for rows within `days` of the customer's start, `long_standing` after.
pub fn new_vs_long_standing(
    at: &[i64],
    customer: &[u32],
    since: &[i64],
    days: u32,
) -> Result<GroupKey<'static>> {
    same_len("customer", customer.len(), "at", at.len())?;
    Ok(GroupKey::owned(
        tenure_codes(at, customer, since, &[days]),
        vec!["new".into(), "long_standing".into()],
    ))
}

/// Signup cohort: the period of each row's customer's `since`.
pub fn cohort(customer: &[u32], since: &[i64], period: Period) -> Result<GroupKey<'static>> {
    let known: Vec<i64> = since.iter().copied().filter(|&s| s != i64::MIN).collect();
    let by_customer = self::period(&known, period)?;
    let first = known.iter().map(|&s| period.index(s)).min().unwrap_or(0);
    let map: Vec<u32> = since
        .iter()
        .map(|&s| {
            if s == i64::MIN {
                NONE
            } else {
                (period.index(s) - first) as u32
            }
        })
        .collect();
    let codes = customer
        .iter()
        .map(|&c| map.get(c as usize).copied().unwrap_or(NONE))
        .collect();
    Ok(GroupKey {
        codes: Cow::Owned(codes),
        dict: by_customer.dict,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(y: i64, m: u32, d: u32) -> i64 {
        days_from_civil(y, m, d) * DAY
    }

    #[test]
    fn calendar_round_trips() {
        for days in [-800_000, -1, 0, 59, 60, 11_016, 19_782, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        // 2024-03-04 is a Monday; 2024-03-10 a Sunday.
        let w = Period::Week;
        assert_eq!(w.index(ts(2024, 3, 4)), w.index(ts(2024, 3, 10) + 86_399));
        assert_eq!(w.index(ts(2024, 3, 3)) + 1, w.index(ts(2024, 3, 4)));
        assert_eq!(w.name(w.index(ts(2024, 3, 7))), "2024-03-04");
        let m = Period::Month;
        assert_eq!(m.name(m.index(ts(2024, 2, 29))), "2024-02");
        assert_eq!(m.start(m.index(ts(1969, 12, 31))), ts(1969, 12, 1));
    }

    #[test]
    fn period_key_is_dense_and_includes_empty_periods() {
        let at = [ts(2024, 1, 31), ts(2024, 3, 1)];
        let k = period(&at, Period::Month).unwrap();
        assert_eq!(k.dict.names, vec!["2024-01", "2024-02", "2024-03"]);
        assert_eq!(&*k.codes, &[0, 2]);
        assert!(period(&[0, i64::MAX], Period::Day).is_err());
        assert!(period(&[], Period::Day).unwrap().dict.is_empty());
    }

    #[test]
    fn tenure_bands_and_unknowns() {
        let since = [ts(2024, 1, 1), i64::MIN];
        let at = [
            ts(2024, 1, 5),
            ts(2024, 6, 1),
            ts(2025, 6, 1),
            ts(2023, 1, 1),
            ts(2024, 1, 5),
            ts(2024, 1, 5),
        ];
        let cust = [0, 0, 0, 0, 1, NONE];
        let k = tenure(&at, &cust, &since, &[90, 365]).unwrap();
        assert_eq!(k.dict.names, vec!["<90d", "90-365d", "365d+"]);
        assert_eq!(&*k.codes, &[0, 1, 2, NONE, NONE, NONE]);
        assert!(tenure(&at, &cust, &since, &[365, 90]).is_err());
        let n = new_vs_long_standing(&at, &cust, &since, 120).unwrap();
        assert_eq!(&*n.codes, &[0, 1, 1, NONE, NONE, NONE]);
    }

    #[test]
    fn channel_and_lookup_keys() {
        let k = channel(&[1, 0, 9, 200]);
        assert_eq!(&*k.codes, &[0, NONE, 8, NONE]);
        assert_eq!(k.dict.name(8), Some("other"));
        let segs = Dict {
            names: vec!["smb".into(), "enterprise".into()],
        };
        let v = via(&[1, 0, NONE, 5], &[1, 0], &segs);
        assert_eq!(&*v.codes, &[0, 1, NONE, NONE]);
        let c = cohort(
            &[0, 1, 2],
            &[ts(2024, 2, 3), ts(2023, 12, 9), i64::MIN],
            Period::Month,
        )
        .unwrap();
        assert_eq!(&*c.codes, &[2, 0, NONE]);
        assert_eq!(c.dict.name(2), Some("2024-02"));
    }
}
