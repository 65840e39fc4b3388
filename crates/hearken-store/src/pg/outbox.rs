//! The outbox on PostgreSQL: the SQLite store's statements (`crate::outbox::ops`, through
//! `crate::sql`), in PostgreSQL transactions.
//!
//! Every write (planning, a claim, a finish) takes a transaction-scoped advisory lock first, so
//! the senders of every process on the database (`hearken outbox run`, each `hearken serve`)
//! plan, claim and finish one at a time, as the file's single writer makes them: a delivery is
//! claimed by one sender under one lease, and a finish is recorded only while the lease is
//! still its sender's. Sending happens outside any transaction, between a claim and a finish.

use postgres::IsolationLevel;

use super::{PgStore, pg_error};
use crate::outbox::{OutboxError, outbox_store};
use crate::sql::{Db, Pg};

/// The advisory lock key of outbox writes ("outbox" in ASCII).
const OUTBOX_LOCK: i64 = 0x6f75_7462_6f78;

impl PgStore {
    fn outbox_write<T>(
        &mut self,
        f: impl FnOnce(&mut dyn Db) -> Result<T, OutboxError>,
    ) -> Result<T, OutboxError> {
        let mut client = self.client();
        let mut tx = client
            .transaction()
            .map_err(|e| pg_error("begin an outbox write", e))?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&OUTBOX_LOCK])
            .map_err(|e| pg_error("take the outbox lock", e))?;
        let out = f(&mut Pg(&mut tx))?;
        tx.commit()
            .map_err(|e| pg_error("commit an outbox write", e))?;
        Ok(out)
    }

    fn outbox_read<T>(
        &self,
        f: impl FnOnce(&mut dyn Db) -> Result<T, OutboxError>,
    ) -> Result<T, OutboxError> {
        let mut client = self.client();
        if self.in_consistent_read() {
            return f(&mut Pg(&mut *client));
        }
        let mut tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .map_err(|e| pg_error("begin reading the outbox", e))?;
        let out = f(&mut Pg(&mut tx))?;
        // Read only: nothing to keep.
        tx.rollback()
            .map_err(|e| pg_error("end reading the outbox", e))?;
        Ok(out)
    }
}

outbox_store!(PgStore);
