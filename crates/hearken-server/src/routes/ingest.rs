//! Live ingestion: `POST /api/v1/signals`, `/surveys`, `/case-events` (analyst). The body is one
//! JSON object, an array of objects, or JSON Lines, read exactly as a file import reads a JSON
//! file (same conversion, identity, dedupe, enrichment and quarantine: `IngestBatch`), and
//! committed by the group-committing writer (crate::ingest). A 200 means committed.
//!
//! The answer lists every rejected row with its index in the body, field, value and reason
//! (those rows are in the quarantine too). `Idempotency-Key` makes a retry a no-op: the first
//! answer comes back, marked `replayed`, and nothing is stored again.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use hearken_model::RecordKind;
use hearken_store::{BatchMeta, IngestReport, RejectedRow};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth::{Analyst, Auth};
use crate::error::{AppError, ErrorBody, ErrorCode};
use crate::extract::Json;
use crate::ingest::failure;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(ingest_signals))
        .routes(routes!(ingest_surveys))
        .routes(routes!(ingest_case_events))
}

/// The header that makes a retried request a no-op.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Content types a body of rows may be sent as.
const ACCEPTED: &[&str] = &[
    "application/json",
    "application/x-ndjson",
    "application/ndjson",
    "application/jsonl",
    "application/x-jsonlines",
    "application/jsonlines",
];

/// One row that was not stored (it is in the quarantine).
#[derive(Debug, Serialize, ToSchema)]
pub struct RejectedView {
    /// 0-based position of the row in the body (the element of an array, the n-th object).
    pub index: u64,
    /// The line of the body the row starts on (1-based).
    pub line: u64,
    /// The field at fault, when one is.
    pub field: Option<String>,
    /// Its value as sent.
    pub value: Option<String>,
    pub reason: String,
}

impl From<RejectedRow> for RejectedView {
    fn from(r: RejectedRow) -> RejectedView {
        RejectedView {
            index: r.index,
            line: r.line,
            field: r.field,
            value: r.value,
            reason: r.reason,
        }
    }
}

/// What happened to the rows of a request. `read = stored + duplicates + quarantined + skipped`.
#[derive(Debug, Serialize, ToSchema)]
pub struct IngestAnswer {
    /// The import the rows were recorded under: one per token, kind and UTC day
    /// (`GET /api/v1/quarantine?import=ID` lists its rejected rows).
    pub import_id: i64,
    /// `signals`, `surveys` or `case_events`.
    pub kind: String,
    pub read: u64,
    pub stored: u64,
    /// Rows already in the store (same id, or same content without one): not stored again.
    pub duplicates: u64,
    pub quarantined: u64,
    pub skipped: u64,
    /// Every quarantined row, in body order.
    pub rejected: Vec<RejectedView>,
    /// Open quarantine entries of earlier imports whose row's id this request stored.
    pub resolved: u64,
    pub notes: Vec<String>,
    /// This is the stored answer of an earlier request with the same `Idempotency-Key`: nothing
    /// was stored now.
    pub replayed: bool,
}

impl From<IngestReport> for IngestAnswer {
    fn from(r: IngestReport) -> IngestAnswer {
        IngestAnswer {
            import_id: r.import_id,
            kind: r.kind.as_str().to_string(),
            read: r.counts.read,
            stored: r.counts.stored,
            duplicates: r.counts.duplicates,
            quarantined: r.counts.quarantined,
            skipped: r.counts.skipped,
            rejected: r.rejected.into_iter().map(RejectedView::from).collect(),
            resolved: r.resolved,
            notes: r.notes,
            replayed: r.replayed,
        }
    }
}

/// The `Idempotency-Key` header, if sent.
fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, AppError> {
    match headers.get(IDEMPOTENCY_KEY) {
        None => Ok(None),
        Some(v) => v.to_str().map(|s| Some(s.trim().to_string())).map_err(|_| {
            AppError::new(
                ErrorCode::InvalidIdempotencyKey,
                "the Idempotency-Key header is not plain ASCII",
            )
        }),
    }
}

/// Refuses a body whose content type is not JSON or JSON Lines.
fn check_content_type(headers: &HeaderMap) -> Result<(), AppError> {
    let given = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_ascii_lowercase()
        });
    match given {
        Some(t) if ACCEPTED.contains(&t.as_str()) => Ok(()),
        Some(t) => Err(AppError::new(
            ErrorCode::UnsupportedMediaType,
            format!(
                "rows are read from JSON or JSON Lines, not '{t}': send one of {}",
                ACCEPTED.join(", ")
            ),
        )),
        None => Err(AppError::new(
            ErrorCode::UnsupportedMediaType,
            "the request has no Content-Type: send `Content-Type: application/json` (or application/x-ndjson for JSON Lines)",
        )),
    }
}

/// Reads, checks and commits one request's rows of `kind`, recorded as `meta` says. With a
/// `mapping` (a webhook's), keys are read through it; `strict` refuses a body with keys that are
/// no field of the kind (the API's routes are strict; webhook payloads carry more than rows).
pub(crate) async fn ingest(
    state: &AppState,
    db: &crate::state::Db,
    kind: RecordKind,
    meta: BatchMeta,
    mapping: Option<hearken_ingest::Mapping>,
    strict: bool,
    body: Bytes,
) -> Result<IngestAnswer, AppError> {
    let ingestor = state.ingestor();
    let opts = ingestor.read_options(&db.write, kind, mapping).await?;
    let max_rows = state.settings().max_rows_per_request;
    let batch = ingestor
        .parse(body, opts, meta, max_rows)
        .await
        .map_err(failure)?;
    // A row that is not even a JSON object is the sender's syntax error: the request is
    // refused whole (rows that are objects with bad values are quarantined and listed).
    let unreadable = batch.unreadable_rows();
    if let Some(first) = unreadable.first() {
        return Err(AppError::new(
            ErrorCode::MalformedJson,
            format!(
                "the body's row {} (line {}) {}{}; nothing was stored",
                first.index,
                first.line,
                first.reason,
                match unreadable.len() {
                    1 => String::new(),
                    n => format!(" (and {} more rows cannot be read)", n - 1),
                }
            ),
        )
        .with_hint(
            "send one JSON object, an array of objects, or JSON Lines (one object per line), UTF-8",
        ));
    }
    if strict && !batch.ignored_keys().is_empty() {
        let known = hearken_ingest::fields::fields(kind)
            .iter()
            .map(|f| f.name)
            .collect::<Vec<_>>()
            .join(", ");
        return Err(AppError::new(
            ErrorCode::UnknownField,
            format!(
                "the body has keys that are no field of {kind}: {}; nothing was stored",
                batch.ignored_keys().join(", ")
            ),
        )
        .with_hint(format!(
            "send only these fields (or their usual synonyms): {known}"
        )));
    }
    let report = ingestor
        .submit(&db.write, state.metrics_arc(), batch)
        .await
        .map_err(failure)?;
    Ok(report.into())
}

async fn handle(
    state: AppState,
    auth: Auth<Analyst>,
    kind: RecordKind,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<IngestAnswer>, AppError> {
    check_content_type(&headers)?;
    let meta = BatchMeta {
        who: auth.principal.name.clone(),
        idempotency_key: idempotency_key(&headers)?,
        origin: format!(
            "POST /api/v1/{} {}",
            kind.as_str().replace('_', "-"),
            crate::request_id::current().unwrap_or_default()
        ),
    };
    let answer = ingest(&state, auth.db(), kind, meta, None, true, body).await?;
    tracing::info!(
        by = %auth.principal.name,
        kind = %kind,
        read = answer.read,
        stored = answer.stored,
        quarantined = answer.quarantined,
        replayed = answer.replayed,
        "rows ingested"
    );
    Ok(Json(answer))
}

/// Send signals (analyst)
///
/// One JSON object, an array of objects, or JSON Lines, with the fields of a signals file
/// (`signal_id`, `at`, `channel`, `kind`, `text`, `customer_id` ... or their usual synonyms),
/// up to `[server] max_rows_per_request` rows. Read, checked, enriched and deduplicated as
/// `hearken import` does; rows that cannot be stored are quarantined and listed in `rejected`.
/// The answer comes once the rows are committed. An `Idempotency-Key` header makes a retry a
/// no-op (the first answer comes back with `replayed: true`).
#[utoipa::path(post, path = "/api/v1/signals", tag = "ingest", operation_id = "ingest_signals",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry of this request a no-op (1 to 255 characters)")),
    request_body(content = Object, description = "One object, an array of objects, or JSON Lines (`application/x-ndjson`)", content_type = "application/json"),
    responses(
        (status = 200, description = "Committed: counts and the rejected rows", body = IngestAnswer),
        (status = 400, description = "Not JSON (`malformed_json`) or a bad `Idempotency-Key` (`invalid_idempotency_key`)", body = ErrorBody),
        (status = 413, description = "Too large a body (`body_too_large`) or too many rows (`too_many_rows`)", body = ErrorBody),
        (status = 415, description = "Not JSON or JSON Lines (`unsupported_media_type`)", body = ErrorBody),
        (status = 422, description = "Fields signals do not have (`unknown_field`), or a reused `Idempotency-Key` (`idempotency_key_reused`)", body = ErrorBody),
        (status = 503, description = "Not committed (`unavailable`): nothing was stored; send again", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn ingest_signals(
    auth: Auth<Analyst>,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<IngestAnswer>, AppError> {
    handle(state, auth, RecordKind::Signals, headers, body).await
}

/// Send survey responses (analyst)
///
/// As `POST /api/v1/signals`, with the fields of a surveys file (`response_id`, `at`, `nps`,
/// `csat`, `ces`, `comment`, `aspect_<name>` ...).
#[utoipa::path(post, path = "/api/v1/surveys", tag = "ingest", operation_id = "ingest_surveys",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry of this request a no-op (1 to 255 characters)")),
    request_body(content = Object, description = "One object, an array of objects, or JSON Lines (`application/x-ndjson`)", content_type = "application/json"),
    responses(
        (status = 200, description = "Committed: counts and the rejected rows", body = IngestAnswer),
        (status = 400, description = "Not JSON (`malformed_json`) or a bad `Idempotency-Key` (`invalid_idempotency_key`)", body = ErrorBody),
        (status = 413, description = "Too large a body (`body_too_large`) or too many rows (`too_many_rows`)", body = ErrorBody),
        (status = 415, description = "Not JSON or JSON Lines (`unsupported_media_type`)", body = ErrorBody),
        (status = 422, description = "Fields surveys do not have (`unknown_field`), or a reused `Idempotency-Key` (`idempotency_key_reused`)", body = ErrorBody),
        (status = 503, description = "Not committed (`unavailable`): nothing was stored; send again", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn ingest_surveys(
    auth: Auth<Analyst>,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<IngestAnswer>, AppError> {
    handle(state, auth, RecordKind::Surveys, headers, body).await
}

/// Send case events (analyst)
///
/// As `POST /api/v1/signals`, with the fields of a case-events file (`event_id`, `case_id`,
/// `at`, `activity`, `agent_id`, `team` ...).
#[utoipa::path(post, path = "/api/v1/case-events", tag = "ingest", operation_id = "ingest_case_events",
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry of this request a no-op (1 to 255 characters)")),
    request_body(content = Object, description = "One object, an array of objects, or JSON Lines (`application/x-ndjson`)", content_type = "application/json"),
    responses(
        (status = 200, description = "Committed: counts and the rejected rows", body = IngestAnswer),
        (status = 400, description = "Not JSON (`malformed_json`) or a bad `Idempotency-Key` (`invalid_idempotency_key`)", body = ErrorBody),
        (status = 413, description = "Too large a body (`body_too_large`) or too many rows (`too_many_rows`)", body = ErrorBody),
        (status = 415, description = "Not JSON or JSON Lines (`unsupported_media_type`)", body = ErrorBody),
        (status = 422, description = "Fields case events do not have (`unknown_field`), or a reused `Idempotency-Key` (`idempotency_key_reused`)", body = ErrorBody),
        (status = 503, description = "Not committed (`unavailable`): nothing was stored; send again", body = ErrorBody),
    ),
    security(("bearer" = [])))]
#[tracing::instrument(skip_all)]
async fn ingest_case_events(
    auth: Auth<Analyst>,
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<IngestAnswer>, AppError> {
    handle(state, auth, RecordKind::CaseEvents, headers, body).await
}
