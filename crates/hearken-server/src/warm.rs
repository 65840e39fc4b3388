//! Warming the answer cache (ADR 0013, "Warming"): once the store's data generation has stayed
//! the same for `answer_cache_warm_secs`, the questions answered on the previous generation,
//! every analytic's default answer and the dashboard's default pages are asked again on one read connection, in the background, so
//! that the first person to open a view after an import does not wait for it.
//!
//! One warming at a time, on one read connection (the others keep serving requests); it stops
//! between two questions when the data changes again or the server stops. Under continuous
//! ingestion the data never rests, so nothing is warmed (each answer would be stale at once).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::error::AppError;
use crate::state::Db;

/// How often the data generation is looked at.
const POLL: Duration = Duration::from_secs(1);

/// What is computed even when nobody asked yet: every analytic's default answer (what the API
/// gives without parameters), then the dashboard's default pages and last week's report.
fn defaults(store: &hearken_store::Store) {
    hearken_query::warm_defaults(store);
    hearken_web::warm(store);
}

/// Runs until `stop` is set: see the module docs.
pub(crate) async fn run(db: Db, quiet: Duration, stop: Arc<AtomicBool>) {
    let Some(cache) = db.answers.clone() else {
        return;
    };
    // The generation last seen and since when; the generation last warmed.
    let mut seen: Option<(String, Instant)> = None;
    let mut warmed: Option<String> = None;
    loop {
        tokio::time::sleep(POLL).await;
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let generation = match db
            .read
            .run(|s| s.data_generation().map_err(AppError::from))
            .await
        {
            Ok(g) => g,
            Err(e) => {
                tracing::warn!(error = %e.message, "warming: cannot read the data generation");
                continue;
            }
        };
        let settled = match &seen {
            Some((g, since)) if *g == generation => since.elapsed() >= quiet,
            _ => {
                seen = Some((generation.clone(), Instant::now()));
                false
            }
        };
        if !settled || warmed.as_deref() == Some(generation.as_str()) {
            continue;
        }
        let (c, s) = (Arc::clone(&cache), Arc::clone(&stop));
        let started = Instant::now();
        let done = db
            .read
            .run(move |store| {
                c.warm(store, &defaults, &|| !s.load(Ordering::Relaxed))
                    .map_err(AppError::from)
            })
            .await;
        match done {
            Ok(report) if report.interrupted => {
                tracing::info!(
                    asked = report.asked,
                    ms = started.elapsed().as_millis() as u64,
                    "warming stopped: the data changed again"
                );
            }
            Ok(report) => {
                tracing::info!(
                    asked = report.asked,
                    ms = started.elapsed().as_millis() as u64,
                    generation = %report.generation,
                    "answer cache warmed"
                );
                warmed = Some(report.generation);
            }
            Err(e) => {
                // Not tried again on the same data: the next change brings the next attempt.
                tracing::warn!(error = %e.message, "warming failed");
                warmed = Some(generation);
            }
        }
    }
}
