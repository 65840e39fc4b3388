//! One case with its events in order, its customer and product, and what case flow says of it:
//! duration, transfers, loops, escalations, whether its first owner resolved it, whether it is
//! open. Every figure is `hearken_flow`'s, computed on the one case.
//!
//! Scope: a case is in a scope when the team it ended with (the team of its last event that
//! names one) is one of the scope's teams and its customer's segment one of its segments, as
//! `flow` decides; a case outside is `not_found`.

use hearken_flow::{
    CaseEventColumns, CaseFilter, Dimension, EventLog, FlowConfig, FlowQuery, FlowReport, GroupBy,
};
use hearken_model::Channel;
use hearken_store::{CaseEventRow, FrameSource};
use serde::Serialize;

use crate::error::{QueryError, Result};
use crate::meta::{PartialNote, partial};
use crate::scope::Scope;

/// A case and its events.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseResponse {
    pub id: String,
    pub customer_id: Option<String>,
    pub customer: Option<String>,
    pub segment: Option<String>,
    pub product_id: Option<String>,
    pub product: Option<String>,
    pub channel: Option<Channel>,
    /// The team the case ended with (the team of its last event that names one).
    pub team: Option<String>,
    /// Its events in time order (ties in import order).
    pub events: Vec<CaseEventView>,
    /// Its first and last event (Unix seconds) and the hours between them.
    pub started_at: Option<i64>,
    pub ended_at: Option<i64>,
    pub duration_hours: Option<f64>,
    /// Consecutive events whose (known) agents differ.
    pub transfers: u64,
    /// Times the case re-entered a stage it had left.
    pub loops: u64,
    /// Entries into an escalation activity (by the default rule, see `flow`).
    pub escalations: u64,
    /// The agent of its first event that has one, and of its last.
    pub first_owner_id: Option<String>,
    pub first_owner: Option<String>,
    pub last_owner_id: Option<String>,
    pub last_owner: Option<String>,
    /// Whether the first owner is the last owner; `null` when no event names an agent.
    pub resolved_by_first_owner: Option<bool>,
    /// Whether its last activity is not a closing one; `null` when none of its activities closes
    /// a case by the default rule (openness unknown).
    pub open: Option<bool>,
    /// The signals and survey responses about the case (their ids).
    pub signals: Vec<String>,
    pub surveys: Vec<String>,
    pub notes: Vec<String>,
    pub partial: Option<PartialNote>,
}

/// One event of a case.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseEventView {
    pub id: String,
    /// Unix seconds.
    pub at: i64,
    /// The activity: the stage the case entered.
    pub stage: String,
    pub agent_id: Option<String>,
    pub agent: Option<String>,
    /// The event's team, else its agent's.
    pub team: Option<String>,
    pub text: Option<String>,
    pub sentiment: Option<f64>,
}

/// One case's events as a log (times in ms).
fn case_log(events: &[CaseEventRow]) -> Result<EventLog> {
    let case: Vec<&str> = events.iter().map(|e| e.case_id.as_str()).collect();
    let at_ms: Vec<i64> = events.iter().map(|e| e.at.saturating_mul(1000)).collect();
    let activity: Vec<&str> = events.iter().map(|e| e.activity.as_str()).collect();
    let agent: Vec<Option<&str>> = events.iter().map(|e| e.agent_id.as_deref()).collect();
    let team: Vec<Option<&str>> = events.iter().map(|e| e.team.as_deref()).collect();
    let text: Vec<Option<&str>> = events.iter().map(|e| e.text.as_deref()).collect();
    let sentiment: Vec<Option<f32>> = events
        .iter()
        .map(|e| e.sentiment.map(|v| v as f32))
        .collect();
    EventLog::from_columns(CaseEventColumns {
        case: &case,
        at_ms: &at_ms,
        activity: &activity,
        agent: &agent,
        team: &team,
        text: &text,
        sentiment: Some(&sentiment),
        attributes: &[],
    })
    .map_err(|e| QueryError::Refused(format!("the case's events cannot be analysed: {e}")))
}

/// The case's figures, and the team it ended with (the `team` grouping of flow).
fn case_report(log: &EventLog) -> Result<(FlowReport, Option<String>)> {
    let grouped = FlowQuery {
        config: FlowConfig {
            group_by: Some(GroupBy::Team),
            ..FlowConfig::default()
        },
        filter: CaseFilter::default(),
    };
    match hearken_flow::run_query(log, &grouped) {
        Ok(r) => {
            let team = r
                .groups
                .as_ref()
                .and_then(|g| g.groups.first())
                .map(|g| g.key.clone())
                .filter(|k| k != "(none)");
            Ok((r, team))
        }
        // No event names a team.
        Err(_) => {
            let r = hearken_flow::run_query(log, &FlowQuery::default())
                .map_err(|e| QueryError::Refused(e.to_string()))?;
            Ok((r, None))
        }
    }
}

/// Whether a case (its events, and its customer's segment) is inside the scope: its segment is
/// one of the scope's and the team it ended with one of its teams.
pub(crate) fn case_in_scope(
    events: &[CaseEventRow],
    segment: Option<&str>,
    scope: &Scope,
) -> Result<bool> {
    if !scope.allows_segment(segment) {
        return Ok(false);
    }
    if scope.teams.is_empty() {
        return Ok(true);
    }
    if events.is_empty() {
        return Ok(false);
    }
    let log = case_log(events)?;
    let q = FlowQuery {
        config: FlowConfig::default(),
        filter: CaseFilter {
            within: vec![(Dimension::Team, scope.teams.clone())],
            ..CaseFilter::default()
        },
    };
    let r = hearken_flow::run_query(&log, &q).map_err(|e| QueryError::Refused(e.to_string()))?;
    Ok(r.cases == 1)
}

fn not_found(id: &str) -> QueryError {
    QueryError::NotFound {
        what: "case",
        id: id.to_string(),
        hint: "give a case id as imported (its case_id column)".into(),
    }
}

/// The case with this id and its events.
pub fn case(store: &dyn FrameSource, scope: &Scope, id: &str) -> Result<CaseResponse> {
    let Some(h) = store.case_header(id)? else {
        return Err(not_found(id));
    };
    let events = store.case_events_of(std::slice::from_ref(&h.id))?;
    if !case_in_scope(&events, h.segment.as_deref(), scope)? {
        return Err(not_found(id));
    }
    let mut notes = Vec::new();
    let (report, team) = if events.is_empty() {
        notes.push("the case has no events: only signals or survey responses name it".to_string());
        (None, None)
    } else {
        let (r, t) = case_report(&case_log(&events)?)?;
        (Some(r), t)
    };
    let owner = |first: bool| {
        let mut it = events.iter().filter(|e| e.agent_id.is_some());
        let e = if first { it.next() } else { it.next_back() };
        e.map(|e| (e.agent_id.clone(), e.agent_name.clone()))
            .unwrap_or((None, None))
    };
    let (first_owner_id, first_owner) = owner(true);
    let (last_owner_id, last_owner) = owner(false);
    let r = report.as_ref();
    let resolved_by_first_owner = r
        .filter(|r| r.first_owner_cases == 1)
        .map(|r| r.first_owner_resolved == 1);
    let open = r.and_then(|r| r.open_cases).map(|o| o == 1);
    if r.is_some_and(|r| r.open_cases.is_none()) {
        notes.push(
            "none of its activities closes a case by the default rule, so whether it is open is unknown"
                .into(),
        );
    }
    Ok(CaseResponse {
        id: h.id,
        customer_id: h.customer_id,
        customer: h.customer_name,
        segment: h.segment,
        product_id: h.product_id,
        product: h.product_name,
        channel: h.channel.and_then(Channel::from_code),
        team,
        started_at: events.first().map(|e| e.at),
        ended_at: events.last().map(|e| e.at),
        duration_hours: r.and_then(|r| r.mean_case_duration_hours),
        transfers: r.map_or(0, |r| r.transfers_total),
        loops: r.map_or(0, |r| r.loops_total),
        escalations: r.map_or(0, |r| r.escalation.escalations_total),
        first_owner_id,
        first_owner,
        last_owner_id,
        last_owner,
        resolved_by_first_owner,
        open,
        events: events
            .into_iter()
            .map(|e| CaseEventView {
                id: e.id,
                at: e.at,
                stage: e.activity,
                agent_id: e.agent_id,
                agent: e.agent_name,
                team: e.team,
                text: e.text,
                sentiment: e.sentiment,
            })
            .collect(),
        signals: h.signals,
        surveys: h.surveys,
        notes,
        partial: partial(store, scope)?,
    })
}
