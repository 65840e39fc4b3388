//! Answers kept per store data generation (ADR 0013).
//!
//! The rows an analytic reads change only when something is imported, ingested or
//! re-classified, so the same request, from a caller with the same data scope, on the same data
//! generation ([`Store::data_generation`]) has the same answer. A server attaches one
//! [`AnswerCache`] to each of its read connections ([`Store::attach`]); the analytics
//! (`scores`, `pareto`, `drivers`, `trends`, `repeats`, `issues`, `themes`, `flow`, `overview`)
//! then answer a repeated question from it, whatever surface asks (API, dashboard, report,
//! export). A store without a cache attached (the CLI: one question per process) computes every
//! answer, as before.
//!
//! - **Key**: the analytic, the whole request (its `Debug` text: every field, also those a
//!   query string cannot set) and the caller's scope. The generation is checked on every
//!   question, before anything is computed; when it has moved, every kept answer is dropped.
//! - **Single flight**: concurrent identical questions wait for the first one's answer instead
//!   of each computing it.
//! - **Not kept**: errors and answers flagged `partial` (an import was running), so they are
//!   computed again next time.
//! - **Bounded**: at most [`CacheLimits::max_entries`] answers and about
//!   [`CacheLimits::max_bytes`] of them (measured as their JSON length); the least recently used
//!   go first.
//! - **Warmed**: each kept answer remembers how to ask its question again. When the generation
//!   moves, the questions of the old one (the most recently used first, at most
//!   [`CacheLimits::max_warm`]) are kept aside, and [`AnswerCache::warm`] (which the server runs
//!   in the background once the data has stopped changing) asks them again on the new data, so
//!   the views people were looking at are ready before they ask. A warmed answer is computed
//!   exactly as an asked one: the same function, the same request and scope.

use std::any::Any;
use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use hearken_store::Store;
use serde::Serialize;

use crate::error::Result;
use crate::scope::Scope;

/// How much the cache may keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CacheLimits {
    /// Answers kept at most.
    pub max_entries: usize,
    /// Bytes kept at most, counted as the answers' JSON length (their size in memory is of the
    /// same order).
    pub max_bytes: usize,
    /// Questions of a past generation asked again by [`AnswerCache::warm`] at most.
    pub max_warm: usize,
}

impl Default for CacheLimits {
    fn default() -> CacheLimits {
        CacheLimits {
            max_entries: 1024,
            max_bytes: 64 << 20,
            max_warm: 64,
        }
    }
}

/// What the cache did so far (for tests, metrics and benchmarks).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CacheStats {
    /// Answers given from the cache (also to a question that waited for an identical one).
    pub hits: u64,
    /// Answers computed.
    pub computed: u64,
    /// Answers kept now, and their bytes.
    pub entries: u64,
    pub bytes: u64,
    /// Questions asked by [`AnswerCache::warm`] (each also counts as computed or as a hit).
    pub warmed: u64,
    /// The data generation the kept answers are of ("" before the first question).
    pub generation: String,
}

/// Asks a question again on a read connection of the same store (its answer then goes into the
/// cache attached to that connection). Built by each analytic for its own request and scope.
pub type Refresh = Arc<dyn Fn(&Store) + Send + Sync>;

/// What one [`AnswerCache::warm`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WarmReport {
    /// The generation warmed.
    pub generation: String,
    /// Questions of the past generation asked again.
    pub asked: usize,
    /// Whether it stopped early (the data changed again, or it was told to stop).
    pub interrupted: bool,
}

/// A response the cache can keep.
pub(crate) trait Answer: Clone + Serialize + Send + Sync + 'static {
    /// Whether an import was running while it was computed (then it is not kept).
    fn is_partial(&self) -> bool;
}

type Value = Arc<dyn Any + Send + Sync>;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    analytic: &'static str,
    request: String,
    scope: String,
}

struct Entry {
    /// Filled once by the question that computes it; `None` when that answer is not kept.
    slot: Arc<OnceLock<Option<Value>>>,
    bytes: usize,
    used: u64,
    /// Asks the question again (for [`AnswerCache::warm`]).
    refresh: Refresh,
}

#[derive(Default)]
struct Inner {
    generation: String,
    entries: HashMap<Key, Entry>,
    bytes: usize,
    tick: u64,
    /// The questions of the last generation that had answers, most recently used first: what
    /// the next [`AnswerCache::warm`] asks again.
    warm: Vec<Refresh>,
}

impl Inner {
    /// Moves to `generation`: every kept answer is dropped, and their questions are kept aside
    /// for warming, before those of earlier generations still waiting.
    fn roll_over(&mut self, generation: &str, max_warm: usize) {
        let mut asked: Vec<(u64, Refresh)> = self
            .entries
            .values()
            .filter(|e| matches!(e.slot.get(), Some(Some(_))))
            .map(|e| (e.used, Arc::clone(&e.refresh)))
            .collect();
        asked.sort_by_key(|a| std::cmp::Reverse(a.0));
        // Questions of earlier generations not yet asked again (a warming cut short) follow.
        let earlier = std::mem::take(&mut self.warm);
        self.warm = asked
            .into_iter()
            .map(|(_, r)| r)
            .chain(earlier)
            .take(max_warm)
            .collect();
        self.entries.clear();
        self.bytes = 0;
        self.generation = generation.to_string();
    }
}

/// Answers of the analytics per (request, scope, data generation); see the module docs.
pub struct AnswerCache {
    limits: CacheLimits,
    inner: Mutex<Inner>,
    hits: AtomicU64,
    computed: AtomicU64,
    warmed: AtomicU64,
}

impl Debug for AnswerCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AnswerCache")
            .field("limits", &self.limits)
            .field("stats", &self.stats())
            .finish()
    }
}

impl AnswerCache {
    pub fn new(limits: CacheLimits) -> AnswerCache {
        AnswerCache {
            limits,
            inner: Mutex::new(Inner::default()),
            hits: AtomicU64::new(0),
            computed: AtomicU64::new(0),
            warmed: AtomicU64::new(0),
        }
    }

    pub fn limits(&self) -> CacheLimits {
        self.limits
    }

    pub fn stats(&self) -> CacheStats {
        let inner = self.lock();
        CacheStats {
            hits: self.hits.load(Ordering::Relaxed),
            computed: self.computed.load(Ordering::Relaxed),
            entries: inner.entries.len() as u64,
            bytes: inner.bytes as u64,
            warmed: self.warmed.load(Ordering::Relaxed),
            generation: inner.generation.clone(),
        }
    }

    /// Asks again, on `store`'s data generation, the questions answered on the previous one
    /// (most recently used first, at most [`CacheLimits::max_warm`]), then `defaults` (the
    /// views to have ready even when nobody asked yet: the server's dashboard pages). Stops
    /// between two questions when the generation moves again or `keep_going` says no. The
    /// answers go where any asked answer goes; nothing else is kept.
    pub fn warm(
        &self,
        store: &Store,
        defaults: &dyn Fn(&Store),
        keep_going: &dyn Fn() -> bool,
    ) -> Result<WarmReport> {
        let generation = store.data_generation()?;
        let list = {
            let mut inner = self.lock();
            if inner.generation != generation {
                inner.roll_over(&generation, self.limits.max_warm);
            }
            std::mem::take(&mut inner.warm)
        };
        let mut report = WarmReport {
            generation: generation.clone(),
            ..WarmReport::default()
        };
        let still =
            || -> Result<bool> { Ok(keep_going() && store.data_generation()? == generation) };
        for (i, refresh) in list.iter().enumerate() {
            if !still()? {
                report.interrupted = true;
                // The questions not asked wait for the next warming.
                let mut inner = self.lock();
                let waiting = std::mem::take(&mut inner.warm);
                inner.warm = list[i..]
                    .iter()
                    .cloned()
                    .chain(waiting)
                    .take(self.limits.max_warm)
                    .collect();
                return Ok(report);
            }
            refresh(store);
            report.asked += 1;
            self.warmed.fetch_add(1, Ordering::Relaxed);
        }
        if !still()? {
            report.interrupted = true;
            return Ok(report);
        }
        defaults(store);
        Ok(report)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while the lock was held left the map consistent (every change is one
        // statement), so a poisoned lock is used as it is.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn answer<T: Answer>(
        &self,
        store: &Store,
        scope: &Scope,
        analytic: &'static str,
        request: &dyn Debug,
        compute: impl Fn() -> Result<T>,
        refresh: impl FnOnce() -> Refresh,
    ) -> Result<T> {
        let generation = store.data_generation()?;
        let key = Key {
            analytic,
            request: format!("{request:?}"),
            scope: format!("{scope:?}"),
        };
        let slot = {
            let mut inner = self.lock();
            if inner.generation != generation {
                inner.roll_over(&generation, self.limits.max_warm);
            }
            inner.tick += 1;
            let tick = inner.tick;
            let entry = inner.entries.entry(key.clone()).or_insert_with(|| Entry {
                slot: Arc::new(OnceLock::new()),
                bytes: 0,
                used: tick,
                refresh: refresh(),
            });
            entry.used = tick;
            Arc::clone(&entry.slot)
        };
        let mut mine: Option<Result<T>> = None;
        let kept = slot.get_or_init(|| {
            let answer = compute();
            let keep = match &answer {
                Ok(v) if !v.is_partial() => Some(Arc::new(v.clone()) as Value),
                _ => None,
            };
            mine = Some(answer);
            keep
        });
        if let Some(answer) = mine {
            self.computed.fetch_add(1, Ordering::Relaxed);
            let bytes = kept.as_ref().map(|_| match &answer {
                Ok(v) => json_len(v),
                Err(_) => 0,
            });
            self.settle(&generation, &key, &slot, bytes);
            return answer;
        }
        match kept.as_ref().and_then(|v| v.downcast_ref::<T>()) {
            Some(v) => {
                self.hits.fetch_add(1, Ordering::Relaxed);
                Ok(v.clone())
            }
            // The question this one waited for failed or was partial: ask it again.
            None => compute(),
        }
    }

    /// After computing: forgets an answer that is not kept, else counts its bytes and evicts
    /// the least recently used answers beyond the limits.
    fn settle(
        &self,
        generation: &str,
        key: &Key,
        slot: &Arc<OnceLock<Option<Value>>>,
        bytes: Option<usize>,
    ) {
        let mut inner = self.lock();
        if inner.generation != generation {
            return;
        }
        let ours = inner
            .entries
            .get(key)
            .is_some_and(|e| Arc::ptr_eq(&e.slot, slot));
        if !ours {
            return;
        }
        let Some(bytes) = bytes else {
            inner.entries.remove(key);
            return;
        };
        if let Some(e) = inner.entries.get_mut(key) {
            e.bytes = bytes;
        }
        inner.bytes += bytes;
        while inner.entries.len() > self.limits.max_entries || inner.bytes > self.limits.max_bytes {
            let oldest = inner
                .entries
                .iter()
                .filter(|(_, e)| e.slot.get().is_some())
                .min_by_key(|(_, e)| e.used)
                .map(|(k, _)| k.clone());
            let Some(oldest) = oldest else { break };
            if let Some(e) = inner.entries.remove(&oldest) {
                inner.bytes = inner.bytes.saturating_sub(e.bytes);
            }
        }
    }
}

/// The answer from the cache attached to `store`, else computed. `refresh` asks the same
/// question again (`again(scope, req, analytic_fn)`), for warming.
pub(crate) fn answer<T: Answer>(
    store: &dyn hearken_store::FrameSource,
    scope: &Scope,
    analytic: &'static str,
    request: &dyn Debug,
    compute: impl Fn() -> Result<T>,
    refresh: impl FnOnce() -> Refresh,
) -> Result<T> {
    match store
        .embedded()
        .and_then(|s| s.attached::<AnswerCache>().map(|c| (s, c)))
    {
        Some((store, cache)) => cache.answer(store, scope, analytic, request, compute, refresh),
        None => compute(),
    }
}

/// A [`Refresh`] asking `f(store, scope, req)` again; its answer (or error) goes where asked
/// answers go.
pub(crate) fn again<R, T>(scope: &Scope, req: &R, f: fn(&Store, &Scope, &R) -> Result<T>) -> Refresh
where
    R: Clone + Send + Sync + 'static,
    T: 'static,
{
    let (scope, req) = (scope.clone(), req.clone());
    Arc::new(move |store: &Store| {
        let _ = f(store, &scope, &req);
    })
}

/// The length of `v`'s JSON, without building it.
fn json_len<T: Serialize>(v: &T) -> usize {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0);
    // Serialising the query layer's answers cannot fail (no maps with non-string keys); were it
    // to, the answer counts as the bytes written so far.
    let _ = serde_json::to_writer(&mut c, v);
    c.0
}

macro_rules! answers {
    ($($t:ty),+ $(,)?) => {
        $(impl Answer for $t {
            fn is_partial(&self) -> bool {
                self.partial.is_some()
            }
        })+
    };
}

answers!(
    crate::pareto::ParetoResponse,
    crate::drivers::DriversResponse,
    crate::trends::TrendsResponse,
    crate::repeats::RepeatsResponse,
    crate::issues::IssuesResponse,
    crate::themes::ThemesResponse,
    crate::flow::FlowResponse,
    crate::overview::OverviewResponse,
);

impl Answer for crate::scores::ScoresResponse {
    fn is_partial(&self) -> bool {
        use crate::scores::ScoresResponse as R;
        match self {
            R::Overall(o) => o.partial.is_some(),
            R::Groups(g) => g.partial.is_some(),
            R::Change(c) => c.partial.is_some(),
        }
    }
}

/// Every analytic asked with its default request (no parameter) for the whole organisation:
/// what an API client asking `GET /api/v1/scores` and the like gets. For [`AnswerCache::warm`]'s
/// defaults; errors (an empty store) are the answers' business, not the warming's.
pub fn warm_defaults(store: &Store) {
    let all = Scope::all();
    let _ = crate::scores(store, &all, &crate::ScoresRequest::default());
    let _ = crate::pareto(store, &all, &crate::ParetoRequest::default());
    let _ = crate::trends(store, &all, &crate::TrendsRequest::default());
    let _ = crate::drivers(store, &all, &crate::DriversRequest::default());
    let _ = crate::repeats(store, &all, &crate::RepeatsRequest::default());
    let _ = crate::issues(store, &all, &crate::IssuesRequest::default());
    let _ = crate::overview(store, &all);
    let _ = crate::themes(store, &all, &crate::themes::ThemesRequest::default());
    let _ = crate::flow(store, &all, &crate::FlowRequest::default());
}
