//! `hearken export`: rows of the store or an analytic's answer as CSV, JSON Lines or Parquet
//! (crates/hearken-export). Flags into a request, the file written next to its destination and
//! renamed into place when complete, so a failed export never leaves half a file.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, anyhow};
use clap::{Args, Subcommand};
use hearken_export::{AnalyticRequest, CsvOptions, Dataset, ExportError, ExportRequest, Format};
use hearken_query::pareto::PARETO_BY;
use hearken_query::scores::SCORES_BY;
use hearken_query::{
    By, DriverTarget, DriversRequest, IssuesRequest, Metric, ParetoRequest, Period, RepeatsRequest,
    Scope, ScoresRequest, ThemesRequest, TrendsRequest,
};

use super::Ctx;
use super::select::{Filters, by_parser, cli_error, flagify, fresh_snapshot, one_of};
use crate::output;

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(subcommand)]
    pub what: What,
}

/// Where and how to write.
#[derive(Debug, Args)]
pub struct Output {
    /// The file to write (`-`: standard output, for csv and jsonl)
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// csv, jsonl or parquet [default: from the --out extension]
    #[arg(long, value_parser = one_of::<Format>(Format::ALL.iter().map(|f| f.as_str()).collect()))]
    pub format: Option<Format>,
    /// Split the rows into one file per month of their time, Hive style
    /// (`--out DIR`: DIR/month=2025-01/part-00000.parquet), for Spark, DuckDB or pandas
    #[arg(long, value_parser = one_of::<hearken_export::Partition>(hearken_export::Partition::ALL.iter().map(|p| p.as_str()).collect()))]
    pub partition: Option<hearken_export::Partition>,
    /// CSV: write texts starting with = + - @ as they are (by default they get a leading ' so
    /// that a spreadsheet shows them instead of running them as formulas)
    #[arg(long)]
    pub no_formula_guard: bool,
}

#[derive(Debug, Args)]
pub struct SignalArgs {
    #[command(flatten)]
    pub output: Output,
    #[command(flatten)]
    pub filters: Filters,
    /// Only this kind (question, complaint, compliment, suggestion, request, survey_response, other)
    #[arg(long)]
    pub kind: Option<String>,
    /// Only this topic (the source's, else the classifier's)
    #[arg(long)]
    pub topic: Option<String>,
}

#[derive(Debug, Args)]
pub struct RowArgs {
    #[command(flatten)]
    pub output: Output,
    #[command(flatten)]
    pub filters: Filters,
}

#[derive(Debug, Args)]
pub struct CustomerArgs {
    #[command(flatten)]
    pub output: Output,
    /// Only customers of this segment
    #[arg(long)]
    pub segment: Option<String>,
}

#[derive(Debug, Args)]
pub struct ScoresArgs {
    #[command(flatten)]
    pub output: Output,
    #[command(flatten)]
    pub filters: Filters,
    /// Which score: nps, csat, ces or sentiment
    #[arg(long, default_value = "nps", value_parser = one_of::<Metric>(Metric::ALL.iter().map(|m| m.as_str()).collect()))]
    pub metric: Metric,
    /// One row per group of this dimension (else one row for the whole selection)
    #[arg(long, value_parser = by_parser(SCORES_BY))]
    pub by: Option<By>,
    /// Confidence level of the intervals
    #[arg(long, default_value_t = 0.9)]
    pub level: f64,
    /// Compare with the window starting at this date: one row with the change
    #[arg(long, value_name = "DATE", requires = "against_to")]
    pub against_from: Option<String>,
    /// End (exclusive) of the window to compare with
    #[arg(long, value_name = "DATE", requires = "against_from")]
    pub against_to: Option<String>,
    /// Percentile bootstrap intervals from this many resamples
    #[arg(long, value_name = "RESAMPLES")]
    pub bootstrap: Option<u32>,
}

#[derive(Debug, Args)]
pub struct ParetoArgs {
    #[command(flatten)]
    pub output: Output,
    #[command(flatten)]
    pub filters: Filters,
    /// Whose contacts
    #[arg(long, default_value = "customer", value_parser = by_parser(PARETO_BY))]
    pub by: By,
    /// How many of the largest (one row each)
    #[arg(long, default_value_t = 10)]
    pub top: usize,
}

#[derive(Debug, Args)]
pub struct DriversArgs {
    #[command(flatten)]
    pub output: Output,
    #[command(flatten)]
    pub filters: Filters,
    /// What the aspects should explain: overall or nps
    #[arg(long, default_value = "overall", value_parser = one_of::<DriverTarget>(DriverTarget::ALL.iter().map(|t| t.as_str()).collect()))]
    pub target: DriverTarget,
    /// The aspect that stands for customer service
    #[arg(long, value_name = "ASPECT")]
    pub service: Option<String>,
    /// Confidence level of the intervals
    #[arg(long, default_value_t = 0.9)]
    pub level: f64,
}

#[derive(Debug, Args)]
pub struct TrendsArgs {
    #[command(flatten)]
    pub output: Output,
    #[command(flatten)]
    pub filters: Filters,
    /// Period of the volume series (one row per topic and period)
    #[arg(long, default_value = "week", value_parser = one_of::<Period>(Period::ALL.iter().map(|p| p.as_str()).collect()))]
    pub period: Period,
}

#[derive(Debug, Args)]
pub struct RepeatsArgs {
    #[command(flatten)]
    pub output: Output,
    #[command(flatten)]
    pub filters: Filters,
    /// A contact is a repeat when the same customer raised the same topic within this many days
    #[arg(long, default_value_t = 7)]
    pub days: u32,
    /// Cost of handling one contact
    #[arg(long, value_name = "AMOUNT")]
    pub cost_per_contact: Option<f64>,
    /// Confidence level of the interval
    #[arg(long, default_value_t = 0.9)]
    pub level: f64,
}

#[derive(Debug, Args)]
pub struct IssuesArgs {
    #[command(flatten)]
    pub output: Output,
    #[command(flatten)]
    pub filters: Filters,
    /// How many issues (one row each)
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    /// How many evidence signals per issue (their ids in `evidence_ids`)
    #[arg(long, default_value_t = 20)]
    pub evidence: usize,
}

#[derive(Debug, Args)]
pub struct ThemesArgs {
    #[command(flatten)]
    pub output: Output,
    #[command(flatten)]
    pub filters: Filters,
    /// How many themes (one row each)
    #[arg(long, default_value_t = 20)]
    pub k: usize,
    /// Use the newest this many signal texts
    #[arg(long, default_value_t = 20_000)]
    pub sample: usize,
}

#[derive(Debug, Subcommand)]
pub enum What {
    /// Every signal with the names of its customer, product and agent (filters as the analytics, plus --kind, --topic)
    Signals(SignalArgs),
    /// Every survey response, one aspect_<name> column per rated aspect
    Surveys(RowArgs),
    /// Every case event, with its case's customer, product and channel
    CaseEvents(RowArgs),
    /// Every customer (--segment only)
    Customers(CustomerArgs),
    /// `hearken scores` as a table: one row per group (or one overall, or one change)
    Scores(ScoresArgs),
    /// `hearken pareto` as a table: one row per entity of the top list
    Pareto(ParetoArgs),
    /// `hearken drivers` as a table: one row per aspect
    Drivers(DriversArgs),
    /// `hearken trends` as a table: one row per topic and period
    Trends(TrendsArgs),
    /// `hearken repeats` as a table: the overall rate, then one row per topic and per product
    Repeats(RepeatsArgs),
    /// `hearken issues-rank` as a table: one row per issue
    #[command(alias = "issues-rank")]
    Issues(IssuesArgs),
    /// `hearken themes` as a table: one row per theme
    Themes(ThemesArgs),
}

fn rows(
    dataset: Dataset,
    f: &Filters,
    kind: Option<String>,
    topic: Option<String>,
) -> ExportRequest {
    ExportRequest::Rows {
        dataset,
        filters: hearken_export::RowsRequest {
            from: f.from.clone(),
            to: f.to.clone(),
            segment: f.segment.clone(),
            product: f.product.clone(),
            channel: f.channel.clone(),
            agent: f.agent.clone(),
            team: f.team.clone(),
            kind,
            topic,
        },
    }
}

impl What {
    /// The request and where to write it.
    fn request(self) -> (ExportRequest, Output) {
        use AnalyticRequest as A;
        match self {
            What::Signals(a) => (
                rows(Dataset::Signals, &a.filters, a.kind, a.topic),
                a.output,
            ),
            What::Surveys(a) => (rows(Dataset::Surveys, &a.filters, None, None), a.output),
            What::CaseEvents(a) => (rows(Dataset::CaseEvents, &a.filters, None, None), a.output),
            What::Customers(a) => (
                rows(
                    Dataset::Customers,
                    &Filters {
                        segment: a.segment,
                        ..Filters::default()
                    },
                    None,
                    None,
                ),
                a.output,
            ),
            What::Scores(a) => (
                ExportRequest::Analytic(A::Scores(
                    ScoresRequest {
                        metric: a.metric,
                        by: a.by,
                        level: a.level,
                        against_from: a.against_from,
                        against_to: a.against_to,
                        bootstrap: a.bootstrap,
                        ..ScoresRequest::default()
                    }
                    .with_filters(a.filters.query()),
                )),
                a.output,
            ),
            What::Pareto(a) => (
                ExportRequest::Analytic(A::Pareto(
                    ParetoRequest {
                        by: a.by,
                        top: a.top,
                        ..ParetoRequest::default()
                    }
                    .with_filters(a.filters.query()),
                )),
                a.output,
            ),
            What::Drivers(a) => (
                ExportRequest::Analytic(A::Drivers(
                    DriversRequest {
                        target: a.target,
                        service: a.service,
                        level: a.level,
                        ..DriversRequest::default()
                    }
                    .with_filters(a.filters.query()),
                )),
                a.output,
            ),
            What::Trends(a) => (
                ExportRequest::Analytic(A::Trends(
                    TrendsRequest {
                        period: a.period,
                        ..TrendsRequest::default()
                    }
                    .with_filters(a.filters.query()),
                )),
                a.output,
            ),
            What::Repeats(a) => (
                ExportRequest::Analytic(A::Repeats(
                    RepeatsRequest {
                        days: a.days,
                        cost_per_contact: a.cost_per_contact,
                        level: a.level,
                        ..RepeatsRequest::default()
                    }
                    .with_filters(a.filters.query()),
                )),
                a.output,
            ),
            What::Issues(a) => (
                ExportRequest::Analytic(A::Issues(
                    IssuesRequest {
                        limit: a.limit,
                        evidence: a.evidence,
                        ..IssuesRequest::default()
                    }
                    .with_filters(a.filters.query()),
                )),
                a.output,
            ),
            What::Themes(a) => (
                ExportRequest::Analytic(A::Themes(
                    ThemesRequest {
                        k: a.k,
                        sample: a.sample,
                        ..ThemesRequest::default()
                    }
                    .with_filters(a.filters.query()),
                )),
                a.output,
            ),
        }
    }
}

/// An export error as the CLI says it: request fields as flags, then what to do.
fn export_error(e: ExportError) -> anyhow::Error {
    match e {
        ExportError::Query(q) => cli_error(q),
        e if e.is_user_error() => {
            let mut line = flagify(&e.to_string());
            if let Some(hint) = e.hint() {
                line.push_str("; ");
                line.push_str(&flagify(&hint));
            }
            anyhow!(line)
        }
        e => anyhow::Error::new(e),
    }
}

fn is_closed_pipe(e: &ExportError) -> bool {
    matches!(e, ExportError::Io(io) if io.kind() == std::io::ErrorKind::BrokenPipe)
}

/// The format to write: `--format`, else the extension of `--out`.
fn format_of(o: &Output) -> Result<Format> {
    let to_stdout = o.out.as_os_str() == "-";
    let format = match (o.format, Format::from_path(&o.out)) {
        (Some(f), _) => f,
        (None, Some(f)) if !to_stdout => f,
        (None, _) if o.partition.is_some() => Format::Parquet,
        _ => {
            return Err(anyhow!(
                "say which format to write: --format csv, jsonl or parquet (or name the --out file .csv, .jsonl or .parquet)"
            ));
        }
    };
    if to_stdout && !format.is_text() {
        return Err(anyhow!(
            "Parquet is binary and cannot go to standard output; give --out FILE.parquet"
        ));
    }
    if !format.is_available() {
        return Err(export_error(ExportError::FormatUnavailable(format)));
    }
    Ok(format)
}

/// `--partition`: the export written into a directory beside `dir`, renamed to `dir` once
/// every partition is complete (a failed export leaves nothing behind). `dir` must not exist
/// or be empty, so that no file of an earlier export is mixed with this one's.
fn partitioned(
    store: &hearken_store::Store,
    prepared: &hearken_export::Prepared,
    format: Format,
    partition: hearken_export::Partition,
    csv: CsvOptions,
    dir: &Path,
) -> Result<ExitCode> {
    if dir.as_os_str() == "-" {
        return Err(anyhow!(
            "a partitioned export is a directory of files; give --out DIR"
        ));
    }
    if let Ok(mut entries) = std::fs::read_dir(dir) {
        if entries.next().is_some() {
            return Err(anyhow!(
                "{} already holds files; give a new or empty directory for a partitioned export",
                dir.display()
            ));
        }
    } else if dir.exists() {
        return Err(anyhow!("{} exists and is not a directory", dir.display()));
    }
    let tmp = partial_path(dir);
    std::fs::create_dir_all(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
    let written = prepared.write_partitioned(store, format, partition, csv, |value| {
        let part = tmp.join(hearken_export::partition_dir(partition, value));
        std::fs::create_dir_all(&part)?;
        Ok(BufWriter::new(File::create(
            part.join(hearken_export::part_file(format)),
        )?))
    });
    let summary = match written {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_dir_all(&tmp);
            return Err(export_error(e))
                .with_context(|| format!("exporting {} to {}", prepared.name(), dir.display()));
        }
    };
    if dir.exists() {
        // Empty (checked above): replaced by the complete export.
        std::fs::remove_dir(dir).with_context(|| format!("cannot replace {}", dir.display()))?;
    }
    std::fs::rename(&tmp, dir)
        .with_context(|| format!("cannot move {} to {}", tmp.display(), dir.display()))?;
    eprintln!(
        "exported {} {} ({} columns) to {} as {format}, in {} {partition} partitions",
        output::thousands(summary.rows()),
        prepared.name(),
        summary.columns,
        dir.display(),
        summary.parts.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// A file beside `path` that becomes `path` once the export is complete.
fn partial_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(format!(".partial-{}", std::process::id()));
    path.with_file_name(name)
}

pub fn run(ctx: &Ctx, args: ExportArgs) -> Result<ExitCode> {
    let (request, out) = args.what.request();
    let format = format_of(&out)?;
    let csv = CsvOptions {
        defuse_formulas: !out.no_formula_guard,
    };
    let store = ctx.open_store()?;
    if matches!(request, ExportRequest::Analytic(_)) {
        fresh_snapshot(&store)?;
    }
    let prepared =
        hearken_export::prepare(&store, &Scope::all(), &request).map_err(export_error)?;
    if let Some(partition) = out.partition {
        return partitioned(&store, &prepared, format, partition, csv, &out.out);
    }
    let to_stdout = out.out.as_os_str() == "-";
    let written = if to_stdout {
        prepared.write(&store, format, std::io::stdout(), csv)
    } else {
        let tmp = partial_path(&out.out);
        let file =
            File::create(&tmp).with_context(|| format!("cannot create {}", tmp.display()))?;
        let result = prepared.write(&store, format, BufWriter::new(file), csv);
        match &result {
            Ok(_) => std::fs::rename(&tmp, &out.out).with_context(|| {
                format!("cannot move {} to {}", tmp.display(), out.out.display())
            })?,
            Err(_) => {
                let _ = std::fs::remove_file(&tmp);
            }
        }
        result
    };
    let summary = match written {
        Ok(s) => s,
        Err(e) if is_closed_pipe(&e) => return Ok(ExitCode::from(141)),
        Err(e) => {
            return Err(export_error(e)).with_context(|| {
                format!("exporting {} to {}", prepared.name(), out.out.display())
            });
        }
    };
    for note in prepared.notes() {
        eprintln!("note: {note}");
    }
    if !to_stdout {
        eprintln!(
            "exported {} {} ({} columns) to {} as {format}",
            output::thousands(summary.rows),
            if matches!(request, ExportRequest::Rows { .. }) {
                prepared.name()
            } else {
                "rows"
            },
            summary.columns,
            out.out.display()
        );
    }
    let _ = std::io::stdout().flush();
    Ok(ExitCode::SUCCESS)
}
