//! Generates an organisation for the risk validation with settings `hearken generate` does not
//! expose (monthly churn, contact volume, activity spread), through hearken-gen's library: the
//! same generator, the same files and truth.json.
//!
//! ```text
//! cargo run --release -p hearken-engine --example risk_gen -- --out org --seed 2 \
//!     --customers 10000 --months 12 --monthly-churn 0.02 --signals-per-customer-month 2
//! ```

use std::path::PathBuf;
use std::process::ExitCode;

use hearken_gen::{GenConfig, generate};

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), String> {
    let mut cfg = GenConfig::default();
    let mut out = PathBuf::from("risk-org");
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let [flag, value] = pair else {
            return Err(format!("{} needs a value", pair[0]));
        };
        let num = |v: &str| {
            v.parse::<f64>()
                .map_err(|_| format!("{flag}: `{v}` is not a number"))
        };
        match flag.as_str() {
            "--out" => out = PathBuf::from(value),
            "--customers" => cfg.customers = num(value)? as u64,
            "--months" => cfg.months = num(value)? as u32,
            "--seed" => cfg.seed = num(value)? as u64,
            "--monthly-churn" => cfg.monthly_churn = num(value)?,
            "--signals-per-customer-month" => cfg.signals_per_customer_month = num(value)?,
            "--customer-sigma" => cfg.customer_sigma = num(value)?,
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    let s = generate(&cfg, &out, &|_| {}).map_err(|e| e.to_string())?;
    println!(
        "{} customers, {} churned, {} signal rows in {}",
        cfg.customers,
        s.truth.churned.len(),
        s.rows.get("signals.csv").copied().unwrap_or(0),
        out.display()
    );
    Ok(())
}
