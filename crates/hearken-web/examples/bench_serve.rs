//! The dashboard's pages over a store that must not be written (benches/web/run.sh).
//!
//! `bench_serve STORE ADDR TOKEN` (TOKEN: `hk_` and 64 hex digits, as the sign-in form asks): serves `hearken_web::router` on ADDR with a [`Backend`] that
//! reads STORE through `Store::open_existing` (read-only and immutable when the file or its
//! directory is not writable: the script puts a link to the store in a read-only directory) and
//! signs in one fixed TOKEN as an admin with the whole store in scope. The pages, their queries
//! and templates are the server's; only the token lookup (one indexed row) differs, so a store
//! without tokens (the 10M-signal benchmark store) can be measured without writing to it.
//! Prints `listening on http://ADDR` once ready.
//!
//! Every store it opens carries one answer cache (ADR 0013), as the server's read connections
//! do with the default settings; `HEARKEN_BENCH_NO_CACHE=1` leaves it out (every page computes
//! its answers, as before the cache); `HEARKEN_BENCH_WARM=1` warms it before listening, as the
//! server does once the data has rested.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use hearken_store::{Role, Scope, Store};
use hearken_web::{Backend, Principal, Refusal, Signed};

#[derive(Clone)]
struct Bench {
    path: Arc<PathBuf>,
    token: Arc<String>,
    idle: Arc<Mutex<Vec<Store>>>,
    answers: Option<Arc<dyn std::any::Any + Send + Sync>>,
}

impl Bench {
    fn open(&self) -> Result<Store, hearken_store::StoreError> {
        let mut store = Store::open_existing(&self.path)?;
        if let Some(a) = &self.answers {
            store.attach(Arc::clone(a));
        }
        Ok(store)
    }
}

fn refused(code: &str, message: String) -> Refusal {
    Refusal {
        code: code.into(),
        status: 500,
        message,
    }
}

impl Backend for Bench {
    type Db = Bench;

    async fn authenticate(&self, token: String) -> Result<Signed<Bench>, Refusal> {
        if token != *self.token {
            return Err(Refusal {
                code: "invalid_token".into(),
                status: 401,
                message: "not the benchmark's token".into(),
            });
        }
        Ok(Signed {
            principal: Principal {
                name: "bench".into(),
                role: Role::Admin,
                scope: Scope::default(),
            },
            db: self.clone(),
        })
    }

    async fn read<T, F>(db: &Bench, f: F) -> Result<T, Refusal>
    where
        T: Send + 'static,
        F: FnOnce(&dyn hearken_store::TeamStore) -> T + Send + 'static,
    {
        let db = db.clone();
        tokio::task::spawn_blocking(move || {
            let idle = db.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
            let store = match idle {
                Some(s) => s,
                None => db
                    .open()
                    .map_err(|e| refused("unavailable", e.to_string()))?,
            };
            let out = f(&store);
            db.idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(store);
            Ok(out)
        })
        .await
        .map_err(|e| refused("internal", e.to_string()))?
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let (Some(path), Some(addr), Some(token)) = (args.get(1), args.get(2), args.get(3)) else {
        return Err("usage: bench_serve STORE ADDR TOKEN".into());
    };
    // Open once at start: a bad path fails now, not on the first page.
    let cache = match std::env::var("HEARKEN_BENCH_NO_CACHE").as_deref() {
        Ok("1") => None,
        _ => Some(Arc::new(hearken_query::AnswerCache::new(
            hearken_query::CacheLimits::default(),
        ))),
    };
    let answers = cache
        .clone()
        .map(|c| c as Arc<dyn std::any::Any + Send + Sync>);
    let mut state = Bench {
        path: Arc::new(PathBuf::from(path)),
        token: Arc::new(token.clone()),
        idle: Arc::new(Mutex::new(Vec::new())),
        answers,
    };
    let first = state.open()?;
    // HEARKEN_BENCH_WARM=1: what `hearken serve` does once the data has rested
    // (`answer_cache_warm_secs`, ADR 0013): the default pages computed before anyone asks.
    if let (Some(cache), Ok("1")) = (&cache, std::env::var("HEARKEN_BENCH_WARM").as_deref()) {
        let started = std::time::Instant::now();
        cache.warm(&first, &hearken_web::warm, &|| true)?;
        eprintln!(
            "warmed in {:.2} s: {:?}",
            started.elapsed().as_secs_f64(),
            cache.stats()
        );
    }
    state.idle = Arc::new(Mutex::new(vec![first]));
    let app = hearken_web::router::<Bench>().with_state(state);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
