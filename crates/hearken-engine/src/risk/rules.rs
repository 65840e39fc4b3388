//! The transparent rule score: points per warning sign, each with its reason in words. Used when
//! the organisation has no churn history to learn from, and as the yardstick the learned model is
//! shown beside.
//!
//! | sign | points |
//! |---|---|
//! | negative signals in the last 30 days | 1 each, at most 2 |
//! | the worst sentiment of the last 60 days, `s < 0` | `-2 s` (up to 2) |
//! | a detractor answer (NPS 0-6) in the last 90 days | 2 |
//! | silent for 7 days or more since a negative contact or complaint | 1.5 |
//! | an unresolved case open for more than 7 days | 1 |
//! | an escalated case in the last 90 days | 1 |
//! | a repeat contact on one topic (within 7 days), or 3+ contacts on one topic, in the last 30 days | 1 |
//! | no contact for 3 times the customer's usual gap and 14 days at least (3+ contacts before) | 1 |
//! | a customer for less than 90 days | 0.5 |

use serde::Serialize;

use super::RiskIndex;
use super::features::Features;

/// A warning sign, the unit a reason is given in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sign {
    NegativeSignals,
    NegativeHistory,
    Detractor,
    SilentAfterComplaint,
    OpenCase,
    Escalated,
    RepeatTopic,
    Activity,
    Tenure,
    Segment,
    Profile,
}

/// The rule score of one customer: total points and the points per sign that fired.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleScore {
    pub points: f64,
    pub signs: Vec<(Sign, f64)>,
}

impl RuleScore {
    /// The reasons, most points first.
    pub fn reasons(&self, f: &Features, index: &RiskIndex) -> Vec<String> {
        self.signs
            .iter()
            .map(|&(s, _)| describe(s, f, index))
            .collect()
    }
}

/// Scores one customer's features by the rules in the module docs.
pub fn score(f: &Features) -> RuleScore {
    let mut signs: Vec<(Sign, f64)> = Vec::new();
    let negative = f64::from(f.negative_30.min(2)) + (-2.0 * f.worst_sentiment_60).clamp(0.0, 2.0);
    if negative > 0.0 {
        signs.push((Sign::NegativeSignals, negative));
    }
    if f.detractors_90 > 0 {
        signs.push((Sign::Detractor, 2.0));
    }
    if f.last_contact_negative && f.days_since_contact >= 7.0 {
        signs.push((Sign::SilentAfterComplaint, 1.5));
    }
    if f.open_cases > 0 && f.oldest_open_case_days > 7.0 {
        signs.push((Sign::OpenCase, 1.0));
    }
    if f.escalated_90 > 0 {
        signs.push((Sign::Escalated, 1.0));
    }
    if f.repeats_30 > 0 || f.top_topic_30.is_some_and(|(_, n)| n >= 3) {
        signs.push((Sign::RepeatTopic, 1.0));
    }
    if falling(f) {
        signs.push((Sign::Activity, 1.0));
    }
    if f.tenure_days < 90.0 {
        signs.push((Sign::Tenure, 0.5));
    }
    // Stable order: most points first, then the order of the table.
    signs.sort_by(|a, b| b.1.total_cmp(&a.1));
    RuleScore {
        points: signs.iter().map(|s| s.1).sum(),
        signs,
    }
}

/// Silence of three usual gaps, two weeks at least, after three contacts or more.
fn falling(f: &Features) -> bool {
    f.contacts >= 3
        && f.days_since_contact >= 14.0
        && f.days_since_contact >= 3.0 * f.usual_gap_days
}

fn plural(n: u32, one: &str, many: &str) -> String {
    if n == 1 {
        format!("1 {one}")
    } else {
        format!("{n} {many}")
    }
}

fn whole(days: f64) -> i64 {
    days.floor() as i64
}

/// The sign in words, with this customer's figures.
pub fn describe(sign: Sign, f: &Features, index: &RiskIndex) -> String {
    match sign {
        Sign::NegativeSignals => {
            if f.negative_30 > 0 {
                format!(
                    "{} in the last 30 days (worst sentiment {:.2})",
                    plural(f.negative_30, "negative signal", "negative signals"),
                    f.worst_sentiment_60
                )
            } else if f.worst_sentiment_60 < 0.0 {
                format!(
                    "worst sentiment {:.2} in the last 60 days",
                    f.worst_sentiment_60
                )
            } else {
                "no negative signal in the last 60 days".into()
            }
        }
        Sign::NegativeHistory => {
            if f.negative_share.is_nan() {
                "no sentiment on record".into()
            } else {
                format!(
                    "{:.0}% of {} negative (mean sentiment {:.2})",
                    100.0 * f.negative_share,
                    plural(f.contacts, "contact", "contacts"),
                    f.mean_sentiment
                )
            }
        }
        Sign::Detractor => match (f.detractors_90, f.last_nps) {
            (0, Some(n)) => format!("latest NPS answer {n}"),
            (0, None) => "no NPS answer on record".into(),
            (d, last) => format!(
                "{} in the last 90 days{}",
                plural(
                    d,
                    "detractor answer (NPS 0-6)",
                    "detractor answers (NPS 0-6)"
                ),
                last.map_or(String::new(), |n| format!(", latest NPS {n}"))
            ),
        },
        Sign::SilentAfterComplaint => format!(
            "silent for {} days since a negative contact",
            whole(f.days_since_contact)
        ),
        Sign::OpenCase => {
            if f.open_cases == 0 {
                "no unresolved case".into()
            } else {
                format!(
                    "{} unresolved, the oldest open for {} days",
                    plural(f.open_cases, "case", "cases"),
                    whole(f.oldest_open_case_days)
                )
            }
        }
        Sign::Escalated => format!(
            "{} in the last 90 days",
            plural(f.escalated_90, "escalated case", "escalated cases")
        ),
        Sign::RepeatTopic => match f.top_topic_30 {
            Some((t, n)) if n >= 2 => format!(
                "{n} contacts about {} in the last 30 days{}",
                index.topics.name(t).unwrap_or("one topic"),
                if f.repeats_30 > 0 {
                    format!(
                        " ({} within 7 days)",
                        plural(f.repeats_30, "repeat", "repeats")
                    )
                } else {
                    String::new()
                }
            ),
            _ => format!(
                "{} on one topic in the last 30 days",
                plural(f.repeats_30, "repeat contact", "repeat contacts")
            ),
        },
        Sign::Activity => {
            if f.days_since_contact.is_nan() {
                "no contact on record".into()
            } else if falling(f) || f.usual_gap_days.is_nan() {
                let gap = if f.usual_gap_days.is_nan() {
                    String::new()
                } else {
                    format!(" against a usual gap of {:.0} days", f.usual_gap_days)
                };
                format!("no contact for {} days{gap}", whole(f.days_since_contact))
            } else {
                format!(
                    "{} in the last 30 days against a usual gap of {:.0} days",
                    plural(f.contacts_30, "contact", "contacts"),
                    f.usual_gap_days
                )
            }
        }
        Sign::Tenure => {
            if f.tenure_days.is_nan() {
                "joining date unknown".into()
            } else {
                format!(
                    "a customer for {} days{}",
                    whole(f.tenure_days),
                    if f.tenure_days < 90.0 { " only" } else { "" }
                )
            }
        }
        Sign::Segment => match index.segments.name(f.segment) {
            Some(s) => format!("segment {s}"),
            None => "segment unknown".into(),
        },
        Sign::Profile => {
            let mut parts = Vec::new();
            if f.white_glove {
                parts.push("white-glove customer".to_string());
            }
            if !f.value_per_year.is_nan() {
                parts.push(format!("value per year {:.0}", f.value_per_year));
            }
            if parts.is_empty() {
                "no value on record".into()
            } else {
                parts.join(", ")
            }
        }
    }
}
