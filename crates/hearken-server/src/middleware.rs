//! The layers every request passes, outermost first:
//!
//! 1. [`observe`]: request id (accepted or generated, echoed in `x-request-id`), the request's
//!    tracing span, and the metrics (route template, status, latency).
//! 2. [`json_errors`]: any error answer that is not already our JSON (axum's 404/405, a rejection
//!    we did not wrap) becomes `{code, message, hint, request_id}`.
//! 3. [`refuse_token_in_url`]: a token in the query string or the path is refused before anything
//!    else looks at the request; the URL is never logged.
//! 4. [`limits`]: body size (on `Content-Length`, and while reading through axum's
//!    `DefaultBodyLimit`) and the request timeout, which also cuts off a client that never
//!    finishes its body.
//! 5. panic catching (tower-http `CatchPanic`, see `lib.rs`): a handler that panics answers 500
//!    with the request id; the server keeps serving.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::header::{ALLOW, CONTENT_LENGTH, TRANSFER_ENCODING, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body::{Frame, SizeHint};
use tracing::Instrument;

use crate::error::{AppError, ErrorCode, JsonError};
use crate::request_id;
use crate::state::AppState;

/// Request id, span and metrics.
pub async fn observe(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let start = Instant::now();
    let id = request_id::accept_or_generate(
        req.headers()
            .get(&request_id::HEADER)
            .and_then(|v| v.to_str().ok()),
    );
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", MatchedPath::as_str)
        .to_string();
    let method = req.method().as_str().to_string();
    // Only the path is logged, never the query string (it may carry a secret by mistake).
    let span = tracing::info_span!(
        "request",
        request_id = %id,
        method = %method,
        route = %route,
        token = tracing::field::Empty,
        status = tracing::field::Empty,
    );
    state.metrics().started();
    let mut res = request_id::scope(id.clone(), next.run(req).instrument(span.clone())).await;
    let status = res.status();
    let elapsed = start.elapsed();
    state
        .metrics()
        .finished(&method, &route, status.as_u16(), elapsed);
    span.record("status", status.as_u16());
    span.in_scope(|| {
        tracing::info!(
            status = status.as_u16(),
            ms = elapsed.as_secs_f64() * 1e3,
            "answered"
        );
    });
    if let Ok(v) = HeaderValue::from_str(&id) {
        res.headers_mut().insert(&request_id::HEADER, v);
    }
    res
}

/// Turns any error answer that is not our JSON into it, keeping its status and `Allow` header.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    let status = res.status();
    if !(status.is_client_error() || status.is_server_error())
        || res.extensions().get::<JsonError>().is_some()
    {
        return with_auth_challenge(res);
    }
    let allow = res.headers().get(ALLOW).cloned();
    let (code, fallback) = match status {
        StatusCode::NOT_FOUND => (ErrorCode::NotFound, "no such route"),
        StatusCode::METHOD_NOT_ALLOWED => (
            ErrorCode::MethodNotAllowed,
            "this route does not accept this method",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => (ErrorCode::BodyTooLarge, "the body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            ErrorCode::UnsupportedMediaType,
            "the body's content type is not accepted here",
        ),
        StatusCode::REQUEST_TIMEOUT => (ErrorCode::RequestTimeout, "the request took too long"),
        StatusCode::UNPROCESSABLE_ENTITY => (ErrorCode::InvalidBody, "the body is invalid"),
        StatusCode::UNAUTHORIZED => (ErrorCode::InvalidToken, "not authenticated"),
        StatusCode::FORBIDDEN => (ErrorCode::Forbidden, "not allowed"),
        StatusCode::SERVICE_UNAVAILABLE => (ErrorCode::Unavailable, "unavailable"),
        s if s.is_client_error() => (ErrorCode::BadRequest, "the request is malformed"),
        _ => (ErrorCode::Internal, "the server failed on this request"),
    };
    // axum's own rejections carry a short plain-text reason: keep it as the message.
    let text = axum::body::to_bytes(res.into_body(), 2048)
        .await
        .ok()
        .and_then(|b| String::from_utf8(b.to_vec()).ok())
        .filter(|t| !t.trim().is_empty());
    let message = if code == ErrorCode::Internal {
        fallback.to_string()
    } else {
        text.unwrap_or_else(|| fallback.to_string())
    };
    let mut out = AppError::new(code, message).into_response();
    *out.status_mut() = status;
    if let Some(a) = allow {
        out.headers_mut().insert(ALLOW, a);
    }
    with_auth_challenge(out)
}

/// A 401 tells the client which scheme to use (RFC 6750).
fn with_auth_challenge(mut res: Response) -> Response {
    if res.status() == StatusCode::UNAUTHORIZED {
        res.headers_mut().insert(
            WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"hearken\""),
        );
    }
    res
}

/// Query parameters whose name says they carry a credential.
const CREDENTIAL_PARAMS: [&str; 10] = [
    "token",
    "access_token",
    "accesstoken",
    "api_key",
    "apikey",
    "api-key",
    "auth",
    "authorization",
    "bearer",
    "bearer_token",
];

/// Refuses a request whose URL carries a token: a parameter named like a credential, or any
/// query value or path segment that looks like a Hearken token. The answer does not repeat it.
pub async fn refuse_token_in_url(req: Request, next: Next) -> Response {
    let uri = req.uri();
    let in_query = uri.query().is_some_and(|q| {
        q.split('&').any(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let k = percent_decode(k).to_ascii_lowercase();
            CREDENTIAL_PARAMS.contains(&k.as_str()) || is_token_like(&percent_decode(v))
        })
    });
    let in_path = uri
        .path()
        .split('/')
        .any(|seg| is_token_like(&percent_decode(seg)));
    if in_query || in_path {
        return AppError::new(
            ErrorCode::TokenInUrl,
            "a token was sent in the URL; tokens are accepted only in the Authorization header",
        )
        .into_response();
    }
    next.run(req).await
}

/// `hk_` followed by at least 8 hex digits: a whole token or enough of one to matter.
fn is_token_like(text: &str) -> bool {
    let t = text.trim();
    let t = t
        .strip_prefix("Bearer ")
        .or_else(|| t.strip_prefix("bearer "))
        .unwrap_or(t);
    t.strip_prefix(hearken_store::TOKEN_PREFIX)
        .is_some_and(|rest| rest.len() >= 8 && rest.bytes().take(8).all(|b| b.is_ascii_hexdigit()))
}

/// Decodes `%XX` and `+`; invalid escapes are kept as they are.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).ok();
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(v) => {
                        out.push(v);
                        i += 3;
                        continue;
                    }
                    None => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Body size and request time limits.
pub async fn limits(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let settings = state.settings();
    let limit = settings.body_limit_bytes;
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large(limit);
    }
    let sends_body =
        declared.is_some_and(|n| n > 0) || req.headers().contains_key(TRANSFER_ENCODING);
    let done = Arc::new(AtomicBool::new(!sends_body));
    let req = req.map(|b| {
        Body::new(Tracked {
            inner: b,
            done: Arc::clone(&done),
        })
    });
    let timeout = settings.request_timeout();
    match tokio::time::timeout(timeout, next.run(req)).await {
        Ok(res)
            if res.status() == StatusCode::PAYLOAD_TOO_LARGE
                && res.extensions().get::<JsonError>().is_none() =>
        {
            too_large(limit)
        }
        Ok(res) => res,
        Err(_) if !done.load(Ordering::Acquire) => AppError::new(
            ErrorCode::RequestTimeout,
            format!(
                "the request body did not arrive within {} s",
                timeout.as_secs()
            ),
        )
        .into_response(),
        Err(_) => AppError::new(
            ErrorCode::Timeout,
            format!("the answer took longer than {} s", timeout.as_secs()),
        )
        .into_response(),
    }
}

fn too_large(limit: usize) -> Response {
    AppError::new(
        ErrorCode::BodyTooLarge,
        format!("the body is larger than the limit of {limit} bytes"),
    )
    .into_response()
}

/// A request body that records when it has been read to its end.
struct Tracked {
    inner: Body,
    done: Arc<AtomicBool>,
}

impl http_body::Body for Tracked {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(None) = polled {
            self.done.store(true, Ordering::Release);
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        let end = self.inner.is_end_stream();
        if end {
            self.done.store(true, Ordering::Release);
        }
        end
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_found_in_urls_however_encoded() {
        assert!(is_token_like("hk_0123abcd"));
        assert!(is_token_like("Bearer hk_0123abcdef"));
        assert!(!is_token_like("hk_"));
        assert!(!is_token_like("hk_notatoken"));
        assert!(!is_token_like("segment"));
        assert_eq!(percent_decode("hk%5F01%2b+x"), "hk_01+ x");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }
}
