//! `hearken cost`: the cost of quality from the `[cost]` mapping of hearken.toml.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, ValueEnum};
use hearken_query::cost::CostGroup;
use hearken_query::{CostBy, CostRequest, CostResponse, Scope};

use super::Ctx;
use super::select::{cli_error, fresh_snapshot};
use crate::output;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum By {
    Topic,
    Product,
}

#[derive(Debug, Args)]
pub struct CostArgs {
    /// Only signals and case events at or after this date [default: the first signal's day]
    #[arg(long, value_name = "DATE")]
    pub from: Option<String>,
    /// Only before this date [default: the day after the last signal]
    #[arg(long, value_name = "DATE")]
    pub to: Option<String>,
    /// List the cost per topic or per product only [default: both]
    #[arg(long, value_enum)]
    pub by: Option<By>,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: CostArgs) -> Result<ExitCode> {
    let store = ctx.open_frames()?;
    fresh_snapshot(store.as_ref())?;
    let req = CostRequest {
        from: args.from,
        to: args.to,
        by: args.by.map(|b| match b {
            By::Topic => CostBy::Topic,
            By::Product => CostBy::Product,
        }),
        mapping: ctx.config.cost.clone(),
    };
    let r = hearken_query::cost(store.as_ref(), &Scope::all(), &req).map_err(cli_error)?;
    if args.json {
        output::json(&r)?;
    } else {
        let currency = r.currency.clone().or_else(|| ctx.config.currency.clone());
        print!("{}", render(&r, currency.as_deref()));
    }
    Ok(ExitCode::SUCCESS)
}

const SHOWN: usize = 15;

pub fn render(r: &CostResponse, currency: Option<&str>) -> String {
    let mut out = String::new();
    let m = |x: f64| output::money(x, currency);
    let _ = writeln!(
        out,
        "cost of quality {} to {} ({:.0} days): {}",
        r.from,
        r.to,
        r.days,
        m(r.total)
    );
    let rows: Vec<Vec<String>> = r
        .by_category
        .iter()
        .map(|c| {
            vec![
                c.category.as_str().replace('_', " "),
                m(c.amount),
                output::thousands(c.items),
            ]
        })
        .collect();
    out.push_str(&output::table(&["category", "amount", "items"], &rows));
    let table = |first: &str, groups: &[CostGroup]| {
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
                    m(g.amount),
                    m(g.prevention),
                    m(g.appraisal),
                    m(g.internal_failure),
                    m(g.external_failure),
                    output::thousands(g.signals),
                    output::thousands(g.events),
                ]);
                row
            })
            .collect();
        let mut headers = vec![first];
        if named {
            headers.push("name");
        }
        headers.extend([
            "amount",
            "prevention",
            "appraisal",
            "internal",
            "external",
            "signals",
            "events",
        ]);
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
    if !r.by_topic.is_empty() {
        out.push('\n');
        out.push_str(&table("topic", &r.by_topic));
    }
    if !r.by_product.is_empty() {
        out.push('\n');
        out.push_str(&table("product", &r.by_product));
    }
    let a = &r.avoidable;
    let _ = writeln!(
        out,
        "\navoidable contacts (same customer, same topic within {} days): {} of {}{}",
        a.window_days,
        output::thousands(a.repeats),
        output::thousands(a.eligible),
        a.amount.map_or(
            " (set [cost] avoidable_contact to price them)".to_string(),
            |x| format!(", costing {}", m(x))
        )
    );
    if r.unpriced_signals + r.unpriced_events > 0 {
        let _ = writeln!(
            out,
            "not priced by any rule: {} signals, {} case events",
            output::thousands(r.unpriced_signals),
            output::thousands(r.unpriced_events)
        );
    }
    output::notes(&mut out, &r.notes, r.partial.as_ref());
    out
}
