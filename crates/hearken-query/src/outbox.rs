//! The outbox's notifications with the status of each delivery (`GET /api/v1/outbox`,
//! `hearken outbox list`). Notifications name customers and employees of every segment and
//! team, so a caller with a data scope is refused (`out_of_scope`).

use hearken_store::{NotificationRow, OutboxCounts, OutboxFilter, OutboxStore};
use serde::{Deserialize, Serialize};

use crate::error::{QueryError, Result};
use crate::scope::Scope;

/// The delivery states.
pub const STATES: [&str; 6] = [
    "pending",
    "sending",
    "sent",
    "failed",
    "no_address",
    "disabled",
];

/// Which notifications to list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "utoipa", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields, default)]
pub struct OutboxRequest {
    /// Only the notifications of this action.
    pub action: Option<i64>,
    /// Only those with a delivery in this state: pending, sending, sent, failed, no_address,
    /// disabled.
    pub state: Option<String>,
    /// At most this many, newest first (0: all).
    pub limit: usize,
}

/// Notifications with their deliveries, and the counts by state.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct OutboxList {
    /// Each notification: action, recipient, the signal that motivated it, its message id
    /// (the `webhook-id` / `Message-ID` receivers see) and its deliveries (channel, target,
    /// state, attempts, last code and error, when sent).
    #[cfg_attr(feature = "utoipa", schema(value_type = Vec<Object>))]
    pub notifications: Vec<NotificationRow>,
    #[cfg_attr(feature = "utoipa", schema(value_type = Object))]
    pub counts: OutboxCounts,
}

/// The notifications and their delivery status.
pub fn outbox(store: &dyn OutboxStore, scope: &Scope, req: &OutboxRequest) -> Result<OutboxList> {
    scope.store_wide("notifications")?;
    if let Some(s) = &req.state
        && !STATES.contains(&s.as_str())
    {
        return Err(QueryError::Action {
            code: "invalid_value",
            status: 422,
            message: format!("`state` '{s}' is not a delivery state"),
            hint: format!("use one of: {}", STATES.join(", ")),
        });
    }
    let store_err = |e: hearken_store::OutboxError| match e {
        hearken_store::OutboxError::Store(s) => QueryError::Store(s),
        other => QueryError::Refused(other.to_string()),
    };
    Ok(OutboxList {
        notifications: store
            .notifications(&OutboxFilter {
                action: req.action,
                state: req.state.clone(),
                limit: req.limit,
            })
            .map_err(store_err)?,
        counts: store.outbox_counts().map_err(store_err)?,
    })
}
