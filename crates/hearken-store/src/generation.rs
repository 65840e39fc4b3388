//! The store's data generation: a short value that changes whenever anything an analytic reads
//! changes (a row imported or ingested, an entity's attributes updated by an import, topics
//! re-classified, a quarantine entry stored or cleared, a topic model saved), so the layer
//! above can keep answers per generation (ADR 0013). And a slot where that layer keeps its
//! cache beside a connection.

use std::any::Any;
use std::sync::Arc;

use crate::{Store, StoreError};

/// The generation's parts, each a few primary-key lookups (the largest id of a table) or a
/// scan of a small table (`imports`: one row per import or ingestion source; `store_generations`).
/// Rows are never deleted from these tables, and every write that changes a row in place does
/// so inside an import whose counters it moves (`imports.read` ... `finished_at`), or bumps a
/// `store_generations` counter (`topics classify`), or inserts a row (`quarantine_clearings`).
const GENERATION_SQL: &str = "SELECT
    (SELECT coalesce(max(id), 0) FROM signals) || '.' ||
    (SELECT coalesce(max(id), 0) FROM surveys) || '.' ||
    (SELECT coalesce(max(id), 0) FROM case_events) || '.' ||
    (SELECT coalesce(max(id), 0) FROM customers) || '.' ||
    (SELECT coalesce(max(id), 0) FROM products) || '.' ||
    (SELECT coalesce(max(id), 0) FROM agents) || '.' ||
    (SELECT coalesce(max(id), 0) FROM cases) || '.' ||
    (SELECT coalesce(max(id), 0) FROM quarantine) || '.' ||
    (SELECT coalesce(max(id), 0) FROM quarantine_clearings) || '.' ||
    (SELECT coalesce(max(id), 0) FROM topic_models) || '.' ||
    (SELECT coalesce(max(id), 0) || ':' || coalesce(sum(read), 0) || ':' || coalesce(sum(stored), 0)
        || ':' || coalesce(sum(duplicates), 0) || ':' || coalesce(sum(quarantined), 0)
        || ':' || count(finished_at) FROM imports) || '.' ||
    (SELECT coalesce(group_concat(name || '=' || value, ','), '')
        FROM (SELECT name, value FROM store_generations ORDER BY name))";

impl Store {
    /// The data generation now: equal values mean the rows the analytics read are the same.
    /// Cheap (a dozen index lookups), so it can be asked before every answer.
    pub fn data_generation(&self) -> Result<String, StoreError> {
        Ok(self.conn.query_row(GENERATION_SQL, [], |r| r.get(0))?)
    }

    /// Keeps `value` beside this connection for as long as it is open: the server attaches the
    /// query layer's answer cache to each of its read connections. The store never reads it.
    pub fn attach(&mut self, value: Arc<dyn Any + Send + Sync>) {
        self.attachment = Some(value);
    }

    /// What [`Store::attach`] kept, if it is a `T`.
    pub fn attached<T: Any + Send + Sync>(&self) -> Option<&T> {
        self.attachment.as_deref().and_then(|a| a.downcast_ref())
    }
}
