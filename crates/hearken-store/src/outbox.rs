//! The outbox: notifications telling customers and employees what was done about what they
//! said, and their deliveries, one per notification and channel (webhook, e-mail).
//!
//! Notifications are written by actions.rs in the transaction that moves an action to `done`.
//! Deliveries are planned by the sender for the channels it has configured
//! ([`Store::plan_deliveries`]), then each is delivered under a lease:
//!
//! 1. **claim** ([`Store::claim_deliveries`]): in one write transaction, due deliveries
//!    (`pending` whose time has come, or `sending` whose lease has run out: a sender that died)
//!    become `sending` with this sender's name and a lease end, their attempt counted and
//!    recorded;
//! 2. **send**, outside any transaction, with the notification's `message_id` as the idempotency
//!    id the receiver sees (`webhook-id`, the e-mail's `Message-ID`);
//! 3. **finish** ([`Store::finish_delivery`]): `sent`, a retry at a later time, `failed`, or
//!    `disabled` (an endpoint that answered 410), only if the lease is still this sender's.
//!
//! So a delivery is sent again only when a sender stopped between sending and finishing (or held
//! its lease past its end): the same message with the same id. Never two deliveries of one
//! notification on one channel with different ids, and never a second send of a delivery whose
//! success was recorded. docs/actions.md states the guarantee.

use rusqlite::{Transaction, TransactionBehavior};
use serde::Serialize;

use crate::actions::{ActionError, ActionRecord, now};
use crate::sql::{Db, Lite, Value, vals};
use crate::{Store, StoreError};

/// A new idempotency id: `msg_` and 32 hex digits from the operating system's randomness.
pub(crate) fn new_message_id() -> Result<String, ActionError> {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).map_err(|e| {
        ActionError::Store(StoreError::Snapshot(format!(
            "no randomness for a message id: {e}"
        )))
    })?;
    let mut s = String::from("msg_");
    for x in b {
        s.push_str(&format!("{x:02x}"));
    }
    Ok(s)
}

fn date(t: i64) -> String {
    hearken_model::Timestamp::from_unix(t)
        .to_rfc3339()
        .chars()
        .take(10)
        .collect()
}

/// The notification's subject and text: the action's title and what changed (its description),
/// addressed to the person by name when known.
pub(crate) fn render(
    action: &ActionRecord,
    recipient: &str,
    name: Option<&str>,
    signal_at: i64,
) -> (String, String) {
    let subject = format!("What we did about your feedback: {}", action.title);
    let greeting = match name {
        Some(n) if !n.trim().is_empty() => format!("Hello {},", n.trim()),
        _ => "Hello,".to_string(),
    };
    let what = if recipient == "employee" {
        format!(
            "On {} you suggested an improvement. It became action {}, \"{}\", which is now done.",
            date(signal_at),
            action.id,
            action.title
        )
    } else {
        format!(
            "On {} you told us about a problem. We have acted on it: \"{}\" is now done.",
            date(signal_at),
            action.title
        )
    };
    let mut body = format!("{greeting}\n\n{what}\n");
    if let Some(d) = action
        .description
        .as_deref()
        .filter(|d| !d.trim().is_empty())
    {
        body.push_str(&format!("\nWhat changed: {}\n", d.trim()));
    }
    if let Some(done) = action.done_at {
        body.push_str(&format!("\nDone on {}.\n", date(done)));
    }
    body.push_str("\nThank you for telling us.\n");
    (subject, body)
}

/// The channels a sender delivers on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Channels {
    /// The webhook endpoint every notification is posted to.
    pub webhook_url: Option<String>,
    /// Whether e-mail is configured (each person to their own address).
    pub email: bool,
}

/// A delivery claimed for sending, with what sending needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ClaimedDelivery {
    pub delivery: i64,
    pub attempt: i64,
    /// Attempts so far, this one included.
    pub attempts: i64,
    pub channel: String,
    /// The URL or the e-mail address.
    pub target: String,
    pub message_id: String,
    pub subject: String,
    pub body: String,
    /// The webhook's JSON body.
    pub payload: String,
    /// An HTML alternative of `body` for e-mail (the weekly report's page).
    pub html: Option<String>,
    pub created_at: i64,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent {
        code: Option<i64>,
    },
    /// Try again at `next_at`.
    Retry {
        next_at: i64,
        code: Option<i64>,
        error: String,
    },
    /// No more tries.
    Failed {
        code: Option<i64>,
        error: String,
    },
    /// The endpoint is gone (HTTP 410): disabled, with every delivery waiting for it.
    Disabled {
        code: Option<i64>,
        error: String,
    },
}

/// A notification with its deliveries, as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotificationRow {
    pub id: i64,
    /// `action.done` (an action's notification to a person) or `report.weekly` (the weekly
    /// report to a configured recipient).
    pub kind: String,
    /// The action (`action.done` only).
    pub action_id: Option<i64>,
    pub action_title: Option<String>,
    /// The report's ISO week (`report.weekly` only).
    pub week: Option<String>,
    /// `customer`, `employee`, or `report` (a recipient of `[[report.recipients]]`).
    pub recipient: String,
    /// The customer's or employee's id, or the report recipient's name.
    pub recipient_id: Option<String>,
    pub recipient_name: Option<String>,
    /// The customer's segment (customers only), for data scopes.
    #[serde(skip)]
    pub segment: Option<String>,
    /// The employee's team (employees only), for data scopes.
    #[serde(skip)]
    pub team: Option<String>,
    /// The signal of theirs that motivated the action (their earliest linked one).
    pub signal_id: Option<String>,
    pub message_id: String,
    pub subject: String,
    pub created_at: i64,
    pub deliveries: Vec<DeliveryRow>,
}

/// One delivery of a notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeliveryRow {
    pub id: i64,
    pub channel: String,
    pub target: Option<String>,
    /// `pending`, `sending`, `sent`, `failed`, `no_address`, `disabled`.
    pub state: String,
    pub attempts: i64,
    pub next_at: Option<i64>,
    pub last_code: Option<i64>,
    pub last_error: Option<String>,
    pub sent_at: Option<i64>,
}

/// Counts of deliveries by state.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OutboxCounts {
    pub notifications: i64,
    /// Notifications with no delivery planned yet (no channel configured when last planned).
    pub unplanned: i64,
    pub states: Vec<(String, i64)>,
}

/// Which notifications to list.
#[derive(Debug, Clone, Default)]
pub struct OutboxFilter {
    pub action: Option<i64>,
    /// Only those with a delivery in this state.
    pub state: Option<String>,
    /// At most this many, newest first; 0: all.
    pub limit: usize,
}

impl From<rusqlite::Error> for OutboxError {
    fn from(e: rusqlite::Error) -> OutboxError {
        OutboxError::Store(StoreError::Sql(e))
    }
}

/// Errors of the outbox's store side.
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("{field} '{value}' {reason}")]
    Invalid {
        field: &'static str,
        value: String,
        reason: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A recipient kind: `customer` or `employee`.
fn recipient_kind(kind: &str) -> Result<&'static str, OutboxError> {
    match kind {
        "customer" => Ok("customer"),
        "employee" => Ok("employee"),
        _ => Err(OutboxError::Invalid {
            field: "kind",
            value: kind.to_string(),
            reason: "is not a recipient kind; use customer or employee".into(),
        }),
    }
}

/// A plausible e-mail address: one `@`, something on both sides, no spaces or controls. (The
/// SMTP server is the judge; this catches a shifted column.)
pub fn check_email(email: &str) -> Result<String, OutboxError> {
    let e = email.trim();
    let ok = e.len() <= 254
        && e.matches('@').count() == 1
        && e.split('@').all(|p| !p.is_empty())
        && !e
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>');
    if ok {
        Ok(e.to_string())
    } else {
        Err(OutboxError::Invalid {
            field: "email",
            value: email.to_string(),
            reason: "is not an e-mail address".into(),
        })
    }
}

/// A checked address: a recipient kind, their id as imported and a plausible e-mail address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressRow {
    pub kind: &'static str,
    pub id: String,
    pub email: String,
}

impl AddressRow {
    /// Checks one address, naming the field and value that cannot be used.
    pub fn checked(kind: &str, id: &str, email: &str) -> Result<AddressRow, OutboxError> {
        let kind = recipient_kind(kind.trim())?;
        let email = check_email(email)?;
        let id = id.trim();
        if id.is_empty() {
            return Err(OutboxError::Invalid {
                field: "id",
                value: id.to_string(),
                reason: "is empty".into(),
            });
        }
        Ok(AddressRow {
            kind,
            id: id.to_string(),
            email,
        })
    }
}

/// What [`Store::set_addresses`] did: `added + changed + unchanged` is the number of rows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AddressCounts {
    /// People who had no address.
    pub added: usize,
    /// People whose address was another one.
    pub changed: usize,
    /// People who already had this address.
    pub unchanged: usize,
    /// E-mail deliveries that waited as `no_address` and are now pending.
    pub released: usize,
}

/// The outbox's store side on either store: the SQLite file and the PostgreSQL database run the
/// same statements (`crate::sql`), each claim and finish in one transaction that holds the
/// store's writer (the file's) or the outbox lock (PostgreSQL's), so two senders on one store
/// never claim one delivery.
pub trait OutboxStore {
    /// Sets the e-mail address of a customer or employee (by their id as imported; they need
    /// not be imported yet). Their e-mail deliveries marked `no_address` become `pending` to it.
    fn set_address(&mut self, kind: &str, id: &str, email: &str) -> Result<(), OutboxError>;
    /// Sets many addresses in one transaction (all or none), as `set_address` does for one: the
    /// rows must have been checked with [`AddressRow::checked`]. Setting an address a person
    /// already has is counted as unchanged, so a re-import changes nothing.
    fn set_addresses(&mut self, rows: &[AddressRow]) -> Result<AddressCounts, OutboxError>;
    /// Creates the deliveries a notification lacks on the configured channels: to the webhook
    /// (`disabled` at once when the endpoint answered 410 before), and by e-mail to the
    /// person's address (`no_address` when they have none). Returns how many were created.
    fn plan_deliveries(&mut self, channels: &Channels) -> Result<u64, OutboxError>;
    /// Claims up to `limit` due deliveries for `owner` for `lease_secs` (see the module
    /// documentation). Each claim counts an attempt and records it.
    fn claim_deliveries(
        &mut self,
        owner: &str,
        lease_secs: i64,
        limit: usize,
    ) -> Result<Vec<ClaimedDelivery>, OutboxError>;
    /// Records how an attempt ended. Nothing changes when the lease is no longer `owner`'s (it
    /// ran out and another sender claimed the delivery): returns false then.
    fn finish_delivery(
        &mut self,
        claimed: &ClaimedDelivery,
        owner: &str,
        outcome: &Outcome,
    ) -> Result<bool, OutboxError>;
    /// Enables a webhook endpoint disabled by a 410 again; its `disabled` deliveries go back to
    /// `pending`. Returns how many.
    fn enable_endpoint(&mut self, url: &str) -> Result<u64, OutboxError>;
    /// Deliveries still to be made: `pending` (at any time) or `sending`; and the earliest time
    /// one of them is due (a retry's time, or a lease's end).
    fn outbox_open(&self) -> Result<(i64, Option<i64>), OutboxError>;
    /// Counts of notifications and deliveries by state.
    fn outbox_counts(&self) -> Result<OutboxCounts, OutboxError>;
    /// Notifications with their deliveries, newest first.
    fn notifications(&self, f: &OutboxFilter) -> Result<Vec<NotificationRow>, OutboxError>;
    /// The outcome of each attempt of a delivery, oldest first.
    fn delivery_attempts(&self, delivery: i64) -> Result<Vec<AttemptRow>, OutboxError>;
    /// Whether a webhook endpoint is disabled, with why.
    fn endpoint_disabled(&self, url: &str) -> Result<Option<String>, OutboxError>;
}

/// The statements of [`OutboxStore`], written once against [`Db`].
pub(crate) mod ops {
    use super::*;

    /// Writes one address and releases the person's e-mail deliveries that waited for one.
    fn put_address(db: &mut dyn Db, row: &AddressRow, at: i64) -> Result<usize, OutboxError> {
        db.execute(
            "INSERT INTO recipient_addresses (kind, ext_id, email, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (kind, ext_id) DO UPDATE SET email = excluded.email, updated_at = excluded.updated_at",
            vals![row.kind, &row.id, &row.email, at],
        )?;
        Ok(db.execute(
            "UPDATE outbox SET state = 'pending', target = ?1, next_at = ?2
             WHERE channel = 'email' AND state = 'no_address' AND notification_id IN (
                 SELECT n.id FROM notifications n
                 LEFT JOIN customers c ON c.id = n.customer_id
                 LEFT JOIN agents a ON a.id = n.agent_id
                 WHERE n.recipient = ?3
                   AND CASE n.recipient WHEN 'customer' THEN c.ext_id ELSE a.ext_id END = ?4)",
            vals![&row.email, at, row.kind, &row.id],
        )? as usize)
    }

    pub(crate) fn set_addresses(
        db: &mut dyn Db,
        rows: &[AddressRow],
    ) -> Result<AddressCounts, OutboxError> {
        let at = now();
        let mut counts = AddressCounts::default();
        for row in rows {
            let old: Option<String> = db
                .first(
                    "SELECT email FROM recipient_addresses WHERE kind = ?1 AND ext_id = ?2",
                    vals![row.kind, &row.id],
                )?
                .map(|r| r.get(0))
                .transpose()?;
            match old {
                Some(e) if e == row.email => counts.unchanged += 1,
                Some(_) => counts.changed += 1,
                None => counts.added += 1,
            }
            counts.released += put_address(db, row, at)?;
        }
        Ok(counts)
    }

    pub(crate) fn plan_deliveries(
        db: &mut dyn Db,
        channels: &Channels,
    ) -> Result<u64, OutboxError> {
        let now = now();
        let mut created = 0;
        if let Some(url) = &channels.webhook_url {
            let disabled = db
                .first(
                    "SELECT 1 FROM outbox_endpoints WHERE url = ?1 AND disabled_at IS NOT NULL",
                    vals![url],
                )?
                .is_some();
            created += db.execute(
                "INSERT INTO outbox (notification_id, channel, target, state, next_at, created_at)
                 SELECT n.id, 'webhook', ?1, ?2, ?3, ?3 FROM notifications n
                 WHERE n.kind = 'action.done' AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.notification_id = n.id AND o.channel = 'webhook')",
                vals![url, if disabled { "disabled" } else { "pending" }, now],
            )?;
        }
        if channels.email {
            created += db.execute(
                "INSERT INTO outbox (notification_id, channel, target, state, next_at, created_at)
                 SELECT n.id, 'email', r.email, CASE WHEN r.email IS NULL THEN 'no_address' ELSE 'pending' END, ?1, ?1
                 FROM notifications n
                 LEFT JOIN customers c ON c.id = n.customer_id
                 LEFT JOIN agents a ON a.id = n.agent_id
                 LEFT JOIN recipient_addresses r ON r.kind = n.recipient
                     AND r.ext_id = CASE n.recipient WHEN 'customer' THEN c.ext_id ELSE a.ext_id END
                 WHERE n.kind = 'action.done'
                   AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.notification_id = n.id AND o.channel = 'email')",
                vals![now],
            )?;
        }
        Ok(created)
    }

    pub(crate) fn claim_deliveries(
        db: &mut dyn Db,
        owner: &str,
        lease_secs: i64,
        limit: usize,
    ) -> Result<Vec<ClaimedDelivery>, OutboxError> {
        let now = now();
        let ids: Vec<i64> = db
            .query(
                "SELECT id FROM outbox
                 WHERE (state = 'pending' AND next_at <= ?1) OR (state = 'sending' AND lease_until <= ?1)
                 ORDER BY next_at, id LIMIT ?2",
                vals![now, limit.min(i64::MAX as usize) as i64],
            )?
            .iter()
            .map(|r| r.get(0))
            .collect::<Result<_, _>>()?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            db.execute(
                "UPDATE outbox SET state = 'sending', lease_owner = ?1, lease_until = ?2,
                     attempts = attempts + 1 WHERE id = ?3",
                vals![owner, now + lease_secs.max(1), id],
            )?;
            let attempt: i64 = db
                .first(
                    "INSERT INTO outbox_attempts (outbox_id, started_at, owner) VALUES (?1, ?2, ?3)
                     RETURNING id",
                    vals![id, now, owner],
                )?
                .ok_or_else(|| StoreError::Snapshot("an insert returned no id".into()))?
                .get(0)?;
            let r = db
                .first(
                    "SELECT o.attempts, o.channel, o.target, n.message_id, n.subject, n.body, n.payload,
                         n.created_at, n.html
                     FROM outbox o JOIN notifications n ON n.id = o.notification_id WHERE o.id = ?1",
                    vals![id],
                )?
                .ok_or_else(|| StoreError::Snapshot(format!("delivery {id} vanished")))?;
            out.push(ClaimedDelivery {
                delivery: id,
                attempt,
                attempts: r.get(0)?,
                channel: r.get(1)?,
                target: r.get::<Option<String>>(2)?.unwrap_or_default(),
                message_id: r.get(3)?,
                subject: r.get(4)?,
                body: r.get(5)?,
                payload: r.get(6)?,
                created_at: r.get(7)?,
                html: r.get(8)?,
            });
        }
        Ok(out)
    }

    pub(crate) fn finish_delivery(
        db: &mut dyn Db,
        claimed: &ClaimedDelivery,
        owner: &str,
        outcome: &Outcome,
    ) -> Result<bool, OutboxError> {
        let now = now();
        let (outcome_name, code, error) = match outcome {
            Outcome::Sent { code } => ("sent", *code, None),
            Outcome::Retry { code, error, .. } => ("retry", *code, Some(error.as_str())),
            Outcome::Failed { code, error } => ("failed", *code, Some(error.as_str())),
            Outcome::Disabled { code, error } => ("disabled", *code, Some(error.as_str())),
        };
        db.execute(
            "UPDATE outbox_attempts SET finished_at = ?1, outcome = ?2, code = ?3, error = ?4 WHERE id = ?5",
            vals![now, outcome_name, code, error, claimed.attempt],
        )?;
        let mine = db
            .first(
                "SELECT 1 FROM outbox WHERE id = ?1 AND state = 'sending' AND lease_owner = ?2",
                vals![claimed.delivery, owner],
            )?
            .is_some();
        if !mine {
            return Ok(false);
        }
        match outcome {
            Outcome::Sent { code } => {
                db.execute(
                    "UPDATE outbox SET state = 'sent', sent_at = ?1, last_code = ?2, last_error = NULL,
                         lease_owner = NULL, lease_until = NULL WHERE id = ?3",
                    vals![now, *code, claimed.delivery],
                )?;
            }
            Outcome::Retry {
                next_at,
                code,
                error,
            } => {
                db.execute(
                    "UPDATE outbox SET state = 'pending', next_at = ?1, last_code = ?2, last_error = ?3,
                         lease_owner = NULL, lease_until = NULL WHERE id = ?4",
                    vals![*next_at, *code, error, claimed.delivery],
                )?;
            }
            Outcome::Failed { code, error } => {
                db.execute(
                    "UPDATE outbox SET state = 'failed', last_code = ?1, last_error = ?2,
                         lease_owner = NULL, lease_until = NULL WHERE id = ?3",
                    vals![*code, error, claimed.delivery],
                )?;
            }
            Outcome::Disabled { code, error } => {
                db.execute(
                    "INSERT INTO outbox_endpoints (url, disabled_at, reason) VALUES (?1, ?2, ?3)
                     ON CONFLICT (url) DO UPDATE SET disabled_at = excluded.disabled_at, reason = excluded.reason",
                    vals![&claimed.target, now, error],
                )?;
                db.execute(
                    "UPDATE outbox SET state = 'disabled', last_code = ?1, last_error = ?2,
                         lease_owner = NULL, lease_until = NULL WHERE id = ?3",
                    vals![*code, error, claimed.delivery],
                )?;
                // Every other delivery waiting for the same endpoint stops too.
                db.execute(
                    "UPDATE outbox SET state = 'disabled', last_error = ?1
                     WHERE channel = 'webhook' AND target = ?2 AND state = 'pending'",
                    vals![format!("endpoint disabled: {error}"), &claimed.target],
                )?;
            }
        }
        Ok(true)
    }

    pub(crate) fn enable_endpoint(db: &mut dyn Db, url: &str) -> Result<u64, OutboxError> {
        db.execute("DELETE FROM outbox_endpoints WHERE url = ?1", vals![url])?;
        Ok(db.execute(
            "UPDATE outbox SET state = 'pending', next_at = ?1 WHERE channel = 'webhook' AND target = ?2 AND state = 'disabled'",
            vals![now(), url],
        )?)
    }

    pub(crate) fn outbox_open(db: &mut dyn Db) -> Result<(i64, Option<i64>), OutboxError> {
        let r = db
            .first(
                "SELECT count(*), min(CASE state WHEN 'pending' THEN next_at ELSE lease_until END)
                 FROM outbox WHERE state IN ('pending', 'sending')",
                &[],
            )?
            .ok_or_else(|| StoreError::Snapshot("a count returned no row".into()))?;
        Ok((r.get(0)?, r.get(1)?))
    }

    fn count(db: &mut dyn Db, sql: &str) -> Result<i64, OutboxError> {
        Ok(db
            .first(sql, &[])?
            .ok_or_else(|| StoreError::Snapshot("a count returned no row".into()))?
            .get(0)?)
    }

    pub(crate) fn outbox_counts(db: &mut dyn Db) -> Result<OutboxCounts, OutboxError> {
        let notifications = count(db, "SELECT count(*) FROM notifications")?;
        let unplanned = count(
            db,
            "SELECT count(*) FROM notifications n WHERE NOT EXISTS (SELECT 1 FROM outbox o WHERE o.notification_id = n.id)",
        )?;
        let order = db.bytewise();
        let states = db
            .query(
                &format!("SELECT state, count(*) FROM outbox GROUP BY state ORDER BY state{order}"),
                &[],
            )?
            .iter()
            .map(|r| Ok((r.get(0)?, r.get(1)?)))
            .collect::<Result<_, OutboxError>>()?;
        Ok(OutboxCounts {
            notifications,
            unplanned,
            states,
        })
    }

    pub(crate) fn notifications(
        db: &mut dyn Db,
        f: &OutboxFilter,
    ) -> Result<Vec<NotificationRow>, OutboxError> {
        let mut sql = String::from(
            "SELECT n.id, n.action_id, a.title, n.recipient, coalesce(c.ext_id, g.ext_id, rs.recipient),
                 coalesce(c.name, g.name, rs.recipient), c.segment, g.team, s.ext_id, n.message_id, n.subject,
                 n.created_at, n.kind, rs.week
             FROM notifications n LEFT JOIN actions a ON a.id = n.action_id
             LEFT JOIN report_sends rs ON rs.notification_id = n.id
             LEFT JOIN customers c ON c.id = n.customer_id
             LEFT JOIN agents g ON g.id = n.agent_id
             LEFT JOIN signals s ON s.id = n.signal_id WHERE 1 = 1",
        );
        let mut p: Vec<Value> = Vec::new();
        if let Some(a) = f.action {
            p.push(a.into());
            sql.push_str(&format!(" AND n.action_id = ?{}", p.len()));
        }
        if let Some(s) = &f.state {
            p.push(s.into());
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM outbox o WHERE o.notification_id = n.id AND o.state = ?{})",
                p.len()
            ));
        }
        sql.push_str(" ORDER BY n.id DESC");
        if f.limit > 0 {
            sql.push_str(&format!(" LIMIT {}", f.limit));
        }
        let mut rows = db
            .query(&sql, &p)?
            .iter()
            .map(|r| {
                Ok(NotificationRow {
                    id: r.get(0)?,
                    kind: r.get(12)?,
                    action_id: r.get(1)?,
                    action_title: r.get(2)?,
                    week: r.get(13)?,
                    recipient: r.get(3)?,
                    recipient_id: r.get(4)?,
                    recipient_name: r.get(5)?,
                    segment: r.get(6)?,
                    team: r.get(7)?,
                    signal_id: r.get(8)?,
                    message_id: r.get(9)?,
                    subject: r.get(10)?,
                    created_at: r.get(11)?,
                    deliveries: Vec::new(),
                })
            })
            .collect::<Result<Vec<_>, OutboxError>>()?;
        for n in &mut rows {
            n.deliveries = deliveries_of(db, n.id)?;
        }
        Ok(rows)
    }

    /// The deliveries of one notification, by channel (the outbox listing and the report
    /// sends' listing both show them).
    pub(crate) fn deliveries_of(
        db: &mut dyn Db,
        notification_id: i64,
    ) -> Result<Vec<DeliveryRow>, OutboxError> {
        let order = db.bytewise();
        db.query(
            &format!(
                "SELECT id, channel, target, state, attempts, next_at, last_code, last_error, sent_at
                 FROM outbox WHERE notification_id = ?1 ORDER BY channel{order}"
            ),
            vals![notification_id],
        )?
        .iter()
        .map(|r| {
            let state: String = r.get(3)?;
            Ok(DeliveryRow {
                id: r.get(0)?,
                channel: r.get(1)?,
                target: r.get(2)?,
                next_at: if state == "pending" { r.get(5)? } else { None },
                state,
                attempts: r.get(4)?,
                last_code: r.get(6)?,
                last_error: r.get(7)?,
                sent_at: r.get(8)?,
            })
        })
        .collect()
    }

    pub(crate) fn delivery_attempts(
        db: &mut dyn Db,
        delivery: i64,
    ) -> Result<Vec<AttemptRow>, OutboxError> {
        db.query(
            "SELECT started_at, finished_at, owner, outcome, code, error FROM outbox_attempts
             WHERE outbox_id = ?1 ORDER BY id",
            vals![delivery],
        )?
        .iter()
        .map(|r| {
            Ok(AttemptRow {
                started_at: r.get(0)?,
                finished_at: r.get(1)?,
                owner: r.get(2)?,
                outcome: r.get(3)?,
                code: r.get(4)?,
                error: r.get(5)?,
            })
        })
        .collect()
    }

    pub(crate) fn endpoint_disabled(
        db: &mut dyn Db,
        url: &str,
    ) -> Result<Option<String>, OutboxError> {
        Ok(db
            .first(
                "SELECT coalesce(reason, '') FROM outbox_endpoints WHERE url = ?1 AND disabled_at IS NOT NULL",
                vals![url],
            )?
            .map(|r| r.get(0))
            .transpose()?)
    }
}

impl Store {
    pub(crate) fn outbox_tx(&mut self) -> Result<Transaction<'_>, OutboxError> {
        self.writable("deliver notifications")?;
        Ok(Transaction::new(
            &mut self.conn,
            TransactionBehavior::Immediate,
        )?)
    }

    /// Runs `f` in one write transaction that holds the file's writer.
    fn outbox_write<T>(
        &mut self,
        f: impl FnOnce(&mut dyn Db) -> Result<T, OutboxError>,
    ) -> Result<T, OutboxError> {
        self.immediate_write("deliver notifications", f)
    }

    fn outbox_read<T>(
        &self,
        f: impl FnOnce(&mut dyn Db) -> Result<T, OutboxError>,
    ) -> Result<T, OutboxError> {
        f(&mut Lite(&self.conn))
    }

    /// The deliveries of one notification, by channel.
    pub(crate) fn deliveries_of(
        &self,
        notification_id: i64,
    ) -> Result<Vec<DeliveryRow>, OutboxError> {
        self.outbox_read(|db| ops::deliveries_of(db, notification_id))
    }
}

/// The [`OutboxStore`] of a store with `outbox_read` and `outbox_write`.
macro_rules! outbox_store {
    ($store:ty) => {
        impl $crate::outbox::OutboxStore for $store {
            fn set_address(
                &mut self,
                kind: &str,
                id: &str,
                email: &str,
            ) -> Result<(), $crate::outbox::OutboxError> {
                let row = $crate::outbox::AddressRow::checked(kind, id, email)?;
                self.outbox_write(|db| {
                    $crate::outbox::ops::set_addresses(db, std::slice::from_ref(&row)).map(|_| ())
                })
            }
            fn set_addresses(
                &mut self,
                rows: &[$crate::outbox::AddressRow],
            ) -> Result<$crate::outbox::AddressCounts, $crate::outbox::OutboxError> {
                self.outbox_write(|db| $crate::outbox::ops::set_addresses(db, rows))
            }
            fn plan_deliveries(
                &mut self,
                channels: &$crate::outbox::Channels,
            ) -> Result<u64, $crate::outbox::OutboxError> {
                self.outbox_write(|db| $crate::outbox::ops::plan_deliveries(db, channels))
            }
            fn claim_deliveries(
                &mut self,
                owner: &str,
                lease_secs: i64,
                limit: usize,
            ) -> Result<Vec<$crate::outbox::ClaimedDelivery>, $crate::outbox::OutboxError> {
                self.outbox_write(|db| {
                    $crate::outbox::ops::claim_deliveries(db, owner, lease_secs, limit)
                })
            }
            fn finish_delivery(
                &mut self,
                claimed: &$crate::outbox::ClaimedDelivery,
                owner: &str,
                outcome: &$crate::outbox::Outcome,
            ) -> Result<bool, $crate::outbox::OutboxError> {
                self.outbox_write(|db| {
                    $crate::outbox::ops::finish_delivery(db, claimed, owner, outcome)
                })
            }
            fn enable_endpoint(&mut self, url: &str) -> Result<u64, $crate::outbox::OutboxError> {
                self.outbox_write(|db| $crate::outbox::ops::enable_endpoint(db, url))
            }
            fn outbox_open(&self) -> Result<(i64, Option<i64>), $crate::outbox::OutboxError> {
                self.outbox_read(|db| $crate::outbox::ops::outbox_open(db))
            }
            fn outbox_counts(
                &self,
            ) -> Result<$crate::outbox::OutboxCounts, $crate::outbox::OutboxError> {
                self.outbox_read(|db| $crate::outbox::ops::outbox_counts(db))
            }
            fn notifications(
                &self,
                f: &$crate::outbox::OutboxFilter,
            ) -> Result<Vec<$crate::outbox::NotificationRow>, $crate::outbox::OutboxError> {
                self.outbox_read(|db| $crate::outbox::ops::notifications(db, f))
            }
            fn delivery_attempts(
                &self,
                delivery: i64,
            ) -> Result<Vec<$crate::outbox::AttemptRow>, $crate::outbox::OutboxError> {
                self.outbox_read(|db| $crate::outbox::ops::delivery_attempts(db, delivery))
            }
            fn endpoint_disabled(
                &self,
                url: &str,
            ) -> Result<Option<String>, $crate::outbox::OutboxError> {
                self.outbox_read(|db| $crate::outbox::ops::endpoint_disabled(db, url))
            }
        }
    };
}
#[cfg_attr(not(feature = "postgres"), allow(unused_imports))]
pub(crate) use outbox_store;

outbox_store!(Store);

/// One attempt of a delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttemptRow {
    pub started_at: i64,
    /// `None`: the sender stopped before it recorded the outcome.
    pub finished_at: Option<i64>,
    pub owner: String,
    pub outcome: Option<String>,
    pub code: Option<i64>,
    pub error: Option<String>,
}
