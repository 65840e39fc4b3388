use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::Result;
use clap::Args;
use hearken_query::{DriverTarget, DriversRequest, DriversResponse};

use hearken_query::Scope;

use super::Ctx;
use super::select::{Filters, cli_error, fresh_snapshot, one_of};
use crate::output;

#[derive(Debug, Args)]
pub struct DriversArgs {
    /// What the aspects should explain: overall (overall satisfaction, 0-10) or nps (likelihood
    /// to recommend, 0-10)
    #[arg(long, default_value = "overall", value_parser = one_of::<DriverTarget>(DriverTarget::ALL.iter().map(|t| t.as_str()).collect()))]
    pub target: DriverTarget,
    /// The aspect that stands for customer service (default: the one named like "service")
    #[arg(long, value_name = "ASPECT")]
    pub service: Option<String>,
    /// Confidence level of the intervals
    #[arg(long, default_value_t = 0.9)]
    pub level: f64,
    #[command(flatten)]
    pub filters: Filters,
    #[command(flatten)]
    pub engine: super::engine::EngineArgs,
    /// Print JSON (the drivers with OLS, Shapley and relative weights, and the internal KPIs)
    #[arg(long)]
    pub json: bool,
}

impl DriversArgs {
    pub fn request(&self) -> DriversRequest {
        DriversRequest {
            target: self.target,
            service: self.service.clone(),
            level: self.level,
            ..DriversRequest::default()
        }
        .with_filters(self.filters.query())
    }
}

pub fn run(ctx: &Ctx, args: DriversArgs) -> Result<ExitCode> {
    args.engine.embedded_only(ctx, "drivers")?;
    let store = ctx.open_frames()?;
    fresh_snapshot(&*store)?;
    let d = hearken_query::drivers(&*store, &Scope::all(), &args.request()).map_err(cli_error)?;
    if args.json {
        output::json(&d)?;
    } else {
        print!("{}", render(&d));
    }
    Ok(ExitCode::SUCCESS)
}

pub fn render(r: &DriversResponse) -> String {
    let d = &r.drivers;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} complete responses; the aspects explain {} of the variance of {}",
        output::thousands(d.n),
        output::pct(d.r2),
        r.target.label()
    );
    let table: Vec<Vec<String>> = d
        .drivers
        .iter()
        .map(|x| {
            vec![
                x.aspect.clone(),
                x.ols
                    .as_ref()
                    .map_or("-".into(), |c| format!("{:.3}", c.coef)),
                x.ols
                    .as_ref()
                    .map_or("-".into(), |c| format!("{:.3} to {:.3}", c.low, c.high)),
                output::pct(x.shapley_share),
                output::pct(x.relative_weight_share),
            ]
        })
        .collect();
    out.push_str(&output::table(
        &[
            "aspect",
            "weight (OLS)",
            "interval",
            "share of explained (Shapley)",
            "relative weight",
        ],
        &table,
    ));
    if let Some(s) = &d.service {
        let _ = writeln!(
            out,
            "customer service ('{}') explains {} of what the aspects explain ({} of all variance)",
            s.aspect,
            output::pct(Some(s.of_explained)),
            output::pct(Some(s.of_variance))
        );
    }
    if !r.kpis.is_empty() {
        let _ = writeln!(
            out,
            "\ninternal KPIs of the responses' cases, beside what customers value:"
        );
        let signed = |x: Option<f64>| x.map_or("-".into(), |v| format!("{v:+.3}"));
        let rows: Vec<Vec<String>> = r
            .kpis
            .iter()
            .map(|k| {
                vec![
                    k.kpi.clone(),
                    signed(k.correlation),
                    format!("{} to {}", signed(k.low), signed(k.high)),
                    output::thousands(k.n),
                ]
            })
            .collect();
        out.push_str(&output::table(
            &["kpi", "correlation", "interval", "n"],
            &rows,
        ));
    }
    for w in &d.quality.warnings {
        let _ = writeln!(out, "note: {w}");
    }
    output::notes(&mut out, &r.notes, r.partial.as_ref());
    out
}
