//! Chooses training settings by cross-validation on banking77's training file only (the test
//! file is never read): for each candidate `TrainConfig` and seed, trains on four fifths of the
//! training texts and predicts the fifth left out, five times, and prints the pooled accuracy.
//!
//! `TOPICS_CONFIGS='[{"epochs":25}, {"epochs":25,"average_epochs":10}]' TOPICS_SEEDS=1,2,3 \
//!   cargo run --release -p hearken-topics --example topics_tune -- [BANKING77_DIR]`
//!
//! Each config is a JSON `TrainConfig` (missing fields take their defaults).

use anyhow::Context;
use hearken_topics::{TrainConfig, evaluate, train};

const FOLDS: usize = 5;

fn main() -> anyhow::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .unwrap_or_else(|| concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/banking77").into());
    let path = format!("{dir}/train.csv");
    let mut r = csv::Reader::from_path(&path).with_context(|| format!("reading {path}"))?;
    let mut rows = Vec::new();
    for rec in r.records() {
        let rec = rec.with_context(|| format!("reading {path}"))?;
        rows.push((rec[0].to_string(), rec[1].to_string()));
    }
    let rows: Vec<(&str, &str)> = rows.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let configs: Vec<serde_json::Value> =
        serde_json::from_str(&std::env::var("TOPICS_CONFIGS").unwrap_or_else(|_| "[{}]".into()))
            .context("TOPICS_CONFIGS is not a JSON array")?;
    let seeds: Vec<u64> = std::env::var("TOPICS_SEEDS")
        .unwrap_or_else(|_| "1,2,3".into())
        .split(',')
        .map(|s| s.trim().parse())
        .collect::<Result<_, _>>()
        .context("TOPICS_SEEDS is not a comma-separated list of integers")?;
    for c in &configs {
        let base: TrainConfig = serde_json::from_value(c.clone()).context("bad config")?;
        let mut accs = Vec::new();
        let mut eces = Vec::new();
        let t = std::time::Instant::now();
        for &seed in &seeds {
            let config = TrainConfig {
                seed,
                ..base.clone()
            };
            let (mut correct, mut n, mut ece) = (0.0, 0usize, 0.0);
            for fold in 0..FOLDS {
                let fit: Vec<(&str, &str)> = (0..rows.len())
                    .filter(|i| i % FOLDS != fold)
                    .map(|i| rows[i])
                    .collect();
                let held: Vec<(&str, &str)> = (0..rows.len())
                    .filter(|i| i % FOLDS == fold)
                    .map(|i| rows[i])
                    .collect();
                let e = evaluate(&train(&fit, &config)?, &held);
                correct += e.accuracy * e.n as f64;
                ece += e.ece * e.n as f64;
                n += e.n;
            }
            accs.push(correct / n as f64);
            eces.push(ece / n as f64);
        }
        let mean = accs.iter().sum::<f64>() / accs.len() as f64;
        let (lo, hi) = accs
            .iter()
            .fold((f64::MAX, f64::MIN), |(a, b), &x| (a.min(x), b.max(x)));
        println!(
            "{}",
            serde_json::json!({
                "config": c, "cv_accuracy_mean": mean, "min": lo, "max": hi,
                "per_seed": accs, "ece_mean": eces.iter().sum::<f64>() / eces.len() as f64,
                "seconds": t.elapsed().as_secs_f64(),
            })
        );
    }
    Ok(())
}
