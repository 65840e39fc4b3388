//! Signals one by one: listed with every filter, searched by text, paged with a cursor, and
//! looked up by id. Names beside ids, closed sets by their names.

use hearken_model::{Channel, SignalKind, Source};
use hearken_store::{Entity, FrameSource, SignalQuery, SignalRecord};
use serde::Serialize;

use crate::error::{QueryError, Result};
use crate::meta::{PartialNote, partial};
use crate::request::{Filters, request};
use crate::scope::Scope;
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

/// Checks that `id` is a product or agent the caller may see, or an error listing some that
/// are. An agent outside the scope's teams is unknown to the caller (its id does not leak).
fn known_entity(
    store: &dyn FrameSource,
    scope: &Scope,
    entity: Entity,
    field: &'static str,
    id: &Option<String>,
) -> Result<()> {
    let Some(id) = id else { return Ok(()) };
    let limited = entity == Entity::Agent && !scope.teams.is_empty();
    match store.entity_group(entity, id)? {
        Some(team) if !limited || scope.allows_team(team.as_deref()) => return Ok(()),
        _ => {}
    }
    let (known, total) = if limited {
        store.entity_ids_in(entity, &scope.teams, 20)?
    } else {
        let status = store.status()?;
        let total = match entity {
            Entity::Customer => status.customers,
            Entity::Product => status.products,
            Entity::Agent => status.agents,
        };
        (store.entity_ids(entity, 20)?, total.max(0) as u64)
    };
    Err(QueryError::UnknownValue {
        field,
        what: field,
        value: id.clone(),
        known,
        total: total as usize,
    })
}

/// Checks that `id` is a customer the caller may see: one that does not exist and one outside
/// the scope's segments are both `not_found`.
pub(crate) fn visible_customer(store: &dyn FrameSource, scope: &Scope, id: &str) -> Result<()> {
    match store.entity_group(Entity::Customer, id)? {
        Some(segment) if scope.allows_segment(segment.as_deref()) => Ok(()),
        _ => Err(QueryError::NotFound {
            what: "customer",
            id: id.to_string(),
            hint: "give a customer id as imported (its customer_id column)".into(),
        }),
    }
}

/// The store query for the row filters and the scope, each filter checked against what exists
/// and what the scope allows.
pub(crate) fn signal_query(
    store: &dyn FrameSource,
    scope: &Scope,
    f: &Filters,
) -> Result<SignalQuery> {
    let window = f.window()?;
    let channel = f.channel_code()?;
    scope.check(f)?;
    if let Some(s) = &f.segment {
        let known = store.segments()?;
        if !known.contains(s) {
            return Err(unknown(
                "segment",
                "segment",
                s,
                scope.visible("segment", known.iter().map(String::as_str)),
            ));
        }
    }
    if let Some(t) = &f.team {
        let known = store.teams()?;
        if !known.contains(t) {
            return Err(unknown(
                "team",
                "team",
                t,
                scope.visible("team", known.iter().map(String::as_str)),
            ));
        }
    }
    known_entity(store, scope, Entity::Product, "product", &f.product)?;
    known_entity(store, scope, Entity::Agent, "agent", &f.agent)?;
    Ok(SignalQuery {
        window,
        segment: f.segment.clone(),
        product: f.product.clone(),
        agent: f.agent.clone(),
        team: f.team.clone(),
        channel,
        segments: scope.segments.clone(),
        teams: scope.teams.clone(),
        ..SignalQuery::default()
    })
}

/// Whether a signal as stored is inside the scope.
pub(crate) fn signal_in_scope(scope: &Scope, r: &SignalRecord) -> bool {
    scope.allows_segment(r.segment.as_deref()) && scope.allows_team(r.team.as_deref())
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
pub fn signals(
    store: &dyn FrameSource,
    scope: &Scope,
    req: &SignalsRequest,
) -> Result<SignalsPage> {
    if !(1..=MAX_PAGE).contains(&req.limit) {
        return Err(QueryError::OutOfRange {
            field: "limit",
            value: req.limit.to_string(),
            allowed: format!("give 1 to {MAX_PAGE} signals per page"),
        });
    }
    let mut q = signal_query(store, scope, &req.filters())?;
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
    if let Some(c) = &req.customer {
        visible_customer(store, scope, c)?;
    }
    if let Some(t) = &req.topic {
        // The topics of the signals the caller may see.
        let known = store.signal_topics_where(&SignalQuery {
            segments: scope.segments.clone(),
            teams: scope.teams.clone(),
            ..SignalQuery::default()
        })?;
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
        partial: partial(store, scope)?,
    })
}

/// One signal by its id. A signal outside the scope is `not_found`, like one that does not
/// exist, so ids do not leak.
pub fn signal(store: &dyn FrameSource, scope: &Scope, id: &str) -> Result<SignalView> {
    store
        .signal_record(id)?
        .filter(|r| signal_in_scope(scope, r))
        .map(SignalView::from)
        .ok_or_else(|| QueryError::NotFound {
            what: "signal",
            id: id.to_string(),
            hint:
                "give a signal id as imported (its signal_id column), e.g. from a signals listing"
                    .into(),
        })
}
