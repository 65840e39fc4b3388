//! One exporter per format behind one small trait (as hyperfine's `src/export/<format>.rs`): an
//! exporter is told the columns once, then takes rows one at a time and writes them to any
//! `std::io::Write` as it goes, so an export of any size streams.

use std::io::Write;

use crate::error::ExportError;
use crate::format::Format;
use crate::table::{Column, Value};

pub mod csv;
pub mod jsonl;
#[cfg(feature = "parquet")]
pub mod parquet;

/// Options of the CSV writer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CsvOptions {
    /// Prefix a text that starts with `=`, `+`, `-`, `@`, a tab or a carriage return with `'`,
    /// so that a spreadsheet opening the file shows it instead of running it as a formula (CSV
    /// or formula injection). On by default; JSON Lines and Parquet are never changed.
    pub defuse_formulas: bool,
}

impl Default for CsvOptions {
    fn default() -> CsvOptions {
        CsvOptions {
            defuse_formulas: true,
        }
    }
}

/// Writes rows of one table in one format.
pub trait Exporter {
    /// Starts the output with these columns (CSV writes its header here).
    fn begin(&mut self, columns: &[Column]) -> Result<(), ExportError>;
    /// Writes one row: a value per column, in column order.
    fn row(&mut self, row: &[Value<'_>]) -> Result<(), ExportError>;
    /// Ends the output (Parquet writes its footer here) and flushes it.
    fn finish(&mut self) -> Result<(), ExportError>;
}

/// The exporter of `format` writing to `out`.
pub fn exporter<'w, W: Write + Send + 'w>(
    format: Format,
    out: W,
    csv: CsvOptions,
) -> Result<Box<dyn Exporter + 'w>, ExportError> {
    Ok(match format {
        Format::Csv => Box::new(csv::CsvExporter::new(out, csv)),
        Format::Jsonl => Box::new(jsonl::JsonlExporter::new(out)),
        #[cfg(feature = "parquet")]
        Format::Parquet => Box::new(parquet::ParquetExporter::new(out)),
        #[cfg(not(feature = "parquet"))]
        Format::Parquet => return Err(ExportError::FormatUnavailable(format)),
    })
}

/// Checks that a row has one value per column, each of its column's type.
pub(crate) fn check_row(columns: &[Column], row: &[Value<'_>]) -> Result<(), ExportError> {
    if row.len() != columns.len() {
        return Err(ExportError::Internal(format!(
            "a row of {} values for {} columns",
            row.len(),
            columns.len()
        )));
    }
    for (c, v) in columns.iter().zip(row) {
        if !v.fits(c.ty) {
            return Err(ExportError::Internal(format!(
                "column {} is {} but got {v:?}",
                c.name,
                c.ty.name()
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Built without the `parquet` feature, Parquet is refused with a code, not a panic.
    #[test]
    fn parquet_is_there_exactly_when_its_feature_is() {
        let made = exporter(Format::Parquet, Vec::new(), CsvOptions::default());
        assert_eq!(made.is_ok(), cfg!(feature = "parquet"));
        if let Err(e) = made {
            assert_eq!((e.code(), e.status()), ("unsupported_format", 400));
        }
        assert_eq!(Format::Parquet.is_available(), cfg!(feature = "parquet"));
        assert!(Format::Csv.is_available() && Format::Jsonl.is_available());
    }
}
