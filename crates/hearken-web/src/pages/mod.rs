//! The pages: one module per page builds its [`Content`] from query-layer answers on a blocking
//! thread of the server's read pool; this module parses the URL, checks the session and the
//! role, and renders.
//!
//! A page builder is a plain function `fn(&dyn TeamStore, &Scope, &PageQuery) -> Content`: it calls
//! `hearken_query` functions with the session's scope (never SQL, never a figure of its own),
//! and turns each answer into sections. A section whose question the data cannot answer shows
//! the query layer's error and hint in its place; when every section fails the same way (an
//! unknown segment in the filters), the page shows that error once with its HTTP status.

use askama::Template;
use axum::extract::{Path, RawQuery};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use hearken_query::Scope;
use hearken_store::{Role, TeamStore};

use crate::backend::{Backend, Principal};
use crate::filters::PageQuery;
use crate::session::{Session, see_other};
use crate::view::{Chrome, Content, PageError, PageTemplate};

pub mod actions;
pub mod admin;
pub mod customers;
pub mod drivers;
pub mod flow;
pub mod overview;
pub mod pareto;
pub mod parts;
pub mod quarantine;
pub mod signals;
pub mod topics;

/// A page builder.
pub type Builder = fn(&dyn TeamStore, &Scope, &PageQuery) -> Content;

/// Renders `content` in the frame of `path`.
pub fn render(
    path: &str,
    principal: Option<&Principal>,
    q: &PageQuery,
    content: Content,
) -> Response {
    let mut chrome = Chrome::new(path, principal, q);
    chrome.show_filters = principal.is_some() && takes_filters(path);
    let mut content = content;
    collapse_errors(&mut content);
    let status = StatusCode::from_u16(content.status).unwrap_or(StatusCode::OK);
    match (PageTemplate {
        chrome: &chrome,
        content: &content,
    })
    .render()
    {
        Ok(html) => {
            let mut res = (status, Html(html)).into_response();
            // Pages show a token's data: not for shared caches, not kept after sign-out.
            res.headers_mut()
                .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => template_failed(&e),
    }
}

fn takes_filters(path: &str) -> bool {
    !matches!(
        path,
        "/quarantine" | "/actions" | "/report" | "/admin/tokens"
    ) && !path.starts_with("/cases/")
}

/// When every section failed with the same error, the page shows it once, with its status.
fn collapse_errors(c: &mut Content) {
    let Some(first) = c.sections.first().and_then(|s| s.error.clone()) else {
        return;
    };
    if c.sections
        .iter()
        .all(|s| s.error.as_ref() == Some(&first) && s.stats.is_empty() && s.tables.is_empty())
    {
        if c.status == 200 {
            c.status = c.sections.first().map_or(400, |s| s.error_status);
        }
        c.sections.clear();
        c.messages.push(first);
    }
}

/// A page of one error.
pub fn error_page(principal: Option<&Principal>, e: &PageError) -> Response {
    render(
        "",
        principal,
        &PageQuery::default(),
        Content::error("Error", e),
    )
}

/// A template that failed to render: a bug; logged, answered 500.
pub fn template_failed(e: &askama::Error) -> Response {
    tracing::error!(error = %e, "a dashboard template failed to render");
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        Html("<!doctype html><title>Error</title><p>This page failed to render; the cause is in the server's log.</p>".to_string()),
    )
        .into_response()
}

/// Parses a page's query string: unknown parameters are an error page (a filter is never
/// ignored); blank ones (a form's empty fields) redirect to the clean URL.
#[allow(
    clippy::result_large_err,
    reason = "the error is the page to answer with, built once per request"
)]
pub fn parse_query(uri: &Uri, raw: Option<&str>) -> Result<PageQuery, Response> {
    let q: PageQuery = match serde_urlencoded_from(raw.unwrap_or("")) {
        Ok(q) => q,
        Err(e) => {
            let e = PageError::new(400, "invalid_query", format!("the page's URL has a parameter it does not take: {e}"))
                .hint("the filters are from, to, segment, product, channel, team, agent and topic; remove the others");
            return Err(error_page(None, &e));
        }
    };
    if q.has_blank() {
        return Err(see_other(&q.cleaned().url(uri.path())));
    }
    Ok(q)
}

fn serde_urlencoded_from(raw: &str) -> Result<PageQuery, String> {
    axum::extract::Query::<PageQuery>::try_from_uri(
        &format!("/?{raw}")
            .parse::<Uri>()
            .map_err(|e| e.to_string())?,
    )
    .map(|q| q.0)
    .map_err(|e| e.body_text())
}

/// Serves a page: the session (or a redirect to sign in), the role, the URL's filters, the
/// builder on the read pool.
pub async fn serve<B: Backend>(
    session: Session<B>,
    uri: &Uri,
    raw: Option<String>,
    least: Role,
    build: impl FnOnce(&dyn TeamStore, &Scope, &PageQuery) -> Content + Send + 'static,
) -> Response {
    let q = match parse_query(uri, raw.as_deref()) {
        Ok(q) => q,
        Err(res) => return res,
    };
    let path = uri.path().to_string();
    if session.principal.role < least {
        let e = PageError::new(
            403,
            "forbidden",
            format!(
                "this page needs the {least} role; the token '{}' is {}",
                session.principal.name, session.principal.role
            ),
        )
        .hint("use a token with a higher role, or ask an admin for one");
        return render(
            &path,
            Some(&session.principal),
            &q,
            Content::error("Not allowed", &e),
        );
    }
    let scope = session.scope();
    let query = q.clone();
    let content = B::read(&session.db, move |store| build(store, &scope, &query)).await;
    match content {
        Ok(c) => render(&path, Some(&session.principal), &q, c),
        Err(r) => render(
            &path,
            Some(&session.principal),
            &q,
            Content::error("Unavailable", &PageError::from(r)),
        ),
    }
}

macro_rules! page {
    ($name:ident, $least:expr, $build:path) => {
        pub async fn $name<B: Backend>(
            session: Session<B>,
            uri: Uri,
            RawQuery(raw): RawQuery,
        ) -> Response {
            serve(session, &uri, raw, $least, $build).await
        }
    };
}

page!(overview_page, Role::Viewer, overview::build);
page!(topics_page, Role::Viewer, topics::build);
page!(themes_page, Role::Viewer, topics::build_themes);
page!(pareto_page, Role::Viewer, pareto::build);
page!(drivers_page, Role::Viewer, drivers::build);
page!(flow_page, Role::Viewer, flow::build);
page!(customers_page, Role::Viewer, customers::build);
page!(signals_page, Role::Viewer, signals::build);
page!(quarantine_page, Role::Viewer, quarantine::build);
page!(actions_page, Role::Viewer, actions::build);
page!(tokens_page, Role::Admin, admin::build);

/// `/customers/{id}`: a customer's profile and timeline.
pub async fn customer_page<B: Backend>(
    session: Session<B>,
    uri: Uri,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    serve(session, &uri, raw, Role::Viewer, move |s, scope, q| {
        customers::build_one(s, scope, q, &id)
    })
    .await
}

/// `/cases/{id}`: a case with its events.
pub async fn case_page<B: Backend>(
    session: Session<B>,
    uri: Uri,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Response {
    serve(session, &uri, raw, Role::Viewer, move |s, scope, q| {
        customers::build_case(s, scope, q, &id)
    })
    .await
}

/// `/signals.csv`: the listed signals as CSV.
pub async fn signals_csv<B: Backend>(
    session: Session<B>,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = match parse_query(&uri, raw.as_deref()) {
        Ok(q) => q,
        Err(res) => return res,
    };
    let scope = session.scope();
    let principal = session.principal.clone();
    let out = B::read(&session.db, move |store| signals::csv(store, &scope, &q)).await;
    match out.map_err(PageError::from).and_then(|r| r) {
        Ok(body) => {
            let mut res = body.into_response();
            res.headers_mut().insert(
                CONTENT_TYPE,
                HeaderValue::from_static("text/csv; charset=utf-8"),
            );
            res.headers_mut().insert(
                axum::http::header::CONTENT_DISPOSITION,
                HeaderValue::from_static("attachment; filename=\"signals.csv\""),
            );
            res
        }
        Err(e) => error_page(Some(&principal), &e),
    }
}

/// `/report?week=2026-W47`: the weekly one-page report for the session's scope.
pub async fn report_page<B: Backend>(
    session: Session<B>,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    let q = match parse_query(&uri, raw.as_deref()) {
        Ok(q) => q,
        Err(res) => return res,
    };
    if let Some(p) = q.refuse(&crate::filters::FILTER_NAMES) {
        let e = PageError::new(
            400,
            "unsupported_filter",
            format!("the weekly report takes only `week`, not the filter '{p}'"),
        )
        .hint("the report covers the token's whole scope; remove the filter");
        return error_page(Some(&session.principal), &e);
    }
    let scope = session.scope();
    let principal = session.principal.clone();
    let week = q.week.clone();
    let out = B::read(&session.db, move |store| {
        crate::report::page(store, &scope, week.as_deref())
    })
    .await;
    match out.map_err(PageError::from).and_then(|r| r) {
        Ok(html) => {
            let mut res = Html(html).into_response();
            res.headers_mut()
                .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => render(
            "/report",
            Some(&principal),
            &q,
            Content::error("Weekly report", &e),
        ),
    }
}
