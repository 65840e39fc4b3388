//! `hearken flow`: case flow from a log file or the store's case events.
//!
//! The glue is three steps: the flags become a [`FlowQuery`] ([`query_of`]), the cases come from
//! a file or the store as an [`EventLog`] ([`load`]), and [`hearken_flow::run_query`] answers
//! (filters and configuration in, report out). Every filter and grouping either applies or is
//! refused with the reason.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use hearken_eventlog::ReadOptions;
use hearken_flow::{
    CaseEventColumns, CaseFilter, Dimension, EventLog, FlowConfig, FlowQuery, GroupBy,
    HandoverMatrix, Period, QueryError, render_text, run_query,
};
use hearken_model::{DateOptions, Timestamp};
use hearken_store::Window;

use super::Ctx;
use crate::output;

/// What `--by` groups cases by (one value per case, see the README's "Case flow").
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FlowBy {
    /// The team the case ended with (the team of its last event that names one)
    Team,
    /// The case's first owner (the agent of its first event that has one)
    Agent,
    /// The case's customer
    Customer,
    /// The case's product
    Product,
    /// The segment of the case's customer
    Segment,
    /// The channel the case came in by
    Channel,
    /// The day the case started (UTC)
    Day,
    /// The ISO week the case started
    Week,
    /// The month the case started
    Month,
    /// The quarter the case started
    Quarter,
    /// The year the case started
    Year,
}

#[derive(Debug, Args)]
pub struct FlowArgs {
    /// An event log (.xes, .xes.gz, .csv, .csv.gz, Zendesk ticket-events .json); none: the store's case events
    #[arg(value_name = "LOG")]
    pub log: Option<PathBuf>,
    /// A TOML file with the lifecycle mapping, escalation and closing activities (README: "Case-flow configuration")
    #[arg(long = "flow-config", value_name = "FILE.toml")]
    pub flow_config: Option<PathBuf>,
    /// An escalation activity (repeatable); replaces the default rule, adds to the flow config's list
    #[arg(long = "escalation", value_name = "ACTIVITY")]
    pub escalation: Vec<String>,
    /// An activity that closes a case (repeatable); replaces the default rule, adds to the flow config's list
    #[arg(long = "closing", value_name = "ACTIVITY")]
    pub closing: Vec<String>,
    /// The same figures per group of cases
    #[arg(long, value_enum, conflicts_with = "by_attribute")]
    pub by: Option<FlowBy>,
    /// The same figures per value of any case attribute of the log (e.g. an XES trace attribute such as department)
    #[arg(long, value_name = "NAME")]
    pub by_attribute: Option<String>,
    /// Write the full handover matrix (agent x agent) as CSV to this file
    #[arg(long, value_name = "FILE.csv")]
    pub handover_csv: Option<PathBuf>,
    #[command(flatten)]
    pub filters: FlowFilters,
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
}

/// Which cases: each filter keeps the cases whose value is the one given (see `FlowBy`).
#[derive(Debug, Clone, Args, Default)]
pub struct FlowFilters {
    /// Only cases that started at or after this date/time (ISO 8601); all their events count
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Only cases that started before this date/time
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// Only cases of customers of this segment
    #[arg(long)]
    pub segment: Option<String>,
    /// Only cases about this product (its id)
    #[arg(long)]
    pub product: Option<String>,
    /// Only cases that came in by this channel
    #[arg(long)]
    pub channel: Option<String>,
    /// Only cases first owned by this agent (its id)
    #[arg(long)]
    pub agent: Option<String>,
    /// Only cases that ended with this team (the team of the case's last event that names one)
    #[arg(long)]
    pub team: Option<String>,
    /// Only cases of this customer (its id)
    #[arg(long)]
    pub customer: Option<String>,
}

impl FlowFilters {
    /// (flag, dimension, value) of every filter given.
    fn dimensions(&self) -> Vec<(&'static str, Dimension, String)> {
        let attr = |a: &str| Dimension::Attribute(a.to_string());
        [
            ("--team", Dimension::Team, &self.team),
            ("--agent", Dimension::Agent, &self.agent),
            ("--customer", attr("customer"), &self.customer),
            ("--product", attr("product"), &self.product),
            ("--segment", attr("segment"), &self.segment),
            ("--channel", attr("channel"), &self.channel),
        ]
        .into_iter()
        .filter_map(|(flag, dim, v)| v.clone().map(|v| (flag, dim, v)))
        .collect()
    }
}

pub fn run(ctx: &Ctx, args: FlowArgs) -> Result<ExitCode> {
    let query = query_of(&args)?;
    let source = match &args.log {
        Some(p) => format!("the log {}", p.display()),
        None => format!("the case events of the store {}", ctx.config.db.display()),
    };
    let log = load(ctx, &args, &query)?;
    let report = run_query(&log, &query).map_err(|e| explain(e, &args, &source))?;
    if let Some(path) = &args.handover_csv {
        std::fs::write(path, HandoverMatrix::from_report(&report).to_csv())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if args.json {
        output::json(&report)?;
    } else {
        print!("{}", render_text(&report));
    }
    Ok(ExitCode::SUCCESS)
}

/// The question the flags ask: the flow configuration (file, then flags) and the case filter.
pub fn query_of(args: &FlowArgs) -> Result<FlowQuery> {
    let mut config = match &args.flow_config {
        Some(p) => read_flow_config(p)?,
        None => FlowConfig::default(),
    };
    // Names given replace the default rule; flags add to the file's names.
    for (flags, list) in [
        (&args.escalation, &mut config.escalation),
        (&args.closing, &mut config.closing),
    ] {
        if !flags.is_empty() {
            list.get_or_insert_with(Vec::new)
                .extend(flags.iter().cloned());
        }
    }
    if let Some(by) = args.by {
        let attr = |a: &str| GroupBy::Attribute(a.to_string());
        config.group_by = Some(match by {
            FlowBy::Team => GroupBy::Team,
            FlowBy::Agent => GroupBy::Agent,
            FlowBy::Customer => attr("customer"),
            FlowBy::Product => attr("product"),
            FlowBy::Segment => attr("segment"),
            FlowBy::Channel => attr("channel"),
            FlowBy::Day => GroupBy::Period(Period::Day),
            FlowBy::Week => GroupBy::Period(Period::Week),
            FlowBy::Month => GroupBy::Period(Period::Month),
            FlowBy::Quarter => GroupBy::Period(Period::Quarter),
            FlowBy::Year => GroupBy::Period(Period::Year),
        });
    }
    if let Some(a) = &args.by_attribute {
        config.group_by = Some(GroupBy::Attribute(a.clone()));
    }
    let f = &args.filters;
    let time = |flag: &str, v: &Option<String>| -> Result<Option<i64>> {
        v.as_deref()
            .map(|s| {
                Timestamp::parse(flag, s, &DateOptions::default())
                    .map(|t| t.unix().saturating_mul(1000))
                    .map_err(|e| anyhow::anyhow!("--{flag}: {e}"))
            })
            .transpose()
    };
    let filter = CaseFilter {
        started_from_ms: time("from", &f.from)?,
        started_before_ms: time("to", &f.to)?,
        equals: f
            .dimensions()
            .into_iter()
            .map(|(_, dim, v)| (dim, v))
            .collect(),
    };
    if let (Some(a), Some(b)) = (filter.started_from_ms, filter.started_before_ms)
        && a >= b
    {
        bail!("--from must be before --to");
    }
    Ok(FlowQuery { config, filter })
}

fn read_flow_config(p: &Path) -> Result<FlowConfig> {
    let text =
        std::fs::read_to_string(p).with_context(|| format!("cannot read {}", p.display()))?;
    toml::from_str(&text).with_context(|| {
        format!(
            "flow config {} is invalid: it takes lifecycle, escalation, closing, group_by and \
             max_listed_cases (README: \"Case-flow configuration\")",
            p.display()
        )
    })
}

/// The cases to analyse: a log file, or the store's case events with what the store knows of
/// each case (customer, product, segment, channel) when the question needs it.
fn load(ctx: &Ctx, args: &FlowArgs, query: &FlowQuery) -> Result<EventLog> {
    if let Some(path) = &args.log {
        let (log, quarantined) = hearken_eventlog::read_path(path, &ReadOptions::default())
            .with_context(|| format!("cannot read event log {}", path.display()))?;
        for q in quarantined.iter().take(20) {
            eprintln!("quarantined: {q}");
        }
        if quarantined.len() > 20 {
            eprintln!("... and {} more quarantined events", quarantined.len() - 20);
        }
        return Ok(log);
    }
    let store = ctx.open_store()?;
    let rows = store.case_event_rows(&Window::default())?;
    let at_ms: Vec<i64> = rows.at.iter().map(|t| t.saturating_mul(1000)).collect();
    let attribute_dims = ["customer", "product", "segment", "channel"];
    let asks = |d: &Dimension| matches!(d, Dimension::Attribute(a) if attribute_dims.contains(&a.as_str()));
    let needs_attributes = query.filter.equals.iter().any(|(d, _)| asks(d))
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
        let per_event = |col| per_event(&of_case, col);
        columns = vec![
            ("customer", per_event(&a.customer)),
            ("product", per_event(&a.product)),
            ("segment", per_event(&a.segment)),
            ("channel", per_event(&a.channel)),
        ];
    }
    let attributes: Vec<(&str, &[Option<&str>])> =
        columns.iter().map(|(n, v)| (*n, v.as_slice())).collect();
    Ok(EventLog::from_columns(CaseEventColumns {
        case: &strs(&rows.case),
        at_ms: &at_ms,
        activity: &strs(&rows.activity),
        agent: &opt_strs(&rows.agent),
        team: &opt_strs(&rows.team),
        text: &opt_strs(&rows.text),
        sentiment: Some(&rows.sentiment),
        attributes: &attributes,
    })?)
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

fn opt_strs(v: &[Option<String>]) -> Vec<Option<&str>> {
    v.iter().map(Option::as_deref).collect()
}

/// A per-case column spread over the events (`of_case`: each event's row in `col`).
fn per_event<'a>(of_case: &[Option<usize>], col: &'a [Option<String>]) -> Vec<Option<&'a str>> {
    of_case
        .iter()
        .map(|i| i.and_then(|i| col[i].as_deref()))
        .collect()
}

/// A refused question, with the flag it came from and, from the store, where the values come
/// from.
fn explain(e: QueryError, args: &FlowArgs, source: &str) -> anyhow::Error {
    let flag = match &e {
        QueryError::MissingDimension {
            action: "group cases",
            ..
        } => match (&args.by, &args.by_attribute) {
            (Some(by), _) => format!(
                "--by {}",
                by.to_possible_value()
                    .map_or_else(String::new, |v| v.get_name().to_string())
            ),
            (None, Some(a)) => format!("--by-attribute {a}"),
            // The grouping came from the flow config.
            (None, None) => "group_by (flow config)".to_string(),
        },
        QueryError::MissingDimension { dimension, .. }
        | QueryError::UnknownValue { dimension, .. } => args
            .filters
            .dimensions()
            .into_iter()
            .find(|(_, d, _)| d.label() == dimension)
            .map_or_else(|| dimension.clone(), |(flag, _, v)| format!("{flag} {v}")),
        QueryError::EmptyWindow { .. } => "--from/--to".to_string(),
    };
    let hint = match (&e, &args.log) {
        (QueryError::MissingDimension { dimension, .. }, None)
            if ["customer", "product", "segment", "channel"].contains(&dimension.as_str()) =>
        {
            "; from the store, a case's customer and product come from the customer_id and \
             product_id columns of its case events, else from the signals and survey responses \
             with its case_id; its channel from those signals; its segment from customers.csv"
        }
        (QueryError::MissingDimension { dimension, .. }, None) if dimension == "team" => {
            "; from the store, a case event's team is its team column, else its agent's team \
             (agents.csv)"
        }
        _ => "",
    };
    anyhow::anyhow!("{flag}: {e} (in {source}){hint}")
}
