use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::Ctx;
use crate::output;

#[derive(Debug, Args)]
pub struct QuarantineArgs {
    /// Print one JSON array of entries (with the raw row)
    #[arg(long)]
    pub json: bool,
    /// Show at most this many entries (0: all)
    #[arg(long, default_value_t = 0)]
    pub limit: usize,
}

pub fn run(ctx: &Ctx, args: QuarantineArgs) -> Result<ExitCode> {
    let store = ctx.open_store()?;
    let entries = store.quarantine(args.limit)?;
    if args.json {
        output::json(&entries)?;
        return Ok(ExitCode::SUCCESS);
    }
    if entries.is_empty() {
        println!("no quarantined rows");
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                e.file.clone(),
                e.line.to_string(),
                e.kind.clone(),
                e.field.clone().unwrap_or_default(),
                e.value
                    .clone()
                    .unwrap_or_default()
                    .chars()
                    .take(40)
                    .collect(),
                e.reason.clone(),
            ]
        })
        .collect();
    print!(
        "{}",
        output::table(&["file", "line", "kind", "field", "value", "reason"], &rows)
    );
    Ok(ExitCode::SUCCESS)
}
