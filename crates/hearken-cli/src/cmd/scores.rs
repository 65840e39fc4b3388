use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, ValueEnum};
use hearken_engine::Level;
use hearken_engine::scores::{self, CesTally, CsatTally, NpsTally, ScoreOptions, SentimentTally};
use hearken_store::{SignalColumns, SurveyColumns};
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
    /// Net sentiment of signals: % positive minus % negative (VADER compound >= 0.05 / <= -0.05)
    Sentiment,
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
    let opts = ScoreOptions {
        level: Level::new(args.level)?,
        ..ScoreOptions::default()
    };
    let (overall, groups) = if args.metric == Metric::Sentiment {
        sentiment(&store, &args, &opts)?
    } else {
        survey_scores(&store, &args, &opts)?
    };
    if let Some(value) = overall {
        if args.json {
            output::json(&value)?;
        } else {
            print_rows(args.metric, &[("all".to_string(), value)]);
        }
        return Ok(ExitCode::SUCCESS);
    }
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

/// The whole selection's estimate (no `--by`), or one per group.
type Scored = (Option<serde_json::Value>, Vec<(String, serde_json::Value)>);

fn survey_scores(
    store: &hearken_store::Store,
    args: &ScoresArgs,
    opts: &ScoreOptions,
) -> Result<Scored> {
    let want = SurveyColumns {
        nps: args.metric == Metric::Nps,
        csat: args.metric == Metric::Csat,
        ces: args.metric == Metric::Ces,
        ..SurveyColumns::default()
    };
    let select::Surveys {
        frame: f,
        customers,
        agents,
    } = select::surveys(store, &args.filters, args.by, want)?;
    let n = f.len();
    let Some(by) = args.by else {
        return Ok((
            Some(match args.metric {
                Metric::Nps => serde_json::to_value(scores::nps(
                    &NpsTally::from_column(&f.nps, 0, 0..n),
                    opts,
                ))?,
                Metric::Csat => serde_json::to_value(scores::csat(
                    &CsatTally::from_column(&f.csat, 1, 0..n),
                    opts,
                ))?,
                _ => serde_json::to_value(scores::ces(
                    &CesTally::from_column(&f.ces, 1, 0..n),
                    opts,
                ))?,
            }),
            Vec::new(),
        ));
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
    let groups = match args.metric {
        Metric::Nps => to_rows(scores::nps_by(&f.nps, &key, opts)?)?,
        Metric::Csat => to_rows(scores::csat_by(&f.csat, &key, opts)?)?,
        _ => to_rows(scores::ces_by(&f.ces, &key, opts)?)?,
    };
    Ok((None, groups))
}

fn sentiment(
    store: &hearken_store::Store,
    args: &ScoresArgs,
    opts: &ScoreOptions,
) -> Result<Scored> {
    let want = SignalColumns {
        sentiment: true,
        ..SignalColumns::default()
    };
    let select::Signals {
        frame: f,
        customers,
        agents,
    } = select::signals(store, &args.filters, args.by, want, false)?;
    let Some(by) = args.by else {
        let t = SentimentTally::from_column(&f.sentiment, 0..f.len());
        return Ok((
            Some(serde_json::to_value(scores::net_sentiment(&t, opts))?),
            Vec::new(),
        ));
    };
    let key = select::key(
        by,
        &KeyColumns {
            at: &f.at,
            customer: &f.customer,
            product: &f.product,
            agent: &f.agent,
            channel: &f.channel,
            topic: Some(&f.topic),
            customers: &f.customers,
            products: &f.products,
            agents: &f.agents,
            topics: Some(&f.topics),
        },
        &customers,
        &agents,
    )?;
    Ok((
        None,
        to_rows(scores::net_sentiment_by(&f.sentiment, &key, opts)?)?,
    ))
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
        Metric::Sentiment => "net_sentiment",
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
