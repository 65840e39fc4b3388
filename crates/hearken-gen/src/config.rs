//! What to generate: [`GenConfig`], its defaults and its validation, and the window and effect
//! dates derived from it (from the config alone, never from the clock).

use chrono::{DateTime, Datelike, Months};
use hearken_model::Timestamp;

use crate::GenError;

/// A satisfaction aspect asked in surveys (`aspect_<name>`) and its true weight in `overall`.
#[derive(Debug, Clone, PartialEq)]
pub struct Aspect {
    pub name: String,
    pub weight: f64,
}

/// A one-week spike: the subtopic's volume in the week starting `week_start` is `multiplier`
/// times its usual rate.
#[derive(Debug, Clone, PartialEq)]
pub struct Spike {
    /// `topic/subtopic` from the taxonomy.
    pub topic: String,
    /// Midnight UTC of the first day of the week; default: the Monday nearest 40% into the window.
    pub week_start: Option<Timestamp>,
    pub multiplier: f64,
}

/// An improvement: from `at` on, each contact of the subtopic is made with probability `factor`;
/// the follow-ups on the case a removed contact would have opened are removed with it (the
/// problem did not happen), so the topic's volume falls a little more than to `factor` times.
#[derive(Debug, Clone, PartialEq)]
pub struct Improvement {
    pub topic: String,
    /// Midnight UTC; default: the first day of the middle month of the window.
    pub at: Option<Timestamp>,
    pub factor: f64,
}

/// A shift in how a subtopic's signals sound: from `at` on, a share `share` of the signals that
/// would have been negative are written neutral (no negative phrase), the rest as before.
#[derive(Debug, Clone, PartialEq)]
pub struct SentimentShift {
    pub topic: String,
    /// Midnight UTC; default: the improvement's default date (the first day of the middle month).
    pub at: Option<Timestamp>,
    pub share: f64,
}

/// Fewer repeat contacts on a subtopic: from `at` on, a contact that would continue an open case
/// of the subtopic happens with probability `factor` (the customer no longer needs to call
/// back); the others are not made.
#[derive(Debug, Clone, PartialEq)]
pub struct RepeatShift {
    pub topic: String,
    pub at: Option<Timestamp>,
    pub factor: f64,
}

/// A change in the NPS of a customer segment: from `at` on, the segment's answers are drawn
/// `shift` points higher on the 0-10 scale (before rounding and clamping).
#[derive(Debug, Clone, PartialEq)]
pub struct NpsShift {
    /// `consumer`, `smb` or `enterprise`.
    pub segment: String,
    pub at: Option<Timestamp>,
    pub shift: f64,
}

/// A change in the time cases spend in a stage: every visit to the activity `stage` that starts
/// at or after `at` lasts `factor` times as long (the wait until the case's next event).
#[derive(Debug, Clone, PartialEq)]
pub struct StageTimeShift {
    /// A case activity: `new`, `assigned`, `in_progress`, `waiting_on_customer`, `escalated`,
    /// `resolved`, `reopened`.
    pub stage: String,
    pub at: Option<Timestamp>,
    pub factor: f64,
}

/// A season: from `at` on, every topic's volume is `factor` times what it was (contacts and
/// employee suggestions thinned; churn warnings and survey comments untouched).
#[derive(Debug, Clone, PartialEq)]
pub struct Season {
    pub at: Option<Timestamp>,
    pub factor: f64,
}

/// Day-to-day noise in every topic's volume, as real contact volumes have: each topic's rate on
/// a day is multiplied by `exp(sd * z - sd^2 / 2)` (mean 1), `z` standard normal, correlated from
/// day to day (AR(1) with coefficient `rho`) and shared across topics to the extent `common`
/// (0: each topic its own, 1: the same for all). Counts become overdispersed and serially
/// correlated instead of Poisson.
#[derive(Debug, Clone, PartialEq)]
pub struct VolumeNoise {
    pub sd: f64,
    pub rho: f64,
    pub common: f64,
}

/// Everything the generator needs. Same config (including `seed`) gives the same bytes, whatever
/// `threads` is.
#[derive(Debug, Clone, PartialEq)]
pub struct GenConfig {
    pub customers: u64,
    pub months: u32,
    pub seed: u64,
    /// First instant of the window, midnight UTC. The window is `months` calendar months long.
    pub start: Timestamp,
    /// Average signals per customer per month over the window (all files' signal rows divided by
    /// customers x months comes out within a few percent of this).
    pub signals_per_customer_month: f64,
    pub products: u32,
    /// 0 = derived from `customers` (one agent per 2,000 customers, 15..=5,000).
    pub agents: u32,
    /// Lognormal sigma of the per-customer activity weight (1.6: top 20% of customers send ~75%
    /// of contacts).
    pub customer_sigma: f64,
    /// Lognormal sigma of the per-product weight.
    pub product_sigma: f64,
    /// Share of signals whose `topic` column is filled.
    pub labelled_topic_share: f64,
    /// Base monthly churn probability of a customer of average satisfaction.
    pub monthly_churn: f64,
    /// Survey aspects and their true weights in `overall` (sum ~1).
    pub aspects: Vec<Aspect>,
    pub spike: Option<Spike>,
    pub improvement: Option<Improvement>,
    pub sentiment_shift: Option<SentimentShift>,
    pub repeat_shift: Option<RepeatShift>,
    pub nps_shift: Option<NpsShift>,
    pub stage_time_shift: Option<StageTimeShift>,
    pub season: Option<Season>,
    pub noise: Option<VolumeNoise>,
    /// A stationary organisation: no customer joins during the window and none churns (every
    /// customer is active from the first day to the last), so no topic's volume or mix drifts
    /// with the customer base. For null scenarios of the effect validation; `false` by default
    /// (a fifth of the customers join during the window and `monthly_churn` applies).
    pub stationary: bool,
    /// Worker threads; 0 = all available cores. Does not change the output.
    pub threads: usize,
}

impl Default for GenConfig {
    fn default() -> GenConfig {
        GenConfig {
            customers: 10_000,
            months: 12,
            seed: 1,
            start: default_start(),
            signals_per_customer_month: 1.0,
            products: 120,
            agents: 0,
            customer_sigma: 1.6,
            product_sigma: 1.4,
            labelled_topic_share: 0.6,
            monthly_churn: 0.01,
            aspects: vec![
                Aspect {
                    name: "service".into(),
                    weight: 0.55,
                },
                Aspect {
                    name: "product".into(),
                    weight: 0.25,
                },
                Aspect {
                    name: "price".into(),
                    weight: 0.12,
                },
                Aspect {
                    name: "ease".into(),
                    weight: 0.08,
                },
            ],
            spike: Some(Spike {
                topic: "network/outage".into(),
                week_start: None,
                multiplier: 4.0,
            }),
            improvement: Some(Improvement {
                topic: "billing/double_charge".into(),
                at: None,
                factor: 0.35,
            }),
            sentiment_shift: None,
            repeat_shift: None,
            nps_shift: None,
            stage_time_shift: None,
            season: None,
            noise: None,
            stationary: false,
            threads: 0,
        }
    }
}

fn default_start() -> Timestamp {
    // 2025-01-01 is a valid date, so from_ymd cannot fail; the fallback is the same instant.
    Timestamp::from_ymd(2025, 1, 1).unwrap_or(Timestamp::from_unix(1_735_689_600))
}

pub(crate) const DAY: i64 = 86_400;

/// The window and effect dates resolved from a config.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    pub start: i64,
    pub end: i64,
    pub agents: u32,
    pub spike_week: Option<i64>,
    pub improvement_at: Option<i64>,
    pub sentiment_at: Option<i64>,
    pub repeat_at: Option<i64>,
    pub nps_at: Option<i64>,
    pub stage_at: Option<i64>,
    pub season_at: Option<i64>,
}

fn invalid(field: &'static str, reason: impl Into<String>) -> GenError {
    GenError::InvalidConfig {
        field,
        reason: reason.into(),
    }
}

fn add_months(ts: i64, months: u32) -> Option<i64> {
    let date = DateTime::from_timestamp(ts, 0)?.date_naive();
    let shifted = date.checked_add_months(Months::new(months))?;
    Some(shifted.and_hms_opt(0, 0, 0)?.and_utc().timestamp())
}

impl GenConfig {
    pub(crate) fn resolve(&self) -> Result<Resolved, GenError> {
        if !(1..=1_000_000_000).contains(&self.customers) {
            return Err(invalid("customers", "must be between 1 and 1000000000"));
        }
        if !(1..=120).contains(&self.months) {
            return Err(invalid("months", "must be between 1 and 120"));
        }
        let start = self.start.unix();
        let lo = Timestamp::from_ymd(1971, 1, 1).map_or(0, Timestamp::unix);
        let hi = Timestamp::from_ymd(8000, 1, 1).map_or(i64::MAX, Timestamp::unix);
        if start % DAY != 0 || start < lo || start > hi {
            return Err(invalid(
                "start",
                "must be midnight UTC of a date between 1971 and 8000, e.g. 2025-01-01",
            ));
        }
        let end = add_months(start, self.months)
            .ok_or_else(|| invalid("months", "the window ends past the supported dates"))?;
        let rate = self.signals_per_customer_month;
        if !(rate.is_finite() && rate > 0.0 && rate <= 1000.0) {
            return Err(invalid(
                "signals_per_customer_month",
                "must be in (0, 1000]",
            ));
        }
        if !(1..=100_000).contains(&self.products) {
            return Err(invalid("products", "must be between 1 and 100000"));
        }
        if self.agents != 0 && !(5..=100_000).contains(&self.agents) {
            return Err(invalid(
                "agents",
                "must be 0 (derived) or between 5 and 100000 (one per team at least)",
            ));
        }
        for (field, v) in [
            ("customer_sigma", self.customer_sigma),
            ("product_sigma", self.product_sigma),
        ] {
            if !(v.is_finite() && (0.0..=3.0).contains(&v)) {
                return Err(invalid(field, "must be between 0 and 3"));
            }
        }
        if !(0.0..=1.0).contains(&self.labelled_topic_share) {
            return Err(invalid("labelled_topic_share", "must be between 0 and 1"));
        }
        if !(0.0..=0.5).contains(&self.monthly_churn) {
            return Err(invalid("monthly_churn", "must be between 0 and 0.5"));
        }
        self.check_aspects()?;
        let agents = if self.agents == 0 {
            (self.customers / 2000).clamp(15, 5000) as u32
        } else {
            self.agents
        };
        let spike_week = match &self.spike {
            None => None,
            Some(s) => {
                if !(s.multiplier.is_finite() && (1.0..=50.0).contains(&s.multiplier)) {
                    return Err(invalid("spike.multiplier", "must be between 1 and 50"));
                }
                let week = match s.week_start {
                    Some(t) => t.unix(),
                    None => default_spike_week(start, end),
                };
                if week % DAY != 0 || week < start || week + 7 * DAY > end {
                    return Err(invalid(
                        "spike.week_start",
                        "must be midnight UTC with the whole week inside the window",
                    ));
                }
                Some(week)
            }
        };
        let improvement_at = match &self.improvement {
            None => None,
            Some(i) => {
                if !(i.factor.is_finite() && (0.0..=1.0).contains(&i.factor)) {
                    return Err(invalid("improvement.factor", "must be between 0 and 1"));
                }
                let at = match i.at {
                    Some(t) => t.unix(),
                    None if self.months >= 2 => {
                        add_months(start, self.months / 2).unwrap_or(start + 14 * DAY)
                    }
                    None => start + 14 * DAY,
                };
                if at % DAY != 0 || at <= start || at >= end {
                    return Err(invalid(
                        "improvement.at",
                        "must be midnight UTC strictly inside the window",
                    ));
                }
                Some(at)
            }
        };
        let default_at = if self.months >= 2 {
            add_months(start, self.months / 2).unwrap_or(start + 14 * DAY)
        } else {
            start + 14 * DAY
        };
        let at = |field: &'static str, at: Option<Timestamp>| -> Result<i64, GenError> {
            let at = at.map_or(default_at, Timestamp::unix);
            if at % DAY != 0 || at <= start || at >= end {
                return Err(invalid(
                    field,
                    "must be midnight UTC strictly inside the window",
                ));
            }
            Ok(at)
        };
        let in_range = |field: &'static str, v: f64, lo: f64, hi: f64| -> Result<(), GenError> {
            if v.is_finite() && (lo..=hi).contains(&v) {
                Ok(())
            } else {
                Err(invalid(field, format!("must be between {lo} and {hi}")))
            }
        };
        let sentiment_at = match &self.sentiment_shift {
            None => None,
            Some(x) => {
                in_range("sentiment_shift.share", x.share, 0.0, 1.0)?;
                Some(at("sentiment_shift.at", x.at)?)
            }
        };
        let repeat_at = match &self.repeat_shift {
            None => None,
            Some(x) => {
                in_range("repeat_shift.factor", x.factor, 0.0, 1.0)?;
                Some(at("repeat_shift.at", x.at)?)
            }
        };
        let nps_at = match &self.nps_shift {
            None => None,
            Some(x) => {
                in_range("nps_shift.shift", x.shift, -10.0, 10.0)?;
                Some(at("nps_shift.at", x.at)?)
            }
        };
        let stage_at = match &self.stage_time_shift {
            None => None,
            Some(x) => {
                in_range("stage_time_shift.factor", x.factor, 0.01, 10.0)?;
                Some(at("stage_time_shift.at", x.at)?)
            }
        };
        let season_at = match &self.season {
            None => None,
            Some(x) => {
                in_range("season.factor", x.factor, 0.01, 1.0)?;
                Some(at("season.at", x.at)?)
            }
        };
        if let Some(n) = &self.noise {
            in_range("noise.sd", n.sd, 0.0, 1.0)?;
            in_range("noise.rho", n.rho, 0.0, 0.99)?;
            in_range("noise.common", n.common, 0.0, 1.0)?;
        }
        Ok(Resolved {
            start,
            end,
            agents,
            spike_week,
            improvement_at,
            sentiment_at,
            repeat_at,
            nps_at,
            stage_at,
            season_at,
        })
    }

    fn check_aspects(&self) -> Result<(), GenError> {
        if self.aspects.is_empty() || self.aspects.len() > 12 {
            return Err(invalid("aspects", "give between 1 and 12 aspects"));
        }
        let mut total = 0.0;
        for (i, a) in self.aspects.iter().enumerate() {
            let ok_name = a.name.len() <= 40
                && a.name.starts_with(|c: char| c.is_ascii_lowercase())
                && a.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !ok_name {
                return Err(invalid(
                    "aspects",
                    format!(
                        "aspect name '{}' must be lowercase letters, digits and _",
                        a.name
                    ),
                ));
            }
            if self.aspects[..i].iter().any(|b| b.name == a.name) {
                return Err(invalid(
                    "aspects",
                    format!("aspect '{}' is listed twice", a.name),
                ));
            }
            if !(a.weight.is_finite() && a.weight >= 0.0) {
                return Err(invalid("aspects", "weights must be non-negative"));
            }
            total += a.weight;
        }
        if !(0.9..=1.1).contains(&total) {
            return Err(invalid(
                "aspects",
                format!("weights sum to {total}, make them sum to 1"),
            ));
        }
        Ok(())
    }
}

/// The Monday on or after the point 40% into the window (or the window start when the window is
/// too short for that week to fit).
fn default_spike_week(start: i64, end: i64) -> i64 {
    let target = start + ((end - start) * 2 / 5) / DAY * DAY;
    let weekday = DateTime::from_timestamp(target, 0)
        .map(|d| d.weekday().num_days_from_monday())
        .unwrap_or(0);
    let monday = target + i64::from((7 - weekday) % 7) * DAY;
    if monday + 7 * DAY <= end {
        monday
    } else {
        start
    }
}

/// `YYYY-MM-DD` of a UTC timestamp, for the truth.
pub(crate) fn date_of(ts: i64) -> String {
    Timestamp::from_unix(ts).date_string()
}

/// Midnight UTC of a date, for tests of the derived dates.
#[cfg(test)]
pub(crate) fn ymd(y: i32, m: u32, d: u32) -> i64 {
    chrono::NaiveDate::from_ymd_opt(y, m, d)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| d.and_utc().timestamp())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_resolve_to_calendar_dates() {
        let cfg = GenConfig {
            months: 10,
            ..GenConfig::default()
        };
        let r = cfg.resolve().unwrap();
        assert_eq!(r.start, ymd(2025, 1, 1));
        assert_eq!(r.end, ymd(2025, 11, 1));
        assert_eq!(r.improvement_at, Some(ymd(2025, 6, 1)));
        let week = r.spike_week.unwrap();
        let monday = DateTime::from_timestamp(week, 0).unwrap().weekday();
        assert_eq!(monday, chrono::Weekday::Mon);
        assert!(week > r.start && week + 7 * DAY <= r.end);
        assert_eq!(r.agents, 15);
    }

    #[test]
    fn bad_settings_name_the_field() {
        let bad = [
            GenConfig {
                customers: 0,
                ..GenConfig::default()
            },
            GenConfig {
                months: 0,
                ..GenConfig::default()
            },
            GenConfig {
                start: Timestamp::from_unix(ymd(2025, 1, 1) + 5),
                ..GenConfig::default()
            },
            GenConfig {
                aspects: vec![Aspect {
                    name: "Service".into(),
                    weight: 1.0,
                }],
                ..GenConfig::default()
            },
            GenConfig {
                aspects: vec![Aspect {
                    name: "service".into(),
                    weight: 0.5,
                }],
                ..GenConfig::default()
            },
            GenConfig {
                agents: 3,
                ..GenConfig::default()
            },
            GenConfig {
                signals_per_customer_month: f64::NAN,
                ..GenConfig::default()
            },
        ];
        let fields = [
            "customers",
            "months",
            "start",
            "aspects",
            "aspects",
            "agents",
            "signals_per_customer_month",
        ];
        for (cfg, field) in bad.iter().zip(fields) {
            match cfg.resolve() {
                Err(GenError::InvalidConfig { field: f, .. }) => assert_eq!(f, field),
                other => panic!("{field}: {other:?}"),
            }
        }
        let short = GenConfig {
            months: 1,
            ..GenConfig::default()
        };
        let r = short.resolve().unwrap();
        assert_eq!(r.improvement_at, Some(r.start + 14 * DAY));
        assert!(r.spike_week.unwrap() + 7 * DAY <= r.end);
    }
}
