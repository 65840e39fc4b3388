//! Signals one by one: listed with every filter, searched by text, paged with a cursor, and
//! looked up by id. Names beside ids, closed sets by their names.

use hearken_model::{Channel, SignalKind, Source};
use hearken_store::{Entity, SignalQuery, SignalRecord, Store};
use serde::Serialize;

use crate::error::{QueryError, Result};
use crate::meta::{PartialNote, partial};
use crate::request::{Filters, request};
use crate::select::unknown;

request! {
    /// Signals matching the filters, most recently imported first, one page at a time.
    pub struct SignalsRequest {
        /// Only this kind (question, complaint, compliment, suggestion, request, survey_response,
        /// other).
        pub kind: Option<String> = None,
        /// Only signals from customers or from employees.
        pub source: Option<String> = None,
        /// Only this customer (its id).
        pub customer: Option<String> = None,
        /// Only this topic (the source's, else the classifier's).
        pub topic: Option<String> = None,
        /// Only texts containing this (ignoring the case of ASCII letters).
        pub search: Option<String> = None,
        /// Signals per page (1 to 1,000).
        #[cfg_attr(feature = "utoipa", param(minimum = 1, maximum = 1_000))]
        pub limit: usize = 50,
        /// Where the page starts: the `next_cursor` of the previous page.
        pub cursor: Option<String> = None,
    }
}

pub const MAX_PAGE: usize = 1_000;

#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct SignalsPage {
    pub signals: Vec<SignalView>,
    /// Pass as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
    pub notes: Vec<String>,
    pub partial: Option<PartialNote>,
}

/// One signal, with the names of what it refers to.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct SignalView {
    pub id: String,
    /// Unix seconds.
    pub at: i64,
    #[cfg_attr(feature = "utoipa", schema(value_type = Option<String>))]
    pub channel: Option<Channel>,
    #[cfg_attr(feature = "utoipa", schema(value_type = Option<String>))]
    pub kind: Option<SignalKind>,
    #[cfg_attr(feature = "utoipa", schema(value_type = Option<String>))]
    pub source: Option<Source>,
    pub customer_id: Option<String>,
    pub customer: Option<String>,
    pub segment: Option<String>,
    pub product_id: Option<String>,
    pub product: Option<String>,
    pub agent_id: Option<String>,
    pub agent: Option<String>,
    pub team: Option<String>,
    pub case_id: Option<String>,
    pub stage: Option<String>,
    /// The source's topic, else the classifier's (as the analytics group them).
    pub topic: Option<String>,
    /// Whether `topic` came from the classifier.
    pub topic_predicted: bool,
    pub topic_probability: Option<f64>,
    pub sentiment: Option<f64>,
    pub language: Option<String>,
    pub text: Option<String>,
}

impl From<SignalRecord> for SignalView {
    fn from(r: SignalRecord) -> SignalView {
        let topic_predicted = r.topic.is_none() && r.predicted_topic.is_some();
        SignalView {
            id: r.id,
            at: r.at,
            channel: Channel::from_code(r.channel),
            kind: SignalKind::from_code(r.kind),
            source: Source::from_code(r.source),
            customer_id: r.customer_id,
            customer: r.customer_name,
            segment: r.segment,
            product_id: r.product_id,
            product: r.product_name,
            agent_id: r.agent_id,
            agent: r.agent_name,
            team: r.team,
            case_id: r.case_id,
            stage: r.stage,
            topic: r.topic.or(r.predicted_topic),
            topic_predicted,
            topic_probability: if topic_predicted {
                r.topic_probability
            } else {
                None
            },
            sentiment: r.sentiment,
            language: r.language,
            text: r.text,
        }
    }
}

/// Checks that `id` is an entity of `entity`, or an error listing some that are.
fn known_entity(
    store: &Store,
    entity: Entity,
    field: &'static str,
    id: &Option<String>,
) -> Result<()> {
    let Some(id) = id else { return Ok(()) };
    if store.entity_exists(entity, id)? {
        return Ok(());
    }
    let status = store.status()?;
    let total = match entity {
        Entity::Customer => status.customers,
        Entity::Product => status.products,
        Entity::Agent => status.agents,
    };
    Err(QueryError::UnknownValue {
        field,
        what: field,
        value: id.clone(),
        known: store.entity_ids(entity, 20)?,
        total: total.max(0) as usize,
    })
}

/// The store query for the row filters, each checked against what exists.
pub(crate) fn signal_query(store: &Store, f: &Filters) -> Result<SignalQuery> {
    let window = f.window()?;
    let channel = f.channel_code()?;
    if let Some(s) = &f.segment {
        let known = store.segments()?;
        if !known.contains(s) {
            return Err(unknown(
                "segment",
                "segment",
                s,
                known.iter().map(String::as_str),
            ));
        }
    }
    if let Some(t) = &f.team {
        let known = store.teams()?;
        if !known.contains(t) {
            return Err(unknown("team", "team", t, known.iter().map(String::as_str)));
        }
    }
    known_entity(store, Entity::Product, "product", &f.product)?;
    known_entity(store, Entity::Agent, "agent", &f.agent)?;
    Ok(SignalQuery {
        window,
        segment: f.segment.clone(),
        product: f.product.clone(),
        agent: f.agent.clone(),
        team: f.team.clone(),
        channel,
        ..SignalQuery::default()
    })
}

fn closed<T: Copy>(
    field: &'static str,
    value: &Option<String>,
    all: &[T],
    name: fn(T) -> &'static str,
    parse: fn(&str, &str) -> std::result::Result<T, hearken_model::FieldError>,
    code: fn(T) -> u8,
) -> Result<Option<u8>> {
    value
        .as_deref()
        .map(|v| {
            parse(field, v)
                .map(code)
                .map_err(|_| unknown(field, field, v, all.iter().map(|&x| name(x))))
        })
        .transpose()
}

fn cursor(c: &Option<String>) -> Result<Option<i64>> {
    c.as_deref()
        .map(|s| {
            s.parse::<i64>().ok().filter(|&v| v > 0).ok_or_else(|| {
                QueryError::InvalidRequest(format!(
                    "`cursor` '{s}' is not a cursor this server gave"
                ))
            })
        })
        .transpose()
}

/// One page of signals.
pub fn signals(store: &Store, req: &SignalsRequest) -> Result<SignalsPage> {
    if !(1..=MAX_PAGE).contains(&req.limit) {
        return Err(QueryError::OutOfRange {
            field: "limit",
            value: req.limit.to_string(),
            allowed: format!("give 1 to {MAX_PAGE} signals per page"),
        });
    }
    let mut q = signal_query(store, &req.filters())?;
    q.kind = closed(
        "kind",
        &req.kind,
        SignalKind::ALL,
        SignalKind::as_str,
        SignalKind::parse,
        SignalKind::code,
    )?;
    q.source = closed(
        "source",
        &req.source,
        Source::ALL,
        Source::as_str,
        Source::parse,
        Source::code,
    )?;
    if let Some(c) = &req.customer
        && !store.entity_exists(Entity::Customer, c)?
    {
        return Err(QueryError::NotFound {
            what: "customer",
            id: c.clone(),
            hint: "give a customer id as imported (`customer_id`)".into(),
        });
    }
    if let Some(t) = &req.topic {
        let known = store.signal_topics()?;
        if !known.contains(t) {
            return Err(unknown(
                "topic",
                "topic",
                t,
                known.iter().map(String::as_str),
            ));
        }
    }
    q.customer = req.customer.clone();
    q.topic = req.topic.clone();
    q.text = req.search.clone().filter(|t| !t.is_empty());
    q.before = cursor(&req.cursor)?;
    // One more than a page tells whether another page follows.
    let mut rows = store.signal_records(&q, req.limit + 1)?;
    let more = rows.len() > req.limit;
    rows.truncate(req.limit);
    let next_cursor = if more {
        rows.last().map(|r| r.row.to_string())
    } else {
        None
    };
    Ok(SignalsPage {
        signals: rows.into_iter().map(SignalView::from).collect(),
        next_cursor,
        notes: Vec::new(),
        partial: partial(store)?,
    })
}

/// One signal by its id.
pub fn signal(store: &Store, id: &str) -> Result<SignalView> {
    store
        .signal_record(id)?
        .map(SignalView::from)
        .ok_or_else(|| QueryError::NotFound {
            what: "signal",
            id: id.to_string(),
            hint: "give a signal id as imported (`signal_id`), e.g. from a signals listing".into(),
        })
}
