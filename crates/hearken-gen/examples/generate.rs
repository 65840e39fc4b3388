//! Runs the generator from the command line and prints rows, bytes and speed — the measurement
//! behind the figures in the report (the `hearken generate` CLI is the product's entry point).
//!
//! cargo run --release -p hearken-gen --example generate -- --out /tmp/gen --customers 100000 \
//!     --months 10 --seed 1 [--threads N]

use std::path::PathBuf;
use std::process::ExitCode;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use hearken_gen::{GenConfig, generate};

fn parse<T: FromStr>(flag: &str, value: &str) -> Result<T, String> {
    value
        .parse()
        .map_err(|_| format!("{flag}: '{value}' is not a number"))
}

fn main() -> ExitCode {
    let mut cfg = GenConfig::default();
    let mut out = PathBuf::from("gen-out");
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i + 1 < args.len() {
        let (flag, value) = (args[i].as_str(), args[i + 1].as_str());
        let parsed = match flag {
            "--out" => {
                out = PathBuf::from(value);
                Ok(())
            }
            "--customers" => parse(flag, value).map(|v| cfg.customers = v),
            "--months" => parse(flag, value).map(|v| cfg.months = v),
            "--seed" => parse(flag, value).map(|v| cfg.seed = v),
            "--threads" => parse(flag, value).map(|v| cfg.threads = v),
            _ => Err(format!("unknown flag {flag}")),
        };
        if let Err(e) = parsed {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
        i += 2;
    }
    // Prints the signal rate of each tenth of the run to stderr, to tell CPU from IO limits.
    let started = Instant::now();
    let next_tenth = AtomicU64::new(1);
    let last = AtomicU64::new(0);
    let last_ms = AtomicU64::new(0);
    let report = |p: hearken_gen::Progress| {
        let tenth = next_tenth.load(Ordering::Relaxed);
        if p.customers_done * 10 >= tenth * p.customers_total {
            next_tenth.store(tenth + 1, Ordering::Relaxed);
            let ms = started.elapsed().as_millis() as u64;
            let (prev, prev_ms) = (
                last.swap(p.signals_written, Ordering::Relaxed),
                last_ms.swap(ms, Ordering::Relaxed),
            );
            let rate = (p.signals_written - prev) as f64 / ((ms - prev_ms).max(1) as f64 / 1000.0);
            eprintln!(
                "{:>3}% {:>7.2} s {:>10.0} signal rows/s",
                tenth * 10,
                ms as f64 / 1000.0,
                rate
            );
        }
    };
    match generate(&cfg, &out, &report) {
        Ok(s) => {
            let signals = s.rows["signals.csv"];
            let secs = s.elapsed.as_secs_f64();
            for (file, rows) in &s.rows {
                println!("{file:>16} {rows:>12} rows");
            }
            println!(
                "signals/customer/month {:.3}; {:.1} MB in {secs:.2} s; {:.0} signal rows/s; {:.0} rows/s all files",
                s.truth.signals_per_customer_month,
                s.bytes as f64 / 1e6,
                signals as f64 / secs,
                s.rows.values().sum::<u64>() as f64 / secs
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
