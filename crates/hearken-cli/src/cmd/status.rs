use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::Ctx;
use crate::output;

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print the counts as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: StatusArgs) -> Result<ExitCode> {
    let store = ctx.open_store()?;
    let s = store.status()?;
    if args.json {
        output::json(&s)?;
        return Ok(ExitCode::SUCCESS);
    }
    println!("store {} (schema version {})", s.path, s.schema_version);
    let rows: Vec<Vec<String>> = [
        ("customers", s.customers),
        ("products", s.products),
        ("agents", s.agents),
        ("signals", s.signals),
        ("surveys", s.surveys),
        ("cases", s.cases),
        ("case_events", s.case_events),
        ("quarantined", s.quarantined),
    ]
    .iter()
    .map(|(k, v)| vec![k.to_string(), output::thousands(*v as u64)])
    .collect();
    print!("{}", output::table(&["kind", "rows"], &rows));
    if !s.snapshot_fresh {
        println!(
            "the columnar snapshot is behind the tables: the next analytics command (or `hearken snapshot`) brings it up to date"
        );
    }
    if s.interrupted_imports > 0 {
        println!(
            "{} import(s) were interrupted: run the same import again to complete them",
            s.interrupted_imports
        );
    }
    Ok(ExitCode::SUCCESS)
}
