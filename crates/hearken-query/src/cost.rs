//! The cost of quality (issue 13): money per category (prevention, appraisal, internal and
//! external failure), per topic and per product over a window, and the cost of avoidable
//! (repeat) contacts, from the `[cost]` mapping of `hearken.toml`.
//!
//! The mapping is not something an API caller writes: the surface (the CLI from its
//! configuration, the server from the configuration it was started with) puts it in the
//! request's `mapping` field, which is never read from a query string. Without a mapping the
//! request is refused with a hint to add one. A mapping naming a topic or case activity the data
//! does not have, or a negative cost, is refused with the key and what to do.

use std::collections::{BTreeSet, HashMap};

use hearken_engine::NONE;
pub use hearken_engine::cost::CostConfig;
use hearken_engine::cost::{CaseActivities, CostError, CostReport, cost_of_quality};
use hearken_model::Timestamp;
use hearken_store::{FrameSource, SignalColumns, Window};
use serde::{Deserialize, Serialize};

use crate::error::{QueryError, Result};
use crate::meta::{PartialNote, partial};
use crate::names::names;
use crate::request::{By, Filters};
use crate::scope::Scope;
use crate::select;

const DAY: i64 = 86_400;

/// Which breakdown a cost answer lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum CostBy {
    Topic,
    Product,
}

/// The cost of quality over a window.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, Default)]
#[cfg_attr(feature = "utoipa", derive(utoipa::IntoParams, utoipa::ToSchema))]
#[cfg_attr(feature = "utoipa", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields, default)]
pub struct CostRequest {
    /// Only signals and case events at or after this date (default: the first signal's day).
    pub from: Option<String>,
    /// Only before this date (default: the day after the last signal).
    pub to: Option<String>,
    /// List the cost per `topic` or per `product` only (default: both).
    pub by: Option<CostBy>,
    /// The `[cost]` mapping of the configuration; set by the CLI or the server, never by a
    /// caller.
    #[serde(skip)]
    pub mapping: Option<CostConfig>,
}

/// A topic's or product's cost, with the product's display name.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct CostGroup {
    pub group: String,
    pub name: Option<String>,
    pub amount: f64,
    pub prevention: f64,
    pub appraisal: f64,
    pub internal_failure: f64,
    pub external_failure: f64,
    pub signals: u64,
    pub events: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct CostResponse {
    /// The window, `[from, to)`.
    pub from: String,
    pub to: String,
    pub days: f64,
    pub currency: Option<String>,
    pub total: f64,
    /// Per category of the cost of quality.
    #[cfg_attr(feature = "utoipa", schema(value_type = Vec<Object>))]
    pub by_category: Vec<hearken_engine::cost::CategoryCost>,
    /// Largest amount first (empty with `by` product).
    pub by_topic: Vec<CostGroup>,
    /// Largest amount first (empty with `by` topic).
    pub by_product: Vec<CostGroup>,
    #[cfg_attr(feature = "utoipa", schema(value_type = Vec<Object>))]
    pub fixed: Vec<hearken_engine::cost::FixedLine>,
    /// The cost of avoidable (repeat) contacts.
    #[cfg_attr(feature = "utoipa", schema(value_type = Object))]
    pub avoidable: hearken_engine::cost::Avoidable,
    pub unpriced_signals: u64,
    pub unpriced_events: u64,
    pub notes: Vec<String>,
    pub partial: Option<PartialNote>,
}

/// The hint of a cost mapping mistake.
pub const MAPPING_HINT: &str = "fix the [cost] section of hearken.toml";

fn mapping_error(e: CostError) -> QueryError {
    QueryError::Conflict {
        // Backticks in a message mark request fields (the CLI shows them as flags); the mapping's
        // names are not fields.
        message: format!("cost mapping: {}", e.to_string().replace('`', "'")),
        hint: MAPPING_HINT.into(),
    }
}

fn group(g: hearken_engine::cost::GroupCost, name: Option<String>) -> CostGroup {
    let [prevention, appraisal, internal_failure, external_failure] = g.by_category.0;
    CostGroup {
        group: g.group,
        name,
        amount: g.amount,
        prevention,
        appraisal,
        internal_failure,
        external_failure,
        signals: g.signals,
        events: g.events,
    }
}

fn date(t: i64) -> String {
    Timestamp::from_unix(t).date_string()
}

pub fn cost(store: &dyn FrameSource, scope: &Scope, req: &CostRequest) -> Result<CostResponse> {
    let Some(mapping) = &req.mapping else {
        return Err(QueryError::NoData {
            message: "no cost mapping: the cost of quality needs unit costs per topic, kind or case activity".into(),
            hint: "add a [cost] section to hearken.toml (see README, \"Cost of quality\")".into(),
        });
    };
    mapping.check_amounts().map_err(mapping_error)?;
    let window = select::window_between(req.from.as_deref(), req.to.as_deref(), ("from", "to"))?;
    // Every signal is read (repeats need the contacts before the window); the window is applied
    // by the engine.
    let s = select::signals(
        store,
        scope,
        &Filters::default(),
        None,
        SignalColumns {
            at: true,
            customer: true,
            kind: true,
            topic: true,
            product: true,
            case: true,
            product_names: true,
            case_names: true,
            ..SignalColumns::default()
        },
        false,
    )?;
    let f = s.frame;
    let (first, last) = match (f.at.iter().min(), f.at.iter().max()) {
        (Some(&a), Some(&b)) => (a, b),
        _ => {
            return Err(QueryError::NoData {
                message: "no signals to cost".into(),
                hint: "import signals first (`hearken import FILE --kind signals`)".into(),
            });
        }
    };
    let from = window.from.unwrap_or(first.div_euclid(DAY) * DAY);
    let to = window.to.unwrap_or(last.div_euclid(DAY) * DAY + DAY);
    if to <= from {
        return Err(QueryError::EmptyWindow {
            from: "from",
            to: "to",
        });
    }

    // Case events, by the frame's case codes; a scoped caller's are those of its cases.
    let events = store.case_event_rows(&Window::default())?;
    let case_code: HashMap<&str, u32> = f
        .cases
        .names
        .iter()
        .enumerate()
        .map(|(i, n)| (n.as_str(), i as u32))
        .collect();
    let scoped_cases: Option<Vec<bool>> = scope.is_limited().then(|| {
        let mut seen = vec![false; f.cases.len()];
        for &c in &f.case {
            if c != NONE && (c as usize) < seen.len() {
                seen[c as usize] = true;
            }
        }
        seen
    });
    let mut activities = CaseActivities::default();
    let mut activity_code: HashMap<&str, u32> = HashMap::new();
    let mut known_activities = BTreeSet::new();
    for i in 0..events.case.len() {
        let name = events.activity[i].as_str();
        let code = case_code.get(events.case[i].as_str()).copied();
        let in_scope = match (&scoped_cases, code) {
            (None, _) => true,
            (Some(seen), Some(c)) => seen.get(c as usize).copied().unwrap_or(false),
            (Some(_), None) => false,
        };
        if !in_scope {
            continue;
        }
        known_activities.insert(name.to_string());
        let a = *activity_code.entry(name).or_insert_with(|| {
            activities.activities.names.push(name.to_string());
            (activities.activities.names.len() - 1) as u32
        });
        activities.case.push(code.unwrap_or(NONE));
        activities.at.push(events.at[i]);
        activities.activity.push(a);
    }
    let known_activities: Vec<String> = known_activities.into_iter().collect();
    mapping
        .validate(&f.topics.names, Some(&known_activities))
        .map_err(mapping_error)?;
    let r: CostReport =
        cost_of_quality(mapping, &f, &activities, from, to).map_err(|e| match e {
            CostError::Window { .. } => QueryError::EmptyWindow {
                from: "from",
                to: "to",
            },
            other => mapping_error(other),
        })?;
    let product_ids: Vec<&str> = r.by_product.iter().map(|g| g.group.as_str()).collect();
    let product_names = names(store, By::Product, &product_ids)?;
    let (by_topic, by_product) = (
        r.by_topic.into_iter().map(|g| group(g, None)).collect(),
        r.by_product
            .into_iter()
            .zip(product_names)
            .map(|(g, n)| group(g, n))
            .collect(),
    );
    Ok(CostResponse {
        from: date(r.from),
        to: date(r.to),
        days: r.days,
        currency: r.currency,
        total: r.total,
        by_category: r.by_category,
        by_topic: if req.by == Some(CostBy::Product) {
            Vec::new()
        } else {
            by_topic
        },
        by_product: if req.by == Some(CostBy::Topic) {
            Vec::new()
        } else {
            by_product
        },
        fixed: r.fixed,
        avoidable: r.avoidable,
        unpriced_signals: r.unpriced_signals,
        unpriced_events: r.unpriced_events,
        notes: r.notes,
        partial: partial(store, scope)?,
    })
}
