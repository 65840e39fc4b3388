use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use hearken_engine::Level;
use hearken_engine::repeats::{ContactColumns, RepeatOptions, repeat_contacts};

use super::Ctx;
use super::select::{self, Filters};
use crate::output;

#[derive(Debug, Args)]
pub struct RepeatsArgs {
    /// A contact is a repeat when the same customer raised the same topic within this many days
    #[arg(long, default_value_t = 7)]
    pub days: u32,
    /// Cost of handling one contact, to put a price on avoidable contacts
    #[arg(long, value_name = "AMOUNT")]
    pub cost_per_contact: Option<f64>,
    #[arg(long, default_value_t = 0.9)]
    pub level: f64,
    #[command(flatten)]
    pub filters: Filters,
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: RepeatsArgs) -> Result<ExitCode> {
    if let Some(c) = args.cost_per_contact {
        anyhow::ensure!(
            c.is_finite() && c >= 0.0,
            "--cost-per-contact {c} must be a non-negative amount"
        );
    }
    let store = ctx.open_store()?;
    let select::Signals { frame: f, .. } = select::signals(
        &store,
        &args.filters,
        None,
        hearken_store::SignalColumns {
            at: true,
            customer: true,
            topic: true,
            product: true,
            product_names: true,
            ..hearken_store::SignalColumns::default()
        },
        false,
    )?;
    let opts = RepeatOptions {
        window_days: args.days,
        cost_per_contact: args.cost_per_contact,
        level: Level::new(args.level)?,
        ..RepeatOptions::default()
    };
    let r = repeat_contacts(&ContactColumns::of(&f), &opts)?;
    if args.json {
        output::json(&r)?;
        return Ok(ExitCode::SUCCESS);
    }
    let pct = |x: Option<f64>| x.map_or("-".into(), |v| format!("{:.1}%", v * 100.0));
    println!(
        "{} of {} contacts with a customer and a topic were repeats within {} days: {} ({} to {}){}",
        output::thousands(r.repeats),
        output::thousands(r.eligible),
        r.window_days,
        pct(r.rate),
        pct(r.low),
        pct(r.high),
        r.cost
            .map_or(String::new(), |c| format!("; avoidable cost {c:.0}"))
    );
    let table: Vec<Vec<String>> = r
        .by_topic
        .iter()
        .take(15)
        .map(|g| {
            vec![
                g.group.clone(),
                output::thousands(g.repeats),
                output::thousands(g.eligible),
                pct(g.rate),
            ]
        })
        .collect();
    print!(
        "{}",
        output::table(&["topic", "repeats", "contacts", "rate"], &table)
    );
    Ok(ExitCode::SUCCESS)
}
