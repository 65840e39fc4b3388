//! `hearken imports`: the past imports with their counts, newest first, page by page.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use hearken_model::Timestamp;
use hearken_query::{ImportsPage, ImportsRequest, Scope};

use super::Ctx;
use super::select::cli_error;
use crate::output;

#[derive(Debug, Args)]
pub struct ImportsArgs {
    /// Imports per page, newest first
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Continue after the previous page (the cursor it printed)
    #[arg(long)]
    pub cursor: Option<String>,
    /// Print JSON (each import's counts, state, times, file, host and process; the next cursor)
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: ImportsArgs) -> Result<ExitCode> {
    // An SQLite file or a PostgreSQL database (ADR 0012).
    let store = ctx.open_frames()?;
    let req = ImportsRequest {
        limit: args.limit,
        cursor: args.cursor.clone(),
    };
    let page = hearken_query::imports(store.as_ref(), &Scope::all(), &req).map_err(cli_error)?;
    if args.json {
        output::json(&page)?;
    } else {
        print!("{}", render(&page));
    }
    Ok(ExitCode::SUCCESS)
}

/// The imports as a table.
pub fn render(p: &ImportsPage) -> String {
    let mut out = String::new();
    if p.imports.is_empty() {
        out.push_str("no imports\n");
    } else {
        let rows: Vec<Vec<String>> = p
            .imports
            .iter()
            .map(|i| {
                let state = match (i.state.as_str(), i.completed_by) {
                    ("interrupted", Some(by)) => format!("interrupted (completed by {by})"),
                    (s, _) => s.to_string(),
                };
                vec![
                    i.id.to_string(),
                    Timestamp::from_unix(i.started_at).to_string(),
                    i.kind.clone(),
                    i.file.clone(),
                    state,
                    output::thousands(i.read.max(0) as u64),
                    output::thousands(i.stored.max(0) as u64),
                    output::thousands(i.duplicates.max(0) as u64),
                    output::thousands(i.quarantined.max(0) as u64),
                    output::thousands(i.skipped.max(0) as u64),
                    i.host.clone().unwrap_or_default(),
                ]
            })
            .collect();
        out.push_str(&output::table(
            &[
                "import",
                "started",
                "kind",
                "file",
                "state",
                "read",
                "stored",
                "duplicates",
                "quarantined",
                "skipped",
                "host",
            ],
            &rows,
        ));
    }
    if let Some(c) = &p.next_cursor {
        let _ = writeln!(out, "more: add `--cursor {c}` for the next page");
    }
    output::notes(&mut out, &p.notes, p.partial.as_ref());
    out
}
