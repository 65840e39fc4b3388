//! The outbox on PostgreSQL: the SQLite store's statements (`crate::outbox::ops`, through
//! `crate::sql`), in PostgreSQL transactions.
//!
//! Every write (planning, a claim, a finish) takes a transaction-scoped advisory lock first, so
//! the senders of every process on the database (`hearken outbox run`, each `hearken serve`)
//! plan, claim and finish one at a time, as the file's single writer makes them: a delivery is
//! claimed by one sender under one lease, and a finish is recorded only while the lease is
//! still its sender's. Sending happens outside any transaction, between a claim and a finish.

use super::PgStore;
use crate::outbox::{OutboxError, outbox_store};
use crate::sql::Db;

/// The advisory lock key of outbox writes ("outbox" in ASCII).
const OUTBOX_LOCK: i64 = 0x6f75_7462_6f78;

impl PgStore {
    fn outbox_write<T>(
        &mut self,
        f: impl FnOnce(&mut dyn Db) -> Result<T, OutboxError>,
    ) -> Result<T, OutboxError> {
        self.locked_write(OUTBOX_LOCK, "an outbox write", f)
    }

    fn outbox_read<T>(
        &self,
        f: impl FnOnce(&mut dyn Db) -> Result<T, OutboxError>,
    ) -> Result<T, OutboxError> {
        self.snapshot_read("the outbox", f)
    }
}

outbox_store!(PgStore);
