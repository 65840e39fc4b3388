use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use hearken_engine::issues::{IssueColumns, IssueOptions, rank_issues};

use super::Ctx;
use super::select::{self, Filters};
use crate::output;

#[derive(Debug, Args)]
pub struct IssuesRankArgs {
    /// How many issues
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    #[command(flatten)]
    pub filters: Filters,
    /// Print JSON (each issue with the ids of the signals behind it)
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: IssuesRankArgs) -> Result<ExitCode> {
    let store = ctx.open_store()?;
    let select::Signals {
        frame: f,
        customers,
        ..
    } = select::signals(
        &store,
        &args.filters,
        None,
        hearken_store::SignalColumns {
            id: args.json,
            customer: true,
            topic: true,
            sentiment: true,
            ..hearken_store::SignalColumns::default()
        },
        true,
    )?;
    // Signals without a topic are not an issue; rank the rest.
    let mut issues = rank_issues(
        &IssueColumns::of(&f, &customers.value_per_year),
        &IssueOptions {
            limit: args.limit + 1,
            evidence: 20,
        },
    )?;
    issues.retain(|i| i.code.is_some());
    issues.truncate(args.limit);
    for (rank, issue) in issues.iter_mut().enumerate() {
        issue.rank = rank + 1;
    }
    if args.json {
        // Evidence as the signals themselves (source id, time, customer, text, sentiment), not
        // row numbers of a frame.
        let mut list = Vec::with_capacity(issues.len());
        for issue in &issues {
            let ids: Vec<i64> = issue
                .evidence
                .iter()
                .filter_map(|&r| f.id.get(r as usize).copied())
                .collect();
            let mut v = serde_json::to_value(issue)?;
            v["evidence"] = serde_json::to_value(store.signal_briefs(&ids)?)?;
            list.push(v);
        }
        output::json(&list)?;
        return Ok(ExitCode::SUCCESS);
    }
    if issues.is_empty() {
        println!("no topics with signals in this selection (signals need a topic to be ranked)");
        return Ok(ExitCode::SUCCESS);
    }
    let table: Vec<Vec<String>> = issues
        .iter()
        .map(|i| {
            vec![
                i.rank.to_string(),
                i.topic.clone(),
                output::thousands(i.signals),
                i.negative_share
                    .map_or("-".into(), |v| format!("{:.0}%", v * 100.0)),
                i.mean_value.map_or("-".into(), |v| format!("{v:.0}")),
                i.score.map_or("-".into(), |v| format!("{v:.1}")),
            ]
        })
        .collect();
    print!(
        "{}",
        output::table(
            &[
                "rank",
                "topic",
                "signals",
                "negative",
                "mean customer value",
                "score"
            ],
            &table
        )
    );
    println!(
        "score = signals x share negative x customer-value factor; `--json` lists the signals behind each"
    );
    Ok(ExitCode::SUCCESS)
}
