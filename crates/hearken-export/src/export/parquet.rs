//! Apache Parquet through the `parquet` crate's low-level column writer (no arrow; ADR 0007).
//!
//! Every column is `OPTIONAL` (null allowed): text `BYTE_ARRAY` annotated `STRING`, integers
//! `INT64`, floats `DOUBLE`, booleans `BOOLEAN`, times `INT64` annotated
//! `TIMESTAMP(MICROS, isAdjustedToUTC=true)`. Pages are Snappy-compressed. Rows are buffered
//! column by column and written as a row group every [`ROW_GROUP_ROWS`] rows (or sooner when
//! the buffered texts pass [`ROW_GROUP_TEXT_BYTES`]), so memory stays bounded whatever the
//! number of rows.

use std::io::Write;
use std::sync::Arc;

use bytes::Bytes;
use parquet::basic::{Compression, LogicalType, Repetition, TimeUnit, Type as Physical};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;

use super::{Exporter, check_row};
use crate::error::ExportError;
use crate::table::{Column, ColumnType, Value};

/// Rows per row group.
pub const ROW_GROUP_ROWS: usize = 65_536;
/// A row group is also cut when its buffered texts reach this many bytes.
pub const ROW_GROUP_TEXT_BYTES: usize = 64 << 20;

fn pq(e: parquet::errors::ParquetError) -> ExportError {
    ExportError::Parquet(e.to_string())
}

/// One column's values of the current row group, with definition levels (1: a value, 0: null).
enum Buffer {
    /// All texts end to end, and where each ends.
    Text {
        bytes: Vec<u8>,
        ends: Vec<usize>,
    },
    Int(Vec<i64>),
    Float(Vec<f64>),
    Bool(Vec<bool>),
}

struct ColumnBuffer {
    values: Buffer,
    defs: Vec<i16>,
}

pub struct ParquetExporter<W: Write + Send> {
    out: Option<W>,
    writer: Option<SerializedFileWriter<W>>,
    columns: Vec<Column>,
    buffers: Vec<ColumnBuffer>,
    rows: usize,
    text_bytes: usize,
}

impl<W: Write + Send> ParquetExporter<W> {
    pub fn new(out: W) -> ParquetExporter<W> {
        ParquetExporter {
            out: Some(out),
            writer: None,
            columns: Vec::new(),
            buffers: Vec::new(),
            rows: 0,
            text_bytes: 0,
        }
    }

    /// Writes the buffered rows as one row group.
    fn flush_group(&mut self) -> Result<(), ExportError> {
        if self.rows == 0 {
            return Ok(());
        }
        let writer = self
            .writer
            .as_mut()
            .ok_or_else(|| ExportError::Internal("rows before the columns".into()))?;
        let mut group = writer.next_row_group().map_err(pq)?;
        for buffer in &mut self.buffers {
            let Some(mut col) = group.next_column().map_err(pq)? else {
                return Err(ExportError::Internal(
                    "fewer Parquet columns than buffers".into(),
                ));
            };
            let defs = Some(buffer.defs.as_slice());
            match &mut buffer.values {
                Buffer::Text { bytes, ends } => {
                    let all = Bytes::from(std::mem::take(bytes));
                    let mut start = 0;
                    let values: Vec<ByteArray> = ends
                        .iter()
                        .map(|&end| {
                            let v = ByteArray::from(all.slice(start..end));
                            start = end;
                            v
                        })
                        .collect();
                    col.typed::<ByteArrayType>()
                        .write_batch(&values, defs, None)
                        .map_err(pq)?;
                    ends.clear();
                }
                Buffer::Int(v) => {
                    col.typed::<Int64Type>()
                        .write_batch(v, defs, None)
                        .map_err(pq)?;
                    v.clear();
                }
                Buffer::Float(v) => {
                    col.typed::<DoubleType>()
                        .write_batch(v, defs, None)
                        .map_err(pq)?;
                    v.clear();
                }
                Buffer::Bool(v) => {
                    col.typed::<BoolType>()
                        .write_batch(v, defs, None)
                        .map_err(pq)?;
                    v.clear();
                }
            }
            buffer.defs.clear();
            col.close().map_err(pq)?;
        }
        group.close().map_err(pq)?;
        self.rows = 0;
        self.text_bytes = 0;
        Ok(())
    }
}

fn field(c: &Column) -> Result<Type, ExportError> {
    let (physical, logical) = match c.ty {
        ColumnType::Text => (Physical::BYTE_ARRAY, Some(LogicalType::String)),
        ColumnType::Int => (Physical::INT64, None),
        ColumnType::Float => (Physical::DOUBLE, None),
        ColumnType::Bool => (Physical::BOOLEAN, None),
        ColumnType::Time => (
            Physical::INT64,
            Some(LogicalType::timestamp(true, TimeUnit::MICROS)),
        ),
    };
    Type::primitive_type_builder(&c.name, physical)
        .with_repetition(Repetition::OPTIONAL)
        .with_logical_type(logical)
        .build()
        .map_err(pq)
}

impl<W: Write + Send> Exporter for ParquetExporter<W> {
    fn begin(&mut self, columns: &[Column]) -> Result<(), ExportError> {
        let fields = columns
            .iter()
            .map(|c| field(c).map(Arc::new))
            .collect::<Result<Vec<_>, _>>()?;
        let schema = Type::group_type_builder("hearken_export")
            .with_fields(fields)
            .build()
            .map_err(pq)?;
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_created_by(format!("hearken {}", env!("CARGO_PKG_VERSION")))
            .set_key_value_metadata(Some(vec![KeyValue::new(
                "hearken.times".into(),
                "UTC microseconds".to_string(),
            )]))
            .build();
        let out = self
            .out
            .take()
            .ok_or_else(|| ExportError::Internal("begin called twice".into()))?;
        self.writer =
            Some(SerializedFileWriter::new(out, Arc::new(schema), Arc::new(props)).map_err(pq)?);
        self.columns = columns.to_vec();
        self.buffers = columns
            .iter()
            .map(|c| ColumnBuffer {
                values: match c.ty {
                    ColumnType::Text => Buffer::Text {
                        bytes: Vec::new(),
                        ends: Vec::new(),
                    },
                    ColumnType::Int | ColumnType::Time => Buffer::Int(Vec::new()),
                    ColumnType::Float => Buffer::Float(Vec::new()),
                    ColumnType::Bool => Buffer::Bool(Vec::new()),
                },
                defs: Vec::new(),
            })
            .collect();
        Ok(())
    }

    fn row(&mut self, row: &[Value<'_>]) -> Result<(), ExportError> {
        check_row(&self.columns, row)?;
        for (b, v) in self.buffers.iter_mut().zip(row) {
            let present = match (&mut b.values, v) {
                (_, Value::Null) => false,
                (Buffer::Text { bytes, ends }, Value::Text(s)) => {
                    bytes.extend_from_slice(s.as_bytes());
                    ends.push(bytes.len());
                    self.text_bytes += s.len();
                    true
                }
                (Buffer::Int(out), Value::Int(n)) => {
                    out.push(*n);
                    true
                }
                (Buffer::Int(out), Value::Time(t)) => {
                    out.push(t.saturating_mul(1_000_000));
                    true
                }
                (Buffer::Float(out), Value::Float(x)) => {
                    out.push(*x);
                    true
                }
                (Buffer::Bool(out), Value::Bool(x)) => {
                    out.push(*x);
                    true
                }
                // check_row has matched every value with its column's type.
                (_, other) => {
                    return Err(ExportError::Internal(format!(
                        "{other:?} in a column of another type"
                    )));
                }
            };
            b.defs.push(i16::from(present));
        }
        self.rows += 1;
        if self.rows >= ROW_GROUP_ROWS || self.text_bytes >= ROW_GROUP_TEXT_BYTES {
            self.flush_group()?;
        }
        Ok(())
    }

    fn finish(&mut self) -> Result<(), ExportError> {
        self.flush_group()?;
        if let Some(writer) = self.writer.take() {
            let mut out = writer.into_inner().map_err(pq)?;
            out.flush()?;
        }
        Ok(())
    }
}
