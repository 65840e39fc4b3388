//! Risk models and self-assessments on PostgreSQL: the SQLite store's statements
//! (`crate::risk::ops`, through `crate::sql`). A save takes the risk lock, so two models saved
//! at once get two versions.

use super::PgStore;
use crate::StoreError;
use crate::risk::risk_store;
use crate::sql::Db;

/// The advisory lock key of risk model and assessment saves ("risk" in ASCII).
const RISK_LOCK: i64 = 0x7269_736b;

impl PgStore {
    fn risk_write<T>(
        &self,
        what: &str,
        f: impl FnOnce(&mut dyn Db) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.locked_write(RISK_LOCK, what, f)
    }

    fn risk_read<T>(
        &self,
        f: impl FnOnce(&mut dyn Db) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        self.snapshot_read("risk models", f)
    }
}

risk_store!(PgStore);
