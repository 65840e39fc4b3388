//! Employees' suggestions over HTTP: the list with each one's status, one by id, a review, and
//! turning one into an action in one step. The same query-layer functions as `hearken
//! suggestions`; reviews and actions are recorded with the token's name.

use axum::http::StatusCode;
use hearken_query::{
    ActionDetail, ReviewRequest, Scope, SuggestionActionRequest, SuggestionView, SuggestionsList,
    SuggestionsRequest,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Analyst, Auth, Permission, Viewer};
use crate::error::{AppError, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_suggestions))
        .routes(routes!(show_suggestion))
        .routes(routes!(review_suggestion))
        .routes(routes!(suggestion_to_action))
}

fn scope<P: Permission>(auth: &Auth<P>) -> Scope {
    Scope::from(&auth.principal.scope)
}

/// Employees' suggestions with their statuses, newest first (viewer)
///
/// The same document as `hearken suggestions ... --json`.
#[utoipa::path(get, path = "/api/v1/suggestions", tag = "actions", operation_id = "list_suggestions",
    params(SuggestionsRequest),
    responses(
        (status = 200, description = "The suggestions", body = SuggestionsList),
        (status = 404, description = "No such employee (`not_found`)", body = ErrorBody),
        (status = 422, description = "A status that is not a suggestion status (`invalid_value`)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn list_suggestions(
    auth: Auth<Viewer>,
    Query(req): Query<SuggestionsRequest>,
) -> Result<Json<SuggestionsList>, AppError> {
    let scope = scope(&auth);
    let answer = auth
        .db()
        .read
        .actions(move |store| Ok(hearken_query::suggestions(store, &scope, &req)?))
        .await?;
    Ok(Json(answer))
}

/// One suggestion with its status and actions (viewer)
#[utoipa::path(get, path = "/api/v1/suggestions/{id}", tag = "actions", operation_id = "show_suggestion",
    params(("id" = String, Path, description = "The suggestion's signal id")),
    responses(
        (status = 200, description = "The suggestion", body = SuggestionView),
        (status = 404, description = "No such suggestion (`not_found`)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn show_suggestion(
    auth: Auth<Viewer>,
    Path(id): Path<String>,
) -> Result<Json<SuggestionView>, AppError> {
    let scope = scope(&auth);
    let answer = auth
        .db()
        .read
        .actions(move |store| Ok(hearken_query::suggestion(store, &scope, &id)?))
        .await?;
    Ok(Json(answer))
}

/// Review a suggestion: received, under_review, or declined with a reason (analyst)
#[utoipa::path(post, path = "/api/v1/suggestions/{id}/review", tag = "actions", operation_id = "review_suggestion",
    params(("id" = String, Path, description = "The suggestion's signal id")),
    request_body = ReviewRequest,
    responses(
        (status = 200, description = "The suggestion after the review", body = SuggestionView),
        (status = 404, description = "No such suggestion (`not_found`)", body = ErrorBody),
        (status = 422, description = "An unknown status, or a decline without a reason (`invalid_value`)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn review_suggestion(
    auth: Auth<Analyst>,
    Path(id): Path<String>,
    Json(req): Json<ReviewRequest>,
) -> Result<Json<SuggestionView>, AppError> {
    let scope = scope(&auth);
    let who = auth.principal.name.clone();
    let answer = auth
        .db()
        .write
        .actions(move |store| {
            Ok(hearken_query::review_suggestion(
                store, &scope, &id, &req, &who,
            )?)
        })
        .await?;
    Ok(Json(answer))
}

/// Turn a suggestion into an action, linked to it (analyst)
///
/// The employee is told when the action is done. The title defaults to the suggestion's text,
/// the topics to its topic.
#[utoipa::path(post, path = "/api/v1/suggestions/{id}/action", tag = "actions", operation_id = "suggestion_to_action",
    params(("id" = String, Path, description = "The suggestion's signal id")),
    request_body = SuggestionActionRequest,
    responses(
        (status = 201, description = "The action", body = ActionDetail),
        (status = 404, description = "No such suggestion (`not_found`)", body = ErrorBody),
        (status = 422, description = "A field's value (`invalid_value`)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn suggestion_to_action(
    auth: Auth<Analyst>,
    Path(id): Path<String>,
    Json(req): Json<SuggestionActionRequest>,
) -> Result<(StatusCode, Json<ActionDetail>), AppError> {
    let scope = scope(&auth);
    let who = auth.principal.name.clone();
    let answer = auth
        .db()
        .write
        .actions(move |store| {
            Ok(hearken_query::suggestion_to_action(
                store, &scope, &id, &req, &who,
            )?)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(answer)))
}
