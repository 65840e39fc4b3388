//! The one error type of the HTTP layer. Every error answer is JSON `{code, message, hint,
//! request_id}` with a stable `code` from [`ErrorCode`]; internal causes are logged with the
//! request id and never sent to the client.
//!
//! The list of codes in docs/api-errors.md is generated from [`ErrorCode::ALL`] and checked by a
//! test (`error::tests::api_errors_doc_lists_every_code`).

use std::fmt;

use axum::http::StatusCode;
use axum::http::header::{CONTENT_TYPE, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::request_id;

/// Stable error codes. Never rename one: clients match on them. Add new ones at the end of a
/// group and to docs/api-errors.md (the test tells you how).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    MissingToken,
    InvalidToken,
    RevokedToken,
    TokenInUrl,
    Forbidden,
    MalformedJson,
    InvalidBody,
    UnsupportedMediaType,
    InvalidQuery,
    InvalidPath,
    InvalidValue,
    NotFound,
    MethodNotAllowed,
    Conflict,
    BodyTooLarge,
    RequestTimeout,
    Timeout,
    Internal,
    Unavailable,
    BadRequest,
    // The query layer's codes (crates/hearken-query, ADR 0005), kept as they are.
    UnknownFilterValue,
    InvalidDate,
    EmptyWindow,
    OutOfRange,
    UnsupportedGroup,
    UnsupportedFilter,
    ConflictingOptions,
    InvalidRequest,
    NoData,
    NoTopics,
    Refused,
    SnapshotUnreadable,
    StoreError,
    EngineError,
    TopicModelError,
    // Inbound webhooks.
    MissingSignature,
    InvalidSignature,
    ExpiredSignature,
    NotImplemented,
    // Data scopes.
    OutOfScope,
    // Live ingestion.
    TooManyRows,
    UnknownField,
    IdempotencyKeyReused,
    InvalidIdempotencyKey,
}

impl ErrorCode {
    pub const ALL: [ErrorCode; 44] = [
        ErrorCode::MissingToken,
        ErrorCode::InvalidToken,
        ErrorCode::RevokedToken,
        ErrorCode::TokenInUrl,
        ErrorCode::Forbidden,
        ErrorCode::MalformedJson,
        ErrorCode::InvalidBody,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::InvalidQuery,
        ErrorCode::InvalidPath,
        ErrorCode::InvalidValue,
        ErrorCode::NotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::Conflict,
        ErrorCode::BodyTooLarge,
        ErrorCode::RequestTimeout,
        ErrorCode::Timeout,
        ErrorCode::Internal,
        ErrorCode::Unavailable,
        ErrorCode::BadRequest,
        ErrorCode::UnknownFilterValue,
        ErrorCode::InvalidDate,
        ErrorCode::EmptyWindow,
        ErrorCode::OutOfRange,
        ErrorCode::UnsupportedGroup,
        ErrorCode::UnsupportedFilter,
        ErrorCode::ConflictingOptions,
        ErrorCode::InvalidRequest,
        ErrorCode::NoData,
        ErrorCode::NoTopics,
        ErrorCode::Refused,
        ErrorCode::SnapshotUnreadable,
        ErrorCode::StoreError,
        ErrorCode::EngineError,
        ErrorCode::TopicModelError,
        ErrorCode::MissingSignature,
        ErrorCode::InvalidSignature,
        ErrorCode::ExpiredSignature,
        ErrorCode::NotImplemented,
        ErrorCode::OutOfScope,
        ErrorCode::TooManyRows,
        ErrorCode::UnknownField,
        ErrorCode::IdempotencyKeyReused,
        ErrorCode::InvalidIdempotencyKey,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::MissingToken => "missing_token",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::RevokedToken => "revoked_token",
            ErrorCode::TokenInUrl => "token_in_url",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::MalformedJson => "malformed_json",
            ErrorCode::InvalidBody => "invalid_body",
            ErrorCode::UnsupportedMediaType => "unsupported_media_type",
            ErrorCode::InvalidQuery => "invalid_query",
            ErrorCode::InvalidPath => "invalid_path",
            ErrorCode::InvalidValue => "invalid_value",
            ErrorCode::NotFound => "not_found",
            ErrorCode::MethodNotAllowed => "method_not_allowed",
            ErrorCode::Conflict => "conflict",
            ErrorCode::BodyTooLarge => "body_too_large",
            ErrorCode::RequestTimeout => "request_timeout",
            ErrorCode::Timeout => "timeout",
            ErrorCode::Internal => "internal",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::UnknownFilterValue => "unknown_filter_value",
            ErrorCode::InvalidDate => "invalid_date",
            ErrorCode::EmptyWindow => "empty_window",
            ErrorCode::OutOfRange => "out_of_range",
            ErrorCode::UnsupportedGroup => "unsupported_group",
            ErrorCode::UnsupportedFilter => "unsupported_filter",
            ErrorCode::ConflictingOptions => "conflicting_options",
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::NoData => "no_data",
            ErrorCode::NoTopics => "no_topics",
            ErrorCode::Refused => "refused",
            ErrorCode::SnapshotUnreadable => "snapshot_unreadable",
            ErrorCode::StoreError => "store_error",
            ErrorCode::EngineError => "engine_error",
            ErrorCode::TopicModelError => "topic_model_error",
            ErrorCode::MissingSignature => "missing_signature",
            ErrorCode::InvalidSignature => "invalid_signature",
            ErrorCode::ExpiredSignature => "expired_signature",
            ErrorCode::NotImplemented => "not_implemented",
            ErrorCode::OutOfScope => "out_of_scope",
            ErrorCode::TooManyRows => "too_many_rows",
            ErrorCode::UnknownField => "unknown_field",
            ErrorCode::IdempotencyKeyReused => "idempotency_key_reused",
            ErrorCode::InvalidIdempotencyKey => "invalid_idempotency_key",
        }
    }

    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::MissingToken | ErrorCode::InvalidToken | ErrorCode::RevokedToken => {
                StatusCode::UNAUTHORIZED
            }
            ErrorCode::TokenInUrl
            | ErrorCode::BadRequest
            | ErrorCode::MalformedJson
            | ErrorCode::InvalidQuery
            | ErrorCode::InvalidPath
            | ErrorCode::UnknownFilterValue
            | ErrorCode::InvalidDate
            | ErrorCode::EmptyWindow
            | ErrorCode::OutOfRange
            | ErrorCode::UnsupportedGroup
            | ErrorCode::UnsupportedFilter
            | ErrorCode::ConflictingOptions
            | ErrorCode::InvalidRequest => StatusCode::BAD_REQUEST,
            ErrorCode::MissingSignature
            | ErrorCode::InvalidSignature
            | ErrorCode::ExpiredSignature => StatusCode::UNAUTHORIZED,
            ErrorCode::NoData | ErrorCode::NoTopics | ErrorCode::Refused => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ErrorCode::SnapshotUnreadable
            | ErrorCode::StoreError
            | ErrorCode::EngineError
            | ErrorCode::TopicModelError => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::NotImplemented => StatusCode::NOT_IMPLEMENTED,
            ErrorCode::Forbidden | ErrorCode::OutOfScope => StatusCode::FORBIDDEN,
            ErrorCode::InvalidBody | ErrorCode::InvalidValue => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ErrorCode::Conflict => StatusCode::CONFLICT,
            ErrorCode::BodyTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            ErrorCode::Timeout | ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::TooManyRows => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::UnknownField | ErrorCode::IdempotencyKeyReused => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            ErrorCode::InvalidIdempotencyKey => StatusCode::BAD_REQUEST,
        }
    }

    /// What the code means, for docs/api-errors.md.
    pub fn meaning(self) -> &'static str {
        match self {
            ErrorCode::MissingToken => "No `Authorization: Bearer` header was sent.",
            ErrorCode::InvalidToken => {
                "The bearer token is not one this server issued (mistyped, from another store, or not shaped like `hk_` + 64 hex digits)."
            }
            ErrorCode::RevokedToken => "The bearer token was revoked.",
            ErrorCode::TokenInUrl => {
                "A token (or a query parameter named like one: `token`, `access_token`, `api_key` ...) was put in the URL (query string or path), where proxies and logs keep it. The request is refused before anything else; the value is never logged."
            }
            ErrorCode::Forbidden => "The token's role is below the one the route needs.",
            ErrorCode::MalformedJson => "The body is not valid JSON.",
            ErrorCode::InvalidBody => {
                "The body is JSON but not the expected shape (a missing or unknown field, a wrong type)."
            }
            ErrorCode::UnsupportedMediaType => {
                "The body's `Content-Type` is not the one the route reads (`application/json`)."
            }
            ErrorCode::InvalidQuery => "A query-string parameter is unknown or malformed.",
            ErrorCode::InvalidPath => "A path parameter is malformed.",
            ErrorCode::InvalidValue => {
                "A field has a value out of its range or set (the message names field and value)."
            }
            ErrorCode::NotFound => "No such route, or no such thing (the message says which).",
            ErrorCode::MethodNotAllowed => "The route exists but not with this HTTP method.",
            ErrorCode::Conflict => {
                "The request conflicts with the current state (a name already taken, revoking the token the request is made with)."
            }
            ErrorCode::BodyTooLarge => {
                "The body is larger than `[server] body_limit_bytes` (checked on `Content-Length` and while reading)."
            }
            ErrorCode::RequestTimeout => {
                "The client did not finish sending its body within `[server] request_timeout_secs`."
            }
            ErrorCode::Timeout => {
                "The server did not finish the request within `[server] request_timeout_secs`."
            }
            ErrorCode::Internal => {
                "The server failed (a bug, or a store error). The cause is logged under the request id; the server keeps serving."
            }
            ErrorCode::Unavailable => {
                "The store cannot be opened or is locked for longer than the store's busy timeout."
            }
            ErrorCode::BadRequest => {
                "The request is malformed in a way no more specific code covers (a bad header, say)."
            }
            ErrorCode::UnknownFilterValue => {
                "A filter names a segment, product, agent, team, channel, kind, topic or aspect the store does not have; the message lists the known ones."
            }
            ErrorCode::InvalidDate => {
                "A date (`from`, `to`, `against_from`, `against_to`) does not parse."
            }
            ErrorCode::EmptyWindow => "`from` is not before `to` (`to` is exclusive).",
            ErrorCode::OutOfRange => {
                "A number is outside what the option allows (a level, bootstrap count, limit, `days`, `k` ...); the message says the range."
            }
            ErrorCode::UnsupportedGroup => {
                "The analytic cannot group by this `by` (the hint lists those it can)."
            }
            ErrorCode::UnsupportedFilter => {
                "The analytic cannot honour this filter; it is refused, never ignored."
            }
            ErrorCode::ConflictingOptions => {
                "Options contradict each other (`against_from` without `against_to`, or with `by`)."
            }
            ErrorCode::InvalidRequest => {
                "The request does not parse for the query layer (a cursor this server did not give)."
            }
            ErrorCode::NoData => {
                "The selection holds nothing the analytic computes on (no aspect ratings for drivers). An empty selection is otherwise an answer with `n = 0`, not an error."
            }
            ErrorCode::NoTopics => {
                "The selection has signals but none with a topic, for trends, repeats and issues."
            }
            ErrorCode::Refused => {
                "The engine cannot compute this as asked (too many periods or aspects); the message says what to do."
            }
            ErrorCode::SnapshotUnreadable => {
                "A chunk of the columnar snapshot cannot be decoded. The cause is logged under the request id."
            }
            ErrorCode::StoreError => {
                "The store failed while answering a query. The cause is logged under the request id."
            }
            ErrorCode::EngineError => {
                "The analytics engine failed on this request. The cause is logged under the request id."
            }
            ErrorCode::TopicModelError => {
                "A stored topic model cannot be read. The cause is logged under the request id."
            }
            ErrorCode::MissingSignature => {
                "A webhook delivery lacks the signature headers of its format (`webhook-id`, `webhook-timestamp`, `webhook-signature`; or `X-Zendesk-Webhook-Signature` and `X-Zendesk-Webhook-Signature-Timestamp`)."
            }
            ErrorCode::InvalidSignature => {
                "A webhook delivery's signature does not match its body with the hook's secret, or its headers are malformed."
            }
            ErrorCode::ExpiredSignature => {
                "A webhook delivery's timestamp is more than 5 minutes away from the server's clock (too old or in the future)."
            }
            ErrorCode::NotImplemented => {
                "The route exists but this part of it is not built yet (the message says which)."
            }
            ErrorCode::OutOfScope => {
                "The token has a data scope (segments, teams) and the request names a segment or team outside it, or asks for store-wide records (imports, quarantined rows) that belong to no segment or team."
            }
            ErrorCode::TooManyRows => {
                "A live-ingestion body holds more rows than `[server] max_rows_per_request`; nothing was stored."
            }
            ErrorCode::UnknownField => {
                "A live-ingestion body has keys that are no field of the kind (nor a usual synonym of one); nothing was stored. The message names them, the hint lists the fields."
            }
            ErrorCode::IdempotencyKeyReused => {
                "The `Idempotency-Key` was first used for another request (other rows or another kind); nothing was stored."
            }
            ErrorCode::InvalidIdempotencyKey => {
                "The `Idempotency-Key` header is empty, longer than 255 characters, or holds control or non-ASCII characters."
            }
        }
    }

    /// The hint sent when the error has no more specific one.
    pub fn default_hint(self) -> &'static str {
        match self {
            ErrorCode::MissingToken => {
                "send `Authorization: Bearer <token>`; an admin creates tokens with `hearken tokens create`"
            }
            ErrorCode::InvalidToken => {
                "check the token was copied whole; `hearken tokens list` shows the active ones by prefix"
            }
            ErrorCode::RevokedToken => "ask an admin for a new token (`hearken tokens create`)",
            ErrorCode::TokenInUrl => {
                "send the token only in the `Authorization: Bearer` header; it has been exposed in a URL, so revoke it and create a new one"
            }
            ErrorCode::Forbidden => "use a token with a higher role, or ask an admin for one",
            ErrorCode::MalformedJson => "send a valid JSON document",
            ErrorCode::InvalidBody => "see /api/openapi.json for the expected body of this route",
            ErrorCode::UnsupportedMediaType => "send `Content-Type: application/json`",
            ErrorCode::InvalidQuery => "see /api/openapi.json for the parameters this route takes",
            ErrorCode::InvalidPath => "see /api/openapi.json for the form of this route's path",
            ErrorCode::InvalidValue => "correct the value named in the message",
            ErrorCode::NotFound => "see /api/openapi.json for the routes this server has",
            ErrorCode::MethodNotAllowed => {
                "see /api/openapi.json for the methods this route accepts"
            }
            ErrorCode::Conflict => "see the message for what conflicts",
            ErrorCode::BodyTooLarge => {
                "send a smaller body (split it), or raise [server] body_limit_bytes in hearken.toml"
            }
            ErrorCode::RequestTimeout => "send the whole body without pausing, then retry",
            ErrorCode::Timeout => {
                "retry later or ask a narrower question; [server] request_timeout_secs sets the limit"
            }
            ErrorCode::Internal => "retry; if it persists, report it with the request id",
            ErrorCode::Unavailable => "retry in a moment",
            ErrorCode::BadRequest => "see the message, and /api/openapi.json for the route's form",
            ErrorCode::UnknownFilterValue => {
                "use one of the known values listed in the message, or leave the filter out"
            }
            ErrorCode::InvalidDate => "write dates as ISO 8601, e.g. 2024-03-05",
            ErrorCode::EmptyWindow => "give a `from` earlier than `to`",
            ErrorCode::OutOfRange => "give a value in the range the message names",
            ErrorCode::UnsupportedGroup => "use one of the `by` values the hint lists",
            ErrorCode::UnsupportedFilter => "leave the filter out",
            ErrorCode::ConflictingOptions => "see the message for which options go together",
            ErrorCode::InvalidRequest => {
                "check the parameter names and values against /api/openapi.json"
            }
            ErrorCode::NoData => "widen the selection, or import the data the analytic needs",
            ErrorCode::NoTopics => {
                "give signals topics: import a topic column, or train and apply a classifier (`hearken topics train`, `hearken topics classify`)"
            }
            ErrorCode::Refused => "narrow the question as the message says",
            ErrorCode::SnapshotUnreadable => {
                "run `hearken snapshot --rebuild` on the server's store"
            }
            ErrorCode::StoreError => "retry; if it persists, report it with the request id",
            ErrorCode::EngineError => "retry; if it persists, report it with the request id",
            ErrorCode::TopicModelError => {
                "train the model again (`hearken topics train`); report it with the request id if it persists"
            }
            ErrorCode::MissingSignature => {
                "sign each delivery as the hook's format says (see README \"Serving\")"
            }
            ErrorCode::InvalidSignature => {
                "sign the raw body with the secret `hearken webhooks add` printed (or the one the sender holds)"
            }
            ErrorCode::ExpiredSignature => {
                "check the sender's clock; sign each attempt with the current time"
            }
            ErrorCode::NotImplemented => {
                "see the message; the route answers once the feature lands"
            }
            ErrorCode::OutOfScope => {
                "leave the filter out or give one inside the token's scope, or use a token without a data scope"
            }
            ErrorCode::TooManyRows => {
                "split the rows over several requests, or raise [server] max_rows_per_request in hearken.toml"
            }
            ErrorCode::UnknownField => {
                "leave the named keys out, or rename them to the fields the hint lists"
            }
            ErrorCode::IdempotencyKeyReused => {
                "send new rows with a new key; retry a request only with its own key"
            }
            ErrorCode::InvalidIdempotencyKey => {
                "use 1 to 255 printable ASCII characters, e.g. a UUID"
            }
        }
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The body of every error answer.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct ErrorBody {
    /// A stable code: one of the codes in docs/api-errors.md.
    pub code: String,
    /// What went wrong, for a person.
    pub message: String,
    /// What to do about it.
    pub hint: String,
    /// The request's id (also in the `x-request-id` header and in every server log line of the request).
    pub request_id: String,
}

/// An error answer: a code, a message and a hint for the client, and (for internal errors) a
/// cause that is logged, not sent.
#[derive(Debug)]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    pub hint: Option<String>,
    cause: Option<String>,
}

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> AppError {
        AppError {
            code,
            message: message.into(),
            hint: None,
            cause: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> AppError {
        self.hint = Some(hint.into());
        self
    }

    /// An internal failure: the client learns only that the request failed and its id; the cause
    /// is logged.
    pub fn internal(cause: impl fmt::Display) -> AppError {
        AppError {
            code: ErrorCode::Internal,
            message: "the server failed on this request".into(),
            hint: None,
            cause: Some(cause.to_string()),
        }
    }

    /// A server-side failure with its own code: the client gets `message`, the cause is logged.
    pub fn failed(
        code: ErrorCode,
        message: impl Into<String>,
        cause: impl fmt::Display,
    ) -> AppError {
        AppError {
            code,
            message: message.into(),
            hint: None,
            cause: Some(cause.to_string()),
        }
    }

    pub fn not_found(what: impl Into<String>) -> AppError {
        AppError::new(ErrorCode::NotFound, what)
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            code: self.code.as_str().to_string(),
            message: self.message.clone(),
            hint: self
                .hint
                .clone()
                .unwrap_or_else(|| self.code.default_hint().to_string()),
            request_id: request_id::current().unwrap_or_default(),
        }
    }
}

impl fmt::Display for AppError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.code, self.message)
    }
}

/// Marks a response as an error answer already in the JSON form, so the layer that turns other
/// error responses into JSON leaves it alone.
#[derive(Debug, Clone, Copy)]
pub struct JsonError;

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status = self.code.status();
        match &self.cause {
            Some(cause) => tracing::error!(code = %self.code, %cause, "request failed"),
            None if status.is_server_error() => {
                tracing::warn!(code = %self.code, message = %self.message, "request failed")
            }
            None => tracing::info!(code = %self.code, message = %self.message, "request refused"),
        }
        let body = serde_json::to_vec(&self.body()).unwrap_or_else(|_| b"{}".to_vec());
        let mut res = (status, body).into_response();
        res.headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        res.extensions_mut().insert(JsonError);
        res
    }
}

impl From<hearken_store::StoreError> for AppError {
    fn from(e: hearken_store::StoreError) -> AppError {
        use hearken_store::StoreError as E;
        match e {
            E::Open { .. } | E::NotAStore { .. } | E::TooNew { .. } => AppError {
                code: ErrorCode::Unavailable,
                message: "the store cannot be opened".into(),
                hint: None,
                cause: Some(e.to_string()),
            },
            E::Sql(rusqlite_err) if is_busy(&rusqlite_err.to_string()) => AppError {
                code: ErrorCode::Unavailable,
                message: "the store is busy".into(),
                hint: None,
                cause: Some(rusqlite_err.to_string()),
            },
            other if other.is_connection_lost() => AppError {
                code: ErrorCode::Unavailable,
                message: "the connection to the PostgreSQL store was lost".into(),
                hint: Some("send the request again: the server opens a new connection".into()),
                cause: Some(other.to_string()),
            },
            other => AppError::internal(other),
        }
    }
}

fn is_busy(message: &str) -> bool {
    message.contains("database is locked") || message.contains("database is busy")
}

impl From<hearken_store::TokenError> for AppError {
    fn from(e: hearken_store::TokenError) -> AppError {
        use hearken_store::TokenError as E;
        match e {
            E::Invalid { .. } => AppError::new(ErrorCode::InvalidValue, e.to_string()),
            E::NameTaken(_) => AppError::new(ErrorCode::Conflict, e.to_string())
                .with_hint("revoke the token with that name first, or choose another name"),
            E::NotFound(ref key) => {
                AppError::not_found(format!("no active token has the name or id '{key}'"))
                    .with_hint("GET /api/v1/tokens lists the tokens")
            }
            E::Store(s) => s.into(),
            E::Random(_) => AppError::internal(e),
        }
    }
}

/// The query layer's errors keep their code, message and hint, with the status the query layer
/// gives (`QueryError::status`). Internal failures keep their code but not their text: the cause
/// is logged under the request id; a busy or unopenable store is 503 `unavailable`.
impl From<hearken_query::QueryError> for AppError {
    fn from(e: hearken_query::QueryError) -> AppError {
        use hearken_query::QueryError as Q;
        let e = match e {
            Q::Store(inner) if !matches!(inner, hearken_store::StoreError::Snapshot(_)) => {
                let out = AppError::from(inner);
                return if out.code == ErrorCode::Internal {
                    AppError {
                        code: ErrorCode::StoreError,
                        ..out
                    }
                } else {
                    out
                };
            }
            other => other,
        };
        match &e {
            Q::Store(_) => {
                let mut out = AppError::failed(
                    ErrorCode::SnapshotUnreadable,
                    "the columnar snapshot cannot be read",
                    &e,
                );
                out.hint = e.hint();
                return out;
            }
            Q::Engine(_) => {
                return AppError::failed(
                    ErrorCode::EngineError,
                    "the analytics engine failed on this request",
                    &e,
                );
            }
            Q::Topics(_) => {
                return AppError::failed(
                    ErrorCode::TopicModelError,
                    "the topic model could not be used",
                    &e,
                );
            }
            _ => {}
        }
        // Every other code of the query layer is one of ours, with the same status.
        let Some(code) = ErrorCode::ALL
            .into_iter()
            .find(|c| c.as_str() == e.code() && c.status().as_u16() == e.status())
        else {
            return AppError::internal(format!(
                "the query layer's code {} ({}) has no API code: {e}",
                e.code(),
                e.status()
            ));
        };
        AppError {
            code,
            message: e.to_string(),
            hint: e.hint(),
            cause: None,
        }
    }
}

/// The section of docs/api-errors.md generated from [`ErrorCode::ALL`].
pub fn codes_markdown() -> String {
    let mut s =
        String::from("| code | HTTP status | meaning | default hint |\n|---|---|---|---|\n");
    for c in ErrorCode::ALL {
        s.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            c.as_str(),
            c.status().as_u16(),
            c.meaning(),
            c.default_hint()
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEGIN: &str = "<!-- BEGIN GENERATED CODES -->\n";
    const END: &str = "<!-- END GENERATED CODES -->";

    /// docs/api-errors.md holds the table generated from the code. `HEARKEN_BLESS=1 cargo test -p
    /// hearken-server --lib` rewrites it after a code is added.
    #[test]
    fn api_errors_doc_lists_every_code() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/api-errors.md");
        let doc = std::fs::read_to_string(path).expect("docs/api-errors.md exists");
        let (head, rest) = doc.split_once(BEGIN).expect("the doc has the BEGIN marker");
        let (_, tail) = rest.split_once(END).expect("the doc has the END marker");
        let want = format!("{head}{BEGIN}{}{END}{tail}", codes_markdown());
        if std::env::var_os("HEARKEN_BLESS").is_some() {
            std::fs::write(path, &want).expect("write docs/api-errors.md");
            return;
        }
        assert!(
            doc == want,
            "docs/api-errors.md is not the table of ErrorCode::ALL: run HEARKEN_BLESS=1 cargo test -p hearken-server --lib"
        );
        for c in ErrorCode::ALL {
            assert!(
                doc.contains(&format!("`{}`", c.as_str())),
                "{c} is documented"
            );
        }
    }

    /// Every error the query layer can answer a person with keeps its code and status in the API.
    #[test]
    fn query_errors_keep_their_code_and_status() {
        use hearken_query::{By, FlowRefusal, QueryError as Q};
        let errors = vec![
            Q::UnknownValue {
                field: "segment",
                what: "segment",
                value: "x".into(),
                known: vec!["a".into()],
                total: 1,
            },
            Q::InvalidDate {
                field: "from",
                value: "x".into(),
                reason: "is not a date".into(),
                hint: None,
            },
            Q::EmptyWindow {
                from: "from",
                to: "to",
            },
            Q::OutOfRange {
                field: "level",
                value: "2".into(),
                allowed: "0 < level < 1".into(),
            },
            Q::UnsupportedGroup {
                by: By::Month,
                reason: "r".into(),
                accepted: vec![By::Customer],
            },
            Q::UnsupportedFilter {
                field: "segment",
                analytic: "x",
                reason: "y".into(),
            },
            Q::Conflict {
                message: "a".into(),
                hint: "b".into(),
            },
            Q::NoData {
                message: "a".into(),
                hint: "b".into(),
            },
            Q::NoTopics {
                signals: 3,
                analytic: "trends",
            },
            Q::OutOfScope {
                field: "segment",
                value: "smb".into(),
                allowed: vec!["enterprise".into()],
            },
            Q::StoreWide {
                what: "quarantined rows",
            },
            Q::NotFound {
                what: "signal",
                id: "S1".into(),
                hint: "h".into(),
            },
            Q::InvalidRequest("x".into()),
            Q::Refused("r".into()),
        ]
        .into_iter()
        .chain(
            [FlowRefusal::Filter, FlowRefusal::Group, FlowRefusal::Value].map(|kind| Q::Flow {
                field: "by",
                value: "x".into(),
                reason: "r".into(),
                kind,
                hint: "h".into(),
            }),
        );
        for e in errors {
            let (code, status, message) = (e.code(), e.status(), e.to_string());
            let a = AppError::from(e);
            assert_eq!(a.code.as_str(), code, "{message}");
            assert_eq!(a.code.status().as_u16(), status, "{message}");
            assert_eq!(a.message, message);
            assert!(
                a.hint.is_some() || matches!(code, "out_of_range" | "refused"),
                "{code}"
            );
        }
    }

    #[test]
    fn codes_are_unique_and_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for c in ErrorCode::ALL {
            assert!(seen.insert(c.as_str()), "{c} twice");
            assert!(
                c.as_str()
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b == b'_')
            );
            assert!(c.status().is_client_error() || c.status().is_server_error());
        }
    }
}
