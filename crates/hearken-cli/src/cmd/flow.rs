//! `hearken flow`: case flow from a log file or the store's case events.
//!
//! Flags become a [`FlowRequest`]; the query layer answers it over the store
//! (`hearken_query::flow`) or over a log file read here (`hearken_query::flow_of_log`), the same
//! selection and figures either way; the answer is printed as JSON or rendered as tables.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use hearken_eventlog::ReadOptions;
use hearken_flow::{FlowConfig, HandoverMatrix, render_text};
use hearken_query::{FlowRequest, FlowResponse, Scope};

use super::Ctx;
use super::select::cli_error;
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

pub fn run(ctx: &Ctx, args: FlowArgs) -> Result<ExitCode> {
    let req = request(&args)?;
    let response = match &args.log {
        Some(path) => {
            let log = read_log(path)?;
            hearken_query::flow_of_log(&log, &req).map_err(|e| {
                let line = cli_error(e);
                anyhow::anyhow!("{line} (in the log {})", path.display())
            })?
        }
        None => {
            // The SQLite file or a PostgreSQL database (ADR 0012).
            let store = ctx.open_frames()?;
            hearken_query::flow(store.as_ref(), &Scope::all(), &req).map_err(cli_error)?
        }
    };
    if let Some(path) = &args.handover_csv {
        std::fs::write(path, HandoverMatrix::from_report(&response.report).to_csv())
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    if args.json {
        output::json(&response)?;
    } else {
        print!("{}", render(&response));
    }
    Ok(ExitCode::SUCCESS)
}

/// The response as tables: the report's, names beside ids, then whether it may be partial.
pub fn render(r: &FlowResponse) -> String {
    let mut out = render_text(&r.report);
    output::notes(&mut out, &[], r.partial.as_ref());
    out
}

/// The question the flags ask.
pub fn request(args: &FlowArgs) -> Result<FlowRequest> {
    let f = &args.filters;
    Ok(FlowRequest {
        from: f.from.clone(),
        to: f.to.clone(),
        segment: f.segment.clone(),
        product: f.product.clone(),
        channel: f.channel.clone(),
        agent: f.agent.clone(),
        team: f.team.clone(),
        customer: f.customer.clone(),
        by: args.by.map(FlowBy::query),
        by_attribute: args.by_attribute.clone(),
        escalation: args.escalation.clone(),
        closing: args.closing.clone(),
        flow_config: args
            .flow_config
            .as_deref()
            .map(read_flow_config)
            .transpose()?,
    })
}

impl FlowBy {
    fn query(self) -> hearken_query::FlowBy {
        use hearken_query::FlowBy as Q;
        match self {
            FlowBy::Team => Q::Team,
            FlowBy::Agent => Q::Agent,
            FlowBy::Customer => Q::Customer,
            FlowBy::Product => Q::Product,
            FlowBy::Segment => Q::Segment,
            FlowBy::Channel => Q::Channel,
            FlowBy::Day => Q::Day,
            FlowBy::Week => Q::Week,
            FlowBy::Month => Q::Month,
            FlowBy::Quarter => Q::Quarter,
            FlowBy::Year => Q::Year,
        }
    }
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

/// An event log file, its unusable events reported on stderr.
fn read_log(path: &Path) -> Result<hearken_flow::EventLog> {
    let (log, quarantined) = hearken_eventlog::read_path(path, &ReadOptions::default())
        .with_context(|| format!("cannot read event log {}", path.display()))?;
    for q in quarantined.iter().take(20) {
        eprintln!("quarantined: {q}");
    }
    if quarantined.len() > 20 {
        eprintln!("... and {} more quarantined events", quarantined.len() - 20);
    }
    Ok(log)
}
