use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use hearken_eventlog::ReadOptions;
use hearken_flow::{
    CaseEventColumns, EventLog, FlowConfig, GroupBy, HandoverMatrix, Period, analyze, render_text,
};

use super::Ctx;
use super::select::Filters;
use crate::output;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FlowBy {
    Team,
    Day,
    Week,
    Month,
    Quarter,
    Year,
    Product,
    Segment,
}

#[derive(Debug, Args)]
pub struct FlowArgs {
    /// An event log (.xes, .xes.gz, .csv, .csv.gz, Zendesk ticket-events .json); none: the store's case events
    #[arg(value_name = "LOG")]
    pub log: Option<PathBuf>,
    /// A TOML file with lifecycle mapping, escalation and closing activities (see the README)
    #[arg(long, value_name = "FILE.toml")]
    pub config: Option<PathBuf>,
    /// Activities that are escalations (repeatable; adds to the config file)
    #[arg(long = "escalation", value_name = "ACTIVITY")]
    pub escalation: Vec<String>,
    /// Activities that close a case (repeatable)
    #[arg(long = "closing", value_name = "ACTIVITY")]
    pub closing: Vec<String>,
    /// The same figures per group of cases
    #[arg(long, value_enum)]
    pub by: Option<FlowBy>,
    /// Write the full handover matrix (agent x agent) as CSV to this file
    #[arg(long, value_name = "FILE.csv")]
    pub handover_csv: Option<PathBuf>,
    #[command(flatten)]
    pub filters: Filters,
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: FlowArgs) -> Result<ExitCode> {
    let mut config: FlowConfig = match &args.config {
        Some(p) => {
            let text = std::fs::read_to_string(p)
                .with_context(|| format!("cannot read {}", p.display()))?;
            toml::from_str(&text)
                .with_context(|| format!("flow config {} is invalid", p.display()))?
        }
        None => FlowConfig::default(),
    };
    config.escalation.extend(args.escalation.iter().cloned());
    config.closing.extend(args.closing.iter().cloned());
    config.group_by = args.by.map(|b| match b {
        FlowBy::Team => GroupBy::Team,
        FlowBy::Day => GroupBy::Period(Period::Day),
        FlowBy::Week => GroupBy::Period(Period::Week),
        FlowBy::Month => GroupBy::Period(Period::Month),
        FlowBy::Quarter => GroupBy::Period(Period::Quarter),
        FlowBy::Year => GroupBy::Period(Period::Year),
        FlowBy::Product => GroupBy::Attribute("product".into()),
        FlowBy::Segment => GroupBy::Attribute("segment".into()),
    });
    let log = match &args.log {
        Some(path) => {
            let (log, quarantined) = hearken_eventlog::read_path(path, &ReadOptions::default())
                .with_context(|| format!("cannot read event log {}", path.display()))?;
            for q in quarantined.iter().take(20) {
                eprintln!("quarantined: {q}");
            }
            if quarantined.len() > 20 {
                eprintln!("... and {} more quarantined events", quarantined.len() - 20);
            }
            log
        }
        None => {
            let store = ctx.open_store()?;
            let rows = store.case_event_rows(&args.filters.window()?)?;
            let at_ms: Vec<i64> = rows.at.iter().map(|t| t.saturating_mul(1000)).collect();
            EventLog::from_columns(CaseEventColumns {
                case: &rows.case,
                at_ms: &at_ms,
                activity: &rows.activity,
                agent: &rows.agent,
                team: &rows.team,
                text: &rows.text,
                sentiment: Some(&rows.sentiment),
            })?
        }
    };
    let report = analyze(&log, &config);
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
