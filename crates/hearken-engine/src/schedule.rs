//! When the weekly report is due: the rule of scheduled delivery (issue 12), with no clock.
//!
//! A report week is an ISO week in UTC, Monday 00:00 to the next Monday (docs/report.md). The
//! organisation configures a local slot: a weekday, an hour and an IANA time zone
//! (`[report.schedule]` in hearken.toml). The rule:
//!
//! - the week `W` is **due at** the first instant at or after `W`'s end when the zone's clock
//!   shows the slot's day and hour ([`due_at`]); a local hour the clocks skipped (spring forward)
//!   is the first instant after the gap, one they passed twice (fall back) its first pass;
//! - if a daylight-saving change pushes that instant a full week past `W`'s end (it can only
//!   happen when the slot lies within an hour of the UTC week boundary), `W` is due one hour
//!   before the next week ends instead, so no week is ever skipped;
//! - at an instant `now`, the report due is the **last complete week** at `now`, if `now` is at or
//!   after its due time ([`due_week`]); otherwise none. So a server that was down at the due hour
//!   and starts later that week catches up for that week; one down for longer sends the latest
//!   week only.
//!
//! `due_at` lies in `[end of W, end of W + 7 days)` and grows strictly with `W`: every week is due
//! during a non-empty span in which it is the last complete week, and at any instant at most one
//! week is due (tested by property below).

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone as _, Weekday};
use hearken_model::TimeZone;

const DAY: i64 = 86_400;
const WEEK: i64 = 7 * DAY;

/// An ISO week, Monday 00:00 UTC to the next Monday 00:00 UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IsoWeek {
    /// Its Monday (the ISO year and week number follow from it).
    pub monday: NaiveDate,
}

impl IsoWeek {
    /// The week holding `day`.
    pub fn of(day: NaiveDate) -> IsoWeek {
        IsoWeek {
            monday: day - Duration::days(i64::from(day.weekday().num_days_from_monday())),
        }
    }

    /// The week holding the instant `t` (Unix seconds, UTC).
    pub fn at(t: i64) -> IsoWeek {
        IsoWeek::of(utc(t).date_naive())
    }

    /// `2026-W47`.
    pub fn label(&self) -> String {
        let iso = self.monday.iso_week();
        format!("{}-W{:02}", iso.year(), iso.week())
    }

    /// Its first second (Monday 00:00 UTC), Unix seconds.
    pub fn start(&self) -> i64 {
        self.monday
            .and_hms_opt(0, 0, 0)
            .map_or(0, |d| d.and_utc().timestamp())
    }

    /// The instant it ends (the next Monday 00:00 UTC), Unix seconds.
    pub fn end(&self) -> i64 {
        self.start() + WEEK
    }

    pub fn next(&self) -> IsoWeek {
        IsoWeek {
            monday: self.monday + Duration::days(7),
        }
    }

    pub fn previous(&self) -> IsoWeek {
        IsoWeek {
            monday: self.monday - Duration::days(7),
        }
    }
}

fn utc(t: i64) -> DateTime<chrono::Utc> {
    DateTime::from_timestamp(t, 0).unwrap_or_default()
}

/// The configured slot: a weekday and an hour on the clock of a time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub day: Weekday,
    /// 0 to 23.
    pub hour: u32,
    pub tz: TimeZone,
}

/// A slot setting that cannot work, naming the key and the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("[report.schedule] {key} {value}: {reason}")]
pub struct SlotError {
    pub key: &'static str,
    pub value: String,
    pub reason: String,
}

impl Slot {
    /// Reads `day` (`mon` .. `sun`, or the full English name), `hour` (0-23) and `timezone`
    /// (an IANA name such as `Europe/Brussels`, or `UTC`).
    pub fn parse(day: &str, hour: i64, timezone: &str) -> Result<Slot, SlotError> {
        let err = |key, value: String, reason: &str| SlotError {
            key,
            value,
            reason: reason.to_string(),
        };
        let d = day.trim().to_ascii_lowercase();
        let day = match d.get(..3).filter(|_| {
            [
                "mon",
                "tue",
                "wed",
                "thu",
                "fri",
                "sat",
                "sun",
                "monday",
                "tuesday",
                "wednesday",
                "thursday",
                "friday",
                "saturday",
                "sunday",
            ]
            .contains(&d.as_str())
        }) {
            Some("mon") => Weekday::Mon,
            Some("tue") => Weekday::Tue,
            Some("wed") => Weekday::Wed,
            Some("thu") => Weekday::Thu,
            Some("fri") => Weekday::Fri,
            Some("sat") => Weekday::Sat,
            Some("sun") => Weekday::Sun,
            _ => {
                return Err(err(
                    "day",
                    format!("'{day}'"),
                    "is not a weekday; use mon, tue, wed, thu, fri, sat or sun",
                ));
            }
        };
        let hour = u32::try_from(hour)
            .ok()
            .filter(|h| *h < 24)
            .ok_or_else(|| err("hour", hour.to_string(), "is out of range; use 0 to 23"))?;
        let tz = timezone.trim().parse::<TimeZone>().map_err(|_| {
            err(
                "timezone",
                format!("'{timezone}'"),
                "is not a time zone of the IANA database; write it as Region/City, e.g. Europe/Brussels or America/New_York, or UTC",
            )
        })?;
        Ok(Slot { day, hour, tz })
    }

    /// `mon 08:00 Europe/Brussels`.
    pub fn describe(&self) -> String {
        format!(
            "{} {:02}:00 {}",
            self.day.to_string().to_ascii_lowercase(),
            self.hour,
            self.tz.name()
        )
    }

    /// The instant `t` (Unix seconds) on the zone's clock: `Mon 2026-11-23 08:00 CET`.
    pub fn local_text(&self, t: i64) -> String {
        self.tz
            .from_utc_datetime(&utc(t).naive_utc())
            .format("%a %Y-%m-%d %H:%M %Z")
            .to_string()
    }

    /// The instant (Unix seconds) the zone's clock shows `local`: a time in a gap (the clocks
    /// went forward) is the end of the gap, a time passed twice its first pass.
    fn instant(&self, local: NaiveDateTime) -> i64 {
        if let Some(t) = self.tz.from_local_datetime(&local).earliest() {
            return t.timestamp();
        }
        // Gaps end on a quarter hour in every zone of the database, and a slot is on the hour:
        // the first local time that exists, stepping by quarter hours, is the gap's end.
        (1..=16)
            .find_map(|q| {
                self.tz
                    .from_local_datetime(&(local + Duration::minutes(15 * q)))
                    .earliest()
            })
            .map_or_else(|| local.and_utc().timestamp(), |t| t.timestamp())
    }

    /// The first instant at or after `t` when the zone's clock shows this slot.
    pub fn first_at_or_after(&self, t: i64) -> i64 {
        let local = self.tz.from_utc_datetime(&utc(t).naive_utc()).date_naive();
        for k in 0..=15 {
            let date = local + Duration::days(k);
            if date.weekday() != self.day {
                continue;
            }
            let Some(at) = date.and_hms_opt(self.hour, 0, 0) else {
                continue;
            };
            let i = self.instant(at);
            if i >= t {
                return i;
            }
        }
        // Unreachable for a valid slot (a weekday recurs within 15 days); a week later is safe.
        t + WEEK
    }
}

/// The last ISO week that has ended at `now` (Unix seconds).
pub fn last_complete_week(now: i64) -> IsoWeek {
    IsoWeek::at(now).previous()
}

/// When the report of `week` is due (Unix seconds): see the module documentation.
pub fn due_at(slot: &Slot, week: IsoWeek) -> i64 {
    let end = week.end();
    slot.first_at_or_after(end).min(end + WEEK - 3600)
}

/// The week whose report is due at `now`: the last complete week, once its due time has come.
pub fn due_week(slot: &Slot, now: i64) -> Option<IsoWeek> {
    let w = last_complete_week(now);
    (now >= due_at(slot, w)).then_some(w)
}

/// The next week to become due after `now`, and when.
pub fn next_due(slot: &Slot, now: i64) -> (IsoWeek, i64) {
    let w = last_complete_week(now);
    let at = due_at(slot, w);
    if now < at {
        (w, at)
    } else {
        let n = w.next();
        (n, due_at(slot, n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn t(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s).unwrap().timestamp()
    }

    fn slot(day: &str, hour: i64, tz: &str) -> Slot {
        Slot::parse(day, hour, tz).unwrap()
    }

    fn week(label: &str) -> IsoWeek {
        let (y, w) = label.split_once("-W").unwrap();
        IsoWeek {
            monday: NaiveDate::from_isoywd_opt(
                y.parse().unwrap(),
                w.parse().unwrap(),
                Weekday::Mon,
            )
            .unwrap(),
        }
    }

    fn iso(t: i64) -> String {
        utc(t).to_rfc3339()
    }

    #[test]
    fn bad_settings_name_the_key_and_value() {
        let e = Slot::parse("mon", 25, "UTC").unwrap_err().to_string();
        assert_eq!(e, "[report.schedule] hour 25: is out of range; use 0 to 23");
        let e = Slot::parse("mon", 8, "Mars/Olympus")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("timezone 'Mars/Olympus'") && e.contains("IANA"),
            "{e}"
        );
        let e = Slot::parse("someday", 8, "UTC").unwrap_err().to_string();
        assert!(e.contains("day 'someday'") && e.contains("mon, tue"), "{e}");
        assert!(Slot::parse("mo", 8, "UTC").is_err());
        assert!(Slot::parse("-1", -1, "UTC").is_err());
        assert_eq!(slot("Monday", 8, "Europe/Brussels").day, Weekday::Mon);
        assert_eq!(
            slot("sun", 23, "Asia/Kolkata").describe(),
            "sun 23:00 Asia/Kolkata"
        );
    }

    #[test]
    fn a_week_is_due_at_the_local_slot_after_it_ends() {
        // 2026-W47 is Mon 16 Nov to Mon 23 Nov 2026 00:00 UTC. Brussels is UTC+1 in November.
        let s = slot("mon", 8, "Europe/Brussels");
        assert_eq!(
            iso(due_at(&s, week("2026-W47"))),
            "2026-11-23T07:00:00+00:00"
        );
        assert_eq!(due_week(&s, t("2026-11-23T06:59:59Z")), None);
        assert_eq!(
            due_week(&s, t("2026-11-23T07:00:00Z")),
            Some(week("2026-W47"))
        );
        // Later the same week (a server that was down): still W47, and only W47.
        assert_eq!(
            due_week(&s, t("2026-11-29T23:59:59Z")),
            Some(week("2026-W47"))
        );
        // The next Monday before 08:00 Brussels: W48 is complete but not due yet.
        assert_eq!(due_week(&s, t("2026-11-30T06:00:00Z")), None);
        assert_eq!(
            next_due(&s, t("2026-11-30T06:00:00Z")),
            (week("2026-W48"), t("2026-11-30T07:00:00Z"))
        );
        assert_eq!(
            next_due(&s, t("2026-11-25T12:00:00Z")),
            (week("2026-W48"), t("2026-11-30T07:00:00Z"))
        );
        // In summer Brussels is UTC+2.
        assert_eq!(
            iso(due_at(&s, week("2026-W27"))),
            "2026-07-06T06:00:00+00:00"
        );
    }

    #[test]
    fn zones_ahead_and_behind_utc() {
        // Auckland (UTC+13 in November): Monday 09:00 local is Sunday 20:00 UTC, before the
        // week ends; the first Monday 09:00 after W47's end is a week later.
        let s = slot("mon", 9, "Pacific/Auckland");
        assert_eq!(
            iso(due_at(&s, week("2026-W47"))),
            "2026-11-29T20:00:00+00:00"
        );
        // Tuesday 09:00 in Auckland is Monday 20:00 UTC: the same day the week ended.
        let s = slot("tue", 9, "Pacific/Auckland");
        assert_eq!(
            iso(due_at(&s, week("2026-W47"))),
            "2026-11-23T20:00:00+00:00"
        );
        // Los Angeles (UTC-8): Sunday 23:00 local is Monday 07:00 UTC.
        let s = slot("sun", 23, "America/Los_Angeles");
        assert_eq!(
            iso(due_at(&s, week("2026-W47"))),
            "2026-11-23T07:00:00+00:00"
        );
        // Kolkata, a half-hour offset: Monday 06:00 IST is 00:30 UTC.
        let s = slot("mon", 6, "Asia/Kolkata");
        assert_eq!(
            iso(due_at(&s, week("2026-W47"))),
            "2026-11-23T00:30:00+00:00"
        );
        // UTC Monday 00:00: due the instant the week ends.
        let s = slot("mon", 0, "UTC");
        assert_eq!(due_at(&s, week("2026-W47")), week("2026-W47").end());
    }

    #[test]
    fn across_daylight_saving_changes() {
        let s = slot("mon", 8, "Europe/London");
        // 2026: British Summer Time from Sun 29 Mar 01:00 UTC to Sun 25 Oct 01:00 UTC.
        // W13 ends Mon 30 Mar (BST): 08:00 BST = 07:00 UTC. W12 ended Mon 23 Mar (GMT).
        assert_eq!(
            iso(due_at(&s, week("2026-W12"))),
            "2026-03-23T08:00:00+00:00"
        );
        assert_eq!(
            iso(due_at(&s, week("2026-W13"))),
            "2026-03-30T07:00:00+00:00"
        );
        assert_eq!(
            iso(due_at(&s, week("2026-W43"))),
            "2026-10-26T08:00:00+00:00"
        );
        // A slot in the hour the clocks skip (Sunday 01:00 on 29 Mar 2026 does not exist in
        // London): the first instant after the gap, 02:00 BST = 01:00 UTC.
        let s = slot("sun", 1, "Europe/London");
        assert_eq!(
            iso(s.first_at_or_after(t("2026-03-28T00:00:00Z"))),
            "2026-03-29T01:00:00+00:00"
        );
        // A slot in the hour passed twice (Sunday 01:00 on 25 Oct 2026): its first pass,
        // 01:00 BST = 00:00 UTC.
        assert_eq!(
            iso(s.first_at_or_after(t("2026-10-24T00:00:00Z"))),
            "2026-10-25T00:00:00+00:00"
        );
        // Monday 00:00 London: in summer it is Sunday 23:00 UTC, before the UTC week ends, so a
        // summer week is due a week after it ends, less an hour; never two weeks at one slot,
        // and no week skipped when the clocks change.
        let s = slot("mon", 0, "Europe/London");
        let weeks: Vec<(String, String)> = [
            "2026-W12", "2026-W13", "2026-W14", "2026-W42", "2026-W43", "2026-W44",
        ]
        .iter()
        .map(|w| (w.to_string(), iso(due_at(&s, week(w)))))
        .collect();
        assert_eq!(
            weeks,
            [
                ("2026-W12".into(), "2026-03-23T00:00:00+00:00".into()),
                // Ended Mon 30 Mar 00:00 UTC = 01:00 BST: the next Monday 00:00 BST.
                ("2026-W13".into(), "2026-04-05T23:00:00+00:00".into()),
                ("2026-W14".into(), "2026-04-12T23:00:00+00:00".into()),
                ("2026-W42".into(), "2026-10-25T23:00:00+00:00".into()),
                // Ended Mon 26 Oct 00:00 UTC = 00:00 GMT: due at once.
                ("2026-W43".into(), "2026-10-26T00:00:00+00:00".into()),
                ("2026-W44".into(), "2026-11-02T00:00:00+00:00".into()),
            ]
        );
        // New York, Sunday 20:00: EDT Monday 00:00 UTC, EST Monday 01:00 UTC (daylight time
        // ended Sun 1 Nov 2026 06:00 UTC). W43 ended Mon 26 Oct 00:00 UTC = Sun 25 Oct 20:00
        // EDT: due at that instant; W44 ended Sun 1 Nov 19:00 EST: due an hour later.
        let s = slot("sun", 20, "America/New_York");
        assert_eq!(
            iso(due_at(&s, week("2026-W43"))),
            "2026-10-26T00:00:00+00:00"
        );
        assert_eq!(
            iso(due_at(&s, week("2026-W44"))),
            "2026-11-02T01:00:00+00:00"
        );
    }

    #[test]
    fn a_week_the_clock_change_would_skip_is_due_an_hour_before_the_next_ends() {
        // Sunday 23:00 London, autumn: W42 ended Mon 19 Oct 00:00 UTC = 01:00 BST; the first
        // Sunday 23:00 local after it is 25 Oct 23:00 GMT, a week less an hour later: inside the
        // span where W42 is the last complete week.
        let s = slot("sun", 23, "Europe/London");
        let w42 = week("2026-W42");
        assert_eq!(iso(due_at(&s, w42)), "2026-10-25T23:00:00+00:00");
        assert_eq!(due_week(&s, due_at(&s, w42)), Some(w42));
        // Monday 01:00 London in spring: W12 ends Mon 23 Mar 00:00 UTC = 00:00 GMT; due at
        // 01:00 GMT. W13 ends Mon 30 Mar 00:00 UTC = 01:00 BST: due at once.
        let s = slot("mon", 1, "Europe/London");
        assert_eq!(
            iso(due_at(&s, week("2026-W13"))),
            "2026-03-30T00:00:00+00:00"
        );
        // Monday 00:00 London in autumn: W42 ends 19 Oct 00:00 UTC = 01:00 BST; the next
        // Monday 00:00 local is 26 Oct 00:00 GMT, exactly when W43 ends: W42 would be skipped,
        // so it is due an hour before.
        let s = slot("mon", 0, "Europe/London");
        let w42 = week("2026-W42");
        assert_eq!(
            s.first_at_or_after(w42.end()),
            t("2026-10-26T00:00:00Z"),
            "the slot itself falls on the next week's end"
        );
        assert_eq!(iso(due_at(&s, w42)), "2026-10-25T23:00:00+00:00");
        assert_eq!(due_week(&s, t("2026-10-25T23:30:00Z")), Some(w42));
        assert_eq!(
            due_week(&s, t("2026-10-26T00:00:00Z")),
            Some(week("2026-W43"))
        );
    }

    const ZONES: &[&str] = &[
        "UTC",
        "Europe/London",
        "Europe/Brussels",
        "America/New_York",
        "America/Los_Angeles",
        "America/Sao_Paulo",
        "Pacific/Auckland",
        "Pacific/Kiritimati",
        "Pacific/Pago_Pago",
        "Asia/Kolkata",
        "Australia/Lord_Howe",
        "Asia/Kathmandu",
        "America/St_Johns",
    ];

    fn any_slot() -> impl Strategy<Value = Slot> {
        (0..7usize, 0..24i64, 0..ZONES.len()).prop_map(|(d, h, z)| {
            let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
            Slot::parse(days[d], h, ZONES[z]).unwrap()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        /// At any instant at most one week is due, and it is the last complete week.
        #[test]
        fn at_most_one_week_is_due_and_it_is_the_last_complete_one(
            s in any_slot(),
            now in t("2000-01-01T00:00:00Z")..t("2060-01-01T00:00:00Z"),
        ) {
            if let Some(w) = due_week(&s, now) {
                prop_assert_eq!(w, last_complete_week(now));
                prop_assert!(w.end() <= now);
                prop_assert!(now < w.end() + WEEK);
            }
            let (next, at) = next_due(&s, now);
            prop_assert!(at > now);
            prop_assert_eq!(due_week(&s, at), Some(next));
        }

        /// Every week becomes due (none is skipped), in the week after it ends, and due times
        /// grow with the weeks.
        #[test]
        fn every_week_is_due_once_in_the_week_after_it_ends(
            s in any_slot(),
            day in 0i64..(60 * 366),
        ) {
            let w = IsoWeek::of(NaiveDate::from_ymd_opt(2000, 1, 3).unwrap() + Duration::days(day));
            let at = due_at(&s, w);
            prop_assert!(w.end() <= at && at < w.end() + WEEK, "{} due {}", w.label(), iso(at));
            prop_assert_eq!(due_week(&s, at), Some(w));
            prop_assert_ne!(due_week(&s, at - 1), Some(w));
            prop_assert!(due_at(&s, w.next()) > at);
        }
    }
}
