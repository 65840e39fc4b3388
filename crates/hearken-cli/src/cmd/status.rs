use std::process::ExitCode;

use std::fmt::Write as _;

use anyhow::Result;
use clap::Args;
use hearken_query::{Scope, StatusResponse};

use super::Ctx;
use super::select::cli_error;
use crate::output;

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print the counts (and the recent imports) as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: StatusArgs) -> Result<ExitCode> {
    // The SQLite file or a PostgreSQL database (ADR 0012).
    let store = ctx.open_frames()?;
    let s = hearken_query::status(store.as_ref(), &Scope::all()).map_err(cli_error)?;
    if args.json {
        output::json(&s)?;
    } else {
        print!("{}", render(&s));
    }
    Ok(ExitCode::SUCCESS)
}

/// The counts as a table, what is unusual about the store, and the recent imports.
pub fn render(s: &StatusResponse) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "store {} (schema version {}{})",
        s.path.as_deref().unwrap_or("(your data scope)"),
        s.schema_version,
        if s.read_only { ", read-only" } else { "" }
    );
    let rows: Vec<Vec<String>> = [
        ("customers", Some(s.customers)),
        ("products", Some(s.products)),
        ("agents", Some(s.agents)),
        ("signals", Some(s.signals)),
        ("surveys", Some(s.surveys)),
        ("cases", s.cases),
        ("case_events", s.case_events),
        ("quarantined", s.quarantined),
        ("skipped", s.skipped),
    ]
    .iter()
    .filter_map(|(k, v)| v.map(|v| vec![k.to_string(), output::thousands(v.max(0) as u64)]))
    .collect();
    out.push_str(&output::table(&["kind", "rows"], &rows));
    if s.demo_data {
        let _ = writeln!(out, "this store holds the synthetic data of `hearken demo`");
    }
    if !s.snapshot_fresh {
        let _ = writeln!(
            out,
            "the columnar snapshot is behind the tables: the next analytics command (or `hearken snapshot`) brings it up to date"
        );
    }
    if let Some(n) = s.interrupted_imports.filter(|&n| n > 0) {
        let _ = writeln!(
            out,
            "{n} import(s) were interrupted: run the same import again to complete them"
        );
    }
    if !s.recent_imports.is_empty() {
        let _ = writeln!(out, "\nrecent imports (all: `hearken imports`)");
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
        out.push_str(&output::table(
            &[
                "import",
                "file",
                "kind",
                "state",
                "read",
                "stored",
                "duplicates",
                "quarantined",
                "skipped",
            ],
            &rows,
        ));
    }
    output::notes(&mut out, &s.notes, s.partial.as_ref());
    out
}
