//! The overview of a store (what `hearken demo` prints at the end): signals per channel and per
//! kind, how concentrated contacts are on customers and products, NPS, and the quarantine.
//! Every figure comes from the analytic that computes it (`pareto`, `scores`, `status`).

use hearken_engine::scores::Nps;
use hearken_store::FrameSource;
use serde::Serialize;

use crate::error::{QueryError, Result};
use crate::meta::{PartialNote, partial};
use crate::pareto::{MAX_TOP, ParetoRequest, ParetoResponse, pareto};
use crate::request::By;
use crate::scope::Scope;
use crate::scores::{Estimate, ScoresRequest, ScoresResponse, scores};
use crate::status::status;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OverviewResponse {
    pub signals: u64,
    /// Signals per channel, most first: `[name, signals]`.
    pub by_channel: Vec<(String, u64)>,
    /// Signals per kind, most first.
    pub by_kind: Vec<(String, u64)>,
    /// Share of contacts from the top 20% of customers (products), and how many customers
    /// (products) cover 80% of them.
    pub customers_top20_share: Option<f64>,
    pub products_top20_share: Option<f64>,
    pub customers_k80: Option<u64>,
    pub products_k80: Option<u64>,
    /// NPS of all survey responses, with its 90% interval.
    pub nps: Nps,
    /// Open quarantine entries (`null` for a caller with a data scope).
    pub quarantined: Option<i64>,
    pub notes: Vec<String>,
    pub partial: Option<PartialNote>,
}

fn counts(p: &ParetoResponse) -> Vec<(String, u64)> {
    p.top
        .iter()
        .map(|t| (t.entity.clone(), t.contacts))
        .collect()
}

/// The overview, within the scope.
pub fn overview(store: &dyn FrameSource, scope: &Scope) -> Result<OverviewResponse> {
    crate::cache::answer(
        store,
        scope,
        "overview",
        &(),
        || compute(store, scope),
        || crate::cache::again(scope, &(), |s, sc, _| overview(s, sc)),
    )
}

/// [`overview`] computed (not from the answer cache).
fn compute(store: &dyn FrameSource, scope: &Scope) -> Result<OverviewResponse> {
    let by = |by: By, top: usize| {
        pareto(
            store,
            scope,
            &ParetoRequest {
                by,
                top,
                ..ParetoRequest::default()
            },
        )
    };
    let channels = by(By::Channel, MAX_TOP)?;
    let kinds = by(By::Kind, MAX_TOP)?;
    let customers = by(By::Customer, 0)?;
    let products = by(By::Product, 0)?;
    let nps = match scores(store, scope, &ScoresRequest::default())? {
        ScoresResponse::Overall(o) => match o.estimate {
            Estimate::Nps(n) => n,
            other => {
                return Err(QueryError::Refused(format!(
                    "scores answered {other:?} for NPS"
                )));
            }
        },
        other => {
            return Err(QueryError::Refused(format!(
                "scores answered {other:?} for the overall NPS"
            )));
        }
    };
    Ok(OverviewResponse {
        signals: channels.contacts + channels.unattributed,
        by_channel: counts(&channels),
        by_kind: counts(&kinds),
        customers_top20_share: customers.top20_share,
        products_top20_share: products.top20_share,
        customers_k80: customers.k80,
        products_k80: products.k80,
        nps,
        quarantined: status(store, scope)?.quarantined,
        notes: Vec::new(),
        partial: partial(store, scope)?,
    })
}
