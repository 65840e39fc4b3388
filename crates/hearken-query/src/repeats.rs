//! Repeat (avoidable) contacts: the same customer raising the same topic again within N days.

use hearken_engine::repeats::{
    ContactColumns, RepeatGroup, RepeatOptions, RepeatPartials, repeat_partials,
    repeats_from_partials as engine_repeats,
};
use hearken_engine::{Dict, Level, Quality};
use hearken_store::{FrameSource, SignalColumns};
use serde::Serialize;

use crate::error::{QueryError, Result};
use crate::meta::{PartialNote, partial};
use crate::names::names;
use crate::request::{By, request};
use crate::scope::Scope;
use crate::select;
use crate::trends::{without_topic, without_topic_note};

request! {
    /// Repeat contacts: same customer, same topic within `days`.
    pub struct RepeatsRequest {
        /// A contact is a repeat when the same customer raised the same topic within this many
        /// days (1 to 365).
        #[cfg_attr(feature = "utoipa", param(minimum = 1, maximum = 365))]
        pub days: u32 = 7,
        /// Cost of handling one contact, to put a price on avoidable contacts.
        #[cfg_attr(feature = "utoipa", param(minimum = 0))]
        pub cost_per_contact: Option<f64> = None,
        /// Confidence level of the interval, a fraction in (0, 1).
        #[cfg_attr(feature = "utoipa", param(exclusive_minimum = 0, exclusive_maximum = 1))]
        pub level: f64 = 0.9,
    }
}

/// Longest repeat window, in days.
pub const MAX_DAYS: u32 = 365;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct RepeatsResponse {
    pub window_days: u32,
    /// All contacts in the selection.
    pub contacts: u64,
    /// Contacts with a customer and a topic: the ones that can be repeats.
    pub eligible: u64,
    pub repeats: u64,
    /// `repeats / eligible`, with its interval.
    pub rate: Option<f64>,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub level: f64,
    /// `repeats x cost_per_contact`.
    pub cost: Option<f64>,
    pub cost_per_contact: Option<f64>,
    /// Largest number of repeats first.
    pub by_topic: Vec<RepeatShare>,
    /// Largest number of repeats first; products with their display names.
    pub by_product: Vec<RepeatShare>,
    #[cfg_attr(feature = "utoipa", schema(value_type = Object))]
    #[serde(flatten)]
    pub quality: Quality,
    pub notes: Vec<String>,
    pub partial: Option<PartialNote>,
}

/// Repeat contacts of one topic or product.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct RepeatShare {
    pub group: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub eligible: u64,
    pub repeats: u64,
    pub rate: Option<f64>,
    pub cost: Option<f64>,
}

fn share(g: RepeatGroup, name: Option<String>) -> RepeatShare {
    RepeatShare {
        group: g.group,
        name,
        eligible: g.eligible,
        repeats: g.repeats,
        rate: g.rate,
        cost: g.cost,
    }
}

pub fn repeats(
    store: &dyn FrameSource,
    scope: &Scope,
    req: &RepeatsRequest,
) -> Result<RepeatsResponse> {
    crate::cache::answer(
        store,
        scope,
        "repeats",
        req,
        || compute(store, scope, req),
        || crate::cache::again(scope, req, |s, sc, r| repeats(s, sc, r)),
    )
}

/// [`repeats`] computed (not from the answer cache): the embedded partials, then the answer.
fn compute(
    store: &dyn FrameSource,
    scope: &Scope,
    req: &RepeatsRequest,
) -> Result<RepeatsResponse> {
    let partials = repeats_partials(store, scope, req)?;
    repeats_from_partials(store, scope, req, partials)
}

/// The partial aggregates of a repeats request, with the dictionaries naming their codes.
#[derive(Debug, Clone, PartialEq)]
pub struct RepeatsPartials {
    /// The topics' dictionary (codes of `tallies.by_topic`).
    pub topics: Dict,
    /// The products' dictionary (codes of `tallies.by_product`).
    pub products: Dict,
    /// Contacts, and eligible contacts and repeats per topic and per product.
    pub tallies: RepeatPartials,
    /// Signals in the selection without a topic.
    pub without_topic: u64,
}

/// Checks a repeats request (any engine checks it first) and gives its interval's level.
pub fn check(req: &RepeatsRequest) -> Result<Level> {
    if !(1..=MAX_DAYS).contains(&req.days) {
        return Err(QueryError::OutOfRange {
            field: "days",
            value: req.days.to_string(),
            allowed: format!("give 1 to {MAX_DAYS} days"),
        });
    }
    if let Some(c) = req.cost_per_contact
        && !(c.is_finite() && c >= 0.0)
    {
        return Err(QueryError::OutOfRange {
            field: "cost_per_contact",
            value: c.to_string(),
            allowed: "give a non-negative amount".into(),
        });
    }
    Ok(Level::new(req.level)?)
}

/// The partial aggregates of a repeats request from the store's snapshot: the engine's scan of
/// the selected signals in row (import) order, so contacts at the same second count the later
/// row as the repeat.
pub fn repeats_partials(
    store: &dyn FrameSource,
    scope: &Scope,
    req: &RepeatsRequest,
) -> Result<RepeatsPartials> {
    check(req)?;
    let select::Signals { frame: f, .. } = select::signals(
        store,
        scope,
        &req.filters(),
        None,
        SignalColumns {
            at: true,
            customer: true,
            topic: true,
            product: true,
            product_names: true,
            ..SignalColumns::default()
        },
        false,
    )?;
    let without_topic = without_topic(&f.topic, f.topics.len());
    let tallies = repeat_partials(&ContactColumns::of(&f), req.days)?;
    Ok(RepeatsPartials {
        topics: f.topics,
        products: f.products,
        tallies,
        without_topic,
    })
}

/// The answer to a repeats request built from its partial aggregates, wherever they were
/// computed (the embedded path and the Spark engine both come here).
pub fn repeats_from_partials(
    store: &dyn FrameSource,
    scope: &Scope,
    req: &RepeatsRequest,
    p: RepeatsPartials,
) -> Result<RepeatsResponse> {
    let level = check(req)?;
    let signals = p.tallies.contacts;
    let without = p.without_topic;
    if signals > 0 && without == signals {
        return Err(QueryError::NoTopics {
            signals,
            analytic: "repeats",
        });
    }
    let r = engine_repeats(
        &p.tallies,
        &p.topics,
        &p.products,
        &RepeatOptions {
            window_days: req.days,
            cost_per_contact: req.cost_per_contact,
            level,
            ..RepeatOptions::default()
        },
    )?;
    let product_ids: Vec<&str> = r.by_product.iter().map(|g| g.group.as_str()).collect();
    let product_names = names(store, By::Product, &product_ids)?;
    Ok(RepeatsResponse {
        window_days: r.window_days,
        contacts: r.contacts,
        eligible: r.eligible,
        repeats: r.repeats,
        rate: r.rate,
        low: r.low,
        high: r.high,
        level: r.level,
        cost: r.cost,
        cost_per_contact: req.cost_per_contact,
        by_topic: r.by_topic.into_iter().map(|g| share(g, None)).collect(),
        by_product: r
            .by_product
            .into_iter()
            .zip(product_names)
            .map(|(g, n)| share(g, n))
            .collect(),
        quality: r.quality,
        notes: without_topic_note(without, signals),
        partial: partial(store, scope)?,
    })
}
