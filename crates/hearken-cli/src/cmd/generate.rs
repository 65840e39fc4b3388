use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use hearken_gen::{GenConfig, GenSummary};
use indicatif::{ProgressBar, ProgressStyle};

use super::Ctx;
use crate::output;

#[derive(Debug, Args)]
pub struct GenerateArgs {
    /// Directory to write customers.csv, products.csv, agents.csv, signals.csv, surveys.csv,
    /// case_events.csv and truth.json into (created if missing)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Customers in the organisation (about one signal per customer per month)
    #[arg(long, default_value_t = 10_000)]
    pub customers: u64,
    /// Months of history
    #[arg(long, default_value_t = 12)]
    pub months: u32,
    /// Random seed: the same seed gives the same bytes
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Worker threads (0: all cores); does not change the output
    #[arg(long, default_value_t = 0)]
    pub threads: usize,
    /// Print the summary as JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(_ctx: &Ctx, args: GenerateArgs) -> Result<ExitCode> {
    let cfg = GenConfig {
        customers: args.customers,
        months: args.months,
        seed: args.seed,
        threads: args.threads,
        ..GenConfig::default()
    };
    let summary = generate(&cfg, &args.out, !args.json)?;
    if args.json {
        let rows: serde_json::Map<String, serde_json::Value> = summary
            .rows
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).into()))
            .collect();
        output::json(&serde_json::json!({
            "out": args.out.display().to_string(),
            "rows": rows,
            "bytes": summary.bytes,
            "seconds": summary.elapsed.as_secs_f64(),
        }))?;
    } else {
        print_summary(&args.out, &summary);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn generate(cfg: &GenConfig, out: &std::path::Path, progress: bool) -> Result<GenSummary> {
    let bar = if progress {
        ProgressBar::new(cfg.customers)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("generating [{bar:30}] {pos}/{len} customers {msg} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let summary = hearken_gen::generate(cfg, out, &|p| {
        bar.set_position(p.customers_done);
        bar.set_message(format!("{} rows", output::thousands(p.rows_written)));
    })
    .with_context(|| format!("cannot generate into {}", out.display()))?;
    bar.finish_and_clear();
    Ok(summary)
}

pub fn print_summary(out: &std::path::Path, s: &GenSummary) {
    let total: u64 = s.rows.values().sum();
    let secs = s.elapsed.as_secs_f64();
    println!(
        "wrote {} rows ({:.1} MB) to {} in {:.2} s",
        output::thousands(total),
        s.bytes as f64 / 1e6,
        out.display(),
        secs
    );
    for (file, n) in &s.rows {
        println!("  {file:<16} {:>12}", output::thousands(*n));
    }
    println!(
        "  truth.json       known driver weights, churned customers, injected effects, Pareto shape"
    );
}
