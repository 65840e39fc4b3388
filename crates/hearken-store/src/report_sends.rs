//! The weekly report handed to the outbox (issue 12, scheduled delivery): one notification of
//! kind `report.weekly` per configured recipient and week, with its deliveries (the recipient's
//! e-mail address and webhook), and a row of `report_sends` that makes it unique.
//!
//! Never twice: `report_sends` has one row per (recipient name, week, round). The scheduler and
//! `hearken report send` write round 0 only, in one IMMEDIATE transaction that first looks for
//! it (the write lock is held, so two processes or two ticks cannot both miss it) and is backed
//! by the unique key. `hearken report send --again` writes the next round. The report itself is
//! rendered by the caller (hearken-web); this module stores what it is given.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::Store;
use crate::actions::now;
use crate::outbox::{DeliveryRow, OutboxError, check_email, new_message_id};

/// Why a report was enqueued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ReportHow {
    /// The server's (or `hearken report tick`'s) schedule.
    Schedule,
    /// `hearken report send`: the same round as the schedule, so still once per week.
    Send,
    /// `hearken report send --again`: a further round, on purpose.
    Again,
}

impl ReportHow {
    fn as_str(self) -> &'static str {
        match self {
            ReportHow::Schedule => "schedule",
            ReportHow::Send => "send",
            ReportHow::Again => "again",
        }
    }
}

/// A rendered report for one recipient and week, to enqueue.
#[derive(Debug, Clone)]
pub struct NewReportSend<'a> {
    /// The recipient's name in `[[report.recipients]]`.
    pub recipient: &'a str,
    /// `2026-W47`.
    pub week: &'a str,
    /// The scope as words (`segments smb`), for the listing.
    pub scope: &'a str,
    /// The week had no data in the scope (the report says so).
    pub empty: bool,
    pub email: Option<&'a str>,
    pub webhook: Option<&'a str>,
    pub subject: &'a str,
    /// Plain text.
    pub body: &'a str,
    /// The report page.
    pub html: &'a str,
    /// The webhook's JSON.
    pub payload: &'a str,
    pub how: ReportHow,
    /// Who asked: the operating-system user, or `schedule`.
    pub who: &'a str,
}

/// A report send as recorded, with its deliveries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportSendRow {
    pub id: i64,
    pub recipient: String,
    pub week: String,
    pub round: i64,
    pub scope: String,
    pub empty: bool,
    pub how: String,
    pub who: String,
    pub notification_id: i64,
    pub message_id: String,
    pub created_at: i64,
    pub deliveries: Vec<DeliveryRow>,
}

impl Store {
    /// Whether the report of `week` was already enqueued for `recipient` (round 0).
    pub fn report_sent(&self, recipient: &str, week: &str) -> Result<bool, OutboxError> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT 1 FROM report_sends WHERE recipient = ?1 AND week = ?2 AND round = 0",
            )?
            .exists(params![recipient, week])?)
    }

    /// Enqueues a report: the notification, its deliveries (e-mail to `email`, webhook to
    /// `webhook`: `disabled` at once when that endpoint answered 410 before) and the
    /// `report_sends` row, in one transaction. Returns the round written, or `None` when round 0
    /// of this recipient and week exists and `how` is not [`ReportHow::Again`] (nothing written).
    pub fn enqueue_report(&mut self, r: &NewReportSend<'_>) -> Result<Option<i64>, OutboxError> {
        let bad = |field: &'static str, value: &str, reason: &str| OutboxError::Invalid {
            field,
            value: value.to_string(),
            reason: reason.to_string(),
        };
        if r.recipient.trim().is_empty() {
            return Err(bad("recipient", r.recipient, "is empty"));
        }
        if r.email.is_none() && r.webhook.is_none() {
            return Err(bad(
                "recipient",
                r.recipient,
                "has neither an e-mail address nor a webhook",
            ));
        }
        let email = r.email.map(check_email).transpose()?;
        let message_id = new_message_id().map_err(|e| bad("message_id", "", &e.to_string()))?;
        let now = now();
        let tx = self.outbox_tx()?;
        let last: Option<i64> = tx
            .query_row(
                "SELECT max(round) FROM report_sends WHERE recipient = ?1 AND week = ?2",
                params![r.recipient, r.week],
                |row| row.get(0),
            )
            .optional()?
            .flatten();
        let round = match (last, r.how) {
            (None, _) => 0,
            (Some(_), ReportHow::Schedule | ReportHow::Send) => {
                tx.commit()?;
                return Ok(None);
            }
            (Some(n), ReportHow::Again) => n + 1,
        };
        tx.execute(
            "INSERT INTO notifications (kind, action_id, recipient, recipient_key, message_id,
                 subject, body, html, payload, created_at)
             VALUES ('report.weekly', NULL, 'report', ?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                format!("{}/{}/{round}", r.recipient, r.week),
                message_id,
                r.subject,
                r.body,
                r.html,
                r.payload,
                now
            ],
        )?;
        let notification = tx.last_insert_rowid();
        tx.execute(
            "INSERT INTO report_sends (recipient, week, round, scope, empty, how, who,
                 notification_id, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                r.recipient,
                r.week,
                round,
                r.scope,
                r.empty,
                r.how.as_str(),
                r.who,
                notification,
                now
            ],
        )?;
        if let Some(e) = &email {
            tx.execute(
                "INSERT INTO outbox (notification_id, channel, target, state, next_at, created_at)
                 VALUES (?1, 'email', ?2, 'pending', ?3, ?3)",
                params![notification, e, now],
            )?;
        }
        if let Some(url) = r.webhook {
            let disabled: bool = tx
                .prepare_cached(
                    "SELECT 1 FROM outbox_endpoints WHERE url = ?1 AND disabled_at IS NOT NULL",
                )?
                .exists([url])?;
            tx.execute(
                "INSERT INTO outbox (notification_id, channel, target, state, next_at, created_at)
                 VALUES (?1, 'webhook', ?2, ?3, ?4, ?4)",
                params![
                    notification,
                    url,
                    if disabled { "disabled" } else { "pending" },
                    now
                ],
            )?;
        }
        tx.commit()?;
        Ok(Some(round))
    }

    /// Every report send, newest week first, with its deliveries.
    pub fn report_sends(&self) -> Result<Vec<ReportSendRow>, OutboxError> {
        let mut stmt = self.conn.prepare(
            "SELECT r.id, r.recipient, r.week, r.round, r.scope, r.empty, r.how, r.who,
                 r.notification_id, n.message_id, r.created_at
             FROM report_sends r JOIN notifications n ON n.id = r.notification_id
             ORDER BY r.week DESC, r.recipient, r.round",
        )?;
        let mut rows: Vec<ReportSendRow> = stmt
            .query_map([], |r| {
                Ok(ReportSendRow {
                    id: r.get(0)?,
                    recipient: r.get(1)?,
                    week: r.get(2)?,
                    round: r.get(3)?,
                    scope: r.get(4)?,
                    empty: r.get(5)?,
                    how: r.get(6)?,
                    who: r.get(7)?,
                    notification_id: r.get(8)?,
                    message_id: r.get(9)?,
                    created_at: r.get(10)?,
                    deliveries: Vec::new(),
                })
            })?
            .collect::<Result<_, _>>()?;
        for row in &mut rows {
            row.deliveries = self.deliveries_of(row.notification_id)?;
        }
        Ok(rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OutboxStore;

    fn send<'a>(recipient: &'a str, week: &'a str, how: ReportHow) -> NewReportSend<'a> {
        NewReportSend {
            recipient,
            week,
            scope: "segments smb",
            empty: false,
            email: Some("ann@example.com"),
            webhook: Some("http://127.0.0.1:9/hook"),
            subject: "Hearken weekly report",
            body: "text",
            html: "<p>page</p>",
            payload: "{}",
            how,
            who: "test",
        }
    }

    #[test]
    fn a_week_is_enqueued_once_per_recipient_unless_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        assert!(!store.report_sent("ann", "2026-W47").unwrap());
        assert_eq!(
            store
                .enqueue_report(&send("ann", "2026-W47", ReportHow::Schedule))
                .unwrap(),
            Some(0)
        );
        assert!(store.report_sent("ann", "2026-W47").unwrap());
        for how in [ReportHow::Schedule, ReportHow::Send] {
            assert_eq!(
                store.enqueue_report(&send("ann", "2026-W47", how)).unwrap(),
                None
            );
        }
        assert_eq!(
            store
                .enqueue_report(&send("bob", "2026-W47", ReportHow::Send))
                .unwrap(),
            Some(0)
        );
        assert_eq!(
            store
                .enqueue_report(&send("ann", "2026-W47", ReportHow::Again))
                .unwrap(),
            Some(1)
        );
        let rows = store.report_sends().unwrap();
        assert_eq!(rows.len(), 3);
        assert!(
            rows.iter()
                .all(|r| r.deliveries.len() == 2
                    && r.deliveries.iter().all(|d| d.state == "pending"))
        );
        // Planning for the action channels leaves report notifications alone.
        let planned = store
            .plan_deliveries(&crate::Channels {
                webhook_url: Some("http://127.0.0.1:9/other".into()),
                email: true,
            })
            .unwrap();
        assert_eq!(planned, 0);
        let listed = store
            .notifications(&crate::OutboxFilter::default())
            .unwrap();
        assert_eq!(listed.len(), 3);
        assert!(listed.iter().all(|n| n.kind == "report.weekly"
            && n.action_id.is_none()
            && n.week.as_deref() == Some("2026-W47")));
        let mut bad = send("carl", "2026-W47", ReportHow::Send);
        bad.email = None;
        bad.webhook = None;
        let e = store.enqueue_report(&bad).unwrap_err().to_string();
        assert!(e.contains("carl") && e.contains("neither"), "{e}");
        bad.email = Some("not an address");
        let e = store.enqueue_report(&bad).unwrap_err().to_string();
        assert!(e.contains("not an address"), "{e}");
    }

    #[test]
    fn migration_14_keeps_the_action_notifications_and_their_deliveries() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        {
            let conn = rusqlite::Connection::open(&path).unwrap();
            for m in &crate::schema::MIGRATIONS[..13] {
                conn.execute_batch(m).unwrap();
            }
            conn.execute_batch(
                "PRAGMA user_version = 13;
                 INSERT INTO actions (id, title, status, status_at, created_at, created_by, updated_at)
                     VALUES (1, 'One charge per order', 5, 0, 0, 'test', 0);
                 INSERT INTO notifications (id, action_id, recipient, recipient_key, message_id,
                     subject, body, payload, created_at)
                     VALUES (7, 1, 'customer', 'customer:C1', 'msg_1', 's', 'b', '{}', 0);
                 INSERT INTO outbox (notification_id, channel, target, state, next_at, created_at)
                     VALUES (7, 'email', 'ann@example.com', 'sent', 0, 0);",
            )
            .unwrap();
        }
        let store = Store::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), 14);
        let listed = store
            .notifications(&crate::OutboxFilter::default())
            .unwrap();
        assert_eq!(listed.len(), 1);
        let n = &listed[0];
        assert_eq!(
            (n.id, n.kind.as_str(), n.action_id, n.message_id.as_str()),
            (7, "action.done", Some(1), "msg_1")
        );
        assert_eq!(n.deliveries.len(), 1);
        assert_eq!(n.deliveries[0].state, "sent");
        let fk: i64 = store
            .conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1, "foreign keys are on again after migrating");
        let outbox_fk: String = store
            .conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE name = 'outbox'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(
            outbox_fk.contains("REFERENCES notifications(id)"),
            "{outbox_fk}"
        );
    }
}
