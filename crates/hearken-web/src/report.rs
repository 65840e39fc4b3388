//! The weekly one-page report: this week against last (better, same or worse, and whether the
//! change is significant), the top issues with a few verbatims, case-flow health, the actions
//! done, and a good-news story, on one A4 page. The same HTML for `hearken report --week W`,
//! `/report?week=W` and the PDF (headless Chromium, [`crate::pdf`]).
//!
//! Every number is a query-layer answer for the caller's scope: `scores` with `against_from` /
//! `against_to` (the change, its interval and p-value), `issues` (rank, signals, negative share,
//! evidence), `flow` (cases started in the week), `pareto --by topic` (the good news: the topic
//! whose signals fell most), `signals --kind compliment` (a customer's words). docs/report.md
//! gives the formula of each from the raw rows.
//!
//! A week with no signal, no survey response and no case is a page that says so, not zeros.
//! The page bounds what it lists (three issues, two verbatims each, texts and names clipped), so
//! a very busy week still fits on one page.
//!
//! Scheduled delivery (issue 12): [`crate::delivery`] calls [`build`] and [`render`] for each
//! configured recipient with the recipient's scope and hands the page to the outbox.

use askama::Template;
use chrono::{Datelike, Duration, NaiveDate, Weekday};
use hearken_query::{
    By, FlowRequest, IssuesRequest, Metric, ParetoRequest, Scope, ScoresRequest, ScoresResponse,
    SignalsRequest,
};
use hearken_store::TeamStore;

use crate::html::{clip, count, hours};
use crate::pages::parts::{p_text, value_text};
use crate::view::PageError;

/// An ISO week, Monday 00:00 UTC to the next Monday.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Week {
    pub year: i32,
    pub week: u32,
    pub monday: NaiveDate,
}

impl Week {
    /// Parses `2026-W47` (ISO 8601 week date; `2026-w47` too).
    pub fn parse(s: &str) -> Result<Week, PageError> {
        let bad = || {
            PageError::new(400, "invalid_date", format!("'{s}' is not an ISO week"))
                .hint("give the week as YYYY-Www, e.g. 2026-W47")
        };
        let (y, w) = s.trim().split_once(['W', 'w']).ok_or_else(bad)?;
        let year: i32 = y.trim_end_matches('-').parse().map_err(|_| bad())?;
        let week: u32 = w.parse().map_err(|_| bad())?;
        let monday = NaiveDate::from_isoywd_opt(year, week, Weekday::Mon).ok_or_else(|| {
            PageError::new(400, "invalid_date", format!("{year} has no week {week}"))
                .hint("ISO years have 52 or 53 weeks")
        })?;
        Ok(Week { year, week, monday })
    }

    pub fn of(day: NaiveDate) -> Week {
        let iso = day.iso_week();
        Week {
            year: iso.year(),
            week: iso.week(),
            monday: day - Duration::days(i64::from(day.weekday().num_days_from_monday())),
        }
    }

    pub fn label(&self) -> String {
        format!("{}-W{:02}", self.year, self.week)
    }

    pub fn before(&self) -> Week {
        Week::of(self.monday - Duration::days(7))
    }

    fn from(&self) -> String {
        self.monday.format("%Y-%m-%d").to_string()
    }

    fn to(&self) -> String {
        (self.monday + Duration::days(7))
            .format("%Y-%m-%d")
            .to_string()
    }

    /// `Mon 16 Nov to Sun 22 Nov 2026`.
    pub fn span(&self) -> String {
        format!(
            "{} to {}",
            self.monday.format("%a %-d %b"),
            (self.monday + Duration::days(6)).format("%a %-d %b %Y")
        )
    }
}

/// One score, this week against last.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoreLine {
    pub label: &'static str,
    pub now: String,
    pub before: String,
    pub diff: String,
    /// `better`, `same`, `worse`, or `no data`.
    pub verdict: String,
    pub class: &'static str,
    pub significance: String,
    pub n: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct IssueLine {
    pub rank: usize,
    pub topic: String,
    pub signals: String,
    pub negative: String,
    pub verbatims: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FlowLine {
    pub label: &'static str,
    pub now: String,
    pub before: String,
}

/// The report's content.
#[derive(Debug, Clone, PartialEq)]
pub struct WeeklyReport {
    pub week: String,
    pub span: String,
    pub scope: String,
    /// Nothing happened in the week (no signal, response or case): the page says so.
    pub empty: bool,
    pub signals: String,
    pub responses: String,
    pub scores: Vec<ScoreLine>,
    pub issues: Vec<IssueLine>,
    pub issues_note: Option<String>,
    pub flow: Vec<FlowLine>,
    pub flow_note: Option<String>,
    pub actions: Vec<String>,
    pub good_news: Vec<String>,
    pub notes: Vec<String>,
}

/// The report's actions section: every action done in the week (status done or verified, by its
/// done date), then every action whose after window closed in the week, with its effect as
/// `hearken actions effect` measures it (the query layer's `action_effect`, default windows).
fn action_lines(store: &dyn TeamStore, scope: &Scope, week: &Week) -> Vec<String> {
    let list = match hearken_query::actions(store, scope, &hearken_query::ActionsRequest::default())
    {
        Ok(l) => l.actions,
        Err(e) => return vec![format!("Actions are not shown: {e}")],
    };
    let req = hearken_query::EffectRequest::default();
    let after = Duration::days(i64::from(req.after));
    let done_day = |a: &hearken_query::ActionView| {
        a.done_at
            .as_deref()
            .and_then(|d| NaiveDate::parse_from_str(d.get(..10)?, "%Y-%m-%d").ok())
    };
    let in_week = |d: NaiveDate| d >= week.monday && d < week.monday + Duration::days(7);
    let mut lines = Vec::new();
    for a in &list {
        let Some(d) = done_day(a) else { continue };
        if in_week(d) {
            lines.push(format!(
                "Done {}: {}{}{}; its effect is measured after {} days.",
                d.format("%a %-d %b"),
                clip(&a.title, 60),
                a.owner
                    .as_deref()
                    .map_or(String::new(), |o| format!(" ({})", clip(o, 30))),
                a.metric
                    .as_deref()
                    .map_or(String::new(), |m| format!(", on {m}")),
                req.after
            ));
        }
    }
    for a in &list {
        let Some(d) = done_day(a) else { continue };
        if !in_week(d + after) {
            continue;
        }
        let text = match hearken_query::action_effect(store, scope, a.id, &req) {
            Ok(e) => effect_text(&e),
            Err(e) => format!("not measured: {e}"),
        };
        lines.push(format!(
            "Effect of {} (done {}): {text}",
            clip(&a.title, 60),
            d.format("%-d %b %Y")
        ));
    }
    if lines.is_empty() {
        lines.push("No improvement action was done this week, and none has an effect due.".into());
    }
    // The report is one page: at most MAX_ACTION_LINES, and a pointer to the rest.
    if lines.len() > MAX_ACTION_LINES {
        let more = lines.len() - (MAX_ACTION_LINES - 1);
        lines.truncate(MAX_ACTION_LINES - 1);
        lines.push(format!(
            "And {more} more: `hearken actions list --status done` and `hearken actions effect ID`."
        ));
    }
    lines
}

/// Lines of the actions section, so the report stays one page.
const MAX_ACTION_LINES: usize = 4;

/// One sentence: the change against the controls (difference-in-differences) with its interval,
/// or the naive before/after change when there are no controls.
pub(crate) fn effect_text(r: &hearken_query::EffectResponse) -> String {
    use hearken_engine::effect::{Scale, Status};
    let e = &r.effect;
    let rel = matches!(e.scale, Scale::Relative);
    let v = |x: Option<f64>| match x {
        None => "n/a".to_string(),
        Some(x) if rel => format!("{:+.1}%", x * 100.0),
        Some(x) => format!("{x:+.2} points"),
    };
    let (est, how) = if e.did.controls.is_empty() {
        (&e.estimate, "before against after, no control group")
    } else {
        (&e.did.estimate, "against similar groups")
    };
    if !matches!(est.status, Status::Estimated) {
        return format!("{} not estimated ({:?}).", e.metric.name(), est.status);
    }
    format!(
        "{} {} ({:.0}% interval {} to {}; {how}{}).",
        e.metric.name(),
        v(est.change),
        e.level * 100.0,
        v(est.low),
        v(est.high),
        match est.significant {
            Some(true) => ", significant",
            Some(false) => ", not significant",
            None => "",
        }
    )
}

fn q<T>(r: hearken_query::Result<T>) -> Result<T, PageError> {
    r.map_err(PageError::from)
}

fn change(
    store: &dyn TeamStore,
    scope: &Scope,
    metric: Metric,
    week: &Week,
) -> Result<hearken_query::scores::ScoreChange, PageError> {
    let before = week.before();
    let req = ScoresRequest {
        metric,
        from: Some(week.from()),
        to: Some(week.to()),
        against_from: Some(before.from()),
        against_to: Some(before.to()),
        ..ScoresRequest::default()
    };
    match q(hearken_query::scores(store, scope, &req))? {
        ScoresResponse::Change(c) => Ok(*c),
        _ => Err(PageError::new(
            500,
            "internal",
            "scores did not answer a change",
        )),
    }
}

fn score_line(metric: Metric, c: &hearken_query::scores::ScoreChange) -> ScoreLine {
    let ch = &c.change;
    let no_data = c.selection.quality().no_data || c.baseline.quality().no_data;
    let (verdict, class) = match (no_data, ch.diff, ch.significant) {
        (true, _, _) | (_, None, _) => ("no comparison", "same"),
        (_, Some(_), Some(false) | None) => ("same", "same"),
        (_, Some(d), Some(true)) if d > 0.0 => ("better", "better"),
        _ => ("worse", "worse"),
    };
    let significance = match (no_data, ch.p_value, ch.significant) {
        (true, _, _) => {
            if c.selection.quality().no_data {
                "no responses this week".to_string()
            } else {
                "no responses last week".to_string()
            }
        }
        (_, Some(p), Some(s)) => format!(
            "{} (p = {}){}",
            if s { "significant" } else { "not significant" },
            p_text(p),
            if ch.quality.small_sample {
                "; small sample"
            } else {
                ""
            }
        ),
        _ => "cannot be tested".to_string(),
    };
    ScoreLine {
        label: metric.label(),
        now: value_text(metric, c.selection.value()),
        before: value_text(metric, c.baseline.value()),
        diff: ch.diff.map_or("n/a".into(), |d| format!("{d:+.1}")),
        verdict: verdict.to_string(),
        class,
        significance,
        n: format!("{} / {}", count(ch.n_after), count(ch.n_before)),
    }
}

fn scope_label(scope: &Scope) -> String {
    if !scope.is_limited() {
        return "the whole organisation".into();
    }
    let mut parts = Vec::new();
    if !scope.segments.is_empty() {
        parts.push(format!("segments {}", scope.segments.join(", ")));
    }
    if !scope.teams.is_empty() {
        parts.push(format!("teams {}", scope.teams.join(", ")));
    }
    parts.join("; ")
}

/// The report of `week` for `scope`.
pub fn build(store: &dyn TeamStore, scope: &Scope, week: &Week) -> Result<WeeklyReport, PageError> {
    let before = week.before();
    let sentiment = change(store, scope, Metric::Sentiment, week)?;
    let nps = change(store, scope, Metric::Nps, week)?;
    let csat = change(store, scope, Metric::Csat, week)?;
    let ces = change(store, scope, Metric::Ces, week)?;
    let window = |w: &Week| hearken_query::Filters {
        from: Some(w.from()),
        to: Some(w.to()),
        ..hearken_query::Filters::default()
    };
    let flow_now = q(hearken_query::flow(
        store,
        scope,
        &FlowRequest::default().with_filters(window(week)),
    ));
    let cases_now = flow_now.as_ref().map_or(0, |f| f.report.cases);
    // Signals of the week: scored and unscored (net sentiment counts the scored ones).
    let signals_now = match &sentiment.selection {
        hearken_query::scores::Estimate::Sentiment(e) => e.n + e.unscored,
        other => other.n(),
    };
    let mut r = WeeklyReport {
        week: week.label(),
        span: week.span(),
        scope: scope_label(scope),
        empty: false,
        signals: count(signals_now),
        responses: String::new(),
        scores: Vec::new(),
        issues: Vec::new(),
        issues_note: None,
        flow: Vec::new(),
        flow_note: None,
        actions: Vec::new(),
        good_news: Vec::new(),
        notes: Vec::new(),
    };
    let responses = [&nps, &csat, &ces]
        .iter()
        .map(|c| c.selection.n())
        .max()
        .unwrap_or(0);
    if signals_now == 0 && responses == 0 && cases_now == 0 {
        r.empty = true;
        return Ok(r);
    }
    r.responses = count(responses);
    for (m, c) in [
        (Metric::Nps, &nps),
        (Metric::Csat, &csat),
        (Metric::Ces, &ces),
        (Metric::Sentiment, &sentiment),
    ] {
        r.scores.push(score_line(m, c));
    }

    // Top issues of the week, with verbatims.
    match q(hearken_query::issues(
        store,
        scope,
        &IssuesRequest {
            limit: 3,
            evidence: 2,
            ..IssuesRequest::default()
        }
        .with_filters(window(week)),
    )) {
        Ok(is) => {
            for i in &is.issues {
                r.issues.push(IssueLine {
                    rank: i.rank,
                    topic: clip(&i.topic, 60),
                    signals: format!(
                        "{} signal{}",
                        count(i.signals),
                        if i.signals == 1 { "" } else { "s" }
                    ),
                    negative: i
                        .negative_share
                        .map_or("n/a".into(), |s| format!("{:.0}%", s * 100.0)),
                    verbatims: i
                        .evidence
                        .iter()
                        .filter_map(|e| e.text.as_deref())
                        .map(|t| clip(&t.split_whitespace().collect::<Vec<_>>().join(" "), 170))
                        .collect(),
                });
            }
            if is.issues.is_empty() {
                r.issues_note = Some("No topic had signals this week.".into());
            }
        }
        Err(e) if e.code == "no_topics" => {
            r.issues_note = Some("No signal of this week has a topic, so issues cannot be ranked (import a topic column or train a classifier).".into());
        }
        Err(e) => r.issues_note = Some(e.message),
    }

    // Case-flow health: the cases started in each week.
    let flow_before = q(hearken_query::flow(
        store,
        scope,
        &FlowRequest::default().with_filters(window(&before)),
    ));
    match (&flow_now, &flow_before) {
        (Ok(a), Ok(b)) => {
            let (a, b) = (&a.report, &b.report);
            let pc = |v: Option<f64>| v.map_or("n/a".into(), |v| format!("{v:.0}%"));
            r.flow = vec![
                FlowLine {
                    label: "cases started",
                    now: count(a.cases),
                    before: count(b.cases),
                },
                FlowLine {
                    label: "median duration",
                    now: hours(a.median_case_duration_hours),
                    before: hours(b.median_case_duration_hours),
                },
                FlowLine {
                    label: "resolved by first owner",
                    now: pc(a.first_owner_resolution_pct),
                    before: pc(b.first_owner_resolution_pct),
                },
                FlowLine {
                    label: "escalated",
                    now: pc(a.escalation.escalation_rate_pct),
                    before: pc(b.escalation.escalation_rate_pct),
                },
                FlowLine {
                    label: "still open",
                    now: a.open_cases.map_or("n/a".into(), count),
                    before: b.open_cases.map_or("n/a".into(), count),
                },
            ];
            if a.cases == 0 {
                r.flow_note = Some("No case started this week.".into());
            }
        }
        (Err(e), _) | (_, Err(e)) => r.flow_note = Some(e.message.clone()),
    }

    // Actions: those done this week, and those whose effect window (28 days after the done
    // date, the effect's default) closed this week, with the measured effect.
    r.actions = action_lines(store, scope, week);

    // Good news: a significant improvement, the topic whose signals fell most, a compliment.
    for l in &r.scores {
        if l.verdict == "better" {
            r.good_news.push(format!(
                "{} rose from {} to {} ({}), {}.",
                l.label, l.before, l.now, l.diff, l.significance
            ));
        }
    }
    let topics = |w: &Week| {
        q(hearken_query::pareto(
            store,
            scope,
            &ParetoRequest {
                by: By::Topic,
                top: hearken_query::pareto::MAX_TOP,
                ..ParetoRequest::default()
            }
            .with_filters(window(w)),
        ))
    };
    if let (Ok(now), Ok(then)) = (topics(week), topics(&before)) {
        let fall = then
            .top
            .iter()
            .map(|t| {
                let n = now
                    .top
                    .iter()
                    .find(|x| x.entity == t.entity)
                    .map_or(0, |x| x.contacts);
                (t.entity.clone(), t.contacts, n)
            })
            .filter(|(_, b, n)| n < b)
            .max_by_key(|(name, b, n)| (b - n, std::cmp::Reverse(name.clone())));
        if let Some((topic, b, n)) = fall {
            r.good_news.push(format!(
                "Fewer signals about {}: {} this week against {} last week.",
                clip(&topic, 60),
                count(n),
                count(b)
            ));
        }
    }
    if let Ok(page) = q(hearken_query::signals(
        store,
        scope,
        &SignalsRequest {
            kind: Some("compliment".into()),
            limit: 1,
            ..SignalsRequest::default()
        }
        .with_filters(window(week)),
    )) && let Some(text) = page.signals.first().and_then(|s| s.text.as_deref())
    {
        r.good_news.push(format!(
            "A customer wrote: \u{201c}{}\u{201d}",
            clip(text, 200)
        ));
    }
    if r.good_news.is_empty() {
        r.good_news
            .push("No score rose significantly and no topic fell this week.".into());
    }
    r.notes.push("Scores: NPS, CSAT and CES of survey responses, net sentiment of signals; better or worse only when the change is significant at 90% (two-sided). Case figures: cases started in the week. Formulas: docs/report.md.".into());
    Ok(r)
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportTemplate<'a> {
    r: &'a WeeklyReport,
    /// The dashboard's copy has a way back and a week picker (hidden in print).
    nav: bool,
}

/// The report as one HTML document (inline style, A4).
pub fn render(r: &WeeklyReport, nav: bool) -> Result<String, PageError> {
    ReportTemplate { r, nav }.render().map_err(|e| {
        tracing::error!(error = %e, "the report template failed");
        PageError::new(
            500,
            "internal",
            "the report failed to render; the cause is in the log",
        )
    })
}

/// The last week with signals in the scope (the default of `/report`).
pub fn latest_week(store: &dyn TeamStore, scope: &Scope) -> Result<Option<Week>, PageError> {
    let req = ScoresRequest {
        metric: Metric::Sentiment,
        by: Some(By::Week),
        ..ScoresRequest::default()
    };
    Ok(match q(hearken_query::scores(store, scope, &req))? {
        ScoresResponse::Groups(g) => g
            .groups
            .iter()
            .rev()
            .find(|g| g.estimate.n() > 0)
            .and_then(|g| NaiveDate::parse_from_str(&g.group, "%Y-%m-%d").ok())
            .map(Week::of),
        _ => None,
    })
}

/// `/report?week=`: the report of the week asked for, else of the last week with data.
pub fn page(store: &dyn TeamStore, scope: &Scope, week: Option<&str>) -> Result<String, PageError> {
    let week = match week {
        Some(w) => Week::parse(w)?,
        None => match latest_week(store, scope)? {
            Some(w) => w,
            None => {
                return Err(
                    PageError::new(404, "no_data", "there are no signals to report on")
                        .hint("import signals first (`hearken import FILE --kind signals`)"),
                );
            }
        },
    };
    render(&build(store, scope, &week)?, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_weeks_parse_and_name_their_days() {
        let w = Week::parse("2026-W47").unwrap();
        assert_eq!(w.monday, NaiveDate::from_ymd_opt(2026, 11, 16).unwrap());
        assert_eq!(w.label(), "2026-W47");
        assert_eq!(w.before().label(), "2026-W46");
        assert_eq!(
            Week::parse("2026-W01").unwrap().before().label(),
            "2025-W52"
        );
        assert_eq!(
            Week::parse("2021-W01").unwrap().monday,
            NaiveDate::from_ymd_opt(2021, 1, 4).unwrap()
        );
        assert_eq!(w.span(), "Mon 16 Nov to Sun 22 Nov 2026");
        for bad in ["2026", "2026-W54", "W47", "2026-Wxx", "2025-W53"] {
            assert!(Week::parse(bad).is_err(), "{bad}");
        }
        assert!(Week::parse("2020-W53").is_ok());
    }
}
