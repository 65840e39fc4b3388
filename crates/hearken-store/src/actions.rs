//! Improvement actions: what the organisation decided to do about what it heard, who owns it,
//! where it stands, what motivated it (links to topics, signals, customers, products, segments,
//! stages and employees' suggestions) and the metric it should move; every change recorded with
//! who made it. Employees' suggestions (signals whose source is an employee) get a review state
//! here too.
//!
//! Status moves follow [`ActionStatus::allowed_next`]: `proposed` -> `planned` ->
//! `in_progress` -> `done` -> `verified`, or `dropped` from any status before `verified`. An
//! illegal move is refused with the moves that are allowed. The date a status was reached
//! defaults to now and may be given (a past date); it may not be in the future, before the day
//! the action was created, or before the day its current status was reached.
//!
//! When an action reaches `done`, every customer and employee whose linked signal (or
//! suggestion) motivated it gets one notification, written in the same transaction as the status
//! change (outbox.rs delivers them). A signal linked to an action that is already done gets its
//! notification when it is linked. One notification per action and person, whatever happens:
//! the table's unique key says so.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use hearken_model::{ActionStatus, Source};
use serde::Serialize;

use crate::sql::{Db, Lite, Row, Value, vals};
use crate::{Store, StoreError};

/// Longest title.
pub const MAX_TITLE: usize = 200;
/// Longest description, owner, reason.
pub const MAX_TEXT: usize = 10_000;
const DAY: i64 = 86_400;

/// What an action can be linked to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// A topic (the source's topic or the topic model's prediction of some signal).
    Topic,
    /// A signal, by its id.
    Signal,
    /// A customer, by its id.
    Customer,
    /// A product, by its id.
    Product,
    /// A customer segment.
    Segment,
    /// A case stage (an activity of the case events).
    Stage,
    /// An employee's suggestion: a signal whose source is an employee, by its id.
    Suggestion,
}

impl LinkKind {
    pub const ALL: [LinkKind; 7] = [
        LinkKind::Topic,
        LinkKind::Signal,
        LinkKind::Customer,
        LinkKind::Product,
        LinkKind::Segment,
        LinkKind::Stage,
        LinkKind::Suggestion,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Topic => "topic",
            LinkKind::Signal => "signal",
            LinkKind::Customer => "customer",
            LinkKind::Product => "product",
            LinkKind::Segment => "segment",
            LinkKind::Stage => "stage",
            LinkKind::Suggestion => "suggestion",
        }
    }
}

impl fmt::Display for LinkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for LinkKind {
    type Err = ActionError;
    fn from_str(s: &str) -> Result<LinkKind, ActionError> {
        LinkKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| ActionError::Invalid {
                field: "kind",
                value: s.to_string(),
                reason: format!(
                    "is not a link kind; use one of: {}",
                    LinkKind::ALL.map(LinkKind::as_str).join(", ")
                ),
            })
    }
}

/// A link as asked for: a kind and a name or id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Link {
    pub kind: LinkKind,
    pub value: String,
}

/// A link as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ActionLink {
    pub kind: LinkKind,
    /// The topic, segment or stage name, or the id of the signal, customer, product or
    /// suggestion.
    pub value: String,
    /// The store's row id of a signal, customer, product or suggestion.
    #[serde(skip)]
    pub ref_id: Option<i64>,
    pub added_at: i64,
    pub added_by: String,
}

/// An action as stored, with its links.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionRecord {
    pub id: i64,
    pub title: String,
    pub description: Option<String>,
    /// The department that owns it.
    pub owner: Option<String>,
    pub status: ActionStatus,
    /// When the current status was reached (UTC seconds).
    pub status_at: i64,
    /// The metric it should move (the engine's name: `volume`, `nps`, ...).
    pub metric: Option<String>,
    /// The date it is planned to be done by.
    pub planned_for: Option<i64>,
    /// When it was done (the date given when it reached `done`).
    pub done_at: Option<i64>,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub links: Vec<ActionLink>,
}

impl ActionRecord {
    /// The values of the links of one kind, in the order stored.
    pub fn linked(&self, kind: LinkKind) -> impl Iterator<Item = &str> {
        self.links
            .iter()
            .filter(move |l| l.kind == kind)
            .map(|l| l.value.as_str())
    }
}

/// One recorded change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistoryEntry {
    pub id: i64,
    /// When the change was made (UTC seconds).
    pub recorded_at: i64,
    /// When it took effect: the date a status was reached (given with `--at`), else
    /// `recorded_at`.
    pub at: i64,
    /// The API token's name, or the operating-system user of the command line.
    pub who: String,
    /// `created`, `status`, `title`, `description`, `owner`, `metric`, `planned_for`, `link`.
    pub change: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// A new action.
#[derive(Debug, Clone, Default)]
pub struct NewAction {
    pub title: String,
    pub description: Option<String>,
    pub owner: Option<String>,
    pub metric: Option<String>,
    pub planned_for: Option<i64>,
    /// When it was created, for an action recorded after the fact; default now. Not in the
    /// future.
    pub created_at: Option<i64>,
    pub links: Vec<Link>,
    pub who: String,
}

/// A change to an action; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ActionChange {
    pub title: Option<String>,
    /// `Some(None)` clears it.
    pub description: Option<Option<String>>,
    pub owner: Option<Option<String>>,
    pub metric: Option<Option<String>>,
    pub planned_for: Option<Option<i64>>,
    /// The new status and the date it was reached (default now).
    pub status: Option<(ActionStatus, Option<i64>)>,
}

impl ActionChange {
    pub fn is_empty(&self) -> bool {
        self.title.is_none()
            && self.description.is_none()
            && self.owner.is_none()
            && self.metric.is_none()
            && self.planned_for.is_none()
            && self.status.is_none()
    }
}

/// What a change did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ActionUpdate {
    pub action: ActionRecord,
    /// Notifications written by this change (the move to `done`, or a signal linked to a done
    /// action).
    pub notifications: u64,
}

/// Errors of actions and suggestions. All but `Store` are the person's to fix.
#[derive(Debug, thiserror::Error)]
pub enum ActionError {
    #[error("{field} '{value}' {reason}")]
    Invalid {
        field: &'static str,
        value: String,
        reason: String,
    },
    #[error("no action {0}: `hearken actions list` shows them")]
    NotFound(i64),
    #[error("action {id} cannot move from {from} to {to}: {}", allowed_text(.allowed))]
    IllegalMove {
        id: i64,
        from: ActionStatus,
        to: ActionStatus,
        allowed: Vec<ActionStatus>,
    },
    #[error("cannot link {kind} '{value}': {reason}")]
    UnknownLink {
        kind: LinkKind,
        value: String,
        reason: String,
    },
    #[error("no suggestion '{0}': a suggestion is a signal whose source is an employee")]
    NoSuggestion(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn allowed_text(allowed: &[ActionStatus]) -> String {
    if allowed.is_empty() {
        "it is final; no move is allowed".into()
    } else {
        format!(
            "allowed: {}",
            allowed
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    }
}

impl From<rusqlite::Error> for ActionError {
    fn from(e: rusqlite::Error) -> ActionError {
        ActionError::Store(StoreError::Sql(e))
    }
}

pub(crate) fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Midnight UTC of the day of `t`.
pub fn day_of(t: i64) -> i64 {
    t.div_euclid(DAY) * DAY
}

fn date_text(t: i64) -> String {
    hearken_model::Timestamp::from_unix(t).to_rfc3339()
}

fn text_field(
    field: &'static str,
    value: &str,
    max: usize,
    one_line: bool,
) -> Result<String, ActionError> {
    let v = value.trim();
    let bad = |reason: String| ActionError::Invalid {
        field,
        value: value.chars().take(80).collect(),
        reason,
    };
    if v.is_empty() {
        return Err(bad("is empty".into()));
    }
    if v.len() > max {
        return Err(bad(format!("is longer than {max} bytes")));
    }
    if v.chars()
        .any(|c| c.is_control() && (one_line || !matches!(c, '\n' | '\t' | '\r')))
    {
        return Err(bad(if one_line {
            "contains control characters or line breaks".into()
        } else {
            "contains control characters".into()
        }));
    }
    Ok(v.to_string())
}

fn who_field(who: &str) -> Result<String, ActionError> {
    text_field("who", who, 200, true)
}

const ACTION_COLUMNS: &str =
    "id, title, description, owner, status, status_at, metric, planned_for,
    done_at, created_at, created_by, updated_at";

/// A status code as the model's status; the CHECK constraint keeps codes among the model's, so
/// the fallback is never reached.
fn status_of(code: i64) -> ActionStatus {
    u8::try_from(code)
        .ok()
        .and_then(ActionStatus::from_code)
        .unwrap_or(ActionStatus::Proposed)
}

fn action_row(r: &Row) -> Result<ActionRecord, StoreError> {
    Ok(ActionRecord {
        id: r.get(0)?,
        title: r.get(1)?,
        description: r.get(2)?,
        owner: r.get(3)?,
        status: status_of(r.get(4)?),
        status_at: r.get(5)?,
        metric: r.get(6)?,
        planned_for: r.get(7)?,
        done_at: r.get(8)?,
        created_at: r.get(9)?,
        created_by: r.get(10)?,
        updated_at: r.get(11)?,
        links: Vec::new(),
    })
}

fn load_action(db: &mut dyn Db, id: i64) -> Result<Option<ActionRecord>, ActionError> {
    let Some(row) = db.first(
        &format!("SELECT {ACTION_COLUMNS} FROM actions WHERE id = ?1"),
        vals![id],
    )?
    else {
        return Ok(None);
    };
    let mut a = action_row(&row)?;
    a.links = load_links(db, &[id])?.remove(&id).unwrap_or_default();
    Ok(Some(a))
}

fn load_links(db: &mut dyn Db, ids: &[i64]) -> Result<HashMap<i64, Vec<ActionLink>>, ActionError> {
    let mut out: HashMap<i64, Vec<ActionLink>> = HashMap::new();
    for &id in ids {
        let order = db.bytewise();
        let rows = db.query(
            &format!(
                "SELECT action_id, kind, value, ref_id, added_at, added_by FROM action_links
                 WHERE action_id = ?1 ORDER BY added_at, kind{order}, value{order}"
            ),
            vals![id],
        )?;
        for r in rows {
            let kind: String = r.get(1)?;
            out.entry(id).or_default().push(ActionLink {
                // The CHECK constraint keeps kinds among ours.
                kind: kind.parse().unwrap_or(LinkKind::Topic),
                value: r.get(2)?,
                ref_id: r.get(3)?,
                added_at: r.get(4)?,
                added_by: r.get(5)?,
            });
        }
    }
    Ok(out)
}

#[allow(clippy::too_many_arguments)]
fn record(
    db: &mut dyn Db,
    action: i64,
    recorded_at: i64,
    at: i64,
    who: &str,
    change: &str,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<(), ActionError> {
    db.execute(
        "INSERT INTO action_history (action_id, recorded_at, at, who, change, from_value, to_value)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        vals![action, recorded_at, at, who, change, from, to],
    )?;
    Ok(())
}

/// Finds what a link names: the store id of a signal, customer, product or suggestion, or
/// checks that a topic, segment or stage occurs in the data.
fn resolve(db: &mut dyn Db, link: &Link) -> Result<Option<i64>, ActionError> {
    let v = link.value.trim();
    let unknown = |reason: &str| ActionError::UnknownLink {
        kind: link.kind,
        value: link.value.clone(),
        reason: reason.to_string(),
    };
    if v.is_empty() {
        return Err(unknown("it is empty"));
    }
    let mut id = |sql: &str| -> Result<Option<i64>, ActionError> {
        db.first(sql, vals![v])?
            .map(|r| r.get(0))
            .transpose()
            .map_err(ActionError::from)
    };
    match link.kind {
        LinkKind::Signal => id("SELECT id FROM signals WHERE ext_id = ?1")?
            .map(Some)
            .ok_or_else(|| {
                unknown("there is no signal with this id (`hearken signals` lists them)")
            }),
        LinkKind::Suggestion => match signal_source(db, v)? {
            None => Err(unknown(
                "there is no signal with this id (`hearken suggestions` lists the suggestions)",
            )),
            Some((_, s)) if s != i64::from(Source::Employee.code()) => Err(unknown(
                "this signal is not from an employee, so it is no suggestion; link it as a signal",
            )),
            Some((row, _)) => Ok(Some(row)),
        },
        LinkKind::Customer => id("SELECT id FROM customers WHERE ext_id = ?1")?
            .map(Some)
            .ok_or_else(|| unknown("there is no customer with this id")),
        LinkKind::Product => id("SELECT id FROM products WHERE ext_id = ?1")?
            .map(Some)
            .ok_or_else(|| unknown("there is no product with this id")),
        LinkKind::Topic => {
            if id("SELECT 1 FROM signals WHERE topic = ?1 LIMIT 1")?.is_some()
                || id("SELECT 1 FROM signals WHERE predicted_topic = ?1 LIMIT 1")?.is_some()
            {
                Ok(None)
            } else {
                Err(unknown(
                    "no signal has this topic (`hearken trends` or `hearken signals` show the topics)",
                ))
            }
        }
        LinkKind::Segment => {
            if id("SELECT 1 FROM customers WHERE segment = ?1 LIMIT 1")?.is_some() {
                Ok(None)
            } else {
                Err(unknown("no customer has this segment"))
            }
        }
        LinkKind::Stage => {
            if id("SELECT 1 FROM case_events WHERE activity = ?1 LIMIT 1")?.is_some() {
                Ok(None)
            } else {
                Err(unknown(
                    "no case event has this activity (`hearken flow` lists the stages)",
                ))
            }
        }
    }
}

/// A signal's store id and source code, by its external id.
fn signal_source(db: &mut dyn Db, ext_id: &str) -> Result<Option<(i64, i64)>, ActionError> {
    match db.first(
        "SELECT id, source FROM signals WHERE ext_id = ?1",
        vals![ext_id],
    )? {
        Some(r) => Ok(Some((r.get(0)?, r.get(1)?))),
        None => Ok(None),
    }
}

/// Adds links (already-present ones are left as they are); returns how many were new.
fn add_links(
    db: &mut dyn Db,
    action: i64,
    links: &[Link],
    who: &str,
    now: i64,
) -> Result<u64, ActionError> {
    let mut added = 0;
    for link in links {
        let ref_id = resolve(db, link)?;
        let value = link.value.trim();
        let n = db.execute(
            "INSERT INTO action_links (action_id, kind, value, ref_id, added_at, added_by)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
            vals![action, link.kind.as_str(), value, ref_id, now, who],
        )?;
        if n > 0 {
            added += 1;
            record(
                db,
                action,
                now,
                now,
                who,
                "link",
                None,
                Some(&format!("{} {value}", link.kind)),
            )?;
        }
    }
    Ok(added)
}

/// Writes the notifications of a done action: one per customer and employee whose linked
/// signal or suggestion motivated it (their earliest such signal is named). Returns how many
/// were new.
fn write_notifications(
    db: &mut dyn Db,
    action: &ActionRecord,
    now: i64,
) -> Result<u64, ActionError> {
    struct Sender {
        signal: i64,
        signal_ext: String,
        at: i64,
        source: i64,
        customer: Option<(i64, String, Option<String>)>,
        agent: Option<(i64, String, Option<String>)>,
    }
    let mut senders: Vec<Sender> = Vec::new();
    for link in &action.links {
        if !matches!(link.kind, LinkKind::Signal | LinkKind::Suggestion) {
            continue;
        }
        let Some(row) = link.ref_id else { continue };
        let Some(r) = db.first(
            "SELECT s.id, s.ext_id, s.at, s.source, c.id, c.ext_id, c.name, a.id, a.ext_id, a.name
             FROM signals s
             LEFT JOIN customers c ON c.id = s.customer_id
             LEFT JOIN agents a ON a.id = s.agent_id
             WHERE s.id = ?1",
            vals![row],
        )?
        else {
            continue;
        };
        let c: Option<i64> = r.get(4)?;
        let a: Option<i64> = r.get(7)?;
        senders.push(Sender {
            signal: r.get(0)?,
            signal_ext: r.get(1)?,
            at: r.get(2)?,
            source: r.get(3)?,
            customer: match c {
                Some(c) => Some((c, r.get(5)?, r.get(6)?)),
                None => None,
            },
            agent: match a {
                Some(a) => Some((a, r.get(8)?, r.get(9)?)),
                None => None,
            },
        });
    }
    // Earliest signal first, so each person's notification names the first thing they said.
    senders.sort_by_key(|s| (s.at, s.signal));
    let mut written = 0;
    for s in senders {
        let (recipient, key, entity, name) = if s.source == i64::from(Source::Employee.code()) {
            match &s.agent {
                Some((id, ext, name)) => ("employee", format!("employee:{id}"), ext, name),
                None => continue,
            }
        } else {
            match &s.customer {
                Some((id, ext, name)) => ("customer", format!("customer:{id}"), ext, name),
                None => continue,
            }
        };
        let exists = db
            .first(
                "SELECT 1 FROM notifications WHERE action_id = ?1 AND recipient_key = ?2",
                vals![action.id, &key],
            )?
            .is_some();
        if exists {
            continue;
        }
        let message_id = crate::outbox::new_message_id()?;
        let (subject, body) = crate::outbox::render(action, recipient, name.as_deref(), s.at);
        let payload = serde_json::json!({
            "type": "action.done",
            "message_id": message_id,
            "action": {
                "id": action.id,
                "title": action.title,
                "description": action.description,
                "owner": action.owner,
                "status": action.status.as_str(),
                "done_at": action.done_at.map(date_text),
            },
            "recipient": {"kind": recipient, "id": entity, "name": name},
            "signal": {"id": s.signal_ext, "at": date_text(s.at)},
            "subject": subject,
            "body": body,
        })
        .to_string();
        db.execute(
            "INSERT INTO notifications (action_id, recipient, recipient_key, customer_id, agent_id,
                 signal_id, message_id, subject, body, payload, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            vals![
                action.id,
                recipient,
                key,
                if recipient == "customer" {
                    s.customer.as_ref().map(|c| c.0)
                } else {
                    None
                },
                if recipient == "employee" {
                    s.agent.as_ref().map(|a| a.0)
                } else {
                    None
                },
                s.signal,
                message_id,
                subject,
                body,
                payload,
                now
            ],
        )?;
        written += 1;
    }
    Ok(written)
}

/// Which actions to list.
#[derive(Debug, Clone, Default)]
pub struct ActionFilter {
    pub status: Option<ActionStatus>,
    /// Only actions linked to this (kind, value).
    pub linked: Option<Link>,
    pub owner: Option<String>,
}

/// The actions and suggestions a store keeps: the SQLite file and the PostgreSQL database
/// implement it with the same SQL (`crate::sql`), each in its own kind of transaction, so an
/// action behaves the same on both.
pub trait ActionStore {
    /// Creates an action in status `proposed`, with its links (each must name something that
    /// exists) and a `created` entry in its history.
    fn create_action(&mut self, new: &NewAction) -> Result<ActionRecord, ActionError>;
    /// One action with its links.
    fn action(&self, id: i64) -> Result<Option<ActionRecord>, ActionError>;
    /// Actions, newest first.
    fn actions(&self, filter: &ActionFilter) -> Result<Vec<ActionRecord>, ActionError>;
    /// Every recorded change of an action, oldest first.
    fn action_history(&self, id: i64) -> Result<Vec<HistoryEntry>, ActionError>;
    /// Changes an action: fields, and a status move (checked against the allowed moves and the
    /// dates). Moving to `done` writes the notifications in the same transaction.
    fn update_action(
        &mut self,
        id: i64,
        change: &ActionChange,
        who: &str,
    ) -> Result<ActionUpdate, ActionError>;
    /// Links an action to more things; each must exist. A signal or suggestion linked to an
    /// action already done (or verified) gets its notification now.
    fn link_action(
        &mut self,
        id: i64,
        links: &[Link],
        who: &str,
    ) -> Result<ActionUpdate, ActionError>;
    /// Records a review of an employee's suggestion (`received`, `under_review`, `declined`
    /// with a reason).
    fn review_suggestion(
        &mut self,
        signal_ext_id: &str,
        state: SuggestionReview,
        reason: Option<&str>,
        who: &str,
    ) -> Result<(), ActionError>;
    /// The review and the actions of suggestions (by the signals' store row ids).
    fn suggestion_states(&self, rows: &[i64])
    -> Result<HashMap<i64, SuggestionState>, ActionError>;
    /// Whether an entity with this external id exists.
    fn entity_known(&self, entity: crate::Entity, id: &str) -> Result<bool, ActionError>;
    /// The store's frames, for the effect of an action and the suggestions' signals.
    fn frames(&self) -> &dyn crate::FrameSource;
}

/// The store side of each [`ActionStore`] method, written once against [`Db`].
pub(crate) mod ops {
    use super::*;

    pub(crate) fn create_action(
        db: &mut dyn Db,
        new: &NewAction,
    ) -> Result<ActionRecord, ActionError> {
        let now = now();
        let title = text_field("title", &new.title, MAX_TITLE, true)?;
        let description = new
            .description
            .as_deref()
            .map(|d| text_field("description", d, MAX_TEXT, false))
            .transpose()?;
        let owner = new
            .owner
            .as_deref()
            .map(|o| text_field("owner", o, MAX_TITLE, true))
            .transpose()?;
        let who = who_field(&new.who)?;
        let created_at = new.created_at.unwrap_or(now);
        if created_at > now {
            return Err(ActionError::Invalid {
                field: "created_at",
                value: date_text(created_at),
                reason: "is in the future; give a past date or leave it out (now)".into(),
            });
        }
        let row = db
            .first(
                "INSERT INTO actions (title, description, owner, status, status_at, metric,
                     planned_for, done_at, created_at, created_by, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL, ?8, ?9, ?10) RETURNING id",
                vals![
                    title,
                    description,
                    owner,
                    ActionStatus::Proposed.code(),
                    created_at,
                    new.metric.as_deref(),
                    new.planned_for,
                    created_at,
                    &who,
                    now
                ],
            )?
            .ok_or_else(|| StoreError::Snapshot("an insert returned no id".into()))?;
        let id: i64 = row.get(0)?;
        record(
            db,
            id,
            now,
            created_at,
            &who,
            "created",
            None,
            Some(ActionStatus::Proposed.as_str()),
        )?;
        add_links(db, id, &new.links, &who, now)?;
        load_action(db, id)?.ok_or(ActionError::NotFound(id))
    }

    pub(crate) fn action(db: &mut dyn Db, id: i64) -> Result<Option<ActionRecord>, ActionError> {
        load_action(db, id)
    }

    pub(crate) fn actions(
        db: &mut dyn Db,
        filter: &ActionFilter,
    ) -> Result<Vec<ActionRecord>, ActionError> {
        let mut sql = format!("SELECT {ACTION_COLUMNS} FROM actions a WHERE 1 = 1");
        let mut p: Vec<Value> = Vec::new();
        if let Some(s) = filter.status {
            p.push(s.code().into());
            sql.push_str(&format!(" AND status = ?{}", p.len()));
        }
        if let Some(o) = &filter.owner {
            p.push(o.into());
            sql.push_str(&format!(" AND owner = ?{}", p.len()));
        }
        if let Some(l) = &filter.linked {
            p.push(l.kind.as_str().into());
            p.push((&l.value).into());
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM action_links k WHERE k.action_id = a.id
                  AND k.kind = ?{} AND k.value = ?{})",
                p.len() - 1,
                p.len()
            ));
        }
        sql.push_str(" ORDER BY id DESC");
        let mut out = db
            .query(&sql, &p)?
            .iter()
            .map(action_row)
            .collect::<Result<Vec<_>, _>>()?;
        let ids: Vec<i64> = out.iter().map(|a| a.id).collect();
        let mut links = load_links(db, &ids)?;
        for a in &mut out {
            a.links = links.remove(&a.id).unwrap_or_default();
        }
        Ok(out)
    }

    pub(crate) fn action_history(
        db: &mut dyn Db,
        id: i64,
    ) -> Result<Vec<HistoryEntry>, ActionError> {
        db.query(
            "SELECT id, recorded_at, at, who, change, from_value, to_value FROM action_history
             WHERE action_id = ?1 ORDER BY id",
            vals![id],
        )?
        .iter()
        .map(|r| {
            Ok(HistoryEntry {
                id: r.get(0)?,
                recorded_at: r.get(1)?,
                at: r.get(2)?,
                who: r.get(3)?,
                change: r.get(4)?,
                from: r.get(5)?,
                to: r.get(6)?,
            })
        })
        .collect()
    }

    pub(crate) fn update_action(
        db: &mut dyn Db,
        id: i64,
        change: &ActionChange,
        who: &str,
    ) -> Result<ActionUpdate, ActionError> {
        let now = now();
        let who = who_field(who)?;
        let before = load_action(db, id)?.ok_or(ActionError::NotFound(id))?;
        let mut notifications = 0;
        if let Some(t) = &change.title {
            let t = text_field("title", t, MAX_TITLE, true)?;
            if t != before.title {
                db.execute("UPDATE actions SET title = ?1 WHERE id = ?2", vals![&t, id])?;
                record(
                    db,
                    id,
                    now,
                    now,
                    &who,
                    "title",
                    Some(&before.title),
                    Some(&t),
                )?;
            }
        }
        let mut set_text = |field: &'static str,
                            value: &Option<Option<String>>,
                            old: &Option<String>,
                            max: usize,
                            one_line: bool|
         -> Result<(), ActionError> {
            let Some(v) = value else { return Ok(()) };
            let v = v
                .as_deref()
                .map(|s| text_field(field, s, max, one_line))
                .transpose()?;
            if &v != old {
                db.execute(
                    &format!("UPDATE actions SET {field} = ?1 WHERE id = ?2"),
                    vals![v.as_deref(), id],
                )?;
                record(db, id, now, now, &who, field, old.as_deref(), v.as_deref())?;
            }
            Ok(())
        };
        set_text(
            "description",
            &change.description,
            &before.description,
            MAX_TEXT,
            false,
        )?;
        set_text("owner", &change.owner, &before.owner, MAX_TITLE, true)?;
        set_text("metric", &change.metric, &before.metric, 64, true)?;
        if let Some(p) = change.planned_for
            && p != before.planned_for
        {
            db.execute(
                "UPDATE actions SET planned_for = ?1 WHERE id = ?2",
                vals![p, id],
            )?;
            record(
                db,
                id,
                now,
                now,
                &who,
                "planned_for",
                before.planned_for.map(date_text).as_deref(),
                p.map(date_text).as_deref(),
            )?;
        }
        if let Some((to, at)) = change.status {
            let from = before.status;
            if !from.can_move_to(to) {
                return Err(ActionError::IllegalMove {
                    id,
                    from,
                    to,
                    allowed: from.allowed_next().to_vec(),
                });
            }
            let at = at.unwrap_or(now);
            let bad = |reason: String| ActionError::Invalid {
                field: "at",
                value: date_text(at),
                reason,
            };
            if at > now {
                return Err(bad(format!(
                    "is in the future; the date {to} was reached must be today or earlier"
                )));
            }
            if day_of(at) < day_of(before.created_at) {
                return Err(bad(format!(
                    "is before the action was created ({}); give a date on or after it",
                    date_text(before.created_at)
                )));
            }
            if day_of(at) < day_of(before.status_at) {
                return Err(bad(format!(
                    "is before the action became {from} ({}); give a date on or after it",
                    date_text(before.status_at)
                )));
            }
            db.execute(
                "UPDATE actions SET status = ?1, status_at = ?2 WHERE id = ?3",
                vals![to.code(), at, id],
            )?;
            if to == ActionStatus::Done {
                db.execute(
                    "UPDATE actions SET done_at = ?1 WHERE id = ?2",
                    vals![at, id],
                )?;
            }
            record(
                db,
                id,
                now,
                at,
                &who,
                "status",
                Some(from.as_str()),
                Some(to.as_str()),
            )?;
            if to == ActionStatus::Done {
                let done = load_action(db, id)?.ok_or(ActionError::NotFound(id))?;
                notifications += write_notifications(db, &done, now)?;
            }
        }
        db.execute(
            "UPDATE actions SET updated_at = ?1 WHERE id = ?2",
            vals![now, id],
        )?;
        let action = load_action(db, id)?.ok_or(ActionError::NotFound(id))?;
        Ok(ActionUpdate {
            action,
            notifications,
        })
    }

    pub(crate) fn link_action(
        db: &mut dyn Db,
        id: i64,
        links: &[Link],
        who: &str,
    ) -> Result<ActionUpdate, ActionError> {
        let now = now();
        let who = who_field(who)?;
        let before = load_action(db, id)?.ok_or(ActionError::NotFound(id))?;
        let added = add_links(db, id, links, &who, now)?;
        if added > 0 {
            db.execute(
                "UPDATE actions SET updated_at = ?1 WHERE id = ?2",
                vals![now, id],
            )?;
        }
        let action = load_action(db, id)?.ok_or(ActionError::NotFound(id))?;
        let notifications = if matches!(before.status, ActionStatus::Done | ActionStatus::Verified)
        {
            write_notifications(db, &action, now)?
        } else {
            0
        };
        Ok(ActionUpdate {
            action,
            notifications,
        })
    }

    /// The checks of a review, before any transaction: the reason's text.
    pub(crate) fn review_reason(
        state: SuggestionReview,
        reason: Option<&str>,
    ) -> Result<Option<String>, ActionError> {
        let reason = reason
            .map(|r| text_field("reason", r, MAX_TEXT, false))
            .transpose()?;
        if state == SuggestionReview::Declined && reason.is_none() {
            return Err(ActionError::Invalid {
                field: "reason",
                value: String::new(),
                reason: "is missing: a declined suggestion says why (--reason TEXT)".into(),
            });
        }
        Ok(reason)
    }

    pub(crate) fn review_suggestion(
        db: &mut dyn Db,
        signal_ext_id: &str,
        state: SuggestionReview,
        reason: Option<&str>,
        who: &str,
    ) -> Result<(), ActionError> {
        let now = now();
        let who = who_field(who)?;
        let reason = review_reason(state, reason)?;
        let Some((row, source)) = signal_source(db, signal_ext_id)? else {
            return Err(ActionError::NoSuggestion(signal_ext_id.to_string()));
        };
        if source != i64::from(Source::Employee.code()) {
            return Err(ActionError::NoSuggestion(signal_ext_id.to_string()));
        }
        db.execute(
            "INSERT INTO suggestion_reviews (signal_id, state, reason, at, who)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            vals![row, state.as_str(), reason, now, who],
        )?;
        Ok(())
    }

    pub(crate) fn suggestion_states(
        db: &mut dyn Db,
        rows: &[i64],
    ) -> Result<HashMap<i64, SuggestionState>, ActionError> {
        let mut out: HashMap<i64, SuggestionState> = HashMap::new();
        for &row in rows {
            let review = match db.first(
                "SELECT state, reason, at, who FROM suggestion_reviews WHERE signal_id = ?1
                 ORDER BY id DESC LIMIT 1",
                vals![row],
            )? {
                Some(r) => {
                    let state: String = r.get(0)?;
                    Some(Review {
                        state: state.parse().unwrap_or(SuggestionReview::Received),
                        reason: r.get(1)?,
                        at: r.get(2)?,
                        who: r.get(3)?,
                    })
                }
                None => None,
            };
            let mut actions = db
                .query(
                    "SELECT a.id, a.title, a.status, a.status_at FROM action_links k
                     JOIN actions a ON a.id = k.action_id
                     WHERE k.kind IN ('suggestion', 'signal') AND k.ref_id = ?1 ORDER BY a.id",
                    vals![row],
                )?
                .iter()
                .map(|r| {
                    Ok(SuggestionAction {
                        id: r.get(0)?,
                        title: r.get(1)?,
                        status: status_of(r.get(2)?),
                        status_at: r.get(3)?,
                    })
                })
                .collect::<Result<Vec<_>, ActionError>>()?;
            actions.dedup_by_key(|a| a.id);
            out.insert(row, SuggestionState { review, actions });
        }
        Ok(out)
    }

    pub(crate) fn entity_known(
        db: &mut dyn Db,
        entity: crate::Entity,
        id: &str,
    ) -> Result<bool, ActionError> {
        Ok(db
            .first(
                &format!("SELECT 1 FROM {} WHERE ext_id = ?1", entity.table()),
                vals![id],
            )?
            .is_some())
    }
}

impl Store {
    /// Runs `f` in one write transaction (taken at once, so the checks `f` makes hold until it
    /// commits).
    fn action_write<T>(
        &mut self,
        f: impl FnOnce(&mut dyn Db) -> Result<T, ActionError>,
    ) -> Result<T, ActionError> {
        self.immediate_write("record actions", f)
    }

    fn action_read<T>(
        &self,
        f: impl FnOnce(&mut dyn Db) -> Result<T, ActionError>,
    ) -> Result<T, ActionError> {
        f(&mut Lite(&self.conn))
    }
}

/// The [`ActionStore`] of a store with `action_read` and `action_write`.
macro_rules! action_store {
    ($store:ty) => {
        impl $crate::actions::ActionStore for $store {
            fn create_action(
                &mut self,
                new: &$crate::actions::NewAction,
            ) -> Result<$crate::actions::ActionRecord, $crate::actions::ActionError> {
                self.action_write(|db| $crate::actions::ops::create_action(db, new))
            }
            fn action(
                &self,
                id: i64,
            ) -> Result<Option<$crate::actions::ActionRecord>, $crate::actions::ActionError> {
                self.action_read(|db| $crate::actions::ops::action(db, id))
            }
            fn actions(
                &self,
                filter: &$crate::actions::ActionFilter,
            ) -> Result<Vec<$crate::actions::ActionRecord>, $crate::actions::ActionError> {
                self.action_read(|db| $crate::actions::ops::actions(db, filter))
            }
            fn action_history(
                &self,
                id: i64,
            ) -> Result<Vec<$crate::actions::HistoryEntry>, $crate::actions::ActionError> {
                self.action_read(|db| $crate::actions::ops::action_history(db, id))
            }
            fn update_action(
                &mut self,
                id: i64,
                change: &$crate::actions::ActionChange,
                who: &str,
            ) -> Result<$crate::actions::ActionUpdate, $crate::actions::ActionError> {
                self.action_write(|db| $crate::actions::ops::update_action(db, id, change, who))
            }
            fn link_action(
                &mut self,
                id: i64,
                links: &[$crate::actions::Link],
                who: &str,
            ) -> Result<$crate::actions::ActionUpdate, $crate::actions::ActionError> {
                self.action_write(|db| $crate::actions::ops::link_action(db, id, links, who))
            }
            fn review_suggestion(
                &mut self,
                signal_ext_id: &str,
                state: $crate::actions::SuggestionReview,
                reason: Option<&str>,
                who: &str,
            ) -> Result<(), $crate::actions::ActionError> {
                $crate::actions::ops::review_reason(state, reason)?;
                self.action_write(|db| {
                    $crate::actions::ops::review_suggestion(db, signal_ext_id, state, reason, who)
                })
            }
            fn suggestion_states(
                &self,
                rows: &[i64],
            ) -> Result<
                std::collections::HashMap<i64, $crate::actions::SuggestionState>,
                $crate::actions::ActionError,
            > {
                self.action_read(|db| $crate::actions::ops::suggestion_states(db, rows))
            }
            fn entity_known(
                &self,
                entity: $crate::Entity,
                id: &str,
            ) -> Result<bool, $crate::actions::ActionError> {
                self.action_read(|db| $crate::actions::ops::entity_known(db, entity, id))
            }
            fn frames(&self) -> &dyn $crate::FrameSource {
                self
            }
        }
    };
}
#[cfg_attr(not(feature = "postgres"), allow(unused_imports))]
pub(crate) use action_store;

action_store!(Store);

/// What the dashboard and the weekly report page read, on either store: the frames, the
/// actions and suggestions, and the API tokens (the admin page).
pub trait TeamStore: crate::FrameSource + ActionStore {
    /// The API tokens, oldest first (never their secrets).
    fn tokens(&self) -> Result<Vec<crate::TokenInfo>, crate::TokenError>;
}

impl TeamStore for Store {
    fn tokens(&self) -> Result<Vec<crate::TokenInfo>, crate::TokenError> {
        Store::list_tokens(self)
    }
}

/// A review state a person gives a suggestion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SuggestionReview {
    Received,
    UnderReview,
    Declined,
}

impl SuggestionReview {
    pub fn as_str(self) -> &'static str {
        match self {
            SuggestionReview::Received => "received",
            SuggestionReview::UnderReview => "under_review",
            SuggestionReview::Declined => "declined",
        }
    }
}

impl FromStr for SuggestionReview {
    type Err = ActionError;
    fn from_str(s: &str) -> Result<SuggestionReview, ActionError> {
        match s {
            "received" => Ok(SuggestionReview::Received),
            "under_review" | "under-review" => Ok(SuggestionReview::UnderReview),
            "declined" => Ok(SuggestionReview::Declined),
            _ => Err(ActionError::Invalid {
                field: "status",
                value: s.to_string(),
                reason: "is not a review state; use received, under_review or declined".into(),
            }),
        }
    }
}

/// The newest review of a suggestion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Review {
    pub state: SuggestionReview,
    pub reason: Option<String>,
    pub at: i64,
    pub who: String,
}

/// An action a suggestion is linked to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SuggestionAction {
    pub id: i64,
    pub title: String,
    pub status: ActionStatus,
    pub status_at: i64,
}

/// What the store knows of a suggestion beyond its signal.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SuggestionState {
    pub review: Option<Review>,
    pub actions: Vec<SuggestionAction>,
}
