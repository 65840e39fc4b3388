//! ANALYTICS ROUTES GO HERE, once the query layer (crates/hearken-query) lands.
//!
//! Each analytic becomes one thin handler:
//!
//! ```text
//! #[utoipa::path(get, path = "/api/v1/scores", tag = "analytics", params(ScoresParams),
//!     responses((status = 200, body = ScoresAnswer)), security(("bearer" = [])))]
//! async fn scores(auth: Auth<Viewer>, Query(q): Query<ScoresParams>) -> Result<Json<ScoresAnswer>, AppError> {
//!     let request = q.into_request(&auth.principal.scope)?;   // the token's scope is applied here
//!     let answer = auth.db().read.run(move |store| Ok(hearken_query::scores(store, &request)?)).await?;
//!     Ok(Json(answer))
//! }
//! ```
//!
//! - the computation runs in `Pool::run`, on a blocking thread, never on the async runtime;
//! - the query layer's error enum maps to `AppError` in one `From` impl (stable codes, added to
//!   `ErrorCode` and docs/api-errors.md);
//! - every new path needs a row in the role matrix of tests/server/roles.rs, or that test fails.

use utoipa_axum::router::OpenApiRouter;

use crate::state::AppState;

/// No analytics routes yet.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
}
