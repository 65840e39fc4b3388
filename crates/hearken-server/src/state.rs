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

use hearken_store::{
    FrameSource, IngestBatch, IngestFailure, IngestReport, IngestSettings, Store, TokenCheck,
};
use tokio::sync::Semaphore;

use crate::ServerError;
use crate::auth::Guarded;
use crate::error::{AppError, ErrorCode};
use crate::ingest::Ingestor;
use crate::metrics::Metrics;
use crate::settings::Settings;
use hearken_enrich::TextOptions;

/// Where the store is: an SQLite file or a PostgreSQL database (`postgres://` URL).
#[derive(Clone)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Location {
    /// A `postgres://` (or `postgresql://`) URL names a database; anything else a file.
    pub fn of(path: &Path) -> Location {
        let text = path.to_string_lossy();
        if hearken_store::is_postgres_url(&text) {
            Location::Postgres(text.into_owned())
        } else {
            Location::Sqlite(path.to_path_buf())
        }
    }
}

/// An open store of either kind.
pub enum Conn {
    Sqlite(Store),
    #[cfg(feature = "postgres")]
    Postgres(hearken_store::pg::PgStore),
}

impl Conn {
    fn open(at: &Location) -> Result<Conn, AppError> {
        match at {
            Location::Sqlite(path) => Ok(Conn::Sqlite(Store::open(path)?)),
            #[cfg(feature = "postgres")]
            Location::Postgres(url) => {
                Ok(Conn::Postgres(hearken_store::pg::PgStore::connect(url)?))
            }
            #[cfg(not(feature = "postgres"))]
            Location::Postgres(_) => Err(AppError::new(
                ErrorCode::NotImplemented,
                "this hearken was built without PostgreSQL support",
            )),
        }
    }

    /// Whether this connection can be used again (a PostgreSQL connection that broke cannot).
    fn reusable(&self) -> bool {
        match self {
            Conn::Sqlite(_) => true,
            #[cfg(feature = "postgres")]
            Conn::Postgres(p) => !p.is_closed(),
        }
    }

    /// Checks a presented API token.
    pub fn check_token(&self, token: &str) -> Result<TokenCheck, AppError> {
        Ok(match self {
            Conn::Sqlite(s) => s.check_token(token)?,
            #[cfg(feature = "postgres")]
            Conn::Postgres(p) => p.check_token(token)?,
        })
    }

    /// Records a token's use.
    pub fn touch_token(&self, id: i64, at: i64) -> Result<(), AppError> {
        match self {
            Conn::Sqlite(s) => s.touch_token(id, at)?,
            #[cfg(feature = "postgres")]
            Conn::Postgres(p) => p.touch_token(id, at)?,
        }
        Ok(())
    }

    /// Writes a group of live batches in one transaction.
    pub fn ingest_many(
        &mut self,
        batches: Vec<IngestBatch>,
        settings: &IngestSettings,
    ) -> Vec<Result<IngestReport, IngestFailure>> {
        match self {
            Conn::Sqlite(s) => s.ingest_many(batches, settings),
            #[cfg(feature = "postgres")]
            Conn::Postgres(p) => p.ingest_many(batches, settings),
        }
    }

    /// The store's topic model for signals, if one was trained.
    pub fn topic_model(&self) -> Result<Option<Arc<hearken_topics::Model>>, AppError> {
        let stored = match self {
            Conn::Sqlite(s) => s.load_model(hearken_enrich::TOPIC_MODEL)?,
            #[cfg(feature = "postgres")]
            Conn::Postgres(p) => p.load_model(hearken_enrich::TOPIC_MODEL)?,
        };
        hearken_enrich::model_from(stored)
            .map(|m| m.map(|(_, m)| m))
            .map_err(|e| {
                AppError::failed(
                    ErrorCode::TopicModelError,
                    "the store's topic model cannot be read",
                    e,
                )
            })
    }

    /// The key pseudonyms are made with (created on first use).
    pub fn pseudonym_key(&self) -> Result<String, AppError> {
        Ok(match self {
            Conn::Sqlite(s) => s.pseudonym_key()?,
            #[cfg(feature = "postgres")]
            Conn::Postgres(p) => p.pseudonym_key()?,
        })
    }
}

/// The answer of a route that needs what only the embedded store has yet.
pub fn not_on_postgres() -> AppError {
    AppError::new(
        ErrorCode::NotImplemented,
        "this route does not run on a PostgreSQL store yet",
    )
    .with_hint(
        "on PostgreSQL the server answers status, imports, scores, pareto, drivers, trends, repeats, issues, themes, flow, the overview, customers, cases, signals (GET), the quarantine, actions, suggestions, the outbox, the dashboard, inbound webhooks, risk, customer value, assessments, the cost of quality and live ingestion (POST /api/v1/signals, surveys, case-events); serve an SQLite store for the rest (`hearken store copy --from URL --to FILE`)",
    )
}

/// A small pool of open stores, each used by one blocking task at a time.
pub struct Pool {
    at: Location,
    idle: Mutex<Vec<Conn>>,
    permits: Arc<Semaphore>,
    /// Attached to every store this pool opens: the read pool's answer cache (ADR 0013).
    attach: Option<Arc<dyn std::any::Any + Send + Sync>>,
}

impl std::fmt::Debug for Pool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("at", &location_text(&self.at))
            .finish()
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        // A PostgreSQL client closes its connection on its own runtime, which cannot start on
        // an async thread (where the server's state is dropped): close them on a plain thread.
        let idle = std::mem::take(&mut *self.idle.lock().unwrap_or_else(PoisonError::into_inner));
        if idle.iter().any(|c| !matches!(c, Conn::Sqlite(_))) {
            let _ = std::thread::spawn(move || drop(idle)).join();
        }
    }
}

/// Where a store is, for messages and logs (a PostgreSQL URL without its password).
pub fn location_text(at: &Location) -> String {
    match at {
        Location::Sqlite(path) => path.display().to_string(),
        #[cfg(feature = "postgres")]
        Location::Postgres(url) => hearken_store::pg::redact(url),
        #[cfg(not(feature = "postgres"))]
        Location::Postgres(_) => "a PostgreSQL database".into(),
    }
}

impl Pool {
    fn new(
        at: &Location,
        size: usize,
        first: Option<Conn>,
        attach: Option<Arc<dyn std::any::Any + Send + Sync>>,
    ) -> Pool {
        Pool {
            at: at.clone(),
            idle: Mutex::new(first.into_iter().collect()),
            permits: Arc::new(Semaphore::new(size)),
            attach,
        }
    }

    /// Whether the store is a PostgreSQL database.
    pub fn is_postgres(&self) -> bool {
        matches!(self.at, Location::Postgres(_))
    }

    /// Runs `f` with an embedded store of this pool on a blocking thread; on a PostgreSQL
    /// store, the route is not available yet ([`not_on_postgres`]). A panic in `f` is an
    /// internal error of this request (its connection is dropped and reopened on next need);
    /// the server keeps serving.
    pub async fn run<T, F>(self: &Arc<Self>, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> Result<T, AppError> + Send + 'static,
    {
        if self.is_postgres() {
            return Err(not_on_postgres());
        }
        self.with(move |conn| match conn {
            Conn::Sqlite(store) => f(store),
            #[cfg(feature = "postgres")]
            Conn::Postgres(_) => Err(not_on_postgres()),
        })
        .await
    }

    /// Runs `f` with the actions and suggestions of either store (the same statements on both;
    /// on PostgreSQL each write holds the actions lock, so servers change actions one at a
    /// time).
    pub async fn actions<T, F>(self: &Arc<Self>, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn hearken_store::ActionStore) -> Result<T, AppError> + Send + 'static,
    {
        self.with(move |conn| match conn {
            Conn::Sqlite(store) => f(store),
            #[cfg(feature = "postgres")]
            Conn::Postgres(p) => f(p),
        })
        .await
    }

    /// Runs `f` with what the dashboard reads, from either store: on PostgreSQL every read of
    /// `f` sees one consistent snapshot of the database.
    pub async fn team<T, F>(self: &Arc<Self>, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn hearken_store::TeamStore) -> Result<T, AppError> + Send + 'static,
    {
        self.with(move |conn| match conn {
            Conn::Sqlite(store) => f(store),
            #[cfg(feature = "postgres")]
            Conn::Postgres(p) => p.read_consistent(|p| f(p))?,
        })
        .await
    }

    /// Runs `f` with risk models, assessments and the frames of either store: on PostgreSQL
    /// in one consistent snapshot.
    pub async fn risk<T, F>(self: &Arc<Self>, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn hearken_store::RiskStore) -> Result<T, AppError> + Send + 'static,
    {
        self.with(move |conn| match conn {
            Conn::Sqlite(store) => f(store),
            #[cfg(feature = "postgres")]
            Conn::Postgres(p) => p.read_consistent(|p| f(p))?,
        })
        .await
    }

    /// Runs `f` with the inbound webhooks' registry of either store.
    pub async fn webhooks<T, F>(self: &Arc<Self>, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn hearken_store::WebhookStore) -> Result<T, AppError> + Send + 'static,
    {
        self.with(move |conn| match conn {
            Conn::Sqlite(store) => f(store),
            #[cfg(feature = "postgres")]
            Conn::Postgres(p) => f(p),
        })
        .await
    }

    /// Runs `f` with the outbox of either store (the same statements on both).
    pub async fn outbox<T, F>(self: &Arc<Self>, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&mut dyn hearken_store::OutboxStore) -> Result<T, AppError> + Send + 'static,
    {
        self.with(move |conn| match conn {
            Conn::Sqlite(store) => f(store),
            #[cfg(feature = "postgres")]
            Conn::Postgres(p) => f(p),
        })
        .await
    }

    /// Runs `f` with the frames the analytics read, from either store: on PostgreSQL every read
    /// of `f` sees one consistent snapshot of the database, while other servers write. A read
    /// whose PostgreSQL connection was lost (a restart) runs again once on a new connection.
    pub async fn frames<T, F>(self: &Arc<Self>, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: Fn(&dyn FrameSource) -> Result<T, AppError> + Send + 'static,
    {
        self.read_with(move |conn| match conn {
            Conn::Sqlite(store) => f(store),
            #[cfg(feature = "postgres")]
            Conn::Postgres(p) => p.read_consistent(|p| f(p))?,
        })
        .await
    }

    /// [`Pool::with`] for a read, which may run twice: once more on a new connection when the
    /// first one was lost (a PostgreSQL restart), so readers do not see the restart.
    pub async fn read_with<T, F>(self: &Arc<Self>, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: Fn(&mut Conn) -> Result<T, AppError> + Send + 'static,
    {
        self.attempts(2, move |conn| f(conn)).await
    }

    /// Runs `f` with a connection of this pool (either store) on a blocking thread.
    pub async fn with<T, F>(self: &Arc<Self>, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: FnOnce(&mut Conn) -> Result<T, AppError> + Send + 'static,
    {
        let once = Mutex::new(Some(f));
        self.attempts(1, move |conn| {
            let f = once
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .take()
                .ok_or_else(|| AppError::internal("a store task ran twice"))?;
            f(conn)
        })
        .await
    }

    /// Runs `f` on a blocking thread with a connection; when `f` fails and its connection is
    /// gone, up to `attempts` times in all, each on a new connection.
    async fn attempts<T, F>(self: &Arc<Self>, attempts: usize, f: F) -> Result<T, AppError>
    where
        T: Send + 'static,
        F: Fn(&mut Conn) -> Result<T, AppError> + Send + 'static,
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
            let mut left = attempts.max(1);
            loop {
                left -= 1;
                let mut conn = pool.take()?;
                let out = f(&mut conn);
                // A lost connection may not know it is closed yet when its error arrives (the
                // server's FATAL comes before the socket's end): its error says so too.
                let lost = !matches!(conn, Conn::Sqlite(_))
                    && matches!(&out, Err(e) if e.code == ErrorCode::Unavailable);
                if conn.reusable() && !lost {
                    pool.idle
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(conn);
                } else {
                    // The others went with it (a restart ends every connection): new ones.
                    pool.idle
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .clear();
                    if out.is_err() && left > 0 {
                        tracing::info!(
                            "the store's connection was lost; reading again on a new one"
                        );
                        continue;
                    }
                }
                return out;
            }
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

    fn take(&self) -> Result<Conn, AppError> {
        let idle = self
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        match idle {
            Some(s) => Ok(s),
            None => {
                let mut conn = Conn::open(&self.at)?;
                if let (Some(a), Conn::Sqlite(store)) = (&self.attach, &mut conn) {
                    store.attach(Arc::clone(a));
                }
                Ok(conn)
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
    ///
    /// A `postgres://` URL names a PostgreSQL store (built with the `postgres` feature): the
    /// analytics, status, quarantine, tokens and live ingestion run on it, the rest answers 501
    /// (`not_implemented`); the answer cache is the embedded store's only.
    pub fn open(
        path: &Path,
        read_connections: usize,
        answers: Option<hearken_query::AnswerCache>,
    ) -> Result<Db, ServerError> {
        let at = Location::of(path);
        let first = Conn::open(&at).map_err(|e| ServerError::Store(e.message))?;
        let answers = match &first {
            Conn::Sqlite(_) => answers.map(Arc::new),
            #[cfg(feature = "postgres")]
            Conn::Postgres(_) => None,
        };
        let attach = answers
            .clone()
            .map(|c| c as Arc<dyn std::any::Any + Send + Sync>);
        Ok(Db {
            read: Arc::new(Pool::new(&at, read_connections, None, attach)),
            write: Arc::new(Pool::new(&at, 1, Some(first), None)),
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
