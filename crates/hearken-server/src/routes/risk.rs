//! Issue 13's routes: customers at risk, the value x vulnerability matrix, the cost of quality
//! and the self-assessment report. Each deserialises the query layer's request from the query
//! string, calls its function on a blocking thread of the read pool with the token's scope, and
//! returns its answer: the document `hearken risk|risk matrix|cost|assess report --json` prints
//! (for `risk`, the CLI prints the answer's `customers` array, as issue 13 asks).
//!
//! The cost mapping and the questionnaire are configuration (`[cost]`, `[assess]` of
//! hearken.toml), which `hearken serve` puts in [`OrgSettings`]; a caller cannot send them.

use axum::extract::State;
use hearken_query::cost::CostConfig;
use hearken_query::{
    AssessReportRequest, AssessReportResponse, AssessSettings, CostRequest, CostResponse,
    RiskRequest, RiskResponse, Scope, ValueRequest, ValueResponse,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Auth, Viewer};
use crate::error::{AppError, ErrorBody};
use crate::extract::{Json, Query};
use crate::state::AppState;

/// The organisation's configuration these routes read: the `[cost]` mapping and the
/// `[assess]` questionnaire and units of hearken.toml.
#[derive(Debug, Clone, Default)]
pub struct OrgSettings {
    pub cost: Option<CostConfig>,
    pub assess: AssessSettings,
}

// `Settings` is compared whole; the configuration's amounts are finite (checked on use).
impl PartialEq for OrgSettings {
    fn eq(&self, other: &OrgSettings) -> bool {
        self.cost == other.cost && self.assess == other.assess
    }
}

impl Eq for OrgSettings {}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(risk))
        .routes(routes!(risk_matrix))
        .routes(routes!(cost))
        .routes(routes!(assess_report))
}

/// Customers at risk as of a date, highest first, with reasons (viewer)
///
/// Every customer with a signal or answer before `as_of`, scored by the newest stored risk model
/// (`hearken risk train`) or, without one, by the transparent rule score; `method` says which.
/// With churn in the store, the lead time between the first warning and the churn over the half
/// year before `as_of`. `customers` is the array `hearken risk --json` prints.
#[utoipa::path(get, path = "/api/v1/risk", tag = "analytics", operation_id = "risk",
    params(RiskRequest),
    responses(
        (status = 200, description = "The customers at risk", body = RiskResponse),
        (status = 404, description = "`method=model` without a stored model (`not_found`)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn risk(
    auth: Auth<Viewer>,
    Query(req): Query<RiskRequest>,
) -> Result<Json<RiskResponse>, AppError> {
    let scope = Scope::from(&auth.principal.scope);
    let answer = auth
        .db()
        .read
        .risk(move |store| Ok(hearken_query::risk(store, &scope, &req)?))
        .await?;
    Ok(Json(answer))
}

/// The value x vulnerability matrix (viewer)
///
/// Value (`value_per_year`, or customer lifetime value `m r / (1 + d - r)`) against the risk
/// score: quadrants with counts and customers, white-glove customers marked, new against
/// long-standing customers. The same document as `hearken risk matrix --json`.
#[utoipa::path(get, path = "/api/v1/risk/matrix", tag = "analytics", operation_id = "risk_matrix",
    params(ValueRequest),
    responses(
        (status = 200, description = "The matrix", body = ValueResponse),
        (status = 422, description = "CLV without a retention to use (`no_data`)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn risk_matrix(
    auth: Auth<Viewer>,
    Query(req): Query<ValueRequest>,
) -> Result<Json<ValueResponse>, AppError> {
    let scope = Scope::from(&auth.principal.scope);
    let answer = auth
        .db()
        .read
        .risk(move |store| Ok(hearken_query::value(store, &scope, &req)?))
        .await?;
    Ok(Json(answer))
}

/// The cost of quality (viewer)
///
/// Money per category (prevention, appraisal, internal and external failure), per topic and per
/// product, and the cost of avoidable (repeat) contacts, by the `[cost]` mapping the server was
/// started with. The same document as `hearken cost --json`.
#[utoipa::path(get, path = "/api/v1/cost", tag = "analytics", operation_id = "cost",
    params(CostRequest),
    responses(
        (status = 200, description = "The cost of quality", body = CostResponse),
        (status = 400, description = "The mapping names a topic, kind or activity the data does not have, or a negative cost (`conflicting_options`)", body = ErrorBody),
        (status = 422, description = "No `[cost]` mapping, or no signals (`no_data`)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn cost(
    auth: Auth<Viewer>,
    State(state): State<AppState>,
    Query(mut req): Query<CostRequest>,
) -> Result<Json<CostResponse>, AppError> {
    let scope = Scope::from(&auth.principal.scope);
    req.mapping = state.settings().org.cost.clone();
    let answer = auth
        .db()
        .read
        .frames(move |store| Ok(hearken_query::cost(store, &scope, &req)?))
        .await?;
    Ok(Json(answer))
}

/// The customer-focus self-assessment report (viewer)
///
/// Per unit (its latest assessment, or every one with `all`): mean say and do and the say-do gap
/// per area and overall, the external performance levels, and the quartile against the
/// organisation's other and earlier assessments. Assessments belong to no segment or team: a
/// token with a data scope is refused (`out_of_scope`). The same document as `hearken assess
/// report --json`.
#[utoipa::path(get, path = "/api/v1/assess/report", tag = "analytics", operation_id = "assess_report",
    params(AssessReportRequest),
    responses(
        (status = 200, description = "The reports", body = AssessReportResponse),
        (status = 403, description = "A token with a data scope (`out_of_scope`)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn assess_report(
    auth: Auth<Viewer>,
    State(state): State<AppState>,
    Query(mut req): Query<AssessReportRequest>,
) -> Result<Json<AssessReportResponse>, AppError> {
    let scope = Scope::from(&auth.principal.scope);
    req.settings = state.settings().org.assess.clone();
    let answer = auth
        .db()
        .read
        .risk(move |store| Ok(hearken_query::assess_report(store, &scope, &req)?))
        .await?;
    Ok(Json(answer))
}
