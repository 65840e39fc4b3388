//! Pieces several pages share: a score's headline figure and verdict, periods, query calls that
//! turn the query layer's errors into a section's message.

use chrono::{Duration, NaiveDate};
use hearken_query::scores::{Estimate, ScoreChange};
use hearken_query::{Metric, Scope, ScoresRequest, ScoresResponse};
use hearken_store::TeamStore;

use crate::filters::PageQuery;
use crate::html::{count, one, signed};
use crate::view::{PageError, Stat};

/// A half-open window of days `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    pub fn from_str(&self) -> String {
        self.from.format("%Y-%m-%d").to_string()
    }
    pub fn to_str(&self) -> String {
        self.to.format("%Y-%m-%d").to_string()
    }
    /// The same length just before.
    pub fn before(&self) -> Period {
        let len = self.to - self.from;
        Period {
            from: self.from - len,
            to: self.from,
        }
    }
    /// `2026-01-05 to 2026-02-02` (the end is exclusive, shown as the last day).
    pub fn label(&self) -> String {
        format!(
            "{} to {}",
            self.from.format("%Y-%m-%d"),
            (self.to - Duration::days(1)).format("%Y-%m-%d")
        )
    }
    /// These filters with this window.
    pub fn on(&self, q: &PageQuery) -> PageQuery {
        PageQuery {
            from: Some(self.from_str()),
            to: Some(self.to_str()),
            ..q.clone()
        }
    }
}

/// A `YYYY-MM-DD` date (the first ten characters of an ISO date or date-time).
pub fn date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.get(..10)?, "%Y-%m-%d").ok()
}

/// The period a page compares with the one before: the URL's `from`..`to` when both are given,
/// else the four weeks before `last_week` (the start of the last week that has data, which may
/// still be running).
pub fn period(q: &PageQuery, last_week: Option<NaiveDate>) -> Result<Option<Period>, PageError> {
    match (&q.from, &q.to) {
        (Some(f), Some(t)) => match (date(f), date(t)) {
            (Some(from), Some(to)) if from < to => Ok(Some(Period { from, to })),
            (Some(_), Some(_)) => Err(PageError::new(
                400,
                "empty_window",
                "'from' is not before 'to'",
            )),
            _ => Err(PageError::new(
                400,
                "invalid_date",
                "give 'from' and 'to' as YYYY-MM-DD dates to compare periods",
            )),
        },
        // The last week with data may still be running: the four weeks before it.
        (None, None) => Ok(last_week.map(|w| Period {
            from: w - Duration::days(28),
            to: w,
        })),
        _ => Err(PageError::new(
            400,
            "conflicting_options",
            "this comparison needs both 'from' and 'to' (or neither: the last four weeks with data)",
        )),
    }
}

/// A query-layer call's error as a page's.
pub fn q<T>(r: hearken_query::Result<T>) -> Result<T, PageError> {
    r.map_err(PageError::from)
}

/// The score of `metric` over `period` against the period before it.
pub fn change(
    store: &dyn TeamStore,
    scope: &Scope,
    q: &PageQuery,
    metric: Metric,
    p: &Period,
) -> Result<ScoreChange, PageError> {
    let before = p.before();
    let req = ScoresRequest {
        metric,
        against_from: Some(before.from_str()),
        against_to: Some(before.to_str()),
        ..ScoresRequest::default()
    }
    .with_filters(p.on(q).filters());
    match hearken_query::scores(store, scope, &req)? {
        ScoresResponse::Change(c) => Ok(*c),
        _ => Err(PageError::new(
            500,
            "internal",
            "scores did not answer a change",
        )),
    }
}

/// Better, worse or the same (higher is better for all four scores: NPS, CSAT, CES on the 7 =
/// very easy scale, net sentiment), and whether the change is significant at the level.
pub fn verdict(c: &ScoreChange) -> Option<(String, &'static str)> {
    let ch = &c.change;
    let diff = ch.diff?;
    let significant = ch.significant.unwrap_or(false);
    let p = ch
        .p_value
        .map_or_else(String::new, |p| format!(", p = {}", p_text(p)));
    Some(if !significant {
        (format!("same: {diff:+.1}, not significant{p}"), "same")
    } else if diff > 0.0 {
        (format!("better: {diff:+.1}, significant{p}"), "better")
    } else {
        (format!("worse: {diff:+.1}, significant{p}"), "worse")
    })
}

pub fn p_text(p: f64) -> String {
    if p < 0.001 {
        "< 0.001".into()
    } else {
        format!("{p:.3}")
    }
}

/// A score's value as text: NPS and net sentiment signed, CSAT a percentage, CES a mean.
pub fn value_text(metric: Metric, v: Option<f64>) -> String {
    match metric {
        Metric::Nps | Metric::Sentiment => signed(v),
        Metric::Csat => v.map_or_else(|| "n/a".into(), |v| format!("{v:.1}%")),
        Metric::Ces => v.map_or_else(|| "n/a".into(), |v| format!("{v:.2}")),
    }
}

/// The interval and sample of an estimate, or why there is no value.
pub fn detail(e: &Estimate) -> String {
    let q = e.quality();
    if q.no_data {
        return "no data in this selection".into();
    }
    let (lo, hi) = e.interval();
    let mut s = format!(
        "{:.0}% interval {} to {}; n = {}",
        e.level() * 100.0,
        one(lo),
        one(hi),
        count(e.n())
    );
    if q.small_sample {
        s.push_str(" (small sample)");
    }
    s
}

/// The headline figure of a score against the period before.
pub fn change_stat(metric: Metric, c: &ScoreChange, href: Option<String>) -> Stat {
    let e = &c.selection;
    let before = value_text(metric, c.baseline.value());
    Stat {
        label: metric.label().to_string(),
        value: if e.quality().no_data {
            "no data".into()
        } else {
            value_text(metric, e.value())
        },
        href,
        detail: format!("{}; the period before: {before}", detail(e)),
        badge: verdict(c),
    }
}
