//! The store's status: row counts per kind, schema version, snapshot freshness.

use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Auth, Viewer};
use crate::error::AppError;
use crate::extract::Json;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(status))
}

/// Row counts per kind and the schema version: what `hearken status --json` prints, without the
/// store's file path (a server does not tell its clients where its files are).
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusView {
    pub schema_version: i64,
    pub customers: i64,
    pub products: i64,
    pub agents: i64,
    pub signals: i64,
    pub surveys: i64,
    pub cases: i64,
    pub case_events: i64,
    pub quarantined: i64,
    pub imports: i64,
    /// Imports that started but never finished; running the same import again completes them.
    pub interrupted_imports: i64,
    /// Whether the columnar snapshot the analytics read is up to date with the tables.
    pub snapshot_fresh: bool,
}

impl From<hearken_store::Status> for StatusView {
    fn from(s: hearken_store::Status) -> StatusView {
        StatusView {
            schema_version: s.schema_version,
            customers: s.customers,
            products: s.products,
            agents: s.agents,
            signals: s.signals,
            surveys: s.surveys,
            cases: s.cases,
            case_events: s.case_events,
            quarantined: s.quarantined,
            imports: s.imports,
            interrupted_imports: s.interrupted_imports,
            snapshot_fresh: s.snapshot_fresh,
        }
    }
}

/// Row counts per kind and the schema version (viewer)
#[utoipa::path(get, path = "/api/v1/status", tag = "store", operation_id = "status",
    responses((status = 200, description = "The store's counts", body = StatusView)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn status(auth: Auth<Viewer>) -> Result<Json<StatusView>, AppError> {
    let s = auth.db().read.frames(|store| Ok(store.status()?)).await?;
    Ok(Json(s.into()))
}
