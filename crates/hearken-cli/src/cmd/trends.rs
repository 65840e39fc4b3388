use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use hearken_query::{Period, TrendsRequest, TrendsResponse};

use hearken_query::Scope;

use super::Ctx;
use super::select::{Filters, cli_error, fresh_snapshot, one_of};
use crate::output;

#[derive(Debug, Args)]
pub struct TrendsArgs {
    /// Period of the volume series
    #[arg(long, default_value = "week", value_parser = one_of::<Period>(Period::ALL.iter().map(|p| p.as_str()).collect()))]
    pub period: Period,
    #[command(flatten)]
    pub filters: Filters,
    /// Print JSON (series per topic with expected ranges, and the spikes)
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub engine: super::engine::EngineArgs,
}

impl TrendsArgs {
    pub fn request(&self) -> TrendsRequest {
        TrendsRequest {
            period: self.period,
            ..TrendsRequest::default()
        }
        .with_filters(self.filters.query())
    }
}

pub fn run(ctx: &Ctx, args: TrendsArgs) -> Result<ExitCode> {
    let store = ctx.open_frames()?;
    fresh_snapshot(&*store)?;
    let t = match args.engine.spark(ctx)? {
        Some((spark, lake)) => {
            hearken_spark::trends(&spark, &lake, &*store, &Scope::all(), &args.request())
                .map_err(super::engine::spark_error)?
        }
        None => {
            hearken_query::trends(&*store, &Scope::all(), &args.request()).map_err(cli_error)?
        }
    };
    if args.json {
        output::json(&t)?;
    } else {
        print!("{}", render(&t));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn render(t: &TrendsResponse) -> String {
    let mut out = String::new();
    if t.periods.is_empty() {
        let _ = writeln!(out, "no signals in this selection");
        output::notes(&mut out, &t.notes, t.partial.as_ref());
        return out;
    }
    let topics = t.topics.iter().filter(|s| s.topic != "(none)").count();
    let _ = writeln!(
        out,
        "{} signals in {} topics over {} {}s from {} to {}",
        output::thousands(t.signals - t.without_topic),
        output::thousands(topics as u64),
        t.periods.len(),
        t.period,
        t.periods.first().map_or("", String::as_str),
        t.periods.last().map_or("", String::as_str)
    );
    if t.spikes.is_empty() {
        let _ = writeln!(
            out,
            "no spikes: every topic stayed within its expected range"
        );
    } else {
        let rows: Vec<Vec<String>> = t
            .spikes
            .iter()
            .map(|s| {
                vec![
                    s.period.clone(),
                    s.topic.clone(),
                    output::thousands(u64::from(s.count)),
                    output::thousands(s.expected.round().max(0.0) as u64),
                    output::thousands(s.high.round().max(0.0) as u64),
                ]
            })
            .collect();
        let _ = writeln!(
            out,
            "{} {} (volume above the expected range from the same point in earlier periods):",
            t.spikes.len(),
            if t.spikes.len() == 1 {
                "spike"
            } else {
                "spikes"
            }
        );
        out.push_str(&output::table(
            &["period", "topic", "signals", "expected", "upper bound"],
            &rows,
        ));
    }
    for w in &t.quality.warnings {
        let _ = writeln!(out, "note: {w}");
    }
    output::notes(&mut out, &t.notes, t.partial.as_ref());
    out
}
