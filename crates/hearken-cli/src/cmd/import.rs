use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use hearken_ingest::{Mapping, ReadOptions};
use hearken_model::RecordKind;
use hearken_store::{ImportCounts, ImportReport, Store};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use super::Ctx;
use crate::output;

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files to import (.csv, .tsv, .jsonl, optionally .gz)
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// What the files hold
    #[arg(long, value_parser = parse_kind, value_name = "customers|products|agents|signals|surveys|case-events")]
    pub kind: RecordKind,
    /// A TOML file mapping the file's columns and values onto Hearken's (see the README)
    #[arg(long, value_name = "FILE.toml")]
    pub mapping: Option<PathBuf>,
    /// Print {"read","stored","duplicates","quarantined",...} as JSON
    #[arg(long)]
    pub json: bool,
    /// Replace e-mail addresses, phone numbers, payment cards and IBANs in texts before storing
    #[arg(long)]
    pub redact_pii: bool,
    /// Do not score sentiment or detect language at import
    #[arg(long)]
    pub no_enrich: bool,
}

fn parse_kind(s: &str) -> Result<RecordKind, String> {
    RecordKind::parse("kind", s).map_err(|e| e.hint.unwrap_or(e.reason))
}

#[derive(Serialize)]
struct Summary<'a> {
    #[serde(flatten)]
    totals: ImportCounts,
    files: &'a [ImportReport],
}

pub fn run(ctx: &Ctx, args: ImportArgs) -> Result<ExitCode> {
    let mapping = args.mapping.as_deref().map(Mapping::load).transpose()?;
    let text = TextOptions {
        enrich: ctx.config.enrich && !args.no_enrich,
        redact: ctx.config.redact_pii || args.redact_pii,
    };
    let mut store = ctx.open_store()?;
    let mut reports = Vec::new();
    let mut failures = Vec::new();
    for file in &args.files {
        match import_one(
            &mut store,
            file,
            args.kind,
            mapping.clone(),
            text,
            ctx.config.batch_size,
            !args.json,
        ) {
            Ok(r) => {
                if let Some(e) = &r.error {
                    failures.push(e.clone());
                }
                reports.push(r);
            }
            Err(e) => failures.push(format!("{e:#}")),
        }
    }
    let mut totals = ImportCounts::default();
    for r in &reports {
        totals.add(&r.counts);
    }
    if args.json {
        output::json(&Summary {
            totals,
            files: &reports,
        })?;
    } else {
        for r in &reports {
            print_report(r);
        }
        if totals.quarantined > 0 {
            println!(
                "{} rows quarantined: list them with `hearken quarantine`",
                output::thousands(totals.quarantined)
            );
        }
    }
    if failures.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    for f in &failures {
        eprintln!("error: {f}");
    }
    Ok(ExitCode::FAILURE)
}

/// The topic model used at import.
pub const TOPIC_MODEL: &str = "default";

/// What happens to texts at import.
#[derive(Debug, Clone, Copy)]
pub struct TextOptions {
    pub enrich: bool,
    pub redact: bool,
}

pub fn import_one(
    store: &mut Store,
    file: &Path,
    kind: RecordKind,
    mapping: Option<Mapping>,
    text: TextOptions,
    batch: usize,
    progress: bool,
) -> Result<ImportReport> {
    // Signals are classified by the store's topic model, when one has been trained.
    let model = if text.enrich && kind == RecordKind::Signals {
        match store.load_model(TOPIC_MODEL)? {
            Some((info, bytes)) => Some(std::sync::Arc::new(
                hearken_topics::Model::from_bytes(&bytes).with_context(|| {
                    format!(
                        "topic model '{}' version {} cannot be read",
                        info.name, info.version
                    )
                })?,
            )),
            None => None,
        }
    } else {
        None
    };
    let enrich = (text.enrich || text.redact).then(|| crate::enrich::enricher(text.redact, model));
    let opts = ReadOptions {
        mapping,
        enrich,
        ..ReadOptions::new(kind)
    };
    let bar = if progress {
        ProgressBar::new(0)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:30}] {bytes}/{total_bytes} {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(format!("importing {}", file.display()));
    let report = store
        .import_file(file, &opts, batch, &mut |p| {
            bar.set_length(p.size);
            bar.set_position(p.bytes);
        })
        .with_context(|| format!("cannot import {}", file.display()))?;
    bar.finish_and_clear();
    Ok(report)
}

pub fn print_report(r: &ImportReport) {
    let c = &r.counts;
    println!(
        "{} ({}): read {}, stored {}, duplicates {}, quarantined {}",
        r.file,
        r.kind,
        output::thousands(c.read),
        output::thousands(c.stored),
        output::thousands(c.duplicates),
        output::thousands(c.quarantined)
    );
    for n in &r.notes {
        println!("  note: {n}");
    }
    if let Some(e) = &r.error {
        println!("  stopped early: {e}");
    }
}
