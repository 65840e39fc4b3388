//! Signing in and out. The sign-in form posts a token; the server's token check
//! ([`Backend::authenticate`], the check of the API's bearer header) accepts or refuses it; an
//! accepted token is kept in a cookie that scripts cannot read (`HttpOnly`), that the browser
//! sends to this site only (`SameSite=Strict`, which also keeps other sites from making a signed-in
//! browser act here), over HTTPS only when the page came over HTTPS (`Secure`; the server speaks
//! plain HTTP and TLS is a reverse proxy's, which says so in `X-Forwarded-Proto`), for 12 hours.
//!
//! Every page checks the cookie's token again on every request, so a token revoked while its
//! cookie lives stops working at once: the page sends the browser to the sign-in form with the
//! reason. The token never appears in a URL.

use axum::extract::{Form, FromRequestParts, Query, State};
use axum::http::header::{CACHE_CONTROL, COOKIE, LOCATION, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use askama::Template;

use crate::backend::{Backend, Principal};
use crate::view::SignInTemplate;

/// The cookie's name.
pub const COOKIE_NAME: &str = "hearken_session";
/// How long a browser keeps the cookie.
const MAX_AGE_SECS: u64 = 12 * 3600;

/// A signed-in request: the token's principal and the store handle that comes with it.
#[derive(Debug)]
pub struct Session<B: Backend> {
    pub principal: Principal,
    pub db: B::Db,
}

impl<B: Backend> Session<B> {
    pub fn scope(&self) -> hearken_query::Scope {
        hearken_query::Scope::from(&self.principal.scope)
    }
}

/// The token in the request's session cookie.
pub fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE_NAME)
        .map(|(_, v)| v.trim().to_string())
        .filter(|v| !v.is_empty())
}

/// Whether the browser reached us over HTTPS (through a proxy that says so).
fn over_tls(headers: &HeaderMap) -> bool {
    headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

fn cookie(headers: &HeaderMap, value: &str, max_age: u64) -> HeaderValue {
    let secure = if over_tls(headers) { "; Secure" } else { "" };
    let text = format!(
        "{COOKIE_NAME}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    );
    // The value is a token checked to be `hk_` + hex digits, or empty: always a valid header.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// A redirect (303: the next request is a GET).
pub fn see_other(to: &str) -> Response {
    let mut res = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(to) {
        res.headers_mut().insert(LOCATION, v);
    }
    res
}

/// Only a path of this site (`/x`, not `//host` or `http://...`) is followed after sign-in.
fn local_path(next: &str) -> &str {
    if next.starts_with('/') && !next.starts_with("//") && !next.contains('\\') {
        next
    } else {
        "/"
    }
}

/// Why a page sent the browser to sign in, by the reason's code in the sign-in URL.
fn reason_text(reason: &str) -> Option<&'static str> {
    Some(match reason {
        "signin" => "Sign in with a token to see this page.",
        "revoked_token" => {
            "The token you signed in with has been revoked. Sign in with another token (an admin creates one with `hearken tokens create`)."
        }
        "invalid_token" => {
            "The token you signed in with is no longer valid for this server (expired or deleted). Sign in again."
        }
        "signed_out" => "You are signed out.",
        _ => return None,
    })
}

impl<B: Backend> FromRequestParts<B> for Session<B> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &B) -> Result<Self, Response> {
        let next = parts
            .uri
            .path_and_query()
            .map_or("/", |p| p.as_str())
            .to_string();
        let to_signin = |reason: &str| {
            let mut res = see_other(&format!(
                "/signin?reason={reason}&next={}",
                crate::filters::encode(&next)
            ));
            if reason != "signin" {
                // A refused cookie is dropped, so the browser does not send it again.
                res.headers_mut()
                    .append(SET_COOKIE, cookie(&parts.headers, "", 0));
            }
            res
        };
        let Some(token) = cookie_token(&parts.headers) else {
            return Err(to_signin("signin"));
        };
        match state.authenticate(token).await {
            Ok(signed) => Ok(Session {
                principal: signed.principal,
                db: signed.db,
            }),
            Err(r) if r.code == "revoked_token" => Err(to_signin("revoked_token")),
            Err(r) if r.status == 401 => Err(to_signin("invalid_token")),
            Err(r) => Err(crate::pages::error_page(
                None,
                &crate::view::PageError::from(r),
            )),
        }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct SignInQuery {
    reason: Option<String>,
    next: Option<String>,
}

fn signin_page(status: StatusCode, message: Option<&str>, next: &str) -> Response {
    let page = SignInTemplate {
        message,
        next: local_path(next),
    };
    match page.render() {
        Ok(html) => {
            let mut res = (status, Html(html)).into_response();
            res.headers_mut()
                .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => crate::pages::template_failed(&e),
    }
}

/// `GET /signin`: the form, with the reason the browser was sent here.
pub async fn signin_form(Query(q): Query<SignInQuery>) -> Response {
    let message = q.reason.as_deref().and_then(reason_text);
    signin_page(StatusCode::OK, message, q.next.as_deref().unwrap_or("/"))
}

#[derive(Debug, Deserialize)]
pub struct SignInForm {
    token: String,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /signin`: checks the token; sets the cookie and goes on, or shows the form again with
/// why the token was refused.
pub async fn signin<B: Backend>(
    State(backend): State<B>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let next = form.next.as_deref().unwrap_or("/").to_string();
    let token = form.token.trim().to_string();
    if !hearken_store::looks_like_token(&token) {
        return signin_page(
            StatusCode::UNAUTHORIZED,
            Some(
                "That is not a Hearken token: a token is hk_ followed by 64 hex digits, as `hearken tokens create` printed it.",
            ),
            &next,
        );
    }
    match backend.authenticate(token.clone()).await {
        Ok(signed) => {
            tracing::info!(token = %signed.principal.name, "signed in to the dashboard");
            let mut res = see_other(local_path(&next));
            res.headers_mut()
                .insert(SET_COOKIE, cookie(&headers, &token, MAX_AGE_SECS));
            res
        }
        Err(r) if r.status == 401 => {
            let text = if r.code == "revoked_token" {
                format!("{}: ask an admin for a new token.", r.message)
            } else {
                "This token is not valid for this server: check it was copied whole (`hearken tokens list` shows the active ones by prefix).".to_string()
            };
            signin_page(StatusCode::UNAUTHORIZED, Some(&text), &next)
        }
        Err(r) => crate::pages::error_page(None, &crate::view::PageError::from(r)),
    }
}

/// `POST /signout`: drops the cookie.
pub async fn signout(headers: HeaderMap) -> Response {
    let mut res = see_other("/signin?reason=signed_out");
    res.headers_mut()
        .insert(SET_COOKIE, cookie(&headers, "", 0));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_found_among_others_and_paths_stay_local() {
        let mut h = HeaderMap::new();
        h.insert(
            COOKIE,
            HeaderValue::from_static("a=1; hearken_session=hk_00ff; b=2"),
        );
        assert_eq!(cookie_token(&h).as_deref(), Some("hk_00ff"));
        let c = cookie(&h, "hk_00ff", 60);
        let c = c.to_str().unwrap();
        assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict") && !c.contains("Secure"));
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(cookie(&h, "x", 1).to_str().unwrap().ends_with("; Secure"));
        assert_eq!(local_path("//evil.example/x"), "/");
        assert_eq!(local_path("https://evil.example"), "/");
        assert_eq!(local_path("/pareto?by=topic"), "/pareto?by=topic");
    }
}
