//! JSON Lines: one JSON object per row and line (`\n`), the columns as keys in column order, an
//! empty value as `null`, times as ISO 8601 UTC strings. Texts are written as they are (JSON
//! escapes them); nothing is defused, as no spreadsheet runs JSON.

use std::io::{BufWriter, Write};

use super::{Exporter, check_row};
use crate::error::ExportError;
use crate::table::{Column, Value};
use crate::time::iso8601;

pub struct JsonlExporter<W: Write> {
    out: BufWriter<W>,
    columns: Vec<Column>,
    /// `"name":` of each column, escaped once.
    keys: Vec<Vec<u8>>,
    buf: Vec<u8>,
}

impl<W: Write> JsonlExporter<W> {
    pub fn new(out: W) -> JsonlExporter<W> {
        JsonlExporter {
            out: BufWriter::with_capacity(1 << 16, out),
            columns: Vec::new(),
            keys: Vec::new(),
            buf: Vec::with_capacity(1024),
        }
    }
}

fn string(buf: &mut Vec<u8>, s: &str) -> Result<(), ExportError> {
    serde_json::to_writer(&mut *buf, s).map_err(|e| ExportError::Internal(e.to_string()))
}

impl<W: Write> Exporter for JsonlExporter<W> {
    fn begin(&mut self, columns: &[Column]) -> Result<(), ExportError> {
        self.columns = columns.to_vec();
        self.keys = Vec::with_capacity(columns.len());
        for c in columns {
            let mut k = Vec::new();
            string(&mut k, &c.name)?;
            k.push(b':');
            self.keys.push(k);
        }
        Ok(())
    }

    fn row(&mut self, row: &[Value<'_>]) -> Result<(), ExportError> {
        check_row(&self.columns, row)?;
        let buf = &mut self.buf;
        buf.clear();
        buf.push(b'{');
        for (i, (k, v)) in self.keys.iter().zip(row).enumerate() {
            if i > 0 {
                buf.push(b',');
            }
            buf.extend_from_slice(k);
            match v {
                Value::Null => buf.extend_from_slice(b"null"),
                Value::Text(s) => string(buf, s)?,
                Value::Int(n) => {
                    let _ = write!(buf, "{n}");
                }
                Value::Float(x) => serde_json::to_writer(&mut *buf, x)
                    .map_err(|e| ExportError::Internal(e.to_string()))?,
                Value::Bool(b) => buf.extend_from_slice(if *b { b"true" } else { b"false" }),
                Value::Time(t) => {
                    buf.push(b'"');
                    iso8601(*t, buf);
                    buf.push(b'"');
                }
            }
        }
        buf.extend_from_slice(b"}\n");
        self.out.write_all(buf)?;
        Ok(())
    }

    fn finish(&mut self) -> Result<(), ExportError> {
        self.out.flush()?;
        Ok(())
    }
}
