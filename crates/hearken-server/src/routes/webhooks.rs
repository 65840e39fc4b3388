//! Inbound webhooks: the registry over HTTP (admin) and the delivery route `POST /hooks/{name}`,
//! which takes no bearer token: the delivery's signature, made with the hook's secret, is its
//! authentication (auth.rs, `verify_delivery`).

use std::time::{SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hearken_model::RecordKind;
use hearken_store::{BatchMeta, NewWebhook, WebhookError, WebhookFormat, WebhookInfo, WebhookKind};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Admin, Auth, verify_delivery};
use crate::error::{AppError, ErrorBody, ErrorCode};
use crate::extract::{Json, Path};
use crate::routes::ingest::IngestAnswer;
use crate::state::AppState;
use crate::webhooks::{self, HookSettingsError};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_webhooks, create_webhook))
        .routes(routes!(remove_webhook))
        .routes(routes!(deliver))
}

/// How a sender signs its deliveries.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum FormatView {
    /// Standard Webhooks: `webhook-id`, `webhook-timestamp`, `webhook-signature` (`v1,<base64>`).
    Standard,
    /// Zendesk: `X-Zendesk-Webhook-Signature`, `X-Zendesk-Webhook-Signature-Timestamp`.
    Zendesk,
}

/// What a hook's deliveries hold.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
pub enum KindView {
    #[serde(rename = "signals")]
    Signals,
    #[serde(rename = "case-events")]
    CaseEvents,
}

impl From<FormatView> for WebhookFormat {
    fn from(f: FormatView) -> WebhookFormat {
        match f {
            FormatView::Standard => WebhookFormat::Standard,
            FormatView::Zendesk => WebhookFormat::Zendesk,
        }
    }
}

impl From<WebhookFormat> for FormatView {
    fn from(f: WebhookFormat) -> FormatView {
        match f {
            WebhookFormat::Standard => FormatView::Standard,
            WebhookFormat::Zendesk => FormatView::Zendesk,
        }
    }
}

impl From<KindView> for WebhookKind {
    fn from(k: KindView) -> WebhookKind {
        match k {
            KindView::Signals => WebhookKind::Signals,
            KindView::CaseEvents => WebhookKind::CaseEvents,
        }
    }
}

impl From<WebhookKind> for KindView {
    fn from(k: WebhookKind) -> KindView {
        match k {
            WebhookKind::Signals => KindView::Signals,
            WebhookKind::CaseEvents => KindView::CaseEvents,
        }
    }
}

/// A hook, without its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookView {
    pub id: i64,
    pub name: String,
    pub format: FormatView,
    pub kind: KindView,
    /// Where deliveries go: `POST` this path on this server.
    pub path: String,
    /// The name of the mapping the hook was added with, if any.
    pub mapping: Option<String>,
    /// Seconds since the Unix epoch (UTC).
    pub created_at: i64,
    pub removed_at: Option<i64>,
}

impl From<WebhookInfo> for WebhookView {
    fn from(w: WebhookInfo) -> WebhookView {
        WebhookView {
            id: w.id,
            path: format!("/hooks/{}", w.name),
            name: w.name,
            format: w.format.into(),
            kind: w.kind.into(),
            mapping: w.mapping,
            created_at: w.created_at,
            removed_at: w.removed_at,
        }
    }
}

/// A hook to add.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// A letter, then letters, digits, `.`, `_` or `-` (at most 64, not starting `hk_`); the
    /// hook's path is `/hooks/<name>`.
    #[schema(pattern = "^(?!hk_)[A-Za-z][A-Za-z0-9._-]{0,63}$", example = "tickets")]
    pub name: String,
    pub format: FormatView,
    pub kind: KindView,
    /// The signing secret, when the sender makes it (Zendesk does: required for `zendesk`). For
    /// `standard`, leave it out and the answer carries a new `whsec_` secret, once.
    #[serde(default)]
    pub secret: Option<String>,
    /// A mapping in the TOML form `hearken import --mapping` reads, for deliveries whose fields
    /// are named otherwise.
    #[serde(default)]
    pub mapping: Option<String>,
}

/// A hook just added.
#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedWebhookView {
    /// The secret Hearken made for the hook: give it to the sender now, it is not shown again.
    /// `null` when the secret was given.
    pub secret: Option<String>,
    pub webhook: WebhookView,
}

/// What a delivery did.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeliveryAnswer {
    /// `stored`: the delivery's rows were committed (see `result`); `duplicate`: this delivery
    /// id was stored before; nothing was stored again.
    pub status: String,
    /// The sender's id of the delivery.
    pub id: Option<String>,
    pub message: String,
    /// The counts and rejected rows of the delivery (for a duplicate, the first delivery's when
    /// known).
    pub result: Option<IngestAnswer>,
}

impl From<HookSettingsError> for AppError {
    fn from(e: HookSettingsError) -> AppError {
        match e {
            HookSettingsError::Random(_) => AppError::internal(e),
            other => AppError::new(ErrorCode::InvalidValue, other.to_string()),
        }
    }
}

impl From<WebhookError> for AppError {
    fn from(e: WebhookError) -> AppError {
        match e {
            WebhookError::Invalid { .. } => AppError::new(ErrorCode::InvalidValue, e.to_string()),
            WebhookError::NameTaken(_) => AppError::new(ErrorCode::Conflict, e.to_string())
                .with_hint("remove the hook with that name first, or choose another name"),
            WebhookError::NotFound(ref name) => {
                AppError::not_found(format!("no webhook is named '{name}'"))
                    .with_hint("GET /api/v1/webhooks lists the hooks")
            }
            WebhookError::Store(s) => s.into(),
        }
    }
}

/// Every inbound webhook, removed ones too (admin)
#[utoipa::path(get, path = "/api/v1/webhooks", tag = "webhooks", operation_id = "list_webhooks",
    responses((status = 200, description = "The hooks, oldest first, without secrets", body = Vec<WebhookView>)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn list_webhooks(auth: Auth<Admin>) -> Result<Json<Vec<WebhookView>>, AppError> {
    let hooks = auth.db().read.webhooks(|s| Ok(s.list_webhooks()?)).await?;
    Ok(Json(hooks.into_iter().map(WebhookView::from).collect()))
}

/// Add an inbound webhook (admin)
///
/// Deliveries then go to `POST /hooks/<name>`, signed with the hook's secret. For `standard`
/// without a `secret`, the answer carries a new one, once.
#[utoipa::path(post, path = "/api/v1/webhooks", tag = "webhooks", operation_id = "create_webhook",
    request_body = CreateWebhook,
    responses(
        (status = 201, description = "The hook, with its secret when Hearken made it", body = CreatedWebhookView),
        (status = 409, description = "A hook with this name exists (`conflict`)", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(name = %body.name))]
async fn create_webhook(
    auth: Auth<Admin>,
    Json(body): Json<CreateWebhook>,
) -> Result<(StatusCode, Json<CreatedWebhookView>), AppError> {
    hearken_store::validate_webhook_name(&body.name)?;
    let format: WebhookFormat = body.format.into();
    let kind: WebhookKind = body.kind.into();
    if let Some(text) = &body.mapping {
        webhooks::check_mapping(kind, "mapping", text)?;
    }
    let (secret, made) = webhooks::hook_secret(format, body.secret.as_deref())?;
    let new = NewWebhook {
        name: body.name,
        format,
        kind,
        secret: secret.clone(),
        mapping: body.mapping.map(|m| ("mapping".to_string(), m)),
    };
    let info = auth
        .db()
        .write
        .webhooks(move |s| Ok(s.create_webhook(&new)?))
        .await?;
    tracing::info!(by = %auth.principal.name, hook = %info.name, "webhook added");
    Ok((
        StatusCode::CREATED,
        Json(CreatedWebhookView {
            secret: made.then_some(secret),
            webhook: info.into(),
        }),
    ))
}

/// Remove an inbound webhook (admin)
///
/// Its secret is erased and its deliveries are refused from now on; it stays listed, marked
/// removed, and the name is free again.
#[utoipa::path(delete, path = "/api/v1/webhooks/{name}", tag = "webhooks", operation_id = "remove_webhook",
    params(("name" = String, Path, description = "The hook's name")),
    responses((status = 200, description = "The hook, now removed", body = WebhookView)),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all, fields(hook = %name))]
async fn remove_webhook(
    auth: Auth<Admin>,
    Path(name): Path<String>,
) -> Result<Json<WebhookView>, AppError> {
    let removed = auth
        .db()
        .write
        .webhooks(move |s| Ok(s.remove_webhook(&name)?))
        .await?;
    tracing::info!(by = %auth.principal.name, hook = %removed.name, "webhook removed");
    Ok(Json(removed.into()))
}

/// Receive a delivery of an inbound webhook (signed; no bearer token)
///
/// The body is verified with the hook's secret: Standard Webhooks (`webhook-id`,
/// `webhook-timestamp`, `webhook-signature`) or Zendesk (`X-Zendesk-Webhook-Signature`,
/// `X-Zendesk-Webhook-Signature-Timestamp`), within 5 minutes of the server's clock. A delivery
/// id stored before is acknowledged with 200 and stores nothing. A new delivery's rows are
/// stored as live ingestion stores them (through the hook's mapping; a Zendesk ticket or ticket
/// event as the Zendesk readers make them); rows that cannot be stored are quarantined and
/// listed in the answer.
#[utoipa::path(post, path = "/hooks/{name}", tag = "webhooks", operation_id = "deliver_webhook",
    params(("name" = String, Path, description = "The hook's name")),
    request_body(content = Object, description = "The delivery, signed as sent (raw bytes)", content_type = "application/json"),
    responses(
        (status = 200, description = "Committed (`stored`), or a delivery stored before (`duplicate`): nothing stored again", body = DeliveryAnswer),
        (status = 401, description = "No signature (`missing_signature`), a wrong one (`invalid_signature`), or a timestamp more than 5 minutes off (`expired_signature`)", body = ErrorBody),
        (status = 400, description = "The body is not JSON (`malformed_json`)", body = ErrorBody),
        (status = 413, description = "Too large a body (`body_too_large`) or too many rows (`too_many_rows`)", body = ErrorBody),
        (status = 503, description = "Not committed (`unavailable`): nothing was stored; deliver again", body = ErrorBody),
    ))]
#[tracing::instrument(skip_all, fields(hook = %name))]
async fn deliver(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<DeliveryAnswer>), AppError> {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let delivery = verify_delivery(&state, name, &headers, &body, now).await?;
    if let Some(id) = delivery.verified.id.clone() {
        let hook = delivery.hook.id;
        let wanted = id.clone();
        let seen = delivery
            .db()
            .read
            .webhooks(move |s| Ok(s.webhook_delivery_seen(hook, &wanted, now)?))
            .await?;
        if seen {
            tracing::info!(hook = %delivery.hook.name, delivery = %id, "replayed delivery acknowledged, nothing stored");
            return Ok((
                StatusCode::OK,
                Json(DeliveryAnswer {
                    status: "duplicate".into(),
                    id: Some(id),
                    message: "this delivery was stored before; nothing was stored again".into(),
                    result: None,
                }),
            ));
        }
    }
    let kind = match delivery.hook.kind {
        WebhookKind::Signals => RecordKind::Signals,
        WebhookKind::CaseEvents => RecordKind::CaseEvents,
    };
    let mapping = webhooks::delivery_mapping(
        delivery.hook.format,
        kind,
        delivery.mapping_text.as_deref(),
        &body,
    )
    .map_err(|e| {
        AppError::internal(format!(
            "the mapping of webhook '{}' cannot be used: {e}",
            delivery.hook.name
        ))
    })?;
    let meta = BatchMeta {
        who: format!("webhook:{}", delivery.hook.name),
        // The delivery id (the same on every retry of the delivery) makes a retry a no-op, in
        // the transaction that stores the rows.
        idempotency_key: delivery.verified.id.clone(),
        origin: format!(
            "POST /hooks/{} {}",
            delivery.hook.name,
            delivery
                .verified
                .id
                .as_deref()
                .unwrap_or("(no delivery id)")
        ),
    };
    let answer =
        crate::routes::ingest::ingest(&state, delivery.db(), kind, meta, mapping, false, body)
            .await?;
    if let Some(id) = &delivery.verified.id
        && !answer.replayed
    {
        // Lets the next replay be acknowledged before its body is read (the idempotency key
        // already makes it store nothing, should this record be lost).
        let (hook, id) = (delivery.hook.id, id.clone());
        if let Err(e) = delivery
            .db()
            .write
            .webhooks(move |s| Ok(s.record_webhook_delivery(hook, &id, now)?))
            .await
        {
            tracing::warn!(error = %e, "cannot record the delivery id");
        }
    }
    tracing::info!(
        hook = %delivery.hook.name,
        delivery = delivery.verified.id.as_deref().unwrap_or(""),
        read = answer.read,
        stored = answer.stored,
        quarantined = answer.quarantined,
        replayed = answer.replayed,
        "webhook delivery ingested"
    );
    let (status, message) = if answer.replayed {
        (
            "duplicate",
            "this delivery was stored before; nothing was stored again".to_string(),
        )
    } else {
        (
            "stored",
            format!(
                "{} rows read: {} stored, {} duplicates, {} quarantined",
                answer.read, answer.stored, answer.duplicates, answer.quarantined
            ),
        )
    };
    Ok((
        StatusCode::OK,
        Json(DeliveryAnswer {
            status: status.into(),
            id: delivery.verified.id.clone(),
            message,
            result: Some(answer),
        }),
    ))
}
