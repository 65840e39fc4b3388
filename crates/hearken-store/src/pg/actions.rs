//! Actions and suggestion reviews on PostgreSQL: the SQLite store's statements
//! (`crate::actions::ops`, through `crate::sql`), in PostgreSQL transactions.
//!
//! A write takes a transaction-scoped advisory lock first, so the writes of actions from every
//! process on the database happen one at a time, as SQLite's single writer makes them: an
//! action's status is read, checked against the allowed moves and changed without another
//! server moving it in between, and a person's notification is written once. A read is one
//! `REPEATABLE READ` snapshot, so an action and its links are read as one.

use super::PgStore;
use crate::actions::{ActionError, action_store};
use crate::sql::{Db, Pg};

/// The advisory lock key of action writes ("actions" in ASCII).
const ACTIONS_LOCK: i64 = 0x0061_6374_696f_6e73;

impl PgStore {
    fn action_write<T>(
        &mut self,
        f: impl FnOnce(&mut dyn Db) -> Result<T, ActionError>,
    ) -> Result<T, ActionError> {
        self.locked_write(ACTIONS_LOCK, "an action's change", f)
    }

    fn action_read<T>(
        &self,
        f: impl FnOnce(&mut dyn Db) -> Result<T, ActionError>,
    ) -> Result<T, ActionError> {
        self.snapshot_read("actions", f)
    }

    /// Runs the lookups of `f` on the connection as it is: inside the consistent read a caller
    /// opened (`read_consistent`), else each statement on its own.
    pub(crate) fn entity_read<T>(
        &self,
        f: impl FnOnce(&mut dyn Db) -> Result<T, crate::StoreError>,
    ) -> Result<T, crate::StoreError> {
        let mut client = self.client();
        f(&mut Pg(&mut *client))
    }
}

action_store!(PgStore);

impl crate::actions::TeamStore for PgStore {
    fn tokens(&self) -> Result<Vec<crate::TokenInfo>, crate::TokenError> {
        PgStore::list_tokens(self)
    }
}
