use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use hearken_query::scores::{Estimate, SCORES_BY};
use hearken_query::{By, Metric, ScoresRequest, ScoresResponse};

use hearken_query::Scope;

use super::Ctx;
use super::select::{Filters, by_parser, cli_error, fresh_snapshot, one_of};
use crate::output;

#[derive(Debug, Args)]
pub struct ScoresArgs {
    /// Which score: nps (% promoters minus % detractors), csat (% of 4-5 on 1-5), ces (mean effort
    /// on 1-7) or sentiment (net sentiment of signals: % positive minus % negative)
    #[arg(long, default_value = "nps", value_parser = one_of::<Metric>(Metric::ALL.iter().map(|m| m.as_str()).collect()))]
    pub metric: Metric,
    /// Split by this dimension (topic and stage: with --metric sentiment; tenure: new vs
    /// long-standing; tenure-band: <90d, 90-365d, 365-730d, 730d+; cohort: signup month)
    #[arg(long, value_parser = by_parser(SCORES_BY))]
    pub by: Option<By>,
    /// Confidence level of the intervals
    #[arg(long, default_value_t = 0.9)]
    pub level: f64,
    #[command(flatten)]
    pub filters: Filters,
    /// Compare with the window starting at this date (the selection, --from/--to, is the later
    /// one): the change with its interval and two-sided p-value
    #[arg(long, value_name = "DATE", requires = "against_to")]
    pub against_from: Option<String>,
    /// End (exclusive) of the window to compare with
    #[arg(long, value_name = "DATE", requires = "against_from")]
    pub against_to: Option<String>,
    /// Percentile bootstrap intervals from this many resamples instead of the closed-form ones
    #[arg(long, value_name = "RESAMPLES")]
    pub bootstrap: Option<u32>,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub engine: super::engine::EngineArgs,
}

impl ScoresArgs {
    pub fn request(&self) -> ScoresRequest {
        ScoresRequest {
            metric: self.metric,
            by: self.by,
            level: self.level,
            against_from: self.against_from.clone(),
            against_to: self.against_to.clone(),
            bootstrap: self.bootstrap,
            ..ScoresRequest::default()
        }
        .with_filters(self.filters.query())
    }
}

pub fn run(ctx: &Ctx, args: ScoresArgs) -> Result<ExitCode> {
    let store = ctx.open_frames()?;
    fresh_snapshot(&*store)?;
    let response = match args.engine.spark(ctx)? {
        Some((spark, lake)) => {
            hearken_spark::scores(&spark, &lake, &*store, &Scope::all(), &args.request())
                .map_err(super::engine::spark_error)?
        }
        None => {
            hearken_query::scores(&*store, &Scope::all(), &args.request()).map_err(cli_error)?
        }
    };
    if args.json {
        output::json(&response)?;
    } else {
        print!("{}", render(&response));
    }
    Ok(ExitCode::SUCCESS)
}

/// The response as a table: one row per group (or `all`), then the change when comparing.
pub fn render(r: &ScoresResponse) -> String {
    let mut out = String::new();
    match r {
        ScoresResponse::Overall(o) => {
            rows(&mut out, o.metric, None, &[("all", None, &o.estimate)]);
            output::notes(&mut out, &o.notes, o.partial.as_ref());
        }
        ScoresResponse::Groups(g) => {
            let list: Vec<(&str, Option<&str>, &Estimate)> = g
                .groups
                .iter()
                .map(|x| (x.group.as_str(), x.name.as_deref(), &x.estimate))
                .collect();
            rows(&mut out, g.metric, Some(g.by), &list);
            output::notes(&mut out, &g.notes, g.partial.as_ref());
        }
        ScoresResponse::Change(c) => {
            rows(
                &mut out,
                c.metric,
                None,
                &[
                    ("baseline", None, &c.baseline),
                    ("selection", None, &c.selection),
                ],
            );
            let d = &c.change;
            let signed = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:+.1}"));
            let _ = writeln!(
                out,
                "change {} ({:.0}% interval {} to {}), p = {}{}",
                signed(d.diff),
                d.level * 100.0,
                signed(d.low),
                signed(d.high),
                d.p_value.map_or("-".to_string(), |p| format!("{p:.3}")),
                match d.significant {
                    Some(true) => ": a real change at this level",
                    Some(false) => ": not distinguishable from no change at this level",
                    None => "",
                }
            );
            output::notes(&mut out, &c.notes, c.partial.as_ref());
        }
    }
    out
}

fn rows(
    out: &mut String,
    metric: Metric,
    by: Option<By>,
    list: &[(&str, Option<&str>, &Estimate)],
) {
    let named = list.iter().any(|(_, n, _)| n.is_some());
    let table: Vec<Vec<String>> = list
        .iter()
        .map(|(group, name, e)| {
            let q = e.quality();
            let mut note = Vec::new();
            if q.no_data {
                note.push("no data");
            }
            if q.small_sample {
                note.push("small sample");
            }
            let (low, high) = e.interval();
            let mut row = vec![group.to_string()];
            if named {
                row.push(name.unwrap_or("").to_string());
            }
            row.extend([
                output::num(e.value(), 1),
                format!("{} to {}", output::num(low, 1), output::num(high, 1)),
                output::thousands(e.n()),
                note.join(", "),
            ]);
            row
        })
        .collect();
    let level = list.first().map_or(0.9, |(_, _, e)| e.level());
    let interval = format!("{:.0}% interval", level * 100.0);
    let first = by.map_or("group", By::as_str);
    let mut headers = vec![first];
    if named {
        headers.push("name");
    }
    headers.extend([metric.figure(), interval.as_str(), "n", "note"]);
    out.push_str(&output::table(&headers, &table));
}
