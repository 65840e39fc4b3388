use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use hearken_query::repeats::RepeatShare;
use hearken_query::{RepeatsRequest, RepeatsResponse};

use hearken_query::Scope;

use super::Ctx;
use super::select::{Filters, cli_error, fresh_snapshot};
use crate::output;

#[derive(Debug, Args)]
pub struct RepeatsArgs {
    /// A contact is a repeat when the same customer raised the same topic within this many days
    #[arg(long, default_value_t = 7)]
    pub days: u32,
    /// Cost of handling one contact, to put a price on avoidable contacts
    #[arg(long, value_name = "AMOUNT")]
    pub cost_per_contact: Option<f64>,
    /// Confidence level of the interval of the repeat rate
    #[arg(long, default_value_t = 0.9)]
    pub level: f64,
    #[command(flatten)]
    pub filters: Filters,
    /// Print JSON (the rate with its interval, by topic and by product)
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub engine: super::engine::EngineArgs,
}

impl RepeatsArgs {
    pub fn request(&self) -> RepeatsRequest {
        RepeatsRequest {
            days: self.days,
            cost_per_contact: self.cost_per_contact,
            level: self.level,
            ..RepeatsRequest::default()
        }
        .with_filters(self.filters.query())
    }
}

pub fn run(ctx: &Ctx, args: RepeatsArgs) -> Result<ExitCode> {
    let store = ctx.open_frames()?;
    fresh_snapshot(&*store)?;
    let r = match args.engine.spark(ctx)? {
        Some((spark, lake)) => {
            hearken_spark::repeats(&spark, &lake, &*store, &Scope::all(), &args.request())
                .map_err(super::engine::spark_error)?
        }
        None => {
            hearken_query::repeats(&*store, &Scope::all(), &args.request()).map_err(cli_error)?
        }
    };
    if args.json {
        output::json(&r)?;
    } else {
        print!("{}", render(&r, ctx.config.currency.as_deref()));
    }
    Ok(ExitCode::SUCCESS)
}

/// Rows shown per table.
const SHOWN: usize = 15;

pub fn render(r: &RepeatsResponse, currency: Option<&str>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} of {} contacts with a customer and a topic were repeats within {} days: {} ({:.0}% interval {} to {}){}",
        output::thousands(r.repeats),
        output::thousands(r.eligible),
        r.window_days,
        output::pct(r.rate),
        r.level * 100.0,
        output::pct(r.low),
        output::pct(r.high),
        r.cost.map_or(String::new(), |c| format!(
            "; avoidable cost {}",
            output::money(c, currency)
        ))
    );
    let costed = r.cost.is_some();
    let table = |first: &str, groups: &[RepeatShare]| {
        let named = groups.iter().take(SHOWN).any(|g| g.name.is_some());
        let rows: Vec<Vec<String>> = groups
            .iter()
            .take(SHOWN)
            .map(|g| {
                let mut row = vec![g.group.clone()];
                if named {
                    row.push(g.name.clone().unwrap_or_default());
                }
                row.extend([
                    output::thousands(g.repeats),
                    output::thousands(g.eligible),
                    output::pct(g.rate),
                ]);
                if costed {
                    row.push(g.cost.map_or("-".into(), |c| output::money(c, currency)));
                }
                row
            })
            .collect();
        let mut headers = vec![first];
        if named {
            headers.push("name");
        }
        headers.extend(["repeats", "contacts", "rate"]);
        if costed {
            headers.push("cost");
        }
        let mut t = output::table(&headers, &rows);
        if groups.len() > SHOWN {
            let _ = writeln!(
                t,
                "... and {} more (`--json` lists all)",
                groups.len() - SHOWN
            );
        }
        t
    };
    out.push_str(&table("topic", &r.by_topic));
    out.push('\n');
    out.push_str(&table("product", &r.by_product));
    for w in &r.quality.warnings {
        let _ = writeln!(out, "note: {w}");
    }
    output::notes(&mut out, &r.notes, r.partial.as_ref());
    out
}
