//! Employees' suggestions: signals whose source is an employee, each with a status the employee
//! can see: `received`, `under_review`, `action` (turned into an action, named), `done` (an action
//! it motivated is done or verified), `declined` (with the reason). Reviews are recorded in the
//! store (append-only, who and when); the action statuses come from the actions linked to the
//! suggestion. A suggestion becomes an action in one step ([`suggestion_to_action`]), linked to
//! it, so the employee is told when the action is done (the store's notifications).
//!
//! Data scopes: a suggestion has an employee and no customer, so it is inside a team limit when
//! the employee's team is one of the teams, and outside any segment limit (ADR 0005).

use hearken_model::{ActionStatus, Source};
use hearken_store::{ActionStore, SignalQuery, SuggestionReview};
use serde::{Deserialize, Serialize};

use crate::actions::{ActionDetail, CreateActionRequest, create_action};
use crate::error::{QueryError, Result};
use crate::meta::{PartialNote, partial};
use crate::scope::Scope;

/// The statuses a suggestion can have, in the order it moves through them.
pub const STATUSES: [&str; 5] = ["received", "under_review", "action", "done", "declined"];

/// Which suggestions to list (`GET /api/v1/suggestions`, `hearken suggestions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "utoipa", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields, default)]
pub struct SuggestionsRequest {
    /// Only this employee's (the agent id the signal names).
    pub employee: Option<String>,
    /// Only suggestions in this status: received, under_review, action, done, declined.
    pub status: Option<String>,
    /// At most this many, newest first (1 to 10,000).
    #[cfg_attr(feature = "utoipa", param(minimum = 1, maximum = 10_000))]
    pub limit: usize,
}

impl Default for SuggestionsRequest {
    fn default() -> SuggestionsRequest {
        SuggestionsRequest {
            employee: None,
            status: None,
            limit: 100,
        }
    }
}

/// A review of a suggestion (`POST /api/v1/suggestions/{id}/review`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReviewRequest {
    /// received, under_review or declined.
    pub status: String,
    /// Why it was declined (required to decline).
    #[serde(default)]
    pub reason: Option<String>,
}

/// A suggestion turned into an action (`POST /api/v1/suggestions/{id}/action`): the action's
/// fields; the title defaults to the suggestion's text (its first 200 bytes, on one line).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, default)]
pub struct SuggestionActionRequest {
    pub title: Option<String>,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub metric: Option<String>,
    pub planned_for: Option<String>,
    pub created_at: Option<String>,
    /// Topics it is about; default: the suggestion's topic, when it has one.
    pub topics: Vec<String>,
}

/// An action a suggestion is linked to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct SuggestionActionView {
    pub id: i64,
    pub title: String,
    pub status: String,
}

/// One suggestion with its status.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct SuggestionView {
    /// The signal's id.
    pub id: String,
    pub at: String,
    /// The employee (the agent id) and their name and team.
    pub employee: Option<String>,
    pub employee_name: Option<String>,
    pub team: Option<String>,
    pub topic: Option<String>,
    pub text: Option<String>,
    /// received, under_review, action, done, declined.
    pub status: String,
    /// What the employee reads: "received", "turned into action 3", "declined: ...".
    pub status_text: String,
    /// Why it was declined.
    pub reason: Option<String>,
    /// Who reviewed it last, and when.
    pub reviewed_by: Option<String>,
    pub reviewed_at: Option<String>,
    pub actions: Vec<SuggestionActionView>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct SuggestionsList {
    pub suggestions: Vec<SuggestionView>,
    /// Suggestions matching before the limit.
    pub total: u64,
    pub notes: Vec<String>,
    pub partial: Option<PartialNote>,
}

fn time(t: i64) -> String {
    hearken_model::Timestamp::from_unix(t).to_rfc3339()
}

fn invalid(field: &'static str, value: &str, reason: String) -> QueryError {
    QueryError::Action {
        code: "invalid_value",
        status: 422,
        message: format!("`{field}` '{value}' {reason}"),
        hint: format!("correct `{field}` and try again"),
    }
}

fn not_found(id: &str) -> QueryError {
    QueryError::NotFound {
        what: "suggestion",
        id: id.to_string(),
        hint:
            "a suggestion is a signal whose source is an employee; `hearken suggestions` lists them"
                .into(),
    }
}

/// The suggestions' statuses, from their reviews and their actions.
fn views(
    store: &dyn ActionStore,
    records: Vec<hearken_store::SignalRecord>,
) -> Result<Vec<SuggestionView>> {
    let rows: Vec<i64> = records.iter().map(|r| r.row).collect();
    let mut states = store
        .suggestion_states(&rows)
        .map_err(|e| QueryError::Refused(e.to_string()))?;
    Ok(records
        .into_iter()
        .map(|r| {
            let st = states.remove(&r.row).unwrap_or_default();
            let live: Vec<_> = st
                .actions
                .iter()
                .filter(|a| a.status != ActionStatus::Dropped)
                .collect();
            let done = live
                .iter()
                .find(|a| matches!(a.status, ActionStatus::Done | ActionStatus::Verified));
            let (status, text) = if let Some(a) = done {
                ("done", format!("done: action {}, \"{}\"", a.id, a.title))
            } else if let Some(a) = live.first() {
                (
                    "action",
                    format!(
                        "turned into action {}, \"{}\" ({})",
                        a.id, a.title, a.status
                    ),
                )
            } else {
                match &st.review {
                    Some(rv) if rv.state == SuggestionReview::Declined => (
                        "declined",
                        format!("declined: {}", rv.reason.as_deref().unwrap_or("")),
                    ),
                    Some(rv) if rv.state == SuggestionReview::UnderReview => {
                        ("under_review", "under review".to_string())
                    }
                    _ => ("received", "received".to_string()),
                }
            };
            SuggestionView {
                id: r.id,
                at: time(r.at),
                employee: r.agent_id,
                employee_name: r.agent_name,
                team: r.team,
                topic: r.topic.or(r.predicted_topic),
                text: r.text,
                status: status.to_string(),
                status_text: text,
                reason: st
                    .review
                    .as_ref()
                    .filter(|rv| rv.state == SuggestionReview::Declined)
                    .and_then(|rv| rv.reason.clone()),
                reviewed_by: st.review.as_ref().map(|rv| rv.who.clone()),
                reviewed_at: st.review.as_ref().map(|rv| time(rv.at)),
                actions: st
                    .actions
                    .iter()
                    .map(|a| SuggestionActionView {
                        id: a.id,
                        title: a.title.clone(),
                        status: a.status.as_str().to_string(),
                    })
                    .collect(),
            }
        })
        .collect())
}

fn query(scope: &Scope) -> SignalQuery {
    SignalQuery {
        source: Some(Source::Employee.code()),
        segments: scope.segments.clone(),
        teams: scope.teams.clone(),
        ..SignalQuery::default()
    }
}

/// Employees' suggestions, newest first, with their statuses.
pub fn suggestions(
    store: &dyn ActionStore,
    scope: &Scope,
    req: &SuggestionsRequest,
) -> Result<SuggestionsList> {
    if !(1..=10_000).contains(&req.limit) {
        return Err(QueryError::OutOfRange {
            field: "limit",
            value: req.limit.to_string(),
            allowed: "give 1 to 10,000".into(),
        });
    }
    if let Some(s) = &req.status
        && !STATUSES.contains(&s.as_str())
    {
        return Err(invalid(
            "status",
            s,
            format!(
                "is not a suggestion status; use one of: {}",
                STATUSES.join(", ")
            ),
        ));
    }
    let mut q = query(scope);
    if let Some(e) = &req.employee {
        if !store
            .entity_known(hearken_store::Entity::Agent, e)
            .map_err(crate::actions::action_error)?
        {
            return Err(QueryError::NotFound {
                what: "employee",
                id: e.clone(),
                hint: "give the agent id the employee's signals name".into(),
            });
        }
        q.agent = Some(e.clone());
    }
    let records = store.frames().signal_records(&q, usize::MAX)?;
    let mut all = views(store, records)?;
    if let Some(s) = &req.status {
        all.retain(|v| &v.status == s);
    }
    let total = all.len() as u64;
    all.truncate(req.limit);
    let mut notes = Vec::new();
    if total == 0 {
        notes.push(
            "no suggestion matches: suggestions are signals whose source is an employee".into(),
        );
    } else if total as usize > all.len() {
        notes.push(format!(
            "{} of {total} shown; raise `limit` for more",
            all.len()
        ));
    }
    Ok(SuggestionsList {
        suggestions: all,
        total,
        notes,
        partial: partial(store.frames(), scope)?,
    })
}

/// The suggestion with this signal id, within the scope.
fn one(store: &dyn ActionStore, scope: &Scope, id: &str) -> Result<hearken_store::SignalRecord> {
    let r = store
        .frames()
        .signal_record(id)?
        .ok_or_else(|| not_found(id))?;
    if r.source != Source::Employee.code() {
        return Err(not_found(id));
    }
    if !scope.allows_segment(r.segment.as_deref()) || !scope.allows_team(r.team.as_deref()) {
        return Err(not_found(id));
    }
    Ok(r)
}

/// One suggestion with its status.
pub fn suggestion(store: &dyn ActionStore, scope: &Scope, id: &str) -> Result<SuggestionView> {
    let r = one(store, scope, id)?;
    let mut v = views(store, vec![r])?;
    v.pop().ok_or_else(|| not_found(id))
}

/// Records a review: `received`, `under_review`, or `declined` with a reason.
pub fn review_suggestion(
    store: &mut dyn ActionStore,
    scope: &Scope,
    id: &str,
    req: &ReviewRequest,
    who: &str,
) -> Result<SuggestionView> {
    one(store, scope, id)?;
    let state: SuggestionReview = req.status.parse().map_err(|_| {
        invalid(
            "status",
            &req.status,
            "is not a review status; use received, under_review or declined (an action is made with `hearken suggestions act`)".into(),
        )
    })?;
    store
        .review_suggestion(id, state, req.reason.as_deref(), who)
        .map_err(|e| match e {
            hearken_store::ActionError::Invalid {
                field,
                value,
                reason,
            } => invalid(field, &value, reason),
            hearken_store::ActionError::Store(s) => QueryError::Store(s),
            other => QueryError::Refused(other.to_string()),
        })?;
    suggestion(store, scope, id)
}

/// Turns a suggestion into an action in one step: an action linked to the suggestion (and to its
/// topic, unless topics are given), titled with its text unless a title is given.
pub fn suggestion_to_action(
    store: &mut dyn ActionStore,
    scope: &Scope,
    id: &str,
    req: &SuggestionActionRequest,
    who: &str,
) -> Result<ActionDetail> {
    let r = one(store, scope, id)?;
    let title = match &req.title {
        Some(t) => t.clone(),
        None => {
            let text = r
                .text
                .as_deref()
                .unwrap_or("")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            let mut t = String::new();
            for ch in text.chars() {
                if t.len() + ch.len_utf8() > 200 {
                    break;
                }
                t.push(ch);
            }
            if t.is_empty() {
                return Err(invalid(
                    "title",
                    "",
                    "is needed: the suggestion has no text to take it from".into(),
                ));
            }
            t
        }
    };
    let topics = if req.topics.is_empty() {
        r.topic
            .clone()
            .or(r.predicted_topic.clone())
            .into_iter()
            .collect()
    } else {
        req.topics.clone()
    };
    let create = CreateActionRequest {
        title,
        description: req.description.clone(),
        owner: req.owner.clone(),
        metric: req.metric.clone(),
        planned_for: req.planned_for.clone(),
        created_at: req.created_at.clone(),
        topics,
        suggestions: vec![r.id.clone()],
        ..CreateActionRequest::default()
    };
    create_action(store, scope, &create, who)
}
