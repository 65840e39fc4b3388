//! Issues: topics stack-ranked by frequency x negative sentiment x customer value, each with the
//! signals behind it.

use hearken_engine::issues::{IssueColumns, IssueOptions, rank_issues};
use hearken_store::{Entity, FrameSource, SignalColumns};
use serde::Serialize;

use crate::error::{QueryError, Result};
use crate::meta::{PartialNote, partial};
use crate::request::request;
use crate::scope::Scope;
use crate::select;
use crate::trends::{without_topic, without_topic_note};

request! {
    /// Topics ranked by how much they hurt.
    pub struct IssuesRequest {
        /// How many issues (1 to 1,000).
        #[cfg_attr(feature = "utoipa", param(minimum = 1, maximum = 1_000))]
        pub limit: usize = 10,
        /// How many signals to show behind each issue, most negative first (0 to 100).
        #[cfg_attr(feature = "utoipa", param(maximum = 100))]
        pub evidence: usize = 20,
    }
}

pub const MAX_LIMIT: usize = 1_000;
pub const MAX_EVIDENCE: usize = 100;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct IssuesResponse {
    /// Highest score first.
    pub issues: Vec<Issue>,
    /// Signals in the selection.
    pub signals: u64,
    /// Of them, without a topic (not ranked).
    pub without_topic: u64,
    pub notes: Vec<String>,
    pub partial: Option<PartialNote>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct Issue {
    /// 1 for the highest score.
    pub rank: usize,
    pub topic: String,
    pub signals: u64,
    /// Signals scored negative (VADER compound <= -0.05).
    pub negative: u64,
    /// `negative` over the signals with a sentiment score.
    pub negative_share: Option<f64>,
    pub mean_sentiment: Option<f64>,
    /// Mean yearly value of the customers behind the signals.
    pub mean_value: Option<f64>,
    /// `mean_value` over the same mean across all signals, so 1 is an average customer (1 when
    /// no value is known).
    pub value_factor: f64,
    /// `signals x negative_share x value_factor`.
    pub score: Option<f64>,
    /// The signals behind the issue, most negative first.
    pub evidence: Vec<Evidence>,
}

/// A signal shown as evidence: its source id, time, customer (id and name), text and sentiment.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct Evidence {
    pub id: String,
    /// Unix seconds.
    pub at: i64,
    pub customer_id: Option<String>,
    /// The customer's display name, when the store has one.
    pub customer: Option<String>,
    pub text: Option<String>,
    pub sentiment: Option<f64>,
}

pub fn issues(
    store: &dyn FrameSource,
    scope: &Scope,
    req: &IssuesRequest,
) -> Result<IssuesResponse> {
    crate::cache::answer(
        store,
        scope,
        "issues",
        req,
        || compute(store, scope, req),
        || crate::cache::again(scope, req, |s, sc, r| issues(s, sc, r)),
    )
}

/// [`issues`] computed (not from the answer cache).
fn compute(store: &dyn FrameSource, scope: &Scope, req: &IssuesRequest) -> Result<IssuesResponse> {
    if !(1..=MAX_LIMIT).contains(&req.limit) {
        return Err(QueryError::OutOfRange {
            field: "limit",
            value: req.limit.to_string(),
            allowed: format!("give 1 to {MAX_LIMIT}"),
        });
    }
    if req.evidence > MAX_EVIDENCE {
        return Err(QueryError::OutOfRange {
            field: "evidence",
            value: req.evidence.to_string(),
            allowed: format!("give 0 to {MAX_EVIDENCE}"),
        });
    }
    let select::Signals {
        frame: f,
        customers,
        ..
    } = select::signals(
        store,
        scope,
        &req.filters(),
        None,
        SignalColumns {
            id: req.evidence > 0,
            customer: true,
            topic: true,
            sentiment: true,
            ..SignalColumns::default()
        },
        true,
    )?;
    let signals = f.len() as u64;
    let without = without_topic(&f.topic, f.topics.len());
    if signals > 0 && without == signals {
        return Err(QueryError::NoTopics {
            signals,
            analytic: "issues-rank",
        });
    }
    // Signals without a topic are not an issue: rank one more and drop them.
    let mut ranked = rank_issues(
        &IssueColumns::of(&f, &customers.value_per_year),
        &IssueOptions {
            limit: req.limit + 1,
            evidence: req.evidence,
        },
    )?;
    ranked.retain(|i| i.code.is_some());
    ranked.truncate(req.limit);
    let mut issues = Vec::with_capacity(ranked.len());
    for (rank, issue) in ranked.into_iter().enumerate() {
        let ids: Vec<i64> = issue
            .evidence
            .iter()
            .filter_map(|&r| f.id.get(r as usize).copied())
            .collect();
        let briefs = store.signal_briefs(&ids)?;
        let customer_ids: Vec<&str> = briefs
            .iter()
            .map(|b| b.customer.as_deref().unwrap_or(""))
            .collect();
        let customer_names = store.display_names(Entity::Customer, &customer_ids)?;
        let evidence = briefs
            .into_iter()
            .zip(customer_names)
            .map(|(b, name)| Evidence {
                id: b.id,
                at: b.at,
                customer_id: b.customer,
                customer: name,
                text: b.text,
                sentiment: b.sentiment,
            })
            .collect();
        issues.push(Issue {
            rank: rank + 1,
            topic: issue.topic,
            signals: issue.signals,
            negative: issue.negative,
            negative_share: issue.negative_share,
            mean_sentiment: issue.mean_sentiment,
            mean_value: issue.mean_value,
            value_factor: issue.value_factor,
            score: issue.score,
            evidence,
        });
    }
    Ok(IssuesResponse {
        issues,
        signals,
        without_topic: without,
        notes: without_topic_note(without, signals),
        partial: partial(store, scope)?,
    })
}
