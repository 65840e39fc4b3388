//! A customer's warning signs as of a date, from its rows strictly before that date.

use serde::Serialize;

use super::{CaseStep, DAY, RiskIndex};
use crate::frame::NONE;
use crate::scores::MISSING_SCORE;

/// What the data before the as-of date says about one customer. Counts over "the last N days"
/// cover `[as_of - N days, as_of)`. NaN marks a figure that cannot be formed (no contact, one
/// contact, no sentiment, no answer, no `since`, no value).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Features {
    /// Contacts (signals) before the as-of date, ever.
    pub contacts: u32,
    pub contacts_30: u32,
    pub contacts_90: u32,
    /// Contacts with sentiment at or below -0.05 (VADER's negative threshold).
    pub negative_30: u32,
    pub negative_90: u32,
    pub complaints_30: u32,
    /// The lowest sentiment of the last 60 days; 0 when none was scored.
    pub worst_sentiment_60: f64,
    /// Mean sentiment of every scored contact before the as-of date.
    pub mean_sentiment: f64,
    /// Share of scored contacts that were negative.
    pub negative_share: f64,
    /// Days from the last contact to the as-of date.
    pub days_since_contact: f64,
    /// The customer's own rhythm: mean days between its contacts (two contacts at least).
    pub usual_gap_days: f64,
    /// The last contact was negative (sentiment) or a complaint.
    pub last_contact_negative: bool,
    /// Days of history: from the first contact or answer to the as-of date.
    pub history_days: f64,
    pub answers: u32,
    /// Answers with NPS 0-6 in the last 90 days.
    pub detractors_90: u32,
    /// The latest NPS answer before the as-of date.
    pub last_nps: Option<u8>,
    /// The lowest `overall` rating in the last 90 days.
    pub worst_overall_90: f64,
    /// Cases opened before the as-of date whose latest step before it is not a closing one.
    pub open_cases: u32,
    /// Days the oldest open case has been open; 0 when none.
    pub oldest_open_case_days: f64,
    /// Cases with an escalation in the last 90 days.
    pub escalated_90: u32,
    /// Contacts in the last 30 days that repeat the same topic within 7 days.
    pub repeats_30: u32,
    /// The topic with the most contacts in the last 30 days and their number.
    pub top_topic_30: Option<(u32, u32)>,
    /// Days since the customer joined (0 when it joins after the as-of date).
    pub tenure_days: f64,
    pub white_glove: bool,
    pub value_per_year: f64,
    /// Segment code ([`NONE`] when unknown).
    pub segment: u32,
}

/// A sentiment at or below this is negative (VADER's convention, as everywhere in Hearken).
fn neg(s: f32) -> bool {
    s <= crate::scores::NEGATIVE_AT
}

const COMPLAINT: u8 = 2;

impl RiskIndex {
    /// The customer's features as of `as_of` (rows with `at < as_of` only). Defined for every
    /// customer code, also one with no rows (then counts are zero and the rest NaN).
    pub fn features(&self, customer: u32, as_of: i64) -> Features {
        let k = customer as usize;
        let (cs, ce) = if k < self.n {
            (self.contact_start[k], self.contact_start[k + 1])
        } else {
            (0, 0)
        };
        let rows = &self.contacts[cs..ce];
        let n = rows.partition_point(|c| c.at < as_of);
        let before = &rows[..n];

        let mut f = Features {
            contacts: n as u32,
            contacts_30: 0,
            contacts_90: 0,
            negative_30: 0,
            negative_90: 0,
            complaints_30: 0,
            worst_sentiment_60: 0.0,
            mean_sentiment: f64::NAN,
            negative_share: f64::NAN,
            days_since_contact: f64::NAN,
            usual_gap_days: f64::NAN,
            last_contact_negative: false,
            history_days: f64::NAN,
            answers: 0,
            detractors_90: 0,
            last_nps: None,
            worst_overall_90: f64::NAN,
            open_cases: 0,
            oldest_open_case_days: 0.0,
            escalated_90: 0,
            repeats_30: 0,
            top_topic_30: None,
            tenure_days: f64::NAN,
            white_glove: self.white_glove.get(k).copied().unwrap_or(false),
            value_per_year: self.value.get(k).copied().unwrap_or(f64::NAN),
            segment: self.segment.get(k).copied().unwrap_or(NONE),
        };
        let days = |secs: i64| secs as f64 / DAY as f64;

        // History from the prefix sums.
        let scored = self.scored_prefix[cs + n] - self.scored_prefix[cs];
        if scored > 0 {
            let negs = self.neg_prefix[cs + n] - self.neg_prefix[cs];
            f.mean_sentiment =
                (self.sent_prefix[cs + n] - self.sent_prefix[cs]) / f64::from(scored);
            f.negative_share = f64::from(negs) / f64::from(scored);
        }
        let mut first_seen = None::<i64>;
        if let (Some(first), Some(last)) = (before.first(), before.last()) {
            first_seen = Some(first.at);
            f.days_since_contact = days(as_of - last.at);
            if n >= 2 {
                f.usual_gap_days = days(last.at - first.at) / (n - 1) as f64;
            }
            f.last_contact_negative = neg(last.sentiment) || last.kind == COMPLAINT;
        }

        // The recent window, walked back from the as-of date.
        let mut topics: Vec<(u32, u32)> = Vec::new();
        for c in before.iter().rev() {
            let age = as_of - c.at;
            if age > 90 * DAY {
                break;
            }
            f.contacts_90 += 1;
            f.negative_90 += u32::from(neg(c.sentiment));
            if age <= 60 * DAY && !c.sentiment.is_nan() {
                f.worst_sentiment_60 = f.worst_sentiment_60.min(f64::from(c.sentiment));
            }
            if age <= 30 * DAY {
                f.contacts_30 += 1;
                f.negative_30 += u32::from(neg(c.sentiment));
                f.complaints_30 += u32::from(c.kind == COMPLAINT);
                f.repeats_30 += u32::from(c.repeat);
                if c.topic != NONE {
                    match topics.iter_mut().find(|(t, _)| *t == c.topic) {
                        Some((_, m)) => *m += 1,
                        None => topics.push((c.topic, 1)),
                    }
                }
            }
        }
        // Most contacts first, then the lowest topic code, so ties are stable.
        f.top_topic_30 = topics
            .into_iter()
            .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)));

        // Survey answers.
        if k < self.n {
            let answers = &self.answers[self.answer_start[k]..self.answer_start[k + 1]];
            let m = answers.partition_point(|a| a.at < as_of);
            f.answers = m as u32;
            if let Some(a) = answers.first().filter(|_| m > 0) {
                first_seen = Some(first_seen.map_or(a.at, |s| s.min(a.at)));
            }
            f.last_nps = answers[..m]
                .iter()
                .rev()
                .find(|a| a.nps != MISSING_SCORE)
                .map(|a| a.nps);
            for a in answers[..m].iter().rev() {
                if as_of - a.at > 90 * DAY {
                    break;
                }
                if a.nps != MISSING_SCORE && a.nps <= 6 {
                    f.detractors_90 += 1;
                }
                if !a.overall.is_nan() {
                    let o = f64::from(a.overall);
                    f.worst_overall_90 = if f.worst_overall_90.is_nan() {
                        o
                    } else {
                        f.worst_overall_90.min(o)
                    };
                }
            }

            // Cases, in order of opening.
            for case in &self.cases[self.case_start[k]..self.case_start[k + 1]] {
                let opened = case.opened;
                if opened >= as_of {
                    break;
                }
                if case.linked >= as_of {
                    continue;
                }
                let steps = &self.steps[case.steps.clone()];
                let m = steps.partition_point(|s| s.0 < as_of);
                if m == 0 {
                    continue;
                }
                if steps[m - 1].1 != CaseStep::Closed {
                    f.open_cases += 1;
                    f.oldest_open_case_days = f.oldest_open_case_days.max(days(as_of - opened));
                }
                if steps[..m]
                    .iter()
                    .any(|s| s.1 == CaseStep::Escalated && as_of - s.0 <= 90 * DAY)
                {
                    f.escalated_90 += 1;
                }
            }
            let since = self.since[k];
            if since != i64::MIN {
                f.tenure_days = days(as_of - since).max(0.0);
            }
        }
        if let Some(first) = first_seen {
            f.history_days = days(as_of - first);
        }
        f
    }
}
