//! Pareto: how concentrated the contacts are on a few customers, products, topics, channels ...

use hearken_engine::pareto::{EntityCounts, ParetoOptions, pareto as engine_pareto};
use hearken_engine::{Dict, Quality};
use hearken_store::{FrameSource, SignalColumns};
use serde::Serialize;

use crate::error::{QueryError, Result};
use crate::meta::{PartialNote, partial};
use crate::names::names;
use crate::request::{By, request};
use crate::scope::Scope;
use crate::select::{self, KeyColumns};

request! {
    /// Which few entities cause most of the contacts.
    pub struct ParetoRequest {
        /// Whose contacts.
        pub by: By = By::Customer,
        /// How many of the largest to list.
        #[cfg_attr(feature = "utoipa", param(maximum = 100_000))]
        pub top: usize = 10,
    }
}

/// The groupings Pareto accepts: entities and categories, not periods or tenures.
pub const PARETO_BY: &[By] = By::ENTITIES;

/// Most contacts a listing of the largest entities returns.
pub const MAX_TOP: usize = 100_000;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct ParetoResponse {
    pub by: By,
    /// Entities with at least one contact.
    pub entities: u64,
    /// Contacts attributed to an entity.
    pub contacts: u64,
    /// How many entities are the top 20%.
    pub top20_entities: u64,
    /// Share of the contacts from the top 20% of entities.
    pub top20_share: Option<f64>,
    /// Fewest entities that cover 80% of the contacts.
    pub k80: Option<u64>,
    /// `k80` as a fraction of the entities.
    pub k80_fraction: Option<f64>,
    pub gini: Option<f64>,
    /// Points of the Lorenz curve: (share of entities, share of contacts), smallest first.
    pub lorenz: Vec<[f64; 2]>,
    /// The largest entities, largest first.
    pub top: Vec<TopEntity>,
    /// Contacts without a value for `by` (left out of the figures above).
    pub unattributed: u64,
    #[cfg_attr(feature = "utoipa", schema(value_type = Object))]
    #[serde(flatten)]
    pub quality: Quality,
    pub notes: Vec<String>,
    pub partial: Option<PartialNote>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct TopEntity {
    /// The entity: an id for customers, products and agents, else the value.
    pub entity: String,
    /// Its display name, when the store has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub contacts: u64,
    pub share: f64,
    pub cumulative_share: f64,
}

pub fn pareto(
    store: &dyn FrameSource,
    scope: &Scope,
    req: &ParetoRequest,
) -> Result<ParetoResponse> {
    crate::cache::answer(
        store,
        scope,
        "pareto",
        req,
        || compute(store, scope, req),
        || crate::cache::again(scope, req, |s, sc, r| pareto(s, sc, r)),
    )
}

/// [`pareto`] computed (not from the answer cache).
fn compute(store: &dyn FrameSource, scope: &Scope, req: &ParetoRequest) -> Result<ParetoResponse> {
    check(req)?;
    let (dict, counts) = pareto_partials(store, scope, req)?;
    pareto_from_partials(store, scope, req, &dict, &counts)
}

/// Checks a Pareto request (any engine checks it first).
pub fn check(req: &ParetoRequest) -> Result<()> {
    if !PARETO_BY.contains(&req.by) {
        return Err(QueryError::UnsupportedGroup {
            by: req.by,
            reason: "is not an entity whose contacts can be counted".into(),
            accepted: PARETO_BY.to_vec(),
        });
    }
    if req.top > MAX_TOP {
        return Err(QueryError::OutOfRange {
            field: "top",
            value: req.top.to_string(),
            allowed: format!("list at most {MAX_TOP}"),
        });
    }
    Ok(())
}

/// The partial aggregate of a Pareto request from the store's snapshot: contacts per entity
/// code of `by`'s dictionary (returned beside it), and the contacts without one.
pub fn pareto_partials(
    store: &dyn FrameSource,
    scope: &Scope,
    req: &ParetoRequest,
) -> Result<(Dict, EntityCounts)> {
    check(req)?;
    let select::Signals {
        frame: f,
        customers,
        agents,
    } = select::signals(
        store,
        scope,
        &req.filters(),
        Some(req.by),
        SignalColumns::default(),
        false,
    )?;
    let key = select::key(req.by, &KeyColumns::of_signals(&f), &customers, &agents)?;
    let counts = EntityCounts::from_codes(&key.codes, key.dict.len(), 0..key.codes.len());
    Ok((key.dict.into_owned(), counts))
}

/// The answer to a Pareto request built from its partial aggregate, wherever it was computed
/// (the embedded path and the Spark engine both come here).
pub fn pareto_from_partials(
    store: &dyn FrameSource,
    scope: &Scope,
    req: &ParetoRequest,
    dict: &Dict,
    counts: &EntityCounts,
) -> Result<ParetoResponse> {
    check(req)?;
    let p = engine_pareto(
        counts,
        dict,
        &ParetoOptions {
            top: req.top,
            ..ParetoOptions::default()
        },
    );
    let ids: Vec<&str> = p.top.iter().map(|t| t.entity.as_str()).collect();
    let display = names(store, req.by, &ids)?;
    let top = p
        .top
        .iter()
        .zip(display)
        .map(|(t, name)| TopEntity {
            entity: t.entity.clone(),
            name,
            contacts: t.contacts,
            share: t.share,
            cumulative_share: t.cumulative_share,
        })
        .collect();
    Ok(ParetoResponse {
        by: req.by,
        entities: p.entities,
        contacts: p.contacts,
        top20_entities: p.top20_entities,
        top20_share: p.top20_share,
        k80: p.k80,
        k80_fraction: p.k80_fraction,
        gini: p.gini,
        lorenz: p.lorenz,
        top,
        unattributed: p.unattributed,
        quality: p.quality,
        notes: Vec::new(),
        partial: partial(store, scope)?,
    })
}
