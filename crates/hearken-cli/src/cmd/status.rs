use std::process::ExitCode;

use anyhow::Result;
use clap::Args;

use super::Ctx;
use crate::output;

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print the counts (and the recent imports) as JSON
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
    println!(
        "store {} (schema version {}{})",
        s.path,
        s.schema_version,
        if s.read_only { ", read-only" } else { "" }
    );
    let rows: Vec<Vec<String>> = [
        ("customers", s.customers),
        ("products", s.products),
        ("agents", s.agents),
        ("signals", s.signals),
        ("surveys", s.surveys),
        ("cases", s.cases),
        ("case_events", s.case_events),
        ("quarantined", s.quarantined),
        ("skipped", s.skipped),
    ]
    .iter()
    .map(|(k, v)| vec![k.to_string(), output::thousands(*v as u64)])
    .collect();
    print!("{}", output::table(&["kind", "rows"], &rows));
    if s.demo_data {
        println!("this store holds the synthetic data of `hearken demo`");
    }
    if !s.snapshot_fresh {
        println!(
            "the columnar snapshot is behind the tables: the next analytics command (or `hearken snapshot`) brings it up to date"
        );
    }
    if let Some(note) = super::running_imports_note(&store)? {
        println!("{note}");
    }
    if s.interrupted_imports > 0 {
        println!(
            "{} import(s) were interrupted: run the same import again to complete them",
            s.interrupted_imports
        );
    }
    if !s.recent_imports.is_empty() {
        println!("\nrecent imports");
        let rows: Vec<Vec<String>> = s
            .recent_imports
            .iter()
            .map(|i| {
                vec![
                    i.id.to_string(),
                    i.file.clone(),
                    i.kind.clone(),
                    i.state.clone(),
                    output::thousands(i.read as u64),
                    output::thousands(i.stored as u64),
                    output::thousands(i.duplicates as u64),
                    output::thousands(i.quarantined as u64),
                    output::thousands(i.skipped as u64),
                ]
            })
            .collect();
        print!(
            "{}",
            output::table(
                &[
                    "import",
                    "file",
                    "kind",
                    "state",
                    "read",
                    "stored",
                    "duplicates",
                    "quarantined",
                    "skipped"
                ],
                &rows
            )
        );
    }
    Ok(ExitCode::SUCCESS)
}
