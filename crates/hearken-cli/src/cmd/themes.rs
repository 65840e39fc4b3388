use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use hearken_model::Timestamp;
use hearken_topics::{ThemeConfig, discover_themes};

use super::Ctx;
use super::select::Filters;
use crate::output;

#[derive(Debug, Args)]
pub struct ThemesArgs {
    /// How many themes
    #[arg(long, default_value_t = 20)]
    pub k: usize,
    /// Use the newest N signal texts
    #[arg(long, default_value_t = 20_000)]
    pub sample: usize,
    #[command(flatten)]
    pub filters: Filters,
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: ThemesArgs) -> Result<ExitCode> {
    let store = ctx.open_store()?;
    let rows = store.signal_texts(&args.filters.window()?, args.sample)?;
    if rows.is_empty() {
        println!("no signal texts in this selection");
        return Ok(ExitCode::SUCCESS);
    }
    let texts: Vec<&str> = rows.iter().map(|(_, t)| t.as_str()).collect();
    let times: Vec<Timestamp> = rows
        .iter()
        .map(|(at, _)| Timestamp::from_unix(*at))
        .collect();
    let themes = discover_themes(
        &texts,
        Some(&times),
        &ThemeConfig {
            k: args.k,
            ..ThemeConfig::default()
        },
    )?;
    if args.json {
        let list: Vec<serde_json::Value> = themes
            .iter()
            .map(|t| {
                serde_json::json!({
                    "key_phrases": t.key_phrases,
                    "size": t.size,
                    "examples": t.examples.iter().filter_map(|&i| texts.get(i)).collect::<Vec<_>>(),
                    "weekly": t.weekly,
                })
            })
            .collect();
        output::json(&list)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{} themes in {} texts",
        themes.len(),
        output::thousands(texts.len() as u64)
    );
    for t in &themes {
        let last: Vec<String> = t
            .weekly
            .iter()
            .rev()
            .take(4)
            .rev()
            .map(|w| w.count.to_string())
            .collect();
        println!(
            "\n{:>6} texts  {}  (last weeks: {})",
            output::thousands(t.size as u64),
            t.key_phrases.join(" | "),
            last.join(" ")
        );
        if let Some(&i) = t.examples.first() {
            let shown: String = texts[i].chars().take(100).collect();
            println!("        e.g. \"{shown}\"");
        }
    }
    Ok(ExitCode::SUCCESS)
}
