use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use hearken_topics::{Model, PredictScratch, TrainConfig, train};

use hearken_query::Scope;

use super::Ctx;
use super::select::cli_error;
use crate::output;

#[derive(Debug, Args)]
pub struct TopicsArgs {
    #[command(subcommand)]
    pub command: TopicsCommand,
    /// The model's name in the store
    #[arg(long, global = true, default_value = "default")]
    pub model: String,
}

#[derive(Debug, Subcommand)]
pub enum TopicsCommand {
    /// Train a classifier from labelled examples (CSV with `text` and `category` columns) and
    /// store it as a new version
    Train {
        /// Labelled examples: a CSV with `text` and `category` (or `label`, `topic`, `intent`)
        #[arg(long, value_name = "FILE.csv")]
        data: PathBuf,
        /// Below this probability a text is "unclassified"
        #[arg(long, default_value_t = 0.3)]
        threshold: f32,
        /// Print JSON (model, version, labels, examples, features, seconds)
        #[arg(long)]
        json: bool,
    },
    /// Accuracy and macro-F1 of the stored model on labelled examples
    Eval {
        /// Labelled examples: a CSV with `text` and `category` columns
        #[arg(long, value_name = "FILE.csv")]
        data: PathBuf,
        /// Print JSON (the model, accuracy, macro-F1, per-topic scores, calibration)
        #[arg(long)]
        json: bool,
    },
    /// Classify every stored signal again with the newest model (after training a new version)
    Classify {
        /// Print JSON (classified, labelled, seconds)
        #[arg(long)]
        json: bool,
    },
    /// Topic and probability for one text per line
    Predict {
        /// A file with one text per line; `-` or nothing reads standard input
        #[arg(value_name = "FILE|-")]
        file: Option<PathBuf>,
        /// One JSON object per line: {"label":..,"probability":..}
        #[arg(long)]
        json: bool,
    },
    /// The stored topic models: every version with its labels and examples
    List {
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
}

/// Reads `text,category` rows (also `label` or `topic` for the second column).
fn labelled(path: &Path) -> Result<Vec<(String, String)>> {
    let mut rdr = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let headers = rdr
        .headers()
        .with_context(|| format!("{}: cannot read the header", path.display()))?
        .clone();
    let find = |names: &[&str]| {
        headers
            .iter()
            .position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
    };
    let (Some(t), Some(c)) = (
        find(&["text"]),
        find(&["category", "label", "topic", "intent"]),
    ) else {
        bail!(
            "{}: needs columns `text` and `category` (found: {})",
            path.display(),
            headers.iter().collect::<Vec<_>>().join(", ")
        );
    };
    let mut out = Vec::new();
    for (i, rec) in rdr.records().enumerate() {
        let rec =
            rec.with_context(|| format!("{}: row {} cannot be read", path.display(), i + 2))?;
        let (Some(text), Some(cat)) = (rec.get(t), rec.get(c)) else {
            bail!(
                "{}: line {} has no `text` or `category` field",
                path.display(),
                rec.position().map_or(0, |p| p.line())
            );
        };
        out.push((text.to_string(), cat.trim().to_string()));
    }
    if out.is_empty() {
        bail!("{} has no examples", path.display());
    }
    Ok(out)
}

fn load(ctx: &Ctx, name: &str) -> Result<Model> {
    let store = ctx.open_store()?;
    let (_, model) = hearken_query::topics::load(&store, &Scope::all(), name).map_err(cli_error)?;
    Ok(model)
}

pub fn run(ctx: &Ctx, args: TopicsArgs) -> Result<ExitCode> {
    match args.command {
        TopicsCommand::Train {
            data,
            threshold,
            json,
        } => {
            let examples = labelled(&data)?;
            let pairs: Vec<(&str, &str)> = examples
                .iter()
                .map(|(t, c)| (t.as_str(), c.as_str()))
                .collect();
            let started = Instant::now();
            let model = train(
                &pairs,
                &TrainConfig {
                    threshold,
                    ..TrainConfig::default()
                },
            )
            .with_context(|| format!("cannot train on {}", data.display()))?;
            let seconds = started.elapsed().as_secs_f64();
            let store = ctx.open_store()?;
            let version = store.save_model(
                &args.model,
                model.labels().len(),
                pairs.len(),
                &model.to_bytes(),
            )?;
            if json {
                output::json(&serde_json::json!({
                    "model": args.model, "version": version, "labels": model.labels().len(),
                    "examples": pairs.len(), "features": model.n_features(), "seconds": seconds,
                }))?;
            } else {
                println!(
                    "trained '{}' version {version}: {} topics from {} examples, {} features, in {seconds:.2} s",
                    args.model,
                    model.labels().len(),
                    output::thousands(pairs.len() as u64),
                    output::thousands(model.n_features() as u64)
                );
            }
        }
        TopicsCommand::Eval { data, json } => {
            let store = ctx.open_store()?;
            let examples = labelled(&data)?;
            let pairs: Vec<(&str, &str)> = examples
                .iter()
                .map(|(t, c)| (t.as_str(), c.as_str()))
                .collect();
            let evaluation =
                hearken_query::topics::evaluate_model(&store, &Scope::all(), &args.model, &pairs)
                    .map_err(cli_error)?;
            if json {
                output::json(&evaluation)?;
            } else {
                let e = &evaluation.eval;
                println!(
                    "accuracy {:.2}%, macro-F1 {:.4} on {} examples; {:.1}% classified above the threshold, {:.2}% of those right",
                    e.accuracy * 100.0,
                    e.macro_f1,
                    output::thousands(e.n as u64),
                    e.coverage * 100.0,
                    e.accuracy_classified * 100.0
                );
                let unknown: usize = e.unknown_labels.values().sum();
                if unknown > 0 {
                    let labels: Vec<String> = e
                        .unknown_labels
                        .iter()
                        .map(|(label, n)| format!("{label} ({})", output::thousands(*n as u64)))
                        .collect();
                    println!(
                        "{} examples have labels the model does not know and were left out: {}",
                        output::thousands(unknown as u64),
                        labels.join(", ")
                    );
                }
            }
        }
        TopicsCommand::Classify { json } => {
            let model = load(ctx, &args.model)?;
            let mut store = ctx.open_store()?;
            let started = Instant::now();
            let mut scratch = PredictScratch::default();
            let (mut classified, mut labelled) = (0u64, 0u64);
            let n = store.reclassify(
                &mut |text| {
                    let p = model.predict_with(text, &mut scratch);
                    classified += 1;
                    labelled += u64::from(p.label.is_some());
                    (p.label, p.probability)
                },
                &mut |_| {},
            )?;
            let seconds = started.elapsed().as_secs_f64();
            if json {
                output::json(
                    &serde_json::json!({"classified": n, "labelled": labelled, "seconds": seconds}),
                )?;
            } else {
                println!(
                    "classified {} signal texts in {seconds:.1} s; {} got a topic above the threshold ({} unclassified)",
                    output::thousands(n),
                    output::thousands(labelled),
                    output::thousands(classified - labelled)
                );
            }
        }
        TopicsCommand::List { json } => {
            let store = ctx.open_store()?;
            let list = hearken_query::topics::models(&store, &Scope::all()).map_err(cli_error)?;
            if json {
                output::json(&list)?;
            } else if list.models.is_empty() {
                println!(
                    "no topic models in the store: train one with `hearken topics train --data labelled.csv`"
                );
            } else {
                let rows: Vec<Vec<String>> = list
                    .models
                    .iter()
                    .map(|m| {
                        vec![
                            m.name.clone(),
                            m.version.to_string(),
                            hearken_model::Timestamp::from_unix(m.created_at).to_string(),
                            output::thousands(m.labels.max(0) as u64),
                            output::thousands(m.examples.max(0) as u64),
                        ]
                    })
                    .collect();
                print!(
                    "{}",
                    output::table(
                        &["model", "version", "trained", "topics", "examples"],
                        &rows
                    )
                );
            }
        }
        TopicsCommand::Predict { file, json } => {
            let model = load(ctx, &args.model)?;
            let input: Box<dyn BufRead> = match file.as_deref() {
                Some(p) if p.as_os_str() != "-" => Box::new(std::io::BufReader::new(
                    std::fs::File::open(p)
                        .with_context(|| format!("cannot read {}", p.display()))?,
                )),
                _ => Box::new(std::io::stdin().lock()),
            };
            let mut out = BufWriter::new(std::io::stdout().lock());
            let mut scratch = PredictScratch::default();
            for line in input.lines() {
                let line = line.context("input is not valid UTF-8")?;
                let p = model.predict_with(&line, &mut scratch);
                if json {
                    writeln!(
                        out,
                        "{}",
                        serde_json::json!({"label": p.label, "probability": p.probability})
                    )?;
                } else {
                    let shown: String = line.chars().take(60).collect();
                    writeln!(
                        out,
                        "{:<30} {:>5.2}  {shown}",
                        p.label.as_deref().unwrap_or("unclassified"),
                        p.probability
                    )?;
                }
            }
            out.flush()?;
        }
    }
    Ok(ExitCode::SUCCESS)
}
