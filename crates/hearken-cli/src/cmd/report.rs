//! `hearken report`: the weekly one-page report (crates/hearken-web/src/report.rs) as HTML, and
//! as an A4 PDF through headless Chromium when it is installed; and its scheduled delivery
//! (crates/hearken-web/src/delivery.rs): `report schedule` shows the schedule and what was sent,
//! `report send` hands a week's report to the outbox, `report tick` does what the server does
//! every minute.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use hearken_query::Scope;
use hearken_web::report::{self, Week};
use hearken_web::view::PageError;

use super::Ctx;
pub use super::report_delivery::ReportCommand;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub command: Option<ReportCommand>,
    /// The ISO week to report on, e.g. 2026-W47 [default: the last week with signals]
    #[arg(long, value_name = "YYYY-Www")]
    pub week: Option<String>,
    /// Write the HTML to this file (without --out and --pdf it goes to stdout)
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print the report to this PDF file (one A4 page) with headless Chromium
    #[arg(long, value_name = "FILE")]
    pub pdf: Option<PathBuf>,
}

pub(crate) fn page_error(e: PageError) -> anyhow::Error {
    let mut m = e.message.replace('`', "'");
    if let Some(h) = e.hint {
        m.push_str(&format!(" ({})", h.replace('`', "'")));
    }
    anyhow::anyhow!(m)
}

pub fn run(ctx: &Ctx, args: ReportArgs) -> Result<ExitCode> {
    if let Some(c) = args.command {
        return super::report_delivery::run(ctx, c);
    }
    let store = ctx.open_team()?;
    super::select::fresh_snapshot(store.as_ref())?;
    let store = store.as_ref();
    let scope = Scope::all();
    let week = match &args.week {
        Some(w) => Week::parse(w).map_err(page_error)?,
        None => report::latest_week(store, &scope)
            .map_err(page_error)?
            .context("the store has no signals to report on: import some first, or give --week")?,
    };
    let r = report::build(store, &scope, &week).map_err(page_error)?;
    let html = report::render(&r, false).map_err(page_error)?;
    if let Some(out) = &args.out {
        std::fs::write(out, &html).with_context(|| format!("cannot write {}", out.display()))?;
        eprintln!("wrote the report of {} to {}", week.label(), out.display());
    }
    if let Some(pdf) = &args.pdf {
        hearken_web::pdf::print(&html, pdf)?;
        eprintln!(
            "printed the report of {} to {}",
            week.label(),
            pdf.display()
        );
    }
    if args.out.is_none() && args.pdf.is_none() {
        let mut stdout = std::io::stdout().lock();
        stdout.write_all(html.as_bytes())?;
    }
    if r.empty {
        eprintln!(
            "note: {} has no data in the store; the report says so",
            week.label()
        );
    }
    Ok(ExitCode::SUCCESS)
}
