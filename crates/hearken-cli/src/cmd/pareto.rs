use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;
use hearken_engine::pareto::{EntityCounts, ParetoOptions, pareto};

use super::Ctx;
use super::select::{self, By, Filters, KeyColumns};
use crate::output;

#[derive(Debug, Args)]
pub struct ParetoArgs {
    /// Whose contacts: customer, product, topic, channel, agent, segment, team
    #[arg(long, value_enum, default_value = "customer")]
    pub by: By,
    /// How many of the largest to list
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    #[command(flatten)]
    pub filters: Filters,
    /// Print JSON (top20_share, k80, entities, contacts, gini, lorenz, top)
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: ParetoArgs) -> Result<ExitCode> {
    if matches!(
        args.by,
        By::Day | By::Week | By::Month | By::Tenure | By::TenureBand | By::Cohort
    ) {
        bail!(
            "--by {:?} is not an entity: use customer, product, topic, channel, agent, segment, team or stage",
            args.by
        );
    }
    let store = ctx.open_store()?;
    let select::Signals {
        frame: f,
        customers,
        agents,
    } = select::signals(
        &store,
        &args.filters,
        Some(args.by),
        hearken_store::SignalColumns::default(),
        false,
    )?;
    let key = select::key(args.by, &KeyColumns::of_signals(&f), &customers, &agents)?;
    let counts = EntityCounts::from_codes(&key.codes, key.dict.len(), 0..key.codes.len());
    let p = pareto(
        &counts,
        &key.dict,
        &ParetoOptions {
            top: args.top,
            ..ParetoOptions::default()
        },
    );
    if args.json {
        output::json(&p)?;
        return Ok(ExitCode::SUCCESS);
    }
    let pct = |x: Option<f64>| x.map_or("n/a".into(), |v| format!("{:.1}%", v * 100.0));
    println!(
        "{} contacts from {} {} entities; the top 20% ({}) account for {}; {} cover 80%; Gini {}",
        output::thousands(p.contacts),
        output::thousands(p.entities),
        args.by.name(),
        output::thousands(p.top20_entities),
        pct(p.top20_share),
        p.k80.map_or("n/a".into(), output::thousands),
        p.gini.map_or("n/a".into(), |g| format!("{g:.3}"))
    );
    if p.unattributed > 0 {
        println!(
            "{} contacts have no {} and are left out",
            output::thousands(p.unattributed),
            args.by.name()
        );
    }
    let rows: Vec<Vec<String>> = p
        .top
        .iter()
        .map(|t| {
            vec![
                t.entity.clone(),
                output::thousands(t.contacts),
                format!("{:.1}%", t.share * 100.0),
                format!("{:.1}%", t.cumulative_share * 100.0),
            ]
        })
        .collect();
    print!(
        "{}",
        output::table(&["entity", "contacts", "share", "cumulative"], &rows)
    );
    Ok(ExitCode::SUCCESS)
}
