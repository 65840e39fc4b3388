//! One customer: its profile (who it is, how much it has been in touch and how it feels) and its
//! timeline (signals, survey responses and the events of its cases, in time order, page by page).
//!
//! Scope: a customer outside the scope's segments is `not_found` (ids do not leak). Under a team
//! limit the profile and the timeline show only the rows in scope: signals and survey responses
//! whose agent is of one of the teams, case events whose team is; a case counts when the team it
//! ended with is one of them (as `flow` and `case` decide).

use hearken_engine::scores::{NetSentiment, Nps, NpsTally, ScoreOptions, SentimentTally};
use hearken_model::{Channel, SignalKind};
use hearken_store::{FrameSource, TimelineCursor, TimelineItem, TimelineKind};
use serde::{Deserialize, Serialize};

use crate::case::case_in_scope;
use crate::error::{QueryError, Result};
use crate::meta::{PartialNote, partial};
use crate::scope::Scope;
use crate::signals::visible_customer;

/// At most this many NPS answers are listed in a profile (the newest); the counts cover all.
pub const MAX_NPS_ANSWERS: usize = 100;

/// A customer's profile.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerResponse {
    pub id: String,
    pub name: Option<String>,
    pub segment: Option<String>,
    pub persona: Option<String>,
    /// Customer since (Unix seconds).
    pub since: Option<i64>,
    pub value_per_year: Option<f64>,
    pub white_glove: bool,
    pub churned: bool,
    /// When it churned (Unix seconds).
    pub churned_at: Option<i64>,
    /// Only referenced by other rows: no customers file described it.
    pub stub: bool,
    /// Its signals, survey responses and cases (in the scope).
    pub signals: u64,
    pub surveys: u64,
    pub cases: u64,
    /// NPS over its answers to "how likely to recommend" (counts of promoters, passives and
    /// detractors; the interval says how little one customer's answers tell).
    pub nps: Nps,
    /// Its answers, newest first (at most [`MAX_NPS_ANSWERS`]).
    pub nps_answers: Vec<NpsAnswer>,
    /// Net sentiment of its signals: % positive minus % negative.
    pub net_sentiment: NetSentiment,
    /// Its first and latest signal, survey response or case event (Unix seconds).
    pub first_contact: Option<i64>,
    pub last_contact: Option<i64>,
    pub notes: Vec<String>,
    pub partial: Option<PartialNote>,
}

/// One answer to "how likely are you to recommend us" (0-10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NpsAnswer {
    /// The survey response's id.
    pub response_id: String,
    /// Unix seconds.
    pub at: i64,
    pub score: u8,
}

/// The customer's profile.
pub fn customer(store: &dyn FrameSource, scope: &Scope, id: &str) -> Result<CustomerResponse> {
    visible_customer(store, scope, id)?;
    let Some(p) = store.customer_profile(id)? else {
        return Err(not_found(id));
    };
    let signals = store.customer_signal_sentiments(id, &scope.teams)?;
    let answers = store.customer_nps_answers(id, &scope.teams)?;
    let case_ids = store.customer_cases(id)?;
    let events = store.case_events_of(&case_ids)?;
    // Cases in the scope: by the team each ended with (all of them without a team limit).
    let cases = if scope.teams.is_empty() {
        case_ids.len() as u64
    } else {
        let mut n = 0;
        for c in &case_ids {
            let of_case: Vec<_> = events.iter().filter(|e| &e.case_id == c).cloned().collect();
            if case_in_scope(&of_case, p.segment.as_deref(), scope)? {
                n += 1;
            }
        }
        n
    };
    let times = signals
        .iter()
        .map(|(at, _)| *at)
        .chain(answers.iter().map(|(_, at, _)| *at))
        .chain(
            events
                .iter()
                .filter(|e| scope.allows_team(e.team.as_deref()))
                .map(|e| e.at),
        );
    let (first_contact, last_contact) = times.fold((None, None), |(lo, hi), t| {
        (
            Some(lo.map_or(t, |l: i64| l.min(t))),
            Some(hi.map_or(t, |h: i64| h.max(t))),
        )
    });
    let opts = ScoreOptions::default();
    let scores: Vec<u8> = answers
        .iter()
        .map(|(_, _, s)| s.unwrap_or(u8::MAX))
        .collect();
    let nps =
        hearken_engine::scores::nps(&NpsTally::from_column(&scores, 0, 0..scores.len()), &opts);
    let compound: Vec<f32> = signals
        .iter()
        .map(|(_, s)| s.map_or(f32::NAN, |v| v as f32))
        .collect();
    let net_sentiment = hearken_engine::scores::net_sentiment(
        &SentimentTally::from_column(&compound, 0..compound.len()),
        &opts,
    );
    let mut nps_answers: Vec<NpsAnswer> = answers
        .iter()
        .filter_map(|(rid, at, s)| {
            s.map(|score| NpsAnswer {
                response_id: rid.clone(),
                at: *at,
                score,
            })
        })
        .collect();
    nps_answers.reverse();
    let mut notes = Vec::new();
    if nps_answers.len() > MAX_NPS_ANSWERS {
        notes.push(format!(
            "the newest {MAX_NPS_ANSWERS} of {} NPS answers are listed",
            nps_answers.len()
        ));
        nps_answers.truncate(MAX_NPS_ANSWERS);
    }
    if p.stub {
        notes.push(
            "no customers file described this customer: it is only referenced by other rows".into(),
        );
    }
    Ok(CustomerResponse {
        id: p.id,
        name: p.name,
        segment: p.segment,
        persona: p.persona,
        since: p.since,
        value_per_year: p.value_per_year,
        white_glove: p.white_glove,
        churned: p.churned_at.is_some(),
        churned_at: p.churned_at,
        stub: p.stub,
        signals: signals.len() as u64,
        surveys: answers.len() as u64,
        cases,
        nps,
        nps_answers,
        net_sentiment,
        first_contact,
        last_contact,
        notes,
        partial: partial(store, scope)?,
    })
}

fn not_found(id: &str) -> QueryError {
    QueryError::NotFound {
        what: "customer",
        id: id.to_string(),
        hint: "give a customer id as imported (its customer_id column)".into(),
    }
}

/// Which page of a timeline.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimelineRequest {
    /// Rows per page, oldest first (1 to 1,000).
    pub limit: usize,
    /// Where the page starts: the `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl Default for TimelineRequest {
    fn default() -> TimelineRequest {
        TimelineRequest {
            limit: 50,
            cursor: None,
        }
    }
}

pub const MAX_TIMELINE_PAGE: usize = 1_000;

/// One page of a customer's timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelinePage {
    pub customer_id: String,
    pub customer: Option<String>,
    /// Oldest first.
    pub items: Vec<TimelineEntry>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    pub notes: Vec<String>,
    pub partial: Option<PartialNote>,
}

/// What a timeline row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    Signal,
    Survey,
    CaseEvent,
}

/// A signal, survey response or case event of the customer, with names beside ids. Fields its
/// kind does not have are `null`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineEntry {
    pub kind: EntryKind,
    pub id: String,
    /// Unix seconds.
    pub at: i64,
    pub channel: Option<Channel>,
    /// The kind of a signal (complaint, question, ...).
    pub signal_kind: Option<SignalKind>,
    /// A signal's topic (the source's, else the classifier's).
    pub topic: Option<String>,
    /// A case event's activity: the stage the case entered.
    pub stage: Option<String>,
    pub case_id: Option<String>,
    pub product_id: Option<String>,
    pub product: Option<String>,
    pub agent_id: Option<String>,
    pub agent: Option<String>,
    pub team: Option<String>,
    /// A signal's text, a response's comment, an event's text.
    pub text: Option<String>,
    pub sentiment: Option<f64>,
    /// A survey response's scores.
    pub nps: Option<i64>,
    pub csat: Option<i64>,
    pub ces: Option<i64>,
    pub overall: Option<f64>,
}

impl From<TimelineItem> for TimelineEntry {
    fn from(t: TimelineItem) -> TimelineEntry {
        TimelineEntry {
            kind: match t.kind {
                TimelineKind::Signal => EntryKind::Signal,
                TimelineKind::Survey => EntryKind::Survey,
                TimelineKind::CaseEvent => EntryKind::CaseEvent,
            },
            id: t.id,
            at: t.at,
            channel: t.channel.and_then(Channel::from_code),
            signal_kind: t.signal_kind.and_then(SignalKind::from_code),
            topic: t.topic,
            stage: t.activity,
            case_id: t.case_id,
            product_id: t.product_id,
            product: t.product_name,
            agent_id: t.agent_id,
            agent: t.agent_name,
            team: t.team,
            text: t.text,
            sentiment: t.sentiment,
            nps: t.nps,
            csat: t.csat,
            ces: t.ces,
            overall: t.overall,
        }
    }
}

fn kind_code(k: TimelineKind) -> u8 {
    match k {
        TimelineKind::Signal => 0,
        TimelineKind::Survey => 1,
        TimelineKind::CaseEvent => 2,
    }
}

/// `at.kind.row`, the position of a timeline row.
fn cursor_of(t: &TimelineItem) -> String {
    format!("{}.{}.{}", t.at, kind_code(t.kind), t.row)
}

fn parse_cursor(s: &str) -> Result<TimelineCursor> {
    let bad =
        || QueryError::InvalidRequest(format!("`cursor` '{s}' is not a cursor this server gave"));
    let mut parts = s.split('.');
    let (Some(at), Some(kind), Some(row), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    let kind = match kind {
        "0" => TimelineKind::Signal,
        "1" => TimelineKind::Survey,
        "2" => TimelineKind::CaseEvent,
        _ => return Err(bad()),
    };
    Ok(TimelineCursor {
        at: at.parse().map_err(|_| bad())?,
        kind,
        row: row.parse().map_err(|_| bad())?,
    })
}

/// One page of the customer's timeline: its signals, survey responses and the events of its
/// cases, oldest first (at the same second: signals, then responses, then events).
pub fn customer_timeline(
    store: &dyn FrameSource,
    scope: &Scope,
    id: &str,
    req: &TimelineRequest,
) -> Result<TimelinePage> {
    if !(1..=MAX_TIMELINE_PAGE).contains(&req.limit) {
        return Err(QueryError::OutOfRange {
            field: "limit",
            value: req.limit.to_string(),
            allowed: format!("give 1 to {MAX_TIMELINE_PAGE} rows per page"),
        });
    }
    let after = req.cursor.as_deref().map(parse_cursor).transpose()?;
    visible_customer(store, scope, id)?;
    let Some(p) = store.customer_profile(id)? else {
        return Err(not_found(id));
    };
    let mut rows = store.customer_timeline(id, &scope.teams, after, req.limit + 1)?;
    let more = rows.len() > req.limit;
    rows.truncate(req.limit);
    let next_cursor = if more {
        rows.last().map(cursor_of)
    } else {
        None
    };
    Ok(TimelinePage {
        customer_id: p.id,
        customer: p.name,
        items: rows.into_iter().map(TimelineEntry::from).collect(),
        next_cursor,
        notes: Vec::new(),
        partial: partial(store, scope)?,
    })
}
