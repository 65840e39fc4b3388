//! Hearken's exports: rows (signals, survey responses, case events, customers) streamed from the
//! store, and the analytics flattened into tables (one row per group or entry), written as CSV,
//! JSON Lines or Parquet to any [`std::io::Write`].
//!
//! An export is prepared first and written second. [`prepare`] checks everything that can be
//! refused (unknown filter values listing the known ones, filters an export cannot honour,
//! values outside the caller's [`Scope`](hearken_query::Scope)) and, for an analytic, computes
//! the figures; nothing has been written yet, so a server can still answer with an error.
//! [`Prepared::write`] then writes incrementally: rows go out as the store reads them, so an
//! export of any size holds one row (and, for Parquet, one row group) in memory. A server
//! streams it from a blocking task through a channel-backed `Write`.
//!
//! The same scope rules as the query layer hold: a scoped caller exports only the rows of its
//! segments and teams, and a filter naming a segment or team outside them is refused
//! (`out_of_scope`).
//!
//! Architecture invariant: no SQL (the store's `export_*` reads), no figure computed here (the
//! query layer's answers are flattened, not recomputed), no clap or HTTP types.

mod analytics;
mod error;
pub mod export;
mod format;
mod partition;
mod rows;
mod table;
mod time;

use std::io::Write;

use hearken_query::Scope;
use hearken_store::{ExportFilter, Store};

pub use analytics::AnalyticRequest;
pub use error::ExportError;
pub use export::{CsvOptions, Exporter};
pub use format::Format;
pub use partition::{Partition, PartitionedSummary, part_file, partition_dir};
pub use rows::{
    CASE_EVENT_COLUMNS, CUSTOMER_COLUMNS, Dataset, RowsRequest, SIGNAL_COLUMNS, SURVEY_COLUMNS,
    survey_columns,
};
pub use table::{Column, ColumnType, Table, Value};
pub use time::iso8601_string;

/// What to export.
#[derive(Debug, Clone, PartialEq)]
pub enum ExportRequest {
    /// Rows of the store, filtered.
    Rows {
        dataset: Dataset,
        filters: RowsRequest,
    },
    /// An analytic's answer as a table.
    Analytic(AnalyticRequest),
}

impl ExportRequest {
    /// `signals`, `surveys`, `case-events`, `customers`, or the analytic's name.
    pub fn name(&self) -> &'static str {
        match self {
            ExportRequest::Rows { dataset, .. } => dataset.as_str(),
            ExportRequest::Analytic(a) => a.name(),
        }
    }
}

/// An export checked (and, for an analytic, computed) and ready to be written.
#[derive(Debug, Clone)]
pub struct Prepared {
    name: &'static str,
    body: Body,
    notes: Vec<String>,
}

#[derive(Debug, Clone)]
enum Body {
    Rows {
        dataset: Dataset,
        filter: ExportFilter,
    },
    Table(Table),
}

/// What was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub rows: u64,
    pub columns: usize,
}

/// Checks the request against the store and the caller's scope and, for an analytic, computes
/// its answer. Every refusal happens here, before anything is written.
pub fn prepare(store: &Store, scope: &Scope, req: &ExportRequest) -> Result<Prepared, ExportError> {
    match req {
        ExportRequest::Rows { dataset, filters } => Ok(Prepared {
            name: dataset.as_str(),
            body: Body::Rows {
                dataset: *dataset,
                filter: rows::filter(store, scope, *dataset, filters)?,
            },
            notes: Vec::new(),
        }),
        ExportRequest::Analytic(a) => {
            let (table, notes) = analytics::table(store, scope, a)?;
            Ok(Prepared {
                name: a.name(),
                body: Body::Table(table),
                notes,
            })
        }
    }
}

impl Prepared {
    /// `signals`, ..., or the analytic's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// What a reader of an analytic export must know (the analytic's notes: rows left out, a
    /// rule applied). The formats have no place for them; show them beside the file.
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    /// Writes the export to `out` in `format`, row by row. Row exports read the store while
    /// writing (in one read transaction); `out` is flushed at the end, not closed.
    pub fn write<W: Write + Send>(
        &self,
        store: &Store,
        format: Format,
        out: W,
        csv: CsvOptions,
    ) -> Result<Summary, ExportError> {
        if !format.is_available() {
            return Err(ExportError::FormatUnavailable(format));
        }
        let mut exporter = export::exporter(format, out, csv)?;
        let (rows, columns) = match &self.body {
            Body::Rows { dataset, filter } => rows::write(store, *dataset, filter, &mut *exporter)?,
            Body::Table(t) => {
                exporter.begin(&t.columns)?;
                for row in &t.rows {
                    exporter.row(row)?;
                }
                (t.rows.len() as u64, t.columns.len())
            }
        };
        exporter.finish()?;
        Ok(Summary { rows, columns })
    }
}

impl Prepared {
    /// Writes a row export split by `partition` (one output per month of the rows' `at`):
    /// `open(Some("2025-01"))` (or `open(None)` for rows without a time) is called once per
    /// partition, the first time a row of it comes, and must return where that partition's
    /// rows go ([`partition_dir`] and [`part_file`] name them the Hive way). Only row exports
    /// with a time (signals, surveys, case events) can be partitioned; the others are refused
    /// before `open` is called.
    pub fn write_partitioned<W, O>(
        &self,
        store: &Store,
        format: Format,
        partition: Partition,
        csv: CsvOptions,
        mut open: O,
    ) -> Result<PartitionedSummary, ExportError>
    where
        W: Write + Send + 'static,
        O: FnMut(Option<&str>) -> std::io::Result<W>,
    {
        if !format.is_available() {
            return Err(ExportError::FormatUnavailable(format));
        }
        let Body::Rows { dataset, filter } = &self.body else {
            return Err(ExportError::Unpartitionable {
                what: self.name.to_string(),
                partition,
            });
        };
        if *dataset == Dataset::Customers {
            return Err(ExportError::Unpartitionable {
                what: self.name.to_string(),
                partition,
            });
        }
        let mut router = partition::Router::new(format, csv, &mut open);
        rows::write(store, *dataset, filter, &mut router)?;
        router.finish()?;
        Ok(router.summary())
    }
}

/// [`prepare`] then [`Prepared::write`].
pub fn export<W: Write + Send>(
    store: &Store,
    scope: &Scope,
    req: &ExportRequest,
    format: Format,
    out: W,
    csv: CsvOptions,
) -> Result<(Summary, Vec<String>), ExportError> {
    if !format.is_available() {
        return Err(ExportError::FormatUnavailable(format));
    }
    let prepared = prepare(store, scope, req)?;
    let summary = prepared.write(store, format, out, csv)?;
    Ok((summary, prepared.notes))
}
