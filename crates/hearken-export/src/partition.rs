//! Partitioned row exports: the rows of one export split into one file per month of their
//! time, laid out the way Spark, DuckDB and pandas read a partitioned table (Hive style):
//! `month=2025-01/part-00000.parquet`. The caller opens the files (this crate does no file IO):
//! [`Prepared::write_partitioned`](crate::Prepared::write_partitioned) asks it for a writer the
//! first time a month appears, and each month's file is written as it goes, so memory holds one
//! row group per month open.

use std::collections::BTreeMap;
use std::io::Write;

use crate::error::ExportError;
use crate::export::{CsvOptions, Exporter, exporter};
use crate::format::Format;
use crate::table::{Column, ColumnType, Value};
use crate::time::year_month;

/// How a partitioned export splits its rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Partition {
    /// By the calendar month (UTC) of the row's `at`.
    Month,
}

impl Partition {
    pub const ALL: &'static [Partition] = &[Partition::Month];

    /// The partition column's name, as in the directory names (`month=2025-01`).
    pub fn as_str(self) -> &'static str {
        match self {
            Partition::Month => "month",
        }
    }
}

impl std::fmt::Display for Partition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Partition {
    type Err = String;
    fn from_str(s: &str) -> Result<Partition, String> {
        match s {
            "month" => Ok(Partition::Month),
            _ => Err(format!("'{s}' is not a partition; use month")),
        }
    }
}

/// The directory of a partition value: `month=2025-01`; rows without a time go to Hive's
/// `month=__HIVE_DEFAULT_PARTITION__`, which Spark reads back as null.
pub fn partition_dir(partition: Partition, value: Option<&str>) -> String {
    format!(
        "{}={}",
        partition.as_str(),
        value.unwrap_or("__HIVE_DEFAULT_PARTITION__")
    )
}

/// The file name inside a partition's directory.
pub fn part_file(format: Format) -> String {
    format!("part-00000.{}", format.extension())
}

/// What a partitioned export wrote: rows per partition value (`None`: rows without a time).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PartitionedSummary {
    pub columns: usize,
    pub parts: BTreeMap<Option<String>, u64>,
}

impl PartitionedSummary {
    pub fn rows(&self) -> u64 {
        self.parts.values().sum()
    }
}

/// An [`Exporter`] that hands each row to the exporter of its month, made on first use.
pub(crate) struct Router<'o, W: Write + Send, O: FnMut(Option<&str>) -> std::io::Result<W>> {
    format: Format,
    csv: CsvOptions,
    open: &'o mut O,
    columns: Vec<Column>,
    at: usize,
    parts: BTreeMap<Option<String>, (Box<dyn Exporter + 'static>, u64)>,
}

impl<'o, W, O> Router<'o, W, O>
where
    W: Write + Send + 'static,
    O: FnMut(Option<&str>) -> std::io::Result<W>,
{
    pub(crate) fn new(format: Format, csv: CsvOptions, open: &'o mut O) -> Self {
        Router {
            format,
            csv,
            open,
            columns: Vec::new(),
            at: 0,
            parts: BTreeMap::new(),
        }
    }

    pub(crate) fn summary(&self) -> PartitionedSummary {
        PartitionedSummary {
            columns: self.columns.len(),
            parts: self
                .parts
                .iter()
                .map(|(k, (_, n))| (k.clone(), *n))
                .collect(),
        }
    }
}

impl<W, O> Exporter for Router<'_, W, O>
where
    W: Write + Send + 'static,
    O: FnMut(Option<&str>) -> std::io::Result<W>,
{
    fn begin(&mut self, columns: &[Column]) -> Result<(), ExportError> {
        self.at = columns
            .iter()
            .position(|c| c.name == "at" && c.ty == ColumnType::Time)
            .ok_or_else(|| {
                ExportError::Internal("a partitioned export needs an `at` time column".into())
            })?;
        self.columns = columns.to_vec();
        Ok(())
    }

    fn row(&mut self, row: &[Value<'_>]) -> Result<(), ExportError> {
        let key = match row.get(self.at) {
            Some(Value::Time(secs)) => Some(year_month(*secs)),
            _ => None,
        };
        if !self.parts.contains_key(&key) {
            let out = (self.open)(key.as_deref()).map_err(ExportError::Io)?;
            let mut e = exporter(self.format, out, self.csv)?;
            e.begin(&self.columns)?;
            self.parts.insert(key.clone(), (e, 0));
        }
        let (e, n) = self.parts.get_mut(&key).expect("inserted above");
        e.row(row)?;
        *n += 1;
        Ok(())
    }

    fn finish(&mut self) -> Result<(), ExportError> {
        for (e, _) in self.parts.values_mut() {
            e.finish()?;
        }
        Ok(())
    }
}
