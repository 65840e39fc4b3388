//! Hearken's HTTP API (`hearken serve`): routing, authentication with roles and data scopes,
//! request ids and tracing spans, Prometheus metrics, body and time limits, JSON errors with
//! stable codes, and the OpenAPI document with a reference page, over the embedded store.
//!
//! [`app`] builds the router (tests call it in-process); [`serve`] runs it on a socket until
//! SIGTERM or SIGINT, letting requests in flight finish; [`run`] does the same on its own runtime
//! for the `hearken` binary.
//!
//! Architecture invariant: this crate routes, authenticates and (de)serialises; it computes no
//! figure itself (that is the query layer's) and holds no SQL (that is the store's). Store access
//! and CPU-heavy work run on blocking threads ([`state::Pool::run`]), never on the async runtime.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tower_http::catch_panic::CatchPanicLayer;

pub mod auth;
pub mod error;
pub mod extract;
pub mod ingest;
pub mod metrics;
mod middleware;
pub mod openapi;
pub mod request_id;
pub mod routes;
mod settings;
pub mod state;
mod warm;
mod web;
pub mod webhooks;

pub use error::{AppError, ErrorBody, ErrorCode};
pub use settings::{ServerConfig, Settings};
pub use state::AppState;

/// Errors that stop the server from starting or serving.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("[server] {setting} = '{value}' is invalid: {reason}")]
    Setting {
        setting: String,
        value: String,
        reason: String,
    },
    #[error("cannot open the store: {0}")]
    Store(String),
    #[error(
        "cannot listen on {addr}: {source} (is another server using the port? try --bind 127.0.0.1:0)"
    )]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("cannot start the server's runtime: {0}")]
    Runtime(std::io::Error),
}

/// The whole application: every route with its layers, ready to serve or to call in-process.
pub fn app(state: AppState) -> Router {
    app_with(state, Router::new())
}

/// [`app`] with `extra` routes added inside the same layers (request ids, limits, panic
/// catching, JSON errors). For tests; the served application is [`app`].
#[doc(hidden)]
pub fn app_with(state: AppState, extra: Router<AppState>) -> Router {
    let (router, api) = routes::router().split_for_parts();
    let docs = Arc::new(openapi::ApiDocs::new(&openapi::finish(api)));
    let limit = state.settings().body_limit_bytes;
    router
        .merge(web::router())
        .merge(extra)
        .fallback(not_found)
        .layer(axum::Extension(docs))
        .layer(DefaultBodyLimit::max(limit))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(from_fn_with_state(state.clone(), middleware::limits))
        .layer(from_fn(middleware::refuse_token_in_url))
        .layer(from_fn(middleware::json_errors))
        .layer(from_fn_with_state(state.clone(), middleware::observe))
        .with_state(state)
}

async fn not_found() -> AppError {
    AppError::not_found("no such route")
}

/// A handler panicked: 500 with the request id; the panic is logged, the server keeps serving.
fn panic_response(payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = state::panic_message(payload.as_ref());
    AppError::internal(format!("handler panicked: {message}")).into_response()
}

/// Serves `config` until `shutdown` completes, then stops accepting connections and waits for the
/// requests in flight (at most the request timeout and 5 s more). `on_bound` is called with the
/// bound address once the socket listens (the port is known even when 0 was asked).
pub async fn serve(
    config: ServerConfig,
    on_bound: impl FnOnce(SocketAddr),
    shutdown: impl Future<Output = ()>,
) -> Result<(), ServerError> {
    // Opening a store blocks (a PostgreSQL client runs its own runtime): off the async threads.
    let opened = {
        let (db, settings, text) = (config.db.clone(), config.settings.clone(), config.text);
        tokio::task::spawn_blocking(move || AppState::open_with(&db, settings, text)).await
    };
    let state =
        opened.map_err(|e| ServerError::Store(format!("opening the store failed: {e}")))??;
    let addr = config.settings.bind_addr()?;
    let timeout = config.settings.request_timeout();
    let app = app(state.clone());
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Bind { addr, source })?;
    let bound = listener
        .local_addr()
        .map_err(|source| ServerError::Bind { addr, source })?;
    let db = state::Location::of(&config.db);
    tracing::info!(%bound, db = %state::location_text(&db), "serving");
    on_bound(bound);
    let stop_warming = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Warming fills the answer cache, which only the embedded store has.
    if config.settings.answer_cache_warm_secs > 0
        && state.guarded().background_db().answers.is_some()
    {
        tokio::spawn(warm::run(
            state.guarded().background_db().clone(),
            Duration::from_secs(config.settings.answer_cache_warm_secs),
            Arc::clone(&stop_warming),
        ));
    }

    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    // A client that never finishes its headers is cut off too (the request timeout covers bodies).
    http.timer(TokioTimer::new())
        .header_read_timeout(Some(timeout))
        .keep_alive(true);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    let conn = http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
                    let conn = graceful.watch(conn);
                    tokio::spawn(async move {
                        if let Err(e) = conn.await {
                            tracing::debug!(%peer, error = %e, "connection ended with an error");
                        }
                    });
                }
                Err(e) => {
                    // Out of file descriptors and the like: wait, do not spin or stop.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    stop_warming.store(true, std::sync::atomic::Ordering::Relaxed);
    tracing::info!(
        connections = graceful.count(),
        "stopping: no new connections; waiting for requests in flight"
    );
    if tokio::time::timeout(timeout + Duration::from_secs(5), graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight after the grace period were cut off");
    }
    // Rows queued by requests (answered or cut off) are committed before the server stops.
    state.ingestor().shutdown().await;
    Ok(())
}

/// Runs [`serve`] on its own multi-threaded runtime until SIGTERM or SIGINT.
pub fn run(config: ServerConfig, on_bound: impl FnOnce(SocketAddr)) -> Result<(), ServerError> {
    config.settings.validate()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("hearken-http")
        .build()
        .map_err(ServerError::Runtime)?;
    let out = rt.block_on(serve(config, on_bound, shutdown_signal()));
    // Detached store writes (a token's last use) get a moment to finish.
    rt.shutdown_timeout(Duration::from_secs(5));
    out
}

/// Completes on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("SIGINT received"),
        () = term => tracing::info!("SIGTERM received"),
    }
}
