use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, ValueEnum};
use hearken_engine::keys::Period;
use hearken_engine::trends::{SpikeOptions, period_counts, trends};

use super::Ctx;
use super::select::{self, Filters};
use crate::output;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PeriodArg {
    Day,
    Week,
    Month,
}

#[derive(Debug, Args)]
pub struct TrendsArgs {
    /// Period of the volume series
    #[arg(long, value_enum, default_value = "week")]
    pub period: PeriodArg,
    #[command(flatten)]
    pub filters: Filters,
    /// Print JSON (series per topic with expected ranges, and the spikes)
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: TrendsArgs) -> Result<ExitCode> {
    let period = match args.period {
        PeriodArg::Day => Period::Day,
        PeriodArg::Week => Period::Week,
        PeriodArg::Month => Period::Month,
    };
    let store = ctx.open_store()?;
    let select::Signals { frame: f, .. } = select::signals(
        &store,
        &args.filters,
        None,
        hearken_store::SignalColumns {
            at: true,
            topic: true,
            ..hearken_store::SignalColumns::default()
        },
        false,
    )?;
    let (Some(&lo), Some(&hi)) = (f.at.iter().min(), f.at.iter().max()) else {
        if args.json {
            output::json(
                &serde_json::json!({"no_data": true, "periods": [], "topics": [], "spikes": []}),
            )?;
        } else {
            println!("no signals in this selection");
        }
        return Ok(ExitCode::SUCCESS);
    };
    let counts = period_counts(
        &f.at,
        &f.topic,
        f.topics.len(),
        period,
        period.index(lo),
        period.index(hi),
        0..f.len(),
    )?;
    // Many topics x many periods are tested at once: a 99.9% bound keeps false alarms to about one
    // per thousand topic-periods.
    let opts = SpikeOptions {
        level: 0.999,
        ..SpikeOptions::for_period(period)
    };
    let mut t = trends(&counts, &f.topics, &opts);
    // Signals without a topic are not a topic that can spike.
    t.spikes.retain(|s| s.code.is_some());
    if args.json {
        output::json(&t)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} periods from {} to {}",
        t.periods.len(),
        t.periods.first().map_or("", String::as_str),
        t.periods.last().map_or("", String::as_str)
    );
    if t.spikes.is_empty() {
        println!("no spikes: every topic stayed within its expected range");
    } else {
        let rows: Vec<Vec<String>> = t
            .spikes
            .iter()
            .map(|s| {
                vec![
                    s.period.clone(),
                    s.topic.clone(),
                    s.count.to_string(),
                    format!("{:.0}", s.expected),
                    format!("{:.0}", s.high),
                ]
            })
            .collect();
        println!(
            "spikes (volume above the expected range from the same point in earlier periods):"
        );
        print!(
            "{}",
            output::table(
                &["period", "topic", "signals", "expected", "upper bound"],
                &rows
            )
        );
    }
    for w in &t.quality.warnings {
        println!("note: {w}");
    }
    Ok(ExitCode::SUCCESS)
}
