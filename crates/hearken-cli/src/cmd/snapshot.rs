use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::Ctx;
use crate::output;

#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// Rebuild every part from the tables instead of appending what is new
    #[arg(long)]
    pub rebuild: bool,
    /// Print what was done as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: SnapshotArgs) -> Result<ExitCode> {
    let store = ctx.open_store()?;
    let started = std::time::Instant::now();
    let bar = output::spinner("updating the columnar snapshot");
    let report = store.refresh_snapshot(args.rebuild, &mut |part, n| {
        bar.set_message(format!(
            "updating the columnar snapshot: {part} {}",
            output::thousands(n)
        ));
        bar.tick();
    })?;
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    if args.json {
        output::json(&serde_json::json!({
            "rebuilt": report.rebuilt,
            "appended": report.appended,
            "seconds": seconds,
        }))?;
        return Ok(ExitCode::SUCCESS);
    }
    if report.is_empty() {
        println!("the columnar snapshot is up to date");
    }
    for (part, rows) in &report.rebuilt {
        println!("rebuilt {part}: {} rows", output::thousands(*rows));
    }
    for (part, rows) in &report.appended {
        println!("appended to {part}: {} rows", output::thousands(*rows));
    }
    println!("in {seconds:.2} s");
    Ok(ExitCode::SUCCESS)
}
