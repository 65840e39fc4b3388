//! A customer's profile and timeline, a case with its events, the case flow, the store's
//! overview and the past imports (viewer): each the query layer's answer as JSON, the document
//! `hearken customer|case|flow|imports ... --json` prints (ADR 0005). Data scopes are applied by
//! the query layer, as for the analytics.

use hearken_query::status::{ImportsPage, ImportsRequest};
use hearken_query::{
    CaseResponse, CustomerResponse, FlowRequest, FlowResponse, OverviewResponse, Scope,
    TimelinePage, TimelineRequest,
};
use serde::Deserialize;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Auth, Viewer};
use crate::error::{AppError, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(customer))
        .routes(routes!(customer_timeline))
        .routes(routes!(case))
        .routes(routes!(flow))
        .routes(routes!(overview))
        .routes(routes!(imports))
}

fn scope(auth: &Auth<Viewer>) -> Scope {
    Scope::from(&auth.principal.scope)
}

/// The query string of a timeline page (the query layer's `TimelineRequest`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PageQuery {
    limit: Option<usize>,
    cursor: Option<String>,
}

/// A customer's profile: segment, products, contacts, scores, open cases (viewer)
///
/// The same document as `hearken customer ID --json`.
#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "entities", operation_id = "customer",
    params(("id" = String, Path, description = "The customer's id as imported (customer_id)")),
    responses(
        (status = 200, description = "The profile", body = Object),
        (status = 404, description = "No such customer (`not_found`)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn customer(
    auth: Auth<Viewer>,
    Path(id): Path<String>,
) -> Result<Json<CustomerResponse>, AppError> {
    let scope = scope(&auth);
    let answer = auth
        .db()
        .read
        .frames(move |store| Ok(hearken_query::customer(store, &scope, &id)?))
        .await?;
    Ok(Json(answer))
}

/// A customer's timeline: signals, survey responses and case events, oldest first (viewer)
///
/// Page by page (`limit` 1 to 1,000, default 50; `cursor` = the previous page's
/// `next_cursor`). The same document as `hearken customer ID --timeline --json`.
#[utoipa::path(get, path = "/api/v1/customers/{id}/timeline", tag = "entities", operation_id = "customer_timeline",
    params(
        ("id" = String, Path, description = "The customer's id as imported (customer_id)"),
        ("limit" = Option<usize>, Query, description = "Rows per page (1 to 1,000; default 50)"),
        ("cursor" = Option<String>, Query, description = "The previous page's `next_cursor`"),
    ),
    responses(
        (status = 200, description = "One page of the timeline", body = Object),
        (status = 404, description = "No such customer (`not_found`)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn customer_timeline(
    auth: Auth<Viewer>,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Json<TimelinePage>, AppError> {
    let scope = scope(&auth);
    let mut req = TimelineRequest::default();
    if let Some(limit) = q.limit {
        req.limit = limit;
    }
    req.cursor = q.cursor;
    let answer = auth
        .db()
        .read
        .frames(move |store| Ok(hearken_query::customer_timeline(store, &scope, &id, &req)?))
        .await?;
    Ok(Json(answer))
}

/// A case with its events, agents, teams and durations (viewer)
///
/// The same document as `hearken case ID --json`.
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "entities", operation_id = "case",
    params(("id" = String, Path, description = "The case's id as imported (case_id)")),
    responses(
        (status = 200, description = "The case and its events", body = Object),
        (status = 404, description = "No such case (`not_found`)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn case(auth: Auth<Viewer>, Path(id): Path<String>) -> Result<Json<CaseResponse>, AppError> {
    let scope = scope(&auth);
    let answer = auth
        .db()
        .read
        .frames(move |store| Ok(hearken_query::case(store, &scope, &id)?))
        .await?;
    Ok(Json(answer))
}

/// The case flow: stages, handovers, escalations, reopenings, times (viewer)
///
/// Over the store's case events; the same document as `hearken flow ... --json`.
#[utoipa::path(get, path = "/api/v1/flow", tag = "analytics", operation_id = "flow",
    params(FlowRequest),
    responses(
        (status = 200, description = "The flow report", body = Object),
        (status = 400, description = "A filter or grouping the flow cannot honour", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn flow(
    auth: Auth<Viewer>,
    Query(req): Query<FlowRequest>,
) -> Result<Json<FlowResponse>, AppError> {
    let scope = scope(&auth);
    let answer = auth
        .db()
        .read
        .frames(move |store| Ok(hearken_query::flow(store, &scope, &req)?))
        .await?;
    Ok(Json(answer))
}

/// The store at a glance: counts, period covered, headline scores (viewer)
///
/// The overview `hearken demo` prints, as JSON.
#[utoipa::path(get, path = "/api/v1/overview", tag = "analytics", operation_id = "overview",
    responses((status = 200, description = "The overview", body = Object)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn overview(auth: Auth<Viewer>) -> Result<Json<OverviewResponse>, AppError> {
    let scope = scope(&auth);
    let answer = auth
        .db()
        .read
        .frames(move |store| Ok(hearken_query::overview(store, &scope)?))
        .await?;
    Ok(Json(answer))
}

/// Past imports with their counts, newest first (viewer; store-wide, so not for a scoped token)
///
/// File imports and live ingestion alike (live rows are recorded as `api (<token>)`, one import
/// per token, kind and UTC day). The same document as `hearken imports --json`.
#[utoipa::path(get, path = "/api/v1/imports", tag = "imports", operation_id = "imports",
    params(
        ("limit" = Option<usize>, Query, description = "Imports per page (1 to 1,000; default 50)"),
        ("cursor" = Option<String>, Query, description = "The previous page's `next_cursor`"),
    ),
    responses(
        (status = 200, description = "One page of imports", body = Object),
        (status = 403, description = "A scoped token (`out_of_scope`)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn imports(
    auth: Auth<Viewer>,
    Query(q): Query<PageQuery>,
) -> Result<Json<ImportsPage>, AppError> {
    let scope = scope(&auth);
    let mut req = ImportsRequest::default();
    if let Some(limit) = q.limit {
        req.limit = limit;
    }
    req.cursor = q.cursor;
    let answer = auth
        .db()
        .read
        .frames(move |store| Ok(hearken_query::imports(store, &scope, &req)?))
        .await?;
    Ok(Json(answer))
}
