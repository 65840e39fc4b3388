//! The application state shared by every request, and the store connections.
//!
//! SQLite is reached only from blocking threads (`spawn_blocking`), never on the async runtime.
//! There are two pools of store connections (ADR 0006): up to `read_connections` for reads, opened
//! on first need and kept (each keeps its page cache warm), and one for writes, so writes queue
//! here instead of in SQLite's busy handler. A request first waits (asynchronously) for a
//! connection permit and only then takes a blocking thread, so a burst of requests does not
//! occupy hundreds of blocking threads waiting for a connection.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use hearken_store::Store;
use tokio::sync::Semaphore;

use crate::ServerError;
use crate::auth::Guarded;
use crate::error::{AppError, ErrorCode};
use crate::ingest::Ingestor;
use crate::metrics::Metrics;
use crate::settings::Settings;
use hearken_enrich::TextOptions;

/// A small pool of open stores, each used by one blocking task at a time.
pub struct Pool {
    path: PathBuf,
    idle: Mutex<Vec<Store>>,
    permits: Arc<Semaphore>,
    /// Attached to every store this pool opens: the read pool's answer cache (ADR 0013).
    attach: Option<Arc<dyn std::any::Any + Send + Sync>>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool").field("path", &self.path).finish()
    }
}

impl Pool {
    fn new(
        path: &Path,
        size: usize,
        first: Option<Store>,
        attach: Option<Arc<dyn std::any::Any + Send + Sync>>,
    ) -> Pool {
        Pool {
            path: path.to_path_buf(),
            idle: Mutex::new(first.into_iter().collect()),
            permits: Arc::new(Semaphore::new(size)),
            attach,
        }
    }

    /// Runs `f` with a store of this pool on a blocking thread. A panic in `f` is an internal
    /// error of this request (its connection is dropped and reopened on next need); the server
    /// keeps serving.
    pub async fn run<T, F>(self: &Arc<Self>, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, AppError> + Send + 'static,
    {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| AppError::new(ErrorCode::Unavailable, "the server is shutting down"))?;
        let pool = Arc::clone(self);
        let span = tracing::Span::current();
        let joined = tokio::task::spawn_blocking(move || {
            let _enter = span.enter();
            let _permit = permit;
            let mut store = pool.take()?;
            let out = f(&mut store);
            pool.idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(store);
            out
        })
        .await;
        match joined {
            Ok(out) => out,
            Err(e) if e.is_panic() => Err(AppError::internal(format!(
                "a store task panicked: {}",
                panic_message(e.into_panic().as_ref())
            ))),
            Err(e) => Err(AppError::internal(format!(
                "a store task was cancelled: {e}"
            ))),
        }
    }

    fn take(&self) -> Result<Store, AppError> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match idle {
            Some(s) => Ok(s),
            None => {
                let mut store = Store::open(&self.path)?;
                if let Some(a) = &self.attach {
                    store.attach(Arc::clone(a));
                }
                Ok(store)
            }
        }
    }
}

/// The text of a panic payload.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_string()))
        .unwrap_or_else(|| "(no message)".into())
}

/// The store, as reads and writes.
#[derive(Debug, Clone)]
pub struct Db {
    pub read: Arc<Pool>,
    pub write: Arc<Pool>,
    /// The answer cache attached to every read connection, if any.
    pub answers: Option<Arc<hearken_query::AnswerCache>>,
}

impl Db {
    /// Opens the store once (creating and migrating it if needed, so that a bad path fails at
    /// start, not on the first request) and prepares the pools; `answers`, when given, is
    /// attached to every read connection (the query layer then keeps analytic answers per
    /// data generation, ADR 0013).
    pub fn open(
        path: &Path,
        read_connections: usize,
        answers: Option<hearken_query::AnswerCache>,
    ) -> Result<Db, ServerError> {
        let store = Store::open(path).map_err(|e| ServerError::Store(e.to_string()))?;
        let answers = answers.map(Arc::new);
        let attach = answers
            .clone()
            .map(|c| c as Arc<dyn std::any::Any + Send + Sync>);
        Ok(Db {
            read: Arc::new(Pool::new(path, read_connections, None, attach)),
            write: Arc::new(Pool::new(path, 1, Some(store), None)),
            answers,
        })
    }
}

/// Shared by every request (cheap to clone).
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    settings: Settings,
    metrics: Arc<Metrics>,
    guarded: Guarded,
    ingestor: Ingestor,
}

impl AppState {
    /// Opens the store at `db` and prepares the state; live rows are enriched (sentiment,
    /// language, topic) and not redacted.
    pub fn open(db: &Path, settings: Settings) -> Result<AppState, ServerError> {
        AppState::open_with(
            db,
            settings,
            TextOptions {
                enrich: true,
                redact: false,
            },
        )
    }

    /// [`AppState::open`] with what happens to the texts of live rows (as `hearken import`'s
    /// `enrich` and `redact_pii` settings).
    pub fn open_with(
        db: &Path,
        settings: Settings,
        text: TextOptions,
    ) -> Result<AppState, ServerError> {
        settings.validate()?;
        let db = Db::open(db, settings.read_connections, settings.answer_cache())?;
        Ok(AppState {
            inner: Arc::new(Inner {
                settings,
                metrics: Arc::new(Metrics::default()),
                guarded: Guarded::new(db),
                ingestor: Ingestor::new(text),
            }),
        })
    }

    /// Live ingestion's queue and writer.
    pub fn ingestor(&self) -> &Ingestor {
        &self.inner.ingestor
    }

    pub(crate) fn metrics_arc(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub fn metrics(&self) -> &Metrics {
        &self.inner.metrics
    }

    pub(crate) fn guarded(&self) -> &Guarded {
        &self.inner.guarded
    }
}
