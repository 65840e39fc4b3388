use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use hearken_query::{IssuesRequest, IssuesResponse};

use hearken_query::Scope;

use super::Ctx;
use super::select::{Filters, cli_error, fresh_snapshot};
use crate::output;

#[derive(Debug, Args)]
pub struct IssuesRankArgs {
    /// How many issues
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    /// How many signals to list behind each issue in the JSON, most negative first
    #[arg(long, default_value_t = 20)]
    pub evidence: usize,
    #[command(flatten)]
    pub filters: Filters,
    #[command(flatten)]
    pub engine: super::engine::EngineArgs,
    /// Print JSON (each issue with the signals behind it)
    #[arg(long)]
    pub json: bool,
}

impl IssuesRankArgs {
    pub fn request(&self) -> IssuesRequest {
        IssuesRequest {
            limit: self.limit,
            evidence: self.evidence,
            ..IssuesRequest::default()
        }
        .with_filters(self.filters.query())
    }
}

pub fn run(ctx: &Ctx, args: IssuesRankArgs) -> Result<ExitCode> {
    args.engine.embedded_only(ctx, "issues-rank")?;
    let store = ctx.open_frames()?;
    fresh_snapshot(&*store)?;
    let r = hearken_query::issues(&*store, &Scope::all(), &args.request()).map_err(cli_error)?;
    if args.json {
        output::json(&r)?;
    } else {
        print!("{}", render(&r, ctx.config.currency.as_deref()));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn render(r: &IssuesResponse, currency: Option<&str>) -> String {
    let mut out = String::new();
    if r.issues.is_empty() {
        let _ = writeln!(out, "no signals in this selection");
        output::notes(&mut out, &r.notes, r.partial.as_ref());
        return out;
    }
    let table: Vec<Vec<String>> = r
        .issues
        .iter()
        .map(|i| {
            vec![
                i.rank.to_string(),
                i.topic.clone(),
                output::thousands(i.signals),
                i.negative_share
                    .map_or("-".into(), |v| format!("{:.0}%", v * 100.0)),
                i.mean_value
                    .map_or("-".into(), |v| output::money(v, currency)),
                output::num(i.score, 1),
            ]
        })
        .collect();
    out.push_str(&output::table(
        &[
            "rank",
            "topic",
            "signals",
            "negative",
            "mean customer value",
            "score",
        ],
        &table,
    ));
    let _ = writeln!(
        out,
        "score = signals x share negative x customer-value factor; `--json` lists the signals behind each"
    );
    output::notes(&mut out, &r.notes, r.partial.as_ref());
    out
}
