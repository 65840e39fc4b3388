//! Inbound webhooks: the registry of hooks (`POST /hooks/NAME` of `hearken serve`) and the ids of
//! the deliveries already stored, so that a sender's retry or a replay stores nothing twice.
//!
//! A hook has a name, a signature format (Standard Webhooks or Zendesk), the kind of rows its
//! deliveries hold, an optional mapping (the text of a mapping file, as `import --mapping` reads
//! it), and its signing secret. The secret must be kept in a form HMAC can use (unlike an API
//! token, of which only a hash is kept): it is stored in the store file, which is the protection
//! (file permissions; anyone who can read the file can read every signal in it anyway). It is
//! shown once, when the hook is added, and never listed; removing a hook erases it.
//!
//! Delivery ids: a delivery is recorded with its hook and id when its rows are committed (in the
//! same transaction, so an acknowledged delivery is recorded and a failed one is not), and kept
//! [`DELIVERY_TTL_SECS`] so that retries spread over days (Standard Webhooks' schedule spans about
//! three) are still recognised.

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{Transaction, params};
use serde::Serialize;

use crate::sql::{Db, Lite, Row, vals};
use crate::{Store, StoreError};

/// How long a delivery id is remembered.
pub const DELIVERY_TTL_SECS: i64 = 7 * 24 * 3600;
/// Longest hook name.
const MAX_NAME: usize = 64;
/// Largest mapping text kept with a hook.
const MAX_MAPPING: usize = 256 * 1024;

/// How a sender signs its deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WebhookFormat {
    /// Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature` (`v1,...`).
    Standard,
    /// Zendesk: `X-Zendesk-Webhook-Signature` and `X-Zendesk-Webhook-Signature-Timestamp`.
    Zendesk,
}

/// What a hook's deliveries hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum WebhookKind {
    #[serde(rename = "signals")]
    Signals,
    #[serde(rename = "case-events")]
    CaseEvents,
}

macro_rules! text_enum {
    ($t:ty, $field:literal, $allowed:literal, $($v:path = $s:literal),+) => {
        impl $t {
            pub fn as_str(self) -> &'static str {
                match self { $($v => $s),+ }
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $t {
            type Err = WebhookError;
            fn from_str(s: &str) -> Result<$t, WebhookError> {
                match s {
                    $($s => Ok($v),)+
                    _ => Err(WebhookError::Invalid {
                        field: $field,
                        value: s.to_string(),
                        reason: concat!("use ", $allowed).into(),
                    }),
                }
            }
        }
    };
}
text_enum!(
    WebhookFormat,
    "format",
    "standard or zendesk",
    WebhookFormat::Standard = "standard",
    WebhookFormat::Zendesk = "zendesk"
);
text_enum!(
    WebhookKind,
    "kind",
    "signals or case-events",
    WebhookKind::Signals = "signals",
    WebhookKind::CaseEvents = "case-events"
);

/// What is asked to add a hook. The caller makes (or is given) the secret and checks its form.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub name: String,
    pub format: WebhookFormat,
    pub kind: WebhookKind,
    pub secret: String,
    /// The mapping file's name and text, checked by the caller.
    pub mapping: Option<(String, String)>,
}

/// A hook as listed: everything but its secret and mapping text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WebhookInfo {
    pub id: i64,
    pub name: String,
    pub format: WebhookFormat,
    pub kind: WebhookKind,
    /// The mapping file the hook was added with, if any.
    pub mapping: Option<String>,
    /// Seconds since the Unix epoch (UTC).
    pub created_at: i64,
    pub removed_at: Option<i64>,
}

/// A hook with what verifying and converting its deliveries needs.
#[derive(Clone)]
pub struct WebhookConfig {
    pub info: WebhookInfo,
    pub secret: String,
    /// The mapping's text.
    pub mapping_text: Option<String>,
}

impl fmt::Debug for WebhookConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebhookConfig")
            .field("info", &self.info)
            .field("secret", &"(hidden)")
            .finish()
    }
}

/// Errors of the hook registry. `Invalid`, `NameTaken` and `NotFound` are the person's to fix.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("{field} '{value}' is invalid: {reason}")]
    Invalid {
        field: &'static str,
        value: String,
        reason: String,
    },
    #[error("a webhook named '{0}' already exists: remove it first or choose another name")]
    NameTaken(String),
    #[error("no webhook is named '{0}': `hearken webhooks list` shows them")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for WebhookError {
    fn from(e: rusqlite::Error) -> WebhookError {
        WebhookError::Store(StoreError::Sql(e))
    }
}

/// A hook name, which is also a path segment (`/hooks/NAME`): a letter, then letters, digits,
/// `.`, `_` or `-`; at most 64 characters. Nothing that could leave the path segment or look
/// like a token.
pub fn validate_webhook_name(name: &str) -> Result<(), WebhookError> {
    let bad = |reason: &str| WebhookError::Invalid {
        field: "name",
        value: name.to_string(),
        reason: reason.to_string(),
    };
    let mut chars = name.chars();
    match chars.next() {
        None => {
            return Err(bad(
                "it is empty: give the hook a name, e.g. zendesk-tickets",
            ));
        }
        Some(c) if !c.is_ascii_alphabetic() => return Err(bad("it must start with a letter")),
        _ => {}
    }
    if name.len() > MAX_NAME {
        return Err(bad("it is longer than 64 characters"));
    }
    if !chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')) {
        return Err(bad("use only letters, digits, '.', '_' and '-'"));
    }
    if name.starts_with(crate::TOKEN_PREFIX) {
        return Err(bad("it must not look like an API token (hk_...)"));
    }
    Ok(())
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

const COLUMNS: &str = "id, name, format, kind, mapping_name, created_at, removed_at";

fn row_to_info(r: &Row) -> Result<WebhookInfo, WebhookError> {
    let format: String = r.get(2)?;
    let kind: String = r.get(3)?;
    Ok(WebhookInfo {
        id: r.get(0)?,
        name: r.get(1)?,
        format: format.parse()?,
        kind: kind.parse()?,
        mapping: r.get(4)?,
        created_at: r.get(5)?,
        removed_at: r.get(6)?,
    })
}

/// The hook registry and the delivery ids, on either store: the SQLite file and the PostgreSQL
/// database run the same statements (`crate::sql`); a change is one transaction holding the
/// file's writer or, on PostgreSQL, the webhooks lock, so a name is taken once.
pub trait WebhookStore {
    /// Adds a hook. The name must be free among the hooks not removed.
    fn create_webhook(&mut self, new: &NewWebhook) -> Result<WebhookInfo, WebhookError>;
    /// Every hook, removed ones too, oldest first.
    fn list_webhooks(&self) -> Result<Vec<WebhookInfo>, WebhookError>;
    /// Removes the hook with this name: it stays listed as removed, its secret and mapping are
    /// erased, its delivery ids forgotten, and the name is free again.
    fn remove_webhook(&mut self, name: &str) -> Result<WebhookInfo, WebhookError>;
    /// The active hook with this name, with its secret and mapping, for a delivery.
    fn webhook_config(&self, name: &str) -> Result<Option<WebhookConfig>, WebhookError>;
    /// Whether the hook already stored the delivery with this id (and the record has not
    /// expired at `now`).
    fn webhook_delivery_seen(
        &self,
        webhook_id: i64,
        delivery_id: &str,
        now: i64,
    ) -> Result<bool, WebhookError>;
    /// Records a delivery as stored at `now`, for [`DELIVERY_TTL_SECS`]; returns `false` when
    /// it was already recorded (nothing is changed then). Expired records are dropped on the
    /// way.
    fn record_webhook_delivery(
        &mut self,
        webhook_id: i64,
        delivery_id: &str,
        now: i64,
    ) -> Result<bool, WebhookError>;
}

/// The statements of [`WebhookStore`], written once against [`Db`].
pub(crate) mod ops {
    use super::*;

    /// The checks of a new hook, before any transaction.
    pub(crate) fn check_new(new: &NewWebhook) -> Result<(), WebhookError> {
        validate_webhook_name(&new.name)?;
        if new.secret.is_empty()
            || new
                .secret
                .chars()
                .any(|c| c.is_control() || c.is_whitespace())
        {
            return Err(WebhookError::Invalid {
                field: "secret",
                value: "(hidden)".into(),
                reason: "it is empty or has spaces or control characters".into(),
            });
        }
        if let Some((_, text)) = &new.mapping
            && text.len() > MAX_MAPPING
        {
            return Err(WebhookError::Invalid {
                field: "mapping",
                value: format!("{} bytes", text.len()),
                reason: "a mapping is at most 256 KiB".into(),
            });
        }
        Ok(())
    }

    fn active_id(db: &mut dyn Db, name: &str) -> Result<Option<i64>, WebhookError> {
        Ok(db
            .first(
                "SELECT id FROM webhooks WHERE name = ?1 AND removed_at IS NULL",
                vals![name],
            )?
            .map(|r| r.get(0))
            .transpose()?)
    }

    fn by_id(db: &mut dyn Db, id: i64) -> Result<Option<WebhookInfo>, WebhookError> {
        db.first(
            &format!("SELECT {COLUMNS} FROM webhooks WHERE id = ?1"),
            vals![id],
        )?
        .map(|r| row_to_info(&r))
        .transpose()
    }

    pub(crate) fn create_webhook(
        db: &mut dyn Db,
        new: &NewWebhook,
    ) -> Result<WebhookInfo, WebhookError> {
        check_new(new)?;
        if active_id(db, &new.name)?.is_some() {
            return Err(WebhookError::NameTaken(new.name.clone()));
        }
        let (mapping_name, mapping_text) = match &new.mapping {
            Some((n, t)) => (Some(n.as_str()), Some(t.as_str())),
            None => (None, None),
        };
        let id: i64 = db
            .first(
                "INSERT INTO webhooks (name, format, kind, secret, mapping_name, mapping, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
                vals![
                    &new.name,
                    new.format.as_str(),
                    new.kind.as_str(),
                    &new.secret,
                    mapping_name,
                    mapping_text,
                    now()
                ],
            )?
            .ok_or_else(|| StoreError::Snapshot("an insert returned no id".into()))?
            .get(0)?;
        by_id(db, id)?.ok_or_else(|| WebhookError::NotFound(new.name.clone()))
    }

    pub(crate) fn list_webhooks(db: &mut dyn Db) -> Result<Vec<WebhookInfo>, WebhookError> {
        db.query(&format!("SELECT {COLUMNS} FROM webhooks ORDER BY id"), &[])?
            .iter()
            .map(row_to_info)
            .collect()
    }

    pub(crate) fn remove_webhook(db: &mut dyn Db, name: &str) -> Result<WebhookInfo, WebhookError> {
        let Some(id) = active_id(db, name)? else {
            return Err(WebhookError::NotFound(name.to_string()));
        };
        db.execute(
            "UPDATE webhooks SET removed_at = ?2, secret = '', mapping = NULL WHERE id = ?1",
            vals![id, now()],
        )?;
        db.execute(
            "DELETE FROM webhook_deliveries WHERE webhook_id = ?1",
            vals![id],
        )?;
        by_id(db, id)?.ok_or_else(|| WebhookError::NotFound(name.to_string()))
    }

    pub(crate) fn webhook_config(
        db: &mut dyn Db,
        name: &str,
    ) -> Result<Option<WebhookConfig>, WebhookError> {
        let Some(r) = db.first(
            &format!(
                "SELECT {COLUMNS}, secret, mapping FROM webhooks WHERE name = ?1 AND removed_at IS NULL"
            ),
            vals![name],
        )?
        else {
            return Ok(None);
        };
        Ok(Some(WebhookConfig {
            info: row_to_info(&r)?,
            secret: r.get(7)?,
            mapping_text: r.get(8)?,
        }))
    }

    pub(crate) fn webhook_delivery_seen(
        db: &mut dyn Db,
        webhook_id: i64,
        delivery_id: &str,
        now: i64,
    ) -> Result<bool, WebhookError> {
        Ok(db
            .first(
                "SELECT 1 FROM webhook_deliveries
                 WHERE webhook_id = ?1 AND delivery_id = ?2 AND expires_at > ?3",
                vals![webhook_id, delivery_id, now],
            )?
            .is_some())
    }

    pub(crate) fn record_webhook_delivery(
        db: &mut dyn Db,
        webhook_id: i64,
        delivery_id: &str,
        now: i64,
    ) -> Result<bool, WebhookError> {
        db.execute(
            "DELETE FROM webhook_deliveries WHERE expires_at <= ?1",
            vals![now],
        )?;
        let inserted = db.execute(
            "INSERT INTO webhook_deliveries (webhook_id, delivery_id, received_at, expires_at)
             VALUES (?1, ?2, ?3, ?4) ON CONFLICT DO NOTHING",
            vals![webhook_id, delivery_id, now, now + DELIVERY_TTL_SECS],
        )?;
        Ok(inserted == 1)
    }
}

impl Store {
    fn webhook_write<T>(
        &mut self,
        f: impl FnOnce(&mut dyn Db) -> Result<T, WebhookError>,
    ) -> Result<T, WebhookError> {
        self.immediate_write("change webhooks", f)
    }

    fn webhook_read<T>(
        &self,
        f: impl FnOnce(&mut dyn Db) -> Result<T, WebhookError>,
    ) -> Result<T, WebhookError> {
        f(&mut Lite(&self.conn))
    }
}

/// The [`WebhookStore`] of a store with `webhook_read` and `webhook_write`.
macro_rules! webhook_store {
    ($store:ty) => {
        impl $crate::webhooks::WebhookStore for $store {
            fn create_webhook(
                &mut self,
                new: &$crate::webhooks::NewWebhook,
            ) -> Result<$crate::webhooks::WebhookInfo, $crate::webhooks::WebhookError> {
                $crate::webhooks::ops::check_new(new)?;
                self.webhook_write(|db| $crate::webhooks::ops::create_webhook(db, new))
            }
            fn list_webhooks(
                &self,
            ) -> Result<Vec<$crate::webhooks::WebhookInfo>, $crate::webhooks::WebhookError> {
                self.webhook_read(|db| $crate::webhooks::ops::list_webhooks(db))
            }
            fn remove_webhook(
                &mut self,
                name: &str,
            ) -> Result<$crate::webhooks::WebhookInfo, $crate::webhooks::WebhookError> {
                self.webhook_write(|db| $crate::webhooks::ops::remove_webhook(db, name))
            }
            fn webhook_config(
                &self,
                name: &str,
            ) -> Result<Option<$crate::webhooks::WebhookConfig>, $crate::webhooks::WebhookError>
            {
                self.webhook_read(|db| $crate::webhooks::ops::webhook_config(db, name))
            }
            fn webhook_delivery_seen(
                &self,
                webhook_id: i64,
                delivery_id: &str,
                now: i64,
            ) -> Result<bool, $crate::webhooks::WebhookError> {
                self.webhook_read(|db| {
                    $crate::webhooks::ops::webhook_delivery_seen(db, webhook_id, delivery_id, now)
                })
            }
            fn record_webhook_delivery(
                &mut self,
                webhook_id: i64,
                delivery_id: &str,
                now: i64,
            ) -> Result<bool, $crate::webhooks::WebhookError> {
                self.webhook_write(|db| {
                    $crate::webhooks::ops::record_webhook_delivery(db, webhook_id, delivery_id, now)
                })
            }
        }
    };
}
#[cfg_attr(not(feature = "postgres"), allow(unused_imports))]
pub(crate) use webhook_store;

webhook_store!(Store);

/// [`WebhookStore::record_webhook_delivery`] inside the caller's transaction (the one that stores the
/// delivery's rows).
pub fn record_webhook_delivery_in(
    tx: &Transaction<'_>,
    webhook_id: i64,
    delivery_id: &str,
    now: i64,
) -> Result<bool, WebhookError> {
    tx.execute(
        "DELETE FROM webhook_deliveries WHERE expires_at <= ?1",
        [now],
    )?;
    let inserted = tx.execute(
        "INSERT OR IGNORE INTO webhook_deliveries (webhook_id, delivery_id, received_at, expires_at)
         VALUES (?1, ?2, ?3, ?4)",
        params![webhook_id, delivery_id, now, now + DELIVERY_TTL_SECS],
    )?;
    Ok(inserted == 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::WebhookStore;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(&dir.path().join("t.db")).expect("open");
        (dir, store)
    }

    fn new(name: &str) -> NewWebhook {
        NewWebhook {
            name: name.into(),
            format: WebhookFormat::Standard,
            kind: WebhookKind::Signals,
            secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw".into(),
            mapping: Some(("m.toml".into(), "[columns]\n".into())),
        }
    }

    #[test]
    fn hooks_are_added_listed_without_secret_and_removed() {
        let (_d, mut s) = store();
        let a = s.create_webhook(&new("zendesk-tickets")).expect("create");
        assert_eq!(a.format, WebhookFormat::Standard);
        assert_eq!(a.mapping.as_deref(), Some("m.toml"));
        assert!(matches!(
            s.create_webhook(&new("zendesk-tickets")),
            Err(WebhookError::NameTaken(_))
        ));
        let c = s
            .webhook_config("zendesk-tickets")
            .expect("read")
            .expect("found");
        assert_eq!(c.secret, "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
        assert_eq!(c.mapping_text.as_deref(), Some("[columns]\n"));
        assert!(!format!("{c:?}").contains("MfKQ"), "Debug hides the secret");
        let listed = format!("{:?}", s.list_webhooks().expect("list"));
        assert!(!listed.contains("MfKQ"), "{listed}");

        let r = s.remove_webhook("zendesk-tickets").expect("remove");
        assert!(r.removed_at.is_some());
        assert!(s.webhook_config("zendesk-tickets").expect("read").is_none());
        let secret_left: i64 = s
            .conn
            .query_row(
                "SELECT count(*) FROM webhooks WHERE secret LIKE '%MfKQ%'",
                [],
                |r| r.get(0),
            )
            .expect("count");
        assert_eq!(secret_left, 0, "a removed hook's secret is erased");
        assert!(matches!(
            s.remove_webhook("zendesk-tickets"),
            Err(WebhookError::NotFound(_))
        ));
        s.create_webhook(&new("zendesk-tickets"))
            .expect("the name is free again");
        assert_eq!(s.list_webhooks().expect("list").len(), 2);
    }

    #[test]
    fn names_formats_and_kinds_are_checked() {
        let (_d, mut s) = store();
        for name in [
            "",
            "1a",
            "a/b",
            "../x",
            "a b",
            "hk_0123abcd",
            &"x".repeat(65),
            "a%2f",
        ] {
            assert!(
                matches!(
                    s.create_webhook(&new(name)),
                    Err(WebhookError::Invalid { .. })
                ),
                "{name:?}"
            );
        }
        assert_eq!(
            "case-events".parse::<WebhookKind>().ok(),
            Some(WebhookKind::CaseEvents)
        );
        assert!("tickets".parse::<WebhookKind>().is_err());
        assert_eq!(
            "zendesk".parse::<WebhookFormat>().ok(),
            Some(WebhookFormat::Zendesk)
        );
        assert!("github".parse::<WebhookFormat>().is_err());
        let mut bad = new("x");
        bad.secret = "has space".into();
        assert!(matches!(
            s.create_webhook(&bad),
            Err(WebhookError::Invalid { .. })
        ));
    }

    #[test]
    fn a_delivery_is_recorded_once_and_forgotten_after_its_time() {
        let (_d, mut s) = store();
        let h = s.create_webhook(&new("h")).expect("create");
        let t = 1_700_000_000;
        assert!(!s.webhook_delivery_seen(h.id, "msg_1", t).expect("seen"));
        assert!(s.record_webhook_delivery(h.id, "msg_1", t).expect("record"));
        assert!(
            s.webhook_delivery_seen(h.id, "msg_1", t + 10)
                .expect("seen")
        );
        assert!(
            !s.record_webhook_delivery(h.id, "msg_1", t + 3 * 86_400)
                .expect("again")
        );
        // Another hook's id space is its own.
        let g = s.create_webhook(&new("g")).expect("create");
        assert!(!s.webhook_delivery_seen(g.id, "msg_1", t).expect("seen"));
        // After the time to live, the record is gone and a new one can be made.
        let later = t + DELIVERY_TTL_SECS + 1;
        assert!(!s.webhook_delivery_seen(h.id, "msg_1", later).expect("seen"));
        assert!(
            s.record_webhook_delivery(h.id, "msg_1", later)
                .expect("record")
        );
        let rows: i64 = s
            .conn
            .query_row("SELECT count(*) FROM webhook_deliveries", [], |r| r.get(0))
            .expect("count");
        assert_eq!(rows, 1, "the expired record was dropped");
    }
}
