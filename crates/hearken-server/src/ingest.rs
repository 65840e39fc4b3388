//! Live ingestion's write path: one writer task that commits the batches of concurrent requests
//! together (group commit), so that a 2xx means the rows are durable and acknowledging only
//! durable rows stays fast.
//!
//! A request's body is read into an [`IngestBatch`] on a blocking thread ([`Ingestor::parse`]:
//! the file import's reader, identity, enrichment through `hearken-enrich` with the store's
//! topic model and pseudonym key), then queued ([`Ingestor::submit`]). The writer takes every
//! batch waiting (up to [`MAX_GROUP_ROWS`] rows), writes them with `Store::ingest_many` in ONE
//! transaction on the write pool, and answers each request once that transaction is committed
//! (synced to disk). While one group commits, the next one gathers.
//!
//! Shutdown ([`Ingestor::shutdown`]): the queue is closed to new batches, every batch already
//! queued is written and answered, then the writer stops. A batch whose request was cut off is
//! written all the same; its client's retry with the same `Idempotency-Key` is then a no-op.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

use hearken_enrich::TextOptions;
use hearken_ingest::{Mapping, ReadOptions};
use hearken_model::RecordKind;
use hearken_store::{
    BatchLimits, BatchMeta, IngestBatch, IngestFailure, IngestReport, IngestSettings, WalSync,
};
use tokio::sync::{Notify, mpsc, oneshot};

use crate::error::{AppError, ErrorCode};
use crate::metrics::Metrics;
use crate::state::{Conn, Pool};

/// Batches waiting for the writer, at most; a request beyond waits for room.
const QUEUE: usize = 4096;
/// Rows written in one transaction, at most (a group stops growing past it).
pub const MAX_GROUP_ROWS: usize = 50_000;
/// A group of at least this many rows is written while the previous one syncs; a smaller one
/// waits for that sync, gathering the requests that come meanwhile.
const PIPELINE_ROWS: usize = 256;
/// Bodies up to this size are read on the request's own task: handing a one-row body to a
/// blocking thread costs more than reading it.
const INLINE_PARSE_BYTES: usize = 4096;
/// How long the store's topic model and pseudonym key are reused before being read again (a
/// model trained while the server runs is picked up within this time).
const PARTS_TTL: Duration = Duration::from_secs(60);

type Reply = oneshot::Sender<Result<IngestReport, IngestFailure>>;

struct Job {
    batch: IngestBatch,
    reply: Reply,
}

/// What the reader options of the store are made from, read once and reused.
struct Parts {
    loaded: Instant,
    model: Option<Arc<hearken_topics::Model>>,
    key: Option<String>,
    /// Reader options per ingestible kind, without a mapping.
    plain: Vec<(RecordKind, Arc<ReadOptions>)>,
}

/// The live-ingestion queue and its writer (one per server).
pub struct Ingestor {
    text: TextOptions,
    settings: IngestSettings,
    queue: OnceLock<mpsc::Sender<Job>>,
    writer: Mutex<Option<tokio::task::JoinHandle<()>>>,
    stop: Arc<Notify>,
    parts: Mutex<Option<Arc<Parts>>>,
    /// The threads that read large bodies (see [`Readers`]).
    readers: Readers,
}

impl std::fmt::Debug for Ingestor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ingestor")
            .field("text", &self.text)
            .finish_non_exhaustive()
    }
}

impl Ingestor {
    pub fn new(text: TextOptions) -> Ingestor {
        Ingestor {
            text,
            settings: IngestSettings::default(),
            queue: OnceLock::new(),
            writer: Mutex::new(None),
            stop: Arc::new(Notify::new()),
            parts: Mutex::new(None),
            readers: Readers::start(),
        }
    }

    /// What happens to the texts of rows that come in (live rows and uploaded files).
    pub fn text(&self) -> TextOptions {
        self.text
    }

    /// The reader options rows of `kind` are read with (with `mapping`, for a webhook), made
    /// from the store's topic model and pseudonym key (read on the write pool at most once a
    /// minute: making a pseudonym key writes).
    pub async fn read_options(
        &self,
        write: &Arc<Pool>,
        kind: RecordKind,
        mapping: Option<Mapping>,
    ) -> Result<Arc<ReadOptions>, AppError> {
        let cached = self
            .parts
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .filter(|p| p.loaded.elapsed() < PARTS_TTL);
        let parts = match cached {
            Some(p) => p,
            None => {
                let text = self.text;
                let parts = write
                    .with(move |conn| {
                        let model = if text.enrich {
                            conn.topic_model()?
                        } else {
                            None
                        };
                        let key = if text.redact {
                            Some(conn.pseudonym_key()?)
                        } else {
                            None
                        };
                        let plain = hearken_store::INGEST_KINDS
                            .iter()
                            .map(|&k| {
                                let opts = hearken_enrich::read_options_with(
                                    k,
                                    None,
                                    text,
                                    model.clone(),
                                    key.as_deref(),
                                );
                                (k, Arc::new(opts))
                            })
                            .collect();
                        Ok(Arc::new(Parts {
                            loaded: Instant::now(),
                            model,
                            key,
                            plain,
                        }))
                    })
                    .await?;
                *self.parts.lock().unwrap_or_else(PoisonError::into_inner) = Some(parts.clone());
                parts
            }
        };
        match mapping {
            None => parts
                .plain
                .iter()
                .find(|(k, _)| *k == kind)
                .map(|(_, o)| Arc::clone(o))
                .ok_or_else(|| AppError::internal(format!("{kind} cannot be ingested"))),
            Some(m) => Ok(Arc::new(hearken_enrich::read_options_with(
                kind,
                Some(m),
                self.text,
                parts.model.clone(),
                parts.key.as_deref(),
            ))),
        }
    }

    /// Reads `body` into a batch: a small body (a few rows: tens of microseconds of reading and
    /// enrichment) right here, a larger one on a blocking thread, off the async runtime.
    pub async fn parse(
        &self,
        body: axum::body::Bytes,
        opts: Arc<ReadOptions>,
        meta: BatchMeta,
        max_rows: usize,
    ) -> Result<IngestBatch, IngestFailure> {
        if body.len() <= INLINE_PARSE_BYTES {
            return IngestBatch::parse(&body, &opts, meta, BatchLimits { max_rows });
        }
        let span = tracing::Span::current();
        self.readers
            .run(move || {
                let _enter = span.enter();
                IngestBatch::parse(&body, &opts, meta, BatchLimits { max_rows })
            })
            .await
            .unwrap_or_else(|e| {
                Err(IngestFailure::Internal(format!(
                    "reading the body failed: {e}"
                )))
            })
    }

    /// Queues `batch` for the writer and waits until its group is committed. The writer is
    /// started on first use.
    pub async fn submit(
        &self,
        write: &Arc<Pool>,
        metrics: &Arc<Metrics>,
        batch: IngestBatch,
    ) -> Result<IngestReport, IngestFailure> {
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::channel(QUEUE);
            let handle = tokio::spawn(writer(
                rx,
                Arc::clone(write),
                Arc::clone(metrics),
                self.settings,
                Arc::clone(&self.stop),
            ));
            *self.writer.lock().unwrap_or_else(PoisonError::into_inner) = Some(handle);
            tx
        });
        let (reply, answer) = oneshot::channel();
        queue
            .send(Job { batch, reply })
            .await
            .map_err(|_| IngestFailure::Commit("the server is shutting down".into()))?;
        answer.await.unwrap_or_else(|_| {
            Err(IngestFailure::Commit(
                "the writer stopped before answering".into(),
            ))
        })
    }

    /// Closes the queue to new batches, writes every batch already queued, and waits for the
    /// writer to stop.
    pub async fn shutdown(&self) {
        let handle = self
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(handle) = handle {
            self.stop.notify_one();
            if let Err(e) = handle.await {
                tracing::error!(error = %e, "the ingestion writer failed");
            }
        }
    }
}

type ReadJob = Box<dyn FnOnce() + Send>;

/// The threads that read large bodies: one per core, each at a lower scheduling priority
/// (nice +9) than the rest of the server, so the writer, which every request waits for, is never
/// left waiting for a core while bodies are read, and the readers still use every core the
/// writer leaves. Measured 2026-12-04 on 2 cores: with bodies read on every core at the same
/// priority the writer waited for a core a third of its time; with one reader thread, the
/// reader was the bottleneck while the writer idled. Where the priority cannot be lowered the
/// readers run at the same priority. When no thread can be started, bodies are read on the
/// runtime's blocking threads.
struct Readers {
    jobs: Option<std::sync::mpsc::Sender<ReadJob>>,
}

impl Readers {
    fn start() -> Readers {
        let (tx, rx) = std::sync::mpsc::channel::<ReadJob>();
        let rx = Arc::new(Mutex::new(rx));
        let n = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut started = 0;
        for i in 0..n {
            let rx = Arc::clone(&rx);
            let spawned = std::thread::Builder::new()
                .name(format!("hearken-read-{i}"))
                .spawn(move || {
                    lower_priority();
                    loop {
                        // The lock is held only while waiting for a job, never while running it.
                        let job = rx.lock().unwrap_or_else(PoisonError::into_inner).recv();
                        match job {
                            Ok(job) => job(),
                            Err(_) => break,
                        }
                    }
                });
            if spawned.is_ok() {
                started += 1;
            }
        }
        Readers {
            jobs: (started > 0).then_some(tx),
        }
    }

    /// Runs `f` on a reader thread and waits for it, off the async runtime.
    async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, String> {
        let Some(jobs) = &self.jobs else {
            return tokio::task::spawn_blocking(f)
                .await
                .map_err(|e| e.to_string());
        };
        let (tx, rx) = oneshot::channel();
        let job: ReadJob = Box::new(move || {
            // A panic is caught here so the thread goes on serving (and answered as an error).
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            let _ = tx.send(out.map_err(|p| crate::state::panic_message(p.as_ref())));
        });
        jobs.send(job)
            .map_err(|_| "the reader threads stopped".to_string())?;
        rx.await
            .map_err(|_| "the reader threads stopped".to_string())?
    }
}

/// Lowers the calling thread's scheduling priority (nice about +9 under the normal policy).
fn lower_priority() {
    use thread_priority::{ThreadPriority, ThreadPriorityValue};
    let lower = ThreadPriorityValue::try_from(23u8).map(ThreadPriority::Crossplatform);
    if let Ok(p) = lower
        && let Err(e) = thread_priority::set_current_thread_priority(p)
    {
        tracing::debug!(error = ?e, "the body readers run at the server's priority");
    }
}

/// A group committed but not yet synced, with the requests waiting for it.
struct Committed {
    results: Vec<Result<IngestReport, IngestFailure>>,
    replies: Vec<Reply>,
}

/// The writer: takes every queued batch (up to [`MAX_GROUP_ROWS`] rows), writes them in one
/// transaction and hands the committed group to the syncer, which answers each request once the
/// commit is on disk; goes on until the queue is closed and empty, then waits for the syncer.
///
/// The commit does not sync itself (`IngestSettings::durable` is off): the next group is written
/// while this one is synced, so a slow disk costs the writer nothing. When the store's log cannot
/// be synced from another handle, every commit syncs itself as before.
async fn writer(
    mut rx: mpsc::Receiver<Job>,
    write: Arc<Pool>,
    metrics: Arc<Metrics>,
    settings: IngestSettings,
    stop: Arc<Notify>,
) {
    // PostgreSQL makes each commit durable itself (its `synchronous_commit`).
    let wal = match write
        .with(|conn| match conn {
            Conn::Sqlite(store) => Ok(Some(store.wal_sync()?)),
            #[cfg(feature = "postgres")]
            Conn::Postgres(_) => Ok(None),
        })
        .await
    {
        Ok(wal) => wal,
        Err(e) => {
            tracing::warn!(error = %e.message, "ingestion: every commit syncs itself");
            None
        }
    };
    let settings = IngestSettings {
        durable: settings.durable && wal.is_none(),
        ..settings
    };
    let (to_sync, committed) = mpsc::unbounded_channel::<Committed>();
    let in_flight = Arc::new(InFlight::default());
    let syncer = wal.map(|wal| {
        tokio::spawn(syncer(
            committed,
            wal,
            Arc::clone(&metrics),
            Arc::clone(&in_flight),
        ))
    });
    let mut stopping = false;
    loop {
        let first = if stopping {
            rx.recv().await
        } else {
            tokio::select! {
                job = rx.recv() => job,
                () = stop.notified() => {
                    // No new batches; the ones queued are still written.
                    rx.close();
                    stopping = true;
                    tracing::info!("ingestion: closing the queue, committing what is queued");
                    continue;
                }
            }
        };
        let Some(first) = first else { break };
        let mut rows = first.batch.len();
        let mut jobs = vec![first];
        loop {
            while rows < MAX_GROUP_ROWS {
                match rx.try_recv() {
                    Ok(job) => {
                        rows += job.batch.len();
                        jobs.push(job);
                    }
                    Err(_) => break,
                }
            }
            // A small group waits for the sync under way and gathers what comes meanwhile (one
            // row per request: a commit per few rows would cost more than the sync it overlaps);
            // a large one is written while the previous one syncs.
            if rows >= PIPELINE_ROWS || rows >= MAX_GROUP_ROWS || syncer.is_none() {
                break;
            }
            let synced = in_flight.synced.notified();
            tokio::pin!(synced);
            synced.as_mut().enable();
            if in_flight.groups.load(Ordering::Acquire) == 0 {
                break;
            }
            tokio::select! {
                () = &mut synced => {}
                job = rx.recv() => match job {
                    Some(job) => {
                        rows += job.batch.len();
                        jobs.push(job);
                    }
                    None => break,
                },
            }
        }
        let (batches, replies): (Vec<IngestBatch>, Vec<Reply>) =
            jobs.into_iter().map(|j| (j.batch, j.reply)).unzip();
        let n = batches.len();
        let started = Instant::now();
        let written = write
            .with(move |conn| Ok(conn.ingest_many(batches, &settings)))
            .await;
        let results = match written {
            Ok(results) => results,
            Err(e) => (0..n)
                .map(|_| Err(IngestFailure::Commit(e.message.clone())))
                .collect(),
        };
        tracing::debug!(
            batches = n,
            rows,
            ms = started.elapsed().as_secs_f64() * 1e3,
            "ingestion group committed"
        );
        let group = Committed { results, replies };
        if syncer.is_some() {
            in_flight.groups.fetch_add(1, Ordering::AcqRel);
            // The syncer outlives this loop (it is awaited below), so the send cannot fail.
            let _ = to_sync.send(group);
        } else {
            answer(group, &metrics);
        }
    }
    drop(to_sync);
    if let Some(syncer) = syncer
        && let Err(e) = syncer.await
    {
        tracing::error!(error = %e, "the ingestion syncer failed");
    }
    tracing::info!("ingestion: writer stopped");
}

/// Answers the requests of committed groups once a sync started after their commits returns:
/// every group committed meanwhile is answered by one sync.
async fn syncer(
    mut committed: mpsc::UnboundedReceiver<Committed>,
    wal: WalSync,
    metrics: Arc<Metrics>,
    in_flight: Arc<InFlight>,
) {
    while let Some(first) = committed.recv().await {
        let mut groups = vec![first];
        while let Ok(more) = committed.try_recv() {
            groups.push(more);
        }
        let wal = wal.clone();
        let synced = match tokio::task::spawn_blocking(move || wal.sync()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = &synced {
            tracing::error!(error = %e, "ingestion: the write-ahead log cannot be synced");
        }
        for mut group in groups {
            if let Err(e) = &synced {
                for r in &mut group.results {
                    if r.is_ok() {
                        *r = Err(IngestFailure::NotSynced(e.clone()));
                    }
                }
            }
            answer(group, &metrics);
            in_flight.groups.fetch_sub(1, Ordering::AcqRel);
        }
        in_flight.synced.notify_waiters();
    }
}

/// Groups committed and not yet synced, and a wake-up for the writer when a sync is done.
#[derive(Default)]
struct InFlight {
    groups: AtomicUsize,
    synced: Notify,
}

/// Answers each request of a group that is on disk (or failed).
fn answer(group: Committed, metrics: &Metrics) {
    for (result, reply) in group.results.into_iter().zip(group.replies) {
        if let Ok(r) = &result
            && !r.replayed
        {
            metrics.add_ingested(r.counts.stored, r.counts.quarantined);
        }
        // A request that went away is not an error: its rows are stored all the same.
        let _ = reply.send(result);
    }
}

/// The answer for a batch the store refused.
pub fn failure(e: IngestFailure) -> AppError {
    match e {
        IngestFailure::Body(message) => AppError::new(ErrorCode::MalformedJson, message).with_hint(
            "send one JSON object, an array of objects, or JSON Lines (one object per line), UTF-8",
        ),
        IngestFailure::TooManyRows { .. } => AppError::new(ErrorCode::TooManyRows, e.to_string()),
        IngestFailure::KeyReused { .. } => {
            AppError::new(ErrorCode::IdempotencyKeyReused, e.to_string())
        }
        IngestFailure::BadKey => AppError::new(ErrorCode::InvalidIdempotencyKey, e.to_string()),
        IngestFailure::Kind { .. } | IngestFailure::Internal(_) => AppError::internal(e),
        IngestFailure::Store(s) => s.into(),
        IngestFailure::Commit(cause) => AppError::failed(
            ErrorCode::Unavailable,
            "the rows were not committed; nothing of this request was stored",
            cause,
        )
        .with_hint("send the request again (with the same Idempotency-Key)"),
        IngestFailure::NotSynced(cause) => AppError::failed(
            ErrorCode::Unavailable,
            "the rows were committed but the disk did not confirm them",
            cause,
        )
        .with_hint(
            "send the request again with the same Idempotency-Key: rows already stored are not stored twice",
        ),
    }
}
