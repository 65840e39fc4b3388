//! Improvement actions: create, list, show, change, link, and measure the effect of one
//! (`hearken actions ...`, `/api/v1/actions`). The store keeps the actions, their links and
//! their history (crates/hearken-store/src/actions.rs); this module turns requests into the
//! store's calls, answers with views that name things and carry RFC 3339 dates, and measures an
//! action's effect with `hearken_engine::effect` on observations built from the store
//! (docs/effects.md, "What comes in").
//!
//! Writes take the name of who makes them (`who`): the OS user on the command line, the token's
//! name over HTTP. Actions belong to the whole organisation (their links name customers, signals
//! and topics of every segment and team), so a caller with a data scope is refused
//! (`out_of_scope`), as for imports.

use std::collections::HashMap;

use hearken_engine::effect::{
    self, ControlRule, Effect, EffectOptions, Metric as EffectMetric, Observations,
    Scope as EffectScope, csat_value, nps_value, repeat_value, sentiment_value,
};
use hearken_engine::repeats::repeat_flags;
use hearken_engine::stats::Level;
use hearken_engine::{Dict, NONE};
use hearken_model::{ActionStatus, DateOptions, Timestamp};
use hearken_store::{
    ActionChange, ActionError, ActionFilter, ActionRecord, ActionStore, FrameSource, HistoryEntry,
    Link, LinkKind, NewAction, SignalColumns, SurveyColumns, Window,
};
use serde::{Deserialize, Serialize};

use crate::error::{QueryError, Result};
use crate::meta::{PartialNote, partial};
use crate::scope::Scope;
use crate::select::ensure_fresh;

/// What "improvement actions" are called in a refusal for a scoped caller.
const WHAT: &str = "improvement actions";

/// The links of a new action or of a `link` request, by kind: names of topics, segments and
/// stages, ids of signals, customers, products and suggestions (an employee's signal).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, default)]
pub struct Links {
    pub topics: Vec<String>,
    pub signals: Vec<String>,
    pub customers: Vec<String>,
    pub products: Vec<String>,
    pub segments: Vec<String>,
    pub stages: Vec<String>,
    pub suggestions: Vec<String>,
}

impl Links {
    fn to_store(&self) -> Vec<Link> {
        let kinds: [(LinkKind, &Vec<String>); 7] = [
            (LinkKind::Topic, &self.topics),
            (LinkKind::Signal, &self.signals),
            (LinkKind::Customer, &self.customers),
            (LinkKind::Product, &self.products),
            (LinkKind::Segment, &self.segments),
            (LinkKind::Stage, &self.stages),
            (LinkKind::Suggestion, &self.suggestions),
        ];
        kinds
            .into_iter()
            .flat_map(|(kind, values)| {
                values.iter().map(move |v| Link {
                    kind,
                    value: v.clone(),
                })
            })
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.to_store().is_empty()
    }
}

/// A new action (`POST /api/v1/actions`, `hearken actions create`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateActionRequest {
    /// One line, at most 200 bytes.
    pub title: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The department that owns it.
    #[serde(default)]
    pub owner: Option<String>,
    /// The metric it should move: volume, repeat_rate, net_sentiment, nps, csat, stage_time,
    /// transfers_per_case.
    #[serde(default)]
    pub metric: Option<String>,
    /// The date it is planned to be done by (ISO 8601).
    #[serde(default)]
    pub planned_for: Option<String>,
    /// When it was created, for an action recorded after the fact (ISO 8601; default now; not
    /// in the future). Its status dates cannot be earlier.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Topics it is about (names).
    #[serde(default)]
    pub topics: Vec<String>,
    /// Signals that motivated it (ids).
    #[serde(default)]
    pub signals: Vec<String>,
    /// Customers it concerns (ids).
    #[serde(default)]
    pub customers: Vec<String>,
    /// Products it concerns (ids).
    #[serde(default)]
    pub products: Vec<String>,
    /// Customer segments it concerns.
    #[serde(default)]
    pub segments: Vec<String>,
    /// Case stages (activities) it concerns.
    #[serde(default)]
    pub stages: Vec<String>,
    /// Employees' suggestions it takes up (signal ids).
    #[serde(default)]
    pub suggestions: Vec<String>,
}

impl CreateActionRequest {
    /// Its links. (Written out rather than `#[serde(flatten)]`: serde cannot refuse unknown
    /// fields of a struct with a flattened part.)
    pub fn links(&self) -> Links {
        Links {
            topics: self.topics.clone(),
            signals: self.signals.clone(),
            customers: self.customers.clone(),
            products: self.products.clone(),
            segments: self.segments.clone(),
            stages: self.stages.clone(),
            suggestions: self.suggestions.clone(),
        }
    }
}

/// Which actions to list (`GET /api/v1/actions`, `hearken actions list`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "utoipa", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields, default)]
pub struct ActionsRequest {
    /// Only actions in this status (proposed, planned, in_progress, done, verified, dropped).
    pub status: Option<String>,
    /// Only actions owned by this department.
    pub owner: Option<String>,
    /// Only actions linked to this topic.
    pub topic: Option<String>,
}

/// A change to an action (`PATCH /api/v1/actions/{id}`, `hearken actions update`). Fields left
/// out stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields, default)]
pub struct UpdateActionRequest {
    /// The status to move to; only the moves the action's status allows.
    pub status: Option<String>,
    /// The date the status was reached (ISO 8601; default now). Not in the future, not before
    /// the action was created or reached its current status.
    pub at: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub metric: Option<String>,
    pub planned_for: Option<String>,
}

impl UpdateActionRequest {
    fn is_empty(&self) -> bool {
        self.status.is_none()
            && self.title.is_none()
            && self.description.is_none()
            && self.owner.is_none()
            && self.metric.is_none()
            && self.planned_for.is_none()
    }
}

/// How to measure an action's effect (`GET /api/v1/actions/{id}/effect`, `hearken actions
/// effect`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "utoipa", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields, default)]
pub struct EffectRequest {
    /// Days before the done date (1 to 3660).
    #[cfg_attr(feature = "utoipa", param(minimum = 1, maximum = 3660))]
    pub before: u32,
    /// Days from the done date on (1 to 3660).
    #[cfg_attr(feature = "utoipa", param(minimum = 1, maximum = 3660))]
    pub after: u32,
    /// Confidence level of the intervals.
    #[cfg_attr(
        feature = "utoipa",
        param(exclusive_minimum = 0, exclusive_maximum = 1)
    )]
    pub level: f64,
}

impl Default for EffectRequest {
    fn default() -> EffectRequest {
        EffectRequest {
            before: 28,
            after: 28,
            level: 0.9,
        }
    }
}

/// A link as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct LinkView {
    /// topic, signal, customer, product, segment, stage or suggestion.
    pub kind: String,
    pub value: String,
    pub added_at: String,
    pub added_by: String,
}

/// An action as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct ActionView {
    pub id: i64,
    pub title: String,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub status: String,
    /// When the current status was reached.
    pub status_at: String,
    /// The statuses it may move to next (empty: final).
    pub allowed_next: Vec<String>,
    pub metric: Option<String>,
    pub planned_for: Option<String>,
    pub done_at: Option<String>,
    pub created_at: String,
    /// The token's name or the OS user that created it.
    pub created_by: String,
    pub updated_at: String,
    pub links: Vec<LinkView>,
}

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct HistoryView {
    /// When it took effect (the date given with `at` for a status).
    pub at: String,
    /// When it was recorded.
    pub recorded_at: String,
    /// The token's name or the OS user.
    pub who: String,
    /// created, status, title, description, owner, metric, planned_for, link.
    pub change: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// One action with its full history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct ActionDetail {
    #[serde(flatten)]
    pub action: ActionView,
    pub history: Vec<HistoryView>,
    /// Notifications this request wrote for the people whose signals motivated the action (on
    /// the move to done, or a signal linked to a done action).
    pub notifications_written: u64,
}

/// Actions, newest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct ActionsList {
    pub actions: Vec<ActionView>,
    pub notes: Vec<String>,
    pub partial: Option<PartialNote>,
}

/// The measured effect of an action: the engine's [`Effect`] (metric, windows, before, after,
/// change, low, high, p_value, significant, level, did, candidates, quality) with what the action
/// was measured on.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct EffectResponse {
    pub action: i64,
    pub title: String,
    /// The done date: the after window starts here.
    pub done_at: String,
    /// The action's own groups (its topics, segments, products or stages), the treated series.
    pub treated: Vec<String>,
    /// Groups kept out of the controls: the other subtopics of its topics.
    pub linked: Vec<String>,
    #[serde(flatten)]
    #[cfg_attr(feature = "utoipa", schema(value_type = Object))]
    pub effect: Effect,
    pub notes: Vec<String>,
    pub partial: Option<PartialNote>,
}

fn time(t: i64) -> String {
    Timestamp::from_unix(t).to_rfc3339()
}

fn view(a: ActionRecord) -> ActionView {
    ActionView {
        id: a.id,
        title: a.title,
        description: a.description,
        owner: a.owner,
        status: a.status.as_str().to_string(),
        status_at: time(a.status_at),
        allowed_next: a
            .status
            .allowed_next()
            .iter()
            .map(|s| s.as_str().to_string())
            .collect(),
        metric: a.metric,
        planned_for: a.planned_for.map(time),
        done_at: a.done_at.map(time),
        created_at: time(a.created_at),
        created_by: a.created_by,
        updated_at: time(a.updated_at),
        links: a
            .links
            .into_iter()
            .map(|l| LinkView {
                kind: l.kind.as_str().to_string(),
                value: l.value,
                added_at: time(l.added_at),
                added_by: l.added_by,
            })
            .collect(),
    }
}

fn history_view(h: HistoryEntry) -> HistoryView {
    HistoryView {
        at: time(h.at),
        recorded_at: time(h.recorded_at),
        who: h.who,
        change: h.change,
        from: h.from,
        to: h.to,
    }
}

/// The store's refusals as the query layer's errors.
pub(crate) fn action_error(e: ActionError) -> QueryError {
    match e {
        ActionError::Invalid {
            field,
            value,
            reason,
        } => QueryError::Action {
            code: "invalid_value",
            status: 422,
            message: format!("`{field}` '{value}' {reason}"),
            hint: format!("correct `{field}` and try again"),
        },
        ActionError::NotFound(id) => not_found(id),
        ActionError::IllegalMove { ref allowed, .. } => QueryError::Action {
            code: "conflict",
            status: 409,
            message: e.to_string(),
            hint: if allowed.is_empty() {
                "a verified or dropped action stays as it is; create a new action".into()
            } else {
                format!(
                    "move it to one of: {}",
                    allowed
                        .iter()
                        .map(|s| s.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
        },
        ActionError::UnknownLink { .. } | ActionError::NoSuggestion(_) => QueryError::Action {
            code: "invalid_value",
            status: 422,
            message: e.to_string(),
            hint: "link only what exists in the store".into(),
        },
        ActionError::Store(s) => QueryError::Store(s),
    }
}

fn not_found(id: i64) -> QueryError {
    QueryError::NotFound {
        what: "action",
        id: id.to_string(),
        hint: "`hearken actions list` (GET /api/v1/actions) lists the actions".into(),
    }
}

fn invalid(field: &'static str, value: &str, reason: impl Into<String>) -> QueryError {
    action_error(ActionError::Invalid {
        field,
        value: value.to_string(),
        reason: reason.into(),
    })
}

fn date(field: &'static str, value: &str) -> Result<i64> {
    Timestamp::parse(field, value, &DateOptions::default())
        .map(Timestamp::unix)
        .map_err(|e| QueryError::InvalidDate {
            field,
            value: e.value,
            reason: e.reason,
            hint: e.hint,
        })
}

/// The metric by its name, or an error listing the names.
pub fn parse_metric(name: &str) -> Result<EffectMetric> {
    EffectMetric::ALL
        .into_iter()
        .find(|m| m.name() == name.trim())
        .ok_or_else(|| {
            invalid(
                "metric",
                name,
                format!(
                    "is not a metric; use one of: {}",
                    EffectMetric::ALL.map(EffectMetric::name).join(", ")
                ),
            )
        })
}

fn parse_status(name: &str) -> Result<ActionStatus> {
    ActionStatus::parse("status", name).map_err(|_| {
        invalid(
            "status",
            name,
            format!(
                "is not an action status; use one of: {}",
                ActionStatus::ALL
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )
    })
}

fn detail(store: &dyn ActionStore, a: ActionRecord, notifications: u64) -> Result<ActionDetail> {
    let history = store
        .action_history(a.id)
        .map_err(action_error)?
        .into_iter()
        .map(history_view)
        .collect();
    Ok(ActionDetail {
        action: view(a),
        history,
        notifications_written: notifications,
    })
}

/// Creates an action in status `proposed`, linked to what the request names (each must exist).
pub fn create_action(
    store: &mut dyn ActionStore,
    scope: &Scope,
    req: &CreateActionRequest,
    who: &str,
) -> Result<ActionDetail> {
    scope.store_wide(WHAT)?;
    let metric = req
        .metric
        .as_deref()
        .map(|m| parse_metric(m).map(|m| m.name().to_string()))
        .transpose()?;
    let planned_for = req
        .planned_for
        .as_deref()
        .map(|d| date("planned_for", d))
        .transpose()?;
    let new = NewAction {
        title: req.title.clone(),
        description: req.description.clone(),
        owner: req.owner.clone(),
        metric,
        planned_for,
        created_at: req
            .created_at
            .as_deref()
            .map(|d| date("created_at", d))
            .transpose()?,
        links: req.links().to_store(),
        who: who.to_string(),
    };
    let a = store.create_action(&new).map_err(action_error)?;
    detail(&*store, a, 0)
}

/// Actions, newest first.
pub fn actions(
    store: &dyn ActionStore,
    scope: &Scope,
    req: &ActionsRequest,
) -> Result<ActionsList> {
    scope.store_wide(WHAT)?;
    let filter = ActionFilter {
        status: req.status.as_deref().map(parse_status).transpose()?,
        owner: req.owner.clone(),
        linked: req.topic.as_ref().map(|t| Link {
            kind: LinkKind::Topic,
            value: t.clone(),
        }),
    };
    let list = store.actions(&filter).map_err(action_error)?;
    let mut notes = Vec::new();
    if list.is_empty() {
        notes.push(
            "no action matches; create one with `hearken actions create --title T --topic X --metric M`"
                .to_string(),
        );
    }
    Ok(ActionsList {
        actions: list.into_iter().map(view).collect(),
        notes,
        partial: partial(store.frames(), scope)?,
    })
}

/// One action with its history.
pub fn action(store: &dyn ActionStore, scope: &Scope, id: i64) -> Result<ActionDetail> {
    scope.store_wide(WHAT)?;
    let a = store
        .action(id)
        .map_err(action_error)?
        .ok_or_else(|| not_found(id))?;
    detail(store, a, 0)
}

/// Changes an action's fields and moves its status (only along the allowed moves).
pub fn update_action(
    store: &mut dyn ActionStore,
    scope: &Scope,
    id: i64,
    req: &UpdateActionRequest,
    who: &str,
) -> Result<ActionDetail> {
    scope.store_wide(WHAT)?;
    if req.is_empty() {
        return Err(QueryError::Conflict {
            message: "nothing to change".into(),
            hint: "give `status` (with `at`), `title`, `description`, `owner`, `metric` or `planned_for`"
                .into(),
        });
    }
    if req.at.is_some() && req.status.is_none() {
        return Err(QueryError::Conflict {
            message: "`at` is the date a status was reached, and no `status` is given".into(),
            hint: "give `status` with `at`, or leave out `at`".into(),
        });
    }
    let status = match &req.status {
        Some(s) => Some((
            parse_status(s)?,
            req.at.as_deref().map(|d| date("at", d)).transpose()?,
        )),
        None => None,
    };
    let change = ActionChange {
        title: req.title.clone(),
        description: req.description.clone().map(Some),
        owner: req.owner.clone().map(Some),
        metric: req
            .metric
            .as_deref()
            .map(|m| parse_metric(m).map(|m| Some(m.name().to_string())))
            .transpose()?,
        planned_for: req
            .planned_for
            .as_deref()
            .map(|d| date("planned_for", d).map(Some))
            .transpose()?,
        status,
    };
    let up = store
        .update_action(id, &change, who)
        .map_err(action_error)?;
    detail(&*store, up.action, up.notifications)
}

/// Links an action to more topics, signals, customers, products, segments, stages or
/// suggestions; each must exist.
pub fn link_action(
    store: &mut dyn ActionStore,
    scope: &Scope,
    id: i64,
    links: &Links,
    who: &str,
) -> Result<ActionDetail> {
    scope.store_wide(WHAT)?;
    if links.is_empty() {
        return Err(QueryError::Conflict {
            message: "nothing to link".into(),
            hint: "give at least one of `topics`, `signals`, `customers`, `products`, `segments`, `stages`, `suggestions`"
                .into(),
        });
    }
    let up = store
        .link_action(id, &links.to_store(), who)
        .map_err(action_error)?;
    detail(&*store, up.action, up.notifications)
}

/// Observation columns of one metric, with the dictionary of their groups.
#[derive(Default)]
struct Cols {
    at: Vec<i64>,
    group: Vec<u32>,
    value: Vec<f64>,
    cluster: Vec<u32>,
    groups: Dict,
}

/// Which kind of link names the groups of a metric, and how the groups are read.
fn group_kind(metric: EffectMetric, a: &ActionRecord) -> Result<LinkKind> {
    let has = |k: LinkKind| a.linked(k).next().is_some();
    let (kinds, what): (&[LinkKind], &str) = match metric {
        EffectMetric::Volume
        | EffectMetric::RepeatRate
        | EffectMetric::NetSentiment
        | EffectMetric::TransfersPerCase => (&[LinkKind::Topic], "a topic (`--topic`)"),
        EffectMetric::Nps | EffectMetric::Csat => (
            &[LinkKind::Segment, LinkKind::Product],
            "a segment (`--segment`) or a product (`--product`)",
        ),
        EffectMetric::StageTime => (&[LinkKind::Stage], "a stage (`--stage`)"),
    };
    kinds
        .iter()
        .copied()
        .find(|&k| has(k))
        .ok_or_else(|| QueryError::Action {
            code: "conflict",
            status: 409,
            message: format!(
                "action {} measures {} but is linked to no {}: {} is measured on the action's {}",
                a.id,
                metric.name(),
                kinds
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(" or "),
                metric.name(),
                kinds
                    .iter()
                    .map(|k| format!("{k}s"))
                    .collect::<Vec<_>>()
                    .join(" or "),
            ),
            hint: format!(
                "link it to {what} with `hearken actions link {}`, or change its metric",
                a.id
            ),
        })
}

fn code_in(dict: &Dict, name: &str) -> Option<u32> {
    dict.names.iter().position(|n| n == name).map(|p| p as u32)
}

/// Signals with a topic: volume, net sentiment and repeat rate, by topic, clustered by
/// customer.
fn signal_cols(store: &dyn FrameSource, metric: EffectMetric) -> Result<Cols> {
    let f = store.snapshot_signals(
        &Window::default(),
        &SignalColumns {
            at: true,
            topic: true,
            customer: true,
            sentiment: metric == EffectMetric::NetSentiment,
            ..SignalColumns::default()
        },
    )?;
    let value = match metric {
        EffectMetric::NetSentiment => f.sentiment.iter().map(|&s| sentiment_value(s)).collect(),
        EffectMetric::RepeatRate => repeat_flags(
            &f.at,
            &f.customer,
            &f.topic,
            f.customers.len(),
            f.topics.len(),
            7,
        )?
        .into_iter()
        .map(repeat_value)
        .collect(),
        _ => Vec::new(),
    };
    Ok(Cols {
        at: f.at,
        group: f.topic,
        value,
        cluster: f.customer,
        groups: f.topics,
    })
}

/// Survey responses by the customer's segment (or the product), clustered by customer.
fn survey_cols(store: &dyn FrameSource, metric: EffectMetric, kind: LinkKind) -> Result<Cols> {
    let f = store.snapshot_surveys(
        &Window::default(),
        &SurveyColumns {
            at: true,
            customer: true,
            product: kind == LinkKind::Product,
            product_names: kind == LinkKind::Product,
            nps: metric == EffectMetric::Nps,
            csat: metric == EffectMetric::Csat,
            ..SurveyColumns::default()
        },
    )?;
    let value = if metric == EffectMetric::Nps {
        f.nps.iter().map(|&s| nps_value(s)).collect()
    } else {
        f.csat.iter().map(|&s| csat_value(s)).collect()
    };
    let (group, groups) = if kind == LinkKind::Product {
        (f.product, f.products)
    } else {
        let c = store.snapshot_customers()?;
        let group = f
            .customer
            .iter()
            .map(|&k| c.segment.get(k as usize).copied().unwrap_or(NONE))
            .collect();
        (group, c.segments)
    };
    Ok(Cols {
        at: f.at,
        group,
        value,
        cluster: f.customer,
        groups,
    })
}

/// From the case events: stage visits (an event to the case's next event, by the event's
/// activity, clustered by case) or cases (transfers between consecutive events whose known
/// agents differ, by the topic of the case's first signal).
fn case_cols(store: &dyn FrameSource, metric: EffectMetric) -> Result<Cols> {
    let rows = store.case_event_rows(&Window::default())?;
    let mut by_case: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut order: Vec<&str> = Vec::new();
    for (i, c) in rows.case.iter().enumerate() {
        let e = by_case.entry(c.as_str()).or_insert_with(|| {
            order.push(c.as_str());
            Vec::new()
        });
        e.push(i);
    }
    let mut out = Cols::default();
    if metric == EffectMetric::StageTime {
        let mut stages: HashMap<&str, u32> = HashMap::new();
        for (k, case) in order.iter().enumerate() {
            let evs = by_case
                .get_mut(case)
                .map(std::mem::take)
                .unwrap_or_default();
            let mut evs = evs;
            evs.sort_by_key(|&i| (rows.at[i], i));
            for pair in evs.windows(2) {
                let (a, b) = (pair[0], pair[1]);
                let name = rows.activity[a].as_str();
                let next = stages.len() as u32;
                let g = *stages.entry(name).or_insert_with(|| {
                    out.groups.names.push(name.to_string());
                    next
                });
                out.at.push(rows.at[a]);
                out.group.push(g);
                out.value.push((rows.at[b] - rows.at[a]) as f64);
                out.cluster.push(k as u32);
            }
        }
        return Ok(out);
    }
    // Transfers per case, by the topic of the case's first signal.
    let s = store.snapshot_signals(
        &Window::default(),
        &SignalColumns {
            at: true,
            topic: true,
            case: true,
            case_names: true,
            ..SignalColumns::default()
        },
    )?;
    let mut first: HashMap<&str, (i64, u32)> = HashMap::new();
    for i in 0..s.at.len() {
        let c = s.case[i];
        let Some(name) = s.cases.name(c) else {
            continue;
        };
        let e = first.entry(name).or_insert((i64::MAX, NONE));
        if s.at[i] < e.0 {
            *e = (s.at[i], s.topic[i]);
        }
    }
    for (k, case) in order.iter().enumerate() {
        let mut evs = by_case
            .get_mut(case)
            .map(std::mem::take)
            .unwrap_or_default();
        evs.sort_by_key(|&i| (rows.at[i], i));
        let Some(&start) = evs.first() else { continue };
        let mut n = 0.0;
        for pair in evs.windows(2) {
            if let (Some(a), Some(b)) = (&rows.agent[pair[0]], &rows.agent[pair[1]])
                && a != b
            {
                n += 1.0;
            }
        }
        out.at.push(rows.at[start]);
        out.group
            .push(first.get(case).map_or(NONE, |&(_, topic)| topic));
        out.value.push(n);
        out.cluster.push(k as u32);
    }
    out.groups = s.topics;
    Ok(out)
}

/// Measures the effect of a done action on its metric: the window before its done date against
/// the window after, and the difference-in-differences against comparable groups it is not
/// linked to (docs/effects.md).
pub fn action_effect(
    store: &dyn ActionStore,
    scope: &Scope,
    id: i64,
    req: &EffectRequest,
) -> Result<EffectResponse> {
    scope.store_wide(WHAT)?;
    for (field, days) in [("before", req.before), ("after", req.after)] {
        if !(1..=3660).contains(&days) {
            return Err(QueryError::OutOfRange {
                field,
                value: days.to_string(),
                allowed: "give 1 to 3660 days".into(),
            });
        }
    }
    let level = Level::new(req.level)?;
    let a = store
        .action(id)
        .map_err(action_error)?
        .ok_or_else(|| not_found(id))?;
    let Some(metric_name) = a.metric.as_deref() else {
        return Err(QueryError::Action {
            code: "conflict",
            status: 409,
            message: format!("action {id} names no metric to measure"),
            hint: format!(
                "set one with `hearken actions update {id} --metric M` (volume, repeat_rate, net_sentiment, nps, csat, stage_time, transfers_per_case)"
            ),
        });
    };
    let metric = parse_metric(metric_name)?;
    let Some(done_at) = a.done_at else {
        return Err(QueryError::Action {
            code: "conflict",
            status: 409,
            message: format!(
                "action {id} is {}, not done: its effect is measured from the date it was done",
                a.status
            ),
            hint: format!(
                "move it to done with `hearken actions update {id} --status done --at DATE`"
            ),
        });
    };
    let kind = group_kind(metric, &a)?;
    ensure_fresh(store.frames())?;
    let cols = match metric {
        EffectMetric::Volume | EffectMetric::RepeatRate | EffectMetric::NetSentiment => {
            signal_cols(store.frames(), metric)?
        }
        EffectMetric::Nps | EffectMetric::Csat => survey_cols(store.frames(), metric, kind)?,
        EffectMetric::StageTime | EffectMetric::TransfersPerCase => {
            case_cols(store.frames(), metric)?
        }
    };
    let mut treated = Vec::new();
    let mut treated_names = Vec::new();
    let mut notes = Vec::new();
    for name in a.linked(kind) {
        match code_in(&cols.groups, name) {
            Some(c) => {
                treated.push(c);
                treated_names.push(name.to_string());
            }
            None => notes.push(format!(
                "the action's {kind} '{name}' has no {} observations; it is left out",
                metric.name()
            )),
        }
    }
    if treated.is_empty() {
        return Err(QueryError::NoData {
            message: format!(
                "none of action {id}'s {kind}s has {} observations in the store",
                metric.name()
            ),
            hint: format!(
                "import the data {} is computed from, or link the action to a {kind} that has some",
                metric.name()
            ),
        });
    }
    // The other subtopics of its topics (same part before '/') are never controls: an action
    // on one often moves its neighbours.
    let mut linked = Vec::new();
    if kind == LinkKind::Topic {
        let parents: Vec<&str> = treated_names
            .iter()
            .filter_map(|n| n.split_once('/').map(|(p, _)| p))
            .collect();
        for (c, n) in cols.groups.names.iter().enumerate() {
            let c = c as u32;
            if !treated.contains(&c) && n.split_once('/').is_some_and(|(p, _)| parents.contains(&p))
            {
                linked.push(c);
            }
        }
    }
    let (data_from, data_to) = match (cols.at.iter().min(), cols.at.iter().max()) {
        (Some(&lo), Some(&hi)) => (lo, hi.saturating_add(1)),
        _ => (done_at, done_at),
    };
    let obs = Observations {
        at: &cols.at,
        group: &cols.group,
        value: &cols.value,
        cluster: &cols.cluster,
        groups: &cols.groups,
    };
    let opts = EffectOptions {
        before_days: req.before,
        after_days: req.after,
        data_from,
        data_to,
        level,
        controls: ControlRule::Similar { max: 5 },
        ..EffectOptions::around(hearken_store::day_of(done_at))
    };
    let e = effect::effect(
        metric,
        &obs,
        &EffectScope {
            treated,
            linked: linked.clone(),
        },
        &opts,
    )?;
    if e.quality.no_data {
        notes.push(format!(
            "no data in a window: the store has {} observations from {} to {}",
            metric.name(),
            time(data_from),
            time(data_to)
        ));
    }
    Ok(EffectResponse {
        action: a.id,
        title: a.title.clone(),
        done_at: time(done_at),
        treated: treated_names,
        linked: linked
            .iter()
            .filter_map(|&c| cols.groups.name(c).map(str::to_string))
            .collect(),
        effect: e,
        notes,
        partial: partial(store.frames(), scope)?,
    })
}
