use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, ValueEnum};
use hearken_engine::Level;
use hearken_engine::scores::{self, CesTally, CsatTally, NpsTally, ScoreOptions};
use serde::Serialize;

use super::Ctx;
use super::select::{self, By, Filters, KeyColumns};
use crate::output;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Metric {
    /// Net Promoter Score: % promoters (9-10) minus % detractors (0-6)
    Nps,
    /// % of 4-5 on 1-5
    Csat,
    /// Mean customer effort on 1-7
    Ces,
}

#[derive(Debug, Args)]
pub struct ScoresArgs {
    #[arg(long, value_enum, default_value = "nps")]
    pub metric: Metric,
    /// Split by this dimension
    #[arg(long, value_enum)]
    pub by: Option<By>,
    /// Confidence level of the intervals
    #[arg(long, default_value_t = 0.9)]
    pub level: f64,
    #[command(flatten)]
    pub filters: Filters,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: ScoresArgs) -> Result<ExitCode> {
    let store = ctx.open_store()?;
    let select::Surveys {
        frame: f,
        customers,
        agents,
    } = select::surveys(&store, &args.filters)?;
    let opts = ScoreOptions {
        level: Level::new(args.level)?,
        ..ScoreOptions::default()
    };
    let n = f.len();
    let Some(by) = args.by else {
        let value = match args.metric {
            Metric::Nps => {
                serde_json::to_value(scores::nps(&NpsTally::from_column(&f.nps, 0, 0..n), &opts))?
            }
            Metric::Csat => serde_json::to_value(scores::csat(
                &CsatTally::from_column(&f.csat, 1, 0..n),
                &opts,
            ))?,
            Metric::Ces => {
                serde_json::to_value(scores::ces(&CesTally::from_column(&f.ces, 1, 0..n), &opts))?
            }
        };
        if args.json {
            output::json(&value)?;
        } else {
            print_rows(args.metric, &[("all".to_string(), value)]);
        }
        return Ok(ExitCode::SUCCESS);
    };
    let key = select::key(
        by,
        &KeyColumns {
            at: &f.at,
            customer: &f.customer,
            product: &f.product,
            agent: &f.agent,
            channel: &f.channel,
            topic: None,
            customers: &f.customers,
            products: &f.products,
            agents: &f.agents,
            topics: None,
        },
        &customers,
        &agents,
    )?;
    let groups: Vec<(String, serde_json::Value)> = match args.metric {
        Metric::Nps => to_rows(scores::nps_by(&f.nps, &key, &opts)?)?,
        Metric::Csat => to_rows(scores::csat_by(&f.csat, &key, &opts)?)?,
        Metric::Ces => to_rows(scores::ces_by(&f.ces, &key, &opts)?)?,
    };
    if args.json {
        let list: Vec<serde_json::Value> = groups
            .into_iter()
            .map(|(g, mut v)| {
                v["group"] = g.into();
                v
            })
            .collect();
        output::json(&list)?;
    } else {
        print_rows(args.metric, &groups);
    }
    Ok(ExitCode::SUCCESS)
}

fn to_rows<T: Serialize>(
    groups: Vec<hearken_engine::GroupEstimate<T>>,
) -> Result<Vec<(String, serde_json::Value)>> {
    groups
        .into_iter()
        .map(|g| Ok((g.group, serde_json::to_value(&g.estimate)?)))
        .collect()
}

fn print_rows(metric: Metric, rows: &[(String, serde_json::Value)]) {
    let name = match metric {
        Metric::Nps => "nps",
        Metric::Csat => "csat",
        Metric::Ces => "ces",
    };
    let fmt = |v: &serde_json::Value| v.as_f64().map_or("-".to_string(), |x| format!("{x:.1}"));
    let table: Vec<Vec<String>> = rows
        .iter()
        .map(|(g, v)| {
            let mut note = Vec::new();
            if v["no_data"].as_bool() == Some(true) {
                note.push("no data");
            }
            if v["small_sample"].as_bool() == Some(true) {
                note.push("small sample");
            }
            vec![
                g.clone(),
                fmt(&v[name]),
                format!("{} to {}", fmt(&v["low"]), fmt(&v["high"])),
                v["n"].as_u64().map_or("0".into(), output::thousands),
                note.join(", "),
            ]
        })
        .collect();
    let level = rows
        .first()
        .and_then(|(_, v)| v["level"].as_f64())
        .unwrap_or(0.9);
    let interval = format!("{:.0}% interval", level * 100.0);
    print!(
        "{}",
        output::table(&["group", name, &interval, "n", "note"], &table)
    );
}
