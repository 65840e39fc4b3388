//! Hearken's dashboard and weekly one-page report (ADR 0008).
//!
//! Server-rendered pages (askama templates, escaped by default; no JavaScript), charts drawn on
//! the server as SVG with a title, a description and their data table beside them, one
//! stylesheet; every asset is compiled into the binary. The pages are mounted into the HTTP
//! server (`hearken_server::app` merges [`router`]); the server provides its token check and its
//! read pool through [`Backend`].
//!
//! - Sign-in with a token (a form), kept in an `HttpOnly`, `SameSite=Strict` cookie; the token's
//!   role and data scope apply to every page ([`session`]).
//! - Pages ([`pages`]): overview, topics, themes, Pareto, drivers, case flow, customers (profile,
//!   timeline, case), signals (the rows behind every figure, with a CSV export), actions and
//!   suggestions (status, owner, measured effect), quarantine and imports, the weekly report, and
//!   tokens (admin). Filters live in the URL ([`filters`]).
//! - The weekly report ([`report`]): one A4 page, the same HTML for `hearken report` and
//!   `/report?week=`, printed to PDF by headless Chromium ([`pdf`]).
//!
//! Architecture invariant: every figure on a page is a query-layer answer (`hearken_query`,
//! called with the session's scope); this crate has no SQL and computes no statistic. The
//! arithmetic it does is on the display (percent of a share, the difference of two counts the
//! query layer gave, named as such; docs/report.md).

use axum::Router;
use axum::http::HeaderValue;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

pub mod backend;
pub mod delivery;
pub mod filters;
pub mod html;
pub mod pages;
pub mod pdf;
pub mod report;
pub mod session;
pub mod svg;
pub mod view;

pub use backend::{Backend, Principal, Refusal, Signed};

const STYLE: &str = include_str!("../assets/style.css");
const FAVICON: &str = include_str!("../assets/favicon.svg");

/// The dashboard's routes, for the server to merge into its router. No fallback (the server
/// has one) and no route under `/api`, `/health`, `/metrics` or `/hooks`.
pub fn router<B: Backend>() -> Router<B> {
    Router::new()
        .route("/", get(pages::overview_page::<B>))
        .route("/topics", get(pages::topics_page::<B>))
        .route("/themes", get(pages::themes_page::<B>))
        .route("/pareto", get(pages::pareto_page::<B>))
        .route("/drivers", get(pages::drivers_page::<B>))
        .route("/flow", get(pages::flow_page::<B>))
        .route("/customers", get(pages::customers_page::<B>))
        .route("/customers/{id}", get(pages::customer_page::<B>))
        .route("/cases/{id}", get(pages::case_page::<B>))
        .route("/signals", get(pages::signals_page::<B>))
        .route("/signals.csv", get(pages::signals_csv::<B>))
        .route("/quarantine", get(pages::quarantine_page::<B>))
        .route("/actions", get(pages::actions_page::<B>))
        .route("/report", get(pages::report_page::<B>))
        .route("/admin/tokens", get(pages::tokens_page::<B>))
        .route(
            "/signin",
            get(session::signin_form).post(session::signin::<B>),
        )
        .route("/signout", post(session::signout))
        .route(
            "/assets/style.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE) }),
        )
        .route(
            "/assets/favicon.svg",
            get(|| async { asset("image/svg+xml", FAVICON) }),
        )
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut res = body.into_response();
    res.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    res.headers_mut().insert(
        CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=3600"),
    );
    res
}

/// Whether a response is a dashboard page (HTML), which the server's JSON error layer must
/// leave as it is.
pub fn is_page(res: &Response) -> bool {
    res.headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"))
}

/// Builds the default view of every analytic page and the report of the last week with data,
/// for the whole organisation, and throws the pages away: run by the server on a read
/// connection with its answer cache attached, so that the figures behind those pages are
/// computed before anyone opens them (the cache's warming, ADR 0013). The same page functions
/// as a request's, so a warmed figure is the one a page shows.
pub fn warm(store: &hearken_store::Store) {
    let scope = hearken_query::Scope::all();
    let pq = filters::PageQuery::default();
    let _ = pages::overview::build(store, &scope, &pq);
    let _ = pages::topics::build(store, &scope, &pq);
    let _ = pages::pareto::build(store, &scope, &pq);
    let _ = pages::drivers::build(store, &scope, &pq);
    if let Ok(Some(week)) = report::latest_week(store, &scope) {
        let _ = report::build(store, &scope, &week);
    }
    let _ = pages::topics::build_themes(store, &scope, &pq);
    let _ = pages::flow::build(store, &scope, &pq);
}
