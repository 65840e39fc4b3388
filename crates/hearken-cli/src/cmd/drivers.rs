use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::{Args, ValueEnum};
use hearken_engine::Level;
use hearken_engine::drivers::{DriverOptions, KpiLink, Target, key_drivers, kpi_links, moments};

use super::Ctx;
use super::select::{self, Filters};
use crate::output;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DriverTarget {
    /// Overall satisfaction (0-10)
    Overall,
    /// Likelihood to recommend (0-10)
    Nps,
}

#[derive(Debug, Args)]
pub struct DriversArgs {
    /// What the aspects should explain
    #[arg(long, value_enum, default_value = "overall")]
    pub target: DriverTarget,
    /// The aspect that stands for customer service (default: the one named like "service")
    #[arg(long)]
    pub service: Option<String>,
    #[arg(long, default_value_t = 0.9)]
    pub level: f64,
    #[command(flatten)]
    pub filters: Filters,
    #[arg(long)]
    pub json: bool,
}

pub fn run(ctx: &Ctx, args: DriversArgs) -> Result<ExitCode> {
    let store = ctx.open_store()?;
    let select::Surveys { frame: f, .. } = select::surveys(
        &store,
        &args.filters,
        None,
        hearken_store::SurveyColumns {
            overall: true,
            nps: true,
            aspects: true,
            case: true,
            ..hearken_store::SurveyColumns::default()
        },
    )?;
    if f.aspects.is_empty() {
        bail!("no survey responses with aspect ratings (aspect_* columns) in this selection");
    }
    let names: Vec<&str> = f.aspects.iter().map(|(n, _)| n.as_str()).collect();
    let columns: Vec<&[f32]> = f.aspects.iter().map(|(_, v)| v.as_slice()).collect();
    let target = match args.target {
        DriverTarget::Overall => Target::Rating(&f.overall),
        DriverTarget::Nps => Target::Score(&f.nps),
    };
    let m = moments(target, &columns, 0..f.len())?;
    let opts = DriverOptions {
        level: Level::new(args.level)?,
        service: args.service.clone(),
        ..DriverOptions::default()
    };
    let d = key_drivers(&m, &names, &opts)?;
    let kpis = internal_kpis(&store, &f, target, opts.level)?;
    if args.json {
        let mut v = serde_json::to_value(&d)?;
        v["kpis"] = serde_json::to_value(&kpis)?;
        output::json(&v)?;
        return Ok(ExitCode::SUCCESS);
    }
    let pct = |x: Option<f64>| x.map_or("-".into(), |v| format!("{:.1}%", v * 100.0));
    println!(
        "{} complete responses; the aspects explain {} of the variance of {:?}",
        output::thousands(d.n),
        pct(d.r2),
        args.target
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
                pct(x.shapley_share),
                pct(x.relative_weight_share),
            ]
        })
        .collect();
    print!(
        "{}",
        output::table(
            &[
                "aspect",
                "weight (OLS)",
                "interval",
                "share of explained (Shapley)",
                "relative weight"
            ],
            &table
        )
    );
    if let Some(s) = &d.service {
        println!(
            "customer service ('{}') explains {} of what the aspects explain ({} of all variance)",
            s.aspect,
            pct(Some(s.of_explained)),
            pct(Some(s.of_variance))
        );
    }
    if !kpis.is_empty() {
        println!("\ninternal KPIs of the responses' cases, beside what customers value:");
        let num = |x: Option<f64>| x.map_or("-".into(), |v| format!("{v:+.3}"));
        let rows: Vec<Vec<String>> = kpis
            .iter()
            .map(|k| {
                vec![
                    k.kpi.clone(),
                    num(k.correlation),
                    format!("{} to {}", num(k.low), num(k.high)),
                    output::thousands(k.n),
                ]
            })
            .collect();
        print!(
            "{}",
            output::table(&["kpi", "correlation", "interval", "n"], &rows)
        );
    }
    for w in &d.quality.warnings {
        println!("note: {w}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Time to first answer, handle time and events of each response's case (from the case events
/// in the store) against the target; empty when no response has a case with events.
fn internal_kpis(
    store: &hearken_store::Store,
    f: &hearken_engine::SurveyFrame,
    target: Target<'_>,
    level: Level,
) -> Result<Vec<KpiLink>> {
    if f.case.len() != f.len() {
        return Ok(Vec::new());
    }
    let k = store.snapshot_case_kpis()?;
    if k.events.iter().all(|&e| e == 0) {
        return Ok(Vec::new());
    }
    let hours = |a: i64, b: i64| {
        if a == i64::MIN || b == i64::MIN {
            f32::NAN
        } else {
            (b - a) as f32 / 3600.0
        }
    };
    let n = f.case.len();
    let (mut first_answer, mut handle, mut events) =
        (vec![f32::NAN; n], vec![f32::NAN; n], vec![f32::NAN; n]);
    for (row, &c) in f.case.iter().enumerate() {
        let c = c as usize;
        if k.events.get(c).is_none_or(|&e| e == 0) {
            continue;
        }
        first_answer[row] = hours(k.first_at[c], k.first_agent_at[c]);
        handle[row] = hours(k.first_at[c], k.last_at[c]);
        events[row] = k.events[c] as f32;
    }
    Ok(kpi_links(
        target,
        &[
            ("hours to first answer", &first_answer),
            ("handle hours", &handle),
            ("case events", &events),
        ],
        level,
    )?)
}
