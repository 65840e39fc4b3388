//! Improvement actions over HTTP: list, create, show, change, link and the measured effect. The
//! same query-layer functions as `hearken actions` (crates/hearken-query/src/actions.rs); a
//! change is recorded with the token's name as who made it. Reading needs a viewer token,
//! changing an analyst's. Actions are organisation-wide, so a token with a data scope is refused
//! (403 `out_of_scope`).

use axum::http::StatusCode;
use hearken_query::{
    ActionDetail, ActionsList, ActionsRequest, CreateActionRequest, EffectRequest, EffectResponse,
    Links, OutboxList, OutboxRequest, Scope, UpdateActionRequest,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Analyst, Auth, Permission, Viewer};
use crate::error::{AppError, ErrorBody};
use crate::extract::{Json, Path, Query};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_actions, create_action))
        .routes(routes!(show_action, update_action))
        .routes(routes!(link_action))
        .routes(routes!(action_effect))
        .routes(routes!(outbox))
}

fn scope<P: Permission>(auth: &Auth<P>) -> Scope {
    Scope::from(&auth.principal.scope)
}

/// Improvement actions, newest first (viewer)
///
/// The same document as `hearken actions list ... --json`.
#[utoipa::path(get, path = "/api/v1/actions", tag = "actions", operation_id = "list_actions",
    params(ActionsRequest),
    responses(
        (status = 200, description = "The actions", body = ActionsList),
        (status = 403, description = "A token with a data scope (`out_of_scope`)", body = ErrorBody),
        (status = 422, description = "A status that is not an action status (`invalid_value`)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn list_actions(
    auth: Auth<Viewer>,
    Query(req): Query<ActionsRequest>,
) -> Result<Json<ActionsList>, AppError> {
    let scope = scope(&auth);
    let answer = auth
        .db()
        .read
        .actions(move |store| Ok(hearken_query::actions(store, &scope, &req)?))
        .await?;
    Ok(Json(answer))
}

/// Create an improvement action, status `proposed` (analyst)
///
/// Linked to the topics, signals, customers, products, segments, stages and suggestions named
/// (each must exist). Recorded with the token's name as its creator.
#[utoipa::path(post, path = "/api/v1/actions", tag = "actions", operation_id = "create_action",
    request_body = CreateActionRequest,
    responses(
        (status = 201, description = "The action, with its id and history", body = ActionDetail),
        (status = 422, description = "A field's value, or a link to something that does not exist (`invalid_value`)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn create_action(
    auth: Auth<Analyst>,
    Json(req): Json<CreateActionRequest>,
) -> Result<(StatusCode, Json<ActionDetail>), AppError> {
    let scope = scope(&auth);
    let who = auth.principal.name.clone();
    let answer = auth
        .db()
        .write
        .actions(move |store| Ok(hearken_query::create_action(store, &scope, &req, &who)?))
        .await?;
    Ok((StatusCode::CREATED, Json(answer)))
}

/// One action with its links and full history (viewer)
///
/// The same document as `hearken actions show ID --json`.
#[utoipa::path(get, path = "/api/v1/actions/{id}", tag = "actions", operation_id = "show_action",
    params(("id" = i64, Path, description = "The action's id")),
    responses(
        (status = 200, description = "The action", body = ActionDetail),
        (status = 404, description = "No such action (`not_found`)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn show_action(
    auth: Auth<Viewer>,
    Path(id): Path<i64>,
) -> Result<Json<ActionDetail>, AppError> {
    let scope = scope(&auth);
    let answer = auth
        .db()
        .read
        .actions(move |store| Ok(hearken_query::action(store, &scope, id)?))
        .await?;
    Ok(Json(answer))
}

/// Move an action to another status, or change its fields (analyst)
///
/// Status moves: `proposed` -> `planned` -> `in_progress` -> `done` -> `verified`, or `dropped`
/// from any status before `verified`; any other move is refused (409 `conflict`, the allowed
/// moves listed). `at` is the date the status was reached (default now). Moving to `done`
/// writes one notification per customer and employee whose linked signal motivated it.
#[utoipa::path(patch, path = "/api/v1/actions/{id}", tag = "actions", operation_id = "update_action",
    params(("id" = i64, Path, description = "The action's id")),
    request_body = UpdateActionRequest,
    responses(
        (status = 200, description = "The action after the change", body = ActionDetail),
        (status = 404, description = "No such action (`not_found`)", body = ErrorBody),
        (status = 409, description = "A status move the action's status does not allow (`conflict`)", body = ErrorBody),
        (status = 422, description = "A field's value, a date in the future or before the action's (`invalid_value`)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn update_action(
    auth: Auth<Analyst>,
    Path(id): Path<i64>,
    Json(req): Json<UpdateActionRequest>,
) -> Result<Json<ActionDetail>, AppError> {
    let scope = scope(&auth);
    let who = auth.principal.name.clone();
    let answer = auth
        .db()
        .write
        .actions(move |store| Ok(hearken_query::update_action(store, &scope, id, &req, &who)?))
        .await?;
    Ok(Json(answer))
}

/// Link an action to more topics, signals, customers, products, segments, stages or suggestions (analyst)
#[utoipa::path(post, path = "/api/v1/actions/{id}/links", tag = "actions", operation_id = "link_action",
    params(("id" = i64, Path, description = "The action's id")),
    request_body = Links,
    responses(
        (status = 200, description = "The action with its links", body = ActionDetail),
        (status = 404, description = "No such action (`not_found`)", body = ErrorBody),
        (status = 422, description = "A link to something that does not exist (`invalid_value`)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn link_action(
    auth: Auth<Analyst>,
    Path(id): Path<i64>,
    Json(links): Json<Links>,
) -> Result<Json<ActionDetail>, AppError> {
    let scope = scope(&auth);
    let who = auth.principal.name.clone();
    let answer = auth
        .db()
        .write
        .actions(move |store| Ok(hearken_query::link_action(store, &scope, id, &links, &who)?))
        .await?;
    Ok(Json(answer))
}

/// The measured effect of a done action (viewer)
///
/// The window before its done date against the window after, with the interval and p-value, and
/// the difference-in-differences against comparable groups it is not linked to (docs/effects.md).
/// The same document as `hearken actions effect ID ... --json`.
#[utoipa::path(get, path = "/api/v1/actions/{id}/effect", tag = "actions", operation_id = "action_effect",
    params(("id" = i64, Path, description = "The action's id"), EffectRequest),
    responses(
        (status = 200, description = "The effect; thin data is a status with the sample sizes, not an error", body = EffectResponse),
        (status = 404, description = "No such action (`not_found`)", body = ErrorBody),
        (status = 409, description = "The action is not done, names no metric, or is linked to nothing its metric is measured on (`conflict`)", body = ErrorBody),
        (status = 422, description = "None of its groups has observations (`no_data`)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn action_effect(
    auth: Auth<Viewer>,
    Path(id): Path<i64>,
    Query(req): Query<EffectRequest>,
) -> Result<Json<EffectResponse>, AppError> {
    let scope = scope(&auth);
    let answer = auth
        .db()
        .read
        .actions(move |store| Ok(hearken_query::action_effect(store, &scope, id, &req)?))
        .await?;
    Ok(Json(answer))
}

/// The notifications telling people what was done, with the status of each delivery (analyst)
///
/// One notification per action and customer or employee whose signal motivated it, written
/// when the action reached done; its deliveries by webhook and e-mail with their state
/// (pending, sending, sent, failed, no_address, disabled), attempts and last error. The same
/// notifications as `hearken outbox list --json`, with the counts by state.
#[utoipa::path(get, path = "/api/v1/outbox", tag = "actions", operation_id = "outbox",
    params(OutboxRequest),
    responses(
        (status = 200, description = "The notifications", body = OutboxList),
        (status = 403, description = "A token with a data scope (`out_of_scope`)", body = ErrorBody),
        (status = 422, description = "A state that is not a delivery state (`invalid_value`)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn outbox(
    auth: Auth<Analyst>,
    Query(req): Query<OutboxRequest>,
) -> Result<Json<OutboxList>, AppError> {
    let scope = scope(&auth);
    let answer = auth
        .db()
        .read
        .outbox(move |store| Ok(hearken_query::outbox(store, &scope, &req)?))
        .await?;
    Ok(Json(answer))
}
