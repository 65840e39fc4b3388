//! Row exports: signals, survey responses, case events and customers, streamed from the store
//! in row-id order with names beside ids, under the same filters as the analytics and the
//! caller's data scope.

use std::cell::RefCell;
use std::fmt;
use std::str::FromStr;

use hearken_model::{Channel, SignalKind, Source};
use hearken_query::{QueryError, Scope};
use hearken_store::{
    CaseEventExportRow, CustomerExportRow, Entity, ExportFilter, SignalExportRow, Store,
    SurveyExportRow,
};
use serde::{Deserialize, Serialize};

use crate::error::ExportError;
use crate::export::Exporter;
use crate::table::{Column, ColumnType, Value};

/// What rows to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dataset {
    Signals,
    Surveys,
    CaseEvents,
    Customers,
}

impl Dataset {
    pub const ALL: &'static [Dataset] = &[
        Dataset::Signals,
        Dataset::Surveys,
        Dataset::CaseEvents,
        Dataset::Customers,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Dataset::Signals => "signals",
            Dataset::Surveys => "surveys",
            Dataset::CaseEvents => "case-events",
            Dataset::Customers => "customers",
        }
    }

    /// The filters this export honours (the others are refused).
    pub fn filters(self) -> &'static [&'static str] {
        match self {
            Dataset::Signals => &[
                "from", "to", "segment", "product", "channel", "agent", "team", "kind", "topic",
            ],
            Dataset::Surveys | Dataset::CaseEvents => &[
                "from", "to", "segment", "product", "channel", "agent", "team",
            ],
            Dataset::Customers => &["segment"],
        }
    }
}

impl fmt::Display for Dataset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Dataset {
    type Err = String;
    fn from_str(s: &str) -> Result<Dataset, String> {
        Dataset::ALL
            .iter()
            .copied()
            .find(|d| d.as_str() == s)
            .ok_or_else(|| format!("'{s}' is not one of: signals, surveys, case-events, customers"))
    }
}

/// The filters of a row export: those of the analytics (`from` `to` `segment` `product`
/// `channel` `agent` `team`) plus, for signals, `kind` and `topic`. Deserialises from a query
/// string or JSON (unknown fields refused), as the server reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RowsRequest {
    /// Only rows at or after this date/time (ISO 8601).
    pub from: Option<String>,
    /// Only rows before this date/time (exclusive).
    pub to: Option<String>,
    /// Only customers of this segment.
    pub segment: Option<String>,
    /// Only this product (its id).
    pub product: Option<String>,
    /// Only this channel.
    pub channel: Option<String>,
    /// Only this agent (its id).
    pub agent: Option<String>,
    /// Only agents of this team (case events: the event's team, else its agent's).
    pub team: Option<String>,
    /// Only signals of this kind.
    pub kind: Option<String>,
    /// Only signals of this topic (the source's, else the classifier's).
    pub topic: Option<String>,
}

impl RowsRequest {
    fn given(&self) -> [(&'static str, bool); 9] {
        [
            ("from", self.from.is_some()),
            ("to", self.to.is_some()),
            ("segment", self.segment.is_some()),
            ("product", self.product.is_some()),
            ("channel", self.channel.is_some()),
            ("agent", self.agent.is_some()),
            ("team", self.team.is_some()),
            ("kind", self.kind.is_some()),
            ("topic", self.topic.is_some()),
        ]
    }
}

/// An unknown-value error listing `known` (sorted, deduplicated), as the query layer says it.
fn unknown(
    field: &'static str,
    value: &str,
    known: Vec<String>,
    total: Option<usize>,
) -> ExportError {
    let mut known = known;
    known.retain(|k| !k.is_empty());
    known.sort_unstable();
    known.dedup();
    let total = total.unwrap_or(known.len());
    ExportError::Query(QueryError::UnknownValue {
        field,
        what: field,
        value: value.to_string(),
        known,
        total,
    })
}

fn allowed(list: &[String], v: Option<&str>) -> bool {
    list.is_empty() || v.is_some_and(|v| list.iter().any(|x| x == v))
}

/// A segment or team filter checked against the scope, then against what exists.
fn group_filter(
    field: &'static str,
    value: &Option<String>,
    scope_list: &[String],
    known: impl FnOnce() -> Result<Vec<String>, ExportError>,
) -> Result<Vec<String>, ExportError> {
    let Some(v) = value else {
        return Ok(scope_list.to_vec());
    };
    if !allowed(scope_list, Some(v)) {
        return Err(ExportError::OutOfScope {
            field,
            value: v.clone(),
            allowed: scope_list.to_vec(),
        });
    }
    let known = known()?;
    if !known.contains(v) {
        let visible = known
            .into_iter()
            .filter(|k| allowed(scope_list, Some(k)))
            .collect();
        return Err(unknown(field, v, visible, None));
    }
    Ok(vec![v.clone()])
}

/// Turns a row export's request into the store's filter: every filter the dataset cannot
/// honour is refused, every name checked (an unknown one is refused listing the known ones,
/// within the scope), and the scope's segments and teams applied.
pub(crate) fn filter(
    store: &Store,
    scope: &Scope,
    dataset: Dataset,
    req: &RowsRequest,
) -> Result<ExportFilter, ExportError> {
    for (field, given) in req.given() {
        if given && !dataset.filters().contains(&field) {
            return Err(QueryError::UnsupportedFilter {
                field,
                analytic: match dataset {
                    Dataset::Signals => "the signals export",
                    Dataset::Surveys => "the surveys export",
                    Dataset::CaseEvents => "the case-events export",
                    Dataset::Customers => "the customers export",
                },
                reason: match (dataset, field) {
                    (Dataset::Customers, _) => {
                        "customers are filtered by segment only (they have no time, product, channel or agent of their own)".into()
                    }
                    _ => format!("only signals have a {field}"),
                },
            }
            .into());
        }
    }
    let window =
        hearken_query::window_between(req.from.as_deref(), req.to.as_deref(), ("from", "to"))?;
    let segments = group_filter("segment", &req.segment, &scope.segments, || {
        Ok(store.segments()?)
    })?;
    let teams = group_filter("team", &req.team, &scope.teams, || Ok(store.teams()?))?;
    let channel = req
        .channel
        .as_deref()
        .map(|c| {
            Channel::parse("channel", c)
                .map(Channel::code)
                .map_err(|_| {
                    unknown(
                        "channel",
                        c,
                        Channel::ALL
                            .iter()
                            .map(|c| c.as_str().to_string())
                            .collect(),
                        None,
                    )
                })
        })
        .transpose()?;
    let kind = req
        .kind
        .as_deref()
        .map(|k| {
            SignalKind::parse("kind", k)
                .map(SignalKind::code)
                .map_err(|_| {
                    unknown(
                        "kind",
                        k,
                        SignalKind::ALL
                            .iter()
                            .map(|k| k.as_str().to_string())
                            .collect(),
                        None,
                    )
                })
        })
        .transpose()?;
    if let Some(p) = &req.product
        && !store.entity_exists(Entity::Product, p)?
    {
        let total = store.status()?.products.max(0) as usize;
        return Err(unknown(
            "product",
            p,
            store.entity_ids(Entity::Product, 20)?,
            Some(total),
        ));
    }
    if let Some(a) = &req.agent {
        let visible = match store.agent_team_of(a)? {
            Some(team) => allowed(&scope.teams, team.as_deref()),
            None => false,
        };
        // An agent outside the scope's teams is unknown to the caller (its id does not leak).
        if !visible {
            let (known, total) = if scope.teams.is_empty() {
                let total = store.status()?.agents.max(0) as u64;
                (store.entity_ids(Entity::Agent, 20)?, total)
            } else {
                store.agent_ids_of_teams(&scope.teams, 20)?
            };
            return Err(unknown("agent", a, known, Some(total as usize)));
        }
    }
    if let Some(t) = &req.topic {
        let known = store.signal_topics()?;
        if !known.contains(t) {
            return Err(unknown("topic", t, known, None));
        }
    }
    Ok(ExportFilter {
        window,
        segments,
        teams,
        product: req.product.clone(),
        channel,
        agent: req.agent.clone(),
        kind,
        topic: req.topic.clone(),
    })
}

use ColumnType::{Bool, Float, Int, Text, Time};

/// The columns of the signals export.
pub const SIGNAL_COLUMNS: &[(&str, ColumnType)] = &[
    ("signal_id", Text),
    ("at", Time),
    ("channel", Text),
    ("kind", Text),
    ("source", Text),
    ("customer_id", Text),
    ("customer_name", Text),
    ("segment", Text),
    ("product_id", Text),
    ("product_name", Text),
    ("agent_id", Text),
    ("agent_name", Text),
    ("team", Text),
    ("case_id", Text),
    ("stage", Text),
    ("topic", Text),
    ("topic_predicted", Bool),
    ("topic_probability", Float),
    ("sentiment", Float),
    ("language", Text),
    ("redactions", Int),
    ("text", Text),
];

/// The columns of the surveys export before the aspects (one `aspect_<name>` float column
/// per aspect rated in the store, sorted by name, follows them).
pub const SURVEY_COLUMNS: &[(&str, ColumnType)] = &[
    ("response_id", Text),
    ("at", Time),
    ("customer_id", Text),
    ("customer_name", Text),
    ("segment", Text),
    ("product_id", Text),
    ("product_name", Text),
    ("agent_id", Text),
    ("agent_name", Text),
    ("team", Text),
    ("case_id", Text),
    ("channel", Text),
    ("nps", Int),
    ("csat", Int),
    ("ces", Int),
    ("overall", Float),
    ("comment", Text),
    ("comment_sentiment", Float),
    ("comment_language", Text),
    ("redactions", Int),
];

/// The columns of the case-events export.
pub const CASE_EVENT_COLUMNS: &[(&str, ColumnType)] = &[
    ("event_id", Text),
    ("case_id", Text),
    ("at", Time),
    ("activity", Text),
    ("agent_id", Text),
    ("agent_name", Text),
    ("team", Text),
    ("customer_id", Text),
    ("customer_name", Text),
    ("segment", Text),
    ("product_id", Text),
    ("product_name", Text),
    ("channel", Text),
    ("text", Text),
    ("sentiment", Float),
    ("language", Text),
    ("redactions", Int),
];

/// The columns of the customers export.
pub const CUSTOMER_COLUMNS: &[(&str, ColumnType)] = &[
    ("customer_id", Text),
    ("name", Text),
    ("segment", Text),
    ("persona", Text),
    ("customer_since", Time),
    ("value_per_year", Float),
    ("white_glove", Bool),
    ("churned_at", Time),
];

pub(crate) fn columns(spec: &[(&str, ColumnType)]) -> Vec<Column> {
    spec.iter().map(|&(n, t)| Column::new(n, t)).collect()
}

/// The columns of a surveys export with these aspects.
pub fn survey_columns(aspects: &[String]) -> Vec<Column> {
    let mut c = columns(SURVEY_COLUMNS);
    c.extend(
        aspects
            .iter()
            .map(|a| Column::new(format!("aspect_{a}"), Float)),
    );
    c
}

fn channel_name<'a>(code: Option<u8>) -> Value<'a> {
    Value::text(code.and_then(Channel::from_code).map(Channel::as_str))
}

fn signal_values<'r>(r: &SignalExportRow<'r>) -> [Value<'r>; 22] {
    let predicted = r.topic.is_none() && r.predicted_topic.is_some();
    [
        Value::text(Some(r.id)),
        Value::Time(r.at),
        channel_name(Some(r.channel)),
        Value::text(SignalKind::from_code(r.kind).map(SignalKind::as_str)),
        Value::text(Source::from_code(r.source).map(Source::as_str)),
        Value::text(r.customer_id),
        Value::text(r.customer_name),
        Value::text(r.segment),
        Value::text(r.product_id),
        Value::text(r.product_name),
        Value::text(r.agent_id),
        Value::text(r.agent_name),
        Value::text(r.team),
        Value::text(r.case_id),
        Value::text(r.stage),
        Value::text(r.topic.or(r.predicted_topic)),
        Value::Bool(predicted),
        Value::float(if predicted { r.topic_probability } else { None }),
        Value::float(r.sentiment),
        Value::text(r.language),
        Value::Int(r.redactions),
        Value::text(r.text),
    ]
}

fn survey_values<'r>(r: &SurveyExportRow<'r>) -> Vec<Value<'r>> {
    let mut v = Vec::with_capacity(SURVEY_COLUMNS.len() + r.aspects.len());
    v.extend([
        Value::text(Some(r.id)),
        Value::Time(r.at),
        Value::text(r.customer_id),
        Value::text(r.customer_name),
        Value::text(r.segment),
        Value::text(r.product_id),
        Value::text(r.product_name),
        Value::text(r.agent_id),
        Value::text(r.agent_name),
        Value::text(r.team),
        Value::text(r.case_id),
        channel_name(r.channel),
        Value::int(r.nps),
        Value::int(r.csat),
        Value::int(r.ces),
        Value::float(r.overall),
        Value::text(r.comment),
        Value::float(r.comment_sentiment),
        Value::text(r.comment_language),
        Value::Int(r.redactions),
    ]);
    v.extend(r.aspects.iter().map(|a| Value::float(*a)));
    v
}

fn case_event_values<'r>(r: &CaseEventExportRow<'r>) -> [Value<'r>; 17] {
    [
        Value::text(Some(r.id)),
        Value::text(Some(r.case_id)),
        Value::Time(r.at),
        Value::text(Some(r.activity)),
        Value::text(r.agent_id),
        Value::text(r.agent_name),
        Value::text(r.team),
        Value::text(r.customer_id),
        Value::text(r.customer_name),
        Value::text(r.segment),
        Value::text(r.product_id),
        Value::text(r.product_name),
        channel_name(r.channel),
        Value::text(r.text),
        Value::float(r.sentiment),
        Value::text(r.language),
        Value::Int(r.redactions),
    ]
}

fn customer_values<'r>(r: &CustomerExportRow<'r>) -> [Value<'r>; 8] {
    [
        Value::text(Some(r.id)),
        Value::text(r.name),
        Value::text(r.segment),
        Value::text(r.persona),
        Value::time(r.since),
        Value::float(r.value_per_year),
        Value::Bool(r.white_glove),
        Value::time(r.churned_at),
    ]
}

/// Streams the rows of `dataset` that pass `filter` into `out` (which is told the columns
/// first). Returns the number of rows and of columns.
pub(crate) fn write(
    store: &Store,
    dataset: Dataset,
    filter: &ExportFilter,
    out: &mut dyn Exporter,
) -> Result<(u64, usize), ExportError> {
    match dataset {
        Dataset::Signals => {
            out.begin(&columns(SIGNAL_COLUMNS))?;
            let n = store.export_signals(filter, |r| out.row(&signal_values(r)))?;
            Ok((n, SIGNAL_COLUMNS.len()))
        }
        Dataset::Surveys => {
            // `head` and `each` both write to `out`, one after the other.
            let out = RefCell::new(out);
            let mut width = 0;
            let n = store.export_surveys(
                filter,
                |aspects| {
                    let cols = survey_columns(aspects);
                    width = cols.len();
                    out.borrow_mut().begin(&cols)
                },
                |r| out.borrow_mut().row(&survey_values(r)),
            )?;
            Ok((n, width))
        }
        Dataset::CaseEvents => {
            out.begin(&columns(CASE_EVENT_COLUMNS))?;
            let n = store.export_case_events(filter, |r| out.row(&case_event_values(r)))?;
            Ok((n, CASE_EVENT_COLUMNS.len()))
        }
        Dataset::Customers => {
            out.begin(&columns(CUSTOMER_COLUMNS))?;
            let n = store.export_customers(&filter.segments, |r| out.row(&customer_values(r)))?;
            Ok((n, CUSTOMER_COLUMNS.len()))
        }
    }
}
