//! The store's state: row counts, schema version, snapshot freshness, and the quarantine.

use hearken_store::{QuarantineEntry, Status, Store};
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// Row counts per kind, the schema version and whether the snapshot is behind.
pub fn status(store: &Store) -> Result<Status> {
    Ok(store.status()?)
}

/// Which quarantined rows to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "utoipa", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields, default)]
pub struct QuarantineRequest {
    /// At most this many entries, oldest first (0: all).
    pub limit: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct QuarantineList {
    #[cfg_attr(feature = "utoipa", schema(value_type = Vec<Object>))]
    pub entries: Vec<QuarantineEntry>,
}

/// Quarantined rows with file, line, field, value, reason and the raw row.
pub fn quarantine(store: &Store, req: &QuarantineRequest) -> Result<QuarantineList> {
    Ok(QuarantineList {
        entries: store.quarantine(req.limit)?,
    })
}
