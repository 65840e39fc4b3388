//! The analytics and signals routes: each deserialises the query layer's request from the query
//! string, calls its function on a blocking thread of the read pool, and returns its answer as
//! JSON, the very document `hearken <analytic> ... --json` prints (ADR 0005). The query layer's
//! errors keep their code, message and hint (`From<QueryError> for AppError`, error.rs).
//!
//! Every call into `hearken_query` is in this module (one per handler, inside `Pool::run`), so
//! that a change of the query functions' signatures (a data scope argument) is made here and
//! nowhere else.
//!
//! Data scopes: every call passes the token's scope ([`scope`]); the query layer applies it.

use hearken_query::Scope;
use hearken_query::status::{QuarantineList, QuarantineRequest};
use hearken_query::topics::TopicModels;
use hearken_query::{
    DriversRequest, DriversResponse, IssuesRequest, IssuesResponse, ParetoRequest, ParetoResponse,
    RepeatsRequest, RepeatsResponse, ScoresRequest, ScoresResponse, SignalView, SignalsPage,
    SignalsRequest, ThemesRequest, ThemesResponse, TrendsRequest, TrendsResponse,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Auth, Permission, Viewer};
use crate::error::{AppError, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(scores))
        .routes(routes!(pareto))
        .routes(routes!(drivers))
        .routes(routes!(trends))
        .routes(routes!(repeats))
        .routes(routes!(issues))
        .routes(routes!(themes))
        .routes(routes!(topics))
        .routes(routes!(signals))
        .routes(routes!(signal))
        .routes(routes!(quarantine))
}

/// The token's data scope, which every query applies: a scoped token's figures are those of its
/// slice, and a filter naming a segment or team outside it is refused (403 `out_of_scope`).
fn scope<P: Permission>(auth: &Auth<P>) -> Scope {
    Scope::from(&auth.principal.scope)
}

/// Score over the selection: NPS, CSAT, CES or net sentiment (viewer)
///
/// Overall (`kind: overall`, the estimate's fields at the top), per group of `by` (`kind:
/// groups`), or against an earlier window `against_from`..`against_to` (`kind: change`). The
/// same document as `hearken scores ... --json`.
#[utoipa::path(get, path = "/api/v1/scores", tag = "analytics", operation_id = "scores",
    params(ScoresRequest),
    responses(
        (status = 200, description = "The score", body = ScoresResponse),
        (status = 422, description = "The data cannot answer this (`no_data`, `refused`)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn scores(
    auth: Auth<Viewer>,
    Query(req): Query<ScoresRequest>,
) -> Result<Json<ScoresResponse>, AppError> {
    let scope = scope(&auth);
    let answer = auth
        .db()
        .read
        .frames(move |store| Ok(hearken_query::scores(store, &scope, &req)?))
        .await?;
    Ok(Json(answer))
}

/// Concentration of contacts on a few customers, products, topics ... (viewer)
///
/// Gini, the share of the top 20%, how many cover 80%, the Lorenz curve and the largest
/// entities with their names. The same document as `hearken pareto ... --json`.
#[utoipa::path(get, path = "/api/v1/pareto", tag = "analytics", operation_id = "pareto",
    params(ParetoRequest),
    responses(
        (status = 200, description = "The concentration", body = ParetoResponse),
        (status = 422, description = "The data cannot answer this (`no_data`, `refused`)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn pareto(
    auth: Auth<Viewer>,
    Query(req): Query<ParetoRequest>,
) -> Result<Json<ParetoResponse>, AppError> {
    let scope = scope(&auth);
    let answer = auth
        .db()
        .read
        .frames(move |store| Ok(hearken_query::pareto(store, &scope, &req)?))
        .await?;
    Ok(Json(answer))
}

/// How much each survey aspect explains overall satisfaction or NPS (viewer)
///
/// Shapley decomposition and relative weights of the aspect ratings, with the internal KPIs
/// (hours to first answer, handle hours, case events). The same document as `hearken drivers
/// ... --json`.
#[utoipa::path(get, path = "/api/v1/drivers", tag = "analytics", operation_id = "drivers",
    params(DriversRequest),
    responses(
        (status = 200, description = "The drivers", body = DriversResponse),
        (status = 422, description = "No aspect ratings in the selection (`no_data`), or too many aspects (`refused`)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn drivers(
    auth: Auth<Viewer>,
    Query(req): Query<DriversRequest>,
) -> Result<Json<DriversResponse>, AppError> {
    let scope = scope(&auth);
    let answer = auth
        .db()
        .read
        .frames(move |store| Ok(hearken_query::drivers(store, &scope, &req)?))
        .await?;
    Ok(Json(answer))
}

/// Volume per topic per period with its expected range, and the spikes (viewer)
///
/// The same document as `hearken trends ... --json`.
#[utoipa::path(get, path = "/api/v1/trends", tag = "analytics", operation_id = "trends",
    params(TrendsRequest),
    responses(
        (status = 200, description = "The series and spikes", body = TrendsResponse),
        (status = 422, description = "No signal of the selection has a topic (`no_topics`), or too many periods (`refused`)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn trends(
    auth: Auth<Viewer>,
    Query(req): Query<TrendsRequest>,
) -> Result<Json<TrendsResponse>, AppError> {
    let scope = scope(&auth);
    let answer = auth
        .db()
        .read
        .frames(move |store| Ok(hearken_query::trends(store, &scope, &req)?))
        .await?;
    Ok(Json(answer))
}

/// Repeat contacts: same customer, same topic within `days`, by topic and product (viewer)
///
/// The same document as `hearken repeats ... --json`.
#[utoipa::path(get, path = "/api/v1/repeats", tag = "analytics", operation_id = "repeats",
    params(RepeatsRequest),
    responses(
        (status = 200, description = "The repeat contacts", body = RepeatsResponse),
        (status = 422, description = "No signal of the selection has a topic (`no_topics`), or the engine refused (`refused`)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn repeats(
    auth: Auth<Viewer>,
    Query(req): Query<RepeatsRequest>,
) -> Result<Json<RepeatsResponse>, AppError> {
    let scope = scope(&auth);
    let answer = auth
        .db()
        .read
        .frames(move |store| Ok(hearken_query::repeats(store, &scope, &req)?))
        .await?;
    Ok(Json(answer))
}

/// Topics ranked by frequency x negative sentiment x customer value, with evidence (viewer)
///
/// The same document as `hearken issues-rank ... --json`.
#[utoipa::path(get, path = "/api/v1/issues", tag = "analytics", operation_id = "issues",
    params(IssuesRequest),
    responses(
        (status = 200, description = "The ranked issues", body = IssuesResponse),
        (status = 422, description = "No signal of the selection has a topic (`no_topics`), or the engine refused (`refused`)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn issues(
    auth: Auth<Viewer>,
    Query(req): Query<IssuesRequest>,
) -> Result<Json<IssuesResponse>, AppError> {
    let scope = scope(&auth);
    let answer = auth
        .db()
        .read
        .frames(move |store| Ok(hearken_query::issues(store, &scope, &req)?))
        .await?;
    Ok(Json(answer))
}

/// Themes in the newest signal texts: clusters with key phrases, size, examples, weekly counts (viewer)
///
/// The same document as `hearken themes ... --json`.
#[utoipa::path(get, path = "/api/v1/themes", tag = "analytics", operation_id = "themes",
    params(ThemesRequest),
    responses(
        (status = 200, description = "The themes", body = ThemesResponse),
        (status = 422, description = "The texts cannot be clustered as asked (`refused`)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn themes(
    auth: Auth<Viewer>,
    Query(req): Query<ThemesRequest>,
) -> Result<Json<ThemesResponse>, AppError> {
    let scope = scope(&auth);
    let answer = auth
        .db()
        .read
        .frames(move |store| Ok(hearken_query::themes(store, &scope, &req)?))
        .await?;
    Ok(Json(answer))
}

/// The stored topic models: every version with its labels and examples (viewer)
///
/// The same document as `hearken topics list --json`.
#[utoipa::path(get, path = "/api/v1/topics", tag = "analytics", operation_id = "topics",
    responses((status = 200, description = "The topic models", body = TopicModels)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn topics(auth: Auth<Viewer>) -> Result<Json<TopicModels>, AppError> {
    let scope = scope(&auth);
    let answer = auth
        .db()
        .read
        .run(move |store| Ok(hearken_query::topics::models(store, &scope)?))
        .await?;
    Ok(Json(answer))
}

/// Signals with every filter and a text search, a page at a time (viewer)
///
/// Most recently imported first; pass `next_cursor` as `cursor` for the next page (`null` on
/// the last). The same document as `hearken signals ... --json`.
#[utoipa::path(get, path = "/api/v1/signals", tag = "signals", operation_id = "signals",
    params(SignalsRequest),
    responses(
        (status = 200, description = "A page of signals", body = SignalsPage),
        (status = 404, description = "The `customer` does not exist (`not_found`)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn signals(
    auth: Auth<Viewer>,
    Query(req): Query<SignalsRequest>,
) -> Result<Json<SignalsPage>, AppError> {
    let scope = scope(&auth);
    let answer = auth
        .db()
        .read
        .frames(move |store| Ok(hearken_query::signals(store, &scope, &req)?))
        .await?;
    Ok(Json(answer))
}

/// One signal by its id, with the names of what it refers to (viewer)
///
/// The same document as `hearken signals --id ID --json`.
#[utoipa::path(get, path = "/api/v1/signals/{id}", tag = "signals", operation_id = "signal",
    params(("id" = String, Path, description = "The signal's id as imported (`signal_id`)")),
    responses((status = 200, description = "The signal", body = SignalView)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn signal(auth: Auth<Viewer>, Path(id): Path<String>) -> Result<Json<SignalView>, AppError> {
    let scope = scope(&auth);
    let answer = auth
        .db()
        .read
        .frames(move |store| Ok(hearken_query::signal(store, &scope, &id)?))
        .await?;
    Ok(Json(answer))
}

/// Quarantined rows, oldest first, with file, line, field, value, reason and the raw row (viewer)
///
/// The open ones, every one of an import (`import`), or closed ones too (`all`). The same
/// document as `hearken quarantine ... --json`. Not shown to a token with a data scope.
#[utoipa::path(get, path = "/api/v1/quarantine", tag = "store", operation_id = "quarantine",
    params(QuarantineRequest),
    responses(
        (status = 200, description = "The quarantined rows", body = QuarantineList),
        (status = 404, description = "No such import (`not_found`)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn quarantine(
    auth: Auth<Viewer>,
    Query(req): Query<QuarantineRequest>,
) -> Result<Json<QuarantineList>, AppError> {
    // Quarantined rows belong to no segment or team: a scoped token is refused (`out_of_scope`).
    let scope = scope(&auth);
    let answer = auth
        .db()
        .read
        .frames(move |store| Ok(hearken_query::status::quarantine(store, &scope, &req)?))
        .await?;
    Ok(Json(answer))
}
