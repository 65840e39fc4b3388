use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use hearken_query::pareto::PARETO_BY;
use hearken_query::{By, ParetoRequest, ParetoResponse};

use hearken_query::Scope;

use super::Ctx;
use super::select::{Filters, by_parser, cli_error, fresh_snapshot};
use crate::output;

#[derive(Debug, Args)]
pub struct ParetoArgs {
    /// Whose contacts
    #[arg(long, default_value = "customer", value_parser = by_parser(PARETO_BY))]
    pub by: By,
    /// How many of the largest to list
    #[arg(long, default_value_t = 10)]
    pub top: usize,
    #[command(flatten)]
    pub filters: Filters,
    /// Print JSON (top20_share, k80, entities, contacts, gini, lorenz, top)
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub engine: super::engine::EngineArgs,
}

impl ParetoArgs {
    pub fn request(&self) -> ParetoRequest {
        ParetoRequest {
            by: self.by,
            top: self.top,
            ..ParetoRequest::default()
        }
        .with_filters(self.filters.query())
    }
}

pub fn run(ctx: &Ctx, args: ParetoArgs) -> Result<ExitCode> {
    let store = ctx.open_frames()?;
    fresh_snapshot(&*store)?;
    let p = match args.engine.spark(ctx)? {
        Some((spark, lake)) => {
            hearken_spark::pareto(&spark, &lake, &*store, &Scope::all(), &args.request())
                .map_err(super::engine::spark_error)?
        }
        None => {
            hearken_query::pareto(&*store, &Scope::all(), &args.request()).map_err(cli_error)?
        }
    };
    if args.json {
        output::json(&p)?;
    } else {
        print!("{}", render(&p));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn render(p: &ParetoResponse) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} contacts from {} {} entities; the top 20% ({}) account for {}; {} cover 80%; Gini {}",
        output::thousands(p.contacts),
        output::thousands(p.entities),
        p.by,
        output::thousands(p.top20_entities),
        output::pct(p.top20_share),
        p.k80.map_or("n/a".into(), output::thousands),
        output::num(p.gini, 3)
    );
    if p.unattributed > 0 {
        let _ = writeln!(
            out,
            "{} contacts have no {} and are left out",
            output::thousands(p.unattributed),
            p.by
        );
    }
    let named = p.top.iter().any(|t| t.name.is_some());
    let rows: Vec<Vec<String>> = p
        .top
        .iter()
        .map(|t| {
            let mut row = vec![t.entity.clone()];
            if named {
                row.push(t.name.clone().unwrap_or_default());
            }
            row.extend([
                output::thousands(t.contacts),
                output::pct(Some(t.share)),
                output::pct(Some(t.cumulative_share)),
            ]);
            row
        })
        .collect();
    let mut headers = vec![p.by.as_str()];
    if named {
        headers.push("name");
    }
    headers.extend(["contacts", "share", "cumulative"]);
    out.push_str(&output::table(&headers, &rows));
    output::notes(&mut out, &p.notes, p.partial.as_ref());
    out
}
