//! The routes, one module per area, merged here. Each handler carries its `#[utoipa::path]`
//! description and is registered with utoipa-axum's `routes!`, which puts it in the router and
//! in the OpenAPI document together.
//!
//! A handler that reads or writes data takes an `Auth<Role>` extractor first: it is the only way
//! to reach the store (see auth.rs), and it runs before the body is read, so an unauthenticated
//! request is refused before its body costs anything.

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::openapi::ApiDoc;
use crate::state::AppState;

pub mod actions;
pub mod analytics;
pub mod entities;
pub mod files;
pub mod ingest;
pub mod risk;
pub mod status;
pub mod suggestions;
pub mod system;
pub mod tokens;
pub mod webhooks;

/// Every route of the API, with its description.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(system::router())
        .merge(status::router())
        .merge(tokens::router())
        .merge(analytics::router())
        .merge(webhooks::router())
        .merge(ingest::router())
        .merge(entities::router())
        .merge(files::router())
        .merge(risk::router())
        .merge(actions::router())
        .merge(suggestions::router())
}
