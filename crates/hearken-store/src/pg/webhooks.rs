//! Inbound webhooks on PostgreSQL: the SQLite store's statements (`crate::webhooks::ops`,
//! through `crate::sql`). A change takes the webhooks' advisory lock, so two servers adding a
//! hook of one name at once add it once; a delivery is stored once whatever this registry says,
//! because its id is the idempotency key of the ingestion that stores its rows.

use super::PgStore;
use crate::sql::Db;
use crate::webhooks::{WebhookError, webhook_store};

/// The advisory lock key of webhook changes ("webhooks" in ASCII).
const WEBHOOKS_LOCK: i64 = 0x7765_6268_6f6f_6b73;

impl PgStore {
    fn webhook_write<T>(
        &mut self,
        f: impl FnOnce(&mut dyn Db) -> Result<T, WebhookError>,
    ) -> Result<T, WebhookError> {
        self.locked_write(WEBHOOKS_LOCK, "a webhook change", f)
    }

    fn webhook_read<T>(
        &self,
        f: impl FnOnce(&mut dyn Db) -> Result<T, WebhookError>,
    ) -> Result<T, WebhookError> {
        self.snapshot_read("webhooks", f)
    }
}

webhook_store!(PgStore);
