//! Case flow: stage times, loops, transfers, first-owner resolution, escalations and comments per
//! stage, over the store's case events ([`flow`]) or an event log read by the caller
//! ([`flow_of_log`]: the CLI's log files). One request for both; the selection and every figure
//! are `hearken_flow::run_query`'s.
//!
//! Which cases: `from`/`to` select the cases that *started* in the window (with all their
//! events); each filter keeps the cases whose value is the one given, a case's team being the
//! team it ended with, its agent its first owner, its customer, product, segment and channel the
//! case's own (see `hearken_flow::Dimension`). A data scope keeps the cases whose team (the one
//! it ended with) is one of the scope's teams and whose customer's segment is one of its
//! segments; the other cases are not in the caller's log at all (not counted in `cases_in_log`,
//! not listed in messages).

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;

use hearken_flow::{
    CaseEventColumns, CaseFilter, Dimension, EventLog, FlowConfig, FlowQuery, FlowReport, GroupBy,
    Period as FlowPeriod, QueryError as FlowError,
};
use hearken_store::{CaseEventRows, Entity, FrameSource, Store, Window};
use serde::{Deserialize, Serialize};

use crate::error::{FlowRefusal, QueryError, Result};
use crate::meta::{PartialNote, partial};
use crate::request::request;
use crate::scope::Scope;
use crate::select::window_between;

macro_rules! flow_by {
    ($( $(#[$m:meta])* $v:ident = $t:literal ),+ $(,)?) => {
        /// What cases are grouped by: one value per case.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
        // utoipa cannot read `serde(rename = $t)` through the macro; every name is the variant's
        // in lowercase.
        #[cfg_attr(feature = "utoipa", schema(rename_all = "lowercase"))]
        pub enum FlowBy {
            $( $(#[$m])* #[serde(rename = $t)] $v, )+
        }

        impl FlowBy {
            pub const ALL: &'static [FlowBy] = &[$(FlowBy::$v),+];

            pub fn as_str(self) -> &'static str {
                match self { $(FlowBy::$v => $t),+ }
            }
        }
    };
}

flow_by! {
    /// The team the case ended with (the team of its last event that names one).
    Team = "team",
    /// The case's first owner (the agent of its first event that has one).
    Agent = "agent",
    /// The case's customer.
    Customer = "customer",
    /// The case's product.
    Product = "product",
    /// The segment of the case's customer.
    Segment = "segment",
    /// The channel the case came in by.
    Channel = "channel",
    /// The day the case started (UTC).
    Day = "day",
    /// The ISO week the case started.
    Week = "week",
    /// The month the case started.
    Month = "month",
    /// The quarter the case started.
    Quarter = "quarter",
    /// The year the case started.
    Year = "year",
}

impl fmt::Display for FlowBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for FlowBy {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<FlowBy, String> {
        FlowBy::ALL
            .iter()
            .copied()
            .find(|b| b.as_str() == s)
            .ok_or_else(|| {
                let all: Vec<&str> = FlowBy::ALL.iter().map(|b| b.as_str()).collect();
                format!("'{s}' is not one of: {}", all.join(", "))
            })
    }
}

impl FlowBy {
    fn group(self) -> GroupBy {
        let attr = |a: &str| GroupBy::Attribute(a.to_string());
        match self {
            FlowBy::Team => GroupBy::Team,
            FlowBy::Agent => GroupBy::Agent,
            FlowBy::Customer => attr("customer"),
            FlowBy::Product => attr("product"),
            FlowBy::Segment => attr("segment"),
            FlowBy::Channel => attr("channel"),
            FlowBy::Day => GroupBy::Period(FlowPeriod::Day),
            FlowBy::Week => GroupBy::Period(FlowPeriod::Week),
            FlowBy::Month => GroupBy::Period(FlowPeriod::Month),
            FlowBy::Quarter => GroupBy::Period(FlowPeriod::Quarter),
            FlowBy::Year => GroupBy::Period(FlowPeriod::Year),
        }
    }
}

request! {
    /// A case-flow question: which cases (the row filters are case properties, see the module
    /// documentation), grouped how, under which rules.
    pub struct FlowRequest {
        /// Only cases of this customer (its id).
        pub customer: Option<String> = None,
        /// The same figures per group of cases.
        pub by: Option<FlowBy> = None,
        /// The same figures per value of any case attribute of the log (e.g. an XES trace
        /// attribute such as `department`).
        pub by_attribute: Option<String> = None,
        /// Escalation activities; given, they replace the default rule (and add to the flow
        /// configuration's list).
        pub escalation: Vec<String> = Vec::new(),
        /// Activities that close a case; given, they replace the default rule (and add to the
        /// flow configuration's list).
        pub closing: Vec<String> = Vec::new(),
        /// The organisation's flow configuration: lifecycle mapping of activities to stages,
        /// escalation and closing activities, a grouping, how many case ids to list.
        #[cfg_attr(feature = "utoipa", param(value_type = Option<Object>), schema(value_type = Option<Object>))]
        pub flow_config: Option<FlowConfig> = None,
    }
}

/// Properties of a case the store knows besides its events (its customer's, product's and
/// channel's), as attribute columns of the log.
const STORE_ATTRIBUTES: [&str; 4] = ["customer", "product", "segment", "channel"];

/// The answer: every case-flow figure (`hearken_flow::FlowReport`, its fields at the top level)
/// with names beside the ids of agents (and their teams), handover partners and groups.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlowResponse {
    #[serde(flatten)]
    pub report: FlowReport,
    pub partial: Option<PartialNote>,
}

/// (request field, dimension, value) of every case filter given.
fn dimensions(req: &FlowRequest) -> Vec<(&'static str, Dimension, String)> {
    let attr = |a: &str| Dimension::Attribute(a.to_string());
    [
        ("team", Dimension::Team, &req.team),
        ("agent", Dimension::Agent, &req.agent),
        ("customer", attr("customer"), &req.customer),
        ("product", attr("product"), &req.product),
        ("segment", attr("segment"), &req.segment),
        ("channel", attr("channel"), &req.channel),
    ]
    .into_iter()
    .filter_map(|(field, dim, v)| v.clone().map(|v| (field, dim, v)))
    .collect()
}

/// The question the request asks: the configuration (the request's, then its escalation and
/// closing names and grouping) and the case filter with the scope.
pub fn flow_query(scope: &Scope, req: &FlowRequest) -> Result<FlowQuery> {
    scope.check(&req.filters())?;
    let mut config = req.flow_config.clone().unwrap_or_default();
    for (given, list) in [
        (&req.escalation, &mut config.escalation),
        (&req.closing, &mut config.closing),
    ] {
        if !given.is_empty() {
            list.get_or_insert_with(Vec::new)
                .extend(given.iter().cloned());
        }
    }
    match (req.by, &req.by_attribute) {
        (Some(_), Some(_)) => {
            return Err(QueryError::Conflict {
                message: "`by` and `by_attribute` both group the cases".into(),
                hint: "give one of them".into(),
            });
        }
        (Some(by), None) => config.group_by = Some(by.group()),
        (None, Some(a)) => config.group_by = Some(GroupBy::Attribute(a.clone())),
        (None, None) => {}
    }
    let window = window_between(req.from.as_deref(), req.to.as_deref(), ("from", "to"))?;
    let mut within = Vec::new();
    if !scope.teams.is_empty() {
        within.push((Dimension::Team, scope.teams.clone()));
    }
    if !scope.segments.is_empty() {
        within.push((
            Dimension::Attribute("segment".into()),
            scope.segments.clone(),
        ));
    }
    Ok(FlowQuery {
        config,
        filter: CaseFilter {
            started_from_ms: window.from.map(|t| t.saturating_mul(1000)),
            started_before_ms: window.to.map(|t| t.saturating_mul(1000)),
            equals: dimensions(req)
                .into_iter()
                .map(|(_, d, v)| (d, v))
                .collect(),
            within,
        },
    })
}

/// Case flow over the store's case events, within the scope.
pub fn flow(store: &dyn FrameSource, scope: &Scope, req: &FlowRequest) -> Result<FlowResponse> {
    crate::cache::answer(
        store,
        scope,
        "flow",
        req,
        || compute(store, scope, req),
        || crate::cache::again(scope, req, |s, sc, r| flow(s, sc, r)),
    )
}

/// [`flow`] computed (not from the answer cache).
fn compute(store: &dyn FrameSource, scope: &Scope, req: &FlowRequest) -> Result<FlowResponse> {
    let query = flow_query(scope, req)?;
    // The embedded store reads a window's cases through its snapshot; any other reads the
    // whole log and the query selects the cases (the same answer, tested on PostgreSQL).
    let windowed = match store.embedded() {
        Some(s) => window_log(s, &query)?,
        None => None,
    };
    let mut report = match windowed {
        Some((log, cases_in_log)) => hearken_flow::run_query_on_window(&log, &query, cases_in_log)
            .map_err(|e| refusal(e, req, Source::Store))?,
        None => {
            let log = store_log(store, &query)?;
            hearken_flow::run_query(&log, &query).map_err(|e| refusal(e, req, Source::Store))?
        }
    };
    name_things(store, &mut report, req)?;
    Ok(FlowResponse {
        report,
        partial: partial(store, scope)?,
    })
}

/// Case flow over an event log the caller read (a file): the same request, no scope (whoever
/// holds the file sees all of it) and no names (a log has none).
pub fn flow_of_log(log: &EventLog, req: &FlowRequest) -> Result<FlowResponse> {
    let query = flow_query(&Scope::all(), req)?;
    let report = hearken_flow::run_query(log, &query).map_err(|e| refusal(e, req, Source::Log))?;
    Ok(FlowResponse {
        report,
        partial: None,
    })
}

/// For a question about the cases that started in a window and nothing else of the log (no
/// scope, no filter, no grouping but by period): the events of those cases only, with every
/// activity of the store's log declared, and how many cases the log has; the report is then
/// the one the whole log gives (`hearken_flow::run_query_on_window`; tested against the full
/// read in tests/query/flow.rs). The cases come from the snapshot's per-case first event time
/// (`Store::snapshot_case_kpis`), their events by case. `None`: read the whole log.
fn window_log(store: &Store, query: &FlowQuery) -> Result<Option<(EventLog, u64)>> {
    let f = &query.filter;
    let windowed = f.started_from_ms.is_some() || f.started_before_ms.is_some();
    let by_period = matches!(query.config.group_by, None | Some(GroupBy::Period(_)));
    if !windowed || !f.within.is_empty() || !f.equals.is_empty() || !by_period {
        return Ok(None);
    }
    if !store.snapshot_is_fresh()?
        && let Err(e) = crate::select::ensure_fresh(store)
    {
        // A store opened read-only cannot bring its snapshot up to date; its events can still
        // be read whole.
        tracing::debug!(error = %e, "snapshot stale: case flow reads the whole log");
        return Ok(None);
    }
    let kpis = store.snapshot_case_kpis()?;
    let from = f.started_from_ms.unwrap_or(i64::MIN);
    let before = f.started_before_ms.unwrap_or(i64::MAX);
    let mut cases_in_log = 0u64;
    let mut ids = Vec::new();
    for (i, (&first, &events)) in kpis.first_at.iter().zip(&kpis.events).enumerate() {
        if events == 0 {
            continue;
        }
        cases_in_log += 1;
        let t = first.saturating_mul(1000);
        if t >= from && t < before {
            ids.push(i as i64 + 1);
        }
    }
    let rows = store.case_event_rows_of(&ids)?;
    let mut log = event_log(&rows, &[])?;
    log.declare_activities(&case_activities(store)?);
    Ok(Some((log, cases_in_log)))
}

/// Every activity of the store's case events: a scan of them, so kept per data generation by
/// the answer cache when one is attached.
fn case_activities(store: &Store) -> Result<Vec<String>> {
    let a = crate::cache::answer(
        store,
        &Scope::all(),
        "case_activities",
        &(),
        || Ok(Activities(store.case_activities()?)),
        || crate::cache::again(&Scope::all(), &(), |s, _, _| case_activities(s)),
    )?;
    Ok(a.0)
}

#[derive(Debug, Clone, Serialize)]
struct Activities(Vec<String>);

impl crate::cache::Answer for Activities {
    fn is_partial(&self) -> bool {
        false
    }
}

/// The store's case events as a log, with what the store knows of each case (customer,
/// product, segment, channel) when the question or the scope needs it.
fn store_log(store: &dyn FrameSource, query: &FlowQuery) -> Result<EventLog> {
    let rows = store.case_event_rows(&Window::default())?;
    let asks = |d: &Dimension| matches!(d, Dimension::Attribute(a) if STORE_ATTRIBUTES.contains(&a.as_str()));
    let needs_attributes = query.filter.equals.iter().any(|(d, _)| asks(d))
        || query.filter.within.iter().any(|(d, _)| asks(d))
        || matches!(&query.config.group_by, Some(GroupBy::Attribute(_)));
    let case_attributes = if needs_attributes {
        Some(store.case_attributes()?)
    } else {
        None
    };
    // Borrowed columns: one pointer per event, no copy of the strings.
    let mut columns: Vec<(&str, Vec<Option<&str>>)> = Vec::new();
    if let Some(a) = &case_attributes {
        let at: HashMap<&str, usize> = a
            .case
            .iter()
            .enumerate()
            .map(|(i, c)| (c.as_str(), i))
            .collect();
        let of_case: Vec<Option<usize>> = rows
            .case
            .iter()
            .map(|c| at.get(c.as_str()).copied())
            .collect();
        columns = vec![
            ("customer", per_event(&of_case, &a.customer)),
            ("product", per_event(&of_case, &a.product)),
            ("segment", per_event(&of_case, &a.segment)),
            ("channel", per_event(&of_case, &a.channel)),
        ];
    }
    let attributes: Vec<(&str, &[Option<&str>])> =
        columns.iter().map(|(n, v)| (*n, v.as_slice())).collect();
    event_log(&rows, &attributes)
}

/// The rows as an event log, with these attribute columns (one value per event).
fn event_log(rows: &CaseEventRows, attributes: &[(&str, &[Option<&str>])]) -> Result<EventLog> {
    let at_ms: Vec<i64> = rows.at.iter().map(|t| t.saturating_mul(1000)).collect();
    EventLog::from_columns(CaseEventColumns {
        case: &strs(&rows.case),
        at_ms: &at_ms,
        activity: &strs(&rows.activity),
        agent: &opt(&rows.agent),
        team: &opt(&rows.team),
        text: &opt(&rows.text),
        sentiment: Some(&rows.sentiment),
        attributes,
    })
    .map_err(|e| QueryError::Refused(format!("the store's case events cannot be analysed: {e}")))
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn opt(v: &[Option<String>]) -> Vec<Option<&str>> {
    v.iter().map(Option::as_deref).collect()
}

/// A per-case column spread over the events (`of_case`: each event's row in `col`).
fn per_event<'a>(of_case: &[Option<usize>], col: &'a [Option<String>]) -> Vec<Option<&'a str>> {
    of_case
        .iter()
        .map(|i| i.and_then(|i| col.get(i).and_then(|v| v.as_deref())))
        .collect()
}

/// Where the cases came from, for what a refusal says.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    Store,
    Log,
}

/// A question the log cannot answer, named by the request field it came from.
fn refusal(e: FlowError, req: &FlowRequest, source: Source) -> QueryError {
    let (field, value): (&'static str, String) = match &e {
        FlowError::MissingDimension {
            action: "group cases",
            ..
        } => match (&req.by, &req.by_attribute) {
            (Some(by), _) => ("by", by.as_str().to_string()),
            (None, Some(a)) => ("by_attribute", a.clone()),
            (None, None) => ("flow_config", "group_by".to_string()),
        },
        FlowError::MissingDimension { dimension, .. }
        | FlowError::UnknownValue { dimension, .. } => dimensions(req)
            .into_iter()
            .find(|(_, d, _)| d.label() == dimension)
            .map_or(("flow_config", dimension.clone()), |(f, _, v)| (f, v)),
        FlowError::EmptyWindow { .. } => {
            return QueryError::EmptyWindow {
                from: "from",
                to: "to",
            };
        }
    };
    let kind = match &e {
        FlowError::MissingDimension {
            action: "group cases",
            ..
        } => FlowRefusal::Group,
        FlowError::MissingDimension { .. } => FlowRefusal::Filter,
        _ => FlowRefusal::Value,
    };
    let hint = match (&e, source) {
        (FlowError::MissingDimension { dimension, .. }, Source::Store)
            if STORE_ATTRIBUTES.contains(&dimension.as_str()) =>
        {
            "from the store, a case's customer and product come from the customer_id and \
             product_id columns of its case events, else from the signals and survey responses \
             with its case_id; its channel from those signals; its segment from customers.csv"
        }
        (FlowError::MissingDimension { dimension, .. }, Source::Store) if dimension == "team" => {
            "from the store, a case event's team is its team column, else its agent's team \
             (agents.csv)"
        }
        (FlowError::UnknownValue { .. }, _) => "use one of the values the cases have",
        _ => "leave it out, or ask of a log that has it",
    };
    QueryError::Flow {
        field,
        value,
        reason: e.to_string(),
        kind,
        hint: hint.to_string(),
    }
}

/// Puts display names beside the ids of agents (with their teams), handover partners and groups
/// of agents, customers or products, in the report and each group's report.
fn name_things(store: &dyn FrameSource, report: &mut FlowReport, req: &FlowRequest) -> Result<()> {
    let mut agent_ids: Vec<String> = Vec::new();
    collect_agents(report, &mut agent_ids);
    agent_ids.sort_unstable();
    agent_ids.dedup();
    let refs: Vec<&str> = agent_ids.iter().map(String::as_str).collect();
    let names = store.display_names(Entity::Agent, &refs)?;
    let mut agents: HashMap<String, (Option<String>, Option<String>)> = HashMap::new();
    for (id, name) in agent_ids.iter().zip(names) {
        let team = store.entity_group(Entity::Agent, id)?.flatten();
        agents.insert(id.clone(), (name, team));
    }
    let group_entity = match req.by {
        Some(FlowBy::Agent) => Some(Entity::Agent),
        Some(FlowBy::Customer) => Some(Entity::Customer),
        Some(FlowBy::Product) => Some(Entity::Product),
        _ => None,
    };
    let group_names: HashMap<String, Option<String>> = match (&report.groups, group_entity) {
        (Some(g), Some(entity)) => {
            let keys: Vec<&str> = g.groups.iter().map(|x| x.key.as_str()).collect();
            let names = store.display_names(entity, &keys)?;
            keys.iter().map(|k| k.to_string()).zip(names).collect()
        }
        _ => HashMap::new(),
    };
    apply_names(report, &agents, &group_names);
    Ok(())
}

fn collect_agents(r: &FlowReport, out: &mut Vec<String>) {
    out.extend(r.agents.iter().map(|a| a.agent.clone()));
    for h in &r.handovers {
        out.push(h.from.clone());
        out.push(h.to.clone());
    }
    if let Some(g) = &r.groups {
        for x in &g.groups {
            collect_agents(&x.report, out);
        }
    }
}

fn apply_names(
    r: &mut FlowReport,
    agents: &HashMap<String, (Option<String>, Option<String>)>,
    groups: &HashMap<String, Option<String>>,
) {
    for a in &mut r.agents {
        if let Some((name, team)) = agents.get(&a.agent) {
            a.name = name.clone();
            a.team = team.clone();
        }
    }
    for h in &mut r.handovers {
        h.from_name = agents.get(&h.from).and_then(|(n, _)| n.clone());
        h.to_name = agents.get(&h.to).and_then(|(n, _)| n.clone());
    }
    if let Some(g) = &mut r.groups {
        for x in &mut g.groups {
            x.name = groups.get(&x.key).cloned().flatten();
            apply_names(&mut x.report, agents, groups);
        }
    }
}
