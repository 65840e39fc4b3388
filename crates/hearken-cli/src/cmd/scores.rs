use std::process::ExitCode;

use anyhow::Result;
use clap::{Args, ValueEnum};
use hearken_engine::scores::{self, CesTally, CsatTally, NpsTally, ScoreOptions, SentimentTally};
use hearken_engine::{IntervalMethod, Level};
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
}

pub fn run(ctx: &Ctx, args: ScoresArgs) -> Result<ExitCode> {
    let store = ctx.open_store()?;
    let opts = ScoreOptions {
        level: Level::new(args.level)?,
        method: match args.bootstrap {
            None => IntervalMethod::Analytic,
            Some(resamples) => {
                anyhow::ensure!(
                    (100..=1_000_000).contains(&resamples),
                    "--bootstrap {resamples}: give between 100 and 1000000 resamples"
                );
                IntervalMethod::Bootstrap { resamples, seed: 1 }
            }
        },
        ..ScoreOptions::default()
    };
    if args.against_from.is_some() {
        anyhow::ensure!(
            args.by.is_none(),
            "--against-from compares the whole selection with an earlier window; leave out --by"
        );
        return change(&store, &args, &opts);
    }
    let Some(by) = args.by else {
        let value = estimate(&tally(&store, &args.filters, args.metric)?, &opts)?;
        if args.json {
            output::json(&value)?;
        } else {
            print_rows(args.metric, &[("all".to_string(), value)]);
        }
        return Ok(ExitCode::SUCCESS);
    };
    let groups = if args.metric == Metric::Sentiment {
        sentiment_groups(&store, &args, by, &opts)?
    } else {
        survey_groups(&store, &args, by, &opts)?
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

/// Estimates per group of `by`.
type Groups = Vec<(String, serde_json::Value)>;

fn survey_groups(
    store: &hearken_store::Store,
    args: &ScoresArgs,
    by: By,
    opts: &ScoreOptions,
) -> Result<Groups> {
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
    } = select::surveys(store, &args.filters, Some(by), want)?;
    let key = select::key(by, &KeyColumns::of_surveys(&f), &customers, &agents)?;
    let groups = match args.metric {
        Metric::Nps => to_rows(scores::nps_by(&f.nps, &key, opts)?)?,
        Metric::Csat => to_rows(scores::csat_by(&f.csat, &key, opts)?)?,
        _ => to_rows(scores::ces_by(&f.ces, &key, opts)?)?,
    };
    Ok(groups)
}

fn sentiment_groups(
    store: &hearken_store::Store,
    args: &ScoresArgs,
    by: By,
    opts: &ScoreOptions,
) -> Result<Groups> {
    let want = SignalColumns {
        sentiment: true,
        ..SignalColumns::default()
    };
    let select::Signals {
        frame: f,
        customers,
        agents,
    } = select::signals(store, &args.filters, Some(by), want, false)?;
    let key = select::key(by, &KeyColumns::of_signals(&f), &customers, &agents)?;
    to_rows(scores::net_sentiment_by(&f.sentiment, &key, opts)?)
}

/// A metric's mergeable tally over a whole selection.
enum Tally {
    Nps(NpsTally),
    Csat(CsatTally),
    Ces(CesTally),
    Sentiment(SentimentTally),
}

fn tally(store: &hearken_store::Store, filters: &Filters, metric: Metric) -> Result<Tally> {
    if metric == Metric::Sentiment {
        let want = SignalColumns {
            sentiment: true,
            ..SignalColumns::default()
        };
        let f = select::signals(store, filters, None, want, false)?.frame;
        return Ok(Tally::Sentiment(SentimentTally::from_column(
            &f.sentiment,
            0..f.len(),
        )));
    }
    let want = SurveyColumns {
        nps: metric == Metric::Nps,
        csat: metric == Metric::Csat,
        ces: metric == Metric::Ces,
        ..SurveyColumns::default()
    };
    let f = select::surveys(store, filters, None, want)?.frame;
    let n = f.len();
    Ok(match metric {
        Metric::Nps => Tally::Nps(NpsTally::from_column(&f.nps, 0, 0..n)),
        Metric::Csat => Tally::Csat(CsatTally::from_column(&f.csat, 1, 0..n)),
        _ => Tally::Ces(CesTally::from_column(&f.ces, 1, 0..n)),
    })
}

fn estimate(t: &Tally, opts: &ScoreOptions) -> Result<serde_json::Value> {
    Ok(match t {
        Tally::Nps(t) => serde_json::to_value(scores::nps(t, opts))?,
        Tally::Csat(t) => serde_json::to_value(scores::csat(t, opts))?,
        Tally::Ces(t) => serde_json::to_value(scores::ces(t, opts))?,
        Tally::Sentiment(t) => serde_json::to_value(scores::net_sentiment(t, opts))?,
    })
}

/// The selection against an earlier window: both estimates and the change between them.
fn change(
    store: &hearken_store::Store,
    args: &ScoresArgs,
    opts: &ScoreOptions,
) -> Result<ExitCode> {
    let baseline_filters = Filters {
        from: args.against_from.clone(),
        to: args.against_to.clone(),
        ..args.filters.clone()
    };
    // The baseline window's dates are checked like --from/--to, and named as such on error.
    baseline_filters.window().map_err(|e| {
        anyhow::anyhow!(
            "{}",
            e.to_string()
                .replace("--from", "--against-from")
                .replace("--to", "--against-to")
        )
    })?;
    let before = tally(store, &baseline_filters, args.metric)?;
    let after = tally(store, &args.filters, args.metric)?;
    let diff = match (&before, &after) {
        (Tally::Nps(b), Tally::Nps(a)) => scores::nps_change(b, a, opts),
        (Tally::Csat(b), Tally::Csat(a)) => scores::csat_change(b, a, opts),
        (Tally::Ces(b), Tally::Ces(a)) => scores::ces_change(b, a, opts),
        (Tally::Sentiment(b), Tally::Sentiment(a)) => scores::net_sentiment_change(b, a, opts),
        _ => anyhow::bail!("internal: tallies of two metrics"),
    };
    let (before, after) = (estimate(&before, opts)?, estimate(&after, opts)?);
    if args.json {
        output::json(&serde_json::json!({
            "baseline": before,
            "selection": after,
            "change": diff,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    print_rows(
        args.metric,
        &[
            ("baseline".to_string(), before),
            ("selection".to_string(), after),
        ],
    );
    let num = |x: Option<f64>| x.map_or("-".to_string(), |v| format!("{v:+.1}"));
    println!(
        "change {} ({:.0}% interval {} to {}), p = {}{}",
        num(diff.diff),
        diff.level * 100.0,
        num(diff.low),
        num(diff.high),
        diff.p_value.map_or("-".to_string(), |p| format!("{p:.3}")),
        match diff.significant {
            Some(true) => ": a real change at this level",
            Some(false) => ": not distinguishable from no change at this level",
            None => "",
        }
    );
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
