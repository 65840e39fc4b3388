use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Result, bail};
use clap::Args;
use hearken_ingest::Mapping;
use hearken_model::RecordKind;
use hearken_store::{ImportCounts, ImportReport, ImportSettings, Store};
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
    /// A TOML file mapping the file's columns and values onto Hearken's, with number and date
    /// formats and [[skip]] rules for rows that are not records of this kind (see the README)
    #[arg(long, value_name = "FILE.toml")]
    pub mapping: Option<PathBuf>,
    /// Print {"read","stored","duplicates","quarantined","skipped",...} as JSON
    #[arg(long)]
    pub json: bool,
    /// Replace e-mail addresses, phone numbers, payment cards and IBANs before storing anything:
    /// in texts, names, labels and the quarantine (ids holding them become pseudonyms)
    #[arg(long)]
    pub redact_pii: bool,
    /// Do not score sentiment or detect language at import
    #[arg(long)]
    pub no_enrich: bool,
    /// Fail (exit non-zero) when a file quarantines more than N rows, or more than P% of the
    /// rows read (e.g. 100 or 0.5%). The rows stored are kept: the import is recorded and
    /// `hearken quarantine --import ID` lists what was rejected
    #[arg(long, value_name = "N|P%", value_parser = parse_limit)]
    pub max_quarantined: Option<Limit>,
}

fn parse_kind(s: &str) -> Result<RecordKind, String> {
    RecordKind::parse("kind", s).map_err(|e| e.hint.unwrap_or(e.reason))
}

/// A limit on quarantined rows: a count or a share of the rows read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Limit {
    Rows(u64),
    Percent(f64),
}

fn parse_limit(s: &str) -> Result<Limit, String> {
    let t = s.trim();
    let bad = || {
        format!(
            "'{s}' is not a number of rows (e.g. 100) or a percentage of the rows read (e.g. 0.5%)"
        )
    };
    match t.strip_suffix('%') {
        Some(p) => match p.trim().parse::<f64>() {
            Ok(x) if (0.0..=100.0).contains(&x) => Ok(Limit::Percent(x)),
            _ => Err(bad()),
        },
        None => t.parse::<u64>().map(Limit::Rows).map_err(|_| bad()),
    }
}

impl Limit {
    fn exceeded(self, c: &ImportCounts) -> bool {
        match self {
            Limit::Rows(n) => c.quarantined > n,
            Limit::Percent(p) => c.read > 0 && c.quarantined as f64 * 100.0 > p * c.read as f64,
        }
    }
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Limit::Rows(n) => write!(f, "{n}"),
            Limit::Percent(p) => write!(f, "{p}%"),
        }
    }
}

#[derive(Serialize)]
struct Summary<'a> {
    #[serde(flatten)]
    totals: ImportCounts,
    files: &'a [ImportReport],
    /// Why the command exits non-zero (empty on success).
    failures: &'a [String],
}

pub fn run(ctx: &Ctx, args: ImportArgs) -> Result<ExitCode> {
    let mapping = args.mapping.as_deref().map(Mapping::load).transpose()?;
    // Every check that needs no file, once, before any file is read.
    if let Some(m) = &mapping {
        m.validate(args.kind)?;
    }
    let text = TextOptions {
        enrich: ctx.config.enrich && !args.no_enrich,
        redact: ctx.config.redact_pii || args.redact_pii,
    };
    let mut target = Target::open(ctx)?;
    let mut reports = Vec::new();
    let mut failures = Vec::new();
    let settings = ImportSettings {
        batch: ctx.config.batch_size,
        demo: false,
    };
    for file in &args.files {
        let imported = match &mut target {
            Target::Sqlite(store) => import_one(
                store,
                file,
                args.kind,
                mapping.clone(),
                text,
                settings,
                !args.json,
            ),
            #[cfg(feature = "postgres")]
            Target::Postgres(store) => import_one_pg(
                store,
                file,
                args.kind,
                mapping.clone(),
                text,
                settings,
                !args.json,
            ),
        };
        match imported {
            Ok(r) => {
                failures.extend(judge(&r, args.max_quarantined));
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
            failures: &failures,
        })?;
    } else {
        for r in &reports {
            print_report(r);
        }
        if totals.quarantined > 0 {
            let ids: Vec<String> = reports
                .iter()
                .filter(|r| r.counts.quarantined > 0)
                .map(|r| r.import_id.to_string())
                .collect();
            println!(
                "{} rows quarantined: list them with `hearken quarantine` (or `--import {}`)",
                output::thousands(totals.quarantined),
                ids.join("` / `--import ")
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

/// Why one file's import fails the command, if it does: it stopped part-way, it stored nothing
/// although it read rows, or it quarantined more than `--max-quarantined`. The rows it stored are
/// kept in every case (each batch was committed with its counts); the message says so.
fn judge(r: &ImportReport, limit: Option<Limit>) -> Vec<String> {
    let c = &r.counts;
    let mut out = Vec::new();
    if let Some(e) = &r.error {
        out.push(format!(
            "{}: stopped part-way: {e} (the {} rows before it were imported; fix the file and import it again to complete it)",
            r.file,
            output::thousands(c.read)
        ));
    }
    let explain = || -> String {
        let problems: Vec<&String> = r
            .notes
            .iter()
            .filter(|n| n.starts_with("no date in"))
            .collect();
        if problems.is_empty() {
            String::new()
        } else {
            format!(
                "; {}",
                problems
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        }
    };
    if c.read > 0 && c.stored == 0 && c.duplicates == 0 {
        let what = match (c.quarantined, c.skipped) {
            (q, 0) => format!("all {} rows were quarantined", output::thousands(q)),
            (0, s) => format!(
                "all {} rows were skipped by the mapping's [[skip]] rules",
                output::thousands(s)
            ),
            (q, s) => format!(
                "{} rows were quarantined and {} skipped",
                output::thousands(q),
                output::thousands(s)
            ),
        };
        out.push(format!(
            "{}: nothing was stored: {what}{}; see `hearken quarantine --import {}`",
            r.file,
            explain(),
            r.import_id
        ));
    } else if let Some(limit) = limit
        && limit.exceeded(c)
    {
        out.push(format!(
            "{}: {} of {} rows quarantined ({:.1}%), more than --max-quarantined {limit}; the {} rows stored are kept (import {}); see `hearken quarantine --import {}`{}",
            r.file,
            output::thousands(c.quarantined),
            output::thousands(c.read),
            c.quarantined as f64 * 100.0 / c.read.max(1) as f64,
            output::thousands(c.stored),
            r.import_id,
            r.import_id,
            explain()
        ));
    }
    out
}

pub use hearken_enrich::TextOptions;

pub fn import_one(
    store: &mut Store,
    file: &Path,
    kind: RecordKind,
    mapping: Option<Mapping>,
    text: TextOptions,
    settings: ImportSettings,
    progress: bool,
) -> Result<ImportReport> {
    if store.is_read_only() {
        bail!(
            "{} is read-only: imports need a writable store file and directory",
            store.path().display()
        );
    }
    let opts = hearken_enrich::read_options(store, kind, mapping, text)?;
    let bar = progress_bar(file, progress);
    let report = store
        .import_file_with(file, &opts, &settings, &mut |p| show(&bar, p))
        .map_err(|e| import_error(e, file))?;
    bar.finish_and_clear();
    Ok(report)
}

/// Where `hearken import` writes: the SQLite file, or the PostgreSQL database a `postgres://`
/// URL names (ADR 0012).
enum Target {
    Sqlite(Store),
    #[cfg(feature = "postgres")]
    Postgres(hearken_store::pg::PgStore),
}

impl Target {
    fn open(ctx: &Ctx) -> Result<Target> {
        #[cfg(feature = "postgres")]
        if let Some(url) = ctx.postgres_url() {
            return Ok(Target::Postgres(hearken_store::pg::PgStore::connect(&url)?));
        }
        #[cfg(not(feature = "postgres"))]
        if ctx.postgres_url().is_some() {
            bail!(
                "this hearken was built without PostgreSQL support: build it with `cargo build --release --features postgres`"
            );
        }
        Ok(Target::Sqlite(ctx.create_store()?))
    }
}

/// [`import_one`] into a PostgreSQL store: the same reader options (its topic model, its
/// pseudonym key) and the same rules.
#[cfg(feature = "postgres")]
pub fn import_one_pg(
    store: &mut hearken_store::pg::PgStore,
    file: &Path,
    kind: RecordKind,
    mapping: Option<Mapping>,
    text: TextOptions,
    settings: ImportSettings,
    progress: bool,
) -> Result<ImportReport> {
    let model = if text.enrich && kind == RecordKind::Signals {
        hearken_enrich::model_from(store.load_model(hearken_enrich::TOPIC_MODEL)?)?.map(|(_, m)| m)
    } else {
        None
    };
    let key = if text.redact {
        Some(store.pseudonym_key()?)
    } else {
        None
    };
    let opts = hearken_enrich::read_options_with(kind, mapping, text, model, key.as_deref());
    let bar = progress_bar(file, progress);
    let report = store
        .import_file_with(file, &opts, &settings, &mut |p| show(&bar, p))
        .map_err(|e| import_error(e, file))?;
    bar.finish_and_clear();
    Ok(report)
}

fn import_error(e: hearken_store::StoreError, file: &Path) -> anyhow::Error {
    match e {
        // The reader's errors already name the file (or the mapping) first.
        e @ hearken_store::StoreError::Ingest(_) => anyhow::Error::new(e),
        e => anyhow::Error::new(e).context(format!("cannot import {}", file.display())),
    }
}

/// An import's progress on its bar (either store).
fn show(bar: &ProgressBar, p: &hearken_store::ImportProgress) {
    bar.set_length(p.size);
    bar.set_position(p.bytes);
    bar.set_prefix(output::thousands(p.counts.read));
}

fn progress_bar(file: &Path, progress: bool) -> ProgressBar {
    let bar = if progress && std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        ProgressBar::new(0)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:30}] {bytes}/{total_bytes} {per_sec} eta {eta} ({prefix} rows)",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(format!("importing {}", file.display()));
    bar
}

pub fn print_report(r: &ImportReport) {
    let c = &r.counts;
    let skipped = if c.skipped > 0 {
        format!(", skipped {}", output::thousands(c.skipped))
    } else {
        String::new()
    };
    println!(
        "{} ({}, import {}): read {}, stored {}, duplicates {}, quarantined {}{skipped}",
        r.file,
        r.kind,
        r.import_id,
        output::thousands(c.read),
        output::thousands(c.stored),
        output::thousands(c.duplicates),
        output::thousands(c.quarantined)
    );
    for s in &r.skipped_reasons {
        println!("  skipped {}: {}", output::thousands(s.rows), s.reason);
    }
    if r.resolved > 0 {
        println!(
            "  closed {} quarantine entries of earlier imports (their rows are now stored, or were read again here)",
            output::thousands(r.resolved)
        );
    }
    for n in &r.notes {
        println!("  note: {n}");
    }
    if let Some(e) = &r.error {
        println!("  stopped early: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_and_judge() {
        assert_eq!(parse_limit("10"), Ok(Limit::Rows(10)));
        assert_eq!(parse_limit(" 0.5% "), Ok(Limit::Percent(0.5)));
        assert!(parse_limit("ten").is_err());
        assert!(parse_limit("150%").is_err());
        assert!(parse_limit("-1").is_err());
        let c = ImportCounts {
            read: 200,
            stored: 190,
            quarantined: 10,
            ..ImportCounts::default()
        };
        assert!(Limit::Rows(9).exceeded(&c) && !Limit::Rows(10).exceeded(&c));
        assert!(Limit::Percent(4.9).exceeded(&c) && !Limit::Percent(5.0).exceeded(&c));
    }
}
