use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use hearken_query::{ThemesRequest, ThemesResponse};

use hearken_query::Scope;

use super::Ctx;
use super::select::{Filters, cli_error};
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
    /// Print JSON (each theme with its key phrases, size, example texts and weekly counts)
    #[arg(long)]
    pub json: bool,
}

impl ThemesArgs {
    pub fn request(&self) -> ThemesRequest {
        ThemesRequest {
            k: self.k,
            sample: self.sample,
            ..ThemesRequest::default()
        }
        .with_filters(self.filters.query())
    }
}

pub fn run(ctx: &Ctx, args: ThemesArgs) -> Result<ExitCode> {
    // The SQLite file or a PostgreSQL database (ADR 0012).
    let store = ctx.open_frames()?;
    let r =
        hearken_query::themes(store.as_ref(), &Scope::all(), &args.request()).map_err(cli_error)?;
    if args.json {
        output::json(&r)?;
    } else {
        print!("{}", render(&r));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn render(r: &ThemesResponse) -> String {
    let mut out = String::new();
    if !r.themes.is_empty() {
        let _ = writeln!(
            out,
            "{} themes in {} texts",
            r.themes.len(),
            output::thousands(r.texts)
        );
    }
    for t in &r.themes {
        let last: Vec<String> = t
            .weekly
            .iter()
            .rev()
            .take(4)
            .rev()
            .map(|w| output::thousands(w.count as u64))
            .collect();
        let _ = writeln!(
            out,
            "\n{:>7} texts  {}  (last weeks: {})",
            output::thousands(t.size as u64),
            t.key_phrases.join(" | "),
            last.join(" ")
        );
        if let Some(e) = t.examples.first() {
            let _ = writeln!(out, "         e.g. \"{}\"", output::one_line(e, 100));
        }
    }
    let noted = !r.notes.is_empty() || r.partial.is_some();
    if !r.themes.is_empty() && noted {
        out.push('\n');
    }
    output::notes(&mut out, &r.notes, r.partial.as_ref());
    out
}
