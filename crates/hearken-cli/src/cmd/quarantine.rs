use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::{Args, Subcommand};
use hearken_query::{QuarantineList, QuarantineRequest, Scope};

use super::Ctx;
use super::select::cli_error;
use crate::output;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct QuarantineArgs {
    #[command(subcommand)]
    pub action: Option<Action>,
    /// Print JSON: the entries (with the raw row), notes and whether an import is running
    #[arg(long)]
    pub json: bool,
    /// Show at most this many entries (0: all)
    #[arg(long, default_value_t = 0)]
    pub limit: usize,
    /// Every row this import quarantined, open or since closed (as many as it reported; the
    /// import numbers are in the import's output and `hearken status`)
    #[arg(long, value_name = "ID")]
    pub import: Option<i64>,
    /// Closed entries too (rows stored since, found again by a later import of the same file, or
    /// cleared)
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Subcommand)]
pub enum Action {
    /// Close open entries deliberately (after fixing or accepting them); the clearing is recorded
    /// with who, when and how many, and the entries stay listed with --all as `cleared`
    Clear(ClearArgs),
}

#[derive(Debug, Args)]
pub struct ClearArgs {
    /// Clear the open entries of this import only
    #[arg(
        long,
        value_name = "ID",
        conflicts_with = "all",
        required_unless_present = "all"
    )]
    pub import: Option<i64>,
    /// Clear every open entry
    #[arg(long)]
    pub all: bool,
    /// Who clears them, as recorded [default: $USER]
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
    /// Print the recorded clearing as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: QuarantineArgs) -> Result<ExitCode> {
    if let Some(Action::Clear(c)) = args.action {
        return clear(ctx, c);
    }
    // An SQLite file or a PostgreSQL database (ADR 0012).
    let store = ctx.open_frames()?;
    let req = QuarantineRequest {
        import: args.import,
        all: args.all,
        limit: args.limit,
    };
    let list = hearken_query::quarantine(store.as_ref(), &Scope::all(), &req).map_err(cli_error)?;
    if args.json {
        output::json(&list)?;
    } else {
        print!("{}", render(&list, &req));
    }
    Ok(ExitCode::SUCCESS)
}

/// The entries as a table (with their state when closed ones are listed too).
pub fn render(list: &QuarantineList, req: &QuarantineRequest) -> String {
    let mut out = String::new();
    if list.entries.is_empty() {
        out.push_str(&match req.import {
            Some(id) => format!("import {id} quarantined no rows\n"),
            None => "no quarantined rows\n".to_string(),
        });
        output::notes(&mut out, &list.notes, list.partial.as_ref());
        return out;
    }
    let with_state = req.all || req.import.is_some();
    let rows: Vec<Vec<String>> = list
        .entries
        .iter()
        .map(|e| {
            let mut row = vec![
                e.import_id.to_string(),
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
            ];
            if with_state {
                row.insert(1, e.state.clone());
            }
            row
        })
        .collect();
    let mut headers = vec!["import", "file", "line", "kind", "field", "value", "reason"];
    if with_state {
        headers.insert(1, "state");
    }
    out.push_str(&output::table(&headers, &rows));
    output::notes(&mut out, &list.notes, list.partial.as_ref());
    out
}

fn clear(ctx: &Ctx, args: ClearArgs) -> Result<ExitCode> {
    let by = args
        .by
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("USERNAME").ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into());
    if args.import.is_none() && !args.all {
        bail!("say which entries to clear: --import ID, or --all");
    }
    // The SQLite file or a PostgreSQL database (ADR 0012).
    let c = match ctx.postgres_url() {
        Some(url) => clear_postgres(&url, args.import, &by)?,
        None => ctx.open_store()?.clear_quarantine(args.import, &by)?,
    };
    if args.json {
        output::json(&c)?;
    } else {
        let scope = match c.import_id {
            Some(id) => format!("of import {id}"),
            None => "of all imports".into(),
        };
        println!(
            "cleared {} open quarantine entries {scope} (clearing {}, by {}); `hearken quarantine --all` still lists them as cleared",
            output::thousands(c.entries as u64),
            c.id,
            c.by
        );
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(feature = "postgres")]
fn clear_postgres(url: &str, import: Option<i64>, by: &str) -> Result<hearken_store::Clearing> {
    Ok(hearken_store::pg::PgStore::connect(url)?.clear_quarantine(import, by)?)
}

#[cfg(not(feature = "postgres"))]
fn clear_postgres(_url: &str, _import: Option<i64>, _by: &str) -> Result<hearken_store::Clearing> {
    bail!(
        "this hearken was built without PostgreSQL support: build it with `cargo build --release --features postgres`"
    )
}
