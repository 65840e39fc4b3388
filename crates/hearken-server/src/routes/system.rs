//! Health, metrics and the API's own description.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Auth, DocsAccess, Viewer};
use crate::extract::Json;
use crate::openapi::ApiDocs;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(metrics))
        .routes(routes!(openapi_json))
        .routes(routes!(docs_page))
}

/// Liveness.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// Always `ok` when the server answers.
    pub status: String,
    /// The server's version.
    pub version: String,
}

/// Whether the server is up (no token needed)
///
/// Answers as long as the process serves requests; it does not touch the store.
#[utoipa::path(get, path = "/health", tag = "system", operation_id = "health",
    responses((status = 200, description = "The server is up", body = Health)))]
#[tracing::instrument(skip_all)]
async fn health() -> Json<Health> {
    Json(Health {
        status: "ok".into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

/// Prometheus metrics (viewer)
///
/// Text exposition format 0.0.4: requests by method, route and status; a latency histogram per
/// route; requests in flight; rows ingested and quarantined by live ingestion; the answer
/// cache's hits, computed answers, warmed questions and size.
#[utoipa::path(get, path = "/metrics", tag = "system", operation_id = "metrics",
    responses((status = 200, description = "The metrics", content_type = "text/plain; version=0.0.4", body = String)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn metrics(auth: Auth<Viewer>, State(state): State<AppState>) -> Response {
    let mut text = state.metrics().render();
    if let Some(cache) = &auth.db().answers {
        let s = cache.stats();
        text.push_str(&format!(
            "# HELP hearken_answer_cache_hits_total Analytic answers given from the answer cache.\n\
             # TYPE hearken_answer_cache_hits_total counter\n\
             hearken_answer_cache_hits_total {}\n\
             # HELP hearken_answer_cache_computed_total Analytic answers computed (asked or warmed).\n\
             # TYPE hearken_answer_cache_computed_total counter\n\
             hearken_answer_cache_computed_total {}\n\
             # HELP hearken_answer_cache_warmed_total Questions asked again by warming after the data changed.\n\
             # TYPE hearken_answer_cache_warmed_total counter\n\
             hearken_answer_cache_warmed_total {}\n\
             # HELP hearken_answer_cache_entries Answers kept now.\n\
             # TYPE hearken_answer_cache_entries gauge\n\
             hearken_answer_cache_entries {}\n\
             # HELP hearken_answer_cache_bytes Bytes of the answers kept now (as JSON).\n\
             # TYPE hearken_answer_cache_bytes gauge\n\
             hearken_answer_cache_bytes {}\n",
            s.hits, s.computed, s.warmed, s.entries, s.bytes
        ));
    }
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        text,
    )
        .into_response()
}

/// This API's OpenAPI document (viewer, or open with `[server] public_docs`)
#[utoipa::path(get, path = "/api/openapi.json", tag = "system", operation_id = "openapi",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn openapi_json(_access: DocsAccess, Extension(docs): Extension<Arc<ApiDocs>>) -> Response {
    ([(CONTENT_TYPE, "application/json")], docs.json.clone()).into_response()
}

/// The API reference page (viewer, or open with `[server] public_docs`)
///
/// Every route with its parameters, body, answers and token, every schema and the error codes:
/// one HTML page rendered on the server from the OpenAPI document, with no script.
#[utoipa::path(get, path = "/api/docs", tag = "system", operation_id = "docs",
    responses((status = 200, description = "The reference page", content_type = "text/html; charset=utf-8", body = String)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn docs_page(_access: DocsAccess, Extension(docs): Extension<Arc<ApiDocs>>) -> Response {
    (
        [(CONTENT_TYPE, "text/html; charset=utf-8")],
        docs.html.clone(),
    )
        .into_response()
}
