//! The dashboard's pages over a store that must not be written (benches/web/run.sh).
//!
//! `bench_serve STORE ADDR TOKEN` (TOKEN: `hk_` and 64 hex digits, as the sign-in form asks): serves `hearken_web::router` on ADDR with a [`Backend`] that
//! reads STORE through `Store::open_existing` (read-only and immutable when the file or its
//! directory is not writable: the script puts a link to the store in a read-only directory) and
//! signs in one fixed TOKEN as an admin with the whole store in scope. The pages, their queries
//! and templates are the server's; only the token lookup (one indexed row) differs, so a store
//! without tokens (the 10M-signal benchmark store) can be measured without writing to it.
//! Prints `listening on http://ADDR` once ready.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use hearken_store::{Role, Scope, Store};
use hearken_web::{Backend, Principal, Refusal, Signed};

#[derive(Clone)]
struct Bench {
    path: Arc<PathBuf>,
    token: Arc<String>,
    idle: Arc<Mutex<Vec<Store>>>,
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
        F: FnOnce(&Store) -> T + Send + 'static,
    {
        let db = db.clone();
        tokio::task::spawn_blocking(move || {
            let idle = db.idle.lock().unwrap_or_else(PoisonError::into_inner).pop();
            let store = match idle {
                Some(s) => s,
                None => Store::open_existing(&db.path)
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
    let first = Store::open_existing(std::path::Path::new(path))?;
    let state = Bench {
        path: Arc::new(PathBuf::from(path)),
        token: Arc::new(token.clone()),
        idle: Arc::new(Mutex::new(vec![first])),
    };
    let app = hearken_web::router::<Bench>().with_state(state);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}
